"""The values teams really deploy with, read into the infrastructure facts the IAC rules (and SEC001) judge:
CloudFormation parameter files (`infrastructure.parameters`), conditions they decide, Terraform `-var-file`s
(`infrastructure.tfvars`), local Terraform modules followed with their inputs, SAM templates and Serverless
Framework files. Each test is a repository as a user writes it, checked by the rules."""

from __future__ import annotations

import json

import pytest

from mlgate.evidence.iac import Infrastructure, infrastructure
from mlgate.evidence.site import Site
from mlgate.evidence.workspace import Workspace
from mlgate.result import RuleResult
from mlgate.spec.load import load_spec
from tests.conftest import Repo, messages

STACK = """\
Parameters:
  ProjectName:
    Type: String
  StageName:
    Type: String
    AllowedValues: [staging, prod]
  EndpointInstanceType:
    Type: String
  EndpointInstanceCount:
    Type: Number
    Default: 1
  SamplingPercentage:
    Type: Number
    Default: 10
Resources:
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: arn:aws:iam::111122223333:role/scorer
      PrimaryContainer: {Image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/scorer@sha256:abc}
  EndpointConfig:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - VariantName: AllTraffic
          ModelName: !GetAtt Model.ModelName
          InstanceType: !Ref EndpointInstanceType
          InitialInstanceCount: !Ref EndpointInstanceCount
          InitialVariantWeight: 1.0
      DataCaptureConfig:
        EnableCapture: true
        InitialSamplingPercentage: !Ref SamplingPercentage
        DestinationS3Uri: s3://acme-capture/scorer/
        CaptureOptions: [{CaptureMode: Input}, {CaptureMode: Output}]
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointName: !Sub ${ProjectName}-${StageName}
      EndpointConfigName: !GetAtt EndpointConfig.EndpointConfigName
"""

# the same values in each format the AWS tools take; `line` is the line of EndpointInstanceType's value
PARAMETER_FILES = {
    "cli-json": ("deploy/params/prod.json", json.dumps([
        {"ParameterKey": "ProjectName", "ParameterValue": "scorer"},
        {"ParameterKey": "StageName", "ParameterValue": "prod"},
        {"ParameterKey": "EndpointInstanceType", "ParameterValue": "ml.c5.xlarge"},
        {"ParameterKey": "EndpointInstanceCount", "ParameterValue": "3"},
    ], indent=2) + "\n", 12),
    "sagemaker-project": ("deploy/prod-config.json", json.dumps({"Parameters": {
        "ProjectName": "scorer", "StageName": "prod", "EndpointInstanceType": "ml.c5.xlarge",
        "EndpointInstanceCount": "3"}}, indent=2) + "\n", 5),
    "key-value": ("deploy/prod.params", "# prod, passed to aws cloudformation deploy --parameter-overrides\n\n"
                  "ProjectName=scorer\nStageName=prod\nEndpointInstanceType=ml.c5.xlarge\n"
                  "EndpointInstanceCount=\"3\"\n", 5),
}


def _spec(infrastructure: str, serving: str = "") -> str:
    return (f"version: 1\nserving:\n  pattern: realtime\n{serving}"
            f"infrastructure:\n{infrastructure}")


def _infrastructure(repo: Repo) -> Infrastructure:
    """What the spec's infrastructure code deploys, read as the IAC rules read it."""
    loaded = load_spec(repo.root / "mlgate.yaml", root=repo.root)
    found = infrastructure(Site.written(loaded, Workspace(repo.root)))
    assert found is not None
    return found


def _finding(result: RuleResult, fragment: str) -> str:
    hits = [f.message for f in result.findings if fragment in f.message]
    assert hits, messages(result)
    return hits[0]


# -- CloudFormation parameter files ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", sorted(PARAMETER_FILES))
def test_a_parameter_file_gives_the_deployed_values(repo: Repo, fmt: str) -> None:
    path, text, line = PARAMETER_FILES[fmt]
    repo.write("deploy/stack.yaml", STACK)
    repo.write(path, text)
    repo.write("mlgate.yaml", _spec(f"  cloudformation: deploy/stack.yaml\n  parameters: {path}\n",
                                    "  endpoint: scorer-prod\n  instance_type: ml.c5.xlarge\n  instance_count: 3\n"))
    repo.commit()
    result = repo.rule("IAC001")
    assert result.status == "pass", messages(result)
    agreed = _finding(result, "the spec agrees with the infrastructure code")
    assert "the endpoint's name scorer-prod (deploy/stack.yaml:38" in agreed
    assert f"InstanceType ml.c5.xlarge (deploy/stack.yaml:27; parameter EndpointInstanceType from {path}:{line})" \
        in agreed
    assert f"parameter EndpointInstanceCount from {path}:" in agreed


def test_a_spec_that_disagrees_with_the_parameter_file_fails_with_both_places(repo: Repo) -> None:
    path, text, _ = PARAMETER_FILES["cli-json"]
    repo.write("deploy/stack.yaml", STACK)
    repo.write(path, text)
    repo.write("mlgate.yaml", _spec(f"  cloudformation: deploy/stack.yaml\n  parameters: {path}\n",
                                    "  endpoint: scorer-prod\n  instance_type: ml.m5.large\n"))
    repo.commit()
    result = repo.rule("IAC001")
    assert result.status == "fail"
    failed = [f for f in result.findings if f.status == "fail"]
    assert len(failed) == 1, messages(result)
    assert failed[0].message.startswith(
        "serving.instance_type is ml.m5.large, but the infrastructure code sets variant 'AllTraffic' (the only "
        "production variant)'s InstanceType to ml.c5.xlarge (parameter EndpointInstanceType "
        "from deploy/params/prod.json:12);")
    assert failed[0].location is not None and (failed[0].location.path, failed[0].location.line) == ("mlgate.yaml", 5)
    # both other places: where the parameter file sets it, and where the template uses it
    assert [(r.path, r.line) for r in failed[0].related] == [("deploy/params/prod.json", 12), ("deploy/stack.yaml", 27)]


def test_without_a_parameter_file_the_same_values_are_unknown(repo: Repo) -> None:
    repo.write("deploy/stack.yaml", STACK)
    repo.write("mlgate.yaml", _spec("  cloudformation: deploy/stack.yaml\n", "  instance_type: ml.c5.xlarge\n"))
    repo.commit()
    result = repo.rule("IAC001")
    assert result.status == "warn"
    assert "parameter EndpointInstanceType has no default: its value is given at deploy time" in messages(result)


def test_a_later_parameter_file_overrides_an_earlier_one_and_defaults_fill_the_rest(repo: Repo) -> None:
    repo.write("deploy/stack.yaml", STACK)
    repo.write("deploy/common.params", "ProjectName=scorer\nStageName=staging\nEndpointInstanceType=ml.m5.large\n")
    repo.write("deploy/prod.json", '{"Parameters": {"StageName": "prod", "EndpointInstanceType": "ml.c5.xlarge"}}\n')
    repo.write("mlgate.yaml", _spec("  cloudformation: deploy/stack.yaml\n  parameters:\n    - deploy/common.params\n"
                                    "    - deploy/prod.json\n",
                                    "  endpoint: scorer-prod\n  instance_type: ml.c5.xlarge\n  instance_count: 1\n"))
    repo.commit()
    result = repo.rule("IAC001")
    assert result.status == "pass", messages(result)
    agreed = _finding(result, "the spec agrees")
    assert "parameter EndpointInstanceType from deploy/prod.json:1" in agreed
    assert "InitialInstanceCount 1 (deploy/stack.yaml:28; the default of parameter EndpointInstanceCount, " \
           "deploy/stack.yaml:11 (not set in deploy/common.params, deploy/prod.json))" in agreed


@pytest.mark.parametrize(("path", "text", "line", "fragment"), [
    ("deploy/prod.json", '[{"ParameterKey": "ProjectName", "ParameterValue": "scorer"},\n'
                         ' {"ParameterKey": "InstanceSize", "ParameterValue": "big"}]\n', 2,
     "sets parameter InstanceSize, which deploy/stack.yaml does not declare (its parameters: EndpointInstanceCount, "
     "EndpointInstanceType, ProjectName, SamplingPercentage, StageName); CloudFormation refuses the deployment"),
    ("deploy/prod.json", '{"Parameters": {\n  "ProjectName": "scorer",\n}}\n', 3, "is not valid JSON"),
    ("deploy/prod.json", '{"Tags": {"team": "ml"}}\n', 1, 'is a JSON object without a "Parameters" mapping'),
    ("deploy/prod.json", '[{"ParameterKey": "ProjectName", "ParameterValue": ["a", "b"]}]\n', 1,
     "the value of parameter ProjectName is list, not text"),
    ("deploy/prod.params", "ProjectName=scorer\n# the stage\nStageName prod\n", 3,
     "'StageName prod' is not Key=Value"),
    ("deploy/prod.params", "ProjectName=scorer\nProjectName=other\n", 2,
     "parameter ProjectName is set twice in this file (first at line 1)"),
    ("deploy/prod.params", "StageName=production\n", 1,
     "parameter StageName is 'production', which is not one of its AllowedValues (staging, prod)"),
    ("deploy/prod.params", "EndpointInstanceCount=three\n", 1,
     "parameter EndpointInstanceCount is a Number, but is set to 'three'"),
])
def test_a_parameter_file_mlgate_cannot_trust_is_an_error_at_its_line(repo: Repo, path: str, text: str, line: int,
                                                                      fragment: str) -> None:
    repo.write("deploy/stack.yaml", STACK)
    repo.write(path, text)
    repo.write("mlgate.yaml", _spec(f"  cloudformation: deploy/stack.yaml\n  parameters: {path}\n"))
    repo.commit()
    result = repo.rule("IAC001")
    assert result.status == "error"
    (finding,) = result.findings
    assert fragment in finding.message, finding.message
    assert finding.location is not None and (finding.location.path, finding.location.line) == (path, line)


@pytest.mark.parametrize(("infrastructure", "line", "fragment"), [
    ("  cloudformation: deploy/stack.yaml\n  parameters: [deploy/prod.json, deploy/missing.json]\n", 6,
     "infrastructure.parameters names deploy/missing.json, which is not a file"),
    ("  terraform: deploy/tf\n  parameters: deploy/prod.json\n", 6,
     "infrastructure.parameters gives values to a CloudFormation template, but the spec names no "
     "infrastructure.cloudformation"),
])
def test_parameter_files_named_wrongly_are_an_error_at_the_spec_line(repo: Repo, infrastructure: str, line: int,
                                                                     fragment: str) -> None:
    repo.write("deploy/stack.yaml", STACK)
    repo.write("deploy/tf/main.tf", 'resource "aws_sagemaker_endpoint" "e" {\n  name = "scorer"\n'
                                    '  endpoint_config_name = "c"\n}\n')
    repo.write("deploy/prod.json", '{"Parameters": {"ProjectName": "scorer"}}\n')
    repo.write("mlgate.yaml", _spec(infrastructure))
    repo.commit()
    result = repo.rule("IAC001")
    assert result.status == "error"
    assert fragment in result.findings[0].message
    assert result.findings[0].location is not None and result.findings[0].location.line == line


def test_use_previous_value_and_ssm_parameters_stay_unknown(repo: Repo) -> None:
    repo.write("deploy/stack.yaml", STACK.replace("""  EndpointInstanceCount:
    Type: Number
    Default: 1""", """  EndpointInstanceCount:
    Type: AWS::SSM::Parameter::Value<String>
    Default: /ml/scorer/instance-count"""))
    repo.write("deploy/prod.json", json.dumps([
        {"ParameterKey": "EndpointInstanceType", "UsePreviousValue": True}], indent=2) + "\n")
    repo.write("mlgate.yaml", _spec("  cloudformation: deploy/stack.yaml\n  parameters: deploy/prod.json\n",
                                    "  instance_type: ml.c5.xlarge\n  instance_count: 3\n"))
    repo.commit()
    text = messages(repo.rule("IAC001"))
    assert "parameter EndpointInstanceType keeps the value the deployed stack already has (UsePreviousValue) " \
           "(deploy/prod.json:4)" in text
    assert "parameter EndpointInstanceCount is read from SSM parameter /ml/scorer/instance-count " \
           "(deploy/stack.yaml:11) at deploy time" in text


STAGED = """\
Parameters:
  StageName: {Type: String}
Conditions:
  IsProd: !Equals [!Ref StageName, prod]
  IsNotProd: !Not [!Condition IsProd]
Resources:
  EndpointConfig:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      !If
        - IsProd
        - ProductionVariants:
            - {VariantName: AllTraffic, ModelName: m, InstanceType: ml.c5.xlarge, InitialInstanceCount: 2}
          DataCaptureConfig:
            !If
              - IsNotProd
              - !Ref AWS::NoValue
              - {EnableCapture: true, InitialSamplingPercentage: 50, DestinationS3Uri: "s3://acme/capture/",
                 CaptureOptions: [{CaptureMode: Input}]}
        - ProductionVariants:
            - VariantName: AllTraffic
              ModelName: m
              ServerlessConfig: {MemorySizeInMB: 2048, MaxConcurrency: 5}
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointName: !Sub scorer-${StageName}
      EndpointConfigName: !GetAtt EndpointConfig.EndpointConfigName
      DeploymentConfig:
        !If
          - IsNotProd
          - !Ref AWS::NoValue
          - !If
              - IsProd
              - BlueGreenUpdatePolicy:
                  TrafficRoutingConfiguration:
                    Type: CANARY
                    CanarySize: {Type: CAPACITY_PERCENT, Value: 10}
                    WaitIntervalInSeconds: 600
              - !Ref AWS::NoValue
  StagingAlarm:
    Type: AWS::CloudWatch::Alarm
    Condition: IsNotProd
    Properties: {AlarmName: scorer-staging-errors, Namespace: AWS/SageMaker, MetricName: Invocation5XXErrors,
                 Statistic: Sum, Threshold: 1}
"""


@pytest.mark.parametrize(("stage", "serving", "status"), [
    ("prod", "  endpoint: scorer-prod\n  instance_type: ml.c5.xlarge\n  instance_count: 2\n", "pass"),
    ("staging", "  endpoint: scorer-staging\n  pattern: serverless\n  serverless: {memory_mb: 2048, "
                "max_concurrency: 5}\n", "pass"),
    ("prod", "  endpoint: scorer-prod\n  pattern: serverless\n", "fail"),
])
def test_conditions_over_parameter_values_are_decided(repo: Repo, stage: str, serving: str, status: str) -> None:
    repo.write("deploy/stack.yaml", STAGED)
    repo.write("deploy/prod.params", f"StageName={stage}\n")
    spec = _spec("  cloudformation: deploy/stack.yaml\n  parameters: deploy/prod.params\n", serving)
    repo.write("mlgate.yaml", spec.replace("  pattern: realtime\n", "") if "pattern: serverless" in serving
               else spec)
    repo.commit()
    result = repo.rule("IAC001")
    assert result.status == status, messages(result)
    if stage == "prod" and status == "pass":
        assert "InstanceType ml.c5.xlarge (deploy/stack.yaml:13)" in messages(result)


def test_a_resource_whose_condition_is_false_is_not_created(repo: Repo) -> None:
    repo.write("deploy/stack.yaml", STAGED)
    for stage, alarms, capture in (("prod", [], 50), ("staging", ["StagingAlarm"], None)):
        repo.write("deploy/p.params", f"StageName={stage}\n")
        repo.write("mlgate.yaml", _spec("  cloudformation: deploy/stack.yaml\n  parameters: deploy/p.params\n"))
        infra = _infrastructure(repo)
        assert [a.id for a in infra.alarms] == alarms
        assert [a.condition for a in infra.alarms] == [None] * len(alarms)  # decided: no longer "maybe"
        config = infra.configs[0]
        got = config.capture.sampling_percent.value if config.capture and config.capture.sampling_percent else None
        assert got == capture
        assert config.unknown is None and config.capture_unknown is None
        endpoint = infra.endpoints[0]
        assert endpoint.deployment_unknown is None
        policy = endpoint.policy  # an If inside the branch an If takes is decided too
        if stage == "prod":
            assert policy is not None and policy.type is not None and policy.type.value == "CANARY"
            assert policy.wait_s is not None and (policy.wait_s.value, policy.wait_s.at.line) == (600, 39)
        else:
            assert policy is None


# -- SEC001: parameters inside the role's policies (issue #18, item 4) -----------------------------------------------

ROLE = """\
Parameters:
  DataArn:
    Type: String
    Default: "*"
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: sagemaker.amazonaws.com}, Action: sts:AssumeRole}]
      Policies:
        - PolicyName: data
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: s3:GetObject
                Resource: !Sub "${DataArn}"
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: !GetAtt Role.Arn
      PrimaryContainer: {Image: 111122223333.dkr.ecr.us-east-1.amazonaws.com/scorer@sha256:abc}
"""


def test_sec001_resolves_a_parameter_default_substituted_into_a_policy(repo: Repo) -> None:
    repo.write("deploy/stack.yaml", ROLE)
    repo.write("mlgate.yaml", _spec("  cloudformation: deploy/stack.yaml\n", "  endpoint: scorer\n"))
    repo.commit()
    result = repo.rule("SEC001")
    assert result.status == "fail", messages(result)
    assert 'fail: [high] statement 1 grants s3:GetObject on Resource "*"' in messages(result)
    located = [f.location for f in result.findings if "s3:GetObject" in f.message]
    assert located[0] is not None and (located[0].path, located[0].line) == ("deploy/stack.yaml", 17)


def test_sec001_judges_the_policy_with_the_parameter_file(repo: Repo) -> None:
    repo.write("deploy/stack.yaml", ROLE)
    repo.write("deploy/prod.params", "DataArn=arn:aws:s3:::acme-models/scorer/*\n")
    repo.write("mlgate.yaml", _spec("  cloudformation: deploy/stack.yaml\n  parameters: deploy/prod.params\n",
                                    "  endpoint: scorer\n"))
    repo.commit()
    result = repo.rule("SEC001")
    assert 'Resource "*"' not in messages(result)
    assert result.status == "pass", messages(result)


# -- Terraform: -var-files and local modules -------------------------------------------------------------------------

ENDPOINT_MODULE = """\
variable "name" {
  type = string
}

variable "instance_type" {
  type    = string
  default = "ml.t2.medium"
}

variable "instance_count" {
  type    = number
  default = 1
}

resource "aws_sagemaker_model" "this" {
  name               = var.name
  execution_role_arn = aws_iam_role.this.arn
  primary_container {
    image = "111122223333.dkr.ecr.us-east-1.amazonaws.com/scorer@sha256:abc"
  }
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  name = var.name
  production_variants {
    variant_name           = "AllTraffic"
    model_name             = aws_sagemaker_model.this.name
    instance_type          = var.instance_type
    initial_instance_count = var.instance_count
  }
}

resource "aws_sagemaker_endpoint" "this" {
  name                 = var.name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this.name
}

resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = "{}"
}

resource "aws_iam_role_policy" "this" {
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["s3:*"], Resource = "*" }]
  })
}

output "endpoint_name" {
  value = aws_sagemaker_endpoint.this.name
}
"""

CALLER = """\
variable "instance_type" {
  type = string
}

module "endpoint" {
  source         = "../../modules/endpoint"
  name           = "scorer-prod"
  instance_type  = var.instance_type
  instance_count = 2
}
"""


def _module_repo(repo: Repo, serving: str, tfvars: str = "  tfvars: examples/prod/prod.tfvars\n") -> None:
    repo.write("modules/endpoint/main.tf", ENDPOINT_MODULE)
    repo.write("modules/endpoint/terraform.tfvars", 'instance_type = "ml.p4d.24xlarge"\n')  # never read: a module
    repo.write("examples/prod/main.tf", CALLER)
    repo.write("examples/prod/prod.tfvars", 'instance_type = "ml.c5.xlarge"\n')
    repo.write("mlgate.yaml", _spec(f"  terraform: examples/prod\n{tfvars}", serving))
    repo.commit()


def test_a_local_module_is_read_with_the_callers_arguments_and_tfvars(repo: Repo) -> None:
    _module_repo(repo, "  endpoint: scorer-prod\n  instance_type: ml.c5.xlarge\n  instance_count: 2\n")
    result = repo.rule("IAC001")
    assert result.status == "pass", messages(result)
    agreed = _finding(result, "the spec agrees")
    assert "module.endpoint.aws_sagemaker_endpoint.this" in agreed
    assert "InstanceType ml.c5.xlarge (modules/endpoint/main.tf:28; var.instance_type of module endpoint, set in " \
           "examples/prod/main.tf:8 (var.instance_type set in examples/prod/prod.tfvars:1))" in agreed
    assert "InitialInstanceCount 2 (modules/endpoint/main.tf:29; var.instance_count of module endpoint, set in " \
           "examples/prod/main.tf:9)" in agreed


def test_a_module_value_that_disagrees_fails_at_the_module_line(repo: Repo) -> None:
    _module_repo(repo, "  endpoint: scorer-prod\n  instance_type: ml.m5.large\n")
    result = repo.rule("IAC001")
    assert result.status == "fail"
    assert "sets variant 'AllTraffic' (the only production variant)'s InstanceType to ml.c5.xlarge " \
           "(var.instance_type of module endpoint" in messages(result)
    failed = next(f for f in result.findings if f.status == "fail" and "InstanceType" in f.message)
    assert ("modules/endpoint/main.tf", 28) in [(r.path, r.line) for r in failed.related]


def test_without_the_var_file_the_module_input_is_unknown(repo: Repo) -> None:
    _module_repo(repo, "  endpoint: scorer-prod\n  instance_type: ml.c5.xlarge\n", tfvars="")
    result = repo.rule("IAC001")
    assert result.status == "warn"
    assert "variable instance_type has no default: its value is given at plan time (-var, TF_VAR_instance_type or " \
           "a .tfvars file) (var.instance_type of module endpoint, set in examples/prod/main.tf:8)" in messages(result)


def test_var_files_load_after_terraform_tfvars_and_a_later_one_wins(repo: Repo) -> None:
    _module_repo(repo, "  instance_type: ml.g5.xlarge\n",
                 tfvars="  tfvars:\n    - examples/prod/prod.tfvars\n    - examples/prod/override.tfvars\n")
    repo.write("examples/prod/terraform.tfvars", 'instance_type = "ml.m5.large"\n')
    repo.write("examples/prod/override.tfvars", '# the last -var-file wins\ninstance_type = "ml.g5.xlarge"\n')
    repo.commit()
    result = repo.rule("IAC001")
    assert result.status == "pass", messages(result)
    assert "var.instance_type set in examples/prod/override.tfvars:2" in messages(result)


def test_a_module_output_and_a_role_inside_the_module(repo: Repo) -> None:
    _module_repo(repo, "  instance_type: ml.c5.xlarge\n")
    repo.write("examples/prod/outputs.tf", 'output "endpoint" {\n  value = module.endpoint.endpoint_name\n}\n'
                                           'resource "aws_cloudwatch_metric_alarm" "errors" {\n'
                                           '  alarm_name  = "${module.endpoint.endpoint_name}-5xx"\n'
                                           '  namespace   = "AWS/SageMaker"\n  metric_name = "Invocation5XXErrors"\n'
                                           '  statistic   = "Sum"\n  threshold   = 1\n}\n')
    repo.commit()
    from mlgate.evidence.iac import terraform_module
    from mlgate.evidence.workspace import Workspace

    ws = Workspace(repo.root)
    root = terraform_module(ws, repo.root / "examples/prod")
    alarm = root.attr(root.resources["aws_cloudwatch_metric_alarm.errors"].node, "alarm_name")
    assert alarm.value == "scorer-prod-5xx"
    # SEC001 reads the model's role, created inside the module
    result = repo.rule("SEC001")
    assert result.status == "fail", messages(result)
    assert any(f.location is not None and f.location.path == "modules/endpoint/main.tf" and "s3:*" in f.message
               for f in result.findings), messages(result)


@pytest.mark.parametrize(("source", "fragment"), [
    ('"../../../outside"', "its source ../../../outside leads outside the repository"),
    ('"./"', "its source ./ is a module already being read (the modules call each other)"),
    ('"../../modules/missing"', "its source ../../modules/missing is not a directory"),
    ('"git::https://example.com/endpoint.git"', "mlgate follows local modules (./ or ../) only"),
])
def test_modules_mlgate_does_not_follow_are_gaps(repo: Repo, source: str, fragment: str) -> None:
    repo.write("examples/prod/main.tf", f'module "endpoint" {{\n  source = {source}\n}}\n')
    repo.write("mlgate.yaml", _spec("  terraform: examples/prod\n", "  endpoint: scorer\n"))
    repo.commit()
    result = repo.rule("IAC001")
    assert result.status == "warn"
    assert fragment in messages(result)
    assert "(examples/prod/main.tf:1)" in messages(result)


# -- SAM and the Serverless Framework --------------------------------------------------------------------------------

SAM = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function: {Runtime: python3.12, Timeout: 30}
Parameters:
  InstanceType: {Type: String, Default: ml.m5.large}
Resources:
  Invoke:
    Type: AWS::Serverless::Function
    Properties: {Handler: app.handler, CodeUri: src/}
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - {VariantName: AllTraffic, ModelName: m, InstanceType: !Ref InstanceType, InitialInstanceCount: 2}
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties: {EndpointName: scorer, EndpointConfigName: !GetAtt Config.EndpointConfigName}
"""


def test_a_sam_template_is_read_as_cloudformation(repo: Repo) -> None:
    repo.write("template.yaml", SAM)
    repo.write("prod.params", "InstanceType=ml.c5.xlarge\n")
    repo.write("mlgate.yaml", _spec("  cloudformation: template.yaml\n  parameters: prod.params\n",
                                    "  endpoint: scorer\n  instance_type: ml.c5.xlarge\n  instance_count: 2\n"))
    repo.commit()
    result = repo.rule("IAC001")
    assert result.status == "pass", messages(result)
    assert "parameter InstanceType from prod.params:1" in messages(result)


SERVERLESS = """\
service: scorer
frameworkVersion: "3"
provider:
  name: aws
  stage: ${opt:stage, 'dev'}
custom:
  instanceType: ml.c5.xlarge
  instanceCount: 2
  sizing:
    type: ${self:custom.instanceType}
functions:
  invoke:
    handler: handler.invoke
resources:
  Resources:
    Config:
      Type: AWS::SageMaker::EndpointConfig
      Properties:
        ProductionVariants:
          - VariantName: AllTraffic
            ModelName: m
            InstanceType: ${self:custom.sizing.type}
            InitialInstanceCount: ${self:custom.instanceCount}
        DataCaptureConfig:
          EnableCapture: true
          InitialSamplingPercentage: ${ssm:/ml/scorer/sampling}
          DestinationS3Uri: s3://acme-capture/${self:provider.stage}/
          CaptureOptions: [{CaptureMode: Input}]
    Endpoint:
      Type: AWS::SageMaker::Endpoint
      Properties:
        EndpointName: !Sub scorer-${AWS::Region}-${self:custom.instanceCount}
        EndpointConfigName: !GetAtt Config.EndpointConfigName
"""


def test_a_serverless_framework_file_is_read_with_its_self_variables(repo: Repo) -> None:
    repo.write("serverless.yml", SERVERLESS)
    repo.write("mlgate.yaml", _spec("  cloudformation: serverless.yml\n",
                                    "  instance_type: ml.c5.xlarge\n  instance_count: 2\n"))
    repo.commit()
    result = repo.rule("IAC001")
    assert result.status == "pass", messages(result)
    agreed = _finding(result, "the spec agrees")
    assert "InstanceType ml.c5.xlarge (serverless.yml:22; ${self:custom.sizing.type}, serverless.yml:10)" in agreed
    assert "InitialInstanceCount 2 (serverless.yml:23; ${self:custom.instanceCount}, serverless.yml:8)" in agreed


def test_serverless_variables_decided_at_deploy_time_are_unknown(repo: Repo) -> None:
    repo.write("serverless.yml", SERVERLESS)
    repo.write("mlgate.yaml", _spec("  cloudformation: serverless.yml\n", "  endpoint: scorer-eu-west-1-2\n")
               + "monitoring:\n  capture: {enabled: true, sampling_percent: 20, inputs: true,"
                 " destination: s3://acme-capture/prod/}\n")
    repo.commit()
    serving = messages(repo.rule("IAC001"))
    assert "pseudo parameter AWS::Region is known only at deploy time" in serving
    monitoring = messages(repo.rule("IAC003"))
    assert "${ssm:/ml/scorer/sampling} is read from SSM Parameter Store when the service is deployed" in monitoring
    assert "${opt:stage, 'dev'} is given on the command line when the service is deployed (the fallback 'dev' " \
           "applies only when it is not given)" in monitoring


def test_a_serverless_file_without_resources_deploys_no_endpoint(repo: Repo) -> None:
    repo.write("serverless.yml", "service: scorer\nprovider: {name: aws}\nfunctions:\n  invoke: {handler: h.f}\n")
    repo.write("mlgate.yaml", _spec("  cloudformation: serverless.yml\n", "  endpoint: scorer\n"))
    repo.commit()
    result = repo.rule("IAC001")
    assert result.status == "fail"
    assert "defines no SageMaker endpoint" in messages(result)


# -- inputs built to make the readers work hard ------------------------------------------------------------------------

def test_serverless_variables_that_repeat_or_refer_to_themselves_stay_fast_and_unknown(repo: Repo) -> None:
    import time

    # each level repeats the next one ten times: resolved naively, 10**10 look-ups
    custom = "\n".join(f"  v{i}: \"{('${self:custom.v' + str(i + 1) + '}') * 10}\"" for i in range(10))
    repo.write("serverless.yml", SERVERLESS.replace("custom:\n", f"custom:\n{custom}\n  v10: x\n  loop: "
                                                    "${self:custom.loop}\n").replace(
        "ModelName: m", "ModelName: ${self:custom.v0}").replace(
        "InitialInstanceCount: ${self:custom.instanceCount}", "InitialInstanceCount: ${self:custom.loop}"))
    repo.write("mlgate.yaml", _spec("  cloudformation: serverless.yml\n", "  instance_count: 2\n"))
    repo.commit()
    start = time.perf_counter()
    result = repo.rule("IAC001")
    assert time.perf_counter() - start < 2
    assert "${self:custom.loop} refers to itself" in messages(result)
    model = _infrastructure(repo).configs[0].variants[0].model
    assert model is not None and model.unknown is not None and "grows past 64 KiB" in model.unknown


def test_local_modules_that_fan_out_are_read_up_to_a_bound(repo: Repo) -> None:
    import time

    # every level calls the next one eight times, eight levels deep: 8**8 module reads if nothing bounds them
    for level in range(8):
        calls = "".join(f'module "m{i}" {{\n  source = "../l{level + 1}"\n}}\n' for i in range(8))
        repo.write(f"tf/l{level}/main.tf", calls)
    repo.write("tf/l8/main.tf", 'resource "aws_sagemaker_endpoint" "e" {\n  name = "scorer"\n'
                                '  endpoint_config_name = "c"\n}\n')
    repo.write("mlgate.yaml", _spec("  terraform: tf/l0\n", "  endpoint: scorer\n"))
    repo.commit()
    start = time.perf_counter()
    infra = _infrastructure(repo)
    assert time.perf_counter() - start < 5
    assert len(infra.files) == 65  # the root and 64 modules
    assert any("calls more than 64 local modules; the rest are not read" in g.what for g in infra.gaps)
