"""A repository's history in memory: every commit reachable from HEAD, its parents and the files it changed, read
with one `git log` (and, when the history has merge commits, one `git diff-tree --stdin` for their other parents).

A monorepo's specs each ask the same kinds of history questions (is the training commit an ancestor of HEAD, how
many commits came since, which of them touched the training code, when did the lockfile last change). Asked of
git one by one, they cost a process and a walk of the history each: tens of milliseconds, times hundreds of specs.
`GitRepo` reads this index once the run has asked enough of them, and answers from it:

- ancestry and commit counts from the parent graph (through every parent of a merge);
- which commits touched a path, and its last change. A commit touches a path when its tree under the path differs
  from each of its parents' (a root commit: when it has files there), git's own TREESAME rule: an ordinary commit
  that changed a file there, or a merge whose result there is none of its parents' (a conflict resolved by hand).
  A merge that only brought in a side branch's change is not itself a change; the side branch's commit is. In a
  linear history this is exactly `git log -- <path>`; with merges it is `git log --full-history -- <path>` without
  the merges that match one of their parents, which is what `GitRepo` asks git when it has no index, so the
  answer does not depend on how many questions the run asked.

The index holds at most the newest WINDOW commits, so that a long history costs a bounded read: a question about
an older commit, or one whose answer lies beyond the window, raises `Unanswered`, as anything else the index cannot
answer exactly does, and git is asked as before.
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property

from mlgate.evidence.commits import CommitInfo

# `git log` options of the index: each commit's header starts with "/" (no path git prints starts with one), then
# the files it changed, renames as a deletion and an addition, a root commit's files included, whatever the config.
# The newest commits read: enough for the training commits of models retrained within the last months of a busy
# monorepo (100 commits a day), and a bounded read (about a second) on a history of millions.
WINDOW = 20_000
# A merge's files are those it changed against its first parent (`--diff-merges=first-parent`, git 2.31; an older
# git fails the read and every question goes to git); its other parents' diffs come from MERGE_DIFF_OPTIONS.
LOG_FORMAT = "--format=/%H%x00%P%x00%ct%x00%s"
LOG_OPTIONS = (LOG_FORMAT, "--name-only", "-z", "--no-renames", "--root",
               "--diff-merges=first-parent", "--no-show-signature", f"--max-count={WINDOW}")
# `git diff-tree --stdin` of lines "<merge> <parent>", each followed by a line "/" that git echoes (it names no
# object): the files of each pair, then "/\n"; no path git prints starts with "/", so the pairs cannot be confused.
MERGE_DIFF_OPTIONS = ("diff-tree", "--stdin", "-r", "--name-only", "--no-renames", "-z", "--no-commit-id")
SEPARATOR = "/"


def merge_pairs(merges: Iterable[tuple[str, tuple[str, ...]]], *, first: bool = False,
                ) -> tuple[list[tuple[str, str]], str]:
    """The (merge, parent) pairs of every merge's parents (after the first, unless `first`), and the stdin of
    MERGE_DIFF_OPTIONS that asks for their diffs."""
    pairs = [(sha, parent) for sha, parents in merges for parent in parents[0 if first else 1:]]
    return pairs, "".join(f"{sha} {parent}\n{SEPARATOR}\n" for sha, parent in pairs)


def parse_pair_diffs(out: str, count: int) -> list[tuple[str, ...]]:
    """The files of each of `count` pairs from the output of MERGE_DIFF_OPTIONS."""
    diffs: list[tuple[str, ...]] = []
    files: list[str] = []
    i = 0
    while i < len(out):
        if out.startswith(SEPARATOR + "\n", i):
            diffs.append(tuple(files))
            files = []
            i += len(SEPARATOR) + 1
            continue
        end = out.find("\0", i)
        if end < 0:
            break
        files.append(sys.intern(out[i:end]))
        i = end + 1
    if len(diffs) != count:
        raise ValueError(f"git diff-tree answered {len(diffs)} of {count} merge diffs")
    return diffs


class Unanswered(LookupError):
    """The index cannot give git's exact answer (a merge in the history, a commit it does not hold)."""


@dataclass
class History:
    """The commits reachable from HEAD, indexed to answer ancestry and changed-file questions without git."""
    commits: list[CommitInfo]  # newest first, as `git log HEAD` lists them
    parents: list[tuple[str, ...]]
    changed: list[tuple[str, ...]]  # the files each commit changed against its first parent (all of them for a root)
    # A merge's diffs against its other parents, in their order: position -> (files against parent 2, ...); None
    # until they are read (`with_merged`): a history with merges answers no path question without them.
    merged: dict[int, tuple[tuple[str, ...], ...]] | None = None
    position: dict[str, int] = field(init=False)
    linear: bool = field(init=False)
    complete: bool = field(init=False)  # every commit's parents are here: the whole history of HEAD
    _reached: dict[int, frozenset[int]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.position = {c.sha: i for i, c in enumerate(self.commits)}
        self.linear = all(len(p) <= 1 for p in self.parents)
        self.complete = all(parent in self.position for parents in self.parents for parent in parents)
        self._reached = {}
        if self.merged is not None:
            merged = self.merged
            missing = [i for i, p in enumerate(self.parents) if len(p) > 1 and len(merged.get(i, ())) != len(p) - 1]
            if missing:
                raise ValueError(f"the diffs of merge {self.commits[missing[0]].sha} against its other parents are "
                                 "missing")

    # Where each path was changed: the positions of the commits, ascending (newest first), against their first
    # parent, and (position, parent number) against a merge's other parents; every path changed anywhere, sorted,
    # so the paths under a directory are one bisected range. Built on the first path question.
    @cached_property
    def _by_path(self) -> dict[str, list[int]]:
        by_path: dict[str, list[int]] = {}
        for i, files in enumerate(self.changed):
            for path in files:
                by_path.setdefault(path, []).append(i)
        return by_path

    @cached_property
    def _by_path_merged(self) -> dict[str, list[tuple[int, int]]]:
        by_path: dict[str, list[tuple[int, int]]] = {}
        for i in sorted(self.merged or {}):
            for number, files in enumerate((self.merged or {})[i], start=1):
                for path in files:
                    by_path.setdefault(path, []).append((i, number))
        return by_path

    @cached_property
    def _paths(self) -> list[str]:
        return sorted(self._by_path.keys() | self._by_path_merged.keys())

    @classmethod
    def parse(cls, out: str, merged: dict[str, tuple[tuple[str, ...], ...]] | None = None) -> History:
        """The output of `git log LOG_OPTIONS HEAD`, and the diffs of each merge (by sha) against its other
        parents (`merge_pairs` and `parse_pair_diffs`)."""
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
        history = cls(commits, parents, [tuple(files) for files in changed])
        return history.with_merged(merged) if merged is not None else history

    def with_merged(self, merged: dict[str, tuple[tuple[str, ...], ...]]) -> History:
        """This history with each merge's (by sha) diffs against its other parents."""
        return History(self.commits, self.parents, self.changed,
                       {i: merged[c.sha] for i, c in enumerate(self.commits) if c.sha in merged})

    @property
    def head(self) -> str:
        return self.commits[0].sha

    def merges(self) -> list[tuple[str, tuple[str, ...]]]:
        """(sha, parents) of every merge commit, newest first."""
        return [(c.sha, p) for c, p in zip(self.commits, self.parents, strict=True) if len(p) > 1]

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
        """`git merge-base --is-ancestor`: `ancestor` is `descendant` or reachable from it through any parent."""
        a, d = self._at(ancestor), self._at(descendant)
        if d == 0 or a == d:  # everything here is reachable from HEAD
            return True
        if self.linear:  # the newest commits of one chain
            return a > d
        return a in self._reachable(d)

    def _reachable(self, at: int) -> frozenset[int]:
        """The positions of the commit at `at` and of every commit reachable from it, through every parent."""
        if not self.complete:  # a path between two commits may run through commits older than the window
            raise Unanswered("the history is longer than the window")
        if at not in self._reached:
            seen = {at}
            todo = [at]
            while todo:
                for parent in self.parents[todo.pop()]:
                    index = self.position[parent]
                    if index in seen:
                        continue
                    if (known := self._reached.get(index)) is not None:  # another spec's commit: its walk is done
                        seen |= known
                    else:
                        seen.add(index)
                        todo.append(index)
            self._reached[at] = frozenset(seen)
        return self._reached[at]

    def count_since(self, base: str) -> int:
        """How many commits `base..HEAD` holds (`git rev-list --count`)."""
        at = self._at(base)
        if self.linear:
            return at
        return len(self.commits) - len(self._reachable(at))

    def touching(self, base: str, rels: Iterable[str]) -> list[CommitInfo]:
        """Commits in `base..HEAD` that touched a file at or under one of `rels` ('' is the whole tree; see the
        module's docstring for what touching means at a merge), oldest first."""
        at = self._at(base)
        rels = list(rels)
        if self.linear:
            found: set[int] = set()
            for positions in self._under(rels):
                found.update(positions[:bisect.bisect_left(positions, at)])
        else:
            excluded = self._reachable(at)
            found = {i for i in self._touched(rels) if i not in excluded}
        return [self.commits[i] for i in sorted(found, reverse=True)]

    def untouched_since(self, base: str, rels: Iterable[str]) -> bool:
        """No commit in `base..HEAD` changed a file at or under `rels` against any of its parents, so HEAD's files
        there are `base`'s: every line of descent from HEAD to `base` runs through those commits only."""
        at = self._at(base)
        rels = list(rels)
        if self.linear:
            return not self.touching(base, rels)
        excluded = self._reachable(at)
        self._needs_merged()
        if any(i not in excluded for positions in self._under(rels) for i in positions):
            return False
        return not any(i not in excluded for pairs in self._under_merged(rels) for i, _ in pairs)

    def last_change(self, rev: str, rel: str) -> CommitInfo | None:
        """The newest commit reachable from `rev` that touched `rel`: `git log -1 rev -- <rel>` in a linear history
        (see the module's docstring for merges)."""
        at = self._at(rev)
        newest = None
        if self.linear:
            for positions in self._under([rel]):
                index = bisect.bisect_left(positions, at)
                if index < len(positions) and (newest is None or positions[index] < newest):
                    newest = positions[index]
        else:
            reachable = None if at == 0 else self._reachable(at)  # from HEAD: all of them
            newest = min((i for i in self._touched([rel]) if reachable is None or i in reachable), default=None)
        if newest is None and not self.complete:
            raise Unanswered("the change may be older than the window")
        return None if newest is None else _stripped(self.commits[newest])

    def _touched(self, rels: list[str]) -> set[int]:
        """The positions of the commits that touched `rels`: changed a file there against every parent."""
        self._needs_merged()
        found = {i for positions in self._under(rels) for i in positions}
        merges = [i for i in found if len(self.parents[i]) > 1]
        if merges:
            against = {pair for pairs in self._under_merged(rels) for pair in pairs}
            found.difference_update(i for i in merges
                                    if any((i, n) not in against for n in range(1, len(self.parents[i]))))
        return found

    def _needs_merged(self) -> None:
        if self.merged is None and not self.linear:
            raise Unanswered("the merges' diffs against their other parents were not read")

    def _under(self, rels: Iterable[str]) -> Iterator[list[int]]:
        """The first-parent change positions of every path a literal pathspec among `rels` matches."""
        for path in self._matching(rels):
            if path in self._by_path:
                yield self._by_path[path]

    def _under_merged(self, rels: Iterable[str]) -> Iterator[list[tuple[int, int]]]:
        """The (position, parent number) of every merge whose diff against a parent after the first has a path a
        literal pathspec among `rels` matches."""
        for path in self._matching(rels):
            if path in self._by_path_merged:
                yield self._by_path_merged[path]

    def _matching(self, rels: Iterable[str]) -> Iterator[str]:
        """Every changed path a literal pathspec among `rels` matches: the path itself, or a path under it ('' matches
        every path)."""
        for rel in rels:
            if not rel:
                yield from self._paths
                continue
            if rel in self._by_path or rel in self._by_path_merged:
                yield rel
            prefix = rel if rel.endswith("/") else rel + "/"
            low = bisect.bisect_left(self._paths, prefix)
            high = bisect.bisect_left(self._paths, prefix[:-1] + chr(ord("/") + 1), lo=low)
            yield from self._paths[low:high]


def _stripped(commit: CommitInfo) -> CommitInfo:
    subject = commit.subject.rstrip()
    return commit if subject == commit.subject else replace(commit, subject=subject)
