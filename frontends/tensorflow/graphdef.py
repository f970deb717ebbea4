"""Edits and queries on a TensorFlow GraphDef (protobuf), its library functions included."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

# Debug ops as TensorFlow's debug_stripper treats them: pass-through ops become Identity, ops
# without data outputs are removed along with the control edges that point at them.
PASS_THROUGH = frozenset({"CheckNumerics", "CheckNumericsV2", "Print", "DebugIdentity", "DebugIdentityV2"})
NO_OUTPUT = frozenset({"Assert", "PrintV2"})
DEBUG_OPS = PASS_THROUGH | NO_OUTPUT
# Debug ops with no TensorFlow.js counterpart: kept (strip_debug_ops off), they cannot convert.
UNCONVERTIBLE_DEBUG_OPS = DEBUG_OPS - {"CheckNumerics", "Print"}

GraphDef = Any  # tensorflow.compat.v1.GraphDef; TensorFlow is imported lazily


def node_name(ref: str) -> str:
    """The node of an input reference: ``^n``, ``n``, ``n:1`` and ``n:out:0`` all name ``n``."""
    return ref.lstrip("^").split(":", 1)[0]


def _node_lists(graph_def: GraphDef) -> Iterator[Any]:
    """The main graph's node list, then each library function's."""
    yield graph_def.node
    for fn in graph_def.library.function:
        yield fn.node_def


def debug_nodes(graph_def: GraphDef, ops: Iterable[str] = DEBUG_OPS) -> dict[str, list[str]]:
    """Op type -> names of the nodes of that type, over the graph and its functions."""
    wanted = frozenset(ops)
    found: dict[str, list[str]] = {}
    for nodes in _node_lists(graph_def):
        for node in nodes:
            if node.op in wanted:
                found.setdefault(node.op, []).append(node.name)
    return found


def strip_debug_ops(graph_def: GraphDef) -> int:
    """Remove Assert / PrintV2 and turn CheckNumerics / Print into Identity; returns how many nodes changed."""
    changed = _strip(graph_def.node)
    for fn in graph_def.library.function:
        before = {n.name for n in fn.node_def}
        changed += _strip(fn.node_def)
        gone = before - {n.name for n in fn.node_def}
        for key in [k for k, v in fn.control_ret.items() if v in gone]:  # control outputs of removed nodes
            del fn.control_ret[key]
            fn.signature.control_output.remove(key)
    return changed


def _strip(nodes: Any) -> int:
    removed = {n.name for n in nodes if n.op in NO_OUTPUT}
    count = len(removed)
    for node in nodes:
        if node.op in PASS_THROUGH:
            _to_identity(node)
            count += 1
        if removed and any(ref.startswith("^") and node_name(ref) in removed for ref in node.input):
            kept = [ref for ref in node.input if not (ref.startswith("^") and node_name(ref) in removed)]
            del node.input[:]
            node.input.extend(kept)
    for i in reversed(range(len(nodes))):
        if nodes[i].name in removed:
            del nodes[i]
    return count


def _to_identity(node: Any) -> None:
    """A pass-through debug op as Identity of its first input (control inputs stay)."""
    data = [ref for ref in node.input if not ref.startswith("^")]
    control = [ref for ref in node.input if ref.startswith("^")]
    dtype = node.attr["T"].type if "T" in node.attr else None
    node.op = "Identity"
    del node.input[:]
    node.input.extend(data[:1] + control)
    node.attr.clear()
    if dtype is not None:
        node.attr["T"].type = dtype


def placeholders_reaching(graph_def: GraphDef, outputs: Iterable[str]) -> list[str]:
    """Placeholder nodes that ``outputs`` depend on (data or control), in graph order."""
    by_name = {n.name: n for n in graph_def.node}
    seen: set[str] = set()
    stack = [node_name(o) for o in outputs]
    while stack:
        name = stack.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        stack.extend(node_name(ref) for ref in by_name[name].input)
    return [n.name for n in graph_def.node if n.name in seen and n.op in ("Placeholder", "PlaceholderV2")]


def sink_nodes(graph_def: GraphDef) -> list[str]:
    """Nodes no other node reads, excluding Const / NoOp / debug ops: the likely outputs of a frozen graph."""
    read = {node_name(ref) for n in graph_def.node for ref in n.input}
    skip = {"Const", "NoOp", "Placeholder", *DEBUG_OPS}
    return [n.name for n in graph_def.node if n.name not in read and n.op not in skip]
