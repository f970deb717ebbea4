"""The import graph points one way: tfjs_pivot -> frontends, backends -> tfjs_format -> pivot (read from the source)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Top-level package -> the packages of ours it may import (every import counts: lazy, TYPE_CHECKING, tests aside).
ALLOWED = {
    "pivot": set(),
    "tfjs_format": {"pivot"},
    "frontends": {"pivot", "tfjs_format"},
    "backends": {"pivot", "tfjs_format"},
    "tfjs_pivot": {"pivot", "tfjs_format", "frontends", "backends"},
}
# Inside these, one sub-package (a frontend, a writer) imports no sibling but the package's contract module;
# only the package's ``__init__`` (its registry) sees them all.
SIBLINGS_APART = {"frontends": "base", "backends": "base"}


def _modules() -> list[tuple[str, Path]]:
    return [(".".join(p.relative_to(ROOT).with_suffix("").parts), p)
            for top in ALLOWED for p in sorted((ROOT / top).rglob("*.py")) if "node_modules" not in p.parts]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import (the direction test reads absolute names)"
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _violations(module: str, imported: set[str]) -> list[str]:
    top, *rest = module.split(".")
    bad = [name for name in imported if name.split(".")[0] in ALLOWED
           and name.split(".")[0] != top and name.split(".")[0] not in ALLOWED[top]]
    contract = SIBLINGS_APART.get(top)
    if contract and rest and rest[0] != "__init__":
        bad += [name for name in imported if name.split(".")[0] == top and len(name.split(".")) > 1
                and name.split(".")[1] not in (rest[0], contract)]
    return sorted(bad)


MODULES = _modules()


@pytest.mark.parametrize(("module", "path"), MODULES, ids=[m for m, _ in MODULES])
def test_imports_follow_the_layers(module: str, path: Path) -> None:
    assert not _violations(module, _imports(path)), f"{module} imports against the direction"


# (case, importing module, imported names, violations expected): the rule itself, checked on made-up imports.
RULE_CASES = [
    ("pivot imports no frontend", "pivot.ir", {"frontends.base"}, ["frontends.base"]),
    ("pivot imports no app", "pivot.passes.fold", {"tfjs_pivot.convert"}, ["tfjs_pivot.convert"]),
    ("tfjs_format sits on pivot", "tfjs_format.manifest", {"pivot.errors"}, []),
    ("tfjs_format imports no backend", "tfjs_format.weights", {"backends.base"}, ["backends.base"]),
    ("a frontend imports no backend", "frontends.jax.lower", {"backends.base"}, ["backends.base"]),
    ("a backend imports no frontend", "backends.tfjs_graph.emit", {"frontends.keras.model"}, ["frontends.keras.model"]),
    ("a writer imports no sibling writer", "backends.keras_out.config", {"backends.tfjs_layers.from_keras"},
     ["backends.tfjs_layers.from_keras"]),
    ("a writer imports the contract", "backends.onnx_out", {"backends.base", "pivot.ir"}, []),
    ("a frontend reads its own modules", "frontends.keras.lower", {"frontends.keras.model"}, []),
    ("the registry sees every frontend", "frontends.__init__", {"frontends.keras", "frontends.onnx_file"}, []),
    ("the app sees everything", "tfjs_pivot.convert", {"frontends", "backends.base", "tfjs_format.weights"}, []),
    ("other packages are free", "backends.base", {"numpy", "onnx_ir"}, []),
]


@pytest.mark.parametrize(("module", "imported", "expected"), [c[1:] for c in RULE_CASES],
                         ids=[c[0] for c in RULE_CASES])
def test_the_rule(module: str, imported: set[str], expected: list[str]) -> None:
    assert _violations(module, imported) == expected
