"""IAM conditions that do not narrow (issue 18, item 3). A negated operator (`StringNotEquals`, `ArnNotLike`, ...),
any `...IfExists` operator and any `ForAllValues:` operator is true when the request does not carry the key, so
on a key the request may lack, the statement grants as if it had no condition. SEC001 counts a condition as
narrowing only when an absent key cannot satisfy it, and says which condition it discounted and why."""

from __future__ import annotations

import json

import pytest

from tests.hostile.support import Cli, Model, check

POLICY = "deploy/iam/churn-predictor-role.json"


def _add_statement(model: Model, statement: dict[str, object]) -> None:
    policy = json.loads((model.root / POLICY).read_text(encoding="utf-8"))
    policy["Statement"].append({"Sid": "Hostile", "Effect": "Allow", **statement})
    model.write(POLICY, json.dumps(policy, indent=2))
    model.commit()


PASS_AND_TRAIN = ["iam:PassRole", "sagemaker:CreateTrainingJob"]


@pytest.mark.parametrize(("condition", "why"), [
    ({"StringNotEquals": {"aws:ResourceTag/team": "other"}}, "a negated operator"),
    ({"StringNotLike": {"aws:ResourceTag/team": "other*"}}, "a negated operator"),
    ({"ArnNotLike": {"aws:ResourceTag/team": "arn:aws:iam::*:role/x"}}, "a negated operator"),
    ({"StringEqualsIfExists": {"aws:ResourceTag/team": "growth"}}, "an ...IfExists operator"),
    ({"ForAllValues:StringEquals": {"aws:ResourceTag/team": "growth"}}, "a ForAllValues: operator"),
    ({"ForAllValues:StringLike": {"iam:PassedToService": "sagemaker.amazonaws.com"}}, "a ForAllValues: operator"),
    ({"StringNotEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}, "a negated operator"),
])
def test_a_condition_an_absent_key_satisfies_does_not_narrow(model: Model, cli: Cli, condition: dict[str, object],
                                                              why: str) -> None:
    _add_statement(model, {"Action": PASS_AND_TRAIN, "Resource": "*", "Condition": condition})
    outcome = check(cli, model.root, "--select", "SEC001")
    assert outcome.code == 1
    assert outcome.status("SEC001") == "fail"
    messages = outcome.messages("SEC001")
    assert "the role can escalate its privileges by combining actions" in messages
    (op, block), = condition.items()
    (key, _), = block.items()  # type: ignore[attr-defined]
    assert f"{op} on {key} does not narrow it: {why}" in messages
    assert "is true when the request does not carry the key" in messages or "for every value but" in messages


@pytest.mark.parametrize("condition", [
    {"StringEquals": {"aws:ResourceTag/team": "growth"}},
    {"ForAnyValue:StringEquals": {"aws:ResourceTag/team": "growth"}},
    {"ArnLike": {"aws:ResourceTag/team": "arn:aws:iam::111122223333:role/x"}},
])
def test_a_positive_condition_still_narrows(model: Model, cli: Cli, condition: dict[str, object]) -> None:
    _add_statement(model, {"Action": ["sagemaker:CreateTrainingJob"], "Resource": "*", "Condition": condition})
    outcome = check(cli, model.root, "--select", "SEC001")
    messages = outcome.messages("SEC001")
    assert "does not narrow it" not in messages
    assert 'sagemaker:CreateTrainingJob on Resource "*"' not in messages


def test_pass_role_to_one_service_counts(model: Model, cli: Cli) -> None:
    _add_statement(model, {"Action": ["iam:PassRole"], "Resource": "*",
                           "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}})
    outcome = check(cli, model.root, "--select", "SEC001")
    messages = outcome.messages("SEC001")
    assert "lets the role pass any role on Resource \"*\" to sagemaker.amazonaws.com" in messages
    assert "does not narrow it" not in messages
