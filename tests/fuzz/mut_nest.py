"""Recursion (nested models, cyclic graphs and groups, nested subgraphs) and bombs (deep JSON, zip and gzip bombs)."""

from __future__ import annotations

import json
import zlib
from functools import partial

import h5py
import numpy as np
from onnx import TensorProto, helper

from tests.fuzz import h5edit, zipraw
from tests.fuzz.case import Case, Workspace
from tests.fuzz.files import Raw, edit_keras_config, keras_config_text, member, set_keras_config, zip_members
from tests.fuzz.seeds import GRAPH
from tests.fuzz.wire import field as _field

BOMB_MIB = 1536  # what a bomb inflates to; its file is about 1.5 MB


def nested_models(ws: Workspace, depth: int) -> None:
    """The seed's model wrapped in ``depth`` Sequential models (written as text: json recursion is not used)."""
    inner = keras_config_text(ws)
    heads = "".join(f'{{"class_name": "Sequential", "config": {{"name": "m{k}", "layers": [' for k in range(depth))
    set_keras_config(ws, heads + inner + "]}}" * depth)


def rewire(ws: Workspace, layer: int, source: int | None) -> None:
    """Layer ``layer`` takes its input from layer ``source`` (a later layer: a cycle; None: itself)."""
    def edit(spec: dict) -> dict:
        layers = spec["config"]["layers"]
        old, new = layers[layer - 1]["name"], layers[layer if source is None else source]["name"]
        text = json.dumps(layers[layer]["inbound_nodes"]).replace(json.dumps(old), json.dumps(new))
        layers[layer]["inbound_nodes"] = json.loads(text)
        return spec
    edit_keras_config(ws, edit)


def h5_loop(ws: Workspace, kind: str) -> None:
    """A weight group that contains itself, the file's root, or a soft-link cycle."""
    with h5edit.weights_file(ws) as f:
        group = h5edit.target(f).rsplit("/", 1)[0]
        g = f[group]
        if kind == "self":
            g["loop"] = g
        elif kind == "root":
            g["loop"] = f["/"]
        else:
            g["a"] = h5py.SoftLink(f"/{group}/b")
            g["b"] = h5py.SoftLink(f"/{group}/a")
        layer = f[group.rsplit("/", 1)[0]] if "/" in group else g
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in layer.attrs.get("weight_names", [])]
        if names:  # tf.keras files name their weights: point one through the loop
            leaf = names[0].rsplit("/", 1)[-1]
            names[0] = "/".join([group.split("/", 1)[-1], *(["loop"] * 50 if kind != "softlink" else ["a"]), leaf])
            layer.attrs["weight_names"] = np.array([n.encode() for n in names])


def _if_node(then: bytes, leaf: bytes) -> bytes:
    """NodeProto If(c) -> y; AttributeProto type GRAPH is 5, its graph field is 6."""
    branches = [_field(1, name) + _field(20, 5) + _field(6, g) for name, g in (("then_branch", then),
                                                                               ("else_branch", leaf))]
    return _field(1, "c") + _field(2, "y") + _field(4, "If") + b"".join(_field(5, b) for b in branches)


def nested_if(ws: Workspace, depth: int) -> None:
    """An ONNX If whose then-branch holds an If, ``depth`` levels down, written as wire bytes.

    (The protobuf library refuses to build messages past 100 levels, so the bytes are put together by hand.)
    """
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1]).SerializeToString()
    leaf = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "leaf", [],
                             [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]).SerializeToString()
    graph = leaf
    for k in range(depth):
        graph = _field(1, _if_node(graph, leaf)) + _field(2, f"level{k}") + _field(12, out)
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1]),
              helper.make_tensor_value_info("c", TensorProto.BOOL, [])]
    top = _field(1, _if_node(graph, leaf)) + _field(2, "nested") + b"".join(
        _field(11, v.SerializeToString()) for v in inputs) + _field(12, out)
    opset = helper.make_opsetid("", 18).SerializeToString()
    ws.source.write_bytes(_field(1, 8) + _field(8, opset) + _field(7, top))


def recursive_function(ws: Workspace) -> None:
    """A model-local function whose body calls itself."""
    body = [helper.make_node("Loopy", ["a"], ["b"], domain="local")]
    fn = helper.make_function("local", "Loopy", ["a"], ["b"], body, [helper.make_opsetid("", 18)])
    graph = helper.make_graph([helper.make_node("Loopy", ["x"], ["y"], domain="local")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, functions=[fn], ir_version=8,
                              opset_imports=[helper.make_opsetid("", 18), helper.make_opsetid("local", 1)])
    ws.source.write_bytes(model.SerializeToString())


def deep_json(ws: Workspace, where: str, depth: int) -> None:
    """Brackets nested ``depth`` deep: the whole config, one field of it, the model.json, or metadata.json."""
    deep = "[" * depth + "]" * depth
    if where == "config":
        set_keras_config(ws, deep)
    elif where == "field":
        edit_keras_config(ws, lambda spec: {**spec, "config": {**spec["config"], "name": Raw(deep)}})
    elif where == "model.json":
        ws.source.write_text('{"format": "layers-model", "modelTopology": ' + deep + "}")
    else:
        _rezip(ws, {"metadata.json": deep.encode()})


def _rezip(ws: Workspace, replace: dict[str, bytes | zipraw.RawEntry]) -> None:
    entries = []
    for info, data in zip_members(ws.source):
        new = replace.get(info.filename, data)
        entries.append(new if isinstance(new, zipraw.RawEntry) else zipraw.deflated(info.filename, new))
    zipraw.write(ws.source, entries)


def zip_bomb(ws: Workspace, name: str) -> None:
    """Member ``name`` padded to BOMB_MIB MiB (JSON with spaces, HDF5 with zeros): 1000x its compressed size."""
    prefix = member(ws.source, name)
    filler = b" " if name.endswith(".json") else b"\x00"
    _rezip(ws, {name: zipraw.bomb(name, prefix, filler, BOMB_MIB)})


def gzip_dataset(ws: Workspace, mib: int) -> None:
    """A weight dataset of ``mib`` MiB of zeros stored as gzip chunks (one compressed chunk written many times)."""
    per_chunk = 1 << 18  # float32 elements: 1 MiB
    zipped = zlib.compress(bytes(per_chunk * 4), 9)
    with h5edit.weights_file(ws) as f:
        name = h5edit.target(f)
        del f[name]
        ds = f.create_dataset(name, shape=(mib * per_chunk,), dtype="f4", chunks=(per_chunk,), compression="gzip")
        for i in range(mib):
            ds.id.write_direct_chunk((i * per_chunk,), zipped)


def cases() -> list[Case]:
    out: list[Case] = []
    for seed in ("h5_k2", "keras_zip", "layers_k2", "k3real_keras"):
        out += [Case("recursion", seed, f"nested-models-{d}", partial(nested_models, depth=d), args=route)
                for d, route in ((10_000, ()), (1000, GRAPH), (60, GRAPH), (3, ()))]
        out += [Case("recursion", seed, name, partial(rewire, layer=layer, source=src), args=GRAPH)
                for name, layer, src in (("inbound-cycle", 1, 2), ("inbound-self", 2, None))]
    for seed in ("h5_k2", "h5_k3", "keras_zip"):
        out += [Case("recursion", seed, f"group-loop-{kind}", partial(h5_loop, kind=kind), args=route)
                for kind, route in (("self", ()), ("root", GRAPH), ("softlink", ()))]
    out += [Case("recursion", "onnx_shape", f"nested-if-{d}", partial(nested_if, depth=d)) for d in (5, 150, 2000)]
    out.append(Case("recursion", "onnx_shape", "function-calls-itself", recursive_function))
    for seed, wheres in (("h5_k2", ("config", "field")), ("keras_zip", ("config", "field", "metadata")),
                         ("layers_k2", ("config", "field", "model.json")), ("h5_k3", ("config",))):
        out += [Case("bomb", seed, f"deep-json-{where}-{d}", partial(deep_json, where=where, depth=d), audit=d > 1000)
                for where in wheres for d in (100_000, 300)]
    for seed in ("keras_zip", "k3real_keras"):
        out += [Case("bomb", seed, f"zip-bomb-{name}", partial(zip_bomb, name=name), args=route)
                for name, route in (("config.json", ()), ("model.weights.h5", GRAPH), ("metadata.json", ()))]
    for seed in ("h5_k2", "keras_zip", "h5_k3"):
        out.append(Case("bomb", seed, "gzip-dataset-2GiB", partial(gzip_dataset, mib=2048)))
    return out

