"""A repository's history in memory: every commit reachable from HEAD, its parents and the files it changed, read
with one `git log`.

A monorepo's specs each ask the same kinds of history questions (is the training commit an ancestor of HEAD, how
many commits came since, which of them touched the training code, when did the lockfile last change). Asked of
git one by one, they cost a process and a walk of the history each: tens of milliseconds, times hundreds of specs.
`GitRepo` reads this index once the run has asked enough of them, and answers from it only where its answer is
exactly git's:

- ancestry and commit counts from the parent graph;
- which commits touched a path, and its last change, in a linear history (no merge commit in the index), where a
  commit touches a path exactly when its diff against its one parent lists a file at or under it, as
  `git log -- <path>` decides.

The index holds at most the newest WINDOW commits, so that a long history costs a bounded read: a question about
an older commit, or one whose answer lies beyond the window, raises `Unanswered`, as anything else the index cannot
answer exactly does, and git is asked as before.
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from mlgate.evidence.commits import CommitInfo

# `git log` options of the index: each commit's header starts with "/" (no path git prints starts with one), then
# the files it changed, renames as a deletion and an addition, a root commit's files included, whatever the config.
# The newest commits read: enough for the training commits of models retrained within the last months of a busy
# monorepo (100 commits a day), and a bounded read (about a second) on a history of millions.
WINDOW = 20_000
LOG_OPTIONS = ("--format=/%H%x00%P%x00%ct%x00%s", "--name-only", "-z", "--no-renames", "--root",
               "--no-show-signature", f"--max-count={WINDOW}")


class Unanswered(LookupError):
    """The index cannot give git's exact answer (a merge in the history, a commit it does not hold)."""


@dataclass
class History:
    commits: list[CommitInfo]  # newest first, as `git log HEAD` lists them
    parents: list[tuple[str, ...]]
    changed: list[tuple[str, ...]]  # the files each commit changed against its parent (all of them for a root)
    position: dict[str, int] = field(init=False)
    linear: bool = field(init=False)
    complete: bool = field(init=False)  # every commit's parents are here: the whole history of HEAD
    # Where each path was changed: the positions of the commits, ascending (newest first), and every path changed
    # anywhere, sorted, so the paths under a directory are one bisected range.
    _by_path: dict[str, list[int]] = field(init=False, repr=False)
    _paths: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.position = {c.sha: i for i, c in enumerate(self.commits)}
        self.linear = all(len(p) <= 1 for p in self.parents)
        self.complete = all(parent in self.position for parents in self.parents for parent in parents)
        self._by_path = {}
        for i, files in enumerate(self.changed):
            for path in files:
                self._by_path.setdefault(path, []).append(i)
        self._paths = sorted(self._by_path)

    @classmethod
    def parse(cls, out: str) -> History:
        """The output of `git log LOG_OPTIONS HEAD`."""
        commits: list[CommitInfo] = []
        parents: list[tuple[str, ...]] = []
        changed: list[list[str]] = []
        tokens = out.split("\0")
        i = 0
        first = False  # the next token is the commit's first file, which git writes after a newline
        while i < len(tokens):
            token = tokens[i]
            if token.startswith("/") and i + 3 < len(tokens):  # no path starts with "/": a commit's header
                commits.append(CommitInfo(token[1:], int(tokens[i + 2]), tokens[i + 3]))
                parents.append(tuple(tokens[i + 1].split()))
                changed.append([])
                i += 4
                first = True
                continue
            if first and token.startswith("\n"):
                token = token[1:]
            if token and changed:
                changed[-1].append(sys.intern(token))
            first = False
            i += 1
        return cls(commits, parents, [tuple(files) for files in changed])

    @property
    def head(self) -> str:
        return self.commits[0].sha

    def _at(self, rev: str) -> int:
        """The position of HEAD or of a full sha; Unanswered for anything else."""
        at = self.position.get(self.head if rev == "HEAD" else rev)
        if at is None:
            raise Unanswered(rev)
        return at

    def contains(self, sha: str) -> bool:
        return sha in self.position

    def info(self, rev: str) -> CommitInfo:
        """As `git log -1 --format=%H%x00%ct%x00%s` (whose output is stripped) shows it."""
        return _stripped(self.commits[self._at(rev)])

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """`git merge-base --is-ancestor`: `ancestor` is `descendant` or reachable from it."""
        a, d = self._at(ancestor), self._at(descendant)
        if d == 0 or a == d:  # everything here is reachable from HEAD
            return True
        if self.linear:  # the newest commits of one chain
            return a > d
        if not self.complete:  # a path from d to a may run through commits older than the window
            raise Unanswered("the history is longer than the window")
        return a in self._reachable(d)

    def _reachable(self, at: int) -> set[int]:
        seen = {at}
        todo = [at]
        while todo:
            for parent in self.parents[todo.pop()]:
                index = self.position.get(parent)
                if index is not None and index not in seen:
                    seen.add(index)
                    todo.append(index)
        return seen

    def count_since(self, base: str) -> int:
        """How many commits `base..HEAD` holds (`git rev-list --count`)."""
        at = self._at(base)
        if self.linear:
            return at
        if not self.complete:
            raise Unanswered("the history is longer than the window")
        return len(self.commits) - len(self._reachable(at))

    def touching(self, base: str, rels: Iterable[str]) -> list[CommitInfo]:
        """Commits in `base..HEAD` that changed a file at or under one of `rels` ('' is the whole tree), oldest
        first: `git log --reverse base..HEAD -- <rels>`."""
        if not self.linear:
            raise Unanswered("a merge commit is in the history")
        at = self._at(base)
        found: set[int] = set()
        for positions in self._under(rels):
            found.update(positions[:bisect.bisect_left(positions, at)])
        return [self.commits[i] for i in sorted(found, reverse=True)]

    def last_change(self, rev: str, rel: str) -> CommitInfo | None:
        """The newest commit reachable from `rev` that changed `rel`: `git log -1 rev -- <rel>`."""
        if not self.linear:
            raise Unanswered("a merge commit is in the history")
        at = self._at(rev)
        newest = None
        for positions in self._under([rel]):
            index = bisect.bisect_left(positions, at)
            if index < len(positions) and (newest is None or positions[index] < newest):
                newest = positions[index]
        if newest is None and not self.complete:
            raise Unanswered("the change may be older than the window")
        return None if newest is None else _stripped(self.commits[newest])

    def _under(self, rels: Iterable[str]) -> Iterator[list[int]]:
        """The change positions of every path a literal pathspec among `rels` matches: the path itself, or a path
        under it ('' matches every path)."""
        for rel in rels:
            if not rel:
                yield from self._by_path.values()
                continue
            if rel in self._by_path:
                yield self._by_path[rel]
            prefix = rel if rel.endswith("/") else rel + "/"
            low = bisect.bisect_left(self._paths, prefix)
            high = bisect.bisect_left(self._paths, prefix[:-1] + chr(ord("/") + 1), lo=low)
            for path in self._paths[low:high]:
                yield self._by_path[path]


def _stripped(commit: CommitInfo) -> CommitInfo:
    subject = commit.subject.rstrip()
    return commit if subject == commit.subject else replace(commit, subject=subject)
