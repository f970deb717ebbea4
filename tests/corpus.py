"""The ONNX backend node-test corpus: generation into a cache, selection, and one run per case."""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import onnx
from onnx import numpy_helper, version_converter

from backends.base import BackendOptions
from backends.tfjs_runtime import TfjsRunError, TfjsRuntime
from pivot.errors import UnsupportedOpsError
from pivot.passes.normalize import MIN_OPSET
from tests.corpus_exclusions import EXCLUDED, UNSUPPORTED_FORMS, XFAIL
from tfjs_pivot.convert import ConvertOptions, convert

ROOT = Path(__file__).resolve().parent.parent
FORMAT = 4  # bump when the cache layout changes
_OK_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.INT32, onnx.TensorProto.INT64, onnx.TensorProto.INT8,
             onnx.TensorProto.UINT8, onnx.TensorProto.INT16, onnx.TensorProto.UINT16, onnx.TensorProto.BOOL}
_INT32 = np.iinfo(np.int32)
# Relative tolerance of the project, used when a case's own rtol/atol do not hold.
DEFAULT_TOL = 1e-4
UPGRADE_OPSET = 13  # old node cases are upgraded to this opset (the pivot then goes to 21)
CPU_EVERY = 4  # every n-th case also runs on the cpu backend

Status = Literal["passed", "failed", "unsupported"]


@dataclass(frozen=True)
class CaseInfo:
    """One node case as recorded in the cache manifest."""

    name: str
    op: str
    ops: tuple[str, ...]
    opset: int
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    rtol: float
    atol: float
    problem: str | None = None  # why tfjs cannot represent its inputs/outputs

    @property
    def expanded(self) -> bool:
        return "_expanded" in self.name


@dataclass(frozen=True)
class Entry:
    """A claimed case with its exclusion (not run), known-failure (xfail) or declared-refusal reason."""

    info: CaseInfo
    excluded: str | None = None
    xfail: str | None = None
    unsupported: str | None = None  # the converter must refuse it (UNSUPPORTED_FORMS)


@dataclass
class Outcome:
    """What one run of a case gave; ``detail`` holds the first error line."""

    status: Status
    detail: str = ""
    backends: tuple[str, ...] = ()
    frozen: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


# -- cache ------------------------------------------------------------------------------------
def cache_dir() -> Path:
    """Where the generated corpus lives: $TFJS_PIVOT_CORPUS or <repo>/.corpus (gitignored)."""
    base = Path(os.environ.get("TFJS_PIVOT_CORPUS", ROOT / ".corpus"))
    return base / f"node-onnx{onnx.__version__}-v{FORMAT}"


def ensure_corpus(cache: Path | None = None) -> list[CaseInfo]:
    """The manifest of every node case, generating the cache on first use (about 10 s)."""
    cache = cache or cache_dir()
    manifest = cache / "manifest.json"
    if not manifest.is_file():
        _generate(cache)
    return [CaseInfo(**{**d, "ops": tuple(d["ops"]), "inputs": tuple(d["inputs"]),
                        "outputs": tuple(d["outputs"])}) for d in json.loads(manifest.read_text())]


def _generate(cache: Path) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{cache.name}.", dir=cache.parent))
    try:
        infos = [_write_case(tmp, case) for case in _collect()]
        (tmp / "manifest.json").write_text(json.dumps([vars(i) for i in infos], indent=0))
        with contextlib.suppress(OSError):  # another process won the race; its copy is as good as ours
            tmp.rename(cache)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _collect() -> list[Any]:
    from onnx.backend.test.case import node

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the generators overflow casts on purpose
        return list(node.collect_testcases(None))


def _write_case(root: Path, case: Any) -> CaseInfo:
    model: onnx.ModelProto = case.model
    inputs, outputs = case.data_sets[0]
    graph_inputs = [v for v in model.graph.input if v.name not in {i.name for i in model.graph.initializer}]
    problem = _type_problem(list(graph_inputs) + list(model.graph.output))
    if problem is None and (len(inputs) != len(graph_inputs) or len(outputs) != len(model.graph.output)):
        problem = "test data does not match the graph inputs/outputs"
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if problem is None:
        ins, outs = [_array(x) for x in inputs], [_array(x) for x in outputs]
        problem = _range_problem(ins + outs)
    if problem is None:
        _save(root / case.name, model, ins, outs)
    return CaseInfo(case.name, _tested_op(case.name, model), tuple(sorted(_ops(model.graph))), opset,
                    tuple(v.name for v in graph_inputs), tuple(v.name for v in model.graph.output),
                    float(case.rtol), float(case.atol), problem)


def _save(d: Path, model: onnx.ModelProto, ins: list[np.ndarray], outs: list[np.ndarray]) -> None:
    d.mkdir(parents=True)
    onnx.save(model, d / "model.onnx")
    np.savez(d / "inputs.npz", *ins)
    np.savez(d / "outputs.npz", *outs)


def _array(x: Any) -> np.ndarray:
    return numpy_helper.to_array(x) if isinstance(x, onnx.TensorProto) else np.asarray(x)


def _type_problem(values: list[onnx.ValueInfoProto]) -> str | None:
    problems = set()
    for v in values:
        kind = v.type.WhichOneof("value")
        if kind != "tensor_type":
            problems.add(f"{(kind or 'unknown').removesuffix('_type')} input/output (TensorFlow.js has tensors only)")
        elif v.type.tensor_type.elem_type not in _OK_TYPES:
            name = onnx.TensorProto.DataType.Name(v.type.tensor_type.elem_type).lower()
            name = {"double": "float64"}.get(name, name)
            problems.add(f"{name} input/output (no TensorFlow.js dtype)")
    return min(problems) if problems else None


def _range_problem(arrays: list[np.ndarray]) -> str | None:
    for a in arrays:
        if a.dtype.kind in "iu" and a.size and (a.min() < _INT32.min or a.max() > _INT32.max):
            return "int64 values outside the int32 range (TensorFlow.js has no int64)"
    return None


def _ops(graph: onnx.GraphProto) -> Iterator[str]:
    for n in graph.node:
        yield n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}:{n.op_type}"
        for a in n.attribute:
            for g in [a.g] if a.HasField("g") else list(a.graphs):
                yield from _ops(g)


def _tested_op(name: str, model: onnx.ModelProto) -> str:
    """The op a case tests; an expanded case tests the function op its base case uses."""
    if "_expanded" in name:
        return _BASE_OPS.get(name[: name.index("_expanded")], "(function)")
    ops = list(dict.fromkeys(_ops(model.graph)))
    op = ops[0] if ops else "(none)"
    _BASE_OPS[name] = op
    return op


_BASE_OPS: dict[str, str] = {}


# -- selection --------------------------------------------------------------------------------
def claimed_ops() -> frozenset[str]:
    """Every ONNX op the tfjs backend registry has a rule for."""
    from backends.tfjs_graph.emitters import load_rules
    from backends.tfjs_graph.registry import TFJS

    load_rules()
    return TFJS.keys()


def match(table: dict[str, str], name: str) -> str | None:
    """The reason of the first exact name or glob in ``table`` matching ``name``."""
    if name in table:
        return table[name]
    return next((r for pat, r in table.items() if fnmatch.fnmatchcase(name, pat)), None)


def select(infos: list[CaseInfo], claimed: frozenset[str]) -> list[Entry]:
    """Cases whose every op is claimed, sorted by op, with their exclusion or xfail reason."""
    entries = []
    for info in infos:
        if not info.ops or not set(info.ops) <= claimed:
            continue
        excluded = info.problem or match(EXCLUDED, info.name)
        if excluded:
            entries.append(Entry(info, excluded))
        else:
            entries.append(Entry(info, None, match(XFAIL, info.name), match(UNSUPPORTED_FORMS, info.name)))
    return sorted(entries, key=lambda e: (e.info.op, e.info.name))


# -- running ----------------------------------------------------------------------------------
def load_data(info: CaseInfo, cache: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Feeds (int64 narrowed to int32) and expected outputs by name."""
    with np.load(cache / info.name / "inputs.npz") as f:
        ins = [f[f"arr_{i}"] for i in range(len(info.inputs))]
    with np.load(cache / info.name / "outputs.npz") as f:
        outs = [f[f"arr_{i}"] for i in range(len(info.outputs))]
    feeds = {n: a.astype(np.int32) if a.dtype.kind in "iu" else a for n, a in zip(info.inputs, ins, strict=True)}
    return feeds, dict(zip(info.outputs, outs, strict=True))


@dataclass(frozen=True)
class Converted:
    """A case converted to a tfjs graph model, with the inputs that were baked in as constants."""

    model_json: Path
    frozen: tuple[str, ...] = ()


def convert_case(info: CaseInfo, cache: Path, work: Path) -> Converted | Outcome:
    """Upgrade (old opsets) and convert one case; an ``Outcome`` when that already decides it.

    Needs no TensorFlow.js runtime: an "unsupported" outcome is known here.
    """
    feeds, _ = load_data(info, cache)
    work.mkdir(parents=True, exist_ok=True)
    src: Path | Outcome = cache / info.name / "model.onnx"
    if info.opset < MIN_OPSET:
        src = _upgrade(cache / info.name / "model.onnx", info.opset, work)
    if isinstance(src, Outcome):
        return src
    converted = _convert(src, feeds, work)
    return converted if isinstance(converted, Outcome) else Converted(*converted)


def run_case(info: CaseInfo, cache: Path, runtime: TfjsRuntime, work: Path, *, cpu: bool | None = None) -> Outcome:
    """Convert, run on wasm (and cpu for a subset, or when wasm lacks a kernel), compare."""
    converted = convert_case(info, cache, work)
    if isinstance(converted, Outcome):
        return converted
    model_json, frozen = converted.model_json, converted.frozen
    feeds, expected = load_data(info, cache)
    feeds = {k: v for k, v in feeds.items() if k not in frozen}
    outcome = Outcome("passed", frozen=frozen)
    want_cpu = cpu if cpu is not None else hash_bucket(info.name) == 0
    for backend in ("wasm", "cpu"):
        if backend == "cpu" and not want_cpu:
            continue
        try:
            got = runtime.run(model_json, feeds, backend=backend)  # type: ignore[arg-type]
        except TfjsRunError as e:
            if backend == "wasm" and _missing_kernel(str(e)):
                outcome.notes.append(f"wasm: {first_line(str(e))}")
                want_cpu = True
                continue
            return Outcome("failed", f"tfjs {backend}: {first_line(str(e))}", outcome.backends, frozen)
        except ValueError as e:  # a reply whose data does not match its shape/dtype
            return Outcome("failed", f"tfjs {backend} output: {first_line(str(e))}", outcome.backends, frozen)
        outcome.backends += (backend,)
        error = compare_all(expected, got, info.rtol, info.atol)
        if error:
            return Outcome("failed", f"{backend}: {error}", outcome.backends, frozen)
    return outcome


def _upgrade(src: Path, opset: int, work: Path) -> Path | Outcome:
    """Models older than the pivot accepts are upgraded first, as a user would before converting."""
    try:
        model = version_converter.convert_version(onnx.load(src), UPGRADE_OPSET)
    except Exception:
        return Outcome("unsupported", f"opset {opset} < {MIN_OPSET} and the onnx version converter cannot upgrade it")
    work.mkdir(parents=True, exist_ok=True)
    onnx.save(model, work / "model_upgraded.onnx")
    return work / "model_upgraded.onnx"


def hash_bucket(name: str) -> int:
    """A stable bucket in [0, CPU_EVERY) for ``name`` (Python's hash() is salted)."""
    return sum(name.encode()) % CPU_EVERY


def _missing_kernel(message: str) -> bool:
    low = message.lower()
    return "not registered" in low or ("kernel" in low and "not found" in low)


def _convert(src: Path, feeds: dict[str, np.ndarray], work: Path) -> tuple[Path, tuple[str, ...]] | Outcome:
    """Convert ``src``; when an emitter needs a constant input, retry with int inputs frozen."""
    out = work / "tfjs"
    try:
        convert(src, out, ConvertOptions(overwrite=True, backend=BackendOptions(require_backend=None)))
        return out / "model.json", ()
    except UnsupportedOpsError as e:
        frozen = _freezable(onnx.load(src), feeds) if _wants_constants(e) else ()
        if not frozen:
            return Outcome("unsupported", unsupported_line(e))
    except Exception as e:
        return Outcome("failed", f"convert: {type(e).__name__}: {first_line(str(e))}")
    const_src = work / "model_const.onnx"
    onnx.save(freeze(onnx.load(src), {k: feeds[k] for k in frozen}), const_src)
    try:
        convert(const_src, out, ConvertOptions(overwrite=True, backend=BackendOptions(require_backend=None)))
    except UnsupportedOpsError as e:
        return Outcome("unsupported", unsupported_line(e), frozen=frozen)
    except Exception as e:
        return Outcome("failed", f"convert (constant inputs): {type(e).__name__}: {first_line(str(e))}",
                       frozen=frozen)
    return out / "model.json", frozen


def _wants_constants(e: UnsupportedOpsError) -> bool:
    return any(i.reason in ("needs_constant_input", "dynamic_shape") for i in e.items)


def _freezable(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> tuple[str, ...]:
    """Inputs never used as a node's first input that are integer (shapes, axes, pads, k...) or
    tiny (scales, depth, ...): the forms emitters need as constants."""
    first = {n.input[0] for n in model.graph.node if n.input}
    names = tuple(k for k, v in feeds.items() if k not in first and (v.dtype.kind in "iu" or v.size <= 8))
    return names if len(names) < len(feeds) else ()


def freeze(model: onnx.ModelProto, values: dict[str, np.ndarray]) -> onnx.ModelProto:
    """``model`` with the graph inputs ``values`` turned into initializers (original dtype)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    types = {v.name: v.type.tensor_type.elem_type for v in model.graph.input}
    kept = [v for v in model.graph.input if v.name not in values]
    del model.graph.input[:]
    model.graph.input.extend(kept)
    for name, arr in values.items():
        np_type = onnx.helper.tensor_dtype_to_np_dtype(types[name])
        model.graph.initializer.append(numpy_helper.from_array(arr.astype(np_type), name))
    return model


def unsupported_line(e: UnsupportedOpsError) -> str:
    """One line: op [reason]: detail, for each unsupported item."""
    return "; ".join(f"{i.op} [{i.reason}]: {i.detail}" for i in e.items)


def first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "(no message)"
    return line if len(line) <= 200 else line[:197] + "..."


# -- comparison -------------------------------------------------------------------------------
def compare_all(expected: dict[str, np.ndarray], got: dict[str, np.ndarray], rtol: float, atol: float) -> str | None:
    """The first mismatch over every output, or None."""
    for name, ref in expected.items():
        if name not in got:
            return f"output {name!r} missing (got {sorted(got)})"
        error = compare(ref, got[name], rtol, atol)
        if error:
            return f"{name}: {error}"
    return None


def compare(ref: np.ndarray, got: np.ndarray, rtol: float, atol: float) -> str | None:
    """Shapes and kinds must agree; bools/ints exactly; floats within the case's rtol/atol
    (elementwise, as the ONNX runner checks) or within DEFAULT_TOL x max(1, max|ref|)."""
    if tuple(ref.shape) != tuple(got.shape):
        return f"shape {tuple(got.shape)} != expected {tuple(ref.shape)}"
    kind = "b" if ref.dtype == np.bool_ else "i" if ref.dtype.kind in "iu" else "f"
    got_kind = "b" if got.dtype == np.bool_ else "i" if got.dtype.kind in "iu" else "f"
    if kind != got_kind:
        return f"dtype {got.dtype} where {ref.dtype} is expected"
    if kind != "f":
        bad = ref.astype(np.int64) != got.astype(np.int64)
        return f"{int(bad.sum())}/{bad.size} values differ (first at {_first(bad)})" if bad.any() else None
    return _compare_float(ref.astype(np.float64), got.astype(np.float64), rtol, atol)


def _compare_float(r: np.ndarray, g: np.ndarray, rtol: float, atol: float) -> str | None:
    with np.errstate(invalid="ignore"):
        return _float_error(r, g, rtol, atol)


def _float_error(r: np.ndarray, g: np.ndarray, rtol: float, atol: float) -> str | None:
    same = (np.isnan(r) & np.isnan(g)) | (np.isinf(r) & (r == g))
    diff = np.nan_to_num(np.where(same, 0.0, np.abs(r - g)), nan=np.inf, posinf=np.inf)
    if not diff.size:
        return None
    finite = r[np.isfinite(r)]
    scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
    within_case = diff <= atol + rtol * np.abs(np.nan_to_num(r, nan=0.0, posinf=0.0, neginf=0.0))
    if diff.max() <= DEFAULT_TOL * scale or within_case.all():
        return None
    i = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return f"max abs error {diff.max():.3g} at {tuple(int(x) for x in i)} (got {g[i]:.6g}, expected {r[i]:.6g}, " \
           f"scale {scale:.3g})"


def _first(mask: np.ndarray) -> tuple[int, ...]:
    return tuple(int(x) for x in np.argwhere(mask)[0]) if mask.ndim else ()
