"""Parity cases for shape ops."""

from __future__ import annotations

from tests.cases import OpCase

CASES: list[OpCase] = []
