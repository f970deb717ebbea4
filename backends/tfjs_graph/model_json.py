"""Encodes a TfGraph as the graph-model ``model.json`` (GraphDef as proto3 JSON)."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np

from backends.tfjs_graph.graph import Attr, Shape, SignatureEntry, TfFunction, TfGraph, TfNode

JsonDict = dict[str, Any]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _float(v: float) -> float | str:
    # proto3 JSON writes non-finite floats as strings; finite ones in shortest float32 form.
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return float(str(np.float32(v)))


def encode_shape(shape: Shape | None) -> JsonDict:
    """TensorShapeProto JSON: unknown rank, scalar ``{}``, or dims with string sizes."""
    if shape is None:
        return {"unknownRank": True}
    if not shape:
        return {}
    return {"dim": [{"size": str(-1 if d is None else int(d))} for d in shape]}


def encode_attr(attr: Attr) -> JsonDict:
    """AttrValue JSON; empty lists are ``{"list": {}}`` because the JS mapper needs the key."""
    kind, v = attr.kind, attr.value
    if kind == "s":
        return {"s": _b64(str(v))}
    if kind == "i":
        return {"i": str(v)}
    if kind == "f":
        return {"f": _float(float(v))}  # type: ignore[arg-type]
    if kind == "b":
        return {"b": bool(v)}
    if kind == "type":
        return {"type": v}
    if kind == "shape":
        return {"shape": encode_shape(v)}  # type: ignore[arg-type]
    if kind == "func":
        return {"func": {"name": v}}
    items = list(v)  # type: ignore[call-overload]
    if not items:
        return {"list": {}}
    if kind == "list_i":
        return {"list": {"i": [str(x) for x in items]}}
    if kind == "list_s":
        return {"list": {"s": [_b64(x) for x in items]}}
    if kind == "list_f":
        return {"list": {"f": [_float(x) for x in items]}}
    return {"list": {"type": items}}


def encode_node(node: TfNode, graph: TfGraph) -> JsonDict:
    """NodeDef JSON; a Const carries only dtype and shape (its data lives in the weights)."""
    out: JsonDict = {"name": node.name, "op": node.op}
    if node.inputs:
        out["input"] = list(node.inputs)
    attrs = {k: encode_attr(a) for k, a in sorted(node.attrs.items())}
    if node.op == "Const":
        arr = graph.consts[node.name]
        dtype = node.attrs["dtype"].value
        attrs["value"] = {"tensor": {"dtype": dtype, "tensorShape": encode_shape(tuple(arr.shape))}}
    out["attr"] = dict(sorted(attrs.items()))
    return out


def encode_function(fn: TfFunction, graph: TfGraph) -> JsonDict:
    """FunctionDef JSON (tfjs ``mapFunction`` reads signature, nodeDef and ret)."""
    return {
        "signature": {"name": fn.name,
                      "inputArg": [{"name": n, "type": t} for n, t in fn.inputs],
                      "outputArg": [{"name": n, "type": t} for n, t in fn.outputs]},
        "nodeDef": [encode_node(n, graph) for n in fn.nodes],
        "ret": dict(fn.ret),
    }


def encode_library(graph: TfGraph) -> JsonDict:
    """FunctionDefLibrary JSON: ``{}`` when the graph has no functions, as the official converter writes it."""
    if not graph.functions:
        return {}
    return {"function": [encode_function(f, graph) for f in graph.functions]}


def _tensor_info(entry: SignatureEntry, with_shape: bool) -> JsonDict:
    info: JsonDict = {"name": f"{entry.tensor}:0", "dtype": entry.dtype}
    if with_shape:
        info["tensorShape"] = encode_shape(entry.shape)
    return info


def encode_signature(graph: TfGraph) -> JsonDict:
    """SignatureDef JSON with keys in model order (JS takes positional order from key order)."""
    return {
        "inputs": {e.key: _tensor_info(e, True) for e in graph.inputs},
        "outputs": {e.key: _tensor_info(e, e.shape is not None) for e in graph.outputs},
    }


def model_json(graph: TfGraph, manifest: list[JsonDict], *, generated_by: str, converted_by: str,
               metadata: JsonDict | None = None) -> JsonDict:
    """The whole ``model.json`` object, keys in the order the official converter writes them."""
    doc: JsonDict = {
        "format": "graph-model",
        "generatedBy": generated_by,
        "convertedBy": converted_by,
        "signature": encode_signature(graph),
        "modelTopology": {
            "node": [encode_node(n, graph) for n in graph.nodes],
            "library": encode_library(graph),
            "versions": {"producer": 1},
        },
    }
    if metadata:
        doc["userDefinedMetadata"] = metadata
    doc["weightsManifest"] = manifest
    return doc


def dumps(doc: JsonDict) -> str:
    """Deterministic serialization: no whitespace variance, ASCII only."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
