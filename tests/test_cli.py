"""The convert command line: optional-value quantize flags that never swallow a path, and flag rules."""

from __future__ import annotations

import json
from pathlib import Path

import click
import onnx
import pytest
from click.testing import CliRunner

from tests.test_quantize import convnet
from tfjs_pivot.cli import convert_cmd, main
from tfjs_pivot.cli_args import QUANTIZE_FLAGS, normalize_argv

VALUE_OPTIONS = {"--input-format", "--output-format", "--weight-shard-size-bytes"}

# argv after "convert" -> argv click parses.
ARGV_CASES = [
    ("--quantize-uint8 m.onnx out", "--quantize-uint8= m.onnx out"),
    ("--quantize-uint8 *conv* m.onnx out", "--quantize-uint8=*conv* m.onnx out"),
    ("--quantize_uint16 a,b m.onnx out", "--quantize_uint16=a,b m.onnx out"),
    ("m.onnx out --quantize-float16", "m.onnx out --quantize-float16="),
    ("m.onnx out --quantize-float16 *", "m.onnx out --quantize-float16=*"),
    ("m.onnx --quantize-uint8 out", "m.onnx --quantize-uint8= out"),
    ("--quantize-uint8 a --quantize-float16 b m out", "--quantize-uint8=a --quantize-float16=b m out"),
    ("--quantize-uint8 a --quantize-float16 m out", "--quantize-uint8=a --quantize-float16= m out"),
    ("--quantize-uint8 --quantize-float16 m out", "--quantize-uint8= --quantize-float16= m out"),
    ("--input-format onnx --quantize-uint8 m out", "--input-format onnx --quantize-uint8= m out"),
    ("--weight-shard-size-bytes 10 --quantize-uint8 7 m out", "--weight-shard-size-bytes 10 --quantize-uint8=7 m out"),
    ("--quantize-uint8=x m out", "--quantize-uint8=x m out"),
    ("--quantize-uint8 -- m out", "--quantize-uint8= -- m out"),
    ("--quantize-uint8 --overwrite m out", "--quantize-uint8= --overwrite m out"),
]


@pytest.mark.parametrize(("argv", "expected"), ARGV_CASES)
def test_normalize_argv(argv: str, expected: str) -> None:
    assert normalize_argv(argv.split(), VALUE_OPTIONS, set(QUANTIZE_FLAGS), 2) == expected.split()


def test_command_knows_its_value_options() -> None:
    # The real command derives the value-taking options from its own parameters.
    ctx = click.Context(convert_cmd)
    args = convert_cmd.parse_args(ctx, ["--input_format", "onnx", "--quantize-uint8", "m", "o"])
    assert args == [] and ctx.params["q_uint8"] == "" and ctx.params["input_format"] == "onnx"
    assert ctx.params["source"] == Path("m") and ctx.params["output"] == Path("o")


def _quantization(out: Path) -> dict[str, str | None]:
    doc = json.loads((out / "model.json").read_text())
    return {w["name"]: w.get("quantization", {}).get("dtype") for g in doc["weightsManifest"] for w in g["weights"]
            if w["dtype"] == "float32"}


# argv (SRC/OUT placeholders) -> expected storage dtype per float32 weight name fragment (None: float32).
RUN_CASES = [
    ("convert --quantize-uint8 SRC OUT", {"conv1": "uint8", "conv2": "uint8", "fc": "uint8"}),
    ("convert --quantize-uint8 *conv1* SRC OUT", {"conv1": "uint8", "conv2": None, "fc": None}),
    ("convert SRC OUT --quantize_float16 *fc* --quantize_uint16", {"conv1": "uint16", "conv2": "uint16",
                                                                    "fc": "float16"}),
    ("convert --quantization_bytes 2 SRC OUT", {"conv1": "uint16", "conv2": "uint16", "fc": "uint16"}),
]


@pytest.mark.parametrize(("argv", "expected"), RUN_CASES)
def test_convert_quantize_flags(tmp_path: Path, argv: str, expected: dict[str, str | None]) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    args = [{"SRC": str(tmp_path / "m.onnx"), "OUT": str(tmp_path / "out")}.get(a, a) for a in argv.split()]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert ("deprecated" in result.stderr) == ("quantization_bytes" in argv)
    assert "download:" in result.stdout and "gzip" in result.stdout
    got = _quantization(tmp_path / "out")
    for fragment, dtype in expected.items():
        names = [n for n in got if fragment in n]
        assert names and {got[n] for n in names} == {dtype}, (fragment, got)


@pytest.mark.parametrize(("argv", "message"), [
    ("--quantize-uint8 --quantize-float16 SRC OUT", "only one quantization flag may be given without patterns"),
    ("--quantization_bytes 1 --quantize-uint8 SRC OUT", "cannot be combined"),
    ("--quantize-uint8 *conv* --quantize-float16 *1* SRC OUT", "matches quantization patterns of two dtypes"),
])
def test_bad_quantize_flags_fail_in_one_line(tmp_path: Path, argv: str, message: str) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    args = [{"SRC": str(tmp_path / "m.onnx"), "OUT": str(tmp_path / "out")}.get(a, a) for a in argv.split()]
    result = CliRunner().invoke(main, ["convert", *args])
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_unmatched_pattern_is_a_warning(tmp_path: Path) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    result = CliRunner().invoke(main, ["convert", str(tmp_path / "m.onnx"), str(tmp_path / "o"),
                                       "--quantize-uint8", "nothing_like_this*"])
    assert result.exit_code == 0
    assert "warning: quantization pattern 'nothing_like_this*' matched no weight" in result.stderr
