"""Brings every model to the one opset the backend rules are written for."""

from __future__ import annotations

import onnx
import onnx_ir as ir
from onnx import version_converter

from pivot import ir as pir
from pivot.errors import InputError

TARGET_OPSET = 21
MIN_OPSET = 7


def normalize_opset(model: ir.Model, target: int = TARGET_OPSET) -> ir.Model:
    """Convert the default ONNX domain to ``target`` (up from opset 11 or down from newer ones).

    Handles: models at any opset from ``MIN_OPSET`` to the newest onnx knows; models whose big
    weights must not be serialized (they are detached while onnx's C++ converter runs). Returns
    the same model object when it is already at ``target``.
    """
    opset = model.opset_imports.get("", model.opset_imports.get("ai.onnx"))
    newest = onnx.defs.onnx_opset_version()
    if opset is None:
        raise InputError("the model imports no default-domain ONNX opset")
    if opset < MIN_OPSET or opset > newest:
        raise InputError(f"opset {opset} is not supported (supported: {MIN_OPSET} to {newest})")
    if opset == target:
        return model

    def convert(proto: onnx.ModelProto) -> onnx.ModelProto:
        return version_converter.convert_version(proto, target)

    legacy = _name_legacy_resizes(model, opset)
    try:
        converted = pir.call_light(model, convert)
    except Exception as e:  # the C++ converter raises RuntimeError/ValueError with its reason
        raise InputError(f"cannot convert the model from opset {opset} to {target}: {pir.first_line(e)}") from None
    result = pir.reattach_initializers(ir.serde.deserialize_model(converted), model)
    result.ir_version = max(result.ir_version or 0, 8)
    _fix_legacy_resizes(result, legacy)
    return result


def _name_legacy_resizes(model: ir.Model, opset: int) -> set[str]:
    """Output names of Upsample and opset-10 Resize nodes (the converter keeps value names only)."""
    return {node.outputs[0].name or "" for node in model.graph
            if node.op_type == "Upsample" or (node.op_type == "Resize" and opset <= 10)}


def _fix_legacy_resizes(model: ir.Model, names: set[str]) -> None:
    """Give converted Upsample / Resize-10 nodes their original sampling rule.

    onnx's version converter turns them into Resize with the opset-11 defaults (half_pixel,
    round_prefer_floor), which samples differently from the original asymmetric/floor rule.
    """
    for node in model.graph:
        if node.op_type == "Resize" and node.outputs[0].name in names:
            node.attributes["coordinate_transformation_mode"] = ir.AttrString(
                "coordinate_transformation_mode", "asymmetric")
            node.attributes["nearest_mode"] = ir.AttrString("nearest_mode", "floor")
