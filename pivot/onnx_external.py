"""ONNX external data read only from checked files inside the model's folder, memory-mapped once per file."""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx_ir as ir

from pivot.errors import InputError
from pivot.graphs import node_subgraphs
from pivot.onnx_guard import tensor_nbytes
from pivot.untrusted import open_confined


class ExternalData:
    """Maps the external data files of one model: each confined, opened without following links, mapped once."""

    def __init__(self, folder: Path, label: str) -> None:
        self.folder, self.label = folder, label
        self._maps: dict[Path, tuple[mmap.mmap | None, int]] = {}

    def tensor(self, t: ir.ExternalTensor, what: str) -> ir.TensorProtocol:
        """An in-memory view of ``t`` over its checked bytes; nothing is read from the path again later."""
        where = f"{self.label}: {what}"
        location = os.fspath(t.location)
        dims = [int(d) for d in t.shape.numpy()]
        nbytes = tensor_nbytes(t.dtype, dims, where)
        mapped, size = self._map(location, where)
        offset = t.offset or 0
        length = t.length if t.length is not None else size - offset
        if offset > size or offset + length > size:
            raise InputError(f"{where}: bytes {offset}..{offset + length} lie past the end of {location!r} "
                             f"({size} bytes)")
        if length != nbytes:
            raise InputError(f"{where}: {location!r} holds {length} bytes for it but shape {dims} of "
                             f"{t.dtype.name} needs {nbytes}")
        return _view(t, mapped, offset, nbytes, dims)

    def _map(self, location: str, where: str) -> tuple[mmap.mmap | None, int]:
        path, handle = open_confined(self.folder, location, where)
        with handle:
            if path in self._maps:
                return self._maps[path]
            size = os.fstat(handle.fileno()).st_size
            try:
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else None
            except (OSError, ValueError) as e:
                raise InputError(f"{where}: cannot map {location!r} ({e})") from None
        self._maps[path] = (mapped, size)
        return mapped, size


def _view(t: ir.ExternalTensor, mapped: mmap.mmap | None, offset: int, nbytes: int,
          dims: list[int]) -> ir.TensorProtocol:
    if t.dtype.bitwidth < 8:  # sub-byte types stay packed, as onnx stores them
        packed = np.frombuffer(mapped, np.uint8, nbytes, offset) if mapped is not None and nbytes else np.zeros(
            nbytes, np.uint8)
        return ir.PackedTensor(packed, t.dtype, shape=dims, name=t.name)
    dtype = np.dtype(t.dtype.numpy()).newbyteorder("<")
    count = nbytes // dtype.itemsize
    if mapped is None or count == 0:
        return ir.Tensor(np.zeros(dims, dtype), dtype=t.dtype, name=t.name)
    return ir.Tensor(np.frombuffer(mapped, dtype, count, offset).reshape(dims), dtype=t.dtype, name=t.name)


def confine_external_data(model: ir.Model, folder: Path, label: str) -> None:
    """Replace every external tensor of ``model`` (graphs, subgraphs, attributes, functions) by a checked view."""
    data = ExternalData(folder, label)
    for graph in _graphs(model):
        for value in graph.initializers.values():
            if isinstance(value.const_value, ir.ExternalTensor):
                value.const_value = data.tensor(value.const_value, f"initializer '{value.name}'")
        for node in graph:
            _confine_attributes(node, data)
    for function in model.functions.values():
        for node in function:
            _confine_attributes(node, data)


def _confine_attributes(node: ir.Node, data: ExternalData) -> None:
    for name, attr in list(node.attributes.items()):
        what = f"node '{node.name or node.op_type}' ({node.op_type}) attribute '{name}'"
        if attr.type == ir.AttributeType.TENSOR and isinstance(attr.value, ir.ExternalTensor):
            node.attributes[name] = ir.AttrTensor(name, data.tensor(attr.value, what))
        elif attr.type == ir.AttributeType.TENSORS and any(isinstance(t, ir.ExternalTensor) for t in attr.value):
            node.attributes[name] = ir.AttrTensors(name, [
                data.tensor(t, f"{what}[{k}]") if isinstance(t, ir.ExternalTensor) else t
                for k, t in enumerate(attr.value)])


def _graphs(model: ir.Model) -> Iterator[ir.Graph]:
    """The main graph, then every subgraph (of If / Loop / Scan attributes), depth first."""
    stack: list[ir.Graph] = [model.graph]
    for function in model.functions.values():
        stack.extend(_subgraphs(function))
    while stack:
        graph = stack.pop()
        yield graph
        stack.extend(_subgraphs(graph))


def _subgraphs(nodes: ir.Graph | ir.Function) -> list[ir.Graph]:
    return [graph for node in nodes for graph in node_subgraphs(node)]
