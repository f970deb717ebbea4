"""Parity cases for LSTM, GRU and RNN: unrolled (static sequence length) and While-looped (dynamic)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx

from tests.cases import Inputs, OpCase, node_model

T, B, IN, H = 5, 2, 3, 4
_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
_OUTPUTS = {"LSTM": ("Y", "Y_h", "Y_c"), "GRU": ("Y", "Y_h"), "RNN": ("Y", "Y_h")}


def _weights(op: str, dirs: int, seed: int) -> dict[str, np.ndarray]:
    g = _GATES[op]
    rng = np.random.default_rng(seed)
    return {"W": rng.uniform(-0.6, 0.6, (dirs, g * H, IN)).astype(np.float32),
            "R": rng.uniform(-0.6, 0.6, (dirs, g * H, H)).astype(np.float32),
            "B": rng.uniform(-0.4, 0.4, (dirs, 2 * g * H)).astype(np.float32)}


def _feeds(x_shape: Sequence[int], dirs: int, *, extra: Sequence[str] = (), op: str = "LSTM") -> Inputs:
    """X, plus the optional runtime inputs named in ``extra``."""

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = {"X": rng.uniform(-1.5, 1.5, x_shape).astype(np.float32)}
        state = (dirs, x_shape[1], H)
        for name in extra:
            if name == "sequence_lens":
                out[name] = np.asarray([x_shape[0], max(1, x_shape[0] - 2)], np.int32)[: x_shape[1]]
            elif name in ("initial_h", "initial_c"):
                out[name] = rng.uniform(-1, 1, state).astype(np.float32)
            else:  # weights fed at run time
                out[name] = _weights(op, dirs, 3)[name]
        return out

    return make


def _case(tag: str, op: str, *, direction: str = "forward", x_shape: Sequence[Any] = (T, B, IN),
          feed_shape: Sequence[int] | None = None, runtime: Sequence[str] = (), outputs: Sequence[str] | None = None,
          peepholes: bool = False, seed: int = 0, tol: float = 1e-4, **attrs: Any) -> OpCase:
    """One node with constant W, R, B (unless named in ``runtime``) and optional extra inputs."""
    dirs = 2 if direction == "bidirectional" else 1
    inits = {k: v for k, v in _weights(op, dirs, seed).items() if k not in runtime}
    if peepholes:
        inits["P"] = np.random.default_rng(seed + 1).uniform(-0.5, 0.5, (dirs, 3 * H)).astype(np.float32)
    state = [dirs, x_shape[1], H]
    shapes = {"sequence_lens": [x_shape[1]], "initial_h": state, "initial_c": state,
              **{k: list(v.shape) for k, v in _weights(op, dirs, 3).items()}}
    graph_inputs = [("X", np.float32, list(x_shape))] + [
        (n, np.int32 if n == "sequence_lens" else np.float32, shapes[n]) for n in runtime]
    order = ["X", "W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"][: 8 if op == "LSTM" else 6]
    present = {n for n, _, _ in graph_inputs} | set(inits)
    names = [n if n in present else "" for n in order]
    while names and not names[-1]:
        names.pop()

    def model() -> onnx.ModelProto:
        # A fresh builder per call: node_model's builder consumes ``input_order`` on its first call.
        return node_model(op, graph_inputs, outputs or _OUTPUTS[op], initializers=inits, input_order=names,
                          hidden_size=H, direction=direction, **attrs)()

    return OpCase(f"{op}-{tag}", op, model, _feeds(feed_shape or x_shape, dirs, extra=runtime, op=op), tol=tol)


_DYN = ("N", B, IN)
_DYN_FEED = (6, B, IN)
CASES: list[OpCase] = [
    _case("forward", "LSTM"),
    _case("reverse", "LSTM", direction="reverse"),
    _case("bidirectional", "LSTM", direction="bidirectional"),
    _case("peepholes_initial_state", "LSTM", peepholes=True, runtime=("initial_h", "initial_c")),
    _case("input_forget_clip", "LSTM", input_forget=1, clip=0.7),
    # A cell state beyond the clip over 12 steps: h(C) must read it unclipped, as onnxruntime does.
    _case("clip_below_cell_state", "LSTM", clip=0.3, x_shape=(12, B, IN), seed=5),
    _case("activations", "LSTM", direction="bidirectional",
          activations=["HardSigmoid", "ScaledTanh", "Softsign", "Sigmoid", "LeakyRelu", "Elu"],
          activation_alpha=[0.3, 0.8, 0.2, 0.6], activation_beta=[0.4, 1.2]),
    _case("sequence_lens", "LSTM", direction="bidirectional", runtime=("sequence_lens",)),
    _case("runtime_weights", "LSTM", direction="bidirectional", runtime=("W", "R", "B")),
    _case("dynamic_batch", "LSTM", x_shape=(T, "batch", IN), feed_shape=(T, 3, IN)),
    _case("single_step", "LSTM", x_shape=(1, B, IN), outputs=("Y_h",)),
    _case("loop", "LSTM", x_shape=_DYN, feed_shape=_DYN_FEED),
    _case("loop_bidirectional_lens", "LSTM", direction="bidirectional", x_shape=_DYN, feed_shape=_DYN_FEED,
          runtime=("sequence_lens", "initial_h", "initial_c"), peepholes=True),
    _case("forward", "GRU"),
    _case("linear_before_reset", "GRU", linear_before_reset=1),
    _case("bidirectional_lbr", "GRU", direction="bidirectional", linear_before_reset=1, runtime=("initial_h",)),
    _case("reverse_lens", "GRU", direction="reverse", runtime=("sequence_lens",)),
    _case("runtime_weights_lbr", "GRU", runtime=("W", "R", "B"), linear_before_reset=1),
    _case("activations", "GRU", activations=["HardSigmoid", "Affine"], activation_alpha=[0.25, 0.9],
          activation_beta=[0.45, 0.1]),
    _case("loop", "GRU", x_shape=_DYN, feed_shape=_DYN_FEED, direction="reverse"),
    _case("loop_lbr_lens", "GRU", x_shape=_DYN, feed_shape=_DYN_FEED, linear_before_reset=1,
          runtime=("sequence_lens",)),
    _case("forward", "RNN"),
    _case("bidirectional_relu", "RNN", direction="bidirectional", activations=["Relu", "Tanh"]),
    _case("thresholded", "RNN", activations=["ThresholdedRelu"], activation_alpha=[0.3]),
    _case("runtime_weights", "RNN", runtime=("W", "R", "B", "initial_h")),
    _case("loop_bidirectional", "RNN", direction="bidirectional", x_shape=_DYN, feed_shape=_DYN_FEED),
]
