"""Huge declared shapes: tiny files whose initializers, folded constants, manifests or datasets claim exabytes."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.fuzz import h5edit
from tests.fuzz.case import Case, Workspace
from tests.fuzz.files import edit_json, edit_keras_config
from tests.fuzz.seeds import GRAPH

BIG = 1 << 62
HALF = 1 << 31


def _i64(name: str, values: Any) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, np.int64), name)


def _f32(name: str, values: Any) -> onnx.TensorProto:
    return numpy_helper.from_array(np.array(values, np.float32), name)


# Op -> (nodes computing float "big" from constants, initializers). Each file is a few hundred bytes.
BOMBS: dict[str, tuple[list[onnx.NodeProto], list[onnx.TensorProto]]] = {
    "constant_of_shape_2e62": ([helper.make_node("ConstantOfShape", ["shape"], ["big"])],
                               [_i64("shape", [HALF, HALF])]),
    "constant_of_shape_2e34": ([helper.make_node("ConstantOfShape", ["shape"], ["big"])],
                               [_i64("shape", [1 << 17, 1 << 17])]),
    "constant_of_shape_2e29": ([helper.make_node("ConstantOfShape", ["shape"], ["big"])], [_i64("shape", [1 << 29])]),
    "range_2e62": ([helper.make_node("Range", ["start", "limit", "delta"], ["r"]),
                    helper.make_node("Cast", ["r"], ["big"], to=TensorProto.FLOAT)],
                   [_i64("start", 0), _i64("limit", BIG), _i64("delta", 1)]),
    "range_float_tiny_delta": ([helper.make_node("Range", ["start", "limit", "delta"], ["big"])],
                               [_f32("start", 0.0), _f32("limit", 1.0), _f32("delta", 1e-30)]),
    "tile_2e62": ([helper.make_node("Tile", ["one", "reps"], ["big"])], [_f32("one", [1.0]), _i64("reps", [BIG])]),
    "expand_2e62": ([helper.make_node("Expand", ["one", "shape"], ["big"])],
                    [_f32("one", [1.0]), _i64("shape", [HALF, HALF])]),
    "reshape_2e62": ([helper.make_node("Reshape", ["one", "shape"], ["big"])],
                     [_f32("one", [1.0]), _i64("shape", [HALF, HALF])]),
    "reshape_after_cos_2e62": ([helper.make_node("ConstantOfShape", ["shape"], ["c"]),
                                helper.make_node("Reshape", ["c", "flat"], ["big"])],
                               [_i64("shape", [HALF, HALF]), _i64("flat", [-1])]),
    "pad_2e40": ([helper.make_node("Pad", ["one", "pads"], ["big"])], [_f32("one", [1.0]), _i64("pads", [0, 1 << 40])]),
    "resize_scales_2e20": ([helper.make_node("Resize", ["img", "", "scales"], ["big"], mode="nearest")],
                           [_f32("img", np.ones((1, 1, 2, 2))), _f32("scales", [1, 1, 1 << 20, 1 << 20])]),
    "concat_tile_2e40": ([helper.make_node("Tile", ["one", "reps"], ["t"]),
                          helper.make_node("Concat", ["t", "t"], ["big"], axis=0)],
                         [_f32("one", [1.0]), _i64("reps", [1 << 40])]),
}


def bomb_model(key: str, opset: int = 18) -> onnx.ModelProto:
    """y = x + big, with ``big`` computed from constants only (constant folding meets it first)."""
    nodes, inits = BOMBS[key]
    graph = helper.make_graph([*nodes, helper.make_node("Add", ["x", "big"], ["y"])], key,
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def write_bomb(ws: Workspace, key: str) -> None:
    ws.source.write_bytes(bomb_model(key).SerializeToString())


def init_dims(ws: Workspace, dims: tuple[int, ...], name: str = "head.bias") -> None:
    """An initializer declaring ``dims`` while its data stays a few bytes."""
    model = onnx.load(ws.source, load_external_data=False)
    tensor = next(t for t in model.graph.initializer if t.name == name)
    del tensor.dims[:]
    tensor.dims.extend(dims)
    ws.source.write_bytes(model.SerializeToString())


def external_span(ws: Workspace, key: str, value: int) -> None:
    """External data whose ``length`` or ``offset`` claims far more than the file holds."""
    model = onnx.load(ws.source, load_external_data=False)
    tensor = model.graph.initializer[0]
    entries = {e.key: e for e in tensor.external_data}
    if key in entries:
        entries[key].value = str(value)
    else:
        tensor.external_data.add(key=key, value=str(value))
    if key == "length":
        del tensor.dims[:]
        tensor.dims.extend([value // 4])
    ws.source.write_bytes(model.SerializeToString())


def manifest_shape(ws: Workspace, shape: list[Any]) -> None:
    def edit(doc: dict) -> dict:
        doc["weightsManifest"][0]["weights"][0]["shape"] = shape
        return doc
    edit_json(ws.source, edit)


def h5_empty(ws: Workspace, shape: tuple[int, ...]) -> None:
    """A weight dataset declared ``shape`` (chunked, never written: the file stays small)."""
    with h5edit.weights_file(ws) as f:
        name = h5edit.target(f)
        del f[name]
        f.create_dataset(name, shape=shape, dtype="f4", chunks=(1,) * (len(shape) - 1) + (1024,))


def config_value(ws: Workspace, key: str, value: Any) -> None:
    """The first layer config holding ``key`` (past the input) declares ``value``."""
    def edit(spec: dict) -> dict:
        for layer in spec["config"]["layers"]:
            if key in layer.get("config", {}):
                layer["config"][key] = value
                break
        return spec
    edit_keras_config(ws, edit)


def cases() -> list[Case]:
    out = [Case("huge_shape", "onnx_shape", f"bomb-{key}", partial(write_bomb, key=key), audit=i % 3 == 0)
           for i, key in enumerate(BOMBS)]
    out += [Case("huge_shape", "onnx_convnet", f"init-dims-{name}", partial(init_dims, dims=dims))
            for name, dims in (("2e40", (1 << 40,)), ("2e32x2e32", (1 << 32, 1 << 32)), ("2e62x4", (BIG, 4)),
                               ("2e31x2e31x5", (HALF, HALF, 5)))]
    out += [Case("huge_shape", "onnx_external", f"external-{key}-{value:#x}", partial(external_span, key=key,
                 value=value)) for key, value in (("length", 1 << 40), ("offset", 1 << 50), ("length", BIG))]
    for seed in ("layers_k2", "layers_k3"):
        out += [Case("huge_shape", seed, f"manifest-shape-{i}", partial(manifest_shape, shape=shape), args=route)
                for i, (shape, route) in enumerate((([HALF, HALF], ()), ([1 << 40], GRAPH), ([BIG, 4, 4, 4], ()),
                                                     ([1 << 20] * 4, GRAPH)))]
    for seed in ("h5_k2", "h5_k3", "keras_zip", "k3real_keras"):
        out += [Case("huge_shape", seed, f"dataset-{name}", partial(h5_empty, shape=shape), args=route)
                for name, shape, route in (("2e40", (1 << 40,), ()), ("2e20x2e20", (1 << 20, 1 << 20), GRAPH),
                                           ("2e31x2e31", (HALF, HALF), ()))]
    for seed in ("h5_k2", "keras_zip"):
        out += [Case("huge_shape", seed, f"config-{key}", partial(config_value, key=key, value=value), args=GRAPH)
                for key, value in (("filters", 1 << 40), ("batch_input_shape", [None, HALF, HALF, 3]),
                                   ("batch_shape", [None, HALF, HALF, 3]), ("units", BIG))]
    return out

