"""Runs an onnx_ir model in onnxruntime, optionally exposing intermediate values as extra outputs."""

from __future__ import annotations

import functools
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


class OnnxSession:
    """One onnxruntime session for a model (graph outputs, then the ``extra`` values asked for)."""

    def __init__(self, model: ir.Model, extra: Sequence[str] = ()) -> None:
        proto = ir.serde.serialize_model(model)
        known = {o.name for o in proto.graph.output}
        proto.graph.output.extend(onnx.helper.make_empty_tensor_value_info(n) for n in extra if n not in known)
        self._session = _session(proto)
        self._names = [o.name for o in self._session.get_outputs()]
        self._inputs = {i.name for i in self._session.get_inputs()}

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Outputs by name; feeds the model does not take are ignored."""
        given = {k: v for k, v in feeds.items() if k in self._inputs}
        return dict(zip(self._names, self._session.run(self._names, given), strict=True))


def run_onnx(model: ir.Model, feeds: dict[str, np.ndarray], extra: Sequence[str] = ()) -> dict[str, np.ndarray]:
    """One run of ``model`` (builds a session: use ``OnnxSession`` to run a model several times)."""
    return OnnxSession(model, extra).run(feeds)


@functools.lru_cache(maxsize=4)
def _file_session(path: str, mtime_ns: int) -> OnnxSession:
    return OnnxSession(pir.load(Path(path)))


def run_onnx_file(path: Path, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Outputs of an ONNX file as it is (the source stage of an ONNX input); the session is kept per file."""
    return _file_session(str(path.resolve()), path.stat().st_mtime_ns).run(feeds)
