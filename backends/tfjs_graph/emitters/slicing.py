"""Emitters for slicing ops."""

from __future__ import annotations
