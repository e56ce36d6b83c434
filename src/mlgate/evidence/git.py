"""Git evidence through GitPython: which files are tracked, which have uncommitted changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
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

    # -- history (REP002: is a lockfile older than the manifest it locks?) --------------------------------------

    def last_change(self, rel: str) -> CommitInfo | None:
        """The last commit reachable from HEAD that changed `rel` (a repo-relative path), or None."""
        return self.last_change_before("HEAD", rel)

    def last_change_before(self, rev: str, rel: str) -> CommitInfo | None:
        if not self.repo.head.is_valid():  # no commit yet
            return None
        out = self._git("log", "-1", "--format=%H%x00%ct%x00%s", rev, "--", f":(literal){rel}").strip()
        return CommitInfo.parse(out) if out else None

    def changes_between(self, base: str, rel: str) -> list[CommitInfo]:
        """Commits in `base..HEAD` (reachable from HEAD but not from `base`) that changed `rel`, oldest first."""
        out = self._git("log", "--reverse", "--format=%H%x00%ct%x00%s", f"{base}..HEAD", "--", f":(literal){rel}")
        return [CommitInfo.parse(line) for line in out.splitlines() if line.strip()]

    def commit_is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Whether `ancestor` is `descendant` or one of its ancestors."""
        import git

        try:
            return bool(self.repo.is_ancestor(ancestor, descendant))
        except git.GitCommandError as exc:
            detail = (exc.stderr or "").strip().splitlines()
            raise EvidenceError(f"git merge-base failed: {detail[-1] if detail else exc}") from None

    def file_at(self, rev: str, rel: str, *, max_bytes: int = 1024 * 1024) -> str | None:
        """The text of `rel` as committed in `rev`, or None when it did not exist there (or is not text)."""
        import git

        try:
            blob = self.repo.commit(rev).tree / rel
        except (KeyError, ValueError, git.BadName):
            return None
        if blob.type != "blob" or blob.size > max_bytes:
            return None
        data: bytes = blob.data_stream.read()
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    timestamp: int  # committer time, seconds since the epoch
    subject: str = ""

    @classmethod
    def parse(cls, line: str) -> CommitInfo:
        sha, stamp, *rest = line.split("\0")
        return cls(sha, int(stamp), rest[0] if rest else "")

    @property
    def short(self) -> str:
        return self.sha[:7]

    @property
    def date(self) -> str:
        return dt.datetime.fromtimestamp(self.timestamp, dt.UTC).strftime("%Y-%m-%d")

    def describe(self) -> str:
        return f"{self.short} ({self.date})"
