"""Code carried in a Keras config (Lambda bytecode, custom classes, recorded TF op calls) is refused, never run."""

from __future__ import annotations

import re
from typing import Any

from pivot.errors import InputError

# ``module`` as Keras itself writes it: "keras", "keras.layers", "keras.src.models.functional", ... (tf.keras 2.13+
# wrote "keras.src.engine..."; tf_keras the same under its own name). Matched by whole dotted components, so
# "kerasevil.layers" or "keras_evil" are user code.
KERAS_MODULE = re.compile(r"(keras|tf_keras)(\.[A-Za-z_][A-Za-z0-9_]*)*")
# Classes whose config is Python code (bytecode or a function name resolved at load time).
CODE_CLASSES = {
    "Lambda": "a Lambda layer holds Python code",
    "__lambda__": "a serialized Python lambda",
}
# tf.keras 2 records TensorFlow calls on Keras tensors (x * 2, x[:, 0], tf.nn.relu6) as these layers.
TF_OP_CLASSES = frozenset({"TFOpLambda", "SlicingOpLambda"})
_NEVER_RUN = "code stored in a model file is never run or carried into an output; rebuild it with built-in layers"


def refuse_code(spec: Any) -> None:
    """Refuse a model config holding code anywhere (nested models, wrapped layers, activations included).

    The message names the layer: Lambda layers and serialized lambdas, classes from a module outside the Keras
    namespaces (custom objects), configs with a ``function_type`` (Keras 2 function payloads), and tf.keras 2
    TensorFlow-op layers, which are not converted yet.
    """
    tf_ops: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(spec, "model")]
    while stack:
        value, layer = stack.pop()
        if isinstance(value, list):
            stack += [(v, layer) for v in reversed(value)]
        elif isinstance(value, dict):
            layer = _layer_name(value, layer)
            cls = value.get("class_name")
            if isinstance(cls, str) and cls in TF_OP_CLASSES:  # class_name may be any JSON value here
                tf_ops.append((layer, str(cls)))
                continue
            _check_object(value, layer)
            stack += [(v, layer) for v in reversed(list(value.values()))]
    if tf_ops:
        (first, cls), more = tf_ops[0], len(tf_ops) - 1
        others = f" and {more} more TensorFlow-op layer(s)" if more else ""
        raise InputError(f"layer '{first}' ({cls}){others}: tf.keras 2 recorded TensorFlow op calls, which are not "
                         "converted yet; rebuild those steps with Keras layers, or convert the SavedModel "
                         "(--input-format tf_saved_model)")


def _layer_name(value: dict[str, Any], current: str) -> str:
    if "class_name" not in value:
        return current
    config = value.get("config")
    name = value.get("name") or (config.get("name") if isinstance(config, dict) else None)
    return name if isinstance(name, str) and name else current


def _check_object(value: dict[str, Any], layer: str) -> None:
    cls = value.get("class_name")
    label = f"layer '{layer}' ({str(cls)[:60]})" if isinstance(cls, str) else f"layer '{layer}'"
    if isinstance(cls, str) and cls in CODE_CLASSES:
        raise InputError(f"{label}: {CODE_CLASSES[cls]} (refused: {_NEVER_RUN})")
    module = value.get("module")
    if "module" in value and module is not None and not (isinstance(module, str) and KERAS_MODULE.fullmatch(module)):
        raise InputError(f"{label}: a custom object from module {str(module)[:80]!r}, not Keras "
                         f"(refused: {_NEVER_RUN})")
    if "function_type" in value:
        raise InputError(f"{label}: a config carrying a Python function (refused: {_NEVER_RUN})")
