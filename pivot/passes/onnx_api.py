"""Shape inference and the checker from onnx's C++ API, run on a light proto (no weight data)."""

from __future__ import annotations

import onnx
import onnx_ir as ir

from pivot import ir as pir


class InferShapesPass(ir.passes.InPlacePass):
    """Runs onnx shape inference (with data propagation) and merges shapes and types back.

    Handles: models with external or huge weights (never serialized); shapes that inference
    refines. A model onnx cannot infer raises, since every later pass relies on shapes.
    """

    def call(self, model: ir.Model) -> ir.passes.PassResult:
        inferred = pir.call_light(model, lambda p: onnx.shape_inference.infer_shapes(p, data_prop=True))
        known = {v.name: v for v in inferred.graph.value_info}
        known.update({v.name: v for v in inferred.graph.output})
        modified = False
        for node in model.graph:
            for value in node.outputs:
                info = known.get(value.name)
                if info is None or not info.type.HasField("tensor_type"):
                    continue
                modified |= _merge(value, info.type.tensor_type)
        return ir.passes.PassResult(model, modified)


def _merge(value: ir.Value, tensor_type: onnx.TypeProto.Tensor) -> bool:
    changed = False
    if tensor_type.elem_type and value.dtype is None:
        value.dtype = ir.DataType(tensor_type.elem_type)
        changed = True
    if tensor_type.HasField("shape"):
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tensor_type.shape.dim]
        shape = ir.Shape(dims)
        if value.shape is None or (shape != value.shape and _more_static(shape, value.shape)):
            value.shape = shape
            changed = True
    return changed


def _more_static(new: ir.Shape, old: ir.Shape) -> bool:
    def count(s: ir.Shape) -> int:
        return sum(isinstance(d, int) for d in s)

    return len(new) == len(old) and count(new) > count(old)


class CheckModelPass(ir.passes.InPlacePass):
    """Runs the onnx checker on the light proto; raises on an invalid pivot model."""

    def call(self, model: ir.Model) -> ir.passes.PassResult:
        pir.call_light(model, onnx.checker.check_model)
        return ir.passes.PassResult(model, False)
