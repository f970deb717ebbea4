"""Emitters for activation ops."""

from __future__ import annotations
