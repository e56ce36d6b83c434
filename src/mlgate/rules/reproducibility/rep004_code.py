"""REP004: the artifact was trained from a commit of this repository, and is not stale.

`provenance.code.commit` (a full or short sha, or a tag) must name a commit that is HEAD or an ancestor of it,
and no file under `provenance.code.paths` may differ between that commit and HEAD: otherwise the code that
would be rebuilt from this branch is not the code that produced the artifact, and the message lists the changed
files and the commits that changed them. Tracked training files with uncommitted changes warn.

Decisions worth knowing:
- A tag is accepted and resolved (the message names the commit it points at); a branch name, HEAD or a revision
  expression (`main~2`) fails: they name a different commit tomorrow.
- Staleness compares contents (`git diff <commit> HEAD`), so a change that was later reverted is no change; the
  commits that touched the paths are listed with it.
- A shallow clone (actions/checkout fetches one commit by default) cannot show history it does not have: when the
  commit is missing or its ancestry cannot be traced there, the rule reports an error that says to check out with
  `fetch-depth: 0`, instead of a failure that blames the spec.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass

from mlgate.checks import CheckContext
from mlgate.evidence.commits import CommitInfo
from mlgate.evidence.git import GitRepo
from mlgate.result import Finding
from mlgate.rules.params import NoParams
from mlgate.spec.models import Code
from mlgate.yamlload import PathT

Params = NoParams  # no parameters

_AT_CODE: PathT = ("provenance", "code")
_AT_COMMIT: PathT = (*_AT_CODE, "commit")
_AT_PATHS: PathT = (*_AT_CODE, "paths")
_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_HEX = re.compile(r"[0-9a-fA-F]{4,64}")
_MOVING = frozenset({"HEAD", "FETCH_HEAD", "ORIG_HEAD", "MERGE_HEAD", "CHERRY_PICK_HEAD", "@"})
_LIST = 8  # files or commits shown before "and N more"
SHALLOW_FIX = ("check out the full history: `fetch-depth: 0` on actions/checkout (GitLab: GIT_DEPTH: 0), or run "
               "`git fetch --unshallow`")
SHA_FIX = ("write the full sha of the commit the artifact was trained from (not the branch's current commit, "
           "unless training ran from it), e.g. from `git log`, or let `mlgate manifest` record it")
RECORD_FIX = ("record the commit the training job ran from (`git rev-parse HEAD` there, or `mlgate manifest`, "
              "which records it) as provenance.code.commit")


@dataclass(frozen=True)
class Resolved:
    """What `provenance.code.commit` names: the commit, and how it was written."""

    sha: str
    how: str  # "sha" | "short sha" | "tag"
    written: str

    def describe(self, info: CommitInfo) -> str:
        head = f"commit {info.describe()} \"{info.subject}\""
        if self.how == "tag":
            return f"tag {self.written} -> {head}"
        if self.how == "short sha":
            return f"{head} (short sha {self.written} -> {self.sha})"
        return head


def check(ctx: CheckContext) -> Iterator[Finding]:
    """REP004: provenance.code.commit resolves to HEAD or an ancestor, and the training code is unchanged since."""
    prov = ctx.spec.provenance
    code = prov.code if prov else None
    if code is None or not code.commit:
        yield ctx.fail("no commit is recorded in provenance.code.commit: nobody can check out the code that "
                       "produced this artifact", at=_AT_CODE if code else ("provenance",), fix=RECORD_FIX)
        return
    git = ctx.workspace.git
    if git.head is None:
        yield ctx.fail("the repository has no commit yet, so provenance.code.commit cannot be in its history",
                       at=_AT_COMMIT, fix="commit the training code, train from that commit and record it")
        return
    resolved = yield from resolve(ctx, git, code.commit)
    if resolved is None:
        return
    info = git.commit_info(resolved.sha)
    assert info is not None
    if not git.commit_is_ancestor(resolved.sha, git.head):
        if git.is_shallow:
            yield _shallow(ctx, f"{resolved.describe(info)} is not in the fetched history of HEAD")
            return
        yield ctx.fail(f"{resolved.describe(info)} is not an ancestor of HEAD ({git.head[:7]}): the code that "
                       "trained the artifact is not in this branch's history (it is on another branch, or was "
                       "rebased or amended away)", at=_AT_COMMIT,
                       fix="merge the branch the model was trained from, or retrain from this branch and record "
                           "the new commit")
        return
    rels = yield from _code_paths(ctx, git, code, resolved.sha)
    if rels is None:
        return
    yield from _staleness(ctx, git, code, resolved, info, rels)
    yield from _uncommitted(ctx, git, rels)


def resolve(ctx: CheckContext, git: GitRepo, written: str) -> Generator[Finding, None, Resolved | None]:
    """Resolve provenance.code.commit (yields findings; returns a Resolved, or None when it does not resolve).

    A generator that returns a value: call it as `resolved = yield from resolve(...)`."""
    value = written.strip()
    if value in _MOVING or any(c in value for c in "~^:@{}") or any(c.isspace() for c in value):
        target = git.resolve_commit(value)
        now = f" (today {target[:7]})" if target else ""
        yield ctx.fail(f"commit '{written}' is a revision expression relative to a ref that moves{now}, not a "
                       "fixed commit", at=_AT_COMMIT, fix=SHA_FIX)
        return None
    if _FULL_SHA.fullmatch(value.lower()):
        sha = git.resolve_commit(value)
        if sha is None:
            yield _missing(ctx, git, written)
            return None
        return Resolved(sha, "sha", written)
    refs = git.refs_named(value)
    tags = [r for r in refs if r.startswith("refs/tags/")]
    if tags and _HEX.fullmatch(value):  # a tag named like a short sha: a reader takes it for a commit it is not
        target = git.resolve_commit(tags[0])
        yield ctx.fail(f"commit '{written}' looks like a short sha but is a tag ({tags[0]}"
                       f"{f' -> {target[:7]}' if target else ''}): a tag can be moved, and a reader takes this one for "
                       "a commit id", at=_AT_COMMIT, fix=SHA_FIX)
        return None
    if tags:
        sha = git.resolve_commit(tags[0])
        if sha is None and git.is_shallow:
            yield _shallow(ctx, f"the commit of tag '{written}' is not in this clone")
            return None
        if sha is None:  # a tag of a tree or a blob
            yield ctx.fail(f"tag '{written}' does not point at a commit", at=_AT_COMMIT, fix=RECORD_FIX)
            return None
        return Resolved(sha, "tag", written)
    if refs:
        target = git.resolve_commit(refs[0])
        where = ", ".join(refs[:3])
        yield ctx.fail(f"commit '{written}' is a branch name ({where}), not a commit: it moves with every push, "
                       f"so it names a different commit tomorrow{f' (today {target[:7]})' if target else ''}",
                       at=_AT_COMMIT, fix=SHA_FIX)
        return None
    if _HEX.fullmatch(value):
        candidates = git.objects_with_prefix(value)
        sha = git.resolve_commit(value) if len(candidates) <= 1 else None
        if len(candidates) > 1:
            yield ctx.fail(f"short sha '{written}' is ambiguous: {len(candidates)} objects in this repository start "
                           f"with it ({', '.join(c[:12] for c in candidates[:4])})", at=_AT_COMMIT,
                           fix="write the full 40-character sha")
            return None
        if sha is not None:
            return Resolved(sha, "short sha", written)
    yield _missing(ctx, git, written)
    return None


def _missing(ctx: CheckContext, git: GitRepo, written: str) -> Finding:
    if git.is_shallow:
        return _shallow(ctx, f"commit '{written}' is not in this clone")
    return ctx.fail(f"commit '{written}' does not exist in this repository (no commit, tag or branch by that "
                    "name): the artifact was trained from code this repository does not have (another "
                    "repository, a commit that was never pushed, or one rebased away)", at=_AT_COMMIT,
                    fix=RECORD_FIX)


def _shallow(ctx: CheckContext, what: str) -> Finding:
    # An error, not a fail: the spec may well be right; the check cannot run on a truncated history.
    return ctx.error(f"{what}, and this is a shallow clone (actions/checkout fetches one commit by default), so "
                     f"the history that would show it is missing; to fix: {SHALLOW_FIX}", at=_AT_COMMIT)


def _code_paths(ctx: CheckContext, git: GitRepo, code: Code, sha: str) -> Generator[Finding, None, list[str] | None]:
    """The repo-relative training code paths (yields findings; returns None when they cannot be checked)."""
    if not code.paths:
        yield ctx.fail("provenance.code.paths is empty: without the training code's paths nobody can tell whether "
                       "the code changed after the commit the artifact was trained from", at=_AT_CODE,
                       fix="list the directories and files that training runs, e.g. `paths: [train/, features/]`")
        return None
    rels: list[str] = []
    problems = False
    for i, written in enumerate(code.paths):
        path = ctx.resolve(written)
        rel = ctx.workspace.rel(path)
        rel = "" if rel == "." else rel
        tracked = _tracked_under(git, rel)
        in_history = tracked or git.changed_under(sha, [rel])
        if not path.exists() and not in_history:
            yield ctx.fail(f"code path '{written}' does not exist (not in the work tree, at HEAD or at the commit): "
                           "the training code it should guard is somewhere else", at=(*_AT_PATHS, i),
                           fix="fix the path (relative to the spec's directory)")
            problems = True
        elif path.exists() and not tracked and not in_history:
            yield ctx.fail(f"nothing under code path '{written}' is tracked by git: no commit holds this training "
                           "code", at=(*_AT_PATHS, i), fix=f"git add {rel or '.'} && git commit, then retrain")
            problems = True
        rels.append(rel)
    return None if problems else rels


def _tracked_under(git: GitRepo, rel: str) -> list[str]:
    return git.tracked_under(rel)


def _staleness(ctx: CheckContext, git: GitRepo, code: Code, resolved: Resolved, info: CommitInfo,
               rels: list[str]) -> Iterator[Finding]:
    written = ", ".join(code.paths)
    changed = git.changed_under(resolved.sha, rels)
    commits = git.commits_touching(resolved.sha, rels) if resolved.sha != git.head else []
    if changed:
        shown = _names(changed)
        by = "; ".join(f"{c.describe()} \"{c.subject}\"" for c in commits[-_LIST:])
        more = f" (and {len(commits) - _LIST} earlier)" if len(commits) > _LIST else ""
        yield ctx.fail(f"the artifact is stale: {len(changed)} file{'s' if len(changed) != 1 else ''} under "
                       f"{written} changed since {resolved.describe(info)}: {shown}; changed in "
                       f"{len(commits)} commit{'s' if len(commits) != 1 else ''}: {by}{more}", at=_AT_COMMIT,
                       fix="retrain from HEAD and record the new commit (with a new manifest), or revert the "
                           "training-code changes if this artifact is the one to ship")
        return
    since = git.count_commits_since(resolved.sha) if resolved.sha != git.head else 0
    if resolved.sha == git.head:
        tail = "it is HEAD"
    elif commits:
        tail = (f"it is an ancestor of HEAD ({since:,} commits since); {len(commits)} of them touched {written}, "
                "but the files are the same as at the commit")
    else:
        plural = "s" if since != 1 else ""
        tail = f"it is an ancestor of HEAD, and none of the {since:,} commit{plural} since changed {written}"
    note = " (a tag can be moved with `git tag -f`; the sha it points at cannot)" if resolved.how == "tag" else ""
    yield ctx.ok(f"{resolved.describe(info)}: {tail}{note}", at=_AT_COMMIT)


def _uncommitted(ctx: CheckContext, git: GitRepo, rels: list[str]) -> Iterator[Finding]:
    dirty = sorted(p for p in git.changed if git.is_tracked(p) and _under(p, rels))
    if dirty:
        yield ctx.warn(f"{len(dirty)} tracked training file{'s' if len(dirty) != 1 else ''} "
                       f"{'have' if len(dirty) != 1 else 'has'} uncommitted changes: {_names(dirty)}: the work "
                       "tree is not the code any commit holds, so a retrain from here could not be pinned",
                       at=_AT_PATHS,
                       fix="commit them (and retrain if they change the model), or restore them with "
                           "`git restore <file>`")


def _under(path: str, rels: list[str]) -> bool:
    return any(not rel or path == rel or path.startswith(rel + "/") for rel in rels)


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:_LIST])
    return shown if len(items) <= _LIST else f"{shown} and {len(items) - _LIST} more"
