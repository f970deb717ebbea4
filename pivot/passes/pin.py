"""Pins the dynamic dimensions of a model's inputs to sizes (``--input-shape``, ``--dim``) before inference."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import onnx_ir as ir

from pivot.errors import InputError

__all__ = ["KEEP", "Pin", "PinDimsPass", "check_pin", "input_dims", "pin_dims", "symbolic_dims"]

KEEP = -1  # an --input-shape size that leaves the model's dim as it is


@dataclass(frozen=True)
class Pin:
    """Sizes for the inputs' dims: whole shapes by input name (``-1`` keeps a dim), and sizes by dim name."""

    input_shapes: Mapping[str, Sequence[int]] = field(default_factory=dict)
    dims: Mapping[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.input_shapes or self.dims)


def _inputs(model: ir.Model) -> list[ir.Value]:
    return [v for v in model.graph.inputs if not v.is_initializer()]


def _label(d: int | ir.SymbolicDim) -> str:
    return str(d) if isinstance(d, int) else str(d.value) if d.value is not None else "?"


def input_dims(value: ir.Value) -> str:
    """``[N,3,H,W]``: an input's shape as messages show it (``?`` for an unnamed dynamic dim)."""
    return "unknown rank" if value.shape is None else "[" + ",".join(_label(d) for d in value.shape) + "]"


def symbolic_dims(model: ir.Model) -> dict[str, list[str]]:
    """Each named symbolic dim (dim_param) of the model's inputs -> the inputs that use it, in model order."""
    out: dict[str, list[str]] = {}
    for value in _inputs(model):
        for d in value.shape or ():
            if isinstance(d, ir.SymbolicDim) and d.value is not None:
                users = out.setdefault(str(d.value), [])
                if value.name not in users:
                    users.append(value.name or "")
    return out


def pin_dims(model: ir.Model, pin: Pin) -> ir.Model:
    """Set the inputs' dims as ``pin`` says (in place); shape inference afterwards propagates the sizes.

    Every named dim that gets a size is replaced by it in every input; the inferred shapes of other values that
    mention it are cleared so that inference recomputes them. Bad requests raise a one-line ``InputError``.
    """
    if not pin:
        return model
    inputs = {v.name or "": v for v in _inputs(model)}
    sizes = check_pin(model, pin)
    for name, value in inputs.items():
        given = pin.input_shapes.get(name)
        if given is None and value.shape is None:
            continue
        old: list[int | ir.SymbolicDim | None] = list(value.shape) if value.shape is not None else \
            [None] * len(given or ())
        dims = [old[i] if given is None or given[i] == KEEP else given[i] for i in range(len(old))]
        value.shape = ir.Shape([_sized(d, sizes) for d in dims])
    _clear_stale(model, sizes, set(inputs))
    return model


class PinDimsPass(ir.passes.InPlacePass):
    """``pin_dims`` as a pass: run it before any shape inference (the pipeline's inference then propagates)."""

    def __init__(self, pin: Pin) -> None:
        super().__init__()
        self.pin = pin

    def call(self, model: ir.Model) -> ir.passes.PassResult:
        pin_dims(model, self.pin)
        return ir.passes.PassResult(model, bool(self.pin))


def _sized(d: int | ir.SymbolicDim | None, sizes: Mapping[str, int]) -> int | str | None:
    if isinstance(d, int) or d is None:
        return d
    return sizes.get(str(d.value), d.value) if d.value is not None else None


def check_pin(model: ir.Model, pin: Pin) -> dict[str, int]:
    """The size of each named dim (from ``--dim`` and from the positions ``--input-shape`` gives).

    Raises a one-line ``InputError`` for an unknown input or dim name, a wrong rank, a size that is not
    positive, a size contradicting a static dim, or two sizes for one named dim.
    """
    inputs = {v.name or "": v for v in _inputs(model)}
    sizes: dict[str, tuple[int, str]] = {}

    def put(dim: str, size: int, where: str) -> None:
        if dim in sizes and sizes[dim][0] != size:
            raise InputError(f"dim '{dim}' would be both {sizes[dim][0]} ({sizes[dim][1]}) and {size} ({where})")
        sizes.setdefault(dim, (size, where))

    named = symbolic_dims(model)
    for dim, size in pin.dims.items():
        if dim not in named:
            have = ", ".join(named) if named else "none: the inputs have no named dynamic dims"
            raise InputError(f"--dim {dim}: no input dim has this name (named dims: {have})")
        if size < 1:
            raise InputError(f"--dim {dim}={size}: a size must be positive")
        put(dim, size, f"--dim {dim}={size}")
    for name, given in pin.input_shapes.items():
        if name not in inputs:
            raise InputError(f"--input-shape: the model has no input '{name}' (inputs: {', '.join(inputs)})")
        value = inputs[name]
        if value.shape is not None and len(value.shape) != len(given):
            raise InputError(f"--input-shape: input '{name}' has rank {len(value.shape)} ({input_dims(value)}), "
                             f"{len(given)} sizes given")
        for i, size in enumerate(given):
            if size != KEEP and size < 1:
                raise InputError(f"--input-shape: input '{name}' dim {i} is {size}: a size must be positive "
                                 f"(or -1 to keep the dim dynamic)")
            d = value.shape[i] if value.shape is not None else None
            if isinstance(d, int) and size not in (KEEP, d):
                raise InputError(f"input '{name}' dim {i} is {d} in the model, --input-shape says {size}")
            if isinstance(d, ir.SymbolicDim) and d.value is not None and size != KEEP:
                put(str(d.value), size, f"--input-shape {name}")
    return {dim: size for dim, (size, _) in sizes.items()}


def _clear_stale(model: ir.Model, sizes: Mapping[str, int], inputs: set[str]) -> None:
    """Forget the inferred shape of every non-input value that mentions a pinned dim (inference redoes it).

    A graph output keeps its declared rank, with the pinned sizes put in.
    """
    outputs = {id(v) for v in model.graph.outputs}
    for node in ir.traversal.RecursiveGraphIterator(model.graph):
        for value in node.outputs:
            shape = value.shape
            if shape is None or value.name in inputs:
                continue
            if any(isinstance(d, ir.SymbolicDim) and str(d.value) in sizes for d in shape):
                value.shape = ir.Shape([_sized(d, sizes) for d in shape]) if id(value) in outputs else None
