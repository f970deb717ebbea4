"""Emitters for normalization ops."""

from __future__ import annotations
