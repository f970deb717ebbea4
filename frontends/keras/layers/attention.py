"""Keras attention layers (MultiHeadAttention, Attention, AdditiveAttention) lowered to MatMul / Softmax ops."""

from __future__ import annotations

import math

import numpy as np
import onnx_ir as ir

from frontends.keras.layers.recurrent import call_tensors
from frontends.keras.lower import LowerCtx, shape_of
from frontends.keras.registry import KERAS

# Keras masks attention scores with this (backend ``_large_negative_number`` for float32).
_LARGE_NEGATIVE = -1e9
_MASK_OPS = frozenset({"Where", "And", "Cast", "Unsqueeze", "Range", "Shape", "Gather", "GreaterOrEqual", "Less",
                       "Abs", "Sub", "Not"})
ATTENTION_OPS = _MASK_OPS | {"MatMul", "Add", "Mul", "Reshape", "Transpose", "Softmax", "Sigmoid", "Tanh",
                             "ReduceSum"}


# -- masks ------------------------------------------------------------------------------------
def _bool(ctx: LowerCtx, mask: ir.Value) -> ir.Value:
    return mask if mask.dtype == ir.DataType.BOOL else ctx.op("Cast", mask, to=ir.DataType.BOOL)


def _and(ctx: LowerCtx, a: ir.Value | None, b: ir.Value | None) -> ir.Value | None:
    if a is None or b is None:
        return a if b is None else b
    return ctx.op("And", a, b)


def _positions(ctx: LowerCtx, x: ir.Value, axis: int, name: str) -> ir.Value | np.ndarray:
    """0..n-1 along ``axis`` of ``x``: a numpy array when the length is static, else a Range."""
    n = shape_of(x)[axis]
    if n is not None:
        ctx.reserve((n,), 8, f"{name} positions")
        return np.arange(n)
    size = ctx.op("Gather", ctx.op("Shape", x), ctx.const(axis, f"{name}_axis", np.int64), axis=0)
    return ctx.op("Range", ctx.const(0, f"{name}_start", np.int64), size, ctx.const(1, f"{name}_step", np.int64),
                  name=name)


def _band(ctx: LowerCtx, query: ir.Value, value: ir.Value, causal: bool, window: int | None) -> ir.Value | None:
    """[1, T, S] bool: the causal (row >= column) and sliding-window (|row - column| < window) masks."""
    if not causal and window is None:
        return None
    rows, cols = _positions(ctx, query, 1, "rows"), _positions(ctx, value, 1, "cols")
    if isinstance(rows, np.ndarray) and isinstance(cols, np.ndarray):
        ctx.reserve((rows.size, cols.size), 1, "attention mask")
        keep = np.ones((rows.size, cols.size), bool)
        if causal:
            keep &= rows[:, None] >= cols[None, :]
        if window is not None:
            keep &= np.abs(rows[:, None] - cols[None, :]) < window
        return ctx.const(keep[None], "band_mask", dtype=np.bool_)
    r = ctx.op("Unsqueeze", ctx.const(rows, "rows", np.int64) if isinstance(rows, np.ndarray) else rows,
               ctx.ints([1], "ax1"))
    c = ctx.op("Unsqueeze", ctx.const(cols, "cols", np.int64) if isinstance(cols, np.ndarray) else cols,
               ctx.ints([0], "ax0"))
    mask = ctx.op("GreaterOrEqual", r, c) if causal else None
    if window is not None:
        near = ctx.op("Less", ctx.op("Abs", ctx.op("Sub", r, c)), ctx.const(window, "window", np.int64))
        mask = _and(ctx, mask, near)
    return ctx.op("Unsqueeze", mask, ctx.ints([0], "batch_axis"), name="band_mask")


def masked_softmax(ctx: LowerCtx, scores: ir.Value, mask: ir.Value | None) -> ir.Value:
    """Softmax over the last axis; masked positions get -1e9 before and 0 after (Keras ``Softmax(mask)``)."""
    if mask is None:
        return ctx.op("Softmax", scores, axis=-1)
    low = ctx.const(_LARGE_NEGATIVE, "large_negative")
    probs = ctx.op("Softmax", ctx.op("Where", mask, scores, low), axis=-1)
    return ctx.op("Where", mask, probs, ctx.const(0.0, "zero"), name="masked_probs")


# -- MultiHeadAttention -----------------------------------------------------------------------
class _Weights:
    """The MultiHeadAttention variables in Keras order: query, key, (gate,) value, output dense."""

    def __init__(self, ctx: LowerCtx) -> None:
        self.ctx, self._i = ctx, 0
        self.use_bias = bool(ctx.cfg("use_bias", True))

    def dense(self) -> tuple[np.ndarray, np.ndarray | None]:
        kernel = np.asarray(self.ctx.layer.weight(self._i), np.float32)
        bias = np.asarray(self.ctx.layer.weight(self._i + 1), np.float32) if self.use_bias else None
        self._i += 2 if self.use_bias else 1
        return kernel, bias


def lead_dims(x: ir.Value) -> list[int]:
    """Reshape entries copying the batch and sequence axes (0, 0).

    Copies, not ``[-1, T]``: shape inference then keeps the symbolic batch dim, which tfjs batched MatMuls of two
    run-time tensors need to prove that their batch dims agree.
    """
    return [0, 0]


def _project(ctx: LowerCtx, x: ir.Value, kernel: np.ndarray, bias: np.ndarray | None, name: str,
             scale: float = 1.0) -> ir.Value:
    """EinsumDense ``abc,cde->abde``: [B, T, dim] @ [dim, N, D] (+ [N, D]) -> [B, T, N, D]."""
    dim, heads, depth = kernel.shape
    y = ctx.op("MatMul", x, ctx.const(kernel.reshape(dim, heads * depth) * scale, f"{name}/kernel"), name=name)
    if bias is not None:
        y = ctx.op("Add", y, ctx.const(bias.reshape(-1) * scale, f"{name}/bias"), name=f"{name}/bias")
    return ctx.op("Reshape", y, ctx.ints([*lead_dims(x), heads, depth], f"{name}/heads"), name=f"{name}/heads")


def _flatten_axes(ctx: LowerCtx, x: ir.Value) -> tuple[ir.Value, list[int | None]]:
    """[B, d1, .., dk, dim] -> [B, d1 * .. * dk, dim]: attention over all middle axes at once."""
    shape = shape_of(x)
    if len(shape) == 3:
        return x, shape
    if any(d is None for d in shape[1:]):
        raise ctx.fail("dynamic_shape", f"layer '{ctx.layer.name}': attention over several axes needs static sizes")
    return ctx.op("Reshape", x, ctx.ints([0, int(np.prod(shape[1:-1])), shape[-1]], "flatten_axes")), shape  # type: ignore[list-item,arg-type]


def _check_mha(ctx: LowerCtx, rank: int) -> None:
    axes = ctx.cfg("attention_axes")
    if axes is not None and sorted(int(a) % rank for a in ([axes] if isinstance(axes, int) else axes)) != \
            list(range(1, rank - 1)):
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': attention_axes {axes} (attention over only some "
                       "of the middle axes) is not converted")


def _mha_mask(ctx: LowerCtx, query: ir.Value, value: ir.Value, named: dict[str, list[ir.Value]]) -> ir.Value | None:
    """[B, 1, T, S] bool (or None): attention_mask, the inputs' masks and the causal / sliding-window band."""
    mask = _bool(ctx, named["attention_mask"][0]) if named.get("attention_mask") else None
    if named.get("query_mask"):
        mask = _and(ctx, mask, ctx.op("Unsqueeze", _bool(ctx, named["query_mask"][0]), ctx.ints([-1], "q_axis")))
    for key in ("value_mask", "key_mask"):
        if named.get(key):
            mask = _and(ctx, mask, ctx.op("Unsqueeze", _bool(ctx, named[key][0]), ctx.ints([-2], f"{key}_axis")))
    window = ctx.cfg("sliding_window")
    mask = _and(ctx, mask, _band(ctx, query, value, bool(ctx.kwargs.get("use_causal_mask", False)),
                                 None if window is None else int(window)))
    return None if mask is None else ctx.op("Unsqueeze", mask, ctx.ints([1], "heads_axis"), name="mask")


@KERAS.rule("MultiHeadAttention", produces=ATTENTION_OPS)
def multi_head_attention(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """MultiHeadAttention(num_heads, key_dim, value_dim, use_bias, output_shape, use_gate)(query, value, key).

    Call options: attention_mask, query/value/key masks, use_causal_mask, return_attention_scores; config
    attention_axes (all middle axes only) and sliding_window.
    """
    positional, named = call_tensors(ctx, inputs)
    query, value = positional[0], positional[1] if len(positional) > 1 else named["value"][0]
    key = positional[2] if len(positional) > 2 else (named.get("key") or [value])[0]
    _check_mha(ctx, len(shape_of(query)))
    mask = _mha_mask(ctx, query, value, named)
    (query, q_shape), (key, _), (value, _) = (_flatten_axes(ctx, t) for t in (query, key, value))
    w = _Weights(ctx)
    q_kernel, q_bias = w.dense()
    key_dim = q_kernel.shape[2]
    # Keras scales the projected query by 1/sqrt(key_dim); folded into the query projection.
    q = ctx.op("Transpose", _project(ctx, query, q_kernel, q_bias, "query", 1.0 / math.sqrt(key_dim)),
               perm=[0, 2, 1, 3])
    k = ctx.op("Transpose", _project(ctx, key, *w.dense(), "key"), perm=[0, 2, 3, 1])
    gate = ctx.op("Sigmoid", _project(ctx, query, *w.dense(), "gate")) if ctx.cfg("use_gate", False) else None
    v = ctx.op("Transpose", _project(ctx, value, *w.dense(), "value"), perm=[0, 2, 1, 3])
    probs = masked_softmax(ctx, ctx.op("MatMul", q, k, name="scores"), mask)
    out = ctx.op("Transpose", ctx.op("MatMul", probs, v, name="attend"), perm=[0, 2, 1, 3])
    if gate is not None:
        out = ctx.op("Mul", out, gate, name="gated")
    o_kernel, o_bias = w.dense()
    n, dv, out_shape = o_kernel.shape[0], o_kernel.shape[1], list(o_kernel.shape[2:])
    out = ctx.op("MatMul", ctx.op("Reshape", out, ctx.ints([*lead_dims(query), n * dv], "merge_heads")),
                 ctx.const(o_kernel.reshape(n * dv, -1), "output/kernel"), name="output")
    if o_bias is not None:
        out = ctx.op("Add", out, ctx.const(o_bias.reshape(-1), "output/bias"), name="output/bias")
    if len(q_shape) > 3 or len(out_shape) > 1:
        lead = lead_dims(query) if len(q_shape) == 3 else [-1, *q_shape[1:-1]]  # type: ignore[list-item]
        out = ctx.op("Reshape", out, ctx.ints([*lead, *out_shape], "output_shape"), name="output/shape")
    return [out, probs] if ctx.kwargs.get("return_attention_scores", False) else [out]


# -- Attention, AdditiveAttention -------------------------------------------------------------
def _qvk(ctx: LowerCtx, inputs: list[ir.Value]) -> tuple[ir.Value, ir.Value, ir.Value, list[ir.Value]]:
    positional, named = call_tensors(ctx, inputs)
    masks = named.get("mask") or []
    if masks and len(masks) != 2:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': a mask for only one of query and value")
    q, v = positional[0], positional[1]
    return q, v, positional[2] if len(positional) > 2 else v, masks


def _attend(ctx: LowerCtx, scores: ir.Value, q: ir.Value, v: ir.Value, masks: list[ir.Value]) -> list[ir.Value]:
    """Keras ``_apply_scores``: mask (value mask, causal), softmax, weighted values, query mask."""
    v_mask = ctx.op("Unsqueeze", _bool(ctx, masks[1]), ctx.ints([-2], "v_axis")) if masks else None
    mask = _and(ctx, v_mask, _band(ctx, q, v, bool(ctx.kwargs.get("use_causal_mask", False)), None))
    if mask is not None:  # Keras subtracts 1e9 where masked (and does not zero the probabilities afterwards)
        scores = ctx.op("Where", mask, scores, ctx.op("Sub", scores, ctx.const(1e9, "max_value")))
    probs = ctx.op("Softmax", scores, axis=-1)
    out = ctx.op("MatMul", probs, v, name="attend")
    if masks:
        q_mask = ctx.op("Unsqueeze", _bool(ctx, masks[0]), ctx.ints([-1], "q_axis"))
        out = ctx.op("Where", q_mask, out, ctx.const(0.0, "zero"))
    return [out, probs] if ctx.kwargs.get("return_attention_scores", False) else [out]


def _scalar(ctx: LowerCtx, i: int, name: str) -> ir.Value:
    return ctx.const(np.asarray(ctx.layer.weight(i), np.float32).reshape(()), name)


@KERAS.rule("Attention", produces=ATTENTION_OPS)
def attention(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Attention(use_scale, score_mode)([query, value, key], mask, use_causal_mask, return_attention_scores)."""
    q, v, k, masks = _qvk(ctx, inputs)
    use_scale, mode = bool(ctx.cfg("use_scale", False)), ctx.cfg("score_mode", "dot")
    if mode == "dot":
        scores = ctx.op("MatMul", q, ctx.op("Transpose", k, perm=[0, 2, 1]), name="scores")
        if use_scale:
            scores = ctx.op("Mul", scores, _scalar(ctx, 0, "scale"), name="scaled")
    elif mode == "concat":
        pair = ctx.op("Add", ctx.op("Unsqueeze", q, ctx.ints([-2], "q_axis")),
                      ctx.op("Unsqueeze", k, ctx.ints([-3], "k_axis")))
        if use_scale:
            pair = ctx.op("Mul", pair, _scalar(ctx, 0, "scale"))
        summed = ctx.op("ReduceSum", ctx.op("Tanh", pair), ctx.ints([-1], "sum_axis"), keepdims=0)
        scores = ctx.op("Mul", summed, _scalar(ctx, int(use_scale), "concat_score_weight"), name="scores")
    else:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': score_mode '{mode}' is unknown")
    return _attend(ctx, scores, q, v, masks)


@KERAS.rule("AdditiveAttention", produces=ATTENTION_OPS)
def additive_attention(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """AdditiveAttention(use_scale)([query, value, key], mask, use_causal_mask, return_attention_scores)."""
    q, v, k, masks = _qvk(ctx, inputs)
    pair = ctx.op("Tanh", ctx.op("Add", ctx.op("Unsqueeze", q, ctx.ints([-2], "q_axis")),
                                 ctx.op("Unsqueeze", k, ctx.ints([-3], "k_axis"))))
    if ctx.cfg("use_scale", True):
        pair = ctx.op("Mul", pair, ctx.weight(0, "scale"))
    scores = ctx.op("ReduceSum", pair, ctx.ints([-1], "sum_axis"), keepdims=0, name="scores")
    return _attend(ctx, scores, q, v, masks)

