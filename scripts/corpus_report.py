"""Run the ONNX node-test corpus through tfjs-pivot and TensorFlow.js; print pass rates by op.

Usage: python scripts/corpus_report.py [-k SUBSTRING] [--op OP] [--cpu] [--json OUT.json]
Same selection, exclusions and comparison as tests/test_onnx_corpus.py.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import onnx

from backends.tfjs_runtime import TfjsRuntime
from pivot.passes.normalize import MIN_OPSET
from tests.corpus import (
    CPU_EVERY,
    UPGRADE_OPSET,
    Entry,
    Outcome,
    cache_dir,
    claimed_ops,
    ensure_corpus,
    run_case,
    select,
)

COLUMNS = ("claimed", "run", "passed", "failed", "xfail", "unsup", "excl")


@dataclass
class Row:
    """One case's final classification."""

    entry: Entry
    result: str  # passed | failed | xfail | xpass | unsupported | excluded
    detail: str = ""
    outcome: Outcome | None = None


def classify(entry: Entry, runtime: TfjsRuntime, work: Path, cpu: bool | None) -> Row:
    if entry.excluded:
        return Row(entry, "excluded", entry.excluded)
    outcome = run_case(entry.info, cache_dir(), runtime, work / entry.info.name, cpu=cpu)
    if outcome.status == "unsupported":
        return Row(entry, "unsupported", outcome.detail, outcome)
    if entry.xfail:
        return Row(entry, "xfail" if outcome.status == "failed" else "xpass", entry.xfail, outcome)
    return Row(entry, outcome.status, outcome.detail, outcome)


def run_all(entries: list[Entry], cpu: bool | None) -> list[Row]:
    rows = []
    with TfjsRuntime() as runtime, tempfile.TemporaryDirectory(prefix="corpus-") as tmp:
        for i, entry in enumerate(entries, 1):
            rows.append(classify(entry, runtime, Path(tmp), cpu))
            if i % 100 == 0:
                print(f"  ... {i}/{len(entries)}", file=sys.stderr)
    return rows


def pct(n: int, d: int) -> str:
    return f"{100.0 * n / d:5.1f}%" if d else "    -"


def grouped(rows: list[Row], result: str, title: str, *, by_case: bool = False) -> None:
    picked = [r for r in rows if r.result == result]
    if not picked:
        return
    print(f"\n{title} ({len(picked)}):")
    if by_case:
        for r in picked:
            print(f"  {r.entry.info.name:<48} {r.detail}")
        return
    counts = Counter(r.detail for r in picked)
    for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {n:5d}  {reason}")


def per_op(rows: list[Row]) -> None:
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        c = table[r.entry.info.op]
        c["claimed"] += 1
        c["run"] += r.result != "excluded"
        c[{"unsupported": "unsup", "excluded": "excl", "xpass": "failed"}.get(r.result, r.result)] += 1
    print("\nPer op (rate = passed / run; run = claimed - excluded; '(expanded)': the op has no rule, its "
          "function body's ops do):")
    print(f"  {'op':<40}" + "".join(f"{c:>8}" for c in COLUMNS) + f"{'rate':>8}")
    claimed = claimed_ops()
    for op in sorted(table):
        c = table[op]
        label = op if op in claimed else f"{op} (expanded)"
        print(f"  {label:<40}" + "".join(f"{c[k]:8d}" for k in COLUMNS) + f"  {pct(c['passed'], c['run'])}")


def summary(rows: list[Row], claimed: frozenset[str], seconds: float) -> None:
    n = Counter(r.result for r in rows)
    run = len(rows) - n["excluded"]
    ops = {r.entry.info.op for r in rows}
    const = sum(1 for r in rows if r.result == "passed" and r.outcome and r.outcome.frozen)
    cpu_only = sum(1 for r in rows if r.result == "passed" and r.outcome and "wasm" not in r.outcome.backends)
    print(f"ONNX backend node tests (onnx {onnx.__version__}) through tfjs-pivot -> TensorFlow.js "
          f"(wasm; cpu too for 1 case in {CPU_EVERY})")
    print(f"ops claimed by the tfjs registry: {len(claimed)}; node cases of those ops: {len(rows)} "
          f"({sum(r.entry.info.expanded for r in rows)} *_expanded) covering {len(ops)} ops; {seconds:.0f} s")
    old = sum(1 for r in rows if r.entry.info.opset < MIN_OPSET and r.result != "excluded")
    if old:
        print(f"({old} cases older than opset {MIN_OPSET} are upgraded to {UPGRADE_OPSET} with the onnx version "
              "converter first)")
    print(f"\n  passed             {n['passed']:5d}   ({const} with shape/axes/scales-like inputs baked in as "
          f"constants, {cpu_only} on cpu only: no wasm kernel)")
    print(f"  failed             {n['failed'] + n['xpass']:5d}" + (f"   ({n['xpass']} xfail cases now pass)"
                                                                   if n["xpass"] else ""))
    print(f"  known failures     {n['xfail']:5d}   (xfail, tests/corpus_exclusions.py)")
    print(f"  unsupported form   {n['unsupported']:5d}   (the converter refuses with a declared limit)")
    print(f"  excluded           {n['excluded']:5d}   (not run)")
    print(f"\nPass rate: {n['passed']}/{run} run = {pct(n['passed'], run).strip()}; "
          f"{n['passed']}/{len(rows)} claimed = {pct(n['passed'], len(rows)).strip()}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-k", default="", help="only cases whose name contains this")
    ap.add_argument("--op", default="", help="only cases testing this ONNX op")
    ap.add_argument("--cpu", action="store_true", help="run every case on cpu as well as wasm")
    ap.add_argument("--json", type=Path, help="also write every case's result here")
    args = ap.parse_args()
    logging.getLogger("onnx_ir").setLevel(logging.ERROR)  # failed shape inference is reported per case anyway
    claimed = claimed_ops()
    entries = [e for e in select(ensure_corpus(), claimed)
               if args.k in e.info.name and (not args.op or e.info.op == args.op)]
    start = time.perf_counter()
    rows = run_all(entries, True if args.cpu else None)
    summary(rows, claimed, time.perf_counter() - start)
    grouped(rows, "failed", "Failures (case: first error line)", by_case=True)
    grouped(rows, "xpass", "Known failures that now pass: remove them from XFAIL", by_case=True)
    grouped(rows, "xfail", "Known failures by reason")
    grouped(rows, "unsupported", "Unsupported forms by reason")
    grouped(rows, "excluded", "Excluded by reason")
    per_op(rows)
    if args.json:
        args.json.write_text(json.dumps([{"case": r.entry.info.name, "op": r.entry.info.op, "result": r.result,
                                          "detail": r.detail} for r in rows], indent=1))
    return 1 if any(r.result in ("failed", "xpass") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
