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


def glob_matches(pattern: str, text: str, *, ignore_case: bool = False) -> bool:
    """Whether `text` matches the IAM glob `pattern` (`*` any run of characters, `?` one character)."""
    if ignore_case:
        pattern, text = _lower(pattern), text.lower()
    return _match(pattern, text, wild_text=False)


@lru_cache(maxsize=4096)
def _lower(pattern: str) -> str:
    return pattern.lower()


# Matching without backtracking: a glob is its `*`-free segments. The first must fit at the start, the last at the
# end, and each middle one is found at its leftmost place after the one before (the leftmost place leaves the most
# text for the rest, so it is never wrong to take it). A regular expression of `.*`s would instead retry every way
# of splitting the text between the stars: `s3:*?*?*?*?*?*?*?*?Z` took 29 s against the S3 actions.
# Cost: O(len(pattern) + len(text)) for segments without `?`; a segment with `?` is searched in O(len(text)) steps
# of a regular expression without repetition (up to 32 characters) or of a bit-parallel scan (longer ones).

_SHORT_SEGMENT = 32


@lru_cache(maxsize=4096)
def _segments(pattern: str) -> tuple[str, tuple[str, ...], str, int]:
    """The first segment, the non-empty middle ones, the last one and how many characters they take together."""
    head, *middle, tail = pattern.split("*")
    return head, tuple(m for m in middle if m), tail, len(pattern) - pattern.count("*")


def _match(pattern: str, text: str, *, wild_text: bool) -> bool:
    """Whether `pattern` matches `text`; with `wild_text`, a `?` in `text` stands for any one character too."""
    if "*" not in pattern:
        return len(text) == len(pattern) and _fits(pattern, text, 0, wild_text)
    head, middle, tail, fixed = _segments(pattern)
    if fixed > len(text):
        return False
    end = len(text) - len(tail)
    if not _fits(head, text, 0, wild_text) or not _fits(tail, text, end, wild_text):
        return False
    at = len(head)
    for segment in middle:
        found = _find(segment, text, at, end, wild_text)
        if found < 0:
            return False
        at = found + len(segment)
    return True


def _fits(segment: str, text: str, at: int, wild_text: bool) -> bool:
    """Whether `segment` matches `text[at:at + len(segment)]` exactly (the caller checks that it is long enough)."""
    if not wild_text and "?" not in segment:
        return text.startswith(segment, at)
    return all(p == t or p == "?" or (wild_text and t == "?") for p, t in zip(segment, text[at:at + len(segment)],
                                                                              strict=True))


def _find(segment: str, text: str, start: int, end: int, wild_text: bool) -> int:
    """The leftmost index i in [start, end - len(segment)] where `segment` fits, or -1."""
    if not wild_text and "?" not in segment:
        return text.find(segment, start, end)
    if len(segment) <= _SHORT_SEGMENT:
        found = _segment_regex(segment, wild_text).search(text, start, end)
        return found.start() if found else -1
    return _bitap(segment, text, start, end, wild_text)


@lru_cache(maxsize=4096)
def _segment_regex(segment: str, wild_text: bool) -> re.Pattern[str]:
    """A regular expression of fixed length (no repetition, so nothing to backtrack into)."""
    if wild_text:
        parts = ["." if c == "?" else f"[{re.escape(c)}?]" for c in segment]
    else:
        parts = ["." if c == "?" else re.escape(c) for c in segment]
    return re.compile("".join(parts), re.DOTALL)


def _bitap(segment: str, text: str, start: int, end: int, wild_text: bool) -> int:
    """Shift-and search: bit i of `state` says segment[:i + 1] ends at the current character. One pass over the
    text, a few integer operations per character."""
    anything = sum(1 << i for i, c in enumerate(segment) if c == "?")
    masks: dict[str, int] = {}
    for i, c in enumerate(segment):
        if c != "?":
            masks[c] = masks.get(c, anything) | 1 << i
    every = (1 << len(segment)) - 1
    done = 1 << (len(segment) - 1)
    state = 0
    for i in range(start, end):
        c = text[i]
        state = ((state << 1) | 1) & (every if wild_text and c == "?" else masks.get(c, anything))
        if state & done:
            return i - len(segment) + 1
    return -1


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
    """An Amazon Resource Name split into its parts."""
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


def _overlap(a: str, b: str) -> bool:
    """Whether two globs can match one same text (`*` any run, `?` one character). When both have a `*`, they
    do exactly when their starts (before the first `*`) and their ends (after the last) agree: the text made of
    the longer start, every middle segment of `a`, every middle segment of `b` and the longer end matches both.
    When one has no `*`, it is a text (with `?` for any character) that the other must match."""
    if "*" in a and "*" in b:
        start_a, start_b = a.split("*", 1)[0], b.split("*", 1)[0]
        end_a, end_b = a.rsplit("*", 1)[1], b.rsplit("*", 1)[1]
        k = min(len(start_a), len(start_b))
        m = min(len(end_a), len(end_b))
        return (_fits(start_a[:k], start_b, 0, True)
                and _fits(end_a[len(end_a) - m:], end_b, len(end_b) - m, True))
    if "*" in a:
        return _match(a, b, wild_text=True)
    return _match(b, a, wild_text=True)


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
