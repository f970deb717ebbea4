"""Real architectures exported with dynamic axes (issue 14): convert once, run at >= 2 shape sets in tfjs.

Each model of tests/models/dynamic_models.py is exported by torch's TorchScript exporter (``dynamic_axes``) and its
dynamo exporter (``dynamic_shapes``), or written by hand (control flow), converted without pinning any dimension,
then run in TensorFlow.js (cpu and wasm) at every shape set and compared with onnxruntime on the same file
(tolerance 1e-4 x max(1, max |reference|)).

``EXPECTED`` is the one table to keep up to date: a case listed there must fail exactly so (its status starts with
the listed text), a case not listed must pass. A listed case that starts working fails the test, so the table stays
true: delete its line. ``python scripts/dynamic_report.py`` prints every current status.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backends.tfjs_runtime import TfjsRuntime
from tests.parity import trust_test_models

pytest.importorskip("torch", reason="torch is not installed (test extra)")
pytest.importorskip("transformers", reason="transformers is not installed (test extra)")
pytest.importorskip("onnxscript", reason="onnxscript is not installed (test extra)")
from tests.models import dynamic_models as dm

try:
    dm.import_torchvision()  # (not importorskip: the CUDA wheel next to a CPU torch raises RuntimeError)
except ImportError:
    pytest.skip("torchvision is not installed (test extra)", allow_module_level=True)

pytestmark = [pytest.mark.slow, pytest.mark.needs_torch, pytest.mark.needs_node]

# case ("<model>-<exporter>") -> how its status starts today. Statuses (tests/models/dynamic_models.Outcome):
# "export failed: ...", "ort: ..." (onnxruntime cannot run the file at a shape set), "refused: ..." (the converter
# declines; one "Op [reason] xN: detail" per unsupported op), "tfjs: ..." (TensorFlow.js fails to run it),
# "mismatch: ...", "export not dynamic: ..." (input dims came out static, or onnxruntime disagrees with torch).
# Measured with torch 2.13.0, transformers 5.25.0, torchvision 0.28.0, onnxscript 0.7.2.
EXPECTED: dict[str, str] = {
    # torch.onnx (dynamo) silently falls back to the example's height and width (MobileViT's unfold arithmetic)
    "mobilevit-dynamo": "export not dynamic: input dims fixed by the exporter: pixel_values[batch,3,96,128]",
    # torch.export cannot trace the detection post-processing (data-dependent box counts)
    "ssdlite320-mobilenetv3-dynamo": "export failed: <class 'torch.fx.experimental.symbolic_shapes."
                                     "GuardOnDataDependentSymNode'>: Could not guard on data-dependent expression",
    # converts and matches onnxruntime on cpu and wasm at both shape sets (worst rel. error 1e-6); the TorchScript
    # file itself differs from torch by 2.8% at the shape it was not traced at (box rescaling traced as constants)
    "fasterrcnn-mobilenetv3-320-torchscript": "export not dynamic: onnxruntime vs torch: boxes shape set 0 rel 0.028",
}


def _params() -> list[Any]:
    return [pytest.param(spec, exporter, id=f"{spec.name}-{exporter}") for spec, exporter in dm.cases()
            if exporter not in spec.report_only]


def test_table_names_real_cases() -> None:
    keys = {f"{s.name}-{e}" for s, e in dm.cases()}
    assert not set(EXPECTED) - keys, f"EXPECTED lists unknown cases {sorted(set(EXPECTED) - keys)}"


@pytest.mark.parametrize(("spec", "exporter"), _params())
def test_dynamic_model(spec: dm.DynSpec, exporter: str, tmp_path: Path, tfjs: TfjsRuntime,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    trust_test_models(monkeypatch)
    outcome = dm.measure(spec, exporter, tfjs, tmp_path)
    expected = EXPECTED.get(outcome.key, "ok")
    if expected == "ok":
        assert outcome.status == "ok", f"{outcome.key}: {outcome.status}"
    else:
        assert outcome.status != "ok", f"{outcome.key} now converts and matches: delete its EXPECTED line"
        assert outcome.status.startswith(expected), f"{outcome.key}: status changed to {outcome.status!r}"
