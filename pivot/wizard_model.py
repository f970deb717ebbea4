"""What the wizard reads from a model to offer real choices: SavedModel signatures, graph outputs, weights."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path

from pivot.convert import ConvertOptions, convert
from tfjs_format.weights import count

# Bytes per float32 weight element for each storage choice (other dtypes are never quantized).
BYTES_PER_FLOAT = {"float32": 4, "float16": 2, "uint16": 2, "uint8": 1}
# Graph nodes that are never a model output worth offering.
_NOT_OUTPUTS = {"Const", "NoOp", "Assert", "Placeholder", "VarHandleOp", "SaveV2", "RestoreV2", "VariableV2",
                "AssignVariableOp", "ReadVariableOp"}


@dataclass(frozen=True)
class Signature:
    """One SavedModel signature: its input and output keys."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class MetaGraph:
    """One MetaGraph of a SavedModel: its tags and signatures."""

    tags: tuple[str, ...]
    signatures: tuple[Signature, ...]


@dataclass(frozen=True)
class Weight:
    """One weight as the converted model stores it (name as quantization patterns match it)."""

    name: str
    dtype: str
    size: int

    @property
    def nbytes(self) -> int:
        return self.size * (4 if self.dtype in ("float32", "int32") else 1)


@dataclass(frozen=True)
class WeightInfo:
    """The weights a conversion writes, and the warnings it gave (kernel gaps, ...)."""

    weights: tuple[Weight, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def stored_bytes(self, dtype: str | None, names: set[str] | None = None) -> int:
        """Weight bytes once float32 weights (all, or those in ``names``) are stored as ``dtype``."""
        per = BYTES_PER_FLOAT[dtype or "float32"]
        return sum(w.size * per if w.dtype == "float32" and (names is None or w.name in names) else w.nbytes
                   for w in self.weights)


def probe_weights(source: Path, options: ConvertOptions) -> WeightInfo:
    """Convert once into a throw-away directory (no quantization, no op check) and read the manifest.

    The weight names of a converted model differ from the source's (emission renames and folds), and patterns
    must match the written names: only a conversion knows them.
    """
    backend = replace(options.backend, quantization=None, require_backend=None, split_weights_by_layer=False,
                      metadata={})
    with tempfile.TemporaryDirectory(prefix="tfjs-pivot-wizard-") as tmp:
        out = Path(tmp) / "probe"
        result = convert(source, out, replace(options, backend=backend, overwrite=False, progress=None))
        manifest = out / "model.json"
        weights = tuple(_manifest_weights(manifest)) if manifest.is_file() else ()
    return WeightInfo(weights, tuple(result.stats.get("warnings", ())))


def _manifest_weights(model_json: Path) -> Iterator[Weight]:
    for group in json.loads(model_json.read_text()).get("weightsManifest", []):
        for entry in group["weights"]:
            yield Weight(entry["name"], entry["dtype"], count(entry))


def weight_groups(weights: tuple[Weight, ...], limit: int = 12) -> list[tuple[str, list[Weight]]]:
    """Common patterns over the float32 weights: ``prefix/*`` by first path part, and ``*/last`` by last part."""
    floats = [w for w in weights if w.dtype == "float32"]
    if not floats:
        return []
    heads = Counter(w.name.split("/")[0] for w in floats if "/" in w.name)
    tails = Counter(w.name.rsplit("/", 1)[-1] for w in floats if "/" in w.name)
    patterns = [f"{h}/*" for h, _ in heads.most_common()]
    patterns += [f"*/{t}" for t, n in tails.most_common() if n > 1]
    patterns += [w.name for w in floats if "/" not in w.name]
    groups = []
    for pattern in dict.fromkeys(patterns):
        members = [w for w in floats if _match(w.name, pattern)]
        if 0 < len(members) < len(floats):  # a pattern matching every weight is the "all weights" choice
            groups.append((pattern, members))
    return groups[:limit]


def _match(name: str, pattern: str) -> bool:
    return fnmatchcase(name, pattern)


# --- SavedModel and GraphDef protos, read from the wire format: no TensorFlow needed, nothing executed. ---

def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """``(field number, value)`` of one message: ints for varints, bytes for length-delimited fields."""
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            yield number, value
        elif wire == 2:
            size, pos = _varint(data, pos)
            yield number, data[pos:pos + size]
            pos += size
        elif wire in (1, 5):  # fixed 64 / 32 bit: skipped, nothing the wizard needs
            pos += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


def _sub(data: bytes, number: int) -> list[bytes]:
    return [v for n, v in _fields(data) if n == number and isinstance(v, bytes)]


def _map_keys(entries: list[bytes]) -> tuple[str, ...]:
    """Keys of a protobuf map (each entry: key = field 1)."""
    return tuple(sorted(k.decode() for e in entries for k in _sub(e, 1)))


def saved_model_graphs(directory: Path) -> list[MetaGraph]:
    """The MetaGraphs (tags, signatures with input and output keys) of ``directory/saved_model.pb``."""
    data = (directory / "saved_model.pb").read_bytes()
    graphs = []
    for meta in _sub(data, 2):  # SavedModel.meta_graphs
        tags = tuple(t.decode() for info in _sub(meta, 1) for t in _sub(info, 4))  # meta_info_def.tags
        sigs = []
        for entry in _sub(meta, 5):  # signature_def: map<string, SignatureDef>
            name = b"".join(_sub(entry, 1)).decode()
            sig = b"".join(_sub(entry, 2))
            sigs.append(Signature(name, _map_keys(_sub(sig, 1)), _map_keys(_sub(sig, 2))))
        graphs.append(MetaGraph(tags, tuple(sorted(sigs, key=lambda s: s.name))))
    return graphs


def graph_outputs(frozen_pb: Path) -> list[str]:
    """Names of the nodes of a frozen GraphDef whose outputs no other node reads (the likely outputs)."""
    nodes: list[tuple[str, str]] = []
    consumed: set[str] = set()
    for node in _sub(frozen_pb.read_bytes(), 1):  # GraphDef.node
        name = b"".join(_sub(node, 1)).decode()
        op = b"".join(_sub(node, 2)).decode()
        nodes.append((name, op))
        consumed.update(i.decode().lstrip("^").split(":")[0] for i in _sub(node, 3))
    return [n for n, op in nodes if n not in consumed and op not in _NOT_OUTPUTS]
