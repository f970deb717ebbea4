"""The wizard's answers, and the ``tfjs-pivot convert`` command line they stand for."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from frontends.base import FrontendOptions
from tfjs_format.weights import DEFAULT_SHARD_BYTES


@dataclass
class Answers:
    """Everything the wizard asked; defaults are the convert command's own."""

    source: Path
    input_format: str
    detected_format: str
    output_format: str = "tfjs_graph_model"
    default_output_format: str = "tfjs_graph_model"
    output: Path | None = None
    signature_name: str | None = None
    saved_model_tags: tuple[str, ...] = ("serve",)
    output_node_names: tuple[str, ...] = ()
    strip_debug_ops: bool = True
    control_flow_v2: bool = False
    structured_outputs: bool = False
    quantize: str | None = None  # storage dtype, None: float32
    patterns: tuple[str, ...] = ()  # weight-name patterns; empty: every float32 weight
    shard_bytes: int = DEFAULT_SHARD_BYTES
    split_weights_by_layer: bool = False
    overwrite: bool = False
    dims: dict[str, int] = field(default_factory=dict)  # pinned dynamic dims (--dim NAME=SIZE)


def convert_argv(a: Answers) -> list[str]:
    """The arguments of ``tfjs-pivot`` (from ``convert`` on) that convert as answered; defaults are left out."""
    assert a.output is not None
    argv = ["convert", str(a.source), str(a.output)]
    if a.input_format != a.detected_format:
        argv += ["--input-format", a.input_format]
    if a.output_format != a.default_output_format:
        argv += ["--output-format", a.output_format]
    argv += _source_flags(a)
    argv += dim_flags(a)
    if a.quantize:
        argv += [f"--quantize-{a.quantize}", *([",".join(a.patterns)] if a.patterns else [])]
    if a.shard_bytes != DEFAULT_SHARD_BYTES:
        argv += ["--weight-shard-size-bytes", str(a.shard_bytes)]
    if a.split_weights_by_layer:
        argv.append("--split-weights-by-layer")
    if a.overwrite:
        argv.append("--overwrite")
    return argv


def dim_flags(a: Answers) -> list[str]:
    """``--dim NAME=SIZE`` per pinned dim (convert and validate take the same)."""
    return [f for name, size in a.dims.items() for f in ("--dim", f"{name}={size}")]


def _source_flags(a: Answers) -> list[str]:
    defaults = FrontendOptions()
    flags = []
    if a.signature_name:
        flags += ["--signature-name", a.signature_name]
    if a.saved_model_tags != defaults.saved_model_tags:
        flags += ["--saved-model-tags", ",".join(a.saved_model_tags)]
    if a.output_node_names:
        flags += ["--output-node-names", ",".join(a.output_node_names)]
    if a.strip_debug_ops != defaults.strip_debug_ops:
        flags.append(f"--strip-debug-ops={str(a.strip_debug_ops).lower()}")
    if a.control_flow_v2 != defaults.control_flow_v2:
        flags.append(f"--control-flow-v2={str(a.control_flow_v2).lower()}")
    if a.structured_outputs != defaults.structured_outputs_names:
        flags.append(f"--use-structured-outputs-names={str(a.structured_outputs).lower()}")
    return flags


def command_line(argv: list[str]) -> str:
    """``tfjs-pivot ...`` quoted for a POSIX shell (paths with spaces, patterns with ``*``)."""
    return shlex.join(["tfjs-pivot", *argv])
