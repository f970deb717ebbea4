"""A Keras 2 / tfjs-dialect model config rewritten in the Keras 3 dialect that ``keras.models.load_model`` reads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pivot.errors import InputError, Unsupported, UnsupportedOpsError
from tfjs_format.keras_config import (
    KERAS2_SHAPE_KEY,
    KERAS3_SHAPE_KEY,
    MODEL_CLASSES,
    TFJS_LAYERS,
    keras3_calls,
    keras3_ref,
    nested_models,
    refuse_code,
    weight_names,
)

JsonDict = dict[str, Any]
LayerPath = tuple[str, ...]
# The Keras 3 release whose loaders the written files target (the dialect is unchanged since 3.0).
KERAS_VERSION = "3.0.0"
# Keys Keras 2 or tfjs write that Keras 3 layer constructors reject, by class.
REJECTED_KEYS: dict[str, tuple[str, ...]] = {
    **{c: ("time_major",) for c in ("LSTM", "GRU", "SimpleRNN")},
    "ConvLSTM2D": ("time_major", "implementation"),
    **{c: ("groups",) for c in ("Conv2DTranspose", "Conv3DTranspose", "DepthwiseConv2D")},
    "SeparableConv2D": ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"),
    "SpatialDropout1D": ("trainable", "noise_shape"),
}
INITIALIZERS = {"LeCunNormal": "LecunNormal", "LeCunUniform": "LecunUniform"}
# tfjs's VarianceScaling "normal" is a truncated normal; Keras 3 spells it out.
DISTRIBUTIONS = {"normal": "truncated_normal"}
# What reading a config of the wrong shape raises (a list where a dict is expected, a string index, ...).
_MALFORMED = (KeyError, TypeError, ValueError, IndexError, AttributeError)
FUNCTIONAL = {"module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional"}
SEQUENTIAL = {"module": "keras", "class_name": "Sequential", "registered_name": None}


@dataclass(frozen=True)
class LayerWeights:
    """Where a layer's weights go: their names (``layer/weight``) and whether each is trainable."""

    names: tuple[str, ...]
    trainable: tuple[bool, ...]
    # (sub-object path, count) in Keras object order, e.g. [("forward_layer/cell", 3), ("backward_layer/cell", 3)]
    groups: tuple[tuple[str, int], ...]


def keras3_spec(spec: JsonDict) -> JsonDict:
    """``spec`` ({"class_name", "config"} of a Keras 2 / tfjs model) as Keras 3 saves it; refuses what Keras 3 lacks.

    Only built-in layer classes are written, and no code: the config read and the config written are both
    searched for Lambda bytecode and custom modules, so a later ``load_model(safe_mode=False)`` runs nothing.
    """
    refuse_code(spec, "Keras file")
    refusals: dict[tuple[str, str], list[str]] = {}
    try:
        out = _model(spec, refusals)
    except _MALFORMED as e:
        raise InputError(f"malformed model config ({type(e).__name__}: {e})") from None
    refuse_code(out, "Keras file")
    if refusals:
        raise UnsupportedOpsError(Unsupported(cls, "attribute", tuple(names), why) for (cls, why), names in
                                  refusals.items())
    return out


def _model(spec: JsonDict, refusals: dict[tuple[str, str], list[str]]) -> JsonDict:
    cls, config = spec.get("class_name"), spec.get("config")
    if cls not in MODEL_CLASSES or not isinstance(config, (dict, list)):
        raise InputError(f"not a Keras model config (class_name {cls!r})")
    if cls == "Sequential":
        specs = config["layers"] if isinstance(config, dict) else config
        name = config.get("name", "sequential") if isinstance(config, dict) else "sequential"
        layers = [_layer(s, refusals) for s in _with_input_layer(specs)]
        return {**SEQUENTIAL, "config": {"name": name, "trainable": True, "layers": layers}}
    if not isinstance(config, dict):
        raise InputError(f"{cls} model config is not a mapping")
    layers = [_layer(s, refusals) for s in config["layers"]]
    outputs = config["output_layers"]
    if not keras3_calls(layers):
        outputs = _keras3_node_indices(layers, outputs)
    out = {"name": config.get("name", "model"), "trainable": config.get("trainable", True), "layers": layers,
           "input_layers": config["input_layers"], "output_layers": outputs}
    return {**FUNCTIONAL, "config": out}


def _keras3_node_indices(layers: list[JsonDict], outputs: Any) -> Any:
    """Renumber references to nested models from the Keras 2 / tfjs convention to Keras 3's (in place).

    Keras 2 and tfjs count a nested model's own construction as its node 0. Keras 3 reads list-style call
    arguments as plain call indices, and counts the extra node in ``output_layers`` for Functional models only.
    """
    nested = nested_models(layers, name_of=lambda layer: layer["name"])
    for layer in layers:
        layer["inbound_nodes"] = [[keras3_ref(entry, nested, in_outputs=False) for entry in node]
                                  for node in layer.get("inbound_nodes", [])]
    if outputs and isinstance(outputs[0], str):
        return keras3_ref(outputs, nested, in_outputs=True)
    return [keras3_ref(ref, nested, in_outputs=True) for ref in outputs]


def _with_input_layer(specs: list[JsonDict]) -> list[JsonDict]:
    """Keras 3 Sequential models start with an InputLayer; Keras 2 / tfjs put batch_input_shape on layer 0."""
    if not specs or specs[0]["class_name"] == "InputLayer":
        return specs
    first = dict(specs[0])
    cfg = dict(first.get("config", {}))
    shape = cfg.pop(KERAS2_SHAPE_KEY, None)
    if shape is None:
        raise InputError("a Sequential model without an input shape cannot be saved for Keras 3")
    first["config"] = cfg
    name = f"{cfg.get('name', 'sequential')}_input"
    return [{"class_name": "InputLayer", "config": {KERAS2_SHAPE_KEY: shape, "dtype": cfg.get("dtype", "float32"),
                                                   "name": name}}, first, *specs[1:]]


def _layer(spec: JsonDict, refusals: dict[tuple[str, str], list[str]]) -> JsonDict:
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise InputError(f"a layer of the model config is not a {{class_name, config}} object: {str(spec)[:60]}")
    cls = spec["class_name"]
    name = spec.get("name") or (spec.get("config") or {}).get("name")
    try:
        return _layer_of(spec, cls, name, refusals)
    except _MALFORMED as e:  # the spec comes from a file: a value of the wrong type is the file's fault
        raise InputError(f"layer '{name}' ({cls}): malformed config ({type(e).__name__}: {e})") from None


def _layer_of(spec: JsonDict, cls: str, name: Any, refusals: dict[tuple[str, str], list[str]]) -> JsonDict:
    if cls in MODEL_CLASSES:
        out = _model(spec, refusals)
    else:
        if cls not in TFJS_LAYERS:
            refusals.setdefault((cls, "only built-in layer classes of TensorFlow.js layers models are written"),
                                []).append(str(name))
        cls, cfg = layer_config(cls, dict(spec.get("config", {})), refusals)
        out = _keras3_object("keras.layers", cls, cfg)
    out["name"] = name
    if "inbound_nodes" in spec:
        out["inbound_nodes"] = spec["inbound_nodes"]
    return out


def layer_config(cls: str, cfg: JsonDict, refusals: dict[tuple[str, str], list[str]]) -> tuple[str, JsonDict]:
    """One layer's class and config in the Keras 3 dialect."""
    name = str(cfg.get("name", cls))
    for key in REJECTED_KEYS.get(cls, ()):
        cfg.pop(key, None)
    if cls != "InputLayer":
        cfg.pop(KERAS2_SHAPE_KEY, None)
    elif KERAS2_SHAPE_KEY in cfg:
        cfg[KERAS3_SHAPE_KEY] = cfg.pop(KERAS2_SHAPE_KEY)
    if cls == "ThresholdedReLU":  # gone in Keras 3; ReLU(threshold) differs only at x == theta
        cls, cfg = "ReLU", {"name": name, "threshold": float(cfg.get("theta", 1.0)), "trainable": True}
    if cls == "LeakyReLU" and "alpha" in cfg:
        cfg["negative_slope"] = cfg.pop("alpha")
    for key, value in list(cfg.items()):
        cfg[key] = _value(key, value, cls, name, refusals)
    return cls, cfg


def _value(key: str, value: Any, cls: str, layer: str, refusals: dict[tuple[str, str], list[str]]) -> Any:
    if key in ("activation", "recurrent_activation") and value is not None and not isinstance(value, str):
        # Keras resolves an activation name among its own functions; an object here could name anything else.
        refusals.setdefault((cls, f"{key} that is not an activation name"), []).append(layer)
    if key in ("activation", "recurrent_activation") and value in ("hard_sigmoid", "gelu_new"):
        refusals.setdefault((cls, f"activation {value!r} has another definition in Keras 3"), []).append(layer)
    if key in ("layer", "backward_layer") and isinstance(value, dict):  # Bidirectional / TimeDistributed
        if value["class_name"] not in TFJS_LAYERS:
            refusals.setdefault((cls, f"wrapped class {str(value['class_name'])[:60]} is not a built-in layer "
                                      "of TensorFlow.js layers models"), []).append(layer)
        inner_cls, inner_cfg = layer_config(value["class_name"], dict(value.get("config", {})), refusals)
        return _keras3_object("keras.layers", inner_cls, inner_cfg)
    for suffix, module in (("_initializer", "initializers"), ("_regularizer", "regularizers"),
                           ("_constraint", "constraints")):
        if key.endswith(suffix) and isinstance(value, dict) and "class_name" in value:
            return _keras_object(value, module)
    return value


def _keras_object(value: JsonDict, module: str) -> JsonDict:
    cls = INITIALIZERS.get(value["class_name"], value["class_name"])
    cfg = dict(value.get("config") or {})
    if "distribution" in cfg:
        cfg["distribution"] = DISTRIBUTIONS.get(cfg["distribution"], cfg["distribution"])
    return _keras3_object(f"keras.{module}", cls, cfg)


def _keras3_object(module: str, cls: Any, cfg: JsonDict) -> JsonDict:
    """A built-in Keras object as Keras 3 serializes it (``registered_name`` is null: no custom class)."""
    return {"module": module, "class_name": cls, "config": cfg, "registered_name": None}


def layer_weights(spec: JsonDict, counts: dict[LayerPath, int]) -> dict[LayerPath, LayerWeights]:
    """Names, trainability and object groups of every weight-holding layer of a Keras 3 spec."""
    return dict(_walk_weights(spec, (), True, counts))


def _walk_weights(spec: JsonDict, prefix: LayerPath, trainable: bool,
                  counts: dict[LayerPath, int]) -> Iterator[tuple[LayerPath, LayerWeights]]:
    for layer in spec["config"]["layers"]:
        path = (*prefix, layer["name"])
        cfg = layer["config"]
        on = trainable and cfg.get("trainable", True) is not False
        if layer["class_name"] in MODEL_CLASSES:
            yield from _walk_weights(layer, path, on, counts)
        elif counts.get(path):
            names = weight_names(layer["class_name"], cfg) or [f"weight_{i}" for i in range(counts[path])]
            if len(names) != counts[path]:
                raise InputError(f"layer '{'/'.join(path)}' ({layer['class_name']}) has {counts[path]} weights; "
                                 f"its Keras class holds {len(names)}")
            flags = tuple(on and n.split("/")[-1] not in ("moving_mean", "moving_variance") for n in names)
            yield path, LayerWeights(tuple(f"{layer['name']}/{n}" for n in names), flags,
                                     object_groups(layer["class_name"], cfg, len(names)))


def object_groups(cls: str, cfg: JsonDict, count: int) -> tuple[tuple[str, int], ...]:
    """Where Keras 3 keeps a layer's variables, relative to the layer: its own vars, a cell's, a wrapped layer's."""
    if cls in ("LSTM", "GRU", "SimpleRNN", "ConvLSTM2D"):
        return (("cell", count),)
    if cls == "Bidirectional":
        inner = object_groups(cfg["layer"]["class_name"], cfg["layer"]["config"], count // 2)
        return tuple((f"{side}/{p}".rstrip("/"), n) for side in ("forward_layer", "backward_layer") for p, n in inner)
    if cls == "TimeDistributed":
        inner = object_groups(cfg["layer"]["class_name"], cfg["layer"]["config"], count)
        return tuple((f"layer/{p}".rstrip("/"), n) for p, n in inner)
    return (("", count),)
