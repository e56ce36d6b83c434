"""REP001 online: every S3 dataset version the spec pins exists (HeadObject with its VersionId), its content
agrees with a pinned sha256 where S3 stores one, and its bucket keeps versions (versioning Enabled, or Object
Lock), so the version cannot be overwritten or silently removed. Also the S3 object reads REP005 shares.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from mlgate.aws.session import AwsProblem
from mlgate.result import Finding
from mlgate.spec.models import Dataset

if TYPE_CHECKING:
    from mlgate.aws.live import Online
    from mlgate.checks import CheckContext

_INTEGER = re.compile(r"[0-9]+")
_HEX64 = re.compile(r"[0-9a-f]{64}", re.IGNORECASE)


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    version: str | None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def describe(self) -> str:
        return f"version {self.version} of {self.uri}" if self.version else self.uri


def parse_s3(uri: str, version: str | None = None) -> S3Object | None:
    """The S3 object `uri` names (a `?versionId=` in it, or `version`), or None for a prefix, a wildcard or not S3."""
    if not uri.startswith("s3://"):
        return None
    parts = urlsplit(uri)
    key = unquote(parts.path.lstrip("/"))
    if not parts.netloc or not key or key.endswith("/") or any(c in key for c in "*?["):
        return None
    in_uri = parse_qs(parts.query).get("versionId", [None])[0]
    return S3Object(parts.netloc, key, version or in_uri)


def dataset_object(ds: Dataset) -> S3Object | None:
    """The S3 object version a dataset pins (version / ?versionId= or sha256), or None when it is not one: a
    table on S3 (an integer version, snapshot_id, as_of) or a prefix is not an object version."""
    if not ds.uri or ds.snapshot_id or ds.as_of or ds.manifest:
        return None
    version = str(ds.version).strip() if ds.version is not None else None
    if version and _INTEGER.fullmatch(version):
        return None  # a Delta table version (an S3 VersionId is never a bare number)
    found = parse_s3(ds.uri, version or None)
    if found is None or not (found.version or ds.sha256):
        return None
    return found


def stored_sha256(head: dict[str, Any]) -> str | None:
    """The object's full-object sha256 as S3 stores it (hex), or None: no checksum, or a multipart composite."""
    value = head.get("ChecksumSHA256")
    if not isinstance(value, str) or "-" in value or head.get("ChecksumType") == "COMPOSITE":
        return None
    try:
        return base64.b64decode(value, validate=True).hex()
    except (binascii.Error, ValueError):
        return None


def head(online: Online, obj: S3Object) -> dict[str, Any]:
    """HeadObject of the object (with its VersionId). Raises AwsProblem; a delete marker is `not-found`."""
    params: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key, "ChecksumMode": "ENABLED"}
    if obj.version:
        params["VersionId"] = obj.version
    try:
        return online.session.call("s3", "HeadObject", target=obj.describe(), **params)
    except AwsProblem as problem:
        if problem.code in ("405", "MethodNotAllowed"):  # HEAD of a delete marker's version id
            raise AwsProblem("not-found", f"{obj.describe()} is a delete marker, not data", code="DeleteMarker") \
                from None
        raise


def describe_head(answer: dict[str, Any]) -> str:
    size = answer.get("ContentLength")
    modified = answer.get("LastModified")
    parts = []
    if isinstance(size, int):
        parts.append(f"{size:,} bytes")
    if modified is not None and hasattr(modified, "date"):
        parts.append(f"last modified {modified.date().isoformat()}")
    return ", ".join(parts)


def _bucket(online: Online, bucket: str) -> tuple[bool, str]:
    """(protected, how) for a data bucket: versioning Enabled (and its Object Lock, if any)."""
    versioning = online.session.call("s3", "GetBucketVersioning", target=f"bucket {bucket}", Bucket=bucket)
    status = versioning.get("Status")
    if status != "Enabled":
        state = f"versioning {status}" if status else "versioning never enabled"
        return False, f"bucket {bucket} has {state} (and so no Object Lock, which needs versioning)"
    try:
        lock = online.session.call("s3", "GetObjectLockConfiguration", target=f"bucket {bucket}",
                                   Bucket=bucket).get("ObjectLockConfiguration") or {}
    except AwsProblem as problem:
        if problem.kind != "not-found" and problem.code != "ObjectLockConfigurationNotFoundError":
            raise
        lock = {}
    if lock.get("ObjectLockEnabled") == "Enabled":
        retention = ((lock.get("Rule") or {}).get("DefaultRetention")) or {}
        period = next((f"{retention[k]} {k.lower()}" for k in ("Days", "Years") if retention.get(k)), None)
        default = f", default retention {retention.get('Mode')} {period}" if retention.get("Mode") and period \
            else ""
        return True, f"bucket {bucket} keeps versions under Object Lock{default}"
    return True, f"bucket {bucket} keeps versions (versioning Enabled; no Object Lock)"


def pinned(ctx: CheckContext, online: Online) -> Iterator[Finding]:
    """REP001 online: each pinned S3 dataset version exists, and its bucket keeps versions."""
    prov = ctx.spec.provenance
    datasets = list(enumerate(prov.data)) if prov else []
    objects = [(i, ds, obj) for i, ds in datasets if (obj := dataset_object(ds)) is not None]
    if not objects:
        yield ctx.na("no dataset is an S3 object pinned by a VersionId or a sha256, so there is no data version to "
                     "look up in the account", at=("provenance", "data"))
        return
    for i, ds, obj in objects:
        label = f"dataset '{ds.name}'" if ds.name else f"provenance.data[{i}]"
        at = ("provenance", "data", i, "version" if ds.version else "uri")
        try:
            yield from _dataset(ctx, online, label, ds, obj, at)
        except AwsProblem as problem:
            yield ctx.error(f"{label}: {problem}", at=at)


def _dataset(ctx: CheckContext, online: Online, label: str, ds: Dataset, obj: S3Object,
             at: tuple[Any, ...]) -> Iterator[Finding]:
    try:
        answer = head(online, obj)
    except AwsProblem as problem:
        if problem.kind != "not-found":
            raise
        gone = "is a delete marker" if problem.code == "DeleteMarker" else "does not exist in the account"
        what = "deleted, or never a version of this object" if obj.version else "deleted or moved"
        yield ctx.fail(f"{label}: {obj.describe()} {gone} ({what}): the data this model was trained on cannot be "
                       "read any more, so the training run cannot be repeated or audited", at=at,
                       fix="restore that version (from a replica or backup) or retrain on data that exists and pin "
                           "its VersionId; protect training data with S3 Object Lock so versions cannot be "
                           "deleted")
        return
    facts = describe_head(answer)
    evidence = f"{obj.describe()} exists ({facts})" if facts else f"{obj.describe()} exists"
    pinned_sha = str(ds.sha256).strip().lower() if ds.sha256 else None
    if pinned_sha and _HEX64.fullmatch(pinned_sha):
        stored = stored_sha256(answer)
        if stored is None:
            evidence += "; S3 stores no full-object sha256 for it, so the pinned sha256 was not compared"
        elif stored != pinned_sha:
            yield ctx.fail(f"{label}: S3's sha256 of {obj.describe()} is {stored}, but the spec pins {pinned_sha}: "
                           "the object holds other data than the model was trained on", at=at,
                           fix="pin the version the model was trained on (its VersionId), or fix the sha256")
            return
        else:
            evidence += f"; S3's sha256 of it is the pinned {pinned_sha[:12]}…"
    protected, how = _bucket(online, obj.bucket)
    if not protected:
        yield ctx.fail(f"{label}: {evidence}, but {how}: the object can be overwritten or deleted and the "
                       "training data lost without trace", at=at,
                       fix=f"enable versioning on bucket {obj.bucket} (better: Object Lock with a retention), so a "
                           "pinned version stays readable")
        return
    yield ctx.ok(f"{label}: {evidence}; {how}", at=at)
