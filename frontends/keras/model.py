"""One in-memory form of a Keras model config (Keras 2, Keras 3 and tfjs dialects) plus its weights."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pivot.errors import InputError

JsonDict = dict[str, Any]
MODEL_CLASSES = frozenset({"Functional", "Model", "Sequential"})
# Call kwargs entry naming the kwargs that held tensors ({name: tensor count}), in the order their
# tensors follow the positional ones in ``Call.args`` (e.g. MultiHeadAttention's key, attention_mask).
TENSOR_KWARGS = "__tensor_kwargs__"


@dataclass(frozen=True)
class TensorRef:
    """Output ``tensor`` of call number ``node`` of layer ``layer`` (Keras's keras_history)."""

    layer: str
    node: int = 0
    tensor: int = 0


@dataclass
class Call:
    """One application of a layer: its positional tensor arguments (flattened) and its kwargs."""

    args: list[TensorRef]
    kwargs: JsonDict = field(default_factory=dict)
    # Whether the layer received a list (Add()([a, b])) rather than one tensor.
    listed: bool = False


@dataclass
class KerasLayer:
    """A layer of a model: its class, config, calls and weights in Keras ``layer.weights`` order."""

    class_name: str
    name: str
    config: JsonDict
    calls: list[Call] = field(default_factory=list)
    weights: list[np.ndarray] = field(default_factory=list)
    submodel: KerasModel | None = None
    # Python module of the layer class (Keras 3 files only); a non-Keras module means user code.
    module: str = ""

    def weight(self, i: int) -> np.ndarray:
        """Weight ``i``; a clear error when the file holds fewer."""
        if i >= len(self.weights):
            raise InputError(f"layer '{self.name}' ({self.class_name}): weight {i} missing from the file "
                             f"({len(self.weights)} present)")
        return self.weights[i]


@dataclass
class KerasModel:
    """A functional graph of layers; Sequential models are normalized to a chain."""

    name: str
    layers: list[KerasLayer]
    inputs: list[TensorRef]
    outputs: list[TensorRef]
    output_names: list[str]
    keras_version: str = ""
    sequential: bool = False

    @property
    def major(self) -> int:
        """Keras major version (2 or 3); semantics of a few activations differ."""
        head = self.keras_version.split(".")[0]
        return int(head) if head.isdigit() else 3

    def layer(self, name: str) -> KerasLayer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise InputError(f"model '{self.name}': no layer named '{name}'")

    def walk(self) -> Iterator[KerasLayer]:
        """Every layer, depth first into nested models."""
        for layer in self.layers:
            yield layer
            if layer.submodel is not None:
                yield from layer.submodel.walk()


def parse_model(spec: JsonDict, keras_version: str = "") -> KerasModel:
    """Build a KerasModel (no weights yet) from ``{"class_name", "config"}`` of any dialect."""
    class_name, config = spec.get("class_name"), spec.get("config")
    if class_name not in MODEL_CLASSES or not isinstance(config, dict):
        raise InputError(f"not a Keras model config (class_name {class_name!r}); subclassed models cannot be read")
    if class_name == "Sequential":
        return _parse_sequential(config, keras_version)
    layers = [_parse_layer(layer, keras_version) for layer in config["layers"]]
    outputs, names = _parse_outputs(config["output_layers"], _first_node_skips(layers, config["layers"]))
    return KerasModel(config.get("name", "model"), layers, _refs(config["input_layers"]), outputs, names,
                      keras_version)


def _parse_layer(spec: JsonDict, keras_version: str) -> KerasLayer:
    cls, cfg = spec["class_name"], spec.get("config", {})
    name = spec.get("name") or cfg.get("name")
    layer = KerasLayer(cls, name, cfg, [_parse_call(node) for node in spec.get("inbound_nodes", [])],
                       module=str(spec.get("module") or ""))
    if cls in MODEL_CLASSES:
        layer.submodel = parse_model(spec, keras_version)
    return layer


def _parse_call(node: Any) -> Call:
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        args = node.get("args", [])
        listed = len(args) == 1 and isinstance(args[0], list)
        kwargs = {k: v for k, v in node.get("kwargs", {}).items() if not _has_tensor(v)}
        counts = {k: len(list(_tensors(v))) for k, v in node.get("kwargs", {}).items() if _has_tensor(v)}
        if counts:
            kwargs[TENSOR_KWARGS] = counts
        return Call(list(_tensors(args)) + list(_tensors(node.get("kwargs", {}))), kwargs, listed)
    # Keras 2 / tfjs: [[layer, node, tensor, kwargs], ...]
    merged: JsonDict = {}
    refs = []
    for entry in node:
        refs.append(TensorRef(entry[0], int(entry[1]), int(entry[2])))
        if len(entry) > 3 and isinstance(entry[3], dict):
            merged.update({k: v for k, v in entry[3].items() if not _has_tensor(v)})
    return Call(refs, merged, listed=len(refs) > 1)


def _has_tensor(value: Any) -> bool:
    return next(_tensors(value), None) is not None


def _tensors(value: Any) -> Iterator[TensorRef]:
    """Every keras tensor in a nested args structure, in order."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            hist = value["config"]["keras_history"]
            yield TensorRef(hist[0], int(hist[1]), int(hist[2]))
            return
        for v in value.values():
            yield from _tensors(v)
    elif isinstance(value, list):
        for v in value:
            yield from _tensors(v)


def _refs(value: Any) -> list[TensorRef]:
    """``[name, node, tensor]`` or a list of them."""
    if value and isinstance(value[0], str):
        value = [value]
    return [TensorRef(v[0], int(v[1]), int(v[2])) for v in value]


def _parse_outputs(value: Any, skips: set[str] | None = None) -> tuple[list[TensorRef], list[str]]:
    skips = skips or set()
    if isinstance(value, dict):  # Keras 3 dict outputs keep their keys as output names
        return _unskip(_refs(list(value.values())), skips), list(value)
    refs = _unskip(_refs(value), skips)
    return refs, [r.layer if r.node == 0 and r.tensor == 0 else f"{r.layer}_{r.node}_{r.tensor}" for r in refs]


def _first_node_skips(layers: list[KerasLayer], specs: list[JsonDict]) -> set[str]:
    """Nested models whose references count a built-in first node (Keras's ``_should_skip_first_node``).

    Keras 2 and tfjs number the calls of a nested Functional model (and of a Sequential model that has an
    input layer) from 1 everywhere, because the model's own construction is node 0. Keras 3 does so only in
    ``output_layers``, and only for Functional models. Call arguments are rewritten here; the caller rewrites
    output references with the returned layer names.
    """
    listed = not any(isinstance(node, dict) for spec in specs for node in spec.get("inbound_nodes", []))
    skips = {layer.name for layer in layers if layer.submodel is not None and _has_first_node(layer, listed)}
    if listed and skips:
        for layer in layers:
            for call in layer.calls:
                call.args = _unskip(call.args, skips)
    return skips


def _has_first_node(layer: KerasLayer, listed: bool) -> bool:
    if layer.class_name != "Sequential":
        return True
    if not listed:
        return False  # a Keras 3 Sequential model is not a Functional one
    specs = layer.config.get("layers") or [{}]
    first = specs[0] if isinstance(specs[0], dict) else {}
    first_cfg = first.get("config") or {}
    return first.get("class_name") == "InputLayer" or any(
        k in first_cfg for k in ("batch_input_shape", "batchInputShape", "batch_shape"))


def _unskip(refs: list[TensorRef], skips: set[str]) -> list[TensorRef]:
    return [TensorRef(r.layer, max(r.node - 1, 0), r.tensor) if r.layer in skips else r for r in refs]


def _parse_sequential(config: JsonDict, keras_version: str) -> KerasModel:
    specs = config["layers"] if isinstance(config, dict) else config
    name = config.get("name", "sequential") if isinstance(config, dict) else "sequential"
    layers: list[KerasLayer] = []
    if not specs:
        raise InputError(f"Sequential model '{name}' has no layers")
    if specs[0]["class_name"] != "InputLayer":
        first = specs[0].get("config", {})
        shape = first.get("batch_input_shape") or first.get("batch_shape") or _build_shape(specs[0])
        if shape is None:
            raise InputError(f"Sequential model '{name}' has no input shape; build it before saving")
        layers.append(KerasLayer("InputLayer", f"{name}_input", {"batch_shape": shape,
                                                                "dtype": _dtype_name(first.get("dtype"))}))
    for spec in specs:
        layer = _parse_layer(spec, keras_version)
        if layers:
            layer.calls = [Call([TensorRef(layers[-1].name)])]
        layers.append(layer)
    last = layers[-1].name
    return KerasModel(name, layers, [TensorRef(layers[0].name)], [TensorRef(last)], [last], keras_version, True)


def _build_shape(spec: JsonDict) -> list[Any] | None:
    build = spec.get("build_config") or {}
    shape = build.get("input_shape")
    return list(shape) if shape else None


def _dtype_name(dtype: Any) -> str:
    """A layer dtype: a string (Keras 2) or a DTypePolicy dict (Keras 3)."""
    if isinstance(dtype, dict):
        return str(dtype.get("config", {}).get("name", "float32"))
    return str(dtype or "float32")


def input_shape(layer: KerasLayer) -> list[int | None]:
    """The batch shape of an InputLayer in any dialect."""
    cfg = layer.config
    shape = cfg.get("batch_shape") or cfg.get("batch_input_shape") or cfg.get("batchInputShape")
    if shape is None:
        raise InputError(f"input layer '{layer.name}' has no shape")
    return [None if d is None else int(d) for d in shape]


def layer_dtype(layer: KerasLayer) -> str:
    """The compute dtype of a layer ('float32' unless a policy says otherwise)."""
    name = _dtype_name(layer.config.get("dtype"))
    return name.split("_")[-1] if name.startswith("mixed_") else name
