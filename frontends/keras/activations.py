"""Keras activation functions (by their serialized name) as ONNX ops."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import onnx_ir as ir

from frontends.keras.lower import LowerCtx

Act = Callable[[LowerCtx, ir.Value], ir.Value]


def _hard_sigmoid(ctx: LowerCtx, x: ir.Value) -> ir.Value:
    # Keras 2 (and tfjs-layers) use clip(0.2x + 0.5, 0, 1); Keras 3 uses relu6(x + 3) / 6.
    alpha = 0.2 if ctx.keras_major < 3 else 1.0 / 6.0
    return ctx.op("HardSigmoid", x, alpha=alpha, beta=0.5)


def _swish(ctx: LowerCtx, x: ir.Value) -> ir.Value:
    return ctx.op("Mul", x, ctx.op("Sigmoid", x), name="swish")


def _gelu(ctx: LowerCtx, x: ir.Value, approximate: bool = False) -> ir.Value:
    return ctx.op("Gelu", x, approximate="tanh" if approximate else "none")


def _relu6(ctx: LowerCtx, x: ir.Value) -> ir.Value:
    return ctx.op("Clip", x, ctx.const(0.0, "zero"), ctx.const(6.0, "six"), name="relu6")


def _log_sigmoid(ctx: LowerCtx, x: ir.Value) -> ir.Value:
    return ctx.op("Neg", ctx.op("Softplus", ctx.op("Neg", x)), name="log_sigmoid")


def _hard_tanh(ctx: LowerCtx, x: ir.Value) -> ir.Value:
    return ctx.op("Clip", x, ctx.const(-1.0, "lo"), ctx.const(1.0, "hi"), name="hard_tanh")


def _tanh_shrink(ctx: LowerCtx, x: ir.Value) -> ir.Value:
    return ctx.op("Sub", x, ctx.op("Tanh", x), name="tanh_shrink")


def _squareplus(ctx: LowerCtx, x: ir.Value) -> ir.Value:
    # (x + sqrt(x^2 + b)) / 2 with Keras's default b = 4.
    root = ctx.op("Sqrt", ctx.op("Add", ctx.op("Mul", x, x), ctx.const(4.0, "b")))
    return ctx.op("Mul", ctx.op("Add", x, root), ctx.const(0.5, "half"), name="squareplus")


def _sparse_plus(ctx: LowerCtx, x: ir.Value) -> ir.Value:
    # 0 for x <= -1, (x + 1)^2 / 4 for |x| < 1, x for x >= 1.
    shifted = ctx.op("Add", x, ctx.const(1.0, "one"))
    mid = ctx.op("Mul", ctx.op("Mul", shifted, shifted), ctx.const(0.25, "quarter"))
    inner = ctx.op("Where", ctx.op("LessOrEqual", x, ctx.const(-1.0, "m1")), ctx.const(0.0, "zero"), mid)
    return ctx.op("Where", ctx.op("GreaterOrEqual", x, ctx.const(1.0, "p1")), x, inner, name="sparse_plus")


_SIMPLE: dict[str, str] = {
    "relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "elu": "Elu", "selu": "Selu", "softplus": "Softplus",
    "softsign": "Softsign", "exponential": "Exp", "mish": "Mish", "celu": "Celu",
}
_FORMULAS: dict[str, Act] = {
    "hard_sigmoid": _hard_sigmoid, "swish": _swish, "silu": _swish, "gelu": _gelu, "relu6": _relu6,
    "log_sigmoid": _log_sigmoid, "hard_tanh": _hard_tanh, "tanh_shrink": _tanh_shrink,
    "squareplus": _squareplus, "sparse_plus": _sparse_plus,
    "hard_silu": lambda ctx, x: ctx.op("HardSwish", x), "hard_swish": lambda ctx, x: ctx.op("HardSwish", x),
    "leaky_relu": lambda ctx, x: ctx.op("LeakyRelu", x, alpha=0.2),
    "softmax": lambda ctx, x: ctx.op("Softmax", x, axis=-1),
    "log_softmax": lambda ctx, x: ctx.op("LogSoftmax", x, axis=-1),
}
ACTIVATIONS = frozenset({"linear", *_SIMPLE, *_FORMULAS})
# ONNX ops an activation may produce; declared by every rule that applies an activation.
ACTIVATION_OPS = frozenset({*_SIMPLE.values(), "HardSigmoid", "Mul", "Sigmoid", "Gelu", "Clip", "Neg", "Softplus",
                            "Sub", "Sqrt", "Add", "Where", "LessOrEqual", "GreaterOrEqual", "HardSwish",
                            "LeakyRelu", "Softmax", "LogSoftmax", "Tanh"})


def activation_name(spec: Any) -> str:
    """The activation's name from a config value: a string, or a Keras 3 serialized function."""
    if spec is None:
        return "linear"
    if isinstance(spec, dict):
        inner = spec.get("config")
        spec = inner if isinstance(inner, str) else spec.get("class_name", "")
    name = str(spec)
    # tfjs writes camelCase names (hardSigmoid); Keras writes snake_case.
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def apply_activation(ctx: LowerCtx, x: ir.Value, spec: Any) -> ir.Value:
    """``spec(x)``; raises an ``attribute`` failure for an unknown (custom) activation."""
    name = activation_name(spec)
    if name == "linear":
        return x
    if name in _SIMPLE:
        return ctx.op(_SIMPLE[name], x)
    if name in _FORMULAS:
        return _FORMULAS[name](ctx, x)
    raise ctx.fail("attribute", f"layer '{ctx.layer.name}': activation '{name}' is not a built-in Keras activation",
                   "custom activation functions are never executed; use a built-in one")
