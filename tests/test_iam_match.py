"""IAM name matching: action wildcards (`*`, `?`, any case), resource breadth, and which resources an action's
ARN formats can name."""

from __future__ import annotations

import pytest

from mlgate.iam.match import (
    action_matches,
    format_glob,
    globs_overlap,
    is_unrestricted,
    resource_applies,
    resource_within,
    split_action,
)


@pytest.mark.parametrize(("pattern", "action", "expected"), [
    ("*", "s3:GetObject", True),
    ("s3:*", "s3:GetObject", True),
    ("S3:getobject", "s3:GetObject", True),  # action names are case-insensitive
    ("s3:Get*", "s3:GetObject", True),
    ("s3:Get*", "s3:PutObject", False),
    ("iam:?assRole", "iam:PassRole", True),  # policy_sentry's expand() has no `?`
    ("iam:?assRole", "iam:PPassRole", False),
    ("*:Describe*", "ec2:DescribeVpcs", True),
    ("s?:GetObject", "s3:GetObject", True),
    ("s3:GetObject", "s3:GetObjectAcl", False),
])
def test_action_matches(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


@pytest.mark.parametrize(("text", "expected"), [
    ("s3:GetObject", ("s3", "GetObject")),
    ("*", ("*", "*")),
    ("s3:*", ("s3", "*")),
    ("GetObject", None),
    ("s3:Get:Object", None),
    ("${Ref:Action}", None),
])
def test_split_action(text: str, expected: tuple[str, str] | None) -> None:
    assert split_action(text) == expected


@pytest.mark.parametrize(("resource", "expected"), [
    ("*", True),
    ("arn:aws:s3:::*", True),
    ("arn:aws:s3:::*/*", True),
    ("arn:aws:iam::*:role/*", True),
    ("arn:aws:iam::111122223333:role/*", True),
    ("arn:aws:logs:*:*:log-group:*", True),
    ("arn:aws:sagemaker:*:*:app/*/*/*/*", True),
    ("arn:aws:s3:::acme-ml-models/*", False),
    ("arn:aws:s3:::*SageMaker*", False),
    ("arn:aws:iam::*:role/*AmazonSageMaker*", False),
    ("arn:aws:logs:*:*:log-group:/aws/sagemaker/Endpoints/churn:*", False),
    ("arn:aws:kms:eu-west-1:111122223333:key/0a1b", False),
    ("${GetAtt:Bucket.Arn}", False),  # a deploy-time value is never a wildcard
])
def test_is_unrestricted(resource: str, expected: bool) -> None:
    assert is_unrestricted(resource) is expected


@pytest.mark.parametrize(("granted", "allowed", "expected"), [
    ("arn:aws:s3:::b/p/*", "arn:aws:s3:::b/p/*", True),
    ("arn:aws:s3:::b/p/x/*", "arn:aws:s3:::b/p/*", True),
    ("arn:aws:s3:::b/*", "arn:aws:s3:::b/p/*", False),  # broader than allowed
    ("arn:aws:s3:::other/p/*", "arn:aws:s3:::b/p/*", False),
])
def test_resource_within(granted: str, allowed: str, expected: bool) -> None:
    assert resource_within(granted, allowed) is expected


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("arn:aws:sagemaker:*:*:flow-definition/*", "arn:*:sagemaker:*:*:training-job/*", False),
    ("arn:aws:sagemaker:*:*:flow-definition/*", "arn:*:sagemaker:*:*:flow-definition/*", True),
    ("arn:aws:s3:::bucket/key", "arn:*:s3:::*/*", True),
    ("arn:aws:s3:::bucket", "arn:*:s3:::*/*", False),  # a bucket ARN names no object
    ("arn:aws:s3:::*SageMaker*", "arn:*:s3:::*/*", True),
    ("arn:aws:kms:us-east-1:1:key/k", "arn:*:s3:::*/*", False),
    ("arn:aws:logs:*:*:log-group:/g", "arn:*:logs:*:*:log-group:*:log-stream:*", False),
    ("arn:aws:logs:*:*:log-group:/g:log-stream:*", "arn:*:logs:*:*:log-group:*:log-stream:*", True),
    ("a*c", "ab?d", False),
    ("a*", "*b", True),
    ("?", "ab", False),
])
def test_globs_overlap(a: str, b: str, expected: bool) -> None:
    assert globs_overlap(a, b) is expected


def test_format_glob_turns_variables_into_wildcards() -> None:
    assert format_glob("arn:${Partition}:s3:::${BucketName}/${ObjectName}") == "arn:*:s3:::*/*"


@pytest.mark.parametrize(("resource", "formats", "expected"), [
    ("*", (), True),
    ("*", ("arn:${Partition}:s3:::${BucketName}/${ObjectName}",), True),
    ("arn:aws:s3:::b/k", (), False),  # an action that takes no ARN is only reached by "*"
    ("arn:aws:s3:::b/k", ("arn:${Partition}:s3:::${BucketName}/${ObjectName}",), True),
    ("arn:aws:s3:::b/k", ("arn:${Partition}:kms:${Region}:${Account}:key/${KeyId}",), False),
    ("${Ref:Bucket}", ("arn:${Partition}:s3:::${BucketName}",), True),  # unknown until deployed: may apply
    ("bucket", ("arn:${Partition}:s3:::${BucketName}",), False),
])
def test_resource_applies(resource: str, formats: tuple[str, ...], expected: bool) -> None:
    assert resource_applies(resource, formats) is expected
