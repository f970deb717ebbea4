"""Recurrent ONNX ops (LSTM, GRU, RNN): unrolled per step for a static sequence length, a tfjs While loop otherwise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import onnx_ir as ir

from backends.tfjs_graph.emitters.common import invalid
from backends.tfjs_graph.emitters.while_loop import FunctionOps, LoopVar, Ops, while_loop
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail

GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
_DEFAULT_ACTS = {"LSTM": ("Sigmoid", "Tanh", "Tanh"), "GRU": ("Sigmoid", "Tanh"), "RNN": ("Tanh",)}
# Activations that read alpha / beta, with the defaults of the ONNX ops of the same name.
_ALPHA = {"LeakyRelu": 0.01, "ThresholdedRelu": 1.0, "ScaledTanh": 1.0, "HardSigmoid": 0.2, "Elu": 1.0, "Affine": 1.0}
_BETA = {"ScaledTanh": 1.0, "HardSigmoid": 0.5, "Affine": 0.0}
_NAMES = {n.lower(): n for n in ("Relu", "Tanh", "Sigmoid", "Softsign", "Softplus", *_ALPHA)}
_DIRECTIONS = {"forward": ("forward",), "reverse": ("reverse",), "bidirectional": ("forward", "reverse")}


@dataclass(frozen=True)
class Act:
    """One entry of the ``activations`` attribute with the alpha and beta it consumed."""

    name: str
    alpha: float = 0.0
    beta: float = 0.0


@dataclass(frozen=True)
class Spec:
    """The attributes of one LSTM / GRU / RNN node."""

    kind: str
    hidden: int
    directions: tuple[str, ...]
    layout: int
    acts: tuple[tuple[Act, ...], ...]  # per direction: (f,), (f, g) or (f, g, h)
    clip: float | None
    input_forget: bool
    linear_before_reset: bool


@dataclass
class Weights:
    """One direction's operands in right-hand ``x @ w`` form (tfjs references)."""

    w: str  # [I, G*H]
    r: str  # [H, G*H]; GRU with linear_before_reset=0: [H, 2H] (z, r)
    xb: str | None = None  # [G*H]: every bias that can be added before the recurrence
    r_h: str | None = None  # GRU with linear_before_reset=0: [H, H]
    rb_h: str | None = None  # GRU with linear_before_reset=1: the recurrent bias of the h gate
    peep: tuple[str, str, str] | None = None  # LSTM: P_i, P_o, P_f


# -- attributes -------------------------------------------------------------------------------
def _check_weight_shapes(ctx: EmitCtx, gates: int, n_dirs: int, hidden: int) -> None:
    """W [D, G*H, I], R [D, G*H, H], B [D, 2*G*H], P [D, 3*H] as ONNX requires, where shapes are static."""
    wanted: list[tuple[int, str, list[int | None]]] = [
        (1, "W", [n_dirs, gates * hidden, None]), (2, "R", [n_dirs, gates * hidden, hidden]),
        (3, "B", [n_dirs, 2 * gates * hidden])]
    if ctx.node.op_type == "LSTM":
        wanted.append((7, "P", [n_dirs, 3 * hidden]))
    for i, name, want in wanted:
        shape = ctx.shape(i) if ctx.has_input(i) else None
        if shape is not None and (len(shape) != len(want) or any(
                w is not None and d is not None and d != w for d, w in zip(shape, want, strict=True))):
            raise invalid(ctx, f"{name} has shape {list(shape)}, expected {['?' if w is None else w for w in want]} "
                          f"(hidden_size {hidden}, {n_dirs} direction(s))")


def _spec(ctx: EmitCtx, kind: str) -> Spec:
    direction = str(ctx.attr("direction", "forward"))
    if direction not in _DIRECTIONS:
        raise fail("attribute", f"direction '{direction}' is not forward, reverse or bidirectional")
    dirs = _DIRECTIONS[direction]
    r_shape = ctx.shape(2)
    hidden = ctx.attr("hidden_size") or (r_shape[-1] if r_shape else None)
    if not hidden:
        raise fail("dynamic_shape", "hidden_size is unknown", "set the hidden_size attribute")
    if not isinstance(hidden, int) or hidden < 1:
        raise invalid(ctx, f"hidden_size {hidden} must be a positive integer")
    _check_weight_shapes(ctx, GATES[kind], len(dirs), hidden)
    clip = ctx.attr("clip")
    return Spec(kind, int(hidden), dirs, int(ctx.attr("layout", 0)), _activations(ctx, kind, len(dirs)),
                None if clip is None else float(clip), bool(ctx.attr("input_forget", 0)),
                bool(ctx.attr("linear_before_reset", 0)))


def _activations(ctx: EmitCtx, kind: str, n_dirs: int) -> tuple[tuple[Act, ...], ...]:
    """Per-direction activations; alpha and beta are consumed in order by the activations that use them."""
    per = len(_DEFAULT_ACTS[kind])
    names = [str(n) for n in ctx.attr("activations") or _DEFAULT_ACTS[kind] * n_dirs]
    if len(names) != per * n_dirs:
        raise fail("attribute", f"{len(names)} activations given, {per * n_dirs} expected")
    alphas, betas = iter(ctx.attr("activation_alpha") or []), iter(ctx.attr("activation_beta") or [])
    acts = []
    for raw in names:
        name = _NAMES.get(raw.lower())
        if name is None:
            raise fail("attribute", f"activation '{raw}' is not an ONNX recurrent activation")
        alpha = float(next(alphas, _ALPHA[name])) if name in _ALPHA else 0.0
        beta = float(next(betas, _BETA[name])) if name in _BETA else 0.0
        acts.append(Act(name, alpha, beta))
    return tuple(tuple(acts[d * per:(d + 1) * per]) for d in range(n_dirs))


# -- weights ----------------------------------------------------------------------------------
def _mat(ctx: EmitCtx, ops: Ops, i: int, d: int, lo: int, hi: int) -> str:
    """Rows ``lo:hi`` of direction ``d`` of W / R ([D, N, K]), transposed to [K, hi - lo]."""
    arr = ctx.const(i)
    if arr is not None:
        return ops.const(np.ascontiguousarray(arr[d, lo:hi].T))
    part = ops("Slice", ctx.input(i), ops.ints([d, lo, 0]), ops.ints([1, hi - lo, -1]))
    return ops("Transpose", ops("Squeeze", part, squeeze_dims=Attr.ints([0])), ops.ints([1, 0]))


def _vec(ctx: EmitCtx, ops: Ops, i: int, d: int, lo: int, hi: int) -> str:
    """Elements ``lo:hi`` of direction ``d`` of B / P ([D, N])."""
    arr = ctx.const(i)
    if arr is not None:
        return ops.const(arr[d, lo:hi])
    return ops("Reshape", ops("Slice", ctx.input(i), ops.ints([d, lo]), ops.ints([1, hi - lo])), ops.ints([-1]))


def _add(ops: Ops, a: str | None, b: str | None) -> str | None:
    """``a + b`` folded when both are constants; None is zero."""
    if a is None or b is None:
        return a if b is None else b
    va, vb = ops.value(a), ops.value(b)
    return ops.const(va + vb) if va is not None and vb is not None else ops("AddV2", a, b)


def _scale(ops: Ops, a: str, factor: np.ndarray) -> str:
    """``a * factor``, folded for a constant."""
    va = ops.value(a)
    return ops.const(va * factor) if va is not None else ops("Mul", a, ops.const(factor))


def _weights(ctx: EmitCtx, ops: Ops, spec: Spec, d: int) -> Weights:
    g, h = GATES[spec.kind], spec.hidden
    gru_lbr = spec.kind == "GRU" and spec.linear_before_reset
    split_r = spec.kind == "GRU" and not spec.linear_before_reset
    out = Weights(_mat(ctx, ops, 1, d, 0, g * h), _mat(ctx, ops, 2, d, 0, 2 * h if split_r else g * h))
    if split_r:
        out.r_h = _mat(ctx, ops, 2, d, 2 * h, 3 * h)
    if ctx.has_input(3):
        rb = _vec(ctx, ops, 3, d, g * h, 2 * g * h)
        if gru_lbr:  # Rbh stays inside r * (h @ Rh + Rbh)
            out.rb_h = _vec(ctx, ops, 3, d, g * h + 2 * h, 2 * g * h)
            rb = _scale(ops, rb, np.repeat(np.asarray([1.0, 1.0, 0.0], np.float32), h))
        out.xb = _add(ops, _vec(ctx, ops, 3, d, 0, g * h), rb)
    if spec.kind == "LSTM" and ctx.has_input(7):
        out.peep = (_vec(ctx, ops, 7, d, 0, h), _vec(ctx, ops, 7, d, h, 2 * h), _vec(ctx, ops, 7, d, 2 * h, 3 * h))
    return out


# -- cells ------------------------------------------------------------------------------------
def _act(ops: Ops, act: Act, x: str, clip: float | None) -> str:
    """An ONNX recurrent activation; ``clip`` bounds its input."""
    if clip is not None:
        x = ops("Minimum", ops("Maximum", x, ops.const(-clip)), ops.const(clip))
    name, a, b = act.name, act.alpha, act.beta
    if name in ("Sigmoid", "Tanh", "Relu", "Softplus"):
        return ops(name, x)
    if name == "Softsign":
        return ops("RealDiv", x, ops("AddV2", ops("Abs", x), ops.const(1.0)))
    if name == "LeakyRelu":
        return ops("LeakyRelu", x, alpha=Attr.f(a))
    if name == "ThresholdedRelu":
        return ops("SelectV2", ops("Greater", x, ops.const(a)), x, ops.const(0.0))
    if name == "ScaledTanh":
        return ops("Mul", ops("Tanh", ops("Mul", x, ops.const(b))), ops.const(a))
    if name == "Elu":
        elu = ops("Elu", x)
        return elu if a == 1.0 else ops("SelectV2", ops("Greater", x, ops.const(0.0)), x, ops("Mul", elu, ops.const(a)))
    affine = ops("AddV2", ops("Mul", x, ops.const(a)), ops.const(b))
    if name == "Affine":
        return affine
    return ops("Minimum", ops("Maximum", affine, ops.const(0.0)), ops.const(1.0))  # HardSigmoid


def _split(ops: Ops, x: str, n: int) -> list[str]:
    if n == 1:
        return [x]
    s = ops("Split", ops.ints(1), x, num_split=Attr.i(n))
    return [ops.out(s, k) for k in range(n)]


def _matmul(ops: Ops, a: str, b: str) -> str:
    return ops("MatMul", a, b, transpose_a=Attr.b(False), transpose_b=Attr.b(False))


def _recur(ops: Ops, x: str, h: str | None, r: str) -> str:
    """``x + h @ r``; the first step of a zero initial state has no recurrent term."""
    return x if h is None else ops("AddV2", x, _matmul(ops, h, r))


State = tuple[str, str | None]
Step = Callable[[Ops, Spec, tuple[Act, ...], Weights, str, "str | None", "str | None"], State]


def _lstm(ops: Ops, spec: Spec, acts: tuple[Act, ...], w: Weights, xw: str, h: str | None, c: str | None) -> State:
    f, g, hh = acts
    i, o, fg, cc = _split(ops, _recur(ops, xw, h, w.r), 4)
    if w.peep is not None and c is not None:
        i, fg = ops("AddV2", i, ops("Mul", w.peep[0], c)), ops("AddV2", fg, ops("Mul", w.peep[2], c))
    i = _act(ops, f, i, spec.clip)
    new_c = ops("Mul", i, _act(ops, g, cc, spec.clip))
    if c is not None:
        forget = ops("Sub", ops.const(1.0), i) if spec.input_forget else _act(ops, f, fg, spec.clip)
        new_c = ops("AddV2", ops("Mul", forget, c), new_c)
    if w.peep is not None:
        o = ops("AddV2", o, ops("Mul", w.peep[1], new_c))
    return ops("Mul", _act(ops, f, o, spec.clip), _act(ops, hh, new_c, spec.clip)), new_c


def _gru(ops: Ops, spec: Spec, acts: tuple[Act, ...], w: Weights, xw: str, h: str | None, c: str | None) -> State:
    f, g = acts
    xz, xr, xh = _split(ops, xw, 3)
    if spec.linear_before_reset:
        hz = hr = hh = None
        if h is not None:
            hz, hr, hh = _split(ops, _matmul(ops, h, w.r), 3)
        z, r = _act(ops, f, _add(ops, xz, hz), spec.clip), _act(ops, f, _add(ops, xr, hr), spec.clip)  # type: ignore[arg-type]
        inner = _add(ops, hh, w.rb_h)
        pre = xh if inner is None else ops("AddV2", xh, ops("Mul", r, inner))
    else:
        if h is None:
            z, pre = _act(ops, f, xz, spec.clip), xh
        else:
            hz, hr = _split(ops, _matmul(ops, h, w.r), 2)
            z, r = _act(ops, f, ops("AddV2", xz, hz), spec.clip), _act(ops, f, ops("AddV2", xr, hr), spec.clip)
            pre = ops("AddV2", xh, _matmul(ops, ops("Mul", r, h), w.r_h))  # type: ignore[arg-type]
    cand = _act(ops, g, pre, spec.clip)
    # (1 - z) * cand + z * h, as cand + z * (h - cand)
    return ops("AddV2", cand, ops("Mul", z, ops("Sub", h, cand) if h is not None else ops("Neg", cand))), None


def _rnn(ops: Ops, spec: Spec, acts: tuple[Act, ...], w: Weights, xw: str, h: str | None, c: str | None) -> State:
    return _act(ops, acts[0], _recur(ops, xw, h, w.r), spec.clip), None


_STEPS: dict[str, Step] = {"LSTM": _lstm, "GRU": _gru, "RNN": _rnn}


def _masked(ops: Ops, mask: str, new: str, old: str | None) -> str:
    """``new`` where the step is inside the sequence (mask [B, 1]), else ``old`` (zeros when absent)."""
    return ops("SelectV2", mask, new, old if old is not None else ops("ZerosLike", new))


def _advance(ops: Ops, spec: Spec, acts: tuple[Act, ...], w: Weights, xw: str, h: str | None, c: str | None,
             mask: str | None) -> tuple[str, str | None, str]:
    """One step: the new hidden and cell state and the step's output (zero outside the sequence)."""
    new_h, new_c = _STEPS[spec.kind](ops, spec, acts, w, xw, h, c)
    if mask is None:
        return new_h, new_c, new_h
    cell = _masked(ops, mask, new_c, c) if new_c is not None else None
    return _masked(ops, mask, new_h, h), cell, _masked(ops, mask, new_h, None)


def _step_mask(ops: Ops, t: str, seq: str | None) -> str | None:
    """[B, 1] bool: step ``t`` lies inside each batch entry's sequence."""
    if seq is None:
        return None
    return ops("ExpandDims", ops("Less", t, seq, t="DT_INT32"), ops.ints(1), t=None)


# -- sequences --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    """One direction's output sequence [T, B, H] and final states."""

    y: str
    h: str
    c: str | None


@dataclass(frozen=True)
class Seq:
    """The time-major input [T, B, I] and what is known of it."""

    x: str
    steps: int | None
    size: int
    lens: str | None  # sequence_lens [B] (int32), when it can cut sequences short


def _unrolled(ops: Ops, spec: Spec, d: int, w: Weights, seq: Seq, h: str | None, c: str | None) -> Run:
    """A static sequence length: one MatMul for every step's input, then the steps one after another."""
    steps, gh = int(seq.steps), GATES[spec.kind] * spec.hidden  # type: ignore[arg-type]
    if steps < 1:
        raise fail("attribute", f"{spec.kind} over a sequence of {steps} steps has no output to compute")
    xw = _matmul(ops, ops("Reshape", seq.x, ops.ints([-1, seq.size])), w.w)
    xw = ops("Reshape", xw if w.xb is None else ops("AddV2", xw, w.xb), ops.ints([steps, -1, gh]))
    if steps == 1:
        xs = [ops("Squeeze", xw, squeeze_dims=Attr.ints([0]))]
    else:
        unpacked = ops("Unpack", xw, axis=Attr.i(0), num=Attr.i(steps))
        xs = [ops.out(unpacked, t) for t in range(steps)]
    ys = [""] * steps
    order = range(steps) if spec.directions[d] == "forward" else range(steps - 1, -1, -1)
    for t in order:
        mask = _step_mask(ops, ops.ints(t), seq.lens) if seq.lens is not None else None
        h, c, ys[t] = _advance(ops, spec, spec.acts[d], w, xs[t], h, c, mask)
    return Run(ops("Pack", *ys, axis=Attr.i(0), N=Attr.i(steps)), h, c)  # type: ignore[arg-type]


def _captured(f: FunctionOps, w: Weights) -> Weights:
    """The weights as loop arguments of function ``f``."""
    def cap(ref: str | None) -> str | None:
        return None if ref is None else f.capture(ref, "DT_FLOAT")

    peep = None if w.peep is None else (cap(w.peep[0]), cap(w.peep[1]), cap(w.peep[2]))
    return Weights(cap(w.w), cap(w.r), cap(w.xb), cap(w.r_h), cap(w.rb_h), peep)  # type: ignore[arg-type]


def _zeros(ops: Ops, shape: str, hidden: int) -> str:
    """A [B, hidden] zero state for the batch size of a time-major input's ``shape``."""
    batch = ops("StridedSlice", shape, ops.ints([1]), ops.ints([2]), ops.ints([1]), t="DT_INT32")
    dims = ops("ConcatV2", batch, ops.ints([hidden]), ops.ints(0), t="DT_INT32", N=Attr.i(2))
    return ops("Fill", dims, ops.const(0.0))


def _looped(ops: Ops, spec: Spec, d: int, w: Weights, seq: Seq, h: str | None, c: str | None) -> Run:
    """A dynamic sequence length: a StatelessWhile writing each step's output into a TensorList."""
    lstm, hidden = spec.kind == "LSTM", spec.hidden
    xw = ops("BatchMatMulV2", seq.x, w.w, adj_x=Attr.b(False), adj_y=Attr.b(False))
    xw = xw if w.xb is None else ops("AddV2", xw, w.xb)
    shape = ops("Shape", seq.x, t=None, out_type=Attr.dtype("DT_INT32"))
    steps = ops("StridedSlice", shape, ops.ints([0]), ops.ints([1]), ops.ints([1]), t="DT_INT32",
                shrink_axis_mask=Attr.i(1))
    zeros = _zeros(ops, shape, hidden) if h is None or (lstm and c is None) else ""
    h = h or zeros
    c = (c or zeros) if lstm else None
    out_list = ops("TensorListReserve", ops.ints([-1, hidden]), steps, t=None,
                   element_dtype=Attr.dtype("DT_FLOAT"), shape_type=Attr.dtype("DT_INT32"))
    states = [LoopVar(h, "DT_FLOAT")] + ([LoopVar(c, "DT_FLOAT")] if c is not None else [])
    # With sequence_lens the step output differs from the state; it is carried so that the loop keeps it alive.
    extra = [LoopVar(h, "DT_FLOAT")] if seq.lens is not None else []
    loop_vars = [LoopVar(ops.ints(0), "DT_INT32"), LoopVar(steps, "DT_INT32"), *states,
                 LoopVar(out_list, "DT_VARIANT"), *extra]

    def body(f: FunctionOps, a: list[str]) -> list[str]:
        i, n, hs, cs, lst = a[0], a[1], a[2], a[3] if lstm else None, a[3 + lstm]
        idx = i if spec.directions[d] == "forward" else f("Sub", f("Sub", n, i, t="DT_INT32"), f.ints(1),
                                                          t="DT_INT32")
        xw_t = f("GatherV2", f.capture(xw, "DT_FLOAT"), idx, f.ints(0), t=None, batch_dims=Attr.i(0))
        lens = None if seq.lens is None else f.capture(seq.lens, "DT_INT32")
        nh, nc, y = _advance(f, spec, spec.acts[d], _captured(f, w), xw_t, hs, cs, _step_mask(f, idx, lens))
        nl = f("TensorListSetItem", lst, idx, y, t=None, element_dtype=Attr.dtype("DT_FLOAT"))
        nxt = f("AddV2", i, f.ints(1), t="DT_INT32")
        return [nxt, n, nh, *([nc] if lstm else []), nl, *([y] if extra else [])]  # type: ignore[list-item]

    def cond(f: FunctionOps, a: list[str]) -> str:
        return f("Less", a[0], a[1], t="DT_INT32")

    final = while_loop(ops, loop_vars, cond, body, f"while{d}")
    y = ops("TensorListStack", final[3 + lstm], ops.ints([-1, hidden]), t=None,
            element_dtype=Attr.dtype("DT_FLOAT"))
    return Run(y, final[2], final[3] if lstm else None)


def _initial(ctx: EmitCtx, ops: Ops, spec: Spec, i: int, d: int) -> str | None:
    """Direction ``d`` of initial_h / initial_c ([D, B, H], or [B, D, H] with layout 1)."""
    if not ctx.has_input(i):
        return None
    arr = ctx.const(i)
    if arr is not None:
        return ops.const(np.take(arr, d, axis=spec.layout))
    return ops("GatherV2", ctx.input(i), ops.ints(d), ops.ints(spec.layout), t=None, batch_dims=Attr.i(0))


def _sequence(ctx: EmitCtx, ops: Ops, spec: Spec) -> Seq:
    shape = ctx.shape(0)
    if shape is None or len(shape) != 3:
        raise fail("dynamic_shape", "X must have a known rank of 3")
    x = ctx.input(0) if not spec.layout else ops("Transpose", ctx.input(0), ops.ints([1, 0, 2]))
    steps = shape[1 if spec.layout else 0]
    size = shape[2] or (ctx.shape(1) or (None,))[-1]
    if size is None:
        raise fail("dynamic_shape", "the input size of X is unknown", "export with a static feature dimension")
    lens = ctx.const(4)
    full = lens is not None and steps is not None and bool(np.all(lens == steps))
    return Seq(x, steps, int(size), ctx.input(4) if ctx.has_input(4) and not full else None)


def _finish(ctx: EmitCtx, ops: Ops, spec: Spec, runs: list[Run]) -> None:
    """Y [T, D, B, H] (layout 1: [B, T, D, H]), Y_h and Y_c [D, B, H] (layout 1: [B, D, H])."""
    n = Attr.i(len(runs))
    if ctx.has_output(0):
        y = ops("Pack", *(r.y for r in runs), axis=Attr.i(1), N=n)
        ctx.set_output(0, ops("Transpose", y, ops.ints([2, 0, 1, 3])) if spec.layout else y)
    if ctx.has_output(1):
        ctx.set_output(1, ops("Pack", *(r.h for r in runs), axis=Attr.i(spec.layout), N=n))
    if spec.kind == "LSTM" and ctx.has_output(2):
        ctx.set_output(2, ops("Pack", *(r.c or "" for r in runs), axis=Attr.i(spec.layout), N=n))


def _emit(ctx: EmitCtx, kind: str) -> None:
    if ctx.dtype(0) != ir.DataType.FLOAT:
        raise fail("dtype", f"{kind} is emitted for float32 only")
    spec, ops = _spec(ctx, kind), Ops(ctx)
    seq = _sequence(ctx, ops, spec)
    runs = []
    for d in range(len(spec.directions)):
        w = _weights(ctx, ops, spec, d)
        h, c = _initial(ctx, ops, spec, 5, d), _initial(ctx, ops, spec, 6, d) if kind == "LSTM" else None
        runs.append((_unrolled if seq.steps is not None else _looped)(ops, spec, d, w, seq, h, c))
    _finish(ctx, ops, spec, runs)


RECURRENT_OPS = frozenset({
    "Transpose", "Squeeze", "Slice", "Reshape", "MatMul", "BatchMatMulV2", "AddV2", "Sub", "Mul", "Neg", "RealDiv",
    "Abs", "Minimum", "Maximum", "Sigmoid", "Tanh", "Relu", "Softplus", "LeakyRelu", "Elu", "SelectV2", "Greater",
    "Less", "ZerosLike", "Split", "Unpack", "Pack", "GatherV2", "ExpandDims", "ConcatV2", "Shape", "StridedSlice",
    "Fill", "TensorListReserve", "TensorListSetItem", "TensorListStack", "StatelessWhile",
})
_LIMITS = ("float32 only",
           "a dynamic sequence length becomes a StatelessWhile loop, which tfjs runs only with executeAsync / "
           "predictAsync; a static one is unrolled")


@TFJS.rule("LSTM", produces=RECURRENT_OPS, since=7, limits=_LIMITS)
def emit_lstm(ctx: EmitCtx) -> None:
    """LSTM(X, W, R, B?, sequence_lens?, initial_h?, initial_c?, P?) -> Y?, Y_h?, Y_c?."""
    _emit(ctx, "LSTM")


@TFJS.rule("GRU", produces=RECURRENT_OPS, since=7, limits=_LIMITS)
def emit_gru(ctx: EmitCtx) -> None:
    """GRU(X, W, R, B?, sequence_lens?, initial_h?) -> Y?, Y_h?."""
    _emit(ctx, "GRU")


@TFJS.rule("RNN", produces=RECURRENT_OPS, since=7, limits=_LIMITS)
def emit_rnn(ctx: EmitCtx) -> None:
    """RNN(X, W, R, B?, sequence_lens?, initial_h?) -> Y?, Y_h?."""
    _emit(ctx, "RNN")
