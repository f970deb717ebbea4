"""Lowering rules for Keras layers, one module per layer family (loaded by ``load_rules``)."""
