"""The JSON report: the machine contract (`mlgate_report: 1`). Keys may be added, never renamed."""

from __future__ import annotations

import json
from typing import Any

from mlgate.result import Deployment, Report, RuleResult, WaiverState

SCHEMA_VERSION = 1


def result_json(result: RuleResult) -> dict[str, Any]:
    head = result.headline
    remediation = None
    if result.status in ("fail", "warn", "error", "waived"):
        remediation = head.remediation or result.rule.remediation
    return {
        "rule": result.rule.id,
        "title": result.rule.title,
        "section": result.rule.section,
        "status": result.status,
        "severity": result.severity,
        "blocking": result.blocking,
        "message": head.message,
        "location": head.location.to_json() if head.location else None,
        "remediation": remediation,
        "findings": [f.to_json() for f in result.findings],
        "waiver": waiver_json(result.waiver) if result.waiver else None,
        "docs": result.rule.docs,
    }


def waiver_json(w: WaiverState) -> dict[str, Any]:
    return {"rule": w.rule, "reason": w.reason, "approved_by": w.approved_by,
            "expires": w.expires.isoformat() if w.expires else None, "state": w.state, "note": w.note,
            "location": w.location.to_json()}


def deployment_json(d: Deployment) -> dict[str, Any]:
    return {"spec": d.spec, "model": d.model, "ready": d.ready,
            "results": [result_json(r) for r in d.results],
            "waivers": [waiver_json(w) for w in d.waivers],
            "provenance": d.provenance,
            "cost": d.cost,
            # where each judged fact came from: the infrastructure code, the spec, or known only at deploy time
            "facts": d.facts,
            "verified": d.verified,
            "unresolved": d.unresolved,
            "evaluation": d.evaluation}


def report_json(report: Report) -> dict[str, Any]:
    counts = report.counts()
    return {"mlgate_report": SCHEMA_VERSION, "ready": report.ready, "tool": {"name": "mlgate",
            "version": report.tool_version}, "fail_on": report.fail_on,
            "summary": dict(sorted(counts.items())),
            "config": report.config.to_json(),
            "deployments": [deployment_json(d) for d in report.deployments]}


def render(report: Report, **_: Any) -> str:
    return json.dumps(report_json(report), indent=2, ensure_ascii=False) + "\n"
