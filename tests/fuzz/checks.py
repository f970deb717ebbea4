"""What every fuzz case must satisfy: exit status, one-line errors, nothing left, nothing read outside, memory."""

from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.case import Case, Workspace
from tests.fuzz.harness import RunResult

REPO = Path(__file__).resolve().parents[2]
MEMORY_MARGIN = 1 << 30  # peak RSS allowed above a do-nothing child
ALLOWED = {"convert": {0, 2}, "audit": {0, 1, 2}}
# Failure kinds, in the order reports list them.
KINDS = ("traceback", "exit_status", "message", "outside_read", "output_left", "memory", "timeout", "crash",
         "accepted", "payload", "harness")
_FRAME = re.compile(r'File "([^"]+)", line (\d+)')
AT = " [at "  # joins a cause and the file:line it was raised at
# The internal-error line's advice: the same in every case, so left out of causes.
_ADVICE = re.compile(r" \(a bug in tfjs-pivot[^)]*\)")


@dataclass(frozen=True)
class Failure:
    """One broken promise of one run."""

    kind: str
    command: str
    detail: str


@dataclass
class Outcome:
    """Everything a case run is judged and reported on."""

    id: str
    category: str
    status: int | None
    peak: int  # ru_maxrss above the do-nothing baseline, bytes
    seconds: float
    failures: list[Failure] = field(default_factory=list)
    cause: str = ""  # the one-line error, or the traceback's last line and where it was raised

    @property
    def kinds(self) -> list[str]:
        return list(dict.fromkeys(f.kind for f in self.failures))


def command_of(run: RunResult) -> str:
    return run.argv[0]


def judge(case: Case, ws: Workspace, run: RunResult, baseline: int, before: set[str] | None) -> list[Failure]:
    """Every failure of one run: ``before`` is the output's listing before the run (None: it did not exist)."""
    cmd = command_of(run)
    out: list[Failure] = []
    add = lambda kind, detail: out.append(Failure(kind, cmd, detail))  # noqa: E731
    text = run.stdout + run.stderr
    if run.timed_out:
        add("timeout", f"killed after {run.seconds:.0f} s")
    elif run.signal is not None:
        add("crash", f"killed by {signal.Signals(run.signal).name}")
    if b"Traceback" in text or b"internal error" in text.lower() or b"Fatal Python error" in text:
        add("traceback", cause_of(run))
    if run.status is not None and run.status not in ALLOWED[cmd]:
        add("exit_status", f"exit {run.status}")
    failed = run.status not in (None, 0) and not (cmd == "audit" and run.status == 1)  # audit 1: "blocked"
    if failed and not any(f.kind == "traceback" for f in out) and not one_line(run.stderr):
        add("message", f"{len(run.stderr.splitlines())} stderr lines")
    if run.maxrss - baseline > MEMORY_MARGIN or b"MemoryError" in text:
        add("memory", f"peak RSS {(run.maxrss - baseline) >> 20} MB above the baseline")
    out += [Failure("outside_read", cmd, d) for d in outside_reads(ws, run)]
    if cmd == "convert":
        out += [Failure(k, cmd, d) for k, d in leftovers(case, ws, run.status, before)]
    return out


def one_line(stderr: bytes) -> bool:
    """One error line after any ``warning:`` lines; a grouped ``error:`` report may go on with indented lines."""
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if not line.startswith("warning:")]
    if not lines or not lines[0].strip():
        return False
    return len(lines) == 1 or (lines[0].startswith("error:") and all(line[:1].isspace() for line in lines[1:]))


def outside_reads(ws: Workspace, run: RunResult) -> list[str]:
    """The canary's bytes in a message or an output file, or a canary (or a device) opened by the child."""
    found = []
    if ws.needle in run.stdout or ws.needle in run.stderr:
        found.append("canary bytes in the messages")
    found += [f"canary bytes in {p.relative_to(ws.root)}" for p in output_files(ws) if contains(p, [ws.needle])]
    targets = {os.path.realpath(p) for p in ws.canaries} | {"/dev/zero", "/dev/urandom", "/dev/random"}
    found += [f"opened {p}" for p in run.opened if os.path.realpath(p) in targets]
    if run.canary_touched:
        found.append("a canary was opened (inotify)")
    return found


def leftovers(case: Case, ws: Workspace, status: int | None, before: set[str] | None) -> list[tuple[str, str]]:
    """A failed run leaves no output (or the old one untouched) and no temporary sibling; payloads never pass."""
    found = []
    temps = [name for name in _names(ws.out.parent) if name.startswith(f".{ws.out.name}.")]
    if temps:
        found.append(("output_left", f"temporary sibling {temps[0]} left"))
    if status != 0 and listing(ws.out) != before:
        found.append(("output_left", f"{ws.out.name} {'left behind' if before is None else 'changed'}"))
    if status == 0 and case.must_refuse:
        found.append(("accepted", "a hostile input converted with exit 0"))
    for p in output_files(ws):
        found += [("payload", f"{b[:24]!r} written to {p.name}") for b in contains(p, ws.forbidden)]
    return found


def _names(folder: Path) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:  # missing, not a folder, a name too long: nothing was left there
        return []


def listing(path: Path) -> set[str] | None:
    """Names and sizes under ``path`` (None when it does not exist or cannot be reached)."""
    try:
        if not os.path.lexists(path):
            return None
        if path.is_symlink() or not path.is_dir():
            return {f"{path.name}:{path.lstat().st_size}"}
        return {f"{p.relative_to(path)}:{p.lstat().st_size}" for p in path.rglob("*")}
    except OSError:
        return None


def contains(path: Path, needles: list[bytes], chunk: int = 16 << 20) -> list[bytes]:
    """The needles found in the file, read in chunks (an output may be far bigger than memory allows)."""
    found: set[bytes] = set()
    overlap = max((len(n) for n in needles), default=1) - 1
    tail = b""
    with open(path, "rb") as f:
        while block := f.read(chunk):
            window = tail + block
            found |= {n for n in needles if n in window}
            tail = window[-overlap:] if overlap else b""
    return [n for n in needles if n in found]


def output_files(ws: Workspace) -> list[Path]:
    """Regular files the run may have written: everything in the case folder but the model, canaries and logs."""
    skip = {ws.model, *ws.canaries, ws.root / "logs"}
    found = []
    for dirpath, dirnames, filenames in os.walk(ws.root):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d not in skip]
        found += [here / f for f in filenames if here / f not in skip and (here / f).is_file()
                  and not (here / f).is_symlink()]
    return found


def cause_of(run: RunResult) -> str:
    """The traceback's last line and the file:line it was raised at, else the first error line."""
    text = run.stderr.decode("utf-8", "replace")
    lines = text.splitlines()
    if "Traceback" in text or "Fatal Python error" in text:
        frames = [(f, n) for f, n in _FRAME.findall(text)]
        where = next((f"{_short(f)}:{n}" for f, n in reversed(frames) if f.startswith(str(REPO))), "")
        where = where or (f"{_short(frames[-1][0])}:{frames[-1][1]}" if frames else "")
        last = next((ln for ln in reversed(lines) if ln.strip() and not ln.startswith(" ")), "")
        return f"{last.strip()[:200]}{AT}{where}]"
    errors = [_ADVICE.sub("", ln) for ln in lines if not ln.startswith("warning:")]
    return errors[0][:200] if errors else ""


def _short(path: str) -> str:
    return path[len(str(REPO)) + 1:] if path.startswith(str(REPO)) else path.rsplit("site-packages/", 1)[-1]
