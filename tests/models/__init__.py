"""Whole-model test fixtures: torch architectures exported to ONNX, described by ``manifest.MODELS``."""
