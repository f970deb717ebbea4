"""Per-conversion overhead on small models: median wall time of in-process convert() calls (no Node, no ORT)."""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tfjs_pivot.convert import ConvertOptions, convert  # noqa: E402

MODELS = ("examples/tiny_convnet.onnx", "tests/fixtures/keras2/convnet.h5", "tests/fixtures/keras2/text_rnn.h5")


def median_seconds(source: Path, runs: int = 7) -> float:
    """Median wall time of ``runs`` conversions of ``source`` to a graph model."""
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            out = Path(tmp) / str(i)
            start = time.perf_counter()
            convert(source, out, ConvertOptions(output_format="tfjs_graph_model"))
            times.append(time.perf_counter() - start)
            shutil.rmtree(out)
    return statistics.median(times)


if __name__ == "__main__":
    for name in MODELS:
        print(f"{name:40s} {median_seconds(ROOT / name) * 1000:7.1f} ms")
