"""Every dataclass in src/mlgate has a docstring.

A reader needs one, and start-up time does too: for a class without a docstring, Python's `dataclasses` makes one
from `inspect.signature(cls)` when the class is created (`_process_class`: `if not getattr(cls, '__doc__')`),
about 0.3-0.5 ms a class, paid on every `mlgate check` by each dataclass its imports define. The source is read
with `ast`, so the test sees every class, imported by a run or not, nested ones too."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from tests.test_import_cycles import SRC, module_files


def _dataclass_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """The names the module calls `dataclasses.dataclass` by, and the names it calls the `dataclasses` module by."""
    functions, modules = {"dataclass"}, {"dataclasses"}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "dataclasses":
            functions |= {alias.asname or alias.name for alias in node.names if alias.name == "dataclass"}
        elif isinstance(node, ast.Import):
            modules |= {alias.asname or alias.name for alias in node.names if alias.name == "dataclasses"}
    return functions, modules


def _is_dataclass(decorator: ast.expr, functions: set[str], modules: set[str]) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Name):
        return target.id in functions
    return isinstance(target, ast.Attribute) and target.attr == "dataclass" \
        and isinstance(target.value, ast.Name) and target.value.id in modules


def dataclasses_in(source: str) -> list[tuple[int, str, bool]]:
    """(line, name, has a docstring) for each class of `source` decorated with `dataclass`, in any form."""
    tree = ast.parse(source)
    functions, modules = _dataclass_names(tree)
    return sorted((node.lineno, node.name, ast.get_docstring(node) is not None) for node in ast.walk(tree)
                  if isinstance(node, ast.ClassDef)
                  and any(_is_dataclass(d, functions, modules) for d in node.decorator_list))


def _source_dataclasses() -> list[tuple[Path, int, str, bool]]:
    return [(path, line, name, documented) for path in module_files().values()
            for line, name, documented in dataclasses_in(path.read_text(encoding="utf-8"))]


def test_every_dataclass_in_the_package_has_a_docstring() -> None:
    found = _source_dataclasses()
    assert len(found) > 100, "the walk found too few dataclasses: it no longer reads the package"
    missing = [f"{path.relative_to(SRC.parent)}:{line} {name}" for path, line, name, documented in found
               if not documented]
    assert not missing, ("dataclasses without a docstring (say in one line what the record is; without one, "
                         "dataclasses builds one with inspect.signature at import):\n" + "\n".join(missing))


def test_every_form_of_the_decorator_is_recognised() -> None:
    source = textwrap.dedent('''
        import dataclasses
        import dataclasses as dc
        from dataclasses import dataclass
        from dataclasses import dataclass as record

        @dataclass
        class Bare:
            x: int

        @dataclass(frozen=True)
        class Called:
            x: int

        @dataclasses.dataclass(eq=False)
        class Qualified:
            x: int

        @dc.dataclass
        class Aliased:
            x: int

        @record
        class Renamed:
            """Has one."""
            x: int

        class Outer:
            @dataclass
            class Nested:
                x: int

        @other.dataclass
        class NotOurs:
            x: int

        class Plain:
            x: int
    ''')
    found = {name: documented for _, name, documented in dataclasses_in(source)}
    assert found == {"Bare": False, "Called": False, "Qualified": False, "Aliased": False, "Renamed": True,
                     "Nested": False}
