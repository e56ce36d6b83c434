"""REP005 online: the artifact object exists in S3 (and its sha256 agrees, where S3 stores one), and the SageMaker
model package the spec names exists, has the approval status the team demands (rule parameter
`aws_approval_status`, default Approved), and records the same provenance as the spec and the manifest: its
MetadataProperties (CommitId, Repository), the model data its containers serve, and the
CustomerMetadataProperties mlgate knows (see `_KEYS` and docs/aws.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any

from mlgate.aws.data import describe_head, head, parse_s3, stored_sha256
from mlgate.aws.session import AwsProblem
from mlgate.errors import EvidenceError
from mlgate.result import Finding
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    from mlgate.aws.live import Online
    from mlgate.checks import CheckContext
    from mlgate.manifest import ArtifactManifest

_ART: PathT = ("provenance", "artifact")
_ARN_REGION = re.compile(r"arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):")
APPROVAL_PARAM = "aws_approval_status"
APPROVALS = ("Approved", "PendingManualApproval", "Rejected")


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
    from mlgate.manifest import ManifestError, parse

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


def registered(ctx: CheckContext, online: Online) -> Iterator[Finding]:
    """REP005 online: the artifact object and the model package, as the account holds them."""
    art = ctx.spec.provenance.artifact if ctx.spec.provenance else None
    if art is None or not (art.uri or art.model_package_arn):
        yield ctx.na("provenance.artifact names no S3 artifact and no model package to look up in the account",
                     at=_ART if art else ("provenance",))
        return
    manifest = _manifest(ctx)
    if art.uri:
        try:
            yield from _artifact_object(ctx, online, art.uri, art.sha256 or (manifest.artifact.sha256 if manifest
                                                                              else None))
        except AwsProblem as problem:
            yield ctx.error(f"the artifact: {problem}", at=(*_ART, "uri"))
    if art.model_package_arn:
        try:
            yield from _package(ctx, online, art.model_package_arn, manifest)
        except AwsProblem as problem:
            yield ctx.error(f"model package: {problem}", at=(*_ART, "model_package_arn"))


def _artifact_object(ctx: CheckContext, online: Online, uri: str, sha256: str | None) -> Iterator[Finding]:
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
    wanted = ctx.params.get(APPROVAL_PARAM, "Approved")
    if wanted not in APPROVALS:
        yield ctx.error(f"rule parameter {APPROVAL_PARAM} is {wanted!r}, not one of {', '.join(APPROVALS)}; fix "
                        f"params.{ctx.rule.id} in the mlgate config")
        return
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
