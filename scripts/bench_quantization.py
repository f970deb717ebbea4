"""Size and accuracy of weight quantization on real architectures, measured in TensorFlow.js (wasm).

Usage: python scripts/bench_quantization.py [--models resnet18,mobilenetv2] [--backend wasm] [--batch 4]

For each model of tests/models (torch, randomized weights including batch-norm statistics, exported
with the torchscript exporter) the script converts to a tfjs graph model four times: float32, then
every weight as float16, uint16 and uint8. It prints the stored weight bytes, their gzip -6 size
(what a browser downloads from a server that compresses) and the worst output error of each
quantized model relative to max |float32 output|, all outputs computed by TensorFlow.js itself.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from backends.base import BackendOptions
from backends.tfjs_runtime import TfjsRuntime
from tfjs_format.quantize import QuantizationSpec
from tfjs_format.summary import SizeSummary, human
from tfjs_pivot.convert import ConvertOptions, convert

DTYPES = (None, "float16", "uint16", "uint8")


def convert_as(src: Path, out: Path, dtype: str | None) -> SizeSummary:
    """Convert ``src`` with every weight stored as ``dtype`` (None: float32); returns the size summary."""
    spec = QuantizationSpec(fallthrough=dtype) if dtype else None
    result = convert(src, out, ConvertOptions(overwrite=True, backend=BackendOptions(quantization=spec)))
    sizes = result.stats["sizes"]
    assert isinstance(sizes, SizeSummary)
    return sizes


def bench_model(name: str, runtime: TfjsRuntime, work: Path, backend: str, batch: int) -> list[str]:
    """Table rows for one model."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ is not an installed package
    from tests.models import torch_models
    from tests.models.manifest import MODELS

    spec = next(m for m in MODELS if m.name == name)
    model = torch_models.randomize(spec.build(), spec.seed)
    x = np.random.default_rng(spec.seed).standard_normal((batch, *spec.input_shape[1:])).astype(np.float32)
    src = torch_models.export(model, x, work / f"{name}.onnx", "torchscript")
    rows, reference = [], None
    for dtype in DTYPES:
        out = work / f"{name}-{dtype or 'float32'}"
        sizes = convert_as(src, out, dtype)
        got = runtime.run(out / "model.json", {"input": x}, backend=backend)["logits"]  # type: ignore[arg-type]
        if reference is None:
            reference = got
        error = float(np.abs(got.astype(np.float64) - reference).max() / np.abs(reference).max())
        stored = sum(sizes.after.values())
        mark = "" if sizes.gzip_exact else "≈"
        rows.append(f"| {name} | {dtype or 'float32'} | {human(stored)} | {mark}{human(sizes.gzip_bytes)} "
                    f"| {sizes.gzip_bytes / stored:.3f} | {error:.2e} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="resnet18,mobilenetv2", help="comma-separated names of tests/models")
    parser.add_argument("--backend", default="wasm", choices=("cpu", "wasm"), help="TensorFlow.js backend")
    parser.add_argument("--batch", type=int, default=4, help="input batch size")
    args = parser.parse_args()
    print(f"| model | weights | stored | gzip -6 | gzip/stored | max error / max abs output ({args.backend}) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="tfjs-pivot-quant-") as tmp, TfjsRuntime() as runtime:
        for name in args.models.split(","):
            for row in bench_model(name, runtime, Path(tmp), args.backend, args.batch):
                print(row, flush=True)


if __name__ == "__main__":
    main()
