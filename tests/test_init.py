"""`mlgate init`: a first spec from what a real repository shows, which `mlgate check` loads right away."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlgate.deployment import resolve
from mlgate.evidence.workspace import Workspace
from mlgate.init import _scalar, draft, render
from mlgate.spec.load import load_spec
from mlgate.yamlload import parse_yaml
from tests.conftest import Repo

FIXTURES = Path(__file__).parent / "fixtures"

TRAIN = """\
import random

import numpy as np
import torch
import yaml

cfg = yaml.safe_load(open("train/config.yaml"))
seed = cfg["training"]["seed"]
random.seed(seed)
np.random.seed(seed)
torch.manual_seed(seed)
"""

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ModelDataUrl:
    Type: String
Resources:
  ExecutionRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - {Effect: Allow, Principal: {Service: sagemaker.amazonaws.com}, Action: "sts:AssumeRole"}
      Policies:
        - PolicyName: model-artifacts
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - {Effect: Allow, Action: "s3:GetObject", Resource: "arn:aws:s3:::acme-models/fraud/*"}
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ModelName: fraud-scorer-v4
      ExecutionRoleArn: !GetAtt ExecutionRole.Arn
      PrimaryContainer:
        Image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/fraud:4
        ModelDataUrl: !Ref ModelDataUrl
  EndpointConfig:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - VariantName: fraud-v4
          ModelName: !GetAtt Model.ModelName
          InstanceType: ml.c5.xlarge
          InitialInstanceCount: 2
      ShadowProductionVariants:
        - VariantName: fraud-v4-shadow
          ModelName: !GetAtt Model.ModelName
          InstanceType: ml.c5.xlarge
          InitialInstanceCount: 1
      DataCaptureConfig:
        EnableCapture: true
        InitialSamplingPercentage: 20
        DestinationS3Uri: s3://acme-capture/fraud/
        KmsKeyId: alias/capture
        CaptureOptions:
          - CaptureMode: Input
          - CaptureMode: Output
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointName: ENDPOINT_NAME
      EndpointConfigName: !GetAtt EndpointConfig.EndpointConfigName
      DeploymentConfig:
        BlueGreenUpdatePolicy:
          TrafficRoutingConfiguration:
            Type: CANARY
            CanarySize: {Type: CAPACITY_PERCENT, Value: 10}
            WaitIntervalInSeconds: 600
        AutoRollbackConfiguration:
          Alarms:
            - AlarmName: fraud-scorer-p99-latency
  LatencyAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: fraud-scorer-p99-latency
      Namespace: AWS/SageMaker
      MetricName: ModelLatency
      Dimensions:
        - {Name: EndpointName, Value: fraud-scorer}
        - {Name: VariantName, Value: fraud-v4}
      ExtendedStatistic: p99
      Period: 60
      EvaluationPeriods: 3
      Threshold: 150000
      ComparisonOperator: GreaterThanThreshold
"""

RUNBOOK = """\
# fraud-scorer runbook

Pager: pagerduty:risk-ml-primary

## Roll back
```
$ aws sagemaker update-endpoint-weights-and-capacities --endpoint-name fraud-scorer \\
    --desired-weights-and-capacities VariantName=fraud-v3,DesiredWeight=100 VariantName=fraud-v4,DesiredWeight=0
```
"""

DVC = "outs:\n- md5: 5d2e7f1c9b0a4e8d3c6b1a7f2e9d4c80\n  size: 1843221\n  hash: md5\n  path: labels.csv\n"


def realistic(repo: Repo, base: str = "", endpoint: str = "fraud-scorer") -> None:
    """Training code that seeds from a config, a uv.lock, a DVC-pinned dataset, a CloudFormation template with a
    SageMaker endpoint, and a runbook: the repository of a team about to adopt mlgate."""
    for name in ("pyproject.toml", "uv.lock"):
        repo.write(base + name, (FIXTURES / "lockfiles" / "uv" / name).read_text(encoding="utf-8"))
    repo.write(base + "train/config.yaml", "training:\n  seed: 1234\n  epochs: 3\n")
    repo.write(base + "train/train.py", TRAIN)
    repo.write(base + "data/labels.csv.dvc", DVC)
    repo.write(base + "deploy/endpoint.yaml", TEMPLATE.replace("ENDPOINT_NAME", endpoint))
    repo.write(base + "docs/runbook.md", RUNBOOK)
    repo.commit("the model repository")


def spec_data(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = parse_yaml(path.read_text(encoding="utf-8")).data
    return data


def test_realistic_repository_gives_a_spec_check_can_load(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    realistic(repo)
    code, out, err = cli("init", str(repo.root))
    assert code == 0, err
    spec_file = repo.root / "mlgate.yaml"
    assert f"wrote {spec_file}" in out
    assert "found lockfile uv.lock" in out and "found seed 1234 at train/config.yaml#training.seed" in out
    text = spec_file.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    load_spec(spec_file, root=repo.root)  # the spec loads as written
    data = spec_data(spec_file)
    prov = data["provenance"]
    assert prov["dependencies"] == {"lockfile": "uv.lock"}
    assert prov["seed"] == {"value": 1234, "source": "train/config.yaml#training.seed"}
    assert prov["code"] == {"paths": ["train/"]}
    assert prov["data"] == [{"name": "labels", "uri": "data/labels.csv", "dvc": "data/labels.csv.dvc"}]
    assert data["model"] == {"name": "fraud-scorer"}
    # lean: what the template states is read from it by `mlgate check`, not restated (issue 14)
    assert data["serving"] == {"endpoint": "fraud-scorer"}
    assert "shadow" not in data["rollout"] and "rollback_alarms" not in data["rollout"]
    assert "# TODO shadow: shadow variant fraud-v4-shadow is in the code" in text
    # CanarySize 10 % of the variant's 2 instances activates 1 instance: half the traffic
    assert data["rollout"]["canary"] == {"steps": [50, 100], "bake_time": "10m"}
    assert "capture" not in data["monitoring"]
    assert "# TODO capture: capture is configured in the code" in text
    resolved = resolve(load_spec(spec_file, root=repo.root), Workspace(repo.root))
    assert resolved.spec.serving is not None and resolved.spec.serving.instance_type == "ml.c5.xlarge"
    assert resolved.spec.serving.instance_count == 2 and resolved.spec.serving.pattern == "realtime"
    assert resolved.spec.rollout is not None and resolved.spec.rollout.rollback_alarms == ["fraud-scorer-p99-latency"]
    capture = resolved.spec.monitoring.capture if resolved.spec.monitoring else None
    assert capture is not None and (capture.enabled, capture.sampling_percent, capture.destination) == (
        True, 20, "s3://acme-capture/fraud/")
    assert data["monitoring"]["operational"]["alarms"] == [
        {"name": "fraud-scorer-p99-latency", "watches": "latency", "metric": "ModelLatency", "statistic": "p99",
         "threshold_ms": 150}]
    assert data["operations"] == {
        "on_call": "pagerduty:risk-ml-primary", "runbook": "docs/runbook.md",
        "rollback": "aws sagemaker update-endpoint-weights-and-capacities --endpoint-name fraud-scorer "
                    "--desired-weights-and-capacities VariantName=fraud-v3,DesiredWeight=100 "
                    "VariantName=fraud-v4,DesiredWeight=0"}
    assert data["security"] == {"execution_role": {"cloudformation": "deploy/endpoint.yaml"}}
    assert data["infrastructure"] == {"cloudformation": "deploy/endpoint.yaml"}
    # what only the team knows is a TODO, never a made-up value
    for field in ("version:", "owner:", "commit:", "artifact:", "traffic:", "retraining:", "pii:", "previous:"):
        assert f"# TODO {field}" in text, field
    assert "TODO" not in "".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))

    repo.commit("the spec")
    code, out, _ = cli("check", str(repo.root), "--format", "json")
    assert code == 1  # loads (not 2), and is not ready yet
    status = {r["rule"]: r["status"] for r in json.loads(out)["deployments"][0]["results"]}
    # every fact init found holds up
    for rule in ("REP001", "REP002", "REP003", "MON001", "OPS002", "IAC001", "IAC002", "IAC003"):
        assert status[rule] == "pass", (rule, status)
    # and what is left is what the TODOs say
    for rule in ("REP004", "REP005", "SRV001", "RLO003", "MON002", "OPS001"):
        assert status[rule] in ("fail", "warn"), (rule, status)


@pytest.mark.parametrize("existing", ["mlgate.yaml", "mlgate.yml"])
def test_never_overwrites_without_force(repo: Repo, cli, existing: str) -> None:  # type: ignore[no-untyped-def]
    realistic(repo)
    repo.write(existing, "version: 1\n# the team's own spec\n")
    code, _out, err = cli("init", str(repo.root))
    assert code == 2
    assert f"{existing} already exists" in err and "--force" in err
    assert (repo.root / existing).read_text(encoding="utf-8") == "version: 1\n# the team's own spec\n"
    code, _out, _err = cli("init", str(repo.root), "--force")
    assert code == 0
    assert "serving:" in (repo.root / existing).read_text(encoding="utf-8")
    assert sorted(p.name for p in repo.root.glob("mlgate.y*ml")) == [existing]
    assert not list(repo.root.glob(".*.tmp"))


def test_force_replaces_a_symlink_not_its_target(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    realistic(repo)
    outside = repo.root.parent / "elsewhere.yaml"
    outside.write_text("keep me\n", encoding="utf-8")
    (repo.root / "mlgate.yaml").symlink_to(outside)
    assert cli("init", str(repo.root))[0] == 2
    assert cli("init", str(repo.root), "--force")[0] == 0
    assert outside.read_text(encoding="utf-8") == "keep me\n"
    assert not (repo.root / "mlgate.yaml").is_symlink()


def test_stdout_writes_nothing(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    realistic(repo)
    code, out, _ = cli("init", str(repo.root), "--stdout")
    assert code == 0
    assert out.startswith("# yaml-language-server: $schema=")
    assert not (repo.root / "mlgate.yaml").exists()


def test_empty_repository_gives_a_loadable_spec_of_todos(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    repo.write("README.md", "# churn\n")
    repo.commit()
    assert cli("init", str(repo.root))[0] == 0
    data = spec_data(repo.root / "mlgate.yaml")
    assert data == {"version": 1, "model": {"name": "repo"}}
    assert cli("check", str(repo.root))[0] == 1


def test_no_such_directory(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = cli("init", str(tmp_path / "missing"))
    assert code == 2 and "no such directory" in err


@pytest.mark.parametrize(
    ("files", "seed"),
    [
        ({"train/params.json": '{"training": {"random_state": 7}}', "train/train.py": "import random\n"},
         {"value": 7, "source": "train/params.json#training.random_state"}),
        ({"train/config.toml": "[model]\nseed = 99\n", "train/train.py": "import random\nrandom.seed(99)\n"},
         {"value": 99, "source": "train/config.toml#model.seed"}),
        ({"train/train.py": "import random\nSEED = 2024\nrandom.seed(SEED)\n"},
         {"value": 2024, "source": "train/train.py#SEED"}),
        ({"params.yaml": "seed: 5\n", "train.py": "import numpy as np\nnp.random.seed(5)\n"},
         {"value": 5, "source": "params.yaml#seed"}),
        # two sources: the one whose value the code also uses wins
        ({"train/a.yaml": "seed: 1\n", "train/b.yaml": "seed: 42\n",
          "train/train.py": "import torch\ntorch.manual_seed(42)\n"},
         {"value": 42, "source": "train/b.yaml#seed"}),
        # a literal in the code: the value is known, where training should read it is not
        ({"train/train.py": "import torch\ntorch.manual_seed(31337)\n"}, {"value": 31337}),
        ({"train/train.py": "print('no seed')\n"}, None),
    ],
)
def test_seed_sources(repo: Repo, files: dict[str, str], seed: dict[str, Any] | None) -> None:
    for name, text in files.items():
        repo.write(name, text)
    repo.commit()
    text = render(draft(repo.root))
    data = parse_yaml(text).data
    assert data.get("provenance", {}).get("seed") == seed
    if seed is None or "source" not in seed:
        assert "# TODO source:" in text or "# TODO seed:" in text


def test_spec_in_a_subdirectory_points_up_to_the_lockfile(repo: Repo) -> None:
    realistic(repo, base="")
    repo.write("models/fraud/train/train.py", TRAIN)
    repo.write("models/fraud/train/config.yaml", "training:\n  seed: 8\n")
    repo.commit()
    data = parse_yaml(render(draft(repo.root / "models" / "fraud"))).data
    assert data["provenance"]["dependencies"] == {"lockfile": "../../uv.lock"}
    assert data["provenance"]["code"] == {"paths": ["train/"]}
    assert "serving" not in data  # the template is outside this deployment's directory


def test_policy_file_and_terraform(repo: Repo) -> None:
    repo.write("iam/role.json", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}))
    repo.write("other.json", '{"not": "a policy"}')
    repo.write("infra/main.tf", """\
resource "aws_sagemaker_endpoint_configuration" "main" {
  name = "churn-config"
  production_variants {
    variant_name           = "churn-v2"
    model_name             = "churn-model"
    initial_instance_count = 3
    instance_type          = "ml.m5.large"
  }
}

resource "aws_sagemaker_endpoint" "main" {
  name                 = "churn"
  endpoint_config_name = aws_sagemaker_endpoint_configuration.main.name
}
""")
    repo.commit()
    data = parse_yaml(render(draft(repo.root))).data
    assert data["security"] == {"execution_role": {"policy": "iam/role.json"}}
    assert data["infrastructure"] == {"terraform": "infra"}
    assert data["serving"] == {"endpoint": "churn"}  # the instance type and count stay in the Terraform


def test_unreadable_template_is_noted_not_fatal(repo: Repo) -> None:
    repo.write("deploy/endpoint.yaml", "Resources:\n  E:\n    Type: AWS::SageMaker::Endpoint\n   bad: [\n")
    repo.commit()
    text = render(draft(repo.root))
    assert "# Note: deploy/endpoint.yaml could not be read" in text
    # never a reference `mlgate check` cannot use
    assert "infrastructure" not in parse_yaml(text).data


def test_crafted_names_stay_data(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    crafted = 'a: "b" # c\nversion: 2'
    realistic(repo, endpoint=json.dumps(crafted))
    assert cli("init", str(repo.root))[0] == 0
    data = spec_data(repo.root / "mlgate.yaml")
    assert data["version"] == 1
    assert data["serving"]["endpoint"] == crafted
    assert data["model"]["name"] == crafted


@pytest.mark.parametrize("value", ["plain", "s3://b/k", "train/c.yaml#a.b", "yes", "no", "1.0", "0123", "null",
                                   "a: b", "#x", "- x", "@x", "x\ny", "'q'", '"q"', "ü", "", "a #b", "~", "*x",
                                   "&x", "!x", "%x", "{x}", "[x]", "x:", "\u2028"])
def test_scalars_read_back_as_written(value: str) -> None:
    assert parse_yaml(f"k: {_scalar(value)}\n").data == {"k": value}


@pytest.mark.parametrize(
    ("runbook", "rollback", "on_call"),
    [
        (RUNBOOK, "aws sagemaker update-endpoint-weights-and-capacities --endpoint-name fraud-scorer "
                  "--desired-weights-and-capacities VariantName=fraud-v3,DesiredWeight=100 "
                  "VariantName=fraud-v4,DesiredWeight=0", "pagerduty:risk-ml-primary"),
        ("Roll back with `aws sagemaker update-endpoint-weights-and-capacities --endpoint-name e "
         "--desired-weights-and-capacities VariantName=a,DesiredWeight=100` then tell #ml.\nPage opsgenie:ml-team.\n",
         "aws sagemaker update-endpoint-weights-and-capacities --endpoint-name e "
         "--desired-weights-and-capacities VariantName=a,DesiredWeight=100", "opsgenie:ml-team"),
        ("# Runbook\nNothing about rolling back yet.\n", None, None),
    ],
)
def test_runbook_facts(repo: Repo, runbook: str, rollback: str | None, on_call: str | None) -> None:
    repo.write("docs/RUNBOOK.md", runbook)
    text = render(draft(repo.root))
    ops = parse_yaml(text).data["operations"]
    assert ops.get("runbook") == "docs/RUNBOOK.md"
    assert ops.get("rollback") == rollback
    assert ops.get("on_call") == on_call
    if rollback is None:
        assert "# TODO rollback: the rollback command, also written in docs/RUNBOOK.md" in text


def test_cdk_without_synth_says_to_run_it(repo: Repo) -> None:
    repo.write("cdk.json", '{"app": "python3 app.py"}\n')
    repo.write("app.py", "import aws_cdk\n")
    repo.commit()
    text = render(draft(repo.root))
    assert "run `cdk synth`" in text
    assert "infrastructure" not in parse_yaml(text).data


def _schema_line(text: str) -> str:
    first = text.splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    return first.removeprefix("# yaml-language-server: $schema=")


def test_the_schema_the_spec_points_at_exists(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    """Repro: init pointed editors at https://mlgate.dev/schema/mlgate-spec-1.json, which serves nothing. Without
    a schema in the repository, the spec points at the one in the installed package, and says how to do better."""
    from mlgate.spec.models import json_schema

    realistic(repo)
    assert cli("init", str(repo.root))[0] == 0
    text = (repo.root / "mlgate.yaml").read_text(encoding="utf-8")
    schema = Path(_schema_line(text))
    assert schema.is_absolute() and json.loads(schema.read_text(encoding="utf-8")) == json_schema()
    assert "# Note: $schema above is the copy in this machine's mlgate; for one every clone has, run `mlgate " \
           "schema > mlgate.schema.json` here and point $schema at ./mlgate.schema.json" in text


@pytest.mark.parametrize(("schema_at", "spec_dir", "expected"), [
    ("mlgate.schema.json", "", "./mlgate.schema.json"),
    ("mlgate.schema.json", "models/fraud/", "../../mlgate.schema.json"),
    ("models/mlgate.schema.json", "models/fraud/", "../mlgate.schema.json"),
])
def test_a_schema_written_into_the_repository_is_pointed_at_relatively(
        repo: Repo, cli, schema_at: str, spec_dir: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    """As the README says: `mlgate schema > mlgate.schema.json`, then `mlgate init` points the spec at it."""
    realistic(repo, base=spec_dir)
    code, schema, _ = cli("schema")
    assert code == 0
    repo.write(schema_at, schema)
    repo.write(spec_dir + "other.schema.json", "{}")
    assert cli("init", str(repo.root / spec_dir))[0] == 0
    text = (repo.root / spec_dir / "mlgate.yaml").read_text(encoding="utf-8")
    assert _schema_line(text) == expected
    assert (repo.root / spec_dir / expected).resolve() == (repo.root / schema_at).resolve()
    assert "$schema above is the copy" not in text


def test_a_file_of_that_name_that_is_not_our_schema_is_not_pointed_at(repo: Repo) -> None:
    repo.write("mlgate.schema.json", '{"title": "something else"}')
    assert _schema_line(render(draft(repo.root))) != "./mlgate.schema.json"


def test_the_packaged_schema_is_the_models() -> None:
    """The schema shipped in the package must be what `mlgate schema` prints; after changing the spec models:
    mlgate schema > src/mlgate/spec/mlgate-spec-1.schema.json"""
    from mlgate.spec.models import SCHEMA_FILE, json_schema

    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == json_schema()


def test_model_name_is_the_endpoint_named_by_the_runbook(repo: Repo) -> None:
    """Repro: in a directory named 1_model-deployment whose template computes the endpoint name at deploy time,
    model.name defaulted to the directory's name while the runbook's rollback command names the endpoint."""
    base = "1_model-deployment/"
    realistic(repo, base=base, endpoint="!Sub ${AWS::StackName}-endpoint")
    text = render(draft(repo.root / base))
    data = parse_yaml(text).data
    assert data["model"] == {"name": "fraud-scorer"}
    assert data["serving"]["endpoint"] == "fraud-scorer"
    assert "endpoint: fraud-scorer  # named by the rollback command in docs/runbook.md (Endpoint at " \
           "deploy/endpoint.yaml:" in text
    assert "1_model-deployment" not in text.split("serving:")[0]


@pytest.mark.parametrize("command", [
    "aws sagemaker update-endpoint-weights-and-capacities --endpoint-name $ENDPOINT "
    "--desired-weights-and-capacities VariantName=a,DesiredWeight=100",
    "aws sagemaker update-endpoint-weights-and-capacities --endpoint-name <endpoint> "
    "--desired-weights-and-capacities VariantName=a,DesiredWeight=100",
])
def test_a_placeholder_endpoint_in_the_runbook_is_not_a_name(repo: Repo, command: str) -> None:
    repo.write("1_model-deployment/docs/runbook.md", f"Roll back:\n\n    {command}\n")
    data = parse_yaml(render(draft(repo.root / "1_model-deployment"))).data
    assert data["model"] == {"name": "1_model-deployment"}
    assert "endpoint" not in data.get("serving", {})


ROLE_TEMPLATE = """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {Version: "2012-10-17", Statement: []}
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: !GetAtt Role.Arn
      PrimaryContainer: {Image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/m@sha256:abc}
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - {VariantName: v1, ModelName: !GetAtt Model.ModelName, InstanceType: ml.m5.large, InitialInstanceCount: 2}
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties: {EndpointName: scorer, EndpointConfigName: !GetAtt Config.EndpointConfigName}
"""

LAMBDA_POLICY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}'


def test_the_endpoints_role_is_named_not_another_policy_file(repo: Repo) -> None:
    """A policy file of something else (a Lambda's) is not the endpoint's role: the role the model runs as is."""
    repo.write("deploy/endpoint.yaml", ROLE_TEMPLATE)
    repo.write("lambda/policy.json", LAMBDA_POLICY)
    repo.commit()
    data = parse_yaml(render(draft(repo.root))).data
    assert data["security"]["execution_role"] == {"cloudformation": "deploy/endpoint.yaml"}


def test_a_role_arn_from_elsewhere_names_no_terraform_role(repo: Repo) -> None:
    repo.write("infra/main.tf", """\
resource "aws_iam_role" "pipeline" {
  name               = "pipeline"
  assume_role_policy = "{}"
}
resource "aws_sagemaker_model" "m" {
  name               = "m"
  execution_role_arn = "arn:aws:iam::111122223333:role/serving"
  primary_container { image = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/m@sha256:abc" }
}
resource "aws_sagemaker_endpoint_configuration" "c" {
  name = "c"
  production_variants {
    variant_name           = "v1"
    model_name             = aws_sagemaker_model.m.name
    instance_type          = "ml.m5.large"
    initial_instance_count = 2
  }
}
resource "aws_sagemaker_endpoint" "e" {
  name                 = "scorer"
  endpoint_config_name = aws_sagemaker_endpoint_configuration.c.name
}
""")
    repo.commit()
    data = parse_yaml(render(draft(repo.root))).data
    assert "execution_role" not in (data.get("security") or {})  # the pipeline's role is not the endpoint's
