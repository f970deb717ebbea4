"""``tfjs-pivot wizard`` driven through a pseudo-terminal, and what it reads from models."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import onnx
import pexpect
import pytest

from tests.protowire import message as _msg
from tests.test_cli_flags import _shell, parsed
from tests.test_pin_dims import conv_resize
from tfjs_pivot.cli import convert_cmd, convert_options
from tfjs_pivot.convert import ConvertOptions
from tfjs_pivot.wizard_answers import Answers, command_line, convert_argv
from tfjs_pivot.wizard_model import Weight, graph_outputs, probe_weights, saved_model_graphs, weight_groups

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "tiny_convnet.onnx"
DOWN, ENTER, SPACE, CTRL_C, CTRL_D, BACKSPACE = "\x1b[B", "\r", " ", "\x03", "\x04", "\x7f"


class Wizard:
    """One ``tfjs-pivot wizard`` process on a pseudo-terminal, in ``cwd``, with its own TMPDIR."""

    def __init__(self, cwd: Path, *args: str) -> None:
        self.tmpdir = cwd.parent / f"{cwd.name}-tmp"
        self.tmpdir.mkdir()
        # No cursor-position replies come from pexpect: prompt_toolkit must not ask for them.
        env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm", "TMPDIR": str(self.tmpdir),
               "PROMPT_TOOLKIT_NO_CPR": "1"}
        env.pop("CI", None)
        self.child = pexpect.spawn(sys.executable, ["-m", "tfjs_pivot.cli", "wizard", *args], cwd=str(cwd), env=env,
                                   encoding="utf-8", timeout=180, dimensions=(60, 220))
        self.transcript: list[str] = []

    def answer(self, prompt: str, keys: str) -> None:
        self.expect(prompt)
        self.child.send(keys)

    def expect(self, text: str) -> str:
        self.child.expect_exact(text)
        self.transcript.append(self.child.before + text)
        return str(self.child.before)

    def finish(self) -> tuple[int, str]:
        self.child.expect(pexpect.EOF)
        self.transcript.append(self.child.before)
        self.child.close()
        return self.child.exitstatus, "".join(self.transcript)


def _model_dir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "my models").mkdir(parents=True)
    shutil.copy(EXAMPLE, work / "my models" / "tiny convnet.onnx")
    return work


def _storage(model_json: Path) -> dict[str, str]:
    doc = json.loads(model_json.read_text())
    return {w["name"]: w.get("quantization", {}).get("dtype", w["dtype"]) for g in doc["weightsManifest"]
            for w in g["weights"] if w["dtype"] == "float32"}


def _printed_command(transcript: str) -> list[str]:
    line = transcript.split("Equivalent command:", 1)[1].strip().splitlines()[0].strip()
    return shlex.split(line)


@pytest.mark.needs_node
def test_full_session_converts_and_validates(tmp_path: Path, tfjs: Any) -> None:
    work = _model_dir(tmp_path)
    source = work / "my models" / "tiny convnet.onnx"
    first_group = weight_groups(probe_weights(source, ConvertOptions()).weights)[0][0]
    w = Wizard(work)
    w.answer("Model to convert", "my models/tiny convnet.onnx" + ENTER)
    w.expect("detected: onnx")
    w.answer("Input format", ENTER)
    w.answer("Output format", ENTER)  # tfjs_graph_model first: the default
    w.answer("Quantize the float32 weights?", DOWN * 3 + ENTER)  # none, float16, uint16, uint8
    w.answer("Which weights?", DOWN + ENTER)  # groups read from the model
    w.answer("Groups", SPACE + ENTER)  # the first group
    w.answer("Weight shard size", BACKSPACE * 7 + "1024" + ENTER)
    w.answer("Output (directory)", ENTER)  # default: beside the model
    w.answer("validate)?", "y")
    status, transcript = w.finish()
    assert status == 0, transcript
    assert "PASS" in transcript and "wrote my models/tiny convnet_tfjs (tfjs_graph_model" in transcript
    out = work / "my models" / "tiny convnet_tfjs"
    storage = _storage(out / "model.json")
    assert {n for n, d in storage.items() if d == "uint8"} == {n for n in storage if fnmatchcase(n, first_group)}
    assert set(storage.values()) == {"uint8", "float32"}
    assert len(json.loads((out / "model.json").read_text())["weightsManifest"][0]["paths"]) == 2  # 1 KiB shards
    assert _printed_command(transcript) == ["tfjs-pivot", "convert", "my models/tiny convnet.onnx",
                                            "my models/tiny convnet_tfjs", "--quantize-uint8", first_group,
                                            "--weight-shard-size-bytes", "1024"]
    assert not list(w.tmpdir.glob("tfjs-pivot-*"))  # the probe conversion left nothing behind


def test_dryrun_prints_a_command_that_works(tmp_path: Path) -> None:
    work = _model_dir(tmp_path)
    taken = work / "taken dir"
    taken.mkdir()
    (taken / "old.txt").write_text("old")
    w = Wizard(work, "--dryrun")
    w.answer("Model to convert", "'my models/tiny convnet.onnx'" + ENTER)  # pasted with quotes
    w.answer("Input format", ENTER)
    w.answer("Output format", ENTER)
    w.answer("Quantize the float32 weights?", DOWN + ENTER)  # float16
    w.answer("Which weights?", ENTER)  # all
    w.answer("Weight shard size", ENTER)
    w.answer("Output (directory)", "\x15" + "taken dir" + ENTER)  # Ctrl-U clears the default
    w.answer("is not empty: replace it?", "y")
    status, transcript = w.finish()
    assert status == 0, transcript
    argv = _printed_command(transcript)
    assert argv == ["tfjs-pivot", "convert", "my models/tiny convnet.onnx", "taken dir", "--quantize-float16",
                    "--overwrite"]
    assert sorted(p.name for p in taken.iterdir()) == ["old.txt"]  # dry run: nothing converted
    assert sorted(p.name for p in work.iterdir()) == ["my models", "taken dir"]
    line = transcript.split("Equivalent command:", 1)[1].strip().splitlines()[0].strip()
    result = _shell(line, work)  # the printed line, as a shell runs it
    assert result.returncode == 0, result.stderr
    assert set(_storage(taken / "model.json").values()) == {"float16"} and not (taken / "old.txt").exists()


def test_symbolic_dims_are_offered_for_pinning(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    onnx.save(conv_resize(), work / "dyn.onnx")
    w = Wizard(work, "--dryrun")
    w.answer("Model to convert", "dyn.onnx" + ENTER)
    w.answer("Input format", ENTER)
    w.answer("Output format", ENTER)
    w.expect("dynamic input dims: N (x), H (x), W (x)")
    w.answer("Pin the symbolic dims? (N, H, W", "y")
    w.answer("Size of N (blank: keep it dynamic)", ENTER)
    w.answer("Size of H", "0" + ENTER)  # refused by the prompt: a positive integer, or blank
    w.expect("a positive integer")
    w.child.send(BACKSPACE + "16" + ENTER)
    w.answer("Size of W", "16" + ENTER)
    w.answer("Quantize the float32 weights?", ENTER)
    w.answer("Weight shard size", ENTER)
    w.answer("Output (directory)", ENTER)
    status, transcript = w.finish()
    assert status == 0, transcript
    assert _printed_command(transcript) == ["tfjs-pivot", "convert", "dyn.onnx", "dyn_tfjs", "--dim", "H=16",
                                            "--dim", "W=16"]
    assert sorted(p.name for p in work.iterdir()) == ["dyn.onnx"]  # dry run: nothing converted
    line = transcript.split("Equivalent command:", 1)[1].strip().splitlines()[0].strip()
    result = _shell(line, work)
    assert result.returncode == 0, result.stderr
    doc = json.loads((work / "dyn_tfjs" / "model.json").read_text())
    assert [d["size"] for d in doc["signature"]["inputs"]["x"]["tensorShape"]["dim"]] == ["-1", "3", "16", "16"]
    assert convert_argv(Answers(Path("m.onnx"), "onnx", "onnx", output=Path("o"), dims={"N": 1})) == [
        "convert", "m.onnx", "o", "--dim", "N=1"]


@pytest.mark.parametrize(("stop_at", "key"), [("Model to convert", CTRL_D), ("Quantize the float32", CTRL_C),
                                              ("Output (directory)", CTRL_C)])
def test_leaving_a_prompt_writes_nothing(tmp_path: Path, stop_at: str, key: str) -> None:
    work = _model_dir(tmp_path)
    w = Wizard(work)
    steps = [("Model to convert", "my models/tiny convnet.onnx" + ENTER), ("Input format", ENTER),
             ("Output format", ENTER), ("Quantize the float32", ENTER), ("Weight shard size", ENTER),
             ("Output (directory)", ENTER)]
    for prompt, keys in steps:
        w.answer(prompt, key if prompt == stop_at else keys)
        if prompt == stop_at:
            break
    status, transcript = w.finish()
    assert status != 0
    assert transcript.strip().splitlines()[-1].strip() == "wizard cancelled: nothing was written"
    assert "Traceback" not in transcript
    assert [p.name for p in work.iterdir()] == ["my models"]
    assert [p.name for p in (work / "my models").iterdir()] == ["tiny convnet.onnx"]
    assert not list(w.tmpdir.glob("tfjs-pivot-*"))


def test_wizard_without_a_terminal_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-m", "tfjs_pivot.cli", "wizard"], cwd=tmp_path, env=env, input="",
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "error: the wizard needs a terminal; use `tfjs-pivot convert` in scripts"]


def test_answers_print_as_a_command_that_parses_back() -> None:
    answers = Answers(Path("a dir/m o.pb"), "tf_frozen_model", "tf_frozen_model", output_format="tfjs_graph_model",
                      output=Path("out put"), output_node_names=("Identity", "scores/Softmax"),
                      strip_debug_ops=False, control_flow_v2=True, quantize="uint8", patterns=("conv*", "*/b_t"),
                      shard_bytes=1000, overwrite=True)
    argv = convert_argv(answers)
    words = shlex.split(command_line(argv))
    assert words[0] == "tfjs-pivot" and words[1:] == argv
    options = parsed(words[2:])
    assert options.frontend.output_node_names == ("Identity", "scores/Softmax")
    assert options.frontend.strip_debug_ops is False and options.frontend.control_flow_v2 is True
    assert options.backend.quantization is not None
    assert options.backend.quantization.patterns == (("conv*", "uint8"), ("*/b_t", "uint8"))
    assert options.backend.shard_bytes == 1000 and options.overwrite
    plain = convert_argv(Answers(Path("m.onnx"), "onnx", "onnx", output=Path("o")))
    assert plain == ["convert", "m.onnx", "o"] and parsed(plain[1:]) == parsed(["m.onnx", "o"])
    assert convert_cmd.name == "convert" and callable(convert_options)


def test_weight_groups_come_from_the_names() -> None:
    weights = tuple(Weight(n, d, 10) for n, d in [("conv1/kernel", "float32"), ("conv1/bias", "float32"),
                                                   ("conv2/kernel", "float32"), ("dense/kernel", "float32"),
                                                   ("shape", "int32"), ("scale", "float32")])
    groups = {p: [w.name for w in ws] for p, ws in weight_groups(weights)}
    assert groups["conv1/*"] == ["conv1/kernel", "conv1/bias"] and groups["*/kernel"] == [
        "conv1/kernel", "conv2/kernel", "dense/kernel"]
    assert groups["scale"] == ["scale"] and "shape" not in groups and "*/bias" not in groups  # bias: only once


# --- the wire-format reader, against hand-encoded protos (field numbers of TensorFlow's .proto files) ---




def _signature(name: str, inputs: list[str], outputs: list[str]) -> bytes:
    info = _msg((1, "x:0"), (2, 1))  # TensorInfo: name, dtype (a varint the reader must skip)
    sig = b"".join(_msg((1, _msg((1, k), (2, info)))) for k in inputs)
    sig += b"".join(_msg((2, _msg((1, k), (2, info)))) for k in outputs) + _msg((3, "tensorflow/serving/predict"))
    return _msg((5, _msg((1, name), (2, sig))))


def test_saved_model_signatures_from_the_wire_format(tmp_path: Path) -> None:
    serve = _msg((1, _msg((4, "serve")))) + _signature("serving_default", ["y", "x"], ["out"]) + _signature(
        "extra", ["x"], ["a", "b"])
    gpu = _msg((1, _msg((4, "serve"), (4, "gpu")))) + _signature("serving_default", ["x"], ["out"])
    (tmp_path / "saved_model.pb").write_bytes(_msg((1, 1), (2, serve), (2, gpu)))
    graphs = saved_model_graphs(tmp_path)
    assert [g.tags for g in graphs] == [("serve",), ("serve", "gpu")]
    assert [(s.name, s.inputs, s.outputs) for s in graphs[0].signatures] == [
        ("extra", ("x",), ("a", "b")), ("serving_default", ("x", "y"), ("out",))]


def test_frozen_graph_outputs_from_the_wire_format(tmp_path: Path) -> None:
    def node(name: str, op: str, *inputs: str) -> bytes:
        return _msg((1, _msg((1, name), (2, op), *((3, i) for i in inputs))))

    graph = node("x", "Placeholder") + node("w", "Const") + node("mm", "MatMul", "x", "w:0") + node(
        "probs", "Softmax", "mm") + node("check", "Assert", "^probs") + node("argmax", "ArgMax", "mm:0")
    (tmp_path / "frozen.pb").write_bytes(graph + _msg((4, _msg((1, 1)))))  # GraphDef.versions after the nodes
    assert graph_outputs(tmp_path / "frozen.pb") == ["argmax"]  # probs feeds a control input; Assert never counts


def test_real_saved_model_and_frozen_graph(tmp_path: Path) -> None:
    tf = pytest.importorskip("tensorflow")

    class Two(tf.Module):
        def __init__(self) -> None:
            self.w = tf.Variable(tf.ones([4, 3]))

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="x"),
                                      tf.TensorSpec([None, 3], tf.float32, name="y")])
        def serve(self, x: Any, y: Any) -> dict[str, Any]:
            return {"out": tf.matmul(x, self.w) + y, "aux": tf.reduce_sum(x, axis=1)}

    module = Two()
    tf.saved_model.save(module, str(tmp_path / "sm"), signatures={"serving_default": module.serve})
    (graph,) = saved_model_graphs(tmp_path / "sm")
    sigs = {s.name: s for s in graph.signatures}
    assert graph.tags == ("serve",) and sigs["serving_default"].inputs == ("x", "y")
    assert sigs["serving_default"].outputs == ("aux", "out")
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    frozen = convert_variables_to_constants_v2(module.serve.get_concrete_function())
    tf.io.write_graph(frozen.graph.as_graph_def(), str(tmp_path), "frozen.pb", as_text=False)
    outputs = graph_outputs(tmp_path / "frozen.pb")
    assert len(outputs) == 2 and all(o.startswith("Identity") for o in outputs)
