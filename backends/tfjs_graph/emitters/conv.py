"""Emitters for conv ops."""

from __future__ import annotations
