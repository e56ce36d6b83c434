"""The package's import graph has no cycles and its layers point one way.

A cycle makes the import order matter (one module sees the other half-initialised) and forces deferred imports that
hide the dependency; an evidence reader that imports the checks cannot be reused or tested without them. The graph is
read with `ast` from the source, so it counts every import the interpreter could execute: module level, inside
functions (deferred) and under `if TYPE_CHECKING:` (a type-only import is still a dependency of the design)."""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "mlgate"

# (importing layer, imported layer): the lower layer must not import the upper one.
FORBIDDEN_LAYERS = (("mlgate.evidence", "mlgate.checks"),)

Graph = dict[str, dict[str, int]]  # module -> imported module -> line of the first such import


def module_files(root: Path = SRC / PACKAGE) -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _absolute(node: ast.ImportFrom, module: str, path: Path) -> str:
    """The absolute name that `from <node.module> import …` reads, relative levels resolved against `module`."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if _is_package(path) else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _owner(name: str, modules: Iterable[str]) -> str | None:
    """The most specific module of the package that `name` lives in (`mlgate.a.b.func` -> `mlgate.a.b`)."""
    known = set(modules)
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> dict[str, int]:
    targets: dict[str, int] = {}

    def add(name: str, line: int) -> None:
        owner = _owner(name, modules)
        if owner is not None and owner != module:
            targets.setdefault(owner, line)

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, path)
            for alias in node.names:
                # `from pkg import mod` depends on the submodule; `from mod import name` on the module.
                add(f"{base}.{alias.name}" if alias.name != "*" else base, node.lineno)
    return targets


def import_graph(root: Path = SRC / PACKAGE) -> Graph:
    modules = module_files(root)
    return {module: imports_of(module, path, modules) for module, path in modules.items()}


def strongly_connected(graph: Graph) -> list[list[str]]:
    """Tarjan's components (iterative), each sorted; only those that hold a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, {})))))
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
                if len(component) > 1 or node in graph[node]:
                    components.append(sorted(component))
    return sorted(components)


def shortest_cycle(graph: Graph, start: str, within: set[str]) -> list[str]:
    """The shortest path start -> … -> start inside one component (breadth first, so the report is small)."""
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph[node]):
            if child not in within:
                continue
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if child not in previous:
                previous[child] = node
                queue.append(child)
    raise AssertionError(f"{start} is in a component but on no cycle")


def cycles(graph: Graph) -> list[list[str]]:
    """For every module on a cycle, the shortest cycle through it, each named once (rotated to its least module)."""
    found: dict[tuple[str, ...], list[str]] = {}
    for component in strongly_connected(graph):
        for module in component:
            cycle = shortest_cycle(graph, module, set(component))[:-1]
            first = cycle.index(min(cycle))
            rotated = [*cycle[first:], *cycle[:first]]
            found.setdefault(tuple(rotated), [*rotated, rotated[0]])
    return [found[key] for key in sorted(found)]


def describe(cycle: list[str], graph: Graph, modules: dict[str, Path]) -> str:
    steps = [f"{a} -> {b} ({modules[a].relative_to(SRC.parent)}:{graph[a][b]})" for a, b in pairwise(cycle)]
    return " -> ".join(cycle) + "\n    " + "\n    ".join(steps)


def test_the_package_has_no_import_cycles() -> None:
    graph = import_graph()
    modules = module_files()
    found = cycles(graph)
    if found:
        pytest.fail(f"{len(found)} import cycle(s) in src/{PACKAGE}:\n" + "\n".join(
            describe(cycle, graph, modules) for cycle in found), pytrace=False)


@pytest.mark.parametrize(("lower", "upper"), FORBIDDEN_LAYERS)
def test_lower_layers_do_not_import_upper_ones(lower: str, upper: str) -> None:
    graph = import_graph()
    modules = module_files()

    def inside(module: str, layer: str) -> bool:
        return module == layer or module.startswith(layer + ".")

    wrong = [f"{source} -> {target} ({modules[source].relative_to(SRC.parent)}:{line})"
             for source, targets in sorted(graph.items()) if inside(source, lower)
             for target, line in sorted(targets.items()) if inside(target, upper)]
    if wrong:
        pytest.fail(f"{lower} must not import {upper}:\n  " + "\n  ".join(wrong), pytrace=False)


# The reader itself: a cycle it cannot see would make the two tests above pass vacuously.

def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_the_reader_sees_deferred_relative_and_submodule_imports(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "__init__.py": "",
        "a.py": "def f():\n    from .sub import b\n",
        "sub/__init__.py": "",
        "sub/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..c import thing\n",
        "c.py": "import pkg.a\n",
        "d.py": "from pkg.sub import b\nfrom . import c\n",
    })
    graph = import_graph(root)
    assert graph["pkg.a"] == {"pkg.sub.b": 2}
    assert graph["pkg.sub.b"] == {"pkg.c": 3}
    assert graph["pkg.d"] == {"pkg.sub.b": 1, "pkg.c": 2}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]]


def test_the_reader_names_every_cycle_of_a_component(tmp_path: Path) -> None:
    root = _write(tmp_path, {
        "__init__.py": "",
        "x.py": "from pkg import y\nfrom pkg import z\n",
        "y.py": "from pkg.x import name\n",
        "z.py": "from pkg.x import name\n",
        "w.py": "from pkg import x\n",
    })
    assert cycles(import_graph(root)) == [["pkg.x", "pkg.y", "pkg.x"], ["pkg.x", "pkg.z", "pkg.x"]]
