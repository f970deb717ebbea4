"""A stranger's ``weightsManifest`` checked (types, shapes, paths) before any shard is opened or array built."""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pivot.errors import InputError
from pivot.untrusted import confined, model_folder
from tfjs_format.quantize import QUANTIZED_DTYPES

WEIGHT_DTYPES = ("float32", "int32", "bool")
# TensorFlow.js indexes tensors with 32-bit integers (wasm, WebGL): a longer axis is not a real weight, and
# bounding each axis keeps every shape numpy can be asked to build.
MAX_DIM = 2**31 - 1
# numpy before 2.0 stops at 32 dimensions; no Keras weight comes near it.
MAX_RANK = 32
# ``group`` labels ("model", "optimizer") are short words; anything long is not a label.
_MAX_LABEL = 64
_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = 60


@dataclass(frozen=True)
class WeightGroup:
    """One checked manifest group: its shard files (resolved, inside the model's folder) and its entries."""

    where: str  # "<model.json>: weight group <n>", for messages
    paths: tuple[str, ...]  # as written in model.json
    files: tuple[Path, ...]
    entries: tuple[dict[str, Any], ...]


def show(value: object) -> str:
    """A short repr of a value from a model file (bounded however big or deep the value is)."""
    return _SHOW.repr(value)


def read_manifest(doc: dict[str, Any], model_json: Path) -> list[WeightGroup]:
    """Every group of ``doc["weightsManifest"]`` (absent: none), checked; shard paths confined to the folder."""
    manifest = doc.get("weightsManifest", [])
    if not isinstance(manifest, list):
        raise InputError(f"{model_json}: weightsManifest is {show(manifest)}, not a list of weight groups")
    folder = model_folder(model_json)
    return [check_group(group, folder, f"{model_json}: weight group {n}") for n, group in enumerate(manifest, 1)]


def check_group(group: Any, folder: Path, where: str) -> WeightGroup:
    """One group ``{"paths": [...], "weights": [...]}``: every entry, then every path (confined, no repeats)."""
    if not isinstance(group, dict):
        raise InputError(f"{where}: {show(group)} is not an object with paths and weights")
    paths, weights = group.get("paths"), group.get("weights")
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise InputError(f"{where}: paths {show(paths)} is not a list of file names")
    if not isinstance(weights, list):
        raise InputError(f"{where}: weights {show(weights)} is not a list of entries")
    for entry in weights:
        check_entry(entry, where)
    seen: set[str] = set()
    for path in paths:
        if path in seen:
            raise InputError(f"{where}: lists the shard {path[:120]!r} twice")
        seen.add(path)
    files = tuple(confined(folder, p, where) for p in paths)
    if len(set(files)) != len(files):  # two names, one file ("w.bin" and "./w.bin", or a symlink to a sibling)
        raise InputError(f"{where}: two of its paths {show(paths)} name the same file")
    return WeightGroup(where, tuple(paths), files, tuple(weights))


def check_entry(entry: Any, where: str) -> None:
    """A manifest entry: a name, a shape of non-negative ints, a supported dtype and a well-formed quantization."""
    if not isinstance(entry, dict):
        raise InputError(f"{where}: the manifest entry {show(entry)} is not an object")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise InputError(f"{where}: a manifest entry is named {show(name)}; a name is a non-empty string")
    at = f"{where}, weight {name[:120]!r}"
    check_shape(entry.get("shape"), at)
    dtype = entry.get("dtype")
    if not isinstance(dtype, str) or dtype not in WEIGHT_DTYPES:
        raise InputError(f"{at}: dtype {show(dtype)} is not supported (only {', '.join(WEIGHT_DTYPES)})")
    _check_quantization(entry.get("quantization"), dtype, at)
    label = entry.get("group", "model")
    if not isinstance(label, str) or len(label) > _MAX_LABEL:
        raise InputError(f"{at}: group {show(label)} is not a weight group label such as 'model' or 'optimizer'")


def check_shape(shape: Any, at: str) -> int:
    """The element count of a manifest shape (a Python int: no overflow however large the dimensions)."""
    if not isinstance(shape, list):
        raise InputError(f"{at}: shape {show(shape)} is not a list of dimensions")
    if len(shape) > MAX_RANK:
        raise InputError(f"{at}: shape has {len(shape)} dimensions (at most {MAX_RANK})")
    for dim in shape:
        # bool is an int to Python but not a dimension; 3.0 is not an int in a manifest tensorflowjs writes.
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise InputError(f"{at}: shape {show(shape)} has the dimension {show(dim)}, not an integer")
        if not 0 <= dim <= MAX_DIM:
            raise InputError(f"{at}: shape {show(shape)} has the dimension {show(dim)}, outside 0..{MAX_DIM}")
    return math.prod(shape)


def _check_quantization(q: Any, dtype: str, at: str) -> None:
    if q is None:
        return
    if not isinstance(q, dict):
        raise InputError(f"{at}: quantization {show(q)} is not an object")
    storage = q.get("dtype")
    if not isinstance(storage, str) or storage not in QUANTIZED_DTYPES:
        raise InputError(f"{at}: quantization dtype {show(storage)} is not one of {', '.join(QUANTIZED_DTYPES)}")
    if dtype != "float32":
        raise InputError(f"{at}: only float32 weights are stored quantized, not {dtype} ({storage})")
    if storage == "float16":
        return
    for key in ("scale", "min"):
        if not _finite(q.get(key)):
            raise InputError(f"{at}: quantization {key} {show(q.get(key))} is not a finite number")


def _finite(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer of hundreds of digits
        return False
