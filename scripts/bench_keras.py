"""Converts Keras MobileNetV2 and ResNet50 (.h5, 224x224, random weights) to graph models: wall time, peak RSS.

Usage: python scripts/bench_keras.py [--models MobileNetV2,ResNet50] [--format h5|keras] [--repeat 3]

Needs Keras 3 (test extra; its torch backend is used only to BUILD the models). Each conversion
runs as `tfjs-pivot convert` in its own child process, so the figures include interpreter start
and imports, as a user sees them. Peak RSS is the child's ru_maxrss. The best of --repeat runs
is reported (the machine's noise is one-sided).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")


def build(name: str, directory: Path, fmt: str) -> Path:
    """Save the model from a child process: this process stays small, because on Linux a child's
    ru_maxrss starts from its parent's resident size at fork time."""
    path = directory / f"{name}.{fmt}"
    code = (f"import keras; keras.applications.{name}(weights=None, input_shape=(224, 224, 3))"
            f".save({str(path)!r})")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return path


def measure(src: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (bytes) of one `tfjs-pivot convert` child process."""
    code = ("import resource, sys, time; from tfjs_pivot.cli import main; t = time.perf_counter()\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
            "print('BENCH', time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, "convert", str(src), str(out), "--overwrite",
                           "--output-format", "tfjs_graph_model"], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    line = next(x for x in proc.stdout.splitlines() if x.startswith("BENCH"))
    return wall, float(line.split()[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="MobileNetV2,ResNet50")
    parser.add_argument("--format", default="h5", choices=["h5", "keras"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tfjs-pivot-bench-keras-"))
    try:
        for name in args.models.split(","):
            src = build(name, work, args.format)
            runs = [measure(src, work / f"{name}_out") for _ in range(args.repeat)]
            wall, rss = min(r[0] for r in runs), min(r[1] for r in runs)
            nodes = json.loads((work / f"{name}_out" / "model.json").read_text())["modelTopology"]["node"]
            ops = [n["op"] for n in nodes if n["op"] != "Const"]
            print(f"{name} ({src.stat().st_size / 1e6:.0f} MB .{args.format}): {wall:.2f} s wall, "
                  f"peak RSS {rss / 1e6:.0f} MB, {len(ops)} non-Const nodes, {ops.count('Transpose')} Transpose")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
