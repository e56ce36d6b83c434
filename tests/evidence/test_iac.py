"""The IaC readers: CloudFormation intrinsic functions, Terraform expressions and lines, and the execution role's
policies for SEC001 (role_policies_from_iac, model_execution_role), on real files in real repos."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from mlgate.errors import EvidenceError
from mlgate.evidence.iac import model_execution_role, role_policies_from_iac
from mlgate.evidence.iac.cloudformation import Template, managed_arn
from mlgate.evidence.iac.hclscan import scan
from mlgate.evidence.iac.model import Value
from mlgate.evidence.iac.terraform import Module
from mlgate.evidence.site import Site
from mlgate.evidence.workspace import Workspace
from mlgate.result import Location
from mlgate.spec.load import load_spec
from mlgate.yamlload import parse_yaml
from tests.conftest import Repo

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "iac"


def spec_site(repo: Repo, spec: str) -> Site:
    repo.write("mlgate.yaml", spec)
    return Site.written(load_spec(repo.root / "mlgate.yaml", root=repo.root), Workspace(repo.root))


# -- CloudFormation values -------------------------------------------------------------------------------------------

TEMPLATE = """\
Parameters:
  Stage: {Type: String}
  Size: {Type: Number, Default: "4"}
  Names: {Type: CommaDelimitedList, Default: "a, b"}
Mappings:
  Images: {eu-west-1: {Uri: img-eu}}
  Fixed: {prod: {Uri: img-prod}}
Resources:
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Properties: {AlarmName: scorer-5xx}
  Bucket:
    Type: AWS::S3::Bucket
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties: {ProductionVariants: []}
  Values:
    Type: Custom::Values
    Properties:
      Literal: ml.m5.large
      Default: !Ref Size
      List: !Ref Names
      NoDefault: !Ref Stage
      Pseudo: !Ref AWS::Region
      AlarmName: !Ref Alarm
      BucketRef: !Ref Bucket
      ConfigName: !GetAtt Config.EndpointConfigName
      BucketArn: !GetAtt Bucket.Arn
      SubKnown: !Sub "scorer-${Size}"
      SubUnknown: !Sub "arn:aws:s3:::${Bucket}/*"
      SubVars: !Sub ["${A}-${B}", {A: x, B: !Ref Size}]
      SubEscape: !Sub "${!Literal}-${Size}"
      JoinKnown: !Join ["-", [a, !Ref Size]]
      JoinUnknown: !Join ["", ["arn:", !Ref AWS::Partition, ":s3:::b"]]
      If: !If [IsProd, 1, 2]
      Import: !ImportValue shared-name
      MapKnown: !FindInMap [Fixed, prod, Uri]
      MapUnknown: !FindInMap [Images, !Ref AWS::Region, Uri]
      Select: !Select [1, [x, y, z]]
      Base64: !Base64 text
      Missing: !Ref Nothing
"""


def _template(text: str = TEMPLATE) -> Template:
    return Template("deploy/stack.yaml", parse_yaml(text, cfn_tags=True))


@pytest.mark.parametrize(
    ("prop", "value", "unknown", "shown"),
    [
        ("Literal", "ml.m5.large", None, "ml.m5.large"),
        ("Default", 4, None, "4"),
        ("List", ["a", "b"], None, "['a', 'b']"),
        ("NoDefault", None, "parameter Stage has no default", "${Ref:Stage}"),
        ("Pseudo", None, "pseudo parameter AWS::Region is known only at deploy time", "${Ref:AWS::Region}"),
        ("AlarmName", "scorer-5xx", None, "scorer-5xx"),
        ("BucketRef", None, "Ref Bucket is made when the stack is deployed", "${Ref:Bucket}"),
        ("ConfigName", None, "Config writes no EndpointConfigName, so CloudFormation generates it",
         "${GetAtt:Config.EndpointConfigName}"),
        ("BucketArn", None, "Bucket.Arn is made when the stack is deployed", "${GetAtt:Bucket.Arn}"),
        ("SubKnown", "scorer-4", None, "scorer-4"),
        ("SubUnknown", None, "Ref Bucket is made", "${Sub:arn:aws:s3:::${Bucket}/*}"),
        ("SubVars", "x-4", None, "x-4"),
        ("SubEscape", "${Literal}-4", None, "${Literal}-4"),
        ("JoinKnown", "a-4", None, "a-4"),
        ("JoinUnknown", None, "pseudo parameter AWS::Partition", "${Sub:arn:${AWS::Partition}:s3:::b}"),
        ("If", None, "chosen by condition IsProd, which the template does not define", "${If:IsProd}"),
        ("Import", None, "imported from another stack's export shared-name", "${ImportValue:shared-name}"),
        ("MapKnown", "img-prod", None, "img-prod"),
        ("MapUnknown", None, "Fn::FindInMap looks up ${Ref:AWS::Region}", "${FindInMap:Images/${Ref:AWS::Region}/Uri}"),
        ("Select", "y", None, "y"),
        ("Base64", None, "computed by Fn::Base64 at deploy time", "${Base64}"),
        ("Missing", None, "Ref Nothing names nothing in this template", "${Ref:Nothing}"),
    ],
)
def test_cloudformation_values(prop: str, value: Any, unknown: str | None, shown: str) -> None:
    t = _template()
    got = t.value(("Resources", "Values", "Properties", prop))
    assert got is not None
    assert got.value == value
    assert (got.unknown is None) == (unknown is None)
    if unknown:
        assert got.unknown is not None and unknown in got.unknown
    assert got.text == shown
    # every value is located on its own line of the template
    line = next(i for i, text in enumerate(TEMPLATE.splitlines(), 1) if text.strip().startswith(f"{prop}:"))
    assert got.at == Location("deploy/stack.yaml", line)


def test_parameter_defaults_say_so() -> None:
    got = _template().value(("Resources", "Values", "Properties", "Default"))
    assert got is not None and got.source == ("the default of parameter Size, deploy/stack.yaml:3; a deployment may "
                                              "pass another value")


def test_no_value_is_absent() -> None:
    t = _template("Resources:\n  R:\n    Type: X\n    Properties:\n      A: !Ref AWS::NoValue\n")
    assert t.value(("Resources", "R", "Properties", "A")) is None
    assert t.struct(("Resources", "R", "Properties", "A")) == (None, None)


def test_not_a_template() -> None:
    with pytest.raises(EvidenceError, match="no Resources mapping"):
        _template("AWSTemplateFormatVersion: '2010-09-09'\n")


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (Value("arn:aws:iam::aws:policy/ReadOnlyAccess", Location("f", 1)), "arn:aws:iam::aws:policy/ReadOnlyAccess"),
        (Value(None, Location("f", 1), unknown="partition", template="arn:${AWS::Partition}:iam::aws:policy/X",
               placeholder="${Sub:arn:${AWS::Partition}:iam::aws:policy/X}"), "arn:aws:iam::aws:policy/X"),
        (Value(None, Location("f", 1), unknown="param", template="${P}", placeholder="${Ref:P}"), "${Ref:P}"),
    ],
)
def test_managed_policy_arns(arn: Value, expected: str) -> None:
    assert managed_arn(arn) == expected


# -- Terraform ---------------------------------------------------------------------------------------------------------

def test_hcl_scan_finds_blocks_and_attributes_past_strings_heredocs_and_comments() -> None:
    text = '''\
# a comment with { braces }
variable "x" { default = "}" }
resource "aws_sagemaker_endpoint_configuration" "c" {
  name = "a-${var.x}-{b}"   // trailing { comment
  /* a block
     comment { */
  tags = {
    team = "ml"
  }
  h = <<-EOT
    resource "fake" "block" {
  EOT
  production_variants {
    variant_name = "one"
  }
  production_variants {
    variant_name = "two"
  }
}
resource aws_sagemaker_endpoint bare { name = "e" }
'''
    root = scan(text)
    config = root.find("resource", "aws_sagemaker_endpoint_configuration", "c")
    assert config is not None and config.line == 3
    assert config.attrs == {"name": 4, "tags": 7, "h": 10}
    assert [b.attrs["variant_name"] for b in config.blocks["production_variants"]] == [14, 17]
    assert root.find("resource", "fake") is None
    bare = root.find("resource", "aws_sagemaker_endpoint", "bare")
    assert bare is not None and bare.line == 20 and bare.attrs == {"name": 20}
    variable = root.find("variable", "x")
    assert variable is not None and variable.attrs == {"default": 2}


TF = '''\
locals {
  name = "scorer"
}
variable "with_default" {
  default = { size = 2, type = "ml.m5.large" }
}
variable "no_default" {
  type = string
}
variable "from_tfvars" {
  default = "from-default"
}
resource "aws_sagemaker_endpoint" "e" {
  name                 = local.name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.c.name
}
resource "aws_sagemaker_endpoint_configuration" "c" {
  name  = "${local.name}-${var.with_default.size}"
  a     = var.no_default
  b     = var.from_tfvars
  c     = aws_iam_role.r.arn
  d     = length(var.no_default) > 2 ? "x" : "y"
  e     = module.shared.name
  f     = "$${literal} and \\"quoted\\""
  g     = data.aws_iam_policy.p.arn
  h     = (var.with_default)
  count = var.no_default == "" ? 0 : 1
}
data "aws_iam_policy" "p" {
  arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}
'''


def _module(repo: Repo, files: dict[str, str]) -> Module:
    for name, text in files.items():
        repo.write(f"tf/{name}", text)
    return Module(Workspace(repo.root), repo.root / "tf")


@pytest.mark.parametrize(
    ("attr", "value", "unknown", "shown", "line"),
    [
        ("name", "scorer-2", None, "scorer-2", 18),
        ("a", None, "variable no_default has no default: its value is given at plan time", "${var.no_default}", 19),
        ("b", "from-tfvars", None, "from-tfvars", 20),
        ("c", None, "aws_iam_role.r is not defined", "${aws_iam_role.r.arn}", 21),
        ("d", None, "is computed by Terraform", '${length(var.no_default) > 2 ? "x" : "y"}', 22),
        ("e", None, "module.shared.name is an output of module shared", "${module.shared.name}", 23),
        ("f", '${literal} and "quoted"', None, '${literal} and "quoted"', 24),
        ("g", "arn:aws:iam::aws:policy/ReadOnlyAccess", None, "arn:aws:iam::aws:policy/ReadOnlyAccess", 25),
        ("h", {"size": 2, "type": "ml.m5.large"}, None, "{'size': 2, 'type': 'ml.m5.large'}", 26),
    ],
)
def test_terraform_values(repo: Repo, attr: str, value: Any, unknown: str | None, shown: str, line: int) -> None:
    m = _module(repo, {"main.tf": TF, "terraform.tfvars": 'from_tfvars = "from-tfvars"\n'})
    config = m.resources["aws_sagemaker_endpoint_configuration.c"]
    got = m.attr(config.node, attr)
    assert got is not None
    assert got.value == value
    assert (got.unknown is None) == (unknown is None), got.unknown
    if unknown:
        assert got.unknown is not None and unknown in got.unknown
    assert got.text == shown
    assert got.at == Location("tf/main.tf", line)


def test_terraform_references_link_resources(repo: Repo) -> None:
    m = _module(repo, {"main.tf": TF})
    endpoint = m.resources["aws_sagemaker_endpoint.e"]
    config = m.attr(endpoint.node, "endpoint_config_name")
    assert config is not None and config.ref == "aws_sagemaker_endpoint_configuration.c"
    assert config.value == "scorer-2"
    name = m.attr(endpoint.node, "name")
    assert name is not None and name.source == "local.name, tf/main.tf:2"
    assert m.condition(m.resources["aws_sagemaker_endpoint_configuration.c"]) == \
        'count = ${var.no_default == "" ? 0 : 1} (tf/main.tf:27)'


def test_a_misnamed_tfvars_file_is_not_read(repo: Repo) -> None:
    # Terraform loads terraform.tfvars and *.auto.tfvars only (the real-world sample names it terrraform.tfvars)
    m = _module(repo, {"main.tf": TF, "terrraform.tfvars": 'from_tfvars = "ignored"\n'})
    got = m.attr(m.resources["aws_sagemaker_endpoint_configuration.c"].node, "b")
    assert got is not None and got.value == "from-default"


def test_terraform_directory_without_tf_files(repo: Repo) -> None:
    repo.write("tf/README.md", "nothing\n")
    with pytest.raises(EvidenceError, match=r"has no Terraform files \(\*\.tf\)"):
        Module(Workspace(repo.root), repo.root / "tf")


# -- the execution role, for SEC001 -----------------------------------------------------------------------------------

def _install(repo: Repo, scenario: str, source: str, dest: str) -> None:
    src = FIXTURES / scenario / source
    target = repo.root / dest
    target.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, target)
    else:
        shutil.copyfile(src, target)


def _statements(docs: list[Any]) -> list[tuple[str, tuple[str, ...], tuple[str, ...], int]]:
    return [(d.name, s.actions, s.resources, s.location.line) for d in docs for s in d.statements]


@pytest.mark.parametrize(("source", "dest"), [("stack.yaml", "deploy/stack.yaml"),
                                              ("stack.template.json", "deploy/stack.yaml")])
def test_role_policies_from_a_template(repo: Repo, source: str, dest: str) -> None:
    _install(repo, "realtime", source, dest)
    site = spec_site(repo, "version: 1\nserving: {endpoint: fraud-scorer}\nrollout: {canary: {variant: model-v4}}\n"
                        "infrastructure: {cloudformation: deploy/stack.yaml}\n")
    docs = role_policies_from_iac(site, "deploy/stack.yaml#ExecutionRole", "cloudformation")
    assert [d.name for d in docs] == ["deploy/stack.yaml#ExecutionRole/fraud-scorer-serving"]
    actions = [(s.sid, s.actions, s.resources) for s in docs[0].statements]
    assert actions == [
        ("ReadModelArtifacts", ("s3:GetObject",), ("arn:${AWS::Partition}:s3:::acme-ml-models/fraud/*",)),
        ("PullServingImage", ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
         ("arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/fraud-scorer",)),
        ("EcrLogin", ("ecr:GetAuthorizationToken",), ("*",)),
    ]
    text = (repo.root / dest).read_text().splitlines()
    for statement, sid in zip(docs[0].statements, ("ReadModelArtifacts", "PullServingImage", "EcrLogin"),
                              strict=True):
        assert statement.location is not None
        assert sid in text[statement.location.line - 1] or sid in text[statement.location.line]
    role = model_execution_role(site)
    assert role is not None and role.ref == "deploy/stack.yaml#ExecutionRole" and role.model == "ModelV4"


ATTACHED = """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: sagemaker.amazonaws.com}, Action: sts:AssumeRole}]
      ManagedPolicyArns:
        - !Sub arn:${AWS::Partition}:iam::aws:policy/AmazonSageMakerFullAccess
        - !Ref Extra
  Extra:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: s3:PutObject
            Resource: !Sub arn:aws:s3:::${Capture}/*
  Default:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: default
      Roles: [!Ref Role]
      PolicyDocument:
        Statement:
          - Effect: Deny
            Action: sagemaker:DeleteEndpoint
            Resource: "*"
  Other:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: other
      Roles: [SomeoneElse]
      PolicyDocument:
        Statement: [{Effect: Allow, Action: "*", Resource: "*"}]
  Capture:
    Type: AWS::S3::Bucket
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: !GetAtt Role.Arn
      PrimaryContainer: {Image: img}
"""


def test_attached_and_managed_policies(repo: Repo) -> None:
    repo.write("deploy/stack.yaml", ATTACHED)
    site = spec_site(repo, "version: 1\ninfrastructure: {cloudformation: deploy/stack.yaml}\n")
    docs = role_policies_from_iac(site, "deploy/stack.yaml", "cloudformation")  # the model's role
    assert [d.name for d in docs] == ["deploy/stack.yaml#Extra", "deploy/stack.yaml#Default",
                                      "deploy/stack.yaml#Role/ManagedPolicyArns"]
    assert _statements(docs[:2]) == [("deploy/stack.yaml#Extra", ("s3:PutObject",), ("arn:aws:s3:::${Capture}/*",), 16),
                                     ("deploy/stack.yaml#Default", ("sagemaker:DeleteEndpoint",), ("*",), 26)]
    assert docs[1].statements[0].effect == "Deny"
    assert docs[2].managed_arns == ("arn:aws:iam::aws:policy/AmazonSageMakerFullAccess",)


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ("deploy/stack.yaml#Nope", "there is no AWS::IAM::Role 'Nope' (AWS::IAM::Roles in the code: Role)"),
        ("deploy/missing.yaml#Role", "deploy/missing.yaml does not exist"),
    ],
)
def test_role_errors(repo: Repo, ref: str, fragment: str) -> None:
    repo.write("deploy/stack.yaml", ATTACHED)
    site = spec_site(repo, "version: 1\n")
    with pytest.raises(EvidenceError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        role_policies_from_iac(site, ref, "cloudformation")


def test_role_policies_from_terraform(repo: Repo) -> None:
    _install(repo, "realtime", "terraform", "deploy/terraform")
    site = spec_site(repo, "version: 1\nserving: {endpoint: fraud-scorer}\n"
                        "infrastructure: {terraform: deploy/terraform}\n")
    role = model_execution_role(site)
    assert role is not None and role.ref == "deploy/terraform#aws_iam_role.execution"
    docs = role_policies_from_iac(site, role.ref, "terraform")
    assert _statements(docs) == [
        ("aws_iam_role_policy.serving", ("s3:GetObject",),
         ("arn:${data.aws_partition.current.partition}:s3:::acme-ml-models/fraud/*",), 22),
        ("aws_iam_role_policy.serving", ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
         ("${var.image_repository_arn}",), 27),
        ("aws_iam_role_policy.serving", ("ecr:GetAuthorizationToken",), ("*",), 32),
    ]
    assert role_policies_from_iac(site, "deploy/terraform#execution", "terraform") == docs


TF_IAM = '''\
resource "aws_iam_role" "model" {
  name               = "model"
  assume_role_policy = "{}"
  inline_policy {
    name   = "inline"
    policy = <<-EOT
      {"Version": "2012-10-17",
       "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/*"}]}
    EOT
  }
}
resource "aws_iam_policy" "capture" {
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["s3:PutObject"], Resource = "${aws_s3_bucket.capture.arn}/*" }]
  })
}
resource "aws_iam_role_policy_attachment" "capture" {
  role       = aws_iam_role.model.name
  policy_arn = aws_iam_policy.capture.arn
}
resource "aws_iam_role_policy_attachment" "managed" {
  role       = aws_iam_role.model.name
  policy_arn = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
}
resource "aws_iam_role_policy" "from_file" {
  role   = aws_iam_role.model.id
  policy = file("${path.module}/policy.json")
}
resource "aws_s3_bucket" "capture" {
  bucket_prefix = "capture-"
}
resource "aws_sagemaker_model" "m" {
  execution_role_arn = aws_iam_role.model.arn
}
'''


def test_terraform_policy_forms(repo: Repo) -> None:
    repo.write("tf/main.tf", TF_IAM)
    repo.write("tf/policy.json", '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", '
                                 '"Action": "logs:PutLogEvents", "Resource": "*"}}\n')
    site = spec_site(repo, "version: 1\ninfrastructure: {terraform: tf}\n")
    docs = role_policies_from_iac(site, "tf", "terraform")
    assert _statements(docs) == [
        ("aws_iam_role.model/inline", ("s3:GetObject",), ("arn:aws:s3:::data/*",), 6),
        ("aws_iam_role_policy.from_file", ("logs:PutLogEvents",), ("*",), 1),
        ("aws_iam_policy.capture", ("s3:PutObject",), ("${aws_s3_bucket.capture.arn}/*",), 13),
    ]
    assert docs[1].statements[0].location == Location("tf/policy.json", 1)
    assert docs[-1].managed_arns == ("arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",)


def test_a_role_given_by_parameter_is_unknown(repo: Repo) -> None:
    _install(repo, "serverless", "stack.yaml", "deploy/stack.yaml")
    site = spec_site(repo, "version: 1\nserving: {endpoint: ticket-router}\n"
                        "infrastructure: {cloudformation: deploy/stack.yaml}\n")
    role = model_execution_role(site)
    assert role is not None and role.ref is None
    assert role.unknown == "parameter ExecutionRoleArn has no default: its value is given at deploy time"
    assert role.at == Location("deploy/stack.yaml", 20)


def test_no_infrastructure_no_role(repo: Repo) -> None:
    assert model_execution_role(spec_site(repo, "version: 1\n")) is None
