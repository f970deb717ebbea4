"""Per-op parity cases as data: each family module exports ``CASES``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import helper

FAMILIES = ("elementwise", "activation", "conv", "pool", "normalization", "image", "shape", "slicing", "creation",
            "reduce", "matmul", "evaluation", "recurrent", "loop", "scan", "if_op", "dynamic",
            "detection")
Inputs = Callable[[np.random.Generator], dict[str, np.ndarray]]
# In a case model of several ops, the names of the nodes under test start with this: the emission check holds
# only their tfjs ops to the rule's ``produces`` (tests/parity.py).
UNDER_TEST = "under_test"


@dataclass(frozen=True)
class OpCase:
    """One parity case: an ONNX model, its inputs, and how close tfjs must come to onnxruntime.

    ``refused``: why the converter declines this model (a declared limit); tests/test_emission.py checks that it
    still does, and the parity test expects it to fail. ``xfail``: why a model that converts gives wrong values.
    ``more_inputs``: further feed sets (e.g. other sizes of symbolic dims) the parity test runs on the same
    converted model.
    """

    id: str
    key: str
    model: Callable[[], onnx.ModelProto]
    inputs: Inputs
    tol: float = 1e-4
    backends: tuple[str, ...] = ("cpu", "wasm")
    xfail: str | None = None
    refused: str | None = None
    expect_ops: frozenset[str] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    more_inputs: tuple[Inputs, ...] = ()


def all_cases() -> list[OpCase]:
    """Every case of every family module."""
    cases: list[OpCase] = []
    for name in FAMILIES:
        cases.extend(importlib.import_module(f"tests.cases.{name}").CASES)
    return cases


_NP = {np.dtype("float32"): onnx.TensorProto.FLOAT, np.dtype("int64"): onnx.TensorProto.INT64,
       np.dtype("int32"): onnx.TensorProto.INT32, np.dtype("bool"): onnx.TensorProto.BOOL}


def node_model(op: str, inputs: Sequence[tuple[str, Any, Sequence[int | str | None] | None]],
               outputs: Sequence[str] = ("y",), *, initializers: dict[str, np.ndarray] | None = None,
               opset: int = 21, **attrs: Any) -> Callable[[], onnx.ModelProto]:
    """A builder of a one-node model; ``inputs`` are (name, numpy dtype, shape) graph inputs."""

    # Popped once, outside the builder: every call must build the same model.
    order = attrs.pop("input_order", None)

    def build() -> onnx.ModelProto:
        inits = initializers or {}
        graph_inputs = [helper.make_tensor_value_info(n, _NP[np.dtype(t)], s) for n, t, s in inputs]
        names = [n for n, _, _ in inputs] + list(inits)
        node = helper.make_node(op, order or names, list(outputs), **attrs)
        graph = helper.make_graph(
            [node], op, graph_inputs,
            [onnx.ValueInfoProto(name=o) for o in outputs],
            [onnx.numpy_helper.from_array(v, k) for k, v in inits.items()])
        return with_output_types(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]))

    return build


def with_output_types(model: onnx.ModelProto) -> onnx.ModelProto:
    """Fill in the graph outputs' types from shape inference (onnxruntime needs them)."""
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)


def rand(*shapes: tuple[str, Sequence[int]], dtype: Any = np.float32, low: float = -2.0,
         high: float = 2.0) -> Inputs:
    """Inputs of uniform random values for the named shapes."""

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = {}
        for name, shape in shapes:
            if np.dtype(dtype).kind == "b":
                out[name] = rng.random(shape) > 0.5
            elif np.dtype(dtype).kind in "iu":
                out[name] = rng.integers(int(low), int(high), size=shape).astype(dtype)
            else:
                out[name] = rng.uniform(low, high, size=shape).astype(dtype)
        return out

    return make
