"""Keras payloads (Lambda bytecode, foreign modules, custom objects) and damaged HDF5 weight structures."""

from __future__ import annotations

import base64
import json
import marshal
from functools import partial
from typing import Any

import h5py
import numpy as np

from tests.fuzz import h5edit
from tests.fuzz.case import Case, Workspace
from tests.fuzz.files import edit_keras_config, keras_config_text
from tests.fuzz.seeds import GRAPH

MARKER = "PWNED-by-fuzz-payload"
TO_H5, TO_KERAS, TO_LAYERS = ("--output-format", "keras"), ("--output-format", "keras_keras"), (
    "--output-format", "tfjs_layers_model")


def bytecode() -> str:
    """Base64 of marshalled bytecode that would run a shell command (never run: only carried, or not)."""
    code = compile(f"lambda x: __import__('os').system('echo {MARKER}') or x", "<fuzz>", "eval")
    return base64.b64encode(marshal.dumps(code)).decode()


def _lambda(keras3: bool, name: str) -> dict[str, Any]:
    if keras3:
        function = {"class_name": "__lambda__", "config": {"code": bytecode(), "defaults": None, "closure": None}}
        return {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
                "config": {"name": name, "trainable": True, "dtype": "float32", "function": function,
                           "arguments": {}}}
    return {"class_name": "Lambda", "config": {"name": name, "trainable": True, "dtype": "float32",
                                               "function": [bytecode(), None, None], "function_type": "lambda",
                                               "module": "__main__", "output_shape": None, "arguments": {}}}


def _append(spec: dict, layer: dict) -> dict:
    """``layer`` fed by the model's last layer, and made the model's output."""
    layers = spec["config"]["layers"]
    last = layers[-1]
    feeder = next(layer["name"] for layer in reversed(layers[:-1]) if json.dumps(layer["name"]) in
                  json.dumps(last.get("inbound_nodes", [])))
    text = json.dumps(last.get("inbound_nodes", [])).replace(json.dumps(feeder), json.dumps(last["name"]))
    layer = {**layer, "name": layer["config"]["name"], "inbound_nodes": json.loads(text)}
    layers.append(layer)
    outs = json.dumps(spec["config"]["output_layers"]).replace(json.dumps(last["name"]), json.dumps(layer["name"]))
    spec["config"]["output_layers"] = json.loads(outs)
    return spec


def add_lambda(ws: Workspace) -> None:
    keras3 = '"module"' in keras_config_text(ws)
    ws.forbidden += [bytecode()[:48].encode(), MARKER.encode()]
    edit_keras_config(ws, lambda spec: _append(spec, _lambda(keras3, "evil")))


def add_layer(ws: Workspace, layer: dict[str, Any], forbidden: str) -> None:
    ws.forbidden.append(forbidden.encode())
    edit_keras_config(ws, lambda spec: _append(spec, json.loads(json.dumps(layer))))


def set_last(ws: Workspace, key: str, value: Any, forbidden: str) -> None:
    """The last layer's ``key`` (top level, or ``config.<key>`` when it names a config field) set to ``value``."""
    ws.forbidden.append(forbidden.encode())

    def edit(spec: dict) -> dict:
        last = spec["config"]["layers"][-1]
        (last if key in ("module", "registered_name", "class_name") else last["config"])[key] = value
        return spec
    edit_keras_config(ws, edit)


def nested_lambda(ws: Workspace) -> None:
    """A Lambda inside a nested Sequential model that the outer model calls."""
    keras3 = '"module"' in keras_config_text(ws)
    ws.forbidden.append(bytecode()[:48].encode())
    inner = {"class_name": "Sequential", "config": {"name": "inner", "layers": [_lambda(keras3, "evil")]}}
    edit_keras_config(ws, lambda spec: _append(spec, inner))


TFOPLAMBDA = {"class_name": "TFOpLambda", "config": {"name": "tf.math.add_evil", "trainable": True, "dtype": "float32",
                                                     "function": "math.add"}}
CUSTOM_ACTIVATION = {"module": "evil.activations", "class_name": "function", "config": "evil_fn",
                     "registered_name": "function"}


def lambda_initializer(ws: Workspace) -> None:
    init = {"class_name": "__lambda__", "config": {"code": bytecode(), "defaults": None, "closure": None}}
    set_last(ws, "kernel_initializer", init, bytecode()[:48])


def payload_cases() -> list[Case]:
    out = []
    for seed, routes in (("h5_k2", ((), GRAPH)), ("keras_zip", ((), GRAPH)), ("k3real_keras", ((), GRAPH)),
                         ("k3real_h5", ((),)), ("layers_k2", ((), TO_KERAS, GRAPH, TO_LAYERS)),
                         ("layers_k3", ((), TO_KERAS)), ("h5_k3", ((),))):
        out += [Case("payload", seed, f"lambda-{'-'.join(r[1:]) or 'default'}", add_lambda, args=r, must_refuse=True,
                     audit=i == 0) for i, r in enumerate(routes)]
        out.append(Case("payload", seed, "nested-lambda", nested_lambda, args=routes[-1], must_refuse=True))
        out.append(Case("payload", seed, "lambda-initializer", lambda_initializer, args=routes[0]))
        # A custom activation names code it does not carry: no bytes to forbid, a clean refusal or a copy.
        out.append(Case("payload", seed, "custom-activation", partial(set_last, key="activation",
                        value=CUSTOM_ACTIVATION, forbidden=MARKER), args=routes[-1]))
    for seed in ("keras_zip", "layers_k3", "k3real_keras"):
        out += [Case("payload", seed, "module-kerasevil", partial(set_last, key="module", value="kerasevil.layers",
                     forbidden="kerasevil"), must_refuse=True),
                Case("payload", seed, "module-kerasevil-graph", partial(set_last, key="module",
                     value="kerasevil.layers", forbidden="kerasevil"), args=GRAPH, must_refuse=True),
                Case("payload", seed, "module-os", partial(set_last, key="module", value="os", forbidden='"os"'),
                     must_refuse=True),
                Case("payload", seed, "registered-name-custom", partial(set_last, key="registered_name",
                     value="Custom>EvilDense", forbidden="Custom>EvilDense"))]
    for seed in ("h5_k2", "layers_k2"):
        out.append(Case("payload", seed, "tfoplambda", partial(add_layer, layer=TFOPLAMBDA, forbidden="math.add"),
                        must_refuse=True))
    return out


def _dataset(f: h5py.File, name: str, data: Any, **kw: Any) -> None:
    del f[name]
    f.create_dataset(name, data=data, **kw)


def h5_dataset(ws: Workspace, kind: str) -> None:
    """The first weight dataset replaced by one of another type, shape or storage."""
    with h5edit.weights_file(ws) as f:
        name = h5edit.target(f)
        shape = f[name].shape
        if kind == "delete":
            del f[name]
        elif kind == "group":
            del f[name]
            f.create_group(name)
        elif kind == "unknown_filter":
            del f[name]
            ds = f.create_dataset(name, shape=shape, dtype="f4", chunks=shape, compression=32001,
                                  allow_unknown_filter=True)
            ds.id.write_direct_chunk((0,) * len(shape), b"\x00" * 64)
        else:
            _dataset(f, name, *H5_DATA[kind](shape))


H5_DATA: dict[str, Any] = {
    "strings": lambda s: (np.array([b"evil"] * int(np.prod(s))).reshape(s),),
    "compound": lambda s: (np.zeros(s, dtype=[("a", "f4"), ("b", "i4")]),),
    "int64": lambda s: (np.ones(s, np.int64),),
    "bool": lambda s: (np.ones(s, bool),),
    "float16": lambda s: (np.ones(s, np.float16),),
    "float64-nan": lambda s: (np.full(s, np.nan),),
    "scalar": lambda s: (np.float32(1.0),),
    "empty": lambda s: (np.zeros((0,), np.float32),),
    "transposed": lambda s: (np.ones((*s[::-1], 2), np.float32),),
    "vlen": lambda s: (_ragged(),),
}


def _ragged() -> np.ndarray:
    out = np.empty(2, dtype=h5py.vlen_dtype(np.float32))
    out[0], out[1] = np.ones(3, np.float32), np.ones(5, np.float32)
    return out


def h5_attr(ws: Workspace, attr: str, value: Any) -> None:
    """A root attribute of a Keras .h5 (model_config, keras_version, backend) of the wrong type."""
    with h5py.File(ws.source, "r+", libver="latest") as f:
        if value is None:
            del f.attrs[attr]
        else:
            f.attrs[attr] = value


def weight_names(ws: Workspace, value: Any) -> None:
    """The first weight-holding layer's ``weight_names`` attribute replaced."""
    with h5py.File(ws.source, "r+", libver="latest") as f:
        layer = f["model_weights"][h5edit.target(f).split("/")[1]]
        layer.attrs["weight_names"] = value


def vars_name(ws: Workspace, new: str) -> None:
    """A .keras weight named ``vars/<new>`` instead of ``vars/<n>``."""
    with h5edit.weights_file(ws) as f:
        name = h5edit.target(f)
        f.move(name, name.rsplit("/", 1)[0] + "/" + new)


def h5_struct_cases() -> list[Case]:
    out = []
    for seed in ("h5_k2", "h5_k3", "keras_zip", "k3real_keras"):
        kinds = ["delete", "group", "unknown_filter", *H5_DATA]
        out += [Case("h5_struct", seed, f"dataset-{kind}", partial(h5_dataset, kind=kind), args=((), GRAPH)[i % 2],
                     audit=i % 7 == 0) for i, kind in enumerate(kinds)]
    for seed in ("h5_k2", "h5_k3"):
        out += [Case("h5_struct", seed, f"attr-{attr}-{label}", partial(h5_attr, attr=attr, value=value),
                     args=((), GRAPH)[i % 2]) for i, (attr, label, value) in enumerate(ATTRS)]
        out += [Case("h5_struct", seed, f"weight-names-{label}", partial(weight_names, value=value))
                for label, value in (("missing", np.array([b"nope/kernel:0"])), ("ints", np.arange(3)),
                                     ("empty", np.array([], dtype="S1")), ("root", np.array([b"/"])),
                                     ("dotdot", np.array([b"../../model_weights"])))]
    for seed in ("keras_zip", "k3real_keras"):
        out += [Case("h5_struct", seed, f"vars-name-{new}", partial(vars_name, new=new))
                for new in ("x", "-1", "99999999999999999999", "1e3")]
    return out


ATTRS: tuple[tuple[str, str, Any], ...] = (
    ("model_config", "missing", None), ("model_config", "int", 7), ("model_config", "array", np.array([b"{}", b"{}"])),
    ("model_config", "not-utf8", np.void(b"\xff\xfe\x00{")), ("model_config", "empty", ""),
    ("model_config", "list", "[]"), ("keras_version", "int", 5), ("keras_version", "missing", None),
    ("keras_version", "junk", "banana"), ("backend", "float", 1.5),
)
