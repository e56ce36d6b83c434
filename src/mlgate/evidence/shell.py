"""Shell command lines split into words and operators, as a POSIX shell reads them, in linear time.

`shlex` reads a run of operator characters as one token by adding one character at a time to a string, which is
quadratic: a rollback command of 1 MB of parentheses took 54 s. Here one regular expression without nested
repetition finds each piece (a quoted string, an escaped character, operators, blanks, a comment, plain
characters), and each word is joined once.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_PIECE = re.compile(r"""
    (?P<single>'[^']*')
  | (?P<double>"(?:[^"\\]|\\.)*")
  | (?P<unclosed>['"])
  | (?P<escape>\\.?)
  | (?P<op>(?:&&|\|\||;;|[;&|()\n])+)
  | (?P<blank>[^\S\n]+)
  | (?P<comment>\#[^\n]*)
  | (?P<plain>[^\s'"\\;&|()\#]+)
""", re.VERBOSE | re.DOTALL)
_DOUBLE_ESCAPE = re.compile(r'\\([\\"$`\n])')
_OPERATOR_RUN = re.compile(r"((?:&&|\|\||;;|[;&|()\n])+)")  # captured: split() keeps the operators
_QUOTING = re.compile(r"['\"\\#]")


class Token(NamedTuple):
    text: str
    operator: bool  # operators (`&&`, `;`, `(`, a line break ...) rather than a word


class Command(NamedTuple):
    words: list[str]
    after: str  # the operators before it ('' for the first): after `&&` it runs only if the one before succeeded


def tokens(command: str) -> list[Token]:
    """The words and operators of `command`, quotes removed as the shell removes them. Operators written one after
    the other (`) && (`) are one token; a line break is one (it ends a command as `;` does). A `#` that starts a
    word starts a comment, to the end of the line. An unclosed quote or a backslash at the end raises ValueError
    with shlex's message."""
    out: list[Token] = []
    word: list[str] = []
    in_word = False
    pos = 0
    while pos < len(command):
        match = _PIECE.match(command, pos)
        assert match is not None  # the pieces cover every character
        kind, text = match.lastgroup, match.group()
        pos = match.end()
        if kind == "comment" and in_word:  # `a"b"#c`: a `#` inside a word is a character
            word.append("#")
            pos = match.start() + 1
            continue
        if kind in ("blank", "op", "comment"):
            if in_word:
                out.append(Token("".join(word), False))
                word, in_word = [], False
            if kind == "op":
                out.append(Token(text, True))
            continue
        if kind == "unclosed":
            raise ValueError("No closing quotation")
        if text == "\\\n":  # a backslash before a line break continues the line
            continue
        in_word = True
        if kind == "single":
            word.append(text[1:-1])
        elif kind == "double":
            word.append(_DOUBLE_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), text[1:-1]))
        elif kind == "escape":
            if len(text) == 1:
                raise ValueError("No escaped character")
            word.append(text[1:])
        else:
            word.append(text)
    if in_word:
        out.append(Token("".join(word), False))
    return out


def words(command: str) -> list[str]:
    """Every word of `command`, operators left out (shlex.split, which keeps `a;b` as one word, aside)."""
    return [t.text for t in tokens(command) if not t.operator]


def commands(command: str) -> list[Command]:
    """The simple commands of a command line, each with the operators that come before it."""
    if _QUOTING.search(command):
        pieces = [(t.text, t.operator) for t in tokens(command)]
    else:  # nothing quoted, escaped or commented: split in C
        pieces = [(word, False) if i % 2 == 0 else (part, True)
                  for i, part in enumerate(_OPERATOR_RUN.split(command))
                  for word in (part.split() if i % 2 == 0 else [part])]
    out: list[Command] = []
    current: list[str] = []
    after = ""
    for text, operator in pieces:
        if operator:
            if current:
                out.append(Command(current, after))
                current, after = [], ""
            after += text
        else:
            current.append(text)
    if current:
        out.append(Command(current, after))
    return out


def simple_commands(command: str) -> list[list[str]]:
    """The simple commands of a command line (split at its operators), each as its words."""
    return [c.words for c in commands(command)]
