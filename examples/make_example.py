"""Builds the tiny example convnet and exports it to examples/tiny_convnet.onnx (deterministic, fixed seed).

Usage: python examples/make_example.py [output.onnx]
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent
INPUT_SHAPE = (1, 3, 32, 32)
SEED = 20240


class TinyConvNet(nn.Module):
    """conv+BN+ReLU, depthwise conv+BN+ReLU, max pool, pointwise conv, global average pool, Linear."""

    def __init__(self, classes: int = 5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 16, 3, 2, 1, groups=16, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 1), nn.ReLU(),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(32, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.flatten(self.pool(self.features(x)), 1))


def randomized(seed: int = SEED) -> TinyConvNet:
    """The model with every weight drawn from a fixed seed (He-normal, random BN statistics), in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    model = TinyConvNet()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * math.sqrt(2.0 / m.weight[0].numel()))
                if m.bias is not None:
                    m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 0.2 - 0.1)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=gen) * 0.4 - 0.2)
                mean, var = m.running_mean, m.running_var
                assert mean is not None and var is not None
                mean.copy_(torch.randn(mean.shape, generator=gen) * 0.2)
                var.copy_(torch.rand(var.shape, generator=gen) * 1.5 + 0.5)
    return model.eval()


def main(out: Path) -> None:
    x = torch.zeros(INPUT_SHAPE)
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # the TorchScript exporter is deprecated
    # No constant folding: BatchNormalization stays in the file, and the converter folds it itself.
    torch.onnx.export(randomized(), (x,), str(out), dynamo=False, opset_version=17, do_constant_folding=False,
                      input_names=["input"], output_names=["logits"])
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "tiny_convnet.onnx")
