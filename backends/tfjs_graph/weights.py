"""Streams weights into ``group1-shard{i}of{n}.bin`` files and reads them back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_SHARD_BYTES = 4 * 1024 * 1024
_MANIFEST_DTYPES = {np.dtype("float32"): "float32", np.dtype("int32"): "int32", np.dtype("bool"): "bool"}
_STORAGE = {"float32": np.float32, "int32": np.int32, "bool": np.bool_, "uint8": np.uint8,
            "uint16": np.uint16, "float16": np.float16}


@dataclass(frozen=True)
class Encoded:
    """One weight as stored: its bytes and its manifest entry."""

    entry: dict[str, Any]
    data: bytes | memoryview


def encode(name: str, arr: np.ndarray) -> Encoded:
    """Plain (unquantized) encoding: little-endian bytes of a float32/int32/bool array."""
    dtype = _MANIFEST_DTYPES.get(arr.dtype)
    if dtype is None:
        raise ValueError(f"weight {name!r}: dtype {arr.dtype} cannot be stored for TensorFlow.js")
    # A view, not a copy: a memory-mapped weight goes to the shards without being duplicated.
    little = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
    return Encoded({"name": name, "shape": [int(d) for d in arr.shape], "dtype": dtype},
                   memoryview(little.reshape(-1).view(np.uint8)))  # type: ignore[arg-type]


class ShardWriter:
    """Packs byte strings without gaps into fixed-size shard files, one shard buffer at a time."""

    def __init__(self, directory: Path, shard_bytes: int, group: int = 1) -> None:
        if shard_bytes <= 0:
            raise ValueError("weight shard size must be a positive number of bytes")
        self.directory, self.shard_bytes, self.group = directory, shard_bytes, group
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
                group: int = 1) -> dict[str, Any]:
    """Write one weight group; returns its manifest entry ``{"paths", "weights"}``."""
    writer = ShardWriter(directory, shard_bytes, group)
    entries = []
    for enc in weights:
        writer.write(enc.data)
        entries.append(enc.entry)
    return {"paths": writer.close(), "weights": entries}


def read_weights(model_json_path: Path) -> Iterator[tuple[str, np.ndarray]]:
    """Decode every weight of a model.json (dequantizing as tfjs does), in manifest order."""
    doc = json.loads(model_json_path.read_text())
    directory = model_json_path.parent
    for group in doc["weightsManifest"]:
        blob = b"".join((directory / p).read_bytes() for p in group["paths"])
        offset = 0
        for entry in group["weights"]:
            arr, offset = _decode(entry, blob, offset)
            yield entry["name"], arr


def _decode(entry: dict[str, Any], blob: bytes, offset: int) -> tuple[np.ndarray, int]:
    shape = tuple(entry["shape"])
    q = entry.get("quantization")
    storage = _STORAGE[q["dtype"] if q else entry["dtype"]]
    count = int(np.prod(shape, dtype=np.int64))
    size = count * np.dtype(storage).itemsize
    raw = np.frombuffer(blob, dtype=np.dtype(storage).newbyteorder("<"), count=count, offset=offset)
    arr = raw.reshape(shape)
    if q and q["dtype"] in ("uint8", "uint16"):
        arr = (arr.astype(np.float64) * q["scale"] + q["min"]).astype(np.float32)
    elif q:
        arr = arr.astype(np.float32)
    return arr, offset + size
