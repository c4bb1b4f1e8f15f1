"""The structure of the package: layers import only downwards, and no import cycle is hidden anywhere.

Read from the source with ``ast`` (nothing is imported), so the test sees imports inside functions too: a
cycle dodged by moving an import into a function is still a cycle here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import trueroi

SRC = Path(trueroi.__file__).parent

# Each package may import only packages on a lower floor (and its own). The faces (cli, later web) sit on
# top; nothing below them may import them.
FLOORS: dict[str, float] = {
    "errors": 0,
    "io": 1,
    "workspace": 2,
    "ingest": 3,
    "attribution": 3,
    "clv": 3,
    "mmm": 3,
    "experiments": 3,
    "budget": 4,
    "metrics": 4,
    "quality": 5,
    "goals": 5,
    "partners": 5,
    "monitor": 6,
    "report": 7,
    "demo": 8,
    "server": 8,
    "tracking": 8.5,  # first-party tracking: over the server home (keys, [collector]), under the web face
    "web": 9,
    "cli": 10,
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(path: Path, module: str, known: set[str]) -> set[str]:
    """The trueroi modules ``path`` imports anywhere in its body (type-checking-only imports excluded)."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for child in node.body for n in ast.walk(child))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip or not isinstance(node, ast.ImportFrom | ast.Import):
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            base = node.module or ""
            if node.level:
                pkg = module.split(".") if path.name == "__init__.py" else module.split(".")[: -node.level]
                base = ".".join([*pkg, base] if base else pkg)
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        found.update(n for n in names if n.startswith("trueroi"))
    return {n for n in found if n in known and n != module}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, name, known) for name, path in modules.items()}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_package_has_a_floor() -> None:
    packages = {_package(m) for m in _modules()} - {"", "__main__"}
    assert packages <= set(FLOORS), f"packages without a floor: {sorted(packages - set(FLOORS))}"


def test_imports_only_go_down() -> None:
    upward = []
    for module, targets in _graph().items():
        here = _package(module)
        if here in ("", "__main__"):
            continue
        for target in targets:
            there = _package(target)
            if there and there != here and FLOORS[there] >= FLOORS[here]:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that run sideways or back up:\n" + "\n".join(sorted(upward))


def test_no_module_import_cycle() -> None:
    """No cycle between modules, counting imports inside functions (the usual way to hide one)."""
    graph = _graph()
    for module in graph:  # a package's __init__ re-exporting its submodules is not a cycle
        graph[module] = {t for t in graph[module] if not module.startswith(t + ".")}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_checker_sees_a_cycle_hidden_in_a_function(tmp_path, monkeypatch) -> None:
    """The checker itself: an import inside a function that closes a cycle is found."""
    a = tmp_path / "a.py"
    a.write_text("def f():\n    from trueroi.b import g\n")
    assert _imports(a, "trueroi.a", {"trueroi.a", "trueroi.b"}) == {"trueroi.b"}
    guarded = tmp_path / "c.py"
    guarded.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from trueroi.b import g\n")
    assert _imports(guarded, "trueroi.c", {"trueroi.c", "trueroi.b"}) == set()


def test_no_optional_module_code() -> None:
    """Every module of trueroi and every dependency in pyproject.toml ships: nothing imports "if present"."""
    found = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            caught = isinstance(node, ast.ExceptHandler) and node.type is not None
            if caught and any(n in ast.unparse(node.type) for n in ("ImportError", "ModuleNotFoundError")):
                found.append(f"{path.relative_to(SRC)}:{node.lineno} catches {ast.unparse(node.type)}")
            if isinstance(node, ast.Attribute) and node.attr == "import_module":
                found.append(f"{path.relative_to(SRC)}:{node.lineno} imports a module by name")
    assert not found, "\n".join(found)
