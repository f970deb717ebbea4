"""Per-op parity: onnxruntime on the pivot vs TensorFlow.js (cpu, wasm) on the emitted model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backends.tfjs_runtime import TfjsRuntime
from tests.cases import OpCase, all_cases
from tests.parity import check_parity

CASES = all_cases()


def _param(case: OpCase) -> object:
    marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.needs_node
@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_op_parity(case: OpCase, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    feeds = case.inputs(np.random.default_rng(0))
    check_parity(case.model(), feeds, tmp_path, tfjs, backends=case.backends, tol=case.tol, key=case.key)
