"""The supported-ops table, computed from the emission registry, measured op kernels and backend kernel lists."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import onnx

from backends.tfjs_graph.emitters import load_rules
from backends.tfjs_graph.registry import TFJS
from backends.tfjs_graph.vocab import backend_kernels
from pivot.passes.normalize import MIN_OPSET

NEWEST_OPSET = onnx.defs.onnx_opset_version()
_DATA = Path(__file__).resolve().parent / "data"
TFJS_BACKENDS = ("cpu", "webgl", "wasm", "webgpu")
# Graph ops the tfjs executor handles itself, without running a kernel.
EXECUTOR_OPS = frozenset({"Const", "Placeholder", "NoOp", "Identity", "Enter", "Exit", "Merge", "Switch",
                          "NextIteration", "LoopCond", "While", "StatelessWhile", "If", "StatelessIf",
                          "PartitionedCall", "StatefulPartitionedCall"})


@cache
def op_kernels() -> dict[str, frozenset[str]]:
    """tfjs graph op -> kernels it runs, as measured by ``scripts/gen_op_kernels.py``."""
    doc = json.loads((_DATA / "op_kernels.json").read_text())
    return {op: frozenset(k) for op, k in doc["ops"].items()}


@dataclass(frozen=True)
class KernelNeeds:
    """The kernels a set of tfjs ops needs, and the ops whose kernels were never measured."""

    kernels: frozenset[str]
    unmeasured: frozenset[str]

    def missing(self, backend: str) -> tuple[str, ...]:
        """Kernels ``backend`` does not register."""
        return tuple(sorted(self.kernels - backend_kernels()[backend]))


def kernel_needs(tfjs_ops: Iterable[str]) -> KernelNeeds:
    """What running ``tfjs_ops`` requires of a backend."""
    measured = op_kernels()
    kernels: set[str] = set()
    unmeasured: set[str] = set()
    for op in tfjs_ops:
        if op in EXECUTOR_OPS:
            continue
        if op in measured:
            kernels |= measured[op]
        else:
            unmeasured.add(op)
    return KernelNeeds(frozenset(kernels), frozenset(unmeasured))


@dataclass(frozen=True)
class SupportRow:
    """One ONNX op: its opset range, limits, the tfjs ops it becomes, and where those run."""

    onnx_op: str
    since: int
    until: int | None
    limits: tuple[str, ...]
    doc: str
    tfjs_ops: tuple[str, ...]
    kernels: tuple[str, ...]
    missing: dict[str, tuple[str, ...]]
    unmeasured: tuple[str, ...]

    @property
    def backends(self) -> tuple[str, ...]:
        """tfjs backends with a kernel for everything this op may become."""
        return tuple(b for b in TFJS_BACKENDS if not self.missing[b])

    def as_json(self) -> dict[str, object]:
        return {"onnx_op": self.onnx_op, "opsets": _opsets(self),
                "limits": list(self.limits), "doc": self.doc, "tfjs_ops": list(self.tfjs_ops),
                "kernels": list(self.kernels), "backends": list(self.backends),
                "missing_kernels": {b: list(m) for b, m in self.missing.items() if m},
                "unmeasured_tfjs_ops": list(self.unmeasured)}


def support_table() -> list[SupportRow]:
    """Every ONNX op with an emission rule, sorted by name."""
    load_rules()
    rows = []
    for rule in TFJS:
        needs = kernel_needs(rule.produces)
        rows.append(SupportRow(rule.key, rule.since, rule.until, rule.limits, rule.doc, tuple(sorted(rule.produces)),
                               tuple(sorted(needs.kernels)), {b: needs.missing(b) for b in TFJS_BACKENDS},
                               tuple(sorted(needs.unmeasured))))
    return rows


def _opsets(row: SupportRow) -> str:
    """Input opsets accepted.

    The pivot upgrades every model to its own opset first, so a rule's range applies after that
    normalization, and the input range is the normalizer's.
    """
    low = max(row.since, MIN_OPSET)
    return f"{low}-{NEWEST_OPSET}" if row.until is None else f"{low}-{row.until}"


def render_markdown(rows: list[SupportRow]) -> str:
    """The table as Markdown (the body of docs/supported-ops.md)."""
    lines = ["| ONNX op | opsets | tfjs ops | " + " | ".join(TFJS_BACKENDS) + " | limits |",
             "|---|---|---|" + "---|" * len(TFJS_BACKENDS) + "---|"]
    for row in rows:
        marks = ["yes" if not row.missing[b] else "no: " + ", ".join(row.missing[b]) for b in TFJS_BACKENDS]
        lines.append(f"| {row.onnx_op} | {_opsets(row)} | {', '.join(row.tfjs_ops) or '(folded)'} | "
                     + " | ".join(marks) + f" | {'; '.join(row.limits)} |")
    return "\n".join(lines) + "\n"


def render_text(rows: list[SupportRow]) -> str:
    """A compact terminal table: op, opsets, backends, tfjs ops."""
    width = max(len(r.onnx_op) for r in rows)
    out = [f"{'ONNX op':<{width}}  {'opsets':<6}  {'backends':<22}  tfjs ops"]
    for row in rows:
        out.append(f"{row.onnx_op:<{width}}  {_opsets(row):<6}  {','.join(row.backends):<22}  "
                   f"{', '.join(row.tfjs_ops) or '(folded)'}")
        out += [f"{'':<{width}}    limit: {limit}" for limit in row.limits]
    return "\n".join(out) + "\n"


def render_document(rows: list[SupportRow]) -> str:
    """docs/supported-ops.md: generated, never edited by hand (a test compares it with this output)."""
    head = ("# Supported ONNX ops\n\nGenerated by `tfjs-pivot ops --markdown` from the emission registry, the "
            "kernels each tfjs op was measured to run (`scripts/gen_op_kernels.py`) and the kernels each "
            "TensorFlow.js 4.22 backend registers. Do not edit by hand.\n\n"
            f"{len(rows)} ONNX ops. A backend column says `yes` when the backend has a kernel for every tfjs op "
            "the ONNX op may become.\n\n")
    return head + render_markdown(rows)
