"""The TensorFlow.js graph-model backend: emit, rewrite for tfjs, write model.json and shards."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import onnx_ir as ir

from backends.base import BackendOptions, WriteResult
from backends.tfjs_graph.emit import emit_graph
from backends.tfjs_graph.emitters import load_rules
from backends.tfjs_graph.graph import TfGraph
from backends.tfjs_graph.model_json import dumps, model_json
from backends.tfjs_graph.passes import default_pipeline
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
        return write_graph(build_graph(model), out_dir, options)


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
