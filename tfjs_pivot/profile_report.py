"""The ``tfjs-pivot profile`` report: runner timings summed per op, per node and per source node, and its text."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tfjs_pivot.profile import ProfileOptions

SCHEMA = "tfjs-pivot.profile/1"
# TfGraph.unique makes a repeated name unique with "_<k>"; the source name is the one without it.
_UNIQUE_SUFFIX = re.compile(r"_\d+$")
NO_SOURCE = "(no source node of this name)"
_UNKNOWN = ("unknown for this model: model.json does not say where a node name's source part ends; "
            "give the source model with --source to group the tfjs nodes by the node each came from")


def _stats(values: Sequence[float]) -> dict[str, float]:
    return {"median": float(median(values)), "min": min(values), "max": max(values)} if values else \
        {"median": 0.0, "min": 0.0, "max": 0.0}


def source_of(name: str, sources: Mapping[str, tuple[str, str]]) -> str | None:
    """The emitted name of the source node of tfjs node ``name``: its longest ``/``-prefix that names one.

    Emitters name each node ``<source node>`` or ``<source node>/<suffix>`` (layout transposes
    ``<tensor>/t<perm>``), made unique with ``_<k>``.
    """
    parts = name.split("/")
    for k in range(len(parts), 0, -1):
        prefix = "/".join(parts[:k])
        for candidate in (prefix, _UNIQUE_SUFFIX.sub("", prefix)):
            if candidate in sources:
                return candidate
    return None


def build_report(raw: dict[str, Any], model_json: Path, opts: ProfileOptions, shapes: dict[str, list[int]],
                 sources: Mapping[str, tuple[str, str]] | None) -> dict[str, Any]:
    """The report of one runner ``profile`` reply (times are milliseconds per run)."""
    nodes = raw["nodes"]
    outside = raw.get("unattributed", {})
    total = sum(n["ms"] for n in nodes) + sum(ms for ms, _ in outside.values())
    share = (lambda ms: ms / total) if total > 0 else (lambda ms: 0.0)
    report = {
        "schema": SCHEMA, "model": str(model_json), "backend": raw["backend"], "threads": raw["threads"],
        "tfjs": raw["tfjs"], "mode": raw["mode"], "runs": len(raw["latency_ms"]), "warmup": opts.warmup,
        "inputs": shapes, "latency_ms": _stats(raw["latency_ms"]), "profiled_latency_ms": _stats(raw["profiled_ms"]),
        "kernel_ms": total, "kernel_calls": sum(c for n in nodes for _, c in n["kernels"].values())
        + sum(c for _, c in outside.values()),
        "tf_profile_kernel_ms": raw["tf_profile_kernel_ms"], "tf_profile_kernels": raw["tf_profile_kernels"],
        "ops": _ops(nodes, outside, share),
        "nodes": sorted(({"name": n["name"], "op": n["op"], "ms": n["ms"], "share": share(n["ms"]),
                          "kernels": {k: {"ms": ms, "calls": c} for k, (ms, c) in n["kernels"].items()}}
                         for n in nodes), key=lambda r: -r["ms"]),
        "outside_nodes": {k: {"ms": ms, "calls": c} for k, (ms, c) in outside.items()},
        "source_nodes": None if sources is None else _by_source(nodes, sources, share),
        "source_note": _UNKNOWN if sources is None else f"from {opts.source}",
        "notes": [],
    }
    if raw["mode"] == "executeAsync":
        report["notes"].append("the model runs with executeAsync: kernels of nodes awaiting data may be counted "
                               "for a neighbouring node (node attribution is approximate)")
    return report


def _ops(nodes: list[dict[str, Any]], outside: Mapping[str, list[float]], share: Any) -> list[dict[str, Any]]:
    """Time per (graph op, kernel), largest first; kernels run outside every node have op ``(outside nodes)``."""
    rows: dict[tuple[str, str], list[float]] = {}
    pairs = [(n["op"], n["kernels"]) for n in nodes] + [("(outside nodes)", dict(outside))]
    for op, kernels in pairs:
        for kernel, (ms, calls) in kernels.items():
            row = rows.setdefault((op, kernel), [0.0, 0.0])
            row[0] += ms
            row[1] += calls
    return sorted(({"op": op, "kernel": k, "calls": round(c, 2), "ms": ms, "share": share(ms)}
                   for (op, k), (ms, c) in rows.items()), key=lambda r: -r["ms"])


def _by_source(nodes: list[dict[str, Any]], sources: Mapping[str, tuple[str, str]], share: Any
               ) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for n in nodes:
        key = source_of(n["name"], sources)
        name, op = sources[key] if key is not None else (NO_SOURCE, "")
        g = groups.setdefault(name, {"name": name, "op": op, "ms": 0.0, "tfjs_nodes": []})
        g["ms"] += n["ms"]
        g["tfjs_nodes"].append(n["name"])
    for g in groups.values():
        g["share"] = share(g["ms"])
    return sorted(groups.values(), key=lambda g: -g["ms"])


def render_text(report: dict[str, Any], top: int) -> str:
    """The report for a terminal: header, then the op, node and source-node tables (``top`` rows each)."""
    lat, prof = report["latency_ms"], report["profiled_latency_ms"]
    threads = f"{report['threads']} thread{'s' if report['threads'] != 1 else ''}"
    lines = [f"model     {report['model']} ({len(report['nodes'])} nodes ran, {report['mode']})",
             f"backend   {report['backend']}, {threads}, tfjs {report['tfjs']}; inputs "
             + ", ".join(f"{k}[{','.join(map(str, v))}]" for k, v in report["inputs"].items()),
             f"latency   median {lat['median']:.3f} ms, min {lat['min']:.3f}, max {lat['max']:.3f} over "
             f"{report['runs']} runs ({report['warmup']} warm-up)",
             f"kernels   {report['kernel_ms']:.3f} ms per run in {report['kernel_calls']:g} kernel calls (sum of the "
             f"per-node medians; tf.profile: {report['tf_profile_kernel_ms']:.3f} ms in "
             f"{report['tf_profile_kernels']} calls)",
             f"overhead  the timed runs took median {prof['median']:.3f} ms ({_ratio(prof['median'], lat['median'])} "
             "the plain runs); the rest of a run is outside the kernels", ""]
    lines += _table("time per op", ["ms", "share", "calls", "graph op", "kernel"],
                    [[r["ms"], r["share"], r["calls"], r["op"], r["kernel"]] for r in report["ops"]], top)
    lines += _table("time per tfjs node", ["ms", "share", "op", "node"],
                    [[r["ms"], r["share"], r["op"], r["name"]] for r in report["nodes"]], top)
    if report["source_nodes"] is None:
        lines.append(f"source nodes: {report['source_note']}")
    else:
        lines += _table(f"time per source node ({report['source_note']})", ["ms", "share", "tfjs nodes", "op", "node"],
                        [[r["ms"], r["share"], len(r["tfjs_nodes"]), r["op"], r["name"]]
                         for r in report["source_nodes"]], top)
    lines += [f"note: {n}" for n in report["notes"]]
    return "\n".join(lines).rstrip("\n") + "\n"


def _ratio(profiled: float, plain: float) -> str:
    return f"{profiled / plain:.2f}x" if plain > 0 else "n/a"


def _table(title: str, head: list[str], rows: list[list[Any]], top: int) -> list[str]:
    shown = rows[:top]
    cells = [[_cell(v, i) for i, v in enumerate(r)] for r in shown]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(head)]
    fmt = [(">" if i < len(head) - 2 else "<") for i in range(len(head))]
    line = lambda cs: "  ".join(f"{c:{a}{w}}" for c, a, w in zip(cs, fmt, widths, strict=True)).rstrip()  # noqa: E731
    more = f" (top {top} of {len(rows)})" if len(rows) > top else ""
    return [f"{title}{more}", line(head), *(line(c) for c in cells), ""]


def _cell(value: Any, column: int) -> str:
    if isinstance(value, float) and column == 1:
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:.3f}" if column == 0 else f"{value:g}"
    return str(value)
