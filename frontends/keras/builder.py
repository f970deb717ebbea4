"""Builds an ONNX graph node by node, inferring each output's type and shape as it goes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
import onnx_ir as ir

from pivot.errors import ConversionError, InputError

OPSET = 21
# Constants up to this many elements are handed to ONNX shape inference as data, so that ops
# like Reshape and Slice get exact output shapes.
_SMALL_CONST = 64


class GraphBuilder:
    """An onnx_ir graph under construction with unique node and value names."""

    def __init__(self, name: str) -> None:
        self.graph = ir.Graph([], [], nodes=[], name=name, opset_imports={"": OPSET})
        self._names: set[str] = set()
        self._small: dict[str, onnx.TensorProto] = {}

    def unique(self, name: str) -> str:
        """``name``, or ``name_2``, ``name_3``... when taken."""
        base, k = name, 1
        while name in self._names:
            k += 1
            name = f"{base}_{k}"
        self._names.add(name)
        return name

    def input(self, name: str, dtype: ir.DataType, shape: Sequence[int | str | None]) -> ir.Value:
        value = ir.Value(name=self.unique(name), type=ir.TensorType(dtype), shape=ir.Shape(list(shape)))
        self.graph.inputs.append(value)
        return value

    def const(self, array: np.ndarray | float | int, name: str) -> ir.Value:
        """An initializer holding ``array`` (kept as given: no copy of weight arrays)."""
        arr = np.asarray(array)
        value = ir.Value(name=self.unique(name), const_value=ir.Tensor(arr, name=None))
        value.const_value.name = value.name  # type: ignore[union-attr]
        value.type, value.shape = ir.TensorType(value.const_value.dtype), ir.Shape(list(arr.shape))  # type: ignore[union-attr]
        self.graph.register_initializer(value)
        if arr.size <= _SMALL_CONST:
            self._small[str(value.name)] = onnx.numpy_helper.from_array(arr, str(value.name))
        return value

    def op(self, op_type: str, inputs: Sequence[ir.Value | None], attrs: dict[str, Any] | None = None,
           *, name: str, outputs: int = 1, domain: str = "") -> list[ir.Value]:
        """Append one node; returns its outputs with inferred types and shapes."""
        node_name = self.unique(name)
        node = ir.node(op_type, list(inputs), attributes=attrs or {}, domain=domain, name=node_name,
                       num_outputs=outputs, version=None)
        for i, out in enumerate(node.outputs):
            out.name = self.unique(f"{node_name}:{i}" if outputs > 1 else node_name)
        self.graph.append(node)
        self._infer(node)
        return list(node.outputs)

    def _infer(self, node: ir.Node) -> None:
        try:
            proto = ir.serde.serialize_node(node)
        except ir.serde.SerdeError as e:  # an attribute the config gave that ONNX cannot hold (an int past 64 bits)
            cause = e.__cause__ or e
            raise InputError(f"node '{node.name}' ({node.op_type}): an attribute from the layer config cannot be "
                             f"stored ({type(cause).__name__}: {str(cause).splitlines()[0][:120]})") from None
        given = [v for v in node.inputs if v is not None and v.type is not None]
        types = {str(v.name): ir.serde.serialize_value(v).type for v in given}
        data = {str(v.name): self._small[str(v.name)] for v in given if v.name in self._small}
        try:
            schema = onnx.defs.get_schema(node.op_type, OPSET, node.domain)
            inferred = onnx.shape_inference.infer_node_outputs(schema, proto, types, data)
        except (onnx.shape_inference.InferenceError, onnx.defs.SchemaError) as e:
            raise ConversionError(f"node '{node.name}' ({node.op_type}): {e}") from e
        for out in node.outputs:
            tp = inferred.get(str(out.name))
            if tp is None or not tp.tensor_type.elem_type:
                continue
            typed = ir.serde.deserialize_value_info_proto(onnx.helper.make_value_info(str(out.name), tp), None)
            out.type, out.shape = typed.type, typed.shape

    def finish(self, outputs: Sequence[tuple[str, ir.Value]], producer: str) -> ir.Model:
        """Name the graph outputs (an Identity where a value is reused) and wrap a model."""
        for name, value in outputs:
            if value in self.graph.outputs or value.is_graph_input() or value.const_value is not None:
                value = self.op("Identity", [value], name=name)[0]
            value.name = name
            self.graph.outputs.append(value)
        return ir.Model(self.graph, ir_version=10, producer_name=producer)
