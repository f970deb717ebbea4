"""Small clean-up passes: inference-mode Dropout becomes Identity (then removed)."""

from __future__ import annotations

import onnx_ir as ir


class DropoutToIdentityPass(ir.passes.InPlacePass):
    """Turns inference-mode ``Dropout`` into ``Identity`` so identity elimination removes it.

    Handles: Dropout with or without ratio/training_mode inputs, whose mask output is unused
    and whose training_mode is absent or a constant false. Leaves alone: training-mode Dropout.
    """

    def call(self, model: ir.Model) -> ir.passes.PassResult:
        modified = False
        for node in model.graph:
            if node.op_type != "Dropout" or node.domain not in ("", "ai.onnx"):
                continue
            if len(node.outputs) > 1 and (node.outputs[1].uses() or node.outputs[1].is_graph_output()):
                continue
            training = node.inputs[2] if len(node.inputs) > 2 else None
            if training is not None and (training.const_value is None or bool(training.const_value.numpy())):
                continue
            node.op_type = "Identity"
            node.resize_inputs(1)
            node.resize_outputs(1)
            node.attributes.clear()
            modified = True
        return ir.passes.PassResult(model, modified)
