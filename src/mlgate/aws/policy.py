"""`mlgate aws-policy`: the IAM policy the identity running `mlgate check --aws` needs for one spec.

It grants exactly the IAM actions of the operations in `mlgate.aws.operations` (read-only, every one of them),
and only those the spec gives mlgate a reason to call, on the resources the spec names: the dataset objects and
their buckets, the artifact, the model package, the endpoint, the alarms, the execution role. What only the
account knows (the endpoint config's and the models' names, the monitoring schedules, the role's managed
policies) is granted on every resource of that type in the spec's account and Region, and a note says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.aws.data import dataset_object, parse_s3
from mlgate.aws.operations import OPERATIONS
from mlgate.spec.models import Spec


@dataclass
class AwsPolicy:
    """The IAM policy `mlgate aws-policy` builds for one spec, with notes on what it grants broadly."""
    statements: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def document(self) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": self.statements}

    def to_json(self) -> str:
        return json.dumps(self.document, indent=2)

    @property
    def actions(self) -> set[str]:
        return {a for s in self.statements for a in s["Action"]}

    def add(self, sid: str, actions: Iterable[str], resources: Iterable[str]) -> None:
        known = {a for op in OPERATIONS for a in op.actions}
        acts = sorted(dict.fromkeys(actions))
        unknown = [a for a in acts if a not in known]
        if unknown:  # a grant for something mlgate never calls would not be least privilege
            raise ValueError(f"{', '.join(unknown)} is not an action of mlgate's operations")
        res = sorted(dict.fromkeys(resources))
        if acts and res:
            self.statements.append({"Sid": sid, "Effect": "Allow", "Action": acts, "Resource": res})


def _where(spec: Spec, notes: list[str]) -> tuple[str, str]:
    serving = spec.serving
    region = serving.region if serving and serving.region else None
    account = str(serving.account).strip() if serving and serving.account else None
    missing = [f"serving.{n}" for n, v in (("region", region), ("account", account)) if not v]
    if missing:
        notes.append(f"set {' and '.join(missing)} to pin the ARNs to the endpoint's Region and account ('*' stands "
                     "in for what is missing)")
    return region or "*", account or "*"


def build(spec: Spec) -> AwsPolicy:
    """The policy `mlgate check --aws` needs for `spec`."""
    policy = AwsPolicy()
    notes = policy.notes
    region, account = _where(spec, notes)
    sm = f"arn:aws:sagemaker:{region}:{account}"
    prov = spec.provenance
    versions: list[str] = []
    objects: list[str] = []
    buckets: list[str] = []
    for ds in prov.data if prov else []:
        obj = dataset_object(ds)
        if obj is None:
            continue
        (versions if obj.version else objects).append(f"arn:aws:s3:::{obj.bucket}/{obj.key}")
        buckets.append(f"arn:aws:s3:::{obj.bucket}")
    artifact = prov.artifact if prov else None
    art_obj = parse_s3(artifact.uri) if artifact and artifact.uri else None
    if art_obj is not None:
        (versions if art_obj.version else objects).append(f"arn:aws:s3:::{art_obj.bucket}/{art_obj.key}")
    policy.add("ReadPinnedDataVersions", ["s3:GetObjectVersion"], versions)
    policy.add("ReadPinnedObjects", ["s3:GetObject"], objects)
    policy.add("ReadDataBucketProtection", ["s3:GetBucketVersioning", "s3:GetBucketObjectLockConfiguration"], buckets)
    if artifact and artifact.model_package_arn:
        policy.add("ReadModelPackage", ["sagemaker:DescribeModelPackage"], [artifact.model_package_arn])
    serving = spec.serving
    endpoints = [e for e in (serving.endpoint if serving else None,
                             spec.rollout.shadow.endpoint if spec.rollout and spec.rollout.shadow else None) if e]
    live = bool(endpoints) and (serving is None or serving.pattern != "batch")
    if live:
        policy.add("ReadEndpoint", ["sagemaker:DescribeEndpoint"],
                   [f"{sm}:endpoint/{name.lower()}" for name in endpoints])
        policy.add("ReadWhatTheEndpointNames", ["sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel"],
                   [f"{sm}:endpoint-config/*", f"{sm}:model/*"])
        notes.append("the endpoint config and the models behind the endpoint are named only in the account: "
                     "DescribeEndpointConfig and DescribeModel are granted on every endpoint config and model of the "
                     f"account in {region}; narrow them to the names once deployed")
        if spec.evaluation and spec.evaluation.metrics:
            policy.add("ReadProductionModelMetrics", ["sagemaker:DescribeModelPackage"],
                       [f"{sm}:model-package/*"])
            where = f"arn:aws:s3:::{art_obj.bucket}/*" if art_obj is not None else None
            if where:  # model quality reports are registered beside the model artifacts, as a rule
                policy.add("ReadProductionModelMetricsReport", ["s3:GetObject"], [where])
            notes.append("EVL002 reads the ModelMetrics of the model package the production variant serves, named "
                         "only in the account: DescribeModelPackage is granted on the account's model packages, and "
                         + (f"s3:GetObject on the artifact bucket's objects ({where}); grant the statistics object "
                            "instead if it is stored elsewhere" if where else
                            "s3:GetObject on the statistics object must be added (no S3 artifact names its bucket)"))
        monitoring = spec.monitoring
        if monitoring and (monitoring.data_drift or monitoring.prediction_drift):
            policy.add("ListMonitoringSchedules", ["sagemaker:ListMonitoringSchedules"], ["*"])
            policy.add("ReadMonitoringSchedules", ["sagemaker:DescribeMonitoringSchedule"],
                       [f"{sm}:monitoring-schedule/*"])
    operational = spec.monitoring.operational if spec.monitoring else None
    alarms = {*(spec.rollout.rollback_alarms if spec.rollout else []),
              *(a.name for a in (operational.alarms if operational else []) if a.name)}
    if alarms:
        policy.add("ReadAlarms", ["cloudwatch:DescribeAlarms"],
                   [f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}" for name in alarms])
    role = spec.security.execution_role if spec.security else None
    if (role and role.arn) or live:
        roles = [role.arn] if role and role.arn else [f"arn:aws:iam::{account}:role/*"]
        if not (role and role.arn):
            notes.append("set security.execution_role.arn to grant the IAM reads on that role only")
        policy.add("ReadExecutionRole", ["iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy",
                                         "iam:ListAttachedRolePolicies"], roles)
        policy.add("ReadRoleManagedPolicies", ["iam:GetPolicy", "iam:GetPolicyVersion"],
                   [f"arn:aws:iam::{account}:policy/*"])
        notes.append("the role's customer managed policies are named only in the account: GetPolicy and "
                     "GetPolicyVersion are granted on the account's policies (AWS managed ones come from mlgate's "
                     "snapshot and need no call)")
    if not policy.statements:
        notes.append("the spec names nothing mlgate looks up in the account: no S3 data or artifact, model package, "
                     "endpoint, alarm or role")
    return policy


def policy_for_spec_file(path: Path) -> AwsPolicy:
    """`mlgate aws-policy PATH`: the policy for one spec (a file, or a directory holding exactly one)."""
    from mlgate.discover import load_one_spec

    return build(load_one_spec(path).spec)
