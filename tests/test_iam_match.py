"""IAM name matching: action wildcards (`*`, `?`, any case), resource breadth, and which resources an action's
ARN formats can name."""

from __future__ import annotations

import itertools
import re
import time
from unittest import mock

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mlgate.iam import match
from mlgate.iam.match import (
    action_matches,
    format_glob,
    glob_matches,
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


# -- the matcher against a reference: a regular expression (correct, but it backtracks) ------------------------------

def _reference(pattern: str, text: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


@settings(max_examples=1000, deadline=None)
@given(st.text("ab?*", max_size=8), st.text("ab?", max_size=10))
@example("*?a*", "aa").via("a `?` then the same letter")
@example("*a?b*", "aaab").via("a partial match to restart from")
@example("a*?b?*b", "a?bbb").via("a literal `?` in the text")
def test_glob_matches_agrees_with_a_regular_expression(pattern: str, text: str) -> None:
    expected = _reference(pattern, text)
    assert glob_matches(pattern, text) is expected
    with mock.patch.object(match, "_SHORT_SEGMENT", 0):  # every segment with `?` through the bit-parallel search
        assert glob_matches(pattern, text) is expected


@settings(max_examples=200, deadline=None)
@given(st.text("ab?*", max_size=4), st.text("ab?*", max_size=4))
def test_globs_overlap_agrees_with_a_search_for_a_common_text(a: str, b: str) -> None:
    # a common text, when there is one, is no longer than the two globs together (every `*` may match nothing)
    texts = ("".join(t) for n in range(len(a) + len(b) + 1) for t in itertools.product("abc", repeat=n))
    expected = any(_reference(a, t) and _reference(b, t) for t in texts)
    assert match._overlap(a, b) is expected
    with mock.patch.object(match, "_SHORT_SEGMENT", 0):
        assert match._overlap(a, b) is expected


@pytest.mark.parametrize(("pattern", "text"), [
    ("s3:" + "*?" * 9 + "Z", "s3:GetObjectAcl"),  # 29 s with k=8 as a regular expression; k=9 never finished
    ("*" + "a?" * 16_000 + "b*", "a" * 65_536),  # a long segment with `?`: the bit-parallel search
    ("*" + "a*" * 30_000 + "b", "a" * 65_536),
])
def test_matching_takes_linear_time(pattern: str, text: str) -> None:
    started = time.perf_counter()
    assert not glob_matches(pattern, text, ignore_case=True)
    assert not globs_overlap(pattern, text)
    assert time.perf_counter() - started < 1
