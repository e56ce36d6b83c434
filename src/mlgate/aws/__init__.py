"""Online mode (`mlgate check --aws`): the deployment checked against what exists in the AWS account.

This package is the only place that imports boto3 and botocore, and it imports them only when `--aws` is given:
the offline checks, `mlgate --version` and a pre-commit run never load them. `AwsSettings` (below) is what the
command line passes to the engine; `mlgate.aws.online` runs each rule module's `online` check after its offline
check (reading the account through `mlgate.aws.live`), with read-only calls only (Describe, Get, List, Head: see
`mlgate.aws.operations`). This module imports none of its submodules, so each of them may import it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlgate.errors import UsageError

INSTALL = "pip install 'mlgate[aws]'"


@dataclass(frozen=True)
class AwsSettings:
    """How to reach the account: the standard credential chain, optionally a named profile, and the Region for
    specs that do not state `serving.region`."""

    profile: str | None = None
    region: str | None = None


def require_boto3() -> None:
    """Raise a UsageError (exit 2) saying how to install boto3, when `--aws` is given without it."""
    try:
        import boto3  # noqa: F401
        import botocore  # noqa: F401
    except ImportError:
        raise UsageError("--aws needs boto3, which is not installed in this Python environment",
                         hint=f"install the extra: {INSTALL}") from None
