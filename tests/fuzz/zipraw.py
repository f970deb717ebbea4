"""A zip writer that stores given compressed bytes and header fields as told (bombs, lies, odd flags)."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

STORED, DEFLATED = 0, 8
_CHUNK = 1 << 20


@dataclass(frozen=True)
class RawEntry:
    """One member as it will sit in the archive: header fields are written as given, never checked."""

    name: str
    data: bytes  # already compressed by ``method``
    crc: int
    size: int  # uncompressed size declared in the headers
    method: int = STORED
    flags: int = 0


def stored(name: str, payload: bytes) -> RawEntry:
    return RawEntry(name, payload, zlib.crc32(payload), len(payload))


def deflated(name: str, payload: bytes) -> RawEntry:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return RawEntry(name, c.compress(payload) + c.flush(), zlib.crc32(payload), len(payload), DEFLATED)


def bomb(name: str, prefix: bytes, filler: bytes, mib: int) -> RawEntry:
    """``prefix`` then ``mib`` MiB of ``filler`` bytes, deflated: a few kB per MiB, built without inflating it.

    After a full flush deflate forgets its window, so one compressed MiB block can be repeated as is.
    """
    chunk = filler * (_CHUNK // len(filler))
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH)
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    repeated = block.compress(chunk) + block.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    crc = zlib.crc32(prefix)
    for _ in range(mib):
        crc = zlib.crc32(chunk, crc)
    return RawEntry(name, start + repeated * mib + end, crc, len(prefix) + mib * _CHUNK, DEFLATED)


def write(path: Path, entries: list[RawEntry]) -> None:
    """Local headers, data, central directory and end record (no zip64: members stay under 4 GiB)."""
    body, central = bytearray(), bytearray()
    for e in entries:
        name = e.name.encode("utf-8")
        fields = (e.flags, e.method, 0, 0x5021, e.crc & 0xFFFFFFFF, len(e.data), e.size & 0xFFFFFFFF, len(name))
        central += struct.pack("<IHH", 0x02014B50, 20, 20) + struct.pack("<HHHHIIIH", *fields)
        central += struct.pack("<HHHHII", 0, 0, 0, 0, 0o644 << 16, len(body)) + name
        body += struct.pack("<IH", 0x04034B50, 20) + struct.pack("<HHHHIIIH", *fields) + struct.pack("<H", 0)
        body += name + e.data
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(body), 0)
    path.write_bytes(bytes(body + central + end))


def with_fields(entry: RawEntry, **fields: int) -> RawEntry:
    return replace(entry, **fields)  # type: ignore[arg-type]  # int fields only: flags, method, crc, size
