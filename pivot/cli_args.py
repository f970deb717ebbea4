"""Command-line pre-processing: options with an optional value that never swallow a positional path."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import click

# Flag spelling -> storage dtype; both the project's and tensorflowjs_converter's spellings are accepted.
QUANTIZE_FLAGS = {f"--quantize{sep}{dtype}": dtype for dtype in ("float16", "uint8", "uint16") for sep in "-_"}


def normalize_argv(args: Sequence[str], value_options: Collection[str], optional_value: Collection[str],
                   positionals: int) -> list[str]:
    """Rewrite each ``optional_value`` flag as ``--flag=VALUE`` or, when bare, ``--flag=`` (empty value).

    A flag followed by a non-option token takes it as its value only while enough other positional tokens
    remain for the ``positionals`` arguments; so ``--quantize-uint8 m.onnx out`` is a bare flag and
    ``--quantize-uint8 '*conv*' m.onnx out`` takes the pattern (tensorflowjs_converter would take ``m.onnx``).
    """
    kinds = _classify(args, value_options, optional_value)
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
        elif i not in taken:
            out.append(token)
    return out


def _classify(args: Sequence[str], value_options: Collection[str], optional_value: Collection[str]) -> list[str]:
    """Per token: option, value (of the previous option), optional (flag), maybe (its value or a path), positional."""
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
            kinds.append("optional" if token in optional_value else "option")
        else:
            kinds.append("maybe" if previous == "optional" else "positional")
    return kinds


class OptionalValueCommand(click.Command):
    """A click command whose ``--quantize-*`` options take an optional value without swallowing paths."""

    optional_value: Collection[str] = tuple(QUANTIZE_FLAGS)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Normalize the optional-value flags, then parse as usual."""
        options = [p for p in self.params if isinstance(p, click.Option)]
        takes_value = {o for p in options if not p.is_flag and not p.count for o in (*p.opts, *p.secondary_opts)}
        positionals = sum(max(p.nargs, 0) for p in self.params if isinstance(p, click.Argument) and p.required)
        args = normalize_argv(args, takes_value - set(self.optional_value), self.optional_value, positionals)
        return super().parse_args(ctx, args)
