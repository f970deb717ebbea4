"""Parity cases for creation ops."""

from __future__ import annotations

from tests.cases import OpCase

CASES: list[OpCase] = []
