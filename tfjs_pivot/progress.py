"""Progress display for long stages: a spinner on a terminal, timings with --verbose, silence in pipes."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, TextIO

from tfjs_format.summary import human

# Called with the size in bytes of each piece of work done inside a stage (e.g. one shard file written).
Advance = Callable[[int], None]
_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_TICK = 0.1  # seconds between redraws: smooth enough, and cheap


class Progress(Protocol):
    """What ``tfjs_pivot.convert`` and the CLI call at stage boundaries."""

    def stage(self, name: str) -> AbstractContextManager[Advance]:
        """A context manager around one stage; yields a callback to report the work done."""
        ...

    def detail(self, text: str) -> None:
        """A line of detail, shown with --verbose only."""
        ...


class Reporter:
    """Draws a one-line spinner on ``stream`` while a stage runs (``live``); ``verbose`` adds timing lines."""

    def __init__(self, stream: TextIO | None = None, *, live: bool = False, verbose: bool = False) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live, self.verbose = live, verbose
        self.timings: dict[str, float] = {}
        self._lock = threading.Lock()
        self._line = ""  # what the spinner shows now; cleared before any other output

    @contextmanager
    def stage(self, name: str) -> Iterator[Advance]:
        """Time the stage; on a terminal, animate ``name`` with the pieces and bytes reported so far."""
        done = {"pieces": 0, "bytes": 0}

        def advance(nbytes: int) -> None:
            done["pieces"] += 1
            done["bytes"] += nbytes

        start = time.perf_counter()
        stop = threading.Event()
        painter = threading.Thread(target=self._animate, args=(name, done, start, stop), daemon=True)
        if self.live:
            painter.start()
        try:
            yield advance
        finally:
            # Cleared before the exception (if any) reaches the CLI: its error line never shares the spinner's.
            stop.set()
            try:
                if self.live:
                    painter.join()
            finally:
                self._clear()
        elapsed = time.perf_counter() - start
        self.timings[name] = self.timings.get(name, 0.0) + elapsed
        self.detail(f"{name:<11} {elapsed:7.2f} s{_amount(done)}")

    def detail(self, text: str) -> None:
        """Print ``text`` on its own line (--verbose only), above the spinner."""
        if self.verbose:
            with self._lock:
                self._erase()
                self.stream.write(text + "\n")
                self.stream.flush()

    def _animate(self, name: str, done: dict[str, int], start: float, stop: threading.Event) -> None:
        frame = 0
        while not stop.wait(_TICK if frame else 0) and self.live:
            elapsed = time.perf_counter() - start
            self._draw(f"{_FRAMES[frame % len(_FRAMES)]} {name}{_amount(done)}  {elapsed:.1f} s")
            frame += 1

    def _draw(self, line: str) -> None:
        with self._lock:
            try:
                self._erase()
                self.stream.write(line)
                self.stream.flush()
            except (OSError, ValueError):  # the terminal went away (closed, broken pipe): stop animating quietly
                self.live = False
                return
            self._line = line

    def _clear(self) -> None:
        with self._lock, contextlib.suppress(OSError, ValueError):
            self._erase()
            self.stream.flush()

    def _erase(self) -> None:
        if self._line:
            self.stream.write("\r" + " " * len(self._line) + "\r")
            self._line = ""


def _amount(done: dict[str, int]) -> str:
    return f": {done['pieces']} file(s), {human(done['bytes'])}" if done["pieces"] else ""


class Silent:
    """No display at all (library use, --quiet)."""

    @contextmanager
    def stage(self, name: str) -> Iterator[Advance]:
        """Run the stage; nothing is shown."""
        yield lambda nbytes: None

    def detail(self, text: str) -> None:
        """Dropped."""


def is_live(stream: TextIO) -> bool:
    """Whether ``stream`` is an interactive terminal that can show a spinner (not a pipe, CI or a dumb terminal)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb" and not os.environ.get("CI")


def reporter(quiet: bool = False, verbose: bool = False, stream: TextIO | None = None) -> Reporter:
    """The display the CLI uses: spinner on a terminal unless ``quiet``; timing lines when ``verbose``."""
    stream = stream if stream is not None else sys.stderr
    return Reporter(stream, live=not quiet and is_live(stream), verbose=verbose and not quiet)
