"""The runtime race's reporting: machine description, the Markdown table, the kernel list, the summary line."""

from __future__ import annotations

import math
import os
import platform
import subprocess
from typing import Any

TOL = 1e-4  # tfjs and ORT-web outputs agree within this (relative to max(1, max |ORT-web|))


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (the platform module's answer otherwise)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(meta: dict[str, Any]) -> str:
    """One line: CPU, cores, OS, Node and the two runtimes' versions (``meta`` is bench.mjs's first line)."""
    node = meta.get("node") or subprocess.run(["node", "--version"], capture_output=True, text=True,
                                              check=False).stdout.strip()
    simd = {True: ", SIMD", False: ", no SIMD"}.get(bool(meta["wasmSimd"]), "") if "wasmSimd" in meta else ""
    return (f"{cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; node {node}; "
            f"TensorFlow.js {meta.get('tfjs', '?')} (wasm, 1 thread{simd}); "
            f"onnxruntime-web {meta.get('ortWeb', '?')} (wasm, 1 thread)")


def ratio(row: dict[str, Any]) -> float | None:
    """tfjs median over ORT-web median, when both ran."""
    t, o = row.get("tfjs"), row.get("ort")
    return t["median"] / o["median"] if t and o and o.get("median") else None


def _top(row: dict[str, Any]) -> str:
    return ", ".join(f"{k['op']} {k['ms']:.1f} (x{k['calls']})" for k in (row.get("profile") or {}).get("top", []))


def _cell(x: float | None, fmt: str = ".1f") -> str:
    return "" if x is None else format(x, fmt)


def table(rows: list[dict[str, Any]]) -> list[str]:
    """The race as Markdown rows: medians, ratio, node counts, top kernels; failures and skips as rows too."""
    out = ["| model | backend | tfjs ms | ORT-web ms | tfjs / ORT | max rel. err | ONNX nodes | tfjs nodes | "
           "kernels: calls, ms | top 5 tfjs kernels: ms (calls) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        head = f"| {r['name']} | {r.get('backend', '')} |"
        nodes = f"{r.get('onnx_nodes', '')} | {r.get('tfjs_nodes', '')} |"
        if "error" in r:
            out.append(f"{head} {r['error'][:160].replace('|', '/')} | | | | {nodes} | |")
        elif "skipped" in r:
            out.append(f"{head} skipped: {r['skipped']} | | | | {nodes} | |")
        else:
            ort = _cell(r["ort"]["median"]) if r.get("ort") else ("ORT-web: " + r["ortError"][:80]
                                                                  if r.get("ortError") else "")
            prof = r.get("profile") or {}
            kern = f"{prof['kernels']}, {prof.get('kernelMs', 0):.1f}" if prof else ""
            err = _cell(r.get("maxRel"), ".1e")
            out.append(f"{head} {_cell(r['tfjs']['median'])} | {ort} | {_cell(ratio(r), '.2f')} | {err} | {nodes} "
                       f"{kern} | {_top(r)} |")
    return out


def summary(rows: list[dict[str, Any]]) -> str:
    """Geometric mean and worst of tfjs wasm / ORT-web over the models where both ran."""
    pairs = [(r["name"], x) for r in rows if r.get("backend") == "wasm" and (x := ratio(r)) is not None]
    if not pairs:
        return "no model ran on both runtimes"
    gm = math.exp(sum(math.log(x) for _, x in pairs) / len(pairs))
    worst = max(pairs, key=lambda p: p[1])
    failed = sorted({r["name"] for r in rows if "error" in r or r.get("ortError")})
    wrong = sorted({r["name"] for r in rows if (r.get("maxRel") or 0) > TOL})
    tail = f"; failed: {', '.join(failed)}" if failed else ""
    tail += f"; OUTPUTS DIFFER from ORT-web (> {TOL:g}): {', '.join(wrong)}" if wrong else ""
    return (f"geometric mean tfjs / ORT-web (wasm): {gm:.2f} over {len(pairs)} models; worst {worst[1]:.2f} "
            f"({worst[0]}); models at or under 1.0: {sum(x <= 1.0 for _, x in pairs)}/{len(pairs)}{tail}")


def check_table(results: list[tuple[str, str, float | None]]) -> list[str]:
    """``--check`` results: model, status, max relative error of tfjs wasm against onnxruntime CPU."""
    out = ["| model | tfjs wasm vs onnxruntime: max rel. error | status |", "|---|---|---|"]
    for name, status, err in results:
        out.append(f"| {name} | {'' if err is None else f'{err:.2e}'} | {status} |")
    return out
