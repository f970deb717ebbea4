"""Keras numeric and image preprocessing layers (Rescaling, Normalization, Resizing, CenterCrop) lowered to ONNX."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx_ir as ir

from frontends.keras.layers.conv import is_channels_first, to_channels_first, to_channels_last
from frontends.keras.layers.reshaping import resize
from frontends.keras.lower import LowerCtx, shape_of
from frontends.keras.registry import KERAS

# Keras's backend epsilon, the floor of Normalization's standard deviation.
_EPSILON = 1e-7
_IMAGE_OPS = frozenset({"Transpose", "Slice", "Pad", "Resize", "Cast"})


def _as_float(ctx: LowerCtx, x: ir.Value) -> ir.Value:
    """Preprocessing layers compute in float32; integer images are cast first, as Keras does."""
    if x.dtype in (None, ir.DataType.FLOAT):
        return x
    return ctx.op("Cast", x, to=ir.DataType.FLOAT, name="to_float")


def _array(value: Any) -> np.ndarray:
    """A config number or array: a scalar, a (nested) list, or a Keras 3 serialized numpy array."""
    if isinstance(value, dict):
        value = value.get("config", {}).get("value", value.get("value"))
    return np.asarray(value, np.float32)


@KERAS.rule("Rescaling", produces={"Mul", "Add", "Cast"})
def rescaling(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Rescaling(scale, offset): x * scale + offset; scale and offset broadcast against the input."""
    x = _as_float(ctx, inputs[0])
    scale, offset = _array(ctx.cfg("scale", 1.0)), _array(ctx.cfg("offset", 0.0))
    if not np.all(scale == 1.0):
        x = ctx.op("Mul", x, ctx.const(scale, "scale"))
    if np.any(offset != 0.0):
        x = ctx.op("Add", x, ctx.const(offset, "offset"))
    return [x]


def _keep_axes(ctx: LowerCtx, rank: int) -> list[int]:
    value = ctx.cfg("axis", [])
    values = [value] if isinstance(value, int) else list(value)
    if any(not -rank <= int(a) < rank for a in values):
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': axis {value} out of range for rank {rank}")
    return sorted({int(a) % rank for a in values})


def _statistics(ctx: LowerCtx, shape: list[int | None]) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance shaped to broadcast: from the config when given there, else the adapted weights."""
    keep = _keep_axes(ctx, len(shape))
    target = [int(shape[a] or 1) if a in keep else 1 for a in range(len(shape))]
    if ctx.cfg("mean") is not None and ctx.cfg("variance") is not None:
        stats = [_array(ctx.cfg("mean")), _array(ctx.cfg("variance"))]
    else:
        stats = [np.asarray(ctx.layer.weight(0), np.float32), np.asarray(ctx.layer.weight(1), np.float32)]
    out = []
    for s in stats:
        if s.ndim:
            # Mean dims map onto the kept axes from the right (Keras's broadcasting of given statistics).
            expanded = [1] * len(shape)
            for i in range(1, s.ndim + 1):
                expanded[keep[-i]] = s.shape[-i]
            s = np.broadcast_to(s.reshape(expanded), target)
        out.append(s)
    return out[0], out[1]


@KERAS.rule("Normalization", produces={"Sub", "Div", "Mul", "Add", "Cast"})
def normalization(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Normalization(axis, mean, variance, invert): (x - mean) / max(sqrt(variance), epsilon), or its inverse."""
    x = _as_float(ctx, inputs[0])
    mean, var = _statistics(ctx, shape_of(x))
    std = np.maximum(np.sqrt(var), np.float32(_EPSILON))
    if ctx.cfg("invert", False):
        return [ctx.op("Add", ctx.op("Mul", x, ctx.const(std, "std")), ctx.const(mean, "mean"))]
    return [ctx.op("Div", ctx.op("Sub", x, ctx.const(mean, "mean")), ctx.const(std, "std"))]


def _static_hw(ctx: LowerCtx, x: ir.Value) -> tuple[int, int]:
    """Height and width of a channels-first image batch; they must be static."""
    dims = shape_of(x)
    if len(dims) != 4 or dims[2] is None or dims[3] is None:
        raise ctx.fail("dynamic_shape", f"layer '{ctx.layer.name}' ({ctx.layer.class_name}) needs a batch of images "
                       "with static height and width", "give the model input static image dims")
    return int(dims[2]), int(dims[3])


def _crop(ctx: LowerCtx, x: ir.Value, top: int, left: int, height: int, width: int) -> ir.Value:
    return ctx.op("Slice", x, ctx.ints([top, left], "crop_starts"), ctx.ints([top + height, left + width], "crop_ends"),
                  ctx.ints([2, 3], "crop_axes"), name="crop")


def _crop_to_aspect(ctx: LowerCtx, x: ir.Value, target: tuple[int, int]) -> ir.Value:
    """The centered window with the target aspect ratio (keras smart_resize / crop_to_aspect_ratio)."""
    (h, w), (th, tw) = _static_hw(ctx, x), target
    ch = max(min(h, int(float(w * th) / tw)), 1)
    cw = max(min(w, int(float(h * tw) / th)), 1)
    if (ch, cw) == (h, w):
        return x
    return _crop(ctx, x, int(float(h - ch) / 2), int(float(w - cw) / 2), ch, cw)


def _pad_to_aspect(ctx: LowerCtx, x: ir.Value, target: tuple[int, int], fill: float) -> ir.Value:
    """Equal bands of ``fill`` on both sides up to the target aspect ratio (pad_to_aspect_ratio)."""
    (h, w), (th, tw) = _static_hw(ctx, x), target
    top = int(float(max(h, int(float(w * th) / tw)) - h) / 2)
    left = int(float(max(w, int(float(h * tw) / th)) - w) / 2)
    if top == left == 0:
        return x
    pads = ctx.ints([0, 0, top, left, 0, 0, top, left], "aspect_pads")
    return ctx.op("Pad", x, pads, ctx.const(fill, "fill_value"), mode="constant", name="pad_to_aspect")


@KERAS.rule("Resizing", produces=_IMAGE_OPS)
def resizing(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Resizing(height, width, interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio, fill_mode, fill_value, antialias, data_format)."""  # noqa: E501
    first = is_channels_first(ctx)
    x = _as_float(ctx, inputs[0])
    x = x if first else to_channels_first(ctx, x)
    target = (int(ctx.cfg("height")), int(ctx.cfg("width")))
    if ctx.cfg("crop_to_aspect_ratio", False):
        x = _crop_to_aspect(ctx, x, target)
    elif ctx.cfg("pad_to_aspect_ratio", False):
        if ctx.cfg("fill_mode", "constant") != "constant":
            raise ctx.fail("attribute", f"layer '{ctx.layer.name}': fill_mode '{ctx.cfg('fill_mode')}' is not "
                           "supported (constant only)")
        x = _pad_to_aspect(ctx, x, target, float(ctx.cfg("fill_value", 0.0)))
    if ctx.cfg("antialias", False) and any(t < s for t, s in zip(target, _static_hw(ctx, x), strict=True)):
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': antialiased down-scaling is not supported",
                       "TensorFlow.js resize kernels have no antialias filter; use antialias=False")
    y = resize(ctx, x, list(target), str(ctx.cfg("interpolation", "bilinear")).lower())
    return [y if first else to_channels_last(ctx, y)]


@KERAS.rule("CenterCrop", produces=_IMAGE_OPS)
def center_crop(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """CenterCrop(height, width, data_format); an image smaller than the target is resized as smart_resize does."""
    first = is_channels_first(ctx)
    x = _as_float(ctx, inputs[0])
    x = x if first else to_channels_first(ctx, x)
    (h, w), (th, tw) = _static_hw(ctx, x), (int(ctx.cfg("height")), int(ctx.cfg("width")))
    fits = h >= th and w >= tw
    y = _crop(ctx, x, (h - th) // 2, (w - tw) // 2, th, tw) if fits else _smart_resize(ctx, x, (th, tw))
    return [y if first else to_channels_last(ctx, y)]


def _smart_resize(ctx: LowerCtx, x: ir.Value, target: tuple[int, int]) -> ir.Value:
    """keras smart_resize of a channels-first batch: the centered crop with the target aspect, resized bilinearly."""
    return resize(ctx, _crop_to_aspect(ctx, x, target), list(target), "bilinear")


# Data augmentation: random in training, the identity at inference (Keras 2 and 3).
AUGMENTATION = ("RandomFlip", "RandomRotation", "RandomTranslation", "RandomZoom", "RandomContrast",
                "RandomBrightness", "RandomGrayscale", "RandomHue", "RandomSaturation", "RandomSharpness",
                "RandomShear", "RandomPosterization", "RandomInvert", "RandomColorDegeneration", "RandomColorJitter",
                "RandomGaussianBlur", "RandomErasing", "RandomPerspective", "RandomElasticTransform", "AugMix",
                "CutMix", "MixUp", "RandAugment", "Solarization", "RandomHeight", "RandomWidth")


def augmentation(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Random augmentation layer (RandomFlip(mode), RandomRotation(factor), ...): the identity at inference."""
    return [_as_float(ctx, inputs[0])]


for _name in AUGMENTATION:
    KERAS.rule(_name, produces={"Cast"})(augmentation)


@KERAS.rule("RandomCrop", produces=_IMAGE_OPS)
def random_crop(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """RandomCrop(height, width, data_format): Keras 3 passes images through at inference, tf.keras smart-resizes."""
    if ctx.keras_major >= 3:
        return [_as_float(ctx, inputs[0])]
    first = is_channels_first(ctx)
    x = _as_float(ctx, inputs[0])
    x = x if first else to_channels_first(ctx, x)
    y = _smart_resize(ctx, x, (int(ctx.cfg("height")), int(ctx.cfg("width"))))
    return [y if first else to_channels_last(ctx, y)]
