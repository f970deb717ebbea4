"""Keras readers and writers: HDF5 / .keras / tfjs layers models in, tfjs layers models and Keras files out."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from itertools import product
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import onnx_ir as ir
import pytest

from backends.base import BackendOptions
from backends.keras_out.config import keras3_spec
from backends.tfjs_layers.from_keras import ArrayWeights, tfjs_topology
from backends.tfjs_runtime import TfjsRuntime
from frontends.base import FrontendOptions
from frontends.keras.frontend import KerasH5Frontend, KerasZipFrontend, TfjsLayersFrontend
from frontends.keras.h5 import read_h5
from frontends.keras.lower import lower_model
from frontends.keras.tfjs_layers import read_tfjs_layers
from pivot.errors import InputError, UnsupportedOpsError
from pivot.passes import optimize
from tests.parity import compare, ort_run
from tfjs_format.keras_config import weight_names
from tfjs_format.layers_model import write_layers_model
from tfjs_format.quantize import QuantizationSpec
from tfjs_pivot.routes import ROUTES

FIXTURES = Path(__file__).parent / "fixtures"
TOL = 1e-5
Build = Callable[[Any], Any]


class _Options:
    """The part of ConvertOptions a direct route reads."""

    def __init__(self, backend: BackendOptions | None = None) -> None:
        self.backend = backend or BackendOptions()


@pytest.fixture(scope="module")
def keras() -> Any:
    from tests.keras_util import keras_module  # sets KERAS_BACKEND before Keras is imported

    pytest.importorskip("keras")
    return keras_module()


def _convnet(k: Any) -> Any:
    x = inp = k.Input((8, 8, 3), name="img")
    x = k.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = k.layers.BatchNormalization()(x)
    x = k.layers.DepthwiseConv2D(3, padding="same")(x)
    x = k.layers.SeparableConv2D(4, 3, activation="relu6")(x)
    x = k.layers.MaxPooling2D(2)(x)
    x = k.layers.AveragePooling2D(2, padding="same")(x)
    return k.Model(inp, k.layers.Dense(3)(k.layers.GlobalAveragePooling2D()(x)))


def _multi_io(k: Any) -> Any:
    """Two inputs, two outputs, a nested Sequential (BatchNormalization first) called twice."""
    inner = k.Sequential([k.Input((4,)), k.layers.BatchNormalization(), k.layers.Dense(5, activation="tanh"),
                          k.layers.Dense(3)], name="inner")
    a, b = k.Input((4,), name="a"), k.Input((6,), name="b")
    side = k.layers.Dense(3)(b)
    x = k.layers.Concatenate()([inner(a), side])
    return k.Model([a, b], [k.layers.Dense(2, name="o1")(x), k.layers.Add(name="o2")([inner(a), side])])


def _nested_functional(k: Any) -> Any:
    i0 = k.Input((5,))
    inner = k.Model(i0, k.layers.Dense(4, activation="sigmoid")(k.layers.LayerNormalization()(i0)), name="inner_f")
    inp = k.Input((5,))
    return k.Model(inp, k.layers.Dense(2)(inner(inp)))


def _lstm(k: Any) -> Any:
    inp = k.Input((6, 3))
    x = k.layers.LSTM(4, return_sequences=True)(inp)
    x = k.layers.Bidirectional(k.layers.LSTM(3))(x)
    return k.Model(inp, k.layers.Dense(2)(x))


def _gru_time_distributed(k: Any) -> Any:
    inp = k.Input((6, 3))
    x = k.layers.GRU(4, reset_after=False, return_sequences=True)(inp)
    x = k.layers.TimeDistributed(k.layers.Dense(2, activation="elu"))(x)
    x = k.layers.SimpleRNN(3)(x)
    return k.Model(inp, k.layers.Dense(2, activation="softmax")(x))


def _embedding(k: Any) -> Any:
    inp = k.Input((5,), dtype="int32")
    x = k.layers.Embedding(10, 4)(inp)
    x = k.layers.Conv1D(3, 2, activation="gelu")(x)
    return k.Model(inp, k.layers.Dense(2)(k.layers.GlobalMaxPooling1D()(x)))


MODELS: dict[str, Build] = {"convnet": _convnet, "multi_io": _multi_io, "nested_functional": _nested_functional,
                            "lstm": _lstm, "gru_time_distributed": _gru_time_distributed, "embedding": _embedding}


def _reference(keras: Any, build: Build) -> tuple[Any, list[np.ndarray], list[np.ndarray]]:
    from tests.keras_util import model_inputs, predict, randomize

    model = build(keras)
    randomize(model)
    feeds = model_inputs(model, np.random.default_rng(1))
    expected = predict(model, feeds)
    assert max(float(np.std(e)) for e in expected) > 1e-3, "degenerate reference output"
    return model, feeds, expected


def _positional(feeds: list[np.ndarray]) -> dict[str, np.ndarray]:
    return {f"input_{i}": f for i, f in enumerate(feeds)}


def _assert_close(expected: list[np.ndarray], got: list[np.ndarray], what: str, tol: float = TOL) -> None:
    assert len(got) == len(expected)
    for i, (ref, out) in enumerate(zip(expected, got, strict=True)):
        c = compare(ref, out, f"out{i}", what)
        assert c.relative <= tol, f"{what} output {i}: {c.max_abs:.3g} (scale {c.scale:.3g})"


# Keras 3 files -> tfjs layers model -----------------------------------------------------------------------------


@pytest.mark.needs_node
@pytest.mark.parametrize(("name", "fmt"), list(product(MODELS, ("keras", "h5"))))
def test_keras3_to_tfjs_layers(name: str, fmt: str, keras: Any, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    model, feeds, expected = _reference(keras, MODELS[name])
    source = tmp_path / f"model.{fmt}"
    model.save(source)
    out = tmp_path / "layers"
    out.mkdir()
    ROUTES[("keras" if fmt == "h5" else "keras_keras", "tfjs_layers_model")](source, out, _Options())
    doc = json.loads((out / "model.json").read_text())
    text = json.dumps(doc["modelTopology"])
    assert '"batch_shape"' not in text and '"module"' not in text and "DTypePolicy" not in text
    got = tfjs.run(out / "model.json", _positional(feeds), kind="layers", backend="wasm")
    _assert_close(expected, list(got.values()), "tfjs layers (wasm)")


@pytest.mark.needs_node
def test_layers_model_reads_back(keras: Any, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    """Our layers model read by our reader gives the same weights tfjs decodes (uint8-quantized here)."""
    model, _, _ = _reference(keras, _multi_io)
    model.save(tmp_path / "m.keras")
    out = tmp_path / "layers"
    out.mkdir()
    options = _Options(BackendOptions(quantization=QuantizationSpec(fallthrough="uint8")))
    ROUTES[("keras_keras", "tfjs_layers_model")](tmp_path / "m.keras", out, options)
    decoded = tfjs.weights(out / "model.json", kind="layers")
    read = read_tfjs_layers(out)
    ours = {f"{layer.name}/{n}": w for layer in read.walk() if layer.weights
            for n, w in zip(weight_names(layer.class_name, layer.config), layer.weights, strict=True)}
    assert set(ours) == set(decoded)
    for name, value in decoded.items():
        np.testing.assert_array_equal(ours[name], value, err_msg=name)


def test_refusals_are_collected(keras: Any, tmp_path: Path) -> None:
    """Every layer tfjs-layers cannot represent is named at once, and nothing is written."""
    a, b = keras.Input((4,)), keras.Input((4,))
    x = keras.layers.Subtract(name="sub")([a, b])
    x = keras.layers.Dense(3, activation="hard_sigmoid", name="hard")(x)
    x = keras.layers.GRU(2, name="gru")(keras.layers.Reshape((3, 1))(x))
    keras.Model([a, b], x).save(tmp_path / "m.keras")
    out = tmp_path / "layers"
    out.mkdir()
    with pytest.raises(UnsupportedOpsError) as err:
        ROUTES[("keras_keras", "tfjs_layers_model")](tmp_path / "m.keras", out, _Options())
    found = {(item.op, item.nodes) for item in err.value.items}
    assert found == {("Subtract", ("sub",)), ("Dense", ("hard",)), ("GRU", ("gru",))}
    assert not any(out.iterdir())


# tfjs layers model -> Keras 3 files -----------------------------------------------------------------------------


def _native_layers_model(out: Path, seed: int = 3) -> Path:
    script = FIXTURES / "make_layers_model.mjs"
    subprocess.run(["node", str(script), str(out), str(seed)], check=True, capture_output=True)
    return out


@pytest.mark.needs_node
@pytest.mark.parametrize(("name", "fmt"), list(product([*MODELS, "tfjs_native"], ("keras", "keras_keras"))))
def test_tfjs_layers_to_keras(name: str, fmt: str, keras: Any, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    """Keras 3 loads the written file and predicts what tfjs predicts from the layers model."""
    if name == "tfjs_native":
        layers = _native_layers_model(tmp_path / "native")
        feeds = [np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype(np.float32)]
    else:
        model, feeds, _ = _reference(keras, MODELS[name])
        model.save(tmp_path / "m.keras")
        layers = tmp_path / "layers"
        layers.mkdir()
        ROUTES[("keras_keras", "tfjs_layers_model")](tmp_path / "m.keras", layers, _Options())
    expected = list(tfjs.run(layers / "model.json", _positional(feeds), kind="layers").values())
    out = tmp_path / "keras_out"
    out.mkdir()
    written = ROUTES[("tfjs_layers_model", fmt)](layers, out, _Options())
    from tests.keras_util import predict

    loaded = keras.models.load_model(out / written.files[0], compile=False)
    _assert_close(expected, predict(loaded, feeds), f"keras 3 ({fmt})")


# Readers ----------------------------------------------------------------------------------------------------------


def _keras_layers(model: Any) -> dict[str, Any]:
    out = {}
    for layer in model.layers:
        out[layer.name] = layer
        if hasattr(layer, "layers"):
            out.update(_keras_layers(layer))
    return out


@pytest.mark.parametrize("fmt", ["h5", "keras"])
def test_reader_weights_match_keras(fmt: str, keras: Any, tmp_path: Path) -> None:
    """Every layer of nested models gets exactly its Keras weights (h5 lists trainable weights first)."""
    from frontends.keras.keras_zip import read_keras_zip

    model, _, _ = _reference(keras, _multi_io)
    model.save(tmp_path / f"m.{fmt}")
    read = (read_h5 if fmt == "h5" else read_keras_zip)(tmp_path / f"m.{fmt}")
    by_name = _keras_layers(model)
    checked = 0
    for layer in read.walk():
        if layer.submodel is None and layer.weights:
            want = [np.asarray(w) for w in by_name[layer.name].get_weights()]
            assert len(want) == len(layer.weights), layer.name
            for w, got in zip(want, layer.weights, strict=True):
                np.testing.assert_array_equal(got, w, err_msg=layer.name)
            checked += 1
    assert checked == 5  # inner: batch norm + 2 dense; outer: 2 dense


def test_keras2_nested_weights_by_name() -> None:
    """tf.keras 2 lists a nested model's trainable weights first; each layer still gets its own, in order."""
    path = FIXTURES / "keras2" / "multi_io.h5"
    model = read_h5(path)
    tower = {layer.name: layer for layer in model.walk()}
    with h5py.File(path, "r") as f:
        group = f["model_weights/tower"]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        assert names.index("tower_bn/moving_mean:0") > names.index("tower_out/kernel:0")  # the order being undone
        for layer, weights in (("tower_bn", ("gamma", "beta", "moving_mean", "moving_variance")),
                               ("tower_fc", ("kernel", "bias")), ("tower_out", ("kernel", "bias"))):
            want = [np.asarray(group[f"{layer}/{w}:0"]) for w in weights]
            assert len(tower[layer].weights) == len(want)
            for got, ref in zip(tower[layer].weights, want, strict=True):
                np.testing.assert_array_equal(got, ref)


def test_weights_only_h5_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.h5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([b"dense"])
        f.create_group("dense").attrs["weight_names"] = np.array([b"dense/kernel:0"])
    assert KerasH5Frontend().sniff(path)
    with pytest.raises(InputError, match="weights-only") as err:
        KerasH5Frontend().load(path, FrontendOptions())
    assert "\n" not in str(err.value)


def test_not_a_keras_file(tmp_path: Path) -> None:
    plain = tmp_path / "data.h5"
    with h5py.File(plain, "w") as f:
        f.create_dataset("x", data=np.zeros(3))
    assert not KerasH5Frontend().sniff(plain)
    with pytest.raises(InputError, match="model_config"):
        read_h5(plain)
    text = tmp_path / "model.h5"
    text.write_text("not hdf5")
    assert not KerasH5Frontend().sniff(text)
    with pytest.raises(InputError, match="HDF5"):
        read_h5(text)


def test_sniffers_tell_formats_apart(keras: Any, tmp_path: Path) -> None:
    model = _nested_functional(keras)
    model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.h5")
    out = tmp_path / "layers"
    out.mkdir()
    ROUTES[("keras_keras", "tfjs_layers_model")](tmp_path / "m.keras", out, _Options())
    frontends = (KerasH5Frontend(), KerasZipFrontend(), TfjsLayersFrontend())
    for path, want in ((tmp_path / "m.h5", "keras"), (tmp_path / "m.keras", "keras_keras"),
                       (out / "model.json", "tfjs_layers_model"), (out, "tfjs_layers_model")):
        assert [f.name for f in frontends if f.sniff(path)] == [want], path


@pytest.mark.needs_node
def test_tfjs_native_layers_model(tmp_path: Path, tfjs: TfjsRuntime) -> None:
    """A model saved by tfjs itself (optimizer weights included) lowers to a pivot that predicts like tfjs."""
    layers = _native_layers_model(tmp_path / "native", seed=5)
    pivot = optimize(TfjsLayersFrontend().load(layers, FrontendOptions()))
    x = np.random.default_rng(2).normal(size=(2, 8, 8, 3)).astype(np.float32)
    expected = list(tfjs.run(layers / "model.json", {"img": x}, kind="layers").values())
    ir.save(pivot, str(tmp_path / "pivot.onnx"))
    got = list(ort_run(tmp_path / "pivot.onnx", {pivot.graph.inputs[0].name: x}).values())
    _assert_close(expected, got, "onnxruntime")


def test_keras3_style_weight_names(keras: Any, tmp_path: Path) -> None:
    """Layers models whose weights are named by .keras HDF5 paths (tensorflowjs's keras_keras route) read too."""
    model, feeds, expected = _reference(keras, _multi_io)
    model.save(tmp_path / "m.keras")
    import zipfile

    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        config = json.loads(archive.read("config.json"))
        store = h5py.File(__import__("io").BytesIO(archive.read("model.weights.h5")), "r")
    source = ArrayWeights()
    store.visititems(lambda name, obj: source.add(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    store.close()
    doc = {"format": "layers-model", "modelTopology": {"keras_version": "3.5.0", "model_config": config}}
    out = tmp_path / "layers"
    out.mkdir()
    write_layers_model(out, doc, source, converted_by="test")
    pivot = optimize(lower_model(read_tfjs_layers(out)))
    ir.save(pivot, str(tmp_path / "pivot.onnx"))
    got = ort_run(tmp_path / "pivot.onnx", dict(zip([v.name for v in pivot.graph.inputs], feeds, strict=True)))
    _assert_close(expected, list(got.values()), "onnxruntime", 1e-4)


# Config dialects (no Keras, no Node) ------------------------------------------------------------------------------


def _tensor(layer: str, node: int = 0) -> dict[str, Any]:
    return {"class_name": "__keras_tensor__", "config": {"shape": [None, 4], "dtype": "float32",
                                                         "keras_history": [layer, node, 0]}}


def _dense(name: str, *args: Any) -> dict[str, Any]:
    return {"module": "keras.layers", "class_name": "Dense", "name": name,
            "config": {"name": name, "units": 4, "use_bias": True,
                       "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}}},
            "inbound_nodes": [{"args": list(args), "kwargs": {}}]}


KERAS3_SPEC = {"class_name": "Functional", "config": {
    "name": "m",
    "layers": [
        {"class_name": "InputLayer", "name": "x", "config": {"batch_shape": [None, 4], "name": "x"},
         "inbound_nodes": []},
        {"class_name": "Sequential", "name": "seq", "config": {"name": "seq", "layers": [
            {"class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "seq_in"}},
            {"class_name": "Dense", "config": {"name": "inner", "units": 4, "use_bias": False}}]},
         "inbound_nodes": [{"args": [_tensor("x")], "kwargs": {"mask": None}},
                           {"args": [_tensor("top")], "kwargs": {}}]},
        _dense("top", _tensor("seq")),
        {"class_name": "Add", "name": "add", "config": {"name": "add"},
         "inbound_nodes": [{"args": [[_tensor("seq", 1), _tensor("top")]], "kwargs": {}}]},
    ],
    "input_layers": ["x", 0, 0],
    "output_layers": [["add", 0, 0], ["seq", 1, 0]]}}


def test_keras3_config_becomes_keras2_dialect() -> None:
    """Keras 3 calls become Keras 2 node lists, counting a nested model's own node as tfjs does."""
    topology, names = tfjs_topology(KERAS3_SPEC, "3.15.1")
    layers = {layer["name"]: layer for layer in topology["model_config"]["config"]["layers"]}
    assert layers["x"]["config"] == {"batch_input_shape": [None, 4], "name": "x"}
    assert layers["top"]["inbound_nodes"] == [[["seq", 1, 0, {}]]]
    assert layers["add"]["inbound_nodes"] == [[["seq", 2, 0, {}], ["top", 0, 0, {}]]]
    assert layers["seq"]["inbound_nodes"] == [[["x", 0, 0, {}]], [["top", 0, 0, {}]]]
    assert layers["top"]["config"]["dtype"] == "float32"
    config = topology["model_config"]["config"]
    assert config["input_layers"] == [["x", 0, 0]]
    assert config["output_layers"] == [["add", 0, 0], ["seq", 2, 0]]
    assert names == {("seq", "inner"): ["inner/kernel"], ("top",): ["top/kernel", "top/bias"]}


def test_keras2_dialect_becomes_keras3() -> None:
    """And back: list nodes keep their form, nested-model indices drop the construction node."""
    topology, _ = tfjs_topology(KERAS3_SPEC, "3.15.1")
    k3 = keras3_spec(topology["model_config"])
    layers = {layer["name"]: layer for layer in k3["config"]["layers"]}
    assert layers["add"]["inbound_nodes"] == [[["seq", 1, 0, {}], ["top", 0, 0, {}]]]
    assert layers["top"]["inbound_nodes"] == [[["seq", 0, 0, {}]]]
    assert k3["config"]["output_layers"] == [["add", 0, 0], ["seq", 1, 0]]
    assert layers["x"]["config"]["batch_shape"] == [None, 4]
    assert layers["top"]["module"] == "keras.layers" and k3["class_name"] == "Functional"


def test_weight_names_follow_tfjs() -> None:
    lstm = {"class_name": "LSTM", "config": {"name": "lstm", "use_bias": True}}
    assert weight_names("Bidirectional", {"layer": lstm}) == [
        "forward_lstm/kernel", "forward_lstm/recurrent_kernel", "forward_lstm/bias",
        "backward_lstm/kernel", "backward_lstm/recurrent_kernel", "backward_lstm/bias"]
    assert weight_names("BatchNormalization", {"center": False}) == ["gamma", "moving_mean", "moving_variance"]
    assert weight_names("Flatten", {}) == []


@pytest.mark.slow
@pytest.mark.needs_node
@pytest.mark.parametrize("arch", ["MobileNetV2", "DenseNet121"])
def test_architecture_to_tfjs_layers(arch: str, keras: Any, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    """A whole Keras 3 application (random weights, batch-norm statistics included) as a layers model."""
    from tests.keras_util import predict, randomize

    model = getattr(keras.applications, arch)(weights=None, input_shape=(64, 64, 3), classifier_activation=None)
    randomize(model)
    x = np.random.default_rng(0).normal(size=(1, 64, 64, 3)).astype(np.float32)
    model.save(tmp_path / "m.h5")
    out = tmp_path / "layers"
    out.mkdir()
    ROUTES[("keras", "tfjs_layers_model")](tmp_path / "m.h5", out, _Options())
    got = tfjs.run(out / "model.json", {"x": x}, kind="layers", backend="wasm")
    _assert_close(predict(model, [x]), list(got.values()), "tfjs layers (wasm)", 1e-4)
