"""The S3 object reads the online checks share: which object version a dataset pins (REP001, SEC001), its
HeadObject and the sha256 S3 stores for it (REP001, REP005, EVL002)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from mlgate.aws.session import AwsProblem
from mlgate.spec.models import Dataset

if TYPE_CHECKING:
    from mlgate.aws.live import Online

_INTEGER = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class S3Object:
    """One S3 object a dataset or artifact names, pinned to a version when the spec gives one."""
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
