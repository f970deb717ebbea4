"""tfjs_format.keras_config: dialect detection, nested-model renumbering, snake-casing and code refusal, as tables."""

from __future__ import annotations

from typing import Any

import pytest

from pivot.errors import InputError
from tfjs_format.keras_config import (
    UNKNOWN_MAJOR,
    batch_shape,
    check_version,
    construction_nodes,
    keras2_ref,
    keras3_calls,
    keras3_ref,
    keras_major,
    keras_tensors,
    nested_models,
    refuse_code,
    sequential_built,
    snake_case,
    weight_names,
)

JsonDict = dict[str, Any]

# Dialect detection ---------------------------------------------------------------------------------------------

MAJORS = [("2.15.0", 2), ("3.3.3", 3), ("3", 3), ("2", 2), ("", UNKNOWN_MAJOR), ("tf", UNKNOWN_MAJOR),
          ("v2.1", UNKNOWN_MAJOR), ("2.13.1-tf", 2)]


def test_the_unknown_version_follows_keras_3() -> None:
    """One documented default: readers and writers alike read an unknown version with Keras 3 rules."""
    assert UNKNOWN_MAJOR == 3


@pytest.mark.parametrize(("version", "major"), MAJORS, ids=[v or "empty" for v, _ in MAJORS])
def test_keras_major(version: str, major: int) -> None:
    assert keras_major(version) == major


VERSIONS = [("", True), ("2.15.0", True), ("3.3.3", True), ("3", True), ("2.13.1+tf", True), ("1.2.2", False),
            ("4.0", False), ("tf-2", False), ("2" + ".0" * 40, False), ("2. 1", False)]


@pytest.mark.parametrize(("version", "read"), VERSIONS, ids=[v[:12] or "empty" for v, _ in VERSIONS])
def test_check_version(version: str, read: bool) -> None:
    if read:
        check_version(version)
        return
    with pytest.raises(InputError, match="neither Keras 2 nor Keras 3"):
        check_version(version, "m.h5")


K2_NODE = [[["inp", 0, 0, {}]]]
K3_NODE = {"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["inp", 0, 0]}}], "kwargs": {}}
CALLS = [
    ("keras2 lists", [{"inbound_nodes": []}, {"inbound_nodes": K2_NODE}], False),
    ("keras3 dicts", [{"inbound_nodes": []}, {"inbound_nodes": [K3_NODE]}], True),
    ("no calls (Sequential)", [{}, {"inbound_nodes": []}], False),
    ("one dict is enough", [{"inbound_nodes": K2_NODE}, {"inbound_nodes": [K3_NODE]}], True),
]


@pytest.mark.parametrize(("layers", "keras3"), [c[1:] for c in CALLS], ids=[c[0] for c in CALLS])
def test_keras3_calls(layers: list[JsonDict], keras3: bool) -> None:
    assert keras3_calls(layers) is keras3


def test_keras_tensors_in_order() -> None:
    args = [[_tensor("a"), {"x": _tensor("b")}], ({"class_name": "other"}, _tensor("c"))]
    assert [t["config"]["keras_history"][0] for t in keras_tensors(args)] == ["a", "b", "c"]


def _tensor(layer: str) -> JsonDict:
    return {"class_name": "__keras_tensor__", "config": {"keras_history": [layer, 0, 0]}}


SHAPES: list[tuple[str, JsonDict, Any]] = [
    ("keras3", {"batch_shape": [None, 4]}, [None, 4]),
    ("keras2", {"batch_input_shape": [None, 3]}, [None, 3]),
    ("tfjs save", {"batchInputShape": [None, 2]}, [None, 2]),
    ("keras3 first", {"batch_shape": [None, 4], "batch_input_shape": [None, 3]}, [None, 4]),
    ("none", {}, None),
    ("empty keeps the last value", {"batch_shape": [], "batchInputShape": []}, []),
]


@pytest.mark.parametrize(("cfg", "shape"), [c[1:] for c in SHAPES], ids=[c[0] for c in SHAPES])
def test_batch_shape(cfg: JsonDict, shape: Any) -> None:
    assert batch_shape(cfg) == shape


# Nested-model renumbering --------------------------------------------------------------------------------------

# (class, keras3, in_outputs, built) -> construction nodes a reference counts
CONSTRUCTION = [
    ("Functional", False, False, True, 1), ("Functional", False, True, True, 1),
    ("Sequential", False, False, True, 1), ("Sequential", False, False, False, 0),
    ("Functional", True, False, True, 0), ("Functional", True, True, True, 1),
    ("Sequential", True, False, True, 0), ("Sequential", True, True, True, 0),
    ("Model", True, True, True, 1),
]


@pytest.mark.parametrize(("cls", "keras3", "in_outputs", "built", "nodes"), CONSTRUCTION,
                         ids=[f"{c[0]}-k{3 if c[1] else 2}-{'out' if c[2] else 'arg'}-{c[3]}" for c in CONSTRUCTION])
def test_construction_nodes(cls: str, keras3: bool, in_outputs: bool, built: bool, nodes: int) -> None:
    assert construction_nodes(cls, keras3=keras3, in_outputs=in_outputs, built=built) == nodes


NESTED = {"func": "Functional", "seq": "Sequential"}
# (ref, in_outputs, Keras 2 / tfjs numbering of a Keras 3 ref)
TO_KERAS2 = [
    (["func", 0, 0], False, ["func", 1, 0]), (["seq", 1, 0], False, ["seq", 2, 0]),
    (["func", 1, 0], True, ["func", 1, 0]), (["seq", 0, 1], True, ["seq", 1, 1]),
    (["dense", 0, 0], False, ["dense", 0, 0]), (["dense", 2, 1], True, ["dense", 2, 1]),
]


@pytest.mark.parametrize(("ref", "in_outputs", "keras2"), TO_KERAS2, ids=[str(c) for c in TO_KERAS2])
def test_keras2_ref(ref: list[Any], in_outputs: bool, keras2: list[Any]) -> None:
    assert keras2_ref(ref, NESTED, in_outputs=in_outputs) == keras2


@pytest.mark.parametrize(("ref", "in_outputs", "keras2"), TO_KERAS2, ids=[str(c) for c in TO_KERAS2])
def test_keras3_ref_undoes_keras2_ref(ref: list[Any], in_outputs: bool, keras2: list[Any]) -> None:
    assert keras3_ref(keras2, NESTED, in_outputs=in_outputs) == ref


def test_keras3_ref_keeps_kwargs_and_never_goes_below_zero() -> None:
    assert keras3_ref(["func", 2, 0, {"training": False}], NESTED, in_outputs=False) == ["func", 1, 0,
                                                                                          {"training": False}]
    assert keras3_ref(["seq", 0, 0], NESTED, in_outputs=True) == ["seq", 0, 0]


def test_nested_models() -> None:
    layers = [{"class_name": "Dense", "name": "d"}, {"class_name": "Functional", "name": "f"},
              {"class_name": "Sequential", "name": "s"}, {"class_name": "Model", "name": "m"}]
    assert nested_models(layers, name_of=lambda layer: layer["name"]) == {
        "f": "Functional", "s": "Sequential", "m": "Model"}


SEQUENTIALS: list[tuple[str, Any, bool]] = [
    ("input layer", [{"class_name": "InputLayer", "config": {}}], True),
    ("keras2 shape", [{"class_name": "Dense", "config": {"batch_input_shape": [None, 3]}}], True),
    ("keras3 shape", [{"class_name": "Dense", "config": {"batch_shape": [None, 3]}}], True),
    ("deferred", [{"class_name": "Dense", "config": {"units": 3}}], False),
    ("no layers", [], False),
    ("not an object", ["Dense"], False),
]


@pytest.mark.parametrize(("layers", "built"), [c[1:] for c in SEQUENTIALS], ids=[c[0] for c in SEQUENTIALS])
def test_sequential_built(layers: Any, built: bool) -> None:
    assert sequential_built(layers) is built


# Names and tables ----------------------------------------------------------------------------------------------

SNAKES = [("Dense", "dense"), ("Conv2D", "conv2d"), ("BatchNormalization", "batch_normalization"),
          ("LSTM", "lstm"), ("GRUCell", "gru_cell"), ("PReLU", "p_re_lu"), ("ReLU", "re_lu"),
          ("MultiHeadAttention", "multi_head_attention"),
          ("Conv2DTranspose", "conv2d_transpose")]


@pytest.mark.parametrize(("name", "snake"), SNAKES, ids=[n for n, _ in SNAKES])
def test_snake_case(name: str, snake: str) -> None:
    assert snake_case(name) == snake


WEIGHT_NAMES: list[tuple[str, JsonDict, list[str]]] = [
    ("Dense", {"use_bias": True}, ["kernel", "bias"]),
    ("Dense", {"use_bias": False}, ["kernel"]),
    ("BatchNormalization", {"scale": False}, ["beta", "moving_mean", "moving_variance"]),
    ("Bidirectional", {"layer": {"class_name": "GRU", "config": {"name": "g", "use_bias": False}}},
     ["forward_g/kernel", "forward_g/recurrent_kernel", "backward_g/kernel", "backward_g/recurrent_kernel"]),
    ("TimeDistributed", {"layer": {"class_name": "Dense", "config": {"name": "d"}}}, ["kernel", "bias"]),
    ("Flatten", {}, []),
]


@pytest.mark.parametrize(("cls", "cfg", "names"), WEIGHT_NAMES, ids=[f"{c[0]}-{i}" for i, c in enumerate(WEIGHT_NAMES)])
def test_weight_names(cls: str, cfg: JsonDict, names: list[str]) -> None:
    assert weight_names(cls, cfg) == names


# Code refusal --------------------------------------------------------------------------------------------------

LAMBDA = {"class_name": "Lambda", "name": "lam", "config": {"name": "lam", "function": ["4wEA", None, None],
                                                            "function_type": "lambda"}}
TF_OP = {"class_name": "TFOpLambda", "name": "tf.math.add", "config": {"name": "tf.math.add"}}


def _model(*extra: JsonDict) -> JsonDict:
    dense = {"class_name": "Dense", "name": "d", "module": "keras.layers", "config": {"name": "d", "units": 2}}
    return {"class_name": "Functional", "config": {"name": "m", "layers": [dense, *extra]}}


# (case, config, message fragment when read, message fragment when written; None: accepted)
REFUSALS: list[tuple[str, JsonDict, str | None, str | None]] = [
    ("built-in layers", _model(), None, None),
    ("lambda", _model(LAMBDA), "layer 'lam' (Lambda): a Lambda layer holds Python code (refused: code stored",
     "layer 'lam' (Lambda): holds code, which is never written into a Keras file (refused)"),
    ("serialized lambda activation",
     _model({"class_name": "Dense", "name": "act", "config": {"activation": {"class_name": "__lambda__"}}}),
     "layer 'act' (__lambda__): a serialized Python lambda", "layer 'act' (__lambda__): holds code"),
    ("custom module", _model({"class_name": "MyLayer", "name": "my", "module": "kerasevil.layers", "config": {}}),
     "layer 'my' (MyLayer): a custom object from module 'kerasevil.layers', not Keras",
     "layer 'my': a custom object from module 'kerasevil.layers' is never written into a Keras file"),
    ("function payload", _model({"class_name": "MyLayer", "name": "fn", "config": {"function_type": "raw"}}),
     "layer 'fn': a config carrying a Python function (refused: code stored",
     "layer 'fn': a config carrying a Python function is never written"),
    ("tf ops together", _model(TF_OP, {**TF_OP, "name": "tf.math.mul"}),
     "layer 'tf.math.add' (TFOpLambda) and 1 more TensorFlow-op layer(s): tf.keras 2 recorded TensorFlow op calls",
     "layer 'tf.math.mul' (TFOpLambda): holds code"),
    ("code before tf ops", _model(TF_OP, LAMBDA), "layer 'lam' (Lambda): a Lambda layer",
     "layer 'lam' (Lambda): holds code"),
    ("TFSMLayer only when written", _model({"class_name": "TFSMLayer", "name": "sm", "config": {}}), None,
     "layer 'sm' (TFSMLayer): holds code"),
    ("reader names the first, writer the last", _model({**LAMBDA, "name": "first"}, {**LAMBDA, "name": "last"}),
     "layer 'first' (Lambda)", "layer 'last' (Lambda)"),
]


@pytest.mark.parametrize(("config", "read", "written"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_refuse_code(config: JsonDict, read: str | None, written: str | None) -> None:
    for message, refuse in ((read, lambda: refuse_code(config)), (written, lambda: refuse_code(config, "Keras file"))):
        if message is None:
            refuse()
            continue
        with pytest.raises(InputError) as err:
            refuse()
        assert message in str(err.value) and "\n" not in str(err.value), str(err.value)


def test_refusal_survives_deep_nesting() -> None:
    """The search is iterative: a hostile config nested deeper than Python's stack is still searched."""
    config: Any = LAMBDA
    for _ in range(5000):
        config = [config]
    with pytest.raises(InputError, match="Lambda"):
        refuse_code(config)
