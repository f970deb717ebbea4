"""A fuzz case (id, category, seed, mutator) and the workspace a mutator edits: model folder, canary, output."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.fuzz.seeds import SEEDS, Seed

# The canary is one random float32 repeated: a copied run survives transposes and re-sharding intact.
CANARY_FLOATS = 16384
NEEDLE_FLOATS = 8  # the 32-byte run searched for in outputs and messages


@dataclass
class Workspace:
    """One case's files: ``root/model/`` (the model's folder), ``root/canary.bin`` outside it, the output."""

    root: Path
    seed: Seed
    rng: np.random.Generator
    value: np.float32  # the canary's float
    args: list[str] = field(default_factory=list)
    source: Path = Path()
    out: Path = Path()
    canaries: list[Path] = field(default_factory=list)
    forbidden: list[bytes] = field(default_factory=list)  # payload bytes that must never reach an output
    cwd: Path = Path()

    @property
    def model(self) -> Path:
        return self.root / "model"

    @property
    def canary(self) -> Path:
        return self.root / "canary.bin"

    @property
    def needle(self) -> bytes:
        return self.value.tobytes() * NEEDLE_FLOATS

    def canary_array(self, shape: tuple[int, ...]) -> np.ndarray:
        """An array of the canary's value (for HDF5 canaries that hostile links point at)."""
        return np.full(shape, self.value, np.float32)

    def file(self, name: str) -> Path:
        return self.model / name

    def argv(self, command: str) -> list[str]:
        """The CLI arguments, paths relative to ``cwd`` when they are inside the case folder."""
        paths = [self.source] if command == "audit" else [self.source, self.out]
        names = [os.path.relpath(p, self.cwd) if self.root in p.parents else str(p) for p in paths]
        return [command, *(self.args if command == "convert" else self._format_flag()), *names]

    def _format_flag(self) -> list[str]:
        """``--input-format X`` (the one convert flag audit also takes)."""
        i = self.args.index("--input-format") if "--input-format" in self.args else -1
        return self.args[i:i + 2] if i >= 0 else []


Mutator = Callable[[Workspace], None]


@dataclass(frozen=True)
class Case:
    """One fuzz case: ``id`` is ``category/seed/detail``."""

    category: str
    seed: str
    detail: str
    mutate: Mutator
    args: tuple[str, ...] = ()
    audit: bool = False  # also run ``tfjs-pivot audit SRC``
    must_refuse: bool = False  # exit 0 means a hostile input was accepted
    bare: bool = False  # run in the model's folder with a bare file name as the source

    @property
    def id(self) -> str:
        return f"{self.category}/{self.seed}/{self.detail}"


def case_rng(case_id: str) -> np.random.Generator:
    """A generator seeded by the case id: the same bytes on every run and every worker."""
    return np.random.default_rng(int.from_bytes(hashlib.sha256(case_id.encode()).digest()[:8], "little"))


def prepare(case: Case, seeds_root: Path, root: Path) -> Workspace:
    """Copy the seed into ``root/model``, write the canary outside it, run the mutator."""
    from tests.fuzz.seeds import seed_folder

    seed = SEEDS[case.seed]
    shutil.copytree(seed_folder(seeds_root, seed.name), root / "model", symlinks=True)
    rng = case_rng(case.id)
    value = np.float32(1.0 + rng.random())  # a random mantissa: distinctive, finite, never a NaN pattern
    ws = Workspace(root, seed, rng, value, args=[*seed.args, *case.args])
    ws.source = ws.model / seed.source if seed.source != "." else ws.model
    ws.out = root / seed.out
    ws.cwd = ws.model if case.bare else root
    np.full(CANARY_FLOATS, value, np.float32).tofile(ws.canary)
    ws.canaries.append(ws.canary)
    case.mutate(ws)
    return ws
