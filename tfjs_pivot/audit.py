"""``tfjs-pivot audit``: will a model run in TensorFlow.js, on which backends, and what blocks it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx_ir as ir

import frontends
from backends.tfjs_graph.preflight import Preflight, preflight
from backends.tfjs_graph.support import TFJS_BACKENDS
from pivot.errors import Unsupported, UnsupportedOpsError
from pivot.passes.pin import symbolic_dims
from pivot.version import __version__
from tfjs_format.quantize import BYTES_PER_FLOAT
from tfjs_pivot.convert import ConvertOptions, input_budget, load_pivot

SCHEMA = "tfjs-pivot.audit/1"
TFJS_VERSION = "4.22.0"


@dataclass
class AuditReport:
    """Everything the audit found, in a form every renderer reads (``as_json`` is the schema)."""

    source: str
    input_format: str
    required_backend: str
    blocking: list[Unsupported]
    stage: str  # where blocking nodes were found: "frontend" or "tfjs emission"
    model: dict[str, Any] = field(default_factory=dict)
    preflight: Preflight | None = None
    pinned: dict[str, Any] = field(default_factory=dict)  # --input-shape / --dim the model was audited with

    def runs_on(self, backend: str) -> bool:
        return not self.blocking and self.preflight is not None and self.preflight.runs_on(backend)

    @property
    def exit_status(self) -> int:
        return 0 if self.runs_on(self.required_backend) else 1

    def as_json(self) -> dict[str, Any]:
        """The documented, versioned JSON form (docs/audit-schema.md)."""
        pre = self.preflight
        return {
            "schema": SCHEMA,
            "tool": {"name": "tfjs-pivot", "version": __version__, "tfjs": TFJS_VERSION},
            "source": self.source,
            "input_format": self.input_format,
            "verdict": {"required_backend": self.required_backend, "runs": self.runs_on(self.required_backend),
                        "exit_status": self.exit_status},
            "blocking": [_blocking_row(u, self.stage) for u in sorted(self.blocking, key=lambda u: (u.op, u.reason))],
            "backends": {b: _backend_row(self, b) for b in TFJS_BACKENDS},
            "execution": _execution(pre),
            "model": self.model,
            "tfjs_ops": dict(pre.tfjs_histogram) if pre else {},
            "unmeasured_tfjs_ops": list(pre.unmeasured) if pre else [],
            "pinned": self.pinned or {"input_shapes": {}, "dims": {}},
        }


# ONNX ops whose tfjs form is always an async op: a blocked one still means the model needs executeAsync.
_ASYNC_ONNX = {"If": "StatelessIf", "Loop": "StatelessWhile", "NonZero": "Where",
               "NonMaxSuppression": "NonMaxSuppressionV3"}


def _execution(pre: Preflight | None) -> dict[str, Any]:
    """``executeAsync`` exactly when the graph holds an async tfjs op, else ``execute``.

    Async: control-flow, dynamic-shape and hash-table ops (tfjs-converter runs them as promises, so
    model.execute() throws); a blocked ONNX node counts as the async op it would become.
    """
    ops = {*pre.async_ops, *(_ASYNC_ONNX[u.op] for u in pre.blocked if u.op in _ASYNC_ONNX)} if pre else set()
    return {"mode": "executeAsync" if ops else "execute", "async_ops": sorted(ops)}


def _blocking_row(u: Unsupported, stage: str) -> dict[str, Any]:
    return {"op": u.op, "reason": u.reason, "count": len(u.nodes), "nodes": list(u.nodes), "detail": u.detail,
            "hint": u.hint, "stage": stage}


def _backend_row(report: AuditReport, backend: str) -> dict[str, Any]:
    pre = report.preflight
    if pre is None:
        return {"runs": False, "missing_kernels": [], "tfjs_ops": [], "nodes": [], "blocked_by_nodes": True}
    gap = pre.gaps[backend]
    return {"runs": report.runs_on(backend), "missing_kernels": list(gap.kernels), "tfjs_ops": list(gap.tfjs_ops),
            "nodes": list(gap.nodes), "blocked_by_nodes": bool(report.blocking)}


def audit(source: Path, options: ConvertOptions, required_backend: str = "wasm") -> AuditReport:
    """Run the frontend, the pivot and the tfjs preflight on ``source``; writes nothing."""
    frontends.check_source(source, options.input_format)
    in_fmt = options.input_format or frontends.detect_format(source)
    pinned = {"input_shapes": {k: list(v) for k, v in options.input_shapes.items()}, "dims": dict(options.dims)}
    with input_budget(source, options.max_fold_bytes):
        try:
            model, in_fmt = load_pivot(source, options)
        except UnsupportedOpsError as e:  # the frontend could not lower some layers or ops
            return AuditReport(str(source), in_fmt, required_backend, list(e.items), "frontend", pinned=pinned)
        pre = preflight(model)
    return AuditReport(str(source), in_fmt, required_backend, list(pre.blocked), "tfjs emission",
                       model_summary(model), pre, pinned)


def model_summary(model: ir.Model) -> dict[str, Any]:
    """Inputs, outputs, named dynamic input dims, ONNX op histogram, parameters, weight and download bytes."""
    floats = other_bytes = params = 0
    for value in model.graph.initializers.values():
        tensor = value.const_value
        if tensor is None:
            continue
        n = int(np.prod(tensor.shape.numpy(), dtype=np.int64)) if tensor.shape is not None else 0
        params += n
        if tensor.dtype in (ir.DataType.FLOAT, ir.DataType.DOUBLE, ir.DataType.FLOAT16):
            floats += n
        else:
            other_bytes += n * (1 if tensor.dtype == ir.DataType.BOOL else 4)
    return {
        "inputs": [_value_info(v) for v in model.graph.inputs if not v.is_initializer()],
        "outputs": [_value_info(v) for v in model.graph.outputs],
        "symbolic_dims": symbolic_dims(model),
        "onnx_ops": dict(sorted(Counter(n.op_type for n in model.graph).items())),
        "nodes": sum(1 for _ in model.graph),
        "parameters": params,
        "weight_bytes": floats * 4 + other_bytes,
        "download_bytes": {k: floats * b + other_bytes for k, b in BYTES_PER_FLOAT.items()},
    }


def _value_info(value: ir.Value) -> dict[str, Any]:
    """Name, numpy dtype name and shape (symbolic dims by name, unknown ones as "?")."""
    shape = None if value.shape is None else [
        d if isinstance(d, int) else (d.value if d.value is not None else "?") for d in value.shape]
    try:
        dtype = np.dtype(value.dtype.numpy()).name if value.dtype is not None else "unknown"
    except TypeError:  # no numpy equivalent (e.g. string)
        dtype = value.dtype.name.lower() if value.dtype is not None else "unknown"
    return {"name": value.name, "dtype": dtype, "shape": shape}
