"""Format-blind damage: truncation at many offsets, seeded bit and byte flips, of files and of zip members."""

from __future__ import annotations

from functools import partial

from tests.fuzz.case import Case, Workspace
from tests.fuzz.files import edit_member
from tests.fuzz.seeds import GRAPH, SEEDS

# Where to cut: a fraction of the size, or a byte count (negative: from the end).
CUTS: tuple[float | int, ...] = (0, 1, 8, 64, 512, 0.05, 0.1, 0.2, 0.33, 0.5, 0.66, 0.8, 0.95, -1)
SIDE_CUTS: tuple[float | int, ...] = (0, 4, 0.5, -1)
MEMBER_CUTS: tuple[float | int, ...] = (0, 10, 0.5, -1)
# (bits flipped, region): region None is the whole file, else its first N bytes (headers, superblocks).
FLIPS: tuple[tuple[int, int | None], ...] = ((1, None), (1, None), (4, None), (16, None), (64, None),
                                             (1, 256), (2, 256), (4, 1024), (8, 2048), (32, 4096))
BYTE_FLIPS = 3  # cases per seed that set random bytes to 0x00 / 0xFF
ZIP_MEMBERS = ("config.json", "model.weights.h5")


def _offset(size: int, where: float | int) -> int:
    if isinstance(where, float):
        return int(size * where)
    return max(size + where, 0) if where < 0 else min(where, size)


def _cut(data: bytes, where: float | int) -> bytes:
    return data[:_offset(len(data), where)]


def truncate(ws: Workspace, name: str, where: float | int) -> None:
    path = ws.file(name)
    path.write_bytes(_cut(path.read_bytes(), where))


def truncate_member(ws: Workspace, name: str, where: float | int) -> None:
    edit_member(ws.source, name, lambda data: _cut(data, where))


def _flipped(ws: Workspace, data: bytes, bits: int, region: int | None) -> bytes:
    buf = bytearray(data)
    span = min(region or len(buf), len(buf))
    for pos, bit in zip(ws.rng.integers(0, span, bits), ws.rng.integers(0, 8, bits), strict=True):
        buf[pos] ^= 1 << int(bit)
    return bytes(buf)


def flip(ws: Workspace, name: str, bits: int, region: int | None) -> None:
    path = ws.file(name)
    path.write_bytes(_flipped(ws, path.read_bytes(), bits, region))


def flip_member(ws: Workspace, name: str, bits: int, region: int | None) -> None:
    edit_member(ws.source, name, lambda data: _flipped(ws, data, bits, region))


def set_bytes(ws: Workspace, name: str, count: int, value: int) -> None:
    path = ws.file(name)
    buf = bytearray(path.read_bytes())
    for pos in ws.rng.integers(0, len(buf), count):
        buf[pos] = value
    path.write_bytes(bytes(buf))


def _routes(seed: str) -> tuple[tuple[str, ...], ...]:
    """Keras seeds alternate between their direct route and the pivot (graph model) route."""
    return ((), GRAPH) if SEEDS[seed].kind in ("h5", "keras") else ((),)


def _fmt(where: float | int) -> str:
    return f"{where:g}" if isinstance(where, float) else f"{where}B"


def cases() -> list[Case]:
    """Truncations and flips of every seed's main file, side files and zip members."""
    out: list[Case] = []
    for seed in (s for s in SEEDS.values() if s.kind != "tf"):  # TensorFlow: a handful of cases (mut_tf)
        routes = _routes(seed.name)
        main = seed.source
        for i, where in enumerate(CUTS):
            out.append(Case("truncate", seed.name, f"{main}@{_fmt(where)}", partial(truncate, name=main, where=where),
                            args=routes[i % len(routes)], audit=i % 5 == 0))
        for side in seed.side:
            out += [Case("truncate", seed.name, f"{side}@{_fmt(w)}", partial(truncate, name=side, where=w))
                    for w in SIDE_CUTS]
        if seed.kind == "keras":
            out += [Case("truncate", seed.name, f"{m}@{_fmt(w)}", partial(truncate_member, name=m, where=w))
                    for m in ZIP_MEMBERS for w in MEMBER_CUTS]
        out += _flip_cases(seed.name, main, routes)
    return out


def _flip_cases(seed: str, main: str, routes: tuple[tuple[str, ...], ...]) -> list[Case]:
    out = []
    for i, (bits, region) in enumerate(FLIPS):
        where = f"first{region}" if region else "any"
        out.append(Case("bitflip", seed, f"{main}:{bits}bits-{where}-{i}", partial(flip, name=main, bits=bits,
                        region=region), args=routes[i % len(routes)], audit=i % 4 == 1))
    for i in range(BYTE_FLIPS):
        value = 0xFF if i % 2 else 0x00
        out.append(Case("bitflip", seed, f"{main}:bytes{value:02x}-{i}", partial(set_bytes, name=main, count=8 << i,
                        value=value), args=routes[i % len(routes)]))
    if SEEDS[seed].kind == "keras":
        out += [Case("bitflip", seed, f"{m}:{bits}bits-{region or 'any'}",
                     partial(flip_member, name=m, bits=bits, region=region))
                for m in ZIP_MEMBERS for bits, region in ((1, None), (4, 512), (16, 2048))]
    return out
