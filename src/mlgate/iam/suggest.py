"""The least-privilege execution-role policy mlgate suggests for a spec, built from what the spec says the endpoint
touches: the artifact's S3 object, the capture destination and its KMS key, the inference image's ECR repository,
the endpoint's log group, CloudWatch metrics under a namespace condition, the rollback alarms, and the VPC network
interfaces when the endpoint runs in a VPC. Every ARN is built from the spec; what the spec does not say (the
Region, the account, the image) becomes a note naming the field to add, never a guess.

SEC001 shows it for a failing role, and `mlgate iam-policy` prints it; it passes SEC001 itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.iam.match import parse_arn
from mlgate.spec.models import Spec

if TYPE_CHECKING:
    from mlgate.deployment.model import ResolvedDeployment

# The namespace SageMaker endpoint instance metrics are published under.
METRIC_NAMESPACES = ("/aws/sagemaker/Endpoints",)
LOG_GROUP_PREFIX = "/aws/sagemaker/Endpoints/"
_REGION = re.compile(r"[a-z]{2}(?:-[a-z]+)+-\d")
_ACCOUNT = re.compile(r"\d{12}")
_ECR_IMAGE = re.compile(r"(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?/([a-z0-9._/-]+?)"
                        r"(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?")
_KEY_ID = re.compile(r"(?:mrk-)?[0-9a-f]{8}-?(?:[0-9a-f]{4}-?){3}[0-9a-f]{12}|mrk-[0-9a-f]{32}")


@dataclass(frozen=True)
class EndpointFacts:
    """The spec facts that decide what the endpoint needs (see `when` in data/knowledge.yaml)."""

    vpc: bool | None
    capture: bool
    async_: bool
    alarms: bool

    @classmethod
    def from_spec(cls, spec: Spec) -> EndpointFacts:
        serving = spec.serving
        capture = spec.monitoring.capture if spec.monitoring else None
        return cls(vpc=serving.vpc if serving else None,
                   capture=bool(capture and capture.enabled),
                   async_=bool(serving and serving.pattern == "async"),
                   alarms=bool(spec.rollout and spec.rollout.rollback_alarms))

    def holds(self, fact: str) -> bool:
        if fact == "vpc":
            return self.vpc is not False
        return bool({"capture": self.capture, "async": self.async_, "alarms": self.alarms}[fact])


@dataclass
class Suggestion:
    """The least-privilege execution-role policy mlgate suggests, with notes on what the spec leaves open."""
    statements: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    @property
    def policy(self) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": self.statements}

    def to_json(self, *, compact: bool = False) -> str:
        if compact:
            return json.dumps(self.policy, separators=(",", ":"))
        return json.dumps(self.policy, indent=2)

    def resources_for(self, action: str) -> list[str]:
        """The resources the suggestion grants `action` on (lowercase `service:name`)."""
        return [r for s in self.statements if action in {a.lower() for a in s["Action"]} for r in s["Resource"]]

    def restricted_to(self, actions: set[str]) -> list[dict[str, Any]]:
        """The suggested statements that grant any of `actions` (lowercase), each narrowed to those actions."""
        out = []
        for statement in self.statements:
            kept = [a for a in statement["Action"] if a.lower() in actions]
            if kept:
                out.append({**statement, "Action": kept})
        return out


@dataclass(frozen=True)
class _Where:
    """The partition, Region and account the suggested ARNs are built in (`*` where unknown)."""
    partition: str
    region: str
    account: str


def _locate(spec: Spec, notes: list[str]) -> _Where:
    """The endpoint's partition, Region and account: stated in serving, else read from an ARN the spec holds."""
    serving = spec.serving
    arns = []
    capture = spec.monitoring.capture if spec.monitoring else None
    if capture and capture.kms_key:
        arns.append(capture.kms_key)
    artifact = spec.provenance.artifact if spec.provenance else None
    if artifact and artifact.model_package_arn:
        arns.append(artifact.model_package_arn)
    parsed = [a for a in (parse_arn(text) for text in arns) if a is not None]
    partition = next((a.partition for a in parsed if a.partition), "aws")
    region = serving.region if serving and serving.region else next((a.region for a in parsed if a.region), None)
    account = serving.account if serving and serving.account else next((a.account for a in parsed if a.account),
                                                                       None)
    if region and not _REGION.fullmatch(region):
        notes.append(f"'{region}' is not an AWS Region name; the ARNs use '*' for the Region")
        region = None
    if account and not _ACCOUNT.fullmatch(account):
        notes.append(f"'{account}' is not a 12-digit AWS account id; the ARNs use '*' for the account")
        account = None
    missing = [f"serving.{name}" for name, value in (("region", region), ("account", account)) if value is None]
    if missing:
        notes.append(f"set {' and '.join(missing)} to pin the ARNs to the endpoint's Region and account ('*' "
                     "stands in for what is missing)")
    return _Where(partition, region or "*", account or "*")


def _s3_object_arn(uri: str, partition: str) -> tuple[str, str] | None:
    """(bucket, object ARN pattern) for an s3:// URI: a key names one object, a prefix ending in / every object
    below it."""
    if not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[5:].partition("/")
    if not bucket or "*" in uri or "?" in uri:
        return None
    pattern = f"{key}*" if not key or key.endswith("/") else key
    return bucket, f"arn:{partition}:s3:::{bucket}/{pattern}"


def _kms_statement(key: str, where: _Where, notes: list[str]) -> dict[str, Any] | None:
    actions = ["kms:Encrypt", "kms:GenerateDataKey"]
    arn = parse_arn(key)
    if arn is not None and arn.service == "kms" and arn.resource.startswith("key/"):
        return {"Sid": "EncryptCapturedData", "Effect": "Allow", "Action": actions, "Resource": [key]}
    alias = None
    if arn is not None and arn.service == "kms" and arn.resource.startswith("alias/"):
        alias, where = arn.resource, _Where(arn.partition, arn.region or where.region, arn.account or where.account)
    elif key.startswith("alias/"):
        alias = key
    if alias is not None:
        # IAM cannot grant a key through its alias ARN; the kms:ResourceAliases condition can.
        return {"Sid": "EncryptCapturedData", "Effect": "Allow", "Action": actions,
                "Resource": [f"arn:{where.partition}:kms:{where.region}:{where.account}:key/*"],
                "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}}}
    if _KEY_ID.fullmatch(key):
        return {"Sid": "EncryptCapturedData", "Effect": "Allow", "Action": actions,
                "Resource": [f"arn:{where.partition}:kms:{where.region}:{where.account}:key/{key}"]}
    notes.append(f"monitoring.capture.kms_key '{key}' is not a key id, key ARN, alias or alias ARN: no KMS "
                 "statement")
    return None


def suggest(spec: Spec, metric_namespaces: Sequence[str] = METRIC_NAMESPACES,
            artifacts: Sequence[str] = ()) -> Suggestion:
    """The least-privilege policy for the endpoint the spec describes, with notes on what the spec leaves open.
    `artifacts`: the model artifacts the deployed variants load beside the spec's (the previous and shadow
    variants' models in the infrastructure code)."""
    notes: list[str] = []
    where = _locate(spec, notes)
    p = where.partition
    statements: list[dict[str, Any]] = []
    serving = spec.serving

    artifact = spec.provenance.artifact if spec.provenance else None
    uris = list(dict.fromkeys([*([artifact.uri] if artifact and artifact.uri else []), *artifacts]))
    targets = [found[1] for uri in uris if (found := _s3_object_arn(uri, p))]
    if targets:
        statements.append({"Sid": "ReadModelArtifact", "Effect": "Allow", "Action": ["s3:GetObject"],
                           "Resource": targets})
    if artifact and artifact.uri and not _s3_object_arn(artifact.uri, p):
        notes.append(f"provenance.artifact.uri '{artifact.uri}' is not an s3:// object or prefix: no S3 read "
                     "statement for the model")
    elif not (artifact and artifact.uri):
        notes.append("provenance.artifact.uri is not set: add it so that the role may read the model artifact")

    capture = spec.monitoring.capture if spec.monitoring else None
    if capture and capture.enabled:
        dest = capture.destination or ""
        place = _s3_object_arn(dest if dest.endswith("/") else f"{dest}/", p) if dest else None
        if place:
            statements.append({"Sid": "WriteCapturedData", "Effect": "Allow", "Action": ["s3:PutObject"],
                               "Resource": [place[1]]})
        else:
            notes.append("monitoring.capture.destination is not an s3:// prefix: no statement for writing captured "
                         "data")
        if capture.kms_key:
            kms = _kms_statement(capture.kms_key, where, notes)
            if kms:
                statements.append(kms)
        else:
            notes.append("monitoring.capture.kms_key is not set: captured data is not encrypted with a key of yours "
                         "(SEC002); add the key and its statement follows")

    statements.append({"Sid": "LogInToEcr", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"],
                       "Resource": ["*"]})
    image = _ECR_IMAGE.fullmatch(serving.image) if serving and serving.image else None
    if image:
        account, region, cn, repository = image.groups()
        partition = "aws-cn" if cn else p
        statements.append({"Sid": "PullInferenceImage", "Effect": "Allow",
                           "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                      "ecr:GetDownloadUrlForLayer"],
                           "Resource": [f"arn:{partition}:ecr:{region}:{account}:repository/{repository}"]})
    elif serving and serving.image:
        notes.append(f"serving.image '{serving.image}' is not an ECR image URI "
                     "(<account>.dkr.ecr.<region>.amazonaws.com/<repository>): no statement for pulling it")
    else:
        notes.append("serving.image is not set: add the inference image (its ECR URI) so that the role may pull "
                     "from its repository, and from no other")

    endpoint = serving.endpoint if serving and serving.endpoint else None
    group = f"arn:{p}:logs:{where.region}:{where.account}:log-group:{LOG_GROUP_PREFIX}{endpoint or '*'}"
    if endpoint is None:
        notes.append("serving.endpoint is not set: the log statement covers every endpoint's log group")
    # `log-group:NAME:*` is how AWS writes a log group in IAM policies (it covers the group's log streams), and
    # how it documents the endpoint's log permissions; `NAME` alone is the ARN CreateLogGroup is checked against.
    statements.append({"Sid": "WriteEndpointLogs", "Effect": "Allow",
                       "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams",
                                  "logs:PutLogEvents"],
                       "Resource": [group, f"{group}:*"]})
    statements.append({"Sid": "PublishEndpointMetrics", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"],
                       "Resource": ["*"],
                       "Condition": {"StringEquals": {"cloudwatch:namespace": list(metric_namespaces)}}})

    alarms = spec.rollout.rollback_alarms if spec.rollout else []
    if alarms:
        statements.append({"Sid": "WatchRollbackAlarms", "Effect": "Allow", "Action": ["cloudwatch:DescribeAlarms"],
                           "Resource": [f"arn:{p}:cloudwatch:{where.region}:{where.account}:alarm:{name}"
                                        for name in alarms]})
    if serving and serving.vpc:
        # These accept no narrower resource the spec can name (subnets and security groups are not in it).
        statements.append({"Sid": "AttachToVpc", "Effect": "Allow",
                           "Action": ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                                      "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
                                      "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
                                      "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"],
                           "Resource": ["*"]})
    if serving and serving.pattern == "async":
        notes.append("asynchronous inference also writes results to its S3 output path and may notify SNS topics: "
                     "add s3:PutObject on the output path and sns:Publish on the topics (the spec does not name "
                     "them)")
    return Suggestion(statements, notes)


def suggest_for_spec_file(path: Path) -> Suggestion:
    """`mlgate iam-policy PATH`: the suggestion for one spec (a file, or a directory holding exactly one), with
    SEC001's `metric_namespaces` parameter as the team's config sets it."""
    from mlgate.config import load_config
    from mlgate.deployment import resolve
    from mlgate.discover import load_one_spec
    from mlgate.evidence.workspace import Workspace
    from mlgate.registry import load_registry

    loaded = load_one_spec(path)
    rule = load_registry(loaded.root).get("SEC001")
    params: dict[str, Any] = load_config(loaded.root).rule_params(rule) if rule is not None else {}
    namespaces = params.get("metric_namespaces") or list(METRIC_NAMESPACES)
    resolved = resolve(loaded, Workspace(loaded.root))  # what the infrastructure code deploys, as SEC001 judges it
    return suggest(resolved.spec, [str(n) for n in namespaces], deployed_artifacts(resolved))


def deployed_artifacts(resolved: ResolvedDeployment | None) -> list[str]:
    """The s3:// model artifacts of every variant the infrastructure code deploys."""
    fleet = resolved.fleet if resolved is not None else None
    return [str(r.artifact.value) for r in fleet or [] if r.artifact is not None and r.artifact.known
            and str(r.artifact.value).startswith("s3://")]
