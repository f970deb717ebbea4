"""The whole-model test matrix as data: which model, its input, tolerance and structural expectations."""

from __future__ import annotations

from dataclasses import dataclass

from tests.models.torch_models import Builder, MobileNetV2, ResNet18, TransformerBlock


@dataclass(frozen=True)
class ModelSpec:
    """One torch model of the whole-model tests."""

    name: str
    build: Builder
    input_shape: tuple[int, ...]
    # Relative tolerance: max |tfjs - onnxruntime| <= tol * max(1, max |reference|).
    tol: float = 1e-4
    # Transposes not right after a model input nor right before a model output; None: not checked.
    max_inner_transposes: int | None = None
    # No op may carry data_format NCHW (tfjs wasm conv/pool kernels are channels-last only).
    channels_last: bool = False
    seed: int = 0
    notes: str = ""


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("resnet18", ResNet18, (2, 3, 64, 64), max_inner_transposes=0, channels_last=True,
              notes="BasicBlocks with BatchNorm, 1x1 stride-2 downsample, maxpool stem, GAP, Linear; widths 16..128"),
    ModelSpec("mobilenetv2", MobileNetV2, (2, 3, 64, 64), max_inner_transposes=0, channels_last=True,
              notes="inverted residuals: 1x1 expand, depthwise 3x3 stride 1/2, ReLU6, linear bottleneck, add"),
    # Its three Transposes are the model's own (head split, K^T, head merge).
    ModelSpec("transformer_block", TransformerBlock, (2, 16, 32), max_inner_transposes=3,
              notes="pre-norm encoder block: LayerNorm, 4-head self-attention via MatMul/Softmax, Gelu MLP"),
)
