"""SARIF 2.1.0 for GitHub code scanning.

GitHub turns every result into an alert, so a result is only ever a problem (a fail, warn or error finding of a
failed, warned, errored or waived rule); passes and n/a are never results. Every result points at a line in the
repository (the evidence file's line, else the spec's). A waived result carries an accepted suppression, so the
alert is shown as dismissed with the waiver's reason. `partialFingerprints` key a result on its rule, spec and the
fact judged (`report.fingerprint`), never on its wording or line, so an alert follows its problem when lines move
or a message is reworded.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from mlgate.report.fingerprint import problem_fingerprints
from mlgate.result import SEVERITY_RANK, Deployment, Finding, Report, RuleInfo, RuleResult, Severity, WaiverState
from mlgate.textsafe import md_code, md_link, md_text, one_line

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/mlgate/mlgate"
# v2: keyed on the fact judged (v1 hashed the message, so rewording one re-keyed its alerts)
FINGERPRINT_KEY = "mlgate/v2"
# GitHub maps security-severity to critical (>= 9.0), high (7.0-8.9), medium (4.0-6.9) and low (0.1-3.9).
SECURITY_SEVERITY: dict[str, str] = {"error": "8.0", "warning": "5.0", "note": "2.0"}
PROBLEM_RESULTS = ("fail", "warn", "error", "waived")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+\Z")


def render(report: Report, **_: Any) -> str:
    return json.dumps(sarif_log(report), indent=2, ensure_ascii=False) + "\n"


def sarif_log(report: Report) -> dict[str, Any]:
    rules = _rules(report)
    index = {rule.id: i for i, rule in enumerate(rules)}
    severity = _effective_severity(report)
    results = [_result(d, r, f, index[r.rule.id], fingerprint)
               for d in report.deployments for r in d.results if r.status in PROBLEM_RESULTS
               for f, fingerprint in zip(r.problems, problem_fingerprints(d, r), strict=True)]
    driver = {
        "name": "mlgate",
        "version": report.tool_version,
        "semanticVersion": report.tool_version,
        "informationUri": INFORMATION_URI,
        "rules": [_descriptor(rule, severity.get(rule.id, rule.severity)) for rule in rules],
    }
    # the team config is part of the pull request: what it skipped, lowered and made unwaivable is shown
    config = {"executionSuccessful": True, "toolConfigurationNotifications": [
        {"level": "note", "message": {"text": f"config: {one_line(report.config.describe())}"}}]}
    run = {"tool": {"driver": driver}, "invocations": [config], "columnKind": "unicodeCodePoints",
           "results": results, "properties": {"config": report.config.to_json()}}
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _rules(report: Report) -> list[RuleInfo]:
    """Every rule of the run, then (defensively) any rule a result names that the run's list lacks."""
    rules = list(report.rules)
    known = {rule.id for rule in rules}
    for d in report.deployments:
        for r in d.results:
            if r.rule.id not in known:
                known.add(r.rule.id)
                rules.append(r.rule)
    return rules


def _effective_severity(report: Report) -> dict[str, Severity]:
    """The severity a rule ran at (config may override the rule file's); the highest if deployments differ."""
    out: dict[str, Severity] = {}
    for d in report.deployments:
        for r in d.results:
            seen = out.get(r.rule.id)
            if seen is None or SEVERITY_RANK[r.severity] > SEVERITY_RANK[seen]:
                out[r.rule.id] = r.severity
    return out


def pascal_case(title: str) -> str:
    """`Training data pinned to an immutable version` -> `TrainingDataPinnedToAnImmutableVersion`."""
    return "".join(word[:1].upper() + word[1:] for word in re.findall(r"[A-Za-z0-9]+", title))


def _descriptor(rule: RuleInfo, severity: Severity) -> dict[str, Any]:
    properties: dict[str, Any] = {"tags": [rule.section]}
    if rule.section == "security":
        properties["security-severity"] = SECURITY_SEVERITY[severity]
    # GitHub shows help (not helpUri), so the docs link is repeated inside it.
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": pascal_case(rule.title) or rule.id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.rationale},
        "help": {"text": f"{rule.remediation}\n\nDocumentation: {rule.docs}",
                 "markdown": f"{md_text(rule.remediation)}\n\n" + (
                     md_link("Documentation", rule.docs) if rule.docs_linked
                     else f"Documentation: {md_code(rule.docs)}")},
        "defaultConfiguration": {"level": severity},
        "properties": properties,
    }
    if _URI.match(rule.docs) and rule.docs_linked:
        descriptor["helpUri"] = rule.docs
    return descriptor


def _level(result: RuleResult, finding: Finding) -> str:
    if finding.status == "error":
        return "error"
    if finding.status == "warn":
        return "note" if result.severity == "note" else "warning"
    return result.severity


def _result(d: Deployment, r: RuleResult, f: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    location = f.location or d.spec_location
    text = f"could not check: {f.message}" if f.status == "error" else f.message
    if f.remediation:
        text += f" Fix: {f.remediation}"
    if location.path != d.spec:
        text += f" (deployment {d.spec})"
    region: dict[str, Any] = {"startLine": max(1, location.line)}
    if location.column and location.column >= 1:
        region["startColumn"] = location.column
    out: dict[str, Any] = {
        "ruleId": r.rule.id,
        "ruleIndex": rule_index,
        "level": _level(r, f),
        "message": {"text": sarif_text(text)},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": quote(location.path, safe="/"), "uriBaseId": "%SRCROOT%"},
            "region": region,
        }}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
        "properties": {"deployment": d.spec, "status": r.status, "blocking": r.blocking},
    }
    if f.related:
        out["relatedLocations"] = [{"id": i, "physicalLocation": {
            "artifactLocation": {"uri": quote(rel.path, safe="/"), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": max(1, rel.line)}}} for i, rel in enumerate(f.related)]
    if r.status == "waived" and r.waiver:
        out["suppressions"] = [{"kind": "external", "status": "accepted",
                                "justification": waiver_justification(r.waiver)}]
    return out


def sarif_text(text: str) -> str:
    """A plain-text SARIF message: on one line, control characters shown escaped, and `[`, `]` and `\\` escaped so
    that a crafted string cannot become an embedded link (SARIF 2.1.0, "messages with embedded links")."""
    return re.sub(r"([\\\[\]])", r"\\\1", one_line(text))


def waiver_justification(w: WaiverState) -> str:
    expires = w.expires.isoformat() if w.expires else "no expiry"
    return f"{w.reason} (approved by {w.approved_by}, expires {expires})"
