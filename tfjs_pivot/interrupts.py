"""Signals during a run: SIGINT, SIGTERM and SIGHUP unwind as exceptions, held back while outputs are committed."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# The signals that end a run: each unwinds the stack so that temporary outputs are removed on the way out.
_STOPPING = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived. A BaseException, as KeyboardInterrupt: no ``except Exception`` swallows it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"terminated by {signal.Signals(signum).name}")

    @property
    def exit_status(self) -> int:
        """The shell's convention: 128 + the signal number (143 for SIGTERM)."""
        return 128 + self.signum


class _State:
    """How deep inside ``held`` the main thread is, and the signals that arrived meanwhile."""

    depth = 0
    pending: list[int] = []


def _raise_for(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


def _handler(signum: int, _frame: FrameType | None) -> None:
    if _State.depth > 0:
        _State.pending.append(signum)
        return
    _raise_for(signum)


@contextmanager
def handled_signals() -> Iterator[None]:
    """For the duration of a run: the stopping signals raise (KeyboardInterrupt or ``Terminated``).

    Python's default SIGTERM kills the process where it stands, leaving the temporary output behind; raising
    instead runs every ``finally`` on the way out. Signals the parent set to be ignored stay ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in _STOPPING:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, _handler)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def held() -> Iterator[None]:
    """Signals arriving inside are raised when the block ends: a commit or a clean-up runs to its end.

    Only the handlers of ``handled_signals`` hold back; without them (library use) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():  # signal handlers run in the main thread only
        yield
        return
    _State.depth += 1
    try:
        yield
    finally:
        _State.depth -= 1
        if _State.depth == 0 and _State.pending:
            signum = _State.pending[0]
            _State.pending.clear()
            _raise_for(signum)
