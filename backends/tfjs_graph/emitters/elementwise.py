"""Elementwise ONNX ops: one-to-one table rows, plus the few that need a formula."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
import onnx_ir as ir

from backends.tfjs_graph.emitters.common import invalid
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail, tf_dtype

# ONNX op -> tfjs op, for unary ops whose semantics match exactly (Round: both are half-to-even).
# Erf and Tanh are rules in activation.py: their wasm kernels are slow scalar loops.
UNARY = {
    "Abs": "Abs", "Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Reciprocal": "Reciprocal",
    "Floor": "Floor", "Ceil": "Ceil", "Round": "Round", "Relu": "Relu", "Sigmoid": "Sigmoid",
    "Softplus": "Softplus", "Not": "LogicalNot", "Sin": "Sin", "Cos": "Cos",
    "Tan": "Tan", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan", "Sinh": "Sinh", "Cosh": "Cosh",
    "Asinh": "Asinh", "Acosh": "Acosh", "Atanh": "Atanh", "IsNaN": "IsNan",
}
# ONNX op -> tfjs op, for binary ops with numpy broadcasting on both sides and equal input dtypes.
BINARY = {
    "Add": "AddV2", "Sub": "Sub", "Mul": "Mul", "Equal": "Equal", "Less": "Less", "LessOrEqual": "LessEqual",
    "Greater": "Greater", "GreaterOrEqual": "GreaterEqual", "And": "LogicalAnd", "Or": "LogicalOr",
    "Xor": "NotEqual",
}
# ONNX variadic op -> the tfjs binary op chained over its inputs (Mean divides the sum afterwards).
VARIADIC = {"Sum": "AddV2", "Mean": "AddV2", "Max": "Maximum", "Min": "Minimum"}


def t_of(dtype: str) -> dict[str, Attr]:
    """The ``T`` attribute for a given tfjs dtype."""
    return {"T": Attr.dtype(dtype)}


def is_int(ctx: EmitCtx, i: int) -> bool:
    """Whether input ``i`` is an integer tensor (int32 in tfjs)."""
    return tf_dtype(ctx.dtype(i)) == "DT_INT32"


def _signature(op: str) -> str:
    """The ONNX signature line of a table-registered rule, from the opset-21 schema."""
    schema = onnx.defs.get_schema(op, 21)
    opt = onnx.defs.OpSchema.FormalParameterOption

    def names(params: Sequence[onnx.defs.OpSchema.FormalParameter]) -> str:
        return ", ".join(p.name + {opt.Optional: "?", opt.Variadic: "..."}.get(p.option, "") for p in params)

    return f"{op}({names(schema.inputs)}) -> {names(schema.outputs)}."


def _unary(onnx_op: str, tf_op: str) -> None:
    def emit(ctx: EmitCtx) -> None:
        ctx.set_output(0, ctx.add(tf_op, [ctx.input(0)], t_of(ctx.out_dtype())))

    emit.__doc__ = _signature(onnx_op)
    TFJS.rule(onnx_op, produces={tf_op})(emit)


def _binary(onnx_op: str, tf_op: str) -> None:
    def emit(ctx: EmitCtx) -> None:
        a, b = ctx.input(0), ctx.input(1)
        ctx.set_output(0, ctx.add(tf_op, [a, b], t_of(tf_dtype(ctx.dtype(0)))))

    emit.__doc__ = _signature(onnx_op)
    TFJS.rule(onnx_op, produces={tf_op})(emit)


def _variadic(onnx_op: str, tf_op: str) -> None:
    def emit(ctx: EmitCtx) -> None:
        refs, t = ctx.inputs(), t_of(ctx.out_dtype())
        acc = refs[0]
        for k, ref in enumerate(refs[1:], 1):
            last = k == len(refs) - 1 and onnx_op != "Mean"
            acc = ctx.add(tf_op, [acc, ref], t, suffix="" if last else f"acc{k}")
        if onnx_op == "Mean" and len(refs) > 1:
            acc = ctx.add("RealDiv", [acc, ctx.constant(np.float32(len(refs)), "count")], t)
        ctx.set_output(0, acc)

    emit.__doc__ = _signature(onnx_op)
    TFJS.rule(onnx_op, produces={tf_op, "RealDiv"} if onnx_op == "Mean" else {tf_op})(emit)


for _onnx, _tf in UNARY.items():
    _unary(_onnx, _tf)
for _onnx, _tf in BINARY.items():
    _binary(_onnx, _tf)
for _onnx, _tf in VARIADIC.items():
    _variadic(_onnx, _tf)


def _abs_and_sign(ctx: EmitCtx, i: int, tag: str) -> tuple[str, str | None]:
    """|input i| and sign(input i); the sign is None when a constant input is all positive."""
    arr = ctx.const(i)
    if arr is not None:
        sign = np.sign(arr)
        return ctx.constant(np.abs(arr), f"{tag}/abs"), None if (sign > 0).all() else ctx.constant(sign, f"{tag}/sign")
    ref, t = ctx.input(i), t_of(tf_dtype(ctx.dtype(i)))
    return ctx.add("Abs", [ref], t, suffix=f"{tag}/abs"), ctx.add("Sign", [ref], t, suffix=f"{tag}/sign")


def _signed(ctx: EmitCtx, magnitude: str, signs: list[str | None]) -> str:
    """``magnitude * sign...``, the last product named after the node."""
    todo = [s for s in signs if s is not None]
    t = t_of(ctx.out_dtype())
    for k, sign in enumerate(todo):
        magnitude = ctx.add("Mul", [magnitude, sign], t, suffix="" if k == len(todo) - 1 else f"sign{k}")
    return magnitude


@TFJS.rule("Div", produces={"RealDiv", "FloorDiv", "Abs", "Sign", "Mul"})
def div(ctx: EmitCtx) -> None:
    """Div(A, B) -> C."""
    if not is_int(ctx, 0):
        ctx.set_output(0, ctx.add("RealDiv", [ctx.input(0), ctx.input(1)], t_of(ctx.out_dtype())))
        return
    # ONNX integer division truncates toward zero; tfjs int division floors, so divide magnitudes.
    abs_a, sign_a = _abs_and_sign(ctx, 0, "a")
    abs_b, sign_b = _abs_and_sign(ctx, 1, "b")
    quotient = ctx.add("FloorDiv", [abs_a, abs_b], t_of("DT_INT32"), suffix="abs_quotient")
    ctx.set_output(0, _signed(ctx, quotient, [sign_a, sign_b]))


@TFJS.rule("Mod", produces={"FloorMod", "Abs", "Sign", "Mul"})
def mod(ctx: EmitCtx) -> None:
    """Mod(A, B; fmod) -> C."""
    t = t_of(ctx.out_dtype())
    if not ctx.attr("fmod", 0):
        # fmod=0: the remainder takes the divisor's sign, which is tfjs's floor modulo.
        ctx.set_output(0, ctx.add("FloorMod", [ctx.input(0), ctx.input(1)], t))
        return
    # fmod=1 (C fmod): the remainder takes the dividend's sign.
    abs_a, sign_a = _abs_and_sign(ctx, 0, "a")
    abs_b, _ = _abs_and_sign(ctx, 1, "b")
    rem = ctx.add("FloorMod", [abs_a, abs_b], t, suffix="abs_rem")
    ctx.set_output(0, _signed(ctx, rem, [sign_a]))


# Pow by these constant exponents, as cheap kernels (the wasm Pow kernel is a scalar libm loop).
_POW_OPS = {0.5: "Sqrt", 1.0: "Identity", 2.0: "Square", 3.0: "Mul", 4.0: "Square", -1.0: "Reciprocal"}


@TFJS.rule("Pow", produces={"Pow", "Cast", "Sqrt", "Identity", "Square", "Mul", "Reciprocal"})
def pow_(ctx: EmitCtx) -> None:
    """Pow(X, Y) -> Z."""
    x, y = ctx.input(0), ctx.input(1)
    if is_int(ctx, 0) and not is_int(ctx, 1):
        # int base, float exponent: compute in float, then truncate like onnxruntime's cast back.
        x = ctx.add("Cast", [x], {"SrcT": Attr.dtype("DT_INT32"), "DstT": Attr.dtype("DT_FLOAT")}, suffix="base")
        z = ctx.add("Pow", [x, y], t_of("DT_FLOAT"), suffix="float")
        ctx.set_output(0, ctx.add("Cast", [z], {"SrcT": Attr.dtype("DT_FLOAT"), "DstT": Attr.dtype("DT_INT32")}))
        return
    exponent = _const_exponent(ctx)
    if exponent is not None:
        ctx.set_output(0, _pow_by(ctx, x, exponent))
        return
    # tfjs casts an int exponent to the float base's dtype itself (makeTypesMatch).
    ctx.set_output(0, ctx.add("Pow", [x, y], t_of(ctx.out_dtype())))


def _const_exponent(ctx: EmitCtx) -> float | None:
    """A constant scalar exponent of a float base that a cheaper kernel computes, else None."""
    arr = ctx.const(1)
    if arr is None or arr.size != 1 or ctx.out_dtype() != "DT_FLOAT":
        return None
    # The output shape must be the base's: a [1, 1] exponent would broadcast a lower-rank base.
    base = ctx.value(0).shape
    if base is None or arr.ndim > len(base):
        return None
    value = float(arr.reshape(()))
    return value if value in _POW_OPS else None


def _pow_by(ctx: EmitCtx, x: str, exponent: float) -> str:
    t = t_of("DT_FLOAT")
    if exponent == 3.0:
        return ctx.add("Mul", [ctx.add("Square", [x], t, suffix="square"), x], t)
    if exponent == 4.0:
        return ctx.add("Square", [ctx.add("Square", [x], t, suffix="square")], t)
    return ctx.add(_POW_OPS[exponent], [x], t)


@TFJS.rule("Sign", produces={"Sign", "IsNan", "SelectV2"})
def sign(ctx: EmitCtx) -> None:
    """Sign(input) -> output."""
    x, t = ctx.input(0), t_of(ctx.out_dtype())
    if is_int(ctx, 0):
        ctx.set_output(0, ctx.add("Sign", [x], t))
        return
    # tfjs's Sign maps NaN to 0; ONNX keeps NaN.
    nan = ctx.add("IsNan", [x], t, suffix="nan")
    ctx.set_output(0, ctx.add("SelectV2", [nan, x, ctx.add("Sign", [x], t, suffix="sign")], t))


@TFJS.rule("Where", produces={"SelectV2"})
def where(ctx: EmitCtx) -> None:
    """Where(condition, X, Y) -> output."""
    refs = [ctx.input(0), ctx.input(1), ctx.input(2)]
    ctx.set_output(0, ctx.add("SelectV2", refs, t_of(ctx.out_dtype())))


@TFJS.rule("IsInf", produces={"IsInf", "Equal", "Less"})
def is_inf(ctx: EmitCtx) -> None:
    """IsInf(X; detect_negative, detect_positive) -> Y."""
    neg, pos = bool(ctx.attr("detect_negative", 1)), bool(ctx.attr("detect_positive", 1))
    x, t = ctx.input(0), t_of(tf_dtype(ctx.dtype(0)))
    if neg and pos:
        ctx.set_output(0, ctx.add("IsInf", [x], t))
    elif neg or pos:
        inf = ctx.constant(np.float32(-np.inf if neg else np.inf), "inf")
        ctx.set_output(0, ctx.add("Equal", [x, inf], t))
    else:
        # Nothing is detected: x < -inf is false for every x, NaN included.
        ctx.set_output(0, ctx.add("Less", [x, ctx.constant(np.float32(-np.inf), "inf")], t))


@TFJS.rule("Identity", produces=set())
def identity(ctx: EmitCtx) -> None:
    """Identity(input) -> output."""
    ctx.set_output(0, ctx.input(0))


@TFJS.rule("Dropout", produces={"ZerosLike", "Equal"},
           limits=("training_mode must be absent or a constant false",))
def dropout(ctx: EmitCtx) -> None:
    """Dropout(data, ratio?, training_mode?; seed) -> output, mask?."""
    training = ctx.const(2)
    if ctx.has_input(2) and (training is None or bool(training)):
        raise fail("attribute", "Dropout in training mode is random; only inference is supported",
                   "export the model in eval mode")
    x = ctx.input(0)
    ctx.set_output(0, x)
    if ctx.has_output(1):
        # Nothing is dropped: the mask is all true, built from x so that its shape may be dynamic.
        t = t_of(ctx.out_dtype())
        zeros = ctx.add("ZerosLike", [x], t, suffix="zeros")
        ctx.set_output(1, ctx.add("Equal", [zeros, ctx.constant(np.float32(0), "zero")], t, suffix="mask"))


# Narrow integer types tfjs holds in int32: (bits, signed). A cast into one must wrap around.
_NARROW = {ir.DataType.INT8: (8, True), ir.DataType.UINT8: (8, False), ir.DataType.INT16: (16, True),
           ir.DataType.UINT16: (16, False)}
_RANGE = {ir.DataType.BOOL: (0, 1), **{k: ((-(1 << (b - 1)), (1 << (b - 1)) - 1) if s else (0, (1 << b) - 1))
                                       for k, (b, s) in _NARROW.items()}}


def _wrap(ctx: EmitCtx, ref: str, to: ir.DataType) -> str:
    """Two's-complement wrap-around of an int32 tensor into a narrow integer type."""
    bits, signed = _NARROW[to]
    src = _RANGE.get(ctx.dtype(0) or ir.DataType.UNDEFINED)
    lo, hi = _RANGE[to]
    if src is not None and lo <= src[0] and src[1] <= hi:
        return ref
    t = t_of("DT_INT32")
    half = ctx.constant(np.int32(1 << (bits - 1)), "half")
    if signed:
        ref = ctx.add("AddV2", [ref, half], t, suffix="shift")
    ref = ctx.add("FloorMod", [ref, ctx.constant(np.int32(1 << bits), "modulus")], t, suffix="wrap")
    return ctx.add("Sub", [ref, half], t, suffix="unshift") if signed else ref


@TFJS.rule("Cast", produces={"Cast", "NotEqual", "AddV2", "FloorMod", "Sub"},
           limits=("to float16, double or string fails: TensorFlow.js has no such dtype",))
def cast(ctx: EmitCtx) -> None:
    """Cast(input; saturate, to) -> output."""
    try:
        to = ir.DataType(ctx.attr("to"))
    except ValueError:
        raise invalid(ctx, f"'to' {ctx.attr('to')} is not an ONNX element type") from None
    src, dst = tf_dtype(ctx.dtype(0)), tf_dtype(to)
    x = ctx.input(0)
    if dst == "DT_BOOL" and src != "DT_BOOL":
        # The wasm Cast kernel converts to bool through a Uint8Array (0.5 -> false, 256 -> false).
        zero = ctx.constant(np.zeros((), np.float32 if src == "DT_FLOAT" else np.int32), "zero")
        ctx.set_output(0, ctx.add("NotEqual", [x, zero], t_of(src)))
        return
    if src != dst:
        # tfjs float -> int32 truncates toward zero (Int32Array conversion), as ONNX does.
        x = ctx.add("Cast", [x], {"SrcT": Attr.dtype(src), "DstT": Attr.dtype(dst)},
                    suffix="cast" if to in _NARROW else "")
    ctx.set_output(0, _wrap(ctx, x, to) if to in _NARROW else x)
