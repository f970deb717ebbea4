"""The speed race: tfjs-pivot's output in TensorFlow.js against the same ONNX in onnxruntime-web.

Builds and exports every model of scripts/bench_models.py (cached like the dynamic-axes set), converts each with
tfjs-pivot, and runs tfjs (wasm, 1 thread, SIMD; cpu too with ``--cpu``) and onnxruntime-web (wasm, 1 thread, SIMD)
alternately in one Node process (backends/tfjs_runtime/bench.mjs). Prints per model both medians, the ratio, node
counts and the top tfjs kernels by time (tf.profile).

    python scripts/bench_runtime.py [--only NAME ...] [--reps 20] [--cpu] [--onnx FILE --shape NAME:1,3,224,224]
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import platform
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from backends.tfjs_runtime import RUNTIME_DIR  # noqa: E402
from tfjs_pivot.convert import ConvertOptions, convert  # noqa: E402


@dataclass
class Entry:
    name: str
    onnx_path: Path
    feeds: dict[str, np.ndarray]


def _encode(name: str, arr: np.ndarray) -> dict[str, Any]:
    arr = np.ascontiguousarray(arr)
    return {"name": name, "dtype": str(arr.dtype), "shape": list(arr.shape),
            "b64": base64.b64encode(arr.tobytes()).decode()}


def _graph_nodes(model_json: Path) -> int:
    nodes = json.loads(model_json.read_text())["modelTopology"]["node"]
    return sum(1 for n in nodes if n["op"] not in ("Const", "Placeholder"))


def _onnx_nodes(path: Path) -> int:
    return len(onnx.load(str(path), load_external_data=False).graph.node)


def _convert(entry: Entry, out: Path) -> Path:
    shapes = {k: list(v.shape) for k, v in entry.feeds.items()}
    convert(entry.onnx_path, out, ConvertOptions(input_shapes=shapes, overwrite=True))
    return out / "model.json"


def _model_set(only: list[str] | None) -> list[Entry]:
    import bench_models

    from tests.models import dynamic_models as dm

    entries = []
    for spec in bench_models.MODELS:
        if only and spec.name not in only:
            continue
        ex = dm.exported(spec, spec.exporters[0])
        if ex.path is None:
            print(f"{spec.name}: export failed: {ex.error}", file=sys.stderr)
            continue
        entries.append(Entry(spec.name, ex.path, spec.feeds(0)))
    return entries


def _single(path: Path, shapes: list[str]) -> list[Entry]:
    rng = np.random.default_rng(0)
    model = onnx.load(str(path), load_external_data=False)
    given = {s.split(":")[0]: [int(d) for d in s.split(":")[1].split(",")] for s in shapes}
    inits = {i.name for i in model.graph.initializer}
    feeds = {}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        dims = given.get(vi.name) or [d.dim_value or 1 for d in tt.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type)
        feeds[vi.name] = (rng.integers(0, 100, dims) if dtype.kind in "iu" else rng.standard_normal(dims)).astype(dtype)
    return [Entry(path.stem, path, feeds)]


def _race(entries: list[Entry], tmp: Path, reps: int, backends: list[str]) -> list[dict[str, Any]]:
    models = []
    counts = {}
    for e in entries:
        mj = _convert(e, tmp / e.name)
        counts[e.name] = (_onnx_nodes(e.onnx_path), _graph_nodes(mj))
        models.append({"name": e.name, "graph": str(mj), "onnx": str(e.onnx_path),
                       "inputs": [_encode(k, v) for k, v in e.feeds.items()]})
    job = tmp / "job.json"
    job.write_text(json.dumps({"reps": reps, "warmup": 3, "backends": backends, "top": 5, "models": models}))
    proc = subprocess.run(["node", str(RUNTIME_DIR / "bench.mjs"), str(job)], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bench.mjs failed: {proc.stderr.strip()[-2000:]}")
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    for r in rows:
        r["onnx_nodes"], r["tfjs_nodes"] = counts[r["name"]]
    return rows


def _print(rows: list[dict[str, Any]]) -> None:
    print(f"machine: {platform.machine()}, {platform.processor() or platform.system()}, node "
          f"{subprocess.run(['node', '--version'], capture_output=True, text=True).stdout.strip()}")
    print("| model | backend | tfjs ms | ORT-web ms | tfjs / ORT | ONNX nodes | tfjs nodes | top tfjs kernels (ms) |")
    print("|---|---|---|---|---|---|---|---|")
    ratios = []
    for r in rows:
        if "error" in r:
            print(f"| {r['name']} | {r['backend']} | error: {r['error'][:120]} | | | | | |")
            continue
        t = r["tfjs"]["median"]
        o = r["ort"]["median"] if r.get("ort") else None
        ratio = t / o if o else None
        if ratio and r["backend"] == "wasm":
            ratios.append(ratio)
        top = ", ".join(f"{k['op']} {k['ms']:.1f}" for k in (r.get("profile") or {}).get("top", []))
        print(f"| {r['name']} | {r['backend']} | {t:.1f} | {'' if o is None else f'{o:.1f}'} | "
              f"{'' if ratio is None else f'{ratio:.2f}'} | {r['onnx_nodes']} | {r['tfjs_nodes']} | {top} |")
    if ratios:
        gm = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
        print(f"\ngeometric mean tfjs / ORT-web (wasm): {gm:.2f} over {len(ratios)} models; worst {max(ratios):.2f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="model names of scripts/bench_models.py")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--cpu", action="store_true", help="also time the tfjs cpu backend")
    ap.add_argument("--onnx", type=Path, help="race one ONNX file instead of the model set")
    ap.add_argument("--shape", action="append", default=[], help="NAME:1,3,224,224 for --onnx")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = ap.parse_args()
    import pivot.passes

    pivot.passes.probe_native = lambda model, target_opset: None  # our own models: no crash-probe fork
    entries = _single(args.onnx, args.shape) if args.onnx else _model_set(args.only)
    with tempfile.TemporaryDirectory() as tmp:
        rows = _race(entries, Path(tmp), args.reps, ["wasm", "cpu"] if args.cpu else ["wasm"])
    _print(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
