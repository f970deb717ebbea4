"""The speed race: tfjs-pivot's output in TensorFlow.js against the same ONNX in onnxruntime-web.

Builds and exports every model of scripts/bench_models.py (cached under .corpus/), converts each with tfjs-pivot
(input shapes pinned), and runs tfjs (wasm, 1 thread, SIMD; cpu too with ``--cpu``, skipped where one cpu run takes
over 2 s) and onnxruntime-web (wasm, 1 thread, SIMD) alternately in one Node process per model
(backends/tfjs_runtime/bench.mjs). Prints the machine, per model both medians, the ratio, node counts and the top
tfjs kernels by time (tf.profile), then the geometric mean and the worst ratio. A model whose export, conversion or
run fails is a row, not a crash. ``--check`` instead compares tfjs wasm's outputs with onnxruntime (CPU, Python) on
the same feeds and prints the max relative error per model (|tfjs - ort| / max(1, max |ort|), tolerance 1e-4); the
race itself also compares tfjs wasm's outputs with ORT-web's on its feeds ("max rel. err").

    python scripts/bench_runtime.py [--only NAME ...] [--reps 20] [--cpu] [--json FILE] [--check]
    python scripts/bench_runtime.py --onnx FILE --shape NAME:1,3,224,224
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_common  # noqa: E402

from backends.tfjs_runtime import RUNTIME_DIR  # noqa: E402

TOL = 1e-4
CPU_LIMIT_MS = 2000  # the cpu backend is skipped for a model whose one cpu run takes longer
NODE_TIMEOUT_S = 900  # one model's Node process (all its backends and reps)


@dataclass
class Entry:
    name: str
    onnx_path: Path | None  # None: the export failed (``error`` says why)
    feeds: dict[str, np.ndarray]
    error: str = ""


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
    from tfjs_pivot.convert import ConvertOptions, convert

    assert entry.onnx_path is not None
    shapes = {k: list(v.shape) for k, v in entry.feeds.items()}
    convert(entry.onnx_path, out, ConvertOptions(input_shapes=shapes, overwrite=True))
    return out / "model.json"


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"[:300]


def _model_set(only: list[str] | None) -> list[Entry]:
    import bench_models

    from tests.models import dynamic_models as dm

    unknown = sorted(set(only or ()) - set(bench_models.BY_NAME))
    if unknown:
        raise SystemExit(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(bench_models.BY_NAME)}")
    entries = []
    for spec in bench_models.MODELS:
        if only and spec.name not in only:
            continue
        start = time.perf_counter()
        ex = dm.exported(spec, spec.exporters[0], bench_models.cache())
        took = time.perf_counter() - start
        if took > 5:
            print(f"exported {spec.name} in {took:.0f} s (cached from now on)", file=sys.stderr)
        entries.append(Entry(spec.name, ex.path, spec.feeds(0), "" if ex.path else f"export failed: {ex.error}"))
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


def _prepare(e: Entry, tmp: Path) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The bench.mjs job entry of one model (None when it cannot run) and its row's node counts or error."""
    if e.onnx_path is None:
        return None, {"error": e.error}
    row: dict[str, Any] = {"onnx_nodes": _onnx_nodes(e.onnx_path)}
    try:
        mj = _convert(e, tmp / e.name)
    except Exception as ex:  # a refusal or a converter crash is a result of the race
        row["error"] = f"conversion failed: {_first_line(ex)}"
        return None, row
    row["tfjs_nodes"] = _graph_nodes(mj)
    return {"name": e.name, "graph": str(mj), "onnx": str(e.onnx_path),
            "inputs": [_encode(k, v) for k, v in e.feeds.items()]}, row


def _node(job: dict[str, Any], tmp: Path) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """Run bench.mjs on one job: its meta line, its rows, and what it said when it died."""
    path = tmp / f"job-{job['models'][0]['name']}.json"
    path.write_text(json.dumps(job))
    try:
        proc = subprocess.run(["node", str(RUNTIME_DIR / "bench.mjs"), str(path)], capture_output=True, text=True,
                              check=False, timeout=NODE_TIMEOUT_S)
    except subprocess.TimeoutExpired as e:  # (subprocess.run kills the process it started)
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        return next((x["meta"] for x in lines if "meta" in x), {}), [x for x in lines if "meta" not in x], \
            f"timed out after {NODE_TIMEOUT_S} s"
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    meta: dict[str, Any] = next((x["meta"] for x in lines if "meta" in x), {})
    died = "" if proc.returncode == 0 else f"node exited {proc.returncode}: {proc.stderr.strip()[-300:]}"
    return meta, [x for x in lines if "meta" not in x], died


def _race(entries: list[Entry], tmp: Path, reps: int, backends: list[str]) -> tuple[dict[str, Any],
                                                                                     list[dict[str, Any]]]:
    """One Node process per model (a wasm abort loses one model, not the race); rows in the model set's order."""
    meta: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    for e in entries:
        spec, counts = _prepare(e, tmp)
        if spec is None:
            rows.append({"name": e.name, "backend": "", **counts})
            print(f"{e.name}: {counts['error']}", file=sys.stderr)
            continue
        job = {"reps": reps, "warmup": 3, "backends": backends, "top": 5, "cpuLimitMs": CPU_LIMIT_MS,
               "models": [spec]}
        m, got, died = _node(job, tmp)  # m: bench.mjs's meta line
        meta = meta or m
        seen = {r["backend"] for r in got}
        got += [{"name": e.name, "backend": b, "error": died or "no result"} for b in backends if b not in seen]
        for r in got:
            r.update(counts)
            rows.append(r)
            print(f"{e.name} {r['backend']}: " + (f"tfjs {r['tfjs']['median']:.1f} ms, ORT-web "
                  f"{r['ort']['median'] if r.get('ort') else '-'} ms" if r.get("tfjs") else
                  str(r.get("error") or r.get("skipped"))[:200]), file=sys.stderr)
    return meta, rows


def _check(entries: list[Entry], tmp: Path) -> list[tuple[str, str, float | None]]:
    """tfjs wasm vs onnxruntime CPU on the same feeds: (model, status, max relative error) per model."""
    from backends.tfjs_runtime import TfjsRuntime
    from tests.parity import compare, ort_run

    results: list[tuple[str, str, float | None]] = []
    with TfjsRuntime() as rt:
        for e in entries:
            spec, row = _prepare(e, tmp)
            if spec is None:
                results.append((e.name, row["error"], None))
                continue
            try:
                want = ort_run(e.onnx_path, e.feeds)  # type: ignore[arg-type]
                got = rt.run(Path(spec["graph"]), e.feeds, backend="wasm")
                worst = max(compare(w, got[n], n, "wasm").relative for n, w in want.items())
            except Exception as ex:
                results.append((e.name, f"failed: {_first_line(ex)}", None))
                continue
            results.append((e.name, "ok" if worst <= TOL else f"MISMATCH (> {TOL:g})", worst))
            print(f"{e.name}: max rel. error {worst:.2e}", file=sys.stderr)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="model names of scripts/bench_models.py")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--cpu", action="store_true",
                    help=f"also time the tfjs cpu backend (skipped where one run takes over {CPU_LIMIT_MS} ms)")
    ap.add_argument("--check", action="store_true", help="compare tfjs wasm with onnxruntime instead of timing")
    ap.add_argument("--onnx", type=Path, help="race one ONNX file instead of the model set")
    ap.add_argument("--shape", action="append", default=[], help="NAME:1,3,224,224 for --onnx")
    ap.add_argument("--json", type=Path, help="also write the rows (and the machine) as JSON")
    args = ap.parse_args()
    import pivot.passes

    pivot.passes.probe_native = lambda model, target_opset: None  # our own models: no crash-probe fork
    entries = _single(args.onnx, args.shape) if args.onnx else _model_set(args.only)
    with tempfile.TemporaryDirectory() as tmp:
        if args.check:
            results = _check(entries, Path(tmp))
            print("\n".join(bench_common.check_table(results)))
            return 0 if all(s == "ok" for _, s, _ in results) else 1
        meta, rows = _race(entries, Path(tmp), args.reps, ["wasm", "cpu"] if args.cpu else ["wasm"])
    print(f"machine: {bench_common.machine(meta)}")
    print(f"command: python scripts/bench_runtime.py {' '.join(sys.argv[1:])}\n")
    print("\n".join(bench_common.table(rows)))
    print("\n" + bench_common.summary(rows))
    if args.json:
        args.json.write_text(json.dumps({"machine": bench_common.machine(meta), "meta": meta, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
