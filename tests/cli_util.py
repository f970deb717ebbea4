"""Running ``tfjs-pivot`` in the test process: in a thread, so a hang fails the test instead of blocking it."""

from __future__ import annotations

import threading

from click.testing import CliRunner, Result

from tfjs_pivot.cli import main


def run_cli(args: list[str], timeout: float = 120) -> Result:
    """``tfjs-pivot ARGS`` in this process, in a thread: a read of a FIFO or a device fails the test, not hangs it."""
    box: dict[str, Result] = {}
    worker = threading.Thread(target=lambda: box.update(r=CliRunner().invoke(main, args)), daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), f"tfjs-pivot {' '.join(args)} blocked"
    return box["r"]


def lines(text: str) -> list[str]:
    """The non-blank lines of ``text``."""
    return [line for line in text.splitlines() if line.strip()]
