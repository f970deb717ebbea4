"""Shape inference and the checker from onnx's C++ API, run on a light proto (no weight data)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from functools import partial

import onnx
import onnx_ir as ir
from onnx import version_converter

from pivot import ir as pir
from pivot.errors import InputError

# Nodes tried one by one to name the one that crashes onnx (a crash is rare; this bounds its cost).
_MAX_BISECT = 5000
# A probe taking longer than this is killed and ignored (inference of huge graphs is slow, not dangerous).
_PROBE_SECONDS = 300
# Memory the forked probe may use (address space); past it onnx raises bad_alloc there, not here.
_PROBE_BYTES = 4 << 30


class InferShapesPass(ir.passes.InPlacePass):
    """Runs onnx shape inference (with data propagation) and merges shapes and types back.

    Handles: models with external or huge weights (never serialized); shapes that inference
    refines. A model onnx cannot infer raises, since every later pass relies on shapes.
    """

    def call(self, model: ir.Model) -> ir.passes.PassResult:
        inferred = pir.call_light(model, _infer)
        known = {v.name: v for v in inferred.graph.value_info}
        known.update({v.name: v for v in inferred.graph.output})
        modified = False
        for node in model.graph:
            for value in node.outputs:
                info = known.get(value.name)
                if info is None or not info.type.HasField("tensor_type"):
                    continue
                modified |= _merge(value, info.type.tensor_type)
        return ir.passes.PassResult(model, modified)


# Data propagation copies the values of small 1-D tensors through Concat, Gather, ...: a chain of
# Concat(x, x) doubles them at each step, so a 2 kB file would make onnx allocate terabytes.
_MAX_PROPAGATED = 1 << 16


def _infer(proto: onnx.ModelProto) -> onnx.ModelProto:
    """Shape inference, with data propagation only when no tensor it could carry is over ``_MAX_PROPAGATED``."""
    try:
        plain = onnx.shape_inference.infer_shapes(proto)
        if _longest_vector(plain) > _MAX_PROPAGATED:
            return plain
        return onnx.shape_inference.infer_shapes(proto, data_prop=True)
    except (onnx.shape_inference.InferenceError, RuntimeError, ValueError) as e:
        raise InputError(f"shape inference failed: {pir.first_line(e)}") from None


def _longest_vector(model: onnx.ModelProto) -> int:
    """Most elements of any static rank-0/1 value (the only ones data propagation carries)."""
    longest = 0
    values = [*model.graph.value_info, *model.graph.output, *model.graph.input]
    for t in model.graph.initializer:
        if len(t.dims) <= 1:
            longest = max(longest, t.dims[0] if t.dims else 1)
    for v in values:
        shape = v.type.tensor_type.shape
        if v.type.HasField("tensor_type") and len(shape.dim) == 1 and shape.dim[0].HasField("dim_value"):
            longest = max(longest, shape.dim[0].dim_value)
    return longest


def _merge(value: ir.Value, tensor_type: onnx.TypeProto.Tensor) -> bool:
    changed = False
    if tensor_type.elem_type and value.dtype is None:
        value.dtype = ir.DataType(tensor_type.elem_type)
        changed = True
    if tensor_type.HasField("shape"):
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tensor_type.shape.dim]
        shape = ir.Shape(dims)
        if value.shape is None or (shape != value.shape and _more_static(shape, value.shape)):
            value.shape = shape
            changed = True
    return changed


def _more_static(new: ir.Shape, old: ir.Shape) -> bool:
    def count(s: ir.Shape) -> int:
        return sum(isinstance(d, int) for d in s)

    return len(new) == len(old) and count(new) > count(old)


class CheckModelPass(ir.passes.InPlacePass):
    """Runs the onnx checker on the light proto; raises on an invalid pivot model."""

    def call(self, model: ir.Model) -> ir.passes.PassResult:
        try:
            pir.call_light(model, onnx.checker.check_model)
        except onnx.checker.ValidationError as e:
            raise InputError(f"the model is not valid ONNX: {_checker_message(e)}") from None
        return ir.passes.PassResult(model, False)


def _checker_message(e: Exception) -> str:
    """The checker's first line, with the node it names (its "==> Context" line) when there is one."""
    context = next((line.split("Context:", 1)[1].strip() for line in str(e).splitlines() if "Context:" in line), "")
    context = context.replace("Bad node spec for node. ", "")
    return f"{pir.first_line(e)} ({context[:160]})" if context else pir.first_line(e)


def probe_native(model: ir.Model, target_opset: int) -> None:
    """Run onnx's C++ opset converter and shape inference on ``model`` in a forked child first.

    onnx's C++ code trusts the model: a node with more outputs than its attributes say (Split) or a missing
    input trips an assertion or reads out of bounds, which kills the process without a message. A child that
    dies on a signal makes this an ``InputError``; a child that merely raises leaves the error to the real run.
    Linux only (fork is cheap and safe there); elsewhere nothing is probed.
    """
    if not sys.platform.startswith("linux"):
        return
    opset = model.opset_imports.get("", model.opset_imports.get("ai.onnx"))

    def native(proto: onnx.ModelProto) -> None:
        if opset is not None and opset != target_opset:
            proto = version_converter.convert_version(proto, target_opset)
        _infer(proto)

    signal = _in_child(lambda: pir.call_light(model, native))
    if signal:
        culprit = next((n for n in list(model.graph)[:_MAX_BISECT] if _in_child(partial(_infer_alone, n, opset))),
                       None)
        where = "a node" if culprit is None else \
            f"node '{culprit.name or culprit.outputs[0].name}' ({culprit.op_type})"
        raise InputError(f"{where} crashes onnx's shape inference (signal {signal}): its inputs, outputs or "
                         "attributes do not fit its operator")


def _in_child(work: Callable[[], object]) -> int:
    """Run ``work`` in a forked child; the signal that killed it, or 0 (a Python error in it is not a crash)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        _child(work)
    deadline = time.monotonic() + _PROBE_SECONDS
    try:
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                pid = 0
                return os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
            time.sleep(0.005)
        return 0  # a hung probe proves nothing: the real run goes ahead
    finally:
        if pid:  # timed out, or interrupted (Ctrl-C): the child must not outlive the probe
            os.kill(pid, 9)
            os.waitpid(pid, 0)


def _child(work: Callable[[], object]) -> None:  # pragma: no cover - runs in the forked child
    code = 0
    try:
        import resource
        import warnings

        resource.setrlimit(resource.RLIMIT_AS, (_PROBE_BYTES, _PROBE_BYTES))
        # Silent, and never touching a stream lock another thread of the parent may have held at the fork.
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - the child exits right after
        warnings.simplefilter("ignore")
        work()
    except BaseException:  # any Python-level failure is for the real run to report
        code = 1
    os._exit(code)


def _infer_alone(node: ir.Node, opset: int | None) -> None:
    """Shape inference of one node, its inputs typed as in the model (small constants with their values)."""
    proto = ir.serde.serialize_node(node)
    inputs: dict[str, onnx.ValueInfoProto] = {}
    inits: dict[str, onnx.TensorProto] = {}
    for v in node.inputs:
        if v is None or not v.name:
            continue
        if v.const_value is not None and v.const_value.nbytes <= 1024:
            inits[v.name] = ir.serde.serialize_tensor(v.const_value)
            inits[v.name].name = v.name
        else:
            inputs[v.name] = ir.serde.serialize_value(v)
    graph = onnx.helper.make_graph([proto], "probe", list(inputs.values()),
                                   [onnx.helper.make_empty_tensor_value_info(o) for o in proto.output if o],
                                   list(inits.values()))
    onnx.shape_inference.infer_shapes(onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", opset or 1)]))
