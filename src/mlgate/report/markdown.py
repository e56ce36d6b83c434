"""The readiness report in Markdown, for a GitHub PR comment, a job summary or a file: the verdict first, a
summary by section, the whole checklist (the evidence behind every pass, the problem, place, fix and reason
behind every failure), the waivers and the provenance of each deployment.

Specs, evidence files and rule files are untrusted: a crafted string must not add a link, an image, HTML, a
mention, a heading, a checkbox or a table row to a PR comment. The template prints values only through the
escaping filters below (`md`, `text`, `cell`, `code`, `codecell`, `where`); its `finalize` hook refuses any plain
string, so a value printed without a filter is an error, never an injection. Values go in code spans (`code`);
prose is escaped only where a character could start Markdown (`md`, `text`), see `mlgate.textsafe`.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlgate.report.json_report import waiver_json
from mlgate.report.mermaid import cost_chart, rollout_gantt
from mlgate.result import Deployment, Finding, Location, Report, RuleResult, Severity, Status, blocking_words
from mlgate.textsafe import md_code, md_escape, md_link, md_text

if TYPE_CHECKING:
    import jinja2

STATUSES: tuple[Status, ...] = ("pass", "fail", "warn", "waived", "n/a", "error")
# The order counts are listed in: problems first.
COUNT_ORDER: tuple[Status, ...] = ("fail", "error", "warn", "waived", "pass", "n/a")
MARK: dict[str, str] = {"pass": "✅", "fail": "❌", "warn": "⚠️", "waived": "🔕", "n/a": "⚪", "error": "❗"}


class Md(str):
    """Markdown that is safe to print as it is: escaped untrusted text, or text written here."""


@dataclass
class _Problem:
    """A failing finding as the Markdown report shows it."""
    finding: Finding
    mark: Md
    fix: str | None  # the finding's own remediation; the rule's is shown once under the rule


@dataclass
class _Item:
    """One rule's result as the Markdown report shows it."""
    result: RuleResult
    mark: Md
    label: Md  # status, severity and why it blocks, e.g. "fail · severity error: blocks at fail-on error"
    link: Md  # the rule ID, linked to its docs when the URL is a plain https URL
    problems: list[_Problem]
    evidence: list[Finding]  # pass findings
    notes: list[Finding]  # n/a findings
    rule_fix: str | None  # the rule's remediation, when a problem has no fix of its own
    waiver: dict[str, Any] | None


@dataclass
class _Section:
    """A section of rules (reproducibility, serving ...) in the Markdown report."""
    name: str
    items: list[_Item] = field(default_factory=list)


@dataclass
class _Deployment:
    """One spec's verdict and results, prepared for the Markdown template."""
    deployment: Deployment
    mark: Md
    verdict: Md
    counts: Md
    summary: list[tuple[str, list[int]]]
    totals: list[int]
    sections: list[_Section]
    waivers: list[dict[str, Any]]
    provenance: dict[str, Any]
    cost: dict[str, Any] | None
    evaluation: dict[str, Any] | None  # the evaluation block: rows of text cells, escaped by the template
    rollout_chart: Md | None  # mermaid, written by mlgate.report.mermaid from numbers and fixed words only
    cost_chart: Md | None
    # the judged facts by origin, as text (the template escapes it): which came from the code, which are known
    # only at deploy time (with the parameter that holds each), which only the spec states
    facts_code: str = ""
    facts_later: str = ""
    facts_spec: str = ""


def render(report: Report, **_: Any) -> str:
    view = {
        "mark": Md(MARK["pass"] if report.ready else MARK["fail"]),
        "verdict": Md("READY" if report.ready else "NOT READY"),
        "headline": _headline(report),
        "config": report.config.describe(),
        "deployments": [_deployment(d, report.fail_on) for d in report.deployments],
        "statuses": [Md(s.upper() if s == "n/a" else s.capitalize()) for s in STATUSES],
        "version": report.tool_version,
        "fail_on": report.fail_on,
    }
    text = _environment().get_template("report.md.j2").render(view=view)
    return _tidy(text)


# --- the view ------------------------------------------------------------------------------------------------


def _counts_line(counts: Counter[str]) -> Md:
    parts = [f"{counts[s]} {s}" for s in COUNT_ORDER if counts[s]]
    return Md(" · ".join(parts) if parts else "no rules ran")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _headline(report: Report) -> Md:
    results = [r for d in report.deployments for r in d.results]
    blocking = sum(r.blocking for r in results)
    n = len(report.deployments)
    not_ready = sum(not d.ready for d in report.deployments)
    if blocking:
        where = f"in {not_ready} of {_plural(n, 'deployment')}" if n > 1 else "in 1 deployment"
        lead = f"**{_plural(blocking, 'blocking rule')}** {where}"
    else:
        lead = f"{_plural(n, 'deployment')} checked, nothing blocking"
    return Md(f"{lead} · {_counts_line(report.counts())} · fail-on {md_code(report.fail_on)}")


def _deployment(d: Deployment, fail_on: Severity) -> _Deployment:
    counts = d.counts()
    blocking = sum(r.blocking for r in d.results)
    sections: dict[str, _Section] = {}
    for r in d.results:
        sections.setdefault(r.rule.section, _Section(r.rule.section)).items.append(_item(r, fail_on))
    summary = [(name, _row(sec)) for name, sec in sections.items()]
    totals = [counts[s] for s in STATUSES]
    verdict = "READY" if d.ready else f"NOT READY ({_plural(blocking, 'blocking rule')})"
    return _Deployment(d, Md(MARK["pass"] if d.ready else MARK["fail"]), Md(verdict), _counts_line(counts),
                       summary, totals, list(sections.values()), [waiver_json(w) for w in d.waivers],
                       d.provenance, d.cost, _evaluation(d.evaluation),
                       _chart(rollout_gantt(d.rollout)), _chart(cost_chart(d.cost)), *_facts(d.facts))


def _facts(facts: list[dict[str, Any]]) -> tuple[str, str, str]:
    code = [f["fact"] for f in facts if f["origin"] != "spec" and not f.get("unknown")]
    later = [f"{f['fact']} ({str(f['unknown']).split(': ', 1)[0]})" for f in facts if f.get("unknown")]
    spec = [f["fact"] for f in facts if f["origin"] == "spec" and not f.get("unknown")]
    return ", ".join(code) or "none", ", ".join(later) or "none", ", ".join(spec) or "none"


def _number(value: Any, signed: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:+.6g}" if signed else f"{value:.6g}"


def _evaluation(block: dict[str, Any] | None) -> dict[str, Any] | None:
    """The evaluation block's rows as text: candidate, production, difference, bound, tolerance, verdict."""
    if block is None:
        return None
    rows = []
    for row in block.get("rows") or []:
        if row.get("minimum") is not None:
            bound = f"≥ {_number(row['minimum'])}"
        elif row.get("maximum") is not None:
            bound = f"≤ {_number(row['maximum'])}"
        else:
            bound = "—"
        verdict = Md(MARK["pass"] if row["verdict"] == "pass" else MARK["fail"])
        rows.append({"metric": f"{row['metric']} ({row['direction']} is better)", "slice": row.get("slice"),
                     "candidate": _number(row.get("candidate")), "production": _number(row.get("production")),
                     "difference": _number(row.get("difference"), signed=True), "bound": bound,
                     "tolerance": _number(row.get("tolerance")), "mark": verdict,
                     "verdict": row.get("why") or "pass"})
    return {**block, "rows": rows}




def _chart(source: str | None) -> Md | None:
    return Md(source) if source else None


def _row(section: _Section) -> list[int]:
    counts = Counter(i.result.status for i in section.items)
    return [counts[s] for s in STATUSES]


def _item(r: RuleResult, fail_on: Severity) -> _Item:
    label: list[str] = [r.status]
    words = blocking_words(r, fail_on)
    if words:
        label.append(words)
    elif r.status == "waived":
        label.append(f"severity {r.severity}")
    problems = [_Problem(f, Md(MARK[f.status]), f.remediation) for f in r.problems]
    rule_fix = r.rule.remediation if any(p.fix is None for p in problems) else None
    shown = r.status in ("pass", "n/a")
    return _Item(
        result=r,
        mark=Md(MARK[r.status]),
        label=Md(" · ".join(label)),
        link=Md(md_link(r.rule.id, r.rule.docs) if r.rule.docs and r.rule.docs_linked
                else f"{md_escape(r.rule.id)} ({md_code(r.rule.docs)})" if r.rule.docs else md_escape(r.rule.id)),
        problems=problems,
        evidence=[f for f in r.findings if f.status == "pass"] if shown else [],
        notes=[f for f in r.findings if f.status == "n/a"] if shown else [],
        rule_fix=rule_fix,
        waiver=waiver_json(r.waiver) if r.waiver else None,
    )


# --- rendering -----------------------------------------------------------------------------------------------


def _finalize(value: Any) -> Any:
    """Only escaped Markdown and numbers reach the output; a plain string means a missing filter."""
    if isinstance(value, Md):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"Markdown template printed an unescaped value: {value!r}")


def _where(location: Location | None) -> Md:
    return Md(md_code(f"{location.path}:{location.line}") + " ") if location else Md("")


def _filter(escape: Callable[[Any], str]) -> Callable[[Any, str], Md]:
    """A template filter: the escaped value, or `missing` (written here, so already safe) when there is none."""
    def apply(value: Any, missing: str = "—") -> Md:
        return Md(missing) if value is None or value == "" else Md(escape(value))
    return apply


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mlgate", "report/templates"),
        autoescape=False,  # Markdown, not HTML: the filters do the escaping, _finalize enforces it
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters.update({
        "md": _filter(md_escape),
        "text": _filter(md_text),
        "cell": _filter(lambda v: md_escape(v, table=True)),
        "code": _filter(md_code),
        "codecell": _filter(lambda v: md_code(v, table=True)),
        "where": _where,
    })
    return env


def _tidy(text: str) -> str:
    """No trailing spaces (a hard line break in Markdown), at most one blank line in a row, one final newline."""
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"
