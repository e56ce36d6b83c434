"""The engine: statuses, severities, --fail-on, config, waivers, team rules and plugins."""

from __future__ import annotations

import datetime as dt

import pytest

from mlgate.config import load_config
from mlgate.engine import Options, run
from mlgate.errors import UsageError
from mlgate.registry import load_registry
from mlgate.spec.load import load_spec
from tests.conftest import TODAY, Repo

SPEC = "version: 1\nmodel:\n  name: fraud\n"


pytestmark = pytest.mark.usefixtures("test_plugin")


def report(repo: Repo, select: list[str], spec: str = SPEC, **options: object):  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", spec)
    loaded = load_spec(repo.root / "mlgate.yaml")
    opts = Options(select=select, **{"today": TODAY, **options})  # type: ignore[arg-type]
    return run([loaded], load_registry(repo.root), load_config(repo.root), opts)


def results(repo: Repo, select: list[str], spec: str = SPEC, **options: object) -> dict[str, object]:
    dep = report(repo, select, spec, **options).deployments[0]
    return {r.rule.id: r for r in dep.results}


def test_plugin_rules_join_the_catalogue(repo: Repo) -> None:
    registry = load_registry(repo.root)
    rule = registry.rules["TST001"]
    assert rule.source == "plugin mlgate_testplugin:always_fail"
    assert rule.params == {"threshold": 3}
    assert rule.docs.endswith("#tst001")


def test_status_is_the_worst_finding_and_fail_blocks(repo: Repo) -> None:
    rep = report(repo, ["TST001", "TST004"])
    by_id = {r.rule.id: r for r in rep.deployments[0].results}
    assert by_id["TST001"].status == "fail"
    assert by_id["TST001"].blocking
    assert by_id["TST001"].headline.message == "threshold is 3"
    assert by_id["TST001"].headline.location is not None
    assert by_id["TST001"].headline.location.line == 3  # model.name in the spec
    assert by_id["TST004"].status == "pass"
    assert not rep.ready


def test_a_crashing_check_is_an_error_and_the_run_goes_on(repo: Repo) -> None:
    by_id = results(repo, ["TST002", "TST004"])
    crashed = by_id["TST002"]
    assert crashed.status == "error"  # type: ignore[attr-defined]
    assert "RuntimeError: boom" in crashed.findings[0].message  # type: ignore[attr-defined]
    assert by_id["TST004"].status == "pass"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("fail_on", "ready"), [("error", True), ("warning", False)])
def test_warn_blocks_only_with_fail_on_warning(repo: Repo, fail_on: str, ready: bool) -> None:
    assert report(repo, ["TST003"], fail_on=fail_on).ready is ready


def test_select_and_ignore_accept_prefixes(repo: Repo) -> None:
    assert set(results(repo, ["TST"])) == {"TST001", "TST002", "TST003", "TST004", "TST005"}
    rep = report(repo, ["TST"], ignore=["TST00"])
    assert rep.deployments[0].results == []


def test_unknown_selector_is_a_usage_error(repo: Repo) -> None:
    with pytest.raises(UsageError, match="--select: no rule matches 'XYZ'"):
        report(repo, ["XYZ"])


def test_config_skip_severity_and_params(repo: Repo) -> None:
    repo.write("pyproject.toml", """
        [project]
        name = "x"

        [tool.mlgate]
        skip = ["TST002"]

        [tool.mlgate.severity]
        TST001 = "warning"

        [tool.mlgate.params.TST001]
        threshold = 7
    """)
    by_id = results(repo, ["TST"])
    assert "TST002" not in by_id
    tst1 = by_id["TST001"]
    assert tst1.severity == "warning"  # type: ignore[attr-defined]
    assert not tst1.blocking  # type: ignore[attr-defined]
    assert tst1.headline.message == "threshold is 7"  # type: ignore[attr-defined]


def test_two_config_files_are_an_error(repo: Repo) -> None:
    # reading one would drop the other silently (an empty .mlgate.toml discarded [tool.mlgate])
    repo.write("pyproject.toml", "[tool.mlgate]\nskip = ['TST001']\n")
    repo.write(".mlgate.toml", "skip = ['TST004']\n")
    with pytest.raises(UsageError, match="mlgate is configured twice"):
        results(repo, ["TST001", "TST004"])


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ("[tool.mlgate]\nskp = ['TST001']\n", "unknown setting 'tool.mlgate.skp' (did you mean 'skip'?)"),
        ("[tool.mlgate]\nskip = ['NOPE1']\n", "pyproject.toml: skip: no rule matches 'NOPE1'"),
        ("[tool.mlgate.params.TST001]\nthreshhold = 1\n", "unknown parameter threshhold (known: threshold)"),
        ("[tool.mlgate.severity]\nTST001 = 'fatal'\n", "tool.mlgate.severity.TST001"),
        ("[tool.mlgate.params.TST001]\nthreshold = 'high'\n", "expected a number like the default 3"),
        # a plugin's typed Params: its bounds hold for the team's value
        ("[tool.mlgate.params.TST005]\nmax_replicas = 0\n", "params.TST005.max_replicas: expected greater than "
                                                             "or equal to 1, found 0"),
        ("[tool.mlgate.params.TST005]\nmax_replicas = 2.5\n", "params.TST005.max_replicas: expected a number like "
                                                               "the default 4, found 2.5"),
        ("[tool.mlgate\n", "TOML syntax error"),
    ],
)
def test_bad_config_is_a_usage_error(repo: Repo, toml: str, fragment: str) -> None:
    repo.write("pyproject.toml", toml)
    with pytest.raises(UsageError) as info:
        report(repo, ["TST"])
    assert fragment in str(info.value)


WAIVER = """
version: 1
model:
  name: fraud
waivers:
  - rule: {rule}
    reason: Labels arrive with ticket RISK-142.
    approved_by: release-board@acme.example
    expires: {expires}
"""


def test_an_active_waiver_waives_and_the_deployment_is_ready(repo: Repo) -> None:
    rep = report(repo, ["TST001"], WAIVER.format(rule="TST001", expires="2026-12-31"))
    (result,) = rep.deployments[0].results
    assert result.status == "waived"
    assert result.unwaived_status == "fail"
    assert result.waiver is not None and result.waiver.state == "active"
    assert rep.ready


def test_a_waiver_is_valid_through_its_expiry_day(repo: Repo) -> None:
    spec = WAIVER.format(rule="TST001", expires=TODAY.isoformat())
    assert report(repo, ["TST001"], spec).ready
    assert not report(repo, ["TST001"], spec, today=TODAY + dt.timedelta(days=1)).ready


@pytest.mark.parametrize(
    ("spec", "state", "note"),
    [
        (WAIVER.format(rule="TST001", expires="2026-01-31"), "expired", "expired on 2026-01-31"),
        ("version: 1\nwaivers:\n  - rule: TST001\n    reason: because\n", "incomplete",
         "missing approved_by, expires"),
        (WAIVER.format(rule="TST004", expires="2026-12-31"), "unused", "TST004 is pass; remove the waiver"),
    ],
)
def test_waivers_that_do_not_waive_are_reported(repo: Repo, spec: str, state: str, note: str) -> None:
    rep = report(repo, ["TST001", "TST004"], spec)
    (waiver,) = rep.deployments[0].waivers
    assert waiver.state == state
    assert note in waiver.note
    assert waiver.location.line > 1
    assert not rep.ready  # TST001 still fails


def test_unwaivable_rules_cannot_be_waived(repo: Repo) -> None:
    repo.write(".mlgate.toml", "unwaivable = ['TST001']\n")
    rep = report(repo, ["TST001"], WAIVER.format(rule="TST001", expires="2026-12-31"))
    assert rep.deployments[0].waivers[0].state == "forbidden"
    assert not rep.ready


@pytest.mark.parametrize(("rule", "hint"), [("'*'", "exactly one rule ID"), ("NOPE001", "mlgate rules")])
def test_a_waiver_for_no_rule_is_a_usage_error(repo: Repo, rule: str, hint: str) -> None:
    with pytest.raises(UsageError) as info:
        report(repo, ["TST001"], WAIVER.format(rule=rule, expires="2026-12-31"))
    assert "is not a rule" in info.value.message
    assert hint in str(info.value.hint)
    assert info.value.line == 5


def test_team_rule_reuses_a_check_with_other_params(repo: Repo) -> None:
    repo.write(".mlgate/rules/ACME001.yaml", """
        id: ACME001
        title: Team variant of TST001
        section: operations
        severity: warning
        rationale: our own threshold
        remediation: ask the platform team
        check: testplugin.always_fail
        params:
          threshold: 9
    """)
    by_id = results(repo, ["ACME001", "TST001"])
    assert by_id["ACME001"].headline.message == "threshold is 9"  # type: ignore[attr-defined]
    assert by_id["TST001"].headline.message == "threshold is 3"  # type: ignore[attr-defined]
    assert by_id["ACME001"].rule.source == ".mlgate/rules/ACME001.yaml"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("id: TST001\ntitle: t\nsection: s\nrationale: r\nremediation: m\ncheck: testplugin.passes\n",
         "already defined"),
        ("id: acme\ntitle: t\nsection: s\nrationale: r\nremediation: m\ncheck: x.y\n", "rule file: id"),
        ("id: ACME002\ntitle: t\nsection: s\nrationale: r\ncheck: x.y\n", "rule file: remediation"),
    ],
)
def test_bad_team_rules_are_usage_errors(repo: Repo, text: str, fragment: str) -> None:
    repo.write(".mlgate/rules/bad.yaml", text)
    with pytest.raises(UsageError) as info:
        load_registry(repo.root)
    assert fragment in str(info.value)
    assert info.value.path == ".mlgate/rules/bad.yaml"


def test_a_rule_whose_check_does_not_exist_is_an_error_status(repo: Repo) -> None:
    repo.write(".mlgate/rules/ACME003.yaml",
               "id: ACME003\ntitle: t\nsection: ops\nrationale: r\nremediation: m\ncheck: nosuch.check\n")
    result = results(repo, ["ACME003"])["ACME003"]
    assert result.status == "error"  # type: ignore[attr-defined]
    assert "no check named 'nosuch.check'" in result.findings[0].message  # type: ignore[attr-defined]


def test_a_plugin_with_typed_params_reads_them_and_explains_them(repo: Repo) -> None:
    from mlgate.report.catalogue import explain

    repo.write("pyproject.toml", "[tool.mlgate.params.TST005]\nmax_replicas = 8\n")
    result = results(repo, ["TST005"])["TST005"]
    assert result.findings[0].message == "at most 8 replicas"  # type: ignore[attr-defined]
    text = explain(load_registry(repo.root).rules["TST005"])
    assert "max_replicas = 4 -- the most replicas a model may ask for (>= 1, <= 64)" in text


def test_a_team_rule_gets_the_builtin_checks_parameters_and_their_meaning(repo: Repo) -> None:
    from mlgate.report.catalogue import explain

    repo.write(".mlgate/rules/ACME002.yaml", "id: ACME002\ntitle: t\nsection: rollout\nrationale: r\n"
                                             "remediation: m\ncheck: rollout.canary\nparams:\n  max_first_step: 1\n")
    registry = load_registry(repo.root)
    team, builtin = registry.rules["ACME002"], registry.rules["RLO002"]
    assert team.module == builtin.module is not None  # the same rule module: its online check too
    assert team.params == {**builtin.params, "max_first_step": 1}
    assert "max_first_step = 1 -- " in explain(team)
    repo.write("pyproject.toml", "[tool.mlgate.params.ACME002]\nmin_bake_time = 'soon'\n")
    with pytest.raises(UsageError, match=r"params\.ACME002\.min_bake_time: a duration like 10m"):
        results(repo, ["ACME002"])
