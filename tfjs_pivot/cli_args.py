"""Command-line pre-processing: optional-value options that never swallow a path, booleans, pinned dims."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import IO, Any

import click

from pivot.errors import InputError

# Flag spelling -> storage dtype; both the project's and tensorflowjs_converter's spellings are accepted.
QUANTIZE_FLAGS = {f"--quantize{sep}{dtype}": dtype for dtype in ("float16", "uint8", "uint16") for sep in "-_"}
_TRUE = {"true", "1", "yes", "y", "on", "t"}
_FALSE = {"false", "0", "no", "n", "off", "f"}
_INPUT_SHAPE_HELP = ("NAME:SIZE,SIZE,...: the shape of input NAME (e.g. images:1,3,640,640); -1 keeps a dim dynamic. "
                     "Repeatable.")


class OneLineUsageError(click.UsageError):
    """A usage error printed as one ``error: ...`` line (no usage banner), exit status 2."""

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the single line to stderr."""
        click.echo(f"error: {self.format_message()}", err=True, file=file)


def parse_bool(flag: str, value: str) -> bool:
    """``true/false``, ``1/0``, ``yes/no``, ``on/off`` (any case) as a bool; anything else is a usage error."""
    word = value.strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise OneLineUsageError(f"{flag}: {value!r} is not a boolean (use true/false, 1/0 or yes/no)")


def _is_bool_word(token: str) -> bool:
    return token.strip().lower() in _TRUE | _FALSE


def normalize_argv(args: Sequence[str], value_options: Collection[str], optional_value: Collection[str],
                   positionals: int, booleans: Mapping[str, tuple[str, str]] | None = None) -> list[str]:
    """Rewrite each ``optional_value`` flag as ``--flag=VALUE`` or, when bare, ``--flag=`` (empty value).

    A flag followed by a non-option token takes it as its value only while enough other positional tokens
    remain for the ``positionals`` arguments; so ``--quantize-uint8 m.onnx out`` is a bare flag and
    ``--quantize-uint8 '*conv*' m.onnx out`` takes the pattern (tensorflowjs_converter would take ``m.onnx``).
    ``booleans`` maps each spelling of an on/off flag to its (on, off) spellings: ``--flag=VALUE`` and
    ``--flag VALUE`` (VALUE a boolean word, taken under the same rule) become the on or off spelling.
    """
    booleans = booleans or {}
    kinds = _classify(args, value_options, optional_value, booleans)
    spare = sum(k in ("positional", "maybe") for k in kinds) - positionals
    taken: set[int] = set()
    for i, kind in enumerate(kinds):  # left to right: earlier flags get their value first
        if kind == "maybe" and spare > 0:
            taken.add(i)
            spare -= 1
    out: list[str] = []
    for i, (token, kind) in enumerate(zip(args, kinds, strict=True)):
        if kind == "optional":
            out.append(f"{token}={args[i + 1]}" if i + 1 in taken else f"{token}=")
        elif kind == "boolean":
            out.append(_bool_flag(token, args[i + 1], booleans) if i + 1 in taken else token)
        elif kind == "option" and token.partition("=")[0] in booleans:
            flag, _, value = token.partition("=")
            out.append(_bool_flag(flag, value, booleans))
        elif i not in taken:
            out.append(token)
    return out


def _bool_flag(flag: str, value: str, booleans: Mapping[str, tuple[str, str]]) -> str:
    """The on or off spelling for ``flag=value`` (``--no-x=false`` is on)."""
    on, off = booleans[flag]
    return on if parse_bool(flag, value) == (flag != off) else off


def _classify(args: Sequence[str], value_options: Collection[str], optional_value: Collection[str],
              booleans: Collection[str] = ()) -> list[str]:
    """Per token: option, value, optional (flag), boolean (flag), maybe (the flag's value or a path), positional."""
    kinds: list[str] = []
    rest_positional = False
    for token in args:
        previous = kinds[-1] if kinds else ""
        if rest_positional:
            kinds.append("positional")
        elif token == "--":
            rest_positional = True
            kinds.append("separator")
        elif previous == "option" and args[len(kinds) - 1] in value_options:
            kinds.append("value")
        elif token.startswith("-") and len(token) > 1:
            kinds.append("optional" if token in optional_value else "boolean" if token in booleans else "option")
        elif previous == "optional" or (previous == "boolean" and _is_bool_word(token)):
            kinds.append("maybe")
        else:
            kinds.append("positional")
    return kinds


class LazyChoice(click.Choice):  # type: ignore[type-arg]
    """A ``click.Choice`` whose choices come from ``load()`` at first use.

    The registries behind the format and backend names import onnx: ``--version`` and ``--help`` must not.
    """

    def __init__(self, load: Callable[[], Sequence[str]], case_sensitive: bool = True) -> None:
        self._load = load
        self._choices: tuple[str, ...] | None = None
        self.case_sensitive = case_sensitive

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        """The names, loaded once."""
        if self._choices is None:
            self._choices = tuple(self._load())
        return self._choices

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        self._choices = tuple(value)


class OptionalValueCommand(click.Command):
    """A click command with optional-value ``--quantize-*`` options and on/off flags that take booleans.

    ``--quantize-*`` never swallows a path; ``--x/--no-x`` flags also accept ``--x=false`` or ``--x false``.
    """

    optional_value: Collection[str] = tuple(QUANTIZE_FLAGS)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Normalize the optional-value and boolean flags, then parse as usual."""
        options = [p for p in self.params if isinstance(p, click.Option)]
        takes_value = {o for p in options if not p.is_flag and not p.count for o in (*p.opts, *p.secondary_opts)}
        positionals = sum(max(p.nargs, 0) for p in self.params if isinstance(p, click.Argument) and p.required)
        booleans = {o: (p.opts[0], p.secondary_opts[0]) for p in options if p.is_flag and p.secondary_opts
                    for o in (*p.opts, *p.secondary_opts)}
        args = normalize_argv(args, takes_value - set(self.optional_value), self.optional_value, positionals,
                              booleans)
        return super().parse_args(ctx, args)


def _size(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() and text.count("-") <= 1 else None


def parse_dims(values: Sequence[str], flag: str = "--dim") -> dict[str, int]:
    """``NAME=SIZE`` items (a name may hold ``=``: the last one splits) -> ``{name: size}``; bad syntax: InputError."""
    out: dict[str, int] = {}
    for item in values:
        name, sep, text = item.rpartition("=")
        size = _size(text)
        if not sep or not name or size is None:
            raise InputError(f"{flag}: {item!r} is not NAME=SIZE (e.g. batch=1)")
        if out.get(name, size) != size:
            raise InputError(f"{flag}: {name} is given twice ({out[name]} and {size})")
        out[name] = size
    return out


def parse_input_shapes(values: Sequence[str], flag: str = "--input-shape") -> dict[str, tuple[int, ...]]:
    """``NAME:SIZE,SIZE,...`` items (a name may hold ``:``, as TF's ``x:0``) -> ``{name: sizes}``; -1 is kept."""
    out: dict[str, tuple[int, ...]] = {}
    for item in values:
        name, sep, text = item.rpartition(":")
        sizes = [_size(t) for t in text.split(",")]
        if not sep or not name or not text.strip() or any(s is None for s in sizes):
            raise InputError(f"{flag}: {item!r} is not NAME:SIZE,SIZE,... (e.g. images:1,3,640,640)")
        shape = tuple(s for s in sizes if s is not None)
        if out.get(name, shape) != shape:
            raise InputError(f"{flag}: input '{name}' is given twice")
        out[name] = shape
    return out


def pin_options(dim_help: str) -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """``--input-shape`` (both spellings) and ``--dim``, repeatable, as the commands that pin dims take them."""
    return [click.option("--input-shape", "--input_shape", "input_shapes", multiple=True, metavar="NAME:SIZES",
                         help=_INPUT_SHAPE_HELP),
            click.option("--dim", "dims", multiple=True, metavar="NAME=SIZE", help=dim_help)]
