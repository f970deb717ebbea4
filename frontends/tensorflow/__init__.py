"""TensorFlow inputs (SavedModel, frozen graph, TF Hub, Keras SavedModel) lowered to ONNX with tf2onnx."""

from __future__ import annotations

from frontends.tensorflow.frontend import (
    KerasSavedModelFrontend,
    TfFrozenModelFrontend,
    TfHubFrontend,
    TfSavedModelFrontend,
)

__all__ = ["KerasSavedModelFrontend", "TfFrozenModelFrontend", "TfHubFrontend", "TfSavedModelFrontend"]
