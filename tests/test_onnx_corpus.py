"""The ONNX backend node-test corpus, for every op the tfjs registry claims, against TensorFlow.js.

The cases are generated from the installed onnx package into a cache (``tests/corpus.py``) the
first time the slow tests are collected; nothing is downloaded. ``scripts/corpus_report.py``
runs the same selection and prints the pass rate per op.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.tfjs_runtime import TfjsRuntime
from tests.corpus import Entry, cache_dir, claimed_ops, ensure_corpus, match, run_case, select
from tests.corpus_exclusions import EXCLUDED, UNSUPPORTED_FORMS, XFAIL

pytestmark = [pytest.mark.slow, pytest.mark.needs_node]


def _slow_deselected(config: pytest.Config) -> bool:
    expr = config.getoption("markexpr", "") or ""
    return "not slow" in expr.replace("  ", " ")


def _param(entry: Entry) -> object:
    marks = []
    if entry.excluded:
        marks.append(pytest.mark.skip(reason=f"excluded: {entry.excluded}"))
    elif entry.xfail:
        marks.append(pytest.mark.xfail(reason=entry.xfail, strict=True))
    return pytest.param(entry, id=entry.info.name, marks=marks)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "entry" not in metafunc.fixturenames:
        return
    # Generating the corpus costs ~10 s: skip it when the slow tests are deselected anyway.
    entries = [] if _slow_deselected(metafunc.config) else select(ensure_corpus(), claimed_ops())
    metafunc.parametrize("entry", [_param(e) for e in entries])


def test_onnx_node_case(entry: Entry, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    outcome = run_case(entry.info, cache_dir(), tfjs, tmp_path)
    if entry.unsupported:
        assert outcome.status == "unsupported", \
            f"listed in UNSUPPORTED_FORMS ({entry.unsupported}) but {outcome.status} {outcome.detail}".rstrip()
        return
    assert outcome.status != "unsupported", \
        f"refused: {outcome.detail} (a declared limit goes into UNSUPPORTED_FORMS of tests/corpus_exclusions.py)"
    assert outcome.status == "passed", outcome.detail


def test_exclusions_name_real_cases() -> None:
    """Every name or glob of the exclusion tables matches a corpus case (no stale entries), and no case
    matches two tables."""
    names = [i.name for i in ensure_corpus()]
    tables = {"EXCLUDED": EXCLUDED, "XFAIL": XFAIL, "UNSUPPORTED_FORMS": UNSUPPORTED_FORMS}
    stale = [pat for table in tables.values() for pat in table
             if not any(match({pat: "x"}, n) for n in names)]
    assert not stale, f"exclusion entries matching no case: {stale}"
    twice = {n: listed for n in names if len(listed := [t for t, table in tables.items() if match(table, n)]) > 1}
    assert not twice, f"cases listed in two tables: {twice}"
