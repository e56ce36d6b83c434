"""Finding the specs to check: a spec file, or mlgate.yaml at a directory's root and **/mlgate.yaml below."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlgate.spec.load import LoadedSpec

SPEC_NAMES = ("mlgate.yaml", "mlgate.yml")
# Never searched: VCS data, dependencies, caches, build output.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache",
                       ".ruff_cache", ".pytest_cache", ".venv", "venv", "site-packages", "cdk.out",
                       ".terraform", "build", "dist"})


def find_specs(directory: Path) -> list[Path]:
    found: list[Path] = []
    for current, dirs, files in os.walk(directory, followlinks=False):
        here = Path(current)
        # prune in place so os.walk does not descend; a directory with pyvenv.cfg is a virtualenv
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not (here / d / "pyvenv.cfg").exists())
        found.extend(here / name for name in SPEC_NAMES if name in files and not (here / name).is_symlink())
    return sorted(found, key=lambda p: (len(p.relative_to(directory).parts), p.as_posix()))


def load_specs(path: str) -> list[LoadedSpec]:
    """Every spec at `path` (a spec file, or a directory searched below), loaded and validated, each confined to
    the git work tree that holds it (or to the searched directory outside git). Raises UsageError."""
    from mlgate.errors import UsageError
    from mlgate.paths import find_repo_root
    from mlgate.spec.load import load_spec

    target = Path(path)
    if not target.exists():
        raise UsageError(f"{path}: no such file or directory")
    if target.is_dir():
        specs = find_specs(target)
        if not specs:
            raise UsageError(f"no mlgate.yaml found in {target.resolve()} or below (skipped .git, virtualenvs, "
                             "node_modules)", hint="write one: see the reference spec in the README, or run "
                                                   "`mlgate init`")
    else:
        specs = [target]
    searched = (target if target.is_dir() else target.parent).resolve()
    fallback_root = find_repo_root(searched) or searched
    return [load_spec(s, root=find_repo_root(s.resolve().parent) or fallback_root) for s in specs]


def load_one_spec(path: Path) -> LoadedSpec:
    """The one spec at `path` (a spec file, or a directory holding exactly one), loaded. Raises UsageError."""
    from mlgate.errors import UsageError

    loaded = load_specs(str(path))
    if len(loaded) > 1:
        raise UsageError(f"{len(loaded)} specs found below {path}; name one",
                         hint=", ".join(s.file.relative_to(path.resolve()).as_posix() for s in loaded[:5]))
    return loaded[0]
