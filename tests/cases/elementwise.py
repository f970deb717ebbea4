"""Parity cases for elementwise ops."""

from __future__ import annotations

import numpy as np

from tests.cases import OpCase, node_model, rand

_POSITIVE = {"Log", "Sqrt", "Reciprocal"}
_UNIT = {"Asin", "Acos", "Atanh"}
_GE1 = {"Acosh"}


def _unary(op: str) -> OpCase:
    low, high = (0.1, 3.0) if op in _POSITIVE else (-0.9, 0.9) if op in _UNIT else (1.1, 3.0) if op in _GE1 else (-3.0, 3.0)
    dtype = np.bool_ if op == "Not" else np.float32
    return OpCase(f"{op}", op, node_model(op, [("x", dtype, [2, 3, 4])]), rand(("x", (2, 3, 4)), dtype=dtype, low=low, high=high))


CASES = [_unary(op) for op in ("Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sign",
                              "Relu", "Sigmoid", "Tanh", "Softplus", "Erf", "Not", "Sin", "Cos", "Tan", "Asin", "Acos",
                              "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh")]
