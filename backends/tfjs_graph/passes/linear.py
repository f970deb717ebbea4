"""Keeps the elementwise chain after a 2-D MatMul 2-D: sinks its unflattening Reshape and cancels it against the next.

The MatMul emitter writes ``nn.Linear`` on an N-D activation as Reshape(A, [-1, K]) -> MatMul -> Reshape(.., [..., N])
(emitters/matmul.py ``linear``). This pass moves the trailing Reshape below the ops that work the same on the 2-D
product: unary elementwise ops, and binary ones whose other operands are scalars, last-axis vectors or the same kind
of view of another 2-D tensor with the same rows (GELU ``x * 0.5 * (1 + erf(x / sqrt 2))``, a gate ``a * sigmoid(b)``).
A Reshape of such a view to ``[-1, N]`` (the next linear's flattening) then reads the 2-D tensor directly, and a
Reshape to any other shape reads it without the intermediate view. The bias add and activation now follow the
MatMul in 2-D, where passes/fuse.py folds them into ``_FusedMatMul``. Runs after layout (only unpermuted tensors
are touched) and before fusion.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np

from backends.tfjs_graph.graph import NP_TO_TF, Attr, TfGraph, TfNode

# Ops that act element by element with numpy broadcasting: same result on [rows, N] as on [..., N].
UNARY = frozenset({
    "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Cast", "Ceil", "Cos", "Cosh", "Elu", "Erf", "Exp",
    "Expm1", "Floor", "IsFinite", "IsInf", "IsNan", "LeakyRelu", "Log", "Log1p", "LogicalNot", "Neg", "Reciprocal",
    "Relu", "Relu6", "Round", "Rsqrt", "Selu", "Sigmoid", "Sign", "Sin", "Sinh", "Softplus", "Sqrt", "Square", "Tan",
    "Tanh",
})
BINARY = frozenset({
    "Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "DivNoNan", "FloorDiv", "FloorMod", "Mod", "Maximum", "Minimum",
    "Pow", "SquaredDifference", "Atan2", "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual",
    "LogicalAnd", "LogicalOr", "ClipByValue",
})


@dataclass(frozen=True)
class View:
    """A tensor that is Reshape(src, target) of a 2-D ``src`` of shape [rows, n].

    ``rows``: an int, else a key that is equal for tensors known to have the same number of rows.
    """

    src: str
    target: str
    n: int
    rows: Hashable


class Sinker:
    """One forward sweep over the graph's nodes (topological order)."""

    def __init__(self, graph: TfGraph) -> None:
        self.g = graph
        self.flat: dict[str, tuple[Hashable, int]] = {}  # 2-D tensors: (rows key, columns)
        self.views: dict[str, View] = {}
        self.alias: dict[str, str] = {}
        self.out: list[TfNode] = []
        self._keys: dict[str, Hashable] = {}
        self._nodes = graph.node_map()
        self._const_cache: dict[str, str] = {}

    # -- what a tensor is ------------------------------------------------------------------------------------------
    def key(self, ref: str) -> Hashable:
        """A structural key: equal keys compute equal values (constants by value, other nodes by op and inputs)."""
        if ref not in self._keys:
            node = self._nodes.get(ref.split(":", 1)[0])
            value = self.g.const_value(ref)
            if value is not None:
                self._keys[ref] = ("const", value.dtype.str, value.shape, value.tobytes())
            elif node is None or node.op == "Placeholder" or ":" in ref:
                self._keys[ref] = ("ref", ref)
            else:
                attrs = tuple(sorted((k, repr(v)) for k, v in node.attrs.items()))
                self._keys[ref] = (node.op, attrs, tuple(self.key(r) for r in node.inputs))
        return self._keys[ref]

    def unpermuted(self, ref: str) -> bool:
        phys, perm = self.g.layout.get(ref, (ref, None))
        return phys == ref and (perm is None or perm == tuple(range(len(perm))))

    def learn_flat(self, node: TfNode) -> None:
        """Record a 2-D MatMul product (its column count from the weight, else from the emitter's shape note)."""
        if node.op != "MatMul" or _flag(node, "transpose_a") or not self.unpermuted(node.name):
            return
        weight = self.g.const_value(node.inputs[1])
        shape = self.g.shapes.get(node.name)
        n = None
        if weight is not None and weight.ndim == 2:
            n = int(weight.shape[0] if _flag(node, "transpose_b") else weight.shape[1])
        elif shape is not None and len(shape) == 2 and isinstance(shape[1], int):
            n = shape[1]
        if n is None:
            return
        rows: Hashable = shape[0] if shape is not None and len(shape) == 2 and isinstance(shape[0], int) else None
        if rows is None:
            src = node.inputs[0]
            rows = self.flat[src][0] if src in self.flat else ("rows", self.key(src))
        self.flat[node.name] = (rows, n)

    def target_info(self, target: str, n: int) -> tuple[bool, Hashable] | None:
        """For a Reshape target ending in ``n``: (is a constant without -1, static rows or None); None otherwise."""
        value = self.g.const_value(target)
        if value is not None:
            dims = [int(d) for d in value.reshape(-1)]
            if value.ndim != 1 or len(dims) < 2 or dims[-1] != n:
                return None
            fixed = -1 not in dims
            return fixed, int(np.prod(dims[:-1])) if fixed else None
        node = self._nodes.get(target)
        if node is None or node.op != "ConcatV2" or len(node.inputs) < 3:
            return None
        last = self.g.const_value(node.inputs[-2])
        if last is None or last.ndim != 1 or last.size == 0 or int(last[-1]) != n:
            return None
        return False, None

    def is_shape(self, target: str) -> bool:
        """Whether ``target`` is the exact int32 shape it makes: no -1 (constant parts, slices of run-time shapes)."""
        node = self._nodes.get(target)
        if node is None or node.op != "ConcatV2":
            return False
        for part in node.inputs[:-1]:
            value = self.g.const_value(part)
            if value is not None:
                if (value < 0).any():
                    return False
                continue
            piece = self._nodes.get(part)
            source = self._nodes.get(piece.inputs[0]) if piece is not None and piece.op == "StridedSlice" else None
            if source is None or source.op != "Shape":
                return False
        return True

    def learn_view(self, node: TfNode) -> None:
        src, target = node.inputs[0], node.inputs[1]
        if src not in self.flat:
            return
        rows, n = self.flat[src]
        info = self.target_info(target, n)
        if info is None:
            return
        fixed, static_rows = info
        self.views[node.name] = View(src, target, n, static_rows if fixed else rows)

    # -- rewrites ----------------------------------------------------------------------------------------------------
    def reshape(self, node: TfNode) -> None:
        """A Reshape of a view reads the 2-D tensor; one back to [rows, n] is the 2-D tensor itself."""
        view = self.views.get(node.inputs[0])
        if view is not None:
            target = self.g.const_value(node.inputs[1])
            if target is not None and target.shape == (2,) and int(target[1]) == view.n and (
                    int(target[0]) == -1 or int(target[0]) == view.rows):
                self.alias[node.name] = view.src
                return
            node = TfNode(node.name, node.op, [view.src, *node.inputs[1:]], node.attrs)
        self.out.append(node)
        self.learn_view(node)

    def operand(self, ref: str, view: View) -> str | None:
        """``ref`` as an operand of the 2-D op: a compatible view's source, or a scalar / last-axis constant."""
        other = self.views.get(ref)
        if other is not None:
            same = other.n == view.n and self.key(other.target) == self.key(view.target)
            return other.src if same and (other.rows == view.rows) else None
        value = self.g.const_value(ref)
        if value is None:
            return None
        if value.ndim == 0:
            return ref
        rank = self.g.const_value(view.target)
        if value.ndim > (rank.size if rank is not None else 1) or any(d != 1 for d in value.shape[:-1]):
            return None
        if value.shape[-1] not in (1, view.n):
            return None
        if value.ndim == 1:
            return ref
        if ref not in self._const_cache:
            self._const_cache[ref] = self.new_const(f"{ref}/row", value.reshape(-1))
        return self._const_cache[ref]

    def new_const(self, hint: str, value: np.ndarray) -> str:
        name = self.g.unique(hint)
        self.g.consts[name] = value
        self.g.shapes[name] = tuple(value.shape)
        self.out.append(TfNode(name, "Const", [], {"dtype": Attr.dtype(NP_TO_TF[value.dtype])}))
        return name

    def elementwise(self, node: TfNode) -> bool:
        """Run ``node`` on the 2-D tensors of its views; ``node`` becomes a Reshape of the 2-D result."""
        first = next((self.views[r] for r in node.inputs if r in self.views), None)
        if first is None:
            return False
        operands = [self.operand(r, first) for r in node.inputs]
        if any(o is None for o in operands):
            return False
        flat = TfNode(self.g.unique(f"{node.name}/2d"), node.op, operands, dict(node.attrs))  # type: ignore[arg-type]
        self.out.append(flat)
        self.flat[flat.name] = (first.rows, first.n)
        attrs = {"T": node.attrs["T"]} if "T" in node.attrs else {}
        reshaped = TfNode(node.name, "Reshape", [flat.name, first.target], attrs)
        self.out.append(reshaped)
        self.views[node.name] = View(flat.name, first.target, first.n, first.rows)
        return True

    def run(self) -> None:
        for node in self.g.nodes:
            if self.alias and any(r in self.alias for r in node.inputs):
                node = TfNode(node.name, node.op, [self.alias.get(r, r) for r in node.inputs], node.attrs)
                self._nodes[node.name] = node
            if node.op == "Reshape" and len(node.inputs) == 2:
                self.reshape(node)
                continue
            if node.op == "Shape" and node.inputs[0] in self.views and self.is_shape(self.views[node.inputs[0]].target):
                self.alias[node.name] = self.views[node.inputs[0]].target  # the view's shape is its target
                continue
            if (node.op in UNARY or node.op in BINARY) and self.unpermuted(node.name) and self.elementwise(node):
                continue
            self.out.append(node)
            self.learn_flat(node)
        self.g.nodes = self.out


def _flag(node: TfNode, name: str) -> bool:
    attr = node.attrs.get(name)
    return bool(attr.value) if attr is not None else False


def sink_reshapes(graph: TfGraph) -> None:
    """Keep elementwise chains between consecutive linears 2-D so the reshapes cancel and bias/activation fuse."""
    Sinker(graph).run()
    graph.remove_unused()


__all__ = ["sink_reshapes"]
