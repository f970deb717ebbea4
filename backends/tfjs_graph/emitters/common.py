"""Helpers shared by emitters: transposes to and from channels-last, axes, int constants."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import EmitCtx, fail


def int_const(ctx: EmitCtx, values: Sequence[int] | int | np.ndarray, suffix: str) -> str:
    """An int32 Const owned by the current node (range-checked)."""
    return ctx.constant(np.asarray(values, dtype=np.int64), suffix)


def transpose(ctx: EmitCtx, ref: str, perm: Sequence[int], suffix: str) -> str:
    """``Transpose(ref, perm)``; the layout pass later cancels or absorbs it."""
    if list(perm) == list(range(len(perm))):
        return ref
    return ctx.add("Transpose", [ref, int_const(ctx, list(perm), f"{suffix}/perm")], suffix=suffix)


def channels_last_perm(rank: int) -> list[int]:
    """NC... -> N...C, e.g. [0, 2, 3, 1] for rank 4."""
    return [0, *range(2, rank), 1]


def channels_first_perm(rank: int) -> list[int]:
    """N...C -> NC..., e.g. [0, 3, 1, 2] for rank 4."""
    return [0, rank - 1, *range(1, rank - 1)]


def to_channels_last(ctx: EmitCtx, ref: str, rank: int, suffix: str = "to_nhwc") -> str:
    """Transpose an NC... tensor to N...C (tfjs conv, pool and resize kernels are channels-last)."""
    return transpose(ctx, ref, channels_last_perm(rank), suffix)


def to_channels_first(ctx: EmitCtx, ref: str, rank: int, suffix: str = "to_nchw") -> str:
    """Transpose an N...C tensor back to NC... (the ONNX layout)."""
    return transpose(ctx, ref, channels_first_perm(rank), suffix)


def normalize_axis(axis: int, rank: int) -> int:
    """A non-negative axis; raises ``EmitError('attribute')`` when out of range."""
    if not -rank <= axis < rank:
        raise fail("attribute", f"axis {axis} is out of range for rank {rank}")
    return axis % rank


def t_attr(ctx: EmitCtx, j: int = 0) -> dict[str, Attr]:
    """The ``T`` attribute most tfjs ops carry (ignored by tfjs, kept for TF tooling)."""
    return {"T": Attr.dtype(ctx.out_dtype(j))}
