"""REP005: the artifact is registered with provenance that agrees with the spec and the repo.

The provenance manifest (`provenance.artifact.manifest`, written at training time by `mlgate manifest` or
`mlgate.manifest.write`, schema in mlgate/manifest.py) links the artifact's sha256 to the data versions, the
commit, the seed, the lockfile and the framework versions. Every field is compared:

- with the spec: artifact uri and sha256, every dataset and its pins, commit (resolved, so a short sha or a tag
  in the spec matches the full sha in the manifest), code paths, repository, seed, lockfile path, model name;
- with the repository: a local artifact file is hashed; the lockfile's sha256 is recomputed from its blob at
  the manifest's commit, through git; the framework versions are looked up in that committed lockfile; a DVC
  dataset's hash is read from its .dvc file; training cannot have started before its commit was made.

A SageMaker model package ARN (`provenance.artifact.model_package_arn`) is checked for form offline; what the
package records is read only with AWS access.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from mlgate.checks import CheckContext, Where
from mlgate.errors import EvidenceError
from mlgate.evidence.lockfiles import LockFile, LockfileError, lock_kind, parse_lockfile
from mlgate.evidence.workspace import LARGE_FILE_BYTES
from mlgate.manifest import (
    PIN_FIELDS,
    ArtifactManifest,
    DatasetRecord,
    ManifestError,
    dvc_content_hash,
    parse,
    same_repository,
)
from mlgate.paths import sha256_file
from mlgate.result import Finding
from mlgate.rules.params import Duration, RuleParams
from mlgate.rules.reproducibility._deployed import deployed_artifact
from mlgate.rules.reproducibility.rep004_code import SHALLOW_FIX
from mlgate.spec.load import is_local
from mlgate.spec.models import Dataset
from mlgate.units import parse_duration
from mlgate.yamlload import Document, PathT

if TYPE_CHECKING:
    from mlgate.aws.live import Online

_AT_PROV: PathT = ("provenance",)
_AT_ART: PathT = ("provenance", "artifact")
_AT_CODE: PathT = ("provenance", "code")
_LFS_POINTER = b"version https://git-lfs.github.com/spec/"
REGENERATE = "regenerate the manifest in the training job (`mlgate manifest` or `mlgate.manifest.write(...)`)"
NO_MANIFEST_FIX = ("write a manifest at the end of training: `mlgate manifest <artifact file> --started <time>` "
                   "(or `mlgate.manifest.write(\"<artifact file>\")` in the training script), commit it and set "
                   "provenance.artifact.manifest; or register the model in SageMaker and set model_package_arn")


class Params(RuleParams):
    clock_skew: Duration = Field("1h", description="how far the training start in a manifest may precede its "
                                                   "commit's time (clocks of different machines)")
    aws_approval_status: Literal["Approved", "PendingManualApproval", "Rejected"] = Field(
        "Approved", description="with --aws: the ModelApprovalStatus the model package must have")


def check(ctx: CheckContext) -> Iterator[Finding]:
    """REP005: a manifest (or a SageMaker model package) links the artifact to what produced it, and agrees; and
    the artifact the infrastructure code deploys is that one."""
    yield from _recorded(ctx)
    yield from deployed_artifact(ctx)


def _recorded(ctx: CheckContext) -> Iterator[Finding]:
    prov = ctx.spec.provenance
    art = prov.artifact if prov else None
    if art is None or (not art.manifest and not art.model_package_arn):
        uri = f" {art.uri}" if art and art.uri else ""
        yield ctx.fail(f"the artifact{uri} has no provenance manifest (provenance.artifact.manifest) and no SageMaker "
                       "model package (model_package_arn): nothing links its sha256 to the data, commit, seed and "
                       "lockfile that produced it", at=_AT_ART if art else _AT_PROV, fix=NO_MANIFEST_FIX)
        return
    if art.model_package_arn:
        yield _arn_finding(ctx, art.model_package_arn)
    if not art.manifest:
        return
    found = yield from _read(ctx, art.manifest)
    if found is None:
        return
    manifest, doc, rel = found
    yield from _Compare(ctx, manifest, doc, rel).findings()


def _read(ctx: CheckContext, written: str) -> Generator[Finding, None, tuple[ArtifactManifest, Document, str] | None]:
    at: PathT = (*_AT_ART, "manifest")
    path = ctx.resolve(written)
    rel = ctx.workspace.rel(path)
    if not path.is_file():
        yield ctx.fail(f"manifest {rel} {'is not a regular file' if path.exists() else 'does not exist'}", at=at,
                       fix=NO_MANIFEST_FIX)
        return None
    git = ctx.workspace.git
    if not git.is_tracked(rel):
        yield ctx.fail(f"manifest {rel} is not tracked by git: a fresh clone (CI, the deploy job) does not have it",
                       at=at, fix=f"git add {rel} && git commit")
        return None
    if git.has_changes(rel):
        yield ctx.warn(f"manifest {rel} has uncommitted changes: the committed manifest is not the one checked here",
                       at=ctx.file(rel), fix=f"commit {rel}, or restore it with `git restore {rel}`")
    try:
        manifest, doc = parse(ctx.workspace.read_text(path))
    except ManifestError as exc:
        for problem in exc.problems:
            sep = " " if problem.message.startswith(("is ", "has ")) else ": "
            yield ctx.fail(f"manifest {rel}{sep}{problem.message}", at=ctx.file(rel, problem.line), fix=REGENERATE)
        return None
    return manifest, doc, rel


class _Compare:
    """Every field of one manifest against the spec and the repository."""

    def __init__(self, ctx: CheckContext, manifest: ArtifactManifest, doc: Document, rel: str) -> None:
        self.ctx = ctx
        self.m = manifest
        self.doc = doc
        self.rel = rel
        self.git = ctx.workspace.git
        prov = ctx.spec.provenance
        assert prov is not None and prov.artifact is not None
        self.prov = prov
        self.art = prov.artifact

    def line(self, *path: str | int) -> Where:
        return self.ctx.file(self.rel, self.doc.pos(path).line)

    def cite(self, *path: str | int) -> str:
        return f"{self.rel}:{self.doc.pos(path).line}"

    def findings(self) -> Iterator[Finding]:
        yield from self.spec_and_model()
        yield from self.artifact()
        yield from self.data()
        commit = yield from self.code()
        yield from self.seed()
        lock = yield from self.lockfile(commit)
        yield from self.frameworks(lock)
        yield from self.training(commit)

    # -- which deployment ---------------------------------------------------------------------------------------

    def spec_and_model(self) -> Iterator[Finding]:
        ctx, m = self.ctx, self.m
        if m.spec is not None and m.spec != ctx.loaded.rel:
            yield ctx.fail(f"the manifest was written from {m.spec}, not from this spec ({ctx.loaded.rel}): it "
                           "describes another deployment's artifact", at=self.line("spec"),
                           fix=f"point provenance.artifact.manifest at this model's manifest, or {REGENERATE}")
        model = ctx.spec.model
        for key in ("name", "version"):
            ours = getattr(model, key) if model else None
            theirs = getattr(m.model, key)
            if ours is not None and theirs is not None and str(ours) != str(theirs):
                yield ctx.fail(f"the spec deploys model {key} '{ours}', but the manifest {self.cite('model', key)} "
                               f"is of '{theirs}'", at=("model", key),
                               fix="point provenance.artifact.manifest at this model's manifest")

    # -- the artifact -------------------------------------------------------------------------------------------

    def artifact(self) -> Iterator[Finding]:
        ctx, m, art = self.ctx, self.m.artifact, self.art
        ok = True
        if not art.uri:
            ok = False
            yield ctx.fail(f"provenance.artifact.uri is not set, so the deployment names no artifact; the manifest "
                           f"records {m.uri}", at=_AT_ART, fix=f"add `uri: {m.uri}` under provenance.artifact")
        elif art.uri != m.uri:
            ok = False
            yield ctx.fail(f"the spec deploys {art.uri}, but the manifest {self.cite('artifact', 'uri')} is of "
                           f"{m.uri}", at=(*_AT_ART, "uri"),
                           fix="point provenance.artifact.manifest at the manifest of the artifact you deploy")
        if not art.sha256:
            ok = False
            yield ctx.fail(f"provenance.artifact.sha256 is not set: nothing ties the deployed file to the manifest's "
                           f"artifact (sha256 {m.sha256})", at=_AT_ART,
                           fix=f"add `sha256: {m.sha256}` under provenance.artifact")
        elif art.sha256.lower() != m.sha256:
            ok = False
            yield ctx.fail(f"the spec's artifact sha256 is {art.sha256}, but the manifest "
                           f"{self.cite('artifact', 'sha256')} records {m.sha256}: the manifest is of another "
                           "artifact (or another training run)", at=(*_AT_ART, "sha256"),
                           fix="deploy the artifact the manifest describes, or regenerate the manifest for this one")
        local = ""
        if art.uri and is_local(art.uri):
            finding, local = self.local_file(art.uri)
            if finding is not None:
                ok = ok and finding.status != "fail"
                yield finding
        if art.model_package_arn and m.model_package_arn and art.model_package_arn != m.model_package_arn:
            ok = False
            yield ctx.fail(f"the spec's model package is {art.model_package_arn}, but the manifest "
                           f"{self.cite('artifact', 'model_package_arn')} registered {m.model_package_arn}",
                           at=(*_AT_ART, "model_package_arn"),
                           fix="use the model package the training job registered")
        if ok:
            yield ctx.ok(f"artifact {m.uri} sha256 {m.sha256} matches the manifest {self.rel}{local}",
                         at=(*_AT_ART, "manifest"))

    def local_file(self, uri: str) -> tuple[Finding | None, str]:
        ctx = self.ctx
        path = ctx.resolve(uri)
        rel = ctx.workspace.rel(path)
        if not path.is_file():
            return ctx.warn(f"artifact {rel} is not in the work tree, so its sha256 cannot be checked",
                            at=(*_AT_ART, "uri"), fix="fetch it (`dvc pull`, `git lfs pull`) before checking"), ""
        try:
            with ctx.workspace.open_binary(path) as fh:
                head = fh.read(len(_LFS_POINTER))
            digest, size = sha256_file(path, root=ctx.workspace.root)
        except OSError as exc:
            raise EvidenceError(f"cannot be read: {exc.strerror or exc}", path=rel) from None
        if head == _LFS_POINTER:
            return ctx.warn(f"artifact {rel} is a git-lfs pointer, not the model file, so its sha256 cannot be "
                            "checked", at=(*_AT_ART, "uri"), fix="run `git lfs pull` before checking"), ""
        if digest != self.m.artifact.sha256:
            return ctx.fail(f"artifact {rel} hashes to {digest} ({size} bytes), but the manifest "
                            f"{self.cite('artifact', 'sha256')} records {self.m.artifact.sha256}: the file is not "
                            "the artifact that was trained", at=(*_AT_ART, "uri"),
                            fix="restore the trained artifact, or retrain and regenerate the manifest"), ""
        return None, f"; the local file hashes to it ({size} bytes)"

    # -- data ---------------------------------------------------------------------------------------------------

    def data(self) -> Iterator[Finding]:
        ctx = self.ctx
        records = list(enumerate(self.m.data))
        used: set[int] = set()
        problems = 0
        for i, ds in enumerate(self.prov.data):
            label = ds.name or ds.uri or f"#{i + 1}"
            match = next(((j, r) for j, r in records if j not in used and _same_dataset(ds, r)), None)
            if match is None:
                problems += 1
                yield ctx.fail(f"dataset '{label}' is not in the manifest {self.rel}: the artifact was trained "
                               "without it, or the manifest is of another training run", at=("provenance", "data", i),
                               fix=f"remove the dataset if training did not read it, or {REGENERATE}")
                continue
            j, record = match
            used.add(j)
            for key in ("uri", *PIN_FIELDS):
                ours, theirs = getattr(ds, key), getattr(record, key)
                if (ours or None) != (theirs or None):
                    problems += 1
                    yield ctx.fail(f"dataset '{label}': the spec {_pin(key, ours)}, but the manifest "
                                   f"{self.cite('data', j, key)} records that training read "
                                   f"{theirs if theirs is not None else f'no {key}'}",
                                   at=("provenance", "data", i, key),
                                   fix=f"if the artifact was trained on {key} {theirs}, write that in the spec; "
                                       "otherwise it was trained on other data: retrain and regenerate the manifest")
            problems += yield from self.dvc_hash(i, ds, j, record, label)
        for j, record in records:
            if j not in used:
                problems += 1
                yield ctx.fail(f"the manifest {self.cite('data', j)} lists dataset "
                               f"'{record.name or record.uri}' that the spec does not: the artifact was trained on "
                               "data the spec does not pin", at=self.line("data", j),
                               fix="add it to provenance.data with its pin")
        if not problems and self.prov.data:
            pins = "; ".join(f"{d.name or d.uri} ({_pins_text(d)})" for d in self.prov.data)
            yield ctx.ok(f"all {len(self.prov.data)} datasets agree with the manifest: {pins}",
                         at=("provenance", "data"))

    def dvc_hash(self, i: int, ds: Dataset, j: int, record: DatasetRecord,
                 label: str) -> Generator[Finding, None, int]:
        if not ds.dvc or not record.content_hash:
            return 0
        ctx = self.ctx
        path = ctx.resolve(ds.dvc)
        if not path.is_file():
            return 0  # REP001 reports a missing .dvc file
        target = ctx.resolve(ds.uri) if ds.uri and is_local(ds.uri) else None
        now = dvc_content_hash(ctx.workspace.read_text(path), path.parent, target)
        if now is not None and now != record.content_hash:
            yield ctx.fail(f"dataset '{label}': {ctx.workspace.rel(path)} now pins {now}, but training read "
                           f"{record.content_hash} ({self.cite('data', j, 'content_hash')}): the data changed since "
                           "the artifact was trained", at=("provenance", "data", i, "dvc"),
                           fix="restore the .dvc file of the training data (git log it), or retrain and regenerate "
                               "the manifest")
            return 1
        return 0

    # -- code ---------------------------------------------------------------------------------------------------

    def code(self) -> Generator[Finding, None, str | None]:
        """Returns the manifest's commit when it exists in this repository."""
        ctx, git, rec = self.ctx, self.git, self.m.code
        code = self.prov.code
        problems = 0
        exists = git.resolve_commit(rec.commit) == rec.commit
        if not exists and git.is_shallow:
            yield ctx.error(f"the manifest's commit {rec.commit[:12]} is not in this clone, which is shallow "
                            "(actions/checkout fetches one commit by default), so the commit, the lockfile at it "
                            f"and the training times cannot be checked; to fix: {SHALLOW_FIX}",
                            at=(*_AT_CODE, "commit"))
            return None
        if not code or not code.commit:
            problems += 1
            yield ctx.fail(f"the spec records no commit; the manifest {self.cite('code', 'commit')} says the artifact "
                           f"was trained from {rec.commit}", at=_AT_CODE if code else _AT_PROV,
                           fix=f"set provenance.code.commit: {rec.commit}")
        else:
            ours = git.resolve_commit(code.commit)
            if ours is None:
                problems += 1
                yield ctx.fail(f"provenance.code.commit '{code.commit}' does not resolve in this repository (REP004 "
                               f"says why); the manifest records {rec.commit}", at=(*_AT_CODE, "commit"),
                               fix=f"set provenance.code.commit: {rec.commit}")
            elif ours != rec.commit:
                problems += 1
                yield ctx.fail(f"the spec says the artifact was trained from {code.commit} ({ours[:12]}), but the "
                               f"manifest {self.cite('code', 'commit')} records {rec.commit[:12]}",
                               at=(*_AT_CODE, "commit"),
                               fix=f"set provenance.code.commit: {rec.commit} if this artifact is the one to deploy")
        if not exists:
            problems += 1
            yield ctx.fail(f"the manifest's commit {rec.commit[:12]} does not exist in this repository",
                           at=self.line("code", "commit"), fix="train from a commit that is pushed to this "
                                                                "repository, and regenerate the manifest")
        if rec.uncommitted:
            problems += 1
            shown = ", ".join(rec.uncommitted[:8]) + (f" and {len(rec.uncommitted) - 8} more"
                                                      if len(rec.uncommitted) > 8 else "")
            yield ctx.fail(f"the artifact was trained from uncommitted changes to {shown} (the manifest "
                           f"{self.cite('code', 'uncommitted')}): no commit holds the code that produced it",
                           at=self.line("code", "uncommitted"),
                           fix="commit the training code, retrain from that commit and regenerate the manifest")
        if code and code.paths:
            ours_paths = sorted(_repo_rel(ctx, p) for p in code.paths)
            if sorted(rec.paths) != ours_paths:
                problems += 1
                yield ctx.fail(f"the spec's code.paths are {', '.join(ours_paths) or '(the repository)'}, but the "
                               f"manifest {self.cite('code', 'paths')} checked "
                               f"{', '.join(rec.paths) or 'none'} for uncommitted changes",
                               at=(*_AT_CODE, "paths"), fix=f"{REGENERATE} with the spec's paths")
        problems += yield from self.repository()
        if not problems:
            origin = f" of {rec.repository}" if rec.repository else ""
            yield ctx.ok(f"commit {rec.commit[:12]}{origin} matches the manifest, and training ran from a clean "
                         f"checkout of {', '.join(rec.paths) or 'the repository'}", at=(*_AT_CODE, "commit"))
        return rec.commit if exists else None

    def repository(self) -> Generator[Finding, None, int]:
        ctx, rec = self.ctx, self.m.code
        code = self.prov.code
        ours = code.repository if code else None
        if ours:
            if not rec.repository or not same_repository(ours, rec.repository):
                yield ctx.fail(f"the spec's repository is {ours}, but the manifest "
                               f"{self.cite('code', 'repository')} records "
                               f"{rec.repository or 'none'}", at=(*_AT_CODE, "repository"),
                               fix="use the manifest of an artifact trained from this repository")
                return 1
            return 0
        remotes = self.git.remote_urls
        if rec.repository and remotes and not any(same_repository(rec.repository, u) for u in remotes.values()):
            yield ctx.warn(f"the manifest {self.cite('code', 'repository')} records repository {rec.repository}, "
                           f"which is none of this clone's remotes ({', '.join(sorted(remotes.values()))}): a fork "
                           "or a mirror?", at=self.line("code", "repository"),
                           fix="set provenance.code.repository to the repository training ran from")
        return 0

    # -- seed, dependencies, frameworks -------------------------------------------------------------------------

    def seed(self) -> Iterator[Finding]:
        ours = self.prov.seed.value if self.prov.seed else None
        theirs = self.m.seed
        if ours is None and theirs is None:
            return  # REP003 asks for a seed
        at: PathT = ("provenance", "seed", "value") if self.prov.seed else _AT_PROV
        if ours != theirs:
            yield self.ctx.fail(f"the spec records seed {ours if ours is not None else '(none)'}, but the manifest "
                                f"{self.cite('seed')} says training used "
                                f"{theirs if theirs is not None else 'no seed'}", at=at,
                                fix=f"set seed.value: {theirs}" if theirs is not None else REGENERATE)
            return
        yield self.ctx.ok(f"seed {ours} matches the manifest", at=at)

    def lockfile(self, commit: str | None) -> Generator[Finding, None, LockFile | None]:
        ctx, rec = self.ctx, self.m.dependencies
        deps = self.prov.dependencies
        at: PathT = ("provenance", "dependencies", "lockfile")
        ours = _repo_rel(ctx, deps.lockfile) if deps and deps.lockfile else None
        if ours is None and rec is None:
            return None  # REP002 asks for a lockfile
        if rec is None:
            yield ctx.fail(f"the manifest records no lockfile, but the spec names {ours}", at=at, fix=REGENERATE)
            return None
        if ours is None:
            yield ctx.fail(f"the spec names no lockfile, but the manifest {self.cite('dependencies', 'lockfile')} "
                           f"records {rec.lockfile}", at=_AT_PROV,
                           fix=f"set provenance.dependencies.lockfile to {rec.lockfile} (relative to the spec)")
            return None
        if ours != rec.lockfile:
            yield ctx.fail(f"the spec's lockfile is {ours}, but the manifest "
                           f"{self.cite('dependencies', 'lockfile')} records {rec.lockfile}", at=at, fix=REGENERATE)
            return None
        if commit is None:
            return None  # the commit is missing: reported above
        short = commit[:7]
        actual = self.git.blob_sha256(commit, rec.lockfile)
        if actual is None:
            yield ctx.fail(f"lockfile {rec.lockfile} is not committed at {short}, the commit the artifact was trained "
                           "from: the environment that trained it is not pinned", at=at,
                           fix="commit the lockfile with the training code, retrain and regenerate the manifest")
            return None
        if rec.sha256 is None or rec.sha256 != actual:
            recorded = rec.sha256 or "none"
            yield ctx.fail(f"the manifest {self.cite('dependencies', 'sha256')} records sha256 {recorded} for "
                           f"{rec.lockfile}, but {rec.lockfile} as committed at {short} has sha256 {actual}: the "
                           "training environment was not the one locked at its commit",
                           at=self.line("dependencies", "sha256"),
                           fix=f"{REGENERATE}; it reads the lockfile from git at the commit")
            return self.lock_at(commit, rec.lockfile)
        yield ctx.ok(f"lockfile {rec.lockfile} as committed at {short} has sha256 {actual}, as the manifest records",
                     at=at)
        return self.lock_at(commit, rec.lockfile)

    def lock_at(self, commit: str, rel: str) -> LockFile | None:
        kind = lock_kind(rel)
        text = self.git.file_at(commit, rel, max_bytes=LARGE_FILE_BYTES)
        if kind is None or text is None:
            return None

        def read(ref: str, from_file: str) -> tuple[str, str]:
            target = posixpath.normpath(str(PurePosixPath(from_file).parent / ref))
            if target.startswith("../") or target == "..":
                raise LockfileError("is outside the repository")
            included = self.git.file_at(commit, target, max_bytes=LARGE_FILE_BYTES)
            if included is None:
                raise LockfileError(f"does not exist at {commit[:7]}")
            return target, included

        try:
            return parse_lockfile(kind, text, name=rel, read=read)
        except LockfileError:
            return None  # REP002 reports an unreadable lockfile

    def frameworks(self, lock: LockFile | None) -> Iterator[Finding]:
        ctx, found = self.ctx, self.m.frameworks
        if not found:
            yield ctx.warn(f"the manifest {self.cite('frameworks')} records no framework versions: nobody can tell "
                           "which torch / scikit-learn / ... built the artifact", at=self.line("frameworks"),
                           fix="write the manifest in the training environment (it reads the installed versions), "
                               "or pass them: `--framework torch==2.3.1`")
            return
        if lock is None:
            listed = ", ".join(f"{k} {v}" for k, v in found.items())
            yield ctx.ok(f"the manifest records {listed} (no lockfile at the commit to compare them with)",
                         at=self.line("frameworks"))
            return
        from packaging.utils import canonicalize_name

        agree, unlocked, problems = [], [], 0
        for name, version in found.items():
            locked = [p.version for p in lock.packages.get(canonicalize_name(name), []) if p.version]
            if not locked:
                unlocked.append(f"{name} {version}")
            elif any(_same_version(version, v) for v in locked):
                agree.append(f"{name} {version}")
            else:
                problems += 1
                yield ctx.fail(f"the manifest {self.cite('frameworks', name)} says {name} {version} trained the "
                               f"artifact, but {self.m.dependencies.lockfile if self.m.dependencies else 'the lock'} "
                               f"at {self.m.code.commit[:7]} pins {' / '.join(locked)}: training did not run in the "
                               "locked environment", at=self.line("frameworks", name),
                               fix="install the training environment from the lockfile, retrain and regenerate the "
                                   "manifest")
        if not problems:
            extra = f"; not in the lock (from the training image?): {', '.join(unlocked)}" if unlocked else ""
            head = f"framework versions match the lock: {', '.join(agree)}" if agree else \
                "no recorded framework is in the lock"
            yield ctx.ok(f"{head}{extra}", at=self.line("frameworks"))

    # -- when ---------------------------------------------------------------------------------------------------

    def training(self, commit: str | None) -> Iterator[Finding]:
        ctx, run = self.ctx, self.m.training
        started, ended = run.started.astimezone(dt.UTC), run.ended.astimezone(dt.UTC)
        if ended < started:
            yield ctx.fail(f"the manifest {self.cite('training', 'ended')} says training ended ({_time(ended)}) "
                           f"before it started ({_time(started)})", at=self.line("training", "ended"),
                           fix=REGENERATE)
            return
        info = self.git.commit_info(commit) if commit else None
        params: Params = ctx.params
        skew = parse_duration(params.clock_skew) or 0.0
        if info is not None and started.timestamp() + skew < info.timestamp:
            made = dt.datetime.fromtimestamp(info.timestamp, dt.UTC)
            yield ctx.fail(f"the manifest {self.cite('training', 'started')} says training started at "
                           f"{_time(started)}, before commit {info.short} was made ({_time(made)}): it cannot have "
                           "run from that commit", at=self.line("training", "started"),
                           fix="record the commit training really ran from, and regenerate the manifest")
            return
        minutes = round((ended - started).total_seconds() / 60)
        after = f", after commit {info.short} was made" if info else ""
        yield ctx.ok(f"trained {_time(started)} to {_time(ended)} ({minutes} min){after}",
                     at=self.line("training", "started"))


# -- helpers ------------------------------------------------------------------------------------------------------

def _same_dataset(ds: Dataset, record: DatasetRecord) -> bool:
    if ds.name and record.name:
        return bool(ds.name == record.name)
    return bool(ds.uri and ds.uri == record.uri)


def _pin(key: str, value: str | None) -> str:
    if value is None:
        return f"has no {key}"
    return f"has {key} {value}" if key == "uri" else f"pins {key} {value}"


def _pins_text(ds: Dataset) -> str:
    return ", ".join(f"{k}: {getattr(ds, k)}" for k in PIN_FIELDS if getattr(ds, k)) or "no pin"


def _repo_rel(ctx: CheckContext, written: str) -> str:
    rel = ctx.workspace.rel(ctx.resolve(written))
    return "" if rel == "." else rel


def _same_version(a: str, b: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a.strip() == b.strip()


def _time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# -- SageMaker model package ARN ----------------------------------------------------------------------------------

_ARN = re.compile(r"arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>[^:]*):"
                  r"(?P<resource>.*)")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
_VERSION = re.compile(r"[1-9]\d{0,8}")
ARN_FORM = "arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>"


def arn_problem(arn: str) -> str | None:
    """What is wrong with the form of a SageMaker model package ARN, or None when it is well-formed."""
    match = _ARN.fullmatch(arn.strip())
    if match is None:
        return f"is not an ARN (expected {ARN_FORM})"
    partition, service, region, account, resource = match.group("partition", "service", "region", "account",
                                                                 "resource")
    if partition not in ("aws", "aws-cn", "aws-us-gov") and not partition.startswith("aws-iso"):
        return f"has partition '{partition}', not an AWS partition (aws, aws-cn, aws-us-gov)"
    if service != "sagemaker":
        return f"is an ARN of {service or 'no service'}, not of SageMaker"
    if not _REGION.fullmatch(region):
        return f"has region '{region}', which is not an AWS region such as us-east-1"
    if not re.fullmatch(r"\d{12}", account):
        return f"has account '{account}', not a 12-digit AWS account id"
    kind, _, rest = resource.partition("/")
    if kind == "model-package-group":
        return ("names a model package group, which holds every version of the model, not the one deployed: add "
                "the version (model-package/<group>/<version>)")
    if kind != "model-package":
        return f"names a SageMaker {kind or 'resource'}, not a model package ({ARN_FORM})"
    parts = rest.split("/")
    if not parts[0] or not _NAME.fullmatch(parts[0]):
        return (f"has package name '{parts[0]}', which is not a SageMaker name (1 to 63 letters, digits and "
                "hyphens, starting and ending with a letter or digit)")
    if len(parts) > 2:
        return f"has '{rest}' after model-package/, where <group>/<version> belongs"
    if len(parts) == 2 and not _VERSION.fullmatch(parts[1]):
        return f"has version '{parts[1]}', not a model package version (1, 2, ...)"
    if len(arn) > 2048:
        return "is longer than the 2048 characters an ARN may have"
    return None


def _arn_finding(ctx: CheckContext, arn: str) -> Finding:
    at: PathT = (*_AT_ART, "model_package_arn")
    problem = arn_problem(arn)
    if problem:
        return ctx.fail(f"model_package_arn '{arn}' {problem}", at=at,
                        fix=f"copy the ModelPackageArn the registration returned ({ARN_FORM})")
    parts = arn.split(":", 5)
    resource = parts[5].split("/")[1:]
    which = f"group {resource[0]}, version {resource[1]}" if len(resource) == 2 else f"package {resource[0]}"
    return ctx.ok(f"model package ARN is well-formed ({which}, account {parts[4]}, {parts[3]}); what the package "
                  "records is read only with AWS access", at=at)


# With --aws: the artifact object exists in S3 (and its sha256 agrees, where S3 stores one), and the SageMaker model
# package the spec names exists, has the approval status the team demands (`aws_approval_status`), and records
# the same provenance as the spec and the manifest: its MetadataProperties (CommitId, Repository), the model data
# its containers serve, and the CustomerMetadataProperties mlgate knows (see `_KEYS` and docs/aws.md).
_ART: PathT = ("provenance", "artifact")
_ARN_REGION = re.compile(r"arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):")


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9:]+", "_", key.strip().lower()).strip("_")


def _commit_matches(ctx: CheckContext, a: str, b: str) -> bool:
    """Whether two commit names are the same commit: equal, one a prefix (7+ hex) of the other, or both
    resolving to the same commit in this repository."""
    x, y = a.strip().lower(), b.strip().lower()
    if x == y:
        return True
    short, long_ = sorted((x, y), key=len)
    if len(short) >= 7 and re.fullmatch(r"[0-9a-f]+", short) and long_.startswith(short):
        return True
    try:
        git = ctx.workspace.git
        rx, ry = git.resolve_commit(a.strip()), git.resolve_commit(b.strip())
    except Exception:  # not a git repository, or git cannot run: equality above is all there is
        return False
    return rx is not None and rx == ry


def _manifest(ctx: CheckContext) -> ArtifactManifest | None:
    """The spec's provenance manifest, when it reads (REP005's offline check reports one that does not)."""
    art = ctx.spec.provenance.artifact if ctx.spec.provenance else None
    if art is None or not art.manifest:
        return None
    try:
        path = ctx.resolve(art.manifest)
        if not path.is_file():
            return None
        return parse(ctx.workspace.read_text(path))[0]
    except (EvidenceError, ManifestError):
        return None


def online(ctx: CheckContext, live: Online) -> Iterator[Finding]:
    """REP005 online: the artifact object and the model package, as the account holds them."""
    from mlgate.aws.session import AwsProblem

    art = ctx.spec.provenance.artifact if ctx.spec.provenance else None
    if art is None or not (art.uri or art.model_package_arn):
        yield ctx.na("provenance.artifact names no S3 artifact and no model package to look up in the account",
                     at=_ART if art else ("provenance",))
        return
    manifest = _manifest(ctx)
    if art.uri:
        try:
            yield from _artifact_object(ctx, live, art.uri, art.sha256 or (manifest.artifact.sha256 if manifest
                                                                              else None))
        except AwsProblem as problem:
            yield ctx.error(f"the artifact: {problem}", at=(*_ART, "uri"))
    if art.model_package_arn:
        try:
            yield from _package(ctx, live, art.model_package_arn, manifest)
        except AwsProblem as problem:
            yield ctx.error(f"model package: {problem}", at=(*_ART, "model_package_arn"))


def _artifact_object(ctx: CheckContext, online: Online, uri: str, sha256: str | None) -> Iterator[Finding]:
    from mlgate.aws.data import describe_head, head, parse_s3, stored_sha256
    from mlgate.aws.session import AwsProblem

    at: PathT = (*_ART, "uri")
    obj = parse_s3(uri)
    if obj is None:
        if uri.startswith("s3://"):
            yield ctx.na(f"the artifact uri {uri} is not one S3 object, so it was not looked up", at=at)
        return
    try:
        answer = head(online, obj)
    except AwsProblem as problem:
        if problem.kind != "not-found":
            raise
        yield ctx.fail(f"the artifact {obj.describe()} does not exist in the account: the model the spec "
                       "describes cannot be deployed from it", at=at,
                       fix="upload the trained artifact there, or set provenance.artifact.uri to where it is")
        return
    facts = describe_head(answer)
    evidence = f"the artifact {obj.describe()} exists ({facts})" if facts else f"the artifact {obj.describe()} exists"
    stored = stored_sha256(answer)
    wanted = sha256.strip().lower() if sha256 else None
    if stored is None or wanted is None:
        why = "S3 stores no full-object sha256 for it" if stored is None else "the spec states no sha256"
        yield ctx.ok(f"{evidence}; {why}, so its content was not compared", at=at)
    elif stored != wanted:
        yield ctx.fail(f"S3's sha256 of the artifact {obj.describe()} is {stored}, but the spec says {wanted}: the "
                       "object is not the artifact whose provenance the spec records", at=(*_ART, "sha256"),
                       fix="upload the artifact the manifest describes, or regenerate the manifest for the object "
                           "that is there")
    else:
        yield ctx.ok(f"{evidence}; S3's sha256 of it is the spec's {wanted[:12]}…", at=at)


# CustomerMetadataProperties keys mlgate compares (normalised: lowercase, `-` and spaces as `_`), and how to read
# the value the spec (or else the manifest) holds for each.
Reader = Callable[["CheckContext", "ArtifactManifest | None"], tuple[str | None, PathT]]


def _art_sha(ctx: CheckContext, m: ArtifactManifest | None) -> tuple[str | None, PathT]:
    art = ctx.spec.provenance.artifact if ctx.spec.provenance else None
    return (art.sha256 if art and art.sha256 else (m.artifact.sha256 if m else None)), (*_ART, "sha256")


def _commit(ctx: CheckContext, m: ArtifactManifest | None) -> tuple[str | None, PathT]:
    code = ctx.spec.provenance.code if ctx.spec.provenance else None
    return (code.commit if code and code.commit else (m.code.commit if m else None)), ("provenance", "code", "commit")


def _seed(ctx: CheckContext, m: ArtifactManifest | None) -> tuple[str | None, PathT]:
    seed = ctx.spec.provenance.seed if ctx.spec.provenance else None
    value = seed.value if seed and seed.value is not None else (m.seed if m else None)
    return (str(value) if value is not None else None), ("provenance", "seed", "value")


def _lock_sha(ctx: CheckContext, m: ArtifactManifest | None) -> tuple[str | None, PathT]:
    return (m.dependencies.sha256 if m and m.dependencies else None), (*_ART, "manifest")


def _model_version(ctx: CheckContext, m: ArtifactManifest | None) -> tuple[str | None, PathT]:
    model = ctx.spec.model
    return (model.version if model else None), ("model", "version")


def _model_name(ctx: CheckContext, m: ArtifactManifest | None) -> tuple[str | None, PathT]:
    model = ctx.spec.model
    return (model.name if model else None), ("model", "name")


_KEYS: dict[str, Reader] = {
    **dict.fromkeys(("sha256", "artifact_sha256", "model_sha256"), _art_sha),
    **dict.fromkeys(("commit", "commit_id", "git_commit"), _commit),
    "seed": _seed,
    "lockfile_sha256": _lock_sha,
    "model_version": _model_version,
    "model_name": _model_name,
}


def _dataset_pin(ctx: CheckContext, name: str) -> tuple[str | None, PathT] | None:
    """The pin of the spec's dataset `name` (version, as_of, snapshot_id or sha256), for a `data:<name>` key."""
    prov = ctx.spec.provenance
    for i, ds in enumerate(prov.data if prov else []):
        if ds.name and _norm(str(ds.name)) == _norm(name):
            for key in ("version", "as_of", "snapshot_id", "sha256"):
                value = getattr(ds, key)
                if value:
                    return str(value), ("provenance", "data", i, key)
            return None, ("provenance", "data", i)
    return None


def _package(ctx: CheckContext, online: Online, arn: str, manifest: ArtifactManifest | None) -> Iterator[Finding]:
    from mlgate.aws.session import AwsProblem

    at: PathT = (*_ART, "model_package_arn")
    match = _ARN_REGION.match(arn)
    region = match.group(1) if match else online.region(ctx)
    try:
        package = online.session.call("sagemaker", "DescribeModelPackage", region=region,
                                      target=f"model package {arn}", ModelPackageName=arn)
    except AwsProblem as problem:
        if problem.kind != "not-found":
            raise
        yield ctx.fail(f"model package {arn} does not exist in the account: nothing registered the artifact "
                       "under that ARN", at=at, fix="register the model (CreateModelPackage) and copy the "
                                                    "ModelPackageArn it returns into model_package_arn")
        return
    problems = 0
    params: Params = ctx.params
    wanted = params.aws_approval_status
    approval = package.get("ModelApprovalStatus") or "not set"
    if approval != wanted:
        problems += 1
        yield ctx.fail(f"model package {arn} is {approval}, not {wanted}: the registry has not approved this model "
                       "for deployment", at=at,
                       fix=f"have the model reviewed and set its ModelApprovalStatus to {wanted} in the Model "
                           "Registry, or deploy a package that is")
    status = package.get("ModelPackageStatus")
    if status and status != "Completed":
        problems += 1
        yield ctx.fail(f"model package {arn} has status {status}, not Completed", at=at,
                       fix="wait for the registration to complete, or register the model again")
    agreed: list[str] = []
    metadata = package.get("MetadataProperties") or {}
    commit, commit_at = _commit(ctx, manifest)
    recorded = metadata.get("CommitId")
    if recorded and commit:
        if _commit_matches(ctx, str(recorded), commit):
            agreed.append(f"CommitId {recorded}")
        else:
            problems += 1
            yield ctx.fail(f"model package {arn} records CommitId {recorded}, but the spec's commit is {commit}: the "
                           "registered model was trained from other code", at=commit_at,
                           fix="deploy the package registered for this commit, or fix provenance.code.commit")
    elif commit and not recorded:
        yield ctx.warn(f"model package {arn} records no MetadataProperties.CommitId, so the account does not say "
                       f"which code ({commit}) produced it", at=at,
                       fix="register the model with MetadataProperties.CommitId set to the training commit")
    repository = ctx.spec.provenance.code.repository if ctx.spec.provenance and ctx.spec.provenance.code else None
    if metadata.get("Repository") and repository:
        from mlgate.manifest import same_repository

        if same_repository(str(metadata["Repository"]), repository):
            agreed.append(f"Repository {metadata['Repository']}")
        else:
            problems += 1
            yield ctx.fail(f"model package {arn} records Repository {metadata['Repository']}, but the spec's is "
                           f"{repository}", at=("provenance", "code", "repository"),
                           fix="deploy the package registered from this repository, or fix the spec")
    problems += yield from _model_data(ctx, arn, package, agreed)
    problems += yield from _customer_metadata(ctx, arn, package, manifest, agreed)
    if not problems:
        agreed_text = f"; it agrees with the spec on {', '.join(agreed)}" if agreed else ""
        yield ctx.ok(f"model package {arn} exists, is {approval} and {status or 'of unknown status'}{agreed_text}",
                     at=at)


def _model_data(ctx: CheckContext, arn: str, package: dict[str, Any],
                agreed: list[str]) -> Generator[Finding, None, int]:
    art = ctx.spec.provenance.artifact if ctx.spec.provenance else None
    uri = art.uri if art else None
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or []
    served = [str(c.get("ModelDataUrl") or ((c.get("ModelDataSource") or {}).get("S3DataSource") or {}).get("S3Uri"))
              for c in containers if c.get("ModelDataUrl") or c.get("ModelDataSource")]
    if not uri or not served:
        return 0
    if uri in served:
        agreed.append(f"the model data its container serves ({uri})")
        return 0
    yield ctx.fail(f"model package {arn} serves model data {', '.join(served)}, not the spec's artifact {uri}",
                   at=(*_ART, "uri"), fix="deploy the package registered for this artifact, or fix "
                                          "provenance.artifact.uri")
    return 1


def _customer_metadata(ctx: CheckContext, arn: str, package: dict[str, Any], manifest: ArtifactManifest | None,
                       agreed: list[str]) -> Generator[Finding, None, int]:
    props = package.get("CustomerMetadataProperties") or {}
    problems = 0
    for key, value in sorted(props.items()):
        normalised = _norm(str(key))
        if normalised.startswith("data:"):
            found = _dataset_pin(ctx, normalised[5:])
            if found is None:
                problems += 1
                yield ctx.fail(f"model package {arn} records training data '{key}' = {value}, which is not a dataset "
                               "in provenance.data", at=("provenance", "data"),
                               fix="list every training dataset in provenance.data, or deploy the package "
                                   "trained on the spec's data")
                continue
            expected, where = found
        elif normalised in _KEYS:
            expected, where = _KEYS[normalised](ctx, manifest)
        else:
            continue
        if expected is None:
            continue
        same = _commit_matches(ctx, str(value), expected) if _KEYS.get(normalised) is _commit \
            else str(value).strip().lower() == str(expected).strip().lower()
        if same:
            agreed.append(f"{key} {value}")
        else:
            problems += 1
            yield ctx.fail(f"model package {arn} records {key} = {value}, but the spec (or its manifest) says "
                           f"{expected}", at=where,
                           fix="deploy the package registered for this training run, or fix the spec")
    return problems
