"""GitLab Code Quality: a JSON array of issues (the Code Climate subset GitLab reads), shown in the merge request
widget and on the diff lines.

Like SARIF, only problems become issues (a fail, warn or error finding of a rule that is not waived): GitLab has
no way to show a dismissed issue, and the JUnit report already lists waived rules as skipped. Each issue has the
fields GitLab requires: `description`, `check_name`, `fingerprint`, `severity`, `location.path` and
`location.lines.begin`. Fingerprints are the SARIF ones (`report.fingerprint`: rule, spec, the fact judged and
its occurrence; never the wording or the line), so GitLab matches an issue across commits when lines move or a
message is reworded, and no two issues share one (GitLab drops issues that do).
"""

from __future__ import annotations

import json
from typing import Any

from mlgate.report.fingerprint import fingerprint, problem_fingerprints
from mlgate.result import Deployment, Finding, Report, RuleResult
from mlgate.textsafe import one_line

# GitLab severities: info, minor, major, critical, blocker.
SEVERITY = {"error": "critical", "warning": "minor", "note": "info"}
PROBLEM_RESULTS = ("fail", "warn", "error")


def severity(result: RuleResult, finding: Finding) -> str:
    """A blocking problem is `blocker`; otherwise the rule's severity decides, a check that could not run being
    at least `major` (nothing was verified)."""
    if result.blocking and (finding.status != "warn" or result.status == "warn"):
        return "blocker"
    if finding.status == "error":
        return "major"
    if finding.status == "warn" and result.severity == "error":
        return "minor"
    return SEVERITY[result.severity]


def render(report: Report, **_: Any) -> str:
    issues = [_issue(d, r, f, key)
              for d in report.deployments for r in d.results if r.status in PROBLEM_RESULTS
              for f, key in zip(r.problems, problem_fingerprints(d, r), strict=True)]
    if report.config.source is not None:  # the config is part of the pull request: what it does is shown
        text = f"mlgate config {report.config.describe()}"
        # keyed on what the config does, not on how it is described: a changed config is a new issue
        does = {k: v for k, v in report.config.to_json().items() if k != "summary"}
        issues.append({"type": "issue", "check_name": "mlgate-config", "description": one_line(text),
                       "severity": "info", "fingerprint": fingerprint("config", report.config.source,
                                                                       json.dumps(does, sort_keys=True)),
                       "location": {"path": report.config.source, "lines": {"begin": 1}}})
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"


def _issue(d: Deployment, r: RuleResult, f: Finding, key: str) -> dict[str, Any]:
    location = f.location or d.spec_location
    text = f"could not check: {f.message}" if f.status == "error" else f.message
    fix = f.remediation or (r.rule.remediation if f.status != "error" else None)
    if location.path != d.spec:
        text += f" (deployment {d.spec})"
    description = f"{r.rule.id} {r.rule.title}: {text}"
    if fix:
        description += f" Fix: {fix}"
    return {
        "type": "issue",
        "check_name": r.rule.id,
        "description": one_line(description),
        "severity": severity(r, f),
        "fingerprint": key,
        "location": {"path": location.path, "lines": {"begin": max(1, location.line)}},
    }
