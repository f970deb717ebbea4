"""Keras convolution layers (plain, transposed, depthwise, separable; 1-D to 3-D) lowered to ONNX Conv."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx_ir as ir

from frontends.keras.activations import ACTIVATION_OPS, apply_activation
from frontends.keras.lower import LowerCtx, shape_of
from frontends.keras.registry import KERAS

CONV_OPS = frozenset({"Conv", "Transpose", *ACTIVATION_OPS})


# -- config helpers shared by the spatial families (pooling, reshaping, preprocessing) --------
def spatial(ctx: LowerCtx, key: str, n: int, default: int | Sequence[int] | None = None) -> list[int]:
    """A per-spatial-dim int setting: an int, or a list of ``n`` ints (Keras and tfjs write both)."""
    value = ctx.cfg(key, default)
    if value is None:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': {key} is missing")
    values = [int(value)] * n if isinstance(value, (int, float)) else [int(v) for v in value]
    if len(values) == 1 and n > 1:
        values *= n
    if len(values) != n:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': {key}={value} has {len(values)} values for "
                       f"{n} spatial dims")
    return values


def is_channels_first(ctx: LowerCtx) -> bool:
    """Whether ``data_format`` is channels_first (absent or null means channels_last, the Keras default)."""
    fmt = ctx.cfg("data_format", "channels_last")
    if fmt not in ("channels_last", "channels_first"):
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': data_format '{fmt}' is not a Keras value")
    return fmt == "channels_first"


def padding_mode(ctx: LowerCtx, allowed: Sequence[str] = ("valid", "same")) -> str:
    """The ``padding`` setting, lower-cased, checked against ``allowed``."""
    mode = str(ctx.cfg("padding", "valid")).lower()
    if mode not in allowed:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}' ({ctx.layer.class_name}): padding '{mode}' is not "
                       f"supported (only {', '.join(allowed)})")
    return mode


# -- layout: Keras is channels-last, ONNX Conv/pool are channels-first -------------------------
def transpose(ctx: LowerCtx, x: ir.Value, perm: Sequence[int], name: str) -> ir.Value:
    """``Transpose(x, perm)``; cancels against a Transpose that produced ``x`` instead of stacking a pair.

    Cancelling here (not only in the tfjs layout pass) keeps Conv directly followed by BatchNormalization in the
    pivot, so that the pivot's batch-norm folding sees them adjacent.
    """
    perm = [int(p) for p in perm]
    if perm == list(range(len(perm))):
        return x
    node = x.producer()
    if node is not None and node.op_type == "Transpose" and node.domain in ("", "ai.onnx"):
        attr = node.attributes.get("perm")
        before = list(attr.as_ints()) if attr is not None else []
        if len(before) == len(perm) and all(before[p] == i for i, p in enumerate(perm)):
            source = node.inputs[0]
            assert source is not None
            return source
    return ctx.op("Transpose", x, perm=perm, name=name)


def to_channels_first(ctx: LowerCtx, x: ir.Value) -> ir.Value:
    """N...C -> NC...."""
    rank = len(shape_of(x))
    return transpose(ctx, x, [0, rank - 1, *range(1, rank - 1)], "to_channels_first")


def to_channels_last(ctx: LowerCtx, x: ir.Value) -> ir.Value:
    """NC... -> N...C."""
    rank = len(shape_of(x))
    return transpose(ctx, x, [0, *range(2, rank), 1], "to_channels_last")


# -- window geometry ---------------------------------------------------------------------------
def same_pads(sizes: Sequence[int], eff: Sequence[int], strides: Sequence[int]) -> list[int]:
    """TF 'same' padding as ONNX pads (all begins, then all ends): the odd pixel goes to the end."""
    begins, ends = [], []
    for n, k, s in zip(sizes, eff, strides, strict=True):
        total = max(0, (-(-n // s) - 1) * s + k - n)
        begins.append(total // 2)
        ends.append(total - total // 2)
    return begins + ends


def window_pads(x: ir.Value, mode: str, eff: Sequence[int], strides: Sequence[int]) -> dict[str, Any]:
    """ONNX pads attributes of a channels-first window op; ``auto_pad`` only when spatial dims are dynamic."""
    n = len(eff)
    if mode == "valid":
        return {"pads": [0] * (2 * n)}
    if mode == "causal":
        return {"pads": [k - 1 for k in eff] + [0] * n}
    sizes = shape_of(x)[2:]
    if any(d is None for d in sizes):
        return {"auto_pad": "SAME_UPPER"}
    return {"pads": same_pads([int(d) for d in sizes if d is not None], eff, strides)}


def _eff(kernel: Sequence[int], dilations: Sequence[int]) -> list[int]:
    return [(k - 1) * d + 1 for k, d in zip(kernel, dilations, strict=True)]


def _onnx_kernel(kernel: np.ndarray) -> np.ndarray:
    """Keras [*k, a, b] -> ONNX [b, a, *k] (Conv: a=in/groups, b=out; ConvTranspose: a=out, b=in)."""
    n = kernel.ndim - 2
    return np.ascontiguousarray(np.transpose(np.asarray(kernel, np.float32), (n + 1, n, *range(n))))


def _depthwise_kernel(kernel: np.ndarray) -> np.ndarray:
    """Keras depthwise [*k, C, m] -> ONNX grouped [C*m, 1, *k]; output channel c*m + j as in TF."""
    k = np.asarray(kernel, np.float32)
    flat = k.reshape(*k.shape[:-2], -1)
    return np.ascontiguousarray(np.moveaxis(flat, -1, 0)[:, None])


def conv(ctx: LowerCtx, x: ir.Value, w: np.ndarray, b: np.ndarray | None, mode: str, group: int = 1,
         name: str = "Conv") -> ir.Value:
    """One channels-first ONNX Conv with the layer's strides and dilations; ``w`` is in ONNX layout."""
    n = w.ndim - 2
    kernel = list(w.shape[2:])
    strides, dilations = spatial(ctx, "strides", n, 1), spatial(ctx, "dilation_rate", n, 1)
    pads = window_pads(x, mode, _eff(kernel, dilations), strides)
    bias = None if b is None else ctx.const(b, f"{name}/bias")
    return ctx.op("Conv", x, ctx.const(w, f"{name}/kernel"), bias, name=name, kernel_shape=kernel, strides=strides,
                  dilations=dilations, group=group, **pads)


def _finish(ctx: LowerCtx, y: ir.Value, first: bool) -> list[ir.Value]:
    """Activation (applied channels-first, so the transposes around stay adjacent) and layout back."""
    y = apply_activation(ctx, y, ctx.cfg("activation"))
    return [y if first else to_channels_last(ctx, y)]


def _bias(ctx: LowerCtx, i: int) -> np.ndarray | None:
    return np.asarray(ctx.layer.weight(i, ndim=1), np.float32) if ctx.cfg("use_bias", True) else None


# -- rules -------------------------------------------------------------------------------------
def lower_conv(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Conv{1,2,3}D(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation, use_bias)."""  # noqa: E501
    kernel = np.asarray(ctx.layer.weight(0))
    modes = ("valid", "same", "causal") if kernel.ndim == 3 else ("valid", "same")
    first = is_channels_first(ctx)
    x = inputs[0] if first else to_channels_first(ctx, inputs[0])
    channels = shape_of(x)[1]
    groups = int(ctx.cfg("groups", 1))
    if channels is not None and kernel.shape[-2] * groups != channels:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': kernel {kernel.shape} with groups={groups} does not "
                       f"match {channels} input channels")
    y = conv(ctx, x, _onnx_kernel(kernel), _bias(ctx, 1), padding_mode(ctx, modes), groups)
    return _finish(ctx, y, first)


def lower_depthwise_conv(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """DepthwiseConv{1,2}D(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation, use_bias)."""  # noqa: E501
    kernel = np.asarray(ctx.layer.weight(0))  # 'depthwise_kernel' (Keras 2, tfjs) or 'kernel' (Keras 3)
    modes = ("valid", "same", "causal") if kernel.ndim == 3 else ("valid", "same")
    first = is_channels_first(ctx)
    x = inputs[0] if first else to_channels_first(ctx, inputs[0])
    y = conv(ctx, x, _depthwise_kernel(kernel), _bias(ctx, 1), padding_mode(ctx, modes), kernel.shape[-2])
    return _finish(ctx, y, first)


def lower_separable_conv(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """SeparableConv{1,2}D(filters, kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation, use_bias)."""  # noqa: E501
    depthwise, pointwise = np.asarray(ctx.layer.weight(0)), np.asarray(ctx.layer.weight(1))
    modes = ("valid", "same", "causal") if depthwise.ndim == 3 else ("valid", "same")
    first = is_channels_first(ctx)
    x = inputs[0] if first else to_channels_first(ctx, inputs[0])
    x = conv(ctx, x, _depthwise_kernel(depthwise), None, padding_mode(ctx, modes), depthwise.shape[-2],
             name="depthwise")
    n = pointwise.ndim - 2
    w = _onnx_kernel(pointwise)
    bias = _bias(ctx, 2)
    y = ctx.op("Conv", x, ctx.const(w, "pointwise/kernel"), None if bias is None else ctx.const(bias, "pointwise/bias"),
               name="pointwise", kernel_shape=list(w.shape[2:]), strides=[1] * n, pads=[0] * (2 * n))
    return _finish(ctx, y, first)


def transpose_pads(mode: str, eff: int, stride: int, output_padding: int | None) -> tuple[int, int, int]:
    """(pad begin, pad end, output_padding) of ONNX ConvTranspose giving the Keras output window.

    Keras (all backends) computes the transposed conv as the full output ``(n - 1) * s + eff`` cropped by
    ``eff - 1 - left`` / ``eff - 1 - right`` with the paddings of its JAX formulation; a negative crop at the end
    is extra (zero-input) output, which ONNX expresses as output_padding.
    """
    if mode == "valid":
        extra = max(eff, stride) - eff if output_padding is None else output_padding
        left, right = eff - 1, eff - 1 + extra
    else:
        total = stride + eff - 2 if output_padding is None else eff + eff % 2 - 2 + output_padding
        left = min(total // 2 + total % 2, eff - 1)
        right = total - left
    begin, end = eff - 1 - left, eff - 1 - right
    return begin, max(end, 0), max(-end, 0)


def lower_conv_transpose(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Conv{1,2,3}DTranspose(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate, activation, use_bias)."""  # noqa: E501
    kernel = np.asarray(ctx.layer.weight(0))  # [*k, out, in]
    n = kernel.ndim - 2
    first = is_channels_first(ctx)
    x = inputs[0] if first else to_channels_first(ctx, inputs[0])
    strides, dilations = spatial(ctx, "strides", n, 1), spatial(ctx, "dilation_rate", n, 1)
    out_pad = None if ctx.cfg("output_padding") is None else spatial(ctx, "output_padding", n)
    mode = padding_mode(ctx)
    geometry = [transpose_pads(mode, e, s, None if out_pad is None else out_pad[i])
                for i, (e, s) in enumerate(zip(_eff(list(kernel.shape[:n]), dilations), strides, strict=True))]
    if any(op >= s for (_, _, op), s in zip(geometry, strides, strict=True)):
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': output_padding {out_pad} must be smaller than the "
                       f"strides {strides}")
    bias = _bias(ctx, 1)
    y = ctx.op("ConvTranspose", x, ctx.const(_onnx_kernel(kernel), "kernel"),
               None if bias is None else ctx.const(bias, "bias"), kernel_shape=list(kernel.shape[:n]),
               strides=strides, dilations=dilations, pads=[g[0] for g in geometry] + [g[1] for g in geometry],
               output_padding=[g[2] for g in geometry])
    return _finish(ctx, y, first)


for _n in (1, 2, 3):
    KERAS.rule(f"Conv{_n}D", produces=CONV_OPS)(lower_conv)
    KERAS.rule(f"Conv{_n}DTranspose", produces={"ConvTranspose", *CONV_OPS})(lower_conv_transpose)
for _n in (1, 2):
    KERAS.rule(f"DepthwiseConv{_n}D", produces=CONV_OPS)(lower_depthwise_conv)
    KERAS.rule(f"SeparableConv{_n}D", produces=CONV_OPS)(lower_separable_conv)
