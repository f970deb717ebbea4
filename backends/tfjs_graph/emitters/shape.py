"""Shape ops: Reshape, Flatten, Transpose, Concat, Split, Squeeze, Unsqueeze, Expand, Tile, Shape, Size."""

from __future__ import annotations

import math

import numpy as np

from backends.tfjs_graph.emitters.common import I32, const_ints, int_const, invalid, normalize_axis, t_attr
from backends.tfjs_graph.graph import Attr, Shape
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail


def _static(shape: Shape | None) -> list[int] | None:
    """The shape as ints when every dim is known."""
    if shape is None or any(d is None for d in shape):
        return None
    return [int(d) for d in shape]  # type: ignore[arg-type]


# The most dims a TensorFlow tensor may have (kMaxDims).
_MAX_RANK = 254


def _reshape(ctx: EmitCtx, ref: str, shape: str, suffix: str = "") -> str:
    return ctx.add("Reshape", [ref, shape], t_attr(ctx), suffix=suffix)


def _shape_of(ctx: EmitCtx, ref: str, suffix: str = "shape") -> str:
    return ctx.add("Shape", [ref], suffix=suffix)


def _zeros_copied(ctx: EmitCtx, shape: str, n: int | None) -> str:
    """ONNX Reshape: a 0 entry copies the input dim at the same index (allowzero=0).

    ``n``: the length of ``shape``; None when only known at run time (the indices are then a Range).
    """
    rank = ctx.rank(0)
    if n is not None:
        idx = int_const(ctx, [min(i, rank - 1) for i in range(n)], "zero_idx")
    else:
        count = ctx.add("Size", [shape], {"out_type": Attr.dtype("DT_INT32"), **I32}, suffix="shape_len")
        positions = ctx.add("Range", [int_const(ctx, 0, "range/start"), count, int_const(ctx, 1, "range/delta")],
                            {"Tidx": Attr.dtype("DT_INT32")}, suffix="positions")
        idx = ctx.add("Minimum", [positions, int_const(ctx, rank - 1, "last_axis")], I32, suffix="zero_idx")
    dims = ctx.add("GatherV2", [_shape_of(ctx, ctx.input(0)), idx, int_const(ctx, 0, "zero_axis")],
                   {"batch_dims": Attr.i(0), "Tparams": Attr.dtype("DT_INT32")}, suffix="in_dims")
    is_zero = ctx.add("Equal", [shape, int_const(ctx, 0, "zero")], I32, suffix="is_zero")
    return ctx.add("SelectV2", [is_zero, dims, shape], I32, suffix="shape")


@TFJS.rule("Reshape", produces={"Reshape", "Shape", "GatherV2", "Equal", "SelectV2", "Size", "Range", "Minimum"},
           limits=("a non-constant shape with 0 entries needs the input rank",))
def _emit_reshape(ctx: EmitCtx) -> None:
    """Reshape(data, shape; allowzero) -> reshaped."""
    allowzero = bool(ctx.attr("allowzero", 0))
    target = ctx.const(1)
    out = _static(ctx.out_shape())
    if out is not None:
        shape = int_const(ctx, out, "shape")
    elif target is not None:
        dims = [int(d) for d in target.reshape(-1)]
        in_shape = ctx.shape(0) or ()
        if not allowzero:
            dims = [int(in_shape[i] or 0) if d == 0 and i < len(in_shape) and in_shape[i] is not None else d
                    for i, d in enumerate(dims)]
        shape = int_const(ctx, dims, "shape")
        if not allowzero and 0 in dims:
            shape = _zeros_copied(ctx, shape, len(dims))
    else:
        shape = ctx.input(1)
        n = (ctx.shape(1) or (None,))[0]
        if n is not None and n > _MAX_RANK:
            raise fail("attribute", f"Reshape to rank {n} (TensorFlow allows {_MAX_RANK})")
        if not allowzero:
            shape = _zeros_copied(ctx, shape, n)
    ctx.set_output(0, _reshape(ctx, ctx.input(0), shape))


def _prod(dims: Shape) -> int | None:
    return None if any(d is None for d in dims) else math.prod(d for d in dims if d is not None)


@TFJS.rule("Flatten", produces={"Reshape", "Shape", "StridedSlice", "Prod", "ConcatV2"})
def _emit_flatten(ctx: EmitCtx) -> None:
    """Flatten(input; axis) -> output."""
    shape = ctx.shape(0)
    if shape is None:
        raise fail("dynamic_shape", "Flatten: the input rank must be known")
    rank = len(shape)
    axis = ctx.attr("axis", 1)
    axis = axis + rank if axis < 0 else axis
    outer, inner = _prod(shape[:axis]), _prod(shape[axis:])
    if outer is not None or inner is not None:
        target = int_const(ctx, [-1 if outer is None else outer, -1 if inner is None else inner], "shape")
    else:
        dims = _shape_of(ctx, ctx.input(0))
        parts = [_dim_prod(ctx, dims, 0, axis, "outer"), _dim_prod(ctx, dims, axis, rank, "inner")]
        target = ctx.add("ConcatV2", [*parts, int_const(ctx, 0, "axis")], {"N": Attr.i(2), **I32}, suffix="shape")
    ctx.set_output(0, _reshape(ctx, ctx.input(0), target))


def _dim_prod(ctx: EmitCtx, dims: str, begin: int, end: int, suffix: str) -> str:
    """prod(dims[begin:end]) as a 1-element int32 tensor."""
    part = ctx.add("StridedSlice", [dims, int_const(ctx, [begin], f"{suffix}/begin"),
                                    int_const(ctx, [end], f"{suffix}/end"), int_const(ctx, [1], f"{suffix}/strides")],
                   _mask_attrs(0, 0), suffix=f"{suffix}/dims")
    return ctx.add("Prod", [part, int_const(ctx, [0], f"{suffix}/axes")], {"keep_dims": Attr.b(True), **I32},
                   suffix=suffix)


def _mask_attrs(begin_mask: int, end_mask: int, shrink: int = 0) -> dict[str, Attr]:
    return {"begin_mask": Attr.i(begin_mask), "end_mask": Attr.i(end_mask), "ellipsis_mask": Attr.i(0),
            "new_axis_mask": Attr.i(0), "shrink_axis_mask": Attr.i(shrink)}


@TFJS.rule("Transpose", produces={"Transpose"})
def _emit_transpose(ctx: EmitCtx) -> None:
    """Transpose(data; perm) -> transposed."""
    rank = ctx.rank(0)
    perm = ctx.attr("perm") or list(range(rank))[::-1]
    if sorted(perm) != list(range(rank)):
        raise invalid(ctx, f"perm {perm[:8]} is not a permutation of the {rank} axes")
    ctx.set_output(0, ctx.add("Transpose", [ctx.input(0), int_const(ctx, perm, "perm")], t_attr(ctx)))


@TFJS.rule("Concat", produces={"ConcatV2"})
def _emit_concat(ctx: EmitCtx) -> None:
    """Concat(inputs...; axis) -> concat_result."""
    axis = normalize_axis(ctx.attr("axis"), ctx.rank(0))
    refs = ctx.inputs()
    attrs = {"N": Attr.i(len(refs)), **t_attr(ctx)}
    ctx.set_output(0, ctx.add("ConcatV2", [*refs, int_const(ctx, axis, "axis")], attrs))


@TFJS.rule("Split", produces={"SplitV", "Split", "Shape", "StridedSlice", "AddV2", "FloorDiv", "Mul", "Sub",
                              "Maximum", "Minimum"},
           limits=("split sizes must be constant",))
def _emit_split(ctx: EmitCtx) -> None:
    """Split(input, split?; axis, num_outputs) -> outputs..."""
    axis = normalize_axis(ctx.attr("axis", 0), ctx.rank(0))
    n = len(ctx.node.outputs)
    dim = (ctx.shape(0) or ())[axis]
    if ctx.has_input(1):
        sizes = const_ints(ctx, 1, "split sizes")
    elif dim is not None:
        chunk = -(-dim // n)
        sizes = [chunk] * (n - 1) + [dim - chunk * (n - 1)]
    elif ctx.attr("num_outputs") is not None:  # opset 18: chunks of ceil(dim / n), the last one smaller
        sizes_ref = _chunk_sizes(ctx, axis, n)
        ref = ctx.add("SplitV", [ctx.input(0), sizes_ref, int_const(ctx, axis, "axis")],
                      {"num_split": Attr.i(n), **t_attr(ctx)})
        _bind_outputs(ctx, ref, n)
        return
    else:  # before opset 18 the split must be even
        ref = ctx.add("Split", [int_const(ctx, axis, "axis"), ctx.input(0)], {"num_split": Attr.i(n), **t_attr(ctx)})
        _bind_outputs(ctx, ref, n)
        return
    ref = ctx.add("SplitV", [ctx.input(0), int_const(ctx, sizes, "sizes"), int_const(ctx, axis, "axis")],
                  {"num_split": Attr.i(n), **t_attr(ctx)})
    _bind_outputs(ctx, ref, n)


def _chunk_sizes(ctx: EmitCtx, axis: int, n: int) -> str:
    """min(max(dim - k * c, 0), c) for k < n with c = ceil(dim / n), dim the run-time size of ``axis``."""
    dims = _shape_of(ctx, ctx.input(0), "chunk/shape")
    dim = ctx.add("StridedSlice", [dims, int_const(ctx, [axis], "chunk/begin"), int_const(ctx, [axis + 1], "chunk/end"),
                                   int_const(ctx, [1], "chunk/strides")], {**_mask_attrs(0, 0), **I32},
                  suffix="chunk/dim")
    c = ctx.add("FloorDiv", [ctx.add("AddV2", [dim, int_const(ctx, n - 1, "chunk/n_m1")], I32, suffix="chunk/up"),
                             int_const(ctx, n, "chunk/n")], I32, suffix="chunk/size")
    starts = ctx.add("Mul", [c, int_const(ctx, list(range(n)), "chunk/k")], I32, suffix="chunk/starts")
    rest = ctx.add("Sub", [dim, starts], I32, suffix="chunk/rest")
    rest = ctx.add("Maximum", [rest, int_const(ctx, 0, "chunk/zero")], I32, suffix="chunk/nonneg")
    return ctx.add("Minimum", [rest, c], I32, suffix="chunk/sizes")


def _bind_outputs(ctx: EmitCtx, ref: str, n: int) -> None:
    for j in range(n):
        ctx.set_output(j, ref if j == 0 else f"{ref}:{j}")


@TFJS.rule("Squeeze", produces={"Squeeze"}, limits=("axes must be constant",))
def _emit_squeeze(ctx: EmitCtx) -> None:
    """Squeeze(data, axes?) -> squeezed."""
    shape = ctx.shape(0)
    attrs = t_attr(ctx)
    if ctx.has_input(1):
        rank = ctx.rank(0)
        axes = sorted(normalize_axis(a, rank) for a in const_ints(ctx, 1, "axes"))
        attrs["squeeze_dims"] = Attr.ints(axes)
    elif shape is not None and None not in shape:
        attrs["squeeze_dims"] = Attr.ints(i for i, d in enumerate(shape) if d == 1)
    # else: no attr, tfjs squeezes every runtime dim of size 1, as ONNX does
    ctx.set_output(0, ctx.add("Squeeze", [ctx.input(0)], attrs))


@TFJS.rule("Unsqueeze", produces={"ExpandDims"}, limits=("axes must be constant",))
def _emit_unsqueeze(ctx: EmitCtx) -> None:
    """Unsqueeze(data, axes) -> expanded."""
    axes = const_ints(ctx, 1, "axes")
    out_rank = ctx.rank(0) + len(axes)
    ref = ctx.input(0)
    for k, axis in enumerate(sorted(normalize_axis(a, out_rank) for a in axes)):
        ref = ctx.add("ExpandDims", [ref, int_const(ctx, axis, f"axis{k}")], t_attr(ctx), suffix=f"expand{k}")
    ctx.set_output(0, ref)


@TFJS.rule("Expand", produces={"BroadcastTo", "Fill", "Mul", "LogicalAnd"},
           limits=("BroadcastTo is composed from Tile in tfjs-core (no kernel of its own)",))
def _emit_expand(ctx: EmitCtx) -> None:
    """Expand(input, shape) -> output."""
    out = _static(ctx.out_shape())
    if out is not None:
        ref = ctx.add("BroadcastTo", [ctx.input(0), int_const(ctx, out, "shape")], t_attr(ctx))
        ctx.set_output(0, ref)
        return
    # Bidirectional broadcast with an unknown result shape: combine with a filled tensor.
    is_bool = ctx.out_dtype() == "DT_BOOL"
    one = ctx.constant(np.array(True) if is_bool else np.array(1, dtype=_np_dtype(ctx.out_dtype())), "one")
    shape = ctx.const(1)
    shape_ref = int_const(ctx, shape.reshape(-1), "shape") if shape is not None else ctx.input(1)
    ones = ctx.add("Fill", [shape_ref, one], t_attr(ctx), suffix="ones")
    op = "LogicalAnd" if is_bool else "Mul"
    ctx.set_output(0, ctx.add(op, [ctx.input(0), ones], {} if is_bool else t_attr(ctx)))


def _np_dtype(tf: str) -> type:
    return {"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_BOOL": np.bool_}[tf]


@TFJS.rule("Tile", produces={"Tile"})
def _emit_tile(ctx: EmitCtx) -> None:
    """Tile(input, repeats) -> output."""
    reps = ctx.const(1)
    reps_ref = int_const(ctx, reps.reshape(-1), "reps") if reps is not None else ctx.input(1)
    ctx.set_output(0, ctx.add("Tile", [ctx.input(0), reps_ref], t_attr(ctx)))


@TFJS.rule("Shape", produces={"Shape", "Slice"})
def _emit_shape(ctx: EmitCtx) -> None:
    """Shape(data; start, end) -> shape."""
    shape = ctx.shape(0)
    if shape is None:
        raise fail("dynamic_shape", "Shape: the input rank must be known")
    rank = len(shape)
    start = min(max(ctx.attr("start", 0) + (rank if ctx.attr("start", 0) < 0 else 0), 0), rank)
    end_attr = ctx.attr("end", rank)
    end = min(max(end_attr + (rank if end_attr < 0 else 0), start), rank)
    dims = shape[start:end]
    if None not in dims:
        ctx.set_output(0, int_const(ctx, [int(d or 0) for d in dims], "value"))
        return
    ref = _shape_of(ctx, ctx.input(0), "")
    if (start, end) != (0, rank):
        ref = ctx.add("Slice", [ref, int_const(ctx, [start], "begin"), int_const(ctx, [end - start], "size")],
                      I32, suffix="slice")
    ctx.set_output(0, ref)


@TFJS.rule("Size", produces={"Size"})
def _emit_size(ctx: EmitCtx) -> None:
    """Size(data) -> size."""
    shape = ctx.shape(0)
    if shape is not None and None not in shape:
        ctx.set_output(0, int_const(ctx, np.array(math.prod(d for d in shape if d is not None)), "value"))
        return
    ctx.set_output(0, ctx.add("Size", [ctx.input(0)]))
