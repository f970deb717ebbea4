"""tfjs control flow for emitters: a StatelessWhile node whose cond and body are library functions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backends.tfjs_graph.graph import NP_TO_TF, Attr, TfFunction, TfNode
from backends.tfjs_graph.registry import EmitCtx, to_tfjs_array


class Ops:
    """Appends tfjs nodes for one ONNX node to the main graph; equal constants are shared."""

    def __init__(self, ctx: EmitCtx, prefix: str = "") -> None:
        self.ctx, self.prefix, self._k = ctx, prefix, 0
        self._consts: dict[tuple[str, tuple[int, ...], bytes], str] = {}

    def __call__(self, op: str, *inputs: str, t: str | None = "DT_FLOAT", **attrs: Attr) -> str:
        """One node; ``t`` is its ``T`` attribute (None: the op has none)."""
        if t is not None:
            attrs = {"T": Attr.dtype(t), **attrs}
        self._k += 1
        return self._add(op, list(inputs), attrs)

    def _add(self, op: str, inputs: list[str], attrs: dict[str, Attr]) -> str:
        return self.ctx.add(op, inputs, attrs, suffix=f"{self.prefix}{op.lower()}{self._k}")

    def out(self, ref: str, k: int) -> str:
        """Output ``k`` of the node ``ref``."""
        return ref if k == 0 else f"{ref}:{k}"

    def const(self, value: Any) -> str:
        """A float32 / int32 / bool constant (float64 and int64 narrow)."""
        arr = np.asarray(value)
        # Integers are range-checked (an int64 dim past int32 fails as a dtype error, never wraps).
        arr = arr.astype(np.float32) if arr.dtype.kind == "f" else to_tfjs_array(arr, self.prefix or "constant") \
            if arr.dtype.kind in "iu" else arr
        key = (arr.dtype.str, arr.shape, arr.tobytes())
        if key not in self._consts:
            self._k += 1
            self._consts[key] = self.ctx.constant(arr, f"{self.prefix}c{self._k}")
        return self._consts[key]

    def ints(self, values: Sequence[int] | int) -> str:
        return self.const(np.asarray(values, dtype=np.int64))

    def value(self, ref: str) -> np.ndarray | None:
        """The value of a constant reference (for folding), else None."""
        return self.ctx.graph.const_value(ref)


class FunctionOps(Ops):
    """Appends nodes to a library function; outer tensors and constants enter as extra arguments."""

    def __init__(self, outer: Ops, fn: TfFunction) -> None:
        super().__init__(outer.ctx)
        self.outer, self.fn = outer, fn
        self.captured: dict[str, str] = {}  # outer reference -> argument name

    def _add(self, op: str, inputs: list[str], attrs: dict[str, Attr]) -> str:
        name = f"{op.lower()}{self._k}"
        self.fn.nodes.append(TfNode(name, op, inputs, attrs))
        return name

    def out(self, ref: str, k: int) -> str:
        # FunctionDef convention "node:output_arg:index"; tfjs reads the trailing index.
        return ref if k == 0 else f"{ref}:output:{k}"

    def const(self, value: Any) -> str:
        ref = self.outer.const(value)
        return self.capture(ref, NP_TO_TF[self.outer.ctx.graph.consts[ref].dtype])

    def capture(self, ref: str, dtype: str) -> str:
        """The argument carrying outer tensor ``ref`` through the loop unchanged."""
        if ref not in self.captured:
            name = f"a{len(self.fn.inputs)}"
            self.fn.inputs.append((name, dtype))
            self.captured[ref] = name
        return self.captured[ref]

    def value(self, ref: str) -> np.ndarray | None:
        return None


@dataclass(frozen=True)
class LoopVar:
    """A loop-carried value: its initial (outer) tensor and tfjs dtype (DT_VARIANT for a TensorList)."""

    init: str
    dtype: str


Body = Callable[[FunctionOps, list[str]], list[str]]
Cond = Callable[[FunctionOps, list[str]], str]


def while_loop(ops: Ops, loop_vars: Sequence[LoopVar], cond: Cond, body: Body, name: str) -> list[str]:
    """Emit ``while cond(vars): vars = body(vars)`` as StatelessWhile; returns the final values' references.

    tfjs runs it only in ``executeAsync`` / ``predictAsync``. The body may capture outer tensors
    (weights, constants): they become extra loop arguments passed through unchanged.
    """
    base = ops.ctx.graph.unique(f"{ops.ctx.name}/{name}")
    args = [(f"a{k}", v.dtype) for k, v in enumerate(loop_vars)]
    body_fn = TfFunction(f"{base}_body", list(args), [])
    bops = FunctionOps(ops, body_fn)
    results = body(bops, [a for a, _ in args])
    captured = list(bops.captured.items())
    body_fn.outputs = [(f"out{k}", dtype) for k, (_, dtype) in enumerate(body_fn.inputs)]
    body_fn.ret = {f"out{k}": ref for k, ref in enumerate([*results, *(arg for _, arg in captured)])}
    cond_fn = TfFunction(f"{base}_cond", list(body_fn.inputs), [("out0", "DT_BOOL")])
    cops = FunctionOps(ops, cond_fn)
    cond_fn.ret = {"out0": cond(cops, [a for a, _ in args])}
    # The cond function shares the body's argument list, so it cannot capture anything new.
    assert not cops.captured, "a loop condition may only read loop variables"
    ops.ctx.graph.functions += [cond_fn, body_fn]
    attrs = {"T": Attr.types([dtype for _, dtype in body_fn.inputs]), "cond": Attr.func(cond_fn.name),
             "body": Attr.func(body_fn.name), "parallel_iterations": Attr.i(10)}
    node = ops.ctx.add("StatelessWhile", [v.init for v in loop_vars] + [ref for ref, _ in captured], attrs,
                       suffix=name)
    return [ops.out(node, k) for k in range(len(loop_vars))]
