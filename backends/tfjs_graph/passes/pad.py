"""Folds a zero Pad into the channels-last convolution that reads it (EXPLICIT padding)."""

from __future__ import annotations

import numpy as np

from backends.tfjs_graph.graph import Attr, TfGraph, TfNode

# Ops whose executor reads ``explicit_paddings`` when padding is EXPLICIT (tfjs-format.md §3.3).
_EXPLICIT_OPS = frozenset({"Conv2D", "DepthwiseConv2dNative"})


def fold_pads(graph: TfGraph) -> None:
    """``Conv2D(PadV2(x, p, 0))`` becomes ``Conv2D(x, padding=EXPLICIT, explicit_paddings=p + own pads)``.

    Keras ``ZeroPadding2D`` before a ``valid`` conv (MobileNet, ResNet stems) is the usual source.
    Handles: Pad / PadV2 with constant 4x2 non-negative paddings on H and W only, a zero (or absent)
    pad value, a single reader that is an NHWC Conv2D or DepthwiseConv2dNative with VALID or EXPLICIT
    padding. Leaves alone: SAME convs, pads on batch or channels, reflect/symmetric pads, shared pads.
    """
    users = graph.consumers()
    nodes = graph.node_map()
    outputs = {e.tensor for e in graph.outputs}
    folded: set[str] = set()
    for conv in graph.nodes:
        pad = nodes.get(conv.inputs[0]) if conv.op in _EXPLICIT_OPS and conv.inputs else None
        if pad is None or pad.name in outputs or len(users.get(pad.name, [])) != 1:
            continue
        paddings = _foldable(graph, pad, conv)
        if paddings is None:
            continue
        own = list(conv.attrs["explicit_paddings"].value) if "explicit_paddings" in conv.attrs else []  # type: ignore[call-overload]
        total = paddings + (np.asarray(own, np.int64).reshape(4, 2) if own else 0)
        conv.inputs[0] = pad.inputs[0]
        conv.attrs["padding"] = Attr.s("EXPLICIT")
        conv.attrs["explicit_paddings"] = Attr.ints(int(v) for v in total.reshape(-1))
        folded.add(pad.name)
    if folded:
        graph.nodes = [n for n in graph.nodes if n.name not in folded]
        graph.remove_unused()


def _foldable(graph: TfGraph, pad: TfNode, conv: TfNode) -> np.ndarray | None:
    """The pad's 4x2 paddings when the pair can be folded, else None."""
    if pad.op not in ("Pad", "PadV2") or len(pad.inputs) < 2:
        return None
    if _text(conv, "data_format", "NHWC") != "NHWC" or _text(conv, "padding", "VALID") not in ("VALID", "EXPLICIT"):
        return None
    paddings = graph.const_value(pad.inputs[1])
    value = graph.const_value(pad.inputs[2]) if len(pad.inputs) > 2 else np.zeros(())
    if paddings is None or paddings.shape != (4, 2) or value is None or value.size != 1 or float(value) != 0.0:
        return None
    paddings = paddings.astype(np.int64)
    if paddings.min() < 0 or paddings[0].any() or paddings[3].any():
        return None
    return paddings


def _text(node: TfNode, key: str, default: str) -> str:
    attr = node.attrs.get(key)
    return str(attr.value) if attr is not None else default
