"""Emitters for pooling: MaxPool, AveragePool, LpPool (1-D to 3-D) and the global pools, channels-last in tfjs."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from backends.tfjs_graph.emitters.common import (
    concat_dims,
    dim_at,
    dims_slice,
    int_const,
    invalid,
    positive_ints,
    runtime_shape,
    table,
    to_channels_first,
    to_channels_last,
)
from backends.tfjs_graph.emitters.conv import (
    Pads,
    auto_pad_of,
    effective,
    expand_1d,
    is_same,
    need_float,
    pad_spatial,
    resolve_pads,
    runtime_same_pad,
    spatial_ints,
    squeeze_1d,
    static_spatial,
    window_attrs,
)
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail

# Dilated windows are unrolled into one op per kernel tap.
_MAX_TAPS = 1 << 12
_COMMON_LIMITS = ("1-D, 2-D and 3-D only", "dilations > 1 and ceil_mode need static spatial dims")
# SAME padding computed at run time (conv.runtime_same_pad).
_RUNTIME_SAME_OPS = ("Shape", "StridedSlice", "AddV2", "FloorDiv", "Mul", "Sub", "Maximum", "Pack", "ConcatV2", "Pad",
                     "PadV2")


@dataclass
class Window:
    """A 2-D or 3-D pooling window; ``pads`` None means tfjs SAME, ``sizes`` None means unknown spatial dims.

    ``lower``: with ``pads`` None, the padding is SAME_LOWER on unknown spatial dims (computed at run time).
    """

    kernel: list[int]
    strides: list[int]
    pads: Pads | None
    sizes: list[int] | None
    ceil: bool = False
    dilations: list[int] = field(default_factory=list)
    lower: bool = False

    @property
    def eff(self) -> list[int]:
        """The dilated window extent per dim."""
        return [(k - 1) * d + 1 for k, d in zip(self.kernel, self.dilations or [1] * len(self.kernel), strict=True)]

    @property
    def dilated(self) -> bool:
        return any(d > 1 for d in self.dilations)

    def padded(self) -> Pads:
        """Pads including the extra end rows/cols that ceil_mode windows reach."""
        assert self.pads is not None
        if self.sizes is None:
            return self.pads
        out = []
        for n, k, s, (b, e) in zip(self.sizes, self.eff, self.strides, self.pads, strict=True):
            reach = (self.out_size(n, k, s, b, e) - 1) * s + k
            out.append((b, max(e, reach - n - b)))
        return out

    def out_size(self, n: int, k: int, s: int, b: int, e: int) -> int:
        span = n + b + e - k
        if not self.ceil:
            return span // s + 1
        size = -(-span // s) + 1
        # onnxruntime (like PyTorch) drops a last window that would start in the end padding.
        return size - 1 if (size - 1) * s >= n + b else size

    def counts(self) -> list[int]:
        """Per dim, how many windows there are (Python integers: nothing allocated)."""
        assert self.sizes is not None
        return [max((n + b + e - k) // s + 1, 0)
                for n, k, s, (b, e) in zip(self.sizes, self.eff, self.strides, self.padded(), strict=True)]

    def starts(self) -> list[np.ndarray]:
        """Per dim, where each output window starts in unpadded coordinates."""
        assert self.sizes is not None
        return [np.arange((n + b + e - k) // s + 1) * s - b
                for n, k, s, (b, e) in zip(self.sizes, self.eff, self.strides, self.padded(), strict=True)]


def _window(ctx: EmitCtx, n: int) -> Window:
    """Kernel, strides, dilations and pads of the channels-last core (1-D gets a leading unit dim)."""
    kernel = positive_ints(ctx, "kernel_shape", ctx.attr("kernel_shape") or [], n)
    strides, dilations = spatial_ints(ctx, "strides", n, 1), spatial_ints(ctx, "dilations", n, 1)
    ceil = bool(ctx.attr("ceil_mode", 0)) and auto_pad_of(ctx) in ("NOTSET", "VALID")
    shape = ctx.shape(0)
    sizes = None if shape is None or any(d is None for d in shape[2:]) else [int(d or 0) for d in shape[2:]]
    if sizes is None and (ceil or any(d > 1 for d in dilations)):
        static_spatial(ctx, 0, "ceil_mode or dilations")
    lower = sizes is None and auto_pad_of(ctx) == "SAME_LOWER"
    pads = None if lower else resolve_pads(ctx, effective(kernel, dilations), strides)
    if n == 1:
        pads = None if pads is None else [(0, 0), *pads]
        win = Window([1, *kernel], [1, *strides], pads, None if sizes is None else [1, *sizes], ceil, [1, *dilations],
                     lower)
    else:
        win = Window(kernel, strides, pads, sizes, ceil, dilations, lower)
    if win.sizes is not None and win.pads is not None:
        if min(win.counts()) < 1:
            raise invalid(ctx, f"kernel_shape {kernel} does not fit the padded input {sizes}")
        table(ctx, sum(win.counts()) * max(win.kernel), "the pooling window positions")
    return win


def _cast(ctx: EmitCtx, x: str, src: str, dst: str, suffix: str) -> str:
    return ctx.add("Cast", [x], {"SrcT": Attr.dtype(src), "DstT": Attr.dtype(dst)}, suffix=suffix)


def _prepare(ctx: EmitCtx, allow_int: bool = False) -> tuple[str, Window, bool]:
    """The channels-last float input, its window, and whether the op is 1-D."""
    if not (allow_int and ctx.out_dtype() == "DT_INT32"):
        need_float(ctx)
    rank = ctx.rank(0)
    if rank not in (3, 4, 5):
        raise fail("attribute", f"{ctx.node.op_type} over {rank - 2} spatial dims is not supported (1-D to 3-D only)")
    one_d = rank == 3
    x = ctx.input(0)
    if ctx.out_dtype() == "DT_INT32":
        # int8/uint8 pooling runs in float32 (exact for these values): the wasm pooling kernels are float-only.
        x = _cast(ctx, x, "DT_INT32", "DT_FLOAT", "to_float")
    x = expand_1d(ctx, x, "expand") if one_d else x
    return to_channels_last(ctx, x, max(rank, 4)), _window(ctx, rank - 2), one_d


def _finish(ctx: EmitCtx, y: str, one_d: bool, win: Window | None = None) -> None:
    y = to_channels_first(ctx, y, max(ctx.rank(0), 4))
    y = squeeze_1d(ctx, y) if one_d else y
    shape = ctx.shape(0)
    if win is not None and win.sizes is not None and win.pads is not None and shape and None not in shape[:2]:
        # The emitted windows follow onnxruntime, whose ceil_mode output can be one smaller than ONNX shape
        # inference says; later passes build Reshapes from this shape, so record the true one.
        counts = win.counts()[1:] if one_d else win.counts()
        ctx.graph.shapes[y] = (int(shape[0] or 0), int(shape[1] or 0), *counts)
    ctx.set_output(0, y)


def _pool(ctx: EmitCtx, op: str, x: str, win: Window, same: bool) -> str:
    """MaxPool/AvgPool (2-D) or MaxPool3D/AvgPool3D, SAME or VALID."""
    attrs = window_attrs(win.strides, None if same else [(0, 0)] * len(win.kernel))
    attrs["ksize"] = Attr.ints([1, *win.kernel, 1])
    if len(win.kernel) == 3:
        op, attrs["data_format"] = f"{op}3D", Attr.s("NDHWC")
    if op != "MaxPool":
        attrs.pop("explicit_paddings")
    return ctx.add(op, [x], attrs, suffix=op.lower())


def _runtime_same(ctx: EmitCtx, x: str, win: Window, value: float | None) -> str:
    """``x`` padded for SAME_UPPER / SAME_LOWER (``win.pads`` None) with pads computed at run time."""
    return runtime_same_pad(ctx, x, win.kernel, win.strides, not win.lower, value)


def _is_tfjs_same(win: Window) -> bool:
    """Whether tfjs SAME padding gives exactly this window's padding and output."""
    if win.dilated or win.lower:
        return False
    if win.pads is None:
        return True
    sizes = win.sizes
    return sizes is not None and is_same(win.pads, sizes, win.kernel, win.strides) and win.padded() == win.pads


def _max_pool_3d(ctx: EmitCtx, x: str, win: Window) -> str:
    """3-D max pooling as two 2-D MaxPools (H-W, then D), exact since max is separable.

    Not MaxPool3D: its wasm kernel starts from FLT_MIN (the smallest positive float), so it is wrong for windows
    whose max is negative.
    """
    shape = ctx.shape(0)
    if win.pads is None or win.sizes is None or shape is None or shape[1] is None:
        return _max_pool_3d_runtime(ctx, x, win)
    pads = win.padded()
    (dp, hp, wp), c = [n + b + e for n, (b, e) in zip(win.sizes, pads, strict=True)], int(shape[1])
    (kd, kh, kw), (sd, sh, sw) = win.kernel, win.strides
    od, oh, ow = (dp - kd) // sd + 1, (hp - kh) // sh + 1, (wp - kw) // sw + 1
    y = pad_spatial(ctx, x, pads, -np.inf)
    y = ctx.add("Reshape", [y, int_const(ctx, [-1, hp, wp, c], "hw/shape")], suffix="hw/reshape")
    y = _pool(ctx, "MaxPool", y, Window([kh, kw], [sh, sw], [(0, 0)] * 2, None), False)
    y = ctx.add("Reshape", [y, int_const(ctx, [-1, dp, oh * ow, c], "d/shape")], suffix="d/reshape")
    y = _pool(ctx, "MaxPool", y, Window([kd, 1], [sd, 1], [(0, 0)] * 2, None), False)
    return ctx.add("Reshape", [y, int_const(ctx, [-1, od, oh, ow, c], "out/shape")], suffix="out/reshape")


def _max_pool_3d_runtime(ctx: EmitCtx, x: str, win: Window) -> str:
    """``_max_pool_3d`` with dynamic dims: the reshapes read the padded and pooled shapes at run time.

    SAME_UPPER / SAME_LOWER pads are computed at run time too (``win.pads`` None); ceil_mode and dilations never
    get here (they need static spatial dims).
    """
    y = _runtime_same(ctx, x, win, -np.inf) if win.pads is None else pad_spatial(ctx, x, win.pads, -np.inf)
    (kd, kh, kw), (sd, sh, sw) = win.kernel, win.strides
    padded = runtime_shape(ctx, y, "hw/padded")  # [N, Dp, Hp, Wp, C]
    y = ctx.add("Reshape", [y, concat_dims(ctx, [[-1], dims_slice(ctx, padded, 2, 5, "hw/hwc")], "hw/shape")],
                suffix="hw/reshape")
    y = _pool(ctx, "MaxPool", y, Window([kh, kw], [sh, sw], [(0, 0)] * 2, None), False)
    pooled = runtime_shape(ctx, y, "hw/pooled")  # [N * Dp, oh, ow, C]
    i32 = {"T": Attr.dtype("DT_INT32")}
    area = ctx.add("Mul", [dim_at(ctx, pooled, 1, "d/oh"), dim_at(ctx, pooled, 2, "d/ow")], i32, suffix="d/area")
    shape = concat_dims(ctx, [[-1], dim_at(ctx, padded, 1, "d/dp"), area, dim_at(ctx, padded, 4, "d/c")], "d/shape")
    y = ctx.add("Reshape", [y, shape], suffix="d/reshape")
    y = _pool(ctx, "MaxPool", y, Window([kd, 1], [sd, 1], [(0, 0)] * 2, None), False)
    od = dim_at(ctx, runtime_shape(ctx, y, "out/pooled"), 1, "out/od")
    shape = concat_dims(ctx, [[-1], od, dims_slice(ctx, pooled, 1, 4, "out/ohwc")], "out/shape")
    return ctx.add("Reshape", [y, shape], suffix="out/reshape")


def _taps(ctx: EmitCtx, x: str, win: Window) -> list[str]:
    """For dilated windows: one StridedSlice of the padded input per kernel tap (exact, kernel-size many ops)."""
    rank = len(win.kernel) + 2
    if math.prod(win.kernel) > _MAX_TAPS:
        raise fail("attribute", f"a dilated window of {math.prod(win.kernel)} taps would become as many ops "
                   f"(limit {_MAX_TAPS})")
    outs = [len(s) for s in win.starts()]
    step = int_const(ctx, [1, *win.strides, 1], "tap/step")
    taps = []
    for offsets in itertools.product(*(range(k) for k in win.kernel)):
        begin = [o * d for o, d in zip(offsets, win.dilations, strict=True)]
        end = [b + (n - 1) * s + 1 for b, n, s in zip(begin, outs, win.strides, strict=True)]
        tag = "_".join(map(str, offsets))
        taps.append(ctx.add("StridedSlice", [x, int_const(ctx, [0, *begin, 0], f"tap{tag}/begin"),
                                             int_const(ctx, [0, *end, 0], f"tap{tag}/end"), step],
                            {"begin_mask": Attr.i(0), "end_mask": Attr.i(1 | 1 << (rank - 1)),
                             "ellipsis_mask": Attr.i(0), "new_axis_mask": Attr.i(0), "shrink_axis_mask": Attr.i(0)},
                            suffix=f"tap{tag}"))
    return taps


def _max_of(ctx: EmitCtx, refs: list[str]) -> str:
    y = refs[0]
    for i, ref in enumerate(refs[1:]):
        y = ctx.add("Maximum", [y, ref], {"T": Attr.dtype("DT_FLOAT")}, suffix=f"max{i}")
    return y


def _index_strides(ctx: EmitCtx, sizes: list[int]) -> list[int]:
    """Per spatial dim, its stride in the flattened ONNX index (storage_order 0: row major, 1: column major)."""
    row_major = [int(np.prod(sizes[i + 1:])) for i in range(len(sizes))]
    if not ctx.attr("storage_order", 0):
        return row_major
    if len(sizes) != 2:
        raise fail("attribute", "MaxPool Indices with storage_order=1 is supported for 1-D and 2-D only")
    return [1, sizes[0]]


def _argmax_pool(ctx: EmitCtx, x: str, win: Window) -> tuple[str, str]:
    """Max values and ONNX Indices, tap by tap: the first maximum wins, as in onnxruntime.

    Not MaxPoolWithArgmax: its wasm kernel starts from FLT_MIN and keeps the last maximum.
    """
    shape = ctx.shape(0)
    if win.pads is None or win.sizes is None or shape is None or any(d is None for d in shape[1:]):
        raise fail("dynamic_shape", "MaxPool Indices need static channel and spatial dims")
    batch, channels = shape[0], int(shape[1] or 0)
    table(ctx, math.prod(win.counts()) + (batch or 1) * channels, "the MaxPool index grid")
    strides = _index_strides(ctx, win.sizes)
    best = idx = ""
    taps = _taps(ctx, pad_spatial(ctx, x, win.padded(), -np.inf), win)
    for t, (tap, offsets) in enumerate(zip(taps, itertools.product(*(range(k) for k in win.kernel)), strict=True)):
        where = np.zeros((), np.int64)
        for start, o, d, stride in zip(win.starts(), offsets, win.dilations, strides, strict=True):
            where = np.add.outer(where, (start + o * d) * stride)
        where_ref = int_const(ctx, where[None, ..., None], f"tap{t}/index")
        if t == 0:
            best, idx = tap, where_ref
            continue
        better = ctx.add("Greater", [tap, best], {"T": Attr.dtype("DT_FLOAT")}, suffix=f"tap{t}/better")
        best = ctx.add("Maximum", [best, tap], {"T": Attr.dtype("DT_FLOAT")}, suffix=f"tap{t}/max")
        idx = ctx.add("SelectV2", [better, where_ref, idx], {"T": Attr.dtype("DT_INT32")}, suffix=f"tap{t}/argmax")
    area, i32 = int(np.prod(win.sizes)), {"T": Attr.dtype("DT_INT32")}
    unit = [1] * len(win.kernel)
    if batch is None:  # base (n * C + c) * area with n = range(N), N read at run time
        masks = {m: Attr.i(0) for m in ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask")}
        count = ctx.add("StridedSlice", [runtime_shape(ctx, x, "index/shape"), int_const(ctx, [0], "index/begin"),
                                         int_const(ctx, [1], "index/end"), int_const(ctx, [1], "index/strides")],
                        {**masks, "shrink_axis_mask": Attr.i(1), **i32}, suffix="index/batch")
        n = ctx.add("Range", [int_const(ctx, 0, "index/start"), count, int_const(ctx, 1, "index/delta")],
                    {"Tidx": Attr.dtype("DT_INT32")}, suffix="index/range")
        n = ctx.add("Reshape", [n, int_const(ctx, [-1, *unit, 1], "index/n_shape")], suffix="index/n")
        n = ctx.add("Mul", [n, int_const(ctx, channels * area, "index/n_step")], i32, suffix="index/n_base")
        c = int_const(ctx, (np.arange(channels) * area).reshape(1, *unit, channels), "index/c_base")
        base = ctx.add("AddV2", [n, c], i32, suffix="index/base")
    else:
        table_base = (np.arange(batch)[:, None] * channels + np.arange(channels)[None, :]) * area
        base = int_const(ctx, table_base.reshape(batch, *unit, channels), "index/base")
    return best, ctx.add("AddV2", [idx, base], i32, suffix="index")


@TFJS.rule("MaxPool", produces={"MaxPool", "PadV2", "Reshape", "StridedSlice", "Maximum", "Cast", "Greater",
                                 "SelectV2", "AddV2", "Transpose", "ExpandDims", "Squeeze", "Shape", "ConcatV2", "Mul",
                                 "Range", *_RUNTIME_SAME_OPS},
           limits=(*_COMMON_LIMITS, "float32, int8 and uint8 only",
                   "the Indices output needs static channel and spatial dims (the batch may be dynamic)",
                   "Indices: storage_order=1 only for 1-D and 2-D"))
def max_pool(ctx: EmitCtx) -> None:
    """MaxPool(X; auto_pad, ceil_mode, dilations, kernel_shape, pads, storage_order, strides) -> Y, Indices?."""
    x, win, one_d = _prepare(ctx, allow_int=True)
    indices = None
    if ctx.has_output(1):
        y, indices = _argmax_pool(ctx, x, win)
    elif win.dilated:
        y = _max_of(ctx, _taps(ctx, pad_spatial(ctx, x, win.padded(), -np.inf), win))
    elif len(win.kernel) == 3:
        y = _max_pool_3d(ctx, x, win)
    elif _is_tfjs_same(win):
        y = _pool(ctx, "MaxPool", x, win, True)
    elif win.pads is None:
        y = _pool(ctx, "MaxPool", _runtime_same(ctx, x, win, -np.inf), win, False)
    else:
        y = _pool(ctx, "MaxPool", pad_spatial(ctx, x, win.padded(), -np.inf), win, False)
    if ctx.out_dtype() == "DT_INT32":
        y = _cast(ctx, y, "DT_FLOAT", "DT_INT32", "to_int")
    _finish(ctx, y, one_d, win)
    if indices is not None:
        indices = to_channels_first(ctx, indices, max(ctx.rank(0), 4), "index/to_nchw")
        ctx.set_output(1, squeeze_1d(ctx, indices, "index/squeeze") if one_d else indices)


def _counts(win: Window, include_pad: bool) -> np.ndarray:
    """How many elements each output window averages over (onnxruntime semantics), as an N-D grid."""
    assert win.sizes is not None and win.pads is not None
    grid = np.ones((), np.float64)
    for n, k, d, (b, e), starts in zip(win.sizes, win.kernel, win.dilations, win.pads, win.starts(), strict=True):
        taps = starts[:, None] + np.arange(k)[None, :] * d
        lo, hi = (-b, n + e) if include_pad else (0, n)
        grid = np.multiply.outer(grid, ((taps >= lo) & (taps < hi)).sum(axis=1))
    return grid


def _scale(ctx: EmitCtx, y: str, factor: np.ndarray | float, suffix: str) -> str:
    arr = np.asarray(factor, np.float64)
    if np.all(arr == 1.0):
        return y
    value = arr[None, ..., None] if arr.ndim else arr
    return ctx.add("Mul", [y, ctx.constant(value.astype(np.float32), suffix)], {"T": Attr.dtype("DT_FLOAT")},
                   suffix=suffix)


def _window_sum_scale(ctx: EmitCtx, x: str, win: Window, include_pad: bool, mean: bool) -> str:
    """Zero-pad, sum each window, then divide by the element count when ``mean``.

    The sum is a VALID AvgPool times the area, or the AddN of the taps when the window is dilated.
    """
    padded = pad_spatial(ctx, x, win.padded(), None)
    area = int(np.prod(win.kernel))
    if win.dilated:
        taps = _taps(ctx, padded, win)
        y, area = ctx.add("AddN", taps, {"N": Attr.i(len(taps)), "T": Attr.dtype("DT_FLOAT")}, suffix="sum"), 1
    else:
        y = _pool(ctx, "AvgPool", padded, win, False)
    if not mean:
        return _scale(ctx, y, float(area), "area")
    if win.sizes is None:
        if not include_pad:
            static_spatial(ctx, 0, "AveragePool with count_include_pad=0 and explicit pads")
        return y
    table(ctx, math.prod(win.counts()) + sum(c * k for c, k in zip(win.counts(), win.kernel, strict=True)),
          "the averaging counts")
    return _scale(ctx, y, area / _counts(win, include_pad), "scale")


@TFJS.rule("AveragePool", produces={"AvgPool", "AvgPool3D", "Pad", "Mul", "StridedSlice", "AddN", "Transpose",
                                     "ExpandDims", "Squeeze", *_RUNTIME_SAME_OPS},
           limits=(*_COMMON_LIMITS, "float32 only",
                   "explicit pads or SAME_LOWER with count_include_pad=0 need static spatial dims"))
def average_pool(ctx: EmitCtx) -> None:
    """AveragePool(X; auto_pad, ceil_mode, count_include_pad, dilations, kernel_shape, pads, strides) -> Y."""
    x, win, one_d = _prepare(ctx)
    include_pad = bool(ctx.attr("count_include_pad", 0))
    has_pad = win.pads is None or any(b or e for b, e in win.padded())
    if not win.dilated and (not has_pad or (not include_pad and _is_tfjs_same(win))):
        y = _pool(ctx, "AvgPool", x, win, has_pad)
    else:
        if win.pads is not None:
            y = _window_sum_scale(ctx, x, win, include_pad, True)
        elif include_pad:  # zeros count: a VALID mean of the padded input
            y = _pool(ctx, "AvgPool", _runtime_same(ctx, x, win, None), win, False)
        else:
            raise fail("dynamic_shape", f"AveragePool {auto_pad_of(ctx)} with count_include_pad=0 needs static "
                       "spatial dims", "export the model with static spatial dims")
    _finish(ctx, y, one_d, win)


def _lp_power(ctx: EmitCtx, x: str, p: float, suffix: str) -> str:
    exponent = ctx.constant(np.float32(p), f"{suffix}/p")
    return ctx.add("Pow", [x, exponent], {"T": Attr.dtype("DT_FLOAT")}, suffix=suffix)


def _lp_p(ctx: EmitCtx) -> float:
    p = float(ctx.attr("p", 2))
    if p <= 0:
        raise fail("attribute", f"LpPool p={p} must be positive")
    return p


@TFJS.rule("LpPool", produces={"Abs", "Pow", "AvgPool", "AvgPool3D", "Pad", "Mul", "StridedSlice", "AddN",
                                "Transpose", "ExpandDims", "Squeeze", *_RUNTIME_SAME_OPS},
           limits=(*_COMMON_LIMITS, "float32 only"))
def lp_pool(ctx: EmitCtx) -> None:
    """LpPool(X; auto_pad, ceil_mode, dilations, kernel_shape, p, pads, strides) -> Y."""
    p = _lp_p(ctx)
    x, win, one_d = _prepare(ctx)
    powered = _lp_power(ctx, ctx.add("Abs", [x], {"T": Attr.dtype("DT_FLOAT")}, suffix="abs"), p, "pow")
    if win.pads is None:  # SAME on unknown spatial dims: zero pads computed at run time, a VALID window sum
        mean = _pool(ctx, "AvgPool", _runtime_same(ctx, powered, win, None), win, False)
        summed = _scale(ctx, mean, float(np.prod(win.kernel)), "area")
    else:
        summed = _window_sum_scale(ctx, powered, win, True, False)
    y = _lp_power(ctx, summed, 1.0 / p, "root")
    _finish(ctx, y, one_d, win)


def _global(ctx: EmitCtx, op: str, x: str) -> str:
    rank = ctx.rank(0)
    if rank < 3:
        raise fail("attribute", f"{ctx.node.op_type} needs a rank >= 3 input, got rank {rank}")
    axes = int_const(ctx, list(range(2, rank)), f"{op.lower()}/axes")
    return ctx.add(op, [x, axes], {"keep_dims": Attr.b(True), "T": Attr.dtype("DT_FLOAT")}, suffix=op.lower())


@TFJS.rule("GlobalAveragePool", produces={"Mean"}, limits=("float32 only",))
def global_average_pool(ctx: EmitCtx) -> None:
    """GlobalAveragePool(X) -> Y."""
    need_float(ctx)
    ctx.set_output(0, _global(ctx, "Mean", ctx.input(0)))


@TFJS.rule("GlobalMaxPool", produces={"Max"}, limits=("float32 only",))
def global_max_pool(ctx: EmitCtx) -> None:
    """GlobalMaxPool(X) -> Y."""
    need_float(ctx)
    ctx.set_output(0, _global(ctx, "Max", ctx.input(0)))


@TFJS.rule("GlobalLpPool", produces={"Abs", "Pow", "Sum"}, limits=("float32 only",))
def global_lp_pool(ctx: EmitCtx) -> None:
    """GlobalLpPool(X; p) -> Y."""
    need_float(ctx)
    p = _lp_p(ctx)
    powered = _lp_power(ctx, ctx.add("Abs", [ctx.input(0)], {"T": Attr.dtype("DT_FLOAT")}, suffix="abs"), p, "pow")
    ctx.set_output(0, _lp_power(ctx, _global(ctx, "Sum", powered), 1.0 / p, "root"))
