"""The backend pipeline over the emitted tfjs graph: the only place its pass order is written."""

from __future__ import annotations

from collections.abc import Callable

from backends.tfjs_graph.graph import TfGraph
from backends.tfjs_graph.passes.cleanup import cleanup
from backends.tfjs_graph.passes.fuse import fuse
from backends.tfjs_graph.passes.layout import channels_last
from backends.tfjs_graph.passes.linear import sink_reshapes
from backends.tfjs_graph.passes.pad import fold_pads
from pivot.errors import ConversionError, PassError

GraphPass = Callable[[TfGraph], None]


def default_pipeline() -> Callable[[TfGraph], None]:
    """Layout (channels-last, transpose cancellation), zero pads into convs, fusion, dead-node removal."""
    passes: list[GraphPass] = [channels_last, fold_pads, sink_reshapes, cleanup, fuse, TfGraph.remove_unused]

    def run(graph: TfGraph) -> None:
        for graph_pass in passes:
            try:
                graph_pass(graph)
            except ConversionError:
                raise
            except Exception as e:
                raise PassError(graph_pass.__name__, e) from e

    return run
