"""ONNX Scan -> tfjs StatelessWhile: a Loop whose trip count is the scan axis length (reuses loop.py's machinery).

Each iteration gathers one slice of every scan input along its axis (from the back for reverse directions) and
pushes every scan output onto a TensorList, stacked after the loop (reversed / moved to its axis as asked).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx_ir as ir

from backends.tfjs_graph.emitters.common import invalid, normalize_axis
from backends.tfjs_graph.emitters.loop import _NP, SubgraphBody
from backends.tfjs_graph.emitters.while_loop import FunctionOps, LoopVar, Ops, while_loop
from backends.tfjs_graph.graph import Attr
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail, static_shape, tf_dtype

_I32 = "DT_INT32"


def _ints_attr(ctx: EmitCtx, name: str, n: int, default: int) -> list[int]:
    values = [int(v) for v in ctx.attr(name, [default] * n)]
    if len(values) != n:
        raise invalid(ctx, f"{name} has {len(values)} entries for {n} tensors")
    return values


def _directions(ctx: EmitCtx, name: str, n: int) -> list[int]:
    values = _ints_attr(ctx, name, n, 0)
    if any(v not in (0, 1) for v in values):
        raise invalid(ctx, f"{name} {values} must hold 0 (forward) or 1 (reverse)")
    return values


def _known_rank(value: ir.Value, what: str) -> list[int]:
    shape = static_shape(value)
    if shape is None:
        raise fail("dynamic_shape", f"Scan {what} {value.name} needs a known rank",
                   "run shape inference on the model or give the scan body static ranks")
    return [-1 if d is None else d for d in shape]


def _trip_count(ctx: EmitCtx, ops: Ops, *, index: int, axis: int) -> str:
    """The length of scan input ``index`` along ``axis``: a constant when static, else read at run time."""
    dim = (ctx.shape(index) or [None] * (axis + 1))[axis]
    if isinstance(dim, int):
        return ops.ints(dim)
    full = ops("Shape", ctx.input(index), t=None, out_type=Attr.dtype(_I32))
    return ops("StridedSlice", full, ops.ints([axis]), ops.ints([axis + 1]), ops.ints([1]), t=_I32,
               shrink_axis_mask=Attr.i(1), begin_mask=Attr.i(0), end_mask=Attr.i(0), ellipsis_mask=Attr.i(0),
               new_axis_mask=Attr.i(0))


@dataclass(frozen=True)
class _ScanSpec:
    """A validated Scan: ``n`` state variables, ``m`` scan inputs, and the axes / directions of each scan tensor."""

    body: ir.Graph
    n: int
    m: int
    in_axes: list[int]
    in_dirs: list[int]
    out_shapes: list[list[int]]  # one body iteration's slice of each scan output
    out_axes: list[int]
    out_dirs: list[int]
    out_dtypes: list[str]


def _parse_scan(ctx: EmitCtx) -> _ScanSpec:
    """Read and check the Scan attributes against the body and the node's arity."""
    body: ir.Graph = ctx.attr("body")
    m = int(ctx.attr("num_scan_inputs"))
    n = len(body.inputs) - m
    k_out = len(body.outputs) - n
    if m < 1 or n < 0 or k_out < 0 or len(ctx.node.inputs) != n + m or len(ctx.node.outputs) != n + k_out:
        raise invalid(ctx, f"num_scan_inputs {m} does not fit a body of {len(body.inputs)} inputs and "
                           f"{len(body.outputs)} outputs on a node of {len(ctx.node.inputs)} inputs")
    in_ranks = [len(_known_rank(ctx.node.inputs[n + j], "input")) for j in range(m)]  # type: ignore[arg-type]
    in_axes = [normalize_axis(a, r) for a, r in zip(_ints_attr(ctx, "scan_input_axes", m, 0), in_ranks, strict=True)]
    in_dirs = _directions(ctx, "scan_input_directions", m)
    out_shapes = [_known_rank(v, "output") for v in body.outputs[n:]]
    out_axes = [normalize_axis(a, len(s) + 1)
                for a, s in zip(_ints_attr(ctx, "scan_output_axes", k_out, 0), out_shapes, strict=True)]
    out_dirs = _directions(ctx, "scan_output_directions", k_out)
    out_dtypes = [tf_dtype(v.dtype) for v in body.outputs[n:]]
    return _ScanSpec(body=body, n=n, m=m, in_axes=in_axes, in_dirs=in_dirs, out_shapes=out_shapes,
                     out_axes=out_axes, out_dirs=out_dirs, out_dtypes=out_dtypes)


def _initial_vars(ctx: EmitCtx, ops: Ops, spec: _ScanSpec) -> list[LoopVar]:
    """Loop variables: iteration, trip count, states, one TensorList per scan output, its last pushed element."""
    return [LoopVar(ops.ints(0), _I32), LoopVar(_trip_count(ctx, ops, index=spec.n, axis=spec.in_axes[0]), _I32),
            *(LoopVar(ctx.input(k), tf_dtype(ctx.dtype(k))) for k in range(spec.n)),
            *(LoopVar(ops("EmptyTensorList", ops.ints(shape), ops.ints(-1), t=None, element_dtype=Attr.dtype(dt),
                          shape_type=Attr.dtype(_I32)), "DT_VARIANT")
              for shape, dt in zip(spec.out_shapes, spec.out_dtypes, strict=True)),
            # As in Loop: each pushed element is also carried out of the body, which keeps it alive in tfjs.
            *(LoopVar(ops.const(np.zeros((), _NP[dt])), dt) for dt in spec.out_dtypes)]


def _bind_scan_inputs(ctx: EmitCtx, f: FunctionOps, a: list[str], spec: _ScanSpec, emitter: SubgraphBody) -> None:
    """Bind the body's scan inputs to this iteration's slices (counted from the back for reverse directions)."""
    last = None
    for j in range(spec.m):
        value = ctx.node.inputs[spec.n + j]
        assert value is not None
        source = f.capture(ctx.input(spec.n + j), tf_dtype(value.dtype))
        if spec.in_dirs[j]:
            last = last or f("Sub", a[1], f.ints(1), t=_I32)
            index = f("Sub", last, a[0], t=_I32)
        else:
            index = a[0]
        element = f("GatherV2", source, index, f.ints(spec.in_axes[j]), t=None, batch_dims=Attr.i(0))
        emitter.sub.unique(element)  # reserve: no body node may take this name
        emitter.env[spec.body.inputs[spec.n + j]] = element
        shape = static_shape(spec.body.inputs[spec.n + j])
        if shape is not None:
            emitter.sub.shapes[element] = shape


def _scan_step(ctx: EmitCtx, f: FunctionOps, a: list[str], spec: _ScanSpec, emitter: SubgraphBody) -> list[str]:
    """One iteration: bind states and slices, emit the body, push its scan outputs, advance the counter."""
    n = spec.n
    for k in range(n):
        emitter.env[spec.body.inputs[k]] = a[2 + k]
    _bind_scan_inputs(ctx, f, a, spec, emitter)
    emitter.capture(f, a)
    out = emitter.emit(f)
    pushed = [f("TensorListPushBack", a[2 + n + j], out[n + j], t=None, element_dtype=Attr.dtype(dt))
              for j, dt in enumerate(spec.out_dtypes)]
    return [f("AddV2", a[0], f.ints(1), t=_I32), a[1], *out[:n], *pushed, *out[n:]]


def _scan_output(ops: Ops, tensor_list: str, shape: list[int], dt: str, reverse: int, axis: int) -> str:
    """Stack one scan output's TensorList, reversed and with the scan axis moved to ``axis`` as asked."""
    stacked = ops("TensorListStack", tensor_list, ops.ints(shape), t=None, element_dtype=Attr.dtype(dt),
                  num_elements=Attr.i(-1))
    if reverse:
        stacked = ops("ReverseV2", stacked, ops.ints([0]), t=dt, Tidx=Attr.dtype(_I32))
    if axis:
        perm = [*range(1, axis + 1), 0, *range(axis + 1, len(shape) + 1)]
        stacked = ops("Transpose", stacked, ops.ints(perm), t=dt, Tperm=Attr.dtype(_I32))
    return stacked


@TFJS.rule("Scan", since=9, produces={"StatelessWhile", "Less", "AddV2", "Sub", "GatherV2", "EmptyTensorList",
                                      "TensorListPushBack", "TensorListStack", "ReverseV2", "Transpose", "Shape",
                                      "StridedSlice"},
           limits=("state variables and scan values are tensors", "scan inputs and outputs need a known rank",
                   "a scan over a zero-length axis fails in tfjs when the Scan has scan outputs "
                   "(it cannot stack an empty list)",
                   "needs executeAsync / predictAsync"))
def _emit_scan(ctx: EmitCtx) -> None:
    """Scan(states..., scan_inputs...; body) -> final states..., scan_outputs..."""
    spec = _parse_scan(ctx)
    ops = Ops(ctx)
    loop_vars = _initial_vars(ctx, ops, spec)
    emitter = SubgraphBody(ctx, spec.body, "Scan body")

    def step(f: FunctionOps, a: list[str]) -> list[str]:
        return _scan_step(ctx, f, a, spec, emitter)

    def more(f: FunctionOps, a: list[str]) -> str:
        return f("Less", a[0], a[1], t=_I32)

    final = while_loop(ops, loop_vars, more, step, "scan")
    for k in range(spec.n):
        ctx.set_output(k, final[2 + k])
    for j, (shape, dt) in enumerate(zip(spec.out_shapes, spec.out_dtypes, strict=True)):
        stacked = _scan_output(ops, final[2 + spec.n + j], shape, dt, reverse=spec.out_dirs[j], axis=spec.out_axes[j])
        ctx.set_output(spec.n + j, stacked)
