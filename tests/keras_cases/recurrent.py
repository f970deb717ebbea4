"""Keras recurrent layer cases: LSTM, GRU (reset_after both ways), SimpleRNN, RNN over cells."""

from __future__ import annotations

from typing import Any

from tests.keras_cases import KerasCase, functional

T, F = 6, 3


def _seq(key: str, tag: str, make: Any, shape: tuple[int | None, ...] = (T, F), **kw: Any) -> KerasCase:
    return KerasCase(f"{key.lower()}_{tag}", key, lambda k: functional(k, shape, make(k)), **kw)


def _states(key: str, tag: str, make: Any) -> KerasCase:
    """Every output of a return_state layer as model outputs."""

    def build(k: Any) -> Any:
        x = k.Input((T, F), name="x")
        return k.Model(x, make(k)(x))

    return KerasCase(f"{key.lower()}_{tag}", key, build)


def _initial_state(k: Any) -> Any:
    x, h, c = k.Input((T, F), name="x"), k.Input((4,), name="h"), k.Input((4,), name="c")
    return k.Model([x, h, c], k.layers.LSTM(4, return_sequences=True)(x, initial_state=[h, c]))


def _stacked(k: Any) -> Any:
    # Cells of one class: the .keras reader orders a cell list by name (see the report of issue 4).
    cells = [k.layers.GRUCell(4), k.layers.GRUCell(3, reset_after=False)]
    return functional(k, (T, F), k.layers.RNN(cells, return_sequences=True, go_backwards=True))


def _text(key: str, tag: str, length: int | None, *make: Any) -> KerasCase:
    """A text classifier: token ids -> Embedding -> ``make`` layers -> Dense logits."""

    def build(k: Any) -> Any:
        layers = [k.layers.Embedding(50, 8), *(m(k) for m in make), k.layers.Dense(3)]
        return functional(k, (length,), *layers, dtype="int32")

    return KerasCase(f"text_{tag}", key, build)


CASES = [
    _seq("LSTM", "last", lambda k: k.layers.LSTM(5)),
    _seq("LSTM", "sequences", lambda k: k.layers.LSTM(5, return_sequences=True)),
    _seq("LSTM", "backwards_sequences", lambda k: k.layers.LSTM(4, return_sequences=True, go_backwards=True)),
    _seq("LSTM", "hard_sigmoid_relu_nobias", lambda k: k.layers.LSTM(
        4, activation="relu", recurrent_activation="hard_sigmoid", use_bias=False, return_sequences=True)),
    _seq("LSTM", "dynamic_length", lambda k: k.layers.LSTM(4, return_sequences=True), shape=(None, F)),
    _states("LSTM", "states", lambda k: k.layers.LSTM(4, return_state=True, return_sequences=True,
                                                         go_backwards=True)),
    KerasCase("lstm_initial_state", "LSTM", _initial_state),
    _seq("GRU", "reset_after", lambda k: k.layers.GRU(5, return_sequences=True)),
    _seq("GRU", "reset_before", lambda k: k.layers.GRU(5, reset_after=False)),
    _seq("GRU", "backwards_linear", lambda k: k.layers.GRU(4, activation="linear", go_backwards=True,
                                                            return_sequences=True)),
    _seq("GRU", "dynamic_length", lambda k: k.layers.GRU(4), shape=(None, F)),
    _states("GRU", "states", lambda k: k.layers.GRU(4, return_state=True, return_sequences=True)),
    _seq("SimpleRNN", "last", lambda k: k.layers.SimpleRNN(5)),
    _seq("SimpleRNN", "sequences_softsign", lambda k: k.layers.SimpleRNN(4, activation="softsign",
                                                                         return_sequences=True)),
    _seq("SimpleRNN", "dynamic_backwards", lambda k: k.layers.SimpleRNN(4, go_backwards=True,
                                                                       return_sequences=True), shape=(None, F)),
    _seq("RNN", "lstm_cell", lambda k: k.layers.RNN(k.layers.LSTMCell(4))),
    KerasCase("rnn_stacked_cells", "RNN", _stacked),
    _text("LSTM", "lstm_classifier", 12, lambda k: k.layers.LSTM(16)),
    _text("GRU", "gru_classifier", 12, lambda k: k.layers.GRU(16, return_sequences=True),
          lambda k: k.layers.GRU(8)),
    # Input(shape=(None,)): the sequence length is dynamic, so tfjs runs the LSTMs as While loops.
    _text("LSTM", "lstm_dynamic_length", None, lambda k: k.layers.LSTM(16, return_sequences=True),
          lambda k: k.layers.LSTM(8)),
]
