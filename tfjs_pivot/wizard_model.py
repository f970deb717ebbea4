"""What the wizard reads from a model to offer real choices: signatures, graph outputs, weights, dynamic dims."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path

import frontends
from frontends.tensorflow.protos import MetaGraph, Signature, graph_outputs, saved_model_graphs
from pivot.passes.pin import symbolic_dims
from tfjs_format.quantize import BYTES_PER_FLOAT
from tfjs_format.weights import count
from tfjs_pivot.convert import ConvertOptions, convert, input_budget

__all__ = ["MetaGraph", "Signature", "Weight", "WeightInfo", "dynamic_dims", "graph_outputs", "probe_weights",
           "saved_model_graphs", "weight_groups"]


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


def dynamic_dims(source: Path, options: ConvertOptions) -> dict[str, list[str]]:
    """The named dynamic dims (ONNX dim_param) of the inputs as the frontend loads them -> the inputs using each."""
    frontend = frontends.get(options.input_format) if options.input_format else frontends.detect(source)
    with input_budget(source, options.max_fold_bytes):
        return symbolic_dims(frontend.load(source, options.frontend))
