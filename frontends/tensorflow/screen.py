"""TensorFlow models screened before TensorFlow reads them: files kept inside, no file or Python ops, sane constants."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path

from frontends.tensorflow.protos import last, merged, read_pb, sub, text, varints
from pivot.errors import InputError
from pivot.untrusted import charge, confined, regular_file

# TensorFlow runs a model's graph while loading (initializers) and converting (grappler folds constants): ops
# that read or write files named in the graph, or call back into Python, have no place in a model for
# TensorFlow.js and would reach outside the model's folder. Checkpoint ops (SaveV2, RestoreV2) stay: every
# SavedModel holds them, and the loader feeds them its own variables path.
REFUSED_OPS = frozenset({
    "ReadFile", "WriteFile", "MatchingFiles", "ImmutableConst", "FileSystemSetConfiguration",
    "PyFunc", "PyFuncStateless", "EagerPyFunc",
    "WholeFileReader", "WholeFileReaderV2", "TextLineReader", "TextLineReaderV2", "TFRecordReader",
    "TFRecordReaderV2", "FixedLengthRecordReader", "FixedLengthRecordReaderV2", "RecordInput",
    "TextLineDataset", "TFRecordDataset", "TFRecordDatasetV2", "FixedLengthRecordDataset",
    "FixedLengthRecordDatasetV2", "MatchingFilesDataset", "CSVDataset", "CSVDatasetV2", "ExperimentalCSVDataset",
    "SqlDataset", "ExperimentalSqlDataset", "LMDBDataset", "ExperimentalLMDBDataset", "CacheDataset",
    "CacheDatasetV2", "SaveDataset", "SaveDatasetV2", "LoadDataset", "SnapshotDataset", "SnapshotDatasetV2",
    "CreateSummaryFileWriter", "CreateSummaryDbWriter", "LoadAndRemapMatrix", "GenerateVocabRemapping",
})
_CONST_OPS = frozenset({"Const", "HostConst"})
# Bytes per element of TensorFlow's DataType values (types.proto); strings, resources, variants: 8 at least.
_ITEMSIZE = {1: 4, 2: 8, 3: 4, 4: 1, 5: 2, 6: 1, 8: 8, 9: 8, 10: 1, 11: 1, 12: 1, 13: 4, 14: 2, 15: 2, 16: 2,
             17: 2, 18: 16, 19: 2, 22: 4, 23: 8}
_MAX_RANK = 254  # TensorShape::MaxDimensions()
# A SavedModel folder holds a handful of files (more with many assets); a whole disk is not a model.
MAX_ENTRIES = 100_000
_ASSETS_COLLECTION = "saved_model_assets"  # TF1 SavedModels list their assets in this collection


def screen_saved_model(folder: Path) -> Path:
    """The resolved SavedModel folder, once nothing in it leads outside and its graphs are fit for TensorFlow."""
    root = _resolved(folder)
    check_tree(root)
    pb = confined(root, "saved_model.pb", f"{root}: SavedModel")
    data = read_pb(pb)
    for k, meta in enumerate(sub(data, 2, str(pb))):  # SavedModel.meta_graphs
        where = f"{pb}: meta_graphs[{k}]"
        for name in asset_filenames(meta, where):
            # TensorFlow joins assets/ and the name: an absolute name or '..' would hand it any file.
            confined(root / "assets", name, f"{where}: asset file")
        for graph in sub(meta, 2, where):  # MetaGraphDef.graph_def
            screen_graph(graph, f"{where}.graph_def")
    return root


def screen_frozen(path: Path) -> bytes:
    """The bytes of a frozen GraphDef file, once its graph is fit for TensorFlow."""
    data = read_pb(regular_file(path, "frozen graph"))
    screen_graph(data, str(path))
    return data.tobytes()


def _resolved(folder: Path) -> Path:
    try:
        return folder.resolve(strict=True)
    except (OSError, RuntimeError) as e:
        raise InputError(f"{folder}: cannot resolve the model folder ({getattr(e, 'strerror', None) or e})") from None


def check_tree(root: Path) -> None:
    """Every entry under ``root``: a folder, a regular file or a symlink resolving inside ``root``; nothing else."""
    stack, seen = [root], 0
    while stack:
        for entry in _entries(stack.pop()):
            seen += 1
            if seen > MAX_ENTRIES:
                raise InputError(f"{root}: holds over {MAX_ENTRIES} files and folders; not a SavedModel folder")
            path = Path(entry.path)
            if entry.is_symlink():
                _check_link(root, path)
            elif entry.is_dir(follow_symlinks=False):
                stack.append(path)
            elif not entry.is_file(follow_symlinks=False):
                raise InputError(f"{root}: {path.relative_to(root).as_posix()!r} is a device, FIFO or socket "
                                 "(refused)")


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except OSError as e:
        raise InputError(f"{folder}: cannot list the folder ({e.strerror or type(e).__name__})") from None


def _check_link(root: Path, path: Path) -> None:
    rel = path.relative_to(root).as_posix()
    if path.is_dir():  # a linked folder: its files are checked where they really are, which must be inside
        target = path.resolve()
        if target != root and root not in target.parents:
            raise InputError(f"{root}: {rel!r} is a symlink leading outside the model's folder (refused)")
        return
    confined(root, rel, f"{root}: SavedModel file")


def asset_filenames(meta: memoryview, where: str) -> Iterator[str]:
    """The asset file names of a MetaGraphDef: ``asset_file_def`` and TF1's ``saved_model_assets`` collection."""
    for asset in sub(meta, 6, where):  # MetaGraphDef.asset_file_def
        yield text(last(sub(asset, 2, f"{where}.asset_file_def")), f"{where}.asset_file_def")
    for entry in sub(meta, 4, where):  # collection_def: map<string, CollectionDef>
        at = f"{where}.collection_def"
        if text(last(sub(entry, 1, at)), at) != _ASSETS_COLLECTION:
            continue
        for any_list in sub(merged(sub(entry, 2, at)), 5, at):  # CollectionDef.any_list
            for packed in sub(any_list, 1, at):  # AnyList.value: Any{type_url, value = AssetFileDef}
                asset = merged(sub(packed, 2, at))
                yield text(last(sub(asset, 2, at)), at)


def screen_graph(graph: memoryview, where: str) -> None:
    """Refuse file and Python ops; charge constants declared bigger than the bytes stored for them."""
    for at, node in _nodes(graph, where):
        name = text(last(sub(node, 1, at)), at)
        op = text(last(sub(node, 2, at)), at)
        place = f"{at}, node {name[:80]!r}"
        if op in REFUSED_OPS:
            raise InputError(f"{place}: op {op} reads or writes files or runs Python; refused (TensorFlow would "
                             "run it while loading or converting)")
        if op in _CONST_OPS:
            _charge_constant(node, place)


def _nodes(graph: memoryview, where: str) -> Iterator[tuple[str, memoryview]]:
    """Every NodeDef of a GraphDef: the main graph's, then each library function's."""
    for node in sub(graph, 1, where):  # GraphDef.node
        yield where, node
    for library in sub(graph, 2, where):  # GraphDef.library
        for fn in sub(library, 1, f"{where}.library"):  # FunctionDefLibrary.function
            signature = merged(sub(fn, 1, f"{where}.library.function"))  # FunctionDef.signature: OpDef
            at = f"{where}, function {text(last(sub(signature, 1, where)), where)[:80]!r}"
            for node in sub(fn, 3, at):  # FunctionDef.node_def
                yield at, node


def _charge_constant(node: memoryview, place: str) -> None:
    """A Const repeats its stored values up to its declared shape: the excess is charged before TF builds it."""
    for entry in sub(node, 5, place):  # NodeDef.attr: map<string, AttrValue>
        if text(last(sub(entry, 1, place)), place) != "value":
            continue
        for tensor in sub(merged(sub(entry, 2, place)), 8, place):  # AttrValue.tensor: TensorProto
            dims = _dims(tensor, place)
            if dims is None:
                continue
            dtype = (varints(tensor, 1, place) or [0])[-1]
            excess = math.prod(dims) * _ITEMSIZE.get(dtype, 8) - len(tensor)
            if excess > 0:
                charge(excess, f"{place}: a constant of shape {dims[:8]}",
                       "its file stores far fewer values than its shape declares")


def _dims(tensor: memoryview, place: str) -> list[int] | None:
    """The declared dimensions of a TensorProto (None when one is negative: TensorFlow refuses that itself)."""
    dims = []
    for shape in sub(tensor, 2, place):  # TensorProto.tensor_shape
        for dim in sub(shape, 2, place):  # TensorShapeProto.dim
            size = (varints(dim, 1, place) or [0])[-1]  # proto3 omits a size of 0
            dims.append(size - (1 << 64) if size >= 1 << 63 else size)
    if len(dims) > _MAX_RANK:
        raise InputError(f"{place}: a constant with {len(dims)} dimensions (TensorFlow allows {_MAX_RANK})")
    return None if any(d < 0 for d in dims) else dims
