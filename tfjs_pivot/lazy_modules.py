"""Defers heavy modules the conversion stack imports but a conversion rarely touches (sympy, via onnx_ir)."""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import types
from typing import Any

# onnx_ir imports sympy at module level (0.2-0.3 s; its _symbolic_shapes reads sympy attributes at import) but
# uses it only for symbolic dim arithmetic, which a conversion does not reach. Each stand-in loads the real
# module on its first attribute access, so a wrong guess costs time, never correctness.
DEFERRED = ("sympy", "onnx_ir._symbolic_shapes")


class _Deferred(types.ModuleType):
    """A stand-in in ``sys.modules`` that imports the real module on the first attribute it lacks.

    Not ``importlib.util.LazyLoader``: on Python 3.11 ``import sympy`` itself reads ``__spec__`` of the
    entry in ``sys.modules``, which would trigger the load at once.
    """

    def __getattr__(self, attr: str) -> Any:
        real = self.__dict__.get("_deferred_real")
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = importlib.import_module(self.__name__)
            self.__dict__["_deferred_real"] = real
        return getattr(real, attr)


def defer(names: tuple[str, ...] = DEFERRED) -> None:
    """Put a stand-in for each named module not imported yet (of an installed package) into ``sys.modules``."""
    for name in names:
        # find_spec of a top-level name imports nothing (of a submodule, it would import the parent).
        if name in sys.modules or importlib.util.find_spec(name.partition(".")[0]) is None:
            continue
        stub = _Deferred(name)
        stub.__spec__ = importlib.machinery.ModuleSpec(name, None)
        sys.modules[name] = stub
