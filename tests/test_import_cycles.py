"""No import cycles inside ``builder/`` and ``gui/``, read statically from the source (AST).

An edge A → B means module A imports module B when A is imported: the module-level imports,
including those under a top-level ``if``/``try``/``with`` (they run at import time). The first
test allows no cycle of these edges at all. Not counted there:

- imports under ``if TYPE_CHECKING:`` — they never run; they only let the type checker see a
  name, and a cycle made with them costs nothing at run time;
- imports inside functions — they run later, when the function is called, after every module
  is loaded.

Both still hide a cycle a reader of the code sees, so a second test scans with them too and
allows only the few listed in ``KNOWN_HIDDEN`` (in files other changes own), each with the way
to end it. ``from pkg import name`` is an edge to ``pkg.name`` when that is a module of the
tree, else to ``pkg``. The parent packages a dotted import also loads are not edges: a
package's ``__init__`` importing its own submodules would otherwise always be a "cycle".
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("builder", "gui")


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """``{dotted module name: file}`` for every module of the packages."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(body: list[ast.stmt], type_checking: bool, deferred: bool) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of ``body`` that run at import time, plus those the flags add."""
    found: list[ast.Import | ast.ImportFrom] = []
    for stmt in body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            found.append(stmt)
        elif isinstance(stmt, ast.If) and _is_type_checking(stmt.test):
            if type_checking:
                found += _imports(stmt.body, type_checking, deferred)
            found += _imports(stmt.orelse, type_checking, deferred)
        elif isinstance(stmt, ast.If | ast.Try | ast.With):
            for block in _blocks(stmt):
                found += _imports(block, type_checking, deferred)
        elif deferred and isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found += [n for n in ast.walk(stmt) if isinstance(n, ast.Import | ast.ImportFrom)]
    return found


def _blocks(stmt: ast.If | ast.Try | ast.With) -> list[list[ast.stmt]]:
    if isinstance(stmt, ast.If):
        return [stmt.body, stmt.orelse]
    if isinstance(stmt, ast.With):
        return [stmt.body]
    return [stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]


def _targets(stmt: ast.Import | ast.ImportFrom, module: str, is_package: bool,
             known: dict[str, Path]) -> list[str]:
    """The tree's modules one import statement loads."""
    if isinstance(stmt, ast.Import):
        return [a.name for a in stmt.names if a.name in known]
    base = stmt.module or ""
    if stmt.level:
        parts = module.split(".")
        keep = len(parts) - stmt.level + (1 if is_package else 0)
        base = ".".join(parts[:keep] + ([base] if base else []))
    out = []
    for alias in stmt.names:
        sub = f"{base}.{alias.name}"
        out.append(sub if sub in known else base)
    return [t for t in out if t in known]


def import_edges(root: Path = ROOT, type_checking: bool = False,
                 deferred: bool = False) -> nx.DiGraph:
    """The import graph of the packages (see the module docstring for what is an edge)."""
    known = module_files(root)
    graph = nx.DiGraph()
    graph.add_nodes_from(known)
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for stmt in _imports(tree.body, type_checking, deferred):
            for target in _targets(stmt, module, path.name == "__init__.py", known):
                if target != module:
                    graph.add_edge(module, target)
    return graph


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    """Each group of modules that import one another (a strongly connected component > 1)."""
    return sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)


# Cycles that remain only through an import inside a function or under TYPE_CHECKING, each in
# files another change owns. The test fails on any other cycle, and when one of these is gone
# (so the list shrinks with the code).
KNOWN_HIDDEN: set[tuple[str, ...]] = set()  # none left


def _text(found: list[list[str]]) -> str:
    return "; ".join(" ↔ ".join(c) for c in found)


def test_no_import_cycles_at_import_time() -> None:
    found = cycles(import_edges())
    assert found == [], "modules importing one another: " + _text(found)


def test_no_new_cycles_through_deferred_or_type_only_imports() -> None:
    hidden = {tuple(c) for c in cycles(import_edges(type_checking=True, deferred=True))}
    assert hidden == KNOWN_HIDDEN, _text([list(c) for c in hidden ^ KNOWN_HIDDEN])


def test_the_scan_sees_imports_of_every_form(tmp_path: Path) -> None:
    """A planted cycle through each import form is found; TYPE_CHECKING and deferred ones only on demand."""
    pkg = tmp_path / "builder"
    (pkg / "sub").mkdir(parents=True)
    (tmp_path / "gui").mkdir()
    files = {
        "builder/__init__.py": "",
        "builder/a.py": "from builder import b\n",
        "builder/b.py": "try:\n    from .sub import c\nexcept ImportError:\n    pass\n",
        "builder/sub/__init__.py": "",
        "builder/sub/c.py": "import builder.a\n",
        "builder/d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from builder import e\n",
        "builder/e.py": "def f():\n    from builder.d import x\n",
        "gui/__init__.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert cycles(import_edges(tmp_path)) == [["builder.a", "builder.b", "builder.sub.c"]]
    assert ["builder.d", "builder.e"] not in cycles(import_edges(tmp_path, type_checking=True))
    assert ["builder.d", "builder.e"] in cycles(import_edges(tmp_path, type_checking=True, deferred=True))


def test_the_scan_reads_the_real_tree() -> None:
    """The scan is not vacuous: known imports of the real packages are edges."""
    graph = import_edges()
    assert graph.has_edge("builder.validate", "builder.graph")
    assert graph.has_edge("builder.compile", "builder.validate")
    assert graph.number_of_nodes() > 80 and graph.number_of_edges() > 150
