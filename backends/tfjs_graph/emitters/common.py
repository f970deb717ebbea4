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


# -- run-time shape arithmetic (sizes only known when the model runs) ---------------------------------------------
# Every helper returns a 1-D int32 tensor (a shape or part of one); ops used: Shape, StridedSlice, ConcatV2,
# BroadcastArgs, Cast, Mul, Floor. Rules that call them must list those ops in ``produces``.
RUNTIME_SHAPE_OPS = frozenset({"Shape", "StridedSlice", "ConcatV2", "BroadcastArgs"})
I32 = {"T": Attr.dtype("DT_INT32")}  # the attrs of an int32 op


def runtime_shape(ctx: EmitCtx, ref: str, suffix: str = "rt_shape") -> str:
    """``Shape(ref)`` as int32: the run-time shape of a tensor."""
    return ctx.add("Shape", [ref], {"out_type": Attr.dtype("DT_INT32")}, suffix=suffix)


def dims_slice(ctx: EmitCtx, shape: str, begin: int, end: int | None, suffix: str) -> str:
    """``shape[begin:end]`` of a 1-D int32 shape tensor (``end`` None: to the end; negative indices count back)."""
    attrs = {"begin_mask": Attr.i(0), "end_mask": Attr.i(1 if end is None else 0), "ellipsis_mask": Attr.i(0),
             "new_axis_mask": Attr.i(0), "shrink_axis_mask": Attr.i(0), **I32}
    inputs = [shape, int_const(ctx, [begin], f"{suffix}/begin"), int_const(ctx, [end or 0], f"{suffix}/end"),
              int_const(ctx, [1], f"{suffix}/strides")]
    return ctx.add("StridedSlice", inputs, attrs, suffix=suffix)


def dim_at(ctx: EmitCtx, shape: str, i: int, suffix: str) -> str:
    """``shape[i:i+1]``: one dim of a run-time shape, as a 1-element vector."""
    return dims_slice(ctx, shape, i, None if i == -1 else i + 1, suffix)


def concat_dims(ctx: EmitCtx, parts: Sequence[str | Sequence[int]], suffix: str) -> str:
    """A shape vector from run-time parts (tensor refs) and static parts (lists of ints), concatenated."""
    refs = [p if isinstance(p, str) else int_const(ctx, list(p), f"{suffix}/part{k}")
            for k, p in enumerate(parts) if isinstance(p, str) or len(p)]
    if len(refs) == 1:
        return refs[0]
    if not refs:
        return int_const(ctx, np.zeros(0, np.int64), suffix)
    return ctx.add("ConcatV2", [*refs, int_const(ctx, 0, f"{suffix}/axis")], {"N": Attr.i(len(refs)), **I32},
                   suffix=suffix)


def dims_ref(ctx: EmitCtx, ref: str, dims: Sequence[int | str | None], begin: int, end: int | None, suffix: str,
             shape: str | None = None) -> str:
    """``shape(ref)[begin:end]``: a constant when those dims are static, else read at run time.

    ``shape``: the run-time shape of ``ref`` when the caller already has it.
    """
    part = list(dims)[begin:end]
    if all(isinstance(d, int) for d in part):
        return int_const(ctx, np.asarray(part, dtype=np.int64), suffix)
    return dims_slice(ctx, shape or runtime_shape(ctx, ref, f"{suffix}/shape"), begin, end, suffix)


def broadcast_shapes(ctx: EmitCtx, a: str, b: str, suffix: str) -> str:
    """The numpy broadcast of two 1-D shape tensors (``BroadcastArgs``; either may be shorter)."""
    return ctx.add("BroadcastArgs", [a, b], I32, suffix=suffix)
