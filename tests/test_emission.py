"""Emission checks that need no TensorFlow.js runtime, for every case of the parity tables.

ONNX op cases (tests/cases): the model converts, the ops its emitter makes are declared by the emission rule
(``produces``) and every op of the written model.json is a tfjs op. Keras layer cases (tests/keras_cases, for
each format the parity test reads): the model reads and lowers, and the ops lowered for the layer under test are
declared by its lowering rule. A conversion refusal fails unless the case lists it with a reason (``refused``,
``LAYERS_REFUSED``); a listed case must still be refused. The value comparisons with Node are
tests/test_op_parity.py and tests/test_keras_layers.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import onnx_ir as ir
import pytest

from frontends.keras.lower import lower_model
from frontends.keras.model import KerasModel
from tests.cases import OpCase
from tests.cases import all_cases as op_cases
from tests.keras_cases import LAYERS_REFUSED, KerasCase
from tests.keras_cases import all_cases as keras_cases
from tests.keras_util import READERS, SAVED_AS, check_declared, formats, keras_module, randomize, refusal, save
from tests.parity import REFUSALS, check_emission, save_onnx, trust_test_models
from tfjs_format.keras_config import TFJS_LAYERS

OP_CASES = op_cases()
KERAS_CASES = keras_cases()
T = TypeVar("T")


@pytest.fixture(autouse=True)
def _own_models(monkeypatch: pytest.MonkeyPatch) -> None:
    trust_test_models(monkeypatch)


def _attempt(convert: Callable[[], T]) -> T | Exception:
    """What ``convert`` returns, or the refusal it raises."""
    try:
        return convert()
    except REFUSALS as e:
        return e


def _describe(e: Exception) -> str:
    return e.report() if hasattr(e, "report") else f"{type(e).__name__}: {e}"


def _unlisted(what: str, e: Exception, where: str) -> str:
    return f"{what} is refused:\n{_describe(e)}\nFix the converter, or if this is a declared limit, list it in " \
           f"{where} with the reason."


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in OP_CASES])
def test_op_emission(case: OpCase, tmp_path: Path) -> None:
    src = save_onnx(case.model(), tmp_path)
    got = _attempt(lambda: check_emission(src, tmp_path / "tfjs", case.key))
    if not isinstance(got, Exception):
        assert not case.refused, f"converts now but is listed as refused ({case.refused!r}): drop refused=..."
        return
    if not case.refused:
        pytest.fail(_unlisted(case.id, got, "its case (refused=...)"))
    ops = {item.op for item in getattr(got, "items", ())}
    assert not ops or case.key in ops, f"refused for {sorted(ops)}, not for {case.key}:\n{_describe(got)}"


def _keras_params() -> list[Any]:
    return [pytest.param(case, fmt, id=f"{case.id}-{fmt}") for case in KERAS_CASES for fmt in formats(case)]


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory: pytest.TempPathFactory) -> Callable[[KerasCase, str], Path]:
    """The case's model (built and randomized once, as the parity test does) saved for the reader of ``fmt``."""
    pytest.importorskip("keras")
    keras = keras_module()
    models: dict[str, Any] = {}
    files: dict[tuple[str, str], Path] = {}

    def get(case: KerasCase, fmt: str) -> Path:
        saved_as = SAVED_AS.get(fmt, fmt)
        if (case.id, saved_as) not in files:
            if case.id not in models:
                models[case.id] = case.build(keras)
                randomize(models[case.id])
            files[case.id, saved_as] = save(models[case.id], tmp_path_factory.mktemp(case.id), saved_as)
        if fmt not in SAVED_AS:
            return files[case.id, saved_as]
        # A round trip writes next to its source: a copy in a directory of its own.
        return Path(shutil.copy(files[case.id, saved_as], tmp_path_factory.mktemp(f"{case.id}-{fmt}")))

    return get


@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
@pytest.mark.parametrize(("case", "fmt"), _keras_params())
def test_keras_lowering(case: KerasCase, fmt: str, keras_file: Callable[[KerasCase, str], Path]) -> None:
    listed = refusal(case, fmt)
    got = _attempt(lambda: _read_and_lower(keras_file(case, fmt), fmt))
    if isinstance(got, Exception):
        if not listed:
            where = "LAYERS_REFUSED (tests/keras_cases)" if fmt == "tfjs_layers" else "its case (refused=...)"
            pytest.fail(_unlisted(f"{case.id} read as {fmt}", got, where))
        return
    assert not listed, f"converts now but is listed as refused ({listed!r}): remove the listing"
    check_declared(got[1], got[0], case.key)


def _read_and_lower(path: Path, fmt: str) -> tuple[KerasModel, ir.Model]:
    kmodel = READERS[fmt](path)
    return kmodel, lower_model(kmodel)


def test_layers_refused_names_real_cases() -> None:
    """Every LAYERS_REFUSED entry is a case whose tfjs layers round trip runs (no stale entries)."""
    layers_cases = {c.id for c in KERAS_CASES if c.key in TFJS_LAYERS}
    assert sorted(set(LAYERS_REFUSED) - layers_cases) == []
