"""Keras normalization cases: batch (any axis, folded into convs), layer, group, unit and RMS normalization."""

from __future__ import annotations

from typing import Any

from tests.keras_cases import KerasCase, functional


def _case(cid: str, key: str, shape: tuple[int | None, ...], *make: Any, **kw: Any) -> KerasCase:
    return KerasCase(cid, key, lambda k: functional(k, shape, *(m(k.layers) for m in make)), **kw)


CASES = [
    _case("bn_after_conv", "BatchNormalization", (6, 6, 3), lambda kl: kl.Conv2D(4, 3, padding="same"),
          lambda kl: kl.BatchNormalization(), lambda kl: kl.ReLU()),
    _case("bn_after_conv_channels_first", "BatchNormalization", (3, 6, 6),
          lambda kl: kl.Conv2D(4, 3, data_format="channels_first"), lambda kl: kl.BatchNormalization(axis=1)),
    _case("bn_dense", "BatchNormalization", (7,), lambda kl: kl.Dense(5), lambda kl: kl.BatchNormalization(
        epsilon=0.01)),
    _case("bn_rank3_last", "BatchNormalization", (4, 5), lambda kl: kl.BatchNormalization()),
    _case("bn_axis_middle", "BatchNormalization", (4, 5, 3), lambda kl: kl.BatchNormalization(axis=2)),
    _case("bn_no_center_no_scale", "BatchNormalization", (4, 4, 3), lambda kl: kl.BatchNormalization(
        center=False, scale=False)),
    _case("bn_no_scale", "BatchNormalization", (4, 4, 3), lambda kl: kl.BatchNormalization(scale=False)),
    _case("bn_conv1d", "BatchNormalization", (8, 3), lambda kl: kl.Conv1D(4, 3), lambda kl: kl.BatchNormalization()),
    _case("ln_last", "LayerNormalization", (4, 6), lambda kl: kl.LayerNormalization()),
    _case("ln_trailing_axes", "LayerNormalization", (3, 4, 5), lambda kl: kl.LayerNormalization(axis=[-2, -1],
                                                                                               epsilon=1e-5)),
    _case("ln_axes_1_3", "LayerNormalization", (3, 4, 5), lambda kl: kl.LayerNormalization(axis=[1, 3])),
    _case("ln_no_center_no_scale", "LayerNormalization", (4, 6), lambda kl: kl.LayerNormalization(
        center=False, scale=False)),
    _case("ln_no_center", "LayerNormalization", (4, 6), lambda kl: kl.LayerNormalization(center=False)),
    _case("ln_rms_scaling", "LayerNormalization", (4, 6), lambda kl: kl.LayerNormalization(rms_scaling=True)),
    _case("gn_groups2", "GroupNormalization", (4, 5, 6), lambda kl: kl.GroupNormalization(groups=2)),
    _case("gn_instance", "GroupNormalization", (4, 5, 3), lambda kl: kl.GroupNormalization(groups=-1,
                                                                                          epsilon=1e-5)),
    _case("gn_rank3_no_center", "GroupNormalization", (7, 4), lambda kl: kl.GroupNormalization(groups=2,
                                                                                              center=False)),
    _case("gn_channels_first", "GroupNormalization", (6, 4, 5), lambda kl: kl.GroupNormalization(groups=3, axis=1)),
    _case("gn_rank2", "GroupNormalization", (6,), lambda kl: kl.GroupNormalization(groups=3, scale=False)),
    _case("unit_norm", "UnitNormalization", (6,), lambda kl: kl.UnitNormalization()),
    _case("unit_norm_axes", "UnitNormalization", (3, 4, 2), lambda kl: kl.UnitNormalization(axis=[1, 2])),
    _case("rms_norm", "RMSNormalization", (4, 6), lambda kl: kl.RMSNormalization()),
]
