"""A first read of a model file in a forked, memory-limited child: libhdf5 crashes, hangs and runaways are one line."""

from __future__ import annotations

import faulthandler
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from pivot.errors import InputError
from pivot.untrusted import BUDGET_BASE, BUDGET_FACTOR, input_bytes

try:  # imported here, never in the child: a fork may copy a lock another thread held for an import
    import resource
except ImportError:  # not POSIX: no limits
    resource = None  # type: ignore[assignment]

# How long the first read may take before the file is called a hang (libhdf5 loops forever on some damage):
# CPU seconds (reading stored weights costs little CPU), and wall-clock seconds for reads that stall.
PROBE_CPU_SECONDS = 10
PROBE_CPU_SECONDS_PER_GIB = 10
PROBE_SECONDS = 600
_REPORT_BYTES = 4096  # one line of error; below a pipe's buffer, so the child never blocks writing it
_OK, _REFUSED, _NO_MEMORY, _OTHER = b"K", b"E", b"M", b"X"


def crash_probe(read: Callable[[], object], path: Path, what: str) -> None:
    """Run ``read`` (a reader of ``path``) in a forked child before this process reads the file.

    HDF5's C parser trusts offsets and sizes in the file: one flipped byte can make it read out of bounds
    (SIGSEGV, which no Python exception catches), loop, or allocate gigabytes for a 12 kB file. The child
    runs with an address-space limit of the conversion budget (BUDGET_BASE + BUDGET_FACTOR x the file's
    bytes): a crash, a hang or a runaway allocation there is one line here, and so is the child's own
    one-line refusal, without reading again. Only a clean first read lets the caller read in this process.
    """
    if not hasattr(os, "fork"):  # no fork (Windows): read in this process only
        return
    size = input_bytes(path)
    allowance = BUDGET_BASE + BUDGET_FACTOR * size
    cpu = PROBE_CPU_SECONDS + PROBE_CPU_SECONDS_PER_GIB * size // (1 << 30)
    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the outcome on the pipe and leave without any cleanup, whatever happens
        try:
            os.close(readable)
            os.write(writable, _child(read, allowance, cpu))
        finally:
            os._exit(0)
    os.close(writable)
    try:
        status = _wait(pid, what)
        report = os.read(readable, _REPORT_BYTES + 1)
    finally:
        os.close(readable)
    _judge(status, report, what)


def _child(read: Callable[[], object], allowance: int, cpu: int) -> bytes:
    for signum in (signal.SIGINT, signal.SIGTERM):  # the parent's handlers would raise here; just stop
        signal.signal(signum, signal.SIG_DFL)
    _silence()
    try:
        _limit(allowance, cpu)
        read()
    except InputError as e:
        return _REFUSED + str(e).encode("utf-8", "replace")[:_REPORT_BYTES]
    except MemoryError:
        return _NO_MEMORY
    except BaseException:
        return _OTHER
    return _OK


def _silence() -> None:
    """Crash dumps of the child (faulthandler, libhdf5 diagnostics) are not for the user: the parent says one line."""
    faulthandler.disable()
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)


def _limit(allowance: int, cpu: int) -> None:
    """Cap the child's address space at what it maps now plus ``allowance``, and its CPU time (Linux)."""
    if resource is None:
        return
    try:
        with open("/proc/self/statm") as f:
            mapped = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or mapped + allowance <= hard:
            resource.setrlimit(resource.RLIMIT_AS, (mapped + allowance, hard))
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard == resource.RLIM_INFINITY:  # a forked child starts at 0 CPU s: SIGXCPU at ``cpu``, SIGKILL after
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    except (OSError, ValueError):
        pass


def _judge(status: int, report: bytes, what: str) -> None:
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGXCPU:
        raise InputError(f"{what}: reading this file did not end within its CPU time limit: damaged or hostile "
                         "(refused)")
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        raise InputError(f"{what}: reading this file crashed the HDF5 library or was stopped ({name}): damaged or "
                         "hostile (refused)")
    if report.startswith(_REFUSED):
        raise InputError(report[1:].decode("utf-8", "replace"))
    if report.startswith(_NO_MEMORY):
        raise InputError(f"{what}: reading this file needs more memory than a file of its size may use: damaged or "
                         "hostile (refused)")


def _wait(pid: int, what: str) -> int:
    deadline, delay = time.monotonic() + PROBE_SECONDS, 0.001
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
            if time.monotonic() > deadline:
                raise InputError(f"{what}: reading the file did not end in {PROBE_SECONDS} s: damaged or hostile "
                                 "(refused)")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
    except BaseException:  # a stall, Ctrl-C or SIGTERM here: the child must not outlive the conversion
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
