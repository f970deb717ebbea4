"""One time step of an ONNX LSTM / GRU / RNN cell as tfjs ops, shared by the unrolled and the looped emission."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from backends.tfjs_graph.emitters.while_loop import Ops
from backends.tfjs_graph.graph import Attr

# Gates per cell; the weight matrices stack them along their first axis (LSTM: i, o, f, c; GRU: z, r, h).
GATE_COUNT = {"LSTM": 4, "GRU": 3, "RNN": 1}


@dataclass(frozen=True)
class Activation:
    """One entry of the ``activations`` attribute with the alpha and beta it consumed."""

    name: str
    alpha: float = 0.0
    beta: float = 0.0


class Peepholes(NamedTuple):
    """LSTM peephole vectors [H], in the order of the ONNX ``P`` input."""

    input: str
    output: str
    forget: str


@dataclass(frozen=True)
class GateWeights:
    """One direction's operands in right-hand ``x @ kernel`` form (tfjs references)."""

    input_kernel: str  # [I, G*H]
    recurrent_kernel: str  # [H, G*H]; GRU with linear_before_reset=0: [H, 2H] (z and r only)
    input_bias: str | None = None  # [G*H]: every bias that can be added before the recurrence
    reset_hidden_kernel: str | None = None  # GRU with linear_before_reset=0: Rh [H, H], applied to r * h
    hidden_bias: str | None = None  # GRU with linear_before_reset=1: Rbh, which stays inside r * (h @ Rh + Rbh)
    peepholes: Peepholes | None = None  # LSTM


@dataclass(frozen=True)
class Cell:
    """What one direction's step computes with, besides the step's own tensors."""

    kind: str  # LSTM, GRU or RNN
    hidden_size: int
    activations: tuple[Activation, ...]  # ONNX f (LSTM, GRU, RNN), g (LSTM, GRU), h (LSTM)
    weights: GateWeights
    clip: float | None = None
    input_forget: bool = False
    linear_before_reset: bool = False

    @property
    def gate_width(self) -> int:
        """Columns of ``x @ input_kernel``: every gate's H values side by side."""
        return GATE_COUNT[self.kind] * self.hidden_size

    def activate(self, ops: Ops, activation: Activation, pre_activation: str) -> str:
        """``activation`` applied to the clipped ``pre_activation``."""
        return apply_activation(ops, activation, pre_activation, self.clip)


class CellState(NamedTuple):
    """The state entering a step; None is an all-zero state (the first step without an initial state)."""

    hidden: str | None
    cell: str | None = None  # LSTM only


class StepResult(NamedTuple):
    """The state leaving a step and the step's entry of the output sequence Y."""

    hidden: str
    cell: str | None
    output: str


# -- arithmetic -------------------------------------------------------------------------------
def add_folded(ops: Ops, left: str, right: str | None) -> str:
    """``left + right``, folded when both are constants; a None ``right`` is zero."""
    if right is None:
        return left
    left_value, right_value = ops.value(left), ops.value(right)
    if left_value is not None and right_value is not None:
        return ops.const(left_value + right_value)
    return ops("AddV2", left, right)


def scale_folded(ops: Ops, ref: str, factor: np.ndarray) -> str:
    """``ref * factor``, folded for a constant."""
    value = ops.value(ref)
    return ops.const(value * factor) if value is not None else ops("Mul", ref, ops.const(factor))


def matmul(ops: Ops, left: str, right: str) -> str:
    return ops("MatMul", left, right, transpose_a=Attr.b(False), transpose_b=Attr.b(False))


def split_gates(ops: Ops, stacked: str, count: int) -> list[str]:
    """The ``count`` gates of [B, count*H], each [B, H]."""
    if count == 1:
        return [stacked]
    split = ops("Split", ops.ints(1), stacked, num_split=Attr.i(count))
    return [ops.out(split, k) for k in range(count)]


def _with_recurrence(ops: Ops, projected_input: str, hidden: str | None, recurrent_kernel: str) -> str:
    """``projected_input + hidden @ recurrent_kernel``; a zero hidden state adds nothing."""
    if hidden is None:
        return projected_input
    return ops("AddV2", projected_input, matmul(ops, hidden, recurrent_kernel))


# -- activations ------------------------------------------------------------------------------
def apply_activation(ops: Ops, activation: Activation, pre_activation: str, clip: float | None) -> str:
    """An ONNX recurrent activation; ``clip`` bounds its input."""
    x = pre_activation
    if clip is not None:
        x = ops("Minimum", ops("Maximum", x, ops.const(-clip)), ops.const(clip))
    name, alpha, beta = activation.name, activation.alpha, activation.beta
    if name in ("Sigmoid", "Tanh", "Relu", "Softplus"):
        return ops(name, x)
    if name == "Softsign":
        return ops("RealDiv", x, ops("AddV2", ops("Abs", x), ops.const(1.0)))
    if name == "LeakyRelu":
        return ops("LeakyRelu", x, alpha=Attr.f(alpha))
    if name == "ThresholdedRelu":
        return ops("SelectV2", ops("Greater", x, ops.const(alpha)), x, ops.const(0.0))
    if name == "ScaledTanh":
        return ops("Mul", ops("Tanh", ops("Mul", x, ops.const(beta))), ops.const(alpha))
    if name == "Elu":
        return _elu(ops, x, alpha)
    affine = ops("AddV2", ops("Mul", x, ops.const(alpha)), ops.const(beta))
    if name == "Affine":
        return affine
    return ops("Minimum", ops("Maximum", affine, ops.const(0.0)), ops.const(1.0))  # HardSigmoid


def _elu(ops: Ops, x: str, alpha: float) -> str:
    """tfjs Elu has no alpha: scale its negative branch unless alpha is 1."""
    elu = ops("Elu", x)
    if alpha == 1.0:
        return elu
    return ops("SelectV2", ops("Greater", x, ops.const(0.0)), x, ops("Mul", elu, ops.const(alpha)))


# -- cells ------------------------------------------------------------------------------------
CellStep = Callable[[Ops, Cell, str, CellState], StepResult]


def _lstm_step(ops: Ops, cell: Cell, projected_input: str, state: CellState) -> StepResult:
    """ONNX LSTM: gates i, o, f with peepholes on the cell state, candidate c, new hidden ``o * h(C)``."""
    gate_activation, candidate_activation, output_activation = cell.activations  # ONNX f, g, h
    peepholes, previous_cell = cell.weights.peepholes, state.cell
    stacked = _with_recurrence(ops, projected_input, state.hidden, cell.weights.recurrent_kernel)
    input_pre, output_pre, forget_pre, candidate_pre = split_gates(ops, stacked, 4)
    if peepholes is not None and previous_cell is not None:
        input_pre = ops("AddV2", input_pre, ops("Mul", peepholes.input, previous_cell))
        forget_pre = ops("AddV2", forget_pre, ops("Mul", peepholes.forget, previous_cell))
    input_gate = cell.activate(ops, gate_activation, input_pre)
    new_cell = ops("Mul", input_gate, cell.activate(ops, candidate_activation, candidate_pre))
    if previous_cell is not None:  # a zero previous cell state contributes nothing through the forget gate
        forget_gate = ops("Sub", ops.const(1.0), input_gate) if cell.input_forget \
            else cell.activate(ops, gate_activation, forget_pre)
        new_cell = ops("AddV2", ops("Mul", forget_gate, previous_cell), new_cell)
    if peepholes is not None:
        output_pre = ops("AddV2", output_pre, ops("Mul", peepholes.output, new_cell))
    output_gate = cell.activate(ops, gate_activation, output_pre)
    # onnxruntime clips only the gates' and the candidate's inputs, not the cell state that h() reads.
    new_hidden = ops("Mul", output_gate, apply_activation(ops, output_activation, new_cell, None))
    return StepResult(new_hidden, new_cell, new_hidden)


class GruInputs(NamedTuple):
    """``x @ W + bias`` split into the GRU's update (z), reset (r) and hidden-candidate (h) parts."""

    update: str
    reset: str
    candidate: str


def _gru_gates_linear_before_reset(ops: Ops, cell: Cell, inputs: GruInputs, hidden: str | None) -> tuple[str, str]:
    """linear_before_reset=1: (update gate, candidate pre-activation ``xh + r * (h @ Rh + Rbh)``)."""
    gate_activation = cell.activations[0]
    hidden_update = hidden_reset = hidden_candidate = None
    if hidden is not None:
        hidden_update, hidden_reset, hidden_candidate = split_gates(
            ops, matmul(ops, hidden, cell.weights.recurrent_kernel), 3)
    update = cell.activate(ops, gate_activation, add_folded(ops, inputs.update, hidden_update))
    reset = cell.activate(ops, gate_activation, add_folded(ops, inputs.reset, hidden_reset))
    hidden_bias = cell.weights.hidden_bias
    recurrent = hidden_bias if hidden_candidate is None else add_folded(ops, hidden_candidate, hidden_bias)
    if recurrent is None:
        return update, inputs.candidate
    return update, ops("AddV2", inputs.candidate, ops("Mul", reset, recurrent))


def _gru_gates_reset_first(ops: Ops, cell: Cell, inputs: GruInputs, hidden: str | None) -> tuple[str, str]:
    """linear_before_reset=0: (update gate, candidate pre-activation ``xh + (r * h) @ Rh``)."""
    gate_activation = cell.activations[0]
    if hidden is None:  # r only ever multiplies h, which is zero
        return cell.activate(ops, gate_activation, inputs.update), inputs.candidate
    reset_hidden_kernel = cell.weights.reset_hidden_kernel
    assert reset_hidden_kernel is not None, "linear_before_reset=0 keeps Rh apart"
    hidden_update, hidden_reset = split_gates(ops, matmul(ops, hidden, cell.weights.recurrent_kernel), 2)
    update = cell.activate(ops, gate_activation, ops("AddV2", inputs.update, hidden_update))
    reset = cell.activate(ops, gate_activation, ops("AddV2", inputs.reset, hidden_reset))
    return update, ops("AddV2", inputs.candidate, matmul(ops, ops("Mul", reset, hidden), reset_hidden_kernel))


def _gru_step(ops: Ops, cell: Cell, projected_input: str, state: CellState) -> StepResult:
    """ONNX GRU: update gate z, reset gate r, candidate, new hidden ``(1 - z) * candidate + z * h``."""
    inputs = GruInputs(*split_gates(ops, projected_input, 3))
    gates = _gru_gates_linear_before_reset if cell.linear_before_reset else _gru_gates_reset_first
    update, candidate_pre = gates(ops, cell, inputs, state.hidden)
    candidate = cell.activate(ops, cell.activations[1], candidate_pre)
    hidden = state.hidden
    # (1 - z) * candidate + z * h, as candidate + z * (h - candidate)
    difference = ops("Sub", hidden, candidate) if hidden is not None else ops("Neg", candidate)
    new_hidden = ops("AddV2", candidate, ops("Mul", update, difference))
    return StepResult(new_hidden, None, new_hidden)


def _rnn_step(ops: Ops, cell: Cell, projected_input: str, state: CellState) -> StepResult:
    """ONNX RNN: new hidden ``f(x @ W + h @ R + bias)``."""
    stacked = _with_recurrence(ops, projected_input, state.hidden, cell.weights.recurrent_kernel)
    new_hidden = cell.activate(ops, cell.activations[0], stacked)
    return StepResult(new_hidden, None, new_hidden)


_CELL_STEPS: dict[str, CellStep] = {"LSTM": _lstm_step, "GRU": _gru_step, "RNN": _rnn_step}


# -- sequence_lens ----------------------------------------------------------------------------
def _masked(ops: Ops, mask: str, new: str, old: str | None) -> str:
    """``new`` where the step is inside the sequence (mask [B, 1]), else ``old`` (zeros when absent)."""
    return ops("SelectV2", mask, new, old if old is not None else ops("ZerosLike", new))


def step_mask(ops: Ops, time: str, lengths: str | None) -> str | None:
    """[B, 1] bool: time step ``time`` lies inside each batch entry's sequence (None: every step does)."""
    if lengths is None:
        return None
    return ops("ExpandDims", ops("Less", time, lengths, t="DT_INT32"), ops.ints(1), t=None)


def advance(ops: Ops, cell: Cell, projected_input: str, state: CellState, *, mask: str | None) -> StepResult:
    """One step; past a sequence's end the state is kept and the output is zero."""
    step = _CELL_STEPS[cell.kind](ops, cell, projected_input, state)
    if mask is None:
        return step
    new_cell = _masked(ops, mask, step.cell, state.cell) if step.cell is not None else None
    return StepResult(_masked(ops, mask, step.hidden, state.hidden), new_cell, _masked(ops, mask, step.hidden, None))
