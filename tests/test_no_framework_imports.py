"""The core imports no heavy framework: importing it and converting an ONNX model loads none of them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("tensorflow", "tf2onnx", "jax", "jaxlib", "flax", "jax2onnx", "torch")

_SCRIPT = """
import json, sys
FRAMEWORKS = {frameworks!r}

def loaded():
    return sorted({{m.split(".")[0] for m in sys.modules if m.split(".")[0] in FRAMEWORKS}})

seen = {{}}
import pivot, frontends, backends, tfjs_pivot
import frontends.tensorflow  # registered or not: the TensorFlow frontends import TensorFlow lazily
seen["import"] = loaded()

import numpy as np, onnx
from onnx import helper
w = onnx.numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3), "w")
graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Relu", ["h"], ["y"])],
                          "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [2, 4])],
                          [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [2, 3])], [w])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), {src!r})

from pathlib import Path
from tfjs_pivot.convert import convert
convert(Path({src!r}), Path({out!r}) / "api")
seen["convert"] = loaded()

from tfjs_pivot.cli import main
try:
    main(["convert", {src!r}, {out!r} + "/cli"])
except SystemExit as e:
    assert not e.code, e.code
seen["cli"] = loaded()
print(json.dumps(seen))
"""


def test_core_and_onnx_conversion_import_no_framework(tmp_path: Path) -> None:
    code = _SCRIPT.format(frameworks=FRAMEWORKS, src=str(tmp_path / "model.onnx"), out=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen == {"import": [], "convert": [], "cli": []}
    assert (tmp_path / "api" / "model.json").is_file() and (tmp_path / "cli" / "model.json").is_file()
