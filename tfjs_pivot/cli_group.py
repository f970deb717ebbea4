"""The error contract of every command, in one click group: one line and a documented exit status per outcome."""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple

import click

from pivot.errors import ConversionError, UnsupportedOpsError
from tfjs_pivot.interrupts import Terminated, handled_signals

# Exit statuses (docs/security.md): a crash never looks like a verdict (1) or a refused input (2).
EXIT_FAILED = 1  # the command ran and said no: validate mismatch, audit blocked
EXIT_INPUT = 2  # bad input, bad flags, unwritable output: one line on stderr
EXIT_INTERNAL = 3  # a bug of tfjs-pivot: one line, the traceback with --debug
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT); SIGTERM gives 143, SIGHUP 129

DEBUG_FLAG = "--debug"
_DEBUG: ContextVar[bool] = ContextVar("tfjs_pivot_debug", default=False)
_REPORT = "a bug in tfjs-pivot: rerun with --debug and report the traceback"
_NO_MEMORY = ("the model needs more memory than is available (MemoryError); free memory or use a bigger "
              "machine, and check that the model is what it claims to be")
# Shown as click shows it (the help text), not as one error line.
_NO_ARGS = getattr(click.exceptions, "NoArgsIsHelpError", ())


def take_debug(args: Sequence[str]) -> tuple[list[str], bool]:
    """``args`` without ``--debug`` (accepted before or after the command name, never after ``--``)."""
    out: list[str] = []
    debug = False
    for i, token in enumerate(args):
        if token == "--":
            return out + list(args[i:]), debug
        if token == DEBUG_FLAG:
            debug = True
        else:
            out.append(token)
    return out, debug


def debugging() -> bool:
    """Whether ``--debug`` was given: tracebacks are printed."""
    return _DEBUG.get()


def one_line(text: str) -> str:
    """The first non-empty line of ``text`` (the contract: every error is one line)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def failure_status(error: BaseException) -> int:
    """Print what ``error`` means to the user on stderr (after the progress display cleared) and its exit status."""
    if isinstance(error, (KeyboardInterrupt, Terminated, click.Abort)):
        # Any staging folder is gone by now (removed on the way out); an output already committed stays.
        click.echo("interrupted" if not isinstance(error, Terminated) else str(error), err=True)
        return error.exit_status if isinstance(error, Terminated) else EXIT_INTERRUPTED
    if debugging():
        traceback.print_exception(error, file=sys.stderr)
    if isinstance(error, UnsupportedOpsError):
        click.echo(f"error: {error.report()}", err=True)
    elif isinstance(error, ConversionError):
        click.echo(f"error: {one_line(str(error)) or type(error).__name__}", err=True)
    elif isinstance(error, MemoryError):
        click.echo(f"error: {_NO_MEMORY}", err=True)
    else:
        message = one_line(str(error))
        click.echo(f"internal error: {type(error).__name__}{': ' + message if message else ''} ({_REPORT})",
                   err=True)
        return EXIT_INTERNAL
    return EXIT_INPUT


def _click_status(error: click.ClickException) -> int:
    """A click error (bad flag, missing argument) as one ``error:`` line; ``tfjs-pivot`` alone shows the help."""
    if isinstance(error, _NO_ARGS):
        error.show()
        return error.exit_code
    message = one_line(" ".join(error.format_message().splitlines()))
    ctx = getattr(error, "ctx", None)
    see = f" (see '{ctx.command_path} --help')" if isinstance(error, click.UsageError) and ctx else ""
    click.echo(f"error: {message}{see}", err=True)
    return error.exit_code


class LazyCommand(NamedTuple):
    """A command imported when it runs: ``target`` is ``module:attribute``; ``help`` is its line in ``--help``."""

    target: str
    help: str


class PivotGroup(click.Group):
    """A click group whose every command keeps the error contract and removes its temporary output on signals.

    ``lazy_commands`` are listed by ``--help`` from their help line and imported only when they run.
    """

    def __init__(self, *args: Any, lazy_commands: Mapping[str, LazyCommand] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands: dict[str, LazyCommand] = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The eager and the lazy commands, sorted."""
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``; a lazy one is imported now (once)."""
        if cmd_name in self.commands or cmd_name not in self.lazy_commands:
            return super().get_command(ctx, cmd_name)
        module, _, attr = self.lazy_commands[cmd_name].target.partition(":")
        # An ImportError here is a broken installation (the module ships with the package): exit 3, as a bug.
        command = getattr(importlib.import_module(module), attr)
        self.add_command(command, cmd_name)
        return command  # type: ignore[no-any-return]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``; lazy commands show their help line without being imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names), default=0)
        rows = []
        for name in names:
            command = self.commands.get(name)
            if command is None:
                rows.append((name, click.Command(name, help=self.lazy_commands[name].help).get_short_help_str(limit)))
            elif not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,  # type: ignore[override]
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        """Run a command line; exits (standalone) or raises ``SystemExit`` with a non-zero status."""
        argv, debug = take_debug(sys.argv[1:] if args is None else args)
        token = _DEBUG.set(debug or _DEBUG.get())
        try:
            status = self._status(argv, prog_name, complete_var, extra)
        finally:
            _DEBUG.reset(token)
        if standalone_mode or status:
            sys.exit(status)
        return status

    def _status(self, argv: list[str], prog_name: str | None, complete_var: str | None, extra: dict[str, Any]) -> int:
        try:
            rv = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except SystemExit as e:
            return e.code if isinstance(e.code, int) else (0 if e.code is None else EXIT_INPUT)
        except click.ClickException as e:
            return _click_status(e)
        except BaseException as e:  # the one place every other outcome becomes a status
            return failure_status(e)
        return rv if isinstance(rv, int) else 0

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command with the stopping signals turned into exceptions (so that ``finally`` clean-ups run)."""
        with handled_signals():
            try:
                return super().invoke(ctx)
            except (click.ClickException, click.exceptions.Exit, click.Abort):
                raise
            except (KeyboardInterrupt, EOFError, Terminated) as e:
                # Handled here: click would turn them into Abort ("Aborted!", exit 1) and an EOFError is a reader's.
                raise SystemExit(failure_status(e)) from None
