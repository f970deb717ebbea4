"""Helpers shared by emitters: transposes to and from channels-last, axes, int constants."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import EmitCtx, fail
from pivot.errors import InputError, Int64RangeError
from pivot.untrusted import charge

# Index tables and masks an emitter computes from static shapes (resize coordinates, pooling counts, eye
# matrices): a model declaring absurd dims must not make the converter allocate them.
MAX_TABLE_ELEMENTS = 1 << 24


def int_const(ctx: EmitCtx, values: Sequence[int] | int | np.ndarray, suffix: str) -> str:
    """An int32 Const owned by the current node (range-checked)."""
    try:
        arr = np.asarray(values, dtype=np.int64)
    except OverflowError:  # past int64, so surely past int32
        raise Int64RangeError(f"{ctx.name}/{suffix}: a value does not fit into int32 (TensorFlow.js has no int64)") \
            from None
    return ctx.constant(arr, suffix)


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


def invalid(ctx: EmitCtx, detail: str) -> InputError:
    """An ``InputError`` to raise for a node that breaks the ONNX spec: ``raise invalid(ctx, "group 0 ...")``."""
    return InputError(f"node '{ctx.name}' ({ctx.node.op_type}): {detail}")


def table(ctx: EmitCtx, count: int, what: str, itemsize: int = 8) -> None:
    """Check (before numpy allocates it) a constant of ``count`` elements computed from static shapes."""
    if count > MAX_TABLE_ELEMENTS:
        raise fail("attribute", f"{what} would be a constant of {count} elements (limit {MAX_TABLE_ELEMENTS})",
                   "export the model with smaller static dims, or dynamic ones")
    charge(count * itemsize, f"node '{ctx.name}' ({ctx.node.op_type}) {what}")


def positive_ints(ctx: EmitCtx, name: str, values: Sequence[int], n: int, minimum: int = 1) -> list[int]:
    """``values`` of attribute ``name``: ``n`` integers, each at least ``minimum``; else ``invalid``."""
    if len(values) != n or any(not isinstance(v, int) or v < minimum for v in values):
        shown = list(values)[:8]
        raise invalid(ctx, f"{name} {shown} must hold {n} integers >= {minimum}")
    return [int(v) for v in values]


def const_ints(ctx: EmitCtx, i: int, what: str) -> list[int]:
    """A constant integer input (axes, pads, sizes) as Python ints; float or nested values are invalid ONNX."""
    arr = ctx.need_const(i, what)
    if arr.dtype.kind not in "iu" or arr.ndim > 1:
        raise invalid(ctx, f"{what} must be a 1-D integer tensor (is {arr.dtype} of shape {list(arr.shape)})")
    return [int(v) for v in arr.reshape(-1)]


def const_scalar(ctx: EmitCtx, i: int, what: str) -> int:
    """A constant one-element input read as an integer (K, depth, axis); NaN, inf and many values are invalid."""
    arr = ctx.need_const(i, what)
    if arr.size != 1 or arr.dtype.kind not in "iufb" or not np.isfinite(arr.astype(np.float64)).all():
        raise invalid(ctx, f"{what} must be one finite number (is {arr.dtype} of shape {list(arr.shape)})")
    return int(arr.reshape(-1)[0])
