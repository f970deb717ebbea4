"""Runs an onnx_ir model in onnxruntime, optionally exposing intermediate values as extra outputs."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnx_ir as ir

from pivot import ir as pir


def _session(proto: onnx.ModelProto) -> Any:
    import onnxruntime as ort  # imported on first use: converting never needs it

    opts = ort.SessionOptions()
    # The reference must be plain: no fusions of onnxruntime's own.
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    opts.log_severity_level = 3
    return ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def run_onnx(model: ir.Model, feeds: dict[str, np.ndarray], extra: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """Outputs by name (graph outputs, then the ``extra`` values asked for)."""
    proto = ir.serde.serialize_model(model)
    if extra:
        proto = copy.copy(proto)
        known = {o.name for o in proto.graph.output}
        proto.graph.output.extend(onnx.helper.make_empty_tensor_value_info(n) for n in extra if n not in known)
    session = _session(proto)
    names = [o.name for o in session.get_outputs()]
    wanted = {i.name for i in session.get_inputs()}
    return dict(zip(names, session.run(names, {k: v for k, v in feeds.items() if k in wanted}), strict=True))


def run_onnx_file(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Outputs of an ONNX file as it is (the source stage of an ONNX input)."""
    return run_onnx(pir.load(path), feeds)
