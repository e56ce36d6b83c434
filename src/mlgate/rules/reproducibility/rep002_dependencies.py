"""REP002: the dependencies the model was trained with are locked, and the lock is current.

The lockfile (poetry.lock, uv.lock, pdm.lock, Pipfile.lock, conda-lock.yml, pixi.lock or a pip-compile style
requirements*.txt) is read with a real parser and compared with the manifest it locks (found next to it, or
`provenance.dependencies.manifest`): every direct dependency must be in the lock at an exact version that meets
the manifest's constraint. Then git: the lockfile is tracked, and no commit after the lock's last change changed
the manifest's dependencies (a stale lock). Uncommitted changes to either file warn.

Decisions worth knowing:
- A manifest commit after the lock that leaves the dependencies alone (a `[tool.ruff]` edit in pyproject.toml)
  does not make the lock stale: the manifest is parsed at each such commit and its dependencies compared.
- A dependency with an environment marker that is missing from a lock made for one platform (pip-compile,
  conda-lock, pixi, Pipenv) warns: the marker may exclude the platform the lock was made on. uv, Poetry and PDM
  lock every platform at once, so there it fails like any missing dependency.
- requirements.txt with no requirements.in (a `pip freeze`) is its own manifest: every line must be a pin.
- Some but not all requirements with `--hash` fails: pip then runs in hash-checking mode and refuses the rest.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from pathlib import Path, PurePosixPath

from pydantic import Field

from mlgate.checks import CheckContext
from mlgate.errors import EvidenceError
from mlgate.evidence.commits import CommitInfo
from mlgate.evidence.lockfiles import (
    LOCKFILE_NAMES,
    Dependency,
    DependencyManifest,
    LockFile,
    LockfileError,
    LockGap,
    LockKind,
    compare,
    compiled_from,
    lock_kind,
    manifest_candidates,
    manifest_kind,
    parse_lockfile,
    parse_manifest,
)
from mlgate.evidence.workspace import LARGE_FILE_BYTES
from mlgate.result import Finding
from mlgate.rules.params import RuleParams
from mlgate.yamlload import PathT


class Params(RuleParams):
    require_hashes: bool = Field(False, description="fail a requirements*.txt lockfile that has no --hash lines "
                                                    "(pip-compile --generate-hashes)")
    allowed_indexes: list[str] = Field(
        default_factory=list,
        description="the index URLs and hosts a requirements*.txt lockfile may name in --index-url, "
                    "--extra-index-url, --find-links and --trusted-host (the team's own index); any other source "
                    "fails (dependency confusion)")


_AT_DEPS: PathT = ("provenance", "dependencies")
_AT_LOCK: PathT = (*_AT_DEPS, "lockfile")
_UNIVERSAL = ("uv", "poetry", "pdm")  # lock every platform at once: a marker never excuses a missing package
_LIST = 8  # names shown in a pass message before "and N more"


def check(ctx: CheckContext) -> Iterator[Finding]:
    """REP002: a tracked lockfile pins every direct dependency of its manifest, and is not older than it."""
    prov = ctx.spec.provenance
    spec_deps = prov.dependencies if prov else None
    if spec_deps is None or not spec_deps.lockfile:
        yield _no_lockfile(ctx)
        return
    path = ctx.resolve(spec_deps.lockfile)
    rel = ctx.workspace.rel(path)
    kind = lock_kind(path.name)
    if kind is None:
        yield ctx.fail(f"{rel} is not a lockfile mlgate reads; expected one of {', '.join(LOCKFILE_NAMES)} "
                       "(or requirements*.txt compiled with ==pins)", at=_AT_LOCK,
                       fix="point provenance.dependencies.lockfile at the lockfile the training image installs")
        return
    if not path.exists():
        yield ctx.fail(f"lockfile {rel} does not exist", at=_AT_LOCK,
                       fix=f"run `{kind.relock}` and commit the lockfile, or fix the path")
        return
    lock = _parse(ctx, path, rel, kind)
    yield from _lock_problems(ctx, lock, rel)
    manifest_path = yield from _find_manifest(ctx, path, rel, lock)
    manifest: DependencyManifest | None = None
    mrel: str | None = None
    if manifest_path is not None:
        mrel = ctx.workspace.rel(manifest_path)
        manifest = _parse_manifest(ctx, manifest_path, mrel)
        yield from _compare(ctx, lock, rel, manifest, mrel)
    elif kind.key == "requirements" and lock.count:
        pins = sum(1 for pkgs in lock.packages.values() if any(p.exact for p in pkgs))
        if pins == lock.count:
            yield ctx.ok(f"{rel} pins all {lock.count} of its requirements with == ({_hash_note(lock)}); no "
                         "requirements.in was found, so the file is taken as the complete list", at=_AT_LOCK)
    yield from _git(ctx, lock, rel, manifest, mrel)


def _no_lockfile(ctx: CheckContext) -> Finding:
    found = []
    for base in dict.fromkeys((ctx.base, ctx.workspace.root)):
        for name in LOCKFILE_NAMES:
            if (base / name).is_file():
                found.append(ctx.workspace.rel(base / name))
    if found:
        written = Path(os.path.relpath(ctx.workspace.root / found[0], ctx.base)).as_posix()
        return ctx.fail(f"no lockfile is named in provenance.dependencies.lockfile (found {', '.join(found)} in "
                        "the repository)", at=_AT_DEPS,
                        fix=f"add `lockfile: {written}` under provenance.dependencies")
    return ctx.fail("no lockfile is named in provenance.dependencies.lockfile, and none was found next to the "
                    "spec: the training environment cannot be rebuilt", at=_AT_DEPS,
                    fix="lock the dependencies (`uv lock`, `poetry lock`, `pip-compile --generate-hashes "
                        "requirements.in`, ...), commit the lockfile and name it in "
                        "provenance.dependencies.lockfile")


def _parse(ctx: CheckContext, path: Path, rel: str, kind: LockKind) -> LockFile:
    def read(ref: str, from_file: str) -> tuple[str, str]:
        """A file that a requirements file includes with -r, relative to the including file."""
        base = ctx.workspace.root / PurePosixPath(from_file).parent
        try:
            target = ctx.workspace.resolve(base, ref)
        except EvidenceError as exc:
            raise LockfileError(exc.message) from None
        if not target.is_file():
            raise LockfileError("does not exist")
        try:
            return ctx.workspace.rel(target), ctx.workspace.read_text(target, max_bytes=LARGE_FILE_BYTES)
        except EvidenceError as exc:
            raise LockfileError(exc.message) from None

    text = ctx.workspace.read_text(path, max_bytes=LARGE_FILE_BYTES)
    try:
        return parse_lockfile(kind, text, name=rel, read=read)
    except LockfileError as exc:
        raise EvidenceError(exc.message, path=rel, line=exc.line) from None


def _lock_problems(ctx: CheckContext, lock: LockFile, rel: str) -> Iterator[Finding]:
    if lock.count == 0:
        yield ctx.fail(f"{rel} pins no packages", at=_AT_LOCK,
                       fix=f"run `{lock.kind.relock}` and commit the result")
        return
    for problem in lock.problems:
        yield ctx.fail(problem.message, at=ctx.file(problem.file or rel, problem.line),
                       fix="compile the requirements with `pip-compile --generate-hashes requirements.in` (or "
                           "`uv pip compile --generate-hashes`), which pins every package with ==")
    if lock.kind.key != "requirements":
        return
    yield from _package_sources(ctx, lock, rel)
    params: Params = ctx.params
    hashed, total = lock.hash_coverage()
    if 0 < hashed < total:
        missing = sorted(name for name, pkgs in lock.packages.items() if any(p.hashed is False for p in pkgs))
        yield ctx.fail(f"{rel}: {hashed} of {total} requirements carry --hash but {_names(missing)} do not; pip "
                       "switches to hash-checking mode and refuses to install them", at=ctx.file(rel, 1),
                       fix="regenerate the whole file with `pip-compile --generate-hashes`")
    elif hashed == 0 and params.require_hashes:
        yield ctx.fail(f"{rel} has no --hash on any requirement; this team requires hashes (require_hashes)",
                       at=_AT_LOCK, fix="regenerate it with `pip-compile --generate-hashes`")


# pip options that add or replace where packages come from: a name published on a second index can win over
# the one the lock meant (dependency confusion), and --trusted-host turns off TLS checks for a host.
_SOURCE_OPTIONS = {
    "--extra-index-url": "makes pip also look on {value}, where a package of the same name and a higher version "
                         "wins over the one the lock meant (dependency confusion)",
    "--index-url": "makes pip install from {value} instead of PyPI",
    "--find-links": "makes pip also take packages from {value}, beside the index",
    "--trusted-host": "makes pip trust {value} without checking its TLS certificate",
}


def _package_sources(ctx: CheckContext, lock: LockFile, rel: str) -> Iterator[Finding]:
    params: Params = ctx.params
    allowed = params.allowed_indexes
    for option in lock.options:
        why = _SOURCE_OPTIONS.get(option.name)
        if why is None or option.value in allowed:
            continue
        yield ctx.fail(f"`{option.text}` {why.format(value=option.value or '(nothing)')}",
                       at=ctx.file(option.file or rel, option.line),
                       fix=f"remove it and install from PyPI with the hashes of the lock, or, for the team's own "
                           f"index, add {option.value or 'its URL'} to REP002's allowed_indexes parameter")


def _hash_note(lock: LockFile) -> str:
    hashed, total = lock.hash_coverage()
    if hashed == total:
        return "every one with --hash"
    if hashed == 0:
        return "no --hash, so pip cannot verify the files it downloads"
    return f"{hashed} of {total} with --hash"


def _find_manifest(ctx: CheckContext, path: Path, rel: str, lock: LockFile) -> Generator[Finding, None, Path | None]:
    """The manifest the lock was made from (yields findings; returns its path or None)."""
    spec_deps = ctx.spec.provenance.dependencies if ctx.spec.provenance else None
    if spec_deps and spec_deps.manifest:
        manifest = ctx.resolve(spec_deps.manifest)
        if not manifest.is_file():
            yield ctx.fail(f"manifest {ctx.workspace.rel(manifest)} does not exist", at=(*_AT_DEPS, "manifest"),
                           fix="name the pyproject.toml, Pipfile, requirements.in or environment.yml the lock "
                               "was made from")
            return None
        if manifest_kind(manifest.name) is None:
            yield ctx.fail(f"{ctx.workspace.rel(manifest)} is not a manifest mlgate reads (pyproject.toml, Pipfile, "
                           "requirements*.in, environment.yml, pixi.toml)", at=(*_AT_DEPS, "manifest"))
            return None
        return manifest
    # Named by the lock itself (conda-lock's sources, pip-compile's command line): next to it or at the root,
    # where the tool may have run. Otherwise the usual names, next to the lockfile only.
    named = list(lock.sources)
    if lock.kind.key == "requirements":
        named += compiled_from(ctx.workspace.read_text(path, max_bytes=LARGE_FILE_BYTES))
    usual = manifest_candidates(lock.kind, path.name)
    names = [*named, *usual]
    searches: list[tuple[str, tuple[Path, ...]]] = [(name, (path.parent, ctx.workspace.root))
                                                    for name in dict.fromkeys(named)]
    searches += [(name, (path.parent,)) for name in dict.fromkeys(usual)]
    for name, bases in searches:
        for base in bases:
            try:
                candidate = ctx.workspace.resolve(base, name)
            except EvidenceError:
                continue
            if candidate.is_file() and candidate != path and manifest_kind(candidate.name):
                if candidate.name == "pyproject.toml" and not _declares_dependencies(ctx, candidate):
                    continue
                return candidate
    if lock.kind.key != "requirements":
        looked = ", ".join(dict.fromkeys(names))
        yield ctx.warn(f"no manifest found next to {rel} (looked for {looked}): the lock cannot be compared with "
                       "the dependencies the project declares", at=_AT_LOCK,
                       fix="set provenance.dependencies.manifest to the file the lock was made from")
    return None


def _declares_dependencies(ctx: CheckContext, path: Path) -> bool:
    """A pyproject.toml next to a requirements file may be tool configuration only."""
    try:
        manifest = parse_manifest("pyproject", ctx.workspace.read_text(path, max_bytes=LARGE_FILE_BYTES))
    except (LockfileError, EvidenceError):
        return True  # let the parse report it
    return bool(manifest.deps)


def _parse_manifest(ctx: CheckContext, path: Path, rel: str) -> DependencyManifest:
    kind = manifest_kind(path.name)
    assert kind is not None

    def read(ref: str, from_file: str) -> tuple[str, str]:
        target = ctx.workspace.resolve(ctx.workspace.root / PurePosixPath(from_file).parent, ref)
        if not target.is_file():
            raise LockfileError("does not exist")
        return ctx.workspace.rel(target), ctx.workspace.read_text(target, max_bytes=LARGE_FILE_BYTES)

    try:
        return parse_manifest(kind, ctx.workspace.read_text(path, max_bytes=LARGE_FILE_BYTES), name=rel, read=read)
    except LockfileError as exc:
        raise EvidenceError(exc.message, path=rel, line=exc.line) from None


def _wanted_groups(ctx: CheckContext, manifest: DependencyManifest,
                   mrel: str) -> Generator[Finding, None, list[str | None]]:
    spec_deps = ctx.spec.provenance.dependencies if ctx.spec.provenance else None
    selected = spec_deps.groups if spec_deps else None
    if selected is None:
        return [None, *sorted(manifest.groups)]
    for i, group in enumerate(selected):
        if group not in manifest.groups:
            declared = ", ".join(sorted(manifest.groups)) or "none"
            yield ctx.fail(f"dependency group '{group}' is not declared in {mrel} (declared: {declared})",
                           at=(*_AT_DEPS, "groups", i), fix="name a group or extra the manifest declares")
    return [None, *selected]


def _compare(ctx: CheckContext, lock: LockFile, rel: str, manifest: DependencyManifest, mrel: str) -> Iterator[Finding]:
    groups = yield from _wanted_groups(ctx, manifest, mrel)
    relock = f"run `{lock.kind.relock}` and commit {PurePosixPath(rel).name}"
    if lock.locked_groups is not None:  # PDM records which groups it locked
        for group in [g for g in groups if g is not None and g not in lock.locked_groups]:
            yield ctx.fail(f"dependency group '{group}' of {mrel} is not locked: {rel} was made for "
                           f"{', '.join(sorted(lock.locked_groups))}", at=ctx.file(rel, 1),
                           fix=f"run `pdm lock -G {group}` (or `pdm lock -G :all`) and commit pdm.lock")
            groups.remove(group)
    gaps, found = compare(manifest, lock, groups)
    for gap in gaps:
        yield _gap_finding(ctx, gap, lock, rel, mrel, relock)
    if not gaps and found:
        sections = ", ".join(s for s in dict.fromkeys(d.section for d in found) if s != mrel)
        pinned = [f"{d.name} {_versions(lock, d)}" for d in found]
        note = f"; {_hash_note(lock)}" if lock.kind.key == "requirements" else ""
        yield ctx.ok(f"{rel} ({lock.kind.tool}) pins all {len(found)} direct dependencies of {mrel}"
                     f"{f' ({sections})' if sections else ''} at exact versions: {_names(pinned)}{note}",
                     at=_AT_LOCK)
    elif not manifest.deps:
        yield ctx.warn(f"{mrel} declares no dependencies, so {rel} cannot be checked against it", at=_AT_LOCK,
                       fix="set provenance.dependencies.manifest to the file that lists the dependencies")


def _gap_finding(ctx: CheckContext, gap: LockGap, lock: LockFile, rel: str, mrel: str, relock: str) -> Finding:
    dep = gap.dep
    where = ctx.file(mrel, dep.line)
    declared = f"`{dep.raw}` ({dep.section} in {mrel})"
    if gap.kind == "platform" and lock.kind.key not in _UNIVERSAL:
        return ctx.warn(f"{declared} is not in {rel}; its marker `{dep.marker}` may exclude the platform the lock "
                        "was made on, so check that the training platform gets a pinned version", at=where,
                        fix=f"lock on the training platform, or {relock}")
    if gap.kind in ("missing", "platform"):
        return ctx.fail(f"{declared} is not in {rel}: the lock was not regenerated after it was added, so "
                        "training installs whatever version is newest", at=where, fix=relock)
    versions = _versions(lock, dep)
    if gap.kind == "not-exact":
        return ctx.fail(f"{declared} is in {rel} without an exact version ({versions or 'no version'})", at=where,
                        fix=relock)
    return ctx.fail(f"{rel} pins {dep.name} {versions}, which does not meet {declared}: the lock is older than "
                    "the manifest", at=where, fix=relock)


def _versions(lock: LockFile, dep: Dependency) -> str:
    return " / ".join(dict.fromkeys(p.version for p in lock.packages.get(dep.name, ()) if p.version))


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:_LIST])
    return shown if len(items) <= _LIST else f"{shown} and {len(items) - _LIST} more"


# -- git ----------------------------------------------------------------------------------------------------------

def _git(ctx: CheckContext, lock: LockFile, rel: str, manifest: DependencyManifest | None,
         mrel: str | None) -> Iterator[Finding]:
    git = ctx.workspace.git
    lockname = PurePosixPath(rel).name
    if not git.is_tracked(rel):
        yield ctx.fail(f"{rel} is not tracked by git: a fresh clone (CI, the training job) does not have it",
                       at=_AT_LOCK, fix=f"git add {rel} && git commit")
        return
    if git.has_changes(rel):
        yield ctx.warn(f"{rel} has uncommitted changes: the committed lock is not the one on disk", at=_AT_LOCK,
                       fix=f"commit {rel} (with its manifest)")
    if manifest is None or mrel is None:
        return
    if not git.is_tracked(mrel):
        yield ctx.warn(f"the manifest {mrel} is not tracked by git, so the history cannot show that {rel} is "
                       "current", at=_AT_LOCK, fix=f"git add {mrel} && git commit")
        return
    if git.has_changes(mrel):
        yield ctx.warn(f"{mrel} has uncommitted changes; commit them together with a regenerated {lockname}",
                       at=ctx.file(mrel, 1), fix=f"run `{lock.kind.relock}` and commit both files")
    lock_commit, manifest_commit = git.last_changes([rel, mrel])
    if lock_commit is None or manifest_commit is None:
        return  # staged but never committed: the uncommitted-changes warning says so
    if manifest_commit.sha == lock_commit.sha:
        yield ctx.ok(f"git: {rel} and {mrel} last changed together, in {lock_commit.describe()}", at=_AT_LOCK)
        return
    if git.commit_is_ancestor(manifest_commit.sha, lock_commit.sha):
        yield ctx.ok(f"git: {rel} last changed in {lock_commit.describe()}, after {mrel} (last changed in "
                     f"{manifest_commit.describe()})", at=_AT_LOCK)
        return
    stale = _first_dependency_change(ctx, mrel, lock_commit)
    if stale is None:
        yield ctx.ok(f"git: {mrel} changed after {rel} (last in {manifest_commit.describe()}) but its dependencies "
                     f"are the same as when {rel} was last changed in {lock_commit.describe()}", at=_AT_LOCK)
        return
    commit, summary = stale
    yield ctx.fail(f"{rel} is older than the dependencies it locks: {mrel} changed its dependencies in "
                   f"{commit.describe()} \"{commit.subject}\" ({summary}), after {rel} was last changed in "
                   f"{lock_commit.describe()}", at=_AT_LOCK,
                   fix=f"run `{lock.kind.relock}` and commit {lockname}")


def _first_dependency_change(ctx: CheckContext, mrel: str, lock_commit: CommitInfo) -> tuple[CommitInfo, str] | None:
    """A commit after the lock's last change that changed the manifest's dependencies (the first one, unless they
    changed and changed back), and how; None when the committed manifest declares what it declared then.

    The manifest commits since the lock are bisected (at most ~log2(n) versions are parsed): the commit found
    differs from the lock's version while the one before it does not, so it is a real dependency change."""
    git = ctx.workspace.git
    kind = manifest_kind(mrel)
    assert kind is not None
    baseline = _manifest_at(git.file_at(lock_commit.sha, mrel), kind)
    head = _manifest_at(git.file_at("HEAD", mrel), kind)
    if baseline is not None and head is not None and baseline.signature() == head.signature():
        return None
    commits = git.changes_between(lock_commit.sha, mrel)
    if not commits:
        return None
    parsed: dict[int, DependencyManifest | None] = {-1: baseline, len(commits) - 1: head}

    def at(index: int) -> DependencyManifest | None:
        if index not in parsed:
            parsed[index] = _manifest_at(git.file_at(commits[index].sha, mrel), kind)
        return parsed[index]

    def differs(index: int) -> bool:
        version = at(index)
        return version is None or baseline is None or version.signature() != baseline.signature()

    low, high = -1, len(commits) - 1  # the lock's version matches; HEAD's (the last manifest commit) differs
    while high - low > 1:
        middle = (low + high) // 2
        if differs(middle):
            high = middle
        else:
            low = middle
    return commits[high], _diff(at(low), at(high))


def _manifest_at(text: str | None, kind: str) -> DependencyManifest | None:
    if text is None:
        return None
    try:
        return parse_manifest(kind, text)
    except LockfileError:
        return None


def _diff(before: DependencyManifest | None, after: DependencyManifest | None) -> str:
    if before is None:
        return "the manifest did not exist when the lock was made"
    if after is None:
        return "the manifest could not be read at that commit"
    old = {(d.group, d.name): d for d in before.deps}
    new = {(d.group, d.name): d for d in after.deps}
    parts = [f"added {new[k].raw}" for k in new if k not in old]
    parts += [f"removed {old[k].raw}" for k in old if k not in new]
    parts += [f"{old[k].raw} -> {new[k].raw}" for k in new if k in old and new[k].key() != old[k].key()]
    return "; ".join(parts[:5]) + (f" and {len(parts) - 5} more" if len(parts) > 5 else "") or "changed"

