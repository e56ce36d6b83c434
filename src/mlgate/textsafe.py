"""Making untrusted strings (from specs and evidence files) inert in plain-text output."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def one_line(text: str) -> str:
    """Text on one line with control characters (ANSI escapes, bidi overrides, newlines) shown escaped."""
    text = text.replace("\r\n", "\n").replace("\n", "\\n").replace("\t", " ")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256
                        else f"\\u{ord(m.group()):04x}", text)
