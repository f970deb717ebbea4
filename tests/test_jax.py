"""convert_jax: Flax models through jax2onnx, compared JAX vs onnxruntime on the pivot vs TensorFlow.js."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx_ir as ir
import pytest

from backends.tfjs_runtime import TfjsRuntime
from frontends.jax.signatures import InputSpec, poly_texts, to_spec
from pivot.errors import InputError, MissingDependencyError, OutputError, UnsupportedOpsError
from tests.parity import compare, ort_run
from tests.test_quantize import check_decoded

BATCHES = (1, 5)  # two batch sizes through ONE converted model
TOL = 1e-4
UINT8_BOUND = 5e-2  # worst output error / max |output| of the uint8 CNN; measured 2.4e-2 on wasm
Model = tuple[Callable[..., Any], Any, tuple[int, ...]]  # (apply_fn, params, input shape without batch)


@pytest.fixture(scope="module")
def jax_libs() -> Any:
    """jax, flax and jax2onnx, or a skip: the core tests run without the ``jax`` extra."""
    jax = pytest.importorskip("jax")
    pytest.importorskip("flax")
    pytest.importorskip("jax2onnx")
    return jax


# -- signatures (no JAX needed) -----------------------------------------------------------------------------


def test_signature_forms() -> None:
    f32 = np.dtype(np.float32)
    assert to_spec(((None, 8), np.float32), 0) == InputSpec(None, (None, 8), f32)
    assert to_spec(("b", 3), 0) == InputSpec(None, ("b", 3), f32)
    assert to_spec(np.zeros((2, 4), np.int32), 0) == InputSpec(None, (2, 4), np.dtype(np.int32))

    class TensorSpecLike:  # tf.TensorSpec's duck type: TensorShape.as_list(), DType.as_numpy_dtype, name
        name = "image"
        dtype = type("DType", (), {"as_numpy_dtype": np.float32})()
        shape = type("TensorShape", (), {"as_list": lambda self: [None, 28, 28, 1]})()

    assert to_spec(TensorSpecLike(), 0) == InputSpec("image", (None, 28, 28, 1), f32)
    with pytest.raises(InputError, match="input signature 1: bad dimension -3"):
        to_spec(((-3, 2), np.float32), 1)
    for bad in ("x", np.float32):  # np.float32 (a class) has .shape and .dtype descriptors
        with pytest.raises(InputError, match="expected"):
            to_spec(bad, 0)


def test_polymorphic_texts() -> None:
    specs = [InputSpec(None, (None, 8), np.dtype(np.float32)), InputSpec(None, ("n", 2), np.dtype(np.float32))]
    assert poly_texts(specs, ["(b, 8)", None]) == ["(b, 8)", "n, 2"]
    assert poly_texts(specs, [("b", None), "n, _"]) == ["b, _", "n, _"]
    with pytest.raises(InputError, match=r"unknown size.*axis 0.*polymorphic_shapes"):
        poly_texts(specs, None)
    with pytest.raises(InputError, match="1 entries for 2 inputs"):
        poly_texts(specs, "(b, 8)")


def test_missing_jax_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tfjs_pivot import convert_jax

    for name in ("jax", "jax2onnx"):
        with monkeypatch.context() as m:
            m.setitem(sys.modules, name, None)  # ``import name`` now raises ImportError, installed or not
            with pytest.raises(MissingDependencyError) as info:
                convert_jax(lambda x: x, None, [((2,), np.float32)], tmp_path / "out")
        message = str(info.value)
        assert "\n" not in message and name in message and 'pip install "tfjs-pivot[jax]"' in message
    assert not (tmp_path / "out").exists()


def test_core_imports_no_framework() -> None:
    code = ("import sys, pivot, tfjs_pivot, frontends, frontends.jax; tfjs_pivot.convert_jax; "
            "print(sorted(m for m in ('jax', 'jax2onnx', 'flax', 'tensorflow', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- Flax models --------------------------------------------------------------------------------------------


def randomize(tree: Any, seed: int) -> Any:
    """Every leaf random (the default zero biases and unit BN statistics hide bugs); variances positive."""
    import jax

    rng = np.random.default_rng(seed)

    def draw(path: Any, leaf: Any) -> np.ndarray:
        arr = np.asarray(leaf)
        if "var" in jax.tree_util.keystr(path):
            return rng.uniform(0.5, 2.0, arr.shape).astype(arr.dtype)
        fan_in = int(np.prod(arr.shape[:-1])) if arr.ndim > 1 else 4
        return (rng.normal(size=arr.shape) * 1.5 / np.sqrt(fan_in)).astype(arr.dtype)

    return jax.tree_util.tree_map_with_path(draw, tree)


def linen_mlp() -> Model:
    from flax import linen as nn

    class MLP(nn.Module):
        @nn.compact
        def __call__(self, x: Any) -> Any:
            x = nn.relu(nn.Dense(32)(x))
            x = nn.tanh(nn.Dense(16)(x))
            return nn.Dense(4)(x)

    module = MLP()
    return module.apply, randomize(module.init(_key(), np.ones((1, 8), np.float32)), 1), (8,)


def nnx_mlp() -> Model:
    from flax import nnx

    class MLP(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.l1 = nnx.Linear(8, 32, rngs=rngs)
            self.l2 = nnx.Linear(32, 4, rngs=rngs)

        def __call__(self, x: Any) -> Any:
            return self.l2(nnx.gelu(self.l1(x)))

    graph, state = nnx.split(MLP(nnx.Rngs(0)))
    return lambda s, x: nnx.merge(graph, s)(x), randomize(state, 2), (8,)


def linen_cnn() -> Model:
    from flax import linen as nn

    class CNN(nn.Module):
        @nn.compact
        def __call__(self, x: Any) -> Any:
            x = nn.relu(nn.BatchNorm(use_running_average=True)(nn.Conv(8, (3, 3))(x)))
            # Keyword arguments: jax2onnx's patched pooling rejects positional window/strides.
            x = nn.max_pool(x, window_shape=(2, 2), strides=(2, 2))
            x = nn.swish(nn.Conv(8, (3, 3), strides=(2, 2), padding="VALID")(x))
            x = x.reshape((x.shape[0], -1))
            return nn.Dense(5)(x)

    module = CNN()
    return module.apply, randomize(module.init(_key(), np.ones((1, 16, 16, 3), np.float32)), 3), (16, 16, 3)


def nnx_cnn() -> Model:
    from flax import nnx

    class CNN(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.conv1 = nnx.Conv(3, 8, (3, 3), rngs=rngs)
            self.bn = nnx.BatchNorm(8, use_running_average=True, rngs=rngs)
            self.conv2 = nnx.Conv(8, 4, (3, 3), strides=(2, 2), rngs=rngs)
            self.dense = nnx.Linear(4 * 4 * 4, 5, rngs=rngs)

        def __call__(self, x: Any) -> Any:
            x = nnx.relu(self.bn(self.conv1(x)))
            x = nnx.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
            x = nnx.gelu(self.conv2(x))
            return self.dense(x.reshape((x.shape[0], -1)))

    graph, state = nnx.split(CNN(nnx.Rngs(0)))
    return lambda s, x: nnx.merge(graph, s)(x), randomize(state, 4), (16, 16, 3)


MODELS = {"linen_mlp": linen_mlp, "nnx_mlp": nnx_mlp, "linen_cnn": linen_cnn, "nnx_cnn": nnx_cnn}


def _key() -> Any:
    import jax

    return jax.random.PRNGKey(0)


def _inputs(shape: tuple[int, ...], batch: int) -> np.ndarray:
    return np.random.default_rng(batch).normal(size=(batch, *shape)).astype(np.float32)


@pytest.mark.needs_node
@pytest.mark.parametrize("name", sorted(MODELS))
def test_flax_parity_two_batch_sizes(jax_libs: Any, tfjs: TfjsRuntime, tmp_path: Path, name: str) -> None:
    from frontends.jax import lower_jax
    from pivot.passes import optimize
    from tfjs_pivot import convert_jax

    apply_fn, params, shape = MODELS[name]()
    signature = [((None, *shape), np.float32)]
    result = convert_jax(apply_fn, params, signature, tmp_path / "tfjs", polymorphic_shapes=["(b, ...)"])
    assert result.input_format == "jax" and "model.json" in result.files
    doc = json.loads((tmp_path / "tfjs" / "model.json").read_text())
    dims = doc["signature"]["inputs"]["input_0"]["tensorShape"]["dim"]
    assert [int(d["size"]) for d in dims] == [-1, *shape]  # the batch stays polymorphic
    pivot = optimize(lower_jax(apply_fn, params, signature, polymorphic_shapes=["(b, ...)"]))
    if "cnn" in name:  # jax2onnx's leftover uses would otherwise keep the BatchNorm from folding into the Conv
        assert "BatchNormalization" not in {n.op_type for n in pivot.graph}
    for batch in BATCHES:
        x = _inputs(shape, batch)
        ref = np.asarray(apply_fn(params, x))
        assert ref.shape[0] == batch and ref.std() > 0.1, f"degenerate reference output (std {ref.std():.2g})"
        stages = {"ort": ort_run(ir.to_proto(pivot), {"input_0": x})["output_0"]}
        for backend in ("wasm", "cpu"):
            stages[backend] = tfjs.run(tmp_path / "tfjs" / "model.json", {"input_0": x}, backend=backend)["output_0"]
        for stage, got in stages.items():
            c = compare(ref, got, "output_0", stage)
            print(f"{name} batch {batch} {stage}: max abs error {c.max_abs:.2e} (scale {c.scale:.2g})")
            assert c.relative <= TOL, f"{name} batch {batch} {stage}: {c.max_abs:.3g}"


@pytest.mark.needs_node
def test_uint8_quantization_passes_through(jax_libs: Any, tfjs: TfjsRuntime, tmp_path: Path) -> None:
    from tfjs_pivot import convert_jax

    apply_fn, params, shape = linen_cnn()
    signature = [(("b", *shape), np.float32)]  # symbolic name in the signature itself
    convert_jax(apply_fn, params, signature, tmp_path / "f32")
    result = convert_jax(apply_fn, params, signature, tmp_path / "q", quantization={"uint8": True}, shard_bytes=512)
    assert len([f for f in result.files if f.endswith(".bin")]) > 1  # shard_bytes passed through too
    entries = [e for g in json.loads((tmp_path / "q" / "model.json").read_text())["weightsManifest"]
               for e in g["weights"]]
    assert all(e.get("quantization", {}).get("dtype") == "uint8" for e in entries if e["dtype"] == "float32")
    original = tfjs.weights(tmp_path / "f32" / "model.json")
    assert check_decoded(tmp_path / "q", tfjs.weights(tmp_path / "q" / "model.json"), original) >= 4
    x = _inputs(shape, 3)
    ref = np.asarray(apply_fn(params, x))
    got = tfjs.run(tmp_path / "q" / "model.json", {"input_0": x}, backend="wasm")["output_0"]
    rel = float(np.abs(got - ref).max() / np.abs(ref).max())
    print(f"uint8@wasm: max |output error| / max |output| = {rel:.2e}")
    assert 0 < rel <= UINT8_BOUND


@pytest.mark.needs_node
def test_dict_inputs_and_outputs_keep_their_keys(jax_libs: Any, tfjs: TfjsRuntime, tmp_path: Path) -> None:
    from tfjs_pivot import convert_jax

    w = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)

    def apply_fn(params: Any, batch: dict[str, Any]) -> dict[str, Any]:
        hidden = batch["x"] @ params["w"]
        return {"score": hidden.sum(-1), "hidden": hidden * batch["scale"][:, None]}

    signature = [{"x": ((None, 4), np.float32), "scale": ((None,), np.float32)}]
    convert_jax(apply_fn, {"w": w}, signature, tmp_path / "m", polymorphic_shapes=["(n,)", "(n, 4)"])
    sig = json.loads((tmp_path / "m" / "model.json").read_text())["signature"]
    assert sorted(sig["inputs"]) == ["scale", "x"] and sorted(sig["outputs"]) == ["hidden", "score"]
    feeds = {"x": _inputs((4,), 6), "scale": _inputs((), 6)}
    got = tfjs.run(tmp_path / "m" / "model.json", feeds, backend="wasm")
    for key, ref in apply_fn({"w": w}, feeds).items():
        assert compare(np.asarray(ref), got[key], key, "wasm").relative <= TOL


@pytest.mark.needs_node
def test_weights_named_after_params_for_quantization_patterns(jax_libs: Any, tfjs: TfjsRuntime,
                                                              tmp_path: Path) -> None:
    from tfjs_pivot import convert_jax

    apply_fn, params, shape = linen_mlp()
    convert_jax(apply_fn, params, [(("b", *shape), np.float32)], tmp_path / "q", quantization={"uint8": "*/kernel"})
    entries = {e["name"]: e for g in json.loads((tmp_path / "q" / "model.json").read_text())["weightsManifest"]
               for e in g["weights"]}
    for layer in ("Dense_0", "Dense_1", "Dense_2"):
        assert entries[f"params/{layer}/kernel"]["quantization"]["dtype"] == "uint8"
        assert "quantization" not in entries[f"params/{layer}/bias"]
    decoded = tfjs.weights(tmp_path / "q" / "model.json")
    bias = np.asarray(params["params"]["Dense_1"]["bias"])
    np.testing.assert_array_equal(decoded["params/Dense_1/bias"], bias)  # float32 weights stay exact


@pytest.mark.needs_node
def test_cumsum_positional_axis_and_no_leaked_patch(jax_libs: Any, tfjs: TfjsRuntime, tmp_path: Path) -> None:
    import jax.numpy as jnp

    from tfjs_pivot import convert_jax

    def apply_fn(x: Any) -> Any:
        return jnp.cumsum(x, 1) * jnp.tanh(x)

    for i in range(2):  # the second conversion runs with jax2onnx's rules already imported
        convert_jax(apply_fn, None, [(("b", 6), np.float32)], tmp_path / f"m{i}")
        x = _inputs((6,), 3)
        ref = np.asarray(apply_fn(x))  # jax2onnx 0.17 leaves jnp.cumsum patched to refuse this call
        got = tfjs.run(tmp_path / f"m{i}" / "model.json", {"input_0": x}, backend="wasm")["output_0"]
        assert compare(ref, got, "output_0", "wasm").relative <= TOL


def test_errors_are_conversion_errors(jax_libs: Any, tmp_path: Path) -> None:
    from tfjs_pivot import convert_jax

    with pytest.raises(InputError, match="unknown size"):
        convert_jax(lambda p, x: x, None, [((None, 3), np.float32)], tmp_path / "a")
    with pytest.raises(InputError, match=r"tracing apply_fn.*incompatible shapes"):
        convert_jax(lambda x, y: x + y, None, [(("b", 3), np.float32), (("c", 3), np.float32)], tmp_path / "b")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(OutputError, match="not an empty directory"):
        convert_jax(lambda x: x * 2, None, [((2,), np.float32)], tmp_path / "full")
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_unsupported_primitives_reported_together(jax_libs: Any, tmp_path: Path) -> None:
    from jax import lax

    from tfjs_pivot import convert_jax

    def min_pool(x: Any) -> Any:
        return lax.reduce_window(x, np.inf, lax.min, (1, 2), (1, 2), "VALID")

    def apply_fn(x: Any) -> Any:
        return min_pool(x) * 2 + min_pool(x)

    with pytest.raises(UnsupportedOpsError) as info:
        convert_jax(apply_fn, None, [(("b", 4), np.float32)], tmp_path / "out")
    (item,) = info.value.items
    assert (item.op, item.reason, item.domain) == ("reduce_window_min", "no_rule", "jax")
    assert len(item.nodes) == 2 and all("test_jax.py" in n for n in item.nodes)  # both call sites
    assert not (tmp_path / "out").exists()


@pytest.mark.needs_node
def test_lax_cond_becomes_stateless_if(jax_libs: Any, tfjs: TfjsRuntime, tmp_path: Path) -> None:
    """lax.cond on a comparison of the data: JAX vs onnxruntime (pivot) vs tfjs, each branch taken."""
    import jax.numpy as jnp
    from jax import lax

    from frontends.jax import lower_jax
    from pivot.passes import optimize
    from tfjs_pivot import convert_jax

    w = np.random.default_rng(3).normal(size=(4, 3)).astype(np.float32)

    def apply_fn(params: Any, x: Any) -> Any:
        return lax.cond(jnp.sum(x) > 0, lambda v: jnp.tanh(v @ params["w"]) * 2.0,
                        lambda v: jnp.sin(v) @ params["w"] - 1.0, x)

    signature = [((2, 4), np.float32)]
    convert_jax(apply_fn, {"w": w}, signature, tmp_path / "m")
    pivot = optimize(lower_jax(apply_fn, {"w": w}, signature))
    assert [n.op_type for n in pivot.graph if n.op_type == "If"] == ["If"]
    ops = [n["op"] for n in json.loads((tmp_path / "m" / "model.json").read_text())["modelTopology"]["node"]]
    assert "StatelessIf" in ops
    for sign in (1.0, -1.0):  # then branch, else branch
        x = np.abs(_inputs((4,), 2)) * sign + 0.01 * sign
        ref = np.asarray(apply_fn({"w": w}, x))
        stages = {"ort": ort_run(ir.to_proto(pivot), {"input_0": x})["output_0"]}
        for backend in ("wasm", "cpu"):
            stages[backend] = tfjs.run(tmp_path / "m" / "model.json", {"input_0": x}, backend=backend)["output_0"]
        for stage, got in stages.items():
            assert compare(ref, got, "output_0", stage).relative <= TOL, f"sign {sign} {stage}"
