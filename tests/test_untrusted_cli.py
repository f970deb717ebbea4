"""The app on bad input and failures: one line and a documented status per outcome, outputs never half-written."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from click.testing import Result
from onnx import TensorProto, helper, numpy_helper

import frontends
import tfjs_pivot.convert as convert_module
from backends.base import WriteResult
from frontends.onnx_file import OnnxFrontend
from pivot import untrusted
from pivot.errors import InputError
from tests.cli_util import lines, run_cli
from tests.test_quantize import convnet
from tfjs_pivot.cli_group import take_debug
from tfjs_pivot.convert import ConvertOptions
from tfjs_pivot.interrupts import Terminated
from tfjs_pivot.progress import Reporter
from tfjs_pivot.wizard_model import probe_weights

REPO = Path(__file__).resolve().parents[1]
ROOT = os.geteuid() == 0


def _cli(args: list[str], timeout: float = 120) -> Result:
    return run_cli(args, timeout)


_lines = lines


def _hidden(folder: Path) -> list[str]:
    """Staging siblings and trash left in ``folder`` (every one must be gone after a run)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# ----------------------------------------------------------------------------------------------- fixtures


def _setup(tmp: Path) -> None:
    """Every path the bad-path cases name, built at test time."""
    onnx.save(convnet(), tmp / "m.onnx")
    os.symlink("loop2", tmp / "loop1")
    os.symlink("loop1", tmp / "loop2")
    os.symlink(tmp / "gone.onnx", tmp / "dangling.onnx")
    os.symlink(tmp / "nowhere", tmp / "dangling_out")
    os.mkfifo(tmp / "fifo.onnx")
    for name in ("x.keras", "x.onnx", "elsewhere"):
        (tmp / name).mkdir()
    os.symlink(tmp / "elsewhere", tmp / "linkdir")
    (tmp / "plain.txt").write_text("a file")
    (tmp / "full").mkdir()
    (tmp / "full" / "keep.txt").write_text("keep")
    (tmp / "ro").mkdir(mode=0o555)
    (tmp / "locked.onnx").write_bytes((tmp / "m.onnx").read_bytes())
    (tmp / "locked.onnx").chmod(0)
    (tmp / "escape").mkdir()
    (tmp / "escape" / "model.json").write_text(
        '{"format": "graph-model", "modelTopology": {"node": []}, '
        '"weightsManifest": [{"paths": ["../secret.bin"], "weights": []}]}')
    (tmp / "secret.bin").write_bytes(b"CANARY")
    np.savez(tmp / "strings.npz", x=np.full((1, 3, 16, 16), "a"))
    np.save(tmp / "plain.npy", np.zeros((1, 3, 16, 16), np.float32))
    (tmp / "junk.npz").write_bytes(b"PK\x03\x04junk")
    (tmp / "graph").mkdir()
    (tmp / "graph" / "model.json").write_text(
        '{"format": "graph-model", "modelTopology": {"node": []}, "weightsManifest": []}')


LONG = "a" * 300
# (case, argv, fragment of the one error line, skip as root)
BAD_PATH_CASES = [
    ("missing source", "convert nothere.onnx out", "no such file or directory", False),
    ("symlink loop source", "convert loop1 out", "symbolic link loop", False),
    ("dangling source", "convert dangling.onnx out", "dangling symbolic link", False),
    ("FIFO source", "convert fifo.onnx out", "never read", False),
    ("FIFO source, format given", "convert fifo.onnx out --input-format onnx", "never read", False),
    ("/dev/zero, format given", "convert /dev/zero out --input-format onnx", "never read", False),
    ("/dev/zero detected", "convert /dev/zero out", "never read", False),
    ("directory named x.keras", "convert x.keras out", "is a directory", False),
    ("directory named x.onnx", "convert x.onnx out", "is a directory", False),
    ("directory as keras_keras", "convert x.keras out --input-format keras_keras", "is a directory", False),
    ("unreadable source", "convert locked.onnx out", "not readable", True),
    ("dangling symlink output", "convert m.onnx dangling_out", "symbolic link", False),
    ("symlink output, overwrite", "convert m.onnx linkdir --overwrite", "symbolic link", False),
    ("over-long output name", f"convert m.onnx {LONG}", "too long", False),
    ("output under a file", "convert m.onnx plain.txt/out", "is a file, not a directory", False),
    ("output in /proc", "convert m.onnx /proc/tfjs-pivot-test/out", "cannot", False),
    ("read-only parent", "convert m.onnx ro/out", "permission denied", True),
    ("read-only grandparent", "convert m.onnx ro/new/deeper/out", "permission denied", True),
    ("non-empty output", "convert m.onnx full", "not empty", False),
    ("negative fold limit", "convert m.onnx out --max-fold-bytes -1", "-1", False),
    ("audit: symlink loop", "audit loop1", "symbolic link loop", False),
    ("audit: FIFO", "audit fifo.onnx", "never read", False),
    ("audit: directory x.keras", "audit x.keras", "is a directory", False),
    ("audit: unwritable report", "audit m.onnx -o nodir/report.txt", "cannot write the report", False),
    ("validate: FIFO source", "validate fifo.onnx graph", "never read", False),
    ("validate: FIFO as converted", "validate m.onnx fifo.onnx", "not a regular file", False),
    ("validate: shard outside", "validate m.onnx escape", "climbs out", False),
    ("validate: FIFO as inputs", "validate m.onnx graph --inputs fifo.onnx", "not a regular file", False),
    ("validate: strings as inputs", "validate m.onnx graph --inputs strings.npz", "the model takes float32", False),
    ("validate: .npy as inputs", "validate m.onnx graph --inputs plain.npy", "not a .npz file", False),
    ("validate: broken .npz", "validate m.onnx graph --inputs junk.npz", "not a readable .npz", False),
    ("usage: unknown command", "convrt m.onnx out", "No such command", False),
    ("usage: missing argument", "convert", "Missing argument", False),
    ("usage: unknown option", "audit m.onnx --bogus", "No such option", False),
    ("usage: ops", "ops --bogus", "No such option", False),
    ("wizard without a terminal", "wizard", "needs a terminal", False),
]


def _without_root_powers(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """``tfjs-pivot ARGS`` as root without the capabilities that bypass permission bits (as any user runs it)."""
    drop = "-dac_override,-dac_read_search"
    command = ["setpriv", "--bounding-set", drop, "--inh-caps", drop, sys.executable, "-m", "tfjs_pivot.cli", *args]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if "setpriv:" in done.stderr:
        pytest.skip(f"cannot drop root's file capabilities here: {done.stderr.strip()}")
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(("argv", "fragment", "needs_user"), [c[1:] for c in BAD_PATH_CASES],
                         ids=[c[0] for c in BAD_PATH_CASES])
def test_bad_path_is_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: str, fragment: str,
                                     needs_user: bool) -> None:
    _setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = set(os.listdir(tmp_path))
    if needs_user and ROOT:
        if shutil.which("setpriv") is None:
            pytest.skip("root reads and writes through permission bits (and setpriv is missing)")
        status, stdout, stderr = _without_root_powers(argv.split(), tmp_path)
    else:
        result = _cli(argv.split())
        status, stdout, stderr = result.exit_code, result.stdout, result.stderr
    lines = _lines(stderr)
    assert status == 2, (status, stderr)
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], lines
    assert "Traceback" not in stdout + stderr and "CANARY" not in stdout + stderr
    assert set(os.listdir(tmp_path)) == before  # no output, no staging sibling, no new folder


class _TfjsReached:
    """Stands for the TensorFlow.js runtime: a validation that gets this far has passed the onnxruntime stages."""

    def run(self, *_: Any, **__: Any) -> Any:
        raise LookupError("tfjs reached")


def test_inputs_that_do_not_fit_the_model_are_input_errors(tmp_path: Path) -> None:
    from tfjs_pivot.validate import ValidateOptions, validate

    # y = Reshape(x[batch, 4], [2, 2]): any batch but 1 cannot run; onnxruntime's own error becomes one line.
    shape = numpy_helper.from_array(np.array([2, 2], np.int64), "shape")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 2])
    graph = helper.make_graph([helper.make_node("Reshape", ["x", "shape"], ["y"])], "g", [x], [y], [shape])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "r.onnx")
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "model.json").write_text('{"format": "graph-model", "modelTopology": {"node": []}}')
    with pytest.raises(InputError, match="onnxruntime could not run the source model on these inputs"):
        validate(tmp_path / "r.onnx", tmp_path / "graph", ValidateOptions(dims={"batch": 3}),
                 runtime=_TfjsReached())  # type: ignore[arg-type]
    np.savez(tmp_path / "wide.npz", x=np.ones((1, 4), np.float64))  # float64 for float32: cast, not refused
    with pytest.raises(LookupError, match="tfjs reached"):
        validate(tmp_path / "r.onnx", tmp_path / "graph", ValidateOptions(inputs=tmp_path / "wide.npz"),
                 runtime=_TfjsReached())  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------- bugs of ours


def _raiser(error: BaseException) -> Callable[..., Any]:
    def fail(*_: Any, **__: Any) -> Any:
        raise error
    return fail


# (case, what to replace, argv, raised, exit status, start of the one stderr line)
FAILURE_CASES = [
    ("convert bug", "tfjs_pivot.cli.convert", "convert m.onnx out", RuntimeError("boom\nsecond line"), 3,
     "internal error: RuntimeError: boom (a bug in tfjs-pivot: rerun with --debug and report the traceback)"),
    ("audit crash is not 'blocked'", "tfjs_pivot.audit.audit", "audit m.onnx", ValueError("bad"), 3,
     "internal error: ValueError: bad"),
    ("validate bug", "tfjs_pivot.cli.validate", "validate m.onnx out", KeyError("k"), 3,
     "internal error: KeyError: 'k'"),
    ("ops bug", "backends.tfjs_graph.support.support_table", "ops", TypeError("t"), 3, "internal error: TypeError"),
    ("wizard bug", "tfjs_pivot.wizard.run", "wizard", ZeroDivisionError("z"), 3, "internal error: ZeroDivisionError"),
    ("a reader's EOFError", "tfjs_pivot.cli.convert", "convert m.onnx out", EOFError("eof"), 3,
     "internal error: EOFError"),
    ("no memory", "tfjs_pivot.cli.convert", "convert m.onnx out", MemoryError(), 2,
     "error: the model needs more memory"),
    ("multi-line input error", "tfjs_pivot.cli.convert", "convert m.onnx out", InputError("first\nsecond"), 2,
     "error: first"),
    ("Ctrl-C", "tfjs_pivot.cli.convert", "convert m.onnx out", KeyboardInterrupt(), 130, "interrupted"),
    ("SIGTERM", "tfjs_pivot.cli.convert", "convert m.onnx out", Terminated(signal.SIGTERM), 143,
     "terminated by SIGTERM"),
]


@pytest.mark.parametrize(("target", "argv", "error", "status", "line"), [c[1:] for c in FAILURE_CASES],
                         ids=[c[0] for c in FAILURE_CASES])
def test_failures_have_their_own_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str, argv: str,
                                        error: BaseException, status: int, line: str) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(target, _raiser(error))
    result = _cli(argv.split())
    lines = _lines(result.stderr)
    assert result.exit_code == status, result.stderr
    assert len(lines) == 1 and lines[0].startswith(line), lines


@pytest.mark.parametrize("argv", ["--debug convert m.onnx out", "convert --debug m.onnx out",
                                  "convert m.onnx out --debug"])
def test_debug_prints_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: str) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("tfjs_pivot.cli.convert", _raiser(RuntimeError("boom")))
    result = _cli(argv.split())
    assert result.exit_code == 3 and "Traceback (most recent call last)" in result.stderr
    assert _lines(result.stderr)[-1].startswith("internal error: RuntimeError: boom")


@pytest.mark.parametrize(("argv", "rest", "debug"), [
    ("--debug convert a b", "convert a b", True),
    ("convert a --debug b", "convert a b", True),
    ("convert a b -- --debug", "convert a b -- --debug", False),
    ("convert a b", "convert a b", False),
])
def test_take_debug(argv: str, rest: str, debug: bool) -> None:
    assert take_debug(argv.split()) == (rest.split(), debug)


# ----------------------------------------------------------------------------------------------- outputs


def _fake_route(kind: str, output: Path, during: Callable[[Path], None]) -> Callable[..., WriteResult]:
    """A direct route that writes its file into the staging folder, then lets ``during`` act (another run)."""
    name = "model.h5" if kind == "file" else "model.json"

    def route(source: Path, tmp: Path, options: ConvertOptions) -> WriteResult:
        (tmp / name).write_text("ours")
        during(output)
        return WriteResult((name,))
    return route


def _other_run(output: Path) -> None:
    if output.suffix == ".h5":
        output.write_text("theirs")
    else:
        output.mkdir()
        (output / "model.json").write_text("theirs")


def _route_key(kind: str) -> tuple[str, str]:
    return ("onnx", "keras") if kind == "file" else ("onnx", "tfjs_layers_model")


def _argv(kind: str, output: str) -> list[str]:
    return ["convert", "m.onnx", output, "--output-format", "keras" if kind == "file" else "tfjs_layers_model"]


@pytest.mark.parametrize(("kind", "overwrite"), [("dir", False), ("dir", True), ("file", False), ("file", True)])
def test_output_that_appears_meanwhile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str,
                                       overwrite: bool) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    monkeypatch.chdir(tmp_path)
    output = tmp_path / ("m.h5" if kind == "file" else "out")
    monkeypatch.setitem(convert_module.DIRECT_ROUTES, _route_key(kind), _fake_route(kind, output, _other_run))
    result = _cli(_argv(kind, output.name) + (["--overwrite"] if overwrite else []))
    written = output.read_text() if kind == "file" else (output / "model.json").read_text()
    if overwrite:
        assert result.exit_code == 0 and written == "ours", result.stderr
    else:
        assert result.exit_code == 2 and "appeared or was filled while converting" in result.stderr
        assert written == "theirs" and len(_lines(result.stderr)) == 1  # the other run's output is untouched
    assert _hidden(tmp_path) == []


# (case, output kind, raised inside the write, exit status)
FAILED_WRITE_CASES = [
    ("input error, directory", "dir", InputError("broken shard"), 2),
    ("input error, Keras file", "file", InputError("broken shard"), 2),
    ("Ctrl-C, directory", "dir", KeyboardInterrupt(), 130),
    ("SIGTERM, Keras file", "file", Terminated(signal.SIGTERM), 143),
    ("disk full, directory", "dir", OSError(28, "No space left on device"), 2),
]


@pytest.mark.parametrize(("kind", "error", "status"), [c[1:] for c in FAILED_WRITE_CASES],
                         ids=[c[0] for c in FAILED_WRITE_CASES])
def test_failed_write_leaves_no_new_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str,
                                            error: BaseException, status: int) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    (tmp_path / "old").mkdir()
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "old" / "new" / "deeper" / ("m.h5" if kind == "file" else "out")
    monkeypatch.setitem(convert_module.DIRECT_ROUTES, _route_key(kind), _fake_route(kind, output, _raiser(error)))
    result = _cli(_argv(kind, str(output.relative_to(tmp_path))))
    assert result.exit_code == status and len(_lines(result.stderr)) == 1, result.stderr
    assert os.listdir(tmp_path / "old") == []  # "new/deeper" were made for this run, and removed with it


def _big_model(path: Path) -> None:
    """64 MiB of float32 weights: written as 16 KiB shards, long enough to be signalled mid-write."""
    weight = np.random.default_rng(0).standard_normal((16384, 1024)).astype(np.float32)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16384])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1024])
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "big", [x], [y],
                              [numpy_helper.from_array(weight, "w")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


@pytest.fixture(scope="module")
def big_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.onnx"
    _big_model(path)
    return path


@pytest.mark.parametrize(("signum", "status", "line"), [(signal.SIGINT, 130, "interrupted"),
                                                         (signal.SIGTERM, 143, "terminated by SIGTERM")])
def test_signal_mid_write_removes_the_staging_folder(tmp_path: Path, big_model: Path, signum: int, status: int,
                                                     line: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CI", None)
    args = [sys.executable, "-m", "tfjs_pivot.cli", "convert", str(big_model), "new/out", "--weight-shard-size-bytes",
            "16384"]
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (tmp_path / "new").is_dir() or not _hidden(tmp_path / "new"):
        assert proc.poll() is None and time.monotonic() < deadline, "the conversion ended before a staging folder"
        time.sleep(0.01)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == status, stderr
    assert _lines(stderr) == [_lines(stderr)[0]] and _lines(stderr)[0].startswith(line), stderr
    assert not (tmp_path / "new").exists()  # the staging sibling and the folder made for it are gone


# ----------------------------------------------------------------------------------------------- memory budget


def _charging(nbytes: int, seen: list[untrusted.Budget | None]) -> Callable[..., Any]:
    original = OnnxFrontend.load

    def load(self: OnnxFrontend, path: Path, options: Any) -> Any:
        seen.append(untrusted._BUDGET.get())
        untrusted.charge(nbytes, f"{path.name}: a folded tensor")
        return original(self, path, options)
    return load


_BIG = 600 << 20  # over the default budget of a small file (512 MiB + 4 x its size)
# (case, argv, exit status): every command that loads a model runs under the budget; --max-fold-bytes widens it.
BUDGET_CASES = [
    ("convert", "convert m.onnx out", 2),
    ("convert, widened", "convert m.onnx out --max-fold-bytes 1000000000", 0),
    ("audit", "audit m.onnx", 2),
    ("audit, widened", "audit m.onnx --max-fold-bytes 1000000000", 0),
    ("validate", "validate m.onnx graph", 2),
]


@pytest.mark.parametrize(("argv", "status"), [c[1:] for c in BUDGET_CASES], ids=[c[0] for c in BUDGET_CASES])
def test_every_load_runs_under_the_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: str,
                                          status: int) -> None:
    _setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    seen: list[untrusted.Budget | None] = []
    monkeypatch.setattr(OnnxFrontend, "load", _charging(_BIG, seen))
    result = _cli(argv.split())
    assert result.exit_code == status, result.stderr
    assert seen and all(b is not None for b in seen)
    if status == 2:
        assert len(_lines(result.stderr)) == 1 and "over the memory budget" in result.stderr


def test_wizard_estimate_runs_under_the_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    monkeypatch.setattr(OnnxFrontend, "load", _charging(_BIG, []))
    with pytest.raises(InputError, match="over the memory budget"):
        probe_weights(tmp_path / "m.onnx", ConvertOptions(input_format="onnx"))


@pytest.mark.parametrize(("argv", "expected"), [
    ("convert m.onnx out --max-fold-bytes 12345", 12345),
    ("convert m.onnx out --max_fold_bytes=0", 0),
    ("convert m.onnx out", None),
    ("audit m.onnx --max-fold-bytes 777", 777),
])
def test_max_fold_bytes_reaches_optimize(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: str,
                                         expected: int | None) -> None:
    from pivot.passes import optimize

    onnx.save(convnet(), tmp_path / "m.onnx")
    monkeypatch.chdir(tmp_path)
    seen: list[int | None] = []

    def spy(model: Any, target_opset: int = 21, *, max_fold_bytes: int | None = None) -> Any:
        seen.append(max_fold_bytes)
        return optimize(model)
    monkeypatch.setattr(convert_module, "optimize", spy)
    result = _cli(argv.split())
    assert result.exit_code == 0 and seen == [expected], result.stderr


def test_fold_limit_refusal_is_one_line(tmp_path: Path) -> None:
    # Mul(w, w) of a 64 KiB weight folds into 64 KiB: over a 1 KiB limit, the passes refuse and name the node.
    w = numpy_helper.from_array(np.ones(16384, np.float32), "w")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [16384])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [16384])
    nodes = [helper.make_node("Mul", ["w", "w"], ["w2"], name="square"), helper.make_node("Add", ["x", "w2"], ["y"])]
    graph = helper.make_graph(nodes, "g", [x], [y], [w])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "m.onnx")
    for limit, status in (("1024", 2), ("1000000", 0)):
        result = _cli(["convert", str(tmp_path / "m.onnx"), str(tmp_path / f"out{limit}"), "--max-fold-bytes", limit])
        lines = _lines(result.stderr)
        assert result.exit_code == status, result.stderr
        assert status == 0 or (len(lines) == 1 and "square" in lines[0] and "max-fold-bytes" in lines[0]), lines
    assert not (tmp_path / "out1024").exists()


# ----------------------------------------------------------------------------------------------- detection


def _write(path: Path, head: bytes, size: int = 8 << 20) -> Path:
    path.write_bytes(head + np.random.default_rng(1).integers(0, 256, size, dtype=np.uint8).tobytes())
    return path


def _bytes_read() -> int:
    with open("/proc/self/io") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("rchar:"))


# (file name, first bytes, answer: a format name or the start of an InputError; bounded: reads < 128 KiB)
DETECT_CASES = [
    ("junk.bin", b"", "cannot tell the input format", True),
    ("junk.onnx", b"", "onnx", True),
    ("junk.h5", b"\x89HDF\r\n\x1a\n", "keras", True),
    ("junk.keras", b"PK\x03\x04", "keras_keras", True),
    ("junk.zip", b"PK\x05\x06", "cannot tell the input format", True),
    ("junk.pb", b"\n", "tf_frozen_model", True),
    ("model.json", b'{"a":' * 50000, "tfjs_layers_model", False),  # nested past the recursion limit
    ("deep.json", b"[" * 100000, "cannot tell the input format", True),
]


@pytest.mark.parametrize(("name", "head", "answer", "bounded"), DETECT_CASES)
def test_detection_is_bounded_and_raises_only_input_errors(tmp_path: Path, name: str, head: bytes, answer: str,
                                                            bounded: bool) -> None:
    path = _write(tmp_path / name, head, 8 << 20 if bounded else 0)
    before = _bytes_read()
    try:
        got = frontends.detect_format(path)
    except InputError as e:
        got = str(e).removeprefix(f"{path}: ")
    assert got.startswith(answer)
    if bounded:
        assert _bytes_read() - before < 128 << 10


# ----------------------------------------------------------------------------------------------- terminal


def _visible(text: str) -> list[str]:
    """The lines a terminal shows for ``text`` (each carriage return goes back to the start of the line)."""
    shown = []
    for raw in text.split("\n"):
        line = ""
        for part in raw.split("\r"):
            line = part + line[len(part):]
        shown.append(line.rstrip())
    return [s for s in shown if s]


def test_spinner_is_cleared_before_the_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    onnx.save(convnet(), tmp_path / "m.onnx")
    monkeypatch.setattr("tfjs_pivot.progress.is_live", lambda stream: True)

    def slow_failure(output: Path) -> None:
        time.sleep(0.35)  # a few spinner frames
        raise InputError("broken shard")
    monkeypatch.setitem(convert_module.DIRECT_ROUTES, _route_key("dir"), _fake_route("dir", tmp_path, slow_failure))
    result = _cli(["convert", str(tmp_path / "m.onnx"), str(tmp_path / "out"), "--output-format", "tfjs_layers_model"])
    assert "\r" in result.stderr  # the spinner did draw
    assert result.exit_code == 2 and _visible(result.stderr) == ["error: broken shard"], repr(result.stderr)


def test_spinner_stops_quietly_when_the_terminal_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    crashes: list[Any] = []
    monkeypatch.setattr(threading, "excepthook", crashes.append)
    stream = io.StringIO()
    reporter = Reporter(stream, live=True)
    with pytest.raises(ValueError, match="boom"), reporter.stage("writing"):
        time.sleep(0.15)
        stream.close()  # the spinner's next write fails: no traceback from its thread, no hang
        time.sleep(0.15)
        raise ValueError("boom")
    assert crashes == []
