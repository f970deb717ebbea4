"""Weight quantization: the tensorflowjs affine/float16 schemes, flag rules, gzip sizes, and tfjs decoding."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from backends.base import BackendOptions
from backends.tfjs_runtime import TfjsRuntime
from pivot.errors import InputError
from tfjs_format import quantize as quantize_mod
from tfjs_format.quantize import QuantizationSpec, apply, quantize_affine
from tfjs_format.summary import GzipMeter, SizeSummary
from tfjs_format.weights import encode, write_group
from tfjs_pivot.convert import ConvertOptions, convert

# Test vectors of /work/shared/reference/tfjs-format.md §5 (computed with tensorflowjs 4.22.0).
VECTORS = [
    ([-1, 0, 0.5, 2], "uint8", [0, 85, 128, 255], -1.0, 0.011764705882352941),
    ([0, -0.1, 1.2], "uint8", [20, 0, 255], -0.10196078817049663, 0.0050980394085248315),
    ([0, -0.1, 1.2], "uint16", [5041, 0, 65535], -0.09999695197810769, 1.9836729216049928e-05),
    ([0.3, 0.3], "uint8", [0, 0], 0.30000001192092896, 1.0),
]
# Worst output error of a quantized model relative to max |float32 output|. Measured (printed by the tests, same
# on cpu and wasm): graph convnet float16 3.6e-4, uint16 2.2e-5, uint8 5.7e-3; layers fixture 1.5e-4, 3.2e-5,
# 6.9e-3. The bounds leave about 3x headroom.
OUTPUT_BOUND = {"float16": 1e-3, "uint16": 1e-4, "uint8": 2e-2}


@pytest.mark.parametrize(("data", "dtype", "q", "minimum", "scale"), VECTORS)
def test_reference_vectors(data: list[float], dtype: str, q: list[int], minimum: float, scale: float) -> None:
    out = quantize_affine(np.array(data, np.float32), dtype)
    assert out.data.dtype == np.dtype(dtype) and out.data.tolist() == q
    assert out.quantization == {"dtype": dtype, "min": minimum, "scale": scale, "original_dtype": "float32"}
    assert list(out.quantization) == ["dtype", "min", "scale", "original_dtype"]


def _official(data: np.ndarray, dtype: str) -> tuple[np.ndarray, float, float]:
    """tensorflowjs 4.22 quantization.py under NumPy 2, written out plainly on the whole array."""
    lo, hi = data.min().astype(np.float64), data.max().astype(np.float64)
    qmax = np.iinfo(dtype).max
    scale = (hi - lo) / qmax
    if lo <= 0 <= hi:
        nmin = -np.round((0 - lo) / scale) * scale
        nmax = qmax * scale + nmin
    else:
        nmin, nmax = lo, hi
    return np.round((data.clip(nmin, nmax) - nmin) / scale).astype(dtype), float(nmin), float(scale)


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
@pytest.mark.parametrize("offset", [0.0, 8.0, -8.0])
def test_chunked_encoder_equals_whole_array_scheme(monkeypatch: pytest.MonkeyPatch, dtype: str, offset: float) -> None:
    monkeypatch.setattr(quantize_mod, "_CHUNK", 1000)  # many chunks, one ragged
    data = (np.random.default_rng(1).normal(size=(37, 101)) + offset).astype(np.float32)
    if offset == 0.0:
        data[3, 4] = 0.0
    got = quantize_affine(data, dtype)
    q, nmin, scale = _official(data, dtype)
    np.testing.assert_array_equal(got.data, q)
    assert got.quantization is not None
    assert (got.quantization["min"], got.quantization["scale"]) == (nmin, scale)
    deq = got.data.astype(np.float64) * scale + nmin
    assert np.abs(deq - data).max() <= scale  # nudging moves the grid by <= scale/2, rounding adds <= scale/2
    if offset == 0.0:
        assert deq[3, 4] == 0.0  # a real zero (e.g. padding) stays exactly zero
    else:
        assert nmin == float(data.min())  # the range does not contain 0: no nudge


def test_float16_and_skips() -> None:
    spec = QuantizationSpec(fallthrough="float16")
    data = np.array([[0.1, -2.5], [1e-6, 60000.0]], np.float32)
    out = apply(spec, "w", data)
    assert out.quantization == {"dtype": "float16", "original_dtype": "float32"}
    np.testing.assert_array_equal(out.data, data.astype(np.float16))
    too_big = apply(spec, "big", np.array([1.0, -70000.0], np.float32))
    assert too_big.quantization is None and "'big'" in too_big.note and too_big.data.dtype == np.float32


@pytest.mark.parametrize("dtype", ["float16", "uint8", "uint16"])
def test_only_finite_nonempty_float32_is_quantized(dtype: str) -> None:
    spec = QuantizationSpec(fallthrough=dtype)
    for arr in (np.arange(6, dtype=np.int32), np.array([True, False]), np.zeros((0, 3), np.float32)):
        out = apply(spec, "x", arr)
        assert out.quantization is None and out.data is arr and not out.note
    for bad in (np.nan, np.inf, -np.inf):
        out = apply(spec, "layer/mask", np.array([0.0, bad, 1.0], np.float32))
        assert out.quantization is None and "'layer/mask'" in out.note and "float32" in out.note


SPECS: list[tuple[dict[str, str | None], int | None, Any]] = [
    ({"uint8": ""}, None, ((), "uint8")),
    ({"uint8": "*conv*,dense/*", "float16": ""}, None, ((("*conv*", "uint8"), ("dense/*", "uint8")), "float16")),
    ({"uint16": " a , b ,"}, None, ((("a", "uint16"), ("b", "uint16")), None)),
    ({"uint8": None, "float16": None}, None, None),
    ({}, 1, ((), "uint8")),
    ({}, 2, ((), "uint16")),
    ({"uint8": "", "float16": ""}, None, "only one quantization flag"),
    ({"uint8": "*"}, 2, "cannot be combined"),
    ({"int4": "*"}, None, "unknown quantization dtype"),
]


@pytest.mark.parametrize(("values", "qbytes", "expected"), SPECS)
def test_spec_from_flags(values: dict[str, str | None], qbytes: int | None, expected: Any) -> None:
    if isinstance(expected, str):
        with pytest.raises(InputError, match=expected):
            QuantizationSpec.from_flags(values, qbytes)
        return
    spec = QuantizationSpec.from_flags(values, qbytes)
    assert (spec.patterns, spec.fallthrough) == expected if spec else expected is None


def test_spec_resolve() -> None:
    spec = QuantizationSpec((("*conv*", "uint8"), ("conv1/*", "uint8"), ("dense?/b", "float16")), "uint16")
    assert spec.resolve("block/conv2/kernel") == "uint8"  # '*' crosses '/', like fnmatch
    assert spec.resolve("conv1/bias") == "uint8"  # two patterns, one dtype: fine
    assert spec.resolve("dense1/b") == "float16"
    assert spec.resolve("Dense1/b") == "uint16"  # case-sensitive; the fallthrough takes the rest
    assert spec.unused_patterns(["conv1/bias"]) == ["dense?/b"]
    with pytest.raises(InputError, match=r"'dense_conv/b' matches .* two dtypes"):
        QuantizationSpec((("*conv*", "uint8"), ("dense*", "float16"))).resolve("dense_conv/b")
    assert QuantizationSpec((("a*", "uint8"),)).resolve("b") is None


def _shards(tmp: Path, arrays: dict[str, np.ndarray], shard: int, meter: GzipMeter) -> list[bytes]:
    from tfjs_format.summary import SizeTally

    tally = SizeTally(meter)
    group = write_group(tmp, (encode(k, v) for k, v in arrays.items()), shard, tally=tally)
    assert tally.files == len(group["paths"])
    return [(tmp / p).read_bytes() for p in group["paths"]]


def test_gzip_exact_and_sampled(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = {"noise": rng.normal(size=300_000).astype(np.float32),
              "smooth": np.sin(np.arange(400_000, dtype=np.float32) * 1e-3),
              "codes": np.repeat(rng.integers(0, 9, 50_000, dtype=np.int32), 4)}
    exact = GzipMeter(planned_bytes=1)
    (tmp_path / "a").mkdir()
    blobs = _shards(tmp_path / "a", arrays, 1 << 20, exact)
    truth = sum(len(gzip.compress(b, compresslevel=6, mtime=0)) for b in blobs)
    assert exact.exact and exact.total == truth
    sampled = GzipMeter(planned_bytes=sum(map(len, blobs)), exact_limit=0, sample_target=200_000, block=16384)
    (tmp_path / "b").mkdir()
    _shards(tmp_path / "b", arrays, 1 << 20, sampled)
    assert not sampled.exact and sampled.stride > 1
    print(f"gzip exact {truth} B, sampled estimate {sampled.total} B ({sampled.total / truth - 1:+.2%})")
    assert abs(sampled.total / truth - 1) < 0.03


def convnet(seed: int = 0) -> onnx.ModelProto:
    """x[N,3,16,16] -> conv+relu -> conv -> mean -> gemm, with a constant bias and a positive-only weight."""
    rng = np.random.default_rng(seed)

    def he(*shape: int) -> np.ndarray:
        return (rng.normal(size=shape) * np.sqrt(2.0 / np.prod(shape[1:]))).astype(np.float32)

    inits = [numpy_helper.from_array(he(8, 3, 3, 3), "conv1_w"),
             numpy_helper.from_array(np.full(8, 0.25, np.float32), "conv1_b"),  # min == max
             numpy_helper.from_array(he(16, 8, 3, 3), "conv2_w"),
             numpy_helper.from_array(rng.uniform(0.5, 1.5, size=16).astype(np.float32), "scale"),  # all > 0
             numpy_helper.from_array(he(10, 16), "fc_w"),
             numpy_helper.from_array(rng.uniform(-0.1, 0.1, size=10).astype(np.float32), "fc_b"),
             numpy_helper.from_array(np.array([0, -1], np.int64), "flat_shape")]
    nodes = [helper.make_node("Conv", ["x", "conv1_w", "conv1_b"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("Conv", ["r1", "conv2_w"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2], name="conv2"),
             helper.make_node("ReduceMean", ["c2"], ["m"], axes=[2, 3], keepdims=0, name="gap"),
             helper.make_node("Mul", ["m", "scale"], ["s"], name="mul"),
             helper.make_node("Reshape", ["s", "flat_shape"], ["f"], name="flat"),
             helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["y"], transB=1, name="fc")]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 16, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])
    graph = helper.make_graph(nodes, "convnet", [x], [y], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _stored(out: Path) -> dict[str, tuple[dict[str, Any], np.ndarray]]:
    """Every manifest entry with its raw storage array, sliced from the concatenated shards by hand."""
    doc = json.loads((out / "model.json").read_text())
    result = {}
    for group in doc["weightsManifest"]:
        blob = b"".join((out / p).read_bytes() for p in group["paths"])
        offset = 0
        for entry in group["weights"]:
            q = entry.get("quantization")
            dtype = np.dtype(q["dtype"] if q else entry["dtype"]).newbyteorder("<")
            n = int(np.prod(entry["shape"]))
            result[entry["name"]] = (entry, np.frombuffer(blob, dtype, n, offset).reshape(entry["shape"]))
            offset += n * dtype.itemsize
        assert offset == len(blob)
    return result


def check_decoded(out: Path, decoded: dict[str, np.ndarray], original: dict[str, np.ndarray]) -> int:
    """tfjs's decoded weights equal q*scale+min (float64 -> float32) or float16 bit for bit; returns #quantized."""
    quantized = 0
    for name, (entry, raw) in _stored(out).items():
        if entry.get("group") == "optimizer":  # not among a layers model's weights once loaded
            continue
        q = entry.get("quantization")
        if q is None:
            expected = raw
        elif q["dtype"] == "float16":
            expected = raw.astype(np.float32)
            assert np.all(np.abs(expected - original[name]) <= np.abs(original[name]) * 2**-11 + 2**-25), name
        else:
            expected = (raw.astype(np.float64) * q["scale"] + q["min"]).astype(np.float32)
            step = q["scale"] if original[name].min() != original[name].max() else 0.0
            assert np.abs(expected.astype(np.float64) - original[name]).max() <= step, name
        quantized += q is not None
        assert q is None or entry["dtype"] == "float32", name
        got = decoded[name]
        assert got.shape == expected.shape, name
        np.testing.assert_array_equal(_bits(got), _bits(expected), err_msg=name)
    return quantized


def _bits(arr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(arr).reshape(-1).view(np.uint8)


@pytest.mark.needs_node
@pytest.mark.parametrize("dtype", ["float16", "uint16", "uint8"])
def test_quantized_graph_model_in_tfjs(tmp_path: Path, tfjs: TfjsRuntime, dtype: str) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    convert(tmp_path / "m.onnx", tmp_path / "f32", ConvertOptions(backend=BackendOptions(shard_bytes=1000)))
    spec = QuantizationSpec(fallthrough=dtype)
    result = convert(tmp_path / "m.onnx", tmp_path / "q", ConvertOptions(backend=BackendOptions(shard_bytes=1000,
                                                                                                quantization=spec)))
    original = tfjs.weights(tmp_path / "f32" / "model.json")
    assert check_decoded(tmp_path / "q", tfjs.weights(tmp_path / "q" / "model.json"), original) >= 5
    assert any(e["dtype"] == "int32" and "quantization" not in e for e, _ in _stored(tmp_path / "q").values())
    sizes = result.stats["sizes"]
    assert isinstance(sizes, SizeSummary) and sizes.gzip_exact and set(sizes.after) == {dtype, "int32"}
    assert sizes.after[dtype] * {"float16": 2, "uint16": 2, "uint8": 4}[dtype] == sizes.before["float32"]
    x = np.random.default_rng(1).normal(size=(2, 3, 16, 16)).astype(np.float32)
    for backend in ("cpu", "wasm"):
        ref = tfjs.run(tmp_path / "f32" / "model.json", {"x": x}, backend=backend)["y"]  # type: ignore[arg-type]
        got = tfjs.run(tmp_path / "q" / "model.json", {"x": x}, backend=backend)["y"]  # type: ignore[arg-type]
        rel = float(np.abs(got - ref).max() / np.abs(ref).max())
        print(f"{dtype}@{backend}: max |output error| / max |output| = {rel:.2e} (bound {OUTPUT_BOUND[dtype]:.0e})")
        assert 0 < rel <= OUTPUT_BOUND[dtype]
