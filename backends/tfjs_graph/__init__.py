"""The TensorFlow.js graph-model backend: emit, rewrite for tfjs, write model.json and shards."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import onnx_ir as ir

from backends.base import BackendOptions, WriteResult
from backends.tfjs_graph.emit import emit_graph
from backends.tfjs_graph.emitters import load_rules
from backends.tfjs_graph.graph import TfGraph
from backends.tfjs_graph.model_json import dumps, model_json
from backends.tfjs_graph.passes import default_pipeline
from backends.tfjs_graph.preflight import BackendGap, Preflight, preflight
from pivot.errors import BackendGapError, UnsupportedOpsError
from pivot.untrusted import loads_json
from pivot.version import CONVERTED_BY
from tfjs_format.summary import SizeTally
from tfjs_format.weights import encode, planned_nbytes, write_group

__all__ = ["GraphModelBackend", "build_graph", "write_graph"]


def build_graph(model: ir.Model) -> TfGraph:
    """Emit and optimize the tfjs graph for a pivot model (no files written)."""
    load_rules()
    graph = emit_graph(model)
    default_pipeline()(graph)
    return graph


class GraphModelBackend:
    """``tfjs_graph_model``: ``model.json`` + ``group1-shard{i}of{n}.bin``."""

    name = "tfjs_graph_model"
    description = "TensorFlow.js graph model (model.json + weight shards)"

    def write(self, model: ir.Model, out_dir: Path, options: BackendOptions) -> WriteResult:
        """Preflight (every blocked node, kernel gaps of the required backend), then write."""
        pre = preflight(model)
        if pre.blocked:
            raise UnsupportedOpsError(pre.blocked)
        assert pre.graph is not None
        required = options.require_backend
        if required is not None and not pre.gaps[required].runs:
            raise BackendGapError(_gap_message(pre, required))
        result = write_graph(pre.graph, out_dir, replace(options, metadata=user_metadata(model, options.metadata)))
        result.stats["warnings"] = [_gap_warning(gap) for gap in pre.gaps.values() if not gap.runs]
        if pre.needs_execute_async:
            result.stats["warnings"].append(f"load with model.executeAsync(): the graph has {', '.join(pre.async_ops)}")
        return result


# ir.Model metadata_props written by frontends -> userDefinedMetadata key (JSON values).
MODEL_METADATA = {"tfjs.structuredOutputKeys": "structuredOutputKeys"}


def user_metadata(model: ir.Model, metadata: dict[str, Any]) -> dict[str, Any]:
    """``--metadata`` entries plus what the source model asks for (the signature's structured output keys)."""
    found = {key: loads_json(model.metadata_props[prop], f"model metadata {prop!r}")
             for prop, key in MODEL_METADATA.items() if prop in model.metadata_props}
    return {**metadata, **found}


def _gap_message(pre: Preflight, backend: str) -> str:
    gap, others = pre.gaps[backend], [b for b, g in pre.gaps.items() if g.runs]
    return (f"the model needs kernel(s) {', '.join(gap.kernels)} that TensorFlow.js {backend} does not have "
            f"(tfjs ops {', '.join(gap.tfjs_ops)}; nodes {', '.join(gap.nodes[:5])}); choose another --backend "
            f"({', '.join(others) or 'none runs it'}) or convert anyway with --skip-op-check")


def _gap_warning(gap: BackendGap) -> str:
    return (f"TensorFlow.js {gap.backend} lacks kernel(s) {', '.join(gap.kernels)} for {', '.join(gap.tfjs_ops)} "
            f"({len(gap.nodes)} node(s), e.g. {gap.nodes[0]}): the model will fail there")


def write_graph(graph: TfGraph, out_dir: Path, options: BackendOptions) -> WriteResult:
    """Write ``model.json`` and the (optionally quantized) weight shards of an emitted graph into ``out_dir``."""
    spec = options.quantization
    names = [n.name for n in graph.nodes if n.op == "Const"]
    tally = SizeTally.planned(sum(planned_nbytes(spec, n, graph.consts[n].dtype.name, graph.consts[n].size)
                                  for n in names))
    weights = (encode(n, graph.consts[n], spec) for n in names)
    group = write_group(out_dir, weights, options.shard_bytes, tally=tally)
    if spec:
        tally.notes += [f"quantization pattern {p!r} matched no weight" for p in spec.unused_patterns(names)]
    doc = model_json(graph, [group], generated_by=options.generated_by, converted_by=CONVERTED_BY,
                     metadata=options.metadata or None)
    (out_dir / "model.json").write_text(dumps(doc))
    ops = Counter(n.op for n in graph.nodes if n.op not in ("Const", "Placeholder"))
    return WriteResult(("model.json", *group["paths"]),
                       {"ops": dict(sorted(ops.items())), "sizes": tally.summary()})
