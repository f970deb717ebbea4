"""Emitters for pool ops."""

from __future__ import annotations
