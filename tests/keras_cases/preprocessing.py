"""Keras preprocessing cases: Rescaling, Normalization (config or adapted statistics, invert), Resizing, CenterCrop."""

from __future__ import annotations

from typing import Any

from tests.keras_cases import KerasCase, functional


def _case(cid: str, key: str, shape: tuple[int | None, ...], *make: Any, dtype: str = "float32",
          **kw: Any) -> KerasCase:
    return KerasCase(cid, key, lambda k: functional(k, shape, *(m(k.layers) for m in make), dtype=dtype), **kw)


CASES = [
    _case("rescaling", "Rescaling", (4, 4, 3), lambda kl: kl.Rescaling(1 / 127.5, offset=-1.0)),
    _case("rescaling_per_channel", "Rescaling", (4, 4, 3), lambda kl: kl.Rescaling([0.5, 2.0, -1.0],
                                                                                  offset=[0.1, 0.2, 0.3])),
    _case("rescaling_int_input", "Rescaling", (4, 3), lambda kl: kl.Rescaling(0.25, offset=0.5), dtype="int32"),
    _case("normalization_config", "Normalization", (5, 3), lambda kl: kl.Normalization(
        mean=[0.5, -1.0, 2.0], variance=[4.0, 0.25, 1.0])),
    _case("normalization_scalar", "Normalization", (5, 3), lambda kl: kl.Normalization(mean=1.5, variance=2.0)),
    _case("normalization_adapted", "Normalization", (4, 3), lambda kl: kl.Normalization()),
    _case("normalization_adapted_axes", "Normalization", (3, 4, 2), lambda kl: kl.Normalization(axis=(1, 2))),
    _case("normalization_invert", "Normalization", (5, 3), lambda kl: kl.Normalization(
        mean=[0.5, -1.0, 2.0], variance=[4.0, 0.25, 1.0], invert=True)),
    _case("normalization_no_axis", "Normalization", (5, 3), lambda kl: kl.Normalization(axis=None)),
    _case("resizing_bilinear_down", "Resizing", (8, 9, 3), lambda kl: kl.Resizing(5, 4)),
    _case("resizing_bilinear_up", "Resizing", (4, 5, 2), lambda kl: kl.Resizing(7, 11)),
    _case("resizing_nearest_down", "Resizing", (8, 9, 3), lambda kl: kl.Resizing(5, 4, interpolation="nearest")),
    _case("resizing_nearest_up", "Resizing", (4, 5, 2), lambda kl: kl.Resizing(7, 11, interpolation="nearest")),
    _case("resizing_crop_to_aspect", "Resizing", (8, 12, 3), lambda kl: kl.Resizing(5, 5, crop_to_aspect_ratio=True)),
    _case("resizing_pad_to_aspect", "Resizing", (8, 12, 3), lambda kl: kl.Resizing(
        6, 5, pad_to_aspect_ratio=True, fill_value=0.5)),
    _case("resizing_channels_first", "Resizing", (3, 6, 8), lambda kl: kl.Resizing(
        4, 5, data_format="channels_first")),
    _case("resizing_int_input", "Resizing", (6, 6, 3), lambda kl: kl.Resizing(9, 9, interpolation="nearest"),
          dtype="int32"),
    _case("center_crop", "CenterCrop", (8, 9, 3), lambda kl: kl.CenterCrop(5, 4)),
    _case("center_crop_channels_first", "CenterCrop", (3, 8, 9), lambda kl: kl.CenterCrop(
        6, 6, data_format="channels_first")),
    _case("center_crop_upsize", "CenterCrop", (5, 6, 2), lambda kl: kl.CenterCrop(7, 4)),
]

_AUGMENT = {"RandomFlip": (), "RandomRotation": (0.2,), "RandomTranslation": (0.2, 0.2), "RandomZoom": (0.2,),
            "RandomContrast": (0.2,), "RandomBrightness": (0.2,), "RandomCrop": (4, 4), "RandomGrayscale": (),
            "RandomHue": (0.2,), "RandomSaturation": (0.2,), "RandomSharpness": (0.2,), "RandomShear": (0.2,),
            "RandomPosterization": (4,), "RandomInvert": (), "RandomColorDegeneration": (0.2,),
            "RandomColorJitter": (), "RandomGaussianBlur": (), "RandomErasing": (), "RandomPerspective": (),
            "RandomElasticTransform": (), "AugMix": (), "CutMix": (), "MixUp": (), "RandAugment": (),
            "Solarization": ()}


# Keras 3 cannot write these to legacy .h5 ("cannot pickle 'module' object" from their config).
_KERAS_ONLY = {"RandomBrightness", "RandomSaturation", "RandomSharpness", "RandomPosterization",
               "RandomColorDegeneration", "Solarization"}


def _augment(name: str, args: tuple[Any, ...]) -> KerasCase:
    # Followed by a conv so the (inference identity) augmentation is not the model output.
    formats = ("keras",) if name in _KERAS_ONLY else ("keras", "h5")
    return _case(f"augment_{name}", name, (6, 6, 3), lambda kl: getattr(kl, name)(*args),
                 lambda kl: kl.Conv2D(2, 3), formats=formats)


CASES += [_augment(name, args) for name, args in _AUGMENT.items()]
