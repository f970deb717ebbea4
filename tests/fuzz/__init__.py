"""Fuzz suite: hostile and broken model files of every input format, built at test time."""
