"""Per-layer Keras parity cases as data: each family module exports ``CASES``."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

FAMILIES = ("core", "conv", "pooling", "normalization", "reshaping", "merging", "preprocessing", "embedding",
            "attention", "recurrent", "wrappers")
Build = Callable[[Any], Any]  # keras module -> built keras.Model


@dataclass(frozen=True)
class KerasCase:
    """One layer case: a model builder, the layer class under test, tolerance, formats."""

    id: str
    key: str
    build: Build
    tol: float = 1e-4
    formats: tuple[str, ...] = ("keras", "h5")
    xfail: str | None = None
    refused: str | None = None  # why the lowering declines the model (a declared limit), checked to still hold


_ACTIVATION = "tfjs-layers has no activation {!r}"
_CHANNELS_FIRST = "channels_first: tfjs-layers runs this layer channels_last only"
_DILATED = "dilation_rate > 1, which tfjs-layers ignores for this layer"
_GROUPS = "grouped convolution (groups > 1), which tfjs-layers lacks"
_HARD_SIGMOID = "Keras 3 hard_sigmoid (slope 1/6) differs from tfjs hardSigmoid (slope 0.2)"
_KEEPDIMS = "keepdims=True, which tfjs-layers lacks"
_KWARG_TENSORS = "initial states passed as call arguments, which a tfjs layers model cannot hold"
_NO_BATCH_AXIS = "tfjs-layers 4.22 builds this layer's output shape without the batch axis"
_RESET_AFTER = "GRU reset_after=True (Keras 3 default); tfjs-layers implements reset_after=False only"

# The tfjs layers model round trip (written by tfjs_pivot.routes, read back) of these cases is refused: the
# config has a value tfjs-layers cannot represent or runs differently. Case id -> reason; tests/test_emission.py
# checks that each is still refused (and that every other case is not), the parity test expects it to fail.
LAYERS_REFUSED: dict[str, str] = {
    "activation_exponential": _ACTIVATION.format("exponential"),
    "activation_celu": _ACTIVATION.format("celu"),
    "activation_log_sigmoid": _ACTIVATION.format("log_sigmoid"),
    "activation_hard_tanh": _ACTIVATION.format("hard_tanh"),
    "activation_tanh_shrink": _ACTIVATION.format("tanh_shrink"),
    "activation_squareplus": _ACTIVATION.format("squareplus"),
    "activation_sparse_plus": _ACTIVATION.format("sparse_plus"),
    "activation_hard_silu": _ACTIVATION.format("hard_silu"),
    "activation_leaky_relu": _ACTIVATION.format("leaky_relu"),
    "activation_hard_sigmoid": _HARD_SIGMOID,
    "lstm_hard_sigmoid_relu_nobias": _HARD_SIGMOID,
    "relu_layer": "ReLU with negative_slope and threshold, which the tfjs-layers ReLU lacks",
    "elu_layer": "ELU with alpha other than 1",
    "softmax_layer": "Softmax on an axis other than the last",
    "conv1d_causal_dilated": "Conv1D causal padding",
    "conv1d_channels_first": _CHANNELS_FIRST,
    "separable2d_channels_first": _CHANNELS_FIRST,
    "maxpool1d_channels_first": _CHANNELS_FIRST,
    "conv1d_groups": _GROUPS,
    "conv2d_groups": _GROUPS,
    "conv2d_transpose_valid_output_padding": "Conv2DTranspose output_padding, which tfjs-layers lacks",
    "conv2d_transpose_same_output_padding": "Conv2DTranspose output_padding, which tfjs-layers lacks",
    "conv2d_transpose_dilated": _DILATED,
    "depthwise2d_dilated": _DILATED,
    "gap1d_channels_first_keepdims": f"{_CHANNELS_FIRST}; {_KEEPDIMS}",
    "gap2d_keepdims": _KEEPDIMS,
    "gmp2d_channels_first_keepdims": _KEEPDIMS,
    "bn_after_conv_channels_first": "BatchNormalization on an axis other than the last",
    "bn_axis_middle": "BatchNormalization on an axis other than the last",
    "ln_rms_scaling": "LayerNormalization rms_scaling=True, which tfjs-layers lacks",
    "upsampling2d_bilinear": "bilinear UpSampling2D: tfjs-layers samples other points",
    "upsampling2d_channels_first": "bilinear UpSampling2D: tfjs-layers samples other points",
    "rescaling_per_channel": "Rescaling with a per-channel scale or offset",
    "resizing_bilinear_down": _NO_BATCH_AXIS,
    "resizing_bilinear_up": _NO_BATCH_AXIS,
    "resizing_nearest_down": _NO_BATCH_AXIS,
    "resizing_nearest_up": _NO_BATCH_AXIS,
    "resizing_crop_to_aspect": _NO_BATCH_AXIS,
    "resizing_pad_to_aspect": f"{_NO_BATCH_AXIS}; pad_to_aspect_ratio=True",
    "resizing_channels_first": _NO_BATCH_AXIS,
    "resizing_int_input": _NO_BATCH_AXIS,
    "center_crop": _NO_BATCH_AXIS,
    "center_crop_channels_first": _NO_BATCH_AXIS,
    "center_crop_upsize": _NO_BATCH_AXIS,
    "lstm_initial_state": _KWARG_TENSORS,
    "bidirectional_initial_state": f"{_KWARG_TENSORS}; {_RESET_AFTER}",
    "gru_reset_after": _RESET_AFTER,
    "gru_backwards_linear": _RESET_AFTER,
    "gru_dynamic_length": _RESET_AFTER,
    "gru_states": _RESET_AFTER,
    "text_gru_classifier": _RESET_AFTER,
    "bidirectional_gru_sum": _RESET_AFTER,
    "text_bidirectional_gru_classifier": _RESET_AFTER,
}


def functional(keras: Any, shape: Sequence[int | None], *layers: Any, dtype: str = "float32") -> Any:
    """Input(shape) followed by ``layers`` in a chain, as a functional model."""
    inp = keras.Input(tuple(shape), dtype=dtype, name="x")
    out = inp
    for layer in layers:
        out = layer(out)
    return keras.Model(inp, out)


def all_cases() -> list[KerasCase]:
    """Every case of every family module."""
    cases: list[KerasCase] = []
    for name in FAMILIES:
        cases.extend(importlib.import_module(f"tests.keras_cases.{name}").CASES)
    return cases
