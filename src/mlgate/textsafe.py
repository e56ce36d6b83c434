"""Making untrusted strings (from specs, evidence files and rule files) inert in text, Markdown and XML output."""

from __future__ import annotations

import functools
import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def one_line(text: str) -> str:
    """Text on one line with control characters (ANSI escapes, bidi overrides, newlines) shown escaped."""
    text = text.replace("\r\n", "\n").replace("\n", "\\n").replace("\t", " ")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256
                        else f"\\u{ord(m.group()):04x}", text)


# A line of a CI step's output that starts with `::` or `##[` (after blanks) is a workflow command to the GitHub
# Actions runner (`::add-mask::`, `::stop-commands::`, `::error file=...::`); a spec path or a model name can start
# one. Its first character is shown escaped, as `one_line` shows control characters.
_WORKFLOW_COMMAND = re.compile(r"^([^\S\n]*)(:(?=:)|#(?=#\[))", re.MULTILINE)  # the runner trims any Unicode space


def no_workflow_commands(text: str) -> str:
    """Plain text whose lines never start with `::` or `##[`: safe to print in a GitHub Actions log."""
    return _WORKFLOW_COMMAND.sub(lambda m: m.group(1) + ("\\x3a" if m.group(2) == ":" else "\\x23"), text)


# --- Markdown (GitHub PR comments, job summaries) -------------------------------------------------------------
#
# Values from specs and evidence files go in code spans, where nothing is interpreted; prose around them is
# escaped only where a character can start Markdown syntax, so the raw file stays readable and text copied from the
# rendered report is the text that was written. A value never starts a line (every renderer prints it after text of
# its own, on one line), so block syntax can start only at the beginning of a list item's or a cell's content: the
# first character is escaped when it could. Everything here is linear in the length of the text.

# Inline syntax a character can start anywhere: emphasis and strikethrough, code, links, images and footnotes, raw
# HTML and autolinks, math. Each is escaped with a backslash (CommonMark: any ASCII punctuation may be).
_MD_INLINE = frozenset("*~`[<$")
# Block syntax at the start of content: headings, quotes, list items, setext underlines, thematic breaks.
_MD_BLOCK_START = frozenset("#>-+=_")
_ORDERED_ITEM = re.compile(r"\d{1,9}(?=[.)])")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
# GitHub turns these into links, mentions, issue references and emoji *after* Markdown, on the rendered text (a
# backslash does not stop it): a word holding one is shown as code instead. URIs (s3://...), addresses and ARNs
# (`:aws:`) are values anyway, and read best as code.
_LINKISH = re.compile(r"(?i:://|www\.|@|#\d|\bgh-\d)|:[a-z0-9_+-]+:")  # emoji names are lower case
_WORDS = re.compile(r"(\s+)")


def _escape_prose(flat: str, *, table: bool, at_start: bool, at_end: bool) -> str:
    """Prose (no code spans, one line) with every character that could start Markdown syntax escaped."""
    out: list[str] = []
    n = len(flat)
    for i, c in enumerate(flat):
        if c in _MD_INLINE or (table and c == "|"):
            out.append("\\" + c)
        elif c == "_":
            inside_word = 0 < i < n - 1 and flat[i - 1].isalnum() and flat[i + 1].isalnum()
            out.append(c if inside_word and not (at_start and i == 0) else "\\_")
        elif c == "\\":
            last = i == n - 1
            out.append("\\\\" if (at_end if last else flat[i + 1] in _PUNCTUATION) else c)  # an escape, a line break
        elif c == "&":
            out.append("\\&" if _ENTITY.match(flat, i) else c)
        elif at_start and i == 0 and c in _MD_BLOCK_START:
            out.append("\\" + c)
        else:
            out.append(c)
    if at_start and (number := _ORDERED_ITEM.match(flat)):  # "1." or "1)" would start an ordered list
        cut = number.end()
        return "".join(out[:cut]) + "\\" + "".join(out[cut:])
    return "".join(out)


def _prose(flat: str, *, table: bool = False, at_start: bool = True, at_end: bool = True) -> str:
    """Prose as inert Markdown: words GitHub would link become code spans, the rest is escaped minimally."""
    out: list[str] = []
    words = _WORDS.split(flat)
    for i, word in enumerate(words):
        if not word:
            continue
        if i % 2 == 0 and _LINKISH.search(word):
            if table and "\\|" in word:  # no code span holds it in a cell: code for the parts, `|` escaped
                out.append("\\|".join(md_code(part) if _LINKISH.search(part) else
                                       _escape_prose(part, table=True, at_start=False, at_end=True)
                                       for part in word.split("|")))
                continue
            # sentence punctuation after a value stays prose: "...model.tar.gz," copies without the comma
            core = word.rstrip(".,:;")
            tail = word[len(core):] if core and _LINKISH.search(core) else ""
            out.append(md_code(word[:len(word) - len(tail)], table=table) + _escape_prose(
                tail, table=table, at_start=False, at_end=at_end and i == len(words) - 1) if tail else
                md_code(word, table=table))
        else:
            out.append(_escape_prose(word, table=table, at_start=at_start and not out,
                                     at_end=at_end and i == len(words) - 1))
    return "".join(out)


def md_escape(text: object, *, table: bool = False) -> str:
    """Untrusted text as inert inline Markdown: it renders as the same characters and can never become HTML, a
    link, an image, an autolink, a mention, a heading, a list item, a checkbox, a table cell break or a new line.

    Control characters, newlines and bidi overrides are shown escaped (as `one_line` does); leading and trailing
    space is dropped. With `table=True` a `|` is escaped too (it splits a GFM table row).
    """
    return _prose(one_line(str(text)).strip(), table=table)


def md_code(text: object, *, table: bool = False) -> str:
    """Untrusted text as an inline code span: shown verbatim, fenced with more backticks than it contains.

    Inside a code span Markdown, HTML, autolinks and mentions are not interpreted, so only the fence and line
    breaks matter. In a table cell (`table=True`) each `|` is written `\\|`, which GFM reads as a `|` of the span;
    a value holding a backslash before a `|` cannot be written so and is escaped as prose instead.
    """
    flat = one_line(str(text))
    if not flat:
        return "` `"
    if table and "|" in flat:
        if "\\|" in flat:
            return _prose(flat, table=True, at_start=False)
        flat = flat.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    # A space on each side keeps a backtick at either end apart from the fence, and a value that starts and ends
    # with a space keeps them: CommonMark strips exactly one from each side (not from a span of spaces only).
    pad = " " if flat.strip(" ") and (flat[0] in "` " or flat[-1] in "` ") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def code_spans(text: str) -> list[tuple[int, int, int]]:
    """The code spans of one line of Markdown as CommonMark finds them, in linear time: (start, end, fence
    length) of each. A run of n backticks opens a span closed by the next run of exactly n (a backslash inside a
    span is literal); a run with no such run after it, or whose first backtick is escaped, is literal."""
    runs: list[tuple[int, int]] = [(m.start(), m.end() - m.start()) for m in re.finditer(r"`+", text)]
    # For each run, the index of the next run of the same length (scanned from the end: linear).
    following: list[int | None] = [None] * len(runs)
    last: dict[int, int] = {}
    for k in range(len(runs) - 1, -1, -1):
        following[k] = last.get(runs[k][1])
        last[runs[k][1]] = k
    spans: list[tuple[int, int, int]] = []
    i = k = 0
    n = len(text)
    while i < n:
        if text[i] == "\\" and i + 1 < n and text[i + 1] in _PUNCTUATION:
            i += 2
            if text[i - 1] == "`":  # an escaped backtick: its run opens nothing
                while k < len(runs) and runs[k][0] < i:
                    k += 1
                if k > 0 and runs[k - 1][0] + runs[k - 1][1] > i:
                    i = runs[k - 1][0] + runs[k - 1][1]
            continue
        if text[i] != "`":
            i += 1
            continue
        while runs[k][0] < i:  # the run starting here
            k += 1
        start, length = runs[k]
        close = following[k]
        if close is None:
            i, k = start + length, k + 1
            continue
        end = runs[close][0] + length
        spans.append((start, end, length))
        i, k = end, close + 1
    return spans


def md_text(text: object, *, table: bool = False) -> str:
    """Untrusted prose as inert Markdown that keeps its `code spans` (rule texts and messages use them).

    Everything outside a code span is escaped as `md_escape` does; each code span is re-fenced with `md_code`, so
    a span holds nothing but literal text. With `table=True`, `|` is escaped everywhere, in spans too.
    """
    flat = one_line(str(text)).strip()
    out: list[str] = []
    last = 0
    for start, end, fence in code_spans(flat):
        # Backslash escapes before a span (e.g. a literal \` in prose) were skipped by code_spans: keep them.
        out.append(_prose(flat[last:start], table=table, at_start=not out, at_end=False))
        code = flat[start + fence:end - fence]
        if code.startswith(" ") and code.endswith(" ") and code.strip():
            code = code[1:-1]
        out.append(md_code(code, table=table))
        last = end
    out.append(_prose(flat[last:], table=table, at_start=not out))
    return "".join(out)


def md_link(label: str, url: str) -> str:
    """A Markdown link when `url` is a plain https URL (no spaces, quotes, brackets or parentheses); otherwise the
    URL is shown as code, not linked. The label is escaped."""
    if _SAFE_URL.fullmatch(url):
        return f"[{md_escape(label)}]({url})"
    return f"{md_escape(label)} ({md_code(url)})"


_SAFE_URL = re.compile(r"https://[A-Za-z0-9.-]+(?:/[A-Za-z0-9._~/%+-]*)?(?:#[A-Za-z0-9._~-]*)?")


# --- XML 1.0 (JUnit) ---------------------------------------------------------------------------------------------

@functools.cache
def _xml_forbidden() -> re.Pattern[str]:
    # Compiled on first use: this class spans all of Unicode and costs ~8 ms to compile, paid by JUnit reports only.
    return re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: object) -> str:
    """Text without the characters XML 1.0 cannot carry (C0 controls other than tab/newline/CR, lone surrogates,
    U+FFFE/U+FFFF): an XML parser would reject the whole file because of one of them."""
    return _xml_forbidden().sub("", str(text))
