"""SavedModel and GraphDef facts read from the protobuf wire format: no TensorFlow needed, nothing executed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
