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
