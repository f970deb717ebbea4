"""How many bytes a node's outputs would take, predicted from its constant inputs before anything is evaluated."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import onnx
import onnx_ir as ir

from pivot.errors import InputError
from pivot.ir import label

Dims = list[int]
# Constant inputs up to this size go into the one-node model shape inference reads (their values decide
# shapes: Reshape targets, Slice bounds, Resize scales); bigger ones go in as typed inputs only.
_VALUE_BYTES = 4096
# Ops whose output shape depends on the data itself: shape inference cannot tell, the input bounds it.
_DATA_DEPENDENT = {"NonZero": 0, "Unique": 4, "Compress": 1}
# Item size assumed for an output whose type inference does not give (the widest real type).
_WIDEST = 16


def predict_bytes(node: ir.Node, opset: int) -> int | None:
    """Total bytes of ``node``'s outputs, or None when it cannot be predicted without evaluating the node.

    Ops whose output size comes from input *values* (ConstantOfShape, Range, Tile, Expand, Pad, OneHot,
    Resize, windows) are computed here in Python integers: onnx's inference overflows on absurd values
    (Range to 1e30 infers 0 elements). Every other op uses onnx shape inference on the node alone.
    """
    arrays = [None if v is None or v.const_value is None else v.const_value.numpy() for v in node.inputs]
    own = _FORMULAS.get(node.op_type)
    dims = own(node, arrays) if own is not None else None
    inferred = _infer(node, opset)
    if dims is None and inferred is None:
        return _data_dependent_bound(node, arrays)
    if dims is not None:
        size = _itemsize(node.outputs[0].dtype, inferred[0][1] if inferred else None)
        return math.prod(dims) * size
    assert inferred is not None
    if any(d is None for d, _ in inferred):
        return _data_dependent_bound(node, arrays)
    return sum(math.prod(d) * _itemsize(v.dtype, t) for (d, t), v in zip(inferred, node.outputs, strict=False)
               if d is not None)


def _itemsize(dtype: ir.DataType | None, inferred: int | None) -> int:
    for candidate in (dtype, ir.DataType(inferred) if inferred else None):
        if candidate is not None and candidate not in (ir.DataType.UNDEFINED, ir.DataType.STRING):
            return max(1, candidate.bitwidth // 8)
    return _WIDEST


def _data_dependent_bound(node: ir.Node, arrays: Sequence[np.ndarray | None]) -> int | None:
    factor = _DATA_DEPENDENT.get(node.op_type)
    if factor is None or arrays[0] is None:
        return None
    first = arrays[0]
    return (factor or max(first.ndim, 1)) * first.size * _WIDEST


def _infer(node: ir.Node, opset: int) -> list[tuple[Dims | None, int]] | None:
    """Static output dims and element types from onnx shape inference on the node alone; None if it fails."""
    proto = ir.serde.serialize_node(node)
    names = [f"i{k}" if v is not None else "" for k, v in enumerate(node.inputs)]
    outs = [f"o{k}" for k in range(len(node.outputs))]
    del proto.input[:], proto.output[:]
    proto.input.extend(names)
    proto.output.extend(outs)
    inits, inputs = [], []
    for name, v in zip(names, node.inputs, strict=True):
        if v is None or v.const_value is None:
            continue
        t = v.const_value
        if t.nbytes <= _VALUE_BYTES:
            tensor = ir.serde.serialize_tensor(t)
            tensor.name = name
            inits.append(tensor)
        else:
            inputs.append(onnx.helper.make_tensor_value_info(name, t.dtype.value, list(t.shape.numpy())))
    graph = onnx.helper.make_graph([proto], "predict", inputs, [onnx.helper.make_empty_tensor_value_info(o)
                                                                  for o in outs], inits)
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)], ir_version=10)
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except (onnx.shape_inference.InferenceError, onnx.checker.ValidationError, RuntimeError, ValueError, TypeError):
        return None
    found = {o.name: o.type.tensor_type for o in inferred.graph.output if o.type.HasField("tensor_type")}
    return [_static(found.get(o)) for o in outs]


def _static(t: onnx.TypeProto.Tensor | None) -> tuple[Dims | None, int]:
    if t is None or not t.HasField("shape"):
        return None, 0
    dims = [d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim]
    return (None if any(d < 0 for d in dims) else dims), t.elem_type


# -- value-driven shapes, computed in Python integers ------------------------------------------------------

def _ints(node: ir.Node, arr: np.ndarray | None, what: str) -> list[int] | None:
    if arr is None:
        return None
    if arr.dtype.kind not in "iu" or arr.ndim > 1:
        raise InputError(f"{label(node)}: {what} must be a 1-D integer tensor (is {arr.dtype} of shape "
                         f"{list(arr.shape)})")
    return [int(x) for x in arr.reshape(-1)]


def _scalar(node: ir.Node, arr: np.ndarray | None, what: str) -> float | int | None:
    if arr is None:
        return None
    if arr.size != 1:
        raise InputError(f"{label(node)}: {what} must hold one value (holds {arr.size})")
    value = arr.reshape(-1)[0]
    if arr.dtype.kind in "iub":
        return int(value)
    if not math.isfinite(float(value)):
        raise InputError(f"{label(node)}: {what} is {float(value)}")
    return float(value)


def _non_negative(node: ir.Node, dims: Dims, what: str) -> Dims:
    if any(d < 0 for d in dims):
        raise InputError(f"{label(node)}: {what} {_short(dims)} has a negative dimension")
    return dims


def _short(dims: Sequence[int | float]) -> str:
    text = str(list(dims))
    return text if len(text) < 80 else text[:76] + "...]"


def _in_dims(node: ir.Node, k: int) -> Dims | None:
    v = node.inputs[k] if k < len(node.inputs) else None
    if v is None or v.shape is None or not all(isinstance(d, int) for d in v.shape):
        return None
    return [int(d) for d in v.shape]  # type: ignore[arg-type]


def _constant_of_shape(node: ir.Node, a: Sequence[np.ndarray | None]) -> Dims | None:
    shape = _ints(node, a[0], "the shape input")
    return None if shape is None else _non_negative(node, shape, "shape")


def _range(node: ir.Node, a: Sequence[np.ndarray | None]) -> Dims | None:
    start, limit, delta = (_scalar(node, a[k] if k < len(a) else None, w) for k, w in
                           enumerate(("start", "limit", "delta")))
    if start is None or limit is None or delta is None:
        return None
    if delta == 0:
        raise InputError(f"{label(node)}: delta is 0")
    if all(isinstance(x, int) for x in (start, limit, delta)):
        count = -((start - limit) // delta)  # ceil((limit - start) / delta) in integers
    else:
        count = math.ceil((limit - start) / delta)
    return [max(int(count), 0)]


def _tile(node: ir.Node, a: Sequence[np.ndarray | None]) -> Dims | None:
    dims, repeats = _in_dims(node, 0), _ints(node, a[1] if len(a) > 1 else None, "repeats")
    if dims is None or repeats is None:
        return None
    if len(repeats) != len(dims):
        raise InputError(f"{label(node)}: {len(repeats)} repeats for an input of rank {len(dims)}")
    return [d * r for d, r in zip(dims, _non_negative(node, repeats, "repeats"), strict=True)]


def _expand(node: ir.Node, a: Sequence[np.ndarray | None]) -> Dims | None:
    dims, shape = _in_dims(node, 0), _ints(node, a[1] if len(a) > 1 else None, "the shape input")
    if dims is None or shape is None:
        return None
    return _broadcast(node, dims, _non_negative(node, shape, "shape"))


def _broadcast(node: ir.Node, x: Dims, y: Dims) -> Dims:
    rank = max(len(x), len(y))
    x, y = [1] * (rank - len(x)) + x, [1] * (rank - len(y)) + y
    if any(p != q and 1 not in (p, q) for p, q in zip(x, y, strict=True)):
        raise InputError(f"{label(node)}: shapes {_short(x)} and {_short(y)} do not broadcast")
    return [q if p == 1 else p for p, q in zip(x, y, strict=True)]


def _pad(node: ir.Node, a: Sequence[np.ndarray | None]) -> Dims | None:
    dims, pads = _in_dims(node, 0), _ints(node, a[1] if len(a) > 1 else None, "pads")
    if dims is None or pads is None:
        return None
    axes = _ints(node, a[3], "axes") if len(a) > 3 and a[3] is not None else list(range(len(dims)))
    assert axes is not None
    if len(pads) != 2 * len(axes) or any(not -len(dims) <= x < len(dims) for x in axes):
        raise InputError(f"{label(node)}: {len(pads)} pads for {len(axes)} axes of a rank-{len(dims)} input")
    out = list(dims)
    for k, axis in enumerate(axes):
        out[axis % len(dims)] += pads[k] + pads[k + len(axes)]
    return _non_negative(node, out, "the padded shape")


def _one_hot(node: ir.Node, a: Sequence[np.ndarray | None]) -> Dims | None:
    dims, depth = _in_dims(node, 0), _scalar(node, a[1] if len(a) > 1 else None, "depth")
    if dims is None or depth is None:
        return None
    if depth < 1:
        raise InputError(f"{label(node)}: depth {depth} is not positive")
    attr = node.attributes.get("axis")
    axis = attr.as_int() if attr is not None else -1
    if not -len(dims) - 1 <= axis <= len(dims):
        raise InputError(f"{label(node)}: axis {axis} is out of range for rank {len(dims) + 1}")
    axis = axis % (len(dims) + 1)
    return [*dims[:axis], int(depth), *dims[axis:]]


def _resize(node: ir.Node, a: Sequence[np.ndarray | None]) -> Dims | None:
    dims = _in_dims(node, 0)
    sizes = _ints(node, a[3], "sizes") if len(a) > 3 and a[3] is not None else None
    scales = a[2] if len(a) > 2 and a[2] is not None and a[2].size else None
    if dims is None or (sizes is None and scales is None):
        return None
    attr = node.attributes.get("axes")
    axes = [x % max(len(dims), 1) for x in attr.as_ints()] if attr is not None else list(range(len(dims)))
    wanted = sizes if sizes is not None else [float(s) for s in np.asarray(scales).reshape(-1)]
    if len(wanted) != len(axes) or not all(math.isfinite(w) and w >= 0 for w in wanted):
        raise InputError(f"{label(node)}: {'sizes' if sizes is not None else 'scales'} {_short(wanted)} do not fit "
                         f"an input of rank {len(dims)}")
    out = list(dims)
    if sizes is None:
        for axis, s in zip(axes, wanted, strict=True):
            out[axis] = math.floor(dims[axis] * s)
        return out
    ratio = max((w / dims[x] for x, w in zip(axes, wanted, strict=True) if dims[x]), default=1.0)
    for axis, s in zip(axes, wanted, strict=True):  # keep_aspect_ratio_policy may scale past sizes: bound it
        out[axis] = max(int(s), math.ceil(dims[axis] * ratio))
    return out


def _window(node: ir.Node, a: Sequence[np.ndarray | None]) -> Dims | None:
    size = _scalar(node, a[0], "size")
    return None if size is None else [max(int(size), 0)]


_FORMULAS: dict[str, Callable[[ir.Node, Sequence[np.ndarray | None]], Dims | None]] = {
    "ConstantOfShape": _constant_of_shape, "Range": _range, "Tile": _tile, "Expand": _expand, "Pad": _pad,
    "OneHot": _one_hot, "Resize": _resize, "HannWindow": _window, "HammingWindow": _window,
    "BlackmanWindow": _window,
}
