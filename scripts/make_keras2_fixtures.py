"""Writes the tf.keras 2 HDF5 test fixtures (models, inputs and tf.keras outputs) into tests/fixtures/keras2/.

Needs TensorFlow 2.x and tf-keras, which CI does not have; the files it writes are committed. Run once:

    python -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu tf-keras
    /tmp/tfvenv/bin/python scripts/make_keras2_fixtures.py

Every weight is random (batch-norm statistics included) so that outputs depend on all of them; each model
is saved with ``model.save(<name>.h5)`` next to ``<name>.npz`` holding ``input_<i>`` and ``output_<i>``.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "keras2"


def convnet(keras: Any) -> Any:
    """Conv2D + BatchNormalization + DepthwiseConv2D + SeparableConv2D + pooling + Dense, with a PReLU."""
    layers = keras.layers
    x = inp = keras.Input((8, 8, 3), name="image")
    x = layers.Conv2D(6, 3, padding="same", name="conv")(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.ReLU(6.0, name="relu6")(x)
    x = layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="relu", name="dw")(x)
    x = layers.MaxPooling2D(2, name="max_pool")(x)
    x = layers.SeparableConv2D(8, 3, padding="same", name="sep")(x)
    x = layers.PReLU(shared_axes=[1, 2], name="prelu")(x)
    x = layers.AveragePooling2D(2, name="avg_pool")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.5, name="dropout")(x)
    return keras.Model(inp, layers.Dense(5, name="logits")(x), name="keras2_convnet")


def multi_io(keras: Any) -> Any:
    """Two inputs, two outputs, a nested Sequential model called twice, merges and a reshape."""
    layers = keras.layers
    tower = keras.Sequential([keras.Input((6,), name="tower_in"), layers.Dense(8, activation="tanh", name="tower_fc"),
                              layers.BatchNormalization(name="tower_bn"), layers.Dense(4, name="tower_out")],
                             name="tower")
    a, b = keras.Input((6,), name="a"), keras.Input((6,), name="b")
    ta, tb = tower(a), tower(b)
    merged = layers.Concatenate(name="concat")([ta, tb, layers.Multiply(name="mul")([ta, tb])])
    score = layers.Dense(3, activation="softmax", name="score")(layers.Dense(6, activation="elu", name="fc")(merged))
    seq = layers.Reshape((2, 2), name="reshape")(layers.Average(name="avg")([ta, tb]))
    seq = layers.Permute((2, 1), name="permute")(seq)
    return keras.Model([a, b], [score, layers.Flatten(name="flat")(seq)], name="keras2_multi_io")


def text_rnn(keras: Any) -> Any:
    """Embedding + LSTM (sequences) + GRU (reset_after=False, the form tfjs layers can run) + Dense."""
    layers = keras.layers
    ids = keras.Input((7,), dtype="int32", name="tokens")
    x = layers.Embedding(20, 8, name="embed")(ids)
    x = layers.LSTM(8, return_sequences=True, name="lstm")(x)
    x = layers.GRU(6, reset_after=False, name="gru")(x)
    return keras.Model(ids, layers.Dense(3, name="logits")(x), name="keras2_text_rnn")


def text_bigru(keras: Any) -> Any:
    """Embedding + Bidirectional GRU with tf.keras's default reset_after=True + Dense."""
    layers = keras.layers
    ids = keras.Input((6,), dtype="int32", name="tokens")
    x = layers.Embedding(16, 6, name="embed")(ids)
    x = layers.Bidirectional(layers.GRU(5), name="bigru")(x)
    return keras.Model(ids, layers.Dense(2, name="logits")(x), name="keras2_text_bigru")


BUILDERS: dict[str, Callable[[Any], Any]] = {"convnet": convnet, "multi_io": multi_io, "text_rnn": text_rnn,
                                             "text_bigru": text_bigru}


def randomize(model: Any, rng: np.random.Generator) -> None:
    """He-normal kernels, spread-out batch-norm statistics, small random biases."""
    for var in model.weights:
        shape, name = tuple(var.shape), var.name
        if "moving_variance" in name:
            value = rng.uniform(0.5, 1.5, shape)
        elif "gamma" in name:
            value = rng.uniform(0.6, 1.4, shape)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[:-1])) if "depthwise" not in name else int(np.prod(shape[:2]))
            value = rng.normal(0.0, np.sqrt(2.0 / max(fan_in, 1)), shape)
        else:
            value = rng.normal(0.0, 0.2, shape)
        var.assign(value.astype(np.float32))


def inputs(model: Any, rng: np.random.Generator, batch: int = 3) -> list[np.ndarray]:
    """Random inputs: token ids for integer inputs, normal floats otherwise."""
    out = []
    for t in model.inputs:
        shape = [batch, *t.shape[1:]]
        if t.dtype.is_integer:
            out.append(rng.integers(0, 10, shape).astype(np.int32))
        else:
            out.append(rng.normal(0.0, 1.0, shape).astype(np.float32))
    return out


def write(name: str, keras: Any, out: Path) -> None:
    """Build, randomize, save ``<name>.h5`` and ``<name>.npz``."""
    model = BUILDERS[name](keras)
    rng = np.random.default_rng(sum(map(ord, name)))
    randomize(model, rng)
    feeds = inputs(model, rng)
    results = model.predict(feeds if len(feeds) > 1 else feeds[0], verbose=0)
    results = results if isinstance(results, list) else [results]
    model.save(out / f"{name}.h5")
    arrays = {f"input_{i}": f for i, f in enumerate(feeds)}
    arrays.update({f"output_{i}": np.asarray(r, np.float32) for i, r in enumerate(results)})
    np.savez(out / f"{name}.npz", **arrays)
    print(f"{name}: {(out / f'{name}.h5').stat().st_size} bytes, outputs {[r.shape for r in results]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    import tensorflow as tf
    import tf_keras as keras

    tf.keras.utils.set_random_seed(0)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in BUILDERS:
        write(name, keras, args.out)
    (args.out / "VERSIONS.txt").write_text(f"tensorflow {tf.__version__}\ntf_keras {keras.__version__}\n")


if __name__ == "__main__":
    main()
