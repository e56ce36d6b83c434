"""The terminal report: one line per rule, the problems under it with file:line and the fix.

Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). Control characters from the
spec are shown escaped, so a crafted string cannot move the cursor or rewrite the screen.
"""

from __future__ import annotations

from typing import Any

from mlgate.result import Finding, Report, RuleResult, Severity, blocking_words
from mlgate.textsafe import no_workflow_commands, one_line

SYMBOL = {"pass": "ok", "fail": "FAIL", "warn": "warn", "waived": "waived", "n/a": "n/a", "error": "ERROR"}
COLOR = {"pass": "32", "fail": "31;1", "warn": "33", "waived": "36", "n/a": "2", "error": "35;1"}


def render(report: Report, *, color: bool = False, verbose: bool = False, **_: Any) -> str:
    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if color else text

    lines: list[str] = []
    for d in report.deployments:
        title = one_line(d.model or "(no model name)")
        verdict = paint("READY", "32;1") if d.ready else paint("NOT READY", "31;1")
        lines.append(f"{one_line(d.spec)} ({title}): {verdict}")
        cost = cost_line(d.cost)
        if cost:
            lines.append(f"  cost: {one_line(cost)}")
        verified = verified_line(d.verified, d.facts)
        if verified:
            lines.append(f"  verified: {one_line(verified)}")
        if d.unresolved:
            lines.append(f"  unverified: the infrastructure code could not be read ({one_line(d.unresolved)}), so "
                         "every fact it would give is missing; IAC001 says where")
        for r in d.results:
            label = paint(f"{SYMBOL[r.status]:<6}", COLOR[r.status])
            lines.append(f"  {label} {r.rule.id}  {one_line(r.rule.title)}{_suffix(r, report.fail_on)}")
            shown = r.findings if verbose else _interesting(r)
            for f in shown:
                lines.append(f"           {_where(f)}{one_line(f.message)}")
                if f.status in ("fail", "warn", "error") and (f.remediation or r.status != "error"):
                    fix = f.remediation or r.rule.remediation
                    lines.append(f"           fix: {one_line(fix)}")
        for w in d.waivers:
            if w.state != "active":
                lines.append(f"  {paint('waiver', '33')} {one_line(w.rule or '?')} at {one_line(w.location.path)}:"
                             f"{w.location.line}: {one_line(w.note)}")
        lines.append("")
    lines.append(f"config: {one_line(report.config.describe())}")
    lines.append(_summary(report, paint))
    return no_workflow_commands("\n".join(lines) + "\n")


def cost_line(cost: dict[str, Any] | None) -> str | None:
    """"ml.g5.xlarge x 1 always on: $1,027.84/month; cheapest that fits: serverless ...: $105.19/month"."""
    declared = cost.get("declared") if cost else None
    if not declared or not (declared.get("monthly") or declared.get("unpriced")):
        return None
    if not declared.get("monthly"):
        return f"{declared['shape']}: not priced ({declared['unpriced']})"
    line = f"{declared['shape']}: {declared['monthly']}"
    cheapest = cost.get("cheapest") if cost else None
    if cheapest and cheapest.get("monthly") and cheapest["pattern"] != declared["pattern"]:
        line += f"; cheapest pattern that fits: {cheapest['shape']}: {cheapest['monthly']}"
    elif cheapest:
        line += " (the cheapest pattern that fits)"
    return line


def verified_line(verified: dict[str, int], facts: list[dict[str, Any]]) -> str | None:
    """How much of the deployment was verified: "12 facts confirmed by the infrastructure code, 1 known only at
    deploy time (serving.instance_type: ${Ref:InstanceType}), 3 from the spec alone"."""
    if not facts:
        return None
    later = [f for f in facts if f.get("unknown")]
    text = (f"{verified.get('code', 0)} facts confirmed by the infrastructure code, "
            f"{verified.get('deploy-time', 0)} known only at deploy time")
    if later:
        text += " (" + "; ".join(f"{f['fact']}: {str(f['unknown']).split(': ', 1)[0]}" for f in later[:3]) + \
            (", ..." if len(later) > 3 else "") + ")"
    return text + f", {verified.get('spec', 0)} from the spec alone"


def _suffix(r: RuleResult, fail_on: Severity) -> str:
    """What the status line adds: the waiver, or why a problem does not block (or why a warn does). A blocking
    fail or error says nothing more: the summary line names fail-on."""
    if r.status == "waived" and r.waiver:
        return f"  (waived by {one_line(r.waiver.approved_by or '?')} until {r.waiver.expires})"
    words = blocking_words(r, fail_on)
    if words and (not r.blocking or r.status == "warn"):
        return f"  ({words})"
    return ""


def _interesting(r: RuleResult) -> list[Finding]:
    if r.status == "pass":
        return []
    if r.status == "n/a":
        return r.findings[:1]
    return r.problems


def _where(f: Finding) -> str:
    if f.location is None:
        return ""
    return f"{one_line(f.location.path)}:{f.location.line}: "


def _summary(report: Report, paint: Any) -> str:
    counts = report.counts()
    parts = [f"{counts[s]} {s}" for s in ("fail", "error", "warn", "waived", "pass", "n/a") if counts.get(s)]
    n = len(report.deployments)
    verdict = paint("ready", "32;1") if report.ready else paint("not ready", "31;1")
    return f"{n} deployment{'s' if n != 1 else ''} checked: {verdict} ({', '.join(parts)}; fail-on {report.fail_on})"
