"""Keras attention cases: MultiHeadAttention (masks, causal, gate, output_shape, rank 4), Attention, Additive."""

from __future__ import annotations

from typing import Any

from tests.keras_cases import KerasCase

T, S, D = 4, 5, 6


def _mha(tag: str, layer: Any, call: Any, *, value: bool = True, mask: bool = False, query_shape: Any = (T, D),
         **kw: Any) -> KerasCase:
    """A model calling ``layer(k)`` as ``call(layer, q, v, m)`` on inputs q [T, D], v [S, D] and a mask [T, S]."""

    def build(k: Any) -> Any:
        q = k.Input(query_shape, name="q")
        ins = [q]
        v = k.Input((S, D), name="v") if value else None
        m = k.Input((T, S), name="m", dtype="int32") if mask else None
        ins += [t for t in (v, m) if t is not None]
        out = call(layer(k), q, v, m)
        return k.Model(ins, out)

    return KerasCase(f"mha_{tag}", "MultiHeadAttention", build, **kw)


def _pair(key: str, tag: str, layer: Any, *, with_key: bool = False, **call: Any) -> KerasCase:
    def build(k: Any) -> Any:
        q, v = k.Input((T, D), name="q"), k.Input((S, D), name="v")
        ins = [q, v] + ([k.Input((S, D), name="k")] if with_key else [])
        return k.Model(ins, layer(k)(ins, **call))

    return KerasCase(f"{key.lower()}_{tag}", key, build)


CASES = [
    _mha("self", lambda k: k.layers.MultiHeadAttention(2, 3), lambda a, q, v, m: a(q, q), value=False),
    _mha("cross_mask", lambda k: k.layers.MultiHeadAttention(3, 4, value_dim=2, use_bias=False),
         lambda a, q, v, m: a(q, v, attention_mask=m), mask=True),
    _mha("causal_scores", lambda k: k.layers.MultiHeadAttention(2, 3),
         lambda a, q, v, m: a(q, q, use_causal_mask=True, return_attention_scores=True), value=False),
    _mha("key_output_shape", lambda k: k.layers.MultiHeadAttention(2, 3, output_shape=(2, 5)),
         lambda a, q, v, m: a(q, v, key=v)),
    _mha("gate_sliding_window", lambda k: k.layers.MultiHeadAttention(2, 3, use_gate=True, sliding_window=2),
         lambda a, q, v, m: a(q, q, use_causal_mask=True), value=False),
    _mha("causal_dynamic_length", lambda k: k.layers.MultiHeadAttention(2, 3),
         lambda a, q, v, m: a(q, q, use_causal_mask=True), value=False, query_shape=(None, D)),
    _mha("rank4", lambda k: k.layers.MultiHeadAttention(2, 3), lambda a, q, v, m: a(q, q), value=False,
         query_shape=(3, 2, D)),
    _pair("Attention", "dot", lambda k: k.layers.Attention()),
    _pair("Attention", "scaled_key_causal", lambda k: k.layers.Attention(use_scale=True), with_key=True,
          use_causal_mask=True),
    _pair("Attention", "concat_scores", lambda k: k.layers.Attention(score_mode="concat", use_scale=True),
          return_attention_scores=True),
    _pair("AdditiveAttention", "scaled", lambda k: k.layers.AdditiveAttention()),
    _pair("AdditiveAttention", "unscaled_key", lambda k: k.layers.AdditiveAttention(use_scale=False),
          with_key=True),
]
