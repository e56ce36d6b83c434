"""The Markdown readiness report: content and layout, inert untrusted strings, determinism.

Inertness is checked structurally: a report whose every untrusted string is a hostile payload must have the same
lines, the same table cells and the same live Markdown syntax (outside code spans, escapes and entities) as the
same report with a plain word in their place.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import string
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlgate.report import markdown
from mlgate.result import Deployment, Finding, Location, Report, RuleInfo, RuleResult, WaiverState
from mlgate.textsafe import md_code, md_escape, md_link, md_text, one_line

DOCS = "https://github.com/mlgate/mlgate/blob/main/docs/rules.md"
ROOT = Path(__file__).resolve().parents[2]

HOSTILE = [
    "[click me](https://evil.example/x)",
    "![tracker](https://evil.example/p.png)",
    "<img src=x onerror=alert(1)>",
    "</details><details open><summary>pwned</summary>",
    "</summary>\n\n# Owned",
    "- [x] fake approval",
    "cell | injected | row",
    "line1\n\n## Heading\n- [x] done\r\n| a | b |",
    "\x1b[31mred\x1b[0m and \x1b]8;;https://evil.example\x07osc link\x1b]8;;\x07",
    "::set-output name=x::y",
    "::error file=app.py,line=1::boom",
    "https://evil.example and www.evil.example and ops@evil.example",
    "@org/security-team please look at #1",
    "<https://autolink.example>",
    "`code` ``` fence ``` and a lone ` tick",
    "[ref]: https://evil.example",
    "*bold* _it_ ~~gone~~ $x^2$ :smile:",
    "&lt;script&gt; &#60;b&#62;",
    "trailing backslash \\",
    "    indented code",
    "models/fraud detection/ü data.yaml",
    "\u202eevil bidi\u2028next",
    "<!-- hidden comment -->",
    "1. ordered\n2) list",
    "> quote",
    "===\n---",
]


def _rule(rid: str, section: str, severity: str = "error", text: str | None = None, docs: str | None = None
          ) -> RuleInfo:
    return RuleInfo(rid, text or f"{rid} title", section if text is None else text, severity,  # type: ignore[arg-type]
                    text or f"{rid} matters because `x` happens.", text or f"Do the {rid} fix with `y:`.",
                    docs if docs is not None else f"{DOCS}#{rid.lower()}")


def sample_report(text: str | None = None, *, ready: bool = False) -> Report:
    """Two deployments; the first has a pass, a non-blocking warn, a blocking fail with two findings, an error,
    an n/a and a waived rule. With `text`, every string that comes from a spec, evidence or rule file is `text`."""
    t = (lambda default: default) if text is None else (lambda default: text)
    spec = t("models/fraud/mlgate.yaml") if text is None else f"models/{text}/mlgate.yaml"
    evidence = "docs/runbook.md" if text is None else f"docs/{text}.md"
    rules = [_rule("REP001", "reproducibility", text=text), _rule("REP002", "reproducibility", "warning", text),
             _rule("SEC001", "security", text=text), _rule("MON001", "monitoring", text=text),
             _rule("OPS001", "operations", text=text), _rule("OPS002", "operations", text=text)]
    waiver = WaiverState(t("OPS002"), t("vendor fix due next sprint"), t("jane.doe"), dt.date(2026, 12, 31),
                         "active", t("waives OPS002 (fail) until 2026-12-31"), Location(spec, 40))
    expired = WaiverState(t("REP002"), t("old"), t("bob"), dt.date(2026, 1, 1), "expired",
                          t("does not waive: expired on 2026-01-01"), Location(spec, 44))
    fail_status = "pass" if ready else "fail"
    results = [
        RuleResult(rules[0], "pass", "error", [Finding("pass", t("dataset `train` pinned by version: abc"),
                                                       Location(spec, 5))]),
        RuleResult(rules[1], "warn", "warning", [Finding("warn", t("seed is never read"), Location(spec, 9),
                                                         t("read the seed in train.py"))]),
        RuleResult(rules[2], fail_status, "error", [
            Finding(fail_status, t("role allows s3:* on every bucket"), Location(evidence, 3, 7)),
            Finding(fail_status, t("role can pass any role"), Location(spec, 12), t("scope iam:PassRole"))],
            blocking=not ready),
        RuleResult(rules[3], "error" if not ready else "n/a", "error",
                   [Finding("error" if not ready else "n/a", t("could not read the evidence: dashboard.json"),
                            Location(spec, 20))], blocking=not ready),
        RuleResult(rules[4], "n/a", "error", [Finding("n/a", t("batch transform has no endpoint"),
                                                      Location(spec, 1))]),
        RuleResult(rules[5], "waived", "error", [Finding("fail", t("no on-call rotation"), Location(spec, 30))],
                   waiver=waiver),
    ]
    provenance = {"model": t("fraud-scorer"), "model_version": t("3"),
                  "data": [{"name": t("train"), "uri": t("s3://data/train.parquet"), "pin": t("version: abc")},
                           {"name": t("holdout"), "uri": t("s3://data/holdout/"), "pin": None}],
                  "commit": t("0123abc"), "code_paths": [t("src/train")], "seed": 42 if text is None else text,
                  "lockfile": t("uv.lock"), "lockfile_sha256": "ab" * 32, "artifact": t("s3://models/fraud.tar.gz"),
                  "artifact_sha256": t("cd" * 32)}
    first = Deployment(spec, t("fraud-scorer"), results, [waiver, expired], Location(spec, 2), provenance)
    second_spec = "models/churn/mlgate.yaml" if text is None else f"models/{text}/two.yaml"
    second = Deployment(second_spec, t("churn"), [
        RuleResult(rules[0], "pass", "error", [Finding("pass", t("dataset pinned by sha256"),
                                                       Location(second_spec, 4))])],
        [], Location(second_spec, 1), {"model": t("churn"), "model_version": None})
    return Report([first, second], "error", "0.1.0", rules)


# --- a Markdown reader just good enough to say what is still live syntax --------------------------------------


def active(line: str) -> str:
    """The part of a line Markdown still interprets: code spans become `C`, backslash escapes disappear."""
    out: list[str] = []
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line) and line[i + 1] in string.punctuation:
            i += 2
            continue
        if c == "`":
            run = re.match(r"`+", line[i:])
            assert run
            n = len(run.group())
            close = re.compile(rf"(?<!`)`{{{n}}}(?!`)").search(line, i + n)
            if close:
                out.append("C")
                i = close.end()
            else:
                out.append(run.group())
                i += n
            continue
        out.append(c)
        i += 1
    return "".join(out)


# Characters that start inline Markdown wherever they stand: emphasis, strikethrough, code, links, images,
# footnotes, raw HTML, autolinks, math, escapes. Block syntax (headings, lists, quotes...) can only start content,
# which `theirs[:2] == ours[:2]` and the HTML comparison (`html_shape`) check; `|` matters in tables only.
SYNTAX = "<[*~`$"
ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def syntax(line: str) -> Counter[str]:
    live = active(line)
    counts = Counter(c for c in live if c in SYNTAX)
    # `_` opens or closes emphasis unless it stands between two letters or digits; `&name;` is an entity
    counts["_"] = sum(1 for i, c in enumerate(live) if c == "_" and not (
        0 < i < len(live) - 1 and live[i - 1].isalnum() and live[i + 1].isalnum()))
    counts["&"] = len(ENTITY.findall(live))
    counts["\\"] = live.endswith("\\")  # a hard line break (elsewhere, a backslash before a letter is a backslash)
    return +counts


def table_pipes(line: str) -> int:
    """Pipes that split a GFM table row (the table splits before code spans are read)."""
    return len(re.findall(r"(?<!\\)(?:\\\\)*\|", line))


def live_links(line: str) -> list[str]:
    """What GitHub would turn into a link, a mention, a reference or an emoji on the rendered text."""
    live = active(line)
    return re.findall(r"://|www\.|@\w|#\d|:[a-z0-9_+-]+:|^\s*[-+*] \[[ xX]\]", live, flags=re.IGNORECASE)


# --- the Markdown as GitHub renders it ------------------------------------------------------------------------


def to_html(markdown_text: str) -> str:
    """CommonMark with GFM's tables and strikethrough (markdown-it-py), as GitHub renders a comment."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(markdown_text)


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, ...]] = []
        self.codes: list[str] = []
        self.blocks: list[str] = []  # the text of each paragraph, list item (its own text), heading or cell
        self._code: list[str] | None = None
        self._text: list[list[str]] = [[]]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, *(f"{k}={v}" for k, v in attrs)))
        if tag == "code":
            self._code = []
        elif tag in ("p", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6"):
            self._text.append([])

    def handle_endtag(self, tag: str) -> None:
        self.tags.append(("/" + tag,))
        if tag == "code" and self._code is not None:
            self.codes.append("".join(self._code))
            self._text[-1].append("".join(self._code))
            self._code = None
        elif tag in ("p", "li", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6"):
            self.blocks.append("".join(self._text.pop()))

    def handle_data(self, data: str) -> None:
        (self._code if self._code is not None else self._text[-1]).append(data)


def read_html(markdown_text: str) -> _Html:
    parser = _Html()
    parser.feed(to_html(markdown_text))
    return parser


def html_shape(markdown_text: str) -> list[tuple[str, ...]]:
    """Every element and attribute of the rendered report but code spans, without the text: what a payload must
    not change. (A payload may add code spans: mlgate shows a word GitHub would link as code.)"""
    return [t for t in read_html(markdown_text).tags if t[0] not in ("code", "/code")]


# --- inertness ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_strings_are_inert(payload: str) -> None:
    plain = markdown.render(sample_report("PLAIN")).split("\n")
    hostile = markdown.render(sample_report(payload)).split("\n")
    assert len(hostile) == len(plain), "a hostile string added or removed lines"
    for ours, theirs in zip(plain, hostile, strict=True):
        assert theirs[:2] == ours[:2], (ours, theirs)
        assert syntax(theirs) == syntax(ours), (ours, theirs)
        assert live_links(theirs) == live_links(ours), theirs
        if ours.startswith("|"):
            assert table_pipes(theirs) == table_pipes(ours), theirs
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\u202e]", theirs)
        assert not theirs.lstrip().startswith("::")
    assert html_shape("\n".join(hostile)) == html_shape("\n".join(plain)), "the payload changed the rendered HTML"


def test_hostile_report_keeps_the_words() -> None:
    """Escaping must not lose the text, nor add to it: a reader sees what the spec said, and can copy it."""
    value = "[click me](https://evil.example/x) <b>|</b>"
    out = markdown.render(sample_report(value))
    assert r"\[click `me](https://evil.example/x)` \<b>|\</b>" in out  # a word GitHub would link is code
    assert "`models/[click me](https://evil.example/x) <b>|</b>/mlgate.yaml:5`" in out
    assert "\u200d" not in out
    html = read_html(out)
    assert value in html.codes  # the model name, the provenance fields
    assert f"Evidence: models/{value}/mlgate.yaml:5 {value}" in html.blocks


def _as_rendered(markdown_text: str) -> str:
    """The text of one rendered paragraph, with the text of its code spans."""
    (block,) = read_html(markdown_text).blocks
    return block


@pytest.mark.parametrize("payload", HOSTILE)
def test_helpers_leave_no_live_syntax(payload: str) -> None:
    flat = one_line(payload).strip()
    escaped = md_escape(payload)
    assert "\n" not in escaped and "\r" not in escaped
    assert not syntax(escaped), escaped
    assert live_links(escaped) == []
    assert _as_rendered("x " + escaped) == "x " + flat  # rendered, it reads as written, byte for byte
    assert html_shape("x " + escaped) == [("p",), ("/p",)]
    assert active(md_code(payload)) == "C"
    assert read_html("x " + md_code(payload)).codes == [one_line(payload)]
    text = md_text(payload)
    assert not syntax(text), text
    assert live_links(text) == []
    cell = md_escape(payload, table=True)
    assert table_pipes(cell) == 0 and "`" not in active(cell).replace("C", "")
    assert read_html(f"| a |\n| - |\n| {cell} |\n").blocks == ["a", flat]  # one cell, as written
    assert table_pipes(md_text(payload, table=True)) == 0


@pytest.mark.parametrize(("text", "expected"), [
    ("a `b` c", "a `b` c"),
    ("use ``x`y`` here", "use ``x`y`` here"),
    ("`` ` ``", "`` ` ``"),
    ("no code", "no code"),
    ("odd ` tick", r"odd \` tick"),
    ("`[x](y)` [x](y)", r"`[x](y)` \[x](y)"),
    ("dataset 'tickets': s3://acme-ml-data/t/latest/ is a prefix", "dataset 'tickets': `s3://acme-ml-data/t/latest/` "
                                                                    "is a prefix"),
    ("ask @org/team about #12 at ops@acme.example :smile:", "ask `@org/team` about `#12` at `ops@acme.example` "
                                                             "`:smile:`"),
    ("snake_case and _it_ and *b* ~s~ $5 R&D &amp; \\ and \\*", r"snake_case and \_it\_ and \*b\* \~s\~ \$5 R&D \&amp; "
                                                               r"\ and \\\*"),
    ("# Owned", r"\# Owned"),
    ("- [x] fake", r"\- \[x] fake"),
    ("12) list", r"12\) list"),
    ("`` ``` `` x", "```` ``` ```` x"),
    ("line breaks and `\\` continuations", "line breaks and `\\` continuations"),  # a backslash in a span is literal
    ("`foo\\`bar`", "`foo\\`bar\\`"),
])
def test_md_text_keeps_code_spans(text: str, expected: str) -> None:
    assert md_text(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("plain", "`plain`"),
    ("a`b", "``a`b``"),
    ("`start", "`` `start ``"),
    ("line\nbreak", r"`line\nbreak`"),
    ("", "` `"),
    ("  two spaces  ", "`   two spaces   `"),
    ("   ", "`   `"),
])
def test_md_code_fences(text: str, expected: str) -> None:
    assert md_code(text) == expected


@pytest.mark.parametrize(("url", "expected"), [
    (f"{DOCS}#rep001", f"[REP001]({DOCS}#rep001)"),
    ("javascript:alert(1)", "REP001 (`javascript:alert(1)`)"),
    ("https://evil.example/a) [x](y", "REP001 (`https://evil.example/a) [x](y`)"),
    ("http://plain.example", "REP001 (`http://plain.example`)"),
])
def test_md_link_only_links_plain_https(url: str, expected: str) -> None:
    assert md_link("REP001", url) == expected


def test_template_refuses_an_unescaped_value() -> None:
    env = markdown._environment()
    with pytest.raises(TypeError, match="unescaped value"):
        env.from_string("{{ x }}").render(x="[x](https://evil.example)")
    assert env.from_string("{{ x|md }} {{ n }}").render(x="[x]", n=3) == r"\[x] 3"


# --- content --------------------------------------------------------------------------------------------------


def _deployment_block(out: str, spec: str) -> str:
    blocks = re.split(r"(?m)^### ", out)
    (block,) = [b for b in blocks if b.split("\n", 1)[0].count(f"`{spec}`")]
    return block


def test_verdict_comes_first_with_counts() -> None:
    lines = markdown.render(sample_report()).split("\n")
    assert lines[0] == "<!-- mlgate report -->"
    assert lines[1] == "## ❌ mlgate: NOT READY"
    assert lines[3] == ("**2 blocking rules** in 1 of 2 deployments · 1 fail · 1 error · 1 warn · 1 waived · "
                        "2 pass · 1 n/a · fail-on `error`")


def test_ready_report() -> None:
    out = markdown.render(sample_report(ready=True))
    assert out.split("\n")[1] == "## ✅ mlgate: READY"
    assert "2 deployments checked, nothing blocking" in out
    assert "### ✅ `models/fraud/mlgate.yaml` · `fraud-scorer`: READY" in out


def test_one_section_per_deployment() -> None:
    out = markdown.render(sample_report())
    headings = re.findall(r"(?m)^### .*$", out)
    assert headings == ["### ❌ `models/fraud/mlgate.yaml` · `fraud-scorer`: NOT READY (2 blocking rules)",
                        "### ✅ `models/churn/mlgate.yaml` · `churn`: READY"]
    assert out.count("#### Checklist") == 2 and out.count("#### Provenance") == 2
    assert out.count("#### Waivers") == 1  # the second deployment has none


def test_summary_table_by_section() -> None:
    block = _deployment_block(markdown.render(sample_report()), "models/fraud/mlgate.yaml")
    rows = [line for line in block.split("\n") if line.startswith("|")]
    assert rows[0] == "| Section | Pass | Fail | Warn | Waived | N/A | Error |"
    table = {cells[0]: cells[1:] for cells in ([c.strip() for c in row.strip("|").split("|")] for row in rows[2:7])}
    assert table == {"reproducibility": ["1", "0", "1", "0", "0", "0"],
                     "security": ["0", "1", "0", "0", "0", "0"],
                     "monitoring": ["0", "0", "0", "0", "0", "1"],
                     "operations": ["0", "0", "0", "1", "1", "0"],
                     "**Total**": ["**1**", "**1**", "**1**", "**1**", "**1**", "**1**"]}


def test_checklist_shows_every_rule_with_evidence_problems_fixes_and_reasons() -> None:
    block = _deployment_block(markdown.render(sample_report()), "models/fraud/mlgate.yaml")
    expected = f"""\
##### reproducibility

- ✅ **[REP001]({DOCS}#rep001)** REP001 title — pass
  - Evidence: `models/fraud/mlgate.yaml:5` dataset `train` pinned by version: abc
- ⚠️ **[REP002]({DOCS}#rep002)** REP002 title — warn · severity warning: does not block, \
since fail-on error blocks severity error only
  - ⚠️ `models/fraud/mlgate.yaml:9` seed is never read
    - Fix: read the seed in train.py
  - Why it matters: REP002 matters because `x` happens.

##### security

- ❌ **[SEC001]({DOCS}#sec001)** SEC001 title — fail · severity error: blocks at fail-on error
  - ❌ `docs/runbook.md:3` role allows s3:\\* on every bucket
  - ❌ `models/fraud/mlgate.yaml:12` role can pass any role
    - Fix: scope iam:PassRole
  - Fix: Do the SEC001 fix with `y:`.
  - Why it matters: SEC001 matters because `x` happens.

##### monitoring

- ❗ **[MON001]({DOCS}#mon001)** MON001 title — error · severity error: blocks at fail-on error
  - ❗ `models/fraud/mlgate.yaml:20` could not read the evidence: dashboard.json
  - Fix: Do the MON001 fix with `y:`.
  - Why it matters: MON001 matters because `x` happens.

##### operations

- ⚪ **[OPS001]({DOCS}#ops001)** OPS001 title — n/a
  - Not applicable: `models/fraud/mlgate.yaml:1` batch transform has no endpoint
- 🔕 **[OPS002]({DOCS}#ops002)** OPS002 title — waived · severity error
  - 🔕 Waived: vendor fix due next sprint (approved by `jane.doe`, expires 2026-12-31)
  - ❌ `models/fraud/mlgate.yaml:30` no on-call rotation
  - Fix: Do the OPS002 fix with `y:`.
  - Why it matters: OPS002 matters because `x` happens.
"""
    assert expected in block


def test_waivers_table() -> None:
    block = _deployment_block(markdown.render(sample_report()), "models/fraud/mlgate.yaml")
    assert ("| Rule | State | Reason | Approved by | Expires | Note |\n| :-- | :-- | :-- | :-- | :-- | :-- |\n"
            "| `OPS002` | active | vendor fix due next sprint | `jane.doe` | 2026-12-31 | waives OPS002 (fail) "
            "until 2026-12-31 |\n"
            "| `REP002` | expired | old | `bob` | 2026-01-01 | does not waive: expired on "
            "2026-01-01 |\n") in block


def test_provenance_block() -> None:
    out = markdown.render(sample_report())
    first = _deployment_block(out, "models/fraud/mlgate.yaml")
    assert f"""\
#### Provenance

- Model: `fraud-scorer`, version `3`
- Data:
  - `train` at `s3://data/train.parquet`, pinned by `version: abc`
  - `holdout` at `s3://data/holdout/`, pinned by **nothing**
- Code commit: `0123abc`
- Seed: `42`
- Lockfile: `uv.lock`, sha256 `{"ab" * 32}`
- Artifact: `s3://models/fraud.tar.gz`, sha256 `{"cd" * 32}`
""" in first
    second = _deployment_block(out, "models/churn/mlgate.yaml")
    assert """\
- Model: `churn`, version _not stated_
- Data: _not stated_
- Code commit: _not stated_
- Seed: _not stated_
- Lockfile: _not stated_
- Artifact: _not stated_
""" in second


def test_docs_link_of_a_custom_rule_is_not_a_link() -> None:
    rule = _rule("ACME001", "custom", docs="javascript:alert(document.cookie)")
    d = Deployment("mlgate.yaml", "m", [RuleResult(rule, "pass", "error", [Finding("pass", "ok")])], [],
                   Location("mlgate.yaml", 1))
    out = markdown.render(Report([d], "error", "0.1.0", [rule]))
    assert "- ✅ **ACME001 (`javascript:alert(document.cookie)`)** ACME001 title — pass" in out
    assert "](javascript" not in out


# --- determinism ----------------------------------------------------------------------------------------------


def test_same_report_same_bytes() -> None:
    assert markdown.render(sample_report()) == markdown.render(sample_report())


def test_same_bytes_across_processes() -> None:
    code = ("import sys; from tests.report.test_markdown import sample_report; from mlgate.report import render; "
            "sys.stdout.buffer.write(render(sample_report(), 'markdown').encode())")
    outs = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert outs == {markdown.render(sample_report()).encode()}


# --- any text, rendered -------------------------------------------------------------------------------------------

_PIECES = [*"ab1 _*~`[]()<>&;#!|\\$@:/.-+=^{}\"'\t\u00a0é\n", "http://", "www.", "&amp;", "1.", "- ", "# ", "```"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_any_text_renders_as_written(text: str) -> None:
    """md_escape and md_code, rendered (CommonMark + GFM tables): the text as written, in prose, code and cells."""
    flat = one_line(text).strip()
    html = read_html("x " + md_escape(text))
    assert html.blocks == [("x " + flat).rstrip()] and html_shape("x " + md_escape(text)) == [("p",), ("/p",)]
    if one_line(text):
        assert read_html("x " + md_code(text)).codes == [one_line(text)]
    assert read_html(f"| a |\n| - |\n| {md_escape(text, table=True)} |\n").blocks == ["a", flat]


def test_sentence_punctuation_after_a_value_stays_outside_its_code_span() -> None:
    """A value copied from the rendered report is the value: "model.tar.gz," must not copy with the comma."""
    from mlgate.textsafe import md_escape

    text = md_escape("serves s3://b/v8/model.tar.gz, but the recorded one is s3://b/v7/model.tar.gz: not the same.")
    assert "`s3://b/v8/model.tar.gz`," in text and "`s3://b/v7/model.tar.gz`:" in text
    assert md_escape("see :smile: there") == "see `:smile:` there"  # an emoji name keeps its colons in the span
