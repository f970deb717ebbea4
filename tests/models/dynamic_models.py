"""Real architectures exported to ONNX with dynamic axes (issue 14), built offline with random weights.

Each ``DynSpec`` describes one model: how to build it (a torch module, or an ONNX ModelProto for the hand-written
control-flow graphs), its inputs with symbolic dimensions, >= 2 concrete shape sets, and a feed builder. ``exported``
exports a model with one exporter (``torchscript``: ``dynamo=False`` + ``dynamic_axes``; ``dynamo``: ``dynamo=True``
+ ``dynamic_shapes``) into a cache, together with the torch outputs on every shape set's feeds; ``measure`` converts
the file once (no pinning of any dimension), runs it in TensorFlow.js on each shape set and backend and compares with
onnxruntime, and says in one line how it went. tests/test_dynamic_models.py and scripts/dynamic_report.py share it.

Hugging Face models come from small configs (2 layers, hidden 32, 4 heads) with every weight randomized
(``randomize_all``), torchvision models from ``weights=None, weights_backbone=None``. Nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parents[2]
FORMAT = 2  # bump when a generator changes: the cache key
EXPORTERS = ("torchscript", "dynamo")
OPSET = {"torchscript": 17, "dynamo": 18, "onnx": 18}
TOL = 1e-4  # max |tfjs - onnxruntime| <= TOL * max(1, max |reference|)

# A dimension is an int or a symbol name; a shape set gives every symbol a value.
Dim = int | str
Feeds = dict[str, np.ndarray]


@dataclass(frozen=True)
class InputSpec:
    name: str
    dims: tuple[Dim, ...]
    dtype: str = "float32"  # numpy dtype name
    # int inputs: values in [0, high); "mask": ones with a padded tail on rows after the first
    high: int = 100
    kind: str = "normal"  # normal | ids | mask | scalar


@dataclass(frozen=True)
class DynSpec:
    name: str
    family: str  # hf | torchvision | torch | onnx
    build: Callable[[], Any]  # torch.nn.Module (its forward takes the inputs in order) or onnx.ModelProto
    inputs: tuple[InputSpec, ...]
    shape_sets: tuple[dict[str, int], ...]
    exporters: tuple[str, ...] = EXPORTERS
    outputs: tuple[str, ...] = ("output",)
    # values of scalar inputs per shape set (hand-written graphs): {input: [value per shape set]}
    scalars: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    notes: str = ""
    # exporters the slow test leaves to scripts/dynamic_report.py (their export alone takes minutes)
    report_only: tuple[str, ...] = ()

    def dynamic_dims(self) -> str:
        """``input_ids[batch,seq]`` ... for the report."""
        return ", ".join(f"{i.name}[{','.join(str(d) for d in i.dims)}]" for i in self.inputs
                         if any(isinstance(d, str) for d in i.dims))

    def shapes_tried(self) -> str:
        """``batch=1,seq=7 / batch=3,seq=19``, with the values of scalar inputs."""
        return " / ".join(",".join([f"{k}={v}" for k, v in s.items()]
                                   + [f"{n}={v[i]}" for n, v in self.scalars.items()])
                          for i, s in enumerate(self.shape_sets))

    def feeds(self, index: int) -> Feeds:
        """Seeded feeds for shape set ``index``."""
        rng = np.random.default_rng(1000 + index)
        values = self.shape_sets[index]
        out: Feeds = {}
        for spec in self.inputs:
            shape = tuple(values[d] if isinstance(d, str) else d for d in spec.dims)
            if spec.kind == "scalar":
                out[spec.name] = np.array(self.scalars[spec.name][index], dtype=spec.dtype)
            elif spec.kind == "ids":
                out[spec.name] = rng.integers(0, spec.high, shape).astype(spec.dtype)
            elif spec.kind == "mask":
                mask = np.ones(shape, spec.dtype)
                for row in range(1, shape[0]):  # padded tails of different lengths (row 0 unpadded)
                    mask[row, shape[1] - min(shape[1] - 1, 2 * row):] = 0
                out[spec.name] = mask
            else:
                out[spec.name] = rng.standard_normal(shape).astype(spec.dtype)
        return out


# -- torch helpers ------------------------------------------------------------------------------------
def randomize_all(model: Any, seed: int = 0) -> Any:
    """Every parameter and buffer-statistic random: LeCun-normal weights, small biases, norm affine around 1,
    random BatchNorm statistics, embeddings and other tensors N(0, 0.5); returns the model in eval mode."""
    import torch
    from torch import nn

    gen = torch.Generator().manual_seed(seed)

    def uniform(t: torch.Tensor, lo: float, hi: float) -> None:
        t.copy_(torch.rand(t.shape, generator=gen) * (hi - lo) + lo)

    done: set[int] = set()
    norms = (nn.LayerNorm, nn.GroupNorm, nn.BatchNorm1d, nn.BatchNorm2d, nn.InstanceNorm2d)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, norms) or type(m).__name__.endswith(("LayerNorm", "RMSNorm")):
                w, b = getattr(m, "weight", None), getattr(m, "bias", None)
                if isinstance(w, torch.Tensor):
                    uniform(w, 0.5, 1.5)
                    done.add(id(w))
                if isinstance(b, torch.Tensor):
                    uniform(b, -0.2, 0.2)
                    done.add(id(b))
                mean, var = getattr(m, "running_mean", None), getattr(m, "running_var", None)
                if isinstance(mean, torch.Tensor) and isinstance(var, torch.Tensor):
                    mean.copy_(torch.randn(mean.shape, generator=gen) * 0.2)
                    uniform(var, 0.5, 2.0)
        for name, p in model.named_parameters():
            if id(p) in done:
                continue
            if p.dim() >= 2 and not name.endswith(("embeddings.weight", "wte.weight", "wpe.weight", "shared.weight")):
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(fan_in))
            elif name.endswith("bias"):
                uniform(p, -0.1, 0.1)
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    return model.eval()


def _wrap(model: Any, call: Callable[..., Any]) -> Any:
    """A module whose forward(*inputs) is ``call(model, *inputs)`` and returns one tensor."""
    from torch import nn

    class Wrapped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args: Any) -> Any:
            return call(self.model, *args)

    return Wrapped().eval()


# -- Hugging Face --------------------------------------------------------------------------------------
TEXT = (InputSpec("input_ids", ("batch", "seq"), "int64", kind="ids"),
        InputSpec("attention_mask", ("batch", "seq"), "int64", kind="mask"))
TEXT_SHAPES = ({"batch": 1, "seq": 7}, {"batch": 3, "seq": 19})


def _hf(cls_name: str, config_name: str, **config: Any) -> Any:
    import_torchvision()  # transformers imports torchvision when installed
    import transformers

    cfg = getattr(transformers, config_name)(**config)
    cfg._attn_implementation = "eager"  # plain MatMul/Softmax attention, the common export path
    return getattr(transformers, cls_name)(cfg)


def bert() -> Any:
    m = _hf("BertModel", "BertConfig", vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=64, max_position_embeddings=64)
    return _wrap(randomize_all(m), lambda m, ids, mask: m(input_ids=ids, attention_mask=mask).last_hidden_state)


def distilbert() -> Any:
    m = _hf("DistilBertModel", "DistilBertConfig", vocab_size=100, dim=32, n_layers=2, n_heads=4, hidden_dim=64,
            max_position_embeddings=64)
    return _wrap(randomize_all(m), lambda m, ids, mask: m(input_ids=ids, attention_mask=mask).last_hidden_state)


def gpt2() -> Any:
    m = _hf("GPT2Model", "GPT2Config", vocab_size=100, n_embd=32, n_layer=2, n_head=4, n_positions=64,
            use_cache=False)
    return _wrap(randomize_all(m),
                 lambda m, ids, mask: m(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state)


def t5_encoder() -> Any:
    m = _hf("T5EncoderModel", "T5Config", vocab_size=100, d_model=32, d_ff=64, d_kv=8, num_heads=4, num_layers=2,
            relative_attention_num_buckets=8, relative_attention_max_distance=16, use_cache=False)
    return _wrap(randomize_all(m), lambda m, ids, mask: m(input_ids=ids, attention_mask=mask).last_hidden_state)


def t5() -> Any:
    """T5 encoder-decoder without cache (teacher forcing: decoder_input_ids given)."""
    m = _hf("T5Model", "T5Config", vocab_size=100, d_model=32, d_ff=64, d_kv=8, num_heads=4, num_layers=2,
            num_decoder_layers=2, relative_attention_num_buckets=8, relative_attention_max_distance=16,
            use_cache=False, decoder_start_token_id=0, pad_token_id=0)
    return _wrap(randomize_all(m), lambda m, ids, mask, dec: m(input_ids=ids, attention_mask=mask,
                                                               decoder_input_ids=dec, use_cache=False)
                 .last_hidden_state)


def _pixels(model: Any) -> Any:
    return _wrap(randomize_all(model), lambda m, x: m(pixel_values=x).last_hidden_state)


def vit() -> Any:
    return _pixels(_hf("ViTModel", "ViTConfig", image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2,
                       num_attention_heads=4, intermediate_size=64, add_pooling_layer=False))


def vit_interpolated() -> Any:
    """ViT at free resolution: the position table is resized (bicubic) to the patch grid at run time."""
    m = _hf("ViTModel", "ViTConfig", image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2,
            num_attention_heads=4, intermediate_size=64, add_pooling_layer=False)
    return _wrap(randomize_all(m), lambda m, x: m(pixel_values=x, interpolate_pos_encoding=True).last_hidden_state)


def swin() -> Any:
    return _pixels(_hf("SwinModel", "SwinConfig", image_size=32, patch_size=4, embed_dim=16, depths=[1, 1],
                       num_heads=[2, 4], window_size=4, mlp_ratio=2.0))


def segformer() -> Any:
    return _pixels(_hf("SegformerModel", "SegformerConfig", num_encoder_blocks=2, depths=[1, 1],
                       sr_ratios=[2, 1], hidden_sizes=[16, 32], patch_sizes=[7, 3], strides=[4, 2],
                       num_attention_heads=[1, 2], mlp_ratios=[2, 2]))


def mobilevit() -> Any:
    return _pixels(_hf("MobileViTModel", "MobileViTConfig", image_size=64, patch_size=2, hidden_sizes=[16, 24, 32],
                       neck_hidden_sizes=[8, 8, 16, 16, 24, 32, 64], num_attention_heads=2, expand_ratio=2.0))


def convnext() -> Any:
    return _pixels(_hf("ConvNextModel", "ConvNextConfig", hidden_sizes=[8, 16, 32, 64], depths=[1, 1, 1, 1]))


def wav2vec2() -> Any:
    m = _hf("Wav2Vec2Model", "Wav2Vec2Config", hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
            intermediate_size=64, conv_dim=(16, 16, 16), conv_kernel=(10, 3, 3), conv_stride=(5, 2, 2),
            num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=4, feat_extract_norm="group",
            do_stable_layer_norm=False, mask_time_prob=0.0)
    return _wrap(randomize_all(m), lambda m, x: m(input_values=x).last_hidden_state)


def whisper_encoder() -> Any:
    m = _hf("WhisperModel", "WhisperConfig", vocab_size=100, num_mel_bins=8, d_model=32, encoder_layers=2,
            decoder_layers=1, encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64,
            decoder_ffn_dim=64, max_source_positions=16, max_target_positions=16,
            pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=0)
    return _wrap(randomize_all(m.get_encoder()), lambda m, x: m(input_features=x).last_hidden_state)


def _image(*dims: Dim) -> tuple[InputSpec, ...]:
    return (InputSpec("pixel_values", dims),)


# -- torchvision ---------------------------------------------------------------------------------------
def _has_ops() -> bool:  # a plain function: torchvision's scripted code (under tracing) calls it
    return True


def import_torchvision() -> Any:
    """torchvision, with its ``nms``/``roi_align`` ops defined in Python when its compiled extension does not load.

    PyPI's torchvision wheel is a CUDA build whose ``_C`` needs libtorch_cuda, absent from the CPU torch installed
    here; the models and the ONNX symbolics are Python, only these two kernels are native.
    """
    try:
        import torchvision

        return torchvision
    except RuntimeError as e:
        if "torchvision::" not in str(e):
            raise
    import torch

    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]
    lib = torch.library.Library("torchvision", "DEF")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("roi_align(Tensor input, Tensor rois, float spatial_scale, SymInt pooled_height, "
               "SymInt pooled_width, int sampling_ratio, bool aligned) -> Tensor")

    def nms(dets: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
        order = scores.argsort(descending=True)
        keep: list[int] = []
        suppressed = torch.zeros(len(order), dtype=torch.bool)
        area = (dets[:, 2] - dets[:, 0]) * (dets[:, 3] - dets[:, 1])
        for i in range(len(order)):
            if suppressed[i]:
                continue
            a = order[i]
            keep.append(int(a))
            rest = order[i + 1:]
            lt = torch.maximum(dets[a, :2], dets[rest, :2])
            rb = torch.minimum(dets[a, 2:], dets[rest, 2:])
            inter = (rb - lt).clamp(min=0).prod(dim=1)
            iou = inter / (area[a] + area[rest] - inter)
            suppressed[i + 1:] |= iou > iou_threshold
        return torch.tensor(keep, dtype=torch.int64)

    lib.impl("nms", nms, "CPU")
    lib.impl("qnms", nms, "CPU")
    import torchvision
    import torchvision.extension

    ra = sys.modules["torchvision.ops.roi_align"]  # (the package attribute of that name is the function)

    def roi_align(input: torch.Tensor, rois: torch.Tensor, spatial_scale: float, ph: int, pw: int,
                  sampling_ratio: int, aligned: bool) -> torch.Tensor:
        plain = getattr(ra._roi_align, "__wrapped__", ra._roi_align)  # without its lazy torch.compile
        return plain(input, rois, spatial_scale, ph, pw, sampling_ratio, aligned)

    lib.impl("roi_align", roi_align, "CPU")
    torch.library.register_fake("torchvision::roi_align")(
        lambda input, rois, s, ph, pw, sr, al: input.new_empty((rois.shape[0], input.shape[1], ph, pw)))
    torchvision.extension._has_ops = _has_ops
    ra._has_ops = _has_ops
    import_torchvision.lib = lib  # type: ignore[attr-defined]  # keep the definitions alive
    return torchvision


def lraspp() -> Any:
    tv = import_torchvision()
    m = tv.models.segmentation.lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=4)
    return _wrap(randomize_all(m), lambda m, x: m(x)["out"])


def _detector(ctor: str) -> Any:
    tv = import_torchvision()
    m = getattr(tv.models.detection, ctor)(weights=None, weights_backbone=None, num_classes=3)

    def call(m: Any, x: Any) -> Any:
        det = m(list(x))[0]
        return det["boxes"], det["scores"], det["labels"]

    return _wrap(randomize_all(m), call)


def ssdlite() -> Any:
    return _detector("ssdlite320_mobilenet_v3_large")


def fasterrcnn() -> Any:
    return _detector("fasterrcnn_mobilenet_v3_large_320_fpn")


def yolo_head() -> Any:
    """YOLO-style neck/head: strided conv backbone, Resize(scale 2) upsampling, Concat skip, 1x1 prediction conv."""
    import torch
    from torch import nn

    def cbs(cin: int, cout: int, k: int, s: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, bias=False), nn.BatchNorm2d(cout), nn.SiLU())

    class YoloHead(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1, self.c2, self.c3 = cbs(3, 8, 3, 2), cbs(8, 16, 3, 2), cbs(16, 32, 3, 2)
            self.lat = cbs(32, 16, 1, 1)
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            self.fuse = cbs(32, 16, 3, 1)
            self.p4 = nn.Conv2d(16, 3 * 7, 1)
            self.p5 = nn.Conv2d(16, 3 * 7, 1)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            f4 = self.c2(self.c1(x))
            f5 = self.lat(self.c3(f4))
            y4 = self.fuse(torch.cat([self.up(f5), f4], dim=1))
            return self.p4(y4), torch.sigmoid(self.p5(f5))

    return randomize_all(YoloHead())


def dbnet_head() -> Any:
    """DBNet-style text detector: FPN (nearest Resize to the skip's size, bilinear x2), ConvTranspose x2 head."""
    import torch
    import torch.nn.functional as F  # noqa: N812
    from torch import nn

    class DBHead(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1, self.c2 = nn.Conv2d(3, 8, 3, 2, 1), nn.Conv2d(8, 16, 3, 2, 1)
            self.l1, self.l2 = nn.Conv2d(8, 8, 1), nn.Conv2d(16, 8, 1)
            self.head = nn.Sequential(nn.Conv2d(16, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.ConvTranspose2d(8, 8, 2, 2), nn.BatchNorm2d(8), nn.ReLU(),
                                      nn.ConvTranspose2d(8, 1, 2, 2))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            a = F.relu(self.c1(x))
            b = F.relu(self.c2(a))
            p2 = self.l2(b)
            p1 = self.l1(a) + F.interpolate(p2, size=a.shape[2:], mode="nearest")
            up = F.interpolate(p2, scale_factor=2, mode="bilinear", align_corners=False)
            return self.head(torch.cat([p1, up], 1))  # logits of the text probability map

    return randomize_all(DBHead())


# -- hand-written ONNX ---------------------------------------------------------------------------------
def _model(graph: onnx.GraphProto) -> onnx.ModelProto:
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET["onnx"])], producer_name="tfjs-pivot")
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    return m


def _f(name: str, dims: tuple[Dim, ...]) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(dims))


def if_scalar() -> onnx.ModelProto:
    """If whose predicate is ``t > 0`` for an input scalar ``t``: then x * 2 + 1, else exp(-x)."""
    two, one = (helper.make_tensor(n, TensorProto.FLOAT, [], [v]) for n, v in (("two", 2.0), ("one", 1.0)))
    then = helper.make_graph([helper.make_node("Mul", ["x", "two"], ["tm"]), helper.make_node("Add", ["tm", "one"],
                              ["then_out"])], "then", [], [_f("then_out", ("n", 4))])
    other = helper.make_graph([helper.make_node("Neg", ["x"], ["en"]), helper.make_node("Exp", ["en"], ["else_out"])],
                              "else", [], [_f("else_out", ("n", 4))])
    nodes = [helper.make_node("Greater", ["t", "zero"], ["cond"]),
             helper.make_node("If", ["cond"], ["output"], then_branch=then, else_branch=other)]
    g = helper.make_graph(nodes, "if_scalar", [_f("x", ("n", 4)), _f("t", ())], [_f("output", ("n", 4))],
                          [helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0]), two, one])
    return _model(g)


def if_shape() -> onnx.ModelProto:
    """If whose predicate is ``Shape(x)[0] > 2``: then Relu(x), else x * x (both branches at run time)."""
    then = helper.make_graph([helper.make_node("Relu", ["x"], ["then_out"])], "then", [], [_f("then_out", ("n", 4))])
    other = helper.make_graph([helper.make_node("Mul", ["x", "x"], ["else_out"])], "else", [],
                              [_f("else_out", ("n", 4))])
    nodes = [helper.make_node("Shape", ["x"], ["shape"]),
             helper.make_node("Gather", ["shape", "i0"], ["n"], axis=0),
             helper.make_node("Greater", ["n", "two"], ["cond"]),
             helper.make_node("If", ["cond"], ["output"], then_branch=then, else_branch=other)]
    g = helper.make_graph(nodes, "if_shape", [_f("x", ("n", 4))], [_f("output", ("n", 4))],
                          [helper.make_tensor("i0", TensorProto.INT64, [], [0]),
                           helper.make_tensor("two", TensorProto.INT64, [], [2])])
    return _model(g)


def loop_trip() -> onnx.ModelProto:
    """Loop with a run-time trip count (input scalar ``trips``): y <- tanh(y * 0.5 + x), scan output y each step."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Mul", ["y_in", "half"], ["h"]),
         helper.make_node("Add", ["h", "x"], ["s"]),
         helper.make_node("Tanh", ["s"], ["y_out"]),
         helper.make_node("Identity", ["y_out"], ["scan_out"])],
        "body",
        [helper.make_tensor_value_info("iter", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []), _f("y_in", ("n", 3))],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []), _f("y_out", ("n", 3)),
         _f("scan_out", ("n", 3))],
        [helper.make_tensor("half", TensorProto.FLOAT, [], [0.5])])
    nodes = [helper.make_node("Loop", ["trips", "true", "x"], ["output", "steps"], body=body)]
    g = helper.make_graph(nodes, "loop_trip",
                          [_f("x", ("n", 3)), helper.make_tensor_value_info("trips", TensorProto.INT64, [])],
                          [_f("output", ("n", 3)), _f("steps", ("trips", "n", 3))],
                          [helper.make_tensor("true", TensorProto.BOOL, [], [True])])
    return _model(g)


# -- the set -------------------------------------------------------------------------------------------
_BHW = ("batch", 3, "height", "width")
_VISION = ({"batch": 1, "height": 64, "width": 64}, {"batch": 2, "height": 96, "width": 128})
_B = ({"batch": 1}, {"batch": 3})

SPECS: tuple[DynSpec, ...] = (
    DynSpec("bert", "hf", bert, TEXT, TEXT_SHAPES),
    DynSpec("distilbert", "hf", distilbert, TEXT, TEXT_SHAPES),
    DynSpec("gpt2", "hf", gpt2, TEXT, TEXT_SHAPES, notes="use_cache=False"),
    DynSpec("t5-encoder", "hf", t5_encoder, TEXT, TEXT_SHAPES, notes="relative position buckets"),
    DynSpec("t5", "hf", t5, (*TEXT, InputSpec("decoder_input_ids", ("batch", "target"), "int64", kind="ids")),
            ({"batch": 1, "seq": 7, "target": 5}, {"batch": 3, "seq": 19, "target": 11}),
            notes="encoder-decoder, no cache"),
    DynSpec("vit", "hf", vit, _image("batch", 3, 32, 32), _B, notes="fixed 32x32 (position table), batch free"),
    DynSpec("vit-interpolated", "hf", vit_interpolated, _image(*_BHW),
            ({"batch": 1, "height": 32, "width": 32}, {"batch": 2, "height": 48, "width": 64}),
            notes="interpolate_pos_encoding=True: bicubic Resize of the position table to the patch grid"),
    # every stage a multiple of the window (as 224 and 448 with window 7): no data-dependent padding
    DynSpec("swin", "hf", swin, _image(*_BHW), ({"batch": 1, "height": 32, "width": 32},
                                                {"batch": 2, "height": 64, "width": 96}), notes="window 4"),
    DynSpec("segformer", "hf", segformer, _image(*_BHW), _VISION),
    DynSpec("mobilevit", "hf", mobilevit, _image(*_BHW), _VISION),
    DynSpec("convnext", "hf", convnext, _image(*_BHW), _VISION),
    DynSpec("wav2vec2", "hf", wav2vec2, (InputSpec("input_values", ("batch", "samples")),),
            ({"batch": 1, "samples": 400}, {"batch": 2, "samples": 1000}), notes="group-norm conv feature encoder"),
    DynSpec("whisper-encoder", "hf", whisper_encoder, (InputSpec("input_features", ("batch", 8, 32)),), _B,
            notes="fixed 32 frames (2 x max_source_positions), batch free"),
    DynSpec("lraspp-mobilenetv3", "torchvision", lraspp, (InputSpec("image", _BHW),), _VISION),
    DynSpec("ssdlite320-mobilenetv3", "torchvision", ssdlite, (InputSpec("image", (1, 3, "height", "width")),),
            ({"height": 64, "width": 64}, {"height": 96, "width": 128}), outputs=("boxes", "scores", "labels")),
    DynSpec("fasterrcnn-mobilenetv3-320", "torchvision", fasterrcnn,
            (InputSpec("image", (1, 3, "height", "width")),),
            ({"height": 64, "width": 64}, {"height": 96, "width": 128}), outputs=("boxes", "scores", "labels"),
            report_only=("dynamo",), notes="dynamo: ~2 min to fail at a data-dependent guard"),
    DynSpec("dbnet-head", "torch", dbnet_head, (InputSpec("image", _BHW),), _VISION),
    DynSpec("yolo-head", "torch", yolo_head, (InputSpec("image", _BHW),), _VISION, outputs=("p4", "p5"),
            notes="Upsample(scale 2) + Concat"),
    DynSpec("if-scalar", "onnx", if_scalar, (InputSpec("x", ("n", 4)), InputSpec("t", (), kind="scalar")),
            ({"n": 1}, {"n": 3}), exporters=("onnx",), scalars={"t": (1.5, -0.5)}),
    DynSpec("if-shape", "onnx", if_shape, (InputSpec("x", ("n", 4)),), ({"n": 1}, {"n": 3}), exporters=("onnx",)),
    DynSpec("loop-trip", "onnx", loop_trip,
            (InputSpec("x", ("n", 3)), InputSpec("trips", (), "int64", kind="scalar")),
            ({"n": 1}, {"n": 3}), exporters=("onnx",), outputs=("output", "steps"), scalars={"trips": (2, 5)}),
)
BY_NAME = {s.name: s for s in SPECS}


def cases() -> list[tuple[DynSpec, str]]:
    return [(s, e) for s in SPECS for e in s.exporters]


# -- export and cache ----------------------------------------------------------------------------------
def _versions() -> str:
    """``torch2.13.0+cpu-transformers5.25.0-torchvision0.28.0``: the libraries that build and export the models."""
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for dist in ("torch", "transformers", "torchvision"):
        with contextlib.suppress(PackageNotFoundError):
            parts.append(f"{dist}{version(dist)}")
    return "-".join(parts)


def cache_dir() -> Path:
    """$TFJS_PIVOT_CORPUS or <repo>/.corpus (gitignored), keyed by the exporting library versions."""
    base = Path(os.environ.get("TFJS_PIVOT_CORPUS", ROOT / ".corpus"))
    return base / f"dynamic-{_versions()}-v{FORMAT}"


@dataclass
class Exported:
    path: Path | None  # None: the export failed
    error: str = ""  # why the export failed
    seconds: float = 0.0
    torch_outputs: list[dict[str, np.ndarray]] = field(default_factory=list)  # per shape set


def _export_torch(spec: DynSpec, exporter: str, path: Path) -> None:
    import torch

    module = spec.build()
    # the largest shape set: torch.export specializes a dimension whose example size is 1
    feeds = spec.feeds(len(spec.shape_sets) - 1)
    args = tuple(torch.from_numpy(feeds[i.name]) for i in spec.inputs)
    names = [i.name for i in spec.inputs]
    kwargs: dict[str, Any] = {"input_names": names, "output_names": list(spec.outputs),
                              "opset_version": OPSET[exporter]}
    if exporter == "torchscript":
        axes = {i.name: {k: d for k, d in enumerate(i.dims) if isinstance(d, str)} for i in spec.inputs}
        torch.onnx.export(module, args, str(path), dynamo=False, dynamic_axes=axes, **kwargs)
    else:
        dims: dict[str, Any] = {}
        shapes = tuple({k: dims.setdefault(d, torch.export.Dim(d, min=1 if d == "batch" else 2, max=4096))
                        for k, d in enumerate(i.dims) if isinstance(d, str)} for i in spec.inputs)
        if type(module).__name__ == "Wrapped":  # forward(*args)
            shapes = (shapes,)  # type: ignore[assignment]
        torch.onnx.export(module, args, str(path), dynamo=True, dynamic_shapes=shapes, external_data=False,
                          optimize=True, **kwargs)


def _torch_outputs(spec: DynSpec) -> list[dict[str, np.ndarray]]:
    import torch

    module = spec.build()
    results = []
    for k in range(len(spec.shape_sets)):
        feeds = spec.feeds(k)
        with torch.no_grad():
            out = module(*(torch.from_numpy(feeds[i.name]) for i in spec.inputs))
        out = out if isinstance(out, tuple) else (out,)
        results.append({n: o.numpy() for n, o in zip(spec.outputs, out, strict=True)})
    return results


def exported(spec: DynSpec, exporter: str, cache: Path | None = None) -> Exported:
    """The ONNX file of ``spec`` by ``exporter``, exported on first use into the cache (with the torch outputs)."""
    root = (cache or cache_dir()) / f"{spec.name}-{exporter}"
    done = root / "done.json"
    if not done.is_file():
        root.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
        try:
            record: dict[str, Any] = {}
            start = time.perf_counter()
            try:
                with warnings.catch_warnings(), redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
                    warnings.simplefilter("ignore")
                    if exporter == "onnx":
                        onnx.save(spec.build(), tmp / "model.onnx")
                    else:
                        _export_torch(spec, exporter, tmp / "model.onnx")
                        refs = _torch_outputs(spec)
                        np.savez(tmp / "torch.npz", **{f"{k}/{n}": v for k, r in enumerate(refs) for n, v in r.items()})
            except Exception as e:  # an exporter failure is a result of the survey
                record["error"] = _first_line(e)
                record["traceback"] = traceback.format_exc()[-4000:]
            record["seconds"] = time.perf_counter() - start
            (tmp / "done.json").write_text(json.dumps(record))
            shutil.rmtree(root, ignore_errors=True)
            with contextlib.suppress(OSError):
                tmp.rename(root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    record = json.loads(done.read_text())
    if "error" in record:
        return Exported(None, record["error"], record["seconds"])
    refs: list[dict[str, np.ndarray]] = []
    if (root / "torch.npz").is_file():
        with np.load(root / "torch.npz") as f:
            refs = [{n: f[f"{k}/{n}"] for n in spec.outputs} for k in range(len(spec.shape_sets))]
    return Exported(root / "model.onnx", "", record["seconds"], refs)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    if "## Exception summary" in text:  # torch.onnx's dynamo errors: the underlying exception
        rest = [t for t in text[text.index("## Exception summary") + 1:] if t.strip()]
        return rest[0][:400] if rest else text[0]
    return f"{type(e).__name__}: {text[0] if text else ''}"[:400]


def _pinned_dims(spec: DynSpec, model: onnx.ModelProto) -> str:
    """Inputs whose dimensions the exporter fixed although they were declared symbolic, as ``x[1,3,96,128]``."""
    declared = {g.name: g for g in model.graph.input}
    bad = []
    for i in spec.inputs:
        g = declared.get(i.name)
        if g is None:
            continue
        dims = [d.dim_param or d.dim_value for d in g.type.tensor_type.shape.dim]
        if any(isinstance(want, str) and isinstance(got, int) and got > 0
               for want, got in zip(i.dims, dims, strict=False)):
            bad.append(f"{i.name}[{','.join(str(d) for d in dims)}]")
    return "input dims fixed by the exporter: " + ", ".join(bad) if bad else ""


def refusal(e: BaseException) -> str:
    """A converter refusal in one line without node names: ``Op [reason] xN: detail; ...`` for unsupported ops."""
    items = getattr(e, "items", None)
    if items:
        return "; ".join(f"{i.op} [{i.reason}] x{len(i.nodes)}: {i.detail}"
                         for i in sorted(items, key=lambda i: (i.op, i.reason)))
    reason = getattr(e, "reason", None)
    detail = getattr(e, "detail", None)
    if reason is not None and detail is not None:
        return f"{type(e).__name__} [{reason}]: {detail}"
    return _first_line(e)


# -- measuring -----------------------------------------------------------------------------------------
@dataclass
class Outcome:
    model: str
    exporter: str
    # "ok" | "export failed: ..." | "export not dynamic: input dims fixed ..." | "ort: ..." | "refused: ..."
    # | "tfjs: ..." | "mismatch: ..."
    # | "export not dynamic: ..." (tfjs matches onnxruntime, onnxruntime does not match torch at some shape set)
    status: str
    worst: float = 0.0  # worst relative error over shape sets, backends, outputs
    nodes: int = 0  # ONNX nodes of the main graph
    convert_seconds: float = 0.0
    details: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.model}-{self.exporter}"


def measure(spec: DynSpec, exporter: str, runtime: Any, work: Path, *, backends: tuple[str, ...] = ("cpu", "wasm"),
            cache: Path | None = None) -> Outcome:
    """Export (cached), convert once without pinning, run every shape set on every backend, compare."""
    from tests.parity import REFUSALS, compare, ort_run, write_graph_model

    exp = exported(spec, exporter, cache)
    out = Outcome(spec.name, exporter, "ok")
    if exp.path is None:
        out.status = f"export failed: {exp.error}"
        return out
    model = onnx.load(exp.path)
    out.nodes = len(model.graph.node)
    pinned = _pinned_dims(spec, model)
    if pinned:
        out.status = f"export not dynamic: {pinned}"
        return out
    refs: list[dict[str, np.ndarray]] = []
    for k in range(len(spec.shape_sets)):  # the reference first: is the export really dynamic?
        try:
            refs.append(ort_run(exp.path, spec.feeds(k)))
        except Exception as e:
            out.status = f"ort: shape set {k}: {_first_line(e)}"
            return out
        if exp.torch_outputs:  # onnxruntime agrees with torch at every shape set
            for name, want in exp.torch_outputs[k].items():
                c = compare(want, refs[k][name], name, "ort")
                if c.relative > 1e-3:
                    out.details.append(f"onnxruntime vs torch: {name} shape set {k} rel {c.relative:.2g}")
    start = time.perf_counter()
    try:
        write_graph_model(exp.path, work / "tfjs")
    except REFUSALS as e:
        out.status = f"refused: {refusal(e)}"
        return out
    finally:
        out.convert_seconds = time.perf_counter() - start
    for k in range(len(spec.shape_sets)):
        feeds, ref = spec.feeds(k), refs[k]
        for backend in backends:
            try:
                got = runtime.run(work / "tfjs" / "model.json", feeds, backend=backend)
            except Exception as e:
                out.status = f"tfjs: {backend} shape set {k}: {_first_line(e)}"
                return out
            for name, want in ref.items():
                if name not in got:
                    out.status = f"mismatch: output {name} missing@{backend}"
                    return out
                if tuple(got[name].shape) != tuple(want.shape):
                    out.status = (f"mismatch: {name}@{backend} shape set {k}: shape {tuple(got[name].shape)} != "
                                  f"{tuple(want.shape)}")
                    return out
                c = compare(want, got[name], name, backend)
                out.worst = max(out.worst, c.relative)
                if c.relative > TOL and out.status == "ok":
                    out.status = f"mismatch: {name}@{backend} shape set {k}: rel error {c.relative:.3g}"
    if out.status == "ok" and out.details:  # tfjs matches onnxruntime, but the file does not compute the model
        out.status = f"export not dynamic: {out.details[0]}"
    return out
