"""Every AWS operation mlgate may send, and the IAM action that allows it: the one list both the session (which
refuses any other operation) and `mlgate aws-policy` (which grants exactly these) read.

All of them are Describe, Get, List or Head operations: mlgate never changes anything in the account.
"""

from __future__ import annotations

from dataclasses import dataclass

READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Head")


@dataclass(frozen=True)
class Operation:
    """An AWS API call mlgate may make in an `--aws` run, and the IAM actions that allow it."""
    service: str  # the boto3 client name
    name: str  # the API operation, as botocore names it
    actions: tuple[str, ...]  # the IAM actions it needs; () when it needs none
    why: str


OPERATIONS: tuple[Operation, ...] = (
    Operation("sts", "GetCallerIdentity", (),
              "which account the credentials belong to (compared with serving.account); needs no permission"),
    Operation("s3", "HeadObject", ("s3:GetObject", "s3:GetObjectVersion"),
              "REP001, REP005: the dataset version and the artifact exist, and their stored sha256"),
    Operation("s3", "GetObject", ("s3:GetObject",),
              "EVL002: the production model package's ModelMetrics statistics (its model quality JSON, 1 MiB at most)"),
    Operation("s3", "GetBucketVersioning", ("s3:GetBucketVersioning",),
              "REP001: the data bucket keeps versions"),
    Operation("s3", "GetObjectLockConfiguration", ("s3:GetBucketObjectLockConfiguration",),
              "REP001: the data bucket's Object Lock"),
    Operation("sagemaker", "DescribeModelPackage", ("sagemaker:DescribeModelPackage",),
              "REP005: the model package's approval, commit and metadata; EVL002: the production package's "
              "ModelMetrics"),
    Operation("sagemaker", "DescribeEndpoint", ("sagemaker:DescribeEndpoint",),
              "RLO, MON, SEC001: the live endpoint, its variants' weights and instances"),
    Operation("sagemaker", "DescribeEndpointConfig", ("sagemaker:DescribeEndpointConfig",),
              "RLO, MON001: the endpoint config's variants, shadow variants and data capture"),
    Operation("sagemaker", "DescribeModel", ("sagemaker:DescribeModel",),
              "SEC001: the execution role each variant's model runs with; EVL002: the production model's package"),
    Operation("sagemaker", "ListMonitoringSchedules", ("sagemaker:ListMonitoringSchedules",),
              "MON002, MON003: the monitoring schedules on the endpoint"),
    Operation("sagemaker", "DescribeMonitoringSchedule", ("sagemaker:DescribeMonitoringSchedule",),
              "MON002, MON003: a schedule's expression and baseline"),
    Operation("cloudwatch", "DescribeAlarms", ("cloudwatch:DescribeAlarms",),
              "RLO004, MON004: the alarms the spec names exist and watch the endpoint"),
    Operation("iam", "GetRole", ("iam:GetRole",), "SEC001: the execution role"),
    Operation("iam", "ListRolePolicies", ("iam:ListRolePolicies",), "SEC001: its inline policies"),
    Operation("iam", "GetRolePolicy", ("iam:GetRolePolicy",), "SEC001: each inline policy's document"),
    Operation("iam", "ListAttachedRolePolicies", ("iam:ListAttachedRolePolicies",), "SEC001: its managed policies"),
    Operation("iam", "GetPolicy", ("iam:GetPolicy",), "SEC001: a managed policy's default version"),
    Operation("iam", "GetPolicyVersion", ("iam:GetPolicyVersion",), "SEC001: that version's document"),
)

BY_NAME: dict[tuple[str, str], Operation] = {(op.service, op.name): op for op in OPERATIONS}


def is_read_only(name: str) -> bool:
    return name.startswith(READ_ONLY_PREFIXES)
