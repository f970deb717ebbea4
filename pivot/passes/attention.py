"""Transformer patterns written out as several ONNX nodes, fused into the one op that says what they compute."""

from __future__ import annotations

import math

import onnx_ir as ir

from pivot import ir as pir
from pivot.passes.guard import at_node

_DEFAULT_DOMAINS = ("", "ai.onnx")


def _scalar(value: ir.Value | None) -> float | None:
    """The value of a constant float tensor holding one number, else None."""
    if value is None or value.const_value is None:
        return None
    arr = value.const_value.numpy()
    if arr.size != 1 or arr.dtype.kind != "f":
        return None
    return float(arr.reshape(()))


def _near(value: ir.Value | None, target: float) -> bool:
    got = _scalar(value)
    return got is not None and math.isclose(got, target, rel_tol=1e-5)


def _only_use(value: ir.Value, op: str) -> ir.Node | None:
    """The single ``op`` node reading ``value`` (in the default domain), when nothing else reads it."""
    uses = list(value.uses())
    if len(uses) != 1 or value.is_graph_output():
        return None
    node = uses[0].node
    return node if node.op_type == op and node.domain in _DEFAULT_DOMAINS else None


def _other(node: ir.Node, value: ir.Value) -> ir.Value | None:
    """The other input of a binary ``node`` that reads ``value`` once."""
    a, b = (*node.inputs, None, None)[:2]
    if a is value and b is not value:
        return b
    if b is value and a is not value:
        return a
    return None


def _producer(value: ir.Value | None, op: str) -> ir.Node | None:
    node = value.producer() if value is not None else None
    return node if node is not None and node.op_type == op and node.domain in _DEFAULT_DOMAINS else None


def _scaled_by(value: ir.Value | None, factor: float) -> ir.Value | None:
    """``x`` when ``value`` is ``x * factor`` or ``x / (1 / factor)`` with a constant scalar, else None."""
    mul = _producer(value, "Mul")
    if mul is not None:
        for i in (0, 1):
            if _near(mul.inputs[1 - i], factor):
                return mul.inputs[i]
    div = _producer(value, "Div")
    if div is not None and _near(div.inputs[1], 1.0 / factor):
        return div.inputs[0]
    return None


def _gelu_tail(gate_plus_one: ir.Value, x: ir.Value) -> tuple[ir.Value, list[ir.Node]] | None:
    """The output of ``0.5 * x * gate_plus_one`` in either association, and its nodes."""
    mul = _only_use(gate_plus_one, "Mul")
    if mul is None:
        return None
    other = _other(mul, gate_plus_one)
    if other is x:  # (x * (1 + g)) * 0.5
        half = _only_use(mul.outputs[0], "Mul")
        if half is None or not _near(_other(half, mul.outputs[0]), 0.5):
            return None
        return half.outputs[0], [mul, half]
    if other is not None and _scaled_by(other, 0.5) is x and len(other.uses()) == 1:  # (0.5 * x) * (1 + g)
        return mul.outputs[0], [mul, other.producer()]  # type: ignore[list-item]
    return None


def _plus_one(value: ir.Value) -> ir.Node | None:
    add = _only_use(value, "Add")
    return add if add is not None and _near(_other(add, value), 1.0) else None


def _cube_of(value: ir.Value | None) -> ir.Value | None:
    """``x`` when ``value`` is ``Pow(x, 3)`` or ``x * x * x``."""
    pow_ = _producer(value, "Pow")
    if pow_ is not None:
        return pow_.inputs[0] if _near(pow_.inputs[1], 3.0) else None
    mul = _producer(value, "Mul")
    if mul is None:
        return None
    for i in (0, 1):
        sq = _producer(mul.inputs[i], "Mul")
        x = mul.inputs[1 - i]
        if sq is not None and sq.inputs[0] is x and sq.inputs[1] is x:
            return x
    return None


def _match_erf(erf: ir.Node) -> tuple[ir.Value, ir.Value, list[ir.Node], str] | None:
    """``0.5 x (1 + erf(x / sqrt 2))``: (x, output, nodes, approximate)."""
    x = _scaled_by(erf.inputs[0], math.sqrt(0.5))
    add = _plus_one(erf.outputs[0])
    if x is None or add is None or len(erf.inputs[0].uses()) != 1:  # type: ignore[union-attr]
        return None
    tail = _gelu_tail(add.outputs[0], x)
    if tail is None:
        return None
    return x, tail[0], [erf.inputs[0].producer(), erf, add, *tail[1]], "none"  # type: ignore[list-item, union-attr]


def _match_tanh(tanh: ir.Node) -> tuple[ir.Value, ir.Value, list[ir.Node], str] | None:
    """``0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))``: (x, output, nodes, approximate)."""
    inner = tanh.inputs[0]
    poly = _scaled_by(inner, math.sqrt(2.0 / math.pi))
    add = _producer(poly, "Add")
    if poly is None or add is None or len(inner.uses()) != 1 or len(poly.uses()) != 1:  # type: ignore[union-attr]
        return None
    for i in (0, 1):
        x, cubic = add.inputs[i], add.inputs[1 - i]
        cube = _scaled_by(cubic, 0.044715)
        if x is None or cube is None or _cube_of(cube) is not x or len(cubic.uses()) != 1 or len(cube.uses()) != 1:  # type: ignore[union-attr]
            continue
        plus = _plus_one(tanh.outputs[0])
        tail = _gelu_tail(plus.outputs[0], x) if plus is not None else None
        if tail is None:
            return None
        cube_nodes = _cube_nodes(cube)
        nodes = [*cube_nodes, cubic.producer(), add, inner.producer(), tanh, plus, *tail[1]]  # type: ignore[union-attr]
        return x, tail[0], nodes, "tanh"  # type: ignore[return-value]
    return None


def _cube_nodes(cube: ir.Value) -> list[ir.Node]:
    node = cube.producer()
    assert node is not None
    if node.op_type == "Pow":
        return [node]
    producers = [i.producer() for i in node.inputs if i is not None]
    square = next(n for n in producers if n is not None and n.op_type == "Mul")
    return [square, node] if len(square.outputs[0].uses()) == 1 else [node]


class FuseGeluPass(ir.passes.InPlacePass):
    """Rewrites GELU written as elementwise nodes into one ``Gelu`` (opset 20+) node.

    Handles: ``Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5)`` (torch's export of nn.GELU below opset 20), the
    ``Mul(x, 1/sqrt 2)`` and ``Mul(0.5 x, 1 + erf)`` spellings, and the tanh approximation (HF's NewGELU:
    ``Pow(x, 3)`` or ``x * x * x``). Leaves alone: any intermediate read elsewhere, constants that differ,
    models below opset 20.
    """

    def call(self, model: ir.Model) -> ir.passes.PassResult:
        if model.opset_imports.get("", 1) < 20:
            return ir.passes.PassResult(model, False)
        modified = False
        for node in list(model.graph):
            if node.graph is None or node.domain not in _DEFAULT_DOMAINS:
                continue  # removed by an earlier match, or another domain
            match = _match_erf(node) if node.op_type == "Erf" else \
                _match_tanh(node) if node.op_type == "Tanh" else None
            if match is None:
                continue
            with at_node(node):
                _replace(model.graph, *match)
            modified = True
        return ir.passes.PassResult(model, modified)


def _replace(graph: ir.Graph, x: ir.Value, out: ir.Value, nodes: list[ir.Node], approximate: str) -> None:
    attrs = {"approximate": approximate} if approximate != "none" else {}
    last = out.producer()
    assert last is not None
    gelu = ir.node("Gelu", [x], attributes=attrs, name=f"{last.name or 'gelu'}/gelu")
    gelu.outputs[0].shape, gelu.outputs[0].type = out.shape, out.type
    graph.insert_before(last, gelu)
    pir.replace_value(out, gelu.outputs[0])
    unique = list(dict.fromkeys(nodes))
    graph.remove(unique, safe=True)
