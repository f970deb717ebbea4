"""An ONNX file from a stranger: tensors, external data and graph structure checked before anything is built."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import onnx
import onnx_ir as ir

from pivot import errors
from pivot.errors import InputError

# numpy refuses arrays whose byte size does not fit into a signed 64-bit index, even empty ones.
_MAX_SPAN_BYTES = 1 << 62
# The typed field of a TensorProto that holds each element type, and how many entries one element takes.
_COMPLEX = {onnx.TensorProto.COMPLEX64, onnx.TensorProto.COMPLEX128}
_KNOWN_TYPES = {d.value for d in ir.DataType}
_EXTERNAL_KEYS = {"location", "offset", "length", "checksum", "basepath"}


@dataclass(frozen=True)
class Place:
    """Where a tensor sits, for messages: ``initializer 'W'``, ``node 'n' (Constant) attribute 'value'``."""

    text: str

    def inside(self, what: str) -> Place:
        """A place within this one: ``m.onnx: node 'loop' (Loop) attribute 'body': node 'add' (Add)``."""
        return Place(f"{self.text}: {what}" if self.text else what)


def element_type(data_type: int, what: str) -> ir.DataType:
    """The element type of a tensor; refuses undefined, unknown and string types."""
    try:
        dtype = ir.DataType(data_type)
    except ValueError:
        raise InputError(f"{what}: unknown element type {data_type}") from None
    if dtype == ir.DataType.UNDEFINED:
        raise InputError(f"{what}: element type is undefined")
    if dtype == ir.DataType.STRING:
        raise InputError(f"{what}: string tensors are not supported (TensorFlow.js weights are numeric)")
    return dtype


def tensor_nbytes(dtype: ir.DataType, dims: list[int], what: str) -> int:
    """Bytes of a dense tensor of ``dims`` (packed for sub-byte types); refuses negative and overflowing dims."""
    if any(d < 0 for d in dims):
        raise InputError(f"{what}: negative dimension in shape {dims}")
    bits = dtype.bitwidth
    span = math.prod(max(d, 1) for d in dims)
    if span * max(bits, 8) // 8 >= _MAX_SPAN_BYTES:
        raise InputError(f"{what}: shape {_dims_text(dims)} has more elements than any array can hold")
    return (math.prod(dims) * bits + 7) // 8


def _dims_text(dims: list[int]) -> str:
    text = str(dims)
    return text if len(text) < 80 else text[:76] + "...]"


def check_tensor(t: onnx.TensorProto, what: str) -> None:
    """Declared shape and type against the data the proto holds (external data is checked when mapped)."""
    dtype = element_type(t.data_type, what)
    dims = list(t.dims)
    nbytes = tensor_nbytes(dtype, dims, what)
    if t.HasField("segment"):
        raise InputError(f"{what}: segmented tensors are not supported")
    if t.data_location == onnx.TensorProto.EXTERNAL:
        _check_external_fields(t, what)
        return
    if t.HasField("raw_data") or len(t.raw_data):
        if len(t.raw_data) != nbytes:
            raise InputError(f"{what}: raw_data holds {len(t.raw_data)} bytes but shape {_dims_text(dims)} "
                             f"of {dtype.name} needs {nbytes}")
        return
    field = onnx.helper.tensor_dtype_to_field(t.data_type)
    present = len(getattr(t, field))
    count = math.prod(dims)
    expected = 2 * count if t.data_type in _COMPLEX else nbytes if dtype.bitwidth < 8 else count
    if present != expected:
        raise InputError(f"{what}: {field} holds {present} values but shape {_dims_text(dims)} of {dtype.name} "
                         f"needs {expected}")


def _check_external_fields(t: onnx.TensorProto, what: str) -> None:
    keys = {e.key: e.value for e in t.external_data}
    unknown = sorted(set(keys) - _EXTERNAL_KEYS)
    if unknown:
        raise InputError(f"{what}: unknown external data key {unknown[0][:40]!r}")
    if not keys.get("location"):
        raise InputError(f"{what}: external data without a location")
    for key in ("offset", "length"):
        value = keys.get(key)
        if value is not None and not (value.isascii() and value.isdigit()):
            raise InputError(f"{what}: external data {key} {value[:40]!r} is not a non-negative integer")


def model_tensors(proto: onnx.ModelProto, label: str) -> Iterator[tuple[onnx.TensorProto, str]]:
    """Every dense tensor of a model (graphs, subgraphs, attributes, functions) with where it sits.

    Sparse tensors are refused: densifying one declared huge is a memory bomb, and tfjs has none.
    """
    yield from _graph_tensors(proto.graph, Place(label))
    for function in proto.functions:
        for node in function.node:
            yield from _node_tensors(node, Place(label).inside(f"function '{function.name[:80]}'"))


def _graph_tensors(graph: onnx.GraphProto, place: Place) -> Iterator[tuple[onnx.TensorProto, str]]:
    for t in graph.initializer:
        yield t, place.inside(f"initializer '{t.name}'").text
    for s in graph.sparse_initializer:
        raise InputError(f"{place.inside(f'sparse initializer {s.values.name!r}').text}: sparse tensors are not "
                         "supported")
    for node in graph.node:
        yield from _node_tensors(node, place)


def _node_tensors(node: onnx.NodeProto, place: Place) -> Iterator[tuple[onnx.TensorProto, str]]:
    label = node_label(node)
    for attr in node.attribute:
        where = place.inside(f"{label} attribute '{attr.name}'")
        if attr.HasField("sparse_tensor") or len(attr.sparse_tensors):
            raise InputError(f"{where.text}: sparse tensors are not supported")
        if attr.HasField("t"):
            yield attr.t, where.text
        for k, t in enumerate(attr.tensors):
            yield t, f"{where.text}[{k}]"
        if attr.HasField("g"):
            yield from _graph_tensors(attr.g, where)
        for k, g in enumerate(attr.graphs):
            yield from _graph_tensors(g, Place(f"{where.text}[{k}]"))


def node_label(node: onnx.NodeProto) -> str:
    """``node 'name' (Op)``, named after its first output when it has no name."""
    return errors.node_label(node.name or (node.output[0] if node.output else ""), node.op_type)


def check_structure(graph: onnx.GraphProto, place: Place, outer: frozenset[str] = frozenset()) -> None:
    """Every value produced once, every read produced somewhere, no cycle, outputs produced (subgraphs too)."""
    available = _definitions(graph, place, outer)
    for kind, infos in (("graph input", graph.input), ("graph output", graph.output), ("value", graph.value_info)):
        for info in infos:
            value = place.inside(f"{kind} {info.name[:80]!r}").text
            _check_value_type(info.type, value)
            if kind == "graph input" and info.type.HasField("tensor_type") and not info.type.tensor_type.elem_type:
                raise InputError(f"{value}: element type is undefined")
    for node in graph.node:
        for name in node.input:
            if name and name not in available:
                raise InputError(f"{place.inside(node_label(node)).text}: reads {name[:80]!r}, which no node, input "
                                 "or initializer produces")
        for attr in node.attribute:
            where = place.inside(f"{node_label(node)} attribute '{attr.name}'")
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                check_structure(sub, where, frozenset(available))
    if not outer and not graph.output:
        raise InputError(f"{place.text}: the graph has no outputs")
    for out in graph.output:
        if out.name not in available:
            raise InputError(f"{place.inside(f'graph output {out.name[:80]!r}').text}: is produced by no node, "
                             "input or initializer")
    _check_acyclic(graph, place)


def _check_value_type(t: onnx.TypeProto, where: str) -> None:
    """Element type known to onnx and dims not negative, in a declared value type (sequences and optionals too)."""
    if t.HasField("sequence_type"):
        _check_value_type(t.sequence_type.elem_type, where)
    elif t.HasField("optional_type"):
        _check_value_type(t.optional_type.elem_type, where)
    elif t.HasField("tensor_type") or t.HasField("sparse_tensor_type"):
        tensor = t.tensor_type if t.HasField("tensor_type") else t.sparse_tensor_type
        if tensor.elem_type not in _KNOWN_TYPES:
            raise InputError(f"{where}: unknown element type {tensor.elem_type}")
        dims = [d.dim_value for d in tensor.shape.dim if d.HasField("dim_value")]
        if any(d < 0 for d in dims):
            raise InputError(f"{where}: negative dimension in shape {_dims_text(dims)}")


def _definitions(graph: onnx.GraphProto, place: Place, outer: frozenset[str]) -> set[str]:
    """Names visible in ``graph``; refuses a name defined twice in it."""
    defined: dict[str, str] = {}
    entries = [(i.name, f"graph input {i.name[:80]!r}") for i in graph.input]
    inits = [(t.name, f"initializer {t.name[:80]!r}") for t in graph.initializer]
    nodes = [(o, node_label(n)) for n in graph.node for o in n.output if o]
    input_names = {i.name for i in graph.input}
    for name, label in entries + inits + nodes:
        # Before IR 4 every initializer is also listed as a graph input: that is one value, not two.
        if name in defined and not (label.startswith("initializer") and name in input_names):
            raise InputError(f"{place.inside(label).text}: defines {name[:80]!r}, already defined by "
                             f"{defined[name]}")
        defined.setdefault(name, label)
    return set(defined) | set(outer)


def _check_acyclic(graph: onnx.GraphProto, place: Place) -> None:
    """Kahn's algorithm over the nodes; a subgraph's reads of outer values count as its node's inputs."""
    producer = {o: k for k, n in enumerate(graph.node) for o in n.output if o}
    deps = [{producer[i] for i in (*n.input, *_outer_reads(n)) if i in producer} for n in graph.node]
    users: dict[int, list[int]] = {}
    for k, ds in enumerate(deps):
        for d in ds:
            users.setdefault(d, []).append(k)
    waiting = [len(ds) for ds in deps]
    ready = [k for k, w in enumerate(waiting) if w == 0]
    done = 0
    while ready:
        k = ready.pop()
        done += 1
        for u in users.get(k, ()):
            waiting[u] -= 1
            if waiting[u] == 0:
                ready.append(u)
    if done < len(graph.node):
        stuck = next(k for k, w in enumerate(waiting) if w > 0)
        raise InputError(f"{place.inside(node_label(graph.node[stuck])).text}: is on (or after) a cycle of the graph")


def _outer_reads(node: onnx.NodeProto) -> set[str]:
    """Names the subgraphs of ``node`` read from outside themselves."""
    reads: set[str] = set()
    for attr in node.attribute:
        for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
            inner = {i.name for i in sub.input} | {t.name for t in sub.initializer}
            inner |= {o for n in sub.node for o in n.output}
            for n in sub.node:
                reads |= {i for i in (*n.input, *_outer_reads(n)) if i and i not in inner}
            reads |= {o.name for o in sub.output if o.name not in inner}
    return reads


def check_schemas(proto: onnx.ModelProto, label: str) -> None:
    """Node arity and attribute types against onnx's schemas, before onnx's C++ inference sees a node.

    onnx's shape inference reads inputs by position without checking that they exist: a node with fewer
    inputs than its schema requires crashes the process (EyeLike with none segfaults onnx 1.23).
    """
    opsets = {e.domain or "": e.version for e in proto.opset_import}
    opsets.setdefault("", opsets.get("ai.onnx", 0))
    for node, place in _all_nodes(proto.graph, Place(label)):
        _check_node_schema(node, opsets, place)
    for function in proto.functions:
        for node in function.node:
            _check_node_schema(node, opsets, Place(f"{label}: function '{function.name[:80]}'"))


def _all_nodes(graph: onnx.GraphProto, place: Place) -> Iterator[tuple[onnx.NodeProto, Place]]:
    for node in graph.node:
        yield node, place
        for attr in node.attribute:
            where = place.inside(f"{node_label(node)} attribute '{attr.name}'")
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                yield from _all_nodes(sub, where)


def _check_node_schema(node: onnx.NodeProto, opsets: dict[str, int], place: Place) -> None:
    domain = "" if node.domain == "ai.onnx" else node.domain
    version = opsets.get(domain)
    if not version or version < 1 or not onnx.defs.has(node.op_type, version, domain):
        return  # unknown ops are reported by the backend, grouped
    schema = onnx.defs.get_schema(node.op_type, version, domain)
    where = place.inside(node_label(node)).text
    n_in, n_out = len(node.input), len(node.output)
    if not schema.min_input <= n_in <= schema.max_input:
        raise InputError(f"{where}: has {n_in} inputs, {node.op_type} takes "
                         f"{_range_text(schema.min_input, schema.max_input)}")
    if not schema.min_output <= n_out <= schema.max_output:
        raise InputError(f"{where}: has {n_out} outputs, {node.op_type} makes "
                         f"{_range_text(schema.min_output, schema.max_output)}")
    single = onnx.defs.OpSchema.FormalParameterOption.Single
    for k, formal in enumerate(schema.inputs[:n_in]):
        if formal.option == single and not node.input[k]:
            raise InputError(f"{where}: required input {k} ({formal.name}) is missing")
    if not any(node.output):
        raise InputError(f"{where}: has no named output")
    _check_attributes(node, schema, where)


def _check_attributes(node: onnx.NodeProto, schema: onnx.defs.OpSchema, where: str) -> None:
    given = {a.name: a for a in node.attribute}
    if len(given) != len(node.attribute):
        raise InputError(f"{where}: an attribute is given twice")
    for name, formal in schema.attributes.items():
        attr = given.get(name)
        if attr is None:
            if formal.required:
                raise InputError(f"{where}: required attribute '{name}' is missing")
            continue
        if attr.ref_attr_name:
            continue
        wanted = onnx.AttributeProto.AttributeType.Value(str(formal.type).rsplit(".", 1)[-1])
        if attr.type != wanted:
            raise InputError(f"{where}: attribute '{name}' is {_attr_type(attr.type)}, {node.op_type} takes "
                             f"{_attr_type(wanted)}")


def _attr_type(value: int) -> str:
    try:
        return onnx.AttributeProto.AttributeType.Name(value)
    except ValueError:
        return f"type {value}"


def _range_text(low: int, high: int) -> str:
    return str(low) if low == high else f"{low} to {high}" if high < 1 << 20 else f"at least {low}"
