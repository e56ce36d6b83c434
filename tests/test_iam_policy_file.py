"""Reading an IAM policy file into a PolicyDocument whose statements keep their lines (mlgate.evidence.policy_file,
mlgate.evidence.iam)."""

from __future__ import annotations

from typing import Any

import pytest

from mlgate.errors import EvidenceError
from mlgate.evidence.iam import placeholder
from mlgate.evidence.policy_file import read_policy_file
from mlgate.evidence.workspace import Workspace
from mlgate.result import Location
from tests.conftest import Repo

POLICY = """\
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Read",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": ["arn:aws:s3:::b/k"]
    },
    {
      "Effect": "Deny",
      "NotAction": ["s3:*"],
      "NotResource": "arn:aws:s3:::b/*",
      "Condition": {"Bool": {"aws:SecureTransport": "false"}}
    }
  ]
}
"""


def _read(repo: Repo, text: str, name: str = "role.json") -> Any:
    repo.write(name, text)
    return read_policy_file(Workspace(repo.root), repo.root / name)


def test_statements_keep_their_lines(repo: Repo) -> None:
    doc = _read(repo, POLICY)
    assert (doc.name, doc.kind, doc.location) == ("role.json", "policy-file", Location("role.json", 1))
    first, second = doc.statements
    assert (first.effect, first.sid, first.actions, first.resources) == ("Allow", "Read", ("s3:GetObject",),
                                                                        ("arn:aws:s3:::b/k",))
    assert first.location == Location("role.json", 4)
    assert (second.effect, second.not_actions, second.not_resources) == ("Deny", ("s3:*",), ("arn:aws:s3:::b/*",))
    assert second.conditions == {"Bool": {"aws:SecureTransport": "false"}}
    assert second.location == Location("role.json", 10)


@pytest.mark.parametrize(("text", "line"), [
    ('{"PolicyDocument": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject",\n'
     '  "Resource": "*"}}}', 1),  # aws iam get-role-policy
    ('{"PolicyVersion": {"VersionId": "v1", "Document": {"Statement": [\n'
     '  {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}}', 2),  # aws iam get-policy-version
])
def test_the_shapes_the_aws_cli_prints(repo: Repo, text: str, line: int) -> None:
    doc = _read(repo, text)
    (statement,) = doc.statements
    assert statement.actions == ("s3:GetObject",)
    assert statement.location == Location("role.json", line)


@pytest.mark.parametrize(("text", "message", "line"), [
    ("[]", "is not an IAM policy document", None),
    ('{"Version": "2012-10-17"}', "the policy has no Statement", 1),
    ('{"Statement": "x"}', "Statement is neither a statement nor a list", 1),
    ('{"Statement": [\n "x"]}', "a statement is a mapping", 2),
    ('{"Statement": [{\n "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},\n'
     ' "Action": "sts:AssumeRole"}]}', "this is a trust or resource policy", 2),
    ('{"Statement": [{\n "Effect": "allow", "Action": "s3:*", "Resource": "*"}]}', "Effect is 'allow'", 2),
    ('{"Statement": [{\n "Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*", "Resource": "*"}]}',
     "exactly one of Action and NotAction", 1),
    ('{"Statement": [{\n "Effect": "Allow", "Action": "s3:*"}]}', "exactly one of Resource and NotResource", 1),
    ('{"Statement": [{\n "Effect": "Allow", "Actions": "s3:*", "Resource": "*"}]}', "unknown statement element "
     "Actions", 2),
    ('{"Statement": [{"Effect": "Allow",\n "Action": [1], "Resource": "*"}]}', "Action holds 1", 2),
    ('{"Statement": [{"Effect": "Allow",\n "Action": "s3:*", "Resource": "*", "Condition": []}]}',
     "Condition is a mapping", 2),
])
def test_policies_iam_would_reject(repo: Repo, text: str, message: str, line: int | None) -> None:
    with pytest.raises(EvidenceError) as caught:
        _read(repo, text)
    assert message in caught.value.message
    assert caught.value.path == "role.json"
    assert caught.value.line == line


def test_invalid_json_is_an_evidence_error_with_its_line(repo: Repo) -> None:
    with pytest.raises(EvidenceError) as caught:
        _read(repo, '{"Statement": [\n  {"Effect": "Allow",,}\n]}')
    assert caught.value.line == 2


@pytest.mark.parametrize(("value", "expected"), [
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/*"),
    ({"Fn::Sub": "arn:aws:s3:::${Bucket}/*"}, "arn:aws:s3:::${Bucket}/*"),  # keeps its literal wildcard
    ({"Fn::Sub": ["arn:aws:s3:::${B}", {"B": "x"}]}, "arn:aws:s3:::${B}"),
    ({"Fn::Join": ["", ["arn:aws:s3:::", {"Ref": "Bucket"}, "/*"]]}, "arn:aws:s3:::${Ref:Bucket}/*"),
    ({"Fn::GetAtt": ["Bucket", "Arn"]}, "${GetAtt:Bucket.Arn}"),
    ({"Fn::ImportValue": "shared-*-arn"}, "${Fn::ImportValue:shared--arn}"),  # never a wildcard
])
def test_intrinsic_values_become_placeholders(value: Any, expected: str) -> None:
    assert placeholder(value) == expected
