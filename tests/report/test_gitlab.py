"""GitLab Code Quality JSON: the fields GitLab requires, problems only, stable and unique fingerprints."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from mlgate.report import render, sarif
from mlgate.result import ConfigUsed, Deployment, Finding, Location, Report, RuleInfo, RuleResult, WaiverState
from tests.conftest import TODAY, Repo
from tests.example_repos import example_repo

SPEC = "models/fraud/mlgate.yaml"
# What GitLab reads from each issue (docs: "Code Quality report format"); anything else is ignored.
ISSUE_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1, "pattern": "^[^\\n\\r]*$"},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1},
                    "lines": {"type": "object", "required": ["begin"],
                              "properties": {"begin": {"type": "integer", "minimum": 1}}},
                },
            },
        },
    },
}


def _rule(rid: str, severity: str) -> RuleInfo:
    return RuleInfo(rid, f"Title of {rid}", "operations", severity, f"Why {rid}.",  # type: ignore[arg-type]
                    f"Fix {rid}.", f"https://example.com/{rid}")


def sample_report() -> Report:
    waiver = WaiverState("OPS005", "later", "jane", dt.date(2026, 12, 31), "active", "", Location(SPEC, 40))
    results = [
        RuleResult(_rule("OPS001", "error"), "fail", "error", [
            Finding("pass", "part is fine", Location(SPEC, 3)),
            Finding("fail", "runbook lacks the rollback\n::x", Location("docs/runbook.md", 7), "add it"),
            Finding("warn", "runbook is old", Location("docs/runbook.md", 1)),
            Finding("fail", "no location at all")], blocking=True),
        RuleResult(_rule("OPS002", "warning"), "warn", "warning", [Finding("warn", "pager is a person",
                                                                           Location(SPEC, 9))]),
        RuleResult(_rule("OPS003", "note"), "fail", "note", [Finding("fail", "a note", Location(SPEC, 11))]),
        RuleResult(_rule("OPS004", "error"), "error", "error", [Finding("error", "unreadable", Location(SPEC, 0))],
                   blocking=True),
        RuleResult(_rule("OPS005", "error"), "waived", "error", [Finding("fail", "waived away", Location(SPEC, 12))],
                   waiver=waiver),
        RuleResult(_rule("OPS006", "error"), "pass", "error", [Finding("pass", "fine", Location(SPEC, 13))]),
        RuleResult(_rule("OPS007", "error"), "n/a", "error", [Finding("n/a", "batch", Location(SPEC, 14))]),
    ]
    return Report([Deployment(SPEC, "fraud", results, [waiver], Location(SPEC, 2))], "error", "0.1.0",
                  [r.rule for r in results])


def issues(report: Report) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = json.loads(render(report, "gitlab"))
    return out


def test_problems_only_with_the_required_fields() -> None:
    found = issues(sample_report())
    jsonschema.validate(found, ISSUE_SCHEMA)
    assert [(i["check_name"], i["severity"], i["location"]["path"], i["location"]["lines"]["begin"])
            for i in found] == [
        ("OPS001", "blocker", "docs/runbook.md", 7),
        ("OPS001", "minor", "docs/runbook.md", 1),  # a warn beside the failure does not block
        ("OPS001", "blocker", SPEC, 2),  # no location: the deployment's spec line
        ("OPS002", "minor", SPEC, 9),
        ("OPS003", "info", SPEC, 11),
        ("OPS004", "blocker", SPEC, 1),
    ]


def test_description_is_one_line_with_the_fix() -> None:
    first, second, *_ = issues(sample_report())
    assert first["description"] == ("OPS001 Title of OPS001: runbook lacks the rollback\\n::x (deployment "
                                    f"{SPEC}) Fix: add it")
    assert second["description"].endswith("Fix: Fix OPS001.")  # the rule's fix when the finding has none
    unreadable = next(i for i in issues(sample_report()) if i["check_name"] == "OPS004")
    assert unreadable["description"] == "OPS004 Title of OPS004: could not check: unreadable"


def test_fingerprints_are_unique_and_ignore_line_numbers() -> None:
    report = sample_report()
    before = [i["fingerprint"] for i in issues(report)]
    assert len(set(before)) == len(before)
    d = report.deployments[0]
    moved = [dataclasses.replace(f, location=Location(f.location.path, f.location.line + 10)) if f.location else f
             for f in d.results[0].findings]
    d.results[0] = dataclasses.replace(d.results[0], findings=moved)
    assert [i["fingerprint"] for i in issues(report)] == before


def test_the_same_problem_twice_gets_two_fingerprints() -> None:
    report = sample_report()
    twice = Finding("fail", "same", Location(SPEC, 5))
    report.deployments[0].results[0].findings[:] = [twice, twice]
    first, second = [i for i in issues(report) if i["check_name"] == "OPS001"]
    assert first["description"] == second["description"]
    assert first["fingerprint"] != second["fingerprint"]


def test_fingerprints_survive_rewording_and_are_the_sarif_ones() -> None:
    report = sample_report()
    before = [i["fingerprint"] for i in issues(report)]
    d = report.deployments[0]
    for r in d.results:
        r.findings[:] = [dataclasses.replace(f, message=f"reworded: {f.message}", remediation="do better")
                         for f in r.findings]
    assert [i["fingerprint"] for i in issues(report)] == before
    # SARIF also lists the waived OPS005, which GitLab leaves out
    in_sarif = [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in sarif.sarif_log(report)["runs"][0]["results"]
                if r["ruleId"] != "OPS005"]
    assert in_sarif == before


def test_config_issue_is_keyed_on_what_the_config_does(monkeypatch: pytest.MonkeyPatch) -> None:
    def config_fingerprint(config: ConfigUsed) -> str:
        report = sample_report()
        report.config = config
        (issue,) = [i for i in issues(report) if i["check_name"] == "mlgate-config"]
        fingerprint: str = issue["fingerprint"]
        return fingerprint

    skips = ConfigUsed(".mlgate.toml", skipped=("OPS002",))
    before = config_fingerprint(skips)
    assert config_fingerprint(ConfigUsed(".mlgate.toml", skipped=("OPS003",))) != before
    monkeypatch.setattr(ConfigUsed, "describe", lambda self: "a reworded summary")
    assert config_fingerprint(skips) == before


@pytest.mark.usefixtures("test_plugin")
@pytest.mark.parametrize(("select", "code", "count"), [("TST004", 0, 0), ("TST001,TST004", 1, 1)])
def test_from_the_command_line(repo: Repo, cli, select: str, code: int, count: int) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", "version: 1\nmodel:\n  name: fraud\n")
    got, out, _ = cli("check", str(repo.root), "--select", select, "--format", "gitlab")
    assert got == code
    found = json.loads(out)
    jsonschema.validate(found, ISSUE_SCHEMA)
    assert len(found) == count
    if count:
        assert found[0]["location"] == {"path": "mlgate.yaml", "lines": {"begin": 3}}
        assert found[0]["description"] == "TST001 Always fails: threshold is 3 Fix: raise it"


DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_documented_gitlab_job_writes_the_reports_it_publishes(tmp_path: Path) -> None:
    """Run the `script:` of docs/gitlab-ci.yml (with this mlgate) in a not-ready repository, as the job would."""
    job = yaml.safe_load((DOCS / "gitlab-ci.yml").read_text(encoding="utf-8"))["mlgate"]
    assert job["variables"]["GIT_DEPTH"] == "0"
    (script,) = job["script"]
    argv = shlex.split(script)
    assert argv[0].endswith("/bin/mlgate")
    repo = example_repo(tmp_path / "repo", "not-ready")
    run = subprocess.run([sys.executable, "-m", "mlgate", *argv[1:]], cwd=repo.root, capture_output=True, text=True,
                         env={**os.environ, "MLGATE_TODAY": TODAY.isoformat()}, check=False)
    assert run.returncode == 1, run.stderr  # not ready: the job fails
    assert "NOT READY" in run.stdout  # the text report in the job log
    reports = job["artifacts"]["reports"]
    quality = json.loads((repo.root / reports["codequality"]).read_text(encoding="utf-8"))
    jsonschema.validate(quality, ISSUE_SCHEMA)
    assert {"REP001", "OPS002"} <= {i["check_name"] for i in quality}
    assert ET.parse(repo.root / reports["junit"]).getroot().tag == "testsuites"
    for path in job["artifacts"]["paths"]:
        assert (repo.root / path).is_file()
