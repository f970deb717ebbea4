"""Input signatures and polymorphic shapes of ``convert_jax``, normalized without importing JAX."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pivot.errors import InputError

Dim = int | str | None  # a size, a symbolic dimension name, or unknown


@dataclass(frozen=True)
class InputSpec:
    """One flat input: its name (None: the caller names it), shape and dtype."""

    name: str | None
    shape: tuple[Dim, ...]
    dtype: np.dtype[Any]


def is_spec(value: object) -> bool:
    """Whether ``value`` is one input signature (a pytree leaf), not a container of signatures."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return True
    return isinstance(value, tuple) and (_is_shape(value) or _is_shape_dtype_pair(value))


def to_spec(value: object, index: int) -> InputSpec:
    """Accepts ``(shape, dtype)``, a bare shape (float32), or anything with ``.shape`` and ``.dtype``.

    The last covers ``jax.ShapeDtypeStruct``, arrays and ``tf.TensorSpec`` (whose ``name`` is kept).
    """
    if isinstance(value, tuple) and _is_shape_dtype_pair(value):
        shape, dtype = value
        return InputSpec(None, _dims(shape, index), _dtype(dtype, index))
    if isinstance(value, tuple) and _is_shape(value):
        return InputSpec(None, _dims(value, index), np.dtype(np.float32))
    if hasattr(value, "shape") and hasattr(value, "dtype") and not isinstance(value, type):
        shape = value.shape
        # tf.TensorShape: as_list() gives None for unknown sizes.
        dims = shape.as_list() if hasattr(shape, "as_list") else tuple(shape)
        name = getattr(value, "name", None)
        return InputSpec(name if isinstance(name, str) and name else None, _dims(dims, index),
                         _dtype(value.dtype, index))
    raise InputError(f"input signature {index}: expected (shape, dtype), a shape, or an object with .shape and "
                     f".dtype; got {type(value).__name__}")


def poly_texts(specs: Sequence[InputSpec], polymorphic_shapes: Sequence[object] | str | None) -> list[str | None]:
    """One jax shape-spec string per input (None: fully static), from ``polymorphic_shapes`` or the signatures."""
    if isinstance(polymorphic_shapes, str):
        polymorphic_shapes = [polymorphic_shapes]
    given = list(polymorphic_shapes) if polymorphic_shapes is not None else [None] * len(specs)
    if len(given) != len(specs):
        raise InputError(f"polymorphic_shapes has {len(given)} entries for {len(specs)} inputs")
    return [_poly_text(spec, entry, i) for i, (spec, entry) in enumerate(zip(specs, given, strict=True))]


def _poly_text(spec: InputSpec, entry: object, index: int) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, (tuple, list)):
        return ", ".join("_" if d is None else str(d) for d in entry)
    if entry is not None:
        raise InputError(f"polymorphic_shapes[{index}]: expected a string such as '(b, 8)', a tuple, or None")
    if None in spec.shape:
        axes = ", ".join(str(a) for a, d in enumerate(spec.shape) if d is None)
        raise InputError(f"input signature {index} has unknown size(s) at axis {axes}: name them in "
                         "polymorphic_shapes, e.g. '(b, ...)'")
    if any(isinstance(d, str) for d in spec.shape):
        return ", ".join(str(d) for d in spec.shape)
    return None


def _is_shape(value: tuple[Any, ...]) -> bool:
    return all(d is None or isinstance(d, (int, np.integer, str)) for d in value)


def _is_shape_dtype_pair(value: tuple[Any, ...]) -> bool:
    return (len(value) == 2 and isinstance(value[0], (tuple, list)) and _is_shape(tuple(value[0]))
            and not isinstance(value[1], (tuple, list)))


def _dims(shape: Sequence[Any], index: int) -> tuple[Dim, ...]:
    dims: list[Dim] = []
    for d in shape:
        if d is None or isinstance(d, str):
            dims.append(d)
        elif isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0:
            dims.append(int(d))
        else:
            raise InputError(f"input signature {index}: bad dimension {d!r} in shape {tuple(shape)}")
    return tuple(dims)


def _dtype(dtype: object, index: int) -> np.dtype[Any]:
    # tf.DType carries its numpy type in ``as_numpy_dtype``.
    raw = getattr(dtype, "as_numpy_dtype", dtype)
    try:
        return np.dtype(raw)  # type: ignore[call-overload, no-any-return]
    except TypeError as e:
        raise InputError(f"input signature {index}: unknown dtype {dtype!r}") from e
