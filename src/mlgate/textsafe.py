"""Making untrusted strings (from specs, evidence files and rule files) inert in text, Markdown and XML output."""

from __future__ import annotations

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

# Escaped with a backslash: every ASCII punctuation character that can start or end Markdown syntax (emphasis,
# links, images, headings, lists, tables, code, strikethrough, math, emoji, setext underlines). `&<>` become
# HTML entities instead (a backslash before them would not stop an entity or a tag from being read).
_MD_BACKSLASH = frozenset("\\`*_{}[]()#+-.!|~:$=^")
_MD_ENTITY = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ZWJ = "\u200d"
# GitHub turns `scheme://…`, `www.…` and `name@host` into links and `@user` / `#123` into mentions and cross
# references, on the rendered text (a backslash escape does not stop that); a zero-width joiner does.
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?<=[@#])")
_SAFE_URL = re.compile(r"https://[A-Za-z0-9.-]+(?:/[A-Za-z0-9._~/%+-]*)?(?:#[A-Za-z0-9._~-]*)?")
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")


def md_escape(text: object) -> str:
    """Untrusted text as inert inline Markdown: it renders as the same characters and can never become HTML, a
    link, an image, an autolink, a mention, a heading, a list item, a checkbox, a table cell break or a new line.

    Safe anywhere a line of Markdown can hold text, table cells included. Control characters, newlines and
    bidi overrides are shown escaped (as `one_line` does); leading and trailing space is dropped.
    """
    return _md_escape_flat(one_line(str(text)).strip())


def _md_escape_flat(flat: str) -> str:
    flat = _AUTOLINK.sub(_ZWJ, flat)
    return "".join(_MD_ENTITY.get(c) or (f"\\{c}" if c in _MD_BACKSLASH else c) for c in flat)


def md_code(text: object) -> str:
    """Untrusted text as an inline code span: shown verbatim, fenced with more backticks than it contains.

    Inside a code span Markdown, HTML, autolinks and mentions are not interpreted, so only the fence and line
    breaks matter. Not for table cells (a `|` inside a code span still splits a GFM table row): use `md_escape`.
    """
    flat = one_line(str(text))
    if not flat:
        return "` `"
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    # A space on each side keeps a leading/trailing backtick apart from the fence; CommonMark strips exactly one.
    pad = " " if flat[0] in "` " or flat[-1] in "` " else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def md_text(text: object, *, table: bool = False) -> str:
    """Untrusted prose as inert Markdown that keeps its `code spans` (rule texts and messages use them).

    Everything outside a code span is escaped as `md_escape` does; each code span is re-fenced with `md_code`, so
    a span holds nothing but literal text. With `table=True` the whole text is escaped (no code spans), since a
    `|` inside a code span would still split a table row.
    """
    flat = one_line(str(text)).strip()
    if table:
        return _md_escape_flat(flat)
    out: list[str] = []
    last = 0
    for match in _CODE_SPAN.finditer(flat):
        out.append(_md_escape_flat(flat[last:match.start()]))
        code = match.group(2)
        if code.startswith(" ") and code.endswith(" ") and code.strip():
            code = code[1:-1]
        out.append(md_code(code))
        last = match.end()
    out.append(_md_escape_flat(flat[last:]))
    return "".join(out)


def md_link(label: str, url: str) -> str:
    """A Markdown link when `url` is a plain https URL (no spaces, quotes, brackets or parentheses); otherwise the
    URL is shown as code, not linked. The label is escaped."""
    if _SAFE_URL.fullmatch(url):
        return f"[{md_escape(label)}]({url})"
    return f"{md_escape(label)} ({md_code(url)})"


# --- XML 1.0 (JUnit) ---------------------------------------------------------------------------------------------

_XML_FORBIDDEN = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: object) -> str:
    """Text without the characters XML 1.0 cannot carry (C0 controls other than tab/newline/CR, lone surrogates,
    U+FFFE/U+FFFF): an XML parser would reject the whole file because of one of them."""
    return _XML_FORBIDDEN.sub("", str(text))
