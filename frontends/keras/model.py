"""One in-memory form of a Keras model config (Keras 2, Keras 3 and tfjs dialects) plus its weights."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from frontends.keras.checks import as_dict, as_dims, as_index, as_list, as_name
from pivot.errors import InputError
from tfjs_format.keras_config import (
    KERAS2_SHAPE_KEY,
    KERAS3_SHAPE_KEY,
    MODEL_CLASSES,
    SHAPE_KEYS,
    batch_shape,
    check_version,
    construction_nodes,
    keras3_calls,
    keras_major,
    keras_tensors,
    refuse_code,
    sequential_built,
)

JsonDict = dict[str, Any]
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

    def weight(self, i: int, ndim: int | None = None) -> np.ndarray:
        """Weight ``i`` (of ``ndim`` dims when given); a clear error when the file holds fewer or another shape."""
        if i >= len(self.weights):
            raise InputError(f"layer '{self.name}' ({self.class_name}): weight {i} missing from the file "
                             f"({len(self.weights)} present)")
        value = self.weights[i]
        if ndim is not None and np.ndim(value) != ndim:
            raise InputError(f"layer '{self.name}' ({self.class_name}): weight {i} has shape {np.shape(value)} in "
                             f"the file; the layer holds a {ndim}-D weight there")
        return value


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
        """Keras major version (2 or 3; Keras 3 when unknown); semantics of a few activations differ."""
        return keras_major(self.keras_version)

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
    """Build a KerasModel (no weights yet) from ``{"class_name", "config"}`` of any dialect.

    The config comes from a file: code in it is refused first, and every malformed part is one line naming
    the layer.
    """
    check_version(keras_version)
    refuse_code(spec)
    return _parse_model(as_dict(spec, "model config"), keras_version)


def _parse_model(spec: JsonDict, keras_version: str) -> KerasModel:
    class_name, config = spec.get("class_name"), spec.get("config")
    if class_name == "Sequential" and isinstance(config, (dict, list)):
        return _parse_sequential(config, keras_version)
    if not isinstance(class_name, str) or class_name not in MODEL_CLASSES or not isinstance(config, dict):
        raise InputError(f"not a Keras model config (class_name {str(class_name)[:60]!r}); "
                         "subclassed models cannot be read")
    name = config.get("name") or "model"
    where = f"model '{str(name)[:80]}'"
    specs = as_list(config.get("layers"), f"{where} layers")
    layers = [_parse_layer(layer, keras_version, f"{where} layer #{i}") for i, layer in enumerate(specs)]
    outputs, names = _parse_outputs(config.get("output_layers"), _first_node_skips(layers, specs), where)
    model = KerasModel(as_name(name, f"{where} name"), layers, _refs(config.get("input_layers"),
                                                                     f"{where} input_layers"),
                       outputs, names, keras_version)
    check_references(model)
    return model


def _parse_layer(spec: Any, keras_version: str, where: str) -> KerasLayer:
    spec = as_dict(spec, where)
    cls = as_name(spec.get("class_name"), f"{where} class_name")
    cfg = spec.get("config", {})
    if not (cls == "Sequential" and isinstance(cfg, list)):
        cfg = as_dict(cfg, f"{where} ({cls}) config")
    name = as_name(spec.get("name") or (cfg.get("name") if isinstance(cfg, dict) else None), f"{where} ({cls}) name")
    here = f"layer '{name}' ({cls})"
    for key in SHAPE_KEYS:
        if isinstance(cfg, dict) and cfg.get(key) is not None:
            as_dims(cfg[key], f"{here} {key}")
    nodes = as_list(spec.get("inbound_nodes", []), f"{here} inbound_nodes")
    layer = KerasLayer(cls, name, cfg if isinstance(cfg, dict) else {"layers": cfg},
                       [_parse_call(node, f"{here} inbound node {i}") for i, node in enumerate(nodes)],
                       module=str(spec.get("module") or ""))
    if cls in MODEL_CLASSES:
        layer.submodel = _parse_model(spec, keras_version)
    return layer


def _parse_call(node: Any, where: str) -> Call:
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        args = as_list(node.get("args", []), f"{where} args")
        raw = as_dict(node.get("kwargs") or {}, f"{where} kwargs")
        listed = len(args) == 1 and isinstance(args[0], list)
        kwargs = {k: v for k, v in raw.items() if not _has_tensor(v, where)}
        counts = {k: len(list(_tensors(v, where))) for k, v in raw.items() if _has_tensor(v, where)}
        if counts:
            kwargs[TENSOR_KWARGS] = counts
        return Call(list(_tensors(args, where)) + list(_tensors(raw, where)), kwargs, listed)
    # Keras 2 / tfjs: [[layer, node, tensor, kwargs], ...]
    merged: JsonDict = {}
    refs = []
    for i, entry in enumerate(as_list(node, where)):
        refs.append(_ref(entry, f"{where} entry {i}"))
        if len(entry) > 3 and isinstance(entry[3], dict):
            merged.update({k: v for k, v in entry[3].items() if not _has_tensor(v, where)})
    return Call(refs, merged, listed=len(refs) > 1)


def _ref(value: Any, where: str) -> TensorRef:
    """``[layer, node, tensor, ...]`` -> TensorRef (Keras's keras_history)."""
    entry = as_list(value, where)
    if len(entry) < 3:
        raise InputError(f"{where}: expected [layer, node index, tensor index], found {str(entry)[:60]}")
    return TensorRef(as_name(entry[0], f"{where} layer"), as_index(entry[1], f"{where} node index"),
                     as_index(entry[2], f"{where} tensor index"))


def _has_tensor(value: Any, where: str) -> bool:
    return next(_tensors(value, where), None) is not None


def _tensors(value: Any, where: str) -> Iterator[TensorRef]:
    """Every keras tensor in a nested args structure, in order."""
    for tensor in keras_tensors(value):
        config = as_dict(tensor.get("config"), f"{where} keras tensor config")
        yield _ref(config.get("keras_history"), f"{where} keras_history")


def _refs(value: Any, where: str) -> list[TensorRef]:
    """``[name, node, tensor]`` or a list of them."""
    value = as_list(value, where)
    if value and isinstance(value[0], str):
        value = [value]
    return [_ref(v, f"{where} #{i}") for i, v in enumerate(value)]


def _parse_outputs(value: Any, skips: set[str], where: str) -> tuple[list[TensorRef], list[str]]:
    if isinstance(value, dict):  # Keras 3 dict outputs keep their keys as output names
        return _unskip(_refs(list(value.values()), f"{where} output_layers"), skips), list(value)
    refs = _unskip(_refs(value, f"{where} output_layers"), skips)
    return refs, [r.layer if r.node == 0 and r.tensor == 0 else f"{r.layer}_{r.node}_{r.tensor}" for r in refs]


def _first_node_skips(layers: list[KerasLayer], specs: list[JsonDict]) -> set[str]:
    """Nested models whose references count a built-in first node (Keras's ``_should_skip_first_node``).

    ``construction_nodes`` says where each dialect counts one: Keras 2 and tfjs everywhere, Keras 3 only in
    ``output_layers``. Keras 2 call arguments are rewritten here; the caller rewrites output references with
    the returned layer names.
    """
    keras3 = keras3_calls(specs)
    skips = {layer.name for layer in layers if layer.submodel is not None and _has_first_node(layer, keras3)}
    if not keras3 and skips:
        for layer in layers:
            for call in layer.calls:
                call.args = _unskip(call.args, skips)
    return skips


def _has_first_node(layer: KerasLayer, keras3: bool) -> bool:
    # Only a Keras 2 Sequential model's own layers tell whether it was built with an input (a construction node).
    built = layer.class_name != "Sequential" or keras3 or sequential_built(layer.config.get("layers"))
    return construction_nodes(layer.class_name, keras3=keras3, in_outputs=True, built=built) > 0


def _unskip(refs: list[TensorRef], skips: set[str]) -> list[TensorRef]:
    return [TensorRef(r.layer, max(r.node - 1, 0), r.tensor) if r.layer in skips else r for r in refs]


def _parse_sequential(config: JsonDict | list[Any], keras_version: str) -> KerasModel:
    raw_name = (config.get("name") or "sequential") if isinstance(config, dict) else "sequential"
    where = f"Sequential model '{str(raw_name)[:80]}'"
    name = as_name(raw_name, f"{where} name")
    specs = as_list(config.get("layers") if isinstance(config, dict) else config, f"{where} layers")
    if not specs:
        raise InputError(f"{where} has no layers")
    parsed = [_parse_layer(spec, keras_version, f"{where} layer #{i}") for i, spec in enumerate(specs)]
    layers: list[KerasLayer] = []
    if parsed[0].class_name != "InputLayer":
        first = parsed[0].config
        shape = first.get(KERAS2_SHAPE_KEY) or first.get(KERAS3_SHAPE_KEY) or _build_shape(specs[0])
        if shape is None:
            raise InputError(f"{where} has no input shape; build it before saving")
        layers.append(KerasLayer("InputLayer", f"{name}_input", {KERAS3_SHAPE_KEY: shape,
                                                                   "dtype": _dtype_name(first.get("dtype"))}))
    for layer in parsed:
        if layers:
            layer.calls = [Call([TensorRef(layers[-1].name)])]
        layers.append(layer)
    last = layers[-1].name
    model = KerasModel(name, layers, [TensorRef(layers[0].name)], [TensorRef(last)], [last], keras_version, True)
    check_references(model)
    return model


def check_references(model: KerasModel) -> None:
    """Layer names are unique, and every call argument and model output names a call that exists."""
    by_name: dict[str, KerasLayer] = {}
    for layer in model.layers:
        if layer.name in by_name:
            raise InputError(f"model '{model.name}': two layers are named '{layer.name}'")
        by_name[layer.name] = layer
    for layer in model.layers:
        for i, call in enumerate(layer.calls):
            for ref in call.args:
                _check_ref(ref, by_name, f"layer '{layer.name}' ({layer.class_name}) inbound node {i}")
    for ref in model.inputs + model.outputs:
        _check_ref(ref, by_name, f"model '{model.name}' inputs/outputs")
    inputs = set(model.inputs)
    for ref in model.outputs:
        if ref not in inputs and ref.node >= len(by_name[ref.layer].calls):
            raise InputError(f"model '{model.name}': output '{ref.layer}' is a layer the model never calls")
    call_order(model)  # refuses cycles


def call_order(model: KerasModel) -> list[tuple[KerasLayer, int]]:
    """Every layer call, in waves of calls whose inputs are ready (model order within a wave); refuses cycles.

    Linear in calls and arguments (Kahn's algorithm), so that a hostile config of many layers cannot make it
    quadratic. A call is ready when each argument is a model input or an output of a call already in order.
    """
    calls = [(layer, i) for layer in model.layers for i in range(len(layer.calls))]
    index = {(layer.name, i): k for k, (layer, i) in enumerate(calls)}
    inputs = set(model.inputs)
    missing = [0] * len(calls)
    waiters: dict[int, list[int]] = {}
    for k, (layer, i) in enumerate(calls):
        for arg in layer.calls[i].args:
            if arg not in inputs:
                missing[k] += 1
                waiters.setdefault(index.get((arg.layer, arg.node), -1), []).append(k)
    order: list[int] = []
    wave = [k for k, count in enumerate(missing) if count == 0]
    while wave:
        order += wave
        after = []
        for k in wave:
            for w in waiters.get(k, ()):
                missing[w] -= 1
                after += [w] if missing[w] == 0 else []
        wave = sorted(after)
    if len(order) < len(calls):
        waiting = sorted({calls[k][0].name for k, count in enumerate(missing) if count})
        raise InputError(f"model '{model.name}': layer(s) {', '.join(waiting[:5])} read outputs that are never "
                         "computed (a cycle, a layer calling itself, or an input the model does not list)")
    return [calls[k] for k in order]


def _check_ref(ref: TensorRef, by_name: dict[str, KerasLayer], where: str) -> None:
    producer = by_name.get(ref.layer)
    if producer is None:
        raise InputError(f"{where}: reads layer '{ref.layer[:80]}', which the model does not have")
    calls = max(len(producer.calls), 1)
    if ref.node >= calls:
        raise InputError(f"{where}: reads call {ref.node} of layer '{ref.layer}', which is called {calls} time(s)")


def _build_shape(spec: JsonDict) -> list[Any] | None:
    build = spec.get("build_config") or {}
    shape = build.get("input_shape") if isinstance(build, dict) else None
    return list(shape) if isinstance(shape, list) and shape else None


def _dtype_name(dtype: Any) -> str:
    """A layer dtype: a string (Keras 2) or a DTypePolicy dict (Keras 3)."""
    if isinstance(dtype, dict):
        config = dtype.get("config")
        return str(config.get("name", "float32")) if isinstance(config, dict) else "float32"
    return str(dtype or "float32")


def input_shape(layer: KerasLayer) -> list[int | None]:
    """The batch shape of an InputLayer in any dialect."""
    shape = batch_shape(layer.config)
    if shape is None:
        raise InputError(f"input layer '{layer.name}' has no shape")
    return as_dims(shape, f"input layer '{layer.name}' shape")


def layer_dtype(layer: KerasLayer) -> str:
    """The compute dtype of a layer ('float32' unless a policy says otherwise)."""
    name = _dtype_name(layer.config.get("dtype"))
    return name.split("_")[-1] if name.startswith("mixed_") else name
