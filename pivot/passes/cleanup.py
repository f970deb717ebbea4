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


class IdentityEliminationPass(ir.passes.InPlacePass):
    """Removes ``Identity`` nodes, keeping every graph output a distinct, correctly named value.

    Handles: an Identity inside the graph (its readers take its input); an Identity whose output is
    a graph output (its input takes the output's name). Leaves alone: an Identity that is the only
    way to give a graph output its own value, i.e. whose input is a graph input, an initializer or
    another graph output (onnx_ir's own pass merges those two outputs into one value).
    """

    def call(self, model: ir.Model) -> ir.passes.PassResult:
        modified = False
        graph = model.graph
        for node in list(graph):
            if node.op_type != "Identity" or node.domain not in ("", "ai.onnx") or len(node.inputs) != 1:
                continue
            source, out = node.inputs[0], node.outputs[0]
            if source is None:
                continue
            is_output = out.is_graph_output()
            if is_output:
                if source.is_graph_input() or source.is_graph_output() or source.const_value is not None:
                    continue
                graph.outputs[graph.outputs.index(out)] = source
            ir.convenience.replace_all_uses_with(out, source)
            name = out.name
            graph.remove(node, safe=True)
            if is_output:
                source.name = name
            modified = True
        return ir.passes.PassResult(model, modified)
