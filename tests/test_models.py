"""Whole-model parity: torch models exported to ONNX, converted, run in onnxruntime and tfjs (cpu, wasm)."""

from __future__ import annotations

import base64
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from backends.tfjs_runtime import TfjsRuntime
from tests.parity import check_parity, ort_run

pytest.importorskip("torch", reason="torch is not installed (test extra)")
from tests.models import torch_models
from tests.models.manifest import MODELS, ModelSpec

pytestmark = [pytest.mark.slow, pytest.mark.needs_torch]


def _params() -> list[Any]:
    return [pytest.param(spec, exporter, id=f"{spec.name}-{exporter}")
            for spec in MODELS for exporter in torch_models.EXPORTERS]


def op_histogram(doc: dict[str, Any]) -> dict[str, int]:
    """Node count by op of a model.json, most frequent first."""
    return dict(Counter(n["op"] for n in doc["modelTopology"]["node"]).most_common())


def inner_transposes(doc: dict[str, Any]) -> list[str]:
    """Transpose nodes that neither read a model input nor feed a model output (through Identity only)."""
    nodes = {n["name"]: n for n in doc["modelTopology"]["node"]}
    users: dict[str, list[dict[str, Any]]] = {}
    for n in nodes.values():
        for ref in n.get("input", []):
            users.setdefault(ref.lstrip("^").split(":")[0], []).append(n)
    outputs = {e["name"].split(":")[0] for e in doc["signature"]["outputs"].values()}

    def source(name: str) -> dict[str, Any]:
        node = nodes[name]
        while node["op"] == "Identity" and node.get("input"):
            node = nodes[node["input"][0].split(":")[0]]
        return node

    def feeds_output(name: str) -> bool:
        return name in outputs or any(u["op"] == "Identity" and feeds_output(u["name"]) for u in users.get(name, []))

    return [n["name"] for n in nodes.values() if n["op"] == "Transpose"
            and source(n["input"][0].split(":")[0])["op"] != "Placeholder" and not feeds_output(n["name"])]


def nchw_nodes(doc: dict[str, Any]) -> list[str]:
    """Nodes whose data_format attribute says channels-first."""
    nchw = {base64.b64encode(f.encode()).decode() for f in ("NCHW", "NCDHW", "NCW")}
    return [n["name"] for n in doc["modelTopology"]["node"]
            if n.get("attr", {}).get("data_format", {}).get("s") in nchw]


@pytest.mark.needs_node
@pytest.mark.parametrize(("spec", "exporter"), _params())
def test_model_parity(spec: ModelSpec, exporter: str, tmp_path: Path, tfjs: TfjsRuntime) -> None:
    model = torch_models.randomize(spec.build(), spec.seed)
    x = np.random.default_rng(spec.seed).standard_normal(spec.input_shape).astype(np.float32)
    ref = torch_models.torch_forward(model, x)
    assert ref.std() > 1e-2, f"degenerate reference output (std {ref.std():.3g})"
    src = torch_models.export(model, x, tmp_path / f"{spec.name}.onnx", exporter)

    got = ort_run(src, {"input": x})["logits"]
    scale = max(1.0, float(np.abs(ref).max()))
    assert np.abs(got - ref).max() <= 1e-4 * scale, "onnxruntime disagrees with torch on the exported model"

    results = check_parity(src, {"input": x}, tmp_path, tfjs, tol=spec.tol)
    doc = json.loads((tmp_path / "tfjs" / "model.json").read_text())
    hist = op_histogram(doc)
    worst = max(r.relative for r in results)
    inner = inner_transposes(doc)
    print(f"\n{spec.name}/{exporter}: {sum(hist.values())} nodes, {len(inner)} inner Transposes, "
          f"worst rel err {worst:.2e}, ops {hist}")

    if spec.max_inner_transposes is not None:
        assert len(inner) <= spec.max_inner_transposes, f"{len(inner)} inner Transposes: {inner[:10]}"
    if spec.channels_last:
        assert not nchw_nodes(doc), f"NCHW ops left: {nchw_nodes(doc)[:10]}"
