"""Whether a problem blocks, said plainly and the same way in every report: the rule's severity, how a warn counts,
and what fail-on blocks. Repro: `warn ... [error, not blocking]` and `FAIL ... [warning, not blocking]` read as
contradictions."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from mlgate.engine import _blocks
from mlgate.report import render
from mlgate.result import Deployment, Finding, Location, Report, RuleInfo, RuleResult, Severity, Status, blocking_words

SPEC = "models/fraud/mlgate.yaml"


def _result(status: Status, severity: Severity, fail_on: Severity) -> RuleResult:
    rule = RuleInfo("OPS001", "Retraining trigger decided", "operations", severity, "why", "fix", "")
    result = RuleResult(rule, status, severity, [Finding(status, "retraining is manual", Location(SPEC, 7))])
    result.blocking = _blocks(result, fail_on)  # as the engine decides it
    return result


@pytest.mark.parametrize(("status", "severity", "fail_on", "words"), [
    ("warn", "error", "error",
     "severity error, but a warn counts as a warning: does not block, since fail-on error blocks severity error only"),
    ("fail", "warning", "error",
     "severity warning: does not block, since fail-on error blocks severity error only"),
    ("fail", "error", "error", "severity error: blocks at fail-on error"),
    ("error", "error", "error", "severity error: blocks at fail-on error"),
    ("warn", "error", "warning", "severity error, but a warn counts as a warning: blocks at fail-on warning"),
    ("fail", "note", "warning",
     "severity note: does not block, since fail-on warning blocks severity warning and error"),
    ("warn", "note", "note", "severity note: blocks at fail-on note"),
    ("pass", "error", "error", None),
    ("n/a", "error", "error", None),
])
def test_blocking_words(status: Status, severity: Severity, fail_on: Severity, words: str | None) -> None:
    assert blocking_words(_result(status, severity, fail_on), fail_on) == words


def _report(status: Status, severity: Severity, fail_on: Severity = "error") -> Report:
    result = _result(status, severity, fail_on)
    return Report([Deployment(SPEC, "fraud", [result], [], Location(SPEC, 1))], fail_on, "0.1.0", [result.rule])


@pytest.mark.parametrize(("status", "severity", "words"), [
    ("warn", "error",
     "severity error, but a warn counts as a warning: does not block, since fail-on error blocks severity error only"),
    ("fail", "warning", "severity warning: does not block, since fail-on error blocks severity error only"),
])
def test_every_report_says_it_the_same_way(status: Status, severity: Severity, words: str) -> None:
    report = _report(status, severity)
    text = render(report, "text")
    symbol = "warn  " if status == "warn" else "FAIL  "
    assert f"  {symbol} OPS001  Retraining trigger decided  ({words})\n" in text
    assert "not blocking" not in text and "[" not in text
    markdown = render(report, "markdown")
    assert f"Retraining trigger decided — {status} · {words}\n" in markdown
    junit = ET.fromstring(render(report, "junit"))
    assert (junit.findtext(".//system-out") or "").startswith(f"{status} ({words})\n")


def test_a_blocking_failure_is_not_repeated_on_every_text_line() -> None:
    text = render(_report("fail", "error"), "text")
    assert "  FAIL   OPS001  Retraining trigger decided\n" in text
    assert "fail-on error" in text.splitlines()[-1]  # the summary line says what blocks
    assert "OPS001 Retraining trigger decided — fail · severity error: blocks at fail-on error" in \
        render(_report("fail", "error"), "markdown").replace("**", "")
