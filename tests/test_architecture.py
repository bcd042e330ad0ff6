"""The package's floors, checked on its import graph.

Every module of ``seqbench`` is parsed (``ast``, nothing is imported) and
each import of another seqbench package must point down a floor. The
floors are written once, here::

    cli
    bench   report          (never each other: they meet in results)
    diagnostics
    models
    datasets   results      (never each other)
    metrics
    data

so ``cli → bench → results ← report``, ``models → data`` and so on.
"""

from __future__ import annotations

import ast
from pathlib import Path

import seqbench

ROOT = Path(seqbench.__file__).parent

# package -> floor (lowest 0); "seqbench" itself holds only the version
FLOORS = {
    "seqbench": -1,
    "data": 0,
    "metrics": 1,
    "datasets": 2,
    "results": 2,
    "models": 3,
    "diagnostics": 4,
    "bench": 5,
    "report": 5,
    "cli": 6,
    "__main__": 7,
}

# (importing module, imported package): why this upward import is allowed
EXCEPTIONS: dict = {}  # none: `python -m seqbench` is the module entry point (the cli floor's own)

# imports of seqbench's own packages written inside functions, each on purpose:
# (module, function) -> why
DEFERRED = {
    ("seqbench.bench._resolve", "registry"): "seqbench.models loads torch; the runner's workers start before that",
    **{("seqbench.cli._bench", f): "a command imports the layer it drives, so `seqbench --help` stays light"
       for f in ("_run", "_results", "_list")},
    ("seqbench.cli._report", "_report"): "a command imports the layer it drives, so `seqbench --help` stays light",
    ("seqbench.bench._job", "_tuned"): "optuna takes about 2 s to import: only workers that run a tuned job pay it",
    **{("seqbench.cli._datasets", f): "a command imports the layer it drives, so `seqbench --help` stays light"
       for f in ("_datasets_list", "_datasets_info", "_datasets_fetch")},
}


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        yield ".".join(parts), is_package, ast.parse(path.read_text(), filename=str(path))


def _imports(name: str, is_package: bool, tree: ast.AST):
    """``(imported seqbench module, line, enclosing function or None)`` of every import in ``tree``."""
    package = name if is_package else name.rpartition(".")[0]

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child.lineno, function
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (child.level - 1)]
                    base = ".".join(anchor + ([child.module] if child.module else []))
                for alias in child.names:
                    yield base, child.lineno, function
                    yield f"{base}.{alias.name}", child.lineno, function  # `from .. import metrics`
            yield from visit(child, inner)

    for target, line, function in visit(tree, None):
        if target == "seqbench" or target.startswith("seqbench."):
            yield target, line, function


def _package(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) == 1:
        return "seqbench"
    return parts[1] if parts[1] in FLOORS else None


def test_every_package_has_a_floor():
    top = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert top <= set(FLOORS), f"give these packages a floor in FLOORS: {sorted(top - set(FLOORS))}"


def test_imports_only_point_down_a_floor():
    upward = []
    for name, is_package, tree in _modules():
        mine = _package(name)
        for target, line, _ in _imports(name, is_package, tree):
            theirs = _package(target)
            if theirs is None or theirs == mine or (name, theirs) in EXCEPTIONS:
                continue
            if FLOORS[theirs] >= FLOORS[mine]:
                upward.append(f"{name}:{line} imports {target} ({mine} is floor {FLOORS[mine]}, "
                              f"{theirs} floor {FLOORS[theirs]})")
    assert upward == [], "imports that do not point down a floor:\n" + "\n".join(sorted(set(upward)))


def test_own_packages_are_imported_at_module_top():
    hidden = []
    for name, is_package, tree in _modules():
        for target, line, function in _imports(name, is_package, tree):
            if function is not None and (name, function) not in DEFERRED:
                hidden.append(f"{name}:{line} imports {target} inside {function}()")
    assert hidden == [], "imports of seqbench inside functions (move them up, or declare why):\n" + "\n".join(
        sorted(set(hidden)))


def test_the_graph_walk_sees_an_upward_import(tmp_path):
    """The check itself can fail: a report module importing the runner is caught."""
    tree = ast.parse("from ..bench import run_suite\n\ndef f():\n    from ..cli import main\n")
    found = list(_imports("seqbench.report._x", False, tree))
    assert ("seqbench.bench", 1, None) in found and ("seqbench.cli", 4, "f") in found
    assert FLOORS[_package("seqbench.bench")] >= FLOORS[_package("seqbench.report._x")]
