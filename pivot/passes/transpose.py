"""Transpose chains: compose consecutive Transposes, drop the ones that permute nothing."""

from __future__ import annotations

import onnx_ir as ir


class ComposeTransposesPass(ir.passes.InPlacePass):
    """``Transpose(p2)(Transpose(p1)(x))`` becomes ``Transpose(p1[p2])(x)``, and identity perms vanish.

    Frontends whose source is channels-last (Keras) wrap every channels-first ONNX op in a pair of
    transposes; between two such ops the pair cancels here, which lets BatchNormalization fold
    into the Conv before it. Handles: Transposes with an explicit perm and a known input rank.
    Leaves alone: a Transpose whose output is a graph output and is also kept by another reader.
    """

    def call(self, model: ir.Model) -> ir.passes.PassResult:
        modified = False
        for node in list(model.graph):
            if node.op_type != "Transpose" or node.domain not in ("", "ai.onnx") or node.graph is None:
                continue
            perm = _perm(node)
            if perm is None:
                continue
            source = node.inputs[0]
            producer = source.producer() if source is not None else None
            if producer is not None and producer.op_type == "Transpose" and _perm(producer) is not None:
                inner = _perm(producer)
                assert inner is not None
                if len(inner) != len(perm):
                    continue
                perm = [inner[p] for p in perm]
                node.replace_input_with(0, producer.inputs[0])
                node.attributes["perm"] = ir.AttrInt64s("perm", perm)
                modified = True
            new_source = node.inputs[0]
            if perm == list(range(len(perm))) and new_source is not None and not node.outputs[0].is_graph_output():
                ir.convenience.replace_all_uses_with(node.outputs[0], new_source)
                modified = True
        return ir.passes.PassResult(model, modified)


def _perm(node: ir.Node) -> list[int] | None:
    """The perm attribute when it is a real permutation (a broken one is left for the emitter to report)."""
    attr = node.attributes.get("perm")
    if attr is None or attr.type != ir.AttributeType.INTS:
        return None
    perm = list(attr.as_ints())
    return perm if sorted(perm) == list(range(len(perm))) else None
