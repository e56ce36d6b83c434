"""Matching IAM names the way IAM does: action patterns with `*` and `?` (case-insensitive), resource ARNs
(case-sensitive), and how broad a resource is.

IAM action names are case-insensitive and both wildcards may appear anywhere, in the service prefix too
(`s3:Get*`, `*:Describe*`, `iam:?assRole`). policy_sentry's own `expand()` handles neither `?` nor case, so the
matching lives here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

WILDCARDS = frozenset("*?")


def has_wildcard(text: str) -> bool:
    return any(c in WILDCARDS for c in text)


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = [".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def glob_matches(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """Whether `text` matches the IAM glob `pattern` (`*` any run of characters, `?` one character)."""
    return _glob(pattern, ignore_case).fullmatch(text) is not None


def action_matches(pattern: str, action: str) -> bool:
    """Whether the action pattern from a policy (`s3:Get*`, `*`) covers the action `service:Name`."""
    if pattern == "*":
        return True
    return glob_matches(pattern, action, ignore_case=True)


def split_action(text: str) -> tuple[str, str] | None:
    """`("s3", "GetObject")` for `s3:GetObject`; `("*", "*")` for `*`; None for text that is not an action."""
    if text == "*":
        return "*", "*"
    service, sep, name = text.partition(":")
    if not sep or not service or not name or ":" in name:
        return None
    if not re.fullmatch(r"[A-Za-z0-9*?-]+", service) or not re.fullmatch(r"[A-Za-z0-9*?_.-]+", name):
        return None
    return service, name


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(text: str) -> Arn | None:
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return Arn(*parts[1:])


_TYPE_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*[/:]")


def is_unrestricted(resource: str) -> bool:
    """Whether a Resource entry names every resource, or every resource of a type: `*`, `arn:aws:s3:::*`,
    `arn:aws:s3:::*/*`, `arn:aws:iam::*:role/*`, `arn:aws:logs:*:*:log-group:*`. A named resource, a name
    pattern (`role/*SageMaker*`, `bucket/prefix/*`) and a deploy-time placeholder (`${Ref:Bucket}`) are not."""
    if resource == "*":
        return True
    arn = parse_arn(resource)
    if arn is None:
        return bool(resource) and all(c in "*?:" for c in resource)
    rest = arn.resource
    if arn.service != "s3":  # S3 ARNs have no resource-type prefix: arn:aws:s3:::bucket/key
        rest = _TYPE_PREFIX.sub("", rest, count=1)
    return not rest or all(c in "*?/:" for c in rest)


def resource_within(granted: str, allowed: str) -> bool:
    """Whether every resource the Resource entry `granted` names is also named by `allowed` (a wildcard in
    `granted` is taken literally, so `bucket/a/*` is within `bucket/*` but `bucket/*` is not within `bucket/a/*`)."""
    return granted == allowed or glob_matches(allowed, granted)


def _wild(c: str) -> bool:
    return c in WILDCARDS


def _overlap(a: str, b: str) -> bool:
    """Whether two globs can match one same text (`*` any run, `?` one character)."""
    pa = a[:next((i for i, c in enumerate(a) if _wild(c)), len(a))]
    pb = b[:next((i for i, c in enumerate(b) if _wild(c)), len(b))]
    k = min(len(pa), len(pb))
    if pa[:k] != pb[:k]:
        return False
    sa = a[len(a) - next((i for i, c in enumerate(reversed(a)) if _wild(c)), len(a)):]
    sb = b[len(b) - next((i for i, c in enumerate(reversed(b)) if _wild(c)), len(b)):]
    k = min(len(sa), len(sb))
    if k and sa[-k:] != sb[-k:]:
        return False
    n, m = len(a), len(b)
    # reach[j]: a[i:] and b[j:] have a common match, computed row by row from the end
    below = [False] * (m + 1)
    below[m] = True
    for j in range(m - 1, -1, -1):
        below[j] = b[j] == "*" and below[j + 1]
    for i in range(n - 1, -1, -1):
        row = [False] * (m + 1)
        row[m] = a[i] == "*" and below[m]
        for j in range(m - 1, -1, -1):
            if a[i] == "*":
                row[j] = below[j] or row[j + 1]
            elif b[j] == "*":
                row[j] = row[j + 1] or below[j]
            else:
                row[j] = (a[i] == b[j] or a[i] == "?" or b[j] == "?") and below[j + 1]
        below = row
    return below[0]


@lru_cache(maxsize=65536)
def globs_overlap(a: str, b: str) -> bool:
    """Whether the Resource pattern `a` and the ARN pattern `b` can name one same resource, compared segment by
    segment (partition, service, Region, account, resource)."""
    pa, pb = a.split(":", 5), b.split(":", 5)
    if len(pa) != 6 or len(pb) != 6:
        return _overlap(a, b)
    return all(_overlap(x, y) for x, y in zip(pa, pb, strict=True))


_VARIABLE = re.compile(r"\$\{[^}]*\}")


@lru_cache(maxsize=8192)
def format_glob(arn_format: str) -> str:
    """An ARN format from the IAM database (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`) as a glob."""
    return _VARIABLE.sub("*", arn_format)


def resource_applies(resource: str, arn_formats: tuple[str, ...]) -> bool:
    """Whether a Resource entry can name a resource of an action that accepts `arn_formats`. An action that
    accepts no ARN is only reached by `*`; `arn:aws:s3:::b/k` never reaches a KMS action, nor
    `arn:aws:sagemaker:*:*:flow-definition/*` a training job. Text that is not an ARN (a deploy-time placeholder)
    may be anything, so it applies."""
    if resource == "*":
        return True
    if parse_arn(resource) is None:
        return "${" in resource or glob_matches(resource, "*")
    if not arn_formats:
        return False
    return any(globs_overlap(resource, format_glob(f)) for f in arn_formats)
