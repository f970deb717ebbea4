"""Keras recurrent layers (LSTM, GRU, SimpleRNN, RNN over built-in cells) lowered to ONNX LSTM / GRU / RNN."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx_ir as ir

from frontends.keras.activations import activation_name
from frontends.keras.lower import LowerCtx
from frontends.keras.model import TENSOR_KWARGS
from frontends.keras.registry import KERAS

# Keras layer or cell class -> ONNX op.
ONNX_OP = {"LSTM": "LSTM", "GRU": "GRU", "SimpleRNN": "RNN", "LSTMCell": "LSTM", "GRUCell": "GRU",
           "SimpleRNNCell": "RNN"}
# Keras gate blocks (LSTM i, f, c, o; GRU z, r, h) in ONNX order (LSTM i, o, f, c; GRU z, r, h).
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (0, 1, 2), "RNN": (0,)}
_STATES = {"LSTM": 2, "GRU": 1, "RNN": 1}
_SIMPLE_ACTS = {"tanh": "Tanh", "sigmoid": "Sigmoid", "relu": "Relu", "softsign": "Softsign",
                "softplus": "Softplus"}
RECURRENT_OPS = frozenset({"LSTM", "GRU", "RNN", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Slice", "Where",
                           "Cast", "ReduceSum"})
Activation = tuple[str, float | None, float | None]  # ONNX name, alpha, beta


@dataclass(frozen=True)
class Cell:
    """One direction of one recurrent cell: its config, weights (kernel, recurrent_kernel, bias?) and direction."""

    op: str
    config: dict[str, Any]
    weights: tuple[np.ndarray, ...]
    backwards: bool

    @property
    def units(self) -> int:
        return int(self.config["units"])


def call_tensors(ctx: LowerCtx, inputs: list[ir.Value]) -> tuple[list[ir.Value], dict[str, list[ir.Value]]]:
    """Split a call's tensors into the positional ones and those passed by keyword (Keras 3 configs)."""
    counts: dict[str, int] = ctx.kwargs.get(TENSOR_KWARGS) or {}
    n_pos = len(inputs) - sum(counts.values())
    named, k = {}, n_pos
    for name, n in counts.items():
        named[name], k = inputs[k:k + n], k + n
    return inputs[:n_pos], named


# -- configs and weights ----------------------------------------------------------------------
def cell_specs(ctx: LowerCtx, config: dict[str, Any], class_name: str) -> list[tuple[str, dict[str, Any]]]:
    """(ONNX op, cell config) of each cell of a recurrent layer config, bottom first."""
    if class_name != "RNN":
        return [(ONNX_OP[class_name], config)]
    cell: Any = config.get("cell")
    cells: list[Any] = cell if isinstance(cell, list) else [cell]
    if isinstance(cell, dict) and cell.get("class_name") == "StackedRNNCells":
        cells = list(cell.get("config", {}).get("cells", []))
    out = []
    for spec in cells:
        name = spec.get("class_name") if isinstance(spec, dict) else None
        if name not in ONNX_OP or not name.endswith("Cell"):
            raise ctx.fail("no_rule", f"layer '{ctx.layer.name}': RNN cell {name!r} is not a built-in Keras cell",
                           "custom cell code is never executed; use LSTMCell, GRUCell or SimpleRNNCell")
        out.append((ONNX_OP[name], spec.get("config", {})))
    return out


def cells_of(ctx: LowerCtx, config: dict[str, Any], class_name: str, weights: Sequence[np.ndarray],
             backwards: bool) -> list[Cell]:
    """The cells of one recurrent layer with their slices of ``weights`` (kernel, recurrent_kernel, bias per cell)."""
    cells: list[Cell] = []
    k = 0
    for op, cfg in cell_specs(ctx, config, class_name):
        n = 3 if cfg.get("use_bias", True) else 2
        if k + n > len(weights):
            raise ctx.fail("attribute", f"layer '{ctx.layer.name}': {len(weights)} weights, more expected")
        cell = Cell(op, cfg, tuple(np.asarray(w, np.float32) for w in weights[k:k + n]), backwards)
        gh = len(_GATE_ORDER[op]) * cell.units
        if cell.weights[1].shape != (cell.units, gh) or cell.weights[0].shape[-1] != gh:
            raise ctx.fail("attribute", f"layer '{ctx.layer.name}': the weights of cell {len(cells)} do not fit a "
                           f"{op} of {cell.units} units (shapes {[w.shape for w in cell.weights]})")
        cells.append(cell)
        k += n
    return cells


def _gates(a: np.ndarray, op: str) -> np.ndarray:
    """The gate blocks of the last axis in ONNX order."""
    blocks = np.split(a, len(_GATE_ORDER[op]), axis=-1)
    return np.concatenate([blocks[k] for k in _GATE_ORDER[op]], axis=-1)


def onnx_weights(cell: Cell) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """W [G*H, I], R [G*H, H] and B [2*G*H] of one direction."""
    kernel, recurrent = cell.weights[0], cell.weights[1]
    gh = recurrent.shape[-1]
    bias = cell.weights[2] if len(cell.weights) > 2 else np.zeros(gh, np.float32)
    if bias.ndim == 2:  # GRU reset_after: input bias row, then recurrent bias row
        wb, rb = bias[0], bias[1]
    else:
        wb, rb = bias, np.zeros(gh, np.float32)
    return (np.ascontiguousarray(_gates(kernel, cell.op).T), np.ascontiguousarray(_gates(recurrent, cell.op).T),
            np.concatenate([_gates(wb, cell.op), _gates(rb, cell.op)]))


def _reset_after(cell: Cell) -> bool:
    """GRU ``reset_after``; configs without the key tell it by the bias shape ([2, 3H] with reset_after)."""
    if "reset_after" in cell.config:
        return bool(cell.config["reset_after"])
    return len(cell.weights) < 3 or cell.weights[2].ndim == 2


def _activation(ctx: LowerCtx, spec: Any) -> Activation:
    """A Keras activation as an ONNX recurrent activation (name, alpha, beta)."""
    name = activation_name(spec)
    if name in _SIMPLE_ACTS:
        return _SIMPLE_ACTS[name], None, None
    if name == "hard_sigmoid":  # Keras 2 / tfjs: 0.2x + 0.5; Keras 3: relu6(x + 3) / 6
        return "HardSigmoid", 0.2 if ctx.keras_major < 3 else 1.0 / 6.0, 0.5
    if name == "linear":
        return "Affine", 1.0, 0.0
    if name in ("elu", "leaky_relu"):
        return ("Elu", 1.0, None) if name == "elu" else ("LeakyRelu", 0.2, None)
    raise ctx.fail("attribute", f"layer '{ctx.layer.name}': activation '{name}' has no ONNX recurrent form",
                   "recurrent layers support tanh, sigmoid, hard_sigmoid, relu, linear, elu, leaky_relu, softsign "
                   "and softplus")


def _activation_attrs(ctx: LowerCtx, cells: Sequence[Cell]) -> dict[str, Any]:
    """activations / activation_alpha / activation_beta of all directions (alpha, beta consumed in order)."""
    acts: list[Activation] = []
    for cell in cells:
        if cell.op != "RNN":
            acts.append(_activation(ctx, cell.config.get("recurrent_activation", "sigmoid")))
        acts += [_activation(ctx, cell.config.get("activation", "tanh"))] * (2 if cell.op == "LSTM" else 1)
    attrs: dict[str, Any] = {"activations": [a[0] for a in acts]}
    alphas, betas = [a[1] for a in acts if a[1] is not None], [a[2] for a in acts if a[2] is not None]
    if alphas:
        attrs["activation_alpha"] = alphas
    if betas:
        attrs["activation_beta"] = betas
    return attrs


# -- ONNX ops ---------------------------------------------------------------------------------
def recurrent_op(ctx: LowerCtx, x_tbi: ir.Value, cells: Sequence[Cell], initial: Sequence[ir.Value] = (),
                 seq_lens: ir.Value | None = None) -> list[ir.Value]:
    """One ONNX LSTM / GRU / RNN over a time-major input for one or two directions: Y, Y_h(, Y_c).

    ``initial`` holds the Keras initial states ([B, H] each) direction after direction.
    """
    op = cells[0].op
    if len({c.op for c in cells}) != 1 or len({c.units for c in cells}) != 1:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': both directions must use the same cell and units")
    if op == "GRU" and len({_reset_after(c) for c in cells}) != 1:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': both GRU directions must agree on reset_after")
    weights = [onnx_weights(c) for c in cells]
    w, r, b = (ctx.const(np.stack([wt[k] for wt in weights]), n) for k, n in enumerate("WRB"))
    direction = "bidirectional" if len(cells) == 2 else "reverse" if cells[0].backwards else "forward"
    attrs: dict[str, Any] = {"hidden_size": cells[0].units, "direction": direction,
                             **_activation_attrs(ctx, cells)}
    if op == "GRU":
        attrs["linear_before_reset"] = int(_reset_after(cells[0]))
    states = _initial_states(ctx, op, initial, len(cells))
    args: list[ir.Value | None] = [x_tbi, w, r, b, seq_lens, *states]
    while args[-1] is None:
        args.pop()
    return ctx.ops(op, *args, outputs=3 if op == "LSTM" else 2, **attrs)


def _initial_states(ctx: LowerCtx, op: str, initial: Sequence[ir.Value], dirs: int) -> list[ir.Value | None]:
    """initial_h (and initial_c) [D, B, H] from Keras states ordered (h, c) per direction."""
    if not initial:
        return []
    n = _STATES[op]
    if len(initial) != n * dirs:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': {len(initial)} initial states, {n * dirs} expected")
    out: list[ir.Value | None] = []
    for k in range(n):
        parts = [ctx.op("Unsqueeze", initial[d * n + k], ctx.ints([0], f"state{k}_axis")) for d in range(dirs)]
        out.append(parts[0] if dirs == 1 else ctx.op("Concat", *parts, axis=0))
    return out


def flip_time(ctx: LowerCtx, y: ir.Value, axis: int) -> ir.Value:
    """``y`` reversed along ``axis`` (Keras go_backwards returns outputs in processing order)."""
    lo = ctx.ints([-1], "flip_start")
    return ctx.op("Slice", y, lo, ctx.ints([np.iinfo(np.int64).min], "flip_end"), ctx.ints([axis], "flip_axis"), lo,
                  name="flip")


def time_major(ctx: LowerCtx, x: ir.Value) -> ir.Value:
    """[B, T, ...] -> [T, B, ...] unless the layer is already time-major (Keras 2 ``time_major``)."""
    if ctx.cfg("time_major", False):
        return x
    return ctx.op("Transpose", x, perm=[1, 0, 2], name="time_major")


def batch_major(ctx: LowerCtx, y: ir.Value) -> ir.Value:
    """[T, B, H] -> [B, T, H] unless the layer is time-major."""
    if ctx.cfg("time_major", False):
        return y
    return ctx.op("Transpose", y, perm=[1, 0, 2], name="batch_major")


def check_layer(ctx: LowerCtx, named: dict[str, list[ir.Value]]) -> None:
    """Refuse what has no inference equivalent: stateful layers and Keras masks."""
    if ctx.cfg("stateful", False):
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': stateful recurrent layers keep state between "
                       "calls, which a graph model cannot", "rebuild the model with stateful=False")
    source = "a mask input" if named.get("mask") else _implicit_mask(ctx)
    if source:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': masked sequences ({source}) are not converted",
                       "remove the mask (Embedding mask_zero=False, no Masking layer) and pad to one length")


# Layers that pass a Keras 2 / tfjs mask through unchanged (the mask is implicit in those configs).
_MASK_PASSING = frozenset({"Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
                           "Activation", "Dense", "TimeDistributed", "BatchNormalization", "LayerNormalization"})


def _implicit_mask(ctx: LowerCtx) -> str:
    """The layer whose mask reaches this one in a Keras 2 / tfjs config (Keras 3 passes masks explicitly)."""
    if ctx.keras_major >= 3:
        return ""
    stack, seen = [a.layer for call in ctx.layer.calls for a in call.args[:1]], set()
    while stack:
        name = stack.pop()
        layer = next((la for la in ctx.model.layers if la.name == name), None)
        if layer is None or name in seen:
            continue
        seen.add(name)
        if layer.class_name == "Masking" or (layer.class_name == "Embedding" and layer.config.get("mask_zero")):
            return f"{layer.class_name} '{name}'"
        if layer.class_name in _MASK_PASSING:
            stack += [a.layer for call in layer.calls for a in call.args[:1]]
    return ""


def _lower_rnn(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """LSTM / GRU / SimpleRNN / RNN(cell)(units, activation, recurrent_activation, use_bias, reset_after).

    Also return_sequences, return_state, go_backwards, time_major (Keras 2), and initial_state inputs.
    """
    positional, named = call_tensors(ctx, inputs)
    check_layer(ctx, named)
    x = positional[0]
    initial = named.get("initial_state") or positional[1:]
    backwards = bool(ctx.cfg("go_backwards", False))
    cells = cells_of(ctx, ctx.config, ctx.layer.class_name, ctx.layer.weights, backwards)
    seq, states = time_major(ctx, x), []
    k = 0
    for i, cell in enumerate(cells):
        n = _STATES[cell.op]
        outs = recurrent_op(ctx, seq, [cell], initial[k:k + n] if initial else ())
        k += n
        states += [ctx.op("Squeeze", o, ctx.ints([0], "state_axis"), name="state") for o in outs[1:1 + n]]
        if i < len(cells) - 1 or ctx.cfg("return_sequences", False):
            seq = ctx.op("Squeeze", outs[0], ctx.ints([1], "dir_axis"), name="sequence")
    if ctx.cfg("return_sequences", False):
        out = batch_major(ctx, flip_time(ctx, seq, 0) if backwards else seq)
    else:
        out = states[-_STATES[cells[-1].op]]  # the last cell's h
    return [out, *states] if ctx.cfg("return_state", False) else [out]


for _name in ("LSTM", "GRU", "SimpleRNN", "RNN"):
    KERAS.rule(_name, produces=RECURRENT_OPS)(_lower_rnn)
