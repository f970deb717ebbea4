"""Fuses conv / depthwise conv / matmul with a following bias add and activation (tfjs fused ops)."""

from __future__ import annotations

from dataclasses import dataclass

from backends.tfjs_graph.graph import Attr, TfGraph, TfNode

# tfjs-core fused kernels accept exactly these activations (ops/fused_util.ts).
_ACTIVATIONS = {"Relu": "Relu", "Relu6": "Relu6", "Elu": "Elu", "LeakyRelu": "LeakyRelu", "Sigmoid": "Sigmoid",
                "Prelu": "Prelu"}
_TARGET = {"Conv2D": "_FusedConv2D", "DepthwiseConv2dNative": "FusedDepthwiseConv2dNative", "MatMul": "_FusedMatMul"}
_BIAS_OPS = {"BiasAdd", "AddV2", "Add"}


@dataclass
class Match:
    """A fusable chain: the base op, an optional bias and an optional activation."""

    base: TfNode
    chain: list[TfNode]
    bias: str | None = None
    activation: str | None = None
    alpha: str | None = None
    leaky_alpha: float | None = None

    def why_not(self) -> str:
        """Empty when the match can be rewritten, else the reason (for --explain style logs)."""
        if not self.chain:
            return "no bias add or activation follows"
        if self.base.op == "MatMul" and self.activation == "Prelu" and self.bias is None:
            return "tfjs _FusedMatMul reads a Prelu alpha only after a bias"
        if self.base.op == "MatMul" and any(_flag(self.base, k) for k in ("transpose_a", "transpose_b")):
            return "the tfjs 4.22 wasm fused matmul adds the bias wrongly to transposed operands"
        return ""


class Fuser:
    """Finds and rewrites fusable chains in one graph."""

    def __init__(self, graph: TfGraph) -> None:
        self.g = graph
        self.users = graph.consumers()
        self.outputs = {e.tensor for e in graph.outputs}

    def sole_user(self, node: TfNode) -> TfNode | None:
        users = self.users.get(node.name, [])
        if len(users) != 1 or node.name in self.outputs:
            return None
        return users[0]

    def bias_of(self, add: TfNode, source: str) -> str | None:
        """The 1-D bias an add contributes along the last axis, as a Const reference."""
        if add.op not in _BIAS_OPS or len(add.inputs) != 2 or source not in add.inputs:
            return None
        other = add.inputs[1] if add.inputs[0] == source else add.inputs[0]
        value = self.g.const_value(other)
        if value is None or value.ndim == 0 or any(d != 1 for d in value.shape[:-1]):
            return None
        if value.ndim == 1:
            return other
        return self.g.const(value.reshape(-1), name=f"{other}/bias")

    def activation_of(self, node: TfNode, source: str, match: Match) -> bool:
        op = node.op
        if op == "ClipByValue" and self._is_relu6(node):
            op = "Relu6"
        if op not in _ACTIVATIONS or node.inputs[0] != source:
            return False
        if op == "Prelu":
            if self.g.const_value(node.inputs[1]) is None:
                return False
            match.alpha = node.inputs[1]
        if op == "LeakyRelu":
            if match.base.op == "DepthwiseConv2dNative":
                return False  # FusedDepthwiseConv2dNative has no leakyrelu_alpha attribute
            match.leaky_alpha = float(node.attrs.get("alpha", Attr.f(0.2)).value)  # type: ignore[arg-type]
        match.activation = op
        return True

    def _is_relu6(self, node: TfNode) -> bool:
        lo, hi = (self.g.const_value(r) for r in node.inputs[1:3])
        return lo is not None and hi is not None and lo.size == 1 and hi.size == 1 and float(lo) == 0 and float(hi) == 6

    def match(self, base: TfNode) -> Match:
        m = Match(base, [])
        node, source = self.sole_user(base), base.name
        if node is not None and (bias := self.bias_of(node, source)) is not None:
            m.bias, m.chain = bias, [node]
            source, node = node.name, self.sole_user(node)
        if node is not None and self.activation_of(node, source, m):
            m.chain.append(node)
        return m

    def rewrite(self, m: Match) -> TfNode:
        """The fused node replacing the chain; it takes the last node's name, so readers stay valid."""
        args = [a for a in (m.bias, m.alpha) if a is not None]
        fused_ops = ["BiasAdd" if m.bias else "NoOp"] + ([m.activation] if m.activation else [])
        attrs = dict(m.base.attrs)
        attrs.update({"fused_ops": Attr.strs(fused_ops), "num_args": Attr.i(len(args)), "epsilon": Attr.f(0.0)})
        if m.base.op != "DepthwiseConv2dNative":
            attrs["leakyrelu_alpha"] = Attr.f(m.leaky_alpha if m.leaky_alpha is not None else 0.2)
        if m.base.op == "Conv2D":
            attrs.setdefault("use_cudnn_on_gpu", Attr.b(True))
        return TfNode(m.chain[-1].name, _TARGET[m.base.op], [*m.base.inputs[:2], *args], attrs)


def fuse(graph: TfGraph) -> None:
    """Rewrite every fusable Conv2D / DepthwiseConv2dNative / MatMul chain into a tfjs fused op.

    Chains are disjoint (each link is the sole reader of the previous one), so one consumer map
    serves the whole graph and the node list is rebuilt once.
    """
    fuser = Fuser(graph)
    replaced: dict[str, TfNode] = {}
    dead: set[str] = set()
    for base in [n for n in graph.nodes if n.op in _TARGET]:
        if base.op != "MatMul" and _data_format(base) != "NHWC":
            continue
        m = fuser.match(base)
        if not m.why_not():
            fused = fuser.rewrite(m)
            replaced[fused.name] = fused
            dead.update({base.name, *(n.name for n in m.chain[:-1])})
    graph.nodes = [replaced.get(n.name, n) for n in graph.nodes if n.name not in dead]
    graph.remove_unused()


def _data_format(node: TfNode) -> str:
    attr = node.attrs.get("data_format")
    return "NHWC" if attr is None else str(attr.value).upper()


def _flag(node: TfNode, name: str) -> bool:
    attr = node.attrs.get(name)
    return bool(attr.value) if attr is not None else False
