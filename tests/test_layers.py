"""The package's layers: every module imports only from its own layer or below, commands never
import the grid, no import cycles, and no module grows past the size a reader can hold."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "instrument_bench"

# (layer, what lives there); a module's layer is that of its longest matching prefix
LAYERS = {
    "instrument_bench": 0, "config": 0, "errors": 0, "audio": 0, "storage": 0, "parallel": 0,
    "windows": 0, "settings": 0,
    "datasets": 1, "features": 1,
    "protocol": 2,
    "models": 3,
    "results": 4.0, "runs_file": 4.0, "artifacts": 4.0, "stats": 4.0,  # L4a: what a run leaves behind
    "conditions": 4.0,
    "plan": 4.5, "cell": 4.5, "runner": 4.5, "dry_run": 4.5, "cross_source": 4.5,  # L4b: the grid
    "report": 5, "predict": 5, "validate": 5, "figures": 5,  # commands: L4a yes, L4b never
    "check_encoder": 5,
    "cli": 6, "__main__": 6, "printing": 6,
}
GRID, COMMANDS = 4.5, 5
MAX_LINES = 400
MAX_LINES_RUNNER = 300


def module_names() -> dict[str, Path]:
    """``{dotted module name: file}`` of every module of the package."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def layer_of(module: str) -> float:
    parts = module.split(".")
    if len(parts) == 1:
        return LAYERS["instrument_bench"]
    if parts[1] not in LAYERS:
        raise AssertionError(f"{module}: no layer assigned; add it to LAYERS in {__file__}")
    return LAYERS[parts[1]]


def imports_of(module: str, path: Path, known: set) -> set[str]:
    """Package modules that ``module`` imports anywhere in its file (functions included)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "instrument_bench"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "instrument_bench":
                continue
            for alias in node.names:  # ``from pkg import submodule`` imports the submodule
                found.add(f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source)
    return {m for m in found if m in known and m != module}


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    return {m: imports_of(m, p, set(modules)) for m, p in modules.items()}


def layering_violations(graph: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            if layer_of(target) > layer_of(module):
                bad.append(f"{module} (L{layer_of(module)}) imports {target} (L{layer_of(target)})")
            elif layer_of(module) == COMMANDS and layer_of(target) == GRID:
                bad.append(f"{module} is a command and imports the grid module {target}")
    return bad


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, each once (as the path from its first module back to it)."""
    found, state = [], {}

    def visit(module, stack):
        state[module] = "open"
        stack.append(module)
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                found.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    return found


def test_every_module_imports_only_from_its_layer_or_below():
    assert layering_violations(import_graph()) == []


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_checks_catch_upward_imports_and_cycles():
    graph = {"instrument_bench.datasets.x": {"instrument_bench.runner"},
             "instrument_bench.report": {"instrument_bench.cell", "instrument_bench.results"},
             "instrument_bench.plan": {"instrument_bench.cell"},
             "instrument_bench.cell": {"instrument_bench.plan"}}
    bad = layering_violations(graph)
    assert any("datasets.x (L1) imports instrument_bench.runner" in b for b in bad)
    assert any("report is a command and imports the grid module instrument_bench.cell" in b for b in bad)
    assert not any("results" in b for b in bad)
    assert cycles(graph) == [["instrument_bench.cell", "instrument_bench.plan", "instrument_bench.cell"]]


def test_imports_inside_functions_count(tmp_path):
    path = tmp_path / "mod.py"
    path.write_text("def f():\n    from .runner import run_suite\n    from . import report\n")
    known = {"instrument_bench.runner", "instrument_bench.report", "instrument_bench.mod"}
    assert imports_of("instrument_bench.mod", path, known) == {"instrument_bench.runner",
                                                                "instrument_bench.report"}


@pytest.mark.parametrize("module, path", sorted(module_names().items()))
def test_module_size(module, path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    limit = MAX_LINES_RUNNER if module == "instrument_bench.runner" else MAX_LINES
    assert lines <= limit, f"{path}: {lines} lines (limit {limit}); split it by what it holds"
