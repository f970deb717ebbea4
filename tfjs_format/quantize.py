"""Weight quantization as TensorFlow.js decodes it: float16, and affine uint8/uint16 with a nudged zero."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import numpy as np

from pivot.errors import InputError

QUANTIZED_DTYPES = ("float16", "uint8", "uint16")
_QUANT_MAX = {"uint8": 255, "uint16": 65535}
# The smallest magnitude float16 rounds to infinity (65504 is the largest finite value).
_FLOAT16_OVERFLOW = 65520.0
# Elements per step of the affine encoder: its float64 temporary stays small (2 MiB) however big the tensor.
_CHUNK = 1 << 18

# Bytes per float32 weight element for each storage choice (other dtypes are never quantized).
BYTES_PER_FLOAT = {"float32": 4, "float16": 2, "uint16": 2, "uint8": 1}


@dataclass(frozen=True)
class QuantizationSpec:
    """Which weights get which storage dtype: explicit patterns first, then at most one fallthrough dtype."""

    patterns: tuple[tuple[str, str], ...] = ()  # (shell-style pattern, storage dtype), in flag order
    fallthrough: str | None = None

    @classmethod
    def from_flags(cls, values: dict[str, str | None],
                   quantization_bytes: int | None = None) -> QuantizationSpec | None:
        """Build from ``{dtype: flag value}``: None = flag absent, "" = bare flag (all weights), else patterns."""
        given = {d: v for d, v in values.items() if v is not None}
        unknown = sorted(set(given) - set(QUANTIZED_DTYPES))
        if unknown:
            raise InputError(f"unknown quantization dtype {unknown[0]!r} (known: {', '.join(QUANTIZED_DTYPES)})")
        if quantization_bytes is not None:
            if given:
                raise InputError("--quantization_bytes is deprecated and cannot be combined with --quantize-*")
            if quantization_bytes not in (1, 2):
                raise InputError("--quantization_bytes must be 1 or 2")
            given = {"uint8" if quantization_bytes == 1 else "uint16": ""}
        bare = [d for d, v in given.items() if not _split(v or "")]
        if len(bare) > 1:
            flags = " and ".join(f"--quantize-{d}" for d in bare)
            raise InputError(f"only one quantization flag may be given without patterns (got {flags})")
        patterns = tuple((p, d) for d, v in given.items() for p in _split(v or ""))
        if not patterns and not bare:
            return None
        return cls(patterns, bare[0] if bare else None)

    def resolve(self, name: str) -> str | None:
        """The storage dtype for the weight ``name`` (None: stored as is); two dtypes matching is an error."""
        hits = {d: p for p, d in self.patterns if fnmatchcase(name, p)}
        if len(hits) > 1:
            which = ", ".join(f"{p!r} ({d})" for d, p in sorted(hits.items()))
            raise InputError(f"weight {name!r} matches quantization patterns of two dtypes: {which}")
        return next(iter(hits), self.fallthrough)

    def unused_patterns(self, names: Iterable[str]) -> list[str]:
        """Patterns that matched none of ``names`` (most likely a typo)."""
        names = list(names)
        return [p for p, _ in self.patterns if not any(fnmatchcase(n, p) for n in names)]

    def describe(self) -> str:
        """One line for logs: ``uint8: '*conv*'; float16: rest``."""
        parts = [f"{d}: {p!r}" for p, d in self.patterns]
        if self.fallthrough:
            parts.append(f"{self.fallthrough}: {'rest' if self.patterns else 'all'}")
        return "; ".join(parts)


def _split(value: str) -> list[str]:
    return [p.strip() for p in value.split(",") if p.strip()]


@dataclass(frozen=True)
class Quantized:
    """A weight ready to store: its storage array, its manifest ``quantization`` entry, and a note if skipped."""

    data: np.ndarray
    quantization: dict[str, Any] | None = None
    note: str = ""


def planned_dtype(spec: QuantizationSpec | None, name: str, dtype: str, size: int) -> str:
    """The storage dtype a weight will most likely get (data-dependent skips, NaN/inf, are not foreseen)."""
    target = spec.resolve(name) if spec else None
    return target if target and dtype == "float32" and size > 0 else dtype


def apply(spec: QuantizationSpec | None, name: str, data: np.ndarray) -> Quantized:
    """Quantize ``data`` if ``spec`` selects it and it is non-empty, finite float32; else keep it as is.

    Where tensorflowjs would crash (empty tensor) or store NaN/inf ranges or float16 overflow, the weight stays
    float32; a selected weight left so carries a ``note`` that the CLI prints as a warning.
    """
    target = spec.resolve(name) if spec else None
    # Only float32 is quantized (int32/bool stay exact, as in tensorflowjs); an empty tensor has nothing to scale.
    if target is None or data.dtype != np.float32 or data.size == 0:
        return Quantized(data)
    lo, hi = float(data.min()), float(data.max())  # NaN anywhere makes min/max NaN, so this also finds NaN
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return Quantized(data, note=f"weight {name!r}: NaN or infinite values, kept as float32")
    if target == "float16":
        if max(-lo, hi) >= _FLOAT16_OVERFLOW:
            return Quantized(data, note=f"weight {name!r}: |values| up to {max(-lo, hi):.3g} overflow float16, "
                             "kept as float32")
        return Quantized(data.astype("<f2"), {"dtype": "float16", "original_dtype": "float32"})
    return quantize_affine(data, target, lo, hi)


def quantize_affine(data: np.ndarray, dtype: str, lo: float | None = None, hi: float | None = None) -> Quantized:
    """tensorflowjs 4.22 affine scheme in float64, zero point nudged when 0 is in range; ``q*scale+min`` decodes."""
    qmax = _QUANT_MAX[dtype]
    lo = float(data.min()) if lo is None else lo
    hi = float(data.max()) if hi is None else hi
    storage = np.dtype(dtype).newbyteorder("<")
    if lo == hi:  # no range to scale: every code is 0 and min carries the value
        return Quantized(np.zeros(data.shape, storage), _entry(dtype, lo, 1.0))
    scale = (np.float64(hi) - np.float64(lo)) / qmax
    if lo <= 0 <= hi:
        zero_point = np.round((0 - np.float64(lo)) / scale)
        nudged_min = -zero_point * scale
        nudged_max = qmax * scale + nudged_min
    else:
        nudged_min, nudged_max = np.float64(lo), np.float64(hi)
    flat = data.reshape(-1)
    out = np.empty(flat.size, storage)
    for start in range(0, flat.size, _CHUNK):
        chunk = flat[start:start + _CHUNK].astype(np.float64)
        np.clip(chunk, nudged_min, nudged_max, out=chunk)
        chunk -= nudged_min
        chunk /= scale
        out[start:start + _CHUNK] = np.round(chunk, out=chunk)
    return Quantized(out.reshape(data.shape), _entry(dtype, float(nudged_min), float(scale)))


def _entry(dtype: str, minimum: float, scale: float) -> dict[str, Any]:
    # Key order as tensorflowjs writes it: dtype, min, scale, original_dtype.
    return {"dtype": dtype, "min": minimum, "scale": scale, "original_dtype": "float32"}


def dequantize(data: np.ndarray, quantization: dict[str, Any]) -> np.ndarray:
    """float32 values exactly as TensorFlow.js decodes them (``q*scale+min`` in float64, then float32)."""
    if quantization["dtype"] == "float16":
        return data.astype(np.float32)
    flat = data.reshape(-1)
    out = np.empty(flat.size, np.float32)
    for start in range(0, flat.size, _CHUNK):  # float64 temporaries per chunk, not per tensor
        out[start:start + _CHUNK] = flat[start:start + _CHUNK] * np.float64(quantization["scale"]) + np.float64(
            quantization["min"])
    return out.reshape(data.shape)
