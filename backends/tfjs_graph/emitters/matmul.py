"""Emitters for matmul ops."""

from __future__ import annotations
