"""A pass that fails on something unexpected is reported in one line naming the pass, the node and the cause."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto, helper, numpy_helper

from pivot.errors import InputError
from tests.test_quantize import convnet
from tfjs_pivot.cli import main


def conv_bn() -> onnx.ModelProto:
    """x -> Conv -> BatchNormalization: the pair FoldBatchNormPass folds."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(size=(4, 3, 3, 3)).astype(np.float32), "w")]
    inits += [numpy_helper.from_array(rng.uniform(0.5, 1.5, 4).astype(np.float32), n)
              for n in ("scale", "bias", "mean", "var")]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["y"], name="bn")]
    graph = helper.make_graph(nodes, "conv_bn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 6, 6])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def _raiser(error: BaseException, name: str) -> Callable[..., Any]:
    def fail(*args: object, **kwargs: object) -> None:
        raise error

    fail.__name__ = name  # a backend pass is named by its function
    return fail


# (case, model, what to replace, raised, the one stderr line)
CASES = [
    ("a node of constant folding", convnet, "pivot.passes.fold._fold_node", ValueError("boom\ndetail"),
     "error: pass FoldConstantsPass failed at node 'conv1' (Conv): ValueError: boom"),
    ("a node of batch-norm folding", conv_bn, "pivot.passes.fold_bn._fold", ZeroDivisionError("float division"),
     "error: pass FoldBatchNormPass failed at node 'bn' (BatchNormalization): ZeroDivisionError: float division"),
    ("a whole pass", convnet, "pivot.passes.transpose.ComposeTransposesPass.call", KeyError("perm"),
     "error: pass ComposeTransposesPass failed: KeyError: 'perm'"),
    ("a backend pass", convnet, "backends.tfjs_graph.passes.fuse", IndexError("list index out of range"),
     "error: pass fuse failed: IndexError: list index out of range"),
    ("an input error stays itself", convnet, "pivot.passes.fold._fold_node", InputError("bad constant"),
     "error: bad constant"),
]


@pytest.mark.parametrize(("build", "target", "error", "line"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_failing_pass_names_itself_and_the_cause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   build: Callable[[], onnx.ModelProto], target: str,
                                                   error: BaseException, line: str) -> None:
    onnx.save(build(), tmp_path / "m.onnx")
    monkeypatch.setattr(target, _raiser(error, target.rsplit(".", 1)[-1]))
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "m.onnx"), str(tmp_path / "out")])
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert result.exit_code == 2 and lines == [line], result.stderr
    assert not (tmp_path / "out").exists()
