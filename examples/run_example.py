"""Converts examples/tiny_convnet.onnx to TensorFlow.js, runs it in tfjs (wasm) and onnxruntime, compares.

Usage: python examples/run_example.py [output_dir]   (default: a temporary directory)
Exits 1 when tfjs and onnxruntime disagree by more than 1e-4 x max(1, max |reference|).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort

from backends.tfjs_runtime import TfjsRuntime
from tfjs_pivot.convert import ConvertOptions, convert
from pivot.errors import UnsupportedOpsError

HERE = Path(__file__).resolve().parent
MODEL = HERE / "tiny_convnet.onnx"
TOL = 1e-4


def main(out: Path) -> int:
    try:
        result = convert(MODEL, out, ConvertOptions(overwrite=True))
    except UnsupportedOpsError as e:
        print(f"error: {e.report()}", file=sys.stderr)
        return 2
    print(f"converted {MODEL.name} -> {result.output} ({', '.join(result.files)})")
    x = np.random.default_rng(0).standard_normal((1, 3, 32, 32)).astype(np.float32)
    ref = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    with TfjsRuntime() as tfjs:
        got = tfjs.run(out / "model.json", {"input": x}, backend="wasm")["logits"]
    diff = float(np.abs(got.astype(np.float64) - ref).max())
    scale = max(1.0, float(np.abs(ref).max()))
    print(f"output shape {tuple(got.shape)} (onnxruntime {tuple(ref.shape)}); max abs difference {diff:.3g}")
    ok = got.shape == ref.shape and diff <= TOL * scale
    print("OK: TensorFlow.js (wasm) matches onnxruntime" if ok else f"MISMATCH: tolerance {TOL * scale:.3g}")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(main(Path(sys.argv[1])))
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(main(Path(tmp) / "tiny_convnet_tfjs"))
