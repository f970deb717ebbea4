"""Parity cases for activation ops."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tests.cases import OpCase, node_model, rand
from tests.cases.elementwise import fixed, mixed

F, INT = np.float32, np.int64
_X = (2, 3, 4, 5)  # N, C, H, W with C != H != W


def _act(op: str, tag: str = "", shape: Sequence[int] = _X, low: float = -4.0, high: float = 4.0,
         **attrs: Any) -> OpCase:
    return OpCase(f"{op}{tag}", op, node_model(op, [("x", F, shape)], **attrs), rand(("x", shape), low=low, high=high))


def _clip(tag: str, order: Sequence[str], inits: dict[str, np.ndarray], dtype: Any = F,
          dynamic: Sequence[tuple[str, float]] = ()) -> OpCase:
    inputs = [("x", dtype, [2, 3, 4])] + [(n, dtype, []) for n, _ in dynamic]
    width = 1.0 if np.dtype(dtype).kind == "i" else 1e-3  # a bound is fed as a (nearly) fixed scalar
    feeds = [("x", dtype, (2, 3, 4), -6, 6)] + [(n, dtype, (), v, v + width) for n, v in dynamic]
    return OpCase(f"Clip-{tag}", "Clip", node_model("Clip", inputs, initializers=inits, input_order=list(order)),
                  mixed(*feeds))


def _prelu(tag: str, x_shape: Sequence[int], slope: np.ndarray | None = None,
           slope_shape: Sequence[int] | None = None) -> OpCase:
    if slope is not None:
        model = node_model("PRelu", [("x", F, x_shape)], initializers={"slope": slope})
        return OpCase(f"PRelu-{tag}", "PRelu", model, rand(("x", x_shape)))
    assert slope_shape is not None
    model = node_model("PRelu", [("x", F, x_shape), ("slope", F, slope_shape)])
    return OpCase(f"PRelu-{tag}", "PRelu", model, mixed(("x", F, x_shape, -2, 2), ("slope", F, slope_shape, -1, 1)))


_SLOPE_C = np.array([0.1, -0.2, 0.5], F)

PRELU_CASES = [
    _prelu("channel-nchw", _X, _SLOPE_C.reshape(3, 1, 1)),
    _prelu("channel-ncl", (2, 3, 7), _SLOPE_C.reshape(3, 1)),
    _prelu("channel-nchw-rank4-slope", _X, _SLOPE_C.reshape(1, 3, 1, 1)),
    _prelu("scalar", _X, np.array(0.25, F)),
    _prelu("scalar-1", _X, np.array([0.25], F)),
    _prelu("last-axis", _X, np.linspace(-0.5, 0.5, 5).astype(F)),
    _prelu("trailing-2d", _X, np.linspace(-0.5, 0.5, 20).astype(F).reshape(4, 5)),
    _prelu("middle-axis", _X, np.linspace(-0.5, 0.5, 4).astype(F).reshape(4, 1)),
    _prelu("rank2", (6, 3), _SLOPE_C),
    _prelu("dynamic-channel", _X, slope_shape=(3, 1, 1)),
    _prelu("dynamic-last-axis", _X, slope_shape=(5,)),
]

CLIP_CASES = [
    _clip("const", ["x", "lo", "hi"], {"lo": np.array(-1.5, F), "hi": np.array(2.0, F)}),
    _clip("min-only", ["x", "lo"], {"lo": np.array(-1.5, F)}),
    _clip("max-only", ["x", "", "hi"], {"hi": np.array(2.0, F)}),
    _clip("none", ["x"], {}),
    _clip("relu6", ["x", "lo", "hi"], {"lo": np.array(0.0, F), "hi": np.array(6.0, F)}),
    _clip("equal-bounds", ["x", "lo", "hi"], {"lo": np.array(1.0, F), "hi": np.array(1.0, F)}),
    _clip("min-above-max", ["x", "lo", "hi"], {"lo": np.array(2.0, F), "hi": np.array(-1.0, F)}),
    _clip("dynamic", ["x", "lo", "hi"], {}, dynamic=[("lo", -1.5), ("hi", 2.0)]),
    _clip("dynamic-max", ["x", "", "hi"], {}, dynamic=[("hi", 0.5)]),
    _clip("int64-const", ["x", "lo", "hi"], {"lo": np.array(-2, INT), "hi": np.array(3, INT)}, dtype=INT),
    _clip("int64-max-only", ["x", "", "hi"], {"hi": np.array(3, INT)}, dtype=INT),
    _clip("int64-dynamic", ["x", "lo", "hi"], {}, dtype=INT, dynamic=[("lo", -3), ("hi", 2)]),
]

CASES = [
    _act("Relu", "-4d"), _act("Sigmoid", "-4d"), _act("Tanh", "-4d"), _act("Softplus", "-wide", low=-20, high=20),
    _act("LeakyRelu"), _act("LeakyRelu", "-alpha", alpha=0.3),
    _act("Elu"), _act("Elu", "-alpha", alpha=0.5), _act("Elu", "-alpha-large", alpha=2.5),
    _act("Selu"), _act("Selu", "-alpha-gamma", alpha=1.5, gamma=1.2), _act("Selu", "-gamma", gamma=2.0),
    _act("Celu"), _act("Celu", "-alpha", alpha=2.0), _act("Celu", "-alpha-small", alpha=0.3),
    _act("HardSigmoid"), _act("HardSigmoid", "-alpha-beta", alpha=0.3, beta=0.4),
    _act("HardSwish"), _act("Softsign"), _act("Mish"),
    _act("Gelu"), _act("Gelu", "-tanh", approximate="tanh"),
    _act("ThresholdedRelu"), _act("ThresholdedRelu", "-alpha", alpha=0.5),
    _act("Shrink"), _act("Shrink", "-bias-lambd", bias=0.7, lambd=1.2),
    OpCase("Shrink-int64", "Shrink", node_model("Shrink", [("x", INT, [2, 3, 4])], bias=2.0, lambd=1.0),
           rand(("x", (2, 3, 4)), dtype=INT, low=-5, high=5)),
    OpCase("Relu-int32", "Relu", node_model("Relu", [("x", np.int32, [2, 3, 4])]),
           rand(("x", (2, 3, 4)), dtype=np.int32, low=-5, high=5)),
    OpCase("LeakyRelu-rank2", "LeakyRelu", node_model("LeakyRelu", [("x", F, [6, 3])], alpha=0.1),
           fixed(x=np.linspace(-3, 3, 18, dtype=F).reshape(6, 3))),
    *PRELU_CASES, *CLIP_CASES,
]
