"""Keras conv layer cases: Conv1D/2D/3D, transposed, depthwise and separable, every padding and layout."""

from __future__ import annotations

from typing import Any

from tests.keras_cases import KerasCase, functional


def _case(cid: str, key: str, shape: tuple[int | None, ...], make: Any, **kw: Any) -> KerasCase:
    return KerasCase(cid, key, lambda k: functional(k, shape, make(k.layers)), **kw)


CASES = [
    _case("conv1d_valid", "Conv1D", (9, 3), lambda kl: kl.Conv1D(4, 3)),
    _case("conv1d_same_stride2_relu", "Conv1D", (9, 3), lambda kl: kl.Conv1D(4, 4, strides=2, padding="same",
                                                                           activation="relu")),
    _case("conv1d_causal_dilated", "Conv1D", (10, 3), lambda kl: kl.Conv1D(4, 3, padding="causal", dilation_rate=2)),
    _case("conv1d_channels_first", "Conv1D", (3, 9), lambda kl: kl.Conv1D(4, 3, padding="same",
                                                                        data_format="channels_first")),
    _case("conv1d_groups", "Conv1D", (9, 4), lambda kl: kl.Conv1D(6, 3, groups=2, use_bias=False)),
    _case("conv2d_same", "Conv2D", (7, 7, 3), lambda kl: kl.Conv2D(5, 3, padding="same")),
    _case("conv2d_same_stride2_even_kernel", "Conv2D", (8, 7, 3), lambda kl: kl.Conv2D(5, 4, strides=2,
                                                                                     padding="same")),
    _case("conv2d_valid_stride_nobias_sigmoid", "Conv2D", (9, 8, 3),
          lambda kl: kl.Conv2D(4, (3, 2), strides=(2, 3), use_bias=False, activation="sigmoid")),
    _case("conv2d_dilated_same", "Conv2D", (9, 9, 2), lambda kl: kl.Conv2D(4, 3, dilation_rate=(2, 3),
                                                                         padding="same")),
    _case("conv2d_channels_first", "Conv2D", (3, 7, 6), lambda kl: kl.Conv2D(4, 3, strides=2, padding="same",
                                                                           data_format="channels_first")),
    _case("conv2d_groups", "Conv2D", (6, 6, 4), lambda kl: kl.Conv2D(8, 3, groups=2, padding="same")),
    _case("conv2d_same_dynamic_spatial", "Conv2D", (None, None, 3), lambda kl: kl.Conv2D(4, 3, padding="same",
                                                                                       activation="tanh")),
    _case("conv3d_same", "Conv3D", (5, 6, 5, 2), lambda kl: kl.Conv3D(3, 3, padding="same")),
    _case("conv3d_valid_stride", "Conv3D", (6, 6, 5, 2), lambda kl: kl.Conv3D(3, (2, 3, 2), strides=2)),
    _case("conv3d_channels_first", "Conv3D", (2, 5, 6, 5), lambda kl: kl.Conv3D(3, 3, padding="same",
                                                                              data_format="channels_first")),
    _case("conv1d_transpose_same_stride2", "Conv1DTranspose", (6, 3),
          lambda kl: kl.Conv1DTranspose(4, 3, strides=2, padding="same")),
    _case("conv1d_transpose_valid", "Conv1DTranspose", (6, 3), lambda kl: kl.Conv1DTranspose(4, 4, strides=2)),
    _case("conv2d_transpose_same_stride2", "Conv2DTranspose", (5, 4, 3),
          lambda kl: kl.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu")),
    _case("conv2d_transpose_same_even_kernel", "Conv2DTranspose", (5, 4, 3),
          lambda kl: kl.Conv2DTranspose(4, 4, strides=2, padding="same")),
    _case("conv2d_transpose_valid_kernel_lt_stride", "Conv2DTranspose", (4, 5, 3),
          lambda kl: kl.Conv2DTranspose(4, 2, strides=3)),
    _case("conv2d_transpose_valid_output_padding", "Conv2DTranspose", (4, 5, 3),
          lambda kl: kl.Conv2DTranspose(4, 3, strides=2, output_padding=1)),
    _case("conv2d_transpose_same_output_padding", "Conv2DTranspose", (4, 5, 3),
          lambda kl: kl.Conv2DTranspose(4, 3, strides=(2, 3), padding="same", output_padding=(0, 2))),
    _case("conv2d_transpose_dilated", "Conv2DTranspose", (5, 5, 3),
          lambda kl: kl.Conv2DTranspose(4, 3, dilation_rate=2, padding="same")),
    _case("conv2d_transpose_channels_first", "Conv2DTranspose", (3, 5, 4),
          lambda kl: kl.Conv2DTranspose(4, 3, strides=2, padding="same", data_format="channels_first")),
    _case("conv3d_transpose_same", "Conv3DTranspose", (3, 4, 3, 2),
          lambda kl: kl.Conv3DTranspose(3, 3, strides=2, padding="same")),
    _case("depthwise2d_same_stride2_mult2", "DepthwiseConv2D", (8, 7, 3),
          lambda kl: kl.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2)),
    _case("depthwise2d_valid_relu", "DepthwiseConv2D", (7, 7, 4),
          lambda kl: kl.DepthwiseConv2D((3, 2), activation="relu", use_bias=False)),
    _case("depthwise2d_dilated", "DepthwiseConv2D", (9, 9, 3), lambda kl: kl.DepthwiseConv2D(3, dilation_rate=2,
                                                                                            padding="same")),
    _case("depthwise2d_channels_first", "DepthwiseConv2D", (3, 7, 7),
          lambda kl: kl.DepthwiseConv2D(3, padding="same", depth_multiplier=2, data_format="channels_first")),
    _case("depthwise1d_same", "DepthwiseConv1D", (9, 3), lambda kl: kl.DepthwiseConv1D(3, padding="same",
                                                                                     depth_multiplier=2)),
    _case("depthwise1d_causal_stride", "DepthwiseConv1D", (9, 3), lambda kl: kl.DepthwiseConv1D(3, strides=2,
                                                                                              padding="valid")),
    _case("separable2d_same", "SeparableConv2D", (7, 7, 3), lambda kl: kl.SeparableConv2D(5, 3, padding="same",
                                                                                        activation="relu")),
    _case("separable2d_mult_stride", "SeparableConv2D", (8, 8, 3),
          lambda kl: kl.SeparableConv2D(4, 3, strides=2, depth_multiplier=2, use_bias=False)),
    _case("separable2d_channels_first", "SeparableConv2D", (3, 7, 7),
          lambda kl: kl.SeparableConv2D(4, 3, padding="same", data_format="channels_first")),
    _case("separable1d_same", "SeparableConv1D", (9, 3), lambda kl: kl.SeparableConv1D(4, 3, padding="same",
                                                                                     dilation_rate=2)),
    KerasCase("conv_chain", "Conv2D", lambda k: functional(
        k, (8, 8, 3), k.layers.Conv2D(4, 3, padding="same", activation="relu"),
        k.layers.DepthwiseConv2D(3, padding="same"), k.layers.Conv2D(2, 1))),
]
