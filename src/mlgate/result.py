"""The one result model every renderer reads: findings, rule results, deployments and the report."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "warn", "waived", "n/a", "error"]
Severity = Literal["error", "warning", "note"]

# Worst first: a rule's status is the worst of its findings.
STATUS_ORDER: tuple[Status, ...] = ("error", "fail", "warn", "pass", "n/a")
SEVERITY_RANK: dict[str, int] = {"note": 0, "warning": 1, "error": 2}


@dataclass(frozen=True)
class Location:
    """Where something is written in the repository: a file, a line and perhaps a column."""
    path: str  # repo-relative, POSIX separators
    line: int = 1
    column: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "line": self.line}
        if self.column:
            out["column"] = self.column
        return out


@dataclass(frozen=True)
class ParamDoc:
    """One rule parameter as `mlgate explain` and docs/rules.md show it (from the rule's typed `Params`)."""

    name: str
    default: Any
    meaning: str
    bounds: str = ""  # e.g. ">= 0, <= 100", "one of error, n/a"


@dataclass(frozen=True)
class Finding:
    """One observation a check makes: a problem (fail/warn/error), the evidence for a pass, or why n/a."""

    status: Status
    message: str
    location: Location | None = None
    remediation: str | None = None
    # the other side of a disagreement (the spec line when the finding is at the code, or the reverse)
    related: tuple[Location, ...] = ()
    # the spec field judged, as a dotted path ("rollout.canary.steps.0"), when the check reported against one:
    # what identifies the problem across commits (report fingerprints), unlike its wording or its line
    subject: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "message": self.message,
                               "location": self.location.to_json() if self.location else None}
        if self.remediation:
            out["remediation"] = self.remediation
        if self.related:
            out["related"] = [r.to_json() for r in self.related]
        return out


@dataclass(frozen=True)
class RuleInfo:
    """A rule's description: what it checks, why, how to fix it, and its parameters."""
    id: str
    title: str
    section: str
    severity: Severity
    rationale: str
    remediation: str
    docs: str
    params: dict[str, Any] = field(default_factory=dict)
    check: str = ""
    source: str = "built-in"
    evidence: str | None = None  # what evidence satisfies the rule, when its file says
    docs_linked: bool = True  # the docs URL may be a link in reports (its host is trusted); else shown as text
    param_docs: tuple[ParamDoc, ...] = ()  # the meaning and bounds of each parameter, when its check says
    module: str | None = None  # the built-in rule module that implements `check` (None: a plugin's entry point)


@dataclass
class WaiverState:
    """A waiver in a spec and whether it applies: active, expired, incomplete, unused or forbidden."""
    rule: str | None
    reason: str | None
    approved_by: str | None
    expires: dt.date | None
    state: Literal["active", "expired", "incomplete", "unused", "forbidden"]
    note: str
    location: Location


@dataclass
class RuleResult:
    """What one rule concluded about one spec, with its findings and whether it blocks."""
    rule: RuleInfo
    status: Status
    severity: Severity
    findings: list[Finding]
    waiver: WaiverState | None = None
    blocking: bool = False

    @property
    def headline(self) -> Finding:
        """The finding that decided the status (the first of the worst)."""
        worst = self.status if self.status != "waived" else self.unwaived_status
        for finding in self.findings:
            if finding.status == worst:
                return finding
        return self.findings[0]

    @property
    def unwaived_status(self) -> Status:
        return worst_status(f.status for f in self.findings)

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.status in ("fail", "warn", "error")]


# What each --fail-on level blocks, in the words every report uses.
_BLOCKS = {"error": "severity error only", "warning": "severity warning and error", "note": "every severity"}


def blocking_words(result: RuleResult, fail_on: Severity) -> str | None:
    """Whether a problem blocks the deployment and why, in plain words: the rule's severity, how a warn counts,
    and what `fail-on` blocks. E.g. "severity warning: does not block, since fail-on error blocks severity error
    only".
    None for a pass, an n/a or a waived result, which never block."""
    if result.status not in ("fail", "warn", "error"):
        return None
    said = f"severity {result.severity}"
    if result.status == "warn" and result.severity == "error":
        said += ", but a warn counts as a warning"
    if result.blocking:
        return f"{said}: blocks at fail-on {fail_on}"
    return f"{said}: does not block, since fail-on {fail_on} blocks {_BLOCKS[fail_on]}"


@dataclass
class Deployment:
    """The readiness of one spec: every rule's result, its waivers, provenance, cost and facts."""
    spec: str  # repo-relative path of the spec
    model: str | None
    results: list[RuleResult]
    waivers: list[WaiverState]
    spec_location: Location
    provenance: dict[str, Any] = field(default_factory=dict)
    # monthly cost of the declared serving pattern beside the cheapest that fits (None without serving/traffic)
    cost: dict[str, Any] | None = None
    # the judged facts with their origins (deployment.Fact.to_json), and how many were verified from the code
    facts: list[dict[str, Any]] = field(default_factory=list)
    verified: dict[str, int] = field(default_factory=dict)
    unresolved: str | None = None  # why the infrastructure code the spec names could not be read
    # candidate against production per metric and slice (None without an evaluation section)
    evaluation: dict[str, Any] | None = None
    # the rollout the spec plans, in numbers (shadow share and duration, canary steps, bake time), for the picture
    rollout: dict[str, Any] | None = None

    @property
    def ready(self) -> bool:
        return not any(r.blocking for r in self.results)

    def counts(self) -> Counter[str]:
        """How many rule results have each status."""
        return Counter(r.status for r in self.results)


@dataclass(frozen=True)
class ConfigUsed:
    """What the team config did to the run. A pull request can change the config, so every report says which file
    was read and what it skipped, lowered and made unwaivable."""

    source: str | None = None  # repo-relative file; None: no config
    skipped: tuple[str, ...] = ()  # rule IDs the config skips
    severities: tuple[tuple[str, Severity, Severity], ...] = ()  # (rule, its own severity, the config's)
    unwaivable: tuple[str, ...] = ()  # rule IDs no waiver may waive
    skipped_specs: tuple[str, ...] = ()  # specs not checked

    @property
    def lowered(self) -> list[tuple[str, Severity, Severity]]:
        return [s for s in self.severities if SEVERITY_RANK[s[2]] < SEVERITY_RANK[s[1]]]

    def describe(self) -> str:
        """One line: `.mlgate.toml: skips REP001; lowers SEC001 from error to note; unwaivable: SEC001`."""
        if self.source is None:
            return "no config file: every rule runs at its own severity, and every rule may be waived"
        parts = [f"skips {', '.join(self.skipped)}" if self.skipped else "skips no rule"]
        if self.skipped_specs:
            parts.append(f"does not check the spec{'s' if len(self.skipped_specs) > 1 else ''} "
                         f"{', '.join(self.skipped_specs)}")
        lowered = self.lowered
        parts.append("lowers " + ", ".join(f"{r} from {a} to {b}" for r, a, b in lowered) if lowered
                     else "lowers no severity")
        raised = [s for s in self.severities if s not in lowered]
        if raised:
            parts.append("raises " + ", ".join(f"{r} from {a} to {b}" for r, a, b in raised))
        parts.append(f"unwaivable: {', '.join(self.unwaivable)}" if self.unwaivable else "no rule is unwaivable")
        return f"{self.source}: {'; '.join(parts)}"

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "skipped": list(self.skipped),
                "severity": [{"rule": r, "default": a, "configured": b} for r, a, b in self.severities],
                "unwaivable": list(self.unwaivable), "skipped_specs": list(self.skipped_specs),
                "summary": self.describe()}


@dataclass
class Report:
    """The result of one `mlgate check` run: every spec checked and the rules it ran."""
    deployments: list[Deployment]
    fail_on: Severity
    tool_version: str
    rules: list[RuleInfo]
    config: ConfigUsed = field(default_factory=ConfigUsed)

    @property
    def ready(self) -> bool:
        return all(d.ready for d in self.deployments)

    def counts(self) -> Counter[str]:
        """How many rule results have each status, over every deployment."""
        return sum((d.counts() for d in self.deployments), Counter())


def worst_status(statuses: Any) -> Status:
    seen = set(statuses)
    for status in STATUS_ORDER:
        if status in seen:
            return status
    return "pass"
