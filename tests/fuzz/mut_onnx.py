"""ONNX graph damage: bad attributes, dangling and cyclic edges, odd opsets, initializers that lie about their data."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
import onnx
from onnx import AttributeProto, TensorProto, helper, numpy_helper

from tests.fuzz.case import Case, Workspace

Edit = Callable[[onnx.ModelProto], None]


def _node(m: onnx.ModelProto, op: str, k: int = 0) -> onnx.NodeProto:
    return [n for n in m.graph.node if n.op_type == op][k]


def _init(m: onnx.ModelProto, name: str) -> onnx.TensorProto:
    return next(t for t in m.graph.initializer if t.name == name)


def set_attr(op: str, name: str, value: object, k: int = 0) -> Edit:
    def edit(m: onnx.ModelProto) -> None:
        node = _node(m, op, k)
        kept = [a for a in node.attribute if a.name != name]
        del node.attribute[:]
        node.attribute.extend([*kept, helper.make_attribute(name, value)])
    return edit


def float_ints(m: onnx.ModelProto) -> None:
    """kernel_shape stored as FLOATS where INTS are expected."""
    node = _node(m, "Conv")
    attr = helper.make_attribute("kernel_shape", [3.0, 3.0])
    assert attr.type == AttributeProto.FLOATS
    kept = [a for a in node.attribute if a.name != "kernel_shape"]
    del node.attribute[:]
    node.attribute.extend([*kept, attr])


def rename_input(op: str, index: int, new: str, k: int = 0) -> Edit:
    def edit(m: onnx.ModelProto) -> None:
        _node(m, op, k).input[index] = new
    return edit


def cycle(m: onnx.ModelProto) -> None:
    """The first BatchNormalization reads the output of the Relu that reads it."""
    _node(m, "BatchNormalization").input[0] = _node(m, "Relu").output[0]


def self_loop(m: onnx.ModelProto) -> None:
    relu = _node(m, "Relu")
    relu.input[0] = relu.output[0]


def drop_init(name: str) -> Edit:
    def edit(m: onnx.ModelProto) -> None:
        m.graph.initializer.remove(_init(m, name))
    return edit


def opset(version: int | None) -> Edit:
    def edit(m: onnx.ModelProto) -> None:
        del m.opset_import[:]
        if version is not None:
            m.opset_import.extend([helper.make_opsetid("", version)])
    return edit


def ir_version(version: int) -> Edit:
    def edit(m: onnx.ModelProto) -> None:
        m.ir_version = version
    return edit


def retype(op: str, new: str, domain: str = "") -> Edit:
    def edit(m: onnx.ModelProto) -> None:
        node = _node(m, op)
        node.op_type, node.domain = new, domain
    return edit


def duplicate_output(m: onnx.ModelProto) -> None:
    _node(m, "Relu", 1).output[0] = _node(m, "Relu", 0).output[0]


def missing_graph_output(m: onnx.ModelProto) -> None:
    m.graph.output[0].name = "never_computed"


def no_nodes(m: onnx.ModelProto) -> None:
    del m.graph.node[:]


def raw_length(name: str, delta: int) -> Edit:
    def edit(m: onnx.ModelProto) -> None:
        t = _init(m, name)
        t.raw_data = t.raw_data[:delta] if delta < 0 else t.raw_data + bytes(delta)
    return edit


def init_dtype(name: str, dtype: int) -> Edit:
    def edit(m: onnx.ModelProto) -> None:
        _init(m, name).data_type = dtype
    return edit


def init_dims(name: str, dims: list[int]) -> Edit:
    def edit(m: onnx.ModelProto) -> None:
        t = _init(m, name)
        del t.dims[:]
        t.dims.extend(dims)
    return edit


def both_data_fields(m: onnx.ModelProto) -> None:
    t = _init(m, "head.bias")
    t.float_data.extend([1.0, 2.0])


def set_init(name: str, values: object, dtype: type = np.int64) -> Edit:
    def edit(m: onnx.ModelProto) -> None:
        _init(m, name).CopyFrom(numpy_helper.from_array(np.array(values, dtype), name))
    return edit


def input_type(kind: str) -> Edit:
    def edit(m: onnx.ModelProto) -> None:
        value = m.graph.input[0]
        if kind == "none":
            value.ClearField("type")
        elif kind == "undefined":
            value.type.tensor_type.elem_type = TensorProto.UNDEFINED
        else:
            value.type.tensor_type.shape.dim[-1].dim_value = -5
    return edit


def empty_constant(m: onnx.ModelProto) -> None:
    m.graph.node.insert(0, helper.make_node("Constant", [], ["k"]))


def loop_forever(m: onnx.ModelProto) -> None:
    """A Loop with a constant trip count of 2^62 and a trivial body, feeding the graph output."""
    body = helper.make_graph([helper.make_node("Identity", ["cond_in"], ["cond_out"]),
                              helper.make_node("Add", ["v_in", "one"], ["v_out"])], "body",
                             [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                              helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
                              helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [1, 2, 2])],
                             [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
                              helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [1, 2, 2])],
                             [numpy_helper.from_array(np.array(1.0, np.float32), "one")])
    m.graph.initializer.extend([numpy_helper.from_array(np.array(1 << 62, np.int64), "trips"),
                                numpy_helper.from_array(np.array(True), "go")])
    out = m.graph.output[0].name
    last = m.graph.node[-1]
    last.output[0] = "pre_loop"
    m.graph.node.append(helper.make_node("Loop", ["trips", "go", "pre_loop"], [out], body=body))


def sparse_initializer(m: onnx.ModelProto) -> None:
    values = numpy_helper.from_array(np.ones(3, np.float32), "sp")
    indices = numpy_helper.from_array(np.array([0, 1 << 40, 7], np.int64), "sp_idx")
    m.graph.sparse_initializer.extend([helper.make_sparse_tensor(values, indices, [4, 4])])
    _node(m, "Mul").input[1] = "sp"


CONVNET: dict[str, Edit] = {
    "conv-group-0": set_attr("Conv", "group", 0), "conv-group-negative": set_attr("Conv", "group", -1),
    "conv-group-5": set_attr("Conv", "group", 5), "conv-kernel-shape-floats": float_ints,
    "conv-pads-negative": set_attr("Conv", "pads", [-5, -5, -5, -5]),
    "conv-strides-0": set_attr("Conv", "strides", [0, 0]),
    "conv-dilations-2e40": set_attr("Conv", "dilations", [1 << 40, 1 << 40]),
    "conv-auto-pad-bogus": set_attr("Conv", "auto_pad", "SIDEWAYS"),
    "maxpool-kernel-0": set_attr("MaxPool", "kernel_shape", [0, 0]), "flatten-axis-10": set_attr("Flatten", "axis", 10),
    "bn-epsilon-nan": set_attr("BatchNormalization", "epsilon", float("nan")),
    "gemm-transb-wrong": set_attr("Gemm", "transB", 0),
    "missing-input": rename_input("Conv", 0, "nowhere"), "missing-weight": drop_init("features.0.weight"),
    "empty-input-name": rename_input("Conv", 1, ""), "cycle": cycle, "self-loop": self_loop,
    "opset-0": opset(0), "opset-999": opset(999), "opset-missing": opset(None), "opset-6": opset(6),
    "ir-version-0": ir_version(0), "ir-version-2e40": ir_version(1 << 40),
    "unknown-op": retype("Relu", "FooBar"), "unknown-domain": retype("Relu", "Relu", "com.evil"),
    "duplicate-output": duplicate_output, "missing-graph-output": missing_graph_output, "no-nodes": no_nodes,
    "raw-data-short": raw_length("features.0.weight", -7), "raw-data-long": raw_length("head.bias", 12),
    "init-dtype-undefined": init_dtype("head.bias", TensorProto.UNDEFINED),
    "init-dtype-string": init_dtype("head.weight", TensorProto.STRING),
    "init-dtype-bogus": init_dtype("head.bias", 99), "init-float-and-raw": both_data_fields,
    "init-dims-negative": init_dims("head.bias", [-5]),
    "init-rank-mismatch": init_dims("features.0.weight", [16, 3, 9]),
    "input-type-missing": input_type("none"), "input-elem-undefined": input_type("undefined"),
    "input-dim-negative": input_type("negative"), "constant-without-value": empty_constant,
}
SHAPE: dict[str, Edit] = {
    "reshape-two-minus-one": set_init("two_two", [-1, -1]), "gather-index-out-of-range": set_init("idx0", 5),
    "concat-axis-3": set_attr("Concat", "axis", 3), "constant-of-shape-negative": set_init("ones_shape", [1, -2, 2]),
    "unsqueeze-axes-huge": set_init("axes0", [1 << 40]), "loop-2e62": loop_forever,
    "sparse-initializer-out-of-range": sparse_initializer, "w-rank-3": init_dims("w", [1, 2, 2]),
}


def apply(ws: Workspace, edit: Edit) -> None:
    model = onnx.load(ws.source)
    edit(model)
    ws.source.write_bytes(model.SerializeToString())


def cases() -> list[Case]:
    out = [Case("onnx_graph", "onnx_convnet", name, partial(apply, edit=edit), audit=i % 4 == 0)
           for i, (name, edit) in enumerate(CONVNET.items())]
    out += [Case("onnx_graph", "onnx_shape", name, partial(apply, edit=edit), audit=i % 3 == 0)
            for i, (name, edit) in enumerate(SHAPE.items())]
    return out
