"""Parity cases for shape ops."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper

from tests.cases import _NP, OpCase, node_model, rand, with_output_types

F, I64, B = np.float32, np.int64, np.bool_


def graph_model(nodes: Sequence[onnx.NodeProto], inputs: Sequence[tuple[str, Any, Sequence[int | str | None]]],
                outputs: Sequence[str] = ("y",), initializers: dict[str, np.ndarray] | None = None
                ) -> Callable[[], onnx.ModelProto]:
    """A builder of a small multi-node model (for dynamic-shape paths)."""

    def build() -> onnx.ModelProto:
        graph = helper.make_graph(
            list(nodes), "g", [helper.make_tensor_value_info(n, _NP[np.dtype(t)], s) for n, t, s in inputs],
            [onnx.ValueInfoProto(name=o) for o in outputs],
            [onnx.numpy_helper.from_array(v, k) for k, v in (initializers or {}).items()])
        return with_output_types(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)]))

    return build


def _dims(feed: Sequence[int] | None, shape: Sequence[int | str]) -> tuple[int, ...]:
    """The fed shape: ``feed`` when the model shape has symbolic dims."""
    return tuple(int(d) for d in (feed or shape))


def i64(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int64)


def _one(op: str, cid: str, shape: Sequence[int | str], inits: dict[str, np.ndarray] | None = None, dtype: Any = F,
         feed: Sequence[int] | None = None, **attrs: Any) -> OpCase:
    return OpCase(f"{op}_{cid}", op, node_model(op, [("x", dtype, list(shape))], initializers=inits, **attrs),
                  rand(("x", _dims(feed, shape)), dtype=dtype, low=-5, high=5))


def _reshape_input(cid: str, target: Sequence[int], **attrs: Any) -> OpCase:
    # The shape is a model input: computed at run time, possibly with 0 entries.
    model = node_model("Reshape", [("x", F, ["N", 3, 4]), ("s", I64, [len(target)])], **attrs)
    return OpCase(f"Reshape_{cid}", "Reshape", model,
                  lambda rng: {"x": rng.standard_normal((2, 3, 4)).astype(F), "s": i64(*target)})


def _shape_dynamic(cid: str, **attrs: Any) -> OpCase:
    nodes = [helper.make_node("Shape", ["x"], ["y"], **attrs)]
    return OpCase(f"Shape_{cid}", "Shape", graph_model(nodes, [("x", F, ["N", 3, "W"])]), rand(("x", (2, 3, 5))))


def _size_dynamic() -> OpCase:
    nodes = [helper.make_node("Size", ["x"], ["y"])]
    return OpCase("Size_dynamic", "Size", graph_model(nodes, [("x", F, ["N", 3])]), rand(("x", (4, 3))))


def _flatten_dynamic() -> OpCase:
    return OpCase("Flatten_dynamic2", "Flatten", node_model("Flatten", [("x", F, ["N", 3, "H", 2])], axis=2),
                  rand(("x", (2, 3, 4, 2))))


def _concat(cid: str, shapes: Sequence[Sequence[int]], axis: int, dtype: Any = F) -> OpCase:
    named = [(f"x{i}", s) for i, s in enumerate(shapes)]
    return OpCase(f"Concat_{cid}", "Concat", node_model("Concat", [(n, dtype, s) for n, s in named], axis=axis),
                  rand(*[(n, tuple(s)) for n, s in named], dtype=dtype, low=-5, high=5))


def _split(cid: str, shape: Sequence[int], n: int, split: np.ndarray | None = None, **attrs: Any) -> OpCase:
    outs = [f"y{i}" for i in range(n)]
    inits = {"split": split} if split is not None else None
    return OpCase(f"Split_{cid}", "Split", node_model("Split", [("x", F, shape)], outs, initializers=inits, **attrs),
                  rand(("x", tuple(shape))))


def _split_dynamic() -> OpCase:
    return OpCase("Split_dynamic_even", "Split",
                  node_model("Split", [("x", F, ["N", 6])], ["a", "b", "c"], axis=1, num_outputs=3),
                  rand(("x", (2, 6))))


def _expand_dynamic() -> OpCase:
    return OpCase("Expand_input_shape", "Expand", node_model("Expand", [("x", F, [3, 1]), ("s", I64, [3])]),
                  lambda rng: {"x": rng.standard_normal((3, 1)).astype(F), "s": i64(2, 1, 4)})


def _tile_dynamic() -> OpCase:
    return OpCase("Tile_input_reps", "Tile", node_model("Tile", [("x", F, [2, 3]), ("r", I64, [2])]),
                  lambda rng: {"x": rng.standard_normal((2, 3)).astype(F), "r": i64(2, 3)})


CASES: list[OpCase] = [
    _one("Reshape", "const", [2, 3, 4], {"s": i64(4, 6)}),
    _one("Reshape", "minus1_zero", [2, 3, 4], {"s": i64(0, -1)}),
    _one("Reshape", "rank5", [2, 3, 4, 1, 2], {"s": i64(2, 12, 2)}),
    _one("Reshape", "int64", [2, 3, 4], {"s": i64(0, 2, -1, 2)}, dtype=I64),
    _one("Reshape", "bool", [2, 3, 4], {"s": i64(6, 4)}, dtype=B),
    _one("Reshape", "sym_zero", ["N", 3, 4], {"s": i64(0, 12)}, feed=[2, 3, 4]),
    _one("Reshape", "sym_zero_mid", ["N", 3, 4], {"s": i64(0, 0, 2, 2)}, feed=[5, 3, 4]),
    _one("Reshape", "allowzero", [2, 3, 4], {"s": i64(2, 12)}, allowzero=1),
    _reshape_input("input_shape", [4, -1]),
    _reshape_input("input_shape_zero", [0, -1, 2]),
    _reshape_input("input_shape_allowzero", [2, 12], allowzero=1),
    _one("Flatten", "default", [2, 3, 4, 5]),
    _one("Flatten", "axis0", [2, 3, 4], axis=0),
    _one("Flatten", "axis_neg", [2, 3, 4, 5], axis=-1),
    _one("Flatten", "axis_rank", [2, 3, 4], axis=3),
    _one("Flatten", "sym", ["N", 3, 4], feed=[3, 3, 4]),
    _flatten_dynamic(),
    _one("Transpose", "default", [2, 3, 4]),
    _one("Transpose", "perm4", [2, 3, 4, 5], perm=[0, 2, 3, 1]),
    _one("Transpose", "perm5", [2, 3, 4, 5, 1], perm=[4, 0, 3, 1, 2]),
    _one("Transpose", "int64", [2, 3], dtype=I64, perm=[1, 0]),
    _concat("axis0", [[2, 3], [4, 3]], 0),
    _concat("neg", [[2, 3, 4], [2, 3, 1], [2, 3, 2]], -1),
    _concat("one", [[2, 3]], 1),
    _concat("int64", [[2, 3], [2, 2]], 1, I64),
    _concat("bool", [[2, 3], [1, 3]], -2, B),
    _concat("rank5", [[1, 2, 3, 2, 2], [1, 2, 1, 2, 2]], 2),
    _split("num_outputs", [2, 6, 3], 3, axis=1, num_outputs=3),
    _split("uneven", [7, 3], 3, num_outputs=3),
    _split("sizes", [2, 3, 7], 3, i64(2, 4, 1), axis=-1),
    _split("single", [2, 4], 1, i64(4), axis=1),
    _split_dynamic(),
    _concat("rank1", [[3], [2], [4]], 0),
    _one("Transpose", "rank1", [5]),
    _one("Unsqueeze", "rank1_sym", ["N"], {"a": i64(0, -1)}, feed=[4]),
    _one("Squeeze", "axes", [2, 1, 3, 1], {"a": i64(1, -1)}),
    _one("Squeeze", "all", [1, 2, 1, 3]),
    _one("Squeeze", "int64", [3, 1], {"a": i64(1)}, dtype=I64),
    _one("Unsqueeze", "one", [2, 3], {"a": i64(1)}),
    _one("Unsqueeze", "several_neg", [2, 3], {"a": i64(-1, 0, 3)}),
    _one("Unsqueeze", "bool", [2, 3], {"a": i64(0)}, dtype=B),
    _one("Expand", "static", [3, 1], {"s": i64(2, 3, 4)}),
    _one("Expand", "bidirectional", [3, 4], {"s": i64(2, 1, 1)}),
    _one("Expand", "int64", [1, 4], {"s": i64(3, 4)}, dtype=I64),
    _one("Expand", "bool", [1, 4], {"s": i64(3, 1)}, dtype=B),
    _one("Expand", "sym", ["N", 1], {"s": i64(1, 5)}, feed=[2, 1]),
    _one("Expand", "sym_bool", ["N", 1], {"s": i64(1, 5)}, dtype=B, feed=[2, 1]),
    _expand_dynamic(),
    _one("Tile", "const", [2, 3], {"r": i64(2, 1)}),
    _one("Tile", "rank4_int", [1, 2, 3, 2], {"r": i64(2, 1, 2, 3)}, dtype=I64),
    _one("Tile", "bool", [2, 3], {"r": i64(1, 2)}, dtype=B),
    _tile_dynamic(),
    _shape_dynamic("all"),
    _shape_dynamic("start_end", start=1, end=-1),
    _shape_dynamic("start_neg", start=-2),
    _shape_dynamic("end_only", end=1),
    _size_dynamic(),
]
