"""Runs the real CLI in a child forked from a pre-imported parent: output files, opened paths, exit status, rusage."""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import io
import os
import resource
import select
import signal
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

TIMEOUT_S = 60.0
# The child may map this much more address space than the parent (RLIMIT_AS): past it, allocation fails.
AS_HEADROOM = 3 << 30
# No output file of a fuzz case may grow past this (a hostile input must not fill the disk).
MAX_FILE = 4 << 30
_IN_ACCESS, _IN_OPEN = 0x1, 0x20


@dataclass(frozen=True)
class RunResult:
    """What one child run did."""

    argv: tuple[str, ...]
    status: int | None  # exit status; None when killed by a signal
    signal: int | None
    timed_out: bool
    maxrss: int  # bytes (ru_maxrss of the child)
    stdout: bytes
    stderr: bytes
    opened: tuple[str, ...]  # absolute paths the child opened (Python audit events)
    canary_touched: bool  # inotify saw a canary opened or read (any library, C included)
    seconds: float


def preimport() -> None:
    """Import the CLI, the frontends and their libraries once, so that each forked case starts fast."""
    import h5py  # noqa: F401
    import onnx  # noqa: F401
    import onnxruntime  # noqa: F401

    import tfjs_pivot.audit
    import tfjs_pivot.cli  # noqa: F401
    from backends import keras_out, onnx_out, tfjs_graph, tfjs_layers  # noqa: F401


def vm_size() -> int:
    """Virtual size of this process in bytes."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


class CanaryWatch:
    """inotify on the canaries: catches an open by any code (libhdf5, mmap), not only Python's."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.fd = -1
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            self.fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
            for path in paths:
                if path.exists():
                    libc.inotify_add_watch(self.fd, os.fsencode(path), _IN_ACCESS | _IN_OPEN)
        except (OSError, AttributeError):
            self.fd = -1  # no inotify: the audit hook still sees Python's opens

    def touched(self) -> bool:
        if self.fd < 0:
            return False
        try:
            return bool(os.read(self.fd, 65536))
        except BlockingIOError:
            return False

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)


def run_child(argv: Sequence[str], cwd: Path, logs: Path, watch: Sequence[Path], timeout: float = TIMEOUT_S,
              target: Callable[[list[str]], int] | None = None) -> RunResult:
    """Fork, run ``tfjs-pivot ARGV`` in ``cwd`` with stdout/stderr/opened paths logged in ``logs``, and wait.

    ``target`` replaces the CLI (the harness's own tests give it misbehaving functions).
    """
    logs.mkdir(parents=True, exist_ok=True)
    limit = vm_size() + AS_HEADROOM
    watcher = CanaryWatch(watch)
    sys.stdout.flush()
    sys.stderr.flush()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(list(argv), cwd, logs, limit, target or invoke)
    try:
        status, usage, timed_out = _wait(pid, timeout)
        touched = watcher.touched()
    finally:
        watcher.close()
    return RunResult(tuple(argv), os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else None,
                     os.WTERMSIG(status) if os.WIFSIGNALED(status) else None, timed_out, usage.ru_maxrss * 1024,
                     _read(logs / "stdout"), _read(logs / "stderr"), _opened(logs / "opened", cwd), touched,
                     time.monotonic() - start)


def _wait(pid: int, timeout: float) -> tuple[int, resource.struct_rusage, bool]:
    pidfd = os.pidfd_open(pid)
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        timed_out = not poller.poll(int(timeout * 1000))
    finally:
        os.close(pidfd)
    if timed_out:
        os.kill(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    return status, usage, timed_out


def _read(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


def _opened(path: Path, cwd: Path) -> tuple[str, ...]:
    names = _read(path).decode("utf-8", "surrogateescape").splitlines()
    return tuple(dict.fromkeys(os.path.join(cwd, n) for n in names))


def _child(argv: list[str], cwd: Path, logs: Path, limit: int, target: Callable[[list[str]], int]) -> NoReturn:
    code = 1
    try:
        os.chdir(cwd)
        _redirect(logs)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE, MAX_FILE))  # past it: SIGXFSZ, a crash
        sys.addaudithook(_recorder(os.open(logs / "opened", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)))
        code = target(argv)
    except BaseException:  # the harness itself failed: say so on the child's stderr
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # exiting anyway
                stream.flush()
        os._exit(code)


def _redirect(logs: Path) -> None:
    for fd, name in ((1, "stdout"), (2, "stderr")):
        new = os.open(logs / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(new, fd)
        os.close(new)
    # Python's own streams: stdout strict, stderr backslashreplace (so an odd character never hides an error).
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", line_buffering=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace",
                                  line_buffering=True)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - a prompt must never wait for the test
    faulthandler.enable(sys.stderr)  # a segfault in a library leaves its Python stack in the case's stderr


def _recorder(fd: int):  # type: ignore[no-untyped-def]
    """An audit hook writing every opened path to ``fd`` at once (a killed child still leaves its log)."""
    def hook(event: str, args: tuple[object, ...]) -> None:
        if event != "open" or not args or isinstance(args[0], int):
            return
        with contextlib.suppress(Exception):  # a hook must never break the code it watches
            os.write(fd, os.fsencode(args[0]).replace(b"\n", b"\\n") + b"\n")  # type: ignore[arg-type]
    return hook


def invoke(argv: list[str]) -> int:
    """Run the click entry point as the ``tfjs-pivot`` script does; returns the exit status."""
    from tfjs_pivot.cli import main

    sys.argv = ["tfjs-pivot", *argv]
    try:
        main(argv, prog_name="tfjs-pivot", standalone_mode=True)
    except SystemExit as e:
        if e.code is None or isinstance(e.code, int):
            return e.code or 0
        print(e.code, file=sys.stderr)
        return 1
    except BaseException:  # what the interpreter does with an uncaught exception
        traceback.print_exc()
        return 1
    return 0


def baseline_rss() -> int:
    """ru_maxrss of a forked child that does nothing: what a case starts from (the parent grows, so measured anew)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_maxrss * 1024
