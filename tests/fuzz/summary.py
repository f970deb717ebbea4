"""Figures of a fuzz run: the one-line summary, the table per category, failures grouped by cause."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict
from typing import Any

from tests.fuzz.checks import AT, KINDS, Failure, Outcome

_MB = 1 << 20
# Case-specific parts of a message (temporary paths, numbers) removed so that one cause groups its cases.
_NOISE = [(re.compile(r"(/[\w.+-]+)+/"), "…/"), (re.compile(r"0x[0-9a-f]+"), "0x…"), (re.compile(r"\d+"), "N")]


def to_json(outcome: Outcome) -> dict[str, Any]:
    return asdict(outcome)


def from_json(data: dict[str, Any]) -> Outcome:
    failures = [Failure(**f) for f in data.get("failures", [])]
    return Outcome(**{**data, "failures": failures})


def summary_line(outcomes: list[Outcome]) -> str:
    """``fuzz: N cases in K categories (...): T tracebacks, R outside reads, worst peak RSS X MB (case)``."""
    if not outcomes:
        return "fuzz: no cases ran"
    cats = Counter(o.category for o in outcomes)
    kinds = Counter(k for o in outcomes for k in o.kinds)
    worst = max(outcomes, key=lambda o: o.peak)
    clean = sum(1 for o in outcomes if not o.failures)
    others = ", ".join(f"{kinds[k]} {k}" for k in KINDS if kinds[k] and k not in ("traceback", "outside_read"))
    return (f"fuzz: {len(outcomes)} cases in {len(cats)} categories ({', '.join(sorted(cats))}): {clean} passed, "
            f"{kinds['traceback']} tracebacks, {kinds['outside_read']} outside reads"
            f"{', ' + others if others else ''}; worst peak RSS {worst.peak // _MB} MB above the fork baseline "
            f"({worst.id})")


def table(outcomes: list[Outcome]) -> str:
    """Per category: cases, exit 0, exit 2, failing cases per kind, worst peak RSS."""
    head = ["category", "cases", "exit0", "exit2", *KINDS, "peakMB"]
    rows = []
    for cat in sorted({o.category for o in outcomes}):
        group = [o for o in outcomes if o.category == cat]
        rows.append(_row(cat, group))
    rows.append(_row("TOTAL", outcomes))
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    return "\n".join("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths,
                     strict=True))) for r in [head, *rows])


def _row(name: str, group: list[Outcome]) -> list[Any]:
    kinds = Counter(k for o in group for k in o.kinds)
    return [name, len(group), sum(o.status == 0 for o in group), sum(o.status == 2 for o in group),
            *(kinds[k] for k in KINDS), max((o.peak for o in group), default=0) // _MB]


def signature(outcome: Outcome) -> str:
    """What groups failing cases: the first failure kind and the cause without its case-specific parts."""
    message, _, where = outcome.cause.partition(AT)
    for pattern, repl in _NOISE:
        message = pattern.sub(repl, message)
    return f"{outcome.kinds[0]}: {message[:160]}{AT + where if where else ''}"


def triage(outcomes: list[Outcome], examples: int = 2) -> str:
    """Failing cases grouped by cause, biggest group first, with a few case ids each."""
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        if o.failures:
            groups.setdefault(signature(o), []).append(o)
    lines = []
    for sig, group in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        ids = ", ".join(o.id for o in group[:examples])
        details = "; ".join(sorted({f"{f.kind}: {f.detail}"[:90] for f in group[0].failures}))
        lines.append(f"{len(group):4d}  {sig}\n      e.g. {ids}\n      {details}")
    return "\n".join(lines)


def from_reports(stats: dict[str, list[Any]]) -> list[Outcome]:
    """The outcomes pytest reports carry in ``user_properties`` (xdist workers send them to the controller)."""
    found: dict[str, Outcome] = {}
    for reports in stats.values():
        for report in reports:
            for key, value in getattr(report, "user_properties", ()) or ():
                if key == PROPERTY and getattr(report, "when", "call") == "call":
                    outcome = from_json(json.loads(value))
                    found[outcome.id] = outcome
    return list(found.values())


PROPERTY = "fuzz_outcome"
