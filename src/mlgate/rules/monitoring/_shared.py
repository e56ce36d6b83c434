"""Helpers the monitoring rules share: a section the spec must have, numbers in messages, S3 URIs, monitoring
schedules."""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from typing import Any

from mlgate.checks import CheckContext
from mlgate.result import Finding
from mlgate.schedules import SCHEDULE_HELP, schedule_problem
from mlgate.yamlload import PathT


def required_section(ctx: CheckContext, name: str, why: str, fix: str) -> Generator[Finding, None, Any]:
    """The spec's monitoring.<name>, or None after a failure that says why leaving it out matters."""
    section = getattr(ctx.spec.monitoring, name) if ctx.spec.monitoring else None
    if section is None:
        yield ctx.fail(f"no monitoring.{name}: {why}", at=("monitoring", name), fix=fix)
    return section


def num(value: float) -> str:
    """A number as the messages show it: 20, 0.02, 1e+06."""
    return f"{value:g}"


# S3 bucket naming rules (general purpose buckets), as the S3 user guide states them: 3-63 characters of lowercase
# letters, digits, dots and hyphens, starting and ending with a letter or digit, no two adjacent dots, not an IP
# address, and none of the prefixes and suffixes S3 reserves.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def s3_problem(uri: str) -> str | None:
    """Why `uri` is not a well-formed s3://bucket/key URI, or None when it is."""
    if not uri.startswith("s3://"):
        return f"'{uri}' is not an s3:// URI"
    if any(c.isspace() for c in uri):
        return f"'{uri}' contains whitespace"
    bucket = uri[5:].split("/", 1)[0]
    if not bucket:
        return f"'{uri}' names no bucket"
    why = None
    if bucket != bucket.lower():
        why = "bucket names are lowercase"
    elif not _BUCKET.fullmatch(bucket):
        why = "a bucket name is 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a " \
              "letter or digit"
    elif ".." in bucket:
        why = "a bucket name has no two adjacent dots"
    elif _IP.fullmatch(bucket):
        why = "a bucket name is not an IP address"
    elif bucket.startswith(_RESERVED_PREFIXES) or bucket.endswith(_RESERVED_SUFFIXES):
        why = "S3 reserves that prefix or suffix"
    if why:
        return f"'{bucket}' in '{uri}' is not a valid S3 bucket name ({why})"
    return None


def schedule_findings(ctx: CheckContext, expression: str | None, at: PathT, what: str) -> Iterator[Finding]:
    """A failure when the schedule of `what` is not set or not a valid expression."""
    if expression is None or not str(expression).strip():
        yield ctx.fail(f"{'.'.join(map(str, at))} is not set: {what} never runs without a schedule", at=at,
                       fix=f"write a schedule such as {SCHEDULE_HELP}")
        return
    problem = schedule_problem(str(expression))
    if problem:
        yield ctx.fail(f"{what} schedule {problem}", at=at, fix=f"write a schedule such as {SCHEDULE_HELP}")
