"""Parity cases for models exported with dynamic axes: symbolic batch / sequence / H / W dims.

Each case runs on two or more feed sets (``more_inputs``) with other sizes of the symbolic dims, on one converted
model. Some models hide their intermediate dims from shape inference on purpose (a Reshape whose shape comes from
Shape -> Gather -> Concat), as exported transformers do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from tests.cases import UNDER_TEST, OpCase, node_model, rand, with_output_types

F, I64 = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64
Dims = Sequence[int | str | None]


def _model(nodes: list[onnx.NodeProto], inputs: list[tuple[str, Dims]], outputs: Sequence[str] = ("y",),
           inits: dict[str, np.ndarray] | None = None, opset: int = 21, key: str | None = None
           ) -> Callable[[], onnx.ModelProto]:
    """A builder of a float model from ``nodes``; ``inputs`` are (name, dims) with symbolic dims as strings.

    The nodes of the op under test (``key``, else the last node's op) are named ``UNDER_TEST...`` for the
    emission check.
    """
    for k, node in enumerate(nodes):
        node.name = f"{UNDER_TEST}_{k}" if node.op_type == (key or nodes[-1].op_type) else f"n{k}"

    def build() -> onnx.ModelProto:
        graph = helper.make_graph(
            nodes, "dynamic", [helper.make_tensor_value_info(n, F, list(d)) for n, d in inputs],
            [onnx.ValueInfoProto(name=o) for o in outputs],
            [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])
        return with_output_types(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]))

    return build


def _case(tag: str, key: str, model: Callable[[], onnx.ModelProto], *feeds: Sequence[tuple[str, Sequence[int]]],
          dtype: Any = np.float32, **kw: Any) -> OpCase:
    """A case with one feed set per ``feeds`` entry ((name, shape) pairs of random float inputs)."""
    values = {} if dtype is np.float32 else {"low": -50, "high": 50}
    first, *more = (rand(*f, dtype=dtype, **values) for f in feeds)
    return OpCase(f"dynamic-{tag}", key, model, first, more_inputs=tuple(more), **kw)


def _i64(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def _hidden(x: str, y: str, prefix: str) -> list[onnx.NodeProto]:
    """``y = Reshape(x, Concat(Shape(x)[i] ...))``: the same tensor, its dims unknown to shape inference."""
    return [helper.make_node("Shape", [x], [f"{prefix}_shape"]),
            helper.make_node("Identity", [f"{prefix}_shape"], [f"{prefix}_dims"]),
            helper.make_node("Reshape", [x, f"{prefix}_dims"], [y])]


def _matmul(tag: str, sa: Dims, sb: Dims, *feeds: tuple[Sequence[int], Sequence[int]], hide: bool = False) -> OpCase:
    nodes = [*_hidden("a", "ah", "a"), *_hidden("b", "bh", "b"), helper.make_node("MatMul", ["ah", "bh"], ["y"])] \
        if hide else [helper.make_node("MatMul", ["a", "b"], ["y"])]
    return _case(f"MatMul-{tag}", "MatMul", _model(nodes, [("a", sa), ("b", sb)]),
                 *[[("a", fa), ("b", fb)] for fa, fb in feeds])


def _attention() -> OpCase:
    """Scaled dot-product attention of a transformer exported with dynamic batch and sequence: the heads are split
    by a Reshape whose shape is computed from Shape (so Q, K, V dims are unknown), then Q K^T and softmax(..) V."""
    nodes = [
        helper.make_node("Shape", ["x"], ["xs"]),
        helper.make_node("Gather", ["xs", "i0"], ["b"], axis=0),
        helper.make_node("Gather", ["xs", "i1"], ["s"], axis=0),
        helper.make_node("Concat", ["b", "s", "heads", "head_dim"], ["split_shape"], axis=0),
        helper.make_node("MatMul", ["x", "wq"], ["q0"]),
        helper.make_node("MatMul", ["x", "wk"], ["k0"]),
        helper.make_node("MatMul", ["x", "wv"], ["v0"]),
        helper.make_node("Reshape", ["q0", "split_shape"], ["q1"]),
        helper.make_node("Reshape", ["k0", "split_shape"], ["k1"]),
        helper.make_node("Reshape", ["v0", "split_shape"], ["v1"]),
        helper.make_node("Transpose", ["q1"], ["q"], perm=[0, 2, 1, 3]),
        helper.make_node("Transpose", ["k1"], ["kt"], perm=[0, 2, 3, 1]),
        helper.make_node("Transpose", ["v1"], ["v"], perm=[0, 2, 1, 3]),
        helper.make_node("MatMul", ["q", "kt"], ["scores"]),
        helper.make_node("Softmax", ["scores"], ["p"], axis=-1),
        helper.make_node("MatMul", ["p", "v"], ["ctx"]),
        helper.make_node("Transpose", ["ctx"], ["ctx_t"], perm=[0, 2, 1, 3]),
        helper.make_node("Concat", ["b", "s", "hidden"], ["merge_shape"], axis=0),
        helper.make_node("Reshape", ["ctx_t", "merge_shape"], ["y"]),
    ]
    rng = np.random.default_rng(3)
    w = {k: (rng.standard_normal((8, 8)) * 0.3).astype(np.float32) for k in ("wq", "wk", "wv")}
    inits = {**w, "i0": _i64(0), "i1": _i64(1), "heads": _i64(2), "head_dim": _i64(4), "hidden": _i64(8)}
    return _case("attention", "MatMul", _model(nodes, [("x", ["batch", "seq", 8])], inits=inits, key="MatMul"),
                 [("x", (2, 5, 8))], [("x", (1, 3, 8))], [("x", (3, 1, 8))])


def _resize(tag: str, dims: Dims, feeds: Sequence[Sequence[int]], *, scales: Sequence[float] | None = None,
            sizes: Sequence[int] | None = None, refused: str | None = None, **attrs: Any) -> OpCase:
    inits = {"scales": np.array(scales, dtype=np.float32)} if scales is not None else {"sizes": _i64(*sizes or ())}
    ins = ["x", "", "scales"] if scales is not None else ["x", "", "", "sizes"]
    node = helper.make_node("Resize", ins, ["y"], **attrs)
    return _case(f"Resize-{tag}", "Resize", _model([node], [("x", dims)], inits=inits), *[[("x", f)] for f in feeds],
                 refused=refused)


def _resize_like(tag: str, *feeds: tuple[Sequence[int], Sequence[int]], **attrs: Any) -> OpCase:
    """FPN-style: resize ``x`` to the spatial size of ``ref`` (sizes computed at run time from Shape)."""
    nodes = [helper.make_node("Shape", ["x"], ["xs"], end=2), helper.make_node("Shape", ["ref"], ["rs"], start=2),
             helper.make_node("Concat", ["xs", "rs"], ["sizes"], axis=0),
             helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], **attrs)]
    model = _model(nodes, [("x", ["N", 3, "H", "W"]), ("ref", ["N", 1, "H2", "W2"])])
    return _case(f"Resize-sizes_runtime_{tag}", "Resize", model, *[[("x", x), ("ref", r)] for x, r in feeds])


def _resize_in_convnet() -> OpCase:
    """Conv -> Resize (scales 2, unknown H, W) -> Conv: the run-time size is read in the channels-last layout."""
    rng = np.random.default_rng(7)
    inits = {"w1": (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32),
             "w2": (rng.standard_normal((2, 4, 1, 1)) * 0.3).astype(np.float32),
             "scales": np.array([1, 1, 2, 2], np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Resize", ["c1", "", "scales"], ["up"], mode="nearest",
                              coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
             helper.make_node("Conv", ["up", "w2"], ["y"])]
    model = _model(nodes, [("x", ["N", 3, "H", "W"])], inits=inits, key="Resize")
    return _case("Resize-in_convnet", "Resize", model, [("x", (1, 3, 4, 5))], [("x", (2, 3, 3, 2))])


def _reshape_runtime() -> OpCase:
    """Reshape [B, S, 8] -> [B, S, 2, 4] with the shape built from Shape -> Gather -> Concat."""
    nodes = [helper.make_node("Shape", ["x"], ["xs"]),
             helper.make_node("Gather", ["xs", "idx"], ["bs"], axis=0),
             helper.make_node("Concat", ["bs", "tail"], ["shape"], axis=0),
             helper.make_node("Reshape", ["x", "shape"], ["y"])]
    model = _model(nodes, [("x", ["B", "S", 8])], inits={"idx": _i64(0, 1), "tail": _i64(2, 4)})
    return _case("Reshape-runtime_shape", "Reshape", model, [("x", (2, 3, 8))], [("x", (1, 5, 8))])


def _reshape_zero_runtime() -> OpCase:
    """Reshape with a run-time shape of known length holding 0 (copy the input dim) entries."""
    nodes = [helper.make_node("Shape", ["x"], ["xs"]),
             helper.make_node("Gather", ["xs", "idx"], ["s"], axis=0),
             helper.make_node("Concat", ["zero", "s", "minus1"], ["shape"], axis=0),
             helper.make_node("Reshape", ["x", "shape"], ["y"])]
    model = _model(nodes, [("x", ["B", "S", 6])], inits={"idx": _i64(1), "zero": _i64(0), "minus1": _i64(-1)})
    return _case("Reshape-runtime_zero", "Reshape", model, [("x", (2, 3, 6))], [("x", (3, 2, 6))])


def _reshape_unknown_length() -> OpCase:
    """Reshape by a graph-input shape of unknown length (0 entries copy input dims)."""
    node = helper.make_node("Reshape", ["x", "shape"], ["y"])

    def build() -> onnx.ModelProto:
        node.name = f"{UNDER_TEST}_0"
        graph = helper.make_graph([node], "reshape", [helper.make_tensor_value_info("x", F, ["N", 6]),
                                                      helper.make_tensor_value_info("shape", I64, ["K"])],
                                  [helper.make_tensor_value_info("y", F, ["a", "b", "c"])])
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])

    def feeds(shape: Sequence[int], target: Sequence[int]) -> Callable[[np.random.Generator], dict[str, np.ndarray]]:
        return lambda rng: {**rand(("x", shape))(rng), "shape": _i64(*target)}

    return OpCase("dynamic-Reshape-unknown_length", "Reshape", build, feeds((2, 6), (0, 2, 3)),
                  more_inputs=(feeds((3, 6), (-1, 3, 2)), feeds((4, 6), (0, 0, 1))))


def _expand_runtime() -> OpCase:
    """Expand a [1, 1, S] mask to [B, 1, S] with the shape from Shape (attention-mask broadcasting)."""
    nodes = [helper.make_node("Shape", ["x"], ["xs"]),
             helper.make_node("Gather", ["xs", "idx"], ["b"], axis=0),
             helper.make_node("Shape", ["m"], ["ms"], start=1),
             helper.make_node("Concat", ["b", "ms"], ["shape"], axis=0),
             helper.make_node("Expand", ["m", "shape"], ["y"])]
    model = _model(nodes, [("x", ["B", 4]), ("m", [1, 1, "S"])], inits={"idx": _i64(0)})
    return _case("Expand-runtime_shape", "Expand", model, [("x", (3, 4)), ("m", (1, 1, 5))],
                 [("x", (1, 4)), ("m", (1, 1, 2))])


def _slice_runtime() -> OpCase:
    """Slice x[:, :S-1] with the end computed from Shape (a causal-LM shift)."""
    nodes = [helper.make_node("Shape", ["x"], ["xs"]),
             helper.make_node("Gather", ["xs", "idx"], ["s"], axis=0),
             helper.make_node("Sub", ["s", "one"], ["end"]),
             helper.make_node("Slice", ["x", "zero", "end", "axes"], ["y"])]
    model = _model(nodes, [("x", ["B", "S", 3])], inits={"idx": _i64(1), "one": _i64(1), "zero": _i64(0),
                                                         "axes": _i64(1)})
    return _case("Slice-runtime_end", "Slice", model, [("x", (2, 5, 3))], [("x", (1, 2, 3))])


def _split_uneven() -> OpCase:
    """Split (opset 18 num_outputs) of an unknown dim into 3: chunks of ceil(dim / 3), the last one smaller."""
    node = helper.make_node("Split", ["x"], ["y0", "y1", "y2"], axis=1, num_outputs=3)
    model = _model([node], [("x", [2, "L"])], outputs=("y0", "y1", "y2"))
    return _case("Split-uneven", "Split", model, [("x", (2, 7))], [("x", (2, 9))], [("x", (2, 8))])


def _flatten() -> OpCase:
    nodes = [*_hidden("x", "xh", "x"), helper.make_node("Flatten", ["xh"], ["y"], axis=2)]
    model = _model(nodes, [("x", ["N", "C", "H", "W"])])
    return _case("Flatten-unknown_dims", "Flatten", model, [("x", (2, 3, 4, 5))], [("x", (1, 2, 3, 2))])


def _group_norm() -> OpCase:
    """GroupNormalization over unknown H, W (a diffusion UNet block exported with dynamic image size)."""
    rng = np.random.default_rng(5)
    inits = {"scale": rng.uniform(0.5, 1.5, 4).astype(np.float32), "bias": rng.uniform(-1, 1, 4).astype(np.float32)}
    node = helper.make_node("GroupNormalization", ["x", "scale", "bias"], ["y"], num_groups=2, epsilon=1e-3)
    build = _model([node], [("x", ["N", 4, "H", "W"])], inits=inits)

    def typed() -> onnx.ModelProto:  # onnx shape inference leaves GroupNormalization-21 outputs untyped
        model = build()
        model.graph.output[0].CopyFrom(helper.make_tensor_value_info("y", F, ["N", 4, "H", "W"]))
        return model

    return _case("GroupNormalization-unknown_hw", "GroupNormalization", typed, [("x", (2, 4, 3, 5))],
                 [("x", (1, 4, 6, 2))])


def _block(op: str, dims: Dims, feeds: Sequence[Sequence[int]], **attrs: Any) -> OpCase:
    node = helper.make_node(op, ["x"], ["y"], blocksize=2, **attrs)
    tag = "_".join([op, *(str(v) for v in attrs.values())])
    return _case(f"{tag}-unknown_hw", op, _model([node], [("x", dims)]), *[[("x", f)] for f in feeds])


def _pad(tag: str, pads: Sequence[Sequence[int]], axes: Sequence[int] | None = None, **attrs: Any) -> OpCase:
    """Pad [N, C, L] by a pads input known only at run time (one value set per feed; negative ones crop)."""
    inits = {"axes": _i64(*axes)} if axes is not None else {}
    node = helper.make_node("Pad", ["x", "pads", "", *(["axes"] if axes is not None else [])], ["y"], **attrs)

    def build() -> onnx.ModelProto:
        graph = helper.make_graph([node], "pad", [helper.make_tensor_value_info("x", F, ["N", 3, "L"]),
                                                  helper.make_tensor_value_info("pads", I64, [len(pads[0])])],
                                  [onnx.ValueInfoProto(name="y")],
                                  [numpy_helper.from_array(v, k) for k, v in inits.items()])
        return with_output_types(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)]))

    def feeds(shape: Sequence[int], values: Sequence[int]) -> Callable[[np.random.Generator], dict[str, np.ndarray]]:
        return lambda rng: {**rand(("x", shape))(rng), "pads": _i64(*values)}

    shapes = [(2, 3, 6), (1, 3, 9), (3, 3, 4)]
    first, *more = (feeds(shape, p) for shape, p in zip(shapes, pads, strict=False))
    return OpCase(f"dynamic-Pad-{tag}", "Pad", build, first, more_inputs=tuple(more))


def _gather(index: np.ndarray, axis: int) -> Callable[[], onnx.ModelProto]:
    """``Gather(x[n, 5], constant index)``: a run of constants on a run-time dim becomes a StridedSlice."""
    return _model([helper.make_node("Gather", ["x", "idx"], ["y"], axis=axis)], [("x", ("n", 5))],
                  inits={"idx": index})


def _int_flip(dtype: type, ends: int, steps: Sequence[int], axes: Sequence[int]) -> Callable[[], onnx.ModelProto]:
    """``x[n, 2][::-1]``-style integer slices (torch's pad bookkeeping): a whole-axis flip becomes ReverseV2."""
    inits = {"s": np.full(len(axes), -1, np.int64), "e": np.full(len(axes), ends, np.int64),
             "a": np.array(axes, np.int64), "st": np.array(steps, np.int64)}
    return node_model("Slice", [("x", dtype, ["n", 2])], initializers=inits)


def _deconv(w_shape: Sequence[int], dims: Dims, **attrs: Any) -> Callable[[], onnx.ModelProto]:
    """ConvTranspose on free spatial dims (a text detector's or a U-Net decoder's upsampling head)."""
    rng = np.random.default_rng(3)
    channels = w_shape[1] * attrs.get("group", 1)
    inits = {"w": rng.normal(size=w_shape).astype(np.float32), "b": rng.normal(size=channels).astype(np.float32)}
    return _model([helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], **attrs)], [("x", dims)], inits=inits)


_I64_MIN1 = -(2**63) + 1
CASES = [
    _case("ConvTranspose-k2s2_free_hw", "ConvTranspose", _deconv((4, 3, 2, 2), ("n", 4, "h", "w"), strides=[2, 2]),
          [("x", (1, 4, 5, 7))], [("x", (2, 4, 8, 3))]),
    _case("ConvTranspose-k3s2_pads_output_padding", "ConvTranspose",
          _deconv((4, 2, 3, 3), (1, 4, "h", "w"), strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
          [("x", (1, 4, 5, 6))], [("x", (1, 4, 9, 4))]),
    _case("ConvTranspose-same_upper_s3k2", "ConvTranspose",
          _deconv((4, 2, 2, 2), (1, 4, "h", "w"), strides=[3, 3], auto_pad="SAME_UPPER"),
          [("x", (1, 4, 3, 4))], [("x", (1, 4, 6, 2))]),
    _case("ConvTranspose-grouped_dilated_free_hw", "ConvTranspose",
          _deconv((4, 1, 3, 3), (1, 4, "h", "w"), strides=[2, 1], dilations=[1, 2], group=2),
          [("x", (1, 4, 5, 6))], [("x", (1, 4, 3, 9))]),
    _case("ConvTranspose-1d_free_length", "ConvTranspose", _deconv((4, 3, 4), ("n", 4, "l"), strides=[2], pads=[1, 1]),
          [("x", (1, 4, 7))], [("x", (3, 4, 12))]),
    _case("Slice-int_flip_rows", "Slice", _int_flip(np.int64, _I64_MIN1, [-1], [0]),
          [("x", (3, 2))], [("x", (5, 2))], dtype=np.int64),
    _case("Slice-int_flip_both", "Slice", _int_flip(np.int32, _I64_MIN1, [-1, -1], [0, 1]),
          [("x", (3, 2))], [("x", (1, 2))], dtype=np.int32),
    # tfjs-wasm's StridedSlice with a stride other than 1 returns int32 data as float32 (a tfjs bug; float data
    # is right): proven on cpu only.
    _case("Slice-int_step2_backwards", "Slice", _int_flip(np.int64, _I64_MIN1, [-2], [0]),
          [("x", (5, 2))], [("x", (4, 2))], dtype=np.int64, backends=("cpu",)),
    # Constant indices on data with a run-time dim, including a size-0 run (a detector level without boxes).
    _case("Gather-scalar_on_dynamic", "Gather", _gather(_i64(3).reshape(()), 1),
          [("x", (4, 5))], [("x", (0, 5))], [("x", (1, 5))]),
    _case("Gather-run_on_dynamic", "Gather", _gather(_i64(1, 2, 3), 1), [("x", (4, 5))], [("x", (0, 5))]),
    _case("Gather-negative_on_dynamic", "Gather", _gather(_i64(-2, -1), 1), [("x", (3, 5))], [("x", (0, 5))]),
    _case("Gather-rows_on_dynamic", "Gather", _gather(_i64(0, 1), 0), [("x", (4, 5))], [("x", (2, 5))]),
    _case("Gather-unordered_on_dynamic", "Gather", _gather(_i64(4, 0), 1), [("x", (4, 5))],
          [("x", (2, 5))]),
    _matmul("same_names", ["B", "H", "S", "D"], ["B", "H", "D", "S"], ((2, 3, 4, 5), (2, 3, 5, 4)),
            ((1, 2, 6, 3), (1, 2, 3, 6))),
    _matmul("unknown_equal", ["B", "H", "S", "D"], ["B2", "H2", "D", "S2"], ((2, 3, 4, 5), (2, 3, 5, 4)),
            ((1, 2, 6, 3), (1, 2, 3, 6))),
    _matmul("hidden_dims", ["B", "H", "S", "D"], ["B", "H", "D", "S"], ((2, 3, 4, 5), (2, 3, 5, 4)),
            ((3, 1, 2, 3), (3, 1, 3, 2)), hide=True),
    _matmul("broadcast_b1_1h", ["B", 1, "S", "D"], [1, "H", "D", "S"], ((2, 1, 3, 4), (1, 3, 4, 3)),
            ((3, 1, 2, 4), (1, 4, 4, 2))),
    _matmul("broadcast_unknown", ["B", "X", "S", 4], ["Y", "H", 4, "T"], ((2, 1, 3, 4), (1, 3, 4, 2)),
            ((1, 2, 3, 4), (3, 1, 4, 5)), ((2, 2, 1, 4), (2, 2, 4, 1))),
    _matmul("rank_mismatch", ["B", "H", "S", 4], ["X", 4, "T"], ((2, 3, 5, 4), (1, 4, 2)),
            ((2, 1, 5, 4), (3, 4, 2))),
    _matmul("with_2d", ["B", "S", 4], [4, 6], ((2, 3, 4), (4, 6)), ((1, 7, 4), (4, 6)), hide=True),
    _attention(),
    _resize("nearest_scales2", ["N", "C", "H", "W"], [(1, 2, 3, 4), (2, 1, 5, 2)], scales=[1, 1, 2, 2],
            mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
    _resize("linear_scales2", ["N", 3, "H", "W"], [(1, 3, 3, 4), (2, 3, 5, 2)], scales=[1, 1, 2, 2],
            mode="linear"),
    _resize("linear_align_scales", ["N", 2, "H", "W"], [(1, 2, 3, 4), (1, 2, 5, 2)], scales=[1, 1, 1.5, 2.5],
            mode="linear", coordinate_transformation_mode="align_corners"),
    _resize("nearest_scales_3d", ["N", 2, "L"], [(1, 2, 5), (2, 2, 3)], scales=[1, 1, 3], mode="nearest"),
    _resize("linear_sizes_const", ["N", 2, "H", "W"], [(1, 2, 4, 4), (2, 2, 8, 6)], sizes=[8, 8], axes=[2, 3],
            mode="linear"),
    _resize("nearest_default_scales2", ["N", "C", "H", "W"], [(1, 2, 3, 4), (2, 1, 5, 2)], scales=[1, 1, 2, 2],
            mode="nearest"),
    _resize("linear_sizes_w_only", ["N", 2, "H", "W"], [(1, 2, 3, 4), (2, 2, 5, 8)], sizes=[6], axes=[3],
            mode="linear", coordinate_transformation_mode="align_corners"),
    _resize("nearest_scales_1.5", ["N", 2, "H", "W"], [(1, 2, 3, 4), (1, 2, 5, 2)], scales=[1, 1, 1.5, 1.5],
            mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
    # tfjs samples at in/out, ONNX at 1/scale (equal only where in * 1.5 is an integer): GatherV2 and a blend.
    _resize("linear_scales_1.5", ["N", 2, "H", "W"], [(1, 2, 4, 4), (1, 2, 5, 3)], scales=[1, 1, 1.5, 1.5],
            mode="linear"),
    _resize("linear_scales_0.6_3d", ["N", 2, "L"], [(1, 2, 7), (2, 2, 12)], scales=[1, 1, 0.6], mode="linear",
            coordinate_transformation_mode="asymmetric"),
    _resize_like("linear", ((1, 3, 4, 5), (1, 1, 8, 10)), ((2, 3, 3, 6), (2, 1, 6, 12)), mode="linear"),
    _resize_like("linear_pytorch", ((1, 3, 4, 5), (1, 1, 1, 9)), ((2, 3, 3, 6), (2, 1, 7, 4)), mode="linear",
                 coordinate_transformation_mode="pytorch_half_pixel"),
    _resize_like("linear_symmetric", ((1, 3, 4, 5), (1, 1, 3, 9)), ((2, 3, 3, 6), (2, 1, 7, 4)), mode="linear",
                 coordinate_transformation_mode="half_pixel_symmetric"),
    # No tfjs resize kernel samples like ONNX for every size pair here: GatherV2 with run-time indices.
    _resize_like("nearest_floor", ((1, 3, 14, 5), (1, 1, 2, 7)), ((2, 3, 3, 20), (2, 1, 7, 12)),
                 ((1, 3, 6, 6), (1, 1, 12, 12)), mode="nearest", coordinate_transformation_mode="asymmetric",
                 nearest_mode="floor"),
    _resize_like("nearest_half_pixel", ((1, 3, 4, 5), (1, 1, 6, 3)), ((2, 3, 3, 6), (2, 1, 7, 13)),
                 mode="nearest"),
    _resize_like("nearest_pytorch_ceil", ((1, 3, 4, 5), (1, 1, 1, 3)), ((2, 3, 3, 6), (2, 1, 7, 13)),
                 mode="nearest", coordinate_transformation_mode="pytorch_half_pixel", nearest_mode="ceil"),
    _resize_like("nearest_align_prefer_ceil", ((1, 3, 4, 5), (1, 1, 1, 3)), ((2, 3, 3, 6), (2, 1, 7, 13)),
                 mode="nearest", coordinate_transformation_mode="align_corners", nearest_mode="round_prefer_ceil"),
    _resize_like("nearest_symmetric", ((1, 3, 4, 5), (1, 1, 9, 3)), ((2, 3, 3, 6), (2, 1, 7, 13)),
                 mode="nearest", coordinate_transformation_mode="half_pixel_symmetric"),
    _resize_like("nearest_tf_nn", ((1, 3, 4, 5), (1, 1, 9, 3)), ((2, 3, 3, 6), (2, 1, 7, 13)),
                 mode="nearest", coordinate_transformation_mode="tf_half_pixel_for_nn"),
    _resize("nearest_scales_1.7_prefer_ceil", ["N", 2, "H", "W"], [(1, 2, 3, 4), (1, 2, 5, 7)],
            scales=[1, 1, 1.7, 0.6], mode="nearest", nearest_mode="round_prefer_ceil"),
    _resize("nearest_scales_3d_ceil", ["N", 2, "L"], [(1, 2, 5), (2, 2, 7)], scales=[1, 1, 2.5], mode="nearest",
            coordinate_transformation_mode="half_pixel", nearest_mode="ceil"),
    _resize_in_convnet(),
    _reshape_runtime(),
    _reshape_zero_runtime(),
    _reshape_unknown_length(),
    _expand_runtime(),
    _slice_runtime(),
    _flatten(),
    _split_uneven(),
    _case("Slice-neg_step_neg_start", "Slice",
          _model([helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"])], [("x", ["N", "M"])],
                 inits={"starts": _i64(-2, -2), "ends": _i64(-(2**63), 2**63 - 1), "axes": _i64(0, 1),
                        "steps": _i64(-1, 1)}),
          [("x", (4, 3))], [("x", (1, 5))], [("x", (2, 1))]),
    _pad("runtime_constant", [(0, 1, 2, 1, 0, 3), (1, 0, 0, 0, 2, 1), (0, -1, -2, 0, 1, 1)], mode="constant"),
    _pad("runtime_reflect_axes", [(2, 1), (0, 3), (-1, 2)], axes=[2], mode="reflect"),
    _group_norm(),
    _block("SpaceToDepth", ["N", 3, "H", "W"], [(1, 3, 4, 6), (2, 3, 2, 8)]),
    _block("DepthToSpace", ["N", 8, "H", "W"], [(1, 8, 2, 3), (2, 8, 3, 1)], mode="CRD"),
    _block("DepthToSpace", ["N", "C", "H", "W"], [(1, 8, 2, 3), (2, 4, 3, 1)], mode="DCR"),
]
