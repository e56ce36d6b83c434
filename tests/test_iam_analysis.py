"""SEC001's analysis on real policies: each fixture gives the findings, severities and statement lines pinned
here. Policies are read from tests/fixtures/iam/ (see its README for where each comes from) or built directly."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mlgate.evidence.iam import PolicyDocument, PolicyStatement
from mlgate.evidence.policy_file import read_policy_file
from mlgate.evidence.workspace import Workspace
from mlgate.iam.analysis import Analysis, analyse
from mlgate.iam.catalog import load_catalog
from mlgate.iam.suggest import EndpointFacts, suggest
from mlgate.result import Location
from mlgate.spec.models import Spec

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = "tests/fixtures/iam"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SPEC: dict[str, Any] = {
    "version": 1,
    "provenance": {"artifact": {"uri": "s3://acme-ml-models/fraud/v4/model.tar.gz"}},
    "serving": {"pattern": "realtime", "endpoint": "fraud-scorer", "region": "us-east-1", "account": "111122223333",
                "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud-scorer:v4"},
    "monitoring": {"capture": {"enabled": True, "destination": "s3://acme-ml-capture/fraud-scorer/",
                               "kms_key": KEY}},
}


def _spec(**serving: Any) -> Spec:
    return Spec.model_validate({**SPEC, "serving": {**SPEC["serving"], **serving}})


def _run(*docs: PolicyDocument, spec: Spec | None = None, **kwargs: Any) -> Analysis:
    spec = spec or _spec()
    return analyse(list(docs), EndpointFacts.from_spec(spec), suggest(spec), **kwargs)


def _file(name: str) -> PolicyDocument:
    return read_policy_file(Workspace(ROOT), ROOT / FIXTURES / name)


def _found(analysis: Analysis, blocking_only: bool = False) -> set[tuple[str, str, int | None]]:
    return {(i.severity, i.kind, i.location.line if i.location else None) for i in analysis.issues
            if i.blocking or not blocking_only}


def _doc(*statements: PolicyStatement) -> PolicyDocument:
    located = tuple(PolicyStatement(**{**s.__dict__, "location": Location("role.json", n)})
                    for n, s in enumerate(statements, 1))
    return PolicyDocument("role.json", "policy-file", located, Location("role.json", 1))


def _allow(actions: str | tuple[str, ...], resources: str | tuple[str, ...] = "*", **kw: Any) -> PolicyStatement:
    return PolicyStatement("Allow", actions=(actions,) if isinstance(actions, str) else actions,
                           resources=(resources,) if isinstance(resources, str) else resources, **kw)


# -- the fixtures ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("vpc", [None, True])
def test_a_tight_endpoint_role_passes_with_its_wildcard_only_actions(vpc: bool | None) -> None:
    analysis = _run(_file("tight-endpoint.json"), spec=_spec(vpc=vpc))
    assert analysis.issues == []
    assert {"ecr:GetAuthorizationToken", "cloudwatch:PutMetricData", "logs:PutLogEvents",
            "ec2:CreateNetworkInterface"} <= set(analysis.star_needed)
    assert analysis.granted == 23


@pytest.mark.parametrize("vpc", [None, True])
def test_aws_documented_execution_role_policy_is_not_flagged(vpc: bool | None) -> None:
    assert _run(_file("aws-createmodel-execution-role.json"), spec=_spec(vpc=vpc)).issues == []


def test_vpc_actions_are_not_needed_outside_a_vpc() -> None:
    analysis = _run(_file("aws-createmodel-execution-role.json"), spec=_spec(vpc=False))
    assert _found(analysis) == {("high", "permissions", 37), ("high", "star-resource", 37)}
    permissions, writes = sorted((i for i in analysis.issues), key=lambda i: i.kind)
    assert permissions.actions == ("ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterfacePermission")
    assert writes.actions == ("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface")
    assert "an inference endpoint does not call them" in writes.fix


def test_aws_unscoped_execution_role_policy_reads_every_bucket() -> None:
    analysis = _run(_file("aws-createmodel-execution-role-unscoped.json"))
    assert _found(analysis) == {("high", "exfiltration", 4), ("medium", "star-resource", 4)}
    high = analysis.issues[0]
    assert high.actions == ("s3:GetObject",)
    assert '"Resource":["arn:aws:s3:::acme-ml-models/fraud/v4/model.tar.gz"]' in high.fix
    reads = analysis.issues[1]
    assert reads.actions == ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
    assert "arn:aws:ecr:us-east-1:111122223333:repository/fraud-scorer" in reads.fix


def test_s3_star_on_every_resource() -> None:
    analysis = _run(_file("s3-star.json"))
    assert _found(analysis) == {("high", "service-wildcard", 4), ("high", "star-resource", 4),
                                ("high", "permissions", 4), ("high", "exfiltration", 4),
                                ("medium", "unneeded-write", 4), ("medium", "star-resource", 4)}
    wildcard = next(i for i in analysis.issues if i.kind == "service-wildcard")
    total = len(load_catalog().expand("s3:*"))
    assert f"grants the wildcard s3:*: {total} actions (" in wildcard.message
    assert "an inference endpoint needs s3:GetObject, s3:ListBucket, s3:PutObject" in wildcard.message
    assert len(wildcard.actions) == total
    # the replacement names the spec's resources
    assert '"arn:aws:s3:::acme-ml-capture/fraud-scorer/*"' in wildcard.fix
    assert "statement 1 (EverythingS3)" in wildcard.message


def test_privilege_escalation_role() -> None:
    analysis = _run(_file("privilege-escalation.json"))
    assert _found(analysis) == {("critical", "escalation", 10), ("critical", "combination", 28),
                                ("high", "escalation", 16), ("medium", "unneeded-write", 22),
                                ("medium", "passrole-service", 28)}
    single = next(i for i in analysis.issues if i.kind == "escalation" and i.severity == "critical")
    assert single.actions == ("iam:AttachRolePolicy", "iam:CreatePolicyVersion", "iam:PutRolePolicy")
    combo = next(i for i in analysis.issues if i.kind == "combination")
    assert "new Lambda function with an existing role, then invoke it (iam:PassRole in statement 5 " \
           "(PassRoleToLambda), lambda:CreateFunction in statement 4 (DeployHelpers), lambda:InvokeFunction in " \
           "statement 4 (DeployHelpers))" in combo.message


def test_not_action_role() -> None:
    analysis = _run(_file("not-action.json"))
    assert _found(analysis, blocking_only=True) == {
        ("high", "not-action", 4), ("critical", "escalation", 4), ("critical", "combination", 4),
        ("high", "escalation", 4), ("high", "star-resource", 4), ("high", "permissions", 4),
        ("high", "credentials", 4), ("high", "exfiltration", 4)}
    not_action = next(i for i in analysis.issues if i.kind == "not-action")
    count = int(re.search(r"([\d,]+) actions in", not_action.message).group(1).replace(",", ""))  # type: ignore[union-attr]
    catalog = load_catalog()
    excluded = sum(len(catalog.expand(p)) for p in ("iam:*", "organizations:*", "account:*"))
    assert count == catalog.size - excluded
    assert "sts:GetSessionToken" in next(i for i in analysis.issues if i.kind == "credentials").actions
    assumed = next(i for i in analysis.issues if i.kind == "escalation" and i.severity == "high")
    assert "sts:AssumeRole" in assumed.actions


def test_conditional_passrole_with_a_job_to_pass_it_to() -> None:
    analysis = _run(_file("conditional-passrole.json"))
    assert _found(analysis) == {("critical", "combination", 4), ("medium", "passrole-service", 4),
                                ("medium", "unneeded-write", 11)}
    assert "new SageMaker training job with an existing role" in analysis.issues[0].message


@pytest.mark.parametrize(("service", "job", "expected"), [
    ("sagemaker.amazonaws.com", (), {("medium", "passrole-service", 1)}),  # nothing to pass a role to
    ("lambda.amazonaws.com", ("sagemaker:CreateTrainingJob",),  # the condition keeps the role away from the job
     {("medium", "passrole-service", 1), ("medium", "unneeded-write", 2)}),
    ("sagemaker.amazonaws.com", ("sagemaker:CreateTrainingJob",),
     {("medium", "passrole-service", 1), ("medium", "unneeded-write", 2), ("critical", "combination", 1)}),
])
def test_passed_to_service_decides_which_combinations_are_reachable(service: str, job: tuple[str, ...],
                                                                     expected: set[Any]) -> None:
    passrole = _allow("iam:PassRole", conditions={"StringEquals": {"iam:PassedToService": service}})
    statements = [passrole, *([_allow(job, "arn:aws:sagemaker:*:111122223333:training-job/x")] if job else [])]
    assert _found(_run(_doc(*statements))) == expected


def test_amazon_sagemaker_full_access_document() -> None:
    analysis = _run(_file("AmazonSageMakerFullAccess.json"))
    blocking = _found(analysis, blocking_only=True)
    assert {("critical", "combination", 528),  # PassRole to SageMaker (AllowPassRoleToSageMaker) + training jobs
            ("high", "not-resource", 4), ("high", "service-wildcard", 4), ("high", "escalation", 4),
            ("high", "credentials", 638), ("high", "star-resource", 436)} <= blocking
    combo = next(i for i in analysis.issues if i.kind == "combination")
    assert "iam:PassRole in statement 31 (AllowPassRoleToSageMaker), sagemaker:CreateTrainingJob in statement 1 " \
           "(AllowAllNonAdminSageMakerActions)" in combo.message
    # conditions that tie a statement to tagged resources are honoured (AllowReadOnlySecretManagerActions)
    assert not any(i.location and i.location.line == 354 for i in analysis.issues)


def test_amazon_sagemaker_full_access_attached_by_arn() -> None:
    at = Location("mlgate.yaml", 12)
    analysis = _run(managed=[("arn:aws:iam::aws:policy/AmazonSageMakerFullAccess", at)])
    assert _found(analysis) == {("high", "managed-policy", 12), ("critical", "combination", 12)}
    summary = next(i for i in analysis.issues if i.kind == "managed-policy")
    assert summary.message.startswith("the AWS managed policy AmazonSageMakerFullAccess (v")
    assert "critical" not in summary.message  # the combination is role-wide, reported once on its own
    assert "`mlgate iam-policy`" in summary.fix


@pytest.mark.parametrize(("arn", "expected"), [
    ("arn:aws:iam::aws:policy/AdministratorAccess", {("critical", "managed-policy", 3)}),
    ("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly", {("medium", "managed-policy", 3)}),
    ("arn:aws:iam::aws:policy/SomethingNew", {("low", "managed-unknown", 3)}),
    ("arn:aws:iam::111122223333:policy/team-policy", {("low", "managed-unknown", 3)}),
])
def test_managed_policies_attached_by_arn(arn: str, expected: set[Any]) -> None:
    assert _found(_run(managed=[(arn, Location("mlgate.yaml", 3))])) == expected


def test_iac_documents_bring_their_managed_arns() -> None:
    doc = PolicyDocument("stack.yaml#Role", "cloudformation", (), Location("stack.yaml", 7),
                         managed_arns=("arn:aws:iam::aws:policy/AmazonS3FullAccess",))
    analysis = _run(doc)
    assert _found(analysis) == {("high", "managed-policy", 7)}


# -- documents built directly -----------------------------------------------------------------------------------


def test_full_admin_is_one_critical_finding() -> None:
    analysis = _run(_doc(_allow("*"), _allow("iam:PassRole")))
    assert _found(analysis) == {("critical", "admin", 1), ("critical", "escalation", 2)}
    admin = analysis.issues[0]
    assert f'grants every action ("*", {load_catalog().size:,} actions in ' in admin.message


def test_every_action_on_named_resources_is_not_admin() -> None:
    analysis = _run(_doc(_allow("*", "arn:aws:s3:::acme-ml-capture/fraud-scorer/*")))
    assert "admin" not in {i.kind for i in analysis.issues}
    assert ("medium", "unneeded-write", 1) in _found(analysis)


def test_an_unconditional_deny_takes_actions_away() -> None:
    analysis = _run(_doc(_allow("s3:*"), PolicyStatement("Deny", actions=("s3:*",), resources=("*",))))
    assert analysis.issues == []


def test_a_conditional_deny_is_not_subtracted() -> None:
    deny = PolicyStatement("Deny", actions=("s3:*",), resources=("*",),
                           conditions={"Bool": {"aws:SecureTransport": "false"}})
    assert ("high", "exfiltration", 1) in _found(_run(_doc(_allow("s3:*"), deny)))


def test_unknown_actions_are_low_and_do_not_stop_the_analysis() -> None:
    analysis = _run(_doc(_allow(("s3:GetObjects", "nosuchservice:Do*", "s3:GetObject"))))
    assert _found(analysis) == {("low", "unknown-action", 1), ("high", "exfiltration", 1)}
    unknown = next(i for i in analysis.issues if i.kind == "unknown-action")
    assert "s3:GetObjects, nosuchservice:Do*" in unknown.message


def test_writes_beyond_what_the_spec_names() -> None:
    analysis = _run(_doc(_allow("s3:PutObject", "arn:aws:s3:::another-bucket/*"),
                         _allow("s3:PutObject", "arn:aws:s3:::acme-ml-capture/fraud-scorer/2026/*")))
    assert _found(analysis) == {("medium", "beyond-spec", 1)}
    assert "arn:aws:s3:::acme-ml-capture/fraud-scorer/*" in analysis.issues[0].message
    deploy_time = _run(_doc(_allow("s3:PutObject", "arn:aws:s3:::${Ref:CaptureBucket}/*")))
    assert deploy_time.issues == []  # cannot be compared with the spec: not reported


@pytest.mark.parametrize(("statement", "expected"), [
    (_allow("ecr:Describe*", "arn:aws:ecr:us-east-1:111122223333:repository/fraud-scorer"),
     {("low", "service-wildcard", 1)}),  # reads on a named resource
    (_allow("s3:GetObjec?", "arn:aws:s3:::acme-ml-models/fraud/v4/model.tar.gz"), set()),  # one action: no finding
    (_allow("kms:Decrypt"), {("high", "star-resource", 1)}),  # "Write" for IAM: a broad grant
    (_allow("kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/*",
            conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/capture"}}), set()),
    (_allow("kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/*",
            conditions={"StringEqualsIfExists": {"kms:ResourceAliases": "alias/capture"}}),
     {("high", "star-resource", 1)}),  # IfExists does not narrow
    (_allow("cloudwatch:DescribeAlarms"), {("medium", "star-resource", 1)}),
    (_allow("sts:GetSessionToken"), {("high", "credentials", 1)}),
    (_allow("secretsmanager:GetSecretValue", conditions={"StringEquals": {"aws:ResourceTag/team": "fraud"}}), set()),
])
def test_single_statements(statement: PolicyStatement, expected: set[Any]) -> None:
    assert _found(_run(_doc(statement))) == expected


def test_analysis_without_a_suggestion_still_judges() -> None:
    spec = _spec()
    analysis = analyse([_doc(_allow("s3:GetObject"))], EndpointFacts.from_spec(spec), None)
    assert _found(analysis) == {("high", "exfiltration", 1)}
    assert "name the resources (ARNs)" in analysis.issues[0].fix
