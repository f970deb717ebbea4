"""Wrong JSON types: fields of a Keras config or of a layers model.json replaced by values of every other type."""

from __future__ import annotations

from functools import partial
from typing import Any

from tests.fuzz.case import Case, Workspace
from tests.fuzz.files import Raw, at, edit_keras_config, put, read_json, write_json
from tests.fuzz.seeds import GRAPH, SEEDS

# Replacement values by name; Raw ones are JSON text json.dumps would not write.
VALUES: dict[str, Any] = {
    "null": None, "int": 7, "string": "x", "list": [], "dict": {}, "huge_int": Raw("1" + "0" * 400),
    "nan": Raw("NaN"), "negative": -1, "bool": True, "float": 1.5, "neg_infinity": Raw("-Infinity"),
    "list_of_null": [None], "unicode": "\udcff\u202e", "big_string": "A" * 100_000,
}
_FIRST_INPUT_SHAPE = "<input shape>"  # batch_input_shape (Keras 2) or batch_shape (Keras 3)
# Paths inside a Keras model config ({"class_name", "config"}); layer 1 is the first after the input.
CONFIG_FIELDS: tuple[tuple[Any, ...], ...] = (
    ("class_name",), ("config",), ("config", "layers"), ("config", "layers", 0), ("config", "layers", 1),
    ("config", "layers", 1, "class_name"), ("config", "layers", 1, "config"), ("config", "layers", 1, "name"),
    ("config", "layers", 1, "inbound_nodes"), ("config", "layers", 1, "inbound_nodes", 0),
    ("config", "layers", 1, "config", "kernel_size"), ("config", "layers", 1, "config", "strides"),
    ("config", "layers", 1, "config", "padding"), ("config", "layers", 1, "config", "activation"),
    ("config", "layers", 1, "config", "filters"), ("config", "layers", 1, "config", "dtype"),
    ("config", "layers", 0, "config", _FIRST_INPUT_SHAPE), ("config", "input_layers"), ("config", "output_layers"),
    ("config", "output_layers", 0), ("config", "name"), ("config", "layers", -1, "config", "units"),
)
MANIFEST_FIELDS: tuple[tuple[Any, ...], ...] = (
    ("modelTopology",), ("modelTopology", "model_config"), ("modelTopology", "keras_version"),
    ("weightsManifest",), ("weightsManifest", 0), ("weightsManifest", 0, "paths"), ("weightsManifest", 0, "paths", 0),
    ("weightsManifest", 0, "weights"), ("weightsManifest", 0, "weights", 0),
    ("weightsManifest", 0, "weights", 0, "name"), ("weightsManifest", 0, "weights", 0, "shape"),
    ("weightsManifest", 0, "weights", 0, "shape", 0), ("weightsManifest", 0, "weights", 0, "dtype"),
    ("weightsManifest", 0, "weights", 0, "quantization"), ("format",), ("generatedBy",),
)
# Hand-picked manifest damage: (name, path, value).
MANIFEST_SPECIAL: tuple[tuple[str, tuple[Any, ...], Any], ...] = (
    ("dtype-float64", ("weightsManifest", 0, "weights", 0, "dtype"), "float64"),
    ("dtype-string", ("weightsManifest", 0, "weights", 0, "dtype"), "string"),
    ("dtype-complex64", ("weightsManifest", 0, "weights", 0, "dtype"), "complex64"),
    ("shape-negative", ("weightsManifest", 0, "weights", 0, "shape"), [-3, 3, 3, 6]),
    ("shape-strings", ("weightsManifest", 0, "weights", 0, "shape"), ["3", "3", "3", "6"]),
    ("shape-fraction", ("weightsManifest", 0, "weights", 0, "shape"), [3.5, 3, 3, 6]),
    ("shape-scalar", ("weightsManifest", 0, "weights", 0, "shape"), []),
    ("paths-empty", ("weightsManifest", 0, "paths"), []),
    ("paths-twice", ("weightsManifest", 0, "paths"), ["group1-shard1of1.bin", "group1-shard1of1.bin"]),
    ("paths-number", ("weightsManifest", 0, "paths"), [1]),
    ("quant-uint8-nan", ("weightsManifest", 0, "weights", 0, "quantization"),
     {"dtype": "uint8", "scale": Raw("NaN"), "min": 0}),
    ("quant-float16", ("weightsManifest", 0, "weights", 0, "quantization"), {"dtype": "float16"}),
    ("quant-unknown", ("weightsManifest", 0, "weights", 0, "quantization"), {"dtype": "int4", "scale": 1}),
    ("quant-uint8-no-scale", ("weightsManifest", 0, "weights", 0, "quantization"), {"dtype": "uint8"}),
    ("name-duplicate", ("weightsManifest", 0, "weights", 1, "name"), "<first>"),
    ("weights-empty", ("weightsManifest", 0, "weights"), []),
    ("group-twice", ("weightsManifest",), "<twice>"),
)


def _resolve(doc: Any, path: tuple[Any, ...]) -> tuple[Any, ...]:
    """Replace the input-shape placeholder by the key the seed's dialect uses."""
    if path[-1] != _FIRST_INPUT_SHAPE:
        return path
    holder = at(doc, path[:-1])
    return (*path[:-1], "batch_shape" if "batch_shape" in holder else "batch_input_shape")


def set_config_field(ws: Workspace, path: tuple[Any, ...], value: Any) -> None:
    edit_keras_config(ws, lambda spec: put(spec, _resolve(spec, path), value))


def set_manifest_field(ws: Workspace, path: tuple[Any, ...], value: Any) -> None:
    doc = read_json(ws.source)
    if value == "<first>":
        value = at(doc, ("weightsManifest", 0, "weights", 0, "name"))
    elif value == "<twice>":
        value = doc["weightsManifest"] * 2
    write_json(ws.source, put(doc, path, value))


def append_to_shard(ws: Workspace, extra: int) -> None:
    """The shard holds more bytes than the manifest declares (or fewer, for a negative count)."""
    shard = ws.file("group1-shard1of1.bin")
    data = shard.read_bytes()
    shard.write_bytes(data + bytes(extra) if extra > 0 else data[:extra])


def _label(path: tuple[Any, ...]) -> str:
    return ".".join(str(p).strip("<>").replace(" ", "_") for p in path)


def cases() -> list[Case]:
    out: list[Case] = []
    names = list(VALUES)
    for s, (seed, per_field) in enumerate((("h5_k2", 2), ("keras_zip", 2), ("layers_k2", 2), ("h5_k3", 1),
                                           ("layers_k3", 1), ("k3real_keras", 1))):
        routes = ((), GRAPH) if SEEDS[seed].kind != "layers" else ((), GRAPH, ("--output-format", "keras_keras"))
        for f, path in enumerate(CONFIG_FIELDS):
            for k in range(per_field):
                value = names[(f * 3 + k * 5 + s) % len(names)]
                out.append(Case("json_type", seed, f"{_label(path)}={value}",
                                partial(set_config_field, path=path, value=VALUES[value]),
                                args=routes[(f + k) % len(routes)], audit=(f + k + s) % 9 == 0))
    for s, seed in enumerate(("layers_k2", "layers_k3")):
        for f, path in enumerate(MANIFEST_FIELDS):
            for k in range(2):
                value = names[(f * 2 + k * 7 + s) % len(names)]
                out.append(Case("manifest", seed, f"{_label(path)}={value}",
                                partial(set_manifest_field, path=path, value=VALUES[value]),
                                args=((), GRAPH)[(f + k) % 2]))
        out += [Case("manifest", seed, name, partial(set_manifest_field, path=path, value=value), audit=i % 6 == 0)
                for i, (name, path, value) in enumerate(MANIFEST_SPECIAL)]
        out += [Case("manifest", seed, f"shard-length{extra:+d}", partial(append_to_shard, extra=extra))
                for extra in (4, 1 << 16, -4, -3)]
    return out

