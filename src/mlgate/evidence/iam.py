"""IAM policies as evidence, whatever file they come from (a policy JSON, a CloudFormation role, Terraform).

Readers turn each source into `PolicyDocument`s whose statements keep their file:line; the SEC001 analysis
only ever sees these, so it judges a policy file and an IaC role the same way. Values that an intrinsic function
computes (`!Sub`, `${var}`) become placeholders such as `${Sub:...}`, never `*`, so they cannot look broader or
narrower than they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mlgate.result import Location


@dataclass(frozen=True)
class PolicyStatement:
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    conditions: dict[str, Any] = field(default_factory=dict)
    sid: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class PolicyDocument:
    """One policy attached to the execution role: inline, customer-managed or AWS-managed."""

    name: str  # a file path, a logical id / resource address, or a managed policy ARN
    kind: Literal["policy-file", "cloudformation", "terraform", "aws-managed", "aws-account"]
    statements: tuple[PolicyStatement, ...]
    location: Location | None = None
    # AWS managed policies attached by ARN whose documents are not in the source (resolved from the snapshot)
    managed_arns: tuple[str, ...] = ()
