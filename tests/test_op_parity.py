"""Per-op parity: onnxruntime on the pivot vs TensorFlow.js (cpu, wasm) on the emitted model.

The emission checks of every case (declared ops, tfjs vocabulary, refusals) run without Node in
tests/test_emission.py; this test only compares values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backends.tfjs_runtime import TfjsRuntime
from tests.cases import OpCase, all_cases
from tests.parity import REFUSALS, check_parity_feeds

CASES = all_cases()


def _param(case: OpCase) -> object:
    marks = []
    if case.refused:  # tests/test_emission.py checks it is refused for the op under test
        marks.append(pytest.mark.xfail(reason=f"refused: {case.refused}", raises=REFUSALS, strict=True))
    elif case.xfail:
        marks.append(pytest.mark.xfail(reason=case.xfail, strict=True))
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.needs_node
@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_op_parity(case: OpCase, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    feeds = [make(np.random.default_rng(0)) for make in (case.inputs, *case.more_inputs)]
    check_parity_feeds(case.model(), feeds, tmp_path, tfjs, backends=case.backends, tol=case.tol, emission=False)
