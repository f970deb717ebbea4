"""Keras reshaping layer cases."""

from __future__ import annotations

from tests.keras_cases import KerasCase

CASES: list[KerasCase] = []
