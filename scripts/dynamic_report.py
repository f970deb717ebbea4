"""The dynamic-axes model set (issue 14) as a markdown table.

Builds and exports every model of tests/models/dynamic_models.py (cached under .corpus/, or $TFJS_PIVOT_CORPUS),
converts each once without pinning any dimension, runs it in TensorFlow.js (cpu, wasm) at each shape set and
compares with onnxruntime. Prints one row per model and exporter; ``--expected`` also prints the EXPECTED table of
tests/test_dynamic_models.py.

    python scripts/dynamic_report.py [--only NAME ...] [--expected]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pivot.passes
from backends.tfjs_runtime import TfjsRuntime
from tests.models import dynamic_models as dm


def _status(o: dm.Outcome) -> str:
    if o.status == "ok":
        return f"converts + matches (worst rel. error {o.worst:.1e})"
    return o.status.replace("|", "\\|")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", default=None, help="model names")
    ap.add_argument("--expected", action="store_true", help="also print the EXPECTED table of the test")
    args = ap.parse_args()
    pivot.passes.probe_native = lambda model, target_opset: None  # our own models: no crash probe fork
    outcomes: list[tuple[dm.DynSpec, dm.Outcome]] = []
    with TfjsRuntime() as runtime, tempfile.TemporaryDirectory() as tmp:
        for spec, exporter in dm.cases():
            if args.only and spec.name not in args.only:
                continue
            work = Path(tmp) / f"{spec.name}-{exporter}"
            work.mkdir()
            o = dm.measure(spec, exporter, runtime, work)
            print(f"{o.key}: {o.status}", file=sys.stderr, flush=True)
            outcomes.append((spec, o))
    print("| model | exporter | dynamic dims | shapes tried | status | ONNX nodes | convert s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for spec, o in outcomes:
        extra = f" ({'; '.join(o.details)})" if o.details else ""
        print(f"| `{o.model}` | {o.exporter} | {spec.dynamic_dims()} | {spec.shapes_tried()} | {_status(o)}{extra} "
              f"| {o.nodes or ''} | {f'{o.convert_seconds:.2f}' if o.nodes else ''} |")
    if args.expected:
        print("\nEXPECTED: dict[str, str] = {")
        for _, o in outcomes:
            if o.status != "ok":
                print(f"    {o.key!r}: {o.status[:160]!r},")
        print("}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
