"""GitHub workflow-command annotations (`--format github`): escaping, levels, locations and GitHub's limits."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from mlgate.report import render
from mlgate.report.annotations import (
    Annotation,
    capped,
    command,
    escape_data,
    escape_property,
    problem_annotations,
)
from mlgate.report.json_report import report_json
from mlgate.result import Deployment, Finding, Location, Report, RuleInfo, RuleResult
from tests.conftest import Repo
from tests.report.test_gitlab import SPEC, sample_report

LINE = re.compile(r"::(error|warning|notice)(?: ([^:]*))?::(.*)")


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """One workflow command as the runner reads it: its name, properties and data, unescaped."""
    match = LINE.fullmatch(line)
    assert match, line
    props = {}
    for part in filter(None, (match.group(2) or "").split(",")):
        key, _, value = part.partition("=")
        props[key] = value.replace("%3A", ":").replace("%2C", ",").replace("%0A", "\n").replace("%0D", "\r") \
            .replace("%25", "%")
    data = match.group(3).replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
    return match.group(1), props, data


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("50% of 10", "50%25 of 10", "50%25 of 10"),
        ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
        ("%0A", "%250A", "%250A"),
        ("a: b, c", "a: b, c", "a%3A b%2C c"),
        ("::set-output name=x::y", "::set-output name=x::y", "%3A%3Aset-output name=x%3A%3Ay"),
    ],
)
def test_escaping_follows_the_toolkit(text: str, data: str, prop: str) -> None:
    assert escape_data(text) == data
    assert escape_property(text) == prop


def test_a_command_is_one_line_whatever_the_text() -> None:
    line = command("error", "first\n::add-mask::x\r\n\x1b[31mred", file="a,b:c.yaml", line=3, col=2,
                   title="T: 1, 2")
    assert "\n" not in line and "\r" not in line
    kind, props, data = parse(line)
    assert (kind, props) == ("error", {"file": "a,b:c.yaml", "line": "3", "col": "2", "title": "T: 1, 2"})
    assert data == "first\n::add-mask::x\n\\x1b[31mred"  # shown, never carried out; escape codes shown escaped


def test_levels_locations_and_fixes() -> None:
    data = report_json(sample_report())
    found = problem_annotations(data, path_prefix="service")
    assert [(a.level, a.file, a.line, a.title) for a in found] == [
        ("error", "service/docs/runbook.md", 7, "mlgate OPS001: Title of OPS001"),
        ("warning", "service/docs/runbook.md", 1, "mlgate OPS001: Title of OPS001"),
        ("error", f"service/{SPEC}", 1, "mlgate OPS001: Title of OPS001"),  # no location: the spec
        ("warning", f"service/{SPEC}", 9, "mlgate OPS002: Title of OPS002"),
        ("notice", f"service/{SPEC}", 11, "mlgate OPS003: Title of OPS003"),
        ("error", f"service/{SPEC}", 1, "mlgate OPS004: Title of OPS004"),
    ]
    assert found[0].message == f"runbook lacks the rollback\n::x (deployment {SPEC})\nFix: add it"
    # a finding without a fix of its own: the report shows the headline's fix ("add it"), not the rule's
    assert found[1].message == f"runbook is old (deployment {SPEC})"
    # a check that could not run: no rule fix (it would not mend unreadable evidence)
    assert found[-1].message == "could not check: unreadable"


def test_a_finding_without_location_is_placed_on_the_deployment() -> None:
    lines = [parse(line) for line in render(sample_report(), "github").splitlines()]
    (placed,) = [props for _, props, data in lines if data.startswith("no location at all")]
    assert (placed["file"], placed["line"]) == (SPEC, "2")  # the deployment's model line, which the Report knows
    found = problem_annotations(report_json(sample_report()), spec_lines={SPEC: 2})
    assert (found[2].file, found[2].line) == (SPEC, 2)


def test_rule_fix_read_back_only_when_the_report_shows_it() -> None:
    data = report_json(sample_report())
    result = data["deployments"][0]["results"][0]
    with_fix = problem_annotations(data, rule_fixes={"OPS001": "Fix OPS001."})
    assert with_fix[1].message.endswith("\nFix: Fix OPS001.")
    # the headline (first fail) without a fix of its own: the report's remediation is the rule's
    result["findings"] = [f for f in result["findings"] if f.get("remediation") is None]
    result["remediation"] = "Fix OPS001."
    assert problem_annotations(data)[0].message.endswith("\nFix: Fix OPS001.")


def _many(errors: int, warnings: int, notices: int) -> list[Annotation]:
    def make(level: Any, n: int) -> list[Annotation]:
        return [Annotation(level, "m.yaml", i + 1, None, "t", f"{level} {i}") for i in range(n)]
    return make("error", errors) + make("warning", warnings) + make("notice", notices)


@pytest.mark.parametrize(
    ("counts", "reserved", "shown", "hidden"),
    [
        ((3, 2, 1), {}, (3, 2, 1), None),
        ((10, 10, 10), {}, (10, 10, 10), None),
        ((25, 4, 0), {}, (10, 4, 0), "15 more mlgate findings (15 errors)"),
        ((2, 12, 0), {"warning": 1}, (2, 9, 0), "3 more mlgate findings (3 warnings)"),
        ((0, 0, 11), {}, (0, 0, 9), "2 more mlgate findings (2 notices)"),
        ((11, 0, 10), {}, (10, 0, 9), "2 more mlgate findings (1 error, 1 notice)"),
        ((0, 1, 0), {"notice": 10}, (0, 1, 0), None),
    ],
)
def test_capped_at_what_github_shows(counts: tuple[int, int, int], reserved: dict[str, int],
                                     shown: tuple[int, int, int], hidden: str | None) -> None:
    lines = capped(_many(*counts), reserved=reserved)  # type: ignore[arg-type]
    kinds = [parse(line)[0] for line in lines]
    closing = [parse(line)[2] for line in lines if "not shown as annotations" in line]
    assert (kinds.count("error"), kinds.count("warning"), kinds.count("notice") - len(closing)) == shown
    for kind in ("error", "warning", "notice"):
        assert kinds.count(kind) + reserved.get(kind, 0) <= 10
    if hidden is None:
        assert closing == []
    else:
        assert len(closing) == 1 and closing[0].startswith(hidden)
        assert lines[-1].startswith("::notice title=mlgate::")


def test_render_as_a_format() -> None:
    text = render(sample_report(), "github")
    lines = text.splitlines()
    assert len(lines) == 6 and text.endswith("\n")
    assert all(LINE.fullmatch(line) for line in lines)
    empty = Report([Deployment(SPEC, "m", [RuleResult(RuleInfo("A001", "t", "s", "error", "r", "f", "d"), "pass",
                                                      "error", [Finding("pass", "ok")])], [], Location(SPEC, 1))],
                   "error", "0", [])
    assert render(empty, "github") == ""


@pytest.mark.usefixtures("test_plugin")
def test_from_the_command_line(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", "version: 1\nmodel:\n  name: fraud\n")
    code, out, _ = cli("check", str(repo.root), "--select", "TST001,TST003", "--format", "github")
    assert code == 1
    assert [parse(line) for line in out.splitlines()] == [
        ("error", {"file": "mlgate.yaml", "line": "3", "col": "3", "title": "mlgate TST001: Always fails"},
         "threshold is 3\nFix: raise it"),
        ("warning", {"file": "mlgate.yaml", "line": "2", "col": "1", "title": "mlgate TST003: Warns"},
         "advisory only\nFix: m"),
    ]
    assert json.loads(json.dumps(out))  # plain text, nothing else on standard output
