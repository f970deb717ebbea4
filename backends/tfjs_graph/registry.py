"""The tfjs emission registry (ONNX op -> tfjs ops) and the context an emitter works with."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import onnx_ir as ir

from backends.tfjs_graph.graph import Attr, Shape, TfGraph
from pivot.errors import EmitError, Int64RangeError, ReasonCode
from pivot.registry import Registry

Emitter = Callable[["EmitCtx"], None]
TFJS: Registry[Emitter] = Registry("tfjs_graph")

# ONNX element types tfjs can hold, and the tfjs dtype they become. Narrow integer types widen
# to int32 losslessly; int64 narrows to int32 with a range check on constants.
_TF_DTYPE = {
    ir.DataType.FLOAT: "DT_FLOAT",
    ir.DataType.INT32: "DT_INT32",
    ir.DataType.INT64: "DT_INT32",
    ir.DataType.INT8: "DT_INT32",
    ir.DataType.UINT8: "DT_INT32",
    ir.DataType.INT16: "DT_INT32",
    ir.DataType.UINT16: "DT_INT32",
    ir.DataType.BOOL: "DT_BOOL",
}
_INT32 = np.iinfo(np.int32)


def tf_dtype(dtype: ir.DataType | None) -> str:
    """The tfjs dtype enum name for an ONNX element type; raises ``EmitError('dtype')``."""
    if dtype not in _TF_DTYPE:
        name = dtype.name if dtype is not None else "unknown"
        raise EmitError("dtype", f"element type {name} has no TensorFlow.js equivalent",
                        "TensorFlow.js computes in float32, int32 and bool; cast the model to those types")
    return _TF_DTYPE[dtype]


def to_tfjs_array(arr: np.ndarray, what: str) -> np.ndarray:
    """Narrow a constant to float32/int32/bool; int64 values outside int32 fail clearly."""
    if arr.dtype == np.bool_ or arr.dtype == np.float32 or arr.dtype == np.int32:
        return arr
    if arr.dtype.kind in "iu":
        if arr.size and (arr.min() < _INT32.min or arr.max() > _INT32.max):
            bad = arr.max() if arr.max() > _INT32.max else arr.min()
            raise Int64RangeError(f"{what}: int64 value {int(bad)} does not fit into int32 "
                                  "(TensorFlow.js has no int64)")
        return arr.astype(np.int32)
    raise EmitError("dtype", f"{what}: constant of type {arr.dtype} has no TensorFlow.js equivalent",
                    "cast the model to float32 before converting")


def static_shape(value: ir.Value | None) -> Shape | None:
    """The shape of an ONNX value with symbolic dims as None, or None when the rank is unknown."""
    if value is None or value.shape is None:
        return None
    return tuple(d if isinstance(d, int) else None for d in value.shape)


class EmitCtx:
    """What an emitter sees: one ONNX node, its bound inputs, and the graph being built."""

    def __init__(self, graph: TfGraph, node: ir.Node, env: dict[ir.Value, str], opset: int) -> None:
        self.graph, self.node, self._env, self.opset = graph, node, env, opset
        self.name = node.name or node.op_type

    # -- inputs ---------------------------------------------------------------------------
    def has_input(self, i: int) -> bool:
        return i < len(self.node.inputs) and self.node.inputs[i] is not None

    def value(self, i: int) -> ir.Value:
        v = self.node.inputs[i] if i < len(self.node.inputs) else None
        if v is None:
            raise EmitError("attribute", f"input {i} is required")
        return v

    def input(self, i: int) -> str:
        """The tfjs reference of input ``i``, creating its Const node on first use."""
        v = self.value(i)
        if v not in self._env:
            arr = self.const(i)
            if arr is None:
                raise EmitError("no_rule", f"input {v.name} is not available")
            name = v.name or f"{self.name}/input{i}"
            self._env[v] = self.graph.const(to_tfjs_array(arr, name), name=name)
        return self._env[v]

    def inputs(self) -> list[str]:
        return [self.input(i) for i in range(len(self.node.inputs)) if self.has_input(i)]

    def const(self, i: int) -> np.ndarray | None:
        """The constant value of input ``i`` (initializer or folded), else None."""
        if not self.has_input(i):
            return None
        tensor = self.value(i).const_value
        return None if tensor is None else tensor.numpy()

    def need_const(self, i: int, what: str) -> np.ndarray:
        """The constant value of input ``i``; tfjs needs it at conversion time."""
        arr = self.const(i)
        if arr is None:
            raise EmitError("needs_constant_input", f"{what} (input {i}) must be a constant",
                            "fold the value into the model, e.g. export with static shapes")
        return arr

    def shape(self, i: int) -> Shape | None:
        return static_shape(self.value(i))

    def rank(self, i: int) -> int:
        shape = self.shape(i)
        if shape is None:
            raise EmitError("dynamic_shape", f"rank of input {i} is unknown",
                            "run shape inference or export with static ranks")
        return len(shape)

    def dtype(self, i: int) -> ir.DataType | None:
        return self.value(i).dtype

    def out_shape(self, j: int = 0) -> Shape | None:
        return static_shape(self.node.outputs[j])

    def out_dtype(self, j: int = 0) -> str:
        return tf_dtype(self.node.outputs[j].dtype)

    # -- attributes -----------------------------------------------------------------------
    def attr(self, name: str, default: Any = None) -> Any:
        a = self.node.attributes.get(name)
        if a is None:
            return default
        value = a.value
        if isinstance(value, (list, tuple)):
            return list(value)
        return value

    # -- building -------------------------------------------------------------------------
    def add(self, op: str, inputs: Sequence[str], attrs: dict[str, Attr] | None = None, suffix: str = "") -> str:
        """Append a tfjs node named after this ONNX node (plus ``suffix``)."""
        return self.graph.add(op, inputs, attrs, name=f"{self.name}/{suffix}" if suffix else self.name)

    def constant(self, arr: np.ndarray | float | int | bool | list[Any], suffix: str, dtype: Any = None) -> str:
        """A new Const node owned by this node."""
        value = np.asarray(arr, dtype=dtype)
        if value.dtype == np.float64:
            value = value.astype(np.float32)
        elif value.dtype == np.int64:
            value = to_tfjs_array(value, f"{self.name}/{suffix}")
        return self.graph.const(value, name=f"{self.name}/{suffix}")

    def set_output(self, j: int, ref: str) -> None:
        """Bind ONNX output ``j`` to a tfjs tensor and record its static shape."""
        value = self.node.outputs[j]
        self._env[value] = ref
        shape = static_shape(value)
        if shape is not None:
            self.graph.shapes.setdefault(ref, shape)

    def has_output(self, j: int) -> bool:
        return j < len(self.node.outputs) and bool(self.node.outputs[j].name) and bool(
            self.node.outputs[j].uses() or self.node.outputs[j].is_graph_output())


def fail(reason: ReasonCode, detail: str, hint: str = "") -> EmitError:
    """Build an EmitError to raise: ``raise fail("attribute", "...")``."""
    return EmitError(reason, detail, hint)
