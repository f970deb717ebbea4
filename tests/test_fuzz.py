"""Fuzz suite: hundreds of broken and hostile model files of every format through the real CLI (issue 12).

Each case mutates a valid seed built at test time, runs ``tfjs-pivot convert`` (and for a sample ``audit``) in a
child forked from this pre-imported process, and checks: exit status 0 or 2 (audit 0, 1, 2), no traceback, one
error line, no output left on failure, the canary outside the model folder never opened nor copied, peak memory
bounded. A fixed sample of about 100 cases runs unmarked; the rest is marked slow (CI runs both).
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fuzz.case import Case, Workspace, prepare
from tests.fuzz.checks import judge
from tests.fuzz.corpus import all_cases, fast_ids, run_case
from tests.fuzz.harness import baseline_rss, preimport, run_child
from tests.fuzz.summary import PROPERTY, to_json

CASES = all_cases()
FAST = fast_ids(CASES)
PARAMS = [pytest.param(c, id=c.id, marks=() if c.id in FAST else pytest.mark.slow) for c in CASES]


@pytest.fixture(scope="session")
def fuzz_seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where seeds are built on first use: shared by the xdist workers of one session."""
    preimport()
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "fuzz-seeds"


@pytest.mark.parametrize("case", PARAMS)
def test_fuzz_case(case: Case, fuzz_seeds: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    outcome = run_case(case, fuzz_seeds, tmp_path / "case")
    request.node.user_properties.append((PROPERTY, json.dumps(to_json(outcome))))
    failures = "\n".join(f"  {f.command}: {f.kind}: {f.detail}" for f in outcome.failures)
    assert not outcome.failures, f"{case.id} (exit {outcome.status}): {outcome.cause}\n{failures}\n" \
                                 f"  case folder: {tmp_path / 'case'}"


def test_corpus_shape() -> None:
    """Several hundred cases in every category, a fast sample of about 100 covering each category."""
    categories = {c.category for c in CASES}
    assert len(CASES) >= 500 and len(categories) >= 11
    assert 80 <= len(FAST) <= 130
    assert {c.category for c in CASES if c.id in FAST} == categories


def _open_canary(ws: Workspace) -> int:
    with open(ws.canary, "rb") as f:
        f.read(4)
    return 2


def _c_open_canary(ws: Workspace) -> int:
    libc = ctypes.CDLL(None)
    os.close(libc.open(os.fsencode(ws.canary), os.O_RDONLY))  # below Python: no audit event, inotify sees it
    return 2


def _copy_needle(ws: Workspace) -> int:
    ws.out.mkdir()
    (ws.out / "w.bin").write_bytes(b"head" + ws.needle + b"tail")  # the bytes only: nothing outside is opened
    return 0


def _allocate(nbytes: int) -> Callable[[Workspace], int]:
    def run(_: Workspace) -> int:
        block = bytearray(nbytes)
        block[::4096] = b"\x01" * len(block[::4096])  # touch every page: resident, not just reserved
        return 0
    return run


def _stderr(lines: list[str], status: int, leave_output: bool = False) -> Callable[[Workspace], int]:
    def run(ws: Workspace) -> int:
        if leave_output:
            ws.out.mkdir()
        print("\n".join(lines), file=sys.stderr)
        return status
    return run


def _raise(_: Workspace) -> int:
    raise ValueError("a bug")


def _sleep(_: Workspace) -> int:
    time.sleep(30)
    return 0


def _segfault(_: Workspace) -> int:
    os.kill(os.getpid(), signal.SIGSEGV)
    return 0


# Misbehaviour -> the failure kinds the checks must report (the detectors' own test: 0 found must mean 0 there).
CONTROLS: dict[str, tuple[Callable[[Workspace], int], set[str]]] = {
    "clean-error": (_stderr(["warning: odd", "error: bad input"], 2), set()),
    "grouped-report": (_stderr(["error: 2 nodes cannot be converted:", "  Foo: no rule"], 2), set()),
    "python-open": (_open_canary, {"outside_read"}),
    "c-open": (_c_open_canary, {"outside_read"}),
    "copied-bytes": (_copy_needle, {"outside_read"}),
    "traceback": (_raise, {"traceback", "exit_status"}),
    "internal-error": (_stderr(["internal error: KeyError: 'x' (a bug)"], 3), {"traceback", "exit_status"}),
    "two-lines": (_stderr(["error: one", "error: two"], 2), {"message"}),
    "silent-failure": (_stderr([], 2), {"message"}),
    "exit-1": (_stderr(["error: x"], 1), {"exit_status"}),
    "output-left": (_stderr(["error: x"], 2, leave_output=True), {"output_left"}),
    "memory": (_allocate(1300 << 20), {"memory"}),
    "rlimit": (_allocate(16 << 30), {"memory"}),
    "timeout": (_sleep, {"timeout"}),
    "segfault": (_segfault, {"crash"}),
}


@pytest.mark.parametrize("name", CONTROLS)
def test_checks_catch(name: str, fuzz_seeds: Path, tmp_path: Path) -> None:
    """Each detector fires on a child that misbehaves that way, and stays quiet on a clean refusal."""
    misbehave, expected = CONTROLS[name]
    ws = prepare(Case("control", "onnx_convnet", name, lambda _: None), fuzz_seeds, tmp_path)
    run = run_child(ws.argv("convert"), ws.cwd, tmp_path / "logs", ws.canaries, timeout=10,
                    target=lambda _argv: misbehave(ws))
    kinds = {f.kind for f in judge(Case("control", "onnx_convnet", name, lambda _: None), ws, run, baseline_rss(),
                                   None)}
    assert expected <= kinds and (expected or not kinds), f"{name}: expected {expected}, got {kinds}"
