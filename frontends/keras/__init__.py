"""Keras models (HDF5, .keras, tfjs layers model.json) read without Keras and lowered to ONNX."""
