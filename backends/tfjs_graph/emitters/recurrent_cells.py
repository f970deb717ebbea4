"""One time step of an ONNX LSTM / GRU / RNN cell as tfjs ops, shared by the unrolled and the looped emission."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
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
    # LSTM: the candidate's pre-activation columns are doubled in the weights, so one Sigmoid serves all gates.
    sigmoid_candidate: bool = False

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


def split_rows(ops: Ops, rows: str, count: int) -> list[str]:
    """``rows`` cut into ``count`` equal pieces along axis 0 by one Split."""
    if count == 1:
        return [rows]
    split = ops("Split", ops.ints(0), rows, num_split=Attr.i(count))
    return [ops.out(split, k) for k in range(count)]


def chunk_count(steps: int) -> int:
    """The divisor of ``steps`` nearest its square root (from below): the first of two Split levels."""
    return max(k for k in range(1, int(np.sqrt(steps)) + 1) if steps % k == 0)


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
# One step's ``x @ W + bias`` [B, G*H]; a GRU may receive it already cut into (z and r [B, 2H], candidate [B, H]).
StepInput = str | tuple[str, str]
CellStep = Callable[[Ops, Cell, StepInput, CellState], StepResult]


def _whole(projected_input: StepInput) -> str:
    assert isinstance(projected_input, str), "only a GRU step takes its input cut in two"
    return projected_input


def input_parts(cell: Cell) -> list[int]:
    """The column widths a step's input may come cut into (by one SplitV over all steps, not one per step)."""
    hidden = cell.hidden_size
    return [2 * hidden, hidden] if cell.kind == "GRU" else [cell.gate_width]


def sigmoid_candidate_applies(cell: Cell) -> bool:
    """Default LSTM activations with nothing between the gates' matmul and their activations."""
    names = tuple(activation.name for activation in cell.activations)
    return (cell.kind == "LSTM" and names == ("Sigmoid", "Tanh", "Tanh") and cell.clip is None
            and not cell.input_forget and cell.weights.peepholes is None)


def with_sigmoid_candidate(ops: Ops, cell: Cell) -> Cell:
    """``cell`` computing ``tanh(x) = 2 * sigmoid(2x) - 1`` for the candidate: its weight columns doubled.

    tfjs wasm runs Tanh several times slower than Sigmoid, and one activation over [B, 4H] replaces four
    ops on [B, H]: the per-op overhead dominates such small tensors.
    """
    hidden, weights = cell.hidden_size, cell.weights
    doubled = np.repeat(np.asarray([1.0, 1.0, 1.0, 2.0], np.float32), hidden)
    scaled = replace(weights, input_kernel=scale_folded(ops, weights.input_kernel, doubled),
                     recurrent_kernel=scale_folded(ops, weights.recurrent_kernel, doubled),
                     input_bias=None if weights.input_bias is None else scale_folded(ops, weights.input_bias, doubled))
    return replace(cell, weights=scaled, sigmoid_candidate=True)


def _lstm_gates(ops: Ops, cell: Cell, stacked: str) -> list[str]:
    """i, o, f and candidate from the doubled pre-activations: sigmoid, then ``2s - 1`` on the candidate."""
    hidden = cell.hidden_size
    scale = np.repeat(np.asarray([1.0, 1.0, 1.0, 2.0], np.float32), hidden)
    offset = np.repeat(np.asarray([0.0, 0.0, 0.0, -1.0], np.float32), hidden)
    activated = ops("AddV2", ops("Mul", ops("Sigmoid", stacked), ops.const(scale)), ops.const(offset))
    return split_gates(ops, activated, 4)


def _lstm_sigmoid_candidate_step(ops: Ops, cell: Cell, projected_input: StepInput, state: CellState) -> StepResult:
    """The default LSTM with one Sigmoid over all four gates (see ``with_sigmoid_candidate``)."""
    stacked = _with_recurrence(ops, _whole(projected_input), state.hidden, cell.weights.recurrent_kernel)
    input_gate, output_gate, forget_gate, candidate = _lstm_gates(ops, cell, stacked)
    new_cell = ops("Mul", input_gate, candidate)
    if state.cell is not None:
        new_cell = ops("AddV2", ops("Mul", forget_gate, state.cell), new_cell)
    new_hidden = ops("Mul", output_gate, ops("Tanh", new_cell))
    return StepResult(new_hidden, new_cell, new_hidden)


def _lstm_step(ops: Ops, cell: Cell, projected_input: StepInput, state: CellState) -> StepResult:
    """ONNX LSTM: gates i, o, f with peepholes on the cell state, candidate c, new hidden ``o * h(C)``."""
    if cell.sigmoid_candidate:
        return _lstm_sigmoid_candidate_step(ops, cell, projected_input, state)
    gate_activation, candidate_activation, output_activation = cell.activations  # ONNX f, g, h
    peepholes, previous_cell = cell.weights.peepholes, state.cell
    stacked = _with_recurrence(ops, _whole(projected_input), state.hidden, cell.weights.recurrent_kernel)
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


def split_sizes(ops: Ops, stacked: str, sizes: list[int]) -> list[str]:
    """``stacked`` [B, sum(sizes)] cut along axis 1 by one SplitV."""
    split = ops("SplitV", stacked, ops.ints(sizes), ops.ints(1), num_split=Attr.i(len(sizes)))
    return [ops.out(split, k) for k in range(len(sizes))]


def _gru_recurrent_candidate(ops: Ops, cell: Cell, hidden: str, reset: str, recurrent_candidate: str | None
                             ) -> str:
    """The recurrent part of the candidate: ``r * (h @ Rh + Rbh)`` (linear_before_reset=1) or ``(r * h) @ Rh``."""
    if recurrent_candidate is not None:
        return ops("Mul", reset, recurrent_candidate)
    reset_hidden_kernel = cell.weights.reset_hidden_kernel
    assert reset_hidden_kernel is not None, "linear_before_reset=0 keeps Rh apart"
    return matmul(ops, ops("Mul", reset, hidden), reset_hidden_kernel)


def _gru_recurrent(ops: Ops, cell: Cell, hidden: str) -> tuple[str, str | None]:
    """(``h @ [Rz Rr]`` [B, 2H], ``h @ Rh + Rbh`` [B, H] with linear_before_reset=1, else None).

    Rbh enters as a 1-D bias of the whole product (zeros under z and r), which passes/fuse.py folds
    into the MatMul.
    """
    hidden_size, weights = cell.hidden_size, cell.weights
    product = matmul(ops, hidden, weights.recurrent_kernel)
    if not cell.linear_before_reset:
        return product, None
    if weights.hidden_bias is not None:
        zeros = np.zeros(2 * hidden_size, np.float32)
        bias = ops.value(weights.hidden_bias)
        padded = ops.const(np.concatenate([zeros, bias])) if bias is not None else \
            ops("ConcatV2", ops.const(zeros), weights.hidden_bias, ops.ints(0), N=Attr.i(2))
        product = ops("AddV2", product, padded)
    gates, candidate = split_sizes(ops, product, [2 * hidden_size, hidden_size])
    return gates, candidate


def _gru_step(ops: Ops, cell: Cell, projected_input: StepInput, state: CellState) -> StepResult:
    """ONNX GRU: update gate z and reset gate r under one activation, candidate, new hidden ``(1-z) * c + z * h``."""
    hidden_size, hidden = cell.hidden_size, state.hidden
    gate_activation, candidate_activation = cell.activations  # ONNX f, g
    input_gates, input_candidate = projected_input if isinstance(projected_input, tuple) else \
        split_sizes(ops, projected_input, [2 * hidden_size, hidden_size])
    if hidden is None:  # a zero hidden state: r only multiplies h (or h @ Rh + Rbh), and z multiplies h
        update, reset = split_gates(ops, cell.activate(ops, gate_activation, input_gates), 2)
        candidate_pre = input_candidate
        if cell.linear_before_reset and cell.weights.hidden_bias is not None:
            candidate_pre = ops("AddV2", input_candidate, ops("Mul", reset, cell.weights.hidden_bias))
    else:
        recurrent_gates, recurrent_candidate = _gru_recurrent(ops, cell, hidden)
        gates = cell.activate(ops, gate_activation, ops("AddV2", input_gates, recurrent_gates))
        update, reset = split_gates(ops, gates, 2)
        candidate_pre = ops("AddV2", input_candidate,
                            _gru_recurrent_candidate(ops, cell, hidden, reset, recurrent_candidate))
    candidate = cell.activate(ops, candidate_activation, candidate_pre)
    # (1 - z) * candidate + z * h, as candidate + z * (h - candidate)
    difference = ops("Sub", hidden, candidate) if hidden is not None else ops("Neg", candidate)
    new_hidden = ops("AddV2", candidate, ops("Mul", update, difference))
    return StepResult(new_hidden, None, new_hidden)


def _rnn_step(ops: Ops, cell: Cell, projected_input: StepInput, state: CellState) -> StepResult:
    """ONNX RNN: new hidden ``f(x @ W + h @ R + bias)``."""
    stacked = _with_recurrence(ops, _whole(projected_input), state.hidden, cell.weights.recurrent_kernel)
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


def advance(ops: Ops, cell: Cell, projected_input: StepInput, state: CellState, *, mask: str | None) -> StepResult:
    """One step; past a sequence's end the state is kept and the output is zero."""
    step = _CELL_STEPS[cell.kind](ops, cell, projected_input, state)
    if mask is None:
        return step
    new_cell = _masked(ops, mask, step.cell, state.cell) if step.cell is not None else None
    return StepResult(_masked(ops, mask, step.hidden, state.hidden), new_cell, _masked(ops, mask, step.hidden, None))
