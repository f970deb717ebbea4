"""Keras preprocessing layers lowered to ONNX."""

from __future__ import annotations
