"""One error hierarchy for every stage of a conversion."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

ReasonCode = Literal[
    "no_rule",
    "attribute",
    "dtype",
    "layout",
    "needs_constant_input",
    "dynamic_shape",
    "control_flow",
    "version",
]


class ConversionError(Exception):
    """Base of every error the CLI reports as a one-line message (exit status 2)."""


class InputError(ConversionError):
    """The input path, format or options are unusable."""


class MissingDependencyError(ConversionError):
    """An optional framework is needed for this input but is not installed."""


class PassError(ConversionError):
    """A pivot or backend pass failed on something it did not expect: names the pass, the node when known, the cause.

    One line, e.g. ``pass FoldConstantsPass failed at node 'mm1' (MatMul): ValueError: shapes not aligned``.
    """

    def __init__(self, pass_name: str, cause: BaseException, node: str | None = None) -> None:
        self.pass_name, self.cause, self.node = pass_name, cause, node
        where = f" at {node}" if node else ""
        lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
        text = f"{type(cause).__name__}: {lines[0][:200]}" if lines else type(cause).__name__
        super().__init__(f"pass {pass_name} failed{where}: {text}")


def node_label(name: str, op_type: str) -> str:
    """How errors name a graph node: ``node 'conv1' (Conv)`` (callers pass its first output when it has no name)."""
    return f"node '{name[:80]}' ({op_type[:40]})"


class OutputError(ConversionError):
    """The output directory cannot be written."""


class RuntimeUnavailableError(ConversionError):
    """Node.js or the TensorFlow.js runtime packages are not installed."""


@dataclass(frozen=True)
class Unsupported:
    """One reason why one or more nodes of one op type cannot be emitted."""

    op: str
    reason: ReasonCode
    nodes: tuple[str, ...]
    detail: str
    hint: str = ""
    domain: str = ""


class UnsupportedOpsError(ConversionError):
    """Every unsupported node of a graph, collected over the whole graph and raised once."""

    def __init__(self, items: Iterable[Unsupported]) -> None:
        self.items = tuple(items)
        super().__init__(self._summary())

    def _summary(self) -> str:
        count = sum(len(i.nodes) for i in self.items)
        ops = ", ".join(sorted({i.op for i in self.items}))
        return f"{count} node(s) cannot be converted to TensorFlow.js ({ops})"

    def report(self) -> str:
        """Readable multi-line report grouped by op, as printed by the CLI."""
        lines = [str(self)]
        for item in sorted(self.items, key=lambda i: (i.op, i.reason)):
            example = item.nodes[0] if item.nodes else "?"
            more = f" (+{len(item.nodes) - 1} more)" if len(item.nodes) > 1 else ""
            lines.append(f"  {item.op} [{item.reason}] x{len(item.nodes)}: {item.detail}; node '{example}'{more}")
            if item.hint:
                lines.append(f"      hint: {item.hint}")
        return "\n".join(lines)


class EmitError(ConversionError):
    """An emitter met a node it cannot express; carries a stable reason code."""

    def __init__(self, reason: ReasonCode, detail: str, hint: str = "") -> None:
        self.reason: ReasonCode = reason
        self.detail = detail
        self.hint = hint
        super().__init__(detail)


class Int64RangeError(ConversionError):
    """An int64 constant does not fit into int32, the widest integer type of TensorFlow.js."""


class BackendGapError(ConversionError):
    """The converted model would need kernels that the required TensorFlow.js backend does not have."""
