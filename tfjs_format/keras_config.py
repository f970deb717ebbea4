"""Keras config dialects (Keras 2, Keras 3, tfjs) in one place: versions, calls, nested models, classes, code."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pivot.errors import InputError

JsonDict = dict[str, Any]

# --- Classes ---------------------------------------------------------------------------------------------------

# Classes of a whole model, as a top-level config or as a layer of another model (a nested model).
MODEL_CLASSES = frozenset({"Functional", "Model", "Sequential"})
# Layer classes registered in @tensorflow/tfjs-layers 4.22 (tf.serialization's class map): what both layers-model
# writers accept, the tfjs one and the Keras one (which writes what a layers model can hold).
TFJS_LAYERS = frozenset((
    "Activation", "Add", "AlphaDropout", "Average", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "BatchNormalization", "Bidirectional", "CategoryEncoding", "CenterCrop", "Concatenate", "Conv1D", "Conv2D",
    "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "ConvLSTM2D", "Cropping2D", "Dense", "DepthwiseConv2D", "Dot",
    "Dropout", "ELU", "Embedding", "Flatten", "GRU", "GaussianDropout", "GaussianNoise", "GlobalAveragePooling1D",
    "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "InputLayer", "LSTM", "LayerNormalization",
    "LeakyReLU", "Masking", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "Maximum", "Minimum", "Multiply",
    "PReLU", "Permute", "ReLU", "RepeatVector", "Rescaling", "Reshape", "Resizing", "SeparableConv2D", "SimpleRNN",
    "Softmax", "SpatialDropout1D", "ThresholdedReLU", "TimeDistributed", "UpSampling2D", "ZeroPadding2D",
))
# Keras layer.weights order, as tfjs names them: (weight, config flag that must be true for it to exist).
WEIGHTS: dict[str, tuple[tuple[str, str | None], ...]] = {
    **{c: (("kernel", None), ("bias", "use_bias")) for c in
       ("Dense", "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose")},
    "DepthwiseConv2D": (("depthwise_kernel", None), ("bias", "use_bias")),
    "SeparableConv2D": (("depthwise_kernel", None), ("pointwise_kernel", None), ("bias", "use_bias")),
    "BatchNormalization": (("gamma", "scale"), ("beta", "center"), ("moving_mean", None),
                           ("moving_variance", None)),
    "LayerNormalization": (("gamma", "scale"), ("beta", "center")),
    "PReLU": (("alpha", None),),
    "Embedding": (("embeddings", None),),
    **{c: (("kernel", None), ("recurrent_kernel", None), ("bias", "use_bias")) for c in
       ("SimpleRNN", "GRU", "LSTM", "ConvLSTM2D")},
}


def weight_names(cls: str, cfg: JsonDict) -> list[str]:
    """tfjs weight names (after ``layer/``) in Keras ``layer.weights`` order, from a layer's class and config."""
    if cls == "Bidirectional":
        inner = cfg["layer"]
        names = weight_names(inner["class_name"], inner["config"])
        prefix = inner["config"]["name"]
        return [f"forward_{prefix}/{n}" for n in names] + [f"backward_{prefix}/{n}" for n in names]
    if cls == "TimeDistributed":
        return weight_names(cfg["layer"]["class_name"], cfg["layer"]["config"])
    return [w for w, flag in WEIGHTS.get(cls, ()) if flag is None or cfg.get(flag, True)]


# --- Versions --------------------------------------------------------------------------------------------------

# ``keras_version`` values of Keras 2 and Keras 3 ("2.15.0", "3.3.3", "3"); Keras 1 and other dialects are refused.
_VERSION = re.compile(r"[23](\.[0-9A-Za-z+_-]+)*")
# The one default for a version that says nothing (empty, or not starting with a number): Keras 3 rules. The
# readers decide the numerics with it (hard_sigmoid's slope, epsilons), so every writer must decide the same.
UNKNOWN_MAJOR = 3


def keras_major(version: str) -> int:
    """The Keras major version whose semantics a config follows (``UNKNOWN_MAJOR`` when ``version`` is unknown)."""
    head = version.split(".")[0]
    return int(head) if head.isdigit() else UNKNOWN_MAJOR


def check_version(version: str, where: str = "") -> None:
    """Refuse a ``keras_version`` that is neither Keras 2 nor Keras 3 (an empty one means unknown: Keras 3 rules)."""
    if version and not (len(version) <= 64 and _VERSION.fullmatch(version)):
        prefix = f"{where}: " if where else ""
        raise InputError(f"{prefix}keras_version {version[:64]!r} is neither Keras 2 nor Keras 3 (refused; Keras 1 "
                         "and unknown dialects are not read)")


# --- Field names -----------------------------------------------------------------------------------------------

KERAS3_SHAPE_KEY = "batch_shape"
KERAS2_SHAPE_KEY = "batch_input_shape"  # also tfjs's converter
# Where the dialects keep the batch shape of a model input (InputLayer, or the first layer of a Sequential model);
# tfjs's own ``model.save`` writes camelCase.
SHAPE_KEYS = (KERAS3_SHAPE_KEY, KERAS2_SHAPE_KEY, "batchInputShape")
# Keras 3 writes every tensor in call arguments as ``{"class_name": KERAS_TENSOR, "config": {..., keras_history}}``.
KERAS_TENSOR = "__keras_tensor__"


def batch_shape(cfg: Mapping[str, Any]) -> Any:
    """The first batch shape ``cfg`` holds under any dialect's key (else the last, falsy, value found)."""
    value = None
    for key in SHAPE_KEYS:
        value = cfg.get(key)
        if value:
            return value
    return value


def snake_case(name: str) -> str:
    """Keras's ``naming.to_snake_case``: how Keras 3 names the object of a layer class in a weights file."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
    return name if not name.startswith("_") else "private" + name


# --- Call formats ----------------------------------------------------------------------------------------------


def keras3_calls(layers: Iterable[Any]) -> bool:
    """Whether layers record their calls in the Keras 3 form (``{"args", "kwargs"}``), not as Keras 2 / tfjs lists.

    The call format, not ``keras_version``, decides how node indices count (a layers model made from a Keras 3
    file holds Keras 2 lists). The layers are dicts: the caller has checked them, or catches what reading raises.
    """
    return any(isinstance(node, dict) for layer in layers for node in layer.get("inbound_nodes", []))


def keras_tensors(value: Any) -> Iterator[JsonDict]:
    """Every Keras 3 tensor object (``{"class_name": KERAS_TENSOR, "config"}``) in nested call arguments, in order."""
    if isinstance(value, dict):
        if value.get("class_name") == KERAS_TENSOR:
            yield value
            return
        for v in value.values():
            yield from keras_tensors(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from keras_tensors(v)


# --- Nested-model node numbering -------------------------------------------------------------------------------


def construction_nodes(class_name: str, *, keras3: bool, in_outputs: bool, built: bool = True) -> int:
    """How many nodes a reference to a nested model counts before the model's first call (0 or 1).

    Keras 2 and tfjs count a nested model's own construction as its node 0 wherever they refer to it (a
    Sequential model built without an input has none). Keras 3 call arguments hold plain call indices; its
    ``output_layers`` count the construction node of nested Functional models, not of Sequential ones.
    """
    if not keras3:
        return int(built or class_name != "Sequential")
    return int(in_outputs and class_name != "Sequential")


def nested_models(layers: Iterable[JsonDict], name_of: Callable[[JsonDict], Any]) -> dict[Any, str]:
    """Name -> class of the layers that are models themselves (references to them are renumbered)."""
    return {name_of(layer): layer["class_name"] for layer in layers if layer["class_name"] in MODEL_CLASSES}


def _shift(name: Any, nested: Mapping[Any, str], *, to_keras3: bool, in_outputs: bool) -> int:
    cls = nested.get(name)
    if cls is None:
        return 0
    target = construction_nodes(cls, keras3=to_keras3, in_outputs=in_outputs)
    return target - construction_nodes(cls, keras3=not to_keras3, in_outputs=in_outputs)


def keras2_ref(ref: Sequence[Any], nested: Mapping[Any, str], *, in_outputs: bool) -> list[Any]:
    """``[layer, node, tensor]`` of a Keras 3 config numbered as Keras 2 and tfjs number it (integers)."""
    name, node = ref[0], int(ref[1])
    return [name, node + _shift(name, nested, to_keras3=False, in_outputs=in_outputs), int(ref[2])]


def keras3_ref(ref: Sequence[Any], nested: Mapping[Any, str], *, in_outputs: bool) -> list[Any]:
    """``[layer, node, ...]`` of a Keras 2 / tfjs config numbered as Keras 3 numbers it (other fields as they are)."""
    shift = _shift(ref[0], nested, to_keras3=True, in_outputs=in_outputs)
    return [ref[0], max(int(ref[1]) + shift, 0), *ref[2:]] if shift else list(ref)


def sequential_built(layers: Any) -> bool:
    """Whether a Sequential model's layer list starts with an input: an InputLayer, or a batch shape on layer 0."""
    specs = layers or [{}]
    first = specs[0] if isinstance(specs[0], dict) else {}
    first_cfg = first.get("config") or {}
    return first.get("class_name") == "InputLayer" or any(k in first_cfg for k in SHAPE_KEYS)


# --- Code refusal ----------------------------------------------------------------------------------------------

# ``module`` as Keras itself writes it: "keras", "keras.layers", "keras.src.models.functional", ... (tf.keras 2.13+
# wrote "keras.src.engine..."; tf_keras the same under its own name). Matched by whole dotted components, so
# "kerasevil.layers" or "keras_evil" are user code.
KERAS_MODULE = re.compile(r"(keras|tf_keras)(\.[A-Za-z_][A-Za-z0-9_]*)*")
# Classes whose config is Python code (bytecode or a function name resolved at load time), with what readers say.
CODE_CLASSES = {
    "Lambda": "a Lambda layer holds Python code",
    "__lambda__": "a serialized Python lambda",
}
# tf.keras 2 records TensorFlow calls on Keras tensors (x * 2, x[:, 0], tf.nn.relu6) as these layers; a reader
# names them together once the whole config is searched (they are not converted yet, rather than dangerous).
TF_OP_CLASSES = frozenset({"TFOpLambda", "SlicingOpLambda"})
READ_CODE_CLASSES = frozenset(CODE_CLASSES) | TF_OP_CLASSES
# A writer refuses those and TFSMLayer too (it loads a SavedModel, i.e. a TensorFlow program, at load time).
WRITTEN_CODE_CLASSES = READ_CODE_CLASSES | {"TFSMLayer"}
# Config keys that hold a function payload (Keras 2 Lambda: "function" + "function_type").
CODE_KEYS = frozenset({"function_type"})
_NEVER_RUN = "code stored in a model file is never run or carried into an output; rebuild it with built-in layers"
# What an object holds: a code class (other than a TF op), a TF op layer, a class from a foreign module, a function.
CodeKind = Literal["class", "tf_op", "module", "function"]


@dataclass(frozen=True)
class CodeFound:
    """An object of a config that carries code: the layer holding it, and what the code is."""

    kind: CodeKind
    layer: str
    class_name: Any
    module: Any = None


def refuse_code(config: Any, written_into: str | None = None) -> None:
    """Refuse a model config holding code anywhere (nested models, wrapped layers, activations included).

    Readers pass no ``written_into``: the message names the layer and says the code is never run; tf.keras 2
    TensorFlow-op layers are named together after the whole search. Writers name what they write ("Keras file",
    "TensorFlow.js layers model"), for the config read and again for the config about to be written: the
    message says the code is never written there, and TFSMLayer is refused as well.
    """
    if written_into is None:
        _refuse_read(config)
    else:
        _refuse_written(config, written_into)


def _refuse_read(config: Any) -> None:
    tf_ops: list[CodeFound] = []
    for found in find_code(config, classes=READ_CODE_CLASSES):
        if found.kind != "tf_op":
            raise InputError(_read_message(found))
        tf_ops.append(found)
    if tf_ops:
        first, more = tf_ops[0], len(tf_ops) - 1
        others = f" and {more} more TensorFlow-op layer(s)" if more else ""
        raise InputError(f"layer '{first.layer}' ({first.class_name}){others}: tf.keras 2 recorded TensorFlow op "
                         "calls, which are not converted yet; rebuild those steps with Keras layers, or convert the "
                         "SavedModel (--input-format tf_saved_model)")


def _refuse_written(config: Any, what: str) -> None:
    # Writers have always searched the last branches first; kept, so that they name the same layer as before.
    for found in find_code(config, classes=WRITTEN_CODE_CLASSES, last_first=True):
        where = f"layer '{found.layer[:80]}'"
        if found.kind in ("class", "tf_op"):
            raise InputError(f"{where} ({found.class_name}): holds code, which is never written into a {what} "
                             "(refused)")
        if found.kind == "module":
            raise InputError(f"{where}: a custom object from module {str(found.module)[:80]!r} is never written "
                             f"into a {what} (refused)")
        raise InputError(f"{where}: a config carrying a Python function is never written into a {what} (refused)")


def _read_message(found: CodeFound) -> str:
    cls = found.class_name
    label = f"layer '{found.layer}' ({str(cls)[:60]})" if isinstance(cls, str) else f"layer '{found.layer}'"
    if found.kind == "class":
        return f"{label}: {CODE_CLASSES[cls]} (refused: {_NEVER_RUN})"
    if found.kind == "module":
        return f"{label}: a custom object from module {str(found.module)[:80]!r}, not Keras (refused: {_NEVER_RUN})"
    return f"{label}: a config carrying a Python function (refused: {_NEVER_RUN})"


def find_code(config: Any, *, classes: frozenset[str], last_first: bool = False) -> Iterator[CodeFound]:
    """Every object of ``config`` that carries code, depth first in file order; a code object is not searched inside.

    ``classes`` are the class names that are code; ``last_first`` searches the last branch of every list and
    object first. Iterative, so that a deeply nested hostile config cannot exhaust the stack.
    """
    stack: list[tuple[Any, str]] = [(config, "model")]
    while stack:
        value, layer = stack.pop()
        if isinstance(value, dict):
            layer = _holder(value, layer)
            found = _code_in(value, layer, classes)
            if found is not None:
                yield found
                continue
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        else:
            continue
        stack += [(v, layer) for v in (children if last_first else reversed(children))]


def _holder(value: JsonDict, current: str) -> str:
    """The layer an object belongs to: its own name when it is a ``{class_name, config}`` object, else its parent's."""
    if "class_name" not in value:
        return current
    config = value.get("config")
    name = value.get("name") or (config.get("name") if isinstance(config, dict) else None)
    return name if isinstance(name, str) and name else current


def _code_in(value: JsonDict, layer: str, classes: frozenset[str]) -> CodeFound | None:
    cls = value.get("class_name")
    if isinstance(cls, str) and cls in classes:  # class_name may be any JSON value here
        return CodeFound("tf_op" if cls in TF_OP_CLASSES else "class", layer, cls)
    module = value.get("module")
    if module is not None and not (isinstance(module, str) and KERAS_MODULE.fullmatch(module)):
        return CodeFound("module", layer, cls, module)
    if CODE_KEYS & value.keys():
        return CodeFound("function", layer, cls)
    return None
