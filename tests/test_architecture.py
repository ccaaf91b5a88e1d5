"""The package's shape, checked from its source: import graph, layers, plug-in boundary, file size, SQL.

Every module under ``src/sweeplab`` is parsed with :mod:`ast` (nothing is imported). Every import
counts, wherever it is written: at module level, inside a function, under ``if TYPE_CHECKING:``.
Relative imports are resolved to absolute module names; ``from pkg import name`` is an edge to the
submodule ``pkg.name`` when there is one, else to ``pkg`` (a package's ``__init__`` is a module
like any other). Imports by string count too: ``importlib.import_module("literal")``,
``__import__("literal")`` and registry entries written ``"package.module:attribute"``, since
naming a module by string is still depending on it.

The layers, lowest first (a module may import its own layer and the ones below)::

    errors, trial
    runners/*, executors/*      what a trial executes, where its process runs: they know no sweep
    planning/*                  resolving a spec asks the runner registry which runner and its checks
    journal/*
    engine/*, search/*          the coordinator and what it runs; a search chooses trials as it runs
    console/*                   the screen and the progress display (an engine Observer)
    sweep                       the Python API (draws through console/ when verbose)
    cli/*, sweeplab/__init__, __main__     the entry points

``analysis/*`` stands beside them: it may use errors, trial, planning, journal (read side) and
console, and only the entry points may use it. ``phenomenology/*`` is a plug-in at the runners'
layer, found through the ``sweeplab.runners`` entry-point group: no other module imports it.
``dashboard/*`` sits with the entry points (``cli/`` starts it) and uses only errors, trial,
planning, the journal's read side (``journal.reader``, ``journal.live``) and analysis.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "sweeplab"
MAX_LINES = 400
PLUGIN = "sweeplab.phenomenology"

#: layer of each top-level part of the package (a package covers its submodules)
LAYERS: dict[str, int] = {
    "sweeplab.errors": 0, "sweeplab.trial": 0,
    "sweeplab.runners": 1, "sweeplab.executors": 1, PLUGIN: 1,
    "sweeplab.planning": 2,
    "sweeplab.journal": 3,
    "sweeplab.engine": 4, "sweeplab.search": 4,
    "sweeplab.console": 5,
    "sweeplab.sweep": 6,
    "sweeplab.cli": 7, "sweeplab": 7, "sweeplab.__main__": 7,
    "sweeplab.dashboard": 7,
}
LAYER_NAMES = {0: "errors/trial", 1: "runners/executors", 2: "planning", 3: "journal", 4: "engine",
               5: "console", 6: "sweep", 7: "cli/entry points"}
#: what analysis may use, beside itself
ANALYSIS = "sweeplab.analysis"
ANALYSIS_MAY_USE = ("sweeplab.errors", "sweeplab.trial", "sweeplab.planning", "sweeplab.journal", "sweeplab.console")
#: the only layer that may use analysis
ANALYSIS_USERS = 7
#: the live dashboard (beside cli/, which starts it) reads the journal and uses analysis and planning only
DASHBOARD = "sweeplab.dashboard"
DASHBOARD_MAY_USE = ("sweeplab.errors", "sweeplab.trial", "sweeplab.planning", "sweeplab.journal.reader",
                     "sweeplab.journal.live", "sweeplab.analysis",
                     "sweeplab.engine.folder")  # the lock file's reader: is the sweep's coordinator alive?

#: SQL naming the journal's tables: only the journal writes or reads them
JOURNAL_SQL = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+[\"`\[]?(?:sweeps|trials|attempts)\b", re.IGNORECASE)
#: "package.module:attribute", how registries and entry points name an object to import later
IMPORT_STRING = re.compile(r"(sweeplab(?:\.[A-Za-z_]\w*)*):[A-Za-z_][\w.]*")


@dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` at ``line`` (``how``: ``import``, ``TYPE_CHECKING`` or ``by string``)."""

    source: str
    target: str
    file: str
    line: int
    how: str = "import"

    def describe(self) -> str:
        return f"{self.file}:{self.line} imports {self.target} ({self.how})"


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    edges: list[Edge] = field(default_factory=list)

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"


def docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring nodes (module, class, function): prose, not code."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def code_strings(tree: ast.Module) -> Iterator[ast.Constant]:
    """Every string constant that is not a docstring (f-string pieces included)."""
    prose = docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
            yield node


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


class Package:
    """Every module under ``src/<package>`` with its import edges inside the package (read, never imported)."""

    def __init__(self, src: Path, package: str = "sweeplab") -> None:
        self.src = src
        paths = sorted((src / package).rglob("*.py"))
        self.modules: dict[str, Module] = {}
        for path in paths:
            parts = list(path.relative_to(src).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            self.modules[".".join(parts)] = Module(".".join(parts), path,
                                                   ast.parse(path.read_text(encoding="utf-8"), str(path)))
        for module in self.modules.values():
            self._read_edges(module)

    def file(self, name: str) -> str:
        """The file of module ``name``, relative to ``src/`` (for messages)."""
        return str(self.modules[name].path.relative_to(self.src))

    @property
    def edges(self) -> list[Edge]:
        return [edge for module in self.modules.values() for edge in module.edges]

    def known(self, name: str) -> str | None:
        """The longest prefix of dotted ``name`` that is a module of the package (None outside it)."""
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in self.modules:
                return candidate
        return None

    def _targets(self, module: Module, node: ast.AST) -> Iterator[tuple[str, str]]:
        """(imported name, how) for one node: import statements and import_module/__import__ calls."""
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, "import"
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.name if module.is_package else module.name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{node.module}" if node.module else package
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield (submodule if submodule in self.modules else base), "import"
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str) \
                and ast.unparse(node.func) in ("importlib.import_module", "import_module", "__import__"):
            yield node.args[0].value, "by string"

    def _read_edges(self, module: Module) -> None:
        guarded = _type_checking_lines(module.tree)
        file = self.file(module.name)

        def add(target: str, line: int, how: str) -> None:
            resolved = self.known(target)
            edge = Edge(module.name, resolved, file, line, how) if resolved else None
            if edge is not None and resolved != module.name and edge not in module.edges:
                module.edges.append(edge)

        for node in ast.walk(module.tree):
            for target, how in self._targets(module, node):
                add(target, node.lineno, "TYPE_CHECKING" if how == "import" and node.lineno in guarded else how)
        for node in code_strings(module.tree):
            match = IMPORT_STRING.fullmatch(node.value.strip())
            if match:
                add(match.group(1), node.lineno, "by string")


@pytest.fixture(scope="module")
def package() -> Package:
    return Package(SRC)


def part_of(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def layer(module: str) -> int | None:
    """The layer of ``module`` (None for analysis, which stands beside the layers)."""
    if part_of(module, ANALYSIS):
        return None
    best = max((prefix for prefix in LAYERS if part_of(module, prefix) and (prefix != "sweeplab" or module == prefix)),
               key=len, default=None)
    if best is None:
        raise KeyError(f"{module} belongs to no layer: add it to LAYERS in {Path(__file__).name}")
    return LAYERS[best]


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the components with more than one module (the cycles)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def report(title: str, lines: list[str]) -> str:
    return f"{title} ({len(lines)}):\n  " + "\n  ".join(lines)


# --------------------------------------------------------------------------- the reading is right

FAKE_PACKAGE = {
    "__init__.py": "LAZY = {'Thing': 'sweeplab.late:Thing'}\n",
    "base.py": "",
    "late.py": "",
    "low/__init__.py": "from .leaf import x\n",
    "low/leaf.py": "x = 1\n",
    "low/other.py": (
        '"""Docstring naming sweeplab.base:Nothing is prose."""\n'
        "from __future__ import annotations\n"
        "import json\n"
        "from typing import TYPE_CHECKING\n"
        "from .. import base\n"
        "from . import leaf\n"
        "if TYPE_CHECKING:\n"
        "    from ..late import Thing\n"
        "def later():\n"
        "    import importlib\n"
        "    from sweeplab.low import x\n"
        "    return importlib.import_module('sweeplab.late')\n"
    ),
}


def test_every_kind_of_import_is_an_edge(tmp_path: Path) -> None:
    """Guards the checks below: a reader that missed imports would let everything pass."""
    for name, text in FAKE_PACKAGE.items():
        path = tmp_path / "sweeplab" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    fake = Package(tmp_path)
    found = {(edge.source, edge.target, edge.line, edge.how) for edge in fake.edges}
    assert found == {
        ("sweeplab", "sweeplab.late", 1, "by string"),
        ("sweeplab.low", "sweeplab.low.leaf", 1, "import"),
        ("sweeplab.low.other", "sweeplab.base", 5, "import"),             # from .. import module
        ("sweeplab.low.other", "sweeplab.low.leaf", 6, "import"),         # from . import module
        ("sweeplab.low.other", "sweeplab.late", 8, "TYPE_CHECKING"),
        ("sweeplab.low.other", "sweeplab.low", 11, "import"),             # a name of a package's __init__
        ("sweeplab.low.other", "sweeplab.late", 12, "by string"),
    }


def test_the_real_package_is_read(package: Package) -> None:
    assert len(package.modules) > 40 and len({(e.source, e.target) for e in package.edges}) > 100
    assert {"import", "TYPE_CHECKING"} <= {edge.how for edge in package.edges}


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"f"}, "f": {"e"}}
    assert strongly_connected(graph) == [["a", "b", "c"], ["e", "f"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_the_sql_pattern_finds_what_it_should() -> None:
    for sql in ("SELECT * FROM trials", "insert into attempts (a) values (1)", "UPDATE sweeps SET x = 1",
                "FROM trials t JOIN attempts a", 'SELECT 1 FROM "trials"'):
        assert JOURNAL_SQL.search(sql), sql
    for text in ("SELECT * FROM results", "the trials of a sweep", "FROM trials_view", "from trial"):
        assert not JOURNAL_SQL.search(text), text


# --------------------------------------------------------------------------- (a) no cycles


def test_no_import_cycle_between_modules(package: Package) -> None:
    graph: dict[str, set[str]] = {name: set() for name in package.modules}
    for edge in package.edges:
        graph[edge.source].add(edge.target)
    lines = []
    for cycle in strongly_connected(graph):
        within = [edge.describe() for edge in package.edges if edge.source in cycle and edge.target in cycle]
        lines.append(" <-> ".join(package.file(name) for name in cycle) + ":\n      " + "\n      ".join(within))
    assert not lines, report("import cycles", lines)


# --------------------------------------------------------------------------- (b) layers and boundaries


def test_every_module_has_a_layer(package: Package) -> None:
    """A new top-level module must be placed in a layer before the layer rules can speak of it."""
    unplaced = []
    for name in package.modules:
        try:
            layer(name)
        except KeyError as exc:
            unplaced.append(f"{package.file(name)}: {exc.args[0]}")
    assert not unplaced, report("modules outside every layer", unplaced)


def test_no_module_imports_a_higher_layer(package: Package) -> None:
    bad = []
    for edge in package.edges:
        source, target = layer(edge.source), layer(edge.target)
        if part_of(edge.source, ANALYSIS):
            if not any(part_of(edge.target, allowed) for allowed in (ANALYSIS, *ANALYSIS_MAY_USE)):
                bad.append(f"{edge.describe()}: analysis may use only errors, trial, planning, journal, console")
        elif target is None and source is not None and source < ANALYSIS_USERS:
            bad.append(f"{edge.describe()}: only the cli and the public API may use analysis")
        elif source is not None and target is not None and target > source:
            bad.append(f"{edge.describe()}: {LAYER_NAMES[source]} is below {LAYER_NAMES[target]}")
    assert not bad, report("imports of a higher layer", bad)


def test_core_modules_never_import_the_phenomenology_plugin(package: Package) -> None:
    bad = [edge.describe() for edge in package.edges
           if not part_of(edge.source, PLUGIN) and part_of(edge.target, PLUGIN)]
    assert not bad, report("core modules importing the plug-in (find it through the sweeplab.runners "
                           "entry points instead)", bad)


def test_the_dashboard_only_reads_the_journal(package: Package) -> None:
    """No writer, engine or cli in the dashboard: it cannot change a sweep or block its coordinator."""
    bad = [f"{edge.describe()}: the dashboard may use only {', '.join(DASHBOARD_MAY_USE)}"
           for edge in package.edges
           if part_of(edge.source, DASHBOARD) and not part_of(edge.target, DASHBOARD)
           and not any(part_of(edge.target, allowed) for allowed in DASHBOARD_MAY_USE)]
    assert not bad, report("dashboard imports beyond the journal's read side", bad)
    assert any(part_of(edge.source, DASHBOARD) for edge in package.edges)


def test_the_python_api_never_imports_the_cli(package: Package) -> None:
    bad = [edge.describe() for edge in package.edges
           if edge.source == "sweeplab.sweep" and part_of(edge.target, "sweeplab.cli")]
    assert not bad, report("sweep.py importing cli/", bad)


# --------------------------------------------------------------------------- (c) small files


def test_no_source_file_is_over_400_lines(package: Package) -> None:
    bad = []
    for module in package.modules.values():
        count = len(module.path.read_text(encoding="utf-8").splitlines())
        if count > MAX_LINES:
            bad.append(f"{package.file(module.name)}: {count} lines")
    assert not bad, report(f"files over {MAX_LINES} lines (split them by responsibility)", bad)


# --------------------------------------------------------------------------- (d) the journal's SQL


def test_sql_naming_the_journal_tables_lives_in_the_journal(package: Package) -> None:
    bad = []
    for module in package.modules.values():
        if part_of(module.name, "sweeplab.journal"):
            continue
        for node in code_strings(module.tree):
            for match in JOURNAL_SQL.finditer(node.value):
                bad.append(f"{package.file(module.name)}:{node.lineno}: {' '.join(match.group(0).split())!r}")
    assert not bad, report("SQL on the journal's tables outside journal/ (ask the journal's reader or writer)",
                           bad)
