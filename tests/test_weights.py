"""Weight shards: gap-free packing across shard boundaries, read back exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backends.tfjs_graph.model_json import dumps
from backends.tfjs_graph.weights import encode, read_weights, write_group


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
