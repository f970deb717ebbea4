"""Naming failures: a pass that raises something unexpected becomes a ``PassError`` naming the pass and the node."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import onnx_ir as ir

from pivot.errors import ConversionError, PassError
from pivot.ir import label

# The attribute ``at_node`` sets on an exception raised while a pass handled a node.
_NODE_ATTR = "_pivot_node"


@contextmanager
def at_node(node: ir.Node) -> Iterator[None]:
    """Mark an unexpected exception raised while a pass handles ``node`` with the node (the innermost wins)."""
    try:
        yield
    except ConversionError:
        raise
    except Exception as e:
        if not hasattr(e, _NODE_ATTR):
            setattr(e, _NODE_ATTR, label(node))
        raise


def failed_node(e: BaseException) -> str | None:
    """The node ``at_node`` recorded on ``e``, if any."""
    return getattr(e, _NODE_ATTR, None)


class Named(ir.passes.PassBase):
    """Runs ``inner``; an exception other than a ``ConversionError`` becomes a one-line ``PassError``."""

    def __init__(self, inner: ir.passes.PassBase) -> None:
        super().__init__()
        self.inner = inner

    @property
    def in_place(self) -> bool:
        return self.inner.in_place

    @property
    def changes_input(self) -> bool:
        return self.inner.changes_input

    def call(self, model: ir.Model) -> ir.passes.PassResult:
        try:
            return self.inner(model)
        except ConversionError:
            raise
        except Exception as e:
            # onnx_ir wraps a failure in its own PassError; the user needs what is underneath.
            cause = _innermost(e)
            raise PassError(type(self.inner).__name__, cause, failed_node(cause) or failed_node(e)) from e


def _innermost(e: BaseException) -> BaseException:
    while isinstance(e, ir.passes.PassError) and e.__cause__ is not None:
        e = e.__cause__
    return e
