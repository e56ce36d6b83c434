"""A config change cannot hide (issue 18, item 5). Adding an empty `.mlgate.toml` used to discard the team's
`[tool.mlgate]` silently, its `unwaivable` list included, turning a forbidden waiver into READY: two configs are now
an error. Every report says which config file was used, which rules it skipped, which severities it lowered and
which rules are unwaivable; and `unwaivable`, `severity` take prefixes as `skip` does (`unwaivable = ["SEC"]`
protects SEC001 and SEC002)."""

from __future__ import annotations

import json

import pytest

from tests.hostile.support import Cli, Model, check
from tests.hostile.test_waivers import WAIVER

FORMATS = ["text", "markdown", "sarif", "json", "junit", "gitlab", "github"]
POLICY = "deploy/iam/churn-predictor-role.json"


def _waive(model: Model, rule: str) -> None:
    with (model.root / "mlgate.yaml").open("a", encoding="utf-8") as fh:
        fh.write(WAIVER.format(rule=rule))


def _break_ops003(model: Model) -> None:
    model.edit_spec("runbook: docs/runbook.md", "runbook: docs/missing.md")


def _break_sec001(model: Model) -> None:
    policy = json.loads((model.root / POLICY).read_text(encoding="utf-8"))
    policy["Statement"].append({"Effect": "Allow", "Action": "*", "Resource": "*"})
    model.write(POLICY, json.dumps(policy, indent=2))


def test_an_empty_mlgate_toml_beside_tool_mlgate_is_an_error(model: Model, cli: Cli) -> None:
    _break_ops003(model)
    _waive(model, "OPS003")
    model.write("pyproject.toml", '[project]\nname = "churn"\n\n[tool.mlgate]\nunwaivable = ["OPS003"]\n')
    model.commit()
    assert check(cli, model.root).status("OPS003") == "fail"  # the team's config: the waiver is forbidden
    model.write(".mlgate.toml", "")
    outcome = check(cli, model.root)
    assert outcome.code == 2
    assert outcome.err.startswith("mlgate: error: .mlgate.toml: mlgate is configured twice, by .mlgate.toml and "
                                  "by [tool.mlgate] in pyproject.toml")


@pytest.mark.parametrize("kind", ["directory", "dangling symlink"])
def test_a_mlgate_toml_that_is_not_a_file_is_an_error(model: Model, cli: Cli, kind: str) -> None:
    if kind == "directory":
        (model.root / ".mlgate.toml").mkdir()
    else:
        (model.root / ".mlgate.toml").symlink_to("nowhere.toml")
    outcome = check(cli, model.root)
    assert outcome.code == 2
    assert ".mlgate.toml" in outcome.err


@pytest.mark.parametrize("rule", ["SEC001", "SEC002"])
def test_unwaivable_prefix_protects_every_rule_it_names(model: Model, cli: Cli, rule: str) -> None:
    if rule == "SEC001":
        _break_sec001(model)
    else:
        model.edit_spec("      account_id: tokenize\n", "      account_id: keep\n")  # captured raw
    _waive(model, rule)
    model.write(".mlgate.toml", 'unwaivable = ["SEC"]\n')
    outcome = check(cli, model.root)
    assert outcome.code == 1
    assert outcome.status(rule) == "fail"
    (waiver,) = outcome.report["deployments"][0]["waivers"] if outcome.report else [None]
    assert waiver["state"] == "forbidden"
    assert f".mlgate.toml marks {rule} unwaivable" in waiver["note"]


def test_severity_prefix_applies_to_every_rule_it_names(model: Model, cli: Cli) -> None:
    _break_sec001(model)
    model.write(".mlgate.toml", '[severity]\nSEC = "note"\nSEC002 = "warning"\n')
    outcome = check(cli, model.root)
    assert outcome.results["SEC001"]["severity"] == "note"
    assert outcome.results["SEC002"]["severity"] == "warning"  # the longer selector wins
    assert outcome.code == 0  # SEC001 fails at note severity: not blocking, and every report says so
    assert "lowers SEC001 from error to note, SEC002 from error to warning" in outcome.report["config"]["summary"]


def test_params_take_one_rule_not_a_prefix(model: Model, cli: Cli) -> None:
    model.write(".mlgate.toml", '[params.SEC]\nmetric_namespaces = ["x"]\n')
    outcome = check(cli, model.root)
    assert outcome.code == 2
    assert "params.SEC: parameters are set for one rule ID, not a prefix" in outcome.err


def test_every_report_shows_the_config_and_what_it_does(model: Model, cli: Cli) -> None:
    model.write(".mlgate.toml", 'skip = ["MON"]\nunwaivable = ["SEC"]\n[severity]\nOPS003 = "note"\n')
    expected = (".mlgate.toml: skips MON001, MON002, MON003, MON004, MON005; lowers OPS003 from error to note; "
                "unwaivable: SEC001, SEC002")
    for fmt in FORMATS:
        code, out, err = cli("check", str(model.root), "--format", fmt)
        assert code == 0, err
        shown = out.replace("\\", "") if fmt == "markdown" else out  # Markdown escapes its punctuation
        assert expected in shown, fmt


def test_without_a_config_the_reports_say_so(model: Model, cli: Cli) -> None:
    for fmt in ("text", "markdown", "json", "sarif", "junit"):
        _, out, _ = cli("check", str(model.root), "--format", fmt)
        shown = out.replace("\\", "") if fmt == "markdown" else out
        assert "no config file: every rule runs at its own severity, and every rule may be waived" in shown, fmt
