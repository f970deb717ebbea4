"""Keras wrapper cases: Bidirectional (every merge mode, states) and TimeDistributed (dense, conv, dynamic time)."""

from __future__ import annotations

from typing import Any

from tests.keras_cases import KerasCase, functional

T, F = 5, 3


def _bi(tag: str, make: Any, shape: tuple[int | None, ...] = (T, F)) -> KerasCase:
    return KerasCase(f"bidirectional_{tag}", "Bidirectional", lambda k: functional(k, shape, make(k)))


def _bi_states(k: Any) -> Any:
    x = k.Input((T, F), name="x")
    outs = k.layers.Bidirectional(k.layers.LSTM(4, return_sequences=True, return_state=True),
                                  merge_mode=None)(x)
    return k.Model(x, outs)


def _bi_initial(k: Any) -> Any:
    x = k.Input((T, F), name="x")
    h, hb = k.Input((4,), name="h"), k.Input((4,), name="hb")
    return k.Model([x, h, hb], k.layers.Bidirectional(k.layers.GRU(4))(x, initial_state=[h, hb]))


def _td(tag: str, make: Any, shape: tuple[int | None, ...]) -> KerasCase:
    return KerasCase(f"time_distributed_{tag}", "TimeDistributed",
                     lambda k: functional(k, shape, k.layers.TimeDistributed(make(k))))


CASES = [
    _bi("lstm_concat_last", lambda k: k.layers.Bidirectional(k.layers.LSTM(4))),
    _bi("lstm_concat_sequences", lambda k: k.layers.Bidirectional(k.layers.LSTM(4, return_sequences=True))),
    _bi("gru_sum", lambda k: k.layers.Bidirectional(k.layers.GRU(4, return_sequences=True), merge_mode="sum")),
    _bi("gru_reset_before_mul", lambda k: k.layers.Bidirectional(k.layers.GRU(3, reset_after=False),
                                                                  merge_mode="mul")),
    _bi("simple_rnn_ave", lambda k: k.layers.Bidirectional(k.layers.SimpleRNN(4, return_sequences=True),
                                                            merge_mode="ave")),
    _bi("lstm_dynamic_length", lambda k: k.layers.Bidirectional(k.layers.LSTM(4, return_sequences=True)),
        shape=(None, F)),
    KerasCase("bidirectional_states_no_merge", "Bidirectional", _bi_states),
    KerasCase("bidirectional_initial_state", "Bidirectional", _bi_initial),
    _td("dense", lambda k: k.layers.Dense(3, activation="relu"), (T, F)),
    _td("dense_dynamic_time", lambda k: k.layers.Dense(2), (None, F)),
    _td("conv2d", lambda k: k.layers.Conv2D(2, 3, padding="same"), (T, 6, 6, 2)),
    KerasCase("text_bidirectional_gru_classifier", "Bidirectional", lambda k: functional(
        k, (12,), k.layers.Embedding(50, 8), k.layers.Bidirectional(k.layers.GRU(8, return_sequences=True)),
        k.layers.Bidirectional(k.layers.LSTM(8)), k.layers.Dense(3), dtype="int32")),
]
