"""Resize by GatherV2 at source positions computed at run time (nearest, linear, cubic): image.py's exact form."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backends.tfjs_graph.emitters.common import dims_slice, int_const, runtime_shape
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import EmitCtx

_F32 = {"T": Attr.dtype("DT_FLOAT")}


@dataclass(frozen=True)
class _Axis:
    """One spatial axis being gathered: its name prefix, float32 scalars and run-time source positions."""

    ctx: EmitCtx
    i: int  # 0: H, 1: W (GatherV2 along NHWC axis i + 1)
    p: str  # node name prefix
    one: str
    half: str
    coords: str  # [out] ONNX source coordinates, not clamped
    last: str  # in - 1
    zero: str

    def op(self, name: str, inputs: list[str], suffix: str) -> str:
        return self.ctx.add(name, inputs, _F32, suffix=suffix)


def gather_resize(ctx: EmitCtx, xl: str, size: str, scales: list[float] | None, rank: int, interp: str) -> str:
    """Resize of NHWC ``xl`` to the run-time [H, W] ``size`` by GatherV2 along each spatial axis.

    Linear takes two neighbours and blends them; cubic takes four (floor(x) - 1 .. floor(x) + 2, clamped to the
    edge) weighted by the cubic kernel of ``cubic_coeff_a`` (with ``exclude_outside``, the weights of taps outside
    the image are zeroed and the rest renormalized), as onnxruntime does, axis by axis. The source positions are
    computed at run time in float32 as ONNX does (any coordinate transform and rounding).
    ``scales``: the constant ONNX scales of H and W, else (sizes given) out / in at run time.
    """
    mode = str(ctx.attr("coordinate_transformation_mode", "half_pixel"))
    rounding = str(ctx.attr("nearest_mode", "round_prefer_floor"))
    in_hw = dims_slice(ctx, runtime_shape(ctx, xl, "gather/in_shape"), 1, 3, "gather/in_hw")
    one, half = ctx.constant(np.float32(1), "gather/one"), ctx.constant(np.float32(0.5), "gather/half")
    y = xl
    for i in ((1,) if rank == 3 else (0, 1)):
        ax = _axis(ctx, i=i, in_hw=in_hw, size=size, scales=scales, mode=mode, one=one, half=half)
        if interp == "cubic":
            y = _cubic_taps(ax, y=y)
        elif interp == "nearest":
            y = _nearest(ax, y=y, rounding=rounding)
        else:
            y = _linear(ax, y=y)
    return y


def _scalar(ctx: EmitCtx, vec: str, i: int, suffix: str) -> str:
    """Element ``i`` of an int32 vector as a float32 scalar."""
    attrs = {"begin_mask": Attr.i(0), "end_mask": Attr.i(0), "ellipsis_mask": Attr.i(0),
             "new_axis_mask": Attr.i(0), "shrink_axis_mask": Attr.i(1), "T": Attr.dtype("DT_INT32")}
    inputs = [vec, int_const(ctx, [i], f"{suffix}/begin"), int_const(ctx, [i + 1], f"{suffix}/end"),
              int_const(ctx, [1], f"{suffix}/strides")]
    elem = ctx.add("StridedSlice", inputs, attrs, suffix=f"{suffix}/int")
    return ctx.add("Cast", [elem], {"SrcT": Attr.dtype("DT_INT32"), "DstT": Attr.dtype("DT_FLOAT")}, suffix=suffix)


def _axis(ctx: EmitCtx, *, i: int, in_hw: str, size: str, scales: list[float] | None, mode: str, one: str,
          half: str) -> _Axis:
    """Axis ``i``'s in / out sizes and scale as float32 scalars, and its source positions in ``mode``."""
    p = f"gather{i}"
    n_in, n_out = _scalar(ctx, in_hw, i, f"{p}/in"), _scalar(ctx, size, i, f"{p}/out")
    scale = ctx.constant(np.float32(scales[i]), f"{p}/scale") if scales is not None else \
        ctx.add("RealDiv", [n_out, n_in], _F32, suffix=f"{p}/scale")
    coords = _source_coords(ctx, p=p, mode=mode, n_in=n_in, n_out=n_out, scale=scale, one=one, half=half)
    last = ctx.add("Sub", [n_in, one], _F32, suffix=f"{p}/last")
    zero = ctx.constant(np.float32(0), f"{p}/lo")
    return _Axis(ctx, i, p, one, half, coords, last, zero)


def _source_coords(ctx: EmitCtx, *, p: str, mode: str, n_in: str, n_out: str, scale: str, one: str,
                   half: str) -> str:
    """[out] float32 ONNX source coordinates of each output index under coordinate_transformation_mode."""
    def op(name: str, inputs: list[str], suffix: str) -> str:
        return ctx.add(name, inputs, _F32, suffix=suffix)

    x = ctx.add("Range", [ctx.constant(np.float32(0), f"{p}/zero"), n_out, one], {"Tidx": Attr.dtype("DT_FLOAT")},
                suffix=f"{p}/x")
    if mode == "asymmetric":
        return op("RealDiv", [x, scale], f"{p}/coords")
    if mode == "tf_half_pixel_for_nn":
        return op("RealDiv", [op("AddV2", [x, half], f"{p}/centers"), scale], f"{p}/coords")
    if mode == "align_corners":  # out == 1: x is 0, and 0 / max(out - 1, 1) is 0
        span = op("Mul", [x, op("Sub", [n_in, one], f"{p}/in_span")], f"{p}/scaled")
        return op("RealDiv", [span, op("Maximum", [op("Sub", [n_out, one], f"{p}/out_span"), one], f"{p}/div")],
                  f"{p}/coords")
    # half_pixel, pytorch_half_pixel, half_pixel_symmetric
    v = op("Sub", [op("RealDiv", [op("AddV2", [x, half], f"{p}/centers"), scale], f"{p}/scaled"), half],
           f"{p}/coords0")
    if mode == "pytorch_half_pixel":  # out == 1 samples 0: multiply by min(out - 1, 1)
        return op("Mul", [v, op("Minimum", [op("Sub", [n_out, one], f"{p}/out_m1"), one], f"{p}/gate")],
                  f"{p}/coords")
    if mode == "half_pixel_symmetric":
        adjust = op("RealDiv", [n_out, op("Mul", [scale, n_in], f"{p}/s_in")], f"{p}/adjust")
        center = op("Mul", [op("RealDiv", [n_in, ctx.constant(np.float32(2), f"{p}/two")], f"{p}/in_half"),
                            op("Sub", [one, adjust], f"{p}/one_m_adjust")], f"{p}/center")
        return op("AddV2", [v, center], f"{p}/coords")
    return v


def _clip(ax: _Axis, v: str, suffix: str) -> str:
    """``v`` clamped to [0, in - 1]."""
    return ax.op("Maximum", [ax.op("Minimum", [v, ax.last], f"{suffix}_hi"), ax.zero], suffix)


def _gather(ax: _Axis, y: str, v: str, suffix: str) -> str:
    """The rows (columns) of ``y`` at the integral float positions ``v`` along the axis."""
    ctx = ax.ctx
    idx = ctx.add("Cast", [v], {"SrcT": Attr.dtype("DT_FLOAT"), "DstT": Attr.dtype("DT_INT32")}, suffix=f"{suffix}/idx")
    return ctx.add("GatherV2", [y, idx, int_const(ctx, ax.i + 1, f"{suffix}/axis")],
                   {"batch_dims": Attr.i(0), "Tparams": Attr.dtype(ctx.out_dtype())}, suffix=suffix)


def _nearest(ax: _Axis, *, y: str, rounding: str) -> str:
    """Nearest: the source positions rounded by ``nearest_mode``, clamped, gathered."""
    v, p = ax.coords, ax.p
    if rounding == "round_prefer_floor":
        v = ax.op("Ceil", [ax.op("Sub", [v, ax.half], f"{p}/minus_half")], f"{p}/rounded")
    elif rounding == "round_prefer_ceil":
        v = ax.op("Floor", [ax.op("AddV2", [v, ax.half], f"{p}/plus_half")], f"{p}/rounded")
    else:
        v = ax.op("Floor" if rounding == "floor" else "Ceil", [v], f"{p}/rounded")
    return _gather(ax, y, _clip(ax, v, f"{p}/clipped"), p)


def _weight_shape(ax: _Axis, suffix: str) -> str:
    """Shape that lays a per-position [out] vector along the axis ([-1, 1, 1] for H, [-1, 1] for W)."""
    return int_const(ax.ctx, [-1, 1, 1] if ax.i == 0 else [-1, 1], suffix)


def _linear(ax: _Axis, *, y: str) -> str:
    """Linear, as onnxruntime: clamp the coordinate, blend the two neighbours (the upper one clamped too)."""
    p = ax.p
    v = _clip(ax, ax.coords, f"{p}/clipped")
    lo = ax.op("Floor", [v], f"{p}/lo_pos")
    hi = ax.op("Minimum", [ax.op("AddV2", [lo, ax.one], f"{p}/next"), ax.last], f"{p}/hi_pos")
    frac = ax.op("Sub", [v, lo], f"{p}/frac")
    frac = ax.ctx.add("Reshape", [frac, _weight_shape(ax, f"{p}/frac_shape")], _F32, suffix=f"{p}/frac_axis")
    a, b = _gather(ax, y, lo, f"{p}/lo_rows"), _gather(ax, y, hi, f"{p}/hi_rows")
    return ax.op("AddV2", [a, ax.op("Mul", [ax.op("Sub", [b, a], f"{p}/delta"), frac], f"{p}/step")], p)


def _const(ax: _Axis, value: float, suffix: str) -> str:
    return ax.ctx.constant(np.float32(value), f"{ax.p}/{suffix}")


def _cubic_kernel(ax: _Axis, *, d: str, far: bool, a: float, suffix: str) -> str:
    """The cubic kernel at distance ``d``: in [0, 1] (near) or [1, 2] (far), in onnxruntime's form."""
    op = ax.op
    if far:  # ((a d - 5 a) d + 8 a) d - 4 a
        t = op("Sub", [op("Mul", [d, _const(ax, a, f"{suffix}/a")], f"{suffix}/ad"),
                       _const(ax, 5 * a, f"{suffix}/5a")], f"{suffix}/t1")
        t = op("AddV2", [op("Mul", [t, d], f"{suffix}/t1d"), _const(ax, 8 * a, f"{suffix}/8a")], f"{suffix}/t2")
        return op("Sub", [op("Mul", [t, d], f"{suffix}/t2d"), _const(ax, 4 * a, f"{suffix}/4a")], suffix)
    # ((a + 2) d - (a + 3)) d d + 1
    t = op("Sub", [op("Mul", [d, _const(ax, a + 2, f"{suffix}/a2")], f"{suffix}/ad"),
                   _const(ax, a + 3, f"{suffix}/a3")], f"{suffix}/t1")
    t = op("Mul", [op("Mul", [t, d], f"{suffix}/t1d"), d], f"{suffix}/t1dd")
    return op("AddV2", [t, _const(ax, 1, f"{suffix}/one")], suffix)


def _exclude_outside(ax: _Axis, *, taps: list[str], weights: list[str], one: str, zero: str) -> list[str]:
    """Weights of taps outside [0, last] zeroed, the rest renormalized to sum to 1."""
    op, p, weights = ax.op, ax.p, list(weights)
    for k, t in enumerate(taps):  # tap t inside: min(max(t + 1, 0), 1) * min(max(last + 1 - t, 0), 1)
        lo = op("Minimum", [op("Maximum", [op("AddV2", [t, one], f"{p}/in{k}/t1"), zero], f"{p}/in{k}/lo0"), one],
                f"{p}/in{k}/lo")
        room = op("Sub", [op("AddV2", [ax.last, one], f"{p}/in{k}/n"), t], f"{p}/in{k}/room")
        hi = op("Minimum", [op("Maximum", [room, zero], f"{p}/in{k}/hi0"), one], f"{p}/in{k}/hi")
        weights[k] = op("Mul", [weights[k], op("Mul", [lo, hi], f"{p}/in{k}/mask")], f"{p}/w{k}_in")
    total = op("AddV2", [op("AddV2", [weights[0], weights[1]], f"{p}/w01"),
                         op("AddV2", [weights[2], weights[3]], f"{p}/w23")], f"{p}/w_sum")
    return [op("RealDiv", [w, total], f"{p}/w{k}_norm") for k, w in enumerate(weights)]


def _cubic_taps(ax: _Axis, *, y: str) -> str:
    """One axis of a cubic Resize: the 4 edge-clamped taps around the source positions, weighted and summed."""
    op, p, ctx = ax.op, ax.p, ax.ctx
    a = float(ctx.attr("cubic_coeff_a", -0.75))
    one = _const(ax, 1, "cubic/one")
    base = op("Floor", [ax.coords], f"{p}/floor")
    s = op("Sub", [ax.coords, base], f"{p}/s")
    s_m = op("Sub", [one, s], f"{p}/one_m_s")
    weights = [_cubic_kernel(ax, d=op("AddV2", [s, one], f"{p}/d0"), far=True, a=a, suffix=f"{p}/w0"),
               _cubic_kernel(ax, d=s, far=False, a=a, suffix=f"{p}/w1"),
               _cubic_kernel(ax, d=s_m, far=False, a=a, suffix=f"{p}/w2"),
               _cubic_kernel(ax, d=op("AddV2", [s_m, one], f"{p}/d3"), far=True, a=a, suffix=f"{p}/w3")]
    zero = _const(ax, 0, "cubic/zero")
    taps = [op("AddV2", [base, _const(ax, k - 1, f"tap{k}/offset")], f"{p}/tap{k}") if k != 1 else base
            for k in range(4)]
    if ctx.attr("exclude_outside", 0):
        weights = _exclude_outside(ax, taps=taps, weights=weights, one=one, zero=zero)
    shape = _weight_shape(ax, f"{p}/w_shape")
    out = None
    for k, (t, w) in enumerate(zip(taps, weights, strict=True)):
        clipped = op("Maximum", [op("Minimum", [t, ax.last], f"{p}/tap{k}_hi"), zero], f"{p}/tap{k}_clipped")
        term = op("Mul", [_gather(ax, y, clipped, f"{p}/tap{k}_rows"),
                          ctx.add("Reshape", [w, shape], _F32, suffix=f"{p}/w{k}_axis")], f"{p}/term{k}")
        out = term if out is None else op("AddV2", [out, term], f"{p}/sum{k}")
    assert out is not None
    return out
