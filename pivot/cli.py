"""The ``tfjs-pivot`` command line, a thin layer over ``pivot.convert``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import frontends
from backends.base import BackendOptions
from backends.tfjs_graph.support import TFJS_BACKENDS
from pivot.audit_render import RENDERERS
from pivot.cli_args import OptionalValueCommand
from pivot.convert import ConvertOptions, ConvertResult, convert, output_formats
from pivot.errors import ConversionError, UnsupportedOpsError
from pivot.validate import ValidateOptions, ValidationReport, validate
from pivot.validate_render import render_validation
from pivot.version import __version__
from tfjs_format.quantize import QuantizationSpec
from tfjs_format.summary import SizeSummary

_QUANTIZE_HELP = ("Store matching float32 weights as {}: comma-separated shell-style patterns of weight names; "
                  "without a value, all weights.")


def _print_version(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    # A callback, so that onnxruntime is imported only when the version is asked for.
    if not value or ctx.resilient_parsing:
        return
    import onnx
    import onnxruntime

    click.echo(f"tfjs-pivot {__version__} (onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__})")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", "-V", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
def main() -> None:
    """Convert models to TensorFlow.js through an ONNX pivot, and check them."""


def _quantize_option(dtype: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(f"--quantize-{dtype}", f"--quantize_{dtype}", f"q_{dtype}", metavar="[PATTERNS]",
                        default=None, help=_QUANTIZE_HELP.format(dtype))


@main.command("convert", cls=OptionalValueCommand)
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--input-format", "--input_format", "input_format", type=click.Choice(frontends.input_formats()),
              help="Source format (default: detected from the path).")
@click.option("--output-format", "--output_format", "output_format", type=click.Choice(output_formats()),
              help="Target format (default: tfjs_graph_model; tfjs_layers_model for a layers model).")
@click.option("--weight-shard-size-bytes", "--weight_shard_size_bytes", "shard_bytes", type=click.IntRange(min=1),
              default=4 * 1024 * 1024, show_default=True, help="Size of each weight shard file.")
@_quantize_option("float16")
@_quantize_option("uint8")
@_quantize_option("uint16")
@click.option("--quantization-bytes", "--quantization_bytes", "quantization_bytes", type=click.IntRange(1, 2),
              help="Deprecated: 1 = --quantize-uint8, 2 = --quantize-uint16 (all weights).")
@click.option("--split-weights-by-layer", "--split_weights_by_layer", "split", is_flag=True,
              help="Layers models: one weight group (set of shard files) per layer.")
@click.option("--backend", "required_backend", type=click.Choice(TFJS_BACKENDS), default="wasm", show_default=True,
              help="Graph models: the tfjs backend that must have a kernel for every op (preflight).")
@click.option("--skip-op-check", "--skip_op_check", "skip_op_check", is_flag=True,
              help="Write the graph model even when the --backend lacks kernels (the gaps are printed).")
@click.option("--validate", "check", is_flag=True,
              help="Afterwards, run `validate` on the written model (wasm); exit 1 (output kept) on mismatch.")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty output directory.")
def convert_cmd(source: Path, output: Path, input_format: str | None, output_format: str | None,
                shard_bytes: int, q_float16: str | None, q_uint8: str | None, q_uint16: str | None,
                quantization_bytes: int | None, split: bool, required_backend: str, skip_op_check: bool,
                check: bool, overwrite: bool) -> None:
    """Convert SOURCE into the directory OUTPUT."""
    try:
        spec = QuantizationSpec.from_flags({"float16": q_float16, "uint8": q_uint8, "uint16": q_uint16},
                                           quantization_bytes)
        if quantization_bytes is not None:
            kind = "uint8" if quantization_bytes == 1 else "uint16"
            click.echo(f"warning: --quantization_bytes is deprecated; use --quantize-{kind}", err=True)
        backend = BackendOptions(shard_bytes=shard_bytes, quantization=spec, split_weights_by_layer=split,
                                 require_backend=None if skip_op_check else required_backend)
        options = ConvertOptions(input_format=input_format, output_format=output_format, overwrite=overwrite,
                                 backend=backend)
        result = convert(source, output, options)
    except UnsupportedOpsError as e:
        click.echo(f"error: {e.report()}", err=True)
        sys.exit(2)
    except ConversionError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    _report(result)
    if check:
        _validate_written(source, result)


def _validate_written(source: Path, result: ConvertResult) -> None:
    if result.output_format not in ("tfjs_graph_model", "tfjs_layers_model"):
        click.echo(f"error: --validate checks TensorFlow.js outputs, not {result.output_format}", err=True)
        sys.exit(2)
    try:
        report = validate(source, result.output, ValidateOptions(input_format=result.input_format))
    except ConversionError as e:
        click.echo(f"error: validation could not run: {e}", err=True)
        sys.exit(2)
    _emit_validation(report, None)
    if not report.passed:
        click.echo(f"error: {result.output} was written but does not match the source (kept for inspection)", err=True)
        sys.exit(1)


def _report(result: ConvertResult) -> None:
    total = sum(result.timings.values())
    click.echo(f"wrote {result.output} ({result.output_format}, {len(result.files)} files) in {total:.2f} s")
    sizes = result.stats.get("sizes")
    if isinstance(sizes, SizeSummary):
        click.echo(sizes.render())
        for note in sizes.notes:
            click.echo(f"warning: {note}", err=True)
    for warning in result.stats.get("warnings", []):
        click.echo(f"warning: {warning}", err=True)


@main.command("validate")
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("converted", type=click.Path(path_type=Path))
@click.option("--input-format", "--input_format", "input_format", type=click.Choice(frontends.input_formats()),
              help="Source format (default: detected from the path).")
@click.option("--inputs", "inputs", type=click.Path(path_type=Path), help=".npz file of named input arrays.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated inputs.")
@click.option("--samples", type=click.IntRange(min=1), default=1, show_default=True, help="Generated input sets.")
@click.option("--dim", "dims", multiple=True, metavar="NAME=SIZE",
              help="Size of a dynamic dimension of the generated inputs (NAME '*' for all; default 1).")
@click.option("--tfjs-backend", type=click.Choice(["cpu", "wasm"]), default="wasm", show_default=True)
@click.option("--atol", type=float, help="Absolute tolerance (default 1e-5).")
@click.option("--rtol", type=float, help="Tolerance relative to max(1, max |reference|) (default 1e-4; quantized: "
              "float16/uint16 1e-2, uint8 1e-1).")
@click.option("--report", "report_file", type=click.Path(path_type=Path), help="Also write the report as JSON.")
def validate_cmd(source: Path, converted: Path, input_format: str | None, inputs: Path | None, seed: int,
                 samples: int, dims: tuple[str, ...], tfjs_backend: str, atol: float | None, rtol: float | None,
                 report_file: Path | None) -> None:
    """Check that CONVERTED (a tfjs model directory) computes what SOURCE computes (exit 0 pass, 1 mismatch)."""
    try:
        opts = ValidateOptions(inputs=inputs, seed=seed, samples=samples, dims=_dims(dims),
                               tfjs_backend=tfjs_backend,  # type: ignore[arg-type]
                               atol=atol, rtol=rtol, input_format=input_format)
        report = validate(source, converted, opts)
    except ConversionError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    _emit_validation(report, report_file)
    sys.exit(0 if report.passed else 1)


def _dims(values: tuple[str, ...]) -> dict[str, int]:
    out = {}
    for item in values:
        name, _, size = item.partition("=")
        if not size.isdigit() or not name:
            raise click.BadParameter(f"{item!r}: expected NAME=SIZE", param_hint="--dim")
        out[name] = int(size)
    return out


def _emit_validation(report: ValidationReport, report_file: Path | None) -> None:
    click.echo(render_validation(report), nl=False)
    if report_file is not None:
        report_file.write_text(json.dumps(report.as_json(), indent=2) + "\n")


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
@click.option("--input-format", "--input_format", "input_format", type=click.Choice(frontends.input_formats()),
              help="Source format (default: detected from the path).")
@click.option("--backend", "required_backend", type=click.Choice(TFJS_BACKENDS), default="wasm", show_default=True,
              help="The tfjs backend the model must run on (all four are reported).")
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True)
@click.option("--output", "-o", "out_file", type=click.Path(path_type=Path), help="Write the report to a file.")
def audit_cmd(source: Path, input_format: str | None, required_backend: str, fmt: str, out_file: Path | None) -> None:
    """Report every node that keeps SOURCE from running in TensorFlow.js (exit 0 runs, 1 blocked, 2 bad input)."""
    from pivot.audit import audit

    try:
        report = audit(source, ConvertOptions(input_format=input_format), required_backend)
    except ConversionError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    text = RENDERERS[fmt](report.as_json())
    if out_file is not None:
        out_file.write_text(text)
        click.echo(f"wrote {out_file}")
    else:
        click.echo(text, nl=False)
    sys.exit(report.exit_status)


if __name__ == "__main__":
    main()
