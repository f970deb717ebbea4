"""Keras model configs (Keras 2, Keras 3 or tfjs dialect) and weights -> a layers model tfjs 4.22 loads."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backends.base import BackendOptions, WriteResult
from backends.tfjs_layers import write_layers
from pivot.errors import InputError, ReasonCode, Unsupported, UnsupportedOpsError
from tfjs_format.keras_config import (
    KERAS2_SHAPE_KEY,
    KERAS3_SHAPE_KEY,
    MODEL_CLASSES,
    TFJS_LAYERS,
    keras2_ref,
    keras3_calls,
    keras_major,
    keras_tensors,
    nested_models,
    refuse_code,
    weight_names,
)

JsonDict = dict[str, Any]
LayerPath = tuple[str, ...]  # nested model names, then the layer name
# What reading a config of the wrong shape raises (a list where a dict is expected, a string index, ...).
_MALFORMED = (KeyError, TypeError, ValueError, IndexError, AttributeError)

# Activation names tfjs 4.22 knows (after its snake_case -> camelCase conversion), by Keras name.
ACTIVATIONS = {"elu": "elu", "gelu": "gelu", "hard_sigmoid": "hard_sigmoid", "linear": "linear",
               "log_softmax": "log_softmax", "mish": "mish", "relu": "relu", "relu6": "relu6", "selu": "selu",
               "sigmoid": "sigmoid", "softmax": "softmax", "softplus": "softplus", "softsign": "softsign",
               "swish": "swish", "silu": "swish", "tanh": "tanh", None: "linear"}
INITIALIZERS = {"Constant": "Constant", "GlorotNormal": "GlorotNormal", "GlorotUniform": "GlorotUniform",
                "HeNormal": "HeNormal", "HeUniform": "HeUniform", "Identity": "Identity",
                "IdentityInitializer": "Identity", "LecunNormal": "LeCunNormal", "LeCunNormal": "LeCunNormal",
                "LecunUniform": "LeCunUniform", "LeCunUniform": "LeCunUniform", "Ones": "Ones",
                "Orthogonal": "Orthogonal", "OrthogonalInitializer": "Orthogonal", "RandomNormal": "RandomNormal",
                "RandomUniform": "RandomUniform", "TruncatedNormal": "TruncatedNormal",
                "VarianceScaling": "VarianceScaling", "Zeros": "Zeros"}
CONSTRAINTS = frozenset({"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"})
# Keras 3 additions tfjs does not read; dropping them keeps model.json in the Keras 2 dialect.
DROPPED_KEYS = frozenset({"module", "registered_name", "build_config", "compile_config", "quantization_config",
                          "lora_rank", "lora_alpha", "optional", "ragged", "synchronized", "seed", "use_cudnn",
                          "zero_output_for_mask", "input_axes", "output_axes"})
# Ranks each kind of weight can have, over the layer classes tfjs holds (min, max): kernels of Dense (2) to
# Conv3D (5); a GRU's reset_after bias is 2-D; 2-D depthwise and separable convolutions only in tfjs.
WEIGHT_NDIMS = {"kernel": (2, 5), "recurrent_kernel": (2, 4), "depthwise_kernel": (4, 4), "pointwise_kernel": (4, 4),
                "bias": (1, 2), "moving_mean": (1, 1), "moving_variance": (1, 1), "embeddings": (2, 2),
                "gamma": (1, 5), "beta": (1, 5), "alpha": (1, 5)}


# What tfjs can do instead, for every refusal of this writer.
_HINT = "tf.loadLayersModel cannot run this; convert with --output-format tfjs_graph_model instead"


@dataclass
class Conversion:
    """State of one config conversion: refusals collected over the whole model, weight names by layer."""

    keras_major: int
    refusals: dict[tuple[str, ReasonCode, str], list[str]] = field(default_factory=dict)
    names: dict[LayerPath, list[str]] = field(default_factory=dict)

    def refuse(self, cls: str, layer: str, why: str, *, reason: ReasonCode) -> None:
        """Collect a refusal: ``reason`` is "no_rule" when tfjs lacks the class or function, "attribute" else."""
        self.refusals.setdefault((cls, reason, why), []).append(layer)

    def error(self) -> UnsupportedOpsError:
        return UnsupportedOpsError(Unsupported(cls, reason, tuple(layers), why, _HINT)
                                   for (cls, reason, why), layers in self.refusals.items())


def tfjs_topology(spec: JsonDict, keras_version: str, backend: str = "") -> tuple[JsonDict, dict[LayerPath, list[str]]]:
    """The ``modelTopology`` tfjs-layers loads, and the tfjs weight names of every layer (by layer path).

    No code passes: the config read and the one written are searched for Lambda bytecode and custom modules.
    """
    refuse_code(spec, "TensorFlow.js layers model")
    conversion = Conversion(keras_major(keras_version))
    try:
        config = _model(conversion, spec, ())
    except _MALFORMED as e:
        raise InputError(f"malformed model config ({type(e).__name__}: {e})") from None
    refuse_code(config, "TensorFlow.js layers model")
    if conversion.refusals:
        raise conversion.error()
    topology = {"keras_version": keras_version or "2", "backend": backend or "tensorflow", "model_config": config}
    return topology, conversion.names


def _model(conversion: Conversion, spec: JsonDict, path: LayerPath) -> JsonDict:
    cls, config = spec.get("class_name"), spec.get("config")
    if cls == "Sequential" and isinstance(config, (dict, list)):  # Keras 2.0 wrote a bare list of layers
        return {"class_name": "Sequential", "config": _sequential(conversion, config, path)}
    if cls not in MODEL_CLASSES or not isinstance(config, dict):
        raise InputError(f"not a Keras model config (class_name {cls!r})")
    keras3 = keras3_calls(config["layers"])
    nested = nested_models(config["layers"], name_of=_name)
    # Only Keras 3 references to nested models are renumbered: Keras 2 numbers them as tfjs does.
    renumbered = nested if keras3 else {}
    layers = [_layer(conversion, layer, path, renumbered) for layer in config["layers"]]
    out = {"name": config.get("name", "model"), "layers": layers,
           "input_layers": _ref_list(config["input_layers"], {}),
           "output_layers": _ref_list(config["output_layers"], renumbered)}
    return {"class_name": "Functional" if cls != "Model" else "Model", "config": out}


def _name(spec: JsonDict) -> str:
    return str(spec.get("name") or spec.get("config", {}).get("name"))


def _sequential(conversion: Conversion, config: Any, path: LayerPath) -> JsonDict:
    specs = config["layers"] if isinstance(config, dict) else config
    name = config.get("name", "sequential") if isinstance(config, dict) else "sequential"
    layers = [_layer(conversion, spec, path, {}) for spec in specs]
    first = layers[0]["config"] if layers else {}
    shape = (config.get("build_input_shape") or (config.get("build_config") or {}).get("input_shape")
             if isinstance(config, dict) else None)
    if layers and layers[0]["class_name"] != "InputLayer" and KERAS2_SHAPE_KEY not in first:
        if shape is None:
            conversion.refuse("Sequential", name, "a Sequential model without an input shape cannot be rebuilt by tfjs",
                              reason="attribute")
        first[KERAS2_SHAPE_KEY] = list(shape or [])
    return {"name": name, "layers": layers}


def _layer(conversion: Conversion, spec: JsonDict, path: LayerPath, nested: Mapping[str, str]) -> JsonDict:
    if not isinstance(spec, dict) or not isinstance(spec.get("class_name"), str):
        raise InputError(f"a layer of the model config is not a {{class_name, config}} object: {str(spec)[:60]}")
    try:
        return _layer_of(conversion, spec, path, nested)
    except _MALFORMED as e:  # the spec comes from a file: a value of the wrong type is the file's fault
        raise InputError(f"layer '{_name(spec)}' ({spec['class_name']}): malformed config "
                         f"({type(e).__name__}: {e})") from None


def _layer_of(conversion: Conversion, spec: JsonDict, path: LayerPath, nested: Mapping[str, str]) -> JsonDict:
    cls, name = spec["class_name"], _name(spec)
    out: JsonDict = {"class_name": cls, "name": name}
    if cls in MODEL_CLASSES:
        out.update(_model(conversion, spec, (*path, name)))
        out["name"] = name
    else:
        out["config"] = layer_config(conversion, cls, dict(spec.get("config", {})), name, rank=_rank(spec))
        names = weight_names(cls, out["config"])
        if names:
            key: LayerPath = (*path, name)
            conversion.names[key] = [f"{name}/{w}" for w in names]
    out["inbound_nodes"] = [_node(conversion, n, nested, name, cls) for n in spec.get("inbound_nodes", [])]
    return out


def layer_config(conversion: Conversion, cls: str, cfg: JsonDict, name: str, where: str = "",
                 rank: int | None = None) -> JsonDict:
    """One layer's config in the Keras 2 dialect; unsupported classes or values are refused (collected).

    ``where`` names the layer in refusals when it differs from ``name`` (a layer wrapped in another);
    ``rank`` is the input rank when the file records it (Keras 3 ``build_config``).
    """
    where = where or name
    if cls not in TFJS_LAYERS:
        conversion.refuse(cls, where, f"TensorFlow.js has no {cls} layer", reason="no_rule")
        return cfg
    _deviations(conversion, cls, cfg, where, rank)
    cfg = {k: _value(conversion, cls, k, v, where) for k, v in cfg.items() if k not in DROPPED_KEYS}
    cfg["name"] = name
    for rewrite in LAYER_RULES.get(cls, ()):
        rewrite(conversion, cls, cfg, where)
    return cfg


def _rank(spec: JsonDict) -> int | None:
    """The rank of a layer's first input when the file records it (Keras 3 call arguments, build_config)."""
    nodes = spec.get("inbound_nodes") or [None]
    if isinstance(nodes[0], dict):
        tensors = _tensor_configs(nodes[0].get("args", []))
        if tensors and isinstance(tensors[0].get("shape"), list):
            return len(tensors[0]["shape"])
    shape = (spec.get("build_config") or {}).get("input_shape")
    return len(shape) if isinstance(shape, list) and shape and not isinstance(shape[0], list) else None


def _value(conversion: Conversion, cls: str, key: str, value: Any, layer: str) -> Any:
    if key == "dtype":
        return _dtype(value)
    if key == KERAS3_SHAPE_KEY:
        return value
    if key.endswith("_initializer"):
        return _object(value, INITIALIZERS)
    if key.endswith("_regularizer"):
        return _regularizer(value)
    if key.endswith("_constraint"):
        return _object(value, {c: c for c in CONSTRAINTS})
    if key in ("activation", "recurrent_activation"):
        return _activation(conversion, cls, value, layer)
    return _strip(value)


def _strip(value: Any) -> Any:
    """Nested dicts without Keras 3 bookkeeping keys (module, registered_name, ...)."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in DROPPED_KEYS}
    if isinstance(value, (list, tuple)):
        return [_strip(v) for v in value]
    return value


def _dtype(value: Any) -> str:
    """A DTypePolicy dict or name -> the variable dtype tfjs computes in (mixed precision stays float32)."""
    if isinstance(value, dict):
        value = value.get("config", {}).get("name", "float32")
    name = str(value or "float32")
    return "float32" if name.startswith("mixed_") or name in ("float16", "bfloat16", "float64") else name


def _object(value: Any, known: Mapping[str, str]) -> Any:
    """An initializer/constraint as ``{class_name, config}``; ones tfjs lacks become null (tfjs's default)."""
    if not isinstance(value, dict) or value.get("class_name") not in known:
        return None
    return {"class_name": known[value["class_name"]], "config": _strip(value.get("config") or {})}


def _regularizer(value: Any) -> Any:
    if not isinstance(value, dict):
        return None
    cls, cfg = value.get("class_name"), value.get("config") or {}
    if cls in ("L1", "L2", "L1L2", "l1_l2"):
        return {"class_name": "L1L2", "config": {"l1": float(cfg.get("l1", 0.0)), "l2": float(cfg.get("l2", 0.0))}}
    return None


def _activation(conversion: Conversion, cls: str, value: Any, layer: str) -> str:
    if isinstance(value, dict):  # Keras 3 may serialize a built-in activation as a function object
        value = value.get("config") if value.get("class_name") == "function" else value.get("class_name")
    if value == "hard_sigmoid" and conversion.keras_major >= 3:
        conversion.refuse(cls, layer, "Keras 3 hard_sigmoid (slope 1/6) differs from tfjs hardSigmoid (0.2)",
                          reason="attribute")
    if value not in ACTIVATIONS:
        conversion.refuse(cls, layer, f"TensorFlow.js has no activation {value!r}", reason="no_rule")
        return "linear"
    return ACTIVATIONS[value]


def _node(conversion: Conversion, node: Any, nested: Mapping[str, str], layer: str, cls: str) -> Any:
    """A Keras 3 call (``{"args", "kwargs"}``) as a Keras 2 node ``[[layer, node, tensor, kwargs], ...]``."""
    if not isinstance(node, dict):
        return _strip(node)
    raw_kwargs = node.get("kwargs") or {}
    if any(_histories(v) for v in raw_kwargs.values()):
        conversion.refuse(cls, layer, "tensor keyword arguments (masks, initial states) cannot be saved for tfjs",
                          reason="attribute")
    kwargs = {k: _strip(v) for k, v in raw_kwargs.items() if v is not None and not _histories(v)}
    return [[*keras2_ref(h, nested, in_outputs=False), kwargs] for h in _histories(node.get("args", []))]


def _histories(value: Any) -> list[list[Any]]:
    """``keras_history`` of every Keras 3 tensor in a nested args structure, in order."""
    return [list(t["keras_history"]) for t in _tensor_configs(value)]


def _tensor_configs(value: Any) -> list[JsonDict]:
    """The config (shape, dtype, keras_history) of every Keras 3 tensor in a nested structure, in order."""
    return [t["config"] for t in keras_tensors(value)]


def _ref_list(value: Any, nested: Mapping[str, str]) -> list[list[Any]]:
    """``input_layers``/``output_layers`` as a list of ``[layer, node, tensor]`` (Keras 3 may write one or a dict)."""
    if isinstance(value, dict):
        value = list(value.values())
    if value and isinstance(value[0], str):
        value = [value]
    return [keras2_ref(v, nested, in_outputs=True) for v in value]


def _input_layer(conversion: Conversion, cls: str, cfg: JsonDict, name: str) -> None:
    if KERAS3_SHAPE_KEY in cfg:
        cfg[KERAS2_SHAPE_KEY] = cfg.pop(KERAS3_SHAPE_KEY)


def _convolution(conversion: Conversion, cls: str, cfg: JsonDict, name: str) -> None:
    if int(cfg.pop("groups", 1) or 1) != 1:
        conversion.refuse(cls, name, "grouped convolution (groups > 1)", reason="attribute")
    if cls == "SeparableConv2D":  # tfjs rejects the plain-conv kernel_* fields on separable convolutions
        for key in ("kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            cfg.pop(key, None)


def _wrapper(conversion: Conversion, cls: str, cfg: JsonDict, name: str) -> None:
    inner = cfg.get("layer") or {}
    inner_cls, inner_cfg = inner.get("class_name", "?"), dict(inner.get("config") or {})
    inner_name = str(inner_cfg.get("name", "layer"))
    if cls == "Bidirectional":
        # Keras 3 stores the forward copy ("forward_lstm"); tfjs derives forward_/backward_ from the name itself.
        inner_name = inner_name.removeprefix("forward_")
        backward = cfg.pop("backward_layer", None)
        if backward and backward.get("class_name") != inner_cls:
            conversion.refuse(cls, name, "a backward layer of another class than the forward one", reason="attribute")
    cfg["layer"] = {"class_name": inner_cls,
                    "config": layer_config(conversion, inner_cls, inner_cfg, inner_name, f"{name}/{inner_name}")}


def _renamed(conversion: Conversion, cls: str, cfg: JsonDict, name: str) -> None:
    """Keras 3 spellings tfjs does not know, and Keras 3 fields that must keep their default."""
    if cls == "LeakyReLU" and "negative_slope" in cfg:
        cfg["alpha"] = cfg.pop("negative_slope")
    if isinstance(cfg.get("axis"), list) and cls in ("Softmax", "BatchNormalization") and len(cfg["axis"]) == 1:
        cfg["axis"] = cfg["axis"][0]
    for key, default in (("negative_slope", 0.0), ("threshold", 0.0), ("keepdims", False), ("renorm", False),
                         ("rms_scaling", False), ("pad_to_aspect_ratio", False), ("antialias", False)):
        if key in cfg and (cfg.pop(key) or default) != default:
            conversion.refuse(cls, name, f"{key} other than {default!r}", reason="attribute")
    for key in ("renorm_clipping", "renorm_momentum", "fill_mode", "fill_value"):
        cfg.pop(key, None)


def _dilated(cfg: JsonDict) -> bool:
    rate = cfg.get("dilation_rate", 1)
    return any(int(r) != 1 for r in (rate if isinstance(rate, list) else [rate]))


def _not_last_axis(cfg: JsonDict, rank: int | None) -> bool:
    """Whether ``axis`` is known not to be the last axis (unknown rank: assume it is, as Keras 2 files say [rank-1])."""
    axis = cfg.get("axis", -1)
    if isinstance(axis, list):
        return len(axis) != 1 or _not_last_axis({"axis": axis[0]}, rank)
    return int(axis) != -1 and rank is not None and int(axis) % rank != rank - 1


def _channels_first(cfg: JsonDict, rank: int | None) -> bool:
    return cfg.get("data_format") == "channels_first"


# Config values tfjs-layers 4.22 lacks or computes differently from Keras (each one measured in the per-layer
# parity cases of tests/test_keras_layers.py, on the cpu backend as well as wasm): (classes, applies, reason).
DEVIATIONS: tuple[tuple[frozenset[str], Callable[[JsonDict, int | None], bool], str], ...] = (
    (frozenset({"Resizing", "CenterCrop"}), lambda c, r: True,
     "tfjs-layers 4.22 builds this layer's output shape without the batch axis"),
    (frozenset({"UpSampling2D"}), lambda c, r: c.get("interpolation") == "bilinear",
     "bilinear upsampling samples other points in tfjs"),
    (frozenset({"DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "Conv3DTranspose"}),
     lambda c, r: _dilated(c), "dilation_rate > 1 is ignored by tfjs here"),
    (frozenset({"SeparableConv2D", "Conv1D", "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D",
                "GlobalMaxPooling1D"}), _channels_first, "channels_first is not supported by tfjs here"),
    (frozenset({"Conv1D"}), lambda c, r: c.get("padding") == "causal", "causal padding"),
    (frozenset({"Conv2DTranspose", "Conv3DTranspose"}), lambda c, r: c.get("output_padding") is not None,
     "output_padding"),
    (frozenset({"ELU"}), lambda c, r: float(c.get("alpha", 1.0)) != 1.0, "alpha other than 1"),
    (frozenset({"Softmax", "BatchNormalization"}), _not_last_axis, "an axis other than the last one"),
    (frozenset({"GRU"}), lambda c, r: bool(c.get("reset_after", False)),
     "GRU with reset_after=True (tfjs implements only reset_after=False)"),
    (frozenset({"GRU", "LSTM", "SimpleRNN", "ConvLSTM2D"}), lambda c, r: bool(c.get("stateful")),
     "stateful recurrent layers"),
    (frozenset({"InputLayer"}), lambda c, r: bool(c.get("sparse")), "sparse inputs"),
    (frozenset({"Rescaling"}), lambda c, r: isinstance(c.get("scale"), list) or isinstance(c.get("offset"), list),
     "per-channel scale or offset"),
)
LAYER_RULES = {
    "InputLayer": (_input_layer,),
    **{c: (_convolution,) for c in ("Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose",
                                    "DepthwiseConv2D", "SeparableConv2D")},
    "Bidirectional": (_wrapper,), "TimeDistributed": (_wrapper,),
    **{c: (_renamed,) for c in ("LeakyReLU", "ReLU", "Softmax", "BatchNormalization", "LayerNormalization",
                                "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
                                "GlobalMaxPooling2D", "Resizing", "CenterCrop")},
}


def _deviations(conversion: Conversion, cls: str, cfg: JsonDict, where: str, rank: int | None) -> None:
    for classes, applies, why in DEVIATIONS:
        if cls in classes and applies(cfg, rank):
            conversion.refuse(cls, where, why, reason="attribute")


@dataclass
class ArrayWeights:
    """In-memory weights in the shape ``tfjs_format.layers_model.write_layers_model`` reads."""

    entries: list[JsonDict] = field(default_factory=list)
    arrays: list[np.ndarray] = field(default_factory=list)

    def add(self, name: str, array: np.ndarray) -> None:
        arr = np.asarray(array)
        # tfjs holds float32, int32 and bool only (float64/float16 and int64 narrow as its converter does).
        dtype = {"i": "int32", "u": "int32", "b": "bool"}.get(arr.dtype.kind, "float32")
        arr = arr.astype(dtype)
        self.entries.append({"name": name, "shape": list(arr.shape), "dtype": dtype})
        self.arrays.append(arr)

    def load(self, index: int) -> np.ndarray:
        return self.arrays[index]


def named_weights(names: Mapping[LayerPath, list[str]],
                  weights: Mapping[LayerPath, Sequence[np.ndarray]]) -> ArrayWeights:
    """Each layer's arrays under their tfjs names; a count mismatch or an orphan weight is an error."""
    out = ArrayWeights()
    for path, wnames in names.items():
        arrays = list(weights.get(path, ()))
        if len(arrays) != len(wnames):
            raise InputError(f"layer '{'/'.join(path)}' has {len(arrays)} weights in the file; its TensorFlow.js "
                             f"layer expects {len(wnames)} ({', '.join(wnames)})")
        for name, arr in zip(wnames, arrays, strict=True):
            _check_ndim(name, arr)
            out.add(name, arr)
    orphans = sorted("/".join(p) for p, arrays in weights.items() if len(arrays) and p not in names)
    if orphans:
        raise InputError(f"weights of layer(s) {', '.join(orphans)} have no place in the TensorFlow.js model")
    dupes = sorted({e["name"] for e in out.entries if [x["name"] for x in out.entries].count(e["name"]) > 1})
    if dupes:
        raise InputError(f"TensorFlow.js names weights by layer name only; {', '.join(dupes)} occur twice "
                         "(two nested models hold layers of the same name)")
    return out


def _check_ndim(name: str, arr: np.ndarray) -> None:
    """A weight of a rank its kind never has (a scalar kernel, a 3-D bias) is the file's error, not tfjs's."""
    low, high = WEIGHT_NDIMS.get(name.rsplit("/", 1)[-1], (0, 32))
    if not low <= np.ndim(arr) <= high:
        raise InputError(f"weight '{name}' has shape {np.shape(arr)} in the file; a weight of its kind has "
                         f"{low}..{high} dims")


def write_keras_layers(spec: JsonDict, weights: Mapping[LayerPath, Sequence[np.ndarray]], out_dir: Path,
                       options: BackendOptions, *, keras_version: str = "", backend: str = "") -> WriteResult:
    """Write ``spec`` (any Keras dialect) with ``weights`` (by layer path) as a tfjs 4.22 layers model."""
    topology, names = tfjs_topology(spec, keras_version, backend)
    source = named_weights(names, weights)
    doc: JsonDict = {"format": "layers-model", "generatedBy": f"keras v{keras_version}" if keras_version else None,
                     "convertedBy": None}
    if options.metadata:
        doc["userDefinedMetadata"] = options.metadata
    doc["modelTopology"] = topology
    return write_layers(doc, source, out_dir, options)

