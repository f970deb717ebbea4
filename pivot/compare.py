"""Numeric comparison of two stages' outputs: errors, cosine similarity, worst element, pass/fail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Defaults relative to max(1, max |reference|): float32 kernels reorder sums, quantized weights
# perturb every layer. Measured errors are far below (docs/validate.md).
DEFAULT_RTOL = {None: 1e-4, "float16": 1e-2, "uint16": 1e-2, "uint8": 1e-1}
DEFAULT_ATOL = 1e-5


@dataclass(frozen=True)
class Tolerance:
    """Pass when max |a - b| <= atol + rtol * max(1, max |reference|); integer and bool outputs must match."""

    atol: float
    rtol: float
    quantized: str | None = None

    def bound(self, reference: np.ndarray) -> float:
        finite = np.abs(reference[np.isfinite(reference)]) if reference.size else np.zeros(1)
        return self.atol + self.rtol * max(1.0, float(finite.max()) if finite.size else 1.0)

    def as_json(self) -> dict[str, Any]:
        return {"atol": self.atol, "rtol": self.rtol, "relative_to": "max(1, max |reference|)",
                "quantized": self.quantized}


def tolerance_for(quantized: str | None, atol: float | None, rtol: float | None) -> Tolerance:
    """The documented default for the weights' storage dtype, overridden by --atol/--rtol."""
    return Tolerance(DEFAULT_ATOL if atol is None else atol, DEFAULT_RTOL[quantized] if rtol is None else rtol,
                     quantized)


@dataclass(frozen=True)
class Metric:
    """One output compared between two stages over every sample."""

    output: str
    reference: str
    candidate: str
    max_abs: float
    max_rel: float
    cosine: float
    worst_index: tuple[int, ...]
    bound: float
    passed: bool
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"output": self.output, "stages": [self.reference, self.candidate], "max_abs": self.max_abs,
                "max_rel": self.max_rel, "cosine": self.cosine, "worst_index": list(self.worst_index),
                "bound": self.bound, "passed": self.passed, "detail": self.detail}


def errors(ref: np.ndarray, got: np.ndarray) -> tuple[float, float, float, tuple[int, ...]]:
    """Max abs error, max relative error, cosine similarity and the worst element's index (NaN-aware)."""
    r, g = ref.astype(np.float64), got.astype(np.float64)
    same = (np.isnan(r) & np.isnan(g)) | (np.isinf(r) & (r == g))
    with np.errstate(invalid="ignore"):
        diff = np.nan_to_num(np.where(same, 0.0, np.abs(r - g)), nan=np.inf)
    if not diff.size:
        return 0.0, 0.0, 1.0, ()
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), diff.shape))
    rel = diff / np.maximum(np.abs(r), np.finfo(np.float32).tiny)
    rf, gf = np.nan_to_num(r.ravel()), np.nan_to_num(g.ravel())
    norms = float(np.linalg.norm(rf) * np.linalg.norm(gf))
    cosine = float(rf @ gf / norms) if norms > 0 else float(np.array_equal(rf, gf))
    return float(diff.max()), float(np.where(same, 0.0, rel).max()), cosine, worst


def compare(refs: list[dict[str, np.ndarray]], gots: list[dict[str, np.ndarray]], output: str, ref_stage: str,
            got_stage: str, tol: Tolerance) -> Metric:
    """Compare ``output`` over all samples; the worst sample's figures are reported."""
    worst: Metric | None = None
    for ref_all, got_all in zip(refs, gots, strict=True):
        metric = _one(ref_all.get(output), got_all.get(output), output, ref_stage, got_stage, tol)
        if worst is None or (not metric.passed, metric.max_abs) > (not worst.passed, worst.max_abs):
            worst = metric
    assert worst is not None
    return worst


def _one(ref: np.ndarray | None, got: np.ndarray | None, output: str, a: str, b: str, tol: Tolerance) -> Metric:
    if ref is None or got is None:
        missing = a if ref is None else b
        return Metric(output, a, b, np.inf, np.inf, 0.0, (), 0.0, False, f"output missing from {missing}")
    ref, got = np.asarray(ref), np.asarray(got)
    if ref.shape != got.shape:
        return Metric(output, a, b, np.inf, np.inf, 0.0, (), 0.0, False,
                      f"shape {list(got.shape)} != {list(ref.shape)}")
    max_abs, max_rel, cosine, idx = errors(ref, got)
    exact = ref.dtype.kind in "biu" or got.dtype.kind in "biu"
    bound = 0.0 if exact else tol.bound(ref.astype(np.float64))
    return Metric(output, a, b, max_abs, max_rel, cosine, idx, bound, max_abs <= bound)
