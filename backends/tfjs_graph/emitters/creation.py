"""Emitters for creation ops."""

from __future__ import annotations
