"""Run the whole fuzz corpus without pytest and print the figures per category and the failures by cause.

    python scripts/fuzz_report.py [--jobs 2] [--only SUBSTRING] [--fast] [--json out.json] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.checks import Failure, Outcome
from tests.fuzz.corpus import all_cases, fast_ids, run_case, safe_name
from tests.fuzz.harness import preimport
from tests.fuzz.seeds import SEEDS, seed_folder
from tests.fuzz.summary import summary_line, table, to_json, triage

_STATE: dict[str, Path] = {}
_KEEP: list[bool] = []


def _init(seeds: Path, work: Path, keep: bool) -> None:
    _STATE.update(seeds=seeds, work=work)
    _KEEP.append(keep)


def _run(case_id: str) -> Outcome:
    case = _CASES[case_id]
    start = time.monotonic()
    try:
        outcome = run_case(case, _STATE["seeds"], _STATE["work"] / safe_name(case_id), keep=_KEEP[-1])
    except Exception as e:  # a broken mutator: reported as such, the run goes on
        outcome = Outcome(case.id, case.category, None, 0, 0.0, [Failure("harness", "build", repr(e)[:200])],
                          f"the case could not be built: {e!r}"[:200])
    if time.monotonic() - start > 20:
        print(f"slow case: {case_id} {time.monotonic() - start:.0f} s", file=sys.stderr, flush=True)
    return outcome


_CASES = {c.id: c for c in all_cases()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", default="", help="run the cases whose id contains this")
    parser.add_argument("--fast", action="store_true", help="only the fast sample (not slow-marked in pytest)")
    parser.add_argument("--json", type=Path, help="also write every outcome as JSON")
    parser.add_argument("--keep", type=Path, help="keep the case folders here (default: a temporary folder)")
    args = parser.parse_args()
    ids = [i for i in _CASES if args.only in i]
    if args.fast:
        ids = [i for i in ids if i in fast_ids(list(_CASES.values()))]
    preimport()
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        work = args.keep or Path(tmp)
        seeds = Path(tmp) / "seeds"
        for name in sorted({_CASES[i].seed for i in ids}):
            seed_folder(seeds, SEEDS[name].name)
        start = time.monotonic()
        with multiprocessing.get_context("fork").Pool(args.jobs, _init, (seeds, work, args.keep is not None)) as pool:
            outcomes = list(pool.imap_unordered(_run, ids, chunksize=1))
        elapsed = time.monotonic() - start
    outcomes.sort(key=lambda o: ids.index(o.id))
    print(table(outcomes))
    print()
    print(triage(outcomes) or "no failures")
    print()
    print(summary_line(outcomes))
    print(f"({len(outcomes)} cases in {elapsed:.0f} s with {args.jobs} jobs)")
    if args.json:
        args.json.write_text(json.dumps([to_json(o) for o in outcomes], indent=1))
    return 1 if any(o.failures for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
