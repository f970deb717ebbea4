"""Keras pooling cases: max/average 1-D to 3-D (valid, same, strides, channels_first) and global pools."""

from __future__ import annotations

from typing import Any

from tests.keras_cases import KerasCase, functional

# The torch backend of Keras pads an asymmetric 'same' average window by edge replication and averages the copies;
# TensorFlow (the Keras semantics, which tfjs-pivot follows) excludes the padding.
_TORCH_SAME_AVG = "Keras torch backend replicates edge values into asymmetric 'same' average windows (TF excludes them)"


def _case(cid: str, key: str, shape: tuple[int | None, ...], make: Any, **kw: Any) -> KerasCase:
    return KerasCase(cid, key, lambda k: functional(k, shape, make(k.layers)), **kw)


CASES = [
    _case("maxpool1d", "MaxPooling1D", (9, 3), lambda kl: kl.MaxPooling1D(2)),
    _case("maxpool1d_same_stride1", "MaxPooling1D", (9, 3), lambda kl: kl.MaxPooling1D(3, strides=1, padding="same")),
    _case("maxpool1d_channels_first", "MaxPooling1D", (3, 9), lambda kl: kl.MaxPooling1D(
        3, strides=2, data_format="channels_first")),
    _case("maxpool2d", "MaxPooling2D", (8, 7, 3), lambda kl: kl.MaxPooling2D()),
    _case("maxpool2d_same_stride2", "MaxPooling2D", (7, 8, 3), lambda kl: kl.MaxPooling2D(3, strides=2,
                                                                                       padding="same")),
    _case("maxpool2d_overlap_rect", "MaxPooling2D", (9, 8, 3), lambda kl: kl.MaxPooling2D((3, 2), strides=(2, 1))),
    _case("maxpool2d_channels_first", "MaxPooling2D", (3, 8, 7), lambda kl: kl.MaxPooling2D(
        2, padding="same", data_format="channels_first")),
    _case("maxpool3d", "MaxPooling3D", (4, 6, 5, 2), lambda kl: kl.MaxPooling3D(2)),
    _case("maxpool3d_same", "MaxPooling3D", (5, 5, 4, 2), lambda kl: kl.MaxPooling3D(3, strides=2, padding="same")),
    _case("maxpool3d_channels_first", "MaxPooling3D", (2, 4, 6, 4), lambda kl: kl.MaxPooling3D(
        2, data_format="channels_first")),
    _case("avgpool1d", "AveragePooling1D", (9, 3), lambda kl: kl.AveragePooling1D(3, strides=2)),
    _case("avgpool1d_same", "AveragePooling1D", (9, 3), lambda kl: kl.AveragePooling1D(3, strides=1, padding="same")),
    _case("avgpool2d", "AveragePooling2D", (8, 6, 3), lambda kl: kl.AveragePooling2D(2)),
    _case("avgpool2d_same_symmetric", "AveragePooling2D", (7, 6, 3), lambda kl: kl.AveragePooling2D(
        3, strides=1, padding="same")),
    _case("avgpool2d_same_asymmetric", "AveragePooling2D", (7, 8, 3), lambda kl: kl.AveragePooling2D(
        3, strides=2, padding="same"), xfail=_TORCH_SAME_AVG),
    _case("avgpool2d_channels_first", "AveragePooling2D", (3, 8, 6), lambda kl: kl.AveragePooling2D(
        (2, 3), data_format="channels_first")),
    _case("avgpool3d", "AveragePooling3D", (4, 6, 4, 2), lambda kl: kl.AveragePooling3D(2)),
    _case("avgpool3d_same", "AveragePooling3D", (5, 5, 4, 2), lambda kl: kl.AveragePooling3D(
        3, strides=1, padding="same")),
    _case("gap1d", "GlobalAveragePooling1D", (6, 4), lambda kl: kl.GlobalAveragePooling1D()),
    _case("gap1d_channels_first_keepdims", "GlobalAveragePooling1D", (4, 6), lambda kl: kl.GlobalAveragePooling1D(
        data_format="channels_first", keepdims=True)),
    _case("gap2d", "GlobalAveragePooling2D", (5, 6, 4), lambda kl: kl.GlobalAveragePooling2D()),
    _case("gap2d_keepdims", "GlobalAveragePooling2D", (5, 6, 4), lambda kl: kl.GlobalAveragePooling2D(keepdims=True)),
    _case("gap2d_channels_first", "GlobalAveragePooling2D", (4, 5, 6), lambda kl: kl.GlobalAveragePooling2D(
        data_format="channels_first")),
    _case("gap3d", "GlobalAveragePooling3D", (3, 4, 5, 2), lambda kl: kl.GlobalAveragePooling3D()),
    _case("gmp1d", "GlobalMaxPooling1D", (6, 4), lambda kl: kl.GlobalMaxPooling1D()),
    _case("gmp2d", "GlobalMaxPooling2D", (5, 6, 4), lambda kl: kl.GlobalMaxPooling2D()),
    _case("gmp2d_channels_first_keepdims", "GlobalMaxPooling2D", (4, 5, 6), lambda kl: kl.GlobalMaxPooling2D(
        data_format="channels_first", keepdims=True)),
    _case("gmp3d_keepdims", "GlobalMaxPooling3D", (3, 4, 5, 2), lambda kl: kl.GlobalMaxPooling3D(keepdims=True)),
    KerasCase("conv_pool_gap", "MaxPooling2D", lambda k: functional(
        k, (8, 8, 3), k.layers.Conv2D(4, 3, padding="same"), k.layers.MaxPooling2D(),
        k.layers.Conv2D(4, 3, padding="same"), k.layers.GlobalAveragePooling2D())),
]

CASES += [
    _case("adaptive_avg1d_uneven", "AdaptiveAveragePooling1D", (7, 3), lambda kl: kl.AdaptiveAveragePooling1D(3)),
    _case("adaptive_avg2d_even", "AdaptiveAveragePooling2D", (8, 6, 3), lambda kl: kl.AdaptiveAveragePooling2D(
        (4, 2))),
    _case("adaptive_avg2d_uneven", "AdaptiveAveragePooling2D", (7, 5, 3), lambda kl: kl.AdaptiveAveragePooling2D(
        (3, 2))),
    _case("adaptive_avg2d_channels_first", "AdaptiveAveragePooling2D", (3, 7, 5),
          lambda kl: kl.AdaptiveAveragePooling2D((3, 4), data_format="channels_first")),
    _case("adaptive_avg3d", "AdaptiveAveragePooling3D", (4, 5, 3, 2), lambda kl: kl.AdaptiveAveragePooling3D(
        (2, 3, 3))),
    _case("adaptive_max1d", "AdaptiveMaxPooling1D", (7, 3), lambda kl: kl.AdaptiveMaxPooling1D(4)),
    _case("adaptive_max2d_uneven", "AdaptiveMaxPooling2D", (7, 5, 3), lambda kl: kl.AdaptiveMaxPooling2D((3, 2))),
    _case("adaptive_max2d_even", "AdaptiveMaxPooling2D", (6, 6, 3), lambda kl: kl.AdaptiveMaxPooling2D(3)),
    _case("adaptive_max3d_channels_first", "AdaptiveMaxPooling3D", (2, 5, 4, 3), lambda kl: kl.AdaptiveMaxPooling3D(
        (2, 2, 3), data_format="channels_first")),
]
