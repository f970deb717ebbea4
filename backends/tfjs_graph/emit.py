"""Walks the pivot ONNX graph in order and runs one emitter per node, collecting every failure."""

from __future__ import annotations

import onnx_ir as ir

from backends.tfjs_graph.graph import TfGraph
from backends.tfjs_graph.registry import TFJS, EmitCtx, static_shape, tf_dtype, to_tfjs_array
from pivot.errors import EmitError, Int64RangeError, Unsupported, UnsupportedOpsError

_FAILED = "__unconverted__"
# ONNX ops with subgraphs; without a rule they are reported as control flow, not as unknown ops.
CONTROL_FLOW = frozenset({"Loop", "If", "Scan", "SequenceMap"})


def default_opset(model: ir.Model) -> int:
    """The opset of the default ONNX domain."""
    return model.opset_imports.get("", model.opset_imports.get("ai.onnx", 1))


def emit_graph(model: ir.Model) -> TfGraph:
    """Emit a TfGraph for ``model``; raises ``UnsupportedOpsError`` listing every failing node."""
    graph, failures = emit_all(model)
    if failures:
        raise UnsupportedOpsError(failures)
    return graph


def emit_all(model: ir.Model) -> tuple[TfGraph, list[Unsupported]]:
    """Emit every node that can be emitted; returns the (partial) graph and every failure."""
    graph, failures, _ = emit_traced(model)
    return graph, failures


def emit_traced(model: ir.Model) -> tuple[TfGraph, list[Unsupported], dict[str, str]]:
    """``emit_all`` plus where each ONNX value went: ONNX value name -> tfjs tensor reference."""
    graph = TfGraph()
    env: dict[ir.Value, str] = {}
    failures: dict[tuple[str, str, str], list[str]] = {}
    hints: dict[tuple[str, str, str], str] = {}
    for inp in model.graph.inputs:
        if inp.is_initializer():
            continue
        try:
            env[inp] = graph.placeholder(inp.name or "input", tf_dtype(inp.dtype), static_shape(inp))
        except EmitError as e:
            failures.setdefault(("(graph input)", e.reason, e.detail), []).append(inp.name or "?")
    opset = default_opset(model)
    for node in model.graph:
        _emit_node(graph, node, env, opset, failures, hints)
    for out in model.graph.outputs:
        if out not in env and out.const_value is not None:  # a folded (constant) model output
            try:
                env[out] = graph.const(to_tfjs_array(out.const_value.numpy(), out.name or "output"),
                                       name=f"{out.name or 'output'}/value")
            except (EmitError, Int64RangeError) as e:
                key = ("Constant", "dtype", f"model output {out.name} is constant: {e}")
                failures.setdefault(key, []).append(out.name or "output")
                hints[key] = "TensorFlow.js holds float32, int32 and bool only; change the source model"
        ref = env.get(out, _FAILED)
        if ref != _FAILED:
            graph.output(out.name or "output", ref, tf_dtype(out.dtype), static_shape(out))
    graph.remove_unused()
    sources = {v.name: ref for v, ref in env.items() if v.name and ref != _FAILED}
    return graph, [Unsupported(op, reason, tuple(nodes), detail, hints.get((op, reason, detail), ""))  # type: ignore[arg-type]
                   for (op, reason, detail), nodes in failures.items()], sources


def _emit_node(graph: TfGraph, node: ir.Node, env: dict[ir.Value, str], opset: int,
               failures: dict[tuple[str, str, str], list[str]], hints: dict[tuple[str, str, str], str]) -> None:
    op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
    rule = TFJS.lookup(op, opset) if node.domain in ("", "ai.onnx") else None
    ctx = EmitCtx(graph, node, env, opset)
    upstream_failed = any(v is not None and env.get(v) == _FAILED for v in node.inputs)
    try:
        if rule is None and op in CONTROL_FLOW:
            raise EmitError("control_flow", f"ONNX control flow ({op}) is not converted to TensorFlow.js",
                            "export the model with the loop unrolled or the branch resolved")
        if rule is None:
            raise EmitError("no_rule", f"no TensorFlow.js rule for {op} (opset {opset})",
                            "replace the op in the source model or open an issue with a sample model")
        if not upstream_failed:  # else the upstream failure is already reported
            rule.fn(ctx)
    except EmitError as e:
        key = (op, e.reason, e.detail)
        failures.setdefault(key, []).append(ctx.name)
        hints[key] = e.hint
    except Int64RangeError as e:
        key = (op, "dtype", str(e))
        failures.setdefault(key, []).append(ctx.name)
        hints[key] = "the constant must fit into int32: TensorFlow.js has no int64"
    for out in node.outputs:
        env.setdefault(out, _FAILED)
