"""Slicing and indexing ops: Slice, Gather, GatherElements, GatherND, ScatterND, ScatterElements, Pad."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import onnx_ir as ir

from backends.tfjs_graph.emitters.common import I32, const_ints, int_const, invalid, normalize_axis, t_attr, table
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail

_I32_MIN, _I32_MAX = -(2**31), 2**31 - 1


def _clamp32(v: int) -> int:
    """ONNX 'to the end' sentinels (INT64_MAX/MIN) clamp to int32 without changing the result."""
    return min(max(int(v), _I32_MIN), _I32_MAX)


def _masks(begin_mask: int, end_mask: int, shrink_mask: int = 0) -> dict[str, Attr]:
    return {"begin_mask": Attr.i(begin_mask), "end_mask": Attr.i(end_mask), "ellipsis_mask": Attr.i(0),
            "new_axis_mask": Attr.i(0), "shrink_axis_mask": Attr.i(shrink_mask)}


def _strided(ctx: EmitCtx, x: str, begin: str, end: str, strides: Sequence[int], masks: tuple[int, int],
             suffix: str = "", shrink_mask: int = 0) -> str:
    inputs = [x, begin, end, int_const(ctx, list(strides), f"{suffix}/strides" if suffix else "strides")]
    return ctx.add("StridedSlice", inputs, {**_masks(*masks, shrink_mask), **t_attr(ctx)}, suffix=suffix)


def _slice_start(start: int, step: int, dim: int | None) -> int | None:
    """Begin index for StridedSlice; differs from ONNX only for a negative step and start < -dim.

    None: that begin is max(start + dim, 0) with a dim known only at run time (``_run_time_begin``).
    """
    if step > 0 or start >= -1:
        return _clamp32(start)
    if dim is not None:
        return start + dim if start + dim >= 0 else 0
    if start <= _I32_MIN:
        return 0  # ONNX clamps to the first element
    return None


def _strided_rows(shape: Sequence[int], cuts: dict[int, tuple[int, int, int]]) -> list[tuple[int, int, int]] | None:
    """(dim, begin, size) rows of a contiguous Slice equal to a strided slice of ``shape``, fewest rows first.

    An axis of size n cut with step k > 1 (n divisible by k) is seen as [n/k, k]: the step becomes a
    column index. Full axes merge into the axis before them and size-1 axes drop. None: no such form.
    """
    rows: list[tuple[int, int, int]] = []
    for a, n in enumerate(shape):
        start, stop, step = cuts.get(a, (0, n, 1))
        picked = range(n)[int(start):int(stop):int(step)] if -(2 ** 62) < start < 2 ** 62 else None
        if picked is None or len(picked) == 0:
            return None
        first, count = picked[0], len(picked)
        if step == 1 or count == 1:
            rows.append((n, first, count))
        elif n % step == 0:
            rows += [(n // step, first // step, count), (step, first % step, 1)]
        else:
            return None
    merged: list[tuple[int, int, int]] = []
    for dim, begin, size in rows:
        if dim == 1:
            continue
        if merged and begin == 0 and size == dim:
            d, b, z = merged[-1]
            merged[-1] = (d * dim, b * dim, z * dim)
        else:
            merged.append((dim, begin, size))
    return merged


def _strides_as_slice(ctx: EmitCtx, x: str, shape: Sequence[int | None],
                      cuts: dict[int, tuple[int, int, int]]) -> str | None:
    """A Slice with steps > 1 as Reshape + contiguous Slice + Reshape.

    tfjs-wasm runs a strided StridedSlice element by element (Swin's patch merging: 35 ms for a
    [1,56,56,48] input); its Slice copies rows, and runs rank <= 4 without its generic path.
    """
    out = [int(d) for d in ctx.out_shape() or () if d is not None]
    dims_in = [int(d) for d in shape if d is not None]
    if len(out) != len(shape) or len(dims_in) != len(shape) or all(st == 1 for _, _, st in cuts.values()) \
            or any(st < 1 for _, _, st in cuts.values()):
        return None
    rows = _strided_rows(dims_in, {a: (int(b), int(e), int(st)) for a, (b, e, st) in cuts.items()})
    if rows is None or not 0 < len(rows) <= 4:
        return None
    dims, begin, size = ([r[i] for r in rows] for i in range(3))
    y = ctx.add("Reshape", [x, int_const(ctx, dims, "rows/shape")], t_attr(ctx), suffix="rows")
    y = ctx.add("Slice", [y, int_const(ctx, begin, "rows/begin"), int_const(ctx, size, "rows/size")], t_attr(ctx),
                suffix="rows/slice")
    return ctx.add("Reshape", [y, int_const(ctx, out, "shape")], t_attr(ctx))


def _run_time_begin(ctx: EmitCtx, begin: list[int], late: dict[int, int]) -> str:
    """``begin`` with the axes of ``late`` (axis -> negative start) set to max(start + dim, 0) at run time."""
    rank = len(begin)
    mask = [1 if a in late else 0 for a in range(rank)]
    starts = [late.get(a, b) for a, b in enumerate(begin)]
    dims = ctx.add("Shape", [ctx.input(0)], {"out_type": Attr.dtype("DT_INT32")}, suffix="begin/shape")
    shifted = ctx.add("AddV2", [int_const(ctx, starts, "begin/starts"),
                                ctx.add("Mul", [dims, int_const(ctx, mask, "begin/mask")], I32, suffix="begin/dims")],
                      I32, suffix="begin/shifted")
    lower = [0 if a in late else _I32_MIN for a in range(rank)]
    return ctx.add("Maximum", [shifted, int_const(ctx, lower, "begin/lower")], I32, suffix="begin")


@TFJS.rule("Slice", produces={"StridedSlice", "ConcatV2", "GatherV2", "Shape", "Mul", "AddV2", "Maximum", "ReverseV2",
                            "Identity", "Reshape", "Slice"},
           limits=("axes and steps must be constant", "non-constant starts/ends need positive steps"))
def _emit_slice(ctx: EmitCtx) -> None:
    """Slice(data, starts, ends, axes?, steps?) -> output."""
    shape = ctx.shape(0)
    if shape is None:
        raise fail("dynamic_shape", "Slice: the input rank must be known")
    rank = len(shape)
    n = (ctx.shape(1) or (None,))[0]
    starts, ends = ctx.const(1), ctx.const(2)
    if any(v is not None and v.dtype.kind not in "iu" for v in (starts, ends)):
        raise invalid(ctx, "starts and ends must be integer tensors")
    if n is None and starts is not None:
        n = starts.size
    if n is None:
        raise fail("dynamic_shape", "Slice: the number of starts must be known")
    if n > rank or any(v is not None and v.size != n for v in (starts, ends)):
        raise invalid(ctx, f"{n} starts for a rank-{rank} input (and as many ends)")
    axes = [normalize_axis(a, rank) for a in const_ints(ctx, 3, "axes")] if ctx.has_input(3) \
        else list(range(n))
    steps = const_ints(ctx, 4, "steps") if ctx.has_input(4) else [1] * n
    if len(axes) != n or len(steps) != n or len(set(axes)) != n:
        raise invalid(ctx, f"axes {axes[:8]} and steps {steps[:8]} must hold {n} values, axes without repeats")
    if 0 in steps:
        raise fail("attribute", "Slice: a step of 0 is invalid")
    strides = [1] * rank
    for a, st in zip(axes, steps, strict=True):
        strides[a] = _clamp32(st)
    free = sum(1 << i for i in range(rank) if i not in axes)
    end_free, x = free, ctx.input(0)
    if starts is not None and ends is not None:
        begin, end, late = [0] * rank, [0] * rank, {}
        for a, s, e, st in zip(axes, starts.reshape(-1), ends.reshape(-1), steps, strict=True):
            b = _slice_start(int(s), st, shape[a])
            if b is None:
                late[a] = int(s)
            begin[a], end[a] = b or 0, _clamp32(int(e))
            if st < 0 and (e <= _I32_MIN or (shape[a] is not None and e < -int(shape[a] or 0))):
                # Backwards through index 0: an end mask, not a huge negative end (tfjs-wasm's int32 StridedSlice
                # gets that end wrong).
                end_free |= 1 << a
        flips = _integer_flips(ctx, axes, starts.reshape(-1), steps, end_free)
        if flips:
            x = ctx.add("ReverseV2", [x, int_const(ctx, flips, "flip/axes")], t_attr(ctx), suffix="flip")
            for a in flips:
                strides[a], begin[a], end[a] = 1, 0, 0
            free, end_free = free | sum(1 << a for a in flips), end_free | sum(1 << a for a in flips)
            if free == (1 << rank) - 1 and all(st == 1 for st in strides):
                ctx.set_output(0, ctx.add("Identity", [x], t_attr(ctx)))
                return
        plain = _strides_as_slice(ctx, x, shape, dict(zip(axes, zip(starts.reshape(-1), ends.reshape(-1), steps,
                                                                       strict=True), strict=True)))
        if plain is not None and not late and not flips:
            ctx.set_output(0, plain)
            return
        refs = _run_time_begin(ctx, begin, late) if late else int_const(ctx, begin, "begin"), \
            int_const(ctx, end, "end")
    else:
        if any(st < 0 for st in steps):
            raise fail("needs_constant_input", "Slice: starts/ends must be constant with a negative step")
        refs = _full_index(ctx, 1, axes, rank, "begin"), _full_index(ctx, 2, axes, rank, "end")
    ctx.set_output(0, _strided(ctx, x, refs[0], refs[1], strides, (free, end_free)))


def _integer_flips(ctx: EmitCtx, axes: Sequence[int], starts: np.ndarray, steps: Sequence[int], end_free: int
                   ) -> list[int]:
    """The axes to flip with ReverseV2 instead of a negative stride, or none.

    Only for an integer input whose every negative step reverses a whole axis (``x[::-1]``, torch's pad
    bookkeeping): tfjs-wasm's StridedSlice with a stride other than 1 returns int32 data as float32.
    """
    if ctx.dtype(0) in (ir.DataType.FLOAT, None):
        return []
    negative = [(a, int(s), st) for a, s, st in zip(axes, starts, steps, strict=True) if st < 0]
    dims: Sequence[int | None] = ctx.shape(0) or []
    whole = [a for a, s, st in negative if st == -1 and end_free >> a & 1
             and (s == -1 or s >= _I32_MAX or (dims[a] is not None and s >= int(dims[a] or 0) - 1))]
    return sorted(whole) if negative and len(whole) == len(negative) else []


def _full_index(ctx: EmitCtx, i: int, axes: list[int], rank: int, suffix: str) -> str:
    """A rank-long begin/end vector from a run-time starts/ends input (0 on the free axes)."""
    if axes == list(range(rank)):
        return ctx.input(i)
    inputs = [ctx.input(i), int_const(ctx, [0], f"{suffix}/zero"), int_const(ctx, 0, f"{suffix}/axis")]
    padded = ctx.add("ConcatV2", inputs, {"N": Attr.i(2), **I32}, suffix=f"{suffix}/padded")
    where = [axes.index(d) if d in axes else len(axes) for d in range(rank)]
    return _gather(ctx, padded, int_const(ctx, where, f"{suffix}/idx"), 0, f"{suffix}/full", I32)


def _gather(ctx: EmitCtx, x: str, idx: str, axis: int, suffix: str = "", attrs: dict[str, Attr] | None = None) -> str:
    return ctx.add("GatherV2", [x, idx, int_const(ctx, axis, f"{suffix}/axis" if suffix else "axis")],
                   {"batch_dims": Attr.i(0), **(attrs if attrs is not None else t_attr(ctx))}, suffix=suffix)


def _dim_ref(ctx: EmitCtx, dims: Sequence[int | None], axes: Sequence[int], suffix: str) -> str:
    """The sizes of ``axes`` of input 0, as a constant when known, else read with Shape."""
    if all(dims[a] is not None for a in axes):
        return int_const(ctx, [int(dims[a] or 0) for a in axes] if len(axes) != 1 else int(dims[axes[0]] or 0), suffix)
    shape = ctx.add("Shape", [ctx.input(0)], suffix=f"{suffix}/shape")
    idx = int_const(ctx, list(axes) if len(axes) != 1 else axes[0], f"{suffix}/idx")
    return _gather(ctx, shape, idx, 0, suffix, I32)


def _wrapped(ctx: EmitCtx, i: int, dims: Sequence[int | None], axes: Sequence[int], suffix: str = "indices") -> str:
    """Indices input ``i`` with negative values wrapped (tfjs gathers do not wrap them)."""
    idx = ctx.const(i)
    if any(not 0 <= a < len(dims) for a in axes):
        raise invalid(ctx, f"indices reach axes {list(axes)} of a rank-{len(dims)} input")
    if idx is not None and (all(dims[a] is not None for a in axes) or not (idx < 0).any()):
        sizes = np.array([dims[a] or 0 for a in axes], dtype=np.int64)
        sizes = sizes[0] if len(axes) == 1 else sizes
        return ctx.constant(np.where(idx < 0, idx + sizes, idx).astype(np.int64), suffix)
    # In-range indices are in [-d, d-1], where floor-mod by d is exact.
    return ctx.add("FloorMod", [ctx.input(i), _dim_ref(ctx, dims, axes, f"{suffix}/dims")], I32, suffix=suffix)


@TFJS.rule("Gather", produces={"GatherV2", "FloorMod", "Shape", "StridedSlice"})
def _emit_gather(ctx: EmitCtx) -> None:
    """Gather(data, indices; axis) -> output."""
    shape = ctx.shape(0)
    if shape is None:
        raise fail("dynamic_shape", "Gather: the input rank must be known")
    axis = normalize_axis(ctx.attr("axis", 0), len(shape))
    run = _constant_run(ctx, shape, axis)
    if run is not None and any(d is None for d in shape):
        ctx.set_output(0, _run_slice(ctx, len(shape), axis, run))
        return
    ctx.set_output(0, _gather(ctx, ctx.input(0), _wrapped(ctx, 1, shape, [axis]), axis))


def _constant_run(ctx: EmitCtx, dims: Sequence[int | None], axis: int) -> tuple[int, int, bool] | None:
    """(start, count, scalar) when the indices are a constant scalar or an ascending run of constants, else None."""
    idx = ctx.const(1)
    if idx is None or idx.ndim > 1 or idx.size == 0:
        return None
    values = idx.reshape(-1).astype(np.int64)
    if (values < 0).any():
        if dims[axis] is None:
            return None
        values = np.where(values < 0, values + int(dims[axis] or 0), values)
    start = int(values[0])
    if start < 0 or start + values.size > _I32_MAX or not np.array_equal(values, start + np.arange(values.size)):
        return None
    return start, int(values.size), idx.ndim == 0


def _run_slice(ctx: EmitCtx, rank: int, axis: int, run: tuple[int, int, bool]) -> str:
    """A constant run of indices on an input with a run-time dim, as a StridedSlice.

    tfjs-wasm's GatherV2 of an empty tensor returns a wrong shape (a detector's pyramid level without boxes),
    and a slice copies less.
    """
    start, count, scalar = run
    begin, end = [0] * rank, [0] * rank
    begin[axis], end[axis] = start, start + count
    free = ((1 << rank) - 1) & ~(1 << axis)
    return _strided(ctx, ctx.input(0), int_const(ctx, begin, "begin"), int_const(ctx, end, "end"), [1] * rank,
                    (free, free), shrink_mask=(1 << axis) if scalar else 0)


def _grid(ctx: EmitCtx, shape: Sequence[int], dims: Sequence[int]) -> np.ndarray:
    """Coordinates along ``dims`` for every position of ``shape``: shape + [len(dims)]."""
    table(ctx, math.prod(shape) * (len(shape) + len(dims)), "the coordinate grid")
    mesh = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
    return np.stack([mesh[d] for d in dims], axis=-1).astype(np.int64).reshape(*shape, len(dims))


def _positions(ctx: EmitCtx, ref: str, rank: int, dims: Sequence[int], suffix: str) -> dict[int, str]:
    """The position along each of ``dims`` at every element of ``ref``, whose shape is known at run time only.

    ``Range(dim)`` shaped to vary along its axis, broadcast against zeros of ``ref``: right on an empty ``ref`` too
    (tfjs-wasm's Cumsum of an empty tensor throws, e.g. a detector's pyramid level that receives no boxes).
    """
    shape = ctx.add("Shape", [ref], {"out_type": Attr.dtype("DT_INT32")}, suffix=f"{suffix}/shape")
    zeros = ctx.add("ZerosLike", [ref], I32, suffix=f"{suffix}/zeros")
    out = {}
    for d in dims:
        size = _strided(ctx, shape, int_const(ctx, [d], f"{suffix}/at{d}"), int_const(ctx, [d + 1], f"{suffix}/to{d}"),
                        [1], (0, 0), f"{suffix}/size{d}")
        bounds = [int_const(ctx, 0, f"{suffix}/start{d}"), size, int_const(ctx, 1, f"{suffix}/step{d}")]
        steps = ctx.add("Range", bounds, {"Tidx": Attr.dtype("DT_INT32")}, suffix=f"{suffix}/range{d}")
        along = [1] * d + [-1] + [1] * (rank - d - 1)
        column = ctx.add("Reshape", [steps, int_const(ctx, along, f"{suffix}/along{d}")], I32,
                         suffix=f"{suffix}/column{d}")
        out[d] = ctx.add("AddV2", [zeros, column], I32, suffix=f"{suffix}/pos{d}")
    return out


def _element_coords(ctx: EmitCtx, i: int, axis: int, suffix: str = "coords") -> str:
    """Full coordinates [*indices.shape, rank] with ``indices`` (input i) on ``axis``."""
    idx_shape = ctx.shape(i)
    if idx_shape is None:
        raise fail("dynamic_shape", "the indices rank must be known")
    rank = len(idx_shape)
    if rank != ctx.rank(0):
        raise invalid(ctx, f"indices have rank {rank} but data has rank {ctx.rank(0)} (they must be equal)")
    idx = _wrapped(ctx, i, ctx.shape(0) or (), [axis])
    if None in idx_shape:  # the coordinate grid is computed at run time
        pos = _positions(ctx, idx, rank, [d for d in range(rank) if d != axis], f"{suffix}/grid")
        parts = [ctx.add("ExpandDims", [pos.get(d, idx), int_const(ctx, -1, f"{suffix}/expand_axis{d}")], I32,
                         suffix=f"{suffix}/expand{d}") for d in range(rank)]
        if len(parts) == 1:
            return parts[0]
        return ctx.add("ConcatV2", [*parts, int_const(ctx, -1, f"{suffix}/axis")], {"N": Attr.i(len(parts)), **I32},
                       suffix=suffix)
    static = [int(d) for d in idx_shape if d is not None]
    value = ctx.graph.const_value(idx)
    if value is not None:
        coords = _grid(ctx, static, range(rank))
        coords[..., axis] = value
        return ctx.constant(coords, suffix)
    parts = [ctx.add("ExpandDims", [idx, int_const(ctx, -1, f"{suffix}/expand_axis")], I32, suffix=f"{suffix}/expand")]
    if axis > 0:
        parts.insert(0, ctx.constant(_grid(ctx, static, range(axis)), f"{suffix}/before"))
    if axis < rank - 1:
        parts.append(ctx.constant(_grid(ctx, static, range(axis + 1, rank)), f"{suffix}/after"))
    if len(parts) == 1:
        return parts[0]
    return ctx.add("ConcatV2", [*parts, int_const(ctx, -1, f"{suffix}/axis")], {"N": Attr.i(len(parts)), **I32},
                   suffix=suffix)


_COORD_OPS = {"GatherV2", "FloorMod", "Shape", "ExpandDims", "ConcatV2", "ZerosLike", "StridedSlice", "Range",
              "Reshape", "AddV2"}


@TFJS.rule("GatherElements", produces={"GatherNd", *_COORD_OPS}, limits=("the indices rank must be known",))
def _emit_gather_elements(ctx: EmitCtx) -> None:
    """GatherElements(data, indices; axis) -> output."""
    axis = normalize_axis(ctx.attr("axis", 0), ctx.rank(0))
    ctx.set_output(0, ctx.add("GatherNd", [ctx.input(0), _element_coords(ctx, 1, axis)], t_attr(ctx)))


@TFJS.rule("GatherND", produces={"GatherNd", *_COORD_OPS},
           limits=("the ranks and the last indices dim must be known",))
def _emit_gather_nd(ctx: EmitCtx) -> None:
    """GatherND(data, indices; batch_dims) -> output."""
    shape, idx_shape = ctx.shape(0), ctx.shape(1)
    if idx_shape is not None and not idx_shape:
        raise invalid(ctx, "indices must have rank 1 or more (has rank 0)")
    if shape is None or idx_shape is None or idx_shape[-1] is None:
        raise fail("dynamic_shape", "GatherND: the ranks and the last indices dim must be known")
    b, m = ctx.attr("batch_dims", 0), int(idx_shape[-1])
    if not 0 <= b < min(len(shape), len(idx_shape)):
        raise invalid(ctx, f"batch_dims {b} must be below the ranks of data and indices")
    idx = _wrapped(ctx, 1, shape, list(range(b, b + m)))
    if b > 0:
        if None in idx_shape:  # the batch coordinates of each index row, computed at run time
            pos = _positions(ctx, idx, len(idx_shape), list(range(b)), "batch")
            last = len(idx_shape) - 1
            batch = [_gather(ctx, pos[d], int_const(ctx, [0], f"batch/first{d}"), last, f"batch/col{d}", I32)
                     for d in range(b)]
        else:
            batch = [ctx.constant(_grid(ctx, [int(d) for d in idx_shape[:-1] if d is not None], range(b)), "batch")]
        idx = ctx.add("ConcatV2", [*batch, idx, int_const(ctx, -1, "concat_axis")],
                      {"N": Attr.i(len(batch) + 1), **I32}, suffix="full_indices")
    ctx.set_output(0, ctx.add("GatherNd", [ctx.input(0), idx], t_attr(ctx)))


def _scatter(ctx: EmitCtx, idx: str) -> None:
    """Replace (reduction none) or accumulate (reduction add) ``updates`` into ``data`` at ``idx``."""
    reduction = ctx.attr("reduction", "none")
    if reduction == "none":
        ctx.set_output(0, ctx.add("TensorScatterUpdate", [ctx.input(0), idx, ctx.input(2)], t_attr(ctx)))
    elif reduction == "add":
        # ScatterNd sums duplicate indices into zeros of the data shape.
        shape = ctx.add("Shape", [ctx.input(0)], suffix="shape")
        summed = ctx.add("ScatterNd", [idx, ctx.input(2), shape], t_attr(ctx), suffix="scatter")
        ctx.set_output(0, ctx.add("AddV2", [ctx.input(0), summed], t_attr(ctx)))
    else:
        raise fail("attribute", f"reduction={reduction} is not supported",
                   "TensorFlow.js scatters only replace or add values")


_SCATTER_OPS = {"TensorScatterUpdate", "ScatterNd", "AddV2", "Shape"}


@TFJS.rule("ScatterND", produces={*_SCATTER_OPS, "FloorMod", "GatherV2"},
           limits=("reduction must be none or add",))
def _emit_scatter_nd(ctx: EmitCtx) -> None:
    """ScatterND(data, indices, updates; reduction) -> output."""
    shape, idx_shape = ctx.shape(0), ctx.shape(1)
    if idx_shape is not None and not idx_shape:
        raise invalid(ctx, "indices must have rank 1 or more (has rank 0)")
    if shape is None or idx_shape is None or idx_shape[-1] is None:
        raise fail("dynamic_shape", "ScatterND: the ranks and the last indices dim must be known")
    _scatter(ctx, _wrapped(ctx, 1, shape, list(range(int(idx_shape[-1])))))


@TFJS.rule("ScatterElements", produces={*_SCATTER_OPS, *_COORD_OPS},
           limits=("reduction must be none or add", "the indices rank must be known"))
def _emit_scatter_elements(ctx: EmitCtx) -> None:
    """ScatterElements(data, indices, updates; axis, reduction) -> output."""
    axis = normalize_axis(ctx.attr("axis", 0), ctx.rank(0))
    _scatter(ctx, _element_coords(ctx, 1, axis))


def _pad_amounts(ctx: EmitCtx, rank: int) -> tuple[list[int], list[int]]:
    """Per-axis (before, after) pads from the pads and axes inputs."""
    pads = const_ints(ctx, 1, "pads")
    axes = list(range(rank))
    if ctx.has_input(3):
        axes = [normalize_axis(a, rank) for a in const_ints(ctx, 3, "axes")]
    if len(pads) != 2 * len(axes):
        raise invalid(ctx, f"{len(pads)} pads for {len(axes)} padded axes (2 per axis)")
    before, after = [0] * rank, [0] * rank
    for k, a in enumerate(axes):
        before[a], after[a] = pads[k], pads[k + len(axes)]
    return before, after


def _crop(ctx: EmitCtx, x: str, before: list[int], after: list[int]) -> str:
    """Negative pads remove elements: a StridedSlice that also works for unknown dims."""
    rank = len(before)
    begin = [max(-b, 0) for b in before]
    end = [min(a, 0) for a in after]
    end_mask = sum(1 << i for i in range(rank) if end[i] == 0)
    return _strided(ctx, x, int_const(ctx, begin, "crop/begin"), int_const(ctx, end, "crop/end"), [1] * rank,
                    (0, end_mask), "crop")


def _index_pad(ctx: EmitCtx, x: str, pads: list[tuple[int, int]], dims: list[int | None], mode: str) -> str:
    """Edge and wrap padding as one gather per padded axis with clamped / wrapped indices."""
    for a, (b, e) in enumerate(pads):
        if b == 0 and e == 0:
            continue
        d = dims[a]
        if d is None:
            raise fail("dynamic_shape", f"Pad mode={mode} needs the size of padded axis {a}")
        if d == 0:
            raise invalid(ctx, f"mode={mode} cannot pad the empty axis {a}")
        table(ctx, d + b + e, f"the pad indices of axis {a}")
        idx = np.arange(-b, d + e)
        idx = np.clip(idx, 0, d - 1) if mode == "edge" else idx % d
        x = _gather(ctx, x, int_const(ctx, idx, f"pad{a}/indices"), a, f"pad{a}")
    return x


def _pad_op(ctx: EmitCtx, x: str, paddings: str, mode: str) -> str:
    """PadV2 (constant) or MirrorPad (reflect) with a [rank, 2] paddings tensor."""
    if mode == "constant":
        value = ctx.input(2) if ctx.has_input(2) else ctx.constant(np.zeros((), _np_dtype(ctx.out_dtype())), "value")
        return ctx.add("PadV2", [x, paddings, value], t_attr(ctx))
    return ctx.add("MirrorPad", [x, paddings], {"mode": Attr.s("REFLECT"), **t_attr(ctx)})


def _run_time_paddings(ctx: EmitCtx, rank: int) -> str:
    """The [rank, 2] paddings from a pads input known only at run time ([b1.., e1..] -> [[b1, e1], ..])."""
    axes = [normalize_axis(a, rank) for a in const_ints(ctx, 3, "axes")] if ctx.has_input(3) else list(range(rank))
    n = (ctx.shape(1) or (None,))[0]
    if n is not None and n != 2 * len(axes):
        raise invalid(ctx, f"{n} pads for {len(axes)} padded axes (2 per axis)")
    pairs = ctx.add("Reshape", [ctx.input(1), int_const(ctx, [2, len(axes)], "pads/shape")], I32, suffix="pads/pairs")
    pairs = ctx.add("Transpose", [pairs, int_const(ctx, [1, 0], "pads/perm")], I32, suffix="pads/per_axis")
    if axes == list(range(rank)):
        return pairs
    zeros = int_const(ctx, np.zeros((1, 2), np.int64), "pads/zeros")
    padded = ctx.add("ConcatV2", [pairs, zeros, int_const(ctx, 0, "pads/axis")], {"N": Attr.i(2), **I32},
                     suffix="pads/padded")
    where = [axes.index(d) if d in axes else len(axes) for d in range(rank)]
    return _gather(ctx, padded, int_const(ctx, where, "pads/idx"), 0, "pads/full", I32)


def _run_time_crop(ctx: EmitCtx, x: str, paddings: str) -> tuple[str, str]:
    """Negative run-time pads remove elements: Slice them off, then pad by the positive parts only."""
    neg = ctx.add("Maximum", [ctx.add("Neg", [paddings], I32, suffix="crop/neg"), int_const(ctx, 0, "crop/zero")],
                  I32, suffix="crop/amounts")
    begin = _gather(ctx, neg, int_const(ctx, 0, "crop/first"), 1, "crop/begin", I32)
    removed = ctx.add("Sum", [neg, int_const(ctx, [1], "crop/sum_axis")], {"keep_dims": Attr.b(False), **I32},
                      suffix="crop/removed")
    size = ctx.add("Sub", [ctx.add("Shape", [x], {"out_type": Attr.dtype("DT_INT32")}, suffix="crop/shape"), removed],
                   I32, suffix="crop/size")
    cropped = ctx.add("Slice", [x, begin, size], {"Index": Attr.dtype("DT_INT32"), **t_attr(ctx)}, suffix="crop")
    positive = ctx.add("Maximum", [paddings, int_const(ctx, 0, "pads/zero")], I32, suffix="pads/positive")
    return cropped, positive


@TFJS.rule("Pad", produces={"PadV2", "MirrorPad", "GatherV2", "StridedSlice", "Reshape", "Transpose", "ConcatV2",
                            "Neg", "Maximum", "Sum", "Sub", "Shape", "Slice"},
           limits=("axes must be constant", "pads known only at run time: constant and reflect modes",
                   "edge and wrap modes need constant pads and the sizes of padded axes"))
def _emit_pad(ctx: EmitCtx) -> None:
    """Pad(data, pads, constant_value?, axes?; mode) -> output."""
    shape = ctx.shape(0)
    if shape is None:
        raise fail("dynamic_shape", "Pad: the input rank must be known")
    mode = ctx.attr("mode", "constant")
    if ctx.const(1) is None and mode in ("constant", "reflect"):
        x, paddings = _run_time_crop(ctx, ctx.input(0), _run_time_paddings(ctx, len(shape)))
        ctx.set_output(0, _pad_op(ctx, x, paddings, mode))
        return
    before, after = _pad_amounts(ctx, len(shape))
    x = ctx.input(0)
    dims = list(shape)
    if min(before + after, default=0) < 0:
        x = _crop(ctx, x, before, after)
        dims = [None if d is None else d + min(b, 0) + min(e, 0) for d, b, e in zip(shape, before, after, strict=True)]
    pads = [(max(b, 0), max(e, 0)) for b, e in zip(before, after, strict=True)]
    if all(p == (0, 0) for p in pads):
        ctx.set_output(0, x)
        return
    if mode in ("constant", "reflect"):
        ctx.set_output(0, _pad_op(ctx, x, int_const(ctx, np.array(pads), "paddings"), mode))
    elif mode in ("edge", "wrap"):
        ctx.set_output(0, _index_pad(ctx, x, pads, dims, mode))
    else:
        raise fail("attribute", f"Pad: mode={mode} is not supported")


def _np_dtype(tf: str) -> type:
    return {"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_BOOL": np.bool_}[tf]
