"""The analysis package's floor plan: compute/ below present/ below the facade, and a cheap import.

The import graph is read from the source with :mod:`ast` (nothing is imported), and every import
counts: module level, inside functions and under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import sweeplab.analysis

SRC = Path(__file__).resolve().parents[2] / "src"
ANALYSIS = SRC / "sweeplab" / "analysis"
HEAVY = ("pandas", "numpy", "scipy", "matplotlib")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The modules ``path`` imports, relative imports resolved (``from a import b`` names a.b and a)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            base = (f"{base}.{node.module}" if node.module else base) if node.level else (node.module or "")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    """Edges between the analysis modules (imports of names that are not modules are dropped)."""
    paths = sorted(ANALYSIS.rglob("*.py"))
    modules = {_module_name(p) for p in paths}
    return {_module_name(p): {m for m in _imports(p) if m in modules and m != _module_name(p)} for p in paths}


def _inside(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_the_graph_sees_type_only_and_function_imports(graph: dict[str, set[str]]) -> None:
    assert "sweeplab.analysis.compute.sweep_statistics" in graph["sweeplab.analysis.present.summary"]  # TYPE_CHECKING
    assert "sweeplab.analysis.present.render" in graph["sweeplab.analysis.cli"]  # inside a function


def test_compute_imports_neither_present_nor_the_facade(graph: dict[str, set[str]]) -> None:
    above = ("sweeplab.analysis.present", "sweeplab.analysis.analyzer", "sweeplab.analysis.cli")
    bad = [f"{source} -> {target}" for source, targets in graph.items() if _inside(source, "sweeplab.analysis.compute")
           for target in targets if target == "sweeplab.analysis" or any(_inside(target, a) for a in above)]
    assert not bad


def test_present_never_imports_the_facade(graph: dict[str, set[str]]) -> None:
    above = ("sweeplab.analysis", "sweeplab.analysis.analyzer", "sweeplab.analysis.cli")
    bad = [f"{source} -> {target}" for source, targets in graph.items() if _inside(source, "sweeplab.analysis.present")
           for target in targets if target in above]
    assert not bad


def test_no_import_cycle(graph: dict[str, set[str]]) -> None:
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            pytest.fail("import cycle: " + " -> ".join([*path[path.index(module):], module]))
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_public_names_resolve_lazily() -> None:
    for name in sweeplab.analysis.__all__:
        assert getattr(sweeplab.analysis, name).__name__ == name
    assert set(sweeplab.analysis.__all__) <= set(dir(sweeplab.analysis))
    with pytest.raises(AttributeError, match="no_such_thing"):
        sweeplab.analysis.no_such_thing  # noqa: B018


@pytest.mark.parametrize("command", ["analyze", "compare"])
def test_help_loads_no_analysis_stack(command: str) -> None:
    """``sweeplab analyze --help`` answers without importing pandas, NumPy, SciPy or matplotlib."""
    code = ("import sys\nfrom sweeplab.cli import main\ncode = main([sys.argv[1], '--help'])\n"
            f"print(code, sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, command], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.stderr.strip().splitlines()[-1] == "0 []", done.stderr
    assert f"sweeplab {command}" in done.stdout
