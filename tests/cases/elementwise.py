"""Parity cases for elementwise, comparison, logic and cast ops."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx

from tests.cases import Inputs, OpCase, node_model, rand

F, INT, B = np.float32, np.int64, np.bool_
_POSITIVE = {"Log", "Sqrt", "Reciprocal"}
_UNIT = {"Asin", "Acos", "Atanh"}
_GE1 = {"Acosh"}


def fixed(**arrays: Any) -> Inputs:
    """Inputs with given values (for NaN, inf, halves and other special points)."""
    return lambda rng: {k: np.asarray(v) for k, v in arrays.items()}


def mixed(*parts: tuple[str, Any, Sequence[int], float, float]) -> Inputs:
    """Random inputs of several dtypes: (name, dtype, shape, low, high)."""

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = {}
        for name, dtype, shape, low, high in parts:
            out.update({k: np.asarray(v) for k, v in rand((name, shape), dtype=dtype, low=low, high=high)(rng).items()})
        return out

    return make


def _unary(op: str) -> OpCase:
    low, high = ((0.1, 3.0) if op in _POSITIVE else (-0.9, 0.9) if op in _UNIT else (1.1, 3.0) if op in _GE1
                 else (-3.0, 3.0))
    return _one(op, "", B if op == "Not" else F, low, high)


def _one(op: str, tag: str, dtype: Any, low: float, high: float) -> OpCase:
    return OpCase(f"{op}{tag}", op, node_model(op, [("x", dtype, [2, 3, 4])]),
                  rand(("x", (2, 3, 4)), dtype=dtype, low=low, high=high))


def _bin(op: str, sa: Sequence[int], sb: Sequence[int], dtype: Any = F, low: float = -3.0, high: float = 3.0,
         tag: str = "", **attrs: Any) -> OpCase:
    name = np.dtype(dtype).name
    return OpCase(f"{op}-{name}-{'x'.join(map(str, sa)) or 's'}-{'x'.join(map(str, sb)) or 's'}{tag}", op,
                  node_model(op, [("a", dtype, sa), ("b", dtype, sb)], **attrs),
                  mixed(("a", dtype, sa, low, high), ("b", dtype, sb, low, high)))


def _var(op: str, shapes: Sequence[Sequence[int]], dtype: Any = F) -> OpCase:
    names = [f"x{k}" for k in range(len(shapes))]
    tag = "_".join("x".join(map(str, s)) or "s" for s in shapes)
    inputs = [(n, dtype, s) for n, s in zip(names, shapes, strict=True)]
    return OpCase(f"{op}-{np.dtype(dtype).name}-{tag}", op, node_model(op, inputs),
                  rand(*zip(names, shapes, strict=True), dtype=dtype, low=-5, high=5))


def _cast(src: Any, to: int, values: Any, tag: str) -> OpCase:
    arr = np.asarray(values, dtype=src)
    return OpCase(f"Cast-{np.dtype(src).name}-to-{tag}", "Cast", node_model("Cast", [("x", src, arr.shape)], to=to),
                  fixed(x=arr))


_SPECIAL = np.array([[0.0, -0.0, 1.5, -1.5, np.inf, -np.inf], [np.nan, 2.5, -2.5, 0.5, -0.5, 3.0]], F)
_HALVES = np.array([[-2.5, -1.5, -0.5, 0.5, 1.5, 2.5], [3.5, 4.5, -3.5, 0.49, 1.51, -0.51]], F)
_FLOATS = np.array([[-3.7, -2.5, -0.5, 0.0, 0.5, 0.99], [1.0, 2.5, 3.7, 255.9, -128.4, 100.2]], F)
_INTS = np.array([[-300, -129, -128, -1, 0, 1], [127, 128, 255, 256, 65535, 70000]], INT)
_T = onnx.TensorProto

UNARY_CASES = [_unary(op) for op in ("Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sign",
                                     "Relu", "Sigmoid", "Tanh", "Softplus", "Erf", "Not", "Sin", "Cos", "Tan", "Asin",
                                     "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh")] + [
    OpCase("Round-halves", "Round", node_model("Round", [("x", F, [2, 6])]), fixed(x=_HALVES)),
    OpCase("Sign-special", "Sign", node_model("Sign", [("x", F, [2, 6])]), fixed(x=_SPECIAL)),
    _one("Abs", "-int64", INT, -9, 9), _one("Neg", "-int64", INT, -9, 9), _one("Sign", "-int64", INT, -3, 3),
    OpCase("IsNaN", "IsNaN", node_model("IsNaN", [("x", F, [2, 6])]), fixed(x=_SPECIAL)),
    OpCase("IsInf", "IsInf", node_model("IsInf", [("x", F, [2, 6])]), fixed(x=_SPECIAL)),
    OpCase("IsInf-positive", "IsInf", node_model("IsInf", [("x", F, [2, 6])], detect_negative=0), fixed(x=_SPECIAL)),
    OpCase("IsInf-negative", "IsInf", node_model("IsInf", [("x", F, [2, 6])], detect_positive=0), fixed(x=_SPECIAL)),
    OpCase("IsInf-none", "IsInf", node_model("IsInf", [("x", F, [2, 6])], detect_positive=0, detect_negative=0),
           fixed(x=_SPECIAL)),
]

ARITH_CASES = [
    *(_bin(op, [2, 3, 4], [2, 3, 4]) for op in ("Add", "Sub", "Mul")),
    *(_bin(op, [2, 3, 4], [4]) for op in ("Add", "Sub", "Mul")),
    *(_bin(op, [3, 1], [2, 1, 4]) for op in ("Add", "Sub", "Mul")),
    *(_bin(op, [], [2, 3]) for op in ("Add", "Sub", "Mul")),
    *(_bin(op, [2, 3, 4], [1, 3, 1], dtype=INT, low=-50, high=50) for op in ("Add", "Sub", "Mul")),
    _bin("Add", [2, 3], [], dtype=np.int32, low=-50, high=50),
    _bin("Div", [2, 3, 4], [3, 1], low=0.5, high=3.0),
    _bin("Div", [], [2, 3], low=0.5, high=3.0),
    OpCase("Div-float-signs", "Div", node_model("Div", [("a", F, [2, 3, 4]), ("b", F, [4])]),
           mixed(("a", F, (2, 3, 4), -9, 9), ("b", F, (4,), 0.5, 2))),
    # Integer division truncates toward zero: negative dividends and divisors, non-multiples.
    OpCase("Div-int64-trunc", "Div", node_model("Div", [("a", INT, [2, 6]), ("b", INT, [2, 6])]),
           fixed(a=np.array([[7, -7, 7, -7, 0, 9], [-9, 1, -1, 100, -100, 6]], INT),
                 b=np.array([[2, 2, -2, -2, 3, 3], [4, 3, 3, -7, 7, -3]], INT))),
    OpCase("Div-int64-broadcast", "Div", node_model("Div", [("a", INT, [2, 3, 4]), ("b", INT, [4])]),
           fixed(a=np.arange(-12, 12, dtype=INT).reshape(2, 3, 4) * 5, b=np.array([3, -4, 7, -1], INT))),
    OpCase("Div-int64-const-divisor", "Div",
           node_model("Div", [("a", INT, [2, 3, 4])], initializers={"b": np.array([3, -2, 5, 4], INT)}),
           rand(("a", (2, 3, 4)), dtype=INT, low=-40, high=40)),
    OpCase("Div-int64-const-positive", "Div",
           node_model("Div", [("a", INT, [2, 3, 4])], initializers={"b": np.array(3, INT)}),
           rand(("a", (2, 3, 4)), dtype=INT, low=-40, high=40)),
    OpCase("Pow-float", "Pow", node_model("Pow", [("a", F, [2, 3, 4]), ("b", F, [4])]),
           mixed(("a", F, (2, 3, 4), 0.1, 3), ("b", F, (4,), -2, 2))),
    OpCase("Pow-float-int-exponent", "Pow", node_model("Pow", [("a", F, [2, 3, 4]), ("b", INT, [3, 1])]),
           mixed(("a", F, (2, 3, 4), -3, 3), ("b", INT, (3, 1), -2, 4))),
    OpCase("Pow-float-const-square", "Pow",
           node_model("Pow", [("a", F, [2, 3, 4])], initializers={"b": np.array(2, F)}), rand(("a", (2, 3, 4)))),
    OpCase("Pow-int64", "Pow", node_model("Pow", [("a", INT, [2, 3, 4]), ("b", INT, [4])]),
           mixed(("a", INT, (2, 3, 4), -5, 6), ("b", INT, (4,), 0, 4))),
    OpCase("Pow-int64-float-exponent", "Pow", node_model("Pow", [("a", INT, [2, 3]), ("b", F, [])]),
           fixed(a=np.array([[1, 2, 3], [4, 5, 10]], INT), b=np.array(1.5, F))),
    OpCase("Mod-int64", "Mod", node_model("Mod", [("a", INT, [2, 6]), ("b", INT, [2, 6])]),
           fixed(a=np.array([[7, -7, 7, -7, 0, 9], [-9, 1, -1, 100, -100, 6]], INT),
                 b=np.array([[3, 3, -3, -3, 3, 3], [4, 3, 3, -7, 7, -3]], INT))),
    OpCase("Mod-int64-fmod", "Mod", node_model("Mod", [("a", INT, [2, 6]), ("b", INT, [2, 6])], fmod=1),
           fixed(a=np.array([[7, -7, 7, -7, 0, 9], [-9, 1, -1, 100, -100, 6]], INT),
                 b=np.array([[3, 3, -3, -3, 3, 3], [4, 3, 3, -7, 7, -3]], INT))),
    OpCase("Mod-int64-broadcast", "Mod", node_model("Mod", [("a", INT, [2, 3, 4]), ("b", INT, [4])]),
           fixed(a=np.arange(-12, 12, dtype=INT).reshape(2, 3, 4) * 5, b=np.array([3, -4, 7, -1], INT))),
    OpCase("Mod-float-fmod", "Mod", node_model("Mod", [("a", F, [2, 3, 4]), ("b", F, [4])], fmod=1),
           mixed(("a", F, (2, 3, 4), -9, 9), ("b", F, (4,), 0.7, 3))),
    OpCase("Mod-float-fmod-const", "Mod",
           node_model("Mod", [("a", F, [2, 3, 4])], initializers={"b": np.array([1.5, -2.0, 0.75, 3.0], F)}, fmod=1),
           rand(("a", (2, 3, 4)), low=-9, high=9)),
    OpCase("Mod-int64-fmod-const", "Mod",
           node_model("Mod", [("a", INT, [2, 3, 4])], initializers={"b": np.array(4, INT)}, fmod=1),
           rand(("a", (2, 3, 4)), dtype=INT, low=-20, high=20)),
]

VARIADIC_CASES = [
    *(_var(op, [[2, 3, 4]]) for op in ("Sum", "Mean", "Max", "Min")),
    *(_var(op, [[2, 3, 4], [4]]) for op in ("Sum", "Mean", "Max", "Min")),
    *(_var(op, [[3, 1], [2, 1, 4], []]) for op in ("Sum", "Mean", "Max", "Min")),
    *(_var(op, [[2, 3, 4], [3, 1], [1, 1, 4], [2, 1, 1]]) for op in ("Sum", "Mean", "Max", "Min")),
    *(_var(op, [[2, 3], [3]], dtype=INT) for op in ("Max", "Min")),
]

COMPARE_CASES = [
    *(_bin(op, [2, 3, 4], [4]) for op in ("Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual")),
    *(_bin(op, [3, 1], [2, 1, 4], dtype=INT, low=-2, high=2)
      for op in ("Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual")),
    *(_bin(op, [2, 3], [], dtype=INT, low=-2, high=2) for op in ("Equal", "Greater")),
    _bin("Equal", [2, 3, 4], [3, 1], dtype=B),
    *(_bin(op, [2, 3, 4], [2, 3, 4], dtype=B) for op in ("And", "Or", "Xor")),
    *(_bin(op, [3, 1], [2, 1, 4], dtype=B) for op in ("And", "Or", "Xor")),
    *(_bin(op, [2, 3], [], dtype=B) for op in ("And", "Or", "Xor")),
    OpCase("Not-2x1x4", "Not", node_model("Not", [("x", B, [2, 1, 4])]), rand(("x", (2, 1, 4)), dtype=B)),
    OpCase("Where-float", "Where", node_model("Where", [("c", B, [2, 1, 4]), ("a", F, [3, 1]), ("b", F, [])]),
           mixed(("c", B, (2, 1, 4), 0, 1), ("a", F, (3, 1), -2, 2), ("b", F, (), -2, 2))),
    OpCase("Where-int64", "Where", node_model("Where", [("c", B, [4]), ("a", INT, [2, 3, 4]), ("b", INT, [3, 1])]),
           mixed(("c", B, (4,), 0, 1), ("a", INT, (2, 3, 4), -9, 9), ("b", INT, (3, 1), -9, 9))),
    OpCase("Where-int32", "Where",
           node_model("Where", [("c", B, [2, 3, 4]), ("a", np.int32, [2, 3, 4]), ("b", np.int32, [2, 3, 4])]),
           mixed(("c", B, (2, 3, 4), 0, 1), ("a", np.int32, (2, 3, 4), -9, 9), ("b", np.int32, (2, 3, 4), -9, 9))),
]

CAST_CASES = [
    _cast(F, _T.INT32, _FLOATS, "int32"),
    _cast(F, _T.INT64, _FLOATS, "int64"),
    _cast(F, _T.BOOL, _FLOATS, "bool"),
    _cast(F, _T.FLOAT, _FLOATS, "float"),
    _cast(F, _T.UINT8, np.abs(_FLOATS), "uint8"),
    _cast(F, _T.INT8, np.clip(_FLOATS, -128, 127), "int8"),
    _cast(INT, _T.FLOAT, _INTS, "float"),
    _cast(INT, _T.INT32, _INTS, "int32"),
    _cast(INT, _T.BOOL, _INTS, "bool"),
    _cast(INT, _T.INT8, _INTS, "int8"),
    _cast(INT, _T.UINT8, _INTS, "uint8"),
    _cast(INT, _T.INT16, _INTS * 1000, "int16"),
    _cast(INT, _T.UINT16, _INTS * 1000, "uint16"),
    _cast(np.int32, _T.INT64, _INTS.astype(np.int32), "int64"),
    _cast(B, _T.FLOAT, [[True, False, True], [False, False, True]], "float"),
    _cast(B, _T.INT64, [[True, False, True], [False, False, True]], "int64"),
    _cast(B, _T.INT8, [[True, False, True], [False, False, True]], "int8"),
    _cast(B, _T.BOOL, [[True, False, True], [False, False, True]], "bool"),
    OpCase("Cast-float-to-double", "Cast", node_model("Cast", [("x", F, [2, 3])], to=_T.DOUBLE),
           rand(("x", (2, 3))), refused="float64 has no TensorFlow.js equivalent"),
]

MISC_CASES = [
    OpCase("Identity", "Identity", node_model("Identity", [("x", F, [2, 3, 4])]), rand(("x", (2, 3, 4)))),
    OpCase("Identity-int64", "Identity", node_model("Identity", [("x", INT, [2, 3])]), rand(("x", (2, 3)), dtype=INT)),
    OpCase("Dropout", "Dropout", node_model("Dropout", [("x", F, [2, 3, 4])]), rand(("x", (2, 3, 4)))),
    OpCase("Dropout-ratio-mask", "Dropout",
           node_model("Dropout", [("x", F, [2, 3, 4])], outputs=("y", "mask"),
                      initializers={"ratio": np.array(0.3, F), "training_mode": np.array(False)}),
           rand(("x", (2, 3, 4)))),
    OpCase("Dropout-mask", "Dropout", node_model("Dropout", [("x", F, [2, "n"])], outputs=("y", "mask")),
           rand(("x", (2, 5)))),
    OpCase("Dropout-training", "Dropout",
           node_model("Dropout", [("x", F, [2, 3, 4])], outputs=("y", "mask"),
                      initializers={"ratio": np.array(0.0, F), "training_mode": np.array(True)}),
           rand(("x", (2, 3, 4))), refused="training-mode Dropout is random"),
]

CASES = UNARY_CASES + ARITH_CASES + VARIADIC_CASES + COMPARE_CASES + CAST_CASES + MISC_CASES
