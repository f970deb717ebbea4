"""The ``tfjs-pivot`` command line, a thin layer over ``pivot.convert``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

import backends
import frontends
from backends.base import BackendOptions
from pivot.convert import ConvertOptions, convert
from pivot.errors import ConversionError, UnsupportedOpsError
from pivot.version import __version__


def _versions() -> str:
    import onnx
    import onnxruntime

    return f"tfjs-pivot {__version__} (onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__})"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", message=_versions())
def main() -> None:
    """Convert models to TensorFlow.js through an ONNX pivot, and check them."""


@main.command("convert")
@click.argument("source", type=click.Path(path_type=Path))
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--input-format", "--input_format", "input_format", type=click.Choice(sorted(frontends.FRONTENDS)),
              help="Source format (default: detected from the path).")
@click.option("--output-format", "--output_format", "output_format", type=click.Choice(sorted(backends.BACKENDS)),
              help="Target format (default: tfjs_graph_model).")
@click.option("--weight-shard-size-bytes", "--weight_shard_size_bytes", "shard_bytes", type=click.IntRange(min=1),
              default=4 * 1024 * 1024, show_default=True, help="Size of each weight shard file.")
@click.option("--overwrite", is_flag=True, help="Replace a non-empty output directory.")
def convert_cmd(source: Path, output: Path, input_format: str | None, output_format: str | None,
                shard_bytes: int, overwrite: bool) -> None:
    """Convert SOURCE into the directory OUTPUT."""
    options = ConvertOptions(input_format=input_format, output_format=output_format, overwrite=overwrite,
                             backend=BackendOptions(shard_bytes=shard_bytes))
    try:
        result = convert(source, output, options)
    except UnsupportedOpsError as e:
        click.echo(f"error: {e.report()}", err=True)
        sys.exit(2)
    except ConversionError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    total = sum(result.timings.values())
    click.echo(f"wrote {result.output} ({result.output_format}, {len(result.files)} files) in {total:.2f} s")


if __name__ == "__main__":
    main()
