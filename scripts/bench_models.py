"""The runtime race's model set: architectures built locally with seeded random weights, nothing downloaded.

Each entry is a ``DynSpec`` of tests/models/dynamic_models.py with fixed dims (one shape set), so the export cache,
the randomization of every weight (batch-norm statistics included) and the seeded feeds are the ones the
dynamic-axes tests use. Sizes are picked so one tfjs wasm inference takes tens to hundreds of milliseconds: large
enough that kernels, not per-op overhead, decide; small enough that the race runs in minutes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.models import dynamic_models as dm  # noqa: E402
from tests.models.dynamic_models import DynSpec, InputSpec  # noqa: E402


def _tv(ctor: str, **kwargs: Any) -> Any:
    tv = dm.import_torchvision()
    return dm.randomize_all(getattr(tv.models, ctor)(weights=None, **kwargs))


def _pixels_hf(cls_name: str, config_name: str, **config: Any) -> Any:
    return dm._pixels(dm._hf(cls_name, config_name, **config))


def convnext() -> Any:
    return _pixels_hf("ConvNextModel", "ConvNextConfig", hidden_sizes=[48, 96, 192, 384], depths=[1, 1, 2, 1],
                      image_size=224)


def regnety() -> Any:
    return _tv("regnet_y_400mf")


def _image(name: str, build: Any, size: int = 224, notes: str = "") -> DynSpec:
    return DynSpec(name, "bench", build, (InputSpec("pixel_values", (1, 3, size, size)),), ({},),
                   exporters=("torchscript",), notes=notes)


MODELS: tuple[DynSpec, ...] = (
    _image("convnext", convnext, notes="HF ConvNeXt, hidden 48-384, depths 1-1-2-1"),
    _image("regnety_400mf", regnety, notes="torchvision RegNetY-400MF (grouped convs)"),
)
