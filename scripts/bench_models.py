"""The runtime race's model set: architectures built locally with seeded random weights, nothing downloaded.

Each entry is a ``DynSpec`` of tests/models/dynamic_models.py with fixed dims (one shape set), so the
randomization of every weight (batch-norm statistics included) and the seeded feeds are the ones the dynamic-axes
tests use; the export cache is a separate directory (``cache()``): the names overlap with the dynamic set's.
Sizes are picked so one tfjs wasm inference takes tens to hundreds of milliseconds: large enough that kernels, not
per-op overhead, decide; small enough that the race runs in minutes. "Small config" means realistic widths scaled
down (transformer hidden >= 128), not the toy widths of the dynamic set.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.models import dynamic_models as dm
from tests.models.dynamic_models import DynSpec, InputSpec

FORMAT = 1  # bump when a builder changes: the cache key
SEQ = 128  # text models' sequence length
VOCAB = 8000  # text models' vocabulary (the embedding Gather does not depend on it; the weight file does)


def cache() -> Path:
    """The export cache: next to the dynamic set's, keyed by the same library versions."""
    base = dm.cache_dir()
    return base.with_name(base.name.replace("dynamic-", "bench-", 1) + f"-b{FORMAT}")


# -- builders ------------------------------------------------------------------------------------------
def _tv(ctor: str, **kwargs: Any) -> Any:
    tv = dm.import_torchvision()
    return dm.randomize_all(getattr(tv.models, ctor)(weights=None, **kwargs))


def _pixels_hf(cls_name: str, config_name: str, **config: Any) -> Any:
    return dm._pixels(dm._hf(cls_name, config_name, **config))


def _text_hf(cls_name: str, config_name: str, **config: Any) -> Any:
    m = dm.randomize_all(dm._hf(cls_name, config_name, **config))
    return dm._wrap(m, lambda m, ids, mask: m(input_ids=ids, attention_mask=mask).last_hidden_state)


def convnext() -> Any:
    return _pixels_hf("ConvNextModel", "ConvNextConfig", hidden_sizes=[48, 96, 192, 384], depths=[1, 1, 2, 1],
                      image_size=224)


def vit() -> Any:
    return _pixels_hf("ViTModel", "ViTConfig", image_size=224, patch_size=16, hidden_size=192, num_hidden_layers=6,
                      num_attention_heads=3, intermediate_size=768, add_pooling_layer=False)


def deit() -> Any:
    return _pixels_hf("DeiTModel", "DeiTConfig", image_size=224, patch_size=16, hidden_size=192, num_hidden_layers=4,
                      num_attention_heads=3, intermediate_size=768, add_pooling_layer=False)


def swin() -> Any:
    # 224 / patch 4 = 56, then 28, 14, 7: every stage a multiple of the window (no data-dependent padding)
    return _pixels_hf("SwinModel", "SwinConfig", image_size=224, patch_size=4, embed_dim=48, depths=[1, 1, 2, 1],
                      num_heads=[2, 4, 8, 16], window_size=7, mlp_ratio=4.0)


def mobilevit() -> Any:  # the MobileViT-XXS widths
    return _pixels_hf("MobileViTModel", "MobileViTConfig", image_size=256, patch_size=2, hidden_sizes=[64, 80, 96],
                      neck_hidden_sizes=[16, 16, 24, 48, 64, 80, 320], num_attention_heads=4, expand_ratio=2.0)


def segformer() -> Any:  # the MiT-b0 widths
    return _pixels_hf("SegformerModel", "SegformerConfig", num_encoder_blocks=4, depths=[2, 2, 2, 2],
                      sr_ratios=[8, 4, 2, 1], hidden_sizes=[32, 64, 160, 256], patch_sizes=[7, 3, 3, 3],
                      strides=[4, 2, 2, 2], num_attention_heads=[1, 2, 5, 8], mlp_ratios=[4, 4, 4, 4])


def bert() -> Any:
    """With token_type_ids as an input, as exports of BERT usually have it (and as the graph is without: the
    buffered-token-type GatherElements of [1, 128] trips onnx's reference evaluator, see docs/benchmarks.md)."""
    m = dm.randomize_all(dm._hf("BertModel", "BertConfig", vocab_size=VOCAB, hidden_size=256, num_hidden_layers=4,
                                num_attention_heads=4, intermediate_size=1024, max_position_embeddings=SEQ))
    return dm._wrap(m, lambda m, ids, mask, types: m(input_ids=ids, attention_mask=mask,
                                                     token_type_ids=types).last_hidden_state)


def distilbert() -> Any:
    return _text_hf("DistilBertModel", "DistilBertConfig", vocab_size=VOCAB, dim=256, n_layers=4, n_heads=4,
                    hidden_dim=1024, max_position_embeddings=SEQ)


def gpt2() -> Any:
    m = dm.randomize_all(dm._hf("GPT2Model", "GPT2Config", vocab_size=VOCAB, n_embd=256, n_layer=4, n_head=4,
                                n_positions=SEQ, use_cache=False))
    return dm._wrap(m, lambda m, ids, mask: m(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state)


def whisper_encoder() -> Any:
    # 80 mel bins x 400 frames (4 s): the conv stem halves it to 200 positions
    m = dm._hf("WhisperModel", "WhisperConfig", vocab_size=100, num_mel_bins=80, d_model=256, encoder_layers=4,
               decoder_layers=1, encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=1024,
               decoder_ffn_dim=256, max_source_positions=200, max_target_positions=16,
               pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=0)
    return dm._wrap(dm.randomize_all(m.get_encoder()), lambda m, x: m(input_features=x).last_hidden_state)


def lstm() -> Any:
    """A text classifier of the pre-transformer kind: embedding 128, 2-layer LSTM hidden 256, a Linear per step."""
    from torch import nn

    class LstmTagger(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(1000, 128)
            self.lstm = nn.LSTM(128, 256, num_layers=2, batch_first=True)
            self.head = nn.Linear(256, 64)

        def forward(self, ids: Any) -> Any:
            out, _ = self.lstm(self.embed(ids))
            return self.head(out)

    return dm.randomize_all(LstmTagger())


def gru() -> Any:
    """The lstm model with a 2-layer nn.GRU (linear_before_reset=1 in ONNX) in place of the LSTM."""
    from torch import nn

    class GruTagger(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(1000, 128)
            self.gru = nn.GRU(128, 256, num_layers=2, batch_first=True)
            self.head = nn.Linear(256, 64)

        def forward(self, ids: Any) -> Any:
            out, _ = self.gru(self.embed(ids))
            return self.head(out)

    return dm.randomize_all(GruTagger())


# -- the set -------------------------------------------------------------------------------------------
def _image(name: str, build: Any, size: int = 224, notes: str = "", family: str = "torchvision") -> DynSpec:
    return DynSpec(name, family, build, (InputSpec("pixel_values", (1, 3, size, size)),), ({},),
                   exporters=("torchscript",), notes=notes)


def _text(name: str, build: Any, notes: str = "", types: bool = False) -> DynSpec:
    inputs: tuple[InputSpec, ...] = (InputSpec("input_ids", (1, SEQ), "int64", high=VOCAB, kind="ids"),
                                     InputSpec("attention_mask", (1, SEQ), "int64", kind="mask"))
    if types:
        inputs += (InputSpec("token_type_ids", (1, SEQ), "int64", high=2, kind="ids"),)
    return DynSpec(name, "hf", build, inputs, ({},), exporters=("torchscript",), notes=notes)


MODELS: tuple[DynSpec, ...] = (
    _image("squeezenet1_1", lambda: _tv("squeezenet1_1"), notes="torchvision SqueezeNet 1.1"),
    _image("mobilenet_v3_large", lambda: _tv("mobilenet_v3_large"), notes="torchvision MobileNetV3-Large"),
    _image("resnet50", lambda: _tv("resnet50"), size=160, notes="torchvision ResNet-50 at 160"),
    _image("efficientnet_b0", lambda: _tv("efficientnet_b0"), notes="torchvision EfficientNet-B0"),
    _image("regnety_400mf", lambda: _tv("regnet_y_400mf"), notes="torchvision RegNetY-400MF (grouped convs)"),
    _image("resnext50_32x4d", lambda: _tv("resnext50_32x4d"), size=112,
           notes="torchvision ResNeXt-50 32x4d at 112 (32 groups)"),
    _image("shufflenet_v2", lambda: _tv("shufflenet_v2_x1_0"), notes="torchvision ShuffleNetV2 x1.0 (channel shuffle)"),
    _image("convnext", convnext, family="hf", notes="HF ConvNeXt, hidden 48-384, depths 1-1-2-1"),
    _image("vit", vit, family="hf", notes="HF ViT, hidden 192, 6 layers, 3 heads, patch 16"),
    _image("deit", deit, family="hf", notes="HF DeiT (cls + distillation tokens), hidden 192, 4 layers"),
    _image("swin", swin, family="hf", notes="HF Swin, embed 48, depths 1-1-2-1, window 7"),
    _image("mobilevit", mobilevit, size=256, family="hf", notes="HF MobileViT, XXS widths, at 256"),
    _image("segformer", segformer, family="hf", notes="HF SegFormer encoder, MiT-b0 widths"),
    _text("bert", bert, types=True, notes=f"HF BERT, hidden 256, 4 layers, 4 heads, seq {SEQ}, token_type_ids"),
    _text("distilbert", distilbert, notes=f"HF DistilBERT, dim 256, 4 layers, seq {SEQ}"),
    _text("gpt2", gpt2, notes=f"HF GPT-2, n_embd 256, 4 layers, seq {SEQ}, use_cache=False"),
    DynSpec("whisper_encoder", "hf", whisper_encoder, (InputSpec("input_features", (1, 80, 400)),), ({},),
            exporters=("torchscript",), notes="HF Whisper encoder, d_model 256, 4 layers, 80 mels x 400 frames"),
    DynSpec("lstm", "torch", lstm, (InputSpec("input_ids", (1, 64), "int64", high=1000, kind="ids"),), ({},),
            exporters=("torchscript",), notes="embedding + 2-layer nn.LSTM hidden 256 over 64 steps + Linear"),
    DynSpec("gru", "torch", gru, (InputSpec("input_ids", (1, 64), "int64", high=1000, kind="ids"),), ({},),
            exporters=("torchscript",), notes="embedding + 2-layer nn.GRU hidden 256 over 64 steps + Linear"),
)
BY_NAME = {s.name: s for s in MODELS}
