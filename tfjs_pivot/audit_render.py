"""Renders an audit report (its JSON form) as terminal text, Markdown or one self-contained HTML page."""

from __future__ import annotations

import html
import json
from typing import Any

from tfjs_format.summary import human

Doc = dict[str, Any]


def render_json(doc: Doc) -> str:
    return json.dumps(doc, indent=2) + "\n"


def _verdict(doc: Doc) -> str:
    v = doc["verdict"]
    blocked = sum(row["count"] for row in doc["blocking"])
    if v["runs"]:
        return f"RUNS on {v['required_backend']} (required)"
    why = f"{blocked} node(s) cannot be converted" if blocked else "kernels are missing"
    return f"BLOCKED on {v['required_backend']} (required): {why}"


def _shape(info: Doc) -> str:
    shape = info["shape"]
    return "unknown rank" if shape is None else "[" + ",".join(str(d) for d in shape) + "]"


def _backend_line(name: str, row: Doc) -> str:
    if row["runs"]:
        return "runs"
    if row["missing_kernels"]:
        nodes = row["nodes"]
        more = f" +{len(nodes) - 3} more" if len(nodes) > 3 else ""
        return (f"missing kernels {', '.join(row['missing_kernels'])} (tfjs ops {', '.join(row['tfjs_ops'])}; "
                f"nodes {', '.join(nodes[:3])}{more})")
    return "blocked by the nodes above"


def _execution(doc: Doc) -> str:
    ex = doc["execution"]
    if ex["mode"] == "execute":
        return "model.execute() (no control flow or dynamic-shape ops)"
    return f"model.executeAsync() needed (control flow / dynamic ops: {', '.join(ex['async_ops'])})"


def _model_lines(doc: Doc) -> list[str]:
    m = doc["model"]
    if not m:
        return ["model: not lowered to the pivot (see the blocking layers)"]
    dl = " | ".join(f"{k} {human(v)}" for k, v in m["download_bytes"].items())
    return [f"model: {m['nodes']} ONNX nodes, {m['parameters']:,} parameters, {human(m['weight_bytes'])} of weights",
            *(f"  input   {i['name']}: {i['dtype']} {_shape(i)}" for i in m["inputs"]),
            *(f"  output  {o['name']}: {o['dtype']} {_shape(o)}" for o in m["outputs"]),
            *_dims_lines(doc),
            f"  download (weights, before gzip): {dl}",
            "  ONNX ops: " + ", ".join(f"{op} {n}" for op, n in m["onnx_ops"].items())]


def _dims_lines(doc: Doc) -> list[str]:
    """Which input dims stay dynamic (by name), and what was pinned."""
    pinned = doc.get("pinned") or {}
    flags = [f"--input-shape {n}:{','.join(map(str, s))}" for n, s in (pinned.get("input_shapes") or {}).items()]
    flags += [f"--dim {n}={s}" for n, s in (pinned.get("dims") or {}).items()]
    lines = [f"  pinned: {' '.join(flags)}"] if flags else []
    dynamic = doc["model"].get("symbolic_dims") or {}
    if dynamic:
        named = ", ".join(f"{d} ({', '.join(users)})" for d, users in dynamic.items())
        lines.append(f"  dynamic input dims: {named}; pin them with --dim NAME=SIZE or --input-shape")
    return lines


def render_text(doc: Doc) -> str:
    """The default terminal report."""
    lines = [f"tfjs-pivot audit: {doc['source']} ({doc['input_format']})", f"verdict: {_verdict(doc)}",
             *_model_lines(doc)]
    if doc["blocking"]:
        lines.append(f"blocking nodes ({doc['blocking'][0]['stage']}), grouped by op:")
        for row in doc["blocking"]:
            more = f" (+{row['count'] - 1} more)" if row["count"] > 1 else ""
            lines.append(f"  {row['op']} [{row['reason']}] x{row['count']}: {row['detail']}; node '{row['nodes'][0]}'"
                         f"{more}")
            if row["hint"]:
                lines.append(f"      hint: {row['hint']}")
    lines.append("tfjs backends:")
    lines += [f"  {name:<7} {_backend_line(name, row)}" for name, row in doc["backends"].items()]
    lines.append(f"execution: {_execution(doc)}")
    return "\n".join(lines) + "\n"


def render_markdown(doc: Doc) -> str:
    """GitHub-flavoured Markdown."""
    out = [f"# Audit of `{doc['source']}` ({doc['input_format']})", "", f"**Verdict:** {_verdict(doc)}", ""]
    out += [f"- {line.strip()}" for line in _model_lines(doc)]
    if doc["blocking"]:
        out += ["", "## Blocking nodes", "", "| op | reason | count | nodes | detail | hint |",
                "|---|---|---|---|---|---|"]
        out += [f"| {r['op']} | `{r['reason']}` | {r['count']} | {', '.join(r['nodes'][:5])} | {r['detail']} | "
                f"{r['hint']} |" for r in doc["blocking"]]
    out += ["", "## TensorFlow.js backends", "", "| backend | status |", "|---|---|"]
    out += [f"| {name} | {_backend_line(name, row)} |" for name, row in doc["backends"].items()]
    out += ["", f"**Execution:** {_execution(doc)}", ""]
    return "\n".join(out)


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;
vertical-align:top}th{background:#f3f3f3}.ok{color:#176b2c;font-weight:600}.bad{color:#a31515;font-weight:600}
code{background:#f3f3f3;padding:0 .2em}"""


def _table(head: list[str], rows: list[list[str]]) -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def render_html(doc: Doc) -> str:
    """One self-contained page (inline CSS, no scripts, no external resources)."""
    e = html.escape
    cls = "ok" if doc["verdict"]["runs"] else "bad"
    parts = [f"<h1>Audit of <code>{e(doc['source'])}</code> ({e(doc['input_format'])})</h1>",
             f"<p class='{cls}' id='verdict'>{e(_verdict(doc))}</p>",
             "<ul>" + "".join(f"<li>{e(line.strip())}</li>" for line in _model_lines(doc)) + "</ul>"]
    if doc["blocking"]:
        rows = [[e(r["op"]), f"<code>{e(r['reason'])}</code>", str(r["count"]), e(", ".join(r["nodes"][:10])),
                 e(r["detail"]), e(r["hint"])] for r in doc["blocking"]]
        parts += ["<h2>Blocking nodes</h2>", _table(["op", "reason", "count", "nodes", "detail", "hint"], rows)]
    rows = [[e(name), f"<span class='{'ok' if row['runs'] else 'bad'}'>{e(_backend_line(name, row))}</span>"]
            for name, row in doc["backends"].items()]
    parts += ["<h2>TensorFlow.js backends</h2>", _table(["backend", "status"], rows),
              f"<p><b>Execution:</b> {e(_execution(doc))}</p>"]
    title = e(f"tfjs-pivot audit: {doc['source']}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
            f"<style>{_CSS}</style></head><body>{''.join(parts)}</body></html>\n")


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown, "html": render_html}
