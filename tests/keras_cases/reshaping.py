"""Keras reshaping cases: flatten, reshape, permute, repeat, zero padding, cropping and up-sampling."""

from __future__ import annotations

from typing import Any

from tests.keras_cases import KerasCase, functional


def _case(cid: str, key: str, shape: tuple[int | None, ...], *make: Any, **kw: Any) -> KerasCase:
    return KerasCase(cid, key, lambda k: functional(k, shape, *(m(k.layers) for m in make)), **kw)


CASES = [
    _case("flatten", "Flatten", (3, 4, 2), lambda kl: kl.Flatten(), lambda kl: kl.Dense(3)),
    _case("flatten_channels_first", "Flatten", (2, 3, 4), lambda kl: kl.Flatten(data_format="channels_first")),
    _case("flatten_after_conv", "Flatten", (5, 5, 2), lambda kl: kl.Conv2D(3, 3), lambda kl: kl.Flatten()),
    _case("reshape", "Reshape", (12,), lambda kl: kl.Reshape((3, 4))),
    _case("reshape_infer_dim", "Reshape", (3, 4, 2), lambda kl: kl.Reshape((-1, 4))),
    _case("reshape_dynamic_time", "Reshape", (None, 4), lambda kl: kl.Reshape((-1, 2, 2))),
    _case("permute", "Permute", (3, 4, 5), lambda kl: kl.Permute((3, 1, 2))),
    _case("permute_2d", "Permute", (3, 4), lambda kl: kl.Permute((2, 1))),
    _case("repeat_vector", "RepeatVector", (5,), lambda kl: kl.RepeatVector(3)),
    _case("zero_padding1d", "ZeroPadding1D", (5, 3), lambda kl: kl.ZeroPadding1D((1, 2))),
    _case("zero_padding2d", "ZeroPadding2D", (4, 5, 2), lambda kl: kl.ZeroPadding2D(((1, 0), (2, 3)))),
    _case("zero_padding2d_int_channels_first", "ZeroPadding2D", (2, 4, 5), lambda kl: kl.ZeroPadding2D(
        2, data_format="channels_first")),
    _case("zero_padding3d", "ZeroPadding3D", (3, 4, 3, 2), lambda kl: kl.ZeroPadding3D((1, 2, 0))),
    _case("cropping1d", "Cropping1D", (7, 3), lambda kl: kl.Cropping1D((2, 1))),
    _case("cropping2d", "Cropping2D", (7, 8, 2), lambda kl: kl.Cropping2D(((1, 2), (0, 3)))),
    _case("cropping2d_channels_first", "Cropping2D", (2, 7, 8), lambda kl: kl.Cropping2D(
        1, data_format="channels_first")),
    _case("cropping2d_dynamic", "Cropping2D", (None, None, 2), lambda kl: kl.Cropping2D(((1, 0), (1, 2)))),
    _case("cropping3d", "Cropping3D", (5, 6, 5, 2), lambda kl: kl.Cropping3D(((1, 1), (2, 0), (0, 1)))),
    _case("upsampling1d", "UpSampling1D", (4, 3), lambda kl: kl.UpSampling1D(3)),
    _case("upsampling2d_nearest", "UpSampling2D", (3, 4, 2), lambda kl: kl.UpSampling2D((2, 3))),
    _case("upsampling2d_bilinear", "UpSampling2D", (3, 4, 2), lambda kl: kl.UpSampling2D(
        2, interpolation="bilinear")),
    _case("upsampling2d_channels_first", "UpSampling2D", (2, 3, 4), lambda kl: kl.UpSampling2D(
        (3, 2), interpolation="bilinear", data_format="channels_first")),
    _case("upsampling2d_after_conv", "UpSampling2D", (4, 4, 2), lambda kl: kl.Conv2D(3, 3, padding="same"),
          lambda kl: kl.UpSampling2D(), lambda kl: kl.Conv2D(2, 3, padding="same")),
    _case("upsampling3d", "UpSampling3D", (2, 3, 2, 2), lambda kl: kl.UpSampling3D((2, 1, 3))),
    _case("upsampling3d_channels_first", "UpSampling3D", (2, 2, 3, 2), lambda kl: kl.UpSampling3D(
        2, data_format="channels_first")),
]
