"""Finding the specs to check: a spec file, or mlgate.yaml at a directory's root and **/mlgate.yaml below."""

from __future__ import annotations

import os
from pathlib import Path

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
