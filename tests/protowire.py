"""Protobuf wire format encoded by hand, for tests of the readers that parse TensorFlow protos without TensorFlow."""

from __future__ import annotations


def varint(n: int) -> bytes:
    """``n`` as a base-128 varint."""
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def key(number: int, wire: int) -> bytes:
    """The tag of field ``number`` with wire type ``wire``."""
    return varint(number << 3 | wire)


def message(*fields: tuple[int, bytes | str | int]) -> bytes:
    """A message of (field number, value) pairs: ints as varints, str/bytes length-delimited."""
    out = b""
    for number, value in fields:
        if isinstance(value, int):
            out += key(number, 0) + varint(value)
        else:
            data = value.encode() if isinstance(value, str) else value
            out += key(number, 2) + varint(len(data)) + data
    return out
