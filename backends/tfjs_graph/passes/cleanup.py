"""Removes tfjs nodes that cost a graph-executor step without computing anything, and folds constant ones."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from backends.tfjs_graph.graph import NP_TO_TF, Attr, TfGraph, TfNode, node_of

# The tfjs graph executor pays per node (op mapper attribute parsing, tensor bookkeeping, disposal checks),
# so a node that only renames or re-views a tensor is worth removing.
_FOLD_LIMIT = 1 << 16  # elements: a folded constant larger than its inputs is kept only below this size
_SCALAR_CHAIN = {"Mul": np.multiply, "AddV2": np.add}
_NEUTRAL = {"Mul": 1, "AddV2": 0, "Sub": 0, "RealDiv": 1}


def _attr(node: TfNode, key: str) -> object:
    attr = node.attrs.get(key)
    return None if attr is None else attr.value


def _ints(node: TfNode, key: str) -> list[int]:
    value = _attr(node, key)
    return [int(d) for d in value] if isinstance(value, (tuple, list)) else []


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Callable[[TfNode, list[np.ndarray]], np.ndarray]:
    return lambda _node, v: fn(v[0], v[1])


def _cast(node: TfNode, v: list[np.ndarray]) -> np.ndarray | None:
    dst = {"DT_FLOAT": np.float32, "DT_INT32": np.int32}.get(str(_attr(node, "DstT")))
    # float -> int truncates toward zero in tfjs and numpy alike; anything else (bool) is left to tfjs.
    return None if dst is None or v[0].dtype == np.bool_ else v[0].astype(dst)


def _squeeze(node: TfNode, v: list[np.ndarray]) -> np.ndarray:
    dims = tuple(int(d) for d in _ints(node, "squeeze_dims"))
    return np.squeeze(v[0], axis=dims) if dims else np.squeeze(v[0])


# Ops numpy computes bit-exactly as tfjs does (IEEE float32 +, -, *, /; integer ones; data movement).
_FOLDERS: dict[str, Callable[[TfNode, list[np.ndarray]], np.ndarray | None]] = {
    "Identity": lambda _n, v: v[0],
    "Reshape": lambda _n, v: v[0].reshape(tuple(int(d) for d in v[1].reshape(-1))),
    "Transpose": lambda _n, v: np.transpose(v[0], tuple(int(d) for d in v[1].reshape(-1))),
    "ExpandDims": lambda _n, v: np.expand_dims(v[0], int(v[1].reshape(-1)[0])),
    "Squeeze": _squeeze,
    "Cast": _cast,
    "Neg": lambda _n, v: np.negative(v[0]),
    "AddV2": _binary(np.add), "Sub": _binary(np.subtract), "Mul": _binary(np.multiply),
    "ConcatV2": lambda _n, v: np.concatenate(v[:-1], axis=int(v[-1])),
}


class Cleaner:
    """One sweep of rewrites; ``run`` repeats sweeps until nothing changes."""

    def __init__(self, graph: TfGraph) -> None:
        self.g = graph
        self.keep = {node_of(e.tensor) for e in graph.outputs} | {node_of(e.tensor) for e in graph.inputs}
        self.by_name = graph.node_map()
        self.users = graph.consumers()
        self.alias: dict[str, str] = {}  # removed node -> the reference that replaces its output 0
        self.created: list[str] = []  # Const nodes added by this sweep (moved first: the list stays topological)
        self.before: dict[str, list[TfNode]] = {}  # node name -> new nodes to place right before it

    # -- helpers ------------------------------------------------------------------------------
    def producer(self, ref: str) -> TfNode | None:
        """The node of a single-output reference (``a`` / ``a:0``), else None."""
        name, _, k = ref.partition(":")
        return self.by_name.get(name) if k in ("", "0") else None

    def const(self, ref: str) -> np.ndarray | None:
        return self.g.consts.get(node_of(ref)) if ref.partition(":")[2] in ("", "0") else None

    def sole_user(self, node: TfNode) -> bool:
        return len(self.users.get(node.name, [])) == 1 and node.name not in self.keep

    def bypass(self, node: TfNode, ref: str) -> bool:
        """Readers of ``node`` read ``ref`` instead (``node`` must not be a signature node)."""
        if node.name in self.keep or node.name in self.alias:
            return False
        self.alias[node.name] = ref
        return True

    # -- rewrites -----------------------------------------------------------------------------
    def visit(self, n: TfNode) -> bool:
        """Rewrite one node in place or bypass it; True when something changed."""
        if any(r.startswith("^") for r in n.inputs) or n.name in self.alias:
            return False
        if n.op == "Identity":
            return self.bypass(n, n.inputs[0])
        if n.op != "Const" and n.inputs and all(self.const(r) is not None for r in n.inputs) and self.fold(n):
            return True
        if n.op == "Reshape":
            return self.reshape(n)
        if n.op == "Transpose":
            perm = self.const(n.inputs[1])
            return perm is not None and list(perm.reshape(-1)) == list(range(perm.size)) and self.bypass(n, n.inputs[0])
        if n.op == "Cast" and _attr(n, "SrcT") is not None and _attr(n, "SrcT") == _attr(n, "DstT"):
            return self.bypass(n, n.inputs[0])
        if n.op in ("Squeeze", "ExpandDims"):
            return self.squeeze_pair(n)
        if n.op in _NEUTRAL:
            return self.neutral(n) or self.scalar_chain(n)
        if n.op == "StridedSlice":
            return self.sibling_slices(n)
        if n.op == "GatherV2":
            return self.identity_gather(n)
        if n.op == "BroadcastTo":
            return self.true_and(n)
        if n.op == "SelectV2":
            return self.select_before_broadcast(n)
        return False

    def static_shape(self, ref: str) -> list[int] | None:
        """The shape of a model input or of a Reshape to a constant shape, when fully static."""
        producer = self.producer(ref)
        dims: object = None
        if producer is not None and producer.op == "Reshape":
            target = self.const(producer.inputs[1])
            dims = None if target is None or target.ndim != 1 else tuple(target.tolist())
        elif producer is not None and producer.op == "Placeholder":
            dims = _attr(producer, "shape")
        if not isinstance(dims, tuple) or not all(isinstance(d, int) and d >= 0 for d in dims):
            return None
        return [int(d) for d in dims]

    def identity_gather(self, n: TfNode) -> bool:
        """GatherV2(x, arange(dim), axis): every row once, in order -> a Reshape (the HF attention-mask chain)."""
        indices, axis = (self.const(r) for r in n.inputs[1:3]) if len(n.inputs) == 3 else (None, None)
        shape = self.static_shape(n.inputs[0])
        if indices is None or axis is None or axis.size != 1 or shape is None or int(_attr(n, "batch_dims") or 0):  # type: ignore[call-overload]
            return False
        a = int(axis.reshape(-1)[0]) % len(shape)
        if indices.size != shape[a] or not np.array_equal(indices.reshape(-1), np.arange(shape[a])):
            return False
        target = np.array(shape[:a] + list(indices.shape) + shape[a + 1:], np.int32)
        n.op, n.inputs = "Reshape", [n.inputs[0], self.new_const(target, f"{n.name}/shape")]
        n.attrs = {k: v for k, v in n.attrs.items() if k == "T"}
        return True

    def true_and(self, n: TfNode) -> bool:
        """BroadcastTo(LogicalAnd(all-true constant c, m), S) -> BroadcastTo(m, S) when c broadcasts into S."""
        inner, target = self.producer(n.inputs[0]), self.const(n.inputs[1])
        if inner is None or inner.op != "LogicalAnd" or target is None or not self.sole_user(inner):
            return False
        for k in (0, 1):
            c = self.const(inner.inputs[k])
            if c is not None and c.dtype == np.bool_ and c.all() and _fits(c.shape, target.reshape(-1).tolist()):
                n.inputs[0] = inner.inputs[1 - k]
                return True
        return False

    def select_before_broadcast(self, n: TfNode) -> bool:
        """SelectV2(BroadcastTo(m, S), a, b) for scalar a, b -> BroadcastTo(SelectV2(m, a, b), S).

        tf.where broadcasts its scalar branches to the condition's full shape (two Tile kernels), so
        selecting before the broadcast works on the small mask.
        """
        inner = self.producer(n.inputs[0])
        branches = [self.const(r) for r in n.inputs[1:]]
        if inner is None or inner.op != "BroadcastTo" or not self.sole_user(inner) or inner.name in self.alias:
            return False
        if len(branches) != 2 or any(v is None or v.ndim != 0 for v in branches):
            return False
        small = TfNode(self.g.unique(f"{n.name}/small"), "SelectV2", [inner.inputs[0], *n.inputs[1:]], dict(n.attrs))
        self.before.setdefault(n.name, []).append(small)
        n.op, n.inputs = "BroadcastTo", [small.name, inner.inputs[1]]
        n.attrs = {k: v for k, v in inner.attrs.items() if k != "T"} | ({"T": n.attrs["T"]} if "T" in n.attrs else {})
        self.alias[inner.name] = inner.name  # dead now; remove_unused drops it
        return True

    def sibling_slices(self, n: TfNode) -> bool:
        """Stride-1 slices of one tensor that tile one axis from 0 to its end -> one SplitV (one node, not k)."""
        piece = _piece(self, n)
        if piece is None:
            return False
        source = n.inputs[0]
        pieces = [(p, u) for u in self.users.get(node_of(source), [])
                  if u.inputs and u.inputs[0] == source and (p := _piece(self, u)) is not None and p[0] == piece[0]]
        pieces.sort(key=lambda pu: pu[0][1])
        if len(pieces) < 2 or any(u.name in self.keep or u.name in self.alias for _, u in pieces):
            return False
        cuts = [(b, e) for (_, b, e), _ in pieces]
        if cuts[-1][1] is not None and cuts[-1][1] == self.static_dim(source, piece[0]):
            cuts[-1] = (cuts[-1][0], None)
        if cuts[0][0] != 0 or cuts[-1][1] is not None:
            return False
        if any(cuts[k][1] != cuts[k + 1][0] for k in range(len(cuts) - 1)):
            return False
        sizes = [e - b for b, e in cuts[:-1] if e is not None] + [-1]
        first = min((u for _, u in pieces), key=lambda u: self.order(u))
        split = TfNode(self.g.unique(f"{first.name}/split"), "SplitV",
                       [source, self.new_const(np.array(sizes, np.int32), f"{first.name}/sizes"),
                        self.new_const(np.array(piece[0], np.int32), f"{first.name}/axis")],
                       {"num_split": Attr.i(len(pieces)), **({"T": n.attrs["T"]} if "T" in n.attrs else {})})
        self.before.setdefault(first.name, []).append(split)
        for k, (_, u) in enumerate(pieces):
            self.alias[u.name] = f"{split.name}:{k}"
        return True

    def static_dim(self, ref: str, axis: int) -> int | None:
        shape = self.static_shape(ref)
        return shape[axis] if shape is not None and 0 <= axis < len(shape) else None

    def order(self, node: TfNode) -> int:
        if not hasattr(self, "_order"):
            self._order = {m.name: k for k, m in enumerate(self.g.nodes)}
        return self._order[node.name]

    def reshape(self, n: TfNode) -> bool:
        """Reshape(Reshape(x, s1), s2) -> Reshape(x, s2): only the element count matters."""
        inner = self.producer(n.inputs[0])
        if inner is None or inner.op != "Reshape" or inner.name in self.alias:
            return False
        n.inputs[0] = inner.inputs[0]
        return True

    def squeeze_pair(self, n: TfNode) -> bool:
        """ExpandDims(Squeeze(x, [d]), d) and Squeeze(ExpandDims(x, d), [d]) -> x, for the same axis d >= 0."""
        inner = self.producer(n.inputs[0])
        if inner is None or {n.op, inner.op} != {"Squeeze", "ExpandDims"}:
            return False
        squeeze, expand = (n, inner) if n.op == "Squeeze" else (inner, n)
        dims = _ints(squeeze, "squeeze_dims")
        axis = self.const(expand.inputs[1])
        if len(dims) != 1 or axis is None or axis.size != 1 or int(dims[0]) < 0:
            return False
        if int(dims[0]) != int(axis.reshape(-1)[0]):
            return False
        return self.bypass(n, inner.inputs[0])

    def neutral(self, n: TfNode) -> bool:
        """x * 1, x + 0, x - 0, x / 1 -> x for a scalar constant (no broadcast can change the shape)."""
        if len(n.inputs) != 2:
            return False
        c = self.const(n.inputs[1])
        if c is None or c.ndim != 0 or c.dtype == np.bool_ or c != _NEUTRAL[n.op]:
            return False
        return self.bypass(n, n.inputs[0])

    def scalar_chain(self, n: TfNode) -> bool:
        """(x * a) * b -> x * (a * b) and (x + a) + b -> x + (a + b) for scalar constants a, b."""
        if n.op not in _SCALAR_CHAIN or len(n.inputs) != 2:
            return False
        b = self.const(n.inputs[1])
        inner = self.producer(n.inputs[0])
        if b is None or b.ndim != 0 or inner is None or inner.op != n.op or not self.sole_user(inner):
            return False
        a = self.const(inner.inputs[1]) if len(inner.inputs) == 2 else None
        if a is None or a.ndim != 0 or a.dtype != b.dtype or a.dtype != np.float32:
            return False
        merged = _SCALAR_CHAIN[n.op](a, b).astype(np.float32)
        n.inputs[:] = [inner.inputs[0], self.new_const(np.asarray(merged), f"{n.name}/merged")]
        self.alias[inner.name] = inner.name  # dead now; remove_unused drops it
        return True

    def fold(self, n: TfNode) -> bool:
        """A node of constants computed here when numpy does it exactly and the result stays small."""
        folder = _FOLDERS.get(n.op)
        if folder is None or n.name in self.keep:
            return False
        values = [self.const(r) for r in n.inputs]
        sizes = sum(v.size for v in values if v is not None)
        try:
            out = folder(n, [v for v in values if v is not None])
        except (ValueError, IndexError, TypeError):
            return False  # a malformed constant: leave it to tfjs, which reports it at run time
        if out is None or np.asarray(out).dtype not in NP_TO_TF:
            return False
        out = np.asarray(out)
        # A large result only when it replaces its inputs (same size or less), never as a second copy.
        if out.size > _FOLD_LIMIT and (out.size > sizes or not all(self.sole_user(self.by_name[node_of(r)])
                                                                     for r in n.inputs)):
            return False
        self.alias[n.name] = self.new_const(out, f"{n.name}/folded")
        return True

    def new_const(self, value: np.ndarray, hint: str) -> str:
        ref = self.g.const(value, name=hint)
        self.created.append(ref)
        return ref

    def apply(self) -> None:
        """Point every reader of a removed node at its replacement."""
        def resolve(ref: str) -> str:
            seen = 0
            while self.producer(ref) is not None and node_of(ref) in self.alias and seen < 1000:
                target = self.alias[node_of(ref)]
                if target == node_of(ref):
                    break
                ref, seen = target, seen + 1
            return ref

        for n in self.g.nodes:
            # A control input names a node: it waits for the replacement's node instead.
            n.inputs = [f"^{node_of(resolve(r[1:]))}" if r.startswith("^") else resolve(r) for r in n.inputs]
        created = set(self.created)
        nodes = [m for n in self.g.nodes for m in (*self.before.get(n.name, ()), n)]
        self.g.nodes = [n for n in nodes if n.name in created] + [n for n in nodes if n.name not in created]


def cleanup(graph: TfGraph) -> None:
    """Remove nodes that compute nothing and fold constant ones.

    Bypasses Identity, identity Transposes, same-type Casts, x*1 / x+0 / x-0 / x/1, cancelling
    Squeeze/ExpandDims pairs; collapses Reshape chains; merges chained scalar Mul/Add constants;
    folds small all-constant nodes that numpy computes exactly.

    Signature nodes (inputs, output Identities) stay; nodes with control inputs are left alone;
    only output 0 of a node is ever replaced. Library functions (While bodies) are not visited.
    """
    for _ in range(8):  # each sweep exposes the next link of a chain; 8 bounds a pathological graph
        cleaner = Cleaner(graph)
        changed = False
        for node in list(graph.nodes):
            changed = cleaner.visit(node) or changed
        cleaner.apply()
        graph.remove_unused()
        if not changed:
            break


_FULL_END = 1 << 30  # an end at or past this reads to the end of the axis


def _piece(cleaner: Cleaner, n: TfNode) -> tuple[int, int, int | None] | None:
    """(axis, begin, end or None: to the end) of a StridedSlice cutting exactly one axis with stride 1."""
    if n.op != "StridedSlice" or len(n.inputs) != 4 or n.name in cleaner.alias:
        return None
    if any(_attr(n, k) not in (None, 0) for k in ("ellipsis_mask", "new_axis_mask", "shrink_axis_mask")):
        return None
    begin, end, strides = (cleaner.const(r) for r in n.inputs[1:])
    if begin is None or end is None or strides is None or not (begin.size == end.size == strides.size):
        return None
    if np.any(strides != 1):
        return None
    bm, em = int(_attr(n, "begin_mask") or 0), int(_attr(n, "end_mask") or 0)  # type: ignore[call-overload]
    cuts = []
    for a, (b, e) in enumerate(zip(begin.reshape(-1).tolist(), end.reshape(-1).tolist(), strict=True)):
        lo = 0 if bm >> a & 1 else int(b)
        hi = None if em >> a & 1 or int(e) >= _FULL_END else int(e)
        if lo != 0 or hi is not None:
            cuts.append((a, lo, hi))
    if len(cuts) != 1 or cuts[0][1] < 0 or (cuts[0][2] is not None and cuts[0][2] <= cuts[0][1]):
        return None
    return cuts[0]


def _fits(shape: tuple[int, ...], target: list[int]) -> bool:
    """Whether a tensor of ``shape`` broadcasts into ``target`` without growing it."""
    if len(shape) > len(target):
        return False
    return all(d in (1, t) for d, t in zip(shape[::-1], target[::-1], strict=False))
