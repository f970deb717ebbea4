"""tf.keras 2 HDF5 fixtures (scripts/make_keras2_fixtures.py) converted without TensorFlow, checked in tfjs wasm."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pytest

from backends.base import BackendOptions
from backends.tfjs_graph import build_graph, write_graph
from backends.tfjs_runtime import TfjsRuntime
from frontends.keras.h5 import read_h5
from frontends.keras.lower import lower_model
from pivot.errors import UnsupportedOpsError
from pivot.passes import optimize
from tests.parity import compare
from tfjs_pivot.routes import ROUTES, keras_to_tfjs_layers

FIXTURES = Path(__file__).parent / "fixtures" / "keras2"
TOL = 1e-4  # x max(1, max |reference|), as for the architecture tests


@dataclass(frozen=True)
class Fixture:
    """One committed tf.keras 2 model; ``layers_refusal`` is the reason a layers model must be refused."""

    name: str
    layers_refusal: str | None = None


FIXTURE_TABLE = (
    Fixture("convnet"),
    Fixture("multi_io"),
    Fixture("text_rnn"),
    Fixture("text_bigru", layers_refusal="reset_after=True"),
)


class _Options:
    backend = BackendOptions()


def _data(fixture: Fixture) -> tuple[Path, list[np.ndarray], list[np.ndarray]]:
    path = FIXTURES / f"{fixture.name}.h5"
    with np.load(path.with_suffix(".npz")) as data:
        inputs = [data[f"input_{i}"] for i in range(sum(k.startswith("input_") for k in data))]
        outputs = [data[f"output_{i}"] for i in range(sum(k.startswith("output_") for k in data))]
    return path, inputs, outputs


def _check(expected: list[np.ndarray], got: list[np.ndarray], what: str) -> None:
    assert len(got) == len(expected)
    for i, (ref, out) in enumerate(zip(expected, got, strict=True)):
        c = compare(ref, out, f"output_{i}", what)
        assert c.relative <= TOL, f"{what} output {i}: {c.max_abs:.3g} (scale {c.scale:.3g})"


@pytest.mark.parametrize("fixture", FIXTURE_TABLE, ids=lambda f: f.name)
def test_fixture_is_tf_keras_2(fixture: Fixture) -> None:
    """The files really are the Keras 2 dialect (what these tests are for) and stay small."""
    path, inputs, outputs = _data(fixture)
    assert path.stat().st_size < 64 * 1024
    with h5py.File(path, "r") as f:
        version = f.attrs["keras_version"]
        assert (version.decode() if isinstance(version, bytes) else str(version)).startswith("2.")
    assert inputs and outputs and max(float(np.std(o)) for o in outputs) > 1e-3


@pytest.mark.needs_node
@pytest.mark.parametrize("fixture", FIXTURE_TABLE, ids=lambda f: f.name)
def test_fixture_graph_model(fixture: Fixture, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    path, inputs, expected = _data(fixture)
    pivot = optimize(lower_model(read_h5(path)))
    write_graph(build_graph(pivot), tmp_path, BackendOptions())
    names = [v.name for v in pivot.graph.inputs]
    got = tfjs.run(tmp_path / "model.json", dict(zip(names, inputs, strict=True)), backend="wasm")
    _check(expected, [got[v.name] for v in pivot.graph.outputs], "tfjs graph model (wasm)")


@pytest.mark.needs_node
@pytest.mark.parametrize("fixture", FIXTURE_TABLE, ids=lambda f: f.name)
def test_fixture_layers_model(fixture: Fixture, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    path, inputs, expected = _data(fixture)
    if fixture.layers_refusal:
        with pytest.raises(UnsupportedOpsError, match="cannot be converted") as err:
            keras_to_tfjs_layers(path, tmp_path, _Options())
        assert any(fixture.layers_refusal in item.detail for item in err.value.items)
        return
    keras_to_tfjs_layers(path, tmp_path, _Options())
    feeds = {f"input_{i}": x for i, x in enumerate(inputs)}
    got = tfjs.run(tmp_path / "model.json", feeds, kind="layers", backend="wasm")
    _check(expected, list(got.values()), "tfjs layers model (wasm)")


@pytest.mark.parametrize("fmt", ["keras", "keras_keras"])
@pytest.mark.parametrize("fixture", [f for f in FIXTURE_TABLE if not f.layers_refusal], ids=lambda f: f.name)
def test_fixture_to_keras3(fixture: Fixture, fmt: str, tmp_path: Path) -> None:
    """tf.keras 2 file -> tfjs layers model -> Keras 3 file that Keras 3 loads and runs like tf.keras did."""
    from tests.keras_util import keras_module, predict  # sets KERAS_BACKEND before Keras is imported

    pytest.importorskip("keras")
    path, inputs, expected = _data(fixture)
    layers, out = tmp_path / "layers", tmp_path / "keras"
    layers.mkdir()
    out.mkdir()
    keras_to_tfjs_layers(path, layers, _Options())
    written = ROUTES[("tfjs_layers_model", fmt)](layers, out, _Options())
    model = keras_module().models.load_model(out / written.files[0], compile=False)
    _check(expected, predict(model, inputs), f"keras 3 ({fmt})")
