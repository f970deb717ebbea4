"""CLI start-up: wall time of ``--version``, ``--help`` and a conversion of the small example, in fresh processes.

Usage:
    python scripts/bench_startup.py [--reps 7] [--tree LABEL=DIR[:DIR...]] ...

Each command runs ``--reps`` times, interleaved (one of each per round, so that a burst of load hits all
alike), through ``python -m tfjs_pivot.cli`` and through the installed ``tfjs-pivot`` console script when
there is one next to the interpreter. Each ``--tree`` (default: this checkout) is a checkout to run, e.g. a
pristine ``git archive`` copy, put first on PYTHONPATH after the extra directories that follow it (e.g. one
holding another ml_dtypes: ``--tree before=/tmp/pristine:/tmp/ml_dtypes07``); trees are interleaved too, so
a before/after comparison sees the same load. Prints a markdown table of median and minimum seconds, then per
tree the 10 imports with the largest cumulative time of ``--version`` (``python -X importtime``).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "tiny_convnet.onnx"
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)")


def launchers() -> dict[str, list[str]]:
    """How to start the CLI: the module, and the console script when installed beside this interpreter."""
    out = {"python -m tfjs_pivot.cli": [sys.executable, "-m", "tfjs_pivot.cli"]}
    script = Path(sys.executable).parent / ("tfjs-pivot.exe" if os.name == "nt" else "tfjs-pivot")
    if script.is_file():  # not the pyenv shim on PATH: it adds a shell start of its own
        out["tfjs-pivot"] = [str(script)]
    return out


def commands(out_dir: Path) -> dict[str, list[str]]:
    """The timed command lines (after the launcher)."""
    return {"--version": ["--version"], "--help": ["--help"],
            f"convert {EXAMPLE.name}": ["convert", str(EXAMPLE), str(out_dir), "--overwrite"]}


def environment(spec: str) -> tuple[str, dict[str, str]]:
    """``LABEL=TREE[:EXTRA...]`` -> the label, and this environment with the extras, then the tree, first."""
    label, _, dirs = spec.rpartition("=")
    tree, *extra = [str(Path(d).resolve()) for d in dirs.split(os.pathsep)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*extra, tree, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))])
    return label or tree, env


def run_once(argv: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one run; a failing run stops the benchmark (its time would mean nothing)."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[-400:]}")
    return elapsed


Case = tuple[str, str, str]  # tree label, launcher, command


def time_all(reps: int, envs: dict[str, dict[str, str]], out_dir: Path) -> dict[Case, list[float]]:
    """Wall times per (tree, launcher, command), the runs interleaved round by round."""
    cases = [((tree, ln, cn), [*la, *ca], env) for tree, env in envs.items() for ln, la in launchers().items()
             for cn, ca in commands(out_dir).items()]
    bare = [sys.executable, "-c", "pass"]  # the floor: interpreter and site start-up, no tfjs-pivot
    cases.append((("-", "python -c pass", "(interpreter start only)"), bare, dict(os.environ)))
    times: dict[Case, list[float]] = {case: [] for case, _, _ in cases}
    for _, argv, env in cases:  # one warm-up each: the first run also fills the page cache and .pyc files
        run_once(argv, env)
    for _ in range(reps):
        for case, argv, env in cases:
            times[case].append(run_once(argv, env))
    return times


def top_imports(env: dict[str, str], n: int = 10) -> list[tuple[str, float, float]]:
    """The ``n`` imports of ``--version`` with the largest cumulative time: (module, self ms, cumulative ms)."""
    argv = [sys.executable, "-X", "importtime", "-m", "tfjs_pivot.cli", "--version"]
    done = subprocess.run(argv, env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True, check=True)
    rows = [(m[3], int(m[1]) / 1000, int(m[2]) / 1000) for m in map(_IMPORT_LINE.match, done.stderr.splitlines())
            if m]
    return sorted(rows, key=lambda r: r[2], reverse=True)[:n]


def machine() -> str:
    """CPU model, cores, Python and the load average, for the table's caption."""
    cpu = platform.processor() or platform.machine()
    info = Path("/proc/cpuinfo")
    if info.is_file():
        names = [line.split(":", 1)[1].strip() for line in info.read_text().splitlines()
                 if line.startswith("model name")]
        cpu = names[0] if names else cpu
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, load average {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="runs per command (after one warm-up run)")
    parser.add_argument("--tree", action="append", metavar="LABEL=DIR[:DIR...]",
                        help="a checkout to run, then directories to put before it on PYTHONPATH (repeatable)")
    args = parser.parse_args()
    envs = dict(environment(spec) for spec in args.tree or [f"this checkout={ROOT}"])
    with tempfile.TemporaryDirectory() as tmp:
        times = time_all(args.reps, envs, Path(tmp) / "out")
    print(f"{machine()}; {args.reps} runs each (after one warm-up)\n")
    print("| tree | launcher | command | median s | min s |\n|---|---|---|---|---|")
    for (tree, ln, cn), values in times.items():
        print(f"| {tree} | `{ln}` | `{cn}` | {statistics.median(values):.3f} | {min(values):.3f} |")
    for tree, env in envs.items():
        print(f"\nTop imports of `--version`, {tree} (python -X importtime, one run):\n")
        print("| module | self ms | cumulative ms |\n|---|---|---|")
        for name, own, cumulative in top_imports(env):
            print(f"| `{name}` | {own:.1f} | {cumulative:.1f} |")


if __name__ == "__main__":
    main()
