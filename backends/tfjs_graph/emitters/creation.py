"""Creation ops: Constant, ConstantOfShape, Range, OneHot, EyeLike."""

from __future__ import annotations

import numpy as np
import onnx_ir as ir

from backends.tfjs_graph.emitters.common import I32, const_scalar, int_const, invalid, normalize_axis, t_attr, table
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail, tf_dtype


@TFJS.rule("Constant", produces=set(), limits=("string and sparse values are not supported",))
def _emit_constant(ctx: EmitCtx) -> None:
    """Constant(; value, value_float, value_floats, value_int, value_ints) -> output."""
    for name, dtype in (("value_float", np.float32), ("value_floats", np.float32), ("value_int", np.int64),
                        ("value_ints", np.int64)):
        v = ctx.attr(name)
        if v is not None:
            ctx.set_output(0, ctx.constant(np.asarray(v, dtype=dtype), "value"))
            return
    tensor = ctx.attr("value")
    if tensor is None:
        raise fail("attribute", "Constant: only value, value_float(s) and value_int(s) are supported")
    tf_dtype(tensor.dtype)
    ctx.set_output(0, ctx.constant(tensor.numpy(), "value"))


def _shape_input(ctx: EmitCtx, i: int) -> str:
    """A shape-like int input as a Const when known, else the computed tensor."""
    value = ctx.const(i)
    return int_const(ctx, value.reshape(-1), "shape") if value is not None else ctx.input(i)


@TFJS.rule("ConstantOfShape", produces={"Fill"})
def _emit_constant_of_shape(ctx: EmitCtx) -> None:
    """ConstantOfShape(input; value) -> output."""
    tensor = ctx.attr("value")
    value = tensor.numpy().reshape(-1)[0] if tensor is not None else np.float32(0)
    fill = ctx.constant(np.asarray(value), "value")
    ctx.set_output(0, ctx.add("Fill", [_shape_input(ctx, 0), fill], t_attr(ctx)))


@TFJS.rule("Range", produces={"Range", "Maximum", "Greater", "SelectV2"})
def _emit_range(ctx: EmitCtx) -> None:
    """Range(start, limit, delta) -> output; start, limit and delta may be computed at run time.

    tfjs returns no values for limit < start only when delta > 1 (and flips delta = 1 to -1): for a positive
    delta the limit is raised to the start, which gives the empty range ONNX defines.
    """
    dtype = ctx.out_dtype()
    t = {"T": Attr.dtype(dtype)}
    start, limit, delta = ctx.const(0), ctx.const(1), ctx.const(2)
    if any(v is not None and v.size != 1 for v in (start, limit, delta)):
        raise invalid(ctx, "start, limit and delta must be scalars")
    start_ref, limit_ref, delta_ref = ctx.inputs()
    static = start is not None and limit is not None
    descending = static and float(limit.reshape(-1)[0]) < float(start.reshape(-1)[0])  # type: ignore[union-attr]
    # A negative delta needs nothing (tfjs returns no values for start < limit), nor static start <= limit.
    if (delta is None or float(delta.reshape(-1)[0]) > 0) and (descending or not static):
        raised = start_ref if static else ctx.add("Maximum", [limit_ref, start_ref], t, suffix="limit_raised")
        if delta is None:  # the sign of delta is known at run time only
            zero = ctx.constant(np.zeros((), np.float32 if dtype == "DT_FLOAT" else np.int32), "zero")
            positive = ctx.add("Greater", [delta_ref, zero], t, suffix="delta_positive")
            raised = ctx.add("SelectV2", [positive, raised, limit_ref], t, suffix="limit")
        limit_ref = raised
    ctx.set_output(0, ctx.add("Range", [start_ref, limit_ref, delta_ref], {"Tidx": Attr.dtype(dtype)}))



def _onehot_indices(ctx: EmitCtx, depth: int) -> str:
    """Indices as int32 with negatives wrapped (ONNX wraps them, tfjs gives all-off rows)."""
    idx = ctx.const(0)
    if idx is not None:
        wrapped = np.where(idx < 0, idx + depth, idx)
        return ctx.constant(np.trunc(wrapped).astype(np.int64), "indices")
    ref = ctx.input(0)
    if ctx.dtype(0) not in (ir.DataType.INT32, ir.DataType.INT64, ir.DataType.INT8, ir.DataType.INT16,
                            ir.DataType.UINT8, ir.DataType.UINT16):
        ref = ctx.add("Cast", [ref], {"SrcT": Attr.dtype(tf_dtype(ctx.dtype(0))), "DstT": Attr.dtype("DT_INT32")},
                      suffix="cast")
    neg = ctx.add("Less", [ref, int_const(ctx, 0, "zero")], I32, suffix="negative")
    shifted = ctx.add("AddV2", [ref, int_const(ctx, depth, "depth_shift")], I32, suffix="shifted")
    return ctx.add("SelectV2", [neg, shifted, ref], I32, suffix="indices")


def _onehot_values(ctx: EmitCtx) -> tuple[str, str]:
    """(on, off) as 1-element tensors."""
    values = ctx.const(2)
    if values is not None:
        flat = values.reshape(-1)
        return ctx.constant(flat[1:2], "on"), ctx.constant(flat[0:1], "off")
    on, off = (ctx.add("Slice", [ctx.input(2), int_const(ctx, [k], f"{name}/begin"),
                                 int_const(ctx, [1], f"{name}/size")], t_attr(ctx), suffix=name)
               for k, name in ((1, "on"), (0, "off")))
    return on, off


def _is_01(ctx: EmitCtx) -> bool:
    values = ctx.const(2)
    return values is not None and values.reshape(-1).tolist() == [0, 1]


@TFJS.rule("OneHot", produces={"OneHot", "Transpose", "Cast", "Less", "AddV2", "SelectV2", "Slice"},
           limits=("depth must be constant",))
def _emit_onehot(ctx: EmitCtx) -> None:
    """OneHot(indices, depth, values; axis) -> output."""
    depth = const_scalar(ctx, 1, "depth")
    rank = ctx.rank(0) + 1
    axis = normalize_axis(ctx.attr("axis", -1), rank)
    dtype = ctx.out_dtype()
    indices = _onehot_indices(ctx, depth)
    # The wasm OneHot kernel always writes int32 data: build a 0/1 int32 one-hot, then map it.
    if dtype == "DT_INT32":
        on, off = _onehot_values(ctx)
    else:
        on, off = int_const(ctx, [1], "one"), int_const(ctx, [0], "zero")
    ref = ctx.add("OneHot", [indices, int_const(ctx, depth, "depth"), on, off], {"axis": Attr.i(-1), **I32},
                  suffix="onehot")
    if dtype != "DT_INT32":
        ref = _map_onehot(ctx, ref, dtype)
    if axis != rank - 1:
        # tfjs always appends the depth axis last: move it into place.
        perm = [*range(axis), rank - 1, *range(axis, rank - 1)]
        ref = ctx.add("Transpose", [ref, int_const(ctx, perm, "perm")], t_attr(ctx), suffix="transpose")
    ctx.set_output(0, ref)


def _map_onehot(ctx: EmitCtx, hot: str, dtype: str) -> str:
    """0/1 int32 -> the output dtype and the on/off values."""
    def cast(to: str, suffix: str) -> str:
        return ctx.add("Cast", [hot], {"SrcT": Attr.dtype("DT_INT32"), "DstT": Attr.dtype(to)}, suffix=suffix)

    if _is_01(ctx):
        return cast(dtype, "cast")
    on, off = _onehot_values(ctx)
    return ctx.add("SelectV2", [cast("DT_BOOL", "mask"), on, off], t_attr(ctx), suffix="select")


@TFJS.rule("EyeLike", produces=set(), limits=("the input shape must be static",))
def _emit_eye_like(ctx: EmitCtx) -> None:
    """EyeLike(input; dtype, k) -> output."""
    shape = ctx.shape(0)
    if shape is None or len(shape) != 2 or None in shape:
        raise fail("dynamic_shape", "EyeLike: the input shape must be static")
    rows, cols = (int(d) for d in shape if d is not None)
    dtype = {"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_BOOL": np.bool_}[ctx.out_dtype()]
    table(ctx, rows * cols, "the identity matrix", 4)
    ctx.set_output(0, ctx.constant(np.eye(rows, cols, k=ctx.attr("k", 0), dtype=dtype), "value"))
