"""Keras merge layers (elementwise, concatenate, batched dot) lowered to ONNX."""

from __future__ import annotations

import onnx_ir as ir

from frontends.keras.layers.normalization import l2_normalize
from frontends.keras.lower import LowerCtx, shape_of
from frontends.keras.registry import KERAS

# Keras merge class -> (ONNX op folding the inputs pairwise, or an n-ary op).
_ELEMENTWISE = {"Add": "Add", "Multiply": "Mul", "Maximum": "Max", "Minimum": "Min", "Average": "Mean"}
_LETTERS = "bcdefghijklmnopqrstuvwxy"  # a: batch, z: the summed axis


def _same_rank(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Inputs of lower rank get size-1 dims inserted at axis 1 (Keras merge broadcasting, not numpy's)."""
    ranks = [len(shape_of(x)) for x in inputs]
    top = max(ranks)
    return [x if r == top else ctx.op("Unsqueeze", x, ctx.ints(list(range(1, 1 + top - r)), f"expand{i}"))
            for i, (x, r) in enumerate(zip(inputs, ranks, strict=True))]


def lower_elementwise(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Add() / Multiply() / Maximum() / Minimum() / Average() over a list of tensors, with broadcasting."""
    op = _ELEMENTWISE[ctx.layer.class_name]
    xs = _same_rank(ctx, inputs)
    if op == "Mean" or len(xs) == 1:
        return [ctx.op("Mean" if op == "Mean" else "Identity", *xs)]
    y = xs[0]
    for i, x in enumerate(xs[1:]):
        y = ctx.op(op, y, x, name=f"{op}{i}")
    return [y]


@KERAS.rule("Subtract", produces={"Sub", "Unsqueeze"})
def subtract(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Subtract(): inputs[0] - inputs[1]."""
    if len(inputs) != 2:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': Subtract takes exactly 2 inputs, got {len(inputs)}")
    a, b = _same_rank(ctx, inputs)
    return [ctx.op("Sub", a, b)]


@KERAS.rule("Concatenate", produces={"Concat"})
def concatenate(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Concatenate(axis)."""
    return [ctx.op("Concat", *inputs, axis=int(ctx.cfg("axis", -1)))]


def _dot_axes(ctx: LowerCtx, ranks: list[int]) -> list[int]:
    value = ctx.cfg("axes", -1)
    axes = [int(value)] * 2 if isinstance(value, int) else [int(a) for a in value]
    axes = [a % r for a, r in zip(axes, ranks, strict=True)]
    if len(axes) != 2 or 0 in axes or min(ranks) < 2:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': Dot axes {value} on ranks {ranks} (batch_dot needs "
                       "rank >= 2 inputs and never sums over the batch axis)")
    return axes


@KERAS.rule("Dot", produces={"Einsum", "Unsqueeze", "ReduceSumSquare", "Sqrt", "Max", "Div"})
def dot(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Dot(axes, normalize): Keras batch_dot, optionally of L2-normalized inputs (cosine proximity)."""
    if len(inputs) != 2:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': Dot takes exactly 2 inputs, got {len(inputs)}")
    ranks = [len(shape_of(x)) for x in inputs]
    axes = _dot_axes(ctx, ranks)
    x, y = inputs
    if ctx.cfg("normalize", False):
        # Keras 3 normalizes with epsilon 1e-7 (its backend epsilon); tf.keras's l2_normalize with 1e-12 on
        # the squared sum, i.e. 1e-6 on the norm.
        eps = 1e-7 if ctx.keras_major >= 3 else 1e-6
        x, y = l2_normalize(ctx, x, [axes[0]], eps, "x_l2"), l2_normalize(ctx, y, [axes[1]], eps, "y_l2")
    # batch_dot: the batch axis is shared, the dot axes are summed, every other axis is kept (x's, then y's).
    letters = iter(_LETTERS)
    xs = ["a" if i == 0 else "z" if i == axes[0] else next(letters) for i in range(ranks[0])]
    ys = ["a" if i == 0 else "z" if i == axes[1] else next(letters) for i in range(ranks[1])]
    out = ["a", *(c for c in xs[1:] if c != "z"), *(c for c in ys[1:] if c != "z")]
    z = ctx.op("Einsum", x, y, equation=f"{''.join(xs)},{''.join(ys)}->{''.join(out)}")
    # A rank-1 result becomes (batch, 1), as Keras does.
    return [ctx.op("Unsqueeze", z, ctx.ints([1], "axis")) if len(out) == 1 else z]


for _name, _op in _ELEMENTWISE.items():
    KERAS.rule(_name, produces={_op, "Unsqueeze", "Identity"})(lower_elementwise)
