"""JUnit XML: one testsuite per deployment, one testcase per rule, outcomes and counts, XML-safe text."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from mlgate.report import render
from mlgate.result import Deployment, Finding, Location, Report, RuleInfo, RuleResult, WaiverState

SPEC = "models/fraud detection/mlgate.yaml"
OTHER = "models/churn/mlgate.yaml"
HOSTILE = "bad \x00nul \x1b[31mansi\x1b[0m \x0bvt \ufffe ]]> <tag> & \"quote\"\nsecond line"


def _rule(rid: str, section: str, severity: str = "error") -> RuleInfo:
    return RuleInfo(rid, f"{rid} title", section, severity, f"why {rid}", f"fix {rid}",  # type: ignore[arg-type]
                    f"https://example.invalid/{rid}")


RULES = [_rule("REP001", "reproducibility"), _rule("SEC001", "security"), _rule("SEC002", "security", "warning"),
         _rule("MON001", "monitoring", "note"), _rule("OPS001", "operations"), _rule("OPS002", "operations"),
         _rule("RLO001", "rollout"), _rule("RLO002", "rollout", "note")]


def sample_report(message: str = "role allows s3:*") -> Report:
    rep, sec1, sec2, mon, ops1, ops2, rlo1, rlo2 = RULES
    waiver = WaiverState("OPS001", "vendor fix", "jane.doe", dt.date(2026, 12, 31), "active", "waives OPS001",
                         Location(SPEC, 40))
    first = Deployment(SPEC, "fraud", [
        RuleResult(rep, "pass", "error", [Finding("pass", "dataset pinned by version", Location(SPEC, 5))]),
        RuleResult(sec1, "fail", "error", [Finding("fail", message, Location("infra/role.json", 3), "scope it"),
                                           Finding("fail", "second problem", None)], blocking=True),
        RuleResult(sec2, "warn", "warning", [Finding("warn", "email not hashed", Location(SPEC, 14))],
                   blocking=True),
        RuleResult(mon, "warn", "note", [Finding("warn", "no drift alarm", Location(SPEC, 20))]),
        RuleResult(ops1, "waived", "error", [Finding("fail", "no rollback", Location(SPEC, 30))], waiver=waiver),
        RuleResult(ops2, "n/a", "error", [Finding("n/a", "batch has no endpoint", Location(SPEC, 1))]),
        RuleResult(rlo1, "error", "error", [Finding("error", "could not read the evidence: x.json",
                                                    Location("x.json", 1))], blocking=True),
        RuleResult(rlo2, "fail", "note", [Finding("fail", "canary too big", Location(SPEC, 50))]),
    ], [waiver], Location(SPEC, 2))
    second = Deployment(OTHER, "churn", [
        RuleResult(rep, "pass", "error", [Finding("pass", "dataset pinned by sha256", Location(OTHER, 4))]),
        RuleResult(sec1, "fail", "error", [Finding("fail", "role allows iam:*", Location(OTHER, 8))],
                   blocking=True),
    ], [], Location(OTHER, 1))
    return Report([first, second], "warning", "0.1.0", RULES)


@pytest.fixture(scope="module")
def root() -> ET.Element:
    return ET.fromstring(render(sample_report(), "junit").encode("utf-8"))


def _counts(element: ET.Element) -> dict[str, str]:
    return {k: element.attrib[k] for k in ("tests", "failures", "errors", "skipped")}


def test_totals_and_one_suite_per_deployment(root: ET.Element) -> None:
    assert root.tag == "testsuites" and root.get("name") == "mlgate"
    assert _counts(root) == {"tests": "10", "failures": "3", "errors": "1", "skipped": "2"}
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [SPEC, OTHER]
    assert [_counts(s) for s in suites] == [{"tests": "8", "failures": "2", "errors": "1", "skipped": "2"},
                                            {"tests": "2", "failures": "1", "errors": "0", "skipped": "0"}]


def test_one_testcase_per_rule_result(root: ET.Element) -> None:
    cases = root.findall("testsuite")[0].findall("testcase")
    assert [(c.get("classname"), c.get("name"), c.get("file")) for c in cases] == [
        ("mlgate.reproducibility", "REP001 REP001 title", SPEC), ("mlgate.security", "SEC001 SEC001 title", SPEC),
        ("mlgate.security", "SEC002 SEC002 title", SPEC), ("mlgate.monitoring", "MON001 MON001 title", SPEC),
        ("mlgate.operations", "OPS001 OPS001 title", SPEC), ("mlgate.operations", "OPS002 OPS002 title", SPEC),
        ("mlgate.rollout", "RLO001 RLO001 title", SPEC), ("mlgate.rollout", "RLO002 RLO002 title", SPEC)]


def test_outcomes(root: ET.Element) -> None:
    cases = {c.get("name", "").split()[0]: c for c in root.findall("testsuite")[0].findall("testcase")}
    outcome = {rid: [child.tag for child in case] for rid, case in cases.items()}
    assert outcome == {"REP001": ["system-out"], "SEC001": ["failure"], "SEC002": ["failure"],
                       "MON001": ["system-out"], "OPS001": ["skipped"], "OPS002": ["skipped"],
                       "RLO001": ["error"], "RLO002": ["system-out"]}
    failure = cases["SEC001"].find("failure")
    assert failure is not None
    assert (failure.get("message"), failure.get("type")) == ("role allows s3:*", "fail")
    assert failure.text == ("fail: infra/role.json:3: role allows s3:*\n  fix: scope it\n"
                            "fail: second problem\n  fix: fix SEC001\nwhy: why SEC001\n"
                            "docs: https://example.invalid/SEC001\n")
    assert cases["SEC002"].find("failure").get("type") == "warn"  # type: ignore[union-attr]
    error = cases["RLO001"].find("error")
    assert error is not None and error.get("message") == "could not read the evidence: x.json"
    assert cases["OPS001"].find("skipped").get("message") == (  # type: ignore[union-attr]
        "waived: vendor fix (approved by jane.doe, expires 2026-12-31)")
    assert cases["OPS002"].find("skipped").get("message") == "n/a: batch has no endpoint"  # type: ignore[union-attr]
    assert cases["REP001"].findtext("system-out") == f"pass: {SPEC}:5: dataset pinned by version"
    non_blocking = cases["RLO002"].findtext("system-out") or ""
    assert non_blocking.startswith("fail (severity note: does not block, since fail-on warning blocks severity warning "
                                   f"and error)\nfail: {SPEC}:50: canary too big\n  fix: fix RLO002\n")


def test_characters_xml_forbids_are_dropped() -> None:
    xml = render(sample_report(HOSTILE), "junit")
    assert not any(c in xml for c in "\x00\x1b\x0b\ufffe")
    root = ET.fromstring(xml.encode("utf-8"))  # parses: nothing XML 1.0 forbids is left
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    shown = r'bad \x00nul \x1b[31mansi\x1b[0m \x0bvt  ]]> <tag> & "quote"'
    assert failure.get("message") == shown + r"\nsecond line"  # an attribute stays on one line
    # one line per finding in the body too: a line break from the spec must not start a line of its own (a line
    # "::add-mask::x" in a file a workflow prints would be a command to the Actions runner)
    assert (failure.text or "").startswith(f"fail: infra/role.json:3: {shown}\\nsecond line\n")


def test_same_report_same_bytes() -> None:
    assert render(sample_report(), "junit") == render(sample_report(), "junit")
