"""Per-layer Keras parity cases as data: each family module exports ``CASES``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

FAMILIES = ("core", "conv", "pooling", "normalization", "reshaping", "merging", "preprocessing", "embedding",
            "attention", "recurrent", "wrappers")
Build = Callable[[Any], Any]  # keras module -> built keras.Model


@dataclass(frozen=True)
class KerasCase:
    """One layer case: a model builder, the layer class under test, tolerance, formats."""

    id: str
    key: str
    build: Build
    tol: float = 1e-4
    formats: tuple[str, ...] = ("keras", "h5")
    xfail: str | None = None


def functional(keras: Any, shape: Sequence[int | None], *layers: Any, dtype: str = "float32") -> Any:
    """Input(shape) followed by ``layers`` in a chain, as a functional model."""
    inp = keras.Input(tuple(shape), dtype=dtype, name="x")
    out = inp
    for layer in layers:
        out = layer(out)
    return keras.Model(inp, out)


def all_cases() -> list[KerasCase]:
    """Every case of every family module."""
    cases: list[KerasCase] = []
    for name in FAMILIES:
        cases.extend(importlib.import_module(f"tests.keras_cases.{name}").CASES)
    return cases
