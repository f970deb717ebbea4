"""Keras wrappers: Bidirectional (one bidirectional ONNX recurrent op) and TimeDistributed (any inner layer)."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx_ir as ir

from frontends.keras.layers.recurrent import (
    ONNX_OP,
    RECURRENT_OPS,
    call_tensors,
    cells_of,
    check_layer,
    recurrent_op,
    time_major,
)
from frontends.keras.lower import LowerCtx, shape_of
from frontends.keras.model import KerasLayer
from frontends.keras.registry import KERAS, NOT_SUPPORTED, load_rules

_MERGE_OPS = frozenset({"Reshape", "ReduceSum", "ReduceMean", "Mul", "Split", "Squeeze", "Gather"})


def _inner(ctx: LowerCtx, key: str) -> tuple[str, dict[str, Any]]:
    spec = ctx.cfg(key) or {}
    return str(spec.get("class_name", "")), dict(spec.get("config") or {})


def _merge(ctx: LowerCtx, both: ir.Value, axis: int, units: int) -> list[ir.Value]:
    """Forward and backward results stacked on ``axis`` ([..., 2, H]) merged as ``merge_mode`` says."""
    mode = ctx.config.get("merge_mode", "concat")  # null means "no merge", not the default
    if mode == "concat":  # [..., 2, H] -> [..., 2H]: forward then backward features (0 keeps symbolic dims)
        return [ctx.op("Reshape", both, ctx.ints([0] * axis + [2 * units], "concat_shape"), name="concat")]
    if mode in ("sum", "ave"):
        op = "ReduceSum" if mode == "sum" else "ReduceMean"
        return [ctx.op(op, both, ctx.ints([axis], "merge_axis"), keepdims=0, name=mode)]
    fw, bw = (ctx.op("Squeeze", part, ctx.ints([axis], "dir_axis"), name=tag) for part, tag in zip(
        ctx.ops("Split", both, axis=axis, num_outputs=2, outputs=2), ("forward", "backward"), strict=True))
    if mode == "mul":
        return [ctx.op("Mul", fw, bw, name="mul")]
    if mode is None or mode == "none":
        return [fw, bw]
    raise ctx.fail("attribute", f"layer '{ctx.layer.name}': merge_mode '{mode}' is unknown")


@KERAS.rule("Bidirectional", produces=RECURRENT_OPS | _MERGE_OPS)
def bidirectional(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """Bidirectional(layer, merge_mode, backward_layer; initial_state): one ONNX op with direction=bidirectional."""
    positional, named = call_tensors(ctx, inputs)
    check_layer(ctx, named)
    (fw_cls, fw_cfg), (bw_cls, bw_cfg) = _inner(ctx, "layer"), _inner(ctx, "backward_layer")
    if fw_cls not in (*ONNX_OP, "RNN"):
        raise ctx.fail("no_rule", f"layer '{ctx.layer.name}': Bidirectional over {fw_cls or 'an unknown layer'}")
    if not bw_cls:
        bw_cls, bw_cfg = fw_cls, {**fw_cfg, "go_backwards": not fw_cfg.get("go_backwards", False)}
    if fw_cfg.get("go_backwards", False) or not bw_cfg.get("go_backwards", False) or fw_cfg.get("stateful"):
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': only a forward layer with a go_backwards copy "
                       "(the Bidirectional default) is converted")
    weights = ctx.layer.weights
    fw = cells_of(ctx, fw_cfg, fw_cls, weights, False)
    bw = cells_of(ctx, bw_cfg, bw_cls, weights[sum(len(c.weights) for c in fw):], True)
    if len(fw) != 1 or len(bw) != 1:
        raise ctx.fail("attribute", f"layer '{ctx.layer.name}': Bidirectional over stacked cells")
    initial = named.get("initial_state") or positional[1:]
    outs = recurrent_op(ctx, time_major(ctx, positional[0]), [fw[0], bw[0]], initial)
    units, n_states = fw[0].units, len(outs) - 1
    if fw_cfg.get("return_sequences", False):
        # Y [T, 2, B, H] -> [B, T, 2, H]: the backward sequence is already in time order, as Keras returns it.
        perm = [2, 0, 1, 3] if not ctx.cfg("time_major", False) else [0, 2, 1, 3]
        merged = _merge(ctx, ctx.op("Transpose", outs[0], perm=perm, name="steps"), 2, units)
    else:
        merged = _merge(ctx, ctx.op("Transpose", outs[1], perm=[1, 0, 2], name="last"), 1, units)
    if not fw_cfg.get("return_state", False):
        return merged
    states = [ctx.op("Squeeze", ctx.op("Gather", o, ctx.ints([d], f"dir{d}"), axis=0), ctx.ints([0], "axis0"))
              for d in range(2) for o in outs[1:1 + n_states]]
    return [*merged, *states]


def _inner_layer(ctx: LowerCtx) -> KerasLayer:
    cls, cfg = _inner(ctx, "layer")
    if cls in NOT_SUPPORTED or load_rules().lookup(cls, 1) is None:
        raise ctx.fail("no_rule", f"layer '{ctx.layer.name}': TimeDistributed over {cls or 'an unknown layer'}, "
                       f"which has no lowering", NOT_SUPPORTED.get(cls, ""))
    return KerasLayer(cls, str(cfg.get("name", cls.lower())), cfg, weights=list(ctx.layer.weights))


@KERAS.rule("TimeDistributed", produces={"Reshape", "Shape", "Slice", "Concat"})
def time_distributed(ctx: LowerCtx, inputs: list[ir.Value]) -> list[ir.Value]:
    """TimeDistributed(layer): the inner layer on [B * T, ...], reshaped back to [B, T, ...]."""
    x = inputs[0]
    shape = shape_of(x)
    if any(d is None for d in shape[2:]):
        raise ctx.fail("dynamic_shape", f"layer '{ctx.layer.name}': TimeDistributed needs static feature dims")
    flat = ctx.op("Reshape", x, ctx.ints([-1, *shape[2:]], "flat_shape"), name="flatten_time")  # type: ignore[list-item]
    inner = _inner_layer(ctx)
    rule = load_rules().lookup(inner.class_name, 1)
    assert rule is not None
    # The inner nodes are named "<wrapper>.<inner>/...": their ops are checked against the inner rule's own cases.
    sub = LowerCtx(ctx.b, inner, ctx.model, {}, f"{ctx.name}.{inner.name}")
    outs = []
    for y in rule.fn(sub, [flat]):
        out = shape_of(y)
        if shape[1] is not None and all(d is not None for d in out[1:]):
            target = ctx.ints([-1, shape[1], *out[1:]], "unflat_shape")  # type: ignore[list-item]
        else:  # a dynamic time axis: [B, T] of the input, then the inner output's feature dims
            lead = ctx.op("Slice", ctx.op("Shape", x), ctx.ints([0], "zero"), ctx.ints([2], "two"))
            tail = ctx.op("Slice", ctx.op("Shape", y), ctx.ints([1], "one"), ctx.ints([np.iinfo(np.int64).max],
                                                                                        "end"))
            target = ctx.op("Concat", lead, tail, axis=0)
        outs.append(ctx.op("Reshape", y, target, name="unflatten_time"))
    return outs
