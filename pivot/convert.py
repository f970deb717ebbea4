"""The Python API: pick a frontend and a backend by name and run the whole pipeline."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import onnx_ir as ir

import backends
import frontends
from backends.base import BackendOptions, WriteResult
from frontends.base import FrontendOptions
from pivot.errors import OutputError, PassError
from pivot.passes import optimize

DEFAULT_OUTPUT = {"onnx": "tfjs_graph_model"}


@dataclass(frozen=True)
class ConvertOptions:
    """Everything ``convert`` needs besides the two paths."""

    input_format: str | None = None
    output_format: str | None = None
    overwrite: bool = False
    frontend: FrontendOptions = field(default_factory=FrontendOptions)
    backend: BackendOptions = field(default_factory=BackendOptions)


@dataclass(frozen=True)
class ConvertResult:
    """What a conversion produced, with timings per stage in seconds."""

    output: Path
    input_format: str
    output_format: str
    files: tuple[str, ...]
    timings: dict[str, float]
    stats: dict[str, Any]


def load_pivot(source: Path, options: ConvertOptions) -> tuple[ir.Model, str]:
    """Run the frontend and the pivot pipeline; returns the optimized model and the format."""
    frontend = frontends.get(options.input_format) if options.input_format else frontends.detect(source)
    model = frontend.load(source, options.frontend)
    try:
        return optimize(model), frontend.name
    except ir.passes.PassError as e:
        raise PassError(f"pivot pipeline failed: {e.__cause__ or e}") from e


def convert(source: Path, output: Path, options: ConvertOptions | None = None) -> ConvertResult:
    """Convert ``source`` into the directory ``output`` (written atomically)."""
    options = options or ConvertOptions()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    _check_output(source, output, options.overwrite)
    model, in_fmt = load_pivot(source, options)
    timings["load+optimize"] = time.perf_counter() - start
    out_fmt = options.output_format or DEFAULT_OUTPUT.get(in_fmt, "tfjs_graph_model")
    backend = backends.get(out_fmt)
    backend_opts = options.backend
    if backend_opts.generated_by == "onnx":
        backend_opts = _with_producer(backend_opts, model)
    start = time.perf_counter()
    with _atomic_dir(output) as tmp:
        written: WriteResult = backend.write(model, tmp, backend_opts)
    timings["write"] = time.perf_counter() - start
    return ConvertResult(output, in_fmt, out_fmt, written.files, timings, written.stats)


def _with_producer(opts: BackendOptions, model: ir.Model) -> BackendOptions:
    producer = " ".join(p for p in (model.producer_name, model.producer_version) if p)
    return replace(opts, generated_by=f"onnx ({producer})" if producer else "onnx")


def _check_output(source: Path, output: Path, overwrite: bool) -> None:
    if output.exists() and not output.is_dir():
        raise OutputError(f"{output}: exists and is not a directory")
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise OutputError(f"{output}: directory is not empty (use --overwrite to replace it)")
    if output.resolve() == source.resolve() or source.resolve() in output.resolve().parents:
        raise OutputError(f"{output}: would overwrite the input")


@contextmanager
def _atomic_dir(output: Path) -> Iterator[Path]:
    """Yield a temporary sibling directory; on success it replaces ``output``, else it vanishes."""
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o755)
        if output.exists():
            shutil.rmtree(output)
        tmp.rename(output)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
