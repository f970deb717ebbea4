"""Walks a Keras layer graph in call order and lowers each layer call through the KERAS registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx_ir as ir

from frontends.keras.builder import GraphBuilder
from frontends.keras.model import KerasLayer, KerasModel, TensorRef, call_order, input_shape, layer_dtype
from frontends.keras.registry import NOT_SUPPORTED, load_rules
from pivot.errors import ConversionError, EmitError, InputError, Unsupported, UnsupportedOpsError
from pivot.untrusted import charge
from tfjs_format.keras_config import KERAS_MODULE

_DTYPES = {"float32": ir.DataType.FLOAT, "float16": ir.DataType.FLOAT, "bfloat16": ir.DataType.FLOAT,
           "float64": ir.DataType.FLOAT, "int32": ir.DataType.INT32, "int64": ir.DataType.INT64,
           "uint8": ir.DataType.INT32, "bool": ir.DataType.BOOL}
Env = dict[TensorRef, ir.Value]
# (class name, reason code, detail, hint) -> failing layer calls
Failures = dict[tuple[str, str, str, str], list[str]]
# What a lowering rule raises on config values or weights of the wrong type or shape (numpy included).
_MALFORMED = (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError, ZeroDivisionError)
# One constant computed from config values or static dims above this is no real model's (2 GiB).
MAX_CONST_BYTES = 1 << 31


class LowerCtx:
    """What a lowering rule sees: one layer call, its config and weights, and the graph builder."""

    def __init__(self, builder: GraphBuilder, layer: KerasLayer, model: KerasModel, kwargs: dict[str, Any],
                 name: str) -> None:
        self.b, self.layer, self.model, self.kwargs = builder, layer, model, kwargs
        self.name = name
        self.config = layer.config

    def cfg(self, key: str, default: Any = None) -> Any:
        """A config value, or ``default`` when absent or null."""
        value = self.config.get(key)
        return default if value is None else value

    @property
    def keras_major(self) -> int:
        return self.model.major

    def weight(self, i: int, name: str, dtype: type = np.float32, ndim: int | None = None) -> ir.Value:
        """Weight ``i`` of the layer (of ``ndim`` dims when given) as an initializer named ``layer/name``."""
        return self.b.const(np.asarray(self.layer.weight(i, ndim), dtype=dtype), f"{self.name}/{name}")

    def reserve(self, shape: Sequence[int], itemsize: int, what: str) -> None:
        """Check a constant the rule is about to compute from config values or dims, before numpy allocates it."""
        nbytes = int(np.prod([int(d) for d in shape], dtype=object)) * itemsize
        where = f"layer '{self.layer.name}' ({self.layer.class_name}) {what}"
        if nbytes > MAX_CONST_BYTES:
            raise InputError(f"{where}: a {nbytes}-byte constant (shape {list(shape)}) is over the 2 GiB limit")
        charge(nbytes, where, "the model's dims or config ask for a large constant")

    def const(self, array: Any, name: str, dtype: type = np.float32) -> ir.Value:
        return self.b.const(np.asarray(array, dtype=dtype), f"{self.name}/{name}")

    def ints(self, values: Sequence[int], name: str) -> ir.Value:
        """An int64 constant (shapes, axes, pads)."""
        return self.b.const(np.asarray(list(values), dtype=np.int64), f"{self.name}/{name}")

    def op(self, op_type: str, *inputs: ir.Value | None, name: str = "", **attrs: Any) -> ir.Value:
        """One single-output node; the layer name prefixes the node name."""
        return self.b.op(op_type, list(inputs), attrs, name=f"{self.name}/{name or op_type}")[0]

    def ops(self, op_type: str, *inputs: ir.Value | None, outputs: int, name: str = "", **attrs: Any) -> list[ir.Value]:
        return self.b.op(op_type, list(inputs), attrs, name=f"{self.name}/{name or op_type}", outputs=outputs)

    def fail(self, reason: str, detail: str, hint: str = "") -> EmitError:
        """An error for this layer with a stable reason code (raise it)."""
        return EmitError(reason, detail, hint)  # type: ignore[arg-type]


def shape_of(value: ir.Value) -> list[int | None]:
    """The static shape of a value (None for unknown dims); rank must be known."""
    if value.shape is None:
        raise InputError(f"value '{value.name}' has an unknown rank")
    return [d if isinstance(d, int) else None for d in value.shape]


def lower_model(model: KerasModel, producer: str = "tfjs-pivot keras") -> ir.Model:
    """Lower a whole Keras model to ONNX; every unsupported layer is reported at once."""
    load_rules()
    builder = GraphBuilder(model.name)
    env: Env = {}
    for ref in model.inputs:
        layer = model.layer(ref.layer)
        shape = [d if d is not None else ("batch" if i == 0 else f"{layer.name}_d{i}")
                 for i, d in enumerate(input_shape(layer))]
        env[ref] = builder.input(layer.name, _DTYPES.get(layer_dtype(layer), ir.DataType.FLOAT), shape)
    failures: Failures = {}
    lower_graph(builder, model, env, "", failures)
    if failures:
        raise _report(failures)
    missing = [ref.layer for ref in model.outputs if ref not in env]
    if missing:
        raise InputError(f"model '{model.name}': output '{missing[0]}' is never computed")
    outputs = [(name, env[ref]) for name, ref in zip(model.output_names, model.outputs, strict=True)]
    return builder.finish(outputs, producer)


def lower_graph(builder: GraphBuilder, model: KerasModel, env: Env, prefix: str, failures: Failures) -> None:
    """Lower every layer call once its inputs are ready (``call_order``); failures are collected."""
    for layer, i in call_order(model):
        absent = [a for a in layer.calls[i].args if a not in env]
        if absent:
            a = absent[0]
            raise InputError(f"model '{model.name}': layer '{layer.name}' reads output {a.tensor} of call {a.node} "
                             f"of layer '{a.layer}', which that call does not produce")
        _lower_call(builder, model, layer, i, env, prefix, failures)


def _report(failures: Failures) -> UnsupportedOpsError:
    return UnsupportedOpsError(Unsupported(op, reason, tuple(nodes), detail, hint)  # type: ignore[arg-type]
                               for (op, reason, detail, hint), nodes in failures.items())


def _lower_call(builder: GraphBuilder, model: KerasModel, layer: KerasLayer, i: int, env: Env, prefix: str,
                failures: Failures) -> None:
    call = layer.calls[i]
    inputs = [env[a] for a in call.args]
    name = f"{prefix}{layer.name}" + (f"_{i}" if i else "")
    if layer.submodel is not None:
        outputs = lower_submodel(builder, layer.submodel, inputs, f"{name}/", failures)
    else:
        try:
            outputs = _dispatch(builder, model, layer, inputs, call.kwargs, name)
        except EmitError as e:
            failures.setdefault((layer.class_name, e.reason, e.detail, e.hint), []).append(name)
            # A stand-in output so that lowering goes on and reports every failure at once.
            outputs = inputs[:1] or [builder.const(np.zeros((), np.float32), f"{name}/failed")]
    for t, value in enumerate(outputs):
        env[TensorRef(layer.name, i, t)] = value


def _dispatch(builder: GraphBuilder, model: KerasModel, layer: KerasLayer, inputs: list[ir.Value],
              kwargs: dict[str, Any], name: str) -> list[ir.Value]:
    if layer.class_name in NOT_SUPPORTED:
        raise EmitError("no_rule", f"{layer.class_name}: {NOT_SUPPORTED[layer.class_name]}")
    rule = load_rules().lookup(layer.class_name, 1)
    custom = "only built-in Keras layers are converted; custom layer code is never executed"
    if layer.module and not KERAS_MODULE.fullmatch(layer.module):
        raise EmitError("no_rule", f"custom layer class {layer.class_name} (from {layer.module})", custom)
    if rule is None:
        raise EmitError("no_rule", f"no lowering for Keras layer class {layer.class_name}", custom)
    try:
        return rule.fn(LowerCtx(builder, layer, model, kwargs, name), inputs)
    except (EmitError, InputError):
        raise
    except ConversionError as e:
        raise EmitError("attribute", f"layer '{layer.name}': {e}") from e
    except _MALFORMED as e:  # a config value or weight of the wrong type or shape, read from the file
        raise InputError(f"layer '{layer.name}' ({layer.class_name}): malformed config or weights "
                         f"({type(e).__name__}: {_first_line(e)})") from None


def lower_submodel(builder: GraphBuilder, sub: KerasModel, inputs: list[ir.Value], prefix: str,
                   failures: Failures) -> list[ir.Value]:
    """Inline a nested model: bind its inputs, lower its layers under ``prefix``, return its outputs."""
    if len(inputs) != len(sub.inputs):
        raise InputError(f"nested model '{sub.name}' takes {len(sub.inputs)} inputs, got {len(inputs)}")
    env: Env = dict(zip(sub.inputs, inputs, strict=True))
    lower_graph(builder, sub, env, prefix, failures)
    missing = [ref.layer for ref in sub.outputs if ref not in env]
    if missing:
        raise InputError(f"nested model '{sub.name}': output '{missing[0]}' is never computed")
    return [env[ref] for ref in sub.outputs]


def _first_line(e: BaseException) -> str:
    text = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
    return (text.splitlines() or [""])[0][:160]


__all__ = ["LowerCtx", "lower_model", "shape_of"]
