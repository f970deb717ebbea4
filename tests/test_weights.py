"""Weight shards: gap-free packing across shard boundaries, read back exactly."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from backends.tfjs_graph.model_json import dumps
from pivot.errors import InputError
from tfjs_format.quantize import QuantizationSpec
from tfjs_format.summary import SizeTally
from tfjs_format.weights import Encoded, encode, read_weights, write_group


@pytest.mark.parametrize("shard_bytes", [1, 7, 64, 4 * 1024 * 1024])
def test_write_read_round_trip(tmp_path: Path, shard_bytes: int) -> None:
    rng = np.random.default_rng(0)
    weights = {"a": rng.normal(size=(3, 5)).astype(np.float32), "flag": np.array([True, False, True]),
               "idx": np.arange(-4, 5, dtype=np.int32), "scalar": np.array(2.5, np.float32),
               "empty": np.zeros((0, 4), np.float32)}
    group = write_group(tmp_path, (encode(k, v) for k, v in weights.items()), shard_bytes)
    total = sum(v.nbytes for v in weights.values())
    sizes = [(tmp_path / p).stat().st_size for p in group["paths"]]
    assert sum(sizes) == total and all(s == shard_bytes for s in sizes[:-1]) and sizes[-1] <= shard_bytes
    assert group["paths"][0] == f"group1-shard1of{len(sizes)}.bin"
    (tmp_path / "model.json").write_text(dumps({"weightsManifest": [group]}))
    back = dict(read_weights(tmp_path / "model.json"))
    assert list(back) == list(weights)
    for name, value in weights.items():
        assert back[name].dtype == value.dtype and back[name].shape == value.shape
        np.testing.assert_array_equal(back[name], value)


def test_writer_holds_one_tensor_at_a_time(tmp_path: Path) -> None:
    """Peak Python/numpy memory while writing 8 quantized 8 MiB tensors stays near one tensor, not eight."""
    size = 2 * 1024 * 1024  # float32 elements: 8 MiB per tensor

    def tensors() -> Iterator[Encoded]:
        for k in range(8):
            yield encode(f"w{k}", np.random.default_rng(k).standard_normal(size, dtype=np.float32),
                         QuantizationSpec(fallthrough="uint8" if k % 2 else "float16"))

    tracemalloc.start()
    try:
        group = write_group(tmp_path, tensors(), shard_bytes=1 << 20, tally=SizeTally.planned(8 * size))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"peak traced memory {peak / 2**20:.1f} MiB for 8 x 8 MiB float32 tensors")
    # One 8 MiB tensor + its float16 copy (4 MiB) + a 1 MiB shard buffer + small temporaries; two tensors: > 16.
    assert peak < 2 * 4 * size
    assert sum((tmp_path / p).stat().st_size for p in group["paths"]) == 4 * (2 + 1) * size  # 4 float16, 4 uint8


@pytest.mark.parametrize(("cut", "message"), [(-1, "needs"), (1, "needs"), (None, "is missing")])
def test_reader_checks_shards(tmp_path: Path, cut: int | None, message: str) -> None:
    group = write_group(tmp_path, [encode("a", np.ones((4, 4), np.float32))], shard_bytes=40)
    last = tmp_path / group["paths"][-1]
    if cut is None:
        last.unlink()
    else:
        last.write_bytes(last.read_bytes()[:cut] if cut < 0 else last.read_bytes() + b"\0" * cut)
    (tmp_path / "model.json").write_text(dumps({"weightsManifest": [group]}))
    with pytest.raises(InputError, match=message):
        list(read_weights(tmp_path / "model.json"))
