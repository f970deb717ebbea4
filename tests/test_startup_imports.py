"""The CLI imports only what a command needs: ``--version`` and ``--help`` load no onnx, numpy or framework."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import frontends
from tfjs_pivot.cli import main, ops_cmd
from tfjs_pivot.cli_group import LazyCommand, PivotGroup

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "tiny_convnet.onnx"

# Never on the path of any command below: frameworks, onnxruntime, the prompt library, the Keras readers' h5py.
_NEVER = ("torch", "tensorflow", "jax", "keras", "tf2onnx", "onnxruntime", "h5py", "questionary")
# Nothing of the conversion stack either: what ``--version`` and ``--help`` must start without.
_LIGHT = (*_NEVER, "onnx", "onnx_ir", "sympy", "ml_dtypes", "numpy", "frontends", "backends", "tfjs_pivot.convert")
# An ONNX file to a graph model: onnx and onnx_ir load, the other readers, onnx's evaluator and validate do not.
_ONNX_CONVERT = (*_NEVER, "onnx.reference", "frontends.keras", "frontends.tensorflow", "tfjs_pivot.validate",
                 "sympy.core")  # onnx_ir's sympy stays a stand-in (tfjs_pivot/lazy_modules.py)

_SCRIPT = """
import json, runpy, sys
sys.argv = ["tfjs-pivot", *{args!r}]
try:
    runpy.run_module("tfjs_pivot.cli", run_name="__main__")
except SystemExit as e:
    status = e.code
print(json.dumps({{"status": status, "modules": sorted(sys.modules)}}))
"""


def _loaded(args: list[str]) -> tuple[int, set[str]]:
    """The exit status of ``tfjs-pivot ARGS`` in a fresh interpreter and the modules it imported."""
    proc = subprocess.run([sys.executable, "-c", _SCRIPT.format(args=args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    return seen["status"], set(seen["modules"])


@pytest.mark.parametrize(("args", "forbidden"), [
    (["--version"], _LIGHT),
    (["-V"], _LIGHT),
    (["--help"], _LIGHT),
    ([], _LIGHT),
    (["wizard", "--help"], _LIGHT),
    (["ops", "--help"], _LIGHT),
    (["convert", "--help"], _NEVER),
    (["validate", "--help"], _NEVER),
    (["audit", "--help"], _NEVER),
    (["profile", "--help"], _NEVER),
    (["convert", str(EXAMPLE), "{out}", "--overwrite"], _ONNX_CONVERT),
], ids=["version", "V", "help", "no-args", "wizard-help", "ops-help", "convert-help", "validate-help", "audit-help",
        "profile-help", "convert-onnx"])
def test_command_imports_none_of(args: list[str], forbidden: tuple[str, ...], tmp_path: Path) -> None:
    status, modules = _loaded([a.format(out=tmp_path / "out") for a in args])
    assert status in ((0, None) if args else (2,))  # alone, tfjs-pivot shows the help with status 2
    assert sorted(m for m in forbidden if m in modules) == []


def test_help_lists_every_command_with_its_line() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    section = result.output.split("Commands:")[1].split("\n\n")[0]
    listed = {line.split()[0] for line in section.splitlines() if line.strip()}
    assert listed == {"audit", "convert", "ops", "profile", "validate", "wizard"}
    assert "profile   Time a converted graph model in TensorFlow.js" in result.output


def test_profile_is_the_lazily_loaded_command() -> None:
    profile = pytest.importorskip("tfjs_pivot.profile_cli").profile
    assert main.get_command(click.Context(main), "profile") is profile


def test_lazy_command_loads_when_it_runs() -> None:
    group = PivotGroup(lazy_commands={"table": LazyCommand("tfjs_pivot.cli:ops_cmd", "The ops table.")})
    assert "  table  The ops table." in CliRunner().invoke(group, ["--help"]).output
    assert group.commands == {}  # listing did not import it
    result = CliRunner().invoke(group, ["table", "--json"])
    assert result.exit_code == 0 and '"schema": "tfjs-pivot.ops/1"' in result.output
    assert group.commands == {"table": ops_cmd}


def test_lazy_command_of_a_missing_module_is_an_internal_error() -> None:
    group = PivotGroup(lazy_commands={"gone": LazyCommand("tfjs_pivot.no_such_module:cmd", "Missing.")})
    with pytest.raises(SystemExit) as exit_info:
        group.main(["gone"], standalone_mode=True)
    assert exit_info.value.code == 3


@pytest.mark.parametrize("name", list(frontends.FRONTENDS))
def test_lazy_frontend_registry_names_match_the_frontends(name: str) -> None:
    assert frontends.FRONTENDS[name].name == name


def test_choices_load_on_use() -> None:
    params = {p.name: p for p in main.commands["convert"].params}
    choice = params["input_format"].type
    assert isinstance(choice, click.Choice) and "onnx" in choice.choices
    assert list(choice.choices) == frontends.input_formats()
