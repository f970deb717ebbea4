"""Builds an ONNX model with more than 2 GB of external float32 weights, converts it, prints time and peak RSS.

Usage: python scripts/bench_large_onnx.py [--gb 2.5] [--quantize uint8] [--workdir DIR]

The model is y = x @ W1 @ W2 with two square weights stored as ONNX external data (protobuf's
2 GB limit would reject them inline). The conversion runs as `tfjs-pivot convert` in a child
process (with `--quantize-<dtype>` when asked); its wall time and peak resident memory are
reported, and the written shards are checked against the source weights (byte count, and sampled
rows equal to the source, or within one quantization step of it).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx_ir as ir

from tfjs_format.quantize import dequantize
from tfjs_format.weights import stored_nbytes


def build(path: Path, gigabytes: float) -> list[np.memmap]:
    """Write the model; each weight is a memory-mapped .npy so the builder stays small too."""
    n = int((gigabytes * 1e9 / 2 / 4) ** 0.5)
    weights = []
    for k in range(2):
        w = np.lib.format.open_memmap(path.parent / f"w{k}.npy", mode="w+", dtype=np.float32, shape=(n, n))
        for row in range(0, n, 1024):  # deterministic, non-constant values, written in blocks
            rows = np.arange(row, min(row + 1024, n), dtype=np.float32)[:, None]
            w[row:row + 1024] = np.sin(rows * 0.001 + np.arange(n, dtype=np.float32) * (k + 1) * 1e-4) * 0.01
        weights.append(w)
    x = ir.Value(name="x", shape=ir.Shape([1, n]), type=ir.TensorType(ir.DataType.FLOAT))
    inits = [ir.Value(name=f"w{k}", shape=ir.Shape([n, n]), type=ir.TensorType(ir.DataType.FLOAT),
                      const_value=ir.Tensor(w, name=f"w{k}")) for k, w in enumerate(weights)]
    first = ir.node("MatMul", [x, inits[0]], name="mm0")
    node = ir.node("MatMul", [first.outputs[0], inits[1]], name="mm1")
    node.outputs[0].name = "y"
    graph = ir.Graph([x], node.outputs, nodes=[first, node], initializers=inits,
                     opset_imports={"": 17}, name="big")
    ir.save(ir.Model(graph, ir_version=8), str(path), external_data=path.name + ".data")
    return weights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=2.5, help="total weight size in GB (default 2.5)")
    parser.add_argument("--quantize", choices=("float16", "uint8", "uint16"), help="quantize every weight")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch directory (default: a temp dir)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tfjs-pivot-bench-", dir=args.workdir))
    try:
        src = work / "big.onnx"
        t0 = time.perf_counter()
        weights = build(src, args.gb)
        weight_bytes = sum(w.nbytes for w in weights)
        print(f"built {src.name}: {weight_bytes / 1e9:.2f} GB of float32 weights in {time.perf_counter() - t0:.1f} s")
        # On Linux a child's ru_maxrss starts from its parent's resident size at fork: unmap the
        # freshly written weights first, or they would be counted against the converter.
        del weights
        t0 = time.perf_counter()
        flags = [f"--quantize-{args.quantize}"] if args.quantize else []
        subprocess.run([sys.executable, "-m", "tfjs_pivot.cli", "convert", *flags, str(src), str(work / "out")],
                       check=True)
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # Linux reports KiB
        check(work / "out", [np.load(work / f"w{k}.npy", mmap_mode="r") for k in range(2)])
        print(f"convert: {seconds:.1f} s wall, peak RSS {peak / 1e9:.2f} GB "
              f"({peak / weight_bytes:.2f}x the weight size)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check(out: Path, weights: list[np.memmap]) -> None:
    """The shards hold every weight byte; sampled rows equal the source (or are within one quantization step)."""
    manifest = json.loads((out / "model.json").read_text())["weightsManifest"][0]
    written = sum((out / p).stat().st_size for p in manifest["paths"])
    sizes = [stored_nbytes(e) for e in manifest["weights"]]
    assert written == sum(sizes), (written, sum(sizes))
    offsets = dict(zip([e["name"] for e in manifest["weights"]], np.cumsum([0, *sizes[:-1]]), strict=True))
    shard = 4 * 1024 * 1024
    for k, w in enumerate(weights):
        entry = manifest["weights"][k]
        q = entry.get("quantization")
        itemsize = sizes[k] // w.size
        for row in (0, w.shape[0] // 2, w.shape[0] - 1):
            start = int(offsets[f"w{k}"]) + row * w.shape[1] * itemsize
            raw = np.frombuffer(_read(out, manifest["paths"], start, w.shape[1] * itemsize, shard),
                                np.dtype(q["dtype"] if q else "float32").newbyteorder("<"))
            got = dequantize(raw, q) if q else raw
            step = q.get("scale", 0.0) if q else 0.0
            tol = np.abs(w[row]) * 2**-11 + 2**-25 if q and q["dtype"] == "float16" else step
            assert np.all(np.abs(got.astype(np.float64) - w[row]) <= tol), f"w{k} row {row} differs"
    how = "equal the source" if not manifest["weights"][0].get("quantization") else "within one step of the source"
    print(f"checked: {len(manifest['paths'])} shards, {written / 1e9:.2f} GB, sampled rows {how}")


def _read(out: Path, paths: list[str], start: int, size: int, shard: int) -> bytes:
    data = b""
    while size:
        index, offset = divmod(start, shard)
        with open(out / paths[index], "rb") as f:
            f.seek(offset)
            chunk = f.read(min(size, shard - offset))
        data, start, size = data + chunk, start + len(chunk), size - len(chunk)
    return data


if __name__ == "__main__":
    main()
