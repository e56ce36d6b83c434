"""Git evidence through GitPython: which files are tracked, which have uncommitted changes."""

from __future__ import annotations

import bisect
import contextlib
import functools
import re
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

from mlgate.errors import EvidenceError
from mlgate.evidence.commits import CommitInfo

if TYPE_CHECKING:
    from mlgate.evidence.history import History

# History questions (ancestry, counts, log by path) asked of git itself before the whole history is read into
# memory (mlgate.evidence.history): one spec asks about six, so a one-spec run never reads it, a monorepo does.
HISTORY_AFTER = 12

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _memoized(method: Callable[Concatenate[GitRepo, _P], _R]) -> Callable[Concatenate[GitRepo, _P], _R]:
    """A git question asked once per run: a repository's answers do not change while mlgate reads it, and in a
    monorepo every spec asks about the same lockfile, commits and history. A list answer is copied for each
    caller; an EvidenceError is not remembered."""

    def ask(repo: GitRepo, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        key = (method.__name__, *(tuple(a) if isinstance(a, list) else a for a in args), *sorted(kwargs.items()))
        if key not in repo._answers:
            repo._answers[key] = method(repo, *args, **kwargs)
        answer = repo._answers[key]
        return cast(_R, list(answer) if isinstance(answer, list) else answer)

    functools.update_wrapper(ask, method)
    return ask


# `git status` runs the command `core.fsmonitor` names: harmless in a clone (a clone never copies .git/config), but
# mlgate runs nothing a repository's own files could name.
_HARDENED = ("-c", "core.fsmonitor=false")
_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")


class GitRepo:
    """One repository's git state, opened on first use and shared by every spec and rule in the run."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._answers: dict[tuple[Any, ...], Any] = {}
        self._walks = 0
        self._history: History | None = None
        self._history_failed = False
        self._blob_sizes: dict[bytes, int] = {}  # binsha -> size of the blobs read whole

    @cached_property
    def repo(self) -> Any:
        import git  # GitPython costs ~0.1 s to import: only rules that read git pay for it

        try:
            return git.Repo(self.root)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise EvidenceError(f"{self.root} is not a git repository; run mlgate inside the repository "
                                "that holds the spec") from None

    def _git(self, *args: str, stdin: str | None = None) -> str:
        import git

        try:
            if stdin is None:
                out: str = self.repo.git.execute(["git", *_HARDENED, *args], strip_newline_in_stdout=False)
                return out
            import tempfile

            with tempfile.TemporaryFile() as source:  # GitPython reads a process's input from a file
                source.write(stdin.encode())
                source.seek(0)
                out = self.repo.git.execute(["git", *_HARDENED, *args], istream=source, strip_newline_in_stdout=False)
                return out
        except git.GitCommandError as exc:
            detail = (exc.stderr or "").strip().splitlines()
            raise EvidenceError(f"git {args[0]} failed: {redact(detail[-1] if detail else str(exc))}") from None

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

    @cached_property
    def _tracked_sorted(self) -> list[str]:
        return sorted(self.tracked)

    def tracked_under(self, rel: str) -> list[str]:
        """The tracked files at `rel` or under it (every one for ''), sorted: a range of the sorted index, found by
        bisection, so a monorepo's specs do not each scan all its files."""
        files = self._tracked_sorted
        if not rel:
            return list(files)
        prefix = rel + "/"
        low = bisect.bisect_left(files, prefix)
        high = bisect.bisect_left(files, rel + chr(ord("/") + 1), lo=low)
        return ([rel] if rel in self.tracked else []) + files[low:high]

    def has_changes(self, rel: str) -> bool:
        return rel in self.changed

    # -- history (REP002: is a lockfile older than the manifest it locks?) --------------------------------------

    def _index(self) -> History | None:
        """The history in memory, read once this run has asked more than HISTORY_AFTER history questions. Its
        answers are git's; where it has none (it raises a LookupError) git is asked."""
        self._walks += 1
        if self._history is None and not self._history_failed and self._walks > HISTORY_AFTER:
            from mlgate.evidence.history import LOG_OPTIONS, History

            try:
                history = History.parse(self._git("log", *LOG_OPTIONS, "HEAD"))
                if merges := history.merges():  # their diffs against their other parents: one more process
                    history = history.with_merged(self._merge_diffs(merges, []))
                self._history = history
            except (EvidenceError, ValueError):  # no commit yet, or a git too old for the options: ask git
                self._history_failed = True
        return self._history

    def _merge_diffs(self, merges: list[tuple[str, tuple[str, ...]]], specs: list[str], *,
                     first: bool = False) -> dict[str, tuple[tuple[str, ...], ...]]:
        """merge sha -> the files under `specs` (every file for none) it changed against each of its parents (after
        the first, unless `first`), in their order: one `git diff-tree --stdin` for all of them."""
        from mlgate.evidence.history import MERGE_DIFF_OPTIONS, merge_pairs, parse_pair_diffs

        pairs, stdin = merge_pairs(merges, first=first)
        out = self._git(*MERGE_DIFF_OPTIONS, *(["--", *specs] if specs else []), stdin=stdin)
        diffs: dict[str, list[tuple[str, ...]]] = {}
        for (sha, _), files in zip(pairs, parse_pair_diffs(out, len(pairs)), strict=True):
            diffs.setdefault(sha, []).append(files)
        return {sha: tuple(files) for sha, files in diffs.items()}

    def _log_touching(self, revs: str, specs: list[str]) -> list[CommitInfo]:
        """The commits in `revs` that touched `specs`, newest first, as the history index decides (a merge touches
        them only where its result differs from every parent's; see mlgate.evidence.history): `git log
        --full-history`, which lists every commit that changed them, less the merges that match a parent."""
        out = self._git("log", "--full-history", "--format=%H%x00%ct%x00%P%x00%s", revs, "--", *specs)
        found: list[tuple[CommitInfo, tuple[str, ...]]] = []
        for line in out.split("\n"):
            if line.strip():
                sha, stamp, parents, subject = line.split("\0", 3)
                found.append((CommitInfo(sha, int(stamp), subject), tuple(parents.split())))
        if merges := [(c.sha, parents) for c, parents in found if len(parents) > 1]:
            diffs = self._merge_diffs(merges, specs, first=True)
            found = [(c, p) for c, p in found if len(p) == 1 or all(diffs.get(c.sha, ()))]
        return [c for c, _ in found]

    def last_change(self, rel: str) -> CommitInfo | None:
        """The last commit reachable from HEAD that changed `rel` (a repo-relative path), or None."""
        return self.last_change_before("HEAD", rel)

    def last_changes(self, rels: list[str]) -> list[CommitInfo | None]:
        """`last_change` of each of `rels`: while the history is not in memory, from one walk of it for all of them
        (a walk costs about as much as a process start), not one each."""
        unasked = [rel for rel in dict.fromkeys(rels) if ("last_change_before", "HEAD", rel) not in self._answers]
        if (len(unasked) > 1 and self._history is None
                and (self._history_failed or self._walks + len(unasked) <= HISTORY_AFTER)
                and self.head is not None):
            self._walks += len(unasked)  # as many questions as asking them one by one
            for rel, found in zip(unasked, self._last_touching(unasked), strict=True):
                self._answers["last_change_before", "HEAD", rel] = found
        return [self.last_change(rel) for rel in rels]

    def _last_touching(self, rels: list[str]) -> list[CommitInfo | None]:
        """The newest commit reachable from HEAD that touched each of `rels`, as `_log_touching` decides, from one
        `git log --full-history` of them all: with all parents followed, the walk and its order do not depend on
        the paths, and each commit's files tell which of them it changed (a merge's, its diffs against each of its
        parents, read only when a merge comes before a path's newest ordinary change)."""
        from mlgate.evidence.history import LOG_FORMAT, History

        specs = [f":(literal){rel}" for rel in rels]
        walk = History.parse(self._git("log", "--full-history", LOG_FORMAT, "--name-only", "-z", "--no-renames",
                                       "--root", "--no-show-signature", "HEAD", "--", *specs))
        merge_diffs: dict[str, tuple[tuple[str, ...], ...]] | None = None
        found: list[CommitInfo | None] = []
        for rel in rels:
            def under(files: tuple[str, ...], rel: str = rel) -> bool:  # as a literal pathspec matches
                return any(f == rel or f.startswith(rel if rel.endswith("/") else rel + "/") for f in files)

            newest = None
            for commit, parents, files in zip(walk.commits, walk.parents, walk.changed, strict=True):
                if len(parents) <= 1:
                    if under(files):
                        newest = commit
                        break
                    continue
                if merge_diffs is None:
                    merge_diffs = self._merge_diffs(walk.merges(), specs, first=True)
                if all(under(diff) for diff in merge_diffs.get(commit.sha, ())):  # changed against every parent
                    newest = commit
                    break
            found.append(replace(newest, subject=newest.subject.rstrip()) if newest else None)
        return found

    @_memoized
    def last_change_before(self, rev: str, rel: str) -> CommitInfo | None:
        if self.head is None:  # no commit yet
            return None
        if history := self._index():
            with contextlib.suppress(LookupError):
                return history.last_change(rev, rel)
        found = self._log_touching(rev, [f":(literal){rel}"])
        return replace(found[0], subject=found[0].subject.rstrip()) if found else None

    @_memoized
    def changes_between(self, base: str, rel: str) -> list[CommitInfo]:
        """Commits in `base..HEAD` (reachable from HEAD but not from `base`) that changed `rel`, oldest first."""
        if history := self._index():
            with contextlib.suppress(LookupError):
                return history.touching(base, [rel])
        return self._log_touching(f"{base}..HEAD", [f":(literal){rel}"])[::-1]

    @_memoized
    def commit_is_ancestor(self, ancestor: str, descendant: str) -> bool:
        """Whether `ancestor` is `descendant` or one of its ancestors."""
        if history := self._index():
            with contextlib.suppress(LookupError):
                return history.is_ancestor(ancestor, descendant)
        if descendant in ("HEAD", self.head):
            # REP004 asks next how many commits came since (count_commits_since): one walk answers both, as the
            # commits only `ancestor` reaches (none: it is an ancestor) and those only HEAD reaches.
            left, right = self._git("rev-list", "--left-right", "--count", f"{ancestor}...HEAD").split()
            self._answers["count_commits_since", ancestor] = int(right)
            return left == "0"
        import git

        try:
            return bool(self.repo.is_ancestor(ancestor, descendant))
        except git.GitCommandError as exc:
            detail = (exc.stderr or "").strip().splitlines()
            raise EvidenceError(f"git merge-base failed: {detail[-1] if detail else exc}") from None

    @_memoized
    def file_at(self, rev: str, rel: str, *, max_bytes: int = 1024 * 1024) -> str | None:
        """The text of `rel` as committed in `rev`, or None when it did not exist there (or is not text)."""
        import git

        try:
            blob = self._commit(rev).tree / rel
        except (KeyError, ValueError, git.BadName):
            return None
        try:
            # a blob's size is known once it was read (blob_sha256: REP005 hashes the lockfile, then parses it);
            # GitPython's `blob.size` asks a second `cat-file` process (`--batch-check`)
            size = self._blob_sizes.get(blob.binsha) if blob.type == "blob" else None
            if blob.type != "blob" or (blob.size if size is None else size) > max_bytes:
                return None
            data: bytes = blob.data_stream.read()
        except ValueError as exc:  # GitPython's word for an object git cannot read (missing or corrupt)
            raise EvidenceError(_unreadable(rel, rev, exc)) from None
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None

    # -- commits, refs and staleness (REP004: is the code pinned? REP005: the lockfile at the commit) ------------

    def _git_or_none(self, *args: str) -> str | None:
        """Like `_git`, but None when git exits non-zero (a ref or an object that does not exist)."""
        import git

        try:
            out: str = self.repo.git.execute(["git", *_HARDENED, *args], strip_newline_in_stdout=False)
            return out
        except git.GitCommandError:
            return None

    @cached_property
    def is_shallow(self) -> bool:
        """A shallow clone (`git clone --depth`, the actions/checkout default): older history is missing."""
        return self._git("rev-parse", "--is-shallow-repository").strip() == "true"

    @cached_property
    def head(self) -> str | None:
        """The full sha of HEAD, or None before the first commit: the ref files read by GitPython, the object
        through its persistent `cat-file --batch`, not one more process."""
        from git.refs.symbolic import SymbolicReference

        try:
            sha: str = SymbolicReference.dereference_recursive(self.repo, "HEAD")
        except (OSError, ValueError):  # no commit yet, or a HEAD git cannot read either
            return None
        return self.resolve_commit(sha)

    def _commit(self, rev: str) -> Any:
        """GitPython's commit that `rev` names. A full sha (HEAD's too) known to be a commit is made without
        `repo.commit`'s type check, which would start a second `cat-file` process (`--batch-check`) next to the
        one (`--batch`) that reads the objects."""
        import git

        sha = self.head if rev == "HEAD" else rev
        if sha is not None and _FULL_SHA.fullmatch(sha) and self._object_type(sha) == "commit":
            return git.Commit(self.repo, bytes.fromhex(sha))
        return self.repo.commit(rev)

    @_memoized
    def resolve_commit(self, rev: str) -> str | None:
        """The full sha of the commit `rev` names (a sha or a unique prefix of one, a tag, a branch), or None."""
        if not rev or rev.startswith("-") or any(c.isspace() for c in rev):
            return None
        if self._history is not None and self._history.contains(rev):  # a full sha of a commit it holds
            return rev
        if rev == "HEAD":
            return self.head
        if _FULL_SHA.fullmatch(rev):  # git reads 40 hex digits as an object id, whatever refs there are
            kind = self._object_type(rev)
            if kind == "commit":
                return rev.lower()
            if kind in (None, "tree", "blob"):  # names no commit; a tag object is peeled by git below
                return None
        out = self._git_or_none("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
        if out is None or not out.strip():
            return None
        return out.strip()

    @_memoized
    def _object_type(self, sha: str) -> str | None:
        """The type of the object with the full id `sha`, or None when there is none: asked of GitPython's
        persistent `cat-file --batch`, which resolves an id as `git rev-parse` does (the object's content is
        skipped, unread)."""
        try:
            stream = self.repo.odb.stream(bytes.fromhex(sha))
        except ValueError:  # GitPython's word for a missing object
            return None
        if stream.binsha != bytes.fromhex(sha):  # a prefix of a longer id (a SHA-256 repository): git decides
            return "?"
        return stream.type.decode() if isinstance(stream.type, bytes) else str(stream.type)

    @_memoized
    def objects_with_prefix(self, prefix: str) -> list[str]:
        """Every object (of any type) whose id starts with the hex `prefix` (4 digits at least)."""
        if len(prefix) < 4 or not all(c in "0123456789abcdefABCDEF" for c in prefix):
            return []
        out = self._git_or_none("rev-parse", f"--disambiguate={prefix.lower()}")
        return [line.strip() for line in (out or "").splitlines() if line.strip()]

    @_memoized
    def refs_named(self, name: str) -> list[str]:
        """Full names of the tags, branches and remote-tracking branches called `name` (refs/tags/v1, ...)."""
        out = self._git("for-each-ref", "--format=%(refname)", "refs/tags", "refs/heads", "refs/remotes")
        found = []
        for ref in out.splitlines():
            parts = ref.split("/", 3)
            short = "/".join(parts[3:]) if parts[:2] == ["refs", "remotes"] else "/".join(parts[2:])
            if short == name and not ref.endswith("/HEAD"):
                found.append(ref)
        return found

    @_memoized
    def commit_info(self, rev: str) -> CommitInfo | None:
        """Sha, committer time and subject of a commit, or None when `rev` names none."""
        sha = self.resolve_commit(rev)
        if sha is None:
            return None
        if self._history is not None and self._history.contains(sha):
            return self._history.info(sha)
        if (info := self._read_commit(sha)) is not None:
            return info
        return CommitInfo.parse(self._git("log", "-1", "--format=%H%x00%ct%x00%s", sha).strip())

    def _read_commit(self, sha: str) -> CommitInfo | None:
        """A commit's info as `git log -1 --format=%H%x00%ct%x00%s` shows it (stripped), from the commit object read
        through GitPython's persistent `cat-file --batch`; None (so git is asked) for what git would re-encode
        (an `encoding` header, bytes that are not UTF-8) and what it would cut (a NUL) or not parse."""
        try:
            raw: bytes = self.repo.odb.stream(bytes.fromhex(sha)).read()
        except ValueError:
            return None
        header, _, message = raw.partition(b"\n\n")
        lines = header.split(b"\n")
        committer = next((line for line in lines if line.startswith(b"committer ")), None)
        if committer is None or b"\0" in raw or any(line.startswith(b"encoding ") for line in lines):
            return None
        stamp = committer.rpartition(b">")[2].split()
        if not stamp or not stamp[0].isdigit():
            return None
        try:
            subject = _subject(message).decode("utf-8")
        except UnicodeDecodeError:
            return None
        return CommitInfo(sha, int(stamp[0]), subject.rstrip())

    @_memoized
    def count_commits_since(self, base: str) -> int:
        """How many commits `base..HEAD` holds."""
        if history := self._index():
            with contextlib.suppress(LookupError):
                return history.count_since(base)
        return int(self._git("rev-list", "--count", f"{base}..HEAD").strip() or 0)

    @_memoized
    def changed_under(self, base: str, rels: list[str], *, to: str | None = "HEAD") -> list[str]:
        """Files under the repo-relative paths `rels` whose content differs between `base` and `to` (the work
        tree's tracked files when `to` is None), added and deleted ones included. A change undone later is no
        change."""
        if to == "HEAD" and (history := self._index()):
            with contextlib.suppress(LookupError):
                if history.untouched_since(base, rels):  # so nothing there differs
                    return []
        args = ["diff", "--name-only", "--no-renames", "-z", base, *([to] if to else []), "--", *_pathspecs(rels)]
        return sorted(p for p in self._git(*args).split("\0") if p)

    @_memoized
    def commits_touching(self, base: str, rels: list[str]) -> list[CommitInfo]:
        """Commits in `base..HEAD` that changed anything under the repo-relative paths `rels`, oldest first."""
        if history := self._index():
            with contextlib.suppress(LookupError):
                return history.touching(base, rels)
        return self._log_touching(f"{base}..HEAD", _pathspecs(rels))[::-1]

    @_memoized
    def blob_sha256(self, rev: str, rel: str) -> str | None:
        """The sha256 of the bytes of `rel` as committed in `rev` (streamed), or None when it is not a file there."""
        import hashlib

        import git

        try:
            blob = self._commit(rev).tree / rel
        except (KeyError, ValueError, git.BadName):
            return None
        if blob.type != "blob":
            return None
        digest = hashlib.sha256()
        try:
            stream = blob.data_stream
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
            self._blob_sizes[blob.binsha] = stream.size
        except ValueError as exc:  # GitPython's word for an object git cannot read (missing or corrupt)
            raise EvidenceError(_unreadable(rel, rev, exc)) from None
        return digest.hexdigest()

    @cached_property
    def remote_urls(self) -> dict[str, str]:
        """name -> fetch URL of every remote, without credentials: CI checkouts keep a token in the remote's URL
        (or add one with `url.<base>.insteadOf`), and these URLs reach reports."""
        import git

        urls: dict[str, str] = {}
        for remote in self.repo.remotes:
            try:
                urls[remote.name] = public_url(next(iter(remote.urls)))
            except (StopIteration, git.GitCommandError):  # a remote without a url
                continue
        return urls


def public_url(url: str) -> str:
    """A remote URL without what may be a credential: the user-info (`https://user:token@host/x`, a bare
    `https://token@host/x`), the query string (`?private_token=...`) and the fragment. An scp-like address keeps a
    plain user name (`git@github.com:org/repo`), which ssh never reads as a password; anything more is dropped."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme and parts.netloc:
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    head, colon, path = url.partition(":")
    if colon and "/" not in head and "@" in head:  # scp-like: user@host:path
        user, host = head.rsplit("@", 1)
        return f"{user}@{host}:{path}" if re.fullmatch(r"[A-Za-z0-9._-]{1,32}", user) else f"{host}:{path}"
    first, slash, rest = url.partition("/")
    if "@" in first:  # user:token@host:path: the first colon lies inside the user-info
        return first.rsplit("@", 1)[1] + slash + rest
    return url


# URLs (with their user-info and query) and HTTP authorization values inside free text, such as git's errors.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s'\"<>]+")
_AUTH_IN_TEXT = re.compile(r"(?i)\b(authorization|bearer|basic)\b.*")


def redact(text: str) -> str:
    """`text` with every URL in it made public and every authorization value hidden (to the end of its line)."""
    text = _URL_IN_TEXT.sub(lambda m: public_url(m.group()), text)
    return _AUTH_IN_TEXT.sub(lambda m: f"{m.group(1)} ***", text)


def _unreadable(rel: str, rev: str, exc: ValueError) -> str:
    return f"git cannot read {rel} as committed in {rev[:12]}: its object is missing or corrupt ({exc})"


def _subject(message: bytes) -> bytes:
    """git's %s of a commit message: its first paragraph (after any blank lines), each line without its trailing
    whitespace (git's: space, tab, CR, LF), joined with spaces."""
    lines: list[bytes] = []
    for line in message.split(b"\n"):
        text = line.rstrip(b" \t\r\n")
        if text:
            lines.append(text)
        elif lines:
            break
    return b" ".join(lines)


def _pathspecs(rels: list[str]) -> list[str]:
    """Literal git pathspecs from the top of the work tree ('' is the whole tree)."""
    return [f":(top,literal){rel}" if rel else ":(top)" for rel in rels]
