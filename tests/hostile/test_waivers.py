"""A waiver names exactly one existing rule: `*`, a prefix, a pattern, a list, an unknown ID or an ID with a line
break in it is an error (exit 2 at the waiver's line), never a silent pass. A waiver only ever waives a fail or a
warn of its own rule, and an unwaivable rule stays blocking."""

from __future__ import annotations

import json

import pytest

from tests.hostile.support import Cli, Model, check

WAIVER = "waivers:\n  - rule: {rule}\n    reason: r\n    approved_by: a\n    expires: 2027-01-01\n"


def _waive(model: Model, rule: str) -> None:
    with (model.root / "mlgate.yaml").open("a", encoding="utf-8") as fh:
        fh.write(WAIVER.format(rule=rule))


@pytest.mark.parametrize(("rule", "hint"), [
    ('"*"', "a waiver names exactly one rule ID"),
    ('"REP*"', "a waiver names exactly one rule ID"),
    ('"REP00?"', "a waiver names exactly one rule ID"),
    ('"[A-Z]*"', "a waiver names exactly one rule ID"),
    ('"REP001,REP002"', "a waiver names exactly one rule ID"),
    ("REP", "`mlgate rules` lists the rule IDs"),
    ("NOPE001", "`mlgate rules` lists the rule IDs"),
    ('""', "`mlgate rules` lists the rule IDs"),
    (json.dumps("REP001\n::add-mask::x"), "`mlgate rules` lists the rule IDs"),
    (json.dumps("REP001 "), "`mlgate rules` lists the rule IDs"),
    (json.dumps("REP001\u200b"), "`mlgate rules` lists the rule IDs"),
])
def test_waiver_of_no_single_rule_is_an_error(model: Model, cli: Cli, rule: str, hint: str) -> None:
    _waive(model, rule)
    outcome = check(cli, model.root)
    assert outcome.code == 2
    assert outcome.err.startswith("mlgate: error: mlgate.yaml:")
    assert "is not a rule" in outcome.err
    assert hint in outcome.err
    assert "\n::add-mask::" not in outcome.err


@pytest.mark.parametrize("rule", ['"*"', "NOPE001"])
def test_validate_refuses_it_too(model: Model, cli: Cli, rule: str) -> None:
    _waive(model, rule)
    code, _, err = cli("validate", str(model.root))
    assert code == 2
    assert "is not a rule" in err


def test_waiver_cannot_make_a_passing_rule_waived(model: Model, cli: Cli) -> None:
    _waive(model, "REP001")
    outcome = check(cli, model.root)
    assert outcome.status("REP001") == "pass"
    (waiver,) = outcome.report["deployments"][0]["waivers"] if outcome.report else [None]
    assert waiver["state"] == "unused"


def test_unwaivable_rule_stays_blocking(model: Model, cli: Cli) -> None:
    model.edit_spec("runbook: docs/runbook.md", "runbook: docs/missing.md")
    _waive(model, "OPS003")
    model.write(".mlgate.toml", 'unwaivable = ["OPS003"]\n')
    outcome = check(cli, model.root)
    assert outcome.code == 1
    assert outcome.status("OPS003") == "fail"


# -- issue 18, item 10: how long a waiver may last, and who may approve it -----------------------------------------

def _waive_until(model: Model, rule: str, expires: str, approved_by: str = "a") -> None:
    with (model.root / "mlgate.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"waivers:\n  - rule: {rule}\n    reason: r\n    approved_by: {approved_by}\n    expires: {expires}\n")


def _failing_ops003(model: Model) -> None:
    model.edit_spec("runbook: docs/runbook.md", "runbook: docs/missing.md")


@pytest.mark.parametrize(("config", "expires", "waived"), [
    ("", "2027-05-25", True),  # 180 days after 2026-11-26
    ("", "2027-05-26", False),  # 181 days
    ("", "2099-12-31", False),
    ("max_waiver_days = 30\n", "2026-12-26", True),
    ("max_waiver_days = 30\n", "2026-12-27", False),
])
def test_a_waiver_expires_within_the_horizon(model: Model, cli: Cli, monkeypatch: pytest.MonkeyPatch,
                                             config: str, expires: str, waived: bool) -> None:
    monkeypatch.setenv("MLGATE_TODAY", "2026-11-26")
    _failing_ops003(model)
    _waive_until(model, "OPS003", expires)
    if config:
        model.write(".mlgate.toml", config)
    outcome = check(cli, model.root)
    assert outcome.status("OPS003") == ("waived" if waived else "fail")
    (waiver,) = outcome.report["deployments"][0]["waivers"] if outcome.report else [None]
    if not waived:
        assert waiver["state"] == "forbidden"
        assert f"does not waive: expires on {expires}, more than" in waiver["note"]
        assert "days away (max_waiver_days of" in waiver["note"]


@pytest.mark.parametrize(("approved_by", "waived"), [("release-board@acme.example", True), ("me", False),
                                                     ("Release-Board@acme.example", False)])
def test_approved_by_must_be_a_listed_approver(model: Model, cli: Cli, approved_by: str, waived: bool) -> None:
    _failing_ops003(model)
    _waive_until(model, "OPS003", "2027-01-01", approved_by)
    model.write(".mlgate.toml", 'approvers = ["release-board@acme.example", "cto@acme.example"]\n')
    outcome = check(cli, model.root)
    assert outcome.status("OPS003") == ("waived" if waived else "fail")
    (waiver,) = outcome.report["deployments"][0]["waivers"] if outcome.report else [None]
    if not waived:
        assert waiver["state"] == "forbidden"
        assert f"approved_by '{approved_by}' is not one of the approvers .mlgate.toml lists" in waiver["note"]
        for fmt in ("text", "markdown"):
            _, out, _ = cli("check", str(model.root), "--format", fmt)
            assert "is not one of the approvers" in out.replace("\\", ""), fmt
