"""Emitters for Conv (1-D to 3-D; grouped and depthwise), channels-last in tfjs, and helpers shared by the family."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from backends.tfjs_graph.emitters.common import (
    concat_dims,
    dims_slice,
    int_const,
    invalid,
    positive_ints,
    runtime_shape,
    to_channels_first,
    to_channels_last,
    transpose,
)
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail

Pads = list[tuple[int, int]]


# -- geometry shared with pool.py -----------------------------------------------------------
def spatial_ints(ctx: EmitCtx, name: str, n: int, default: int, minimum: int = 1) -> list[int]:
    """An ints attribute with one value >= ``minimum`` per spatial dim (default when absent)."""
    return positive_ints(ctx, name, ctx.attr(name) or [default] * n, n, minimum)


def check_groups(ctx: EmitCtx, transposed: bool = False) -> int:
    """``group`` of a Conv / ConvTranspose, checked against the static channel counts of X and W (ONNX rules)."""
    group = ctx.attr("group", 1)
    if not isinstance(group, int) or group < 1:
        raise invalid(ctx, f"group {group} must be a positive integer")
    shape, w_shape = ctx.shape(0), ctx.shape(1)
    if shape is not None and w_shape is not None and len(w_shape) != len(shape):
        raise invalid(ctx, f"W has rank {len(w_shape)} but X has rank {len(shape)}")
    channels = shape[1] if shape is not None and len(shape) > 1 else None
    # W is [M, C/group, k...] for Conv and [C, M/group, k...] for ConvTranspose.
    w_out, w_in = (w_shape[0], w_shape[1]) if w_shape is not None and len(w_shape) > 1 else (None, None)
    if transposed:
        w_in, w_out = w_out, w_in
    if channels is not None and channels % group:
        raise invalid(ctx, f"group {group} does not divide the {channels} input channels")
    if channels is not None and w_in is not None and w_in * (1 if transposed else group) != channels:
        raise invalid(ctx, f"W expects {w_in * (1 if transposed else group)} input channels, X has {channels}")
    if not transposed and w_out is not None and w_out % group:
        raise invalid(ctx, f"group {group} does not divide the {w_out} output channels of W")
    return group


def effective(kernel: Sequence[int], dilations: Sequence[int]) -> list[int]:
    """The dilated kernel extent per spatial dim."""
    return [(k - 1) * d + 1 for k, d in zip(kernel, dilations, strict=True)]


def static_spatial(ctx: EmitCtx, i: int, what: str) -> list[int]:
    """The static spatial dims of input ``i``; fails when any is symbolic."""
    shape = ctx.shape(i)
    dims = list(shape[2:]) if shape is not None else [None]
    if any(d is None for d in dims):
        raise fail("dynamic_shape", f"{what} needs static spatial dims, got {shape}",
                   "export the model with static spatial dims")
    return [int(d) for d in dims if d is not None]


def same_pads(sizes: Sequence[int], eff: Sequence[int], strides: Sequence[int], upper: bool) -> Pads:
    """SAME_UPPER / SAME_LOWER padding: the odd pixel goes to the end (upper) or the start (lower)."""
    pads = []
    for n, k, s in zip(sizes, eff, strides, strict=True):
        total = max(0, (-(-n // s) - 1) * s + k - n)
        small = total // 2
        pads.append((small, total - small) if upper else (total - small, small))
    return pads


def auto_pad_of(ctx: EmitCtx) -> str:
    """The auto_pad attribute as a str."""
    value = ctx.attr("auto_pad", "NOTSET")
    return value.decode() if isinstance(value, bytes) else str(value)


def resolve_pads(ctx: EmitCtx, eff: Sequence[int], strides: Sequence[int]) -> Pads | None:
    """The (begin, end) pads per spatial dim, or None for tfjs SAME with unknown spatial dims."""
    n = len(eff)
    auto_pad = auto_pad_of(ctx)
    if auto_pad == "VALID":
        return [(0, 0)] * n
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        shape = ctx.shape(0)
        if auto_pad == "SAME_UPPER" and (shape is None or any(d is None for d in shape[2:])):
            return None
        return same_pads(static_spatial(ctx, 0, auto_pad), eff, strides, auto_pad == "SAME_UPPER")
    if auto_pad != "NOTSET":
        raise fail("attribute", f"auto_pad {auto_pad!r} is not an ONNX value")
    pads = positive_ints(ctx, "pads", ctx.attr("pads") or [0] * (2 * n), 2 * n, 0)
    return [(pads[i], pads[i + n]) for i in range(n)]


def is_same(pads: Pads, sizes: Sequence[int | None], eff: Sequence[int], strides: Sequence[int]) -> bool:
    """Whether ``pads`` equal tfjs SAME (= ONNX SAME_UPPER) for these static sizes."""
    if any(n is None for n in sizes):
        return False
    return pads == same_pads([int(n) for n in sizes if n is not None], eff, strides, True)


# -- emission helpers -----------------------------------------------------------------------
def expand_1d(ctx: EmitCtx, ref: str, suffix: str) -> str:
    """NCW -> NC1W, so 1-D ops run through the 2-D kernels."""
    return ctx.add("ExpandDims", [ref, int_const(ctx, 2, f"{suffix}/axis")], suffix=suffix)


def squeeze_1d(ctx: EmitCtx, ref: str, suffix: str = "squeeze") -> str:
    """NC1W -> NCW."""
    return ctx.add("Squeeze", [ref], {"squeeze_dims": Attr.ints([2])}, suffix=suffix)


def window_attrs(strides: Sequence[int], pads: Pads | None) -> dict[str, Attr]:
    """strides/padding/explicit_paddings attrs of an NHWC conv; pads None means SAME."""
    attrs = {"strides": Attr.ints([1, *strides, 1]), "data_format": Attr.s("NHWC"), "T": Attr.dtype("DT_FLOAT")}
    if pads is None:
        return {**attrs, "padding": Attr.s("SAME"), "explicit_paddings": Attr.ints([])}
    if not any(b or e for b, e in pads):
        return {**attrs, "padding": Attr.s("VALID"), "explicit_paddings": Attr.ints([])}
    flat = [0, 0, *(v for p in pads for v in p), 0, 0]
    return {**attrs, "padding": Attr.s("EXPLICIT"), "explicit_paddings": Attr.ints(flat)}


def channel_slice(ctx: EmitCtx, ref: str, rank: int, axis: int, start: int, size: int, suffix: str) -> str:
    """``Slice`` of ``size`` entries from ``start`` along ``axis`` (all of the other axes)."""
    begin = [0] * rank
    sizes = [-1] * rank
    begin[axis], sizes[axis] = start, size
    return ctx.add("Slice", [ref, int_const(ctx, begin, f"{suffix}/begin"), int_const(ctx, sizes, f"{suffix}/size")],
                   suffix=suffix)


def concat_channels(ctx: EmitCtx, parts: list[str], rank: int = 4) -> str:
    """ConcatV2 along the channels-last axis."""
    if len(parts) == 1:
        return parts[0]
    axis = int_const(ctx, rank - 1, "concat/axis")
    return ctx.add("ConcatV2", [*parts, axis], {"N": Attr.i(len(parts))}, suffix="concat")


def add_bias(ctx: EmitCtx, y: str, i: int) -> str:
    """BiasAdd of the optional bias input ``i`` over the NHWC channel axis."""
    if not ctx.has_input(i):
        return y
    return ctx.add("BiasAdd", [y, ctx.input(i)], {"T": Attr.dtype("DT_FLOAT"), "data_format": Attr.s("NHWC")},
                   suffix="bias")


def need_float(ctx: EmitCtx) -> None:
    if ctx.out_dtype() != "DT_FLOAT":
        raise fail("dtype", f"{ctx.node.op_type} computes in float32 only in TensorFlow.js")


# -- Conv -------------------------------------------------------------------------------------
def _filter_hwio(ctx: EmitCtx, group: int, depthwise: bool, one_d: bool) -> str:
    """The filter as [*kernel, C/group, O] or, for depthwise, [kh, kw, C, multiplier]."""
    w = ctx.const(1)
    if w is not None:
        w = w.astype(np.float32)
        w = w[:, :, None, :] if one_d else w
        hwio = w.transpose(*range(2, w.ndim), 1, 0)
        if depthwise:
            hwio = hwio.reshape(*hwio.shape[:2], group, -1)
        return ctx.constant(np.ascontiguousarray(hwio), "filter")
    ref = expand_1d(ctx, ctx.input(1), "filter/expand") if one_d else ctx.input(1)
    rank = max(4, ctx.rank(1))
    ref = transpose(ctx, ref, [*range(2, rank), 1, 0], "filter/hwio")
    if depthwise:
        shape = ctx.shape(1)
        if shape is None or any(d is None for d in shape):
            raise fail("dynamic_shape", "a non-constant depthwise filter needs a static shape")
        kernel = [int(d or 0) for d in ([1, shape[2]] if one_d else shape[2:])]
        ref = ctx.add("Reshape", [ref, int_const(ctx, [*kernel, group, -1], "filter/shape")], suffix="filter/dw")
    return ref


def _conv_core(ctx: EmitCtx, op: str, x: str, w: str, strides: list[int], dilations: list[int], pads: Pads | None,
               suffix: str) -> str:
    """One channels-last conv; strides and dilations both > 1 (which tfjs rejects) become stride 1 + StridedSlice."""
    strided = any(s > 1 for s in strides) and any(d > 1 for d in dilations)
    attrs = window_attrs([1] * len(strides) if strided else strides, pads)
    attrs["dilations"] = Attr.ints([1, *dilations, 1])
    if op == "Conv3D":
        attrs["data_format"] = Attr.s("NDHWC")
        attrs.pop("explicit_paddings")
    y = ctx.add(op, [x, w], attrs, suffix=suffix)
    if strided:
        rank = len(strides) + 2
        zero = int_const(ctx, [0] * rank, f"{suffix}/zero")
        step = int_const(ctx, [1, *strides, 1], f"{suffix}/step")
        mask = Attr.i((1 << rank) - 1)
        y = ctx.add("StridedSlice", [y, zero, zero, step], {"begin_mask": mask, "end_mask": mask,
                    "ellipsis_mask": Attr.i(0), "new_axis_mask": Attr.i(0), "shrink_axis_mask": Attr.i(0)},
                    suffix=f"{suffix}/stride")
    return y


def _conv_geometry(ctx: EmitCtx, n: int) -> tuple[list[int], list[int], Pads | None, list[int] | None]:
    """Strides, dilations and pads of the channels-last core (1-D attributes get a leading unit dim).

    The fourth value: the core's effective kernel when SAME padding must be computed at run time (SAME_LOWER, or
    SAME_UPPER with strides and dilations both > 1, on dynamic spatial dims); the pads are then all zero.
    """
    w_shape = ctx.shape(1)
    kernel = ctx.attr("kernel_shape") or (list(w_shape[2:]) if w_shape is not None else None)
    if kernel is None or any(k is None for k in kernel):
        raise fail("dynamic_shape", "the kernel shape is unknown", "give the weights a static shape")
    kernel = positive_ints(ctx, "kernel_shape", kernel, n)
    if w_shape is not None and len(w_shape) == n + 2 and list(w_shape[2:]) != kernel and None not in w_shape[2:]:
        raise invalid(ctx, f"kernel_shape {kernel} differs from the shape of W {list(w_shape)}")
    strides, dilations = spatial_ints(ctx, "strides", n, 1), spatial_ints(ctx, "dilations", n, 1)
    eff = effective(kernel, dilations)
    strided = any(s > 1 for s in strides) and any(d > 1 for d in dilations)
    shape, auto_pad = ctx.shape(0), auto_pad_of(ctx)
    dynamic = shape is None or any(d is None for d in shape[2:])
    runtime = dynamic and (auto_pad == "SAME_LOWER" or (auto_pad == "SAME_UPPER" and strided))
    pads = [(0, 0)] * n if runtime else resolve_pads(ctx, eff, strides)
    if not strided and pads is not None and shape is not None and is_same(pads, shape[2:], eff, strides):
        pads = None
    same = eff if runtime else None
    if n == 1:
        return [1, *strides], [1, *dilations], None if pads is None else [(0, 0), *pads], \
            None if same is None else [1, *same]
    return strides, dilations, pads, same


def pad_spatial(ctx: EmitCtx, x: str, pads: Pads, value: float | None = None) -> str:
    """Pad (zeros) or PadV2 (``value``) of the spatial dims of a channels-last tensor."""
    if not any(b or e for b, e in pads):
        return x
    paddings = int_const(ctx, np.array([(0, 0), *pads, (0, 0)]), "pad/paddings")
    if value is None:
        return ctx.add("Pad", [x, paddings], suffix="pad")
    return ctx.add("PadV2", [x, paddings, ctx.constant(np.float32(value), "pad/value")], suffix="pad")


def runtime_same_pad(ctx: EmitCtx, x: str, eff: Sequence[int], strides: Sequence[int], upper: bool,
                     value: float | None = None) -> str:
    """SAME_UPPER / SAME_LOWER padding of a channels-last ``x`` whose spatial sizes are read at run time.

    Per spatial dim: total = max(0, (ceil(n / s) - 1) * s + eff - n), split as ``same_pads`` does. Pad (zeros)
    or PadV2 (``value``).
    """
    n = len(eff)
    i32 = {"T": Attr.dtype("DT_INT32")}

    def op(name: str, a: str, b: str, suffix: str) -> str:
        return ctx.add(name, [a, b], i32, suffix=f"same/{suffix}")

    sizes = dims_slice(ctx, runtime_shape(ctx, x, "same/shape"), 1, 1 + n, "same/sizes")
    step = int_const(ctx, list(strides), "same/strides")
    out = op("FloorDiv", op("AddV2", sizes, int_const(ctx, [s - 1 for s in strides], "same/round"), "ceil_num"), step,
             "out")
    need = op("AddV2", op("Mul", out, step, "span"), int_const(ctx, [k - s for k, s in zip(eff, strides, strict=True)],
                                                                "same/extra"), "need")
    total = op("Maximum", op("Sub", need, sizes, "excess"), int_const(ctx, 0, "same/zero"), "total")
    small = op("FloorDiv", total, int_const(ctx, 2, "same/two"), "small")
    big = op("Sub", total, small, "big")
    pairs = ctx.add("Pack", [small, big] if upper else [big, small], {"axis": Attr.i(1), "N": Attr.i(2), **i32},
                    suffix="same/pairs")
    edge = int_const(ctx, np.zeros((1, 2), np.int64), "same/edge")
    paddings = ctx.add("ConcatV2", [edge, pairs, edge, int_const(ctx, 0, "same/axis")], {"N": Attr.i(3), **i32},
                       suffix="same/paddings")
    attrs = {"T": Attr.dtype("DT_FLOAT"), "Tpaddings": Attr.dtype("DT_INT32")}
    if value is None:
        return ctx.add("Pad", [x, paddings], attrs, suffix="same/pad")
    return ctx.add("PadV2", [x, paddings, ctx.constant(np.float32(value), "same/value")], attrs, suffix="same/pad")


def _grouped(ctx: EmitCtx, op: str, x: str, w: str, group: int, geometry: tuple[list[int], list[int], Pads | None],
             ) -> str:
    """Conv per channel group (run-time Slices of x and of a non-constant filter), concatenated."""
    rank = len(geometry[0]) + 2
    channels, w_shape = (ctx.shape(0) or (None, None))[1], ctx.shape(1)
    if w_shape is None or w_shape[0] is None or channels is None:
        raise fail("dynamic_shape", "grouped Conv needs static channel counts")
    cin, cout = channels // group, w_shape[0] // group
    parts = [_conv_core(ctx, op, channel_slice(ctx, x, rank, rank - 1, g * cin, cin, f"x{g}"),
                        channel_slice(ctx, w, rank, rank - 1, g * cout, cout, f"w{g}"), *geometry, f"conv{g}")
             for g in range(group)]
    return concat_channels(ctx, parts, rank)


# -- grouped Conv with a constant filter: one of three forms, chosen per shape ------------------
# Measured in tfjs-backend-wasm 4.22 (1 thread, SIMD; CPU time of one eager call, median of 20; ms) for
# [g groups x c channels in and out per group, k x k kernel, H x H input]; docs/benchmarks.md has the table.
# Slicing channels-last tensors along the channel axis is a JS row loop in wasm (Slice, SplitV, Concat): about
# 0.1 us per pixel and group, which dominated RegNetY (g 6..55, c 8) and ResNeXt (g 32, c 4..32).
#   dense      one Conv2D with a block-diagonal filter: g times the MACs, one XNNPACK call; wins while the dense
#              filter is small (k*k*C*O <= 16384: g8c2k3 0.09 vs split 0.58; g4c16k1 0.19 vs 0.66).
#   depthwise  DepthwiseConv2dNative with channel multiplier c_out, Reshape, sum over c_in, Reshape (2-D): the
#              grouped MACs, no slicing, an intermediate c_in times the output; wins when 2g > c_in
#              (g55c8 7x7 0.61 vs 3.42; g13c8 28x28 1.32 vs 3.52; g32c16 14x14 4.95 vs 9.37, with a Sum for the
#              sum; the AvgPool used instead takes 0.6x the Sum's time).
#   split      one Split, g Conv2D (+ their bias slices, fusable), ConcatV2: the rest (g2c32, g4c16, g8c16,
#              g32c64 where the depthwise intermediate is too big).
DENSE_MACS = 16384


def grouped_form(group: int, cin: int, cout: int, kernel: Sequence[int], depthwise_ok: bool) -> str:
    """``dense``, ``depthwise`` (``depthwise_ok``: a 1-D or 2-D conv) or ``split``: the fastest form in wasm."""
    if int(np.prod(kernel)) * group * cin * group * cout <= DENSE_MACS:
        return "dense"
    if depthwise_ok and 2 * group > cin:
        return "depthwise"
    return "split"


def _hwio(w: np.ndarray, one_d: bool) -> np.ndarray:
    """[O, I, *k] -> [*k, I, O] (1-D kernels get a unit height)."""
    w = w[:, :, None, :] if one_d else w
    return np.ascontiguousarray(w.transpose(*range(2, w.ndim), 1, 0))


def block_diagonal(w: np.ndarray, group: int) -> np.ndarray:
    """[O, C/g, *k] -> [O, C, *k] with zeros outside the diagonal blocks (a dense conv computing the grouped one)."""
    cout, cin = w.shape[0] // group, w.shape[1]
    dense = np.zeros((w.shape[0], cin * group, *w.shape[2:]), np.float32)
    for g in range(group):
        dense[g * cout:(g + 1) * cout, g * cin:(g + 1) * cin] = w[g * cout:(g + 1) * cout]
    return dense


def depthwise_filter(w: np.ndarray, group: int, one_d: bool) -> np.ndarray:
    """[O, C/g, *k] -> [kh, kw, C, O/g]: input channel (g, i) times multiplier j holds W[g * O/g + j, i]."""
    w = w[:, :, None, :] if one_d else w
    cout, cin = w.shape[0] // group, w.shape[1]
    k = w.reshape(group, cout, cin, *w.shape[2:]).transpose(3, 4, 0, 2, 1)  # [kh, kw, g, c_in, c_out]
    return np.ascontiguousarray(k.reshape(*w.shape[2:], group * cin, cout))


def _grouped_depthwise(ctx: EmitCtx, x: str, w: np.ndarray, group: int, spatial: Sequence[int | None],
                       geometry: tuple[list[int], list[int], Pads | None], one_d: bool) -> tuple[str, bool]:
    """DepthwiseConv2dNative (multiplier O/g) then the sum over each group's input channels; (output, bias added).

    The sum is an AvgPool over c_in of the taps scaled by c_in (exact when c_in is a power of two): XNNPACK's
    average pooling takes 0.6x the time of Sum, whose wasm kernel transposes first. The bias goes into the
    depthwise conv (each of the c_in terms carries it once, the mean keeps it once), where fuse.py folds it.
    """
    cout, cin = w.shape[0] // group, w.shape[1]
    kernel = ctx.constant(depthwise_filter(w, group, one_d) * np.float32(cin), "filter/dw")
    y = _conv_core(ctx, "DepthwiseConv2dNative", x, kernel, *geometry, "conv")
    bias = ctx.const(2)
    if bias is not None:
        per_tap = np.broadcast_to(bias.astype(np.float32).reshape(group, 1, cout), (group, cin, cout))
        y = ctx.add("BiasAdd", [y, ctx.constant(np.ascontiguousarray(per_tap).reshape(-1), "bias/dw")],
                    {"T": Attr.dtype("DT_FLOAT"), "data_format": Attr.s("NHWC")}, suffix="bias")
    dw = y
    # [N, H, W, g * c_in * c_out] -> [N * H * W * g, c_in, 1, c_out], pooled over the c_in rows.
    y = ctx.add("Reshape", [y, int_const(ctx, [-1, cin, 1, cout], "split_shape")], suffix="groups")
    attrs = {**window_attrs([cin, 1], [(0, 0), (0, 0)]), "ksize": Attr.ints([1, cin, 1, 1])}
    attrs.pop("explicit_paddings")
    y = ctx.add("AvgPool", [y], attrs, suffix="sum")
    if all(d is not None for d in spatial):
        target = int_const(ctx, [-1, *(int(d or 0) for d in spatial), group * cout], "merge_shape")
    else:  # spatial dims known at run time only: [N, H, W] of the depthwise output
        target = concat_dims(ctx, [dims_slice(ctx, runtime_shape(ctx, dw, "dw_shape"), 0, 3, "dw_nhw"),
                                   [group * cout]], "merge_shape")
    return ctx.add("Reshape", [y, target], suffix="merge"), bias is not None


def _grouped_split(ctx: EmitCtx, op: str, x: str, w: np.ndarray, group: int,
                   geometry: tuple[list[int], list[int], Pads | None], one_d: bool) -> tuple[str, bool]:
    """One Split of x, a Conv (+ BiasAdd of its bias slice, which fuse.py folds in) per group, ConcatV2.

    The second value: whether the bias was added.
    """
    rank = len(geometry[0]) + 2
    cout = w.shape[0] // group
    bias = ctx.const(2) if op == "Conv2D" else None  # fuse.py folds a BiasAdd into Conv2D only
    parts = ctx.add("Split", [int_const(ctx, rank - 1, "split/axis"), x],
                    {"num_split": Attr.i(group), "T": Attr.dtype("DT_FLOAT")}, suffix="split")
    ys = []
    for g in range(group):
        filt = ctx.constant(_hwio(w[g * cout:(g + 1) * cout], one_d), f"filter{g}")
        y = _conv_core(ctx, op, parts if g == 0 else f"{parts}:{g}", filt, *geometry, f"conv{g}")
        if bias is not None:
            y = ctx.add("BiasAdd", [y, ctx.constant(bias[g * cout:(g + 1) * cout].astype(np.float32), f"bias{g}")],
                        {"T": Attr.dtype("DT_FLOAT"), "data_format": Attr.s("NHWC")}, suffix=f"bias{g}")
        ys.append(y)
    return concat_channels(ctx, ys, rank), bias is not None


def _grouped_const(ctx: EmitCtx, op: str, x: str, group: int, geometry: tuple[list[int], list[int], Pads | None],
                   one_d: bool) -> tuple[str, bool]:
    """A grouped conv with a constant filter in the form ``grouped_form`` picks; (output, bias added)."""
    w = np.asarray(ctx.const(1), np.float32)
    cin, cout = w.shape[1], w.shape[0] // group
    out = ctx.out_shape(0)
    spatial = [None, None] if out is None else [1, *out[2:]] if one_d else list(out[2:])
    form = grouped_form(group, cin, cout, w.shape[2:], op == "Conv2D")
    if form == "dense":
        filt = ctx.constant(_hwio(block_diagonal(w, group), one_d), "filter")
        return _conv_core(ctx, op, x, filt, *geometry, "conv"), False
    if form == "depthwise":
        return _grouped_depthwise(ctx, x, w, group, spatial, geometry, one_d)
    return _grouped_split(ctx, op, x, w, group, geometry, one_d)


@TFJS.rule("Conv", produces={"Conv2D", "DepthwiseConv2dNative", "Conv3D", "BiasAdd", "Transpose", "Slice", "Split",
                              "AvgPool", "ConcatV2", "StridedSlice", "ExpandDims", "Squeeze", "Reshape", "Pad", "Shape",
                              "FloorDiv", "AddV2", "Mul", "Sub", "Maximum", "Pack"},
           limits=("1-D, 2-D and 3-D only", "float32 only",
                   "SAME_LOWER (and SAME_UPPER with strides and dilations > 1) on dynamic spatial dims pads at run "
                   "time",
                   "grouped convolutions need static channel counts"))
def conv(ctx: EmitCtx) -> None:
    """Conv(X, W, B?; auto_pad, dilations, group, kernel_shape, pads, strides) -> Y."""
    need_float(ctx)
    rank = ctx.rank(0)
    if rank not in (3, 4, 5):
        raise fail("attribute", f"Conv over {rank - 2} spatial dims is not supported (1-D, 2-D and 3-D only)")
    one_d, core = rank == 3, max(rank, 4)
    group = check_groups(ctx)
    strides, dilations, pads, same = _conv_geometry(ctx, rank - 2)
    channels = (ctx.shape(0) or (None, None))[1]
    x = expand_1d(ctx, ctx.input(0), "expand") if one_d else ctx.input(0)
    x = to_channels_last(ctx, x, core)
    if same is not None:
        x = runtime_same_pad(ctx, x, same, strides, auto_pad_of(ctx) == "SAME_UPPER")
    if core == 5 and pads is not None:
        # tfjs Conv3D has no explicit padding: pad with zeros, then convolve VALID.
        x, pads = pad_spatial(ctx, x, pads), [(0, 0)] * 3
    depthwise = core == 4 and 1 < group == channels
    op = "DepthwiseConv2dNative" if depthwise else "Conv3D" if core == 5 else "Conv2D"
    biased = False
    if group == 1 or depthwise:
        y = _conv_core(ctx, op, x, _filter_hwio(ctx, group, depthwise, one_d), strides, dilations, pads, "conv")
    elif ctx.const(1) is not None and channels is not None:
        y, biased = _grouped_const(ctx, op, x, group, (strides, dilations, pads), one_d)
    else:
        y = _grouped(ctx, op, x, _filter_hwio(ctx, group, False, one_d), group, (strides, dilations, pads))
    y = to_channels_first(ctx, y if biased else add_bias(ctx, y, 2), core)
    ctx.set_output(0, squeeze_1d(ctx, y) if one_d else y)
