"""Finding the specs to check: a spec file, or mlgate.yaml at a directory's root and **/mlgate.yaml below."""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.paths import searched_dirs

if TYPE_CHECKING:
    from mlgate.evidence.workspace import Workspace
    from mlgate.spec.load import LoadedSpec

SPEC_NAMES = ("mlgate.yaml", "mlgate.yml")


def find_specs(directory: Path, root: Path | None = None, workspace: Workspace | None = None) -> list[Path]:
    """The specs at `directory` and below. In a git work tree (`root`), every spec git tracks there is one, in
    whatever directory it lies: the directories skipped by name (build/, a virtualenv ...) hold what a build makes,
    and a pull request must not hide a deployment by moving it there or by adding a `pyvenv.cfg` beside it. A
    symlinked spec is an error (a link names another file, which may be another deployment's spec). `workspace`
    (of `root`) is the one the rules will read, so git is opened and its index listed once per run."""
    directory = directory.resolve()  # the walk's paths and git's, comparable
    found: set[Path] = set()
    links: set[Path] = set()
    for current, dirs, files in os.walk(directory, followlinks=False):
        here = Path(current)
        dirs[:] = searched_dirs(here, dirs)
        for name in SPEC_NAMES:
            if name in files:
                (links if (here / name).is_symlink() else found).add(here / name)
    for path in _tracked_specs(directory, root, workspace):
        (links if path.is_symlink() else found).add(path)
    if links:
        from mlgate.errors import UsageError

        rels = sorted(_shown(p, root or directory) for p in links)
        raise UsageError(f"{rels[0]} is a symbolic link: mlgate checks the spec file itself"
                         + (f" (and {len(rels) - 1} more: {', '.join(rels[1:4])})" if len(rels) > 1 else ""),
                         hint="commit the spec in place of the link")
    return sorted(found, key=lambda p: (len(p.relative_to(directory).parts), p.as_posix()))


def _tracked_specs(directory: Path, root: Path | None, workspace: Workspace | None) -> list[Path]:
    """The specs git tracks at `directory` and below (that exist in the work tree); none outside git."""
    if root is None:
        return []
    from mlgate.errors import EvidenceError
    from mlgate.evidence.git import GitRepo

    try:
        under = directory.relative_to(root.resolve()).as_posix()
        git = workspace.git if workspace is not None and workspace.root == root else GitRepo(root)
        tracked = git.tracked_under("" if under == "." else under)
    except (EvidenceError, ValueError):  # not a work tree git can read: the walk alone
        return []
    return [root / rel for rel in tracked if rel.rsplit("/", 1)[-1] in SPEC_NAMES and os.path.lexists(root / rel)]


def _shown(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def load_specs(path: str, skip: Collection[str] = (),
               workspaces: dict[Path, Workspace] | None = None) -> list[LoadedSpec]:
    """Every spec at `path` (a spec file, or a directory searched below), loaded and validated, each confined to
    the git work tree that holds it (or to the searched directory outside git), but those `skip` lists
    (repo-relative: the config's `skip_specs`). The repository searched joins `workspaces` (by root), for the
    run to read its evidence through. Raises UsageError."""
    from mlgate.errors import UsageError
    from mlgate.paths import find_repo_root
    from mlgate.spec.load import load_spec

    target = Path(path)
    if not target.exists():
        raise UsageError(f"{path}: no such file or directory")
    searched = (target if target.is_dir() else target.parent).resolve()
    repo_root = find_repo_root(searched)
    if target.is_dir():
        workspace = None
        if repo_root is not None and workspaces is not None:
            from mlgate.evidence.workspace import Workspace

            workspace = workspaces.setdefault(repo_root, Workspace(repo_root))
        specs = [s for s in find_specs(target, repo_root, workspace) if _shown(s.resolve(), repo_root or searched)
                 not in skip]
        if not specs and skip:
            raise UsageError(f"every mlgate.yaml in {target.resolve()} or below is listed in skip_specs")
        if not specs:
            raise UsageError(f"no mlgate.yaml found in {target.resolve()} or below (skipped .git, virtualenvs, "
                             "node_modules)", hint="write one: see the reference spec in the README, or run "
                                                   "`mlgate init`")
    else:
        specs = [target]
    fallback_root = repo_root or searched
    return [load_spec(s, root=find_repo_root(s.resolve().parent) or fallback_root) for s in specs]


def load_one_spec(path: Path) -> LoadedSpec:
    """The one spec at `path` (a spec file, or a directory holding exactly one), loaded. Raises UsageError."""
    from mlgate.errors import UsageError

    loaded = load_specs(str(path))
    if len(loaded) > 1:
        raise UsageError(f"{len(loaded)} specs found below {path}; name one",
                         hint=", ".join(s.file.relative_to(path.resolve()).as_posix() for s in loaded[:5]))
    return loaded[0]
