"""Finding the repository root and confining every path a spec names to it (symlinks included)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath


class PathEscape(ValueError):
    """A path the spec names is absolute or resolves outside the repository."""


def find_repo_root(start: Path) -> Path | None:
    """The git work tree that contains `start` (a `.git` directory or file), or None."""
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def confine(root: Path, base: Path, relative: str) -> Path:
    """Resolve `relative` (written in a spec that lives in `base`) and insist that it stays inside `root`.

    Raises PathEscape for absolute paths, `..` escapes and symlinks (or chains of them) that lead outside.
    The result need not exist; callers decide whether a missing file is a finding.
    """
    if not relative or not relative.strip():
        raise PathEscape("the path is empty")
    if "\0" in relative:
        raise PathEscape("the path contains a NUL byte")
    if PurePosixPath(relative).is_absolute() or Path(relative).is_absolute() or relative.startswith("~"):
        raise PathEscape(f"'{relative}' is absolute; paths in a spec are relative to the spec's directory")
    root_resolved = root.resolve()
    try:
        target = (base / relative).resolve()
    except (OSError, RuntimeError) as exc:  # symlink loops
        raise PathEscape(f"'{relative}' cannot be resolved: {exc}") from None
    if target != root_resolved and root_resolved not in target.parents:
        raise PathEscape(f"'{relative}' resolves outside the repository ({root_resolved})")
    return target


def repo_relative(root: Path, path: Path) -> str:
    """The repo-relative POSIX form of `path` used in every report."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
