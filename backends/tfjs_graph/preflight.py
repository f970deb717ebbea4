"""Preflight of a pivot model for TensorFlow.js: what blocks emission, and what each tfjs backend lacks."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import onnx_ir as ir

from backends.tfjs_graph.emit import emit_all
from backends.tfjs_graph.emitters import load_rules
from backends.tfjs_graph.graph import TfGraph, TfNode
from backends.tfjs_graph.passes import default_pipeline
from backends.tfjs_graph.support import TFJS_BACKENDS, kernel_needs
from backends.tfjs_graph.vocab import tfjs_ops
from pivot.errors import Unsupported

# tfjs op categories that make GraphModel.execute throw: only executeAsync runs them.
_ASYNC_CATEGORIES = ("control", "dynamic")


@dataclass(frozen=True)
class BackendGap:
    """What one tfjs backend lacks for this model: kernels, and the graph ops and nodes needing them."""

    backend: str
    kernels: tuple[str, ...]
    tfjs_ops: tuple[str, ...]
    nodes: tuple[str, ...]

    @property
    def runs(self) -> bool:
        return not self.kernels


@dataclass(frozen=True)
class Preflight:
    """The emission failures, per-backend gaps, and execution mode of a model."""

    blocked: tuple[Unsupported, ...]
    gaps: dict[str, BackendGap]
    async_ops: tuple[str, ...]
    tfjs_histogram: dict[str, int]
    unmeasured: tuple[str, ...]
    graph: TfGraph | None

    @property
    def needs_execute_async(self) -> bool:
        return bool(self.async_ops)

    def runs_on(self, backend: str) -> bool:
        """Whether the model converts and every kernel it needs exists on ``backend``."""
        return not self.blocked and self.gaps[backend].runs


def preflight(model: ir.Model) -> Preflight:
    """Emit ``model`` (collecting every failure), run the backend passes, check kernels per backend."""
    load_rules()
    graph, failures = emit_all(model)
    if not failures:
        default_pipeline()(graph)
    ops = Counter(n.op for n in _all_nodes(graph) if n.op not in ("Const", "Placeholder"))
    categories = tfjs_ops()
    async_ops = sorted(op for op in ops if categories.get(op, {}).get("category") in _ASYNC_CATEGORIES)
    gaps = {b: _gap(graph, b) for b in TFJS_BACKENDS}
    return Preflight(tuple(failures), gaps, tuple(async_ops), dict(sorted(ops.items())),
                     tuple(sorted(kernel_needs(ops).unmeasured)), None if failures else graph)


def _all_nodes(graph: TfGraph) -> list[TfNode]:
    """Main-graph nodes and the nodes of every library function (loop bodies run kernels too)."""
    return [*graph.nodes, *(n for f in graph.functions for n in f.nodes)]


def _gap(graph: TfGraph, backend: str) -> BackendGap:
    kernels: set[str] = set()
    ops: set[str] = set()
    nodes: list[str] = []
    for node in _all_nodes(graph):
        missing = kernel_needs([node.op]).missing(backend)
        if missing:
            kernels.update(missing)
            ops.add(node.op)
            nodes.append(node.name)
    return BackendGap(backend, tuple(sorted(kernels)), tuple(sorted(ops)), tuple(nodes))
