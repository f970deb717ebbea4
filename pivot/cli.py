"""The ``tfjs-pivot`` command line, a thin layer over ``pivot.convert``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

import frontends
from backends.base import BackendOptions
from pivot.cli_args import OptionalValueCommand
from pivot.convert import ConvertOptions, ConvertResult, convert, output_formats
from pivot.errors import ConversionError, UnsupportedOpsError
from pivot.version import __version__
from tfjs_format.quantize import QuantizationSpec
from tfjs_format.summary import SizeSummary

_QUANTIZE_HELP = ("Store matching float32 weights as {}: comma-separated shell-style patterns of weight names; "
                  "without a value, all weights.")


def _versions() -> str:
    import onnx
    import onnxruntime

    return f"tfjs-pivot {__version__} (onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__})"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", message=_versions())
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
@click.option("--overwrite", is_flag=True, help="Replace a non-empty output directory.")
def convert_cmd(source: Path, output: Path, input_format: str | None, output_format: str | None,
                shard_bytes: int, q_float16: str | None, q_uint8: str | None, q_uint16: str | None,
                quantization_bytes: int | None, split: bool, overwrite: bool) -> None:
    """Convert SOURCE into the directory OUTPUT."""
    try:
        spec = QuantizationSpec.from_flags({"float16": q_float16, "uint8": q_uint8, "uint16": q_uint16},
                                           quantization_bytes)
        if quantization_bytes is not None:
            kind = "uint8" if quantization_bytes == 1 else "uint16"
            click.echo(f"warning: --quantization_bytes is deprecated; use --quantize-{kind}", err=True)
        backend = BackendOptions(shard_bytes=shard_bytes, quantization=spec, split_weights_by_layer=split)
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


def _report(result: ConvertResult) -> None:
    total = sum(result.timings.values())
    click.echo(f"wrote {result.output} ({result.output_format}, {len(result.files)} files) in {total:.2f} s")
    sizes = result.stats.get("sizes")
    if isinstance(sizes, SizeSummary):
        click.echo(sizes.render())
        for note in sizes.notes:
            click.echo(f"warning: {note}", err=True)


if __name__ == "__main__":
    main()
