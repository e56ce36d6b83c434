"""`mlgate aws-policy`: exactly the actions of the operations mlgate calls, passing mlgate's own SEC001 analysis
without a blocking finding, and enough for a whole `check --aws` under moto's IAM enforcement."""

from __future__ import annotations

import json
from typing import Any

import boto3
import moto.settings
import pytest

from mlgate.aws.operations import OPERATIONS
from mlgate.evidence.iam import parse_policy
from mlgate.iam.analysis import analyse
from mlgate.iam.suggest import EndpointFacts
from mlgate.spec.load import load_spec
from tests.aws.conftest import ACCOUNT, ROLE, Account, client
from tests.aws.test_online import Cli, check, texts
from tests.conftest import Repo

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"


def _with_role_arn(repo: Repo) -> None:
    spec = repo.root / "mlgate.yaml"
    line = "    policy: deploy/iam/churn-predictor-role.json\n"
    spec.write_text(spec.read_text().replace(line, f"{line}    arn: {ROLE_ARN}\n"))


def _policy(cli: Cli, repo: Repo) -> tuple[dict[str, Any], str]:
    code, out, err = cli("aws-policy", str(repo.root))
    assert code == 0, err
    return json.loads(out), err


def test_grants_exactly_the_actions_of_mlgates_operations(churn: tuple[Repo, Account], cli: Cli) -> None:
    repo, _ = churn
    _with_role_arn(repo)
    policy, _ = _policy(cli, repo)
    granted = {a for s in policy["Statement"] for a in s["Action"]}
    assert granted == {a for op in OPERATIONS for a in op.actions}
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    resources = {r for s in policy["Statement"] for r in s["Resource"]}
    assert ROLE_ARN in resources
    assert "arn:aws:s3:::acme-ml-data/churn/events/2026-10/events.parquet" in resources
    assert f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:churn-predictor-5xx-rate" in resources


def test_passes_sec001_without_a_blocking_finding(churn: tuple[Repo, Account], cli: Cli) -> None:
    """The policy goes through SEC001's analysis as a policy file would. What remains are medium (non-blocking)
    findings for the reads on resources only the account names (the endpoint config, the models, the monitoring
    schedules, the role's customer managed policies), which the notes on standard error say."""
    repo, _ = churn
    _with_role_arn(repo)
    policy, notes = _policy(cli, repo)
    spec = load_spec(repo.root / "mlgate.yaml", root=repo.root).spec
    analysis = analyse([parse_policy(policy, name="aws-policy", kind="policy-file")], EndpointFacts.from_spec(spec))
    assert [i for i in analysis.issues if i.blocking] == []
    assert {(i.severity, i.kind) for i in analysis.issues} == {("medium", "star-resource")}
    wide = {r for s in policy["Statement"] for r in s["Resource"] if r.endswith("/*") or r == "*"}
    assert wide == {f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:endpoint-config/*",
                    f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model/*",
                    f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:monitoring-schedule/*",
                    f"arn:aws:iam::{ACCOUNT}:policy/*",
                    # EVL002: the production model's package and its ModelMetrics object, named only in the account
                    f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package/*",
                    "arn:aws:s3:::acme-ml-models/*",
                    "*"}  # ListMonitoringSchedules takes no resource ARN
    assert "named only in the account" in notes


def test_a_spec_without_aws_resources_needs_nothing(repo: Repo, cli: Cli) -> None:
    repo.write("mlgate.yaml", "version: 1\nmodel: {name: m}\nserving: {pattern: batch}\n")
    repo.commit()
    policy, notes = _policy(cli, repo)
    assert policy["Statement"] == []
    assert "the spec names nothing mlgate looks up in the account" in notes


def test_the_policy_is_enough_for_a_whole_run(churn: tuple[Repo, Account], cli: Cli,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Under moto's IAM enforcement, a user holding only the printed policy runs `check --aws` without one access
    denied. moto evaluates the actions of a request but not its resource ARN (it checks every SageMaker, IAM and
    CloudWatch request against Resource "*"), so the policy's resources are widened to "*" here: this proves the
    actions, and `test_grants_exactly_the_actions_of_mlgates_operations` the resources the spec names."""
    repo, account = churn
    _with_role_arn(repo)
    account.broad_role = True  # a customer managed policy: GetPolicy and GetPolicyVersion are needed too
    account.build()
    policy, _ = _policy(cli, repo)
    for statement in policy["Statement"]:
        statement["Resource"] = "*"
    # Two actions moto names its own way: its S3 authorizes GetObjectLockConfiguration as s3:ListBucket (its action
    # map has no entry for ?object-lock; IAM's action is s3:GetBucketObjectLockConfiguration, which the policy
    # grants), and it authorizes CloudWatch's DescribeAlarms under the endpoint prefix, monitoring:DescribeAlarms
    # (IAM's is cloudwatch:DescribeAlarms, granted).
    policy["Statement"].append({"Effect": "Allow", "Action": ["s3:ListBucket", "monitoring:DescribeAlarms"],
                                "Resource": "*"})
    iam = client("iam")
    iam.create_user(UserName="mlgate-ci")
    iam.put_user_policy(UserName="mlgate-ci", PolicyName="mlgate", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="mlgate-ci")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    _, results, _ = check(cli, repo)
    everything = "\n".join(texts(r) for r in results.values())
    assert "access denied" not in everything
    assert "live role churn-predictor-serving" in texts(results["SEC001"])


def test_moto_authorizes_a_versioned_head_object_as_iam_does(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole-run test above relies on moto authorizing S3 as IAM does. Amazon S3's HeadObject API reference
    (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html): "To use HEAD, you must have the
    s3:GetObject permission ... the relevant read object (or version) permission"; there is no `s3:HeadObject` IAM
    action (Service Authorization Reference, Amazon S3). moto 5.2.6 authorizes the request as `s3:HeadObject`
    (its new request routing drops the S3 action map that moto PR #8334 fixed), so a user holding both read
    actions is denied. requirements/dev.lock pins moto and pyproject excludes 5.2.6; if a regenerated lock brings
    a moto that fails here, pin around it the same way rather than loosen the whole-run test."""
    s3 = client("s3")
    s3.create_bucket(Bucket="canary", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_versioning(Bucket="canary", VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket="canary", Key="k", Body=b"v1")["VersionId"]
    iam = client("iam")
    iam.create_user(UserName="reader")
    iam.put_user_policy(UserName="reader", PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": "*"}]}))
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    reader = boto3.session.Session(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
                                   region_name="eu-west-1")
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    head = reader.client("s3").head_object(Bucket="canary", Key="k", VersionId=version)
    assert head["VersionId"] == version
