"""GitHub Actions annotations: one workflow command (`::error file=…,line=…,title=…::message`) per problem.

GitHub turns these lines of a step's log into annotations on the spec or evidence line of each finding. It shows
at most 10 errors, 10 warnings and 10 notices per step and drops the rest silently, so this renderer stops at
those limits and counts what it left out in one notice (the job summary and the SARIF file have everything).

Every value comes from a spec or an evidence file, so it is escaped as GitHub's toolkit escapes workflow-command
data (`%`, CR, LF) and properties (also `:` and `,`), after control characters are shown escaped: a crafted
message stays on its one line and can neither end the command early nor start another one.

The annotations are built from the JSON report (the stable machine contract), so the GitHub Action can build
them from the report file it already wrote, with room kept for an annotation of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from mlgate.report.json_report import report_json
from mlgate.result import Report
from mlgate.textsafe import one_line

Level = Literal["error", "warning", "notice"]
LEVELS: tuple[Level, ...] = ("error", "warning", "notice")
# What GitHub shows per step and per kind (more are dropped without a word).
GITHUB_LIMIT = 10
PROBLEMS = ("fail", "warn", "error")


def escape_data(text: str) -> str:
    """Workflow-command data (the message): `%`, CR and LF percent-encoded, as @actions/core does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow-command property value (file, title): data escaping plus `:` and `,`, which end a property."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: Level, message: str, *, file: str | None = None, line: int | None = None,
            col: int | None = None, title: str | None = None) -> str:
    """One workflow command line. Each line of `message` is shown with its control characters escaped."""
    props: list[str] = []
    if file:
        props.append(f"file={escape_property(one_line(file))}")
    if line:
        props.append(f"line={int(line)}")
    if col:
        props.append(f"col={int(col)}")
    if title:
        props.append(f"title={escape_property(one_line(title))}")
    text = "\n".join(one_line(part) for part in message.replace("\r\n", "\n").split("\n"))
    head = f"{level} {','.join(props)}" if props else level
    return f"::{head}::{escape_data(text)}"


@dataclass(frozen=True)
class Annotation:
    """One GitHub Actions workflow annotation (a line on the pull request's diff)."""
    level: Level
    file: str
    line: int
    col: int | None
    title: str
    message: str

    def render(self) -> str:
        return command(self.level, self.message, file=self.file, line=self.line, col=self.col, title=self.title)


def _level(result: dict[str, Any], finding: dict[str, Any]) -> Level:
    """A problem that blocks the deployment is an error (a warn finding blocks only when warnings do, with
    `--fail-on warning`); one that does not is a warning, or a notice for a rule at note severity."""
    if result.get("blocking") and (finding.get("status") != "warn" or result.get("status") == "warn"):
        return "error"
    if result.get("severity") == "note" and not result.get("blocking"):
        return "notice"
    return "warning"


def _join(prefix: str, path: str) -> str:
    return f"{prefix.rstrip('/')}/{path}" if prefix and prefix != "." else path


def _rule_fix(result: dict[str, Any]) -> str | None:
    """The rule's own remediation. The JSON report gives the headline finding's fix (the first finding of the
    worst status), falling back to the rule's: so it is the rule's exactly when that finding has no fix."""
    head = next((f for f in result.get("findings", []) if f.get("status") == result.get("status")), None)
    if head is None or head.get("remediation"):
        return None
    fix = result.get("remediation")
    return str(fix) if fix else None


def problem_annotations(data: dict[str, Any], *, path_prefix: str = "", rule_fixes: dict[str, str] | None = None,
                        spec_lines: dict[str, int] | None = None) -> list[Annotation]:
    """Every problem of a JSON report (`report_json`), in report order. Waived, passing and n/a rules have none.

    `path_prefix` is where the repository is inside the workspace, when it is not the workspace itself: GitHub
    places an annotation by its path from the workspace root. `rule_fixes` (rule ID -> remediation) gives the
    fix of a finding that has none of its own; without it, the fix is read from the report where it can be.
    A finding without a location is placed on its deployment's line in `spec_lines` (spec -> line), else line 1.
    """
    out: list[Annotation] = []
    for d in data.get("deployments", []):
        spec = str(d.get("spec", ""))
        for r in d.get("results", []):
            if r.get("status") not in PROBLEMS:
                continue
            rule_fix = (rule_fixes or {}).get(str(r.get("rule"))) or _rule_fix(r)
            for f in r.get("findings", []):
                if f.get("status") not in PROBLEMS:
                    continue
                loc = f.get("location") or {"path": spec, "line": (spec_lines or {}).get(spec, 1)}
                path = str(loc.get("path") or spec)
                text = str(f.get("message", ""))
                if f.get("status") == "error":
                    text = f"could not check: {text}"
                if path != spec:
                    text += f" (deployment {spec})"
                # the rule's fix does not mend evidence that could not be read
                fix = f.get("remediation") or (rule_fix if f.get("status") != "error" else None)
                if fix:
                    text += f"\nFix: {fix}"
                title = f"mlgate {r.get('rule', '?')}: {r.get('title', '')}".rstrip(": ")
                col = loc.get("column")
                out.append(Annotation(_level(r, f), _join(path_prefix, path), max(1, int(loc.get("line") or 1)),
                                      int(col) if col else None, title, text))
    return out


def capped(items: Iterable[Annotation], *, limit: int = GITHUB_LIMIT,
           reserved: dict[Level, int] | None = None) -> list[str]:
    """Workflow commands for `items`, at most `limit` of each kind; the rest counted in one closing notice.

    `reserved` keeps slots for annotations the caller prints itself (e.g. the Action's shallow-clone warning).
    The closing notice takes a notice slot of its own.
    """
    reserved = reserved or {}
    by_level: dict[Level, list[Annotation]] = {level: [] for level in LEVELS}
    for item in items:
        by_level[item.level].append(item)
    room = {level: max(0, limit - reserved.get(level, 0)) for level in LEVELS}
    overflow = any(len(by_level[level]) > room[level] for level in LEVELS)
    if overflow:
        room["notice"] = max(0, room["notice"] - 1)  # the closing notice takes one
    lines = [a.render() for level in LEVELS for a in by_level[level][:room[level]]]
    if overflow:
        hidden = {level: len(by_level[level]) - room[level] for level in LEVELS if len(by_level[level]) > room[level]}
        total = sum(hidden.values())
        parts = ", ".join(f"{n} {level}{'s' if n != 1 else ''}" for level, n in hidden.items())
        lines.append(command("notice", f"{total} more mlgate finding{'s' if total != 1 else ''} ({parts}) "
                             f"not shown as annotations: GitHub shows {limit} of each kind per step. The job "
                             "summary and the SARIF report list every finding.", title="mlgate"))
    return lines


def render(report: Report, *, path_prefix: str = "", **_: Any) -> str:
    """`--format github`: the annotations of every problem, capped as GitHub shows them."""
    fixes = {r.rule.id: r.rule.remediation for d in report.deployments for r in d.results}
    spec_lines = {d.spec: d.spec_location.line for d in report.deployments}
    config = report.config
    head = [] if config.source is None else [  # the config is part of the pull request: what it does is shown
        command("notice", config.describe(), file=_join(path_prefix, config.source), line=1, title="mlgate config")]
    lines = capped(problem_annotations(report_json(report), path_prefix=path_prefix, rule_fixes=fixes,
                                       spec_lines=spec_lines), reserved={"notice": len(head)})
    return "".join(line + "\n" for line in head + lines)
