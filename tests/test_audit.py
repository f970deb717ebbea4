"""The op-support audit: every blocking node with its reason, per-backend gaps, reports in four formats."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import onnx
import pytest
from click.testing import CliRunner

from backends.tfjs_graph.support import render_document, support_table
from tfjs_pivot.cli import main

DOCS = Path(__file__).resolve().parents[1] / "docs" / "supported-ops.md"

# Several unsupported ops, an unsupported attribute value, an int64 constant beyond int32 and
# ONNX control flow (SequenceMap; Loop, If and Scan are converted), in one model.
BLOCKED = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,3,8,8] x, float[2,4] boxes) => (float[1,6,16,16] r, int64[?] u, float[?,4] roi, int64[2] big,
                                            seq(float[4]) mapped) {
    scales = Constant<value = float[4] {1, 2, 2, 2}>()
    r = Resize<mode = "linear">(x, , scales)
    ints = Cast<to = 7>(x)
    flat = Flatten<axis = 0>(ints)
    u = Unique(flat)
    batch_idx = Constant<value = int64[2] {0, 0}>()
    roi = RoiAlign(x, boxes, batch_idx)
    small = Constant<value = int64[2] {1, 2}>()
    huge = Constant<value = int64[2] {1099511627776, 3}>()
    big = Add(small, huge)
    rows = SplitToSequence<keepdims = 0>(boxes)
    mapped = SequenceMap<body = step (float[4] row) => (float[4] row_out) {
        row_out = Sin(row)
    }>(rows)
}"""
# A diagonal-style Einsum on dynamic dims stays a tfjs Einsum, which wasm has no kernel for.
WASM_GAP = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[N,M] a, float[M,N] b) => (float[N] y) {
    y = Einsum<equation = "ij,ji->i">(a, b)
}"""
EXPECTED = {("Unique", "no_rule"), ("RoiAlign", "attribute"), ("Resize", "attribute"), ("Constant", "dtype"),
            ("SequenceMap", "control_flow"), ("SplitToSequence", "no_rule")}


@pytest.fixture
def models(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in (("blocked", BLOCKED), ("wasm_gap", WASM_GAP)):
        out[name] = tmp_path / f"{name}.onnx"
        onnx.save(onnx.parser.parse_model(text), out[name])
    return out


def _audit(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["audit", *args])
    return result.exit_code, result.output


def test_json_lists_every_blocking_node(models: dict[str, Path]) -> None:
    code, out = _audit(str(models["blocked"]), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["schema"] == "tfjs-pivot.audit/1" and doc["verdict"]["exit_status"] == 1
    assert {(row["op"], row["reason"]) for row in doc["blocking"]} == EXPECTED
    assert all(row["nodes"] and row["detail"] for row in doc["blocking"])
    assert all(not b["runs"] for b in doc["backends"].values())
    assert doc["model"]["onnx_ops"]["SequenceMap"] == 1 and len(doc["model"]["inputs"]) == 2


def test_wasm_only_gap(models: dict[str, Path]) -> None:
    code, out = _audit(str(models["wasm_gap"]), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and not doc["blocking"]
    assert doc["backends"]["wasm"] == {"runs": False, "missing_kernels": ["Einsum"], "tfjs_ops": ["Einsum"],
                                      "nodes": doc["backends"]["wasm"]["nodes"], "blocked_by_nodes": False}
    assert doc["backends"]["wasm"]["nodes"] and doc["backends"]["cpu"]["runs"]
    code, _ = _audit(str(models["wasm_gap"]), "--backend", "cpu")
    assert code == 0


def test_text_and_markdown_reports(models: dict[str, Path]) -> None:
    _, text = _audit(str(models["blocked"]))
    _, markdown = _audit(str(models["blocked"]), "--format", "markdown")
    for op, reason in EXPECTED:
        assert f"{op} [{reason}]" in text
        assert f"| {op} | `{reason}` |" in markdown
    assert "BLOCKED on wasm" in text


def test_bad_input_exits_2(tmp_path: Path) -> None:
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    code, out = _audit(str(tmp_path / "broken.onnx"))
    assert code == 2 and out.startswith("error:") and "Traceback" not in out


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium package not installed")
def test_html_report_renders_in_chromium(models: dict[str, Path], tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    code, _ = _audit(str(models["blocked"]), "--format", "html", "--output", str(page))
    assert code == 1
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert "BLOCKED on wasm" in dom and "http" not in page.read_text()
    for op, reason in EXPECTED:
        assert f"<td>{op}</td><td><code>{reason}</code></td>" in dom


def test_convert_stops_before_writing(models: dict[str, Path], tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["convert", str(models["blocked"]), str(tmp_path / "out")])
    assert result.exit_code == 2 and not (tmp_path / "out").exists()
    assert all(f"{op} [{reason}]" in result.output for op, reason in EXPECTED)


def test_convert_kernel_gap_and_skip_op_check(models: dict[str, Path], tmp_path: Path) -> None:
    src = str(models["wasm_gap"])
    refused = CliRunner().invoke(main, ["convert", src, str(tmp_path / "a")])
    assert refused.exit_code == 2 and "Einsum" in refused.output and not (tmp_path / "a").exists()
    assert CliRunner().invoke(main, ["convert", src, str(tmp_path / "b"), "--backend", "cpu"]).exit_code == 0
    skipped = CliRunner().invoke(main, ["convert", src, str(tmp_path / "c"), "--skip-op-check"])
    assert skipped.exit_code == 0 and "wasm lacks kernel(s) Einsum" in skipped.output
    assert (tmp_path / "c" / "model.json").is_file()


def test_supported_ops_doc_is_current() -> None:
    """docs/supported-ops.md is generated: regenerate with `tfjs-pivot ops --markdown > docs/supported-ops.md`."""
    assert DOCS.read_text() == render_document(support_table())
