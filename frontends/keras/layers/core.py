"""Core layers: inputs, Dense, activations as layers, and the layers that are identities at inference."""

from __future__ import annotations

import numpy as np
import onnx_ir as ir

from frontends.keras.activations import ACTIVATION_OPS, apply_activation
from frontends.keras.lower import LowerCtx
from frontends.keras.registry import KERAS

# Layers that only act in training; at inference they pass their input through.
IDENTITY_AT_INFERENCE = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
                         "GaussianDropout", "AlphaDropout", "ActivityRegularization", "StochasticDepth")


def _identity(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Training-only layer: the input, unchanged."""
    return [inputs[0]]


for _name in (*IDENTITY_AT_INFERENCE, "InputLayer"):
    KERAS.rule(_name, produces=())(_identity)


@KERAS.rule("Dense", produces={"MatMul", "Add", *ACTIVATION_OPS})
def dense(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Dense(units, activation, use_bias): x @ kernel + bias on the last axis."""
    y = ctx.op("MatMul", inputs[0], ctx.weight(0, "kernel", ndim=2))
    if ctx.cfg("use_bias", True):
        y = ctx.op("Add", y, ctx.weight(1, "bias", ndim=1), name="BiasAdd")
    return [apply_activation(ctx, y, ctx.cfg("activation"))]


@KERAS.rule("Activation", produces=ACTIVATION_OPS)
def activation(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Activation(activation)."""
    return [apply_activation(ctx, inputs[0], ctx.cfg("activation"))]


@KERAS.rule("ReLU", produces={"Relu", "Clip", "LeakyRelu", "Where", "Greater", "Mul", "Min", "Sub"})
def relu(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """ReLU(max_value, negative_slope, threshold)."""
    x = inputs[0]
    max_value, slope, threshold = ctx.cfg("max_value"), float(ctx.cfg("negative_slope", 0.0)), \
        float(ctx.cfg("threshold", 0.0))
    if threshold == 0.0 and slope == 0.0 and max_value is not None:
        # Clip(0, 6) is what the tfjs fusion recognizes as Relu6.
        return [ctx.op("Clip", x, ctx.const(0.0, "min"), ctx.const(float(max_value), "max_value"))]
    if threshold == 0.0:
        y = ctx.op("Relu", x) if slope == 0.0 else ctx.op("LeakyRelu", x, alpha=slope)
    else:
        # x up to the threshold becomes slope * (x - threshold) (0 at the threshold), as Keras computes it.
        low = ctx.op("Mul", ctx.op("Sub", x, ctx.const(threshold, "threshold")), ctx.const(slope, "slope"))
        y = ctx.op("Where", ctx.op("Greater", x, ctx.const(threshold, "t")), x, low)
    if max_value is not None:
        y = ctx.op("Min", y, ctx.const(float(max_value), "max_value"), name="max_value")
    return [y]


@KERAS.rule("LeakyReLU", produces={"LeakyRelu"})
def leaky_relu(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """LeakyReLU(negative_slope | alpha); Keras 2, Keras 3 and tfjs all default to 0.3."""
    slope = ctx.cfg("negative_slope", ctx.cfg("alpha", 0.3))
    return [ctx.op("LeakyRelu", inputs[0], alpha=float(slope))]


@KERAS.rule("ELU", produces={"Elu"})
def elu(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """ELU(alpha)."""
    return [ctx.op("Elu", inputs[0], alpha=float(ctx.cfg("alpha", 1.0)))]


@KERAS.rule("ThresholdedReLU", produces={"ThresholdedRelu"})
def thresholded_relu(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """ThresholdedReLU(theta) (Keras 2 / tfjs)."""
    return [ctx.op("ThresholdedRelu", inputs[0], alpha=float(ctx.cfg("theta", 1.0)))]


@KERAS.rule("Softmax", produces={"Softmax", "Transpose"})
def softmax(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Softmax(axis): an int or a list of axes (a list is flattened into one softmax when contiguous)."""
    axis = ctx.cfg("axis", -1)
    if isinstance(axis, list):
        if len(axis) != 1:
            raise ctx.fail("attribute", f"layer '{ctx.layer.name}': softmax over several axes {axis}")
        axis = axis[0]
    return [ctx.op("Softmax", inputs[0], axis=int(axis))]


@KERAS.rule("PReLU", produces={"PRelu"})
def prelu(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """PReLU(shared_axes): alpha has the input shape without batch, size 1 on shared axes."""
    alpha = np.asarray(ctx.layer.weight(0), np.float32)
    return [ctx.op("PRelu", inputs[0], ctx.const(alpha, "alpha"))]


@KERAS.rule("LayerScale", produces={"Mul"})
def layer_scale(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """LayerScale(init_values, projection_dim) of keras.applications.convnext: x * gamma."""
    return [ctx.op("Mul", inputs[0], ctx.weight(0, "gamma"))]
