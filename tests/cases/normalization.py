"""Parity cases for normalization ops."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper

from tests.cases import Inputs, OpCase, node_model, rand

_F = np.float32
_RNG = np.random.default_rng(7)


def _vec(c: int, low: float = -1.0, high: float = 1.0) -> np.ndarray:
    return _RNG.uniform(low, high, size=c).astype(_F)


def _bn_params(c: int) -> dict[str, np.ndarray]:
    return {"scale": _vec(c, 0.5, 1.5), "bias": _vec(c), "mean": _vec(c), "var": _vec(c, 0.2, 2.0)}


def _bn_const(shape: Sequence[int], **attrs: Any) -> OpCase:
    name = "x".join(map(str, shape))
    return OpCase(f"BatchNormalization_const_{name}", "BatchNormalization",
                  node_model("BatchNormalization", [("x", _F, shape)], initializers=_bn_params(shape[1]), **attrs),
                  rand(("x", shape)))


def _bn_inputs(shape: Sequence[int]) -> Inputs:
    def make(rng: np.random.Generator) -> dict[str, np.ndarray]:
        c = shape[1]
        return {"x": rng.uniform(-2, 2, shape).astype(_F), "scale": rng.uniform(0.5, 1.5, c).astype(_F),
                "bias": rng.uniform(-1, 1, c).astype(_F), "mean": rng.uniform(-1, 1, c).astype(_F),
                "var": rng.uniform(0.2, 2.0, c).astype(_F)}
    return make


def _bn_dynamic(shape: Sequence[int]) -> OpCase:
    c = shape[1]
    ins = [("x", _F, shape)] + [(n, _F, [c]) for n in ("scale", "bias", "mean", "var")]
    return OpCase(f"BatchNormalization_dynamic_rank{len(shape)}", "BatchNormalization",
                  node_model("BatchNormalization", ins, epsilon=1e-3), _bn_inputs(shape))


def _instance(shape: Sequence[int], dynamic: bool = False) -> OpCase:
    c = shape[1]
    params = {"scale": _vec(c, 0.5, 1.5), "bias": _vec(c)}
    if dynamic:
        model = node_model("InstanceNormalization", [("x", _F, shape), ("scale", _F, [c]), ("bias", _F, [c])],
                           epsilon=1e-3)
        inputs = rand(("x", shape), ("scale", [c]), ("bias", [c]))
    else:
        model = node_model("InstanceNormalization", [("x", _F, shape)], initializers=params)
        inputs = rand(("x", shape))
    return OpCase(f"InstanceNormalization_rank{len(shape)}{'_dynamic' if dynamic else ''}", "InstanceNormalization",
                  model, inputs)


def _layer(shape: Sequence[int], axis: int, bias: bool = True, outputs: Sequence[str] = ("y",),
           **attrs: Any) -> OpCase:
    pshape = list(shape[axis:])
    inits = {"scale": _RNG.uniform(0.5, 1.5, pshape).astype(_F)}
    if bias:
        inits["bias"] = _RNG.uniform(-1, 1, pshape).astype(_F)
    tag = f"axis{axis}{'' if bias else '_nobias'}_{len(outputs)}out" + "".join(f"_{k}{v}" for k, v in attrs.items())
    return OpCase(f"LayerNormalization_{tag}", "LayerNormalization",
                  node_model("LayerNormalization", [("x", _F, shape)], outputs, initializers=inits, axis=axis, **attrs),
                  rand(("x", shape)))


def _lp(p: int, axis: int) -> OpCase:
    return OpCase(f"LpNormalization_p{p}_axis{axis}", "LpNormalization",
                  node_model("LpNormalization", [("x", _F, [2, 3, 5])], p=p, axis=axis), rand(("x", (2, 3, 5))))


def _typed_output(build: Callable[[], onnx.ModelProto], shape: Sequence[int]) -> Callable[[], onnx.ModelProto]:
    """onnx shape inference leaves GroupNormalization-21 outputs untyped: type them by hand."""

    def typed() -> onnx.ModelProto:
        model = build()
        model.graph.output[0].CopyFrom(helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, shape))
        return model

    return typed


def _group(shape: Sequence[int], groups: int, opset: int = 21) -> OpCase:
    c = shape[1] if opset >= 21 else groups  # opset 18 has one scale/bias per group
    model = node_model("GroupNormalization", [("x", _F, shape)], num_groups=groups, epsilon=1e-3, opset=opset,
                       initializers={"scale": _vec(c, 0.5, 1.5), "bias": _vec(c)})
    return OpCase(f"GroupNormalization_{len(shape)}d_g{groups}_opset{opset}", "GroupNormalization",
                  _typed_output(model, shape), rand(("x", shape)))


def _lrn(size: int, refused: str | None = None, **attrs: Any) -> OpCase:
    shape = (2, 7, 3, 5)
    return OpCase(f"LRN_size{size}" + "".join(f"_{k}{v}" for k, v in attrs.items()), "LRN",
                  node_model("LRN", [("x", _F, shape)], size=size, **attrs), rand(("x", shape)), refused=refused)


CASES = [
    _bn_const((2, 3)), _bn_const((2, 3, 5)), _bn_const((2, 3, 4, 5)), _bn_const((2, 3, 4, 5, 6), epsilon=1e-2),
    _bn_dynamic((2, 3)), _bn_dynamic((2, 3, 4, 5)),
    OpCase("BatchNormalization_training", "BatchNormalization",
           node_model("BatchNormalization", [("x", _F, (2, 3, 4, 5))], ("y", "running_mean", "running_var"),
                      initializers=_bn_params(3), training_mode=1),
           rand(("x", (2, 3, 4, 5))), refused="attribute"),
    _instance((2, 3, 7)), _instance((2, 3, 4, 5)), _instance((2, 3, 4, 5, 6)), _instance((2, 3, 4, 5), dynamic=True),
    _layer((2, 3, 4, 5), -1), _layer((2, 3, 4, 5), 1), _layer((2, 3, 4, 5), -2, bias=False),
    _layer((2, 3, 5), 2, epsilon=1e-2), _layer((2, 3, 4, 5), -2, outputs=("y", "mean", "inv_std")),
    _layer((2, 3, 4, 5), 2, outputs=("y", "mean")), _layer((4, 6), 0, stash_type=1),
    _lp(2, -1), _lp(2, 1), _lp(1, 0), _lp(1, -1),
    OpCase("LpNormalization_p3", "LpNormalization", node_model("LpNormalization", [("x", _F, [2, 3])], p=3),
           rand(("x", (2, 3))), refused="attribute"),
    _group((2, 6, 4, 5), 3), _group((2, 6, 4, 5), 6), _group((2, 4, 7), 1), _group((2, 4, 3, 2, 5), 2),
    _group((2, 6, 4, 5), 3, opset=18),
    _lrn(3), _lrn(5, alpha=0.02, beta=0.5, bias=2.0), _lrn(1), _lrn(4, refused="attribute"),
]
