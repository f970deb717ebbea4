"""The benchmark scripts still run (a smoke test on the shipped example; speed itself is never asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from backends.tfjs_runtime import RUNTIME_DIR

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (RUNTIME_DIR / "node_modules" / "onnxruntime-web").is_dir(),
                                reason="the runtime's dev dependencies are not installed (npm ci)")


@pytest.mark.parametrize("backends", [[], ["--cpu"]])
def test_runtime_race_runs_the_example(backends: list[str], tmp_path: Path) -> None:
    rows_file = tmp_path / "rows.json"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "bench_runtime.py"), "--onnx",
                           str(ROOT / "examples" / "tiny_convnet.onnx"), "--reps", "2", "--json", str(rows_file),
                           *backends], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads(rows_file.read_text())
    rows = rows["rows"] if isinstance(rows, dict) else rows
    by_backend = {r["backend"]: r for r in rows}
    assert set(by_backend) == {"wasm", *(["cpu"] if backends else [])}
    wasm = by_backend["wasm"]
    assert "error" not in wasm, wasm
    assert wasm["tfjs"]["median"] > 0 and wasm["ort"]["median"] > 0  # both runtimes ran
    assert wasm["profile"]["top"], "tf.profile listed no kernel"
    assert "geometric mean" in proc.stdout
