"""Parity cases for conv ops."""

from __future__ import annotations

from tests.cases import OpCase

CASES: list[OpCase] = []
