"""Size summary of written weights: bytes per storage dtype before and after quantization, and gzip size."""

from __future__ import annotations

import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# gzip level 6 (zlib's and most web servers' default) runs at about 40 MB/s here (docs/benchmarks.md). Up to
# EXACT_LIMIT stored bytes every shard is compressed (at most ~1.6 s); above it, one SAMPLE_BLOCK out of every
# k is compressed, k chosen so that about SAMPLE_TARGET bytes are, and the ratio is extrapolated ("≈").
EXACT_LIMIT = 64 * 1024 * 1024
SAMPLE_TARGET = 16 * 1024 * 1024
SAMPLE_BLOCK = 64 * 1024
GZIP_LEVEL = 6
_GZIP_FRAME = 18  # gzip header (10) + trailer (8) per file, added to raw-deflate sample estimates
_FEED = 256 * 1024  # compressor input step, so no compressed copy of a whole shard is held


class GzipMeter:
    """Gzip size of each shard file as it is flushed: exact, or a sampled estimate for big outputs."""

    def __init__(self, planned_bytes: int, exact_limit: int = EXACT_LIMIT, sample_target: int = SAMPLE_TARGET,
                 block: int = SAMPLE_BLOCK) -> None:
        self.exact = planned_bytes <= exact_limit
        self.stride = 1 if self.exact else max(1, round(planned_bytes / sample_target))
        self.block = block
        self._exact_bytes = 0
        self._raw = 0  # bytes of shards measured by sampling
        self._shards = 0  # shards measured by sampling
        self._sampled_raw = 0
        self._sampled_comp = 0
        self._blocks = 0

    def add_shard(self, data: bytes | bytearray | memoryview) -> None:
        """Account one shard file's bytes."""
        view = memoryview(data)
        if self.exact:
            comp = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # wbits 31: gzip framing
            size = sum(len(comp.compress(view[i:i + _FEED])) for i in range(0, len(view), _FEED))
            self._exact_bytes += size + len(comp.flush())
            return
        self._raw += len(view)
        self._shards += 1
        for start in range(0, len(view), self.block):
            if self._blocks % self.stride == 0:
                piece = view[start:start + self.block]
                comp = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, -15)  # raw deflate; framing added per shard
                self._sampled_comp += len(comp.compress(piece)) + len(comp.flush())
                self._sampled_raw += len(piece)
            self._blocks += 1

    @property
    def total(self) -> int:
        """Compressed bytes of all shards so far (estimated when not ``exact``)."""
        if self.exact or not self._sampled_raw:
            return self._exact_bytes
        ratio = self._sampled_comp / self._sampled_raw
        return round(self._raw * ratio) + _GZIP_FRAME * self._shards


@dataclass(frozen=True)
class SizeSummary:
    """Bytes per dtype before (as the weights came) and after (as stored), plus the gzip size of the shards."""

    before: dict[str, int]
    after: dict[str, int]
    gzip_bytes: int
    gzip_exact: bool
    files: int
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"before": self.before, "after": self.after, "gzip_bytes": self.gzip_bytes,
                "gzip_exact": self.gzip_exact, "files": self.files, "notes": list(self.notes)}

    def render(self) -> str:
        """A compact table, one row per dtype, then totals and the gzip size."""
        dtypes = sorted(set(self.before) | set(self.after), key=lambda d: -max(self.before.get(d, 0),
                                                                               self.after.get(d, 0)))
        rows = [("weights", "before", "after")]
        rows += [(d, human(self.before.get(d)), human(self.after.get(d))) for d in dtypes]
        rows.append(("total", human(sum(self.before.values())), human(sum(self.after.values()))))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [f"  {a:<{widths[0]}}  {b:>{widths[1]}}  {c:>{widths[2]}}" for a, b, c in rows]
        mark = "" if self.gzip_exact else "≈ "
        how = "gzip -6" if self.gzip_exact else "gzip -6, sampled estimate"
        lines.append(f"  download: {self.files} shard file(s), {mark}{human(self.gzip_bytes)} ({how})")
        return "\n".join(lines)


def human(n: int | None) -> str:
    """``12.3 MB`` style (decimal units, as browsers' network panels show)."""
    if n is None:
        return "-"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


@dataclass
class SizeTally:
    """Collects the summary while weights are written (one per conversion; shared by every group)."""

    meter: GzipMeter
    before: Counter[str] = field(default_factory=Counter)
    after: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    files: int = 0

    @classmethod
    def planned(cls, planned_bytes: int, exact_limit: int = EXACT_LIMIT) -> SizeTally:
        """A tally whose gzip meter is exact when ``planned_bytes`` (stored bytes) is at most ``exact_limit``."""
        return cls(GzipMeter(planned_bytes, exact_limit))

    def add(self, dtype: str, logical_bytes: int, storage: str, stored_bytes: int, note: str = "") -> None:
        """Account one weight."""
        self.before[dtype] += logical_bytes
        self.after[storage] += stored_bytes
        if note:
            self.notes.append(note)

    def summary(self) -> SizeSummary:
        """The frozen result."""
        return SizeSummary(dict(self.before), dict(self.after), self.meter.total, self.meter.exact, self.files,
                           tuple(self.notes))
