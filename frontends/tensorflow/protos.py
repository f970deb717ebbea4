"""SavedModel and GraphDef facts read from the protobuf wire format: no TensorFlow needed, nothing executed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pivot.errors import InputError
from pivot.untrusted import confined, regular_file

# Graph nodes that are never a model output worth offering.
_NOT_OUTPUTS = {"Const", "NoOp", "Assert", "Placeholder", "VarHandleOp", "SaveV2", "RestoreV2", "VariableV2",
                "AssignVariableOp", "ReadVariableOp"}
# A varint holds at most 64 bits: 10 bytes of 7.
_MAX_VARINT = 10
# The reader is not recursive: it descends only the fixed paths above (SavedModel > MetaGraphDef >
# SignatureDef > map entry), so however deeply a file nests messages, nothing here recurses into them.

T = TypeVar("T")


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


class WireError(InputError, ValueError):
    """A damaged protobuf file: an ``InputError`` (one line, exit 2), and a ``ValueError`` as protobuf's own are."""


def varint(data: memoryview, pos: int, what: str) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it; a truncated or over-long one fails in one line."""
    value = 0
    for k in range(_MAX_VARINT):
        if pos + k >= len(data):
            raise WireError(f"{what}: truncated (a varint runs past the end at byte {pos})")
        byte = data[pos + k]
        value |= (byte & 0x7F) << (7 * k)
        if byte < 0x80:
            return value, pos + k + 1
    raise WireError(f"{what}: malformed varint at byte {pos} (longer than {_MAX_VARINT} bytes)")


def fields(data: memoryview, what: str) -> Iterator[tuple[int, int, int | memoryview]]:
    """``(field number, wire type, value)`` of one message: ints for varints, views for length-delimited fields.

    Every length is checked against the bytes left before anything is sliced, and slices are views: a field
    declaring 2**60 bytes is an error, never an allocation.
    """
    pos = 0
    while pos < len(data):
        start = pos
        key, pos = varint(data, pos, what)
        number, wire = key >> 3, key & 7
        if number == 0 or wire not in (0, 1, 2, 5):  # 3 and 4 (groups) are not used by TensorFlow's protos
            raise WireError(f"{what}: field {number} with wire type {wire} at byte {start} (not a valid message)")
        if wire == 0:
            value, pos = varint(data, pos, what)
            yield number, wire, value
            continue
        size = 8 if wire == 1 else 4
        if wire == 2:
            size, pos = varint(data, pos, what)
        if size > len(data) - pos:
            raise WireError(f"{what}: field {number} at byte {start} declares {size} bytes but only "
                            f"{len(data) - pos} remain")
        if wire == 2:
            yield number, wire, data[pos:pos + size]
        pos += size  # fixed 64 / 32 bit fields are skipped: nothing read here is one


def sub(data: memoryview, number: int, what: str) -> list[memoryview]:
    """The length-delimited values of field ``number`` (a submessage, string or bytes); another wire type fails."""
    return _values(data, number, what, memoryview, "a message or string")


def varints(data: memoryview, number: int, what: str) -> list[int]:
    """The varint values of field ``number`` (non-packed); another wire type fails."""
    return _values(data, number, what, int, "a varint")


def _values(data: memoryview, number: int, what: str, kind: type[T], label: str) -> list[T]:
    found: list[T] = []
    for n, wire, value in fields(data, what):
        if n != number:
            continue
        if not isinstance(value, kind):
            raise WireError(f"{what}: field {number} has wire type {wire}, not {label}")
        found.append(value)
    return found


def text(data: memoryview, what: str) -> str:
    """A string field as text; bytes that are not UTF-8 fail in one line."""
    try:
        return str(data, "utf-8")
    except UnicodeDecodeError:
        raise WireError(f"{what}: a name that is not UTF-8 text") from None


def merged(parts: list[memoryview]) -> memoryview:
    """A submessage field written several times: protobuf merges the parts, as their concatenation parses."""
    return parts[0] if len(parts) == 1 else memoryview(b"".join(parts))  # none: the empty default


def last(parts: list[memoryview]) -> memoryview:
    """A string field written several times: the last one wins; absent: the empty string."""
    return parts[-1] if parts else memoryview(b"")


def _map_keys(entries: list[memoryview], what: str) -> tuple[str, ...]:
    """Keys of a protobuf map (each entry: key = field 1)."""
    return tuple(sorted(text(k, what) for e in entries for k in sub(e, 1, what)))


def read_pb(path: Path) -> memoryview:
    """The bytes of a protobuf file (already checked to be a regular file), as a view for slicing without copies."""
    try:
        return memoryview(path.read_bytes())
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or type(e).__name__})") from None


def saved_model_graphs(directory: Path) -> list[MetaGraph]:
    """The MetaGraphs (tags, signatures with input and output keys) of ``directory/saved_model.pb``."""
    # Confined: a saved_model.pb that is a symlink out of the folder, a FIFO or a device is never opened.
    pb = confined(directory, "saved_model.pb", f"{directory}: SavedModel")
    data = read_pb(pb)
    graphs = []
    for k, meta in enumerate(sub(data, 2, str(pb))):  # SavedModel.meta_graphs
        at = f"{pb}: meta_graphs[{k}]"
        tags = tuple(text(t, f"{at}.tags") for info in sub(meta, 1, at)
                     for t in sub(info, 4, f"{at}.meta_info_def"))
        sigs = []
        for entry in sub(meta, 5, at):  # signature_def: map<string, SignatureDef>
            name = text(last(sub(entry, 1, f"{at}.signature_def")), f"{at}.signature_def")
            sig = merged(sub(entry, 2, f"{at}.signature_def"))
            where = f"{at}.signature_def[{name[:60]!r}]"
            sigs.append(Signature(name, _map_keys(sub(sig, 1, where), f"{where}.inputs"),
                                  _map_keys(sub(sig, 2, where), f"{where}.outputs")))
        graphs.append(MetaGraph(tags, tuple(sorted(sigs, key=lambda s: s.name))))
    return graphs


def graph_outputs(frozen_pb: Path) -> list[str]:
    """Names of the nodes of a frozen GraphDef whose outputs no other node reads (the likely outputs)."""
    nodes: list[tuple[str, str]] = []
    consumed: set[str] = set()
    data = read_pb(regular_file(frozen_pb, "frozen graph"))
    for k, node in enumerate(sub(data, 1, str(frozen_pb))):  # GraphDef.node
        at = f"{frozen_pb}: node[{k}]"
        name = text(last(sub(node, 1, at)), f"{at}.name")
        op = text(last(sub(node, 2, at)), f"{at}.op")
        nodes.append((name, op))
        consumed.update(text(i, f"{at}.input").lstrip("^").split(":")[0] for i in sub(node, 3, at))
    return [n for n, op in nodes if n not in consumed and op not in _NOT_OUTPUTS]
