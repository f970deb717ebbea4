"""What a written Keras or tfjs layers config may hold: no code (Lambda bytecode, custom modules), ever."""

from __future__ import annotations

import re
from typing import Any

from pivot.errors import InputError

# ``module`` values Keras writes for its own classes ("keras", "keras.layers", "keras.src.models.functional");
# whole dotted components, so "kerasevil.layers" is not one of them.
KERAS_MODULE = re.compile(r"(keras|tf_keras)(\.[A-Za-z_][A-Za-z0-9_]*)*")
# Classes whose config is code run at load time (Python bytecode, a function looked up by name, a TF op call).
CODE_CLASSES = frozenset({"Lambda", "__lambda__", "TFOpLambda", "SlicingOpLambda", "TFSMLayer"})
# Config keys that hold a function payload (Keras 2 Lambda: "function" + "function_type").
CODE_KEYS = frozenset({"function_type"})


def refuse_code(config: Any, what: str) -> None:
    """Refuse to write ``config`` (the model config read, or the one about to be written) if it carries code."""
    stack: list[tuple[Any, str]] = [(config, "model")]
    while stack:
        value, layer = stack.pop()
        if isinstance(value, list):
            stack += [(v, layer) for v in value]
        elif isinstance(value, dict):
            layer = _name(value, layer)
            _check(value, layer, what)
            stack += [(v, layer) for v in value.values()]


def _name(value: dict[str, Any], current: str) -> str:
    config = value.get("config")
    name = value.get("name") or (config.get("name") if isinstance(config, dict) else None)
    return name if "class_name" in value and isinstance(name, str) and name else current


def _check(value: dict[str, Any], layer: str, what: str) -> None:
    cls = value.get("class_name")
    module = value.get("module")
    where = f"layer '{layer[:80]}'"
    if isinstance(cls, str) and cls in CODE_CLASSES:
        raise InputError(f"{where} ({cls}): holds code, which is never written into a {what} (refused)")
    if module is not None and not (isinstance(module, str) and KERAS_MODULE.fullmatch(module)):
        raise InputError(f"{where}: a custom object from module {str(module)[:80]!r} is never written into a "
                         f"{what} (refused)")
    if CODE_KEYS & value.keys():
        raise InputError(f"{where}: a config carrying a Python function is never written into a {what} (refused)")
