"""Parity cases for slicing, gather/scatter and pad ops."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tests.cases import Inputs, OpCase, node_model, rand

F, I64, B = np.float32, np.int64, np.bool_
I64_MAX, I64_MIN = np.iinfo(np.int64).max, np.iinfo(np.int64).min


def _dims(feed: Sequence[int] | None, shape: Sequence[int | str]) -> tuple[int, ...]:
    """The fed shape: ``feed`` when the model shape has symbolic dims."""
    return tuple(int(d) for d in (feed or shape))


def i64(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int64)


def _feeds(**arrays: Any) -> Inputs:
    """Fixed inputs; float entries given as shapes become random normals."""

    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {k: rng.standard_normal(v).astype(F) if isinstance(v, tuple) else v for k, v in arrays.items()}

    return make


def _slice(cid: str, shape: Sequence[int | str], starts: Sequence[int], ends: Sequence[int],
           axes: Sequence[int] | None = None, steps: Sequence[int] | None = None, dtype: Any = F,
           feed: Sequence[int] | None = None, refused: str | None = None) -> OpCase:
    inits = {"starts": i64(*starts), "ends": i64(*ends)}
    order = ["x", "starts", "ends"]
    if axes is not None:
        inits["axes"] = i64(*axes)
    if steps is not None:
        inits["steps"] = i64(*steps)
        order += ["axes" if axes is not None else "", "steps"]
    elif axes is not None:
        order.append("axes")
    model = node_model("Slice", [("x", dtype, list(shape))], initializers=inits, input_order=order)
    return OpCase(f"Slice_{cid}", "Slice", model, rand(("x", _dims(feed, shape)), dtype=dtype, low=-5, high=5),
                  refused=refused)


def _slice_dynamic(cid: str, starts: Sequence[int], ends: Sequence[int], axes: Sequence[int] | None = None
                   ) -> OpCase:
    inits = {"axes": i64(*axes)} if axes is not None else None
    model = node_model("Slice", [("x", F, ["N", 5, 6]), ("s", I64, [len(starts)]), ("e", I64, [len(ends)])],
                       initializers=inits)
    return OpCase(f"Slice_{cid}", "Slice", model, _feeds(x=(3, 5, 6), s=i64(*starts), e=i64(*ends)))


def _gather(cid: str, shape: Sequence[int | str], idx: np.ndarray, axis: int, const: bool = True, dtype: Any = F,
            feed: Sequence[int] | None = None, op: str = "Gather", **attrs: Any) -> OpCase:
    data = rand(("x", _dims(feed, shape)), dtype=dtype, low=-5, high=5)
    if const:
        model = node_model(op, [("x", dtype, list(shape))], initializers={"i": idx}, axis=axis, **attrs)
        return OpCase(f"{op}_{cid}", op, model, data)
    model = node_model(op, [("x", dtype, list(shape)), ("i", idx.dtype, list(idx.shape))], axis=axis, **attrs)
    return OpCase(f"{op}_{cid}", op, model, lambda rng: {**data(rng), "i": idx})


def _gather_nd(cid: str, shape: Sequence[int], idx: np.ndarray, batch_dims: int = 0, const: bool = False) -> OpCase:
    data = rand(("x", tuple(shape)))
    if const:
        model = node_model("GatherND", [("x", F, list(shape))], initializers={"i": idx}, batch_dims=batch_dims)
        return OpCase(f"GatherND_{cid}", "GatherND", model, data)
    model = node_model("GatherND", [("x", F, list(shape)), ("i", I64, list(idx.shape))], batch_dims=batch_dims)
    return OpCase(f"GatherND_{cid}", "GatherND", model, lambda rng: {**data(rng), "i": idx})


def _scatter(op: str, cid: str, shape: Sequence[int], idx: np.ndarray, upd_shape: Sequence[int],
             const: bool = False, refused: str | None = None, **attrs: Any) -> OpCase:
    data = rand(("x", tuple(shape)), ("u", tuple(upd_shape)))
    if const:
        model = node_model(op, [("x", F, list(shape)), ("u", F, list(upd_shape))], initializers={"i": idx},
                           input_order=["x", "i", "u"], **attrs)
        return OpCase(f"{op}_{cid}", op, model, data, refused=refused)
    model = node_model(op, [("x", F, list(shape)), ("i", I64, list(idx.shape)), ("u", F, list(upd_shape))], **attrs)
    return OpCase(f"{op}_{cid}", op, model, lambda rng: {**data(rng), "i": idx}, refused=refused)


def _pad(cid: str, shape: Sequence[int | str], pads: Sequence[int], mode: str = "constant",
         value: float | None = None, axes: Sequence[int] | None = None, dtype: Any = F,
         feed: Sequence[int] | None = None, refused: str | None = None) -> OpCase:
    inits: dict[str, np.ndarray] = {"pads": i64(*pads)}
    order = ["x", "pads"]
    if value is not None:
        inits["value"] = np.array(value, dtype=dtype)
        order.append("value")
    if axes is not None:
        inits["axes"] = i64(*axes)
        order += ([] if value is not None else [""]) + ["axes"]
    model = node_model("Pad", [("x", dtype, list(shape))], initializers=inits, input_order=order, mode=mode)
    return OpCase(f"Pad_{cid}", "Pad", model, rand(("x", _dims(feed, shape)), dtype=dtype, low=-5, high=5),
                  refused=refused)


def _pad_value_input() -> OpCase:
    model = node_model("Pad", [("x", F, [2, 3]), ("v", F, [])], initializers={"pads": i64(1, 0, 0, 2)},
                       input_order=["x", "pads", "v"])
    return OpCase("Pad_value_input", "Pad", model, _feeds(x=(2, 3), v=np.array(7.5, dtype=F)))


_IDX2 = np.array([[0, 2], [-1, 1], [1, -3]], dtype=np.int64)
_GE_IDX = np.array([[[0, 2], [1, -1], [2, 0]], [[-3, 1], [0, 0], [2, 2]]], dtype=np.int64)  # (2, 3, 2)

CASES: list[OpCase] = [
    _slice("basic", [4, 6], [1, 2], [3, 5]),
    _slice("axes_neg", [2, 5, 6], [-4], [-1], axes=[-1]),
    _slice("steps", [4, 7, 3], [0, 1], [4, 7], axes=[0, 1], steps=[2, 3]),
    _slice("sentinel_end", [3, 5], [1], [I64_MAX], axes=[1]),
    _slice("sentinel_start", [3, 5], [I64_MIN], [2], axes=[0]),
    _slice("reverse", [3, 5], [-1], [I64_MIN], axes=[1], steps=[-1]),
    _slice("reverse_step2", [3, 7], [5, -1], [0, I64_MIN], axes=[1, 0], steps=[-2, -1]),
    _slice("neg_start_neg_step", [3, 7], [-3], [-100], axes=[1], steps=[-1]),
    _slice("start_below_neg_step", [3, 7], [-20], [I64_MIN], axes=[1], steps=[-1]),
    _slice("clamp_big", [3, 5], [-10, 2], [10, 100], axes=[0, 1]),
    _slice("rank5", [2, 3, 4, 5, 6], [1, 0, 1], [3, 2, 5], axes=[2, 4, 3], steps=[1, 1, 2]),
    _slice("int64", [4, 6], [1], [-1], axes=[1], dtype=I64),
    _slice("bool", [4, 6], [0], [3], axes=[0], dtype=B),
    _slice("sym", ["N", 5], [1, -1], [-1, I64_MIN], axes=[0, 1], steps=[1, -1], feed=[4, 5]),
    _slice("sym_sentinels", ["N", 5], [I64_MIN, 2], [I64_MAX, 4], feed=[3, 5]),
    _slice_dynamic("dynamic", [1, 0, 2], [3, 4, 5]),
    _slice_dynamic("dynamic_axes", [1, -3], [-1, 6], axes=[2, 0]),
    _gather("axis0", [5, 3], i64(4, 0, 2), 0),
    _gather("axis1_neg_const", [3, 5, 2], i64(-1, 0, -5), 1),
    _gather("axis_neg_2d", [3, 4, 2], _IDX2, -2),
    _gather("scalar", [3, 4], np.array(-2, dtype=np.int64), 1),
    _gather("dyn_neg", [3, 5, 2], _IDX2, 1, const=False),
    _gather("dyn_scalar", [4, 3], np.array(-1, dtype=np.int64), 0, const=False),
    _gather("dyn_sym", ["N", 3], i64(-1, 0), 0, const=False, feed=[4, 3]),
    _gather("int64_data", [5, 3], i64(1, 3), 0, dtype=I64),
    _gather("bool_data", [5, 3], i64(-1, 3), 0, dtype=B),
    _gather("int32_idx", [5, 3], np.array([2, -1], dtype=np.int32), 1, const=False),
    _gather("rank5", [2, 3, 4, 2, 3], i64(3, 0), 2),
    _gather("axis0", [3, 4], np.array([[0, 1, 2, 0], [2, -1, 0, 1]], dtype=np.int64), 0, op="GatherElements"),
    _gather("axis1_dyn", [2, 4, 2], _GE_IDX, 1, const=False, op="GatherElements"),
    _gather("axis_last_dyn", [2, 3, 4], _GE_IDX, -1, const=False, op="GatherElements"),
    _gather("axis0_dyn", [3, 3, 2], _GE_IDX, 0, const=False, op="GatherElements"),
    _gather("int64", [3, 4], np.array([[3, 1], [0, -2], [1, 1]], dtype=np.int64), 1, dtype=I64,
            op="GatherElements"),
    _gather_nd("full", [3, 4], np.array([[0, 1], [2, -1]], dtype=np.int64)),
    _gather_nd("partial", [3, 4, 2], np.array([[[2], [-3]]], dtype=np.int64)),
    _gather_nd("const", [3, 4, 2], np.array([[1, -2], [0, 3]], dtype=np.int64), const=True),
    _gather_nd("batch1", [2, 3, 4], np.array([[[1], [2]], [[0], [-1]]], dtype=np.int64), batch_dims=1),
    _scatter("ScatterND", "rows", [4, 3], np.array([[1], [-1]], dtype=np.int64), [2, 3]),
    _scatter("ScatterND", "elems_const", [4, 3], np.array([[1, 2], [3, 0]], dtype=np.int64), [2], const=True),
    _scatter("ScatterND", "add_dupes", [4, 3], np.array([[1], [2], [1]], dtype=np.int64), [3, 3], reduction="add"),
    _scatter("ScatterND", "mul", [4, 3], np.array([[1], [2]], dtype=np.int64), [2, 3], refused="attribute",
             reduction="mul"),
    _scatter("ScatterElements", "add_dupes", [3, 4], np.array([[1, 0], [1, 0], [2, -1]], dtype=np.int64), [3, 2],
             axis=1, reduction="add"),
    _scatter("ScatterElements", "axis0", [3, 4], np.array([[1, 0, 2, -1], [0, 2, 1, 0]], dtype=np.int64), [2, 4]),
    _scatter("ScatterElements", "axis1_const", [3, 4], np.array([[3, 1], [0, 2], [-1, 0]], dtype=np.int64),
             [3, 2], const=True, axis=1),
    _pad("constant", [2, 3, 4], [0, 1, 2, 1, 0, 3]),
    _pad("constant_value", [2, 3], [1, 2, 2, 0], value=-1.5),
    _pad("negative", [4, 5], [-1, 2, 1, -2], value=3.0),
    _pad("axes", [2, 3, 4], [1, 2, 3, 0], axes=[-1, 1], value=1.0),
    _pad("int64", [2, 3], [1, 0, 0, 1], dtype=I64, value=4),
    _pad("reflect", [1, 2, 4, 5], [0, 0, 2, 1, 0, 0, 1, 3], mode="reflect"),
    _pad("reflect_neg", [3, 5], [1, -1, 0, 2], mode="reflect"),
    _pad("edge", [1, 2, 3, 4], [0, 0, 2, 1, 0, 0, 1, 3], mode="edge"),
    _pad("edge_neg", [3, 5], [2, -1, -1, 2], mode="edge"),
    _pad("edge_sym", ["N", 3], [0, 2, 0, 1], mode="edge", feed=[2, 3]),
    _pad("wrap", [3, 4], [2, 1, 1, 3], mode="wrap"),
    _pad("sym_constant", ["N", 3, 4], [0, 1, 0, 0, 1, 2], feed=[2, 3, 4]),
    _pad("sym_reflect", ["N", 4], [0, 1, 0, 2], mode="reflect", feed=[3, 4]),
    _pad_value_input(),
    _slice("rank1_reverse", [7], [I64_MAX], [I64_MIN], steps=[-1]),
    _gather("rank1", [6], i64(5, -6, 2), 0),
    _pad("rank1_edge", [5], [2, 3], mode="edge"),
    _pad("rank1_reflect", [5], [3, 1], mode="reflect"),
    OpCase("Pad_pads_input", "Pad", node_model("Pad", [("x", F, [2, 3]), ("p", I64, [4])]),
           _feeds(x=(2, 3), p=i64(1, 0, 0, 1))),
    OpCase("Slice_dynamic_neg_step", "Slice",
           node_model("Slice", [("x", F, [4, 5]), ("s", I64, [1]), ("e", I64, [1])],
                      initializers={"axes": i64(1), "steps": i64(-1)}),
           _feeds(x=(4, 5), s=i64(3), e=i64(0)), refused="needs_constant_input"),
    _slice("sym_neg_step_start", ["N", 5], [-2], [I64_MIN], axes=[0], steps=[-1], feed=[4, 5]),
]
