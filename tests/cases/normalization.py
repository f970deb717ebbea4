"""Parity cases for normalization ops."""

from __future__ import annotations

from tests.cases import OpCase

CASES: list[OpCase] = []
