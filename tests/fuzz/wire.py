"""Protobuf wire format by hand: messages the protobuf library refuses to build (too deep) or that need no TF."""

from __future__ import annotations


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def field(number: int, payload: bytes | str | int) -> bytes:
    """One field: a varint for ints, else length-delimited bytes (strings as UTF-8)."""
    if isinstance(payload, int):
        return varint(number << 3) + varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(data)) + data


# TensorFlow GraphDef pieces (graph.proto, node_def.proto, attr_value.proto, tensor.proto field numbers).
DT_FLOAT, DT_STRING = 1, 7


def tf_shape(dims: list[int]) -> bytes:
    return b"".join(field(2, field(1, d)) for d in dims)


def tf_tensor(dtype: int, dims: list[int], content: bytes = b"", strings: tuple[bytes, ...] = ()) -> bytes:
    body = field(1, dtype) + field(2, tf_shape(dims))
    return body + (field(4, content) if content else b"") + b"".join(field(8, s) for s in strings)


def tf_node(name: str, op: str, inputs: tuple[str, ...] = (), **attrs: bytes) -> bytes:
    """A NodeDef; each attr value is an encoded AttrValue (see ``attr_type``, ``attr_shape``, ``attr_tensor``)."""
    entries = b"".join(field(5, field(1, key) + field(2, value)) for key, value in attrs.items())
    return field(1, name) + field(2, op) + b"".join(field(3, i) for i in inputs) + entries


def attr_type(dtype: int) -> bytes:
    return field(6, dtype)


def attr_shape(dims: list[int]) -> bytes:
    return field(7, tf_shape(dims))


def attr_tensor(tensor: bytes) -> bytes:
    return field(8, tensor)


def graph_def(nodes: list[bytes]) -> bytes:
    """GraphDef: the nodes, then versions {producer: 1882}."""
    return b"".join(field(1, n) for n in nodes) + field(4, field(1, 1882))


def frozen_add(weight: bytes | None = None, dims: tuple[int, ...] = (4,), extra: tuple[bytes, ...] = ()) -> bytes:
    """y = x + w with x a [1, 4] float placeholder and w a constant (16 bytes unless told otherwise)."""
    w = weight if weight is not None else bytes(range(16))
    nodes = [tf_node("x", "Placeholder", dtype=attr_type(DT_FLOAT), shape=attr_shape([1, 4])),
             tf_node("w", "Const", dtype=attr_type(DT_FLOAT), value=attr_tensor(tf_tensor(DT_FLOAT, list(dims), w))),
             tf_node("y", "AddV2", ("x", "w"), T=attr_type(DT_FLOAT)), *extra]
    return graph_def(nodes)
