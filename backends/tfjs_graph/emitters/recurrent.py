"""Recurrent ONNX ops (LSTM, GRU, RNN): unrolled per step for a static sequence length, a tfjs While loop otherwise."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum, IntEnum

import numpy as np
import onnx_ir as ir

from backends.tfjs_graph.emitters.common import invalid
from backends.tfjs_graph.emitters.recurrent_cells import (
    GATE_COUNT,
    Activation,
    Cell,
    CellState,
    GateWeights,
    Peepholes,
    StepInput,
    add_folded,
    advance,
    chunk_count,
    input_parts,
    matmul,
    scale_folded,
    sigmoid_candidate_applies,
    split_rows,
    split_sizes,
    step_mask,
    with_sigmoid_candidate,
)
from backends.tfjs_graph.emitters.while_loop import FunctionOps, LoopVar, Ops, while_loop
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail


class Input(IntEnum):
    """The inputs of an ONNX LSTM / GRU / RNN node, by position."""

    X = 0
    W = 1
    R = 2
    B = 3
    SEQUENCE_LENS = 4
    INITIAL_H = 5
    INITIAL_C = 6  # LSTM
    P = 7  # LSTM


class Direction(Enum):
    """The sense in which one direction walks the time steps."""

    FORWARD = "forward"
    REVERSE = "reverse"


_DIRECTIONS = {"forward": (Direction.FORWARD,), "reverse": (Direction.REVERSE,),
               "bidirectional": (Direction.FORWARD, Direction.REVERSE)}
_DEFAULT_ACTIVATIONS = {"LSTM": ("Sigmoid", "Tanh", "Tanh"), "GRU": ("Sigmoid", "Tanh"), "RNN": ("Tanh",)}
# Activations that read alpha / beta, with the defaults of the ONNX ops of the same name.
_DEFAULT_ALPHA = {"LeakyRelu": 0.01, "ThresholdedRelu": 1.0, "ScaledTanh": 1.0, "HardSigmoid": 0.2, "Elu": 1.0,
                  "Affine": 1.0}
_DEFAULT_BETA = {"ScaledTanh": 1.0, "HardSigmoid": 0.5, "Affine": 0.0}
_ACTIVATION_NAMES = {name.lower(): name for name in ("Relu", "Tanh", "Sigmoid", "Softsign", "Softplus",
                                                     *_DEFAULT_ALPHA)}


@dataclass(frozen=True)
class DirectionSpec:
    """One direction of the node: its position on the num_directions axis, its sense and its activations."""

    index: int
    sense: Direction
    activations: tuple[Activation, ...]  # ONNX f, g, h as the cell kind uses them


@dataclass(frozen=True)
class RecurrentSpec:
    """The attributes of one LSTM / GRU / RNN node."""

    kind: str
    hidden_size: int
    directions: tuple[DirectionSpec, ...]
    layout: int  # 0: X [T, B, I], states [D, B, H]; 1: X [B, T, I], states [B, D, H]
    clip: float | None
    input_forget: bool
    linear_before_reset: bool

    @property
    def state_direction_axis(self) -> int:
        """The num_directions axis of initial_h / initial_c / Y_h / Y_c: the layout value itself."""
        return self.layout

    def cell(self, direction: DirectionSpec, weights: GateWeights) -> Cell:
        return Cell(self.kind, self.hidden_size, direction.activations, weights, clip=self.clip,
                    input_forget=self.input_forget, linear_before_reset=self.linear_before_reset)


@dataclass(frozen=True)
class Emission:
    """The node being emitted, the appender of its tfjs ops and its parsed attributes."""

    ctx: EmitCtx
    ops: Ops
    spec: RecurrentSpec


# -- attributes -------------------------------------------------------------------------------
def _check_weight_shapes(ctx: EmitCtx, *, gate_count: int, direction_count: int, hidden_size: int) -> None:
    """W [D, G*H, I], R [D, G*H, H], B [D, 2*G*H], P [D, 3*H] as ONNX requires, where shapes are static."""
    gates_width = gate_count * hidden_size
    expected: list[tuple[Input, list[int | None]]] = [
        (Input.W, [direction_count, gates_width, None]), (Input.R, [direction_count, gates_width, hidden_size]),
        (Input.B, [direction_count, 2 * gates_width])]
    if ctx.node.op_type == "LSTM":
        expected.append((Input.P, [direction_count, 3 * hidden_size]))
    for index, wanted in expected:
        shape = ctx.shape(index) if ctx.has_input(index) else None
        if shape is not None and (len(shape) != len(wanted) or any(
                want is not None and dim is not None and dim != want for dim, want in zip(shape, wanted, strict=True))):
            shown = ["?" if want is None else want for want in wanted]
            raise invalid(ctx, f"{index.name} has shape {list(shape)}, expected {shown} "
                          f"(hidden_size {hidden_size}, {direction_count} direction(s))")


def _hidden_size(ctx: EmitCtx) -> int:
    """The hidden_size attribute, else the last dim of R."""
    recurrent_shape = ctx.shape(Input.R)
    hidden = ctx.attr("hidden_size") or (recurrent_shape[-1] if recurrent_shape else None)
    if not hidden:
        raise fail("dynamic_shape", "hidden_size is unknown", "set the hidden_size attribute")
    if not isinstance(hidden, int) or hidden < 1:
        raise invalid(ctx, f"hidden_size {hidden} must be a positive integer")
    return int(hidden)


def _spec(ctx: EmitCtx, kind: str) -> RecurrentSpec:
    direction_attr = str(ctx.attr("direction", "forward"))
    if direction_attr not in _DIRECTIONS:
        raise fail("attribute", f"direction '{direction_attr}' is not forward, reverse or bidirectional")
    senses = _DIRECTIONS[direction_attr]
    hidden_size = _hidden_size(ctx)
    _check_weight_shapes(ctx, gate_count=GATE_COUNT[kind], direction_count=len(senses), hidden_size=hidden_size)
    layout = int(ctx.attr("layout", 0))
    activations = _activations(ctx, kind, len(senses))
    directions = tuple(DirectionSpec(index, sense, activations[index]) for index, sense in enumerate(senses))
    clip = ctx.attr("clip")
    return RecurrentSpec(kind, hidden_size, directions, layout, clip=None if clip is None else float(clip),
                         input_forget=bool(ctx.attr("input_forget", 0)),
                         linear_before_reset=bool(ctx.attr("linear_before_reset", 0)))


def _activations(ctx: EmitCtx, kind: str, direction_count: int) -> list[tuple[Activation, ...]]:
    """Per-direction activations; alpha and beta are consumed in order by the activations that use them."""
    per_direction = len(_DEFAULT_ACTIVATIONS[kind])
    names = [str(name) for name in ctx.attr("activations") or _DEFAULT_ACTIVATIONS[kind] * direction_count]
    if len(names) != per_direction * direction_count:
        raise fail("attribute", f"{len(names)} activations given, {per_direction * direction_count} expected")
    alphas, betas = iter(ctx.attr("activation_alpha") or []), iter(ctx.attr("activation_beta") or [])
    activations = []
    for raw in names:
        name = _ACTIVATION_NAMES.get(raw.lower())
        if name is None:
            raise fail("attribute", f"activation '{raw}' is not an ONNX recurrent activation")
        alpha = float(next(alphas, _DEFAULT_ALPHA[name])) if name in _DEFAULT_ALPHA else 0.0
        beta = float(next(betas, _DEFAULT_BETA[name])) if name in _DEFAULT_BETA else 0.0
        activations.append(Activation(name, alpha, beta))
    return [tuple(activations[start:start + per_direction])
            for start in range(0, len(activations), per_direction)]


# -- weights ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _WeightReader:
    """Slices one direction out of W / R / B / P: folded for constants, Slice ops for runtime inputs."""

    ctx: EmitCtx
    ops: Ops
    direction_index: int

    def kernel(self, tensor: Input, *, start: int, stop: int) -> str:
        """Rows ``start:stop`` of W / R ([D, N, K]), transposed to [K, stop - start]."""
        ops, array = self.ops, self.ctx.const(tensor)
        if array is not None:
            return ops.const(np.ascontiguousarray(array[self.direction_index, start:stop].T))
        rows = ops("Slice", self.ctx.input(tensor), ops.ints([self.direction_index, start, 0]),
                   ops.ints([1, stop - start, -1]))
        return ops("Transpose", ops("Squeeze", rows, squeeze_dims=Attr.ints([0])), ops.ints([1, 0]))

    def vector(self, tensor: Input, *, start: int, stop: int) -> str:
        """Elements ``start:stop`` of B / P ([D, N])."""
        ops, array = self.ops, self.ctx.const(tensor)
        if array is not None:
            return ops.const(array[self.direction_index, start:stop])
        elements = ops("Slice", self.ctx.input(tensor), ops.ints([self.direction_index, start]),
                       ops.ints([1, stop - start]))
        return ops("Reshape", elements, ops.ints([-1]))


def _input_bias(reader: _WeightReader, spec: RecurrentSpec) -> tuple[str, str | None]:
    """(Wb + Rb: every bias added before the recurrence, GRU linear_before_reset=1's Rbh kept apart)."""
    width, hidden = GATE_COUNT[spec.kind] * spec.hidden_size, spec.hidden_size
    recurrent_bias = reader.vector(Input.B, start=width, stop=2 * width)
    hidden_bias = None
    if spec.kind == "GRU" and spec.linear_before_reset:  # Rbh stays inside r * (h @ Rh + Rbh)
        hidden_bias = reader.vector(Input.B, start=width + 2 * hidden, stop=2 * width)
        z_and_r_only = np.repeat(np.asarray([1.0, 1.0, 0.0], np.float32), hidden)
        recurrent_bias = scale_folded(reader.ops, recurrent_bias, z_and_r_only)
    input_bias = reader.vector(Input.B, start=0, stop=width)
    return add_folded(reader.ops, input_bias, recurrent_bias), hidden_bias


def _peepholes(reader: _WeightReader, hidden: int) -> Peepholes:
    """P [D, 3*H] is P_i, P_o, P_f side by side."""
    return Peepholes._make(reader.vector(Input.P, start=k * hidden, stop=(k + 1) * hidden) for k in range(3))


def _gate_weights(emission: Emission, direction: DirectionSpec) -> GateWeights:
    ctx, spec, hidden = emission.ctx, emission.spec, emission.spec.hidden_size
    reader = _WeightReader(ctx, emission.ops, direction.index)
    width = GATE_COUNT[spec.kind] * hidden
    # GRU with linear_before_reset=0 multiplies h by r before Rh, so Rh is kept apart from Rz and Rr.
    separate_rh = spec.kind == "GRU" and not spec.linear_before_reset
    input_kernel = reader.kernel(Input.W, start=0, stop=width)
    recurrent_kernel = reader.kernel(Input.R, start=0, stop=2 * hidden if separate_rh else width)
    reset_hidden_kernel = reader.kernel(Input.R, start=2 * hidden, stop=3 * hidden) if separate_rh else None
    input_bias, hidden_bias = _input_bias(reader, spec) if ctx.has_input(Input.B) else (None, None)
    peepholes = _peepholes(reader, hidden) if spec.kind == "LSTM" and ctx.has_input(Input.P) else None
    return GateWeights(input_kernel, recurrent_kernel, input_bias=input_bias, reset_hidden_kernel=reset_hidden_kernel,
                       hidden_bias=hidden_bias, peepholes=peepholes)


# -- sequences --------------------------------------------------------------------------------
@dataclass(frozen=True)
class InputSequence:
    """The time-major input [T, B, I] and what is known of it."""

    time_major: str
    steps: int | None
    input_size: int
    lengths: str | None  # sequence_lens [B] (int32), when it can cut sequences short


@dataclass(frozen=True)
class DirectionRun:
    """Everything one direction's pass over the sequence needs."""

    direction: DirectionSpec
    cell: Cell
    sequence: InputSequence
    initial: CellState


@dataclass(frozen=True)
class DirectionResult:
    """One direction's output sequence [T, B, H] and final states."""

    outputs: str
    hidden: str
    cell: str | None


def _time_order(direction: Direction, steps: int) -> range:
    return range(steps) if direction is Direction.FORWARD else range(steps - 1, -1, -1)


def _per_step_inputs(ops: Ops, run: DirectionRun, steps: int) -> list[StepInput]:
    """``x @ W + bias`` of every step [B, G*H] (a GRU's cut in two), computed by one MatMul over all steps.

    tfjs wasm slices (Split, Unpack) copy their whole input once per output piece, so T pieces cut
    at once cost T^2 rows; two Split levels (sqrt(T) chunks, then rows) cost about 2 T^1.5.
    """
    sequence, cell = run.sequence, run.cell
    flat = matmul(ops, ops("Reshape", sequence.time_major, ops.ints([-1, sequence.input_size])),
                  cell.weights.input_kernel)
    if cell.weights.input_bias is not None:
        flat = ops("AddV2", flat, cell.weights.input_bias)
    parts = input_parts(cell)
    columns = split_sizes(ops, flat, parts) if len(parts) > 1 else [flat]
    chunks = chunk_count(steps)
    # Rows are time-major [T*B, columns]: each equal piece of B rows is one step, already 2-D.
    per_part = [[row for chunk in split_rows(ops, part, chunks) for row in split_rows(ops, chunk, steps // chunks)]
                for part in columns]
    if len(per_part) == 1:
        return list(per_part[0])
    return [(gates, candidate) for gates, candidate in zip(*per_part, strict=True)]


def _unrolled(ops: Ops, run: DirectionRun) -> DirectionResult:
    """A static sequence length: one MatMul for every step's input, then the steps one after another."""
    steps, lengths = run.sequence.steps, run.sequence.lengths
    assert steps is not None, "unrolling needs a static sequence length"
    if steps < 1:
        raise fail("attribute", f"{run.cell.kind} over a sequence of {steps} steps has no output to compute")
    step_inputs = _per_step_inputs(ops, run, steps)
    outputs = [""] * steps
    state = run.initial
    for time in _time_order(run.direction.sense, steps):
        mask = step_mask(ops, ops.ints(time), lengths) if lengths is not None else None
        step = advance(ops, run.cell, step_inputs[time], state, mask=mask)
        state, outputs[time] = CellState(step.hidden, step.cell), step.output
    assert state.hidden is not None  # at least one step ran
    return DirectionResult(ops("Pack", *outputs, axis=Attr.i(0), N=Attr.i(steps)), state.hidden, state.cell)


def _captured_weights(body_ops: FunctionOps, weights: GateWeights) -> GateWeights:
    """The weights as arguments of the loop function.

    Capture order is the function's argument order: peepholes first, as the emitted graphs always had it.
    """
    def capture(ref: str) -> str:
        return body_ops.capture(ref, "DT_FLOAT")

    def capture_optional(ref: str | None) -> str | None:
        return None if ref is None else capture(ref)

    peepholes = None if weights.peepholes is None else Peepholes._make(map(capture, weights.peepholes))
    return GateWeights(input_kernel=capture(weights.input_kernel), recurrent_kernel=capture(weights.recurrent_kernel),
                       input_bias=capture_optional(weights.input_bias),
                       reset_hidden_kernel=capture_optional(weights.reset_hidden_kernel),
                       hidden_bias=capture_optional(weights.hidden_bias), peepholes=peepholes)


def _zero_state(ops: Ops, shape: str, hidden: int) -> str:
    """A [B, hidden] zero state for the batch size of a time-major input's ``shape``."""
    batch = ops("StridedSlice", shape, ops.ints([1]), ops.ints([2]), ops.ints([1]), t="DT_INT32")
    dims = ops("ConcatV2", batch, ops.ints([hidden]), ops.ints(0), t="DT_INT32", N=Attr.i(2))
    return ops("Fill", dims, ops.const(0.0))


def _loop_state(ops: Ops, run: DirectionRun, shape: str) -> tuple[str, str | None]:
    """The initial (hidden, cell) of the loop: a loop variable cannot be absent, so zeros stand in."""
    has_cell, hidden, cell = run.cell.kind == "LSTM", run.initial.hidden, run.initial.cell
    zeros = _zero_state(ops, shape, run.cell.hidden_size) if hidden is None or (has_cell and cell is None) else ""
    return hidden or zeros, (cell or zeros) if has_cell else None


def _time_index(body_ops: FunctionOps, direction: Direction, step: str, step_count: str) -> str:
    """The time step that loop iteration ``step`` computes."""
    if direction is Direction.FORWARD:
        return step
    remaining = body_ops("Sub", step_count, step, t="DT_INT32")
    return body_ops("Sub", remaining, body_ops.ints(1), t="DT_INT32")


def _loop_body(body_ops: FunctionOps, run: DirectionRun, projected: str, current: dict[str, str]
               ) -> dict[str, str]:
    """One iteration: compute time step ``time``, write its output into the list, count on."""
    time = _time_index(body_ops, run.direction.sense, current["step"], current["step_count"])
    step_input = body_ops("GatherV2", body_ops.capture(projected, "DT_FLOAT"), time, body_ops.ints(0), t=None,
                          batch_dims=Attr.i(0))
    lengths = None if run.sequence.lengths is None else body_ops.capture(run.sequence.lengths, "DT_INT32")
    cell = replace(run.cell, weights=_captured_weights(body_ops, run.cell.weights))
    step = advance(body_ops, cell, step_input, CellState(current["hidden"], current.get("cell")),
                   mask=step_mask(body_ops, time, lengths))
    outputs = body_ops("TensorListSetItem", current["outputs"], time, step.output, t=None,
                       element_dtype=Attr.dtype("DT_FLOAT"))
    next_step = body_ops("AddV2", current["step"], body_ops.ints(1), t="DT_INT32")
    updated = {**current, "step": next_step, "hidden": step.hidden, "outputs": outputs}
    if step.cell is not None:
        updated["cell"] = step.cell
    if "last_output" in current:
        updated["last_output"] = step.output
    return updated


def _loop_vars(ops: Ops, run: DirectionRun, step_count: str, shape: str) -> dict[str, LoopVar]:
    """The loop variables by name, in their order on the StatelessWhile."""
    hidden, cell = _loop_state(ops, run, shape)
    outputs = ops("TensorListReserve", ops.ints([-1, run.cell.hidden_size]), step_count, t=None,
                  element_dtype=Attr.dtype("DT_FLOAT"), shape_type=Attr.dtype("DT_INT32"))
    loop_vars = {"step": LoopVar(ops.ints(0), "DT_INT32"), "step_count": LoopVar(step_count, "DT_INT32"),
                 "hidden": LoopVar(hidden, "DT_FLOAT")}
    if cell is not None:
        loop_vars["cell"] = LoopVar(cell, "DT_FLOAT")
    loop_vars["outputs"] = LoopVar(outputs, "DT_VARIANT")
    if run.sequence.lengths is not None:
        # With sequence_lens the step output differs from the state; it is carried so that the loop keeps it alive.
        loop_vars["last_output"] = LoopVar(hidden, "DT_FLOAT")
    return loop_vars


def _looped(ops: Ops, run: DirectionRun) -> DirectionResult:
    """A dynamic sequence length: a StatelessWhile writing each step's output into a TensorList."""
    weights, time_major = run.cell.weights, run.sequence.time_major
    projected = ops("BatchMatMulV2", time_major, weights.input_kernel, adj_x=Attr.b(False), adj_y=Attr.b(False))
    if weights.input_bias is not None:
        projected = ops("AddV2", projected, weights.input_bias)
    shape = ops("Shape", time_major, t=None, out_type=Attr.dtype("DT_INT32"))
    step_count = ops("StridedSlice", shape, ops.ints([0]), ops.ints([1]), ops.ints([1]), t="DT_INT32",
                     shrink_axis_mask=Attr.i(1))
    loop_vars = _loop_vars(ops, run, step_count, shape)
    names = list(loop_vars)

    def body(function_ops: FunctionOps, args: list[str]) -> list[str]:
        updated = _loop_body(function_ops, run, projected, dict(zip(names, args, strict=True)))
        return [updated[name] for name in names]

    def cond(function_ops: FunctionOps, args: list[str]) -> str:
        current = dict(zip(names, args, strict=True))
        return function_ops("Less", current["step"], current["step_count"], t="DT_INT32")

    final = dict(zip(names, while_loop(ops, list(loop_vars.values()), cond, body, f"while{run.direction.index}"),
                     strict=True))
    outputs = ops("TensorListStack", final["outputs"], ops.ints([-1, run.cell.hidden_size]), t=None,
                  element_dtype=Attr.dtype("DT_FLOAT"))
    return DirectionResult(outputs, final["hidden"], final.get("cell"))


# -- the node ---------------------------------------------------------------------------------
def _initial_state(emission: Emission, tensor: Input, direction: DirectionSpec) -> str | None:
    """The slice of ``direction`` in initial_h / initial_c ([D, B, H], or [B, D, H] with layout 1)."""
    ctx, ops, axis = emission.ctx, emission.ops, emission.spec.state_direction_axis
    if not ctx.has_input(tensor):
        return None
    array = ctx.const(tensor)
    if array is not None:
        return ops.const(np.take(array, direction.index, axis=axis))
    return ops("GatherV2", ctx.input(tensor), ops.ints(direction.index), ops.ints(axis), t=None,
               batch_dims=Attr.i(0))


def _input_sequence(emission: Emission) -> InputSequence:
    ctx, ops, batch_first = emission.ctx, emission.ops, bool(emission.spec.layout)
    shape = ctx.shape(Input.X)
    if shape is None or len(shape) != 3:
        raise fail("dynamic_shape", "X must have a known rank of 3")
    x = ops("Transpose", ctx.input(Input.X), ops.ints([1, 0, 2])) if batch_first else ctx.input(Input.X)
    steps = shape[1] if batch_first else shape[0]
    input_size = shape[2] or (ctx.shape(Input.W) or (None,))[-1]
    if input_size is None:
        raise fail("dynamic_shape", "the input size of X is unknown", "export with a static feature dimension")
    constant_lengths = ctx.const(Input.SEQUENCE_LENS)
    # Lengths that all equal the static step count cut nothing short: no masks needed.
    all_full = constant_lengths is not None and steps is not None and bool(np.all(constant_lengths == steps))
    lengths = ctx.input(Input.SEQUENCE_LENS) if ctx.has_input(Input.SEQUENCE_LENS) and not all_full else None
    return InputSequence(x, steps, int(input_size), lengths)


def _run_direction(emission: Emission, sequence: InputSequence, direction: DirectionSpec) -> DirectionResult:
    spec = emission.spec
    weights = _gate_weights(emission, direction)
    initial_hidden = _initial_state(emission, Input.INITIAL_H, direction)
    initial_cell = _initial_state(emission, Input.INITIAL_C, direction) if spec.kind == "LSTM" else None
    cell = spec.cell(direction, weights)
    if sigmoid_candidate_applies(cell):
        cell = with_sigmoid_candidate(emission.ops, cell)
    run = DirectionRun(direction, cell, sequence, CellState(initial_hidden, initial_cell))
    return (_unrolled if sequence.steps is not None else _looped)(emission.ops, run)


def _set_outputs(emission: Emission, results: list[DirectionResult]) -> None:
    """Y [T, D, B, H] (layout 1: [B, T, D, H]), Y_h and Y_c [D, B, H] (layout 1: [B, D, H])."""
    ctx, ops, spec = emission.ctx, emission.ops, emission.spec
    count, axis = Attr.i(len(results)), Attr.i(spec.state_direction_axis)
    if ctx.has_output(0):
        outputs = ops("Pack", *(result.outputs for result in results), axis=Attr.i(1), N=count)
        ctx.set_output(0, ops("Transpose", outputs, ops.ints([2, 0, 1, 3])) if spec.layout else outputs)
    if ctx.has_output(1):
        ctx.set_output(1, ops("Pack", *(result.hidden for result in results), axis=axis, N=count))
    if spec.kind == "LSTM" and ctx.has_output(2):
        ctx.set_output(2, ops("Pack", *(result.cell or "" for result in results), axis=axis, N=count))


def _emit(ctx: EmitCtx, kind: str) -> None:
    if ctx.dtype(Input.X) != ir.DataType.FLOAT:
        raise fail("dtype", f"{kind} is emitted for float32 only")
    emission = Emission(ctx, Ops(ctx), _spec(ctx, kind))
    sequence = _input_sequence(emission)
    results = [_run_direction(emission, sequence, direction) for direction in emission.spec.directions]
    _set_outputs(emission, results)


RECURRENT_OPS = frozenset({
    "Transpose", "Squeeze", "Slice", "Reshape", "MatMul", "BatchMatMulV2", "AddV2", "Sub", "Mul", "Neg", "RealDiv",
    "Abs", "Minimum", "Maximum", "Sigmoid", "Tanh", "Relu", "Softplus", "LeakyRelu", "Elu", "SelectV2", "Greater",
    "Less", "ZerosLike", "Split", "SplitV", "Pack", "GatherV2", "ExpandDims", "ConcatV2", "Shape", "StridedSlice",
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
