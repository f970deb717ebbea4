"""A small in-memory TensorFlow graph (GraphDef-shaped) that the tfjs backend emits and rewrites."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

AttrKind = Literal["s", "i", "f", "b", "type", "shape", "list_i", "list_s", "list_f", "list_type", "func"]
Shape = tuple[int | None, ...]

# tfjs knows only these dtypes; int64 is narrowed to int32 (range-checked) by the emitter.
NP_TO_TF = {np.dtype("float32"): "DT_FLOAT", np.dtype("int32"): "DT_INT32", np.dtype("bool"): "DT_BOOL"}


@dataclass(frozen=True)
class Attr:
    """A typed attribute value; encoded to proto3 JSON by ``model_json``."""

    kind: AttrKind
    value: object

    @staticmethod
    def s(v: str) -> Attr:
        return Attr("s", v)

    @staticmethod
    def i(v: int) -> Attr:
        return Attr("i", int(v))

    @staticmethod
    def f(v: float) -> Attr:
        return Attr("f", float(v))

    @staticmethod
    def b(v: bool) -> Attr:
        return Attr("b", bool(v))

    @staticmethod
    def dtype(v: str) -> Attr:
        return Attr("type", v)

    @staticmethod
    def ints(v: Iterable[int]) -> Attr:
        return Attr("list_i", tuple(int(x) for x in v))

    @staticmethod
    def strs(v: Iterable[str]) -> Attr:
        return Attr("list_s", tuple(v))

    @staticmethod
    def floats(v: Iterable[float]) -> Attr:
        return Attr("list_f", tuple(float(x) for x in v))

    @staticmethod
    def shape(v: Sequence[int | None] | None) -> Attr:
        return Attr("shape", None if v is None else tuple(v))

    @staticmethod
    def func(name: str) -> Attr:
        """A reference to a function of ``library.function`` (While ``cond`` / ``body``)."""
        return Attr("func", name)

    @staticmethod
    def types(v: Iterable[str]) -> Attr:
        return Attr("list_type", tuple(v))


@dataclass
class TfNode:
    """One GraphDef node: inputs are tensor references ``node`` or ``node:k``."""

    name: str
    op: str
    inputs: list[str]
    attrs: dict[str, Attr] = field(default_factory=dict)


@dataclass
class TfFunction:
    """A FunctionDef of ``library.function``: typed arguments, nodes, and the node output each result returns.

    Function bodies hold no Const nodes: constants enter as arguments (loop invariants), so every
    weight stays a main-graph Const with a manifest entry of the same name.
    """

    name: str
    inputs: list[tuple[str, str]]  # (argument name, tfjs dtype)
    outputs: list[tuple[str, str]]
    nodes: list[TfNode] = field(default_factory=list)
    ret: dict[str, str] = field(default_factory=dict)  # output argument -> "node:output:k" or an input argument


@dataclass(frozen=True)
class SignatureEntry:
    """A model input or output: the user-facing key and the tensor it names."""

    key: str
    tensor: str
    dtype: str
    shape: Shape | None


def node_of(ref: str) -> str:
    """The node name of a tensor reference (``a:1`` -> ``a``)."""
    return ref.split(":", 1)[0]


_UNSAFE = re.compile(r"[^A-Za-z0-9_./\-]")


class TfGraph:
    """Nodes in topological order, Const values by node name, and the signature."""

    def __init__(self) -> None:
        self.nodes: list[TfNode] = []
        self.consts: dict[str, np.ndarray] = {}
        self.inputs: list[SignatureEntry] = []
        self.outputs: list[SignatureEntry] = []
        self.shapes: dict[str, Shape] = {}
        self.functions: list[TfFunction] = []  # library functions (While cond/body), outside every pass
        # Set by the layout pass: tensor -> (physical tensor, perm) with logical = transpose(physical, perm),
        # so that checks can map an emitted tensor back to its ONNX layout.
        self.layout: dict[str, tuple[str, tuple[int, ...] | None]] = {}
        self._names: set[str] = set()

    # -- naming ---------------------------------------------------------------------------
    def unique(self, hint: str) -> str:
        """A fresh node name derived from ``hint``; ':' and '^' would break tfjs references."""
        base = _UNSAFE.sub("_", hint).strip("/") or "node"
        name, k = base, 1
        while name in self._names:
            name, k = f"{base}_{k}", k + 1
        self._names.add(name)
        return name

    # -- building -------------------------------------------------------------------------
    def add(self, op: str, inputs: Sequence[str], attrs: dict[str, Attr] | None = None, *, name: str) -> str:
        """Append a node named (uniquely) after ``name``; returns its output-0 reference."""
        node = TfNode(self.unique(name), op, list(inputs), dict(attrs or {}))
        self.nodes.append(node)
        return node.name

    def const(self, value: np.ndarray, *, name: str) -> str:
        """Append a Const node holding ``value`` (float32, int32 or bool)."""
        arr = np.ascontiguousarray(value).reshape(np.shape(value))  # ascontiguousarray makes 0-d arrays 1-d
        dtype = NP_TO_TF[arr.dtype]
        ref = self.add("Const", [], {"dtype": Attr.dtype(dtype)}, name=name)
        self.consts[ref] = arr
        self.shapes[ref] = tuple(arr.shape)
        return ref

    def placeholder(self, key: str, dtype: str, shape: Shape | None) -> str:
        """Append a model input; the signature key stays the original (ONNX) name."""
        ref = self.add("Placeholder", [], {"dtype": Attr.dtype(dtype), "shape": Attr.shape(_dims(shape))}, name=key)
        self.inputs.append(SignatureEntry(key, ref, dtype, shape))
        if shape is not None:
            self.shapes[ref] = shape
        return ref

    def output(self, key: str, ref: str, dtype: str, shape: Shape | None) -> None:
        """Expose ``ref`` as model output ``key`` through an Identity node named after the key."""
        out = self.add("Identity", [ref], {"T": Attr.dtype(dtype)}, name=key)
        self.outputs.append(SignatureEntry(key, out, dtype, shape))

    # -- queries --------------------------------------------------------------------------
    def node_map(self) -> dict[str, TfNode]:
        """Node name -> node."""
        return {n.name: n for n in self.nodes}

    def consumers(self) -> dict[str, list[TfNode]]:
        """Node name -> nodes that read any of its outputs."""
        users: dict[str, list[TfNode]] = {}
        for n in self.nodes:
            for ref in n.inputs:
                users.setdefault(node_of(ref.lstrip("^")), []).append(n)
        return users

    def const_value(self, ref: str) -> np.ndarray | None:
        """The value of a Const reference, else None."""
        return self.consts.get(ref) if ":" not in ref else None

    def rank(self, ref: str) -> int | None:
        """Static rank of a tensor reference when known."""
        shape = self.shapes.get(ref)
        return None if shape is None else len(shape)

    def remove_unused(self) -> None:
        """Drop nodes that no signature output depends on (inputs always stay)."""
        by_name = self.node_map()
        live: set[str] = {e.tensor for e in self.inputs}
        stack = [node_of(e.tensor) for e in self.outputs]
        while stack:
            name = stack.pop()
            if name in live:
                continue
            live.add(name)
            stack.extend(node_of(r.lstrip("^")) for r in by_name[name].inputs)
        self.nodes = [n for n in self.nodes if n.name in live]
        self.consts = {k: v for k, v in self.consts.items() if k in live}


def _dims(shape: Shape | None) -> tuple[int, ...] | None:
    return None if shape is None else tuple(-1 if d is None else int(d) for d in shape)
