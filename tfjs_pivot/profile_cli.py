"""The ``tfjs-pivot profile`` command (imported only when it runs)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pivot.errors import ConversionError
from tfjs_pivot.cli_args import parse_input_shapes
from tfjs_pivot.cli_group import failure_status

_SHAPE_HELP = ("NAME:SIZE,SIZE,...: the shape of the generated input NAME (e.g. pixel_values:1,3,224,224); "
               "needed for each input with a dynamic (-1) size. Repeatable.")


@click.command("profile")
@click.argument("converted", metavar="OUT_DIR", type=click.Path(path_type=Path))
@click.option("--backend", type=click.Choice(["wasm", "cpu"]), default="wasm", show_default=True,
              help="The TensorFlow.js backend to time.")
@click.option("--inputs", type=click.Path(path_type=Path), help=".npz file of input arrays keyed by input name "
              "(default: seeded random data of the signature's shapes).")
@click.option("--input-shape", "--input_shape", "input_shapes", multiple=True, metavar="NAME:SIZES", help=_SHAPE_HELP)
@click.option("--runs", type=click.IntRange(min=1, max=10000), default=10, show_default=True,
              help="Timed runs (the same number again is profiled per kernel).")
@click.option("--warmup", type=click.IntRange(min=1, max=1000), default=2, show_default=True,
              help="Untimed runs first.")
@click.option("--top", type=click.IntRange(min=1), default=15, show_default=True, help="Rows per table (text format).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--source", type=click.Path(path_type=Path),
              help="The model OUT_DIR was converted from: adds the time per source node.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the generated inputs.")
def profile(converted: Path, backend: str, inputs: Path | None, input_shapes: tuple[str, ...], runs: int,
            warmup: int, top: int, fmt: str, source: Path | None, seed: int) -> None:
    """Time a converted graph model in TensorFlow.js per op and per source node."""
    from tfjs_pivot.profile import ProfileOptions
    from tfjs_pivot.profile import profile as run_profile
    from tfjs_pivot.profile_report import render_text

    try:
        opts = ProfileOptions(backend=backend, inputs=inputs,  # type: ignore[arg-type]
                              input_shapes=parse_input_shapes(input_shapes), runs=runs, warmup=warmup, seed=seed,
                              source=source)
        report = run_profile(converted, opts)
    except ConversionError as e:  # one line and status 2, also when the command runs outside the tfjs-pivot group
        sys.exit(failure_status(e))
    click.echo(json.dumps(report, indent=1) if fmt == "json" else render_text(report, top), nl=fmt == "json")
