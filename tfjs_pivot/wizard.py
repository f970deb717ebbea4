"""``tfjs-pivot wizard``: asks about a model, prints the equivalent ``convert`` command, converts and validates."""

from __future__ import annotations

import sys
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import click
import questionary
from questionary import Choice

import frontends
from frontends.base import FrontendOptions
from pivot.errors import ConversionError
from tfjs_format.summary import human
from tfjs_pivot.cli_group import failure_status, one_line
from tfjs_pivot.convert import DEFAULT_OUTPUT, DIRECT_ROUTES, ConvertOptions, routes
from tfjs_pivot.outputs import check_output
from tfjs_pivot.progress import reporter
from tfjs_pivot.wizard_answers import Answers, command_line, convert_argv, dim_flags
from tfjs_pivot.wizard_model import (
    WeightInfo,
    dynamic_dims,
    graph_outputs,
    probe_weights,
    saved_model_graphs,
    weight_groups,
)

TFJS_OUTPUTS = ("tfjs_graph_model", "tfjs_layers_model")
_SAVED_MODELS = ("tf_saved_model", "tf_hub", "keras_saved_model")
_TF_INPUTS = (*_SAVED_MODELS, "tf_frozen_model")
_OUTPUT_NOTES = {
    "tfjs_graph_model": "tf.loadGraphModel: inference only, fused ops, the fastest",
    "tfjs_layers_model": "tf.loadLayersModel: a Keras model in the browser, can be trained further",
    "keras": "Keras HDF5 file (model.h5)",
    "keras_keras": "Keras 3 archive (model.keras)",
    "onnx": "the optimized ONNX pivot model",
}
# (storage, one line on what it costs): sizes are added from the model itself.
_QUANT_NOTES = (
    (None, "float32, exact: no accuracy cost"),
    ("float16", "half size; about 3 significant digits, rarely a visible accuracy change"),
    ("uint16", "half size; affine 16-bit per tensor, error <= range/131070"),
    ("uint8", "quarter size; affine 8-bit per tensor, error <= range/510: check with validate"),
)


class Cancelled(Exception):
    """The user left a prompt (Ctrl-C or end of input)."""


def ask(question: questionary.Question) -> Any:
    """The answer, or ``Cancelled`` on Ctrl-C / end of input (questionary would print and return None)."""
    try:
        answer = question.unsafe_ask()
    except (KeyboardInterrupt, EOFError) as e:
        raise Cancelled from e
    if answer is None:
        raise Cancelled
    return answer


def say(text: str) -> None:
    """A note between prompts."""
    click.echo(f"  {text}")


def run(dryrun: bool) -> int:
    """The whole session; returns the exit status."""
    if not sys.stdin.isatty():
        click.echo("error: the wizard needs a terminal; use `tfjs-pivot convert` in scripts", err=True)
        return 2
    try:
        answers = ask_all()
    except (Cancelled, KeyboardInterrupt):
        click.echo("\nwizard cancelled: nothing was written", err=True)
        return 130
    except ConversionError as e:
        return failure_status(e)  # one line (a grouped report for unsupported ops), status 2
    argv = convert_argv(answers)
    click.echo("\nEquivalent command:\n  " + command_line(argv) + "\n")
    if dryrun:
        return 0
    status = _run_cli(argv)
    if status == 0 and answers.output_format in TFJS_OUTPUTS and _offer_validate():
        status = _run_cli(["validate", str(answers.source), str(answers.output), "--input-format",
                           answers.input_format, *dim_flags(answers)])
    return status


def _offer_validate() -> bool:
    try:
        return bool(ask(questionary.confirm("Check it now in TensorFlow.js against the source (validate)?",
                                            default=True)))
    except Cancelled:
        return False


def _run_cli(argv: list[str]) -> int:
    """Run ``tfjs-pivot ARGV`` in this process: exactly the command that was printed."""
    from tfjs_pivot.cli import main

    try:  # the group prints every error as the command line would, and raises SystemExit for a failure
        main.main(argv, prog_name="tfjs-pivot", standalone_mode=False)
    except SystemExit as e:
        return int(e.code or 0)
    return 0


def ask_all() -> Answers:
    """Every question, in order; raises ``Cancelled`` when the user leaves."""
    source, detected = _ask_source()
    in_fmt = _ask_input_format(detected)
    answers = Answers(source, in_fmt, detected, default_output_format=DEFAULT_OUTPUT.get(in_fmt, "tfjs_graph_model"))
    _ask_source_options(answers)
    answers.output_format = _ask_output_format(answers)
    if (answers.input_format, answers.output_format) not in DIRECT_ROUTES:
        answers.dims = _ask_dims(answers)
    if answers.output_format in TFJS_OUTPUTS:
        _ask_weights(answers, _probe(answers))
    answers.output, answers.overwrite = _ask_output(answers)
    return answers


def _ask_source() -> tuple[Path, str]:
    text = ask(questionary.path("Model to convert (file or directory):", validate=_source_error))
    source = _clean_path(text)
    fmt = frontends.detect_format(source)
    frontend = frontends.FRONTENDS.get(fmt)
    say(f"detected: {fmt}" + (f" ({frontend.description})" if frontend else ""))
    return source, fmt


def _clean_path(text: str) -> Path:
    """A typed or pasted path: surrounding quotes removed, ``~`` expanded (spaces are kept as typed)."""
    text = text.strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return Path(text).expanduser()


def _source_error(text: str) -> bool | str:
    if not text.strip():
        return "a path, please"
    try:
        frontends.detect_format(_clean_path(text))
    except ConversionError as e:
        return str(e)
    return True


def _ask_input_format(detected: str) -> str:
    formats = sorted(frontends.input_formats(), key=lambda f: f != detected)
    choices = [Choice(f"{f} (detected)" if f == detected else f, value=f) for f in formats]
    return str(ask(questionary.select("Input format:", choices=choices, default=choices[0])))


def _ask_source_options(a: Answers) -> None:
    if a.input_format in _SAVED_MODELS:
        _ask_signature(a)
    if a.input_format == "tf_frozen_model":
        a.output_node_names = _ask_output_nodes(a.source)
    if a.input_format in _TF_INPUTS:
        a.strip_debug_ops = bool(ask(questionary.confirm(
            "Remove debug ops (Assert, CheckNumerics, Print)? They do nothing useful in the browser.", default=True)))
        a.control_flow_v2 = bool(ask(questionary.confirm(
            "Keep TensorFlow 2 control flow (functional While/If) as is?", default=False)))
    if a.input_format in _SAVED_MODELS:
        a.structured_outputs = bool(ask(questionary.confirm(
            "Record the signature's output names in the model (userDefinedMetadata.structuredOutputKeys)?",
            default=False)))


def _ask_signature(a: Answers) -> None:
    if not (a.source / "saved_model.pb").is_file():
        say("no saved_model.pb to read signatures from: the defaults (tags serve, serving_default) apply")
        return
    try:
        graphs = [g for g in saved_model_graphs(a.source) if g.tags]
    except (ConversionError, ValueError, IndexError, UnicodeDecodeError) as e:
        say(f"could not read saved_model.pb ({one_line(str(e))}): the defaults apply")
        return
    if not graphs:
        return
    tag_choices = [Choice(",".join(g.tags), value=i) for i, g in enumerate(graphs)]
    index = ask(questionary.select("MetaGraph tags:", choices=tag_choices)) if len(graphs) > 1 else 0
    graph = graphs[index]
    a.saved_model_tags = graph.tags
    sigs = [s for s in graph.signatures if not s.name.startswith("__")]
    if not sigs:
        return
    choices = [Choice(f"{s.name}  (inputs: {', '.join(s.inputs)}; outputs: {', '.join(s.outputs)})", value=s.name)
               for s in sigs]
    default = next((c for c in choices if c.value == "serving_default"), choices[0])
    chosen = str(ask(questionary.select("Signature:", choices=choices, default=default)))
    a.signature_name = None if chosen == "serving_default" else chosen


def _ask_output_nodes(source: Path) -> tuple[str, ...]:
    try:
        candidates = graph_outputs(source)
    except (ConversionError, OSError, ValueError, IndexError, UnicodeDecodeError):
        candidates = []
    if not candidates:
        text = ask(questionary.text("Output node names (comma-separated):", validate=lambda t: bool(t.strip())))
        return tuple(n.strip() for n in str(text).split(",") if n.strip())
    choices = [Choice(n, value=n, checked=True) for n in candidates]
    return tuple(ask(questionary.checkbox("Output nodes (no other node reads them):", choices=choices,
                                          validate=lambda picked: bool(picked) or "pick at least one")))


def _ask_output_format(a: Answers) -> str:
    outputs = sorted({o for i, o in routes() if i == a.input_format}, key=lambda o: o != a.default_output_format)
    if len(outputs) == 1:
        return outputs[0]
    choices = [Choice(f"{o}: {_OUTPUT_NOTES.get(o, '')}", value=o) for o in outputs]
    return str(ask(questionary.select("Output format:", choices=choices, default=choices[0])))


def _options(a: Answers) -> ConvertOptions:
    frontend = FrontendOptions(signature_name=a.signature_name, saved_model_tags=a.saved_model_tags,
                               output_node_names=a.output_node_names, strip_debug_ops=a.strip_debug_ops,
                               control_flow_v2=a.control_flow_v2, structured_outputs_names=a.structured_outputs)
    return ConvertOptions(input_format=a.input_format, output_format=a.output_format, frontend=frontend, dims=a.dims)


def _ask_dims(a: Answers) -> dict[str, int]:
    """Sizes for the named dynamic dims of the inputs (--dim NAME=SIZE); a blank answer keeps a dim dynamic."""
    with reporter().stage("reading the inputs"):
        dims = dynamic_dims(a.source, _options(a))
    if not dims:
        return {}
    say("dynamic input dims: " + ", ".join(f"{d} ({', '.join(users)})" for d, users in dims.items()))
    if not ask(questionary.confirm(f"Pin the symbolic dims? ({', '.join(dims)}: fixed sizes let shape "
                                   "computations fold away)", default=False)):
        return {}
    sizes = {}
    for dim in dims:
        text = str(ask(questionary.text(f"Size of {dim} (blank: keep it dynamic):", validate=_size_error))).strip()
        if text:
            sizes[dim] = int(text)
    return sizes


def _size_error(text: str) -> bool | str:
    return not text.strip() or (text.strip().isdigit() and int(text) > 0) or "a positive integer, or blank"


def _probe(a: Answers) -> WeightInfo:
    options = _options(a)
    with reporter().stage("reading the model"):
        info = probe_weights(a.source, options)
    floats = [w for w in info.weights if w.dtype == "float32"]
    say(f"{len(info.weights)} weights ({len(floats)} float32), {human(info.stored_bytes(None))}")
    for warning in info.warnings:
        say(f"note: {warning}")
    return info


def _ask_weights(a: Answers, info: WeightInfo) -> None:
    if any(w.dtype == "float32" for w in info.weights):
        a.quantize = _ask_quantization(info)
        if a.quantize:
            a.patterns = _ask_patterns(info)
            names = {w.name for w in info.weights if _matches(w.name, a.patterns)}
            say(f"estimated weights: {human(info.stored_bytes(a.quantize, names))}")
    a.shard_bytes = int(ask(questionary.text(
        "Weight shard size in bytes (browsers fetch shards in parallel; 4 MiB caches well):",
        default=str(a.shard_bytes), validate=_shard_error)))
    if a.output_format == "tfjs_layers_model":
        a.split_weights_by_layer = bool(ask(questionary.confirm(
            "One weight group per layer (--split-weights-by-layer)?", default=False)))


def _shard_error(text: str) -> bool | str:
    return (text.strip().isdigit() and int(text) > 0) or "a positive integer"


def _matches(name: str, patterns: tuple[str, ...]) -> bool:
    return not patterns or any(fnmatchcase(name, p) for p in patterns)


def _ask_quantization(info: WeightInfo) -> str | None:
    choices = [Choice(f"{d or 'none'}: {note} -> {human(info.stored_bytes(d))}", value=d or "none")
               for d, note in _QUANT_NOTES]
    chosen = str(ask(questionary.select("Quantize the float32 weights?", choices=choices, default=choices[0])))
    return None if chosen == "none" else chosen


def _ask_patterns(info: WeightInfo) -> tuple[str, ...]:
    groups = weight_groups(info.weights)
    how = ["all", *(["groups"] if groups else []), "patterns"]
    titles = {"all": "all float32 weights", "groups": "some groups of weights (choose from the model's names)",
              "patterns": "weights matching patterns I type (shell-style, e.g. *conv*)"}
    chosen = ask(questionary.select("Which weights?", choices=[Choice(titles[h], value=h) for h in how]))
    if chosen == "groups":
        choices = [Choice(f"{p}  ({len(ws)} weight(s), {human(sum(w.nbytes for w in ws))})", value=p)
                   for p, ws in groups]
        return tuple(ask(questionary.checkbox("Groups (space to tick, enter to accept):", choices=choices,
                                              validate=lambda picked: bool(picked) or "tick at least one")))
    if chosen == "patterns":
        names = [w.name for w in info.weights if w.dtype == "float32"]
        text = ask(questionary.text("Patterns (comma-separated):", validate=lambda t: _pattern_error(t, names)))
        return tuple(p.strip() for p in str(text).split(",") if p.strip())
    return ()


def _pattern_error(text: str, names: list[str]) -> bool | str:
    patterns = tuple(p.strip() for p in text.split(",") if p.strip())
    if not patterns:
        return "at least one pattern"
    unmatched = [p for p in patterns if not any(_matches(n, (p,)) for n in names)]
    return f"{unmatched[0]!r} matches no weight (e.g. {names[0]})" if unmatched else True


def _ask_output(a: Answers) -> tuple[Path, bool]:
    keras_file = {"keras": ".h5", "keras_keras": ".keras"}.get(a.output_format)
    stem = a.source.stem if a.source.suffix else a.source.name
    default = a.source.parent / (f"{stem}{keras_file}" if keras_file else f"{stem}_tfjs")
    while True:
        out = _clean_path(str(ask(questionary.path("Output (directory" + (" or file" if keras_file else "") + "):",
                                                   default=str(default), validate=_output_error(a.source)))))
        if not _occupied(out):
            return out, False
        if ask(questionary.confirm(f"{out} is not empty: replace it?", default=False)):
            return out, True


def _occupied(out: Path) -> bool:
    return out.is_file() or (out.is_dir() and any(out.iterdir()))


def _output_error(source: Path) -> Any:
    def check(text: str) -> bool | str:
        if not text.strip():
            return "a path, please"
        try:  # the convert command's own checks (a symlink, a name too long, ...); replacing is asked after
            check_output(_clean_path(text), overwrite=True, source=source)
        except ConversionError as e:
            return one_line(str(e))
        return True
    return check
