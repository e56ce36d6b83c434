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
from pathlib import Path

import pytest

from mlgate.report import markdown
from mlgate.result import Deployment, Finding, Location, Report, RuleInfo, RuleResult, WaiverState
from mlgate.textsafe import md_code, md_escape, md_link, md_text

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
    """The part of a line Markdown still interprets: code spans become `C`, escapes and entities disappear."""
    out: list[str] = []
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\" and i + 1 < len(line) and line[i + 1] in string.punctuation:
            i += 2
            continue
        entity = re.match(r"&(#[0-9]+|#x[0-9a-fA-F]+|[A-Za-z]+);", line[i:])
        if entity:
            i += len(entity.group())
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


SYNTAX = "<>[]()!|*_`~#$:&\\=^{}+"


def syntax(line: str) -> Counter[str]:
    return Counter(c for c in active(line) if c in SYNTAX)


def table_pipes(line: str) -> int:
    """Pipes that split a GFM table row (the table splits before code spans are read)."""
    return len(re.findall(r"(?<!\\)(?:\\\\)*\|", line))


def live_links(line: str) -> list[str]:
    live = active(line)
    return re.findall(r"://|www\.|@\w|#\d|^\s*[-+*] \[[ xX]\]", live, flags=re.IGNORECASE)


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


def test_hostile_report_keeps_the_words() -> None:
    """Escaping must not lose the text: a reader still sees what the spec said."""
    out = markdown.render(sample_report("[click me](https://evil.example/x) <b>|</b>"))
    assert r"\[click me\]\(https\:" + "\u200d" + r"//evil\.example/x\) &lt;b&gt;\|&lt;/b&gt;" in out
    assert "`models/[click me](https://evil.example/x) <b>|</b>/mlgate.yaml:5`" in out


@pytest.mark.parametrize("payload", HOSTILE)
def test_helpers_leave_no_live_syntax(payload: str) -> None:
    escaped = md_escape(payload)
    assert "\n" not in escaped and "\r" not in escaped
    assert not any(c in SYNTAX for c in active(escaped)), escaped
    assert live_links(escaped) == []
    assert active(md_code(payload)) == "C"
    text = md_text(payload)
    assert not any(c in SYNTAX for c in active(text).replace("C", "")), text
    assert live_links(text) == []
    cell = md_text(payload, table=True)
    assert table_pipes(cell) == 0 and "`" not in active(cell)


@pytest.mark.parametrize(("text", "expected"), [
    ("a `b` c", "a `b` c"),
    ("use ``x`y`` here", "use ``x`y`` here"),
    ("`` ` ``", "`` ` ``"),
    ("no code", "no code"),
    ("odd ` tick", r"odd \` tick"),
    ("`[x](y)` [x](y)", r"`[x](y)` \[x\]\(y\)"),
])
def test_md_text_keeps_code_spans(text: str, expected: str) -> None:
    assert md_text(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("plain", "`plain`"),
    ("a`b", "``a`b``"),
    ("`start", "`` `start ``"),
    ("line\nbreak", r"`line\nbreak`"),
    ("", "` `"),
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
    assert env.from_string("{{ x|md }} {{ n }}").render(x="[x]", n=3) == r"\[x\] 3"


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
    assert "### ✅ `models/fraud/mlgate.yaml` · fraud\\-scorer: READY" in out


def test_one_section_per_deployment() -> None:
    out = markdown.render(sample_report())
    headings = re.findall(r"(?m)^### .*$", out)
    assert headings == ["### ❌ `models/fraud/mlgate.yaml` · fraud\\-scorer: NOT READY (2 blocking rules)",
                        "### ✅ `models/churn/mlgate.yaml` · churn: READY"]
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
  - Evidence: `models/fraud/mlgate.yaml:5` dataset `train` pinned by version\\: abc
- ⚠️ **[REP002]({DOCS}#rep002)** REP002 title — warn · severity warning: does not block, \
since fail-on error blocks severity error only
  - ⚠️ `models/fraud/mlgate.yaml:9` seed is never read
    - Fix: read the seed in train\\.py
  - Why it matters: REP002 matters because `x` happens\\.

##### security

- ❌ **[SEC001]({DOCS}#sec001)** SEC001 title — fail · severity error: blocks at fail-on error
  - ❌ `docs/runbook.md:3` role allows s3\\:\\* on every bucket
  - ❌ `models/fraud/mlgate.yaml:12` role can pass any role
    - Fix: scope iam\\:PassRole
  - Fix: Do the SEC001 fix with `y:`\\.
  - Why it matters: SEC001 matters because `x` happens\\.

##### monitoring

- ❗ **[MON001]({DOCS}#mon001)** MON001 title — error · severity error: blocks at fail-on error
  - ❗ `models/fraud/mlgate.yaml:20` could not read the evidence\\: dashboard\\.json
  - Fix: Do the MON001 fix with `y:`\\.
  - Why it matters: MON001 matters because `x` happens\\.

##### operations

- ⚪ **[OPS001]({DOCS}#ops001)** OPS001 title — n/a
  - Not applicable: `models/fraud/mlgate.yaml:1` batch transform has no endpoint
- 🔕 **[OPS002]({DOCS}#ops002)** OPS002 title — waived · severity error
  - 🔕 Waived: vendor fix due next sprint (approved by jane\\.doe, expires 2026\\-12\\-31)
  - ❌ `models/fraud/mlgate.yaml:30` no on\\-call rotation
  - Fix: Do the OPS002 fix with `y:`\\.
  - Why it matters: OPS002 matters because `x` happens\\.
"""
    assert expected in block


def test_waivers_table() -> None:
    block = _deployment_block(markdown.render(sample_report()), "models/fraud/mlgate.yaml")
    assert ("| Rule | State | Reason | Approved by | Expires | Note |\n| :-- | :-- | :-- | :-- | :-- | :-- |\n"
            "| OPS002 | active | vendor fix due next sprint | jane\\.doe | 2026\\-12\\-31 | waives OPS002 \\(fail\\) "
            "until 2026\\-12\\-31 |\n"
            "| REP002 | expired | old | bob | 2026\\-01\\-01 | does not waive\\: expired on "
            "2026\\-01\\-01 |\n") in block


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
