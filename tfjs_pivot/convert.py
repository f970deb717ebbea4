"""The Python API: pick a frontend and a backend by name and run the whole pipeline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import onnx_ir as ir

import backends
import frontends
from backends import tfjs_layers
from backends.base import BackendOptions, WriteResult
from frontends.base import FrontendOptions
from pivot.errors import InputError, OutputError
from pivot.passes import optimize
from pivot.passes.pin import Pin, PinDimsPass
from pivot.untrusted import BUDGET_BASE, BUDGET_FACTOR, Budget, allocation_budget, input_bytes
from tfjs_format.keras_config import refuse_code
from tfjs_format.layers_model import LayersModel
from tfjs_format.weights import SHARD_WRITTEN
from tfjs_pivot import routes as layer_routes
from tfjs_pivot.outputs import KERAS_SUFFIXES, check_output, staged_dir, staged_file
from tfjs_pivot.progress import Progress, Silent

# As the official converter: Keras files become layers models, layers models become Keras HDF5.
DEFAULT_OUTPUT = {"onnx": "tfjs_graph_model", "keras": "tfjs_layers_model", "keras_keras": "tfjs_layers_model",
                  "tfjs_layers_model": "keras"}


@dataclass(frozen=True)
class ConvertOptions:
    """Everything ``convert`` needs besides the two paths."""

    input_format: str | None = None
    output_format: str | None = None
    overwrite: bool = False
    frontend: FrontendOptions = field(default_factory=FrontendOptions)
    backend: BackendOptions = field(default_factory=BackendOptions)
    # Told where each stage starts and ends (spinner, --verbose timings); None shows nothing.
    progress: Progress | None = field(default=None, compare=False, repr=False)
    # Bytes of constants folding may create in all (None: the passes' default); also widens the memory budget.
    max_fold_bytes: int | None = None
    # Pinned input dims (--input-shape NAME:1,3,640,640, -1 keeps a dim; --dim NAME=SIZE for a named dim).
    input_shapes: Mapping[str, Sequence[int]] = field(default_factory=dict)
    dims: Mapping[str, int] = field(default_factory=dict)

    @property
    def pin(self) -> Pin:
        """The dims to pin before the pivot pipeline (empty: none)."""
        return Pin(self.input_shapes, self.dims)

    @property
    def reporter(self) -> Progress:
        """``progress``, or a display that shows nothing."""
        return self.progress if self.progress is not None else Silent()


@dataclass(frozen=True)
class ConvertResult:
    """What a conversion produced, with timings per stage in seconds."""

    output: Path
    input_format: str
    output_format: str
    files: tuple[str, ...]
    timings: dict[str, float]
    stats: dict[str, Any]


# A direct route writes ``output`` from ``source`` without the ONNX pivot: (source, out_dir, options) -> result.
Route = Callable[[Path, Path, "ConvertOptions"], WriteResult]


def _layers_to_layers(source: Path, out_dir: Path, options: ConvertOptions) -> WriteResult:
    """Re-shard / re-quantize a layers model; its topology is copied, never interpreted, and never carries code."""
    with LayersModel(source) as model:
        refuse_code(model.doc.get("modelTopology"), "layers model")
        meta = options.backend.metadata
        doc = {**model.doc, "userDefinedMetadata": meta} if meta else model.doc
        return tfjs_layers.write_layers(doc, model, out_dir, options.backend)


DIRECT_ROUTES: dict[tuple[str, str], Route] = {
    ("tfjs_layers_model", tfjs_layers.NAME): _layers_to_layers,
    **layer_routes.ROUTES,
}
# Options that only some outputs read: a flag that would be ignored is an error instead.
_ONLY_FOR = {"split_weights_by_layer": ("--split-weights-by-layer", {tfjs_layers.NAME}),
             "quantization": ("--quantize-*", {tfjs_layers.NAME, "tfjs_graph_model"}),
             "metadata": ("--metadata", {tfjs_layers.NAME, "tfjs_graph_model"})}
# CLI spelling of each FrontendOptions field, for the message when an input does not read it.
_FRONTEND_FLAGS = {"signature_name": "--signature-name", "saved_model_tags": "--saved-model-tags",
                   "output_node_names": "--output-node-names", "strip_debug_ops": "--strip-debug-ops",
                   "control_flow_v2": "--control-flow-v2", "structured_outputs_names": "--use-structured-outputs-names"}


def routes() -> list[tuple[str, str]]:
    """Every (input format, output format) pair: pivot frontends x pivot backends, plus the direct routes."""
    pivot = {(i, o) for i in frontends.FRONTENDS for o in backends.BACKENDS}
    return sorted(pivot | set(DIRECT_ROUTES))


def output_formats() -> list[str]:
    """Every output format name."""
    return sorted({o for _, o in routes()})


def input_budget(source: Path, max_fold_bytes: int | None = None) -> AbstractContextManager[Budget]:
    """The allocation budget of one run on ``source`` (``pivot.untrusted``), widened by ``max_fold_bytes``."""
    nbytes = input_bytes(source)
    limit = None if max_fold_bytes is None else BUDGET_BASE + BUDGET_FACTOR * nbytes + max_fold_bytes
    return allocation_budget(nbytes, limit)


def load_pivot(source: Path, options: ConvertOptions) -> tuple[ir.Model, str]:
    """Run the frontend and the pivot pipeline; returns the optimized model and the format.

    The caller sets the allocation budget (``input_budget``) around this and whatever else reads the input.
    """
    if options.input_format:
        frontends.check_source(source, options.input_format)
    frontend = frontends.get(options.input_format) if options.input_format else frontends.detect(source)
    with options.reporter.stage("loading"):
        model = frontend.load(source, options.frontend)
    return _optimize(model, options), frontend.name


def _optimize(model: ir.Model, options: ConvertOptions) -> ir.Model:
    with options.reporter.stage("optimizing"):
        # Before any inference and folding: pinned sizes then fold Shape chains as static ones do.
        PinDimsPass(options.pin)(model)
        return optimize(model, max_fold_bytes=options.max_fold_bytes)


def convert(source: Path, output: Path, options: ConvertOptions | None = None) -> ConvertResult:
    """Convert ``source`` into the directory ``output`` (written atomically)."""
    options = options or ConvertOptions()
    frontends.check_source(source, options.input_format)
    check_output(output, options.overwrite, source)
    in_fmt = options.input_format or frontends.detect_format(source)
    out_fmt = options.output_format or DEFAULT_OUTPUT.get(in_fmt, "tfjs_graph_model")
    _check_route(in_fmt, out_fmt, options.backend)
    ignored = _ignored_source_options(in_fmt, options.frontend)
    route = DIRECT_ROUTES.get((in_fmt, out_fmt))
    if route is not None and options.pin:
        raise InputError(f"--input-shape and --dim apply to conversions through the ONNX pivot, not {in_fmt} -> "
                         f"{out_fmt}")
    with input_budget(source, options.max_fold_bytes):
        if route is not None:
            result = _convert_direct(route, source, output, options, (in_fmt, out_fmt))
        else:
            result = _convert_pivot(source, output, replace(options, input_format=in_fmt), out_fmt)
    result.stats.setdefault("warnings", []).extend(ignored)
    return result


def _convert_direct(route: Route, source: Path, output: Path, options: ConvertOptions,
                    formats: tuple[str, str]) -> ConvertResult:
    start = time.perf_counter()
    file_name = layer_routes.KERAS_FILE_NAMES.get(formats[1])
    with _writing(options.reporter):
        if file_name is not None and output.suffix.lower() in KERAS_SUFFIXES:
            written = _write_single_file(route, source, output, options, file_name)
        else:
            with staged_dir(output, options.overwrite) as tmp:
                written = route(source, tmp, options)
    timings = {"write": time.perf_counter() - start}
    return ConvertResult(output, *formats, written.files, timings, written.stats)


def _convert_pivot(source: Path, output: Path, options: ConvertOptions, out_fmt: str) -> ConvertResult:
    start = time.perf_counter()
    model, in_fmt = load_pivot(source, options)
    return _write_pivot(model, output, options, (in_fmt, out_fmt), {"load+optimize": time.perf_counter() - start})


def convert_model(model: ir.Model, output: Path, options: ConvertOptions | None = None) -> ConvertResult:
    """Optimize an in-memory ONNX model (e.g. lowered by ``convert_jax``) and write it into ``output`` atomically.

    ``options.input_format`` only labels the result (default ``onnx``); the model is taken over, not copied.
    """
    options = options or ConvertOptions()
    out_fmt = options.output_format or "tfjs_graph_model"
    _check_route("onnx", out_fmt, options.backend)
    check_output(output, overwrite=True)  # links, names, permissions; then emptiness, in the API's own words
    if output.exists() and (not output.is_dir() or (any(output.iterdir()) and not options.overwrite)):
        raise OutputError(f"{output}: exists and is not an empty directory (use overwrite to replace it)")
    start = time.perf_counter()
    model = _optimize(model, options)
    return _write_pivot(model, output, options, (options.input_format or "onnx", out_fmt),
                        {"optimize": time.perf_counter() - start})


def _write_pivot(model: ir.Model, output: Path, options: ConvertOptions, formats: tuple[str, str],
                 timings: dict[str, float]) -> ConvertResult:
    backend_opts = options.backend
    if backend_opts.generated_by == "onnx":
        backend_opts = _with_producer(backend_opts, model)
    start = time.perf_counter()
    with _writing(options.reporter), staged_dir(output, options.overwrite) as tmp:
        written: WriteResult = backends.get(formats[1]).write(model, tmp, backend_opts)
    timings["write"] = time.perf_counter() - start
    return ConvertResult(output, *formats, written.files, timings, written.stats)


def _write_single_file(route: Route, source: Path, output: Path, options: ConvertOptions, name: str) -> WriteResult:
    """A Keras output given as a file path (as the official CLI takes it): written beside it, then moved."""
    if output.is_dir() and not output.is_symlink():
        raise OutputError(f"{output}: is a directory; a Keras file output needs a file name")
    with staged_file(output, name, options.overwrite) as tmp:
        written = route(source, tmp, options)
    return WriteResult((output.name,), written.stats)


def _check_route(in_fmt: str, out_fmt: str, opts: BackendOptions) -> None:
    if (in_fmt, out_fmt) not in routes():
        known = ", ".join(f"{i} -> {o}" for i, o in routes())
        raise InputError(f"no conversion from {in_fmt} to {out_fmt} (available: {known})")
    for attr, (flag, outputs) in _ONLY_FOR.items():
        if getattr(opts, attr) and out_fmt not in outputs:
            raise InputError(f"{flag} applies to {' and '.join(sorted(outputs))} output only (output is {out_fmt})")


def _ignored_source_options(in_fmt: str, opts: FrontendOptions) -> list[str]:
    """Warnings for source options set to a non-default value that this input does not read.

    Not errors: scripts written for tensorflowjs_converter pass such flags, and it ignores them.
    """
    reads: frozenset[str] = getattr(frontends.FRONTENDS.get(in_fmt), "options", frozenset())
    defaults = FrontendOptions()
    return [f"{flag} is ignored: only {', '.join(_readers(attr))} input reads it (input is {in_fmt})"
            for attr, flag in _FRONTEND_FLAGS.items()
            if getattr(opts, attr) != getattr(defaults, attr) and attr not in reads]


def _readers(attr: str) -> list[str]:
    return sorted(n for n, f in frontends.FRONTENDS.items() if attr in getattr(f, "options", ()))


@contextmanager
def _writing(progress: Progress) -> Iterator[None]:
    """The "writing" stage, told about each shard file as the weight writer flushes it."""
    with progress.stage("writing") as advance:
        token = SHARD_WRITTEN.set(advance)
        try:
            yield
        finally:
            SHARD_WRITTEN.reset(token)


def _with_producer(opts: BackendOptions, model: ir.Model) -> BackendOptions:
    producer = " ".join(p for p in (model.producer_name, model.producer_version) if p)
    return replace(opts, generated_by=f"onnx ({producer})" if producer else "onnx")
