"""tensorflowjs_converter's flags and spellings, real booleans, paths with spaces, --quiet/--verbose, --version."""

from __future__ import annotations

import io
import json
import os
import shlex
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import click
import onnx
import pytest
from click.testing import CliRunner

from backends.tfjs_runtime import RUNTIME_DIR
from tests.test_quantize import convnet
from tfjs_pivot.cli import convert_cmd, convert_options, main
from tfjs_pivot.cli_args import QUANTIZE_FLAGS, normalize_argv
from tfjs_pivot.convert import ConvertOptions
from tfjs_pivot.progress import Reporter, reporter

REPO = Path(__file__).resolve().parents[1]


def parsed(argv: list[str]) -> ConvertOptions:
    """The ConvertOptions the convert command builds from ``argv`` (paths m.onnx and out added)."""
    ctx = click.Context(convert_cmd)
    convert_cmd.parse_args(ctx, argv)
    flags = {k: v for k, v in ctx.params.items() if k not in ("source", "output", "quiet", "verbose", "check")}
    return convert_options(flags)


def attr(options: ConvertOptions, path: str) -> Any:
    value: Any = options
    for part in path.split("."):
        value = getattr(value, part)
    return value


# (official tensorflowjs_converter spelling, our dash spelling, option path, expected value)
SPELLINGS = [
    ("--input_format onnx", "--input-format onnx", "input_format", "onnx"),
    ("--output_format tfjs_layers_model", "--output-format tfjs_layers_model", "output_format", "tfjs_layers_model"),
    ("--signature_name serving_x", "--signature-name serving_x", "frontend.signature_name", "serving_x"),
    ("--saved_model_tags serve,gpu", "--saved-model-tags serve,gpu", "frontend.saved_model_tags", ("serve", "gpu")),
    ("--output_node_names a,b/c", "--output-node-names a,b/c", "frontend.output_node_names", ("a", "b/c")),
    ("--weight_shard_size_bytes 1000", "--weight-shard-size-bytes 1000", "backend.shard_bytes", 1000),
    ("--quantize_float16", "--quantize-float16", "backend.quantization.fallthrough", "float16"),
    ("--quantize_uint8 *conv*", "--quantize-uint8 *conv*", "backend.quantization.patterns", (("*conv*", "uint8"),)),
    ("--quantize_uint16 a,b", "--quantize-uint16 a,b", "backend.quantization.patterns", (("a", "uint16"),
                                                                                        ("b", "uint16"))),
    ("--quantization_bytes 1", "--quantization-bytes 1", "backend.quantization.fallthrough", "uint8"),
    ("--strip_debug_ops=False", "--strip-debug-ops=false", "frontend.strip_debug_ops", False),
    ("--strip_debug_ops=True", "--strip-debug-ops", "frontend.strip_debug_ops", True),
    ("--control_flow_v2=True", "--control-flow-v2", "frontend.control_flow_v2", True),
    ("--control_flow_v2 False", "--no-control-flow-v2", "frontend.control_flow_v2", False),
    ("--use_structured_outputs_names=True", "--use-structured-outputs-names", "frontend.structured_outputs_names",
     True),
    ("--skip_op_check", "--skip-op-check", "backend.require_backend", None),
    ("--split_weights_by_layer", "--split-weights-by-layer", "backend.split_weights_by_layer", True),
]


@pytest.mark.parametrize(("official", "dash", "path", "expected"), SPELLINGS, ids=[s[0] for s in SPELLINGS])
@pytest.mark.parametrize("where", ["before", "after"])
def test_official_and_dash_spellings(official: str, dash: str, path: str, expected: Any, where: str) -> None:
    for spelling in (official, dash):
        flag = spelling.split()
        argv = [*flag, "m.onnx", "out"] if where == "before" else ["m.onnx", "out", *flag]
        assert attr(parsed(argv), path) == expected, spelling


def test_defaults_match_the_official_converter() -> None:
    options = parsed(["m.onnx", "out"])
    assert options.frontend.strip_debug_ops is True and options.frontend.control_flow_v2 is False
    assert options.frontend.saved_model_tags == ("serve",) and options.frontend.signature_name is None
    assert options.backend.shard_bytes == 4194304 and options.backend.quantization is None
    assert options.backend.require_backend == "wasm" and options.backend.metadata == {}


BOOLEANS = [("true", True), ("True", True), ("TRUE", True), ("1", True), ("yes", True), ("Yes", True),
            ("false", False), ("False", False), ("0", False), ("no", False), ("NO", False)]


@pytest.mark.parametrize(("word", "value"), BOOLEANS)
@pytest.mark.parametrize("form", ["{flag}={word}", "{flag} {word}"])
def test_boolean_values(word: str, value: bool, form: str) -> None:
    for flag in ("--strip_debug_ops", "--strip-debug-ops"):
        argv = [*form.format(flag=flag, word=word).split(), "m.onnx", "out"]
        assert parsed(argv).frontend.strip_debug_ops is value, argv
    # The negative spelling with a value: --no-x=false means x.
    assert parsed([f"--no-control-flow-v2={word}", "m.onnx", "out"]).frontend.control_flow_v2 is (not value)


def test_boolean_word_never_swallows_a_path() -> None:
    # "--skip_op_check true out": only two positionals, so "true" is the source path, not the flag's value.
    booleans = {"--skip_op_check": ("--skip-op-check", "--no-skip-op-check")}
    assert normalize_argv(["--skip_op_check", "true", "out"], set(), set(QUANTIZE_FLAGS), 2, booleans) == [
        "--skip_op_check", "true", "out"]
    assert normalize_argv(["--skip_op_check", "no", "m", "out"], set(), set(QUANTIZE_FLAGS), 2, booleans) == [
        "--no-skip-op-check", "m", "out"]
    # A bare bool flag before the paths stays a bare flag.
    assert normalize_argv(["--skip_op_check", "m", "out"], set(), set(QUANTIZE_FLAGS), 2, booleans) == [
        "--skip_op_check", "m", "out"]


@pytest.mark.parametrize("argv", ["--strip_debug_ops=maybe", "--control-flow-v2=2", "--skip_op_check=",
                                  "--split-weights-by-layer=yess"])
def test_garbage_boolean_is_one_line(tmp_path: Path, argv: str) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "m.onnx"), str(tmp_path / "out"), argv])
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not a boolean" in lines[0] and argv.split("=")[0] in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_source_option_the_input_ignores_is_a_warning(tmp_path: Path) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    for k, flag in enumerate(("--signature_name=x", "--strip_debug_ops=false", "--output_node_names=y")):
        result = CliRunner().invoke(main, ["convert", str(tmp_path / "m.onnx"), str(tmp_path / f"out{k}"), flag])
        name = flag.split("=")[0].replace("_", "-")
        assert result.exit_code == 0 and f"warning: {name} is ignored" in result.stderr, flag
        assert "(input is onnx)" in result.stderr
    # The default value (what official scripts spell out) is accepted.
    ok = CliRunner().invoke(main, ["convert", str(tmp_path / "m.onnx"), str(tmp_path / "o"), "--strip_debug_ops=True",
                                   "--control_flow_v2=False", "--saved_model_tags", "serve", "--experiments=false"])
    assert ok.exit_code == 0, ok.output


def _run(args: list[str], cwd: Path, **kw: Any) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CI", None)
    return subprocess.run([sys.executable, "-m", "tfjs_pivot.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300, **kw)


def _shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a shell command line with ``tfjs-pivot`` meaning this source tree's CLI."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    prelude = f"tfjs-pivot() {{ {shlex.quote(sys.executable)} -m tfjs_pivot.cli \"$@\"; }}; "
    return subprocess.run(["bash", "-c", prelude + command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_paths_and_metadata_with_spaces(tmp_path: Path) -> None:
    folder = tmp_path / "my models"
    folder.mkdir()
    onnx.save(convnet(), folder / "tiny net.onnx")
    (folder / "train info.json").write_text(json.dumps({"epochs": 3, "labels": ["a", "b"]}))
    command = ("tfjs-pivot convert 'my models/tiny net.onnx' 'web model/v 1' --metadata 'train:my models/train "
               "info.json' --quantize_float16 --weight_shard_size_bytes 1024")
    result = _shell(command, tmp_path)
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "web model" / "v 1" / "model.json").read_text())
    assert doc["userDefinedMetadata"] == {"train": {"epochs": 3, "labels": ["a", "b"]}}
    assert len(doc["weightsManifest"][0]["paths"]) > 1  # 1 KiB shards


@pytest.mark.parametrize(("value", "message"), [
    ("k:missing.json", "cannot read missing.json"), ("k:bad.json", "is not valid JSON"),
    ("nocolon.json", "is not KEY:PATH.json"), ("k:", "is not KEY:PATH.json")])
def test_bad_metadata_is_one_line(tmp_path: Path, value: str, message: str) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    (tmp_path / "bad.json").write_text("{not json")
    result = _run(["convert", "m.onnx", "out", "--metadata", value], tmp_path)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_metadata_reaches_a_resharded_layers_model(tmp_path: Path) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    (tmp_path / "meta.json").write_text('{"v": 2}')
    first = _run(["convert", "m.onnx", "graph"], tmp_path)
    assert first.returncode == 0, first.stderr
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save(tmp_path / "k.h5")
    steps = [["convert", "k.h5", "layers"], ["convert", "layers/model.json", "again", "--output_format",
                                              "tfjs_layers_model", "--metadata", "info:meta.json"]]
    for args in steps:
        result = _run(args, tmp_path)
        assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "again" / "model.json").read_text())["userDefinedMetadata"] == {"info": {"v": 2}}


def test_quiet_verbose_and_pipe_output(tmp_path: Path) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    plain = _run(["convert", "m.onnx", "a"], tmp_path)
    assert plain.returncode == 0 and plain.stdout.startswith("wrote a (tfjs_graph_model")
    assert "\r" not in plain.stderr and "loading" not in plain.stderr  # a pipe: no spinner, no timings
    quiet = _run(["convert", "m.onnx", "b", "--quiet", "--quantize-uint8", "nothing*"], tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""  # the unmatched-pattern warning too
    assert (tmp_path / "b" / "model.json").is_file()
    verbose = _run(["convert", "m.onnx", "c", "--verbose"], tmp_path)
    stages = [line.split()[0] for line in verbose.stderr.splitlines() if line.rstrip().endswith("s") or ": " in line]
    assert stages[:3] == ["loading", "optimizing", "writing"], verbose.stderr
    assert "writing" in verbose.stderr and "1 file(s)" in verbose.stderr and "tfjs ops:" in verbose.stderr
    assert "\r" not in verbose.stderr
    failing = _run(["convert", "m.onnx", "c", "--quiet"], tmp_path)  # c is not empty: errors still show
    assert failing.returncode == 2 and "directory is not empty" in failing.stderr


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_spinner_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    tty = _Tty()
    progress = reporter(stream=tty)
    with progress.stage("writing") as advance:
        advance(2048)
        time.sleep(0.35)
    drawn = tty.getvalue()
    assert "writing: 1 file(s), 2.05 kB" in drawn and "\r" in drawn
    assert drawn.endswith("\r")  # the line is wiped at the end of the stage
    assert not reporter(stream=io.StringIO()).live  # a pipe
    assert not reporter(quiet=True, stream=_Tty()).live
    monkeypatch.setenv("CI", "true")
    assert not reporter(stream=_Tty()).live


def test_verbose_timings_without_a_terminal() -> None:
    out = io.StringIO()
    progress = Reporter(out, verbose=True)
    with progress.stage("optimizing"):
        time.sleep(0.02)
    line = out.getvalue().strip()
    assert line.startswith("optimizing") and line.endswith(" s") and float(line.split()[1]) >= 0.02
    assert progress.timings["optimizing"] >= 0.02


def test_version_lists_installed_frameworks_without_importing_them(tmp_path: Path) -> None:
    code = ("import sys; from tfjs_pivot.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'keras', 'tensorflow', 'jax', 'tf2onnx') if m in sys.modules]\n"
            "print('imported:', heavy)")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("tfjs-pivot ") and lines[-1] == "imported: []"
    listed = dict(line.split(None, 1) for line in lines[1:-1])
    assert listed["onnx"] == metadata.version("onnx") and listed["onnxruntime"] == metadata.version("onnxruntime")
    for dist in ("torch", "keras", "tf2onnx", "tensorflow", "tensorflow-cpu", "jax", "flax", "jax2onnx"):
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            assert dist not in listed
        else:
            assert listed[dist] == version
    pinned = json.loads((RUNTIME_DIR / "package.json").read_text())["dependencies"]["@tensorflow/tfjs"]
    assert listed["tensorflow.js"].startswith(pinned + " ")
    again = _run(["convert", "--version"], tmp_path)
    assert again.returncode == 0 and again.stdout.splitlines()[0] == lines[0]
