"""AWS managed policies attached by ARN, from mlgate's snapshot (`data/aws_managed_policies.json`), generated from
the documents moto bundles by `scripts/snapshot_managed_policies.py`. No runtime dependency ships them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from mlgate.evidence.iam import PolicyDocument, parse_policy
from mlgate.iam.match import parse_arn
from mlgate.result import Location


@dataclass(frozen=True)
class ManagedPolicy:
    """An AWS managed policy at the version mlgate's snapshot holds: its document and when AWS updated it."""
    name: str
    arn: str
    version: str
    updated: str
    document: dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """mlgate's snapshot of the AWS managed policies, and what it was made from."""
    source: str
    policies: dict[str, ManagedPolicy]


@lru_cache(maxsize=1)
def snapshot() -> Snapshot:
    raw = json.loads((resources.files("mlgate.iam") / "data" / "aws_managed_policies.json")
                     .read_text(encoding="utf-8"))
    policies = {name: ManagedPolicy(name, p["arn"], p["version"], p["updated"], p["document"])
                for name, p in raw["policies"].items()}
    return Snapshot(raw["source"], policies)


def is_aws_managed(arn: str) -> bool:
    parsed = parse_arn(arn)
    return parsed is not None and parsed.service == "iam" and parsed.account == "aws" \
        and parsed.resource.startswith("policy/")


def managed_policy(arn: str) -> ManagedPolicy | None:
    """The snapshot's copy of the AWS managed policy `arn` (any partition, any path), or None."""
    if not is_aws_managed(arn):
        return None
    name = arn.rsplit("/", 1)[-1]
    return snapshot().policies.get(name)


def managed_document(policy: ManagedPolicy, location: Location | None) -> PolicyDocument:
    """The managed policy as a PolicyDocument; its statements are located where the spec attaches it."""
    return parse_policy(policy.document, name=policy.name, kind="aws-managed", location=location)
