"""JUnit XML for GitLab, Jenkins and Azure Pipelines: one testsuite per deployment, one testcase per rule.

A blocking fail or warn is a <failure>, a rule that could not be checked an <error>, n/a and waived rules are
<skipped> (with the reason), and everything else passes, a non-blocking problem or a pass's evidence going to
<system-out>. Characters XML 1.0 cannot carry are dropped, so one stray control character in a spec cannot make
the whole file unreadable.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from mlgate.report.sarif import waiver_justification
from mlgate.result import Deployment, Finding, Report, RuleResult, Severity, blocking_words
from mlgate.textsafe import one_line, xml_text


def render(report: Report, **_: Any) -> str:
    root = ET.Element("testsuites", {"name": "mlgate"})
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for d in report.deployments:
        suite = _suite(d, report.fail_on)
        properties = ET.Element("properties")  # first in a testsuite, as the JUnit schema orders it
        ET.SubElement(properties, "property", {"name": "mlgate.config", "value": _attr(report.config.describe())})
        suite.insert(0, properties)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _attr(text: object) -> str:
    return xml_text(one_line(str(text)))


def _body(text: str) -> str:
    """Multi-line text: line breaks kept, other control characters shown escaped (as in attributes)."""
    return xml_text("\n".join(one_line(line) for line in text.replace("\r\n", "\n").split("\n")))


def _suite(d: Deployment, fail_on: Severity) -> ET.Element:
    suite = ET.Element("testsuite", {"name": _attr(d.spec)})
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for r in d.results:
        case = ET.SubElement(suite, "testcase", {"classname": _attr(f"mlgate.{r.rule.section}"),
                                                 "name": _attr(f"{r.rule.id} {r.rule.title}"),
                                                 "file": _attr(d.spec)})
        counts["tests"] += 1
        outcome = _outcome(case, r, fail_on)
        if outcome:
            counts[outcome] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    return suite


def _outcome(case: ET.Element, r: RuleResult, fail_on: Severity) -> str | None:
    """Fill the testcase; return the counter it adds to (None for a pass)."""
    if r.status == "error":
        _child(case, "error", _headline(r), "error", _problems(r))
        return "errors"
    if r.status in ("fail", "warn") and r.blocking:
        _child(case, "failure", _headline(r), r.status, _problems(r))
        return "failures"
    if r.status == "waived":
        why = f"waived: {waiver_justification(r.waiver)}" if r.waiver else "waived"
        _child(case, "skipped", why, None, _problems(r))
        return "skipped"
    if r.status == "n/a":
        _child(case, "skipped", f"n/a: {_headline(r)}", None, None)
        return "skipped"
    if r.status in ("fail", "warn"):
        head = f"{r.status} ({blocking_words(r, fail_on)})"
        ET.SubElement(case, "system-out").text = _body(head + "\n" + _problems(r))
    else:
        evidence = [f for f in r.findings if f.status in ("pass", "n/a")]
        if evidence:
            ET.SubElement(case, "system-out").text = _body(_lines(evidence))
    return None


def _headline(r: RuleResult) -> str:
    return r.headline.message if r.findings else r.status


def _child(case: ET.Element, tag: str, message: str, kind: str | None, body: str | None) -> None:
    attrs = {"message": _attr(message)}
    if kind:
        attrs["type"] = kind
    element = ET.SubElement(case, tag, attrs)
    if body:
        element.text = _body(body)


def _problems(r: RuleResult) -> str:
    lines = [_lines(r.problems, r.rule.remediation)]
    lines.append(f"why: {r.rule.rationale}")
    lines.append(f"docs: {r.rule.docs}")
    return "\n".join(lines) + "\n"


def _lines(findings: Iterable[Finding], rule_fix: str | None = None) -> str:
    out = []
    for f in findings:  # one line each: a line break inside a message (from the spec) must not start a new line
        where = f"{one_line(f.location.path)}:{f.location.line}: " if f.location else ""
        out.append(f"{f.status}: {where}{one_line(f.message)}")
        if f.status in ("fail", "warn", "error") and (f.remediation or rule_fix):
            out.append(f"  fix: {one_line(f.remediation or rule_fix or '')}")
    return "\n".join(out)
