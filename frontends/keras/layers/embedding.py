"""Keras embedding layers (Embedding, ReversibleEmbedding) lowered to ONNX Gather / MatMul."""

from __future__ import annotations

import numpy as np
import onnx_ir as ir

from frontends.keras.lower import LowerCtx
from frontends.keras.model import layer_dtype
from frontends.keras.registry import KERAS

_INDEX_TYPES = (ir.DataType.INT32, ir.DataType.INT64)


def _table(ctx: LowerCtx) -> np.ndarray:
    """The [input_dim, output_dim] table; quantized tables (int8/int4 policies) are refused."""
    policy = layer_dtype(ctx.layer)
    if policy.startswith(("int4", "int8", "float8", "gptq")):
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': quantized embeddings ({policy}) are not supported",
                       "convert the float model; tfjs-pivot can quantize the weights it writes")
    # LoRA factors, when enabled, are merged into 'embeddings' by Keras when it saves the layer.
    return np.asarray(ctx.layer.weight(0, ndim=2), np.float32)


def _lookup(ctx: LowerCtx, ids: ir.Value) -> ir.Value:
    """Rows of the table for ``ids``; float ids are truncated to int32 as Keras casts them.

    ``mask_zero`` only makes a mask for downstream layers; the embedding values themselves do not change, so it is
    ignored here (a mask consumer sees unmasked inputs).
    """
    if ids.dtype not in _INDEX_TYPES:
        ids = ctx.op("Cast", ids, to=ir.DataType.INT32, name="to_int")
    return ctx.op("Gather", ctx.const(_table(ctx), "embeddings"), ids, axis=0)


@KERAS.rule("Embedding", produces={"Gather", "Cast"})
def embedding(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Embedding(input_dim, output_dim, mask_zero): a row lookup by integer id."""
    return [_lookup(ctx, inputs[0])]


@KERAS.rule("ReversibleEmbedding", produces={"Gather", "Cast", "MatMul", "Mul", "Div", "Tanh"})
def reversible_embedding(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """ReversibleEmbedding(input_dim, output_dim, tie_weights, logit_soft_cap); call(x, reverse) projects to logits."""
    if not ctx.kwargs.get("reverse", False):
        return [_lookup(ctx, inputs[0])]
    table = _table(ctx)
    kernel = table.T if ctx.cfg("tie_weights", True) else np.asarray(ctx.layer.weight(1), np.float32)
    logits = ctx.op("MatMul", inputs[0], ctx.const(np.ascontiguousarray(kernel), "reverse_kernel"))
    cap = ctx.cfg("logit_soft_cap")
    if cap is not None:
        capped = ctx.op("Tanh", ctx.op("Div", logits, ctx.const(float(cap), "soft_cap")))
        logits = ctx.op("Mul", capped, ctx.const(float(cap), "soft_cap_scale"), name="soft_cap")
    return [logits]
