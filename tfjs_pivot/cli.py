"""The ``tfjs-pivot`` command line, a thin layer over ``tfjs_pivot.convert``."""

from __future__ import annotations

import importlib.util
import json
import platform
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pivot.errors import ConversionError, InputError, OutputError
from tfjs_pivot.cli_args import LazyChoice, OptionalValueCommand, parse_dims, parse_input_shapes, pin_options
from tfjs_pivot.cli_group import DEBUG_FLAG, LazyCommand, PivotGroup, one_line
from tfjs_pivot.lazy_modules import defer  # called before the conversion stack loads: onnx_ir imports sympy

if TYPE_CHECKING:  # the modules behind these import onnx, onnx_ir and the frontends: loaded by the commands
    from tfjs_pivot.convert import ConvertOptions, ConvertResult
    from tfjs_pivot.progress import Progress
    from tfjs_pivot.validate import ValidateOptions, ValidationReport

_QUANTIZE_HELP = ("Store matching float32 weights as {}: comma-separated shell-style patterns of weight names; "
                  "without a value, all weights.")
# Distributions whose versions --version reports when installed (read from their metadata, never imported).
_PIN_HELP = ("NAME=SIZE: pin the named dynamic dim (ONNX dim_param) NAME of the inputs to SIZE before optimizing "
             "(Shape chains then fold). Repeatable.")
_FRAMEWORKS = ("onnx-ir", "tf2onnx", "tensorflow", "tensorflow-cpu", "tf-keras", "keras", "torch", "jax", "flax",
               "jax2onnx", "questionary")


def version_lines() -> list[str]:
    """tfjs-pivot's version, onnx and onnxruntime, each installed framework, and the pinned TensorFlow.js."""
    from importlib import metadata  # its import costs --help ~10 ms

    from pivot.version import __version__

    lines = [f"tfjs-pivot {__version__}", f"  python         {platform.python_version()}"]
    for dist in ("onnx", "onnxruntime", *_FRAMEWORKS):
        try:
            lines.append(f"  {dist:<14} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            if dist in ("onnx", "onnxruntime"):
                lines.append(f"  {dist:<14} not installed")
    lines.append(f"  {'tensorflow.js':<14} {_tfjs_version()}")
    return lines


def _tfjs_version() -> str:
    """The pinned @tensorflow/tfjs of the Node runtime, and whether ``npm ci`` installed it."""
    runtime = _runtime_dir()
    pinned = json.loads((runtime / "package.json").read_text())["dependencies"]["@tensorflow/tfjs"]
    installed = runtime / "node_modules" / "@tensorflow" / "tfjs" / "package.json"
    state = "installed" if installed.is_file() else "not installed: npm ci --prefix backends/tfjs_runtime"
    return f"{pinned} (Node runtime, {state})"


def _input_formats() -> list[str]:
    defer()
    import frontends

    return frontends.input_formats()


def _output_formats() -> list[str]:
    defer()
    from tfjs_pivot.convert import output_formats

    return output_formats()


def _audit_formats() -> list[str]:
    from tfjs_pivot.audit_render import RENDERERS

    return sorted(RENDERERS)


def _tfjs_backends() -> list[str]:
    defer()
    from backends.tfjs_graph.support import TFJS_BACKENDS

    return list(TFJS_BACKENDS)


def convert(source: Path, output: Path, options: ConvertOptions) -> ConvertResult:
    """``tfjs_pivot.convert.convert``, imported when a command runs (named here so that tests can replace it)."""
    defer()
    from tfjs_pivot.convert import convert as run

    return run(source, output, options)


def validate(source: Path, converted: Path, options: ValidateOptions) -> ValidationReport:
    """``tfjs_pivot.validate.validate``, imported when a command runs (named here so that tests can replace it)."""
    defer()
    from tfjs_pivot.validate import validate as run

    return run(source, converted, options)


def _runtime_dir() -> Path:
    """``backends.tfjs_runtime.RUNTIME_DIR`` found without importing ``backends`` (which loads onnx and numpy)."""
    spec = importlib.util.find_spec("backends")
    roots = list(spec.submodule_search_locations or []) if spec else []
    if not roots:  # an unusual loader: ask the module itself
        from backends.tfjs_runtime import RUNTIME_DIR

        return RUNTIME_DIR
    return Path(roots[0]).resolve() / "tfjs_runtime"


def _print_version(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo("\n".join(version_lines()))
    ctx.exit()


# Commands in their own modules, imported when they run (``--help`` shows the line given here).
_LAZY_COMMANDS = {
    "profile": LazyCommand("tfjs_pivot.profile_cli:profile",
                           "Time a converted graph model in TensorFlow.js per op and per source node."),
}


@click.group(cls=PivotGroup, context_settings={"help_option_names": ["-h", "--help"]}, lazy_commands=_LAZY_COMMANDS,
             epilog="Exit status: 0 done; 1 validate mismatch or audit blocked; 2 bad input, flags or output path "
                    "(one error line); 3 internal error (a bug: rerun with --debug); 130 interrupted, 143 terminated.")
@click.option("--version", "-V", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the versions of tfjs-pivot, onnx, onnxruntime, installed frameworks and TensorFlow.js.")
@click.option(DEBUG_FLAG, is_flag=True, expose_value=False,
              help="Print the traceback of an error (also accepted after the command name).")
def main() -> None:
    """Convert models to TensorFlow.js through an ONNX pivot, and check them."""


Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def _quantize_option(dtype: str) -> Decorator:
    return click.option(f"--quantize-{dtype}", f"--quantize_{dtype}", f"q_{dtype}", metavar="[PATTERNS]",
                        default=None, help=_QUANTIZE_HELP.format(dtype))


def _spellings(name: str) -> tuple[str, ...]:
    """``--a-b`` and the official ``--a_b`` (once when they are the same)."""
    return tuple(dict.fromkeys((f"--{name.replace('_', '-')}", f"--{name}")))


def _bool_option(name: str, dest: str, default: bool, text: str) -> Decorator:
    """An on/off flag in both spellings that also takes a boolean value: ``--x``, ``--no-x``, ``--x=false``."""
    dash = name.replace("_", "-")
    decls = [f"--{dash}/--no-{dash}", *([f"--{name}/--no_{name}"] if name != dash else [])]
    return click.option(*decls, dest, default=default, show_default=True, help=text)


def _value_option(name: str, dest: str, text: str, **kw: Any) -> Decorator:
    return click.option(*_spellings(name), dest, help=text, **kw)


def _max_fold_option() -> Decorator:
    return click.option("--max-fold-bytes", "--max_fold_bytes", "max_fold_bytes", type=click.IntRange(min=0),
                        metavar="N", help="Bytes of constants folding may create in all (default: max(256 MiB, twice "
                        "the weights)); past it the run stops naming the node. Also widens the memory budget by N.")


_CONVERT_OPTIONS: list[Decorator] = [
    _value_option("input_format", "input_format", "Source format (default: detected from the path).",
                  type=LazyChoice(_input_formats)),
    _value_option("output_format", "output_format",
                  "Target format (default: tfjs_graph_model; tfjs_layers_model for Keras; keras for a layers model).",
                  type=LazyChoice(_output_formats)),
    _value_option("signature_name", "signature_name", "SavedModel / TF Hub: the signature (default serving_default)."),
    _value_option("saved_model_tags", "saved_model_tags", "SavedModel: comma-separated MetaGraph tags.",
                  default="serve", show_default=True),
    _value_option("output_node_names", "output_node_names", "Frozen graph: comma-separated output node names."),
    _value_option("weight_shard_size_bytes", "shard_bytes", "Size of each weight shard file.",
                  type=click.IntRange(min=1), default=4 * 1024 * 1024, show_default=True),
    _quantize_option("float16"), _quantize_option("uint8"), _quantize_option("uint16"),
    _value_option("quantization_bytes", "quantization_bytes",
                  "Deprecated: 1 = --quantize-uint8, 2 = --quantize-uint16 (all weights).", type=click.IntRange(1, 2)),
    _value_option("metadata", "metadata", "key:path.json,...: JSON files stored under userDefinedMetadata.",
                  metavar="KEY:PATH,..."),
    _bool_option("strip_debug_ops", "strip_debug_ops", True, "TF: drop Assert, CheckNumerics, Print, ... ops."),
    _bool_option("control_flow_v2", "control_flow_v2", False, "TF: keep functional While/If control flow."),
    _bool_option("use_structured_outputs_names", "structured_outputs", False,
                 "TF: record the signature's output names (userDefinedMetadata.structuredOutputKeys)."),
    _bool_option("split_weights_by_layer", "split", False, "Layers models: one weight group per layer."),
    click.option("--backend", "required_backend", type=LazyChoice(_tfjs_backends), default="wasm",
                 show_default=True, help="Graph models: the tfjs backend that must have a kernel for every op."),
    _bool_option("skip_op_check", "skip_op_check", False,
                 "Write the graph model even when the --backend lacks kernels (the gaps are printed)."),
    _bool_option("experiments", "experiments", False, "Accepted for tensorflowjs_converter scripts; no effect."),
    _bool_option("validate", "check", False,
                 "Afterwards, run `validate` on the written model (wasm); exit 1 (output kept) on mismatch."),
    _bool_option("overwrite", "overwrite", False,
                 "Replace a non-empty output directory or an existing Keras file (never a symbolic link)."),
    _max_fold_option(),
    *pin_options(_PIN_HELP),
    click.option("--quiet", "-q", is_flag=True, help="Print errors only."),
    click.option("--verbose", is_flag=True, help="Print stage timings and details."),
    click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
                 help="Show the versions and exit."),
]


def _with_options(decorators: list[Decorator]) -> Decorator:
    def apply(fn: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn
    return apply


@main.command("convert", cls=OptionalValueCommand)
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
@_with_options(_CONVERT_OPTIONS)
def convert_cmd(source: Path, output: Path, quiet: bool, verbose: bool, check: bool, **flags: Any) -> None:
    """Convert SOURCE into the directory OUTPUT (tensorflowjs_converter's flags and spellings are accepted)."""
    from tfjs_pivot.progress import reporter

    progress = reporter(quiet=quiet, verbose=verbose)
    options = convert_options(flags, progress)
    _warn(_flag_warnings(flags), quiet)
    result = convert(source, output, options)  # errors: one line and a status, by PivotGroup
    _report(result, progress, quiet)
    if check:
        _validate_written(source, result, options, progress, quiet)


def convert_options(flags: dict[str, Any], progress: Progress | None = None) -> ConvertOptions:
    """The ``ConvertOptions`` of the convert command's flags (by their parameter names)."""
    from backends.base import BackendOptions
    from frontends.base import FrontendOptions
    from tfjs_format.quantize import QuantizationSpec
    from tfjs_pivot.convert import ConvertOptions

    spec = QuantizationSpec.from_flags({d: flags[f"q_{d}"] for d in ("float16", "uint8", "uint16")},
                                       flags["quantization_bytes"])
    backend = BackendOptions(shard_bytes=flags["shard_bytes"], quantization=spec, split_weights_by_layer=flags["split"],
                             metadata=parse_metadata(flags["metadata"]),
                             require_backend=None if flags["skip_op_check"] else flags["required_backend"])
    frontend = FrontendOptions(signature_name=flags["signature_name"] or None,
                               saved_model_tags=_names(flags["saved_model_tags"]) or ("serve",),
                               output_node_names=_names(flags["output_node_names"]),
                               strip_debug_ops=flags["strip_debug_ops"], control_flow_v2=flags["control_flow_v2"],
                               structured_outputs_names=flags["structured_outputs"])
    return ConvertOptions(input_format=flags["input_format"], output_format=flags["output_format"],
                          overwrite=flags["overwrite"], frontend=frontend, backend=backend, progress=progress,
                          max_fold_bytes=flags.get("max_fold_bytes"),
                          input_shapes=parse_input_shapes(flags.get("input_shapes", ())),
                          dims=parse_dims(flags.get("dims", ())))


def _names(value: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in (value or "").split(",") if n.strip())


def parse_metadata(value: str | None) -> dict[str, Any]:
    """``key:path.json,...`` -> ``{key: parsed JSON}``; a missing or malformed file is an ``InputError``."""
    out: dict[str, Any] = {}
    for item in filter(None, (i.strip() for i in (value or "").split(","))):
        key, sep, path = item.partition(":")
        if not sep or not key or not path:
            raise InputError(f"--metadata: {item!r} is not KEY:PATH.json")
        out[key] = _metadata_file(key, Path(path))
    return out


def _metadata_file(key: str, path: Path) -> Any:
    try:
        if not stat.S_ISREG(path.stat().st_mode):  # a FIFO or a device would never end
            raise InputError(f"--metadata {key}: {path} is not a regular file")
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise InputError(f"--metadata {key}: cannot read {path}: {e.strerror or e}") from None
    except (ValueError, RecursionError) as e:
        raise InputError(f"--metadata {key}: {path} is not valid JSON ({one_line(str(e))})") from None


def _flag_warnings(flags: dict[str, Any]) -> list[str]:
    warnings = []
    if flags["quantization_bytes"] is not None:
        kind = "uint8" if flags["quantization_bytes"] == 1 else "uint16"
        warnings.append(f"--quantization_bytes is deprecated; use --quantize-{kind}")
    if flags["experiments"]:
        warnings.append("--experiments has no effect in tfjs-pivot (there is no Grappler pass to switch)")
    return warnings


def _warn(warnings: list[str], quiet: bool) -> None:
    for warning in warnings if not quiet else []:
        click.echo(f"warning: {warning}", err=True)


def _validate_written(source: Path, result: ConvertResult, options: ConvertOptions, progress: Progress,
                      quiet: bool) -> None:
    from tfjs_pivot.validate import ValidateOptions

    if result.output_format not in ("tfjs_graph_model", "tfjs_layers_model"):
        click.echo(f"error: --validate checks TensorFlow.js outputs, not {result.output_format}", err=True)
        sys.exit(2)
    try:
        with progress.stage("validating"):
            report = validate(source, result.output, ValidateOptions(
                input_format=result.input_format, frontend=options.frontend, dims=dict(options.dims),
                input_shapes=options.input_shapes))
    except ConversionError as e:
        click.echo(f"error: validation could not run: {e}", err=True)
        sys.exit(2)
    if not quiet or not report.passed:
        _emit_validation(report, None)
    if not report.passed:
        click.echo(f"error: {result.output} was written but does not match the source (kept for inspection)", err=True)
        sys.exit(1)


def _report(result: ConvertResult, progress: Progress, quiet: bool) -> None:
    from tfjs_format.summary import SizeSummary

    sizes = result.stats.get("sizes")
    progress.detail(f"{result.input_format} -> {result.output_format}: {', '.join(result.files)}")
    if result.stats.get("ops"):
        progress.detail("tfjs ops: " + ", ".join(f"{op} x{n}" for op, n in result.stats["ops"].items()))
    if quiet:
        return
    total = sum(result.timings.values())
    click.echo(f"wrote {result.output} ({result.output_format}, {len(result.files)} files) in {total:.2f} s")
    if isinstance(sizes, SizeSummary):
        click.echo(sizes.render())
        _warn(list(sizes.notes), quiet)
    _warn(list(result.stats.get("warnings", [])), quiet)


@main.command("wizard")
@click.option("--dryrun", is_flag=True, help="Print the equivalent convert command only; convert nothing.")
def wizard_cmd(dryrun: bool) -> None:
    """Answer questions about a model: get the convert command, the converted model and a validation."""
    from tfjs_pivot.wizard import run  # the prompt library loads only for the wizard

    sys.exit(run(dryrun))


@main.command("validate")
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("converted", type=click.Path(path_type=Path))
@click.option("--input-format", "--input_format", "input_format", type=LazyChoice(_input_formats),
              help="Source format (default: detected from the path).")
@click.option("--inputs", "inputs", type=click.Path(path_type=Path), help=".npz file of named input arrays.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated inputs.")
@click.option("--samples", type=click.IntRange(min=1), default=1, show_default=True, help="Generated input sets.")
@_with_options(pin_options("Size of a named dynamic dim of the generated inputs (NAME '*' for all; default 1)."))
@click.option("--tfjs-backend", type=click.Choice(["cpu", "wasm"]), default="wasm", show_default=True)
@click.option("--atol", type=float, help="Absolute tolerance (default 1e-5).")
@click.option("--rtol", type=float, help="Tolerance relative to max(1, max |reference|) (default 1e-4; quantized: "
              "float16/uint16 1e-2, uint8 1e-1).")
@click.option("--report", "report_file", type=click.Path(path_type=Path), help="Also write the report as JSON.")
@click.option("--signature-name", "--signature_name", "signature_name", help="SavedModel / TF Hub signature.")
@click.option("--saved-model-tags", "--saved_model_tags", "saved_model_tags", help="SavedModel tags, comma-separated.")
@click.option("--output-node-names", "--output_node_names", "output_node_names",
              help="Frozen graph outputs, comma-separated.")
@_max_fold_option()
def validate_cmd(source: Path, converted: Path, input_format: str | None, inputs: Path | None, seed: int,
                 samples: int, input_shapes: tuple[str, ...], dims: tuple[str, ...], tfjs_backend: str,
                 atol: float | None, rtol: float | None, report_file: Path | None, signature_name: str | None,
                 saved_model_tags: str | None, output_node_names: str | None, max_fold_bytes: int | None) -> None:
    """Check that CONVERTED (a tfjs model directory) computes what SOURCE computes (exit 0 pass, 1 mismatch).

    A model converted with --input-shape / --dim is validated with the same flags (they size the inputs).
    """
    from frontends.base import FrontendOptions
    from tfjs_pivot.progress import reporter
    from tfjs_pivot.validate import ValidateOptions

    frontend = FrontendOptions(signature_name=signature_name, saved_model_tags=_names(saved_model_tags) or ("serve",),
                               output_node_names=_names(output_node_names))
    opts = ValidateOptions(inputs=inputs, seed=seed, samples=samples, dims=parse_dims(dims),
                           input_shapes=parse_input_shapes(input_shapes),
                           tfjs_backend=tfjs_backend,  # type: ignore[arg-type]
                           atol=atol, rtol=rtol, input_format=input_format, frontend=frontend,
                           max_fold_bytes=max_fold_bytes)
    with reporter().stage("validating"):
        report = validate(source, converted, opts)
    _emit_validation(report, report_file)
    sys.exit(0 if report.passed else 1)


def _emit_validation(report: ValidationReport, report_file: Path | None) -> None:
    from tfjs_pivot.validate_render import render_validation

    click.echo(render_validation(report), nl=False)
    if report_file is not None:
        write_report(report_file, json.dumps(report.as_json(), indent=2) + "\n")


def write_report(path: Path, text: str) -> None:
    """Write a report file; an unwritable path is one ``OutputError`` line."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise OutputError(f"{path}: cannot write the report ({e.strerror or type(e).__name__})") from None


@main.command("ops")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable table.")
@click.option("--markdown", is_flag=True, help="Markdown table (docs/supported-ops.md).")
def ops_cmd(as_json: bool, markdown: bool) -> None:
    """Print the supported-ops table: ONNX op, opsets, limits, tfjs ops, backends with kernels."""
    from backends.tfjs_graph import support

    rows = support.support_table()
    if as_json:
        click.echo(json.dumps({"schema": "tfjs-pivot.ops/1", "ops": [r.as_json() for r in rows]}, indent=1))
    elif markdown:
        click.echo(support.render_document(rows), nl=False)
    else:
        click.echo(support.render_text(rows), nl=False)


@main.command("audit")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--input-format", "--input_format", "input_format", type=LazyChoice(_input_formats),
              help="Source format (default: detected from the path).")
@click.option("--backend", "required_backend", type=LazyChoice(_tfjs_backends), default="wasm", show_default=True,
              help="The tfjs backend the model must run on (all four are reported).")
@click.option("--format", "fmt", type=LazyChoice(_audit_formats), default="text", show_default=True)
@click.option("--output", "-o", "out_file", type=click.Path(path_type=Path), help="Write the report to a file.")
@_max_fold_option()
@_with_options(pin_options("NAME=SIZE: audit with the named dynamic dim pinned to SIZE (as convert --dim)."))
def audit_cmd(source: Path, input_format: str | None, required_backend: str, fmt: str, out_file: Path | None,
              max_fold_bytes: int | None, input_shapes: tuple[str, ...], dims: tuple[str, ...]) -> None:
    """Report every node that keeps SOURCE from running in TensorFlow.js (exit 0 runs, 1 blocked, 2 bad input)."""
    from tfjs_pivot.audit import audit
    from tfjs_pivot.convert import ConvertOptions

    options = ConvertOptions(input_format=input_format, max_fold_bytes=max_fold_bytes,
                             input_shapes=parse_input_shapes(input_shapes), dims=parse_dims(dims))
    report = audit(source, options, required_backend)
    from tfjs_pivot.audit_render import RENDERERS

    text = RENDERERS[fmt](report.as_json())
    if out_file is not None:
        write_report(out_file, text)
        click.echo(f"wrote {out_file}")
    else:
        click.echo(text, nl=False)
    sys.exit(report.exit_status)


if __name__ == "__main__":
    main()
