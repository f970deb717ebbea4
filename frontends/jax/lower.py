"""JAX / Flax functions to the ONNX pivot through jax2onnx: no TensorFlow on this path."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import onnx_ir as ir

from frontends.jax.signatures import InputSpec, is_spec, poly_texts, to_spec
from frontends.jax.weight_names import name_weights
from pivot.errors import ConversionError, InputError, MissingDependencyError, Unsupported, UnsupportedOpsError
from pivot.graphs import node_subgraphs
from pivot.passes import TARGET_OPSET

if TYPE_CHECKING:
    import jax

__all__ = ["lower_jax", "require_jax"]

INSTALL_HINT = 'pip install "tfjs-pivot[jax]"'
_NO_PLUGIN = re.compile(r"No plugins registered for primitive '([^']+)'")


def require_jax() -> None:
    """Raise ``MissingDependencyError`` (one line naming the extra) unless jax and jax2onnx import."""
    try:
        import jax  # noqa: F401
        import jax2onnx  # noqa: F401
    except ImportError as e:
        missing = e.name or "jax"
        raise MissingDependencyError(f"converting JAX functions needs jax and jax2onnx ({missing} is not "
                                     f"installed): {INSTALL_HINT}") from None


def lower_jax(apply_fn: Callable[..., Any], params: Any, input_signatures: Sequence[Any], *,
              polymorphic_shapes: Sequence[Any] | str | None = None, input_names: Sequence[str] | None = None,
              output_names: Sequence[str] | None = None) -> ir.Model:
    """Trace ``apply_fn(params, *inputs)`` (or ``apply_fn(*inputs)`` when ``params`` is None) into ONNX.

    ``input_signatures`` holds one signature (or a pytree of them) per argument after ``params``.
    Inputs are the flattened leaves in jax's pytree order (dict keys sorted), and so are the outputs.
    """
    require_jax()
    import jax

    leaves, treedef = jax.tree_util.tree_flatten_with_path(list(input_signatures), is_leaf=is_spec)
    specs = [to_spec(leaf, i) for i, (_, leaf) in enumerate(leaves)]
    abstract = _abstract(specs, poly_texts(specs, polymorphic_shapes))

    def flat_fn(*xs: jax.Array) -> Any:
        args = jax.tree_util.tree_unflatten(treedef, xs)
        return apply_fn(*args) if params is None else apply_fn(params, *args)

    outputs = _trace_outputs(flat_fn, abstract)
    in_names = _names(input_names, [s.name or _path_name(p[1:]) for (p, _), s in zip(leaves, specs, strict=True)],
                      "input", len(specs))
    out_names = _names(output_names, [_path_name(p) for p, _ in outputs], "output", len(outputs))
    model = _to_onnx(flat_fn, abstract, in_names, out_names)
    _forget_intermediate_shapes(model.graph)
    _drop_detached_uses(model.graph)
    if params is not None:
        name_weights(model.graph, params)
    return model


def _abstract(specs: Sequence[InputSpec], texts: Sequence[str | None]) -> list[jax.ShapeDtypeStruct]:
    """ShapeDtypeStructs whose symbolic dimensions share one scope, so equal names mean equal sizes."""
    import jax
    from jax import export

    scope = export.SymbolicScope()
    result = []
    for i, (spec, text) in enumerate(zip(specs, texts, strict=True)):
        if text is None:
            result.append(jax.ShapeDtypeStruct(spec.shape, spec.dtype))
            continue
        like = tuple(d if isinstance(d, int) else None for d in spec.shape)
        try:
            shape = export.symbolic_shape(text, scope=scope, like=like)
        except ValueError as e:
            raise InputError(f"polymorphic shape {text!r} of input {i}: {e}") from None
        if len(shape) != len(spec.shape):
            raise InputError(f"polymorphic shape {text!r} of input {i} has rank {len(shape)}, the signature "
                             f"{spec.shape} has rank {len(spec.shape)}")
        result.append(jax.ShapeDtypeStruct(shape, spec.dtype))
    return result


def _trace_outputs(fn: Callable[..., Any], abstract: list[jax.ShapeDtypeStruct]) -> list[tuple[Any, Any]]:
    """The flattened (path, ShapeDtypeStruct) outputs; a function JAX cannot trace is the caller's error."""
    import jax

    try:
        out = jax.eval_shape(fn, *abstract)
    except (TypeError, ValueError) as e:
        # Mismatched shapes, an undeclared symbolic dimension, a bad signature: JAX's message says which.
        raise InputError(f"tracing apply_fn with the input signatures failed: {_first_line(e)}") from e
    return list(jax.tree_util.tree_flatten_with_path(out)[0])


def _to_onnx(fn: Callable[..., Any], abstract: list[jax.ShapeDtypeStruct], input_names: list[str],
             output_names: list[str]) -> ir.Model:
    import jax
    import jax2onnx

    _load_plugins()
    try:
        return jax2onnx.to_onnx(fn, abstract, opset=TARGET_OPSET, return_mode="ir",  # type: ignore[return-value]
                                input_names=input_names, output_names=output_names)
    except NotImplementedError as e:
        if _NO_PLUGIN.search(str(e)):
            raise UnsupportedOpsError(_unsupported(fn, abstract, str(e))) from e
        # A rule exists but refuses these attributes (e.g. eigh of a 3x3 matrix).
        raise ConversionError(f"jax2onnx could not lower apply_fn: {_first_line(e)}") from e
    except (TypeError, ValueError, jax.errors.InconclusiveDimensionOperation) as e:
        # JAX itself traced ``fn`` (``_trace_outputs``): this is a jax2onnx rule failing on it.
        raise ConversionError(f"jax2onnx could not lower apply_fn: {type(e).__name__}: {_first_line(e)}") from e


def _load_plugins() -> None:
    """Import jax2onnx's rules once, then undo the global patch that importing them leaves behind.

    jax2onnx 0.17 replaces ``jnp.cumsum`` for the whole process by a version that rejects a positional
    axis (``jnp.cumsum(x, 1)``); the original lowers through lax's cumsum rule just as well.
    """
    import jax.numpy as jnp
    from jax2onnx.plugins.plugin_system import import_all_plugins

    import_all_plugins()
    module = sys.modules.get("jax2onnx.plugins.jax.numpy.cumsum")
    original = getattr(module, "_ORIGINAL_JNP_CUMSUM", None)
    if original is not None and jnp.cumsum is getattr(module, "_runtime_cumsum", None):
        jnp.cumsum = original


def _unsupported(fn: Callable[..., Any], abstract: list[jax.ShapeDtypeStruct], message: str) -> list[Unsupported]:
    """Every JAX primitive jax2onnx has no rule for (it stops at the first one), with its source lines."""
    hit = _NO_PLUGIN.search(message)
    missing: dict[str, list[str]] = {hit.group(1): []} if hit else {}
    for name, where in _unregistered(fn, abstract):
        missing.setdefault(name, []).append(where)
    hint = "rewrite it with supported jax.numpy / lax operations, or add a jax2onnx plugin"
    return [Unsupported(name, "no_rule", tuple(nodes), f"JAX primitive '{name}' has no jax2onnx rule", hint, "jax")
            for name, nodes in missing.items()]


def _unregistered(fn: Callable[..., Any], abstract: list[jax.ShapeDtypeStruct]) -> Iterator[tuple[str, str]]:
    import jax
    from jax._src import source_info_util
    from jax2onnx.plugins.plugin_system import PLUGIN_REGISTRY

    for eqn in _equations(jax.make_jaxpr(fn)(*abstract).jaxpr):
        name = eqn.primitive.name
        if name not in PLUGIN_REGISTRY:
            yield name, source_info_util.summarize(eqn.source_info)


def _equations(jaxpr: Any) -> Iterator[Any]:
    """Every equation of ``jaxpr``, including those of nested jaxprs (loop bodies, branches, jit calls)."""
    for eqn in jaxpr.eqns:
        yield eqn
        for param in eqn.params.values():
            for sub in param if isinstance(param, (tuple, list)) else (param,):
                inner = getattr(sub, "jaxpr", sub)  # ClosedJaxpr wraps a Jaxpr
                if hasattr(inner, "eqns"):
                    yield from _equations(inner)


def _forget_intermediate_shapes(graph: ir.Graph) -> None:
    """Drop jax2onnx's intermediate shapes, which the pivot's shape inference recomputes.

    Some are stale (NHWC recorded for an NCHW value), and inference keeps a recorded shape unless it is
    less static than its own.
    """
    outputs = {id(v) for v in graph.outputs}
    for node in graph:
        for value in node.outputs:
            if id(value) not in outputs:
                value.shape = None
        for sub in node_subgraphs(node):
            _forget_intermediate_shapes(sub)


def _drop_detached_uses(graph: ir.Graph) -> None:
    """Unhook nodes jax2onnx removed from the graph but left reading its values.

    Their stale uses make a value look shared, so single-consumer rewrites (BatchNorm folding) skip it.
    """
    live = {id(n) for n in ir.traversal.RecursiveGraphIterator(graph)}
    outputs = (v for n in ir.traversal.RecursiveGraphIterator(graph) for v in n.outputs)
    for value in (*graph.inputs, *graph.initializers.values(), *outputs):
        for use in list(value.uses()):
            if id(use.node) not in live:
                use.node.replace_input_with(use.idx, None)


def _path_name(path: Sequence[Any]) -> str | None:
    """``a/b`` for a leaf reached through dict keys only; None otherwise."""
    keys = [getattr(k, "key", None) for k in path]
    names = [k for k in keys if isinstance(k, str)]
    return "/".join(names) if names and len(names) == len(keys) else None


def _names(given: Sequence[str] | None, derived: Sequence[str | None], prefix: str, count: int) -> list[str]:
    if given is not None:
        if len(given) != count or len(set(given)) != count:
            raise InputError(f"{prefix}_names needs {count} distinct names, got {list(given)}")
        return list(given)
    names = [d or f"{prefix}_{i}" for i, d in enumerate(derived)]
    # Duplicates (two TensorSpecs with the same name) fall back to positional names.
    return names if len(set(names)) == count else [f"{prefix}_{i}" for i in range(count)]


def _first_line(error: BaseException | str) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
