"""Keras merge cases: elementwise merges (with Keras rank broadcasting), Concatenate and Dot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.keras_cases import KerasCase


def _merge(shapes: Sequence[tuple[int, ...]], make: Any) -> Any:
    def build(k: Any) -> Any:
        xs = [k.Input(s, name=f"x{i}") for i, s in enumerate(shapes)]
        return k.Model(xs, make(k.layers)(xs))
    return build


def _case(cid: str, key: str, shapes: Sequence[tuple[int, ...]], make: Any, **kw: Any) -> KerasCase:
    return KerasCase(cid, key, _merge(shapes, make), **kw)


CASES = [
    _case("add", "Add", [(4, 3), (4, 3)], lambda kl: kl.Add()),
    _case("add_three", "Add", [(4, 3)] * 3, lambda kl: kl.Add()),
    _case("add_broadcast_rank", "Add", [(4, 3), (3,)], lambda kl: kl.Add()),
    _case("add_broadcast_ones", "Add", [(4, 3), (1, 3)], lambda kl: kl.Add()),
    _case("subtract", "Subtract", [(5,), (5,)], lambda kl: kl.Subtract()),
    _case("subtract_broadcast_rank", "Subtract", [(4,), (2, 4)], lambda kl: kl.Subtract()),
    _case("multiply", "Multiply", [(4, 3), (4, 3), (4, 1)], lambda kl: kl.Multiply()),
    _case("average", "Average", [(2, 3), (2, 3), (2, 3)], lambda kl: kl.Average()),
    _case("maximum", "Maximum", [(6,), (6,)], lambda kl: kl.Maximum()),
    _case("minimum", "Minimum", [(3, 2), (3, 2), (3, 2)], lambda kl: kl.Minimum()),
    _case("concatenate", "Concatenate", [(4, 3), (4, 2)], lambda kl: kl.Concatenate()),
    _case("concatenate_axis1", "Concatenate", [(2, 3), (4, 3), (1, 3)], lambda kl: kl.Concatenate(axis=1)),
    _case("dot_vectors", "Dot", [(5,), (5,)], lambda kl: kl.Dot(axes=1)),
    _case("dot_normalize", "Dot", [(5,), (5,)], lambda kl: kl.Dot(axes=-1, normalize=True)),
    _case("dot_matrices_last", "Dot", [(3, 4), (5, 4)], lambda kl: kl.Dot(axes=2)),
    _case("dot_matrices_mixed", "Dot", [(3, 4), (3, 5)], lambda kl: kl.Dot(axes=(1, 1))),
    _case("dot_attention_scores", "Dot", [(3, 4), (4, 6)], lambda kl: kl.Dot(axes=(2, 1))),
    _case("dot_rank2_rank3", "Dot", [(4,), (6, 4)], lambda kl: kl.Dot(axes=(1, 2))),
    _case("dot_normalize_rank3", "Dot", [(3, 4), (5, 4)], lambda kl: kl.Dot(axes=(2, 2), normalize=True)),
]
