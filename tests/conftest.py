"""Shared fixtures: one TensorFlow.js worker per test session, seeded random generators."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

from backends.tfjs_runtime import TfjsRuntime
from pivot.errors import RuntimeUnavailableError

# Keras 3 (test-only) runs on torch here: TensorFlow is never installed.
os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture(scope="session")
def tfjs() -> Iterator[TfjsRuntime]:
    """A persistent Node worker; tests that need it fail loudly in CI when it is missing."""
    try:
        runtime = TfjsRuntime()
    except RuntimeUnavailableError as e:
        pytest.skip(str(e))
    yield runtime
    runtime.close()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The fuzz suite's figures in one line (cases, categories, tracebacks, outside reads, worst peak memory)."""
    from tests.fuzz.summary import from_reports, summary_line

    outcomes = from_reports(terminalreporter.stats)
    if outcomes:
        terminalreporter.write_line(summary_line(outcomes))
