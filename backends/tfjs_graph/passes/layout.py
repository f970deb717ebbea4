"""Channels-last layout: one forward sweep that sinks every Transpose and cancels pairs.

Emitters write channels-first ONNX semantics as ``Transpose -> NHWC op -> Transpose``. This pass
never materializes a Transpose it meets. It records, for every tensor, the physical tensor that
holds it and a permutation ``P`` with ``logical = transpose(physical, P)``, and carries ``P``
through ops that do not care about layout (elementwise ops, reductions, concat, pad, slice,
squeeze/expand, reshapes that only move size-1 dims), remapping their axis constants. A
Transpose is written only where an op needs the logical layout and the permutation is not the
identity; constants are transposed in numpy instead.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from backends.tfjs_graph.graph import NP_TO_TF, Attr, TfGraph, TfNode
from backends.tfjs_graph.passes.transposes import View, low_rank_steps, reshape_target, static_shape

Perm = tuple[int, ...]

UNARY = frozenset({
    "Abs", "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "Cast", "Ceil", "Cos", "Cosh", "Elu", "Erf", "Exp",
    "Expm1", "Floor", "IsFinite", "IsInf", "IsNan", "LeakyRelu", "Log", "Log1p", "LogicalNot", "Neg", "Reciprocal",
    "Relu", "Relu6", "Round", "Rsqrt", "Selu", "Sigmoid", "Sign", "Sin", "Sinh", "Softplus", "Sqrt", "Square", "Tan",
    "Tanh", "StopGradient", "Snapshot",
})
NARY = frozenset({
    "Add", "AddV2", "AddN", "Sub", "Mul", "RealDiv", "Div", "DivNoNan", "FloorDiv", "FloorMod", "Mod", "Maximum",
    "Minimum", "Pow", "SquaredDifference", "Atan2", "Equal", "NotEqual", "Less", "LessEqual", "Greater",
    "GreaterEqual", "LogicalAnd", "LogicalOr", "SelectV2", "ClipByValue",
})
REDUCE = frozenset({"Sum", "Mean", "Max", "Min", "Prod", "All", "Any"})


def inverse(perm: Perm) -> Perm:
    """The permutation undoing ``perm``."""
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def compose(first: Perm, then: Perm) -> Perm:
    """The single permutation equal to applying ``first`` and then ``then``."""
    return tuple(first[i] for i in then)


def _identity(perm: Perm | None) -> bool:
    return perm is None or perm == tuple(range(len(perm)))


def _drop_axes(perm: Perm, logical_axes: set[int]) -> Perm:
    """The permutation left after removing ``logical_axes`` from a tensor with ``perm``."""
    kept = [perm[i] for i in range(len(perm)) if i not in logical_axes]
    order = sorted(kept)
    return tuple(order.index(p) for p in kept)


class LayoutSweep:
    """State of one sweep: physical tensors and permutations of the original tensors."""

    def __init__(self, graph: TfGraph) -> None:
        self.g = graph
        self.out: list[TfNode] = []
        self.phys: dict[str, str] = {}
        self.perm: dict[str, Perm] = {}
        self._cache: dict[tuple[str, Perm], str] = {}
        # Tensors held as a lazy Reshape/Transpose chain: ref -> (physical tensor, its shape, view).
        self.view: dict[str, tuple[str, tuple[int, ...], View]] = {}
        self.uses: dict[str, int] = {}
        for node in graph.nodes:
            for ref in node.inputs:
                self.uses[ref] = self.uses.get(ref, 0) + 1

    # -- tensors --------------------------------------------------------------------------
    def rank(self, ref: str) -> int | None:
        if ref in self.perm:
            return len(self.perm[ref])
        value = self.g.consts.get(ref)
        return value.ndim if value is not None else self.g.rank(ref)

    def const(self, ref: str) -> np.ndarray | None:
        return self.g.consts.get(self.phys.get(ref, ref)) if ref not in self.perm else None

    def logical_shape(self, ref: str) -> tuple[int | None, ...] | None:
        return self.g.shapes.get(ref)

    def bind(self, ref: str, phys: str, perm: Perm | None) -> None:
        self.phys[ref] = phys
        if _identity(perm):
            self.perm.pop(ref, None)
        else:
            self.perm[ref] = perm  # type: ignore[assignment]
        shape = self.g.shapes.get(ref)
        if shape is not None and _identity(perm):
            self.g.shapes.setdefault(phys, shape)

    def as_perm(self, ref: str, target: Perm | None) -> str:
        """The physical tensor holding ``ref`` with permutation ``target`` (identity if None)."""
        phys = self.phys.get(ref, ref)
        current = self.perm.get(ref)
        rank = len(target) if target is not None else (len(current) if current is not None else None)
        if rank is None:
            return phys
        have = current or tuple(range(rank))
        want = target or tuple(range(rank))
        q = compose(have, inverse(want))
        if _identity(q):
            return phys
        key = (phys, q)
        if key not in self._cache:
            self._cache[key] = self._transpose(phys, q, self.phys_shape(ref))
        return self._cache[key]

    def _transpose(self, phys: str, q: Perm, phys_shape: tuple[int, ...] | None = None) -> str:
        value = self.g.consts.get(phys)
        label = "".join(str(p) for p in q)
        if value is not None:
            return self.new_const(f"{phys}/t{label}", np.transpose(value, q))
        if phys_shape is not None:
            view = View.of(phys_shape, q)
            if len(view.merged()[1]) < len(view.atoms):  # a lower-rank Transpose between two free Reshapes
                return self.materialize(phys, phys_shape, view)
        return self.emit_transpose(phys, q)

    def emit_transpose(self, phys: str, q: Perm) -> str:
        label = "".join(str(p) for p in q)
        perm = self.new_const(f"{phys}/t{label}/perm", np.asarray(q, dtype=np.int32))
        name = self.g.unique(f"{phys}/t{label}")
        self.out.append(TfNode(name, "Transpose", [phys, perm], {}))
        return name

    def emit_reshape(self, phys: str, shape: tuple[int, ...], hint: str = "") -> str:
        target = self.int_const(f"{hint or phys}/shape", list(shape))
        name = self.g.unique(hint or f"{phys}/reshaped")
        self.out.append(TfNode(name, "Reshape", [phys, target], {}))
        self.g.shapes[name] = shape
        return name

    def materialize(self, phys: str, phys_shape: tuple[int, ...], view: View) -> str:
        """The logical tensor of ``view``: Reshape, one Transpose of the merged atoms, Reshape."""
        shape, perm = view.merged()
        ref = phys
        if _identity(perm):
            return ref if view.shape() == phys_shape else self.emit_reshape(ref, view.shape())
        if len(perm) > 4:
            shape = phys_shape
            for step_shape, step_perm in low_rank_steps(*view.merged()):
                ref = self.emit_transpose(ref if step_shape == shape else self.emit_reshape(ref, step_shape), step_perm)
                shape = tuple(step_shape[p] for p in step_perm)
            return ref if shape == view.shape() else self.emit_reshape(ref, view.shape())
        if shape == tuple(d for d in phys_shape if d != 1) and len(phys_shape) > len(shape):
            # Only size-1 dims differ: transpose the physical tensor as is, its size-1 dims last.
            axes = [j for j, d in enumerate(phys_shape) if d != 1]
            perm = (*(axes[p] for p in perm), *(j for j, d in enumerate(phys_shape) if d == 1))
            shape = phys_shape
        elif shape != phys_shape:
            ref = self.emit_reshape(ref, shape)
        ref = self.emit_transpose(ref, perm)
        out = tuple(shape[p] for p in perm)
        return ref if out == view.shape() else self.emit_reshape(ref, view.shape())

    def phys_shape(self, ref: str) -> tuple[int, ...] | None:
        """The static shape of the physical tensor holding ``ref``."""
        shape = static_shape(self.g.shapes.get(ref))
        if shape is None:
            return None
        p = self.perm.get(ref) or tuple(range(len(shape)))
        return tuple(shape[i] for i in inverse(p)) if len(p) == len(shape) else None

    def bind_view(self, ref: str, phys: str, phys_shape: tuple[int, ...], view: View) -> None:
        """Bind ``ref`` to a view: as a permutation of a reshaped physical tensor when it is one, else lazily."""
        found = view.as_perm()
        if found is None:
            self.view[ref] = (phys, phys_shape, view)
            self.phys.pop(ref, None)
            self.perm.pop(ref, None)
            if self.uses.get(ref, 0) > 1:  # write it once, not once per reader (Swin's Q, K, V)
                self.settle(ref)
            return
        shape, perm = found
        if shape != phys_shape:
            phys = self.emit_reshape(phys, shape, ref)
        self.bind(ref, phys, perm)

    def settle(self, ref: str) -> None:
        """Write the lazy view of ``ref`` (if any) so that ops other than Reshape/Transpose can read it."""
        held = self.view.pop(ref, None)
        if held is None:
            return
        phys, phys_shape, view = held
        nearer = view.channels_last()
        if nearer is None:
            self.bind(ref, self.materialize(phys, phys_shape, view), None)
        else:
            self.bind(ref, self.materialize(phys, phys_shape, nearer[0]), nearer[1])

    def new_const(self, hint: str, value: np.ndarray) -> str:
        """A new Const node holding ``value``."""
        name = self.g.unique(hint)
        arr = np.ascontiguousarray(value)
        self.g.consts[name] = arr
        self.g.shapes[name] = tuple(arr.shape)
        self.out.append(TfNode(name, "Const", [], {"dtype": Attr.dtype(NP_TO_TF[arr.dtype])}))
        return name

    def int_const(self, hint: str, values: list[int] | int) -> str:
        return self.new_const(hint, np.asarray(values, dtype=np.int32))

    # -- nodes ----------------------------------------------------------------------------
    def emit(self, node: TfNode, inputs: list[str], out_perm: Perm | None = None) -> None:
        self.out.append(TfNode(node.name, node.op, inputs, dict(node.attrs)))
        self.bind(node.name, node.name, out_perm)

    def default(self, node: TfNode) -> None:
        """An op that needs the logical layout: materialize every input."""
        self.out.append(TfNode(node.name, node.op, [self.as_perm(r, None) for r in node.inputs], dict(node.attrs)))

    def run(self) -> None:
        for node in self.g.nodes:
            if node.op not in ("Transpose", "Reshape"):
                for ref in node.inputs:
                    self.settle(ref)
            handler = _HANDLERS.get(node.op) or (_unary if node.op in UNARY else _nary if node.op in NARY
                                                 else _reduce if node.op in REDUCE else None)
            if node.op == "Const" or node.op == "Placeholder":
                self.out.append(node)
            elif handler is None or not handler(self, node):
                self.default(node)
        self.g.nodes = self.out


Handler = Callable[[LayoutSweep, TfNode], bool]


def _transpose_node(s: LayoutSweep, node: TfNode) -> bool:
    perm = s.const(node.inputs[1]) if len(node.inputs) == 2 else None
    if perm is None:
        s.settle(node.inputs[0])
        return False
    p = tuple(int(v) for v in perm.reshape(-1))
    src = node.inputs[0]
    if src in s.view:
        phys, phys_shape, view = s.view[src]
        s.bind_view(node.name, phys, phys_shape, view.transpose(p))
        return True
    have = s.perm.get(src) or tuple(range(len(p)))
    s.bind(node.name, s.phys.get(src, src), compose(have, p))
    return True


def _unary(s: LayoutSweep, node: TfNode) -> bool:
    src = node.inputs[0]
    if src not in s.perm:
        return False
    s.emit(node, [s.phys[src], *[s.as_perm(r, None) for r in node.inputs[1:]]], s.perm[src])
    return True


def _target(s: LayoutSweep, refs: list[str]) -> Perm | None:
    """The permutation shared by the full-rank operands of a broadcasting op, if any."""
    ranks = [s.rank(r) for r in refs]
    if any(r is None for r in ranks):
        return None
    full = max(ranks)  # type: ignore[type-var]
    return next((s.perm[r] for r, k in zip(refs, ranks, strict=True) if k == full and r in s.perm), None)


def _operand(s: LayoutSweep, ref: str, target: Perm) -> str | None:
    """``ref`` broadcast-ready under ``target``: permuted constant or materialized tensor."""
    if s.perm.get(ref) == target:
        return s.phys[ref]
    value = s.const(ref)
    rank = len(target)
    if value is not None and value.ndim <= rank:
        if value.ndim == 0:
            return s.phys.get(ref, ref)
        full = value.reshape((1,) * (rank - value.ndim) + value.shape)
        label = "".join(str(p) for p in inverse(target))
        return s.new_const(f"{ref}/t{label}", np.transpose(full, inverse(target)))
    if s.rank(ref) == rank:
        return s.as_perm(ref, target)
    return None


def _nary(s: LayoutSweep, node: TfNode) -> bool:
    target = _target(s, node.inputs)
    if target is None:
        return False
    operands = [_operand(s, r, target) for r in node.inputs]
    if any(o is None for o in operands):
        return False
    s.emit(node, operands, target)  # type: ignore[arg-type]
    return True


def _prelu(s: LayoutSweep, node: TfNode) -> bool:
    """Prelu sinks only while its alpha stays a trailing block: the wasm kernel ignores alpha's shape."""
    target, alpha = _target(s, node.inputs), s.const(node.inputs[1])
    shape = s.logical_shape(node.inputs[0])
    if target is None or alpha is None or shape is None or alpha.ndim > len(target):
        return False
    if alpha.size > 1:
        full = (1,) * (len(target) - alpha.ndim) + alpha.shape
        phys_alpha = [full[i] for i in inverse(target)]
        phys_x = [shape[i] for i in inverse(target)]
        while phys_alpha and phys_alpha[0] == 1:
            phys_alpha.pop(0)
        if phys_x[len(phys_x) - len(phys_alpha):] != phys_alpha:
            return False
    return _nary(s, node)


def _reduce(s: LayoutSweep, node: TfNode) -> bool:
    src, axes_ref = node.inputs[0], node.inputs[1]
    axes = s.const(axes_ref)
    if src not in s.perm or axes is None:
        return False
    p = s.perm[src]
    logical = {int(a) % len(p) for a in axes.reshape(-1)}
    phys_axes = sorted(p[a] for a in logical)
    keep = node.attrs.get("keep_dims", Attr.b(False)).value
    value = phys_axes if axes.ndim else phys_axes[0]
    out_perm = p if keep else _drop_axes(p, logical)
    s.emit(node, [s.phys[src], s.int_const(f"{node.name}/axes_nhwc", value)], out_perm)
    return True


def _scalar_axis(s: LayoutSweep, node: TfNode) -> tuple[str, Perm, int] | None:
    """Input, its permutation and the raw axis of an op with a permuted input and a Const axis."""
    src, axis = node.inputs[0], s.const(node.inputs[1])
    if src not in s.perm or axis is None:
        return None
    return src, s.perm[src], int(axis.reshape(-1)[0])


def _arg_reduce(s: LayoutSweep, node: TfNode) -> bool:
    found = _scalar_axis(s, node)
    if found is None:
        return False
    src, p, axis = found
    a = axis % len(p)
    s.emit(node, [s.phys[src], s.int_const(f"{node.name}/axis_nhwc", p[a])], _drop_axes(p, {a}))
    return True


def _concat(s: LayoutSweep, node: TfNode) -> bool:
    tensors, axis = node.inputs[:-1], s.const(node.inputs[-1])
    target = _target(s, tensors)
    if target is None or axis is None or any(s.rank(r) != len(target) for r in tensors):
        return False
    operands = [_operand(s, r, target) for r in tensors]
    if any(o is None for o in operands):
        return False
    a = int(axis.reshape(-1)[0]) % len(target)
    s.emit(node, [*operands, s.int_const(f"{node.name}/axis_nhwc", target[a])], target)  # type: ignore[list-item]
    return True


def _per_axis(s: LayoutSweep, node: TfNode, params: tuple[int, ...]) -> bool:
    """Ops whose listed const inputs hold one row per axis (Pad paddings, Slice begin/size)."""
    src = node.inputs[0]
    values = [s.const(node.inputs[i]) for i in params]
    if src not in s.perm or any(v is None for v in values):
        return False
    p = s.perm[src]
    inputs = [s.phys[src], *[s.as_perm(r, None) for r in node.inputs[1:]]]
    for i, v in zip(params, values, strict=True):
        inputs[i] = s.new_const(f"{node.name}/{i}_nhwc", np.asarray(v)[list(inverse(p))])
    s.emit(node, inputs, p)
    return True


def _strided_slice(s: LayoutSweep, node: TfNode) -> bool:
    def mask(k: str) -> int:
        return int(node.attrs[k].value) if k in node.attrs else 0  # type: ignore[call-overload]

    src = node.inputs[0]
    if src not in s.perm or mask("ellipsis_mask") or mask("new_axis_mask") or mask("shrink_axis_mask"):
        return False
    p = s.perm[src]
    if any((v := s.const(r)) is None or v.shape != (len(p),) for r in node.inputs[1:4]):
        return False
    remapped = {k: Attr.i(sum(1 << p[i] for i in range(len(p)) if mask(k) >> i & 1))
                for k in ("begin_mask", "end_mask")}
    return _per_axis(s, TfNode(node.name, node.op, node.inputs, {**node.attrs, **remapped}), (1, 2, 3))


def _softmax(s: LayoutSweep, node: TfNode) -> bool:
    src = node.inputs[0]
    p = s.perm.get(src)
    if p is None or p[-1] != len(p) - 1:
        return False
    s.emit(node, [s.phys[src]], p)
    return True


def _squeeze(s: LayoutSweep, node: TfNode) -> bool:
    src = node.inputs[0]
    dims = node.attrs.get("squeeze_dims")
    if src not in s.perm or dims is None or not dims.value:
        return False
    p = s.perm[src]
    logical = {int(a) % len(p) for a in dims.value}  # type: ignore[attr-defined]
    s.out.append(TfNode(node.name, node.op, [s.phys[src]], {**node.attrs,
                                                             "squeeze_dims": Attr.ints(sorted(p[a] for a in logical))}))
    s.bind(node.name, node.name, _drop_axes(p, logical))
    return True


def _expand_dims(s: LayoutSweep, node: TfNode) -> bool:
    found = _scalar_axis(s, node)
    if found is None:
        return False
    src, p, axis = found
    rank = len(p)
    a = axis % (rank + 1)
    # Put the new physical dim just before the one holding the next logical dim, so that a
    # Squeeze/ExpandDims pair around a 2-D conv keeps the channels-last order.
    q = p[a] if a < rank else rank
    shift = [d + 1 if d >= q else d for d in p]
    out = (*shift[:a], q, *shift[a:])
    s.emit(node, [s.phys[src], s.int_const(f"{node.name}/axis_nhwc", q)], out)
    return True


def _reshape(s: LayoutSweep, node: TfNode) -> bool:
    """A Reshape of a permuted (or lazily viewed) tensor becomes a lazy view.

    The view is the same Reshape on the physical tensor when the dims it splits or merges stay
    together there; otherwise it is written as one Transpose when an op needs it.
    """
    src = node.inputs[0]
    if src in s.view:
        phys, phys_shape, view = s.view[src]
    elif src in s.perm and (shape := s.phys_shape(src)) is not None:
        phys, phys_shape, view = s.phys[src], shape, View.of(shape, s.perm[src])
    else:
        s.settle(src)
        return False
    target = reshape_target(s.g.shapes.get(node.name), s.const(node.inputs[1]), int(np.prod(phys_shape)))
    moved = view.reshape(target) if target is not None else None
    if moved is None:
        s.settle(src)
        return False
    s.bind_view(node.name, phys, phys_shape, moved)
    return True


_HANDLERS: dict[str, Handler] = {
    "Transpose": _transpose_node,
    "ConcatV2": _concat,
    "ArgMax": _arg_reduce,
    "ArgMin": _arg_reduce,
    "Pad": lambda s, n: _per_axis(s, n, (1,)),
    "PadV2": lambda s, n: _per_axis(s, n, (1,)),
    "MirrorPad": lambda s, n: _per_axis(s, n, (1,)),
    "Slice": lambda s, n: _per_axis(s, n, (1, 2)),
    "StridedSlice": _strided_slice,
    "Softmax": _softmax,
    "LogSoftmax": _softmax,
    "Squeeze": _squeeze,
    "ExpandDims": _expand_dims,
    "Reshape": _reshape,
    "Prelu": _prelu,
}


def channels_last(graph: TfGraph) -> None:
    """Rewrite ``graph`` so that Transposes remain only where the logical layout is needed."""
    sweep = LayoutSweep(graph)
    sweep.run()
    graph.layout = {ref: (phys, sweep.perm.get(ref)) for ref, phys in sweep.phys.items()}
    graph.remove_unused()


__all__ = ["channels_last", "compose", "inverse"]
