"""Finding the repository root and confining every path a spec names to it (symlinks included)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path, PurePosixPath
from typing import BinaryIO

_CHUNK = 1 << 20  # hashing reads 1 MiB at a time

# Longer names fail with ENAMETOOLONG in os calls that do not expect it (Path.is_file() raises instead of answering).
MAX_NAME = 255
MAX_PATH = 4096
# Directories no search of the work tree enters: VCS data, dependencies, caches, build output.
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".tox", ".nox", ".mypy_cache",
                       ".ruff_cache", ".pytest_cache", ".venv", "venv", "site-packages", "cdk.out",
                       ".terraform", "build", "dist"})


def searched_dirs(here: Path, dirs: list[str], *, hidden: bool = True) -> list[str]:
    """The subdirectories of `here` (as `os.walk` lists them) a search of the work tree enters, sorted: not those
    SKIP_DIRS names, not a virtualenv (a directory with `pyvenv.cfg`), and not hidden ones unless `hidden`. Assign
    it to `dirs[:]` so that os.walk does not descend into the others."""
    return sorted(d for d in dirs if d not in SKIP_DIRS and (hidden or not d.startswith("."))
                  and not (here / d / "pyvenv.cfg").exists())


class PathEscape(ValueError):
    """A path the spec names is absolute or resolves outside the repository."""


class NotAFile(OSError):
    """The path exists but is not a regular file (a directory, a FIFO, a socket, a device)."""


def find_repo_root(start: Path) -> Path | None:
    """The git work tree that contains `start` (a `.git` directory or file), or None."""
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def confine(root: Path, base: Path, relative: str, *, root_real: Path | None = None) -> Path:
    """Resolve `relative` (written in a spec that lives in `base`) and insist that it stays inside `root`
    (`root_real`: `root` already resolved, by a caller that confines many paths to it).

    Raises PathEscape for absolute paths, `..` escapes and symlinks (or chains of them) that lead outside.
    The result need not exist; callers decide whether a missing file is a finding.
    """
    if not relative or not relative.strip():
        raise PathEscape("the path is empty")
    if "\0" in relative:
        raise PathEscape("the path contains a NUL byte")
    if len(relative) > MAX_PATH or any(len(part.encode()) > MAX_NAME for part in PurePosixPath(relative).parts):
        raise PathEscape(f"'{relative[:40]}...' is too long: a file name holds at most {MAX_NAME} bytes and a "
                         f"path {MAX_PATH}")
    if PurePosixPath(relative).is_absolute() or Path(relative).is_absolute() or relative.startswith("~"):
        raise PathEscape(f"'{relative}' is absolute; paths in a spec are relative to the spec's directory")
    root_resolved = root_real or root.resolve()
    try:
        target = (base / relative).resolve()
    except (OSError, RuntimeError) as exc:  # symlink loops
        raise PathEscape(f"'{relative}' cannot be resolved: {exc}") from None
    if not target.is_relative_to(root_resolved):
        raise PathEscape(f"'{relative}' resolves outside the repository ({root_resolved})")
    if _in_git_dir(root_resolved, target):
        raise PathEscape(f"'{relative}' is inside .git: git's own data (its config may hold credentials) is not "
                         "evidence")
    return target


def _in_git_dir(root_resolved: Path, target: Path) -> bool:
    """Whether `target` (inside `root_resolved`) lies in a `.git` directory, in any letter case: a case-insensitive
    file system (macOS, Windows) opens .git/config for `.GIT/config`."""
    return any(part.lower() == ".git" for part in target.relative_to(root_resolved).parts)


def repo_relative(root: Path, path: Path, *, root_real: Path | None = None) -> str:
    """The repo-relative POSIX form of `path` used in every report (`root_real`: `root` already resolved)."""
    try:
        return path.resolve().relative_to(root_real or root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def open_confined(root: Path, path: Path) -> BinaryIO:
    """The one way mlgate opens a file it reads: `path` must resolve (symlinks and chains of them followed) to a
    regular file inside `root`.

    Raises PathEscape when the file lies outside `root`, FileNotFoundError when it does not exist, and NotAFile
    for a directory, FIFO, socket or device, all *before* opening it, so that no input can make a read block. The
    open itself is non-blocking and the opened file is checked again (fstat), so a file swapped for a FIFO between
    the check and the open cannot block the run either.
    """
    try:
        real = path.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise PathEscape(f"'{path}' cannot be resolved: {exc}") from None
    root_real = root.resolve()
    if not real.is_relative_to(root_real):
        raise PathEscape(f"leads outside the repository (to {real})")
    if _in_git_dir(root_real, real):
        raise PathEscape("leads into .git: git's own data (its config may hold credentials) is not evidence")
    mode = real.stat().st_mode  # FileNotFoundError for a missing file or a dangling symlink
    if not stat.S_ISREG(mode):
        raise NotAFile(f"is {_kind(mode)}, not a regular file")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(real, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotAFile(f"is {_kind(mode)}, not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def sha256_file(path: Path, *, root: Path | None = None) -> tuple[str, int]:
    """sha256 (hex) and size of a file, read in 1 MiB chunks (artifacts run to gigabytes). The file is opened
    through `open_confined`: a regular file inside `root` (default: wherever it resolves to, for an artifact named
    on the command line)."""
    digest = hashlib.sha256()
    size = 0
    with open_confined(root or path.resolve().parent, path) as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
