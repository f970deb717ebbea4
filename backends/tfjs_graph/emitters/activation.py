"""Activation ONNX ops: the tfjs op when its semantics match, else a formula of primitive ops."""

from __future__ import annotations

import math

import numpy as np

from backends.tfjs_graph.emitters.common import invalid, to_channels_first, to_channels_last
from backends.tfjs_graph.emitters.elementwise import is_int, t_of
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, tf_dtype

# ONNX Selu's default attributes (float32) and the constants tfjs's Selu kernel hard-codes.
_SELU_ALPHA, _SELU_GAMMA = np.float32(1.67326319217681884765625), np.float32(1.05070102214813232421875)


class _Ops:
    """Emits float ops for one node with the node's ``T``; the last op takes the node's name."""

    def __init__(self, ctx: EmitCtx) -> None:
        self.ctx, self.t, self._k = ctx, t_of(ctx.out_dtype()), 0

    def __call__(self, op: str, *inputs: str, last: bool = False) -> str:
        self._k += 1
        return self.ctx.add(op, list(inputs), self.t, suffix="" if last else f"{op.lower()}{self._k}")

    def const(self, value: float) -> str:
        dtype = np.float32 if self.t["T"].value == "DT_FLOAT" else np.int32
        return self.ctx.constant(np.asarray(value, dtype=dtype), f"c{self._k}")


def _scaled_elu(ops: _Ops, x: str, pos: float, neg: float) -> str:
    """``pos * x`` where x > 0, else ``neg * (exp(x) - 1)``."""
    elu = ops("Elu", x)
    pos_part = x if pos == 1.0 else ops("Mul", x, ops.const(pos))
    return ops("SelectV2", ops("Greater", x, ops.const(0.0)), pos_part, ops("Mul", elu, ops.const(neg)), last=True)


@TFJS.rule("Elu", produces={"Elu", "Greater", "Mul", "SelectV2"})
def elu(ctx: EmitCtx) -> None:
    """Elu(X; alpha) -> Y."""
    alpha, ops = float(ctx.attr("alpha", 1.0)), _Ops(ctx)
    x = ctx.input(0)
    ctx.set_output(0, ops("Elu", x, last=True) if alpha == 1.0 else _scaled_elu(ops, x, 1.0, alpha))


@TFJS.rule("Selu", produces={"Selu", "Elu", "Greater", "Mul", "SelectV2"})
def selu(ctx: EmitCtx) -> None:
    """Selu(X; alpha, gamma) -> Y."""
    alpha, gamma = np.float32(ctx.attr("alpha", _SELU_ALPHA)), np.float32(ctx.attr("gamma", _SELU_GAMMA))
    ops, x = _Ops(ctx), ctx.input(0)
    if alpha == _SELU_ALPHA and gamma == _SELU_GAMMA:
        ctx.set_output(0, ops("Selu", x, last=True))
    else:
        ctx.set_output(0, _scaled_elu(ops, x, float(gamma), float(alpha) * float(gamma)))


@TFJS.rule("Celu", produces={"Elu", "RealDiv", "Mul"})
def celu(ctx: EmitCtx) -> None:
    """Celu(X; alpha) -> Y."""
    alpha, ops, x = float(ctx.attr("alpha", 1.0)), _Ops(ctx), ctx.input(0)
    if alpha == 1.0:
        ctx.set_output(0, ops("Elu", x, last=True))
        return
    # alpha * elu(x / alpha) is x for x > 0 and alpha * (exp(x / alpha) - 1) otherwise.
    ctx.set_output(0, ops("Mul", ops("Elu", ops("RealDiv", x, ops.const(alpha))), ops.const(alpha), last=True))


@TFJS.rule("LeakyRelu", produces={"LeakyRelu"})
def leaky_relu(ctx: EmitCtx) -> None:
    """LeakyRelu(X; alpha) -> Y."""
    # tfjs's default alpha is 0.2 and ONNX's 0.01: always write it.
    attrs = {"alpha": Attr.f(ctx.attr("alpha", 0.01)), **t_of(ctx.out_dtype())}
    ctx.set_output(0, ctx.add("LeakyRelu", [ctx.input(0)], attrs))


def _channel_slope(ctx: EmitCtx) -> np.ndarray | None:
    """A constant slope of shape [C, 1, ..., 1] for an N, C, ... input, flattened to [C]; else None."""
    slope, rank = ctx.const(1), ctx.rank(0)
    if slope is None or rank < 3 or slope.size == 1:
        return None
    dims = list(slope.shape)
    while dims and dims[0] == 1:
        dims.pop(0)
    return slope.reshape(-1) if len(dims) == rank - 1 and all(d == 1 for d in dims[1:]) else None


def _trailing_slope(ctx: EmitCtx) -> bool:
    """The wasm Prelu kernel cycles the slope along x's innermost dims, ignoring its shape."""
    x_shape, s_shape = ctx.shape(0), ctx.shape(1)
    if x_shape is None or s_shape is None or None in s_shape:
        return False
    dims = list(s_shape)
    while dims and dims[0] == 1:
        dims.pop(0)
    return not dims or list(x_shape[len(x_shape) - len(dims):]) == dims


@TFJS.rule("PRelu", produces={"Prelu", "Transpose", "Less", "Mul", "SelectV2"})
def prelu(ctx: EmitCtx) -> None:
    """PRelu(X, slope) -> Y."""
    x, t = ctx.input(0), t_of(ctx.out_dtype())
    floats = not is_int(ctx, 0)
    channel = _channel_slope(ctx) if floats else None
    if channel is not None:
        # Per-channel slope on NC...: tfjs's Prelu wants the channels last (and fuses into convs there).
        rank = ctx.rank(0)
        y = ctx.add("Prelu", [to_channels_last(ctx, x, rank), ctx.constant(channel.astype(np.float32), "alpha")],
                    t, suffix="prelu")
        ctx.set_output(0, to_channels_first(ctx, y, rank))
    elif floats and _trailing_slope(ctx):
        ctx.set_output(0, ctx.add("Prelu", [x, ctx.input(1)], t))
    else:
        ops = _Ops(ctx)
        negative = ops("Less", x, ops.const(0))
        ctx.set_output(0, ops("SelectV2", negative, ops("Mul", x, ctx.input(1)), x, last=True))


@TFJS.rule("ThresholdedRelu", produces={"Greater", "SelectV2"})
def thresholded_relu(ctx: EmitCtx) -> None:
    """ThresholdedRelu(X; alpha) -> Y."""
    ops, x = _Ops(ctx), ctx.input(0)
    above = ops("Greater", x, ops.const(float(ctx.attr("alpha", 1.0))))
    ctx.set_output(0, ops("SelectV2", above, x, ops.const(0.0), last=True))


@TFJS.rule("Shrink", produces={"Less", "Greater", "AddV2", "Sub", "SelectV2"})
def shrink(ctx: EmitCtx) -> None:
    """Shrink(input; bias, lambd) -> output."""
    ops, x = _Ops(ctx), ctx.input(0)
    bias, lambd = float(ctx.attr("bias", 0.0)), float(ctx.attr("lambd", 0.5))
    if ctx.out_dtype() == "DT_INT32":
        if not (np.isfinite(bias) and np.isfinite(lambd)):
            raise invalid(ctx, f"bias {bias} and lambd {lambd} must be finite for an integer input")
        # Past the int32 range both act as the range's end on int32 values.
        bias, lambd = (float(np.clip(v, 1 - (1 << 31), (1 << 31) - 1)) for v in (bias, lambd))
    upper = ops("SelectV2", ops("Greater", x, ops.const(lambd)), ops("Sub", x, ops.const(bias)), ops.const(0.0))
    below = ops("Less", x, ops.const(-lambd))
    ctx.set_output(0, ops("SelectV2", below, ops("AddV2", x, ops.const(bias)), upper, last=True))


@TFJS.rule("HardSigmoid", produces={"Mul", "AddV2", "ClipByValue"})
def hard_sigmoid(ctx: EmitCtx) -> None:
    """HardSigmoid(X; alpha, beta) -> Y."""
    ops = _Ops(ctx)
    ctx.set_output(0, _hard_sigmoid(ops, ctx.input(0), ctx.attr("alpha", 0.2), ctx.attr("beta", 0.5), last=True))


def _hard_sigmoid(ops: _Ops, x: str, alpha: float, beta: float, last: bool = False) -> str:
    linear = ops("AddV2", ops("Mul", x, ops.const(alpha)), ops.const(beta))
    return ops("ClipByValue", linear, ops.const(0.0), ops.const(1.0), last=last)


@TFJS.rule("HardSwish", produces={"Mul", "AddV2", "ClipByValue"})
def hard_swish(ctx: EmitCtx) -> None:
    """HardSwish(X) -> Y."""
    ops, x = _Ops(ctx), ctx.input(0)
    ctx.set_output(0, ops("Mul", x, _hard_sigmoid(ops, x, 1.0 / 6.0, 0.5), last=True))


@TFJS.rule("Softsign", produces={"Abs", "AddV2", "RealDiv"})
def softsign(ctx: EmitCtx) -> None:
    """Softsign(input) -> output."""
    ops, x = _Ops(ctx), ctx.input(0)
    ctx.set_output(0, ops("RealDiv", x, ops("AddV2", ops("Abs", x), ops.const(1.0)), last=True))


@TFJS.rule("Mish", produces={"Softplus", "Tanh", "Mul"})
def mish(ctx: EmitCtx) -> None:
    """Mish(X) -> Y."""
    ops, x = _Ops(ctx), ctx.input(0)
    ctx.set_output(0, ops("Mul", x, ops("Tanh", ops("Softplus", x)), last=True))


# erf(u) = u * P(u^2) / Q(u^2) on u in [-4, 4] (Eigen's float erf; |error| < 5e-7 in float32) and +-1 past it.
# tfjs wasm's Erf and Tanh kernels are scalar libm loops (Tanh ~50x its XNNPACK Sigmoid; Erf ~20x a Mul), so erf
# is this rational function of cheap ops (1.6x faster than the Erf kernel) and tanh goes through Sigmoid.
ERF_P = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
         -7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02)
ERF_Q = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
         -1.42647390514189e-02)
ERF_OPS = frozenset({"ClipByValue", "Square", "Mul", "AddV2", "RealDiv"})
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
# logit(Phi(x)) ~= x P(x^2), P's coefficients highest power first (see gelu).
_GELU_LOGIT_P = (2.227741752139356e-06, -6.098730872212792e-05, -2.506352743158434e-04, 7.293924005762893e-02,
                 1.5956554665474139)


def _horner(ops: _Ops, s: str, coeffs: list[float]) -> str:
    """``sum c_k s^(n-1-k)`` (highest power first); the leading coefficient is folded into the first Mul."""
    acc = ops("AddV2", ops("Mul", s, ops.const(coeffs[0])), ops.const(coeffs[1]))
    for c in coeffs[2:]:
        acc = ops("AddV2", ops("Mul", acc, s), ops.const(c))
    return acc


def scaled_erf(ops: _Ops, x: str, inner: float, outer: float, last: bool = False) -> str:
    """``outer * erf(inner * x)`` with both scales folded into the coefficients (no Erf kernel)."""
    limit = 4.0 / abs(inner)
    xc = ops("ClipByValue", x, ops.const(-limit), ops.const(limit))
    s = ops("Square", xc)
    n, m = len(ERF_P), len(ERF_Q)
    # u = inner * xc: u^2 = inner^2 * s, and u * P / Q = xc * (inner * P(inner^2 s)) / Q(inner^2 s).
    p = [c * inner ** (2 * (n - 1 - k)) * inner * outer for k, c in enumerate(ERF_P)]
    q = [c * inner ** (2 * (m - 1 - k)) for k, c in enumerate(ERF_Q)]
    return ops("RealDiv", ops("Mul", _horner(ops, s, p), xc), _horner(ops, s, q), last=last)


def fast_tanh(ops: _Ops, x: str, last: bool = False) -> str:
    """tanh(x) = 2 sigmoid(2x) - 1."""
    sig = ops("Sigmoid", ops("Mul", x, ops.const(2.0)))
    return ops("Sub", ops("Mul", sig, ops.const(2.0)), ops.const(1.0), last=last)


@TFJS.rule("Erf", produces=ERF_OPS | {"Erf"},
           limits=("float32 as a rational function of cheap ops (abs. error < 5e-7), not the Erf kernel",))
def erf(ctx: EmitCtx) -> None:
    """Erf(input) -> output."""
    ops, x = _Ops(ctx), ctx.input(0)
    if ctx.out_dtype() != "DT_FLOAT":
        ctx.set_output(0, ops("Erf", x, last=True))
        return
    ctx.set_output(0, scaled_erf(ops, x, 1.0, 1.0, last=True))


@TFJS.rule("Tanh", produces={"Mul", "Sigmoid", "Sub", "Tanh"})
def tanh(ctx: EmitCtx) -> None:
    """Tanh(input) -> output."""
    ops, x = _Ops(ctx), ctx.input(0)
    ctx.set_output(0, fast_tanh(ops, x, last=True) if ctx.out_dtype() == "DT_FLOAT" else ops("Tanh", x, last=True))


@TFJS.rule("Gelu", produces={"Square", "Mul", "AddV2", "Sigmoid"},
           limits=("exact (erf) GELU as x*sigmoid(x*P(x^2)), error <= 3.2e-6 * max(1, abs(y))",))
def gelu(ctx: EmitCtx) -> None:
    """Gelu(X; approximate) -> Y."""
    ops, x = _Ops(ctx), ctx.input(0)
    if ctx.attr("approximate", "none") == "tanh":
        # 0.5 x (1 + tanh(z)) = x sigmoid(2z), z = sqrt(2/pi) (x + 0.044715 x^3) = x (a + b x^2).
        a = 2.0 * _SQRT_2_OVER_PI
        cubic = ops("AddV2", ops("Mul", ops("Square", x), ops.const(a * 0.044715)), ops.const(a))
        ctx.set_output(0, ops("Mul", x, ops("Sigmoid", ops("Mul", x, cubic)), last=True))
        return
    # Phi(x) = sigmoid(x P(x^2)), P fitted (weighted minimax) to logit(Phi(x)) on [0, 6]: |GELU error| <= 3.2e-6 *
    # max(1, |GELU(x)|) for every float32 x; P > 0 for x^2 >= 0, so the tails saturate without a clamp. 12 cheap ops
    # (Sigmoid is an XNNPACK kernel) in place of the Erf kernel's scalar loop, or of the 26-op rational erf.
    s = ops("Square", x)
    gate = ops("Sigmoid", ops("Mul", _horner(ops, s, list(_GELU_LOGIT_P)), x))
    ctx.set_output(0, ops("Mul", x, gate, last=True))


def _bound(ctx: EmitCtx, i: int) -> tuple[str | None, float | None]:
    """Clip bound ``i`` as (tfjs ref, constant value); (None, None) when absent."""
    if not ctx.has_input(i):
        return None, None
    arr = ctx.const(i)
    return ctx.input(i), None if arr is None or arr.size != 1 else float(arr.reshape(()))


@TFJS.rule("Clip", produces={"ClipByValue", "Maximum", "Minimum"})
def clip(ctx: EmitCtx) -> None:
    """Clip(input, min?, max?) -> output."""
    x, t = ctx.input(0), t_of(ctx.out_dtype())
    (lo, lo_val), (hi, hi_val) = _bound(ctx, 1), _bound(ctx, 2)
    floats = tf_dtype(ctx.dtype(0)) == "DT_FLOAT"
    # ClipByValue reads its bounds at run time and requires min < max (min == max fills, fine);
    # the wasm kernel reads the data as float32, so int tensors take Maximum/Minimum.
    if floats and lo is not None and hi is not None and lo_val is not None and hi_val is not None \
            and lo_val <= hi_val:
        ctx.set_output(0, ctx.add("ClipByValue", [x, lo, hi], t))
        return
    if lo is not None:
        x = ctx.add("Maximum", [x, lo], t, suffix="" if hi is None else "min")
    if hi is not None:
        # Minimum last: when min > max the result is max, as ONNX specifies.
        x = ctx.add("Minimum", [x, hi], t)
    ctx.set_output(0, x)

