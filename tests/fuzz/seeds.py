"""Valid seed models of every input format, built once per session (the fuzz mutators start from them)."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.fuzz.wire import frozen_add

REPO = Path(__file__).resolve().parents[2]
KERAS2 = REPO / "tests" / "fixtures" / "keras2"
TINY_ONNX = REPO / "examples" / "tiny_convnet.onnx"
GRAPH = ("--output-format", "tfjs_graph_model")


@dataclass(frozen=True)
class Seed:
    """A valid model: its folder (copied per case), the file the CLI is given, the output name and flags."""

    name: str
    kind: str  # onnx | h5 | keras | layers | tf
    source: str  # inside the folder; "." for a model directory
    out: str = "out"
    args: tuple[str, ...] = ()
    # Files worth truncating / flipping besides the source itself (external data, shards).
    side: tuple[str, ...] = ()


SEEDS: dict[str, Seed] = {s.name: s for s in (
    Seed("onnx_convnet", "onnx", "model.onnx"),
    Seed("onnx_external", "onnx", "model.onnx", side=("weights.bin",)),
    Seed("onnx_shape", "onnx", "model.onnx"),
    Seed("h5_k2", "h5", "model.h5"),
    Seed("h5_k2_multi", "h5", "model.h5"),
    Seed("h5_k3", "h5", "model.h5"),
    Seed("keras_zip", "keras", "model.keras"),
    Seed("layers_k2", "layers", "model.json", out="out.h5", side=("group1-shard1of1.bin",)),
    Seed("layers_k3", "layers", "model.json", out="out.h5", side=("group1-shard1of1.bin",)),
    # Built by Keras 3 itself (torch backend) in a child process: slow cases only.
    Seed("k3real_keras", "keras", "model.keras"),
    Seed("k3real_h5", "h5", "model.h5"),
    # A TensorFlow frozen graph written as protobuf bytes (no TensorFlow needed); converting it imports TensorFlow.
    Seed("tf_frozen", "tf", "model.pb", args=("--output-node-names", "y")),
)}
SLOW_SEEDS = frozenset({"k3real_keras", "k3real_h5", "tf_frozen"})


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _copy(src: Path) -> Callable[[Path, Path], None]:
    def build(folder: Path, _: Path) -> None:
        shutil.copyfile(src, folder / ("model" + src.suffix))
    return build


def _onnx_external(folder: Path, _: Path) -> None:
    model = onnx.load(TINY_ONNX)
    onnx.save_model(model, folder / "model.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)


def shape_model(opset: int = 13) -> onnx.ModelProto:
    """x[1,4] -> Reshape(x, Concat(Gather(Shape(x), 0), [2, 2])) + ConstantOfShape([1, 2, 2]), times w."""
    ints = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    inits = [ints("idx0", 0), ints("axes0", [0]), ints("two_two", [2, 2]), ints("ones_shape", [1, 2, 2]),
             numpy_helper.from_array(np.arange(4, dtype=np.float32).reshape(2, 2) + 1, "w")]
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "idx0"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
        helper.make_node("Concat", ["n1", "two_two"], ["shp"], axis=0),
        helper.make_node("Reshape", ["x", "shp"], ["y"]),
        helper.make_node("ConstantOfShape", ["ones_shape"], ["z"],
                         value=numpy_helper.from_array(np.array([1.0], np.float32))),
        helper.make_node("Add", ["y", "z"], ["yz"]),
        helper.make_node("Mul", ["yz", "w"], ["out"]),
    ]
    graph = helper.make_graph(nodes, "shape_arith", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 2, 2])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def _onnx_shape(folder: Path, _: Path) -> None:
    onnx.save_model(shape_model(), folder / "model.onnx")


def _convert(src: Path, out: Path, *args: str) -> None:
    """Our own writers (the real CLI code, in process): layers models, Keras 3 .h5 and .keras."""
    from tfjs_pivot.cli import main

    try:
        main(["convert", "--quiet", *args, str(src), str(out)], standalone_mode=True)
    except SystemExit as e:
        if e.code:
            raise RuntimeError(f"seed conversion {src} -> {out} failed ({e.code})") from None


def _layers_k2(folder: Path, root: Path) -> None:
    shutil.rmtree(folder)
    _convert(KERAS2 / "convnet.h5", folder)


def _from_layers(name: str, *args: str) -> Callable[[Path, Path], None]:
    def build(folder: Path, root: Path) -> None:
        _convert(root / "layers_k2" / "model.json", folder / name, *args)
    return build


def _layers_k3(folder: Path, root: Path) -> None:
    shutil.rmtree(folder)
    _convert(root / "keras_zip" / "model.keras", folder)


_KERAS3_SCRIPT = """
import sys
sys.modules["tensorflow"] = None  # Keras 3 imports TensorFlow when present: seconds, and not needed here
import keras
inp = keras.Input((8, 8, 3), name="image")
x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inp)
x = keras.layers.BatchNormalization(name="bn")(x)
x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
out = keras.layers.Dense(3, name="logits")(x)
model = keras.Model(inp, out, name="k3real")
model.save(sys.argv[1])
"""


def _keras3(name: str) -> Callable[[Path, Path], None]:
    def build(folder: Path, _: Path) -> None:
        env = {**os.environ, "KERAS_BACKEND": "torch", "TF_CPP_MIN_LOG_LEVEL": "3"}
        subprocess.run([sys.executable, "-c", _KERAS3_SCRIPT, str(folder / name)], env=env, check=True,
                       capture_output=True, timeout=300)
    return build


# Seed name -> builder(folder, seeds root); later builders may read earlier seeds.
BUILDERS: dict[str, Callable[[Path, Path], None]] = {
    "onnx_convnet": _copy(TINY_ONNX),
    "onnx_external": _onnx_external,
    "onnx_shape": _onnx_shape,
    "h5_k2": _copy(KERAS2 / "convnet.h5"),
    "h5_k2_multi": _copy(KERAS2 / "multi_io.h5"),
    "layers_k2": _layers_k2,
    "h5_k3": _from_layers("model.h5", "--output-format", "keras"),
    "keras_zip": _from_layers("model.keras", "--output-format", "keras_keras"),
    "layers_k3": _layers_k3,
    "k3real_keras": _keras3("model.keras"),
    "k3real_h5": _keras3("model.h5"),
    "tf_frozen": lambda folder, _: _write(folder / "model.pb", frozen_add()),
}


def seed_folder(root: Path, name: str) -> Path:
    """The folder of seed ``name`` under ``root``, built on first use (once across xdist workers)."""
    folder = root / name
    if (root / f"{name}.done").exists():
        return folder
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # workers share the seeds: one builds, the others wait
        for needed in _prerequisites(name):
            _build(root, needed)
    return folder


def _prerequisites(name: str) -> list[str]:
    before = {"h5_k3": ["layers_k2"], "keras_zip": ["layers_k2"], "layers_k3": ["layers_k2", "keras_zip"]}
    return [*before.get(name, []), name]


def _build(root: Path, name: str) -> None:
    if (root / f"{name}.done").exists():
        return
    folder = root / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    BUILDERS[name](folder, root)
    (root / f"{name}.done").touch()
