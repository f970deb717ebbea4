"""Elementwise ONNX ops: one-to-one table rows, plus the few that need a formula."""

from __future__ import annotations

from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx

# ONNX op -> tfjs op, for unary ops whose semantics match exactly.
UNARY = {
    "Abs": "Abs", "Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Reciprocal": "Reciprocal",
    "Floor": "Floor", "Ceil": "Ceil", "Round": "Round", "Sign": "Sign", "Relu": "Relu", "Sigmoid": "Sigmoid",
    "Tanh": "Tanh", "Softplus": "Softplus", "Erf": "Erf", "Not": "LogicalNot", "Sin": "Sin", "Cos": "Cos",
    "Tan": "Tan", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan", "Sinh": "Sinh", "Cosh": "Cosh",
    "Asinh": "Asinh", "Acosh": "Acosh", "Atanh": "Atanh", "IsNaN": "IsNan",
}
# ONNX op -> tfjs op, for binary ops with numpy broadcasting on both sides.
BINARY = {
    "Add": "AddV2", "Sub": "Sub", "Mul": "Mul", "Div": "RealDiv", "Pow": "Pow", "Equal": "Equal",
    "Less": "Less", "LessOrEqual": "LessEqual", "Greater": "Greater", "GreaterOrEqual": "GreaterEqual",
    "And": "LogicalAnd", "Or": "LogicalOr",
}


def _unary(tf_op: str) -> None:
    @TFJS.rule(next(k for k, v in UNARY.items() if v == tf_op), produces={tf_op}, since=1)
    def emit(ctx: EmitCtx) -> None:
        ctx.set_output(0, ctx.add(tf_op, [ctx.input(0)], {"T": Attr.dtype(ctx.out_dtype())}))


for _tf in UNARY.values():
    _unary(_tf)
