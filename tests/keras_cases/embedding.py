"""Keras embedding cases: integer and float ids, mask_zero, ReversibleEmbedding (tied, untied, soft-capped)."""

from __future__ import annotations

from typing import Any

from tests.keras_cases import KerasCase, functional


def _reversible(**kw: Any) -> Any:
    def build(k: Any) -> Any:
        x = k.Input((5,), dtype="int32", name="ids")
        emb = k.layers.ReversibleEmbedding(12, 4, **kw)
        return k.Model(x, emb(k.layers.Dense(4, activation="tanh")(emb(x)), reverse=True))
    return build


CASES = [
    KerasCase("embedding", "Embedding", lambda k: functional(k, (6,), k.layers.Embedding(10, 4), dtype="int32")),
    KerasCase("embedding_2d_ids", "Embedding", lambda k: functional(k, (3, 2), k.layers.Embedding(12, 3),
                                                                    dtype="int32")),
    KerasCase("embedding_mask_zero", "Embedding", lambda k: functional(
        k, (6,), k.layers.Embedding(10, 4, mask_zero=True), k.layers.Dense(3), dtype="int32")),
    KerasCase("embedding_float_ids", "Embedding", lambda k: functional(
        k, (6,), k.layers.Rescaling(1.0), k.layers.Embedding(10, 4), dtype="int32")),
    KerasCase("reversible_embedding_tied", "ReversibleEmbedding", _reversible()),
    KerasCase("reversible_embedding_untied_capped", "ReversibleEmbedding", _reversible(
        tie_weights=False, logit_soft_cap=0.5)),
]
