"""Tiny inputs that made a run take minutes (issue 18, item 6), each now bounded: an IAM action pattern with many
wildcards (a backtracking regular expression took 29 s for `s3:` + `*?` * 8 + `Z`, and never finished for 9), a
rollback command of 1 MB with unbalanced parentheses (OPS003's call search took 49 s)."""

from __future__ import annotations

import json

from tests.hostile.support import Cli, Model, check

POLICY = "deploy/iam/churn-predictor-role.json"


def _add_action(model: Model, action: str) -> None:
    """Add `action` to the statement on Resource "*"."""
    policy = json.loads((model.root / POLICY).read_text(encoding="utf-8"))
    policy["Statement"][-1]["Action"].append(action)
    model.write(POLICY, json.dumps(policy, indent=2))
    model.commit()


def test_action_pattern_with_many_wildcards(model: Model, cli: Cli) -> None:
    _add_action(model, "s3:" + "*?" * 9 + "Z")
    outcome = check(cli, model.root, "--select", "SEC001", seconds=10)
    # the pattern matches no S3 action ending in Z: a warning that it names nothing known
    assert outcome.status("SEC001") == "warn"
    assert "names s3:*?*?*?*?*?*?*?*?*?Z, not in the IAM database" in outcome.messages("SEC001")


def test_action_pattern_that_matches_everything_it_can(model: Model, cli: Cli) -> None:
    _add_action(model, "s3:" + "*?" * 2000 + "t")  # matches s3 actions ending in t with 2,000+ letters: none
    _add_action(model, "s3:" + "*?" * 5 + "t")  # matches s3:GetObject, s3:PutObject...: a write to `*`
    outcome = check(cli, model.root, "--select", "SEC001", seconds=10)
    assert outcome.status("SEC001") == "fail"
    assert "grants s3:GetObject on Resource \"*\"" in outcome.messages("SEC001")
    assert "s3:DeleteBucket" in outcome.messages("SEC001")
