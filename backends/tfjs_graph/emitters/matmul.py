"""Matrix products: MatMul and Gemm via tfjs MatMul/BatchMatMulV2 (integers via Mul + Sum)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import onnx_ir as ir

from backends.tfjs_graph.emitters.common import (
    RUNTIME_SHAPE_OPS,
    broadcast_shapes,
    concat_dims,
    dims_ref,
    int_const,
    invalid,
    runtime_shape,
    transpose,
)
from backends.tfjs_graph.graph import Attr, TfNode
from backends.tfjs_graph.registry import TFJS, EmitCtx, fail

Dim = int | str | None
MATMUL_OPS = frozenset({"MatMul", "BatchMatMulV2", "ExpandDims", "Mul", "Sum", "Transpose"})


def is_float(ctx: EmitCtx, i: int = 0) -> bool:
    return ctx.dtype(i) == ir.DataType.FLOAT


def matmul(ctx: EmitCtx, a: str, b: str, ranks: tuple[int, int], adj: tuple[bool, bool] = (False, False),
           suffix: str = "matmul") -> str:
    """``a @ b`` for operands of rank >= 2 with numpy batch broadcasting (see ``safe_batches``).

    tfjs MatMul kernels are float32 only on wasm, so integers use an exact int32 Mul + Sum instead.
    """
    ra, rb = ranks
    if is_float(ctx):
        t = {"T": Attr.dtype("DT_FLOAT")}
        if ra == rb == 2:
            # A transposed operand sends tfjs wasm from XNNPACK to its naive loop: transposing first is cheaper.
            a = transpose(ctx, a, [1, 0], f"{suffix}/adj_a") if adj[0] else a
            b = transpose(ctx, b, [1, 0], f"{suffix}/adj_b") if adj[1] else b
            no = Attr.b(False)
            return ctx.add("MatMul", [a, b], t | {"transpose_a": no, "transpose_b": no}, suffix=suffix)
        return ctx.add("BatchMatMulV2", [a, b], t | {"adj_x": Attr.b(adj[0]), "adj_y": Attr.b(adj[1])},
                       suffix=suffix)
    if adj[0]:
        a = transpose(ctx, a, [*range(ra - 2), ra - 1, ra - 2], f"{suffix}/adj_a")
    if adj[1]:
        b = transpose(ctx, b, [*range(rb - 2), rb - 1, rb - 2], f"{suffix}/adj_b")
    # [..., M, K, 1] * [..., 1, K, N] summed over K: exact int32 arithmetic on every backend.
    t = {"T": Attr.dtype("DT_INT32")}
    a3 = ctx.add("ExpandDims", [a, int_const(ctx, ra, f"{suffix}/a_axis")], suffix=f"{suffix}/a")
    b3 = ctx.add("ExpandDims", [b, int_const(ctx, rb - 2, f"{suffix}/b_axis")], suffix=f"{suffix}/b")
    prod = ctx.add("Mul", [a3, b3], t, suffix=f"{suffix}/mul")
    axis = int_const(ctx, [max(ra, rb) - 1], f"{suffix}/k_axis")
    return ctx.add("Sum", [prod, axis], t | {"keep_dims": Attr.b(False)}, suffix=suffix)


def dims(ctx: EmitCtx, i: int) -> list[Dim]:
    """Input ``i``'s dims: ints, symbolic names (equal names are equal sizes) or None."""
    shape = ctx.value(i).shape
    if shape is None:
        raise fail("dynamic_shape", f"rank of input {i} is unknown", "run shape inference")
    return [d if isinstance(d, int) else getattr(d, "value", None) for d in shape]


def _broadcast(x: Sequence[Dim], y: Sequence[Dim]) -> list[Dim]:
    n = max(len(x), len(y))
    xs, ys = [1] * (n - len(x)) + list(x), [1] * (n - len(y)) + list(y)
    return [b if a == 1 else a if b == 1 or a == b else None for a, b in zip(xs, ys, strict=True)]


def _flat_ok(mine: Sequence[Dim], other: Sequence[Dim]) -> bool:
    """tfjs indexes a flattened batch modulo its size: right only for leading 1s then the output's dims.

    Unknown dims count as equal only when they carry the same symbolic name, or when the other operand's dim
    is 1 (then the output takes this operand's dim whatever it is).
    """
    n = max(len(mine), len(other))
    a, b = [1] * (n - len(mine)) + list(mine), [1] * (n - len(other)) + list(other)
    p = next((i for i, d in enumerate(a) if d != 1), n)
    return all(y == 1 or (x is not None and x == y) for x, y in zip(a[p:], b[p:], strict=True))


def safe_batches(ctx: EmitCtx, refs: list[str], shapes: list[list[Dim]]) -> list[str]:
    """BroadcastTo the operands whose batch dims tfjs MatMul would broadcast wrongly (e.g. [2,1] x [1,3]).

    Static batch dims give a constant target shape; unknown ones a target computed at run time
    (``BroadcastArgs`` of the operands' batch shapes, then the operand's own matrix dims).
    """
    if not is_float(ctx):
        return refs  # the Mul + Sum form broadcasts like numpy
    out = _broadcast(shapes[0][:-2], shapes[1][:-2])
    fixed = []
    common: str | None = None
    run_shapes: dict[int, str] = {}

    def _shape(ref: str, shape: list[Dim], k: int) -> str | None:
        """The run-time shape of operand ``k``, read once (None when static)."""
        if all(isinstance(d, int) for d in shape):
            return None
        if k not in run_shapes:
            run_shapes[k] = runtime_shape(ctx, ref, f"shape{k}")
        return run_shapes[k]

    for j, (ref, shape) in enumerate(zip(refs, shapes, strict=True)):
        if _flat_ok(shape[:-2], shapes[1 - j][:-2]):
            fixed.append(ref)
            continue
        target = [d for d in [*out, *shape[-2:]] if isinstance(d, int)]
        if len(target) == len(out) + 2:
            fixed.append(ctx.add("BroadcastTo", [ref, int_const(ctx, target, f"broadcast{j}/shape")],
                                 suffix=f"broadcast{j}"))
            continue
        if common is None:
            batches = [dims_ref(ctx, r, s, 0, len(s) - 2, f"batch{k}", shape=_shape(r, s, k))
                       for k, (r, s) in enumerate(zip(refs, shapes, strict=True)) if len(s) > 2]
            common = batches[0] if len(batches) == 1 else broadcast_shapes(ctx, batches[0], batches[1], "batch")
        rows = dims_ref(ctx, ref, shape, len(shape) - 2, None, f"broadcast{j}/matrix", shape=_shape(ref, shape, j))
        target_ref = concat_dims(ctx, [common, rows], f"broadcast{j}/shape")
        fixed.append(ctx.add("BroadcastTo", [ref, target_ref], {"T": Attr.dtype("DT_FLOAT")}, suffix=f"broadcast{j}"))
    return fixed


def _lead_target(ctx: EmitCtx, a: str, pad: int, sa: list[Dim], n: int) -> str:
    """The output shape ``[1] * pad + A.shape[:-1] + [n]``: constant unless two of A's dims are unknown (one is -1)."""
    lead = list(sa[:-1])
    if sum(not isinstance(d, int) for d in lead) <= 1:
        return int_const(ctx, [1] * pad + [d if isinstance(d, int) else -1 for d in lead] + [n], "unflat/shape")
    return concat_dims(ctx, [[1] * pad, dims_ref(ctx, a, sa, 0, len(lead), "unflat/lead"), [n]], "unflat/shape")


def _flat_weight(ctx: EmitCtx, b: str, rank: int, k: int, n: int) -> str:
    """B with all batch dims 1 as the 2-D ``[k, n]`` matrix (a constant is reshaped here)."""
    if rank == 2:
        return b
    value = ctx.const(1)
    if value is not None:
        return ctx.constant(value.reshape(k, n), "b_2d")
    return _reshape(ctx, b, [k, n], "b_2d")


def linear(ctx: EmitCtx, shapes: list[list[Dim]]) -> str | None:
    """``A @ B`` as Reshape(A, [-1, K]) -> 2-D MatMul -> Reshape(.., [..., N]) when B's batch dims are all 1.

    tfjs runs a rank-2 MatMul several times faster than the broadcast BatchMatMul over the same numbers (wasm:
    ~7x for [1,56,56,48] x [48,192]), and a rank-2 MatMul fuses its bias and activation (passes/fuse.py). The
    reshapes between consecutive linears cancel in passes/linear.py. None when the form does not apply
    (integers, vectors, batched B, or K / N unknown).
    """
    sa, sb = shapes
    ra, rb = len(sa), len(sb)
    if not is_float(ctx) or min(ra, rb) < 2 or max(ra, rb) < 3 or any(d != 1 for d in sb[:-2]):
        return None
    if rb > ra and any(d != 1 for d in sa[:-2]):
        return None  # the output takes B's (size-1) batch rank over A's real batch: leave it to BatchMatMul
    k = next((d for d in (sa[-1], sb[-2]) if isinstance(d, int)), None)
    n = sb[-1]
    if k is None or not isinstance(n, int):
        return None
    a = ctx.input(0) if ra == 2 else _reshape(ctx, ctx.input(0), [-1, k], "flat")
    y = matmul(ctx, a, _flat_weight(ctx, ctx.input(1), rb, k, n), (2, 2))
    lead = _ints(sa[:-1])
    rows = math.prod(lead) if lead is not None else None
    ctx.graph.shapes[y] = (rows, n)  # passes/linear.py reads the 2-D shape of the product
    target = _lead_target(ctx, ctx.input(0), rb - ra, sa, n)
    return ctx.add("Reshape", [y, target], {"T": Attr.dtype("DT_FLOAT")}, suffix="unflat")


# The split's price in multiply-adds of the naive kernel it avoids: per product, ops and copying its operands
# (measured with tfjs 4.22 wasm, 1 thread: the naive loop ~1.2 ns per multiply-add, XNNPACK ~0.1 ns, a copied
# float ~1 ns, ~0.1 ms per op of graph overhead).
SPLIT_OP_COST = 100_000


def _split_pays(count: int, m: int, k: int, n: int) -> bool:
    """Whether ``count`` 2-D products of [m, k] x [k, n] beat one naive batched product."""
    return m * k * n >= count * (m * k + k * n) + SPLIT_OP_COST


# A batched product's smallest size for the depthwise form, in multiply-adds: below, its ~7 nodes of graph
# overhead (~0.1 ms) cost more than the naive kernel (~1.2 ns per multiply-add) saves.
DEPTHWISE_MIN_MACS = 150_000


def _depthwise_pays(count: int, ia: list[int], ib: list[int]) -> bool:
    """Whether ``[.., M, K] x [.., K, N]`` runs as one depthwise conv: both operands carry the whole batch."""
    if math.prod(ia[:-2]) != count or math.prod(ib[:-2]) != count:
        return False
    return count * ia[-2] * ia[-1] * ib[-1] >= DEPTHWISE_MIN_MACS


def _depthwise(ctx: EmitCtx, count: int, ia: list[int], ib: list[int]) -> str:
    """``[B, M, K] x [B, K, N]`` as one DepthwiseConv2dNative: input ``[1, M, K, B]``, filter ``[1, K, B, N]``.

    Channel b of the input convolved (VALID, a 1 x K window) with its N filters is A[b] @ B[b]: the output
    ``[1, M, 1, B * N]`` is the products side by side. tfjs wasm runs it through XNNPACK as B small GEMMs, 3-10x
    faster than its naive BatchMatMul loop and than B separate MatMuls (whose Split costs more than it saves).
    The filter may be a run-time tensor. Measured in docs/benchmarks.md ("Batched matmul").
    """
    (m, k), n = ia[-2:], ib[-1]
    a = _reshape(ctx, transpose(ctx, _reshape(ctx, ctx.input(0), [count, m, k], "dw/a3"), [1, 2, 0], "dw/a_t"),
                 [1, m, k, count], "dw/x")
    f = _reshape(ctx, transpose(ctx, _reshape(ctx, ctx.input(1), [count, k, n], "dw/b3"), [1, 0, 2], "dw/b_t"),
                 [1, k, count, n], "dw/filter")
    one = Attr.ints([1, 1, 1, 1])
    y = ctx.add("DepthwiseConv2dNative", [a, f], {"strides": one, "dilations": one, "padding": Attr.s("VALID"),
                "explicit_paddings": Attr.ints([]), "data_format": Attr.s("NHWC"), "T": Attr.dtype("DT_FLOAT")},
                suffix="dw")
    y = transpose(ctx, _reshape(ctx, y, [m, count, n], "dw/y3"), [1, 0, 2], "dw/y_t")
    out = _broadcast(ia[:-2], ib[:-2])
    return _reshape(ctx, y, [*[int(d) for d in out if d is not None], m, n], "unbatch")


def _split(ctx: EmitCtx, ref: str, axis: int, count: int, suffix: str) -> list[str]:
    """``count`` equal pieces of ``ref`` along ``axis``.

    tfjs wasm slices in JavaScript and reads the whole input once per piece (Split and Unpack alike), so the
    split form pays only where the products it frees from the naive loop are big (see ``HEAD_SPLIT_MAX``).
    """
    node = ctx.add("Split", [int_const(ctx, axis, f"{suffix}/axis"), ref],
                   {"num_split": Attr.i(count), "T": Attr.dtype("DT_FLOAT")}, suffix=suffix)
    return [node if k == 0 else f"{node}:{k}" for k in range(count)]


def _producer(ctx: EmitCtx, ref: str, op: str) -> TfNode | None:
    """The node of output 0 ``ref`` when it is an ``op`` (searched from the end: producers are recent)."""
    if ":" in ref:
        return None
    return next((n for n in reversed(ctx.graph.nodes) if n.name == ref and n.op == op), None)


def _head_view(ctx: EmitCtx, ref: str, count: int) -> tuple[str, int, int, bool] | None:
    """``ref`` as heads of a projection: ``Transpose(Reshape(x, [1.., T, h, d]), [.., h, T, d] or [.., h, d, T])``.

    Returns (x, T, h * d, whether the heads are transposed) with ``count == h``. Then head k's matrix is a slice of
    the 2-D ``[T, h * d]`` x along its feature axis (or of its transpose), without the head-split transpose.
    """
    t = _producer(ctx, ref, "Transpose")
    r = _producer(ctx, t.inputs[0], "Reshape") if t is not None else None
    if t is None or r is None:
        return None
    perm = ctx.graph.const_value(t.inputs[1])
    shape = _ints(ctx.graph.shapes.get(r.name) or [None])
    if perm is None or shape is None or len(shape) < 3 or any(d != 1 for d in shape[:-3]):
        return None
    lead = len(shape) - 3
    tokens, heads, width = shape[lead:]
    rest = [int(p) - lead for p in perm]
    # Reshape is a row-major reinterpretation: x as [T, h * d] holds the same numbers whatever its own shape.
    if heads != count or rest[:lead] != list(range(-lead, 0)) or rest[lead:] not in ([1, 0, 2], [1, 2, 0]):
        return None
    return r.inputs[0], tokens, heads * width, rest[lead:] == [1, 2, 0]


# Up to this many heads, attention runs as per-head 2-D MatMuls on slices of the projections (no head-split
# transposes); more heads, or batches that are not heads of a projection, run as one depthwise conv.
HEAD_SPLIT_MAX = 8


def _few_heads(ctx: EmitCtx, count: int) -> bool:
    """Whether either operand is ``count <= HEAD_SPLIT_MAX`` heads of a projection (``_head_view``)."""
    return count <= HEAD_SPLIT_MAX and any(_head_view(ctx, ctx.input(i), count) is not None for i in (0, 1))


def _matrices(ctx: EmitCtx, i: int, shape: list[int], count: int) -> list[str]:
    """Input ``i`` (static ``shape``) as ``count`` 2-D matrices.

    Heads of a projection (``_head_view``) are slices of its 2-D form along the feature axis (transposed once when
    the product wants each head transposed); anything else is its flattened ``[count * M, K]`` form split along
    its rows.
    """
    ref = ctx.input(i)
    if count == 1:
        return [_reshape(ctx, ref, shape[-2:], f"m{i}")] if len(shape) != 2 else [ref]
    view = _head_view(ctx, ref, count)
    if view is not None:
        x, tokens, features, transposed = view
        if tuple(ctx.graph.shapes.get(x) or ()) != (tokens, features):
            x = _reshape(ctx, x, [tokens, features], f"m{i}/2d")
        if transposed:
            return _split(ctx, transpose(ctx, x, [1, 0], f"m{i}/t"), 0, count, f"m{i}")
        return _split(ctx, x, 1, count, f"m{i}")
    rows = _reshape(ctx, ref, [count * shape[-2], shape[-1]], f"m{i}/rows")
    return _split(ctx, rows, 0, count, f"m{i}")


def split_batches(ctx: EmitCtx, shapes: list[list[Dim]]) -> str | None:
    """A batched float product as one 2-D MatMul per batch (Split -> MatMul x n -> ConcatV2 -> Reshape).

    The tfjs wasm BatchMatMul kernel takes the XNNPACK path only for a batch of 1 without transposes; any other
    batch runs a naive loop ~20x slower (attention scores [heads, T, d] x [heads, d, T]). Needs static batch dims.
    """
    sa, sb = shapes
    if not is_float(ctx) or min(len(sa), len(sb)) < 2 or max(len(sa), len(sb)) < 3:
        return None
    ia, ib = _ints(sa), _ints(sb)
    out = _ints(_broadcast(sa[:-2], sb[:-2]))
    if ia is None or ib is None or not out:
        return None
    count = math.prod(out)
    if count < 2:
        return None
    if not _few_heads(ctx, count) and _depthwise_pays(count, ia, ib):
        return _depthwise(ctx, count, ia, ib)
    if not _split_pays(count, ia[-2], ia[-1], ib[-1]):
        return None
    mats = [_matrices(ctx, 0, ia, math.prod(ia[:-2])), _matrices(ctx, 1, ib, math.prod(ib[:-2]))]
    products = [matmul(ctx, mats[0][_flat_index(index, ia[:-2])], mats[1][_flat_index(index, ib[:-2])], (2, 2),
                       suffix=f"matmul{k}") for k, index in enumerate(np.ndindex(*out))]
    m, n = ia[-2], ib[-1]
    if _heads_merged(ctx, len(out)):
        # [M, h * N] side by side is the merged-heads layout the next Transpose + Reshape asks for: they cancel
        # against this Reshape + Transpose (passes/transposes.py), leaving no head-merge copy.
        wide = _concat(ctx, products, 1)
        return transpose(ctx, _reshape(ctx, wide, [*out[:-1], m, count, n], "heads"), [*range(len(out) - 1),
                         len(out), len(out) - 1, len(out) + 1], "unbatch")
    return _reshape(ctx, _concat(ctx, products, 0), [*out, m, n], "unbatch")


def _concat(ctx: EmitCtx, refs: list[str], axis: int) -> str:
    attrs = {"N": Attr.i(len(refs)), "T": Attr.dtype("DT_FLOAT"), "Tidx": Attr.dtype("DT_INT32")}
    return ctx.add("ConcatV2", [*refs, int_const(ctx, axis, "concat/axis")], attrs, suffix="concat")


def _heads_merged(ctx: EmitCtx, batch_rank: int) -> bool:
    """Whether the product's only use is the head-merge ``Transpose(.., [.., 2, 1, 3])`` of a leading-1s batch."""
    uses = list(ctx.node.outputs[0].uses())
    if len(uses) != 1 or ctx.node.outputs[0].is_graph_output() or uses[0].node.op_type != "Transpose":
        return False
    lead = batch_rank - 1
    perm = uses[0].node.attributes.get("perm")
    shape = ctx.out_shape()
    if perm is None or shape is None or any(d != 1 for d in shape[:lead]):
        return False
    return list(perm.value) == [*range(lead), lead + 1, lead, lead + 2]


def _ints(dims: Sequence[Dim]) -> list[int] | None:
    """``dims`` when all are known sizes, else None."""
    return [d for d in dims if isinstance(d, int)] if all(isinstance(d, int) for d in dims) else None


def _flat_index(index: tuple[int, ...], batch: list[int]) -> int:
    """The flat batch position of output batch ``index`` in an operand with (broadcast) batch dims ``batch``."""
    own = index[len(index) - len(batch):]
    flat = 0
    for i, d in zip(own, batch, strict=True):
        flat = flat * d + (0 if d == 1 else i)
    return flat


@TFJS.rule("MatMul", produces=MATMUL_OPS | RUNTIME_SHAPE_OPS | {"Squeeze", "BroadcastTo", "Reshape", "Split",
                                                                "ConcatV2", "DepthwiseConv2dNative"},
           limits=("batch dims not provably equal (unknown at conversion) are broadcast at run time "
                   "(Shape, BroadcastArgs, BroadcastTo)",))
def mat_mul(ctx: EmitCtx) -> None:
    """MatMul(A, B) -> Y."""
    shapes = [dims(ctx, 0), dims(ctx, 1)]
    if (y := linear(ctx, shapes) or split_batches(ctx, shapes)) is not None:
        ctx.set_output(0, y)
        return
    refs = [ctx.input(0), ctx.input(1)]
    ra, rb = len(shapes[0]), len(shapes[1])
    if ra == 1:
        refs[0] = ctx.add("ExpandDims", [refs[0], int_const(ctx, 0, "a_row/axis")], suffix="a_row")
        shapes[0] = [1, *shapes[0]]
    if rb == 1:
        refs[1] = ctx.add("ExpandDims", [refs[1], int_const(ctx, 1, "b_col/axis")], suffix="b_col")
        shapes[1] = [*shapes[1], 1]
    refs = safe_batches(ctx, refs, shapes)
    y = matmul(ctx, refs[0], refs[1], (len(shapes[0]), len(shapes[1])))
    out_rank = max(len(shapes[0]), len(shapes[1]))
    squeeze = ([out_rank - 2] if ra == 1 else []) + ([out_rank - 1] if rb == 1 else [])
    if squeeze:
        y = ctx.add("Squeeze", [y], {"squeeze_dims": Attr.ints(squeeze), "T": Attr.dtype(ctx.out_dtype())},
                    suffix="squeeze")
    ctx.set_output(0, y)


@TFJS.rule("Gemm", produces={"MatMul", "Mul", "AddV2", "Transpose"}, limits=("float32 only",))
def gemm(ctx: EmitCtx) -> None:
    """Gemm(A, B, C?; alpha, beta, transA, transB) -> Y."""
    if not is_float(ctx):
        raise fail("dtype", "Gemm is emitted for float32 only", "use MatMul for integer products")
    alpha, beta = float(ctx.attr("alpha", 1.0)), float(ctx.attr("beta", 1.0))
    adj = (bool(ctx.attr("transA", 0)), bool(ctx.attr("transB", 0)))
    t = {"T": Attr.dtype("DT_FLOAT")}
    b, b_const = ctx.input(1), ctx.const(1)
    if b_const is not None and (adj[1] or alpha != 1.0):
        # Constant weights are transposed and scaled here: a transposed operand sends tfjs wasm to its naive
        # matmul loop, whose fused bias is wrong (tfjs 4.22), and a Mul after the product would keep the bias
        # from fusing.
        w = b_const.T if adj[1] else b_const
        b, adj = ctx.constant(np.ascontiguousarray(w * np.float32(alpha), dtype=np.float32), "b_t"), (adj[0], False)
        alpha = 1.0
    y = matmul(ctx, ctx.input(0), b, (2, 2), adj)
    if alpha != 1.0:
        y = ctx.add("Mul", [y, ctx.constant(np.float32(alpha), "alpha")], t, suffix="alpha")
    if ctx.has_input(2) and beta != 0.0:
        c_const = ctx.const(2)
        if beta == 1.0:
            c = ctx.input(2)
        elif c_const is not None:
            c = ctx.constant((c_const * np.float32(beta)).astype(np.float32), "beta_c")
        else:
            c = ctx.add("Mul", [ctx.input(2), ctx.constant(np.float32(beta), "beta")], t, suffix="beta")
        y = ctx.add("AddV2", [y, c], t, suffix="add_c")
    ctx.set_output(0, y)


def _parse_einsum(equation: str, n_inputs: int) -> tuple[list[str], str]:
    """Operand terms and the output term; rejects what neither the lowering nor tfjs Einsum can do."""
    eq = equation.replace(" ", "")
    if "..." in eq:
        raise fail("attribute", "Einsum with '...' (ellipsis) is not supported by TensorFlow.js",
                   "spell out the broadcast dimensions with explicit labels")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if not arrow:  # implicit output: the labels used once, in alphabetical order
        rhs = "".join(sorted(c for c in set(lhs) if lhs.count(c) == 1 and c.isalpha()))
    if len(terms) != n_inputs or len(terms) > 2:
        raise fail("attribute", f"Einsum with {n_inputs} operands: TensorFlow.js supports one or two")
    for term in [*terms, rhs]:
        if not all(c.isalpha() and c.isascii() for c in term) or len(set(term)) != len(term):
            raise fail("attribute", f"Einsum term '{term}' repeats a label (diagonal) or has an invalid label",
                       "TensorFlow.js einsum allows each label at most once per operand")
    if set(rhs) - set("".join(terms)):
        raise fail("attribute", f"Einsum output '{rhs}' has a label no operand has")
    return terms, rhs


def _sum_private(ctx: EmitCtx, ref: str, term: str, keep: str, j: int) -> tuple[str, str]:
    """Sum away the labels of ``term`` that are not in ``keep``."""
    axes = [i for i, c in enumerate(term) if c not in keep]
    if not axes:
        return ref, term
    t = {"T": Attr.dtype(ctx.out_dtype()), "keep_dims": Attr.b(False)}
    ref = ctx.add("Sum", [ref, int_const(ctx, axes, f"sum{j}/axes")], t, suffix=f"sum{j}")
    return ref, "".join(c for c in term if c in keep)


def _arrange(ctx: EmitCtx, ref: str, term: str, layouts: list[str], j: int) -> tuple[str, str, bool]:
    """Transpose ``ref`` to the first of ``layouts`` unless it already has one; returns (ref, layout, adj)."""
    for k, layout in enumerate(layouts):
        if term == layout:
            return ref, layout, k == 1
    return transpose(ctx, ref, [term.index(c) for c in layouts[0]], f"arrange{j}"), layouts[0], False


def _group_shape(sizes: dict[str, Dim], groups: list[str]) -> list[int] | None:
    """Reshape target that merges each group of labels; None when more than one size is unknown."""
    out: list[int] = []
    for group in groups:
        size: int | None = 1
        for c in group:
            d = sizes[c]
            size = size * d if isinstance(d, int) and size is not None else None
        out.append(-1 if size is None else size)
    return out if out.count(-1) <= 1 else None


def _reshape(ctx: EmitCtx, ref: str, shape: list[int], suffix: str) -> str:
    return ctx.add("Reshape", [ref, int_const(ctx, shape, f"{suffix}/shape")], {"T": Attr.dtype(ctx.out_dtype())},
                   suffix=suffix)


class _Lowering:
    """Two-operand einsum as (sum private labels) -> transpose -> reshape -> batched matmul -> reshape -> transpose."""

    def __init__(self, ctx: EmitCtx, terms: list[str], rhs: str) -> None:
        self.ctx, self.rhs = ctx, rhs
        ta, tb = terms
        self.sizes: dict[str, Dim] = {}
        for i, term in enumerate(terms):
            for c, d in zip(term, dims(ctx, i), strict=True):
                if self.sizes.get(c) is None:
                    self.sizes[c] = d if isinstance(d, int) else None
        self.batch = "".join(c for c in rhs if c in ta and c in tb)
        self.free_a = "".join(c for c in rhs if c in ta and c not in tb)
        self.free_b = "".join(c for c in rhs if c in tb and c not in ta)
        self.contract = "".join(c for c in ta if c in tb and c not in rhs)

    def plain(self) -> bool:
        """One label per matrix group: BatchMatMulV2 works on the operands without reshapes."""
        return len(self.free_a) == len(self.free_b) == len(self.contract) == 1

    def shapes(self) -> tuple[list[int], list[int], list[int]] | None:
        batch = list(self.batch)
        shapes = (_group_shape(self.sizes, [*batch, self.free_a, self.contract]),
                  _group_shape(self.sizes, [*batch, self.contract, self.free_b]),
                  _group_shape(self.sizes, [*batch, *self.free_a, *self.free_b]))
        return None if any(s is None for s in shapes) else shapes  # type: ignore[return-value]

    def emit(self, a: str, b: str, ta: str, tb: str) -> str:
        ctx, bt, fa, fb, k = self.ctx, self.batch, self.free_a, self.free_b, self.contract
        a, ta = _sum_private(ctx, a, ta, bt + fa + k, 0)
        b, tb = _sum_private(ctx, b, tb, bt + fb + k, 1)
        shapes = None if self.plain() else self.shapes()
        a, ta, adj_a = _arrange(ctx, a, ta, [bt + fa + k, bt + k + fa] if self.plain() else [bt + fa + k], 0)
        b, tb, adj_b = _arrange(ctx, b, tb, [bt + k + fb, bt + fb + k] if self.plain() else [bt + k + fb], 1)
        rank = len(bt) + 2
        if shapes is not None:
            a, b = _reshape(ctx, a, shapes[0], "a_groups"), _reshape(ctx, b, shapes[1], "b_groups")
        y = matmul(ctx, a, b, (rank, rank), (adj_a, adj_b))
        if shapes is not None:
            y = _reshape(ctx, y, shapes[2], "out_groups")
        got = bt + fa + fb
        return transpose(ctx, y, [got.index(c) for c in self.rhs], "to_output")


def _einsum_op(ctx: EmitCtx, terms: list[str], rhs: str) -> str:
    """The tfjs Einsum op (no wasm kernel); labels renamed to lower case since the JS mapper lower-cases."""
    labels = list(dict.fromkeys("".join(terms) + rhs))
    if len(labels) > 26:
        raise fail("attribute", "Einsum with more than 26 distinct labels cannot be lower-cased for TensorFlow.js")
    rename = {c: chr(ord("a") + i) for i, c in enumerate(labels)}
    eq = ",".join("".join(rename[c] for c in t) for t in terms) + "->" + "".join(rename[c] for c in rhs)
    attrs = {"equation": Attr.s(eq), "N": Attr.i(len(terms)), "T": Attr.dtype(ctx.out_dtype())}
    return ctx.add("Einsum", ctx.inputs(), attrs)


@TFJS.rule("Einsum", produces=MATMUL_OPS | {"Reshape", "Einsum"},
           limits=("at most two operands", "no '...' (ellipsis) and no repeated label within one operand",
                   "shapes the lowering cannot reshape statically fall back to the tfjs Einsum op (no wasm kernel)"))
def einsum(ctx: EmitCtx) -> None:
    """Einsum(Inputs...; equation) -> Output."""
    eq = ctx.attr("equation", "")
    terms, rhs = _parse_einsum(eq.decode() if isinstance(eq, bytes) else str(eq), len(ctx.node.inputs))
    for i, term in enumerate(terms):
        if len(term) != len(dims(ctx, i)):
            raise invalid(ctx, f"equation term '{term}' has {len(term)} labels, input {i} has rank {len(dims(ctx, i))}")
    if len(terms) == 1:
        x, term = _sum_private(ctx, ctx.input(0), terms[0], rhs, 0)
        y = transpose(ctx, x, [term.index(c) for c in rhs], "to_output")
        ctx.set_output(0, ctx.add("Identity", [y], suffix="out") if y == ctx.input(0) else y)
        return
    lowering = _Lowering(ctx, terms, rhs)
    if lowering.plain() or lowering.shapes() is not None:
        ctx.set_output(0, lowering.emit(ctx.input(0), ctx.input(1), *terms))
    elif is_float(ctx):
        ctx.set_output(0, _einsum_op(ctx, terms, rhs))
    else:
        raise fail("dynamic_shape", "integer Einsum needs static sizes to be lowered to Mul + Sum")
