"""Terminal rendering of a validation report."""

from __future__ import annotations

from pivot.compare import Metric
from tfjs_pivot.validate import ValidationReport


def _metric_line(m: Metric) -> str:
    status = "ok  " if m.passed else "FAIL"
    if m.detail:
        return f"  {status} {m.output:<20} {m.reference:>6} -> {m.candidate:<6} {m.detail}"
    return (f"  {status} {m.output:<20} {m.reference:>6} -> {m.candidate:<6} max abs {m.max_abs:.3g} "
            f"(bound {m.bound:.3g}), max rel {m.max_rel:.3g}, cosine {m.cosine:.6f}, worst at {list(m.worst_index)}")


def render_validation(report: ValidationReport) -> str:
    """Verdict, tolerance, one line per output and stage pair, and the first diverging node."""
    tol = report.tolerance
    lines = [f"tfjs-pivot validate: {report.source} vs {report.converted}",
             f"stages: {' -> '.join(report.stages)}; {report.samples} sample(s); tolerance: max abs <= "
             f"{tol.atol:g} + {tol.rtol:g} x max(1, max |reference|)"
             + (f" (quantized {tol.quantized})" if tol.quantized else ""),
             *(f"note: {n}" for n in report.notes),
             *(_metric_line(m) for m in report.metrics)]
    d = report.divergence
    if d is not None:
        if "error" in d:
            lines.append(f"first diverging node: {d['node']} ({d['op']}): {d['error']}")
        else:
            lines.append(f"first diverging node: {d['node']} ({d['op']}), output {d['value']}: max abs "
                         f"{d['max_abs']:.3g} (bound {d['bound']:.3g}), tfjs node {d['tfjs_node']} "
                         f"[{d['probes_checked']} of {d['probes_total']} probes checked]")
            if d.get("tfjs_weights"):
                lines.append(f"  weights read by that tfjs node: {', '.join(d['tfjs_weights'])}")
    elif not report.passed:
        lines.append("first diverging node: not found (every probed intermediate value matches)")
    lines.append("PASS" if report.passed else "FAIL: the converted model does not match")
    return "\n".join(lines) + "\n"
