"""Streams weights into ``group{g}-shard{i}of{n}.bin`` files and reads them back."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from pivot.errors import InputError
from pivot.untrusted import read_json_file
from tfjs_format.manifest import WeightGroup, read_manifest
from tfjs_format.quantize import QuantizationSpec, apply, dequantize, planned_dtype
from tfjs_format.summary import SizeTally

DEFAULT_SHARD_BYTES = 4 * 1024 * 1024
_MANIFEST_DTYPES = {np.dtype("float32"): "float32", np.dtype("int32"): "int32", np.dtype("bool"): "bool"}
STORAGE = {"float32": np.float32, "int32": np.int32, "bool": np.bool_, "uint8": np.uint8,
           "uint16": np.uint16, "float16": np.float16}
# Called with the size of each shard file as it is written: a progress display sets it for one conversion, so
# no backend has to pass a callback down to its writer.
SHARD_WRITTEN: ContextVar[Callable[[int], None] | None] = ContextVar("SHARD_WRITTEN", default=None)


@dataclass(frozen=True)
class Encoded:
    """One weight as stored: its manifest entry, its bytes, and a note when a selected weight was not quantized."""

    entry: dict[str, Any]
    data: bytes | memoryview
    note: str = ""

    @property
    def storage(self) -> str:
        """The dtype of the stored bytes (the quantized dtype, if any)."""
        q = self.entry.get("quantization")
        return str(q["dtype"] if q else self.entry["dtype"])

    @property
    def logical_bytes(self) -> int:
        """Bytes the weight takes unquantized."""
        return count(self.entry) * np.dtype(STORAGE[self.entry["dtype"]]).itemsize


def encode(name: str, arr: np.ndarray, spec: QuantizationSpec | None = None) -> Encoded:
    """Little-endian bytes of a float32/int32/bool array, quantized when ``spec`` selects it."""
    dtype = _MANIFEST_DTYPES.get(arr.dtype)
    if dtype is None:
        raise InputError(f"weight {name!r}: dtype {arr.dtype} cannot be stored for TensorFlow.js")
    stored = apply(spec, name, arr)
    data = stored.data
    # A view, not a copy: a memory-mapped weight goes to the shards without being duplicated.
    little = np.ascontiguousarray(data, dtype=data.dtype.newbyteorder("<"))
    entry: dict[str, Any] = {"name": name, "shape": [int(d) for d in arr.shape], "dtype": dtype}
    if stored.quantization:
        entry["quantization"] = stored.quantization
    return Encoded(entry, memoryview(little.reshape(-1).view(np.uint8)), stored.note)  # type: ignore[arg-type]


class ShardWriter:
    """Packs byte strings without gaps into fixed-size shard files, one shard buffer at a time."""

    def __init__(self, directory: Path, shard_bytes: int, group: int = 1, tally: SizeTally | None = None) -> None:
        if shard_bytes <= 0:
            raise ValueError("weight shard size must be a positive number of bytes")
        self.directory, self.shard_bytes, self.group, self.tally = directory, shard_bytes, group, tally
        self._buf = bytearray()
        self._written: list[Path] = []

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            take = min(len(view), self.shard_bytes - len(self._buf))
            self._buf += view[:take]
            view = view[take:]
            if len(self._buf) == self.shard_bytes:
                self._flush()

    def _flush(self) -> None:
        path = self.directory / f"group{self.group}-shard{len(self._written) + 1}.tmp"
        path.write_bytes(self._buf)
        if self.tally:  # gzip size measured from the buffer in hand: no file is read back
            self.tally.meter.add_shard(self._buf)
            self.tally.files += 1
        notify = SHARD_WRITTEN.get()
        if notify is not None:
            notify(len(self._buf))
        self._written.append(path)
        self._buf = bytearray()

    def close(self) -> list[str]:
        """Flush the last shard and give every shard its final ``of{n}`` name."""
        if self._buf:
            self._flush()
        names = []
        for i, path in enumerate(self._written, 1):
            final = f"group{self.group}-shard{i}of{len(self._written)}.bin"
            path.rename(self.directory / final)
            names.append(final)
        return names


def write_group(directory: Path, weights: Iterable[Encoded], shard_bytes: int = DEFAULT_SHARD_BYTES,
                group: int = 1, tally: SizeTally | None = None) -> dict[str, Any]:
    """Write one weight group; returns its manifest entry ``{"paths", "weights"}``."""
    writer = ShardWriter(directory, shard_bytes, group, tally)
    entries = []
    for enc in weights:
        writer.write(enc.data)
        entries.append(enc.entry)
        if tally:
            tally.add(enc.entry["dtype"], enc.logical_bytes, enc.storage, len(enc.data), enc.note)
        del enc  # release this tensor before the next one is produced
    return {"paths": writer.close(), "weights": entries}


def planned_nbytes(spec: QuantizationSpec | None, name: str, dtype: str, size: int) -> int:
    """Bytes a weight of ``size`` elements will most likely take once stored (sizes the gzip meter up front)."""
    return size * np.dtype(STORAGE[planned_dtype(spec, name, dtype, size)]).itemsize


def count(entry: dict[str, Any]) -> int:
    """Number of elements of a manifest entry (a Python int: a product of large dimensions cannot wrap)."""
    return math.prod(int(d) for d in entry["shape"])


def stored_nbytes(entry: dict[str, Any]) -> int:
    """Bytes a manifest entry takes in the shards."""
    q = entry.get("quantization")
    dtype = q["dtype"] if q else entry["dtype"]
    if dtype not in STORAGE:
        raise InputError(f"weight {entry.get('name')!r}: dtype {dtype!r} is not supported")
    return count(entry) * np.dtype(STORAGE[dtype]).itemsize


def decode(entry: dict[str, Any], raw: bytes) -> np.ndarray:
    """The array of one manifest entry from its stored bytes, dequantized as TensorFlow.js does."""
    q = entry.get("quantization")
    storage = np.dtype(STORAGE[q["dtype"] if q else entry["dtype"]]).newbyteorder("<")
    arr = np.frombuffer(raw, dtype=storage).reshape(tuple(entry["shape"]))
    return dequantize(arr, q) if q else arr


class ShardStream:
    """Random-access reads over the concatenated shard files of one group (a weight may span files)."""

    def __init__(self, files: Sequence[Path], where: str = "weight shards") -> None:
        self.files, self.where = list(files), where
        self.sizes = [_file_size(f, where) for f in self.files]
        self.total = sum(self.sizes)
        self._open: tuple[int, BinaryIO] | None = None

    def read(self, offset: int, size: int) -> bytes:
        """``size`` bytes starting at ``offset`` of the group's byte stream."""
        if size == 0:
            return b""
        parts = []
        index, start = self._locate(offset)
        while size:
            if index == len(self.files):
                raise InputError(f"{self.where}: weight data runs past the end of the shard files")
            take = min(size, self.sizes[index] - start)
            parts.append(self._read(index, start, take))
            size -= take
            index, start = index + 1, 0
        return b"".join(parts)

    def _locate(self, offset: int) -> tuple[int, int]:
        for index, size in enumerate(self.sizes):
            if offset < size:
                return index, offset
            offset -= size
        raise InputError(f"{self.where}: weight data runs past the end of the shard files")

    def _read(self, index: int, start: int, size: int) -> bytes:
        try:
            if self._open is None or self._open[0] != index:
                self.close()
                self._open = (index, open(self.files[index], "rb"))  # noqa: SIM115 - kept open between reads
            f = self._open[1]
            f.seek(start)
            data = f.read(size)
        except OSError as e:
            raise InputError(f"{self.where}: cannot read {self.files[index].name} ({e.strerror or e})") from None
        if len(data) != size:  # the file shrank since its size was checked
            raise InputError(f"{self.where}: {self.files[index].name} holds fewer bytes than when it was opened")
        return data

    def close(self) -> None:
        """Close the open shard file, if any."""
        if self._open is not None:
            self._open[1].close()
            self._open = None


def _file_size(path: Path, where: str) -> int:
    try:
        return path.stat().st_size
    except OSError as e:
        raise InputError(f"{where}: cannot read {path.name} ({e.strerror or e})") from None


def group_offsets(group: WeightGroup) -> tuple[ShardStream, list[int]]:
    """The group's shard stream and each entry's byte offset; the shards must hold exactly the declared bytes.

    Checked before any array is built: a manifest cannot make the reader allocate more than its shards hold.
    """
    stream = ShardStream(group.files, group.where)
    sizes = [stored_nbytes(e) for e in group.entries]
    needed = sum(sizes)
    if needed != stream.total:
        stream.close()
        shown = ", ".join(group.paths)[:200]
        raise InputError(f"{group.where}: the weights manifest needs {needed} bytes but the shard files "
                         f"[{shown}] hold {stream.total}")
    return stream, list(itertools.accumulate(sizes[:-1], initial=0)) if sizes else []


def read_weights(model_json_path: Path) -> Iterator[tuple[str, np.ndarray]]:
    """Decode every weight of a model.json (dequantizing as tfjs does), in manifest order, one at a time."""
    doc = read_json_file(model_json_path)
    if not isinstance(doc, dict):
        raise InputError(f"{model_json_path}: not a TensorFlow.js model.json (not a JSON object)")
    for group in read_manifest(doc, model_json_path):
        stream, offsets = group_offsets(group)
        try:
            for entry, offset in zip(group.entries, offsets, strict=True):
                yield entry["name"], decode(entry, stream.read(offset, stored_nbytes(entry)))
        finally:
            stream.close()
