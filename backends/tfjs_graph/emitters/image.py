"""Emitters for image ops."""

from __future__ import annotations
