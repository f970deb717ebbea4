"""Keras recurrent / attention lowering refusals and weight layouts, from hand-written configs (no Keras needed)."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx_ir as ir
import pytest

from frontends.keras.layers.recurrent import Cell, onnx_weights
from frontends.keras.lower import lower_model
from frontends.keras.model import parse_model
from pivot.errors import UnsupportedOpsError
from tests.parity import ort_run

RNG = np.random.default_rng(0)


def _sequential(layers: list[dict[str, Any]], shape: list[int | None], dtype: str = "float32",
                version: str = "2.15.0") -> Any:
    specs = [{"class_name": "InputLayer", "config": {"name": "x", "batch_input_shape": [None, *shape],
                                                       "dtype": dtype}}, *layers]
    return parse_model({"class_name": "Sequential", "config": {"name": "m", "layers": specs}}, version)


def _lstm(**cfg: Any) -> dict[str, Any]:
    return {"class_name": "LSTM", "config": {"name": "lstm", "units": 2, **cfg}}


def _lstm_weights(features: int, units: int = 2) -> list[np.ndarray]:
    return [RNG.normal(size=(features, 4 * units)).astype(np.float32),
            RNG.normal(size=(units, 4 * units)).astype(np.float32), RNG.normal(size=4 * units).astype(np.float32)]


def _refusal(model: Any) -> tuple[str, str, str]:
    with pytest.raises(UnsupportedOpsError) as info:
        lower_model(model)
    item = info.value.items[0]
    return item.op, item.reason, item.detail


def test_implicit_keras2_mask_is_refused() -> None:
    model = _sequential([{"class_name": "Embedding", "config": {"name": "emb", "input_dim": 9, "output_dim": 3,
                                                                 "mask_zero": True}},
                         {"class_name": "Dropout", "config": {"name": "drop", "rate": 0.1}}, _lstm()], [5], "int32")
    model.layer("emb").weights = [RNG.normal(size=(9, 3)).astype(np.float32)]
    model.layer("lstm").weights = _lstm_weights(3)
    op, reason, detail = _refusal(model)
    assert (op, reason) == ("LSTM", "attribute") and "Embedding 'emb'" in detail


@pytest.mark.parametrize(("cfg", "needle"), [({"stateful": True}, "stateful"),
                                             ({"activation": "gelu"}, "activation 'gelu'")])
def test_unconvertible_settings_are_refused(cfg: dict[str, Any], needle: str) -> None:
    model = _sequential([_lstm(**cfg)], [4, 3])
    model.layer("lstm").weights = _lstm_weights(3)
    assert needle in _refusal(model)[2]


def test_custom_cell_is_refused() -> None:
    model = _sequential([{"class_name": "RNN", "config": {"name": "rnn", "cell": {"class_name": "MyCell",
                                                                                   "config": {"units": 2}}}}],
                        [4, 3])
    op, reason, detail = _refusal(model)
    assert (op, reason) == ("RNN", "no_rule") and "MyCell" in detail


def test_lstm_gates_are_reordered_for_onnx() -> None:
    units = 2
    kernel = np.concatenate([np.full((3, units), g, np.float32) for g in range(4)], axis=1)  # Keras i, f, c, o
    w, r, b = onnx_weights(Cell("LSTM", {"units": units}, (kernel, kernel[:units], kernel[0]), False))
    assert [int(w[g * units, 0]) for g in range(4)] == [0, 3, 1, 2]  # ONNX i, o, f, c
    assert r.shape == (4 * units, units) and b.shape == (8 * units,) and not b[4 * units:].any()


def test_keras2_hard_sigmoid_lstm_matches_numpy() -> None:
    """A Keras 2 config (hard_sigmoid is 0.2x + 0.5 there) against a numpy LSTM."""
    model = _sequential([_lstm(recurrent_activation="hard_sigmoid", return_sequences=True)], [4, 3])
    weights = _lstm_weights(3)
    model.layer("lstm").weights = weights
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    got = next(iter(ort_run(ir.serde.serialize_model(lower_model(model)), {"x": x}).values()))
    np.testing.assert_allclose(got, _numpy_lstm(x, *weights), atol=1e-5)


def _numpy_lstm(x: np.ndarray, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray) -> np.ndarray:
    def hard_sigmoid(v: np.ndarray) -> np.ndarray:
        return np.clip(0.2 * v + 0.5, 0.0, 1.0)

    units = recurrent.shape[0]
    h, c, out = np.zeros((x.shape[0], units)), np.zeros((x.shape[0], units)), []
    for t in range(x.shape[1]):
        i, f, g, o = np.split(x[:, t] @ kernel + h @ recurrent + bias, 4, axis=1)
        c = hard_sigmoid(f) * c + hard_sigmoid(i) * np.tanh(g)
        h = hard_sigmoid(o) * np.tanh(c)
        out.append(h)
    return np.stack(out, axis=1)
