"""The least-privilege policy mlgate builds from a spec (mlgate.iam.suggest) and `mlgate iam-policy`."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlgate.iam.suggest import EndpointFacts, suggest
from mlgate.spec.models import Spec
from tests.conftest import Repo

BASE: dict[str, Any] = {
    "version": 1,
    "provenance": {"artifact": {"uri": "s3://acme-ml-models/fraud/v4/model.tar.gz"}},
    "serving": {"pattern": "realtime", "endpoint": "fraud-scorer", "region": "us-east-1", "account": "111122223333",
                "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/team/fraud-scorer@sha256:" + "a" * 64},
    "rollout": {"rollback_alarms": ["fraud-5xx", "fraud-p99"]},
    "monitoring": {"capture": {"enabled": True, "destination": "s3://acme-ml-capture/fraud-scorer",
                               "kms_key": "alias/ml-capture"}},
}


def _spec(**sections: Any) -> Spec:
    data = {**BASE}
    for name, value in sections.items():
        data[name] = {**BASE.get(name, {}), **value} if isinstance(value, dict) else value
    return Spec.model_validate(data)


def _by_sid(spec: Spec) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in suggest(spec).statements}


def test_every_arn_comes_from_the_spec() -> None:
    statements = _by_sid(_spec())
    assert statements["ReadModelArtifact"]["Resource"] == ["arn:aws:s3:::acme-ml-models/fraud/v4/model.tar.gz"]
    assert statements["WriteCapturedData"]["Resource"] == ["arn:aws:s3:::acme-ml-capture/fraud-scorer/*"]
    kms = statements["EncryptCapturedData"]
    assert kms["Resource"] == ["arn:aws:kms:us-east-1:111122223333:key/*"]  # an alias: granted through a condition
    assert kms["Condition"] == {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/ml-capture"}}
    assert statements["PullInferenceImage"]["Resource"] == [
        "arn:aws:ecr:us-east-1:111122223333:repository/team/fraud-scorer"]
    assert statements["LogInToEcr"]["Resource"] == ["*"]
    assert statements["WriteEndpointLogs"]["Resource"] == [
        "arn:aws:logs:us-east-1:111122223333:log-group:/aws/sagemaker/Endpoints/fraud-scorer",
        "arn:aws:logs:us-east-1:111122223333:log-group:/aws/sagemaker/Endpoints/fraud-scorer:*"]
    assert statements["PublishEndpointMetrics"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": ["/aws/sagemaker/Endpoints"]}}
    assert statements["WatchRollbackAlarms"]["Resource"] == [
        "arn:aws:cloudwatch:us-east-1:111122223333:alarm:fraud-5xx",
        "arn:aws:cloudwatch:us-east-1:111122223333:alarm:fraud-p99"]
    assert "AttachToVpc" not in statements
    assert suggest(_spec()).notes == []


@pytest.mark.parametrize(("key", "resource"), [
    ("arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
     "arn:aws:kms:eu-west-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"),
    ("0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
     "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"),
    ("arn:aws:kms:eu-west-1:444455556666:alias/capture", "arn:aws:kms:eu-west-1:444455556666:key/*"),
])
def test_kms_key_forms(key: str, resource: str) -> None:
    statements = _by_sid(_spec(monitoring={"capture": {**BASE["monitoring"]["capture"], "kms_key": key}}))
    assert statements["EncryptCapturedData"]["Resource"] == [resource]


def test_region_and_account_are_read_from_an_arn_the_spec_holds() -> None:
    spec = _spec(serving={"region": None, "account": None},
                 monitoring={"capture": {**BASE["monitoring"]["capture"],
                                         "kms_key": "arn:aws:kms:eu-west-1:444455556666:key/k"}})
    logs = _by_sid(spec)["WriteEndpointLogs"]["Resource"][0]
    assert logs.startswith("arn:aws:logs:eu-west-1:444455556666:log-group:")
    assert suggest(spec).notes == []


def test_what_the_spec_leaves_open_becomes_a_note_never_a_guess() -> None:
    spec = Spec.model_validate({"version": 1, "serving": {"pattern": "async", "vpc": True, "image": "nginx:1"},
                                "monitoring": {"capture": {"enabled": True, "destination": "s3://cap/x/"}}})
    suggestion = suggest(spec)
    statements = {s["Sid"]: s for s in suggestion.statements}
    assert set(statements) == {"WriteCapturedData", "LogInToEcr", "WriteEndpointLogs", "PublishEndpointMetrics",
                               "AttachToVpc"}
    assert statements["WriteEndpointLogs"]["Resource"][0] == \
        "arn:aws:logs:*:*:log-group:/aws/sagemaker/Endpoints/*"
    notes = " | ".join(suggestion.notes)
    for expected in ("set serving.region and serving.account", "provenance.artifact.uri is not set",
                     "monitoring.capture.kms_key is not set", "serving.image 'nginx:1' is not an ECR image URI",
                     "serving.endpoint is not set", "asynchronous inference also writes results"):
        assert expected in notes


def test_endpoint_facts() -> None:
    facts = EndpointFacts.from_spec(_spec())
    assert (facts.capture, facts.async_, facts.alarms, facts.vpc) == (True, False, True, None)
    assert facts.holds("vpc") and facts.holds("capture") and not facts.holds("async")
    assert not EndpointFacts.from_spec(_spec(serving={"vpc": False})).holds("vpc")


def test_iam_policy_command(repo: Repo, cli: Any) -> None:
    repo.write("models/fraud/mlgate.yaml", """
        version: 1
        provenance:
          artifact: {uri: s3://acme-ml-models/fraud/v4/model.tar.gz}
        serving: {endpoint: fraud-scorer, region: us-east-1, account: "111122223333"}
    """)
    repo.write("pyproject.toml", """
        [tool.mlgate.params.SEC001]
        metric_namespaces = ["/aws/sagemaker/Endpoints", "FraudScorer"]
    """)
    code, out, err = cli("iam-policy", str(repo.root / "models"))
    assert code == 0
    policy = json.loads(out)
    assert policy["Version"] == "2012-10-17"
    metrics = next(s for s in policy["Statement"] if s["Sid"] == "PublishEndpointMetrics")
    assert metrics["Condition"]["StringEquals"]["cloudwatch:namespace"] == ["/aws/sagemaker/Endpoints", "FraudScorer"]
    assert "mlgate: note: serving.image is not set" in err


def test_iam_policy_command_needs_one_spec(repo: Repo, cli: Any) -> None:
    repo.write("a/mlgate.yaml", "version: 1\n")
    repo.write("b/mlgate.yaml", "version: 1\n")
    code, out, err = cli("iam-policy", str(repo.root))
    assert (code, out) == (2, "")
    assert "2 specs found" in err and "a/mlgate.yaml" in err
    code, _, err = cli("iam-policy", str(repo.root / "missing"))
    assert code == 2 and "no such file or directory" in err
