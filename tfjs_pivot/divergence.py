"""Finds the first node whose output differs between onnxruntime (pivot) and the converted tfjs graph model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx_ir as ir

from backends.tfjs_graph.trace import Probe, probes
from backends.tfjs_runtime import TfjsBackend, TfjsRunError, TfjsRuntime
from pivot.compare import Tolerance, errors
from pivot.onnx_run import run_onnx


class _Search:
    """Compares one probe at a time; tfjs runs are cached per probe."""

    def __init__(self, model_json: Path, feeds: dict[str, np.ndarray], runtime: TfjsRuntime, backend: TfjsBackend,
                 reference: dict[str, np.ndarray], tol: Tolerance) -> None:
        self.model_json, self.feeds, self.runtime, self.backend = model_json, feeds, runtime, backend
        self.reference, self.tol = reference, tol
        self.results: dict[int, dict[str, Any]] = {}
        nodes = json.loads(model_json.read_text())["modelTopology"]["node"]
        self.inputs = {n["name"]: [i.split(":")[0].lstrip("^") for i in n.get("input", [])] for n in nodes}
        self.consts = {n["name"] for n in nodes if n["op"] == "Const"}

    def check(self, i: int, probe: Probe) -> dict[str, Any]:
        if i not in self.results:
            self.results[i] = self._compare(probe)
        return self.results[i]

    def _compare(self, probe: Probe) -> dict[str, Any]:
        weights = [i for i in self.inputs.get(probe.tensor, []) if i in self.consts]
        row: dict[str, Any] = {"node": probe.node, "op": probe.op_type, "value": probe.value, "tfjs_node": probe.tensor,
                               "tfjs_weights": weights}
        try:
            got = self.runtime.run(self.model_json, self.feeds, backend=self.backend, outputs=[probe.tensor])
        except TfjsRunError as e:
            return {**row, "passed": False, "error": f"tfjs could not compute {probe.tensor}: {e}"}
        arr = next(iter(got.values()))
        if probe.perm is not None:
            arr = np.transpose(arr, probe.perm)
        ref = self.reference[probe.value]
        if arr.shape != ref.shape:
            return {**row, "passed": False, "error": f"shape {list(arr.shape)} != {list(ref.shape)}"}
        max_abs, max_rel, cosine, worst = errors(ref, arr)
        bound = 0.0 if ref.dtype.kind in "biu" else self.tol.bound(ref.astype(np.float64))
        return {**row, "passed": max_abs <= bound, "max_abs": max_abs, "max_rel": max_rel, "cosine": cosine,
                "worst_index": list(worst), "bound": bound}


def first_divergence(pivot: ir.Model, model_json: Path, feeds: dict[str, np.ndarray], runtime: TfjsRuntime,
                     backend: TfjsBackend, tol: Tolerance) -> dict[str, Any] | None:
    """Bisect over the topological order for the first node output beyond tolerance.

    Assumes that once a value diverges, the values computed from it diverge too (which is how a
    wrong weight or kernel shows); ``probes_checked`` says how many tfjs runs the search took.
    """
    candidates = probes(pivot)
    if not candidates:
        return None
    reference = run_onnx(pivot, feeds, [p.value for p in candidates])
    search = _Search(model_json, feeds, runtime, backend, reference, tol)
    lo, hi = 0, len(candidates) - 1
    if search.check(hi, candidates[hi])["passed"]:
        return None  # every probed value matches; the difference is after the last probe
    while lo < hi:
        mid = (lo + hi) // 2
        if search.check(mid, candidates[mid])["passed"]:
            lo = mid + 1
        else:
            hi = mid
    found = dict(search.check(lo, candidates[lo]))
    found["probes_checked"] = len(search.results)
    found["probes_total"] = len(candidates)
    return found
