"""Git evidence through GitPython: which files are tracked, which have uncommitted changes."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from mlgate.errors import EvidenceError


class GitRepo:
    """One repository's git state, opened on first use and shared by every spec and rule in the run."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @cached_property
    def repo(self) -> Any:
        import git  # GitPython costs ~0.1 s to import: only rules that read git pay for it

        try:
            return git.Repo(self.root)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise EvidenceError(f"{self.root} is not a git repository; run mlgate inside the repository "
                                "that holds the spec") from None

    def _git(self, *args: str) -> str:
        import git

        try:
            out: str = self.repo.git.execute(["git", *args], strip_newline_in_stdout=False)
            return out
        except git.GitCommandError as exc:
            detail = (exc.stderr or "").strip().splitlines()
            raise EvidenceError(f"git {args[0]} failed: {detail[-1] if detail else exc}") from None

    @cached_property
    def tracked(self) -> frozenset[str]:
        """Repo-relative POSIX paths of every file in the index."""
        return frozenset(p for p in self._git("ls-files", "-z").split("\0") if p)

    @cached_property
    def changed(self) -> frozenset[str]:
        """Tracked files with uncommitted changes (staged or not) and untracked files."""
        out = self._git("status", "--porcelain=v1", "-z", "--untracked-files=all")
        paths = set()
        entries = iter(out.split("\0"))
        for entry in entries:
            if len(entry) < 4:
                continue
            paths.add(entry[3:])
            if entry[0] in "RC":  # a rename is followed by its source path
                next(entries, None)
        return frozenset(paths)

    def is_tracked(self, rel: str) -> bool:
        return rel in self.tracked

    def has_changes(self, rel: str) -> bool:
        return rel in self.changed
