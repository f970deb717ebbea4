"""Maps ONNX values of a pivot model to the tensors of its emitted tfjs graph (for divergence search)."""

from __future__ import annotations

from dataclasses import dataclass

import onnx_ir as ir

from backends.tfjs_graph.emit import emit_traced
from backends.tfjs_graph.emitters import load_rules
from backends.tfjs_graph.passes import default_pipeline


@dataclass(frozen=True)
class Probe:
    """An ONNX node output that survives in the tfjs graph as ``tensor`` (logical = transpose(tensor, perm))."""

    value: str
    node: str
    op_type: str
    tensor: str
    perm: tuple[int, ...] | None


def probes(model: ir.Model) -> list[Probe]:
    """Every ONNX node output, in topological order, that the emitted graph still holds as a node output."""
    load_rules()
    graph, failures, sources = emit_traced(model)
    if failures:
        return []
    default_pipeline()(graph)
    live = {n.name for n in graph.nodes if n.op not in ("Const", "Placeholder")}
    out = []
    for node in model.graph:
        for value in node.outputs:
            ref = sources.get(value.name or "")
            if ref is None:
                continue
            tensor, perm = graph.layout.get(ref, (ref, None))
            name, _, index = tensor.partition(":")
            if name in live and index in ("", "0"):
                out.append(Probe(value.name or "", node.name or node.op_type, node.op_type, name, perm))
    return out
