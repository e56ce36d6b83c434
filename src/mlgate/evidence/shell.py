"""Shell command lines split into words and operators, as a POSIX shell reads them, in linear time.

`shlex` reads a run of operator characters as one token by adding one character at a time to a string, which is
quadratic: a rollback command of 1 MB of parentheses took 54 s. Here one regular expression without nested
repetition finds each piece (a quoted string, an escaped character, an operator, blanks, plain characters), and
each word is joined once.
"""

from __future__ import annotations

import re
from typing import NamedTuple

OPERATORS = ("&&", "||", ";;", ";", "|", "&", "(", ")")

_PIECE = re.compile(r"""
    (?P<single>'[^']*')
  | (?P<double>"(?:[^"\\]|\\.)*")
  | (?P<unclosed>['"])
  | (?P<escape>\\.?)
  | (?P<op>(?:&&|\|\||;;|[;&|()])+)
  | (?P<blank>\s+)
  | (?P<plain>[^\s'"\\;&|()]+)
""", re.VERBOSE | re.DOTALL)
_DOUBLE_ESCAPE = re.compile(r'\\([\\"$`\n])')


class Token(NamedTuple):
    text: str
    operator: bool  # operators (`&&`, `;`, `(` ...) rather than a word


def tokens(command: str) -> list[Token]:
    """The words and operators of `command`, quotes removed as the shell removes them; operators written one
    after the other (`) && (`) are one token. An unclosed quote or a backslash at the end raises ValueError
    with shlex's message."""
    out: list[Token] = []
    word: list[str] = []
    in_word = False
    for match in _PIECE.finditer(command):
        kind, text = match.lastgroup, match.group()
        if kind in ("blank", "op"):
            if in_word:
                out.append(Token("".join(word), False))
                word, in_word = [], False
            if kind == "op":
                out.append(Token(text, True))
            continue
        if kind == "unclosed":
            raise ValueError("No closing quotation")
        in_word = True
        if kind == "single":
            word.append(text[1:-1])
        elif kind == "double":
            word.append(_DOUBLE_ESCAPE.sub(r"\1", text[1:-1]))
        elif kind == "escape":
            if len(text) == 1:
                raise ValueError("No escaped character")
            word.append(text[1:])
        else:
            word.append(text)
    if in_word:
        out.append(Token("".join(word), False))
    return out


_OPERATOR_RUN = re.compile(r"(?:&&|\|\||;;|[;&|()])+")
_QUOTING = re.compile(r"['\"\\]")


def words(command: str) -> list[str]:
    """Every word of `command`, operators left out (shlex.split, which keeps `a;b` as one word, aside)."""
    return [t.text for t in tokens(command) if not t.operator]


def simple_commands(command: str) -> list[list[str]]:
    """The simple commands of a command line (split at its operators), each as its words."""
    if not _QUOTING.search(command):  # nothing quoted or escaped: split in C
        return [c for c in (part.split() for part in _OPERATOR_RUN.split(command)) if c]
    out: list[list[str]] = [[]]
    for token in tokens(command):
        if token.operator:
            out.append([])
        else:
            out[-1].append(token.text)
    return [c for c in out if c]
