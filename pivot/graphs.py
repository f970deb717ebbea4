"""Walking onnx_ir graphs: the subgraphs a node holds (If branches, Loop and Scan bodies)."""

from __future__ import annotations

import onnx_ir as ir


def node_subgraphs(node: ir.Node) -> list[ir.Graph]:
    """The graphs held by ``node``'s attributes (GRAPH and GRAPHS), in attribute order."""
    found: list[ir.Graph] = []
    for attr in node.attributes.values():
        if attr.type == ir.AttributeType.GRAPH:
            found.append(attr.as_graph())
        elif attr.type == ir.AttributeType.GRAPHS:
            found.extend(attr.as_graphs())
    return found
