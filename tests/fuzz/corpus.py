"""The whole fuzz corpus (every mutator module's cases), its fixed fast sample, and running one case."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

from tests.fuzz import (
    mut_archive,
    mut_bytes,
    mut_hostile,
    mut_huge,
    mut_json,
    mut_keras,
    mut_nest,
    mut_onnx,
    mut_tf,
)
from tests.fuzz.case import Case, Workspace, prepare
from tests.fuzz.checks import AT, Failure, Outcome, cause_of, judge, listing
from tests.fuzz.harness import baseline_rss, run_child
from tests.fuzz.seeds import SLOW_SEEDS

FAST_TARGET = 100  # cases in the fast (not slow-marked) part


def all_cases() -> list[Case]:
    """Every case, in a fixed order; ids are unique."""
    cases = [*mut_bytes.cases(), *mut_hostile.cases(), *mut_huge.cases(), *mut_json.cases(), *mut_nest.cases(),
             *mut_onnx.cases(), *mut_keras.payload_cases(), *mut_keras.h5_struct_cases(), *mut_archive.cases(),
             *mut_tf.cases()]
    dupes = [i for i, n in Counter(c.id for c in cases).items() if n > 1]
    assert not dupes, f"duplicate fuzz case ids: {dupes[:5]}"
    return cases


def fast_ids(cases: list[Case]) -> set[str]:
    """A fixed sample spread evenly over every category (never the Keras-built seeds: they take seconds)."""
    eligible = [c for c in cases if c.seed not in SLOW_SEEDS]
    by_category: dict[str, list[Case]] = {}
    for case in eligible:
        by_category.setdefault(case.category, []).append(case)
    share = FAST_TARGET / len(eligible)
    picked: set[str] = set()
    for group in by_category.values():
        n = max(3, round(len(group) * share))
        step = len(group) / n
        picked |= {group[int(i * step)].id for i in range(n)}
    return picked


def safe_name(case_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in case_id)[:120]


def run_case(case: Case, seeds_root: Path, root: Path, keep: bool = False) -> Outcome:
    """Build the case in ``root``, run convert (and audit when asked) in forked children, judge both."""
    root.mkdir(parents=True)
    ws = prepare(case, seeds_root, root)
    outcome = Outcome(case.id, case.category, None, 0, 0.0)
    for command in ("convert", "audit") if case.audit else ("convert",):
        before, entries = listing(ws.out), set(p.name for p in root.iterdir())
        base = baseline_rss()
        run = run_child(ws.argv(command), ws.cwd, root / "logs" / command, ws.canaries)
        failures = judge(case, ws, run, base, before)
        failures += _new_entries(ws, entries, run.status, command)
        outcome.failures += failures
        outcome.peak = max(outcome.peak, run.maxrss - base)
        outcome.seconds += run.seconds
        if command == "convert":
            outcome.status = run.status
        if failures and not outcome.cause:
            outcome.cause = _located(cause_of(run), failures, ws, command) or f"{command}: {failures[0].detail}"
    if not outcome.failures and not keep:
        shutil.rmtree(root, ignore_errors=True)
    return outcome


def _located(cause: str, failures: list[Failure], ws: Workspace, command: str) -> str:
    """An ``internal error:`` line completed with where it was raised (the same run again with ``--debug``)."""
    if not any(f.kind == "traceback" for f in failures) or AT in cause:
        return cause
    run = run_child(["--debug", *ws.argv(command)], ws.cwd, ws.root / "logs" / f"{command}-debug", ws.canaries)
    where = cause_of(run)
    return cause + AT + where.rsplit(AT, 1)[1] if AT in where else cause


def _new_entries(ws: Workspace, before: set[str], status: int | None, command: str) -> list[Failure]:
    """A failed run creates nothing beside its output either (no parent directories left behind)."""
    if status == 0 and command == "convert":
        return []
    new = {p.name for p in ws.root.iterdir()} - before - {"logs"}
    return [Failure("output_left", command, f"created {sorted(new)[0]}")] if new else []
