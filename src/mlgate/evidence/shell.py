"""Shell command lines split into words and operators, as a POSIX shell reads them, in linear time.

`shlex` reads a run of operator characters as one token by adding one character at a time to a string, which is
quadratic: a rollback command of 1 MB of parentheses took 54 s. Here a regular expression without nested
repetition finds what needs care (a quoted string, an escape, a `#`), and the plain text between is split in C
(`str.split` and one regular expression of operators); each word is joined once.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# What needs care: quotes, escapes and `#`; the text between them is split in C (str.split and one regex).
_SPECIAL = re.compile(r"""'[^']*'|"(?:[^"\\]|\\.)*"|['"\\\#]""", re.DOTALL)
_DOUBLE_ESCAPE = re.compile(r'\\([\\"$`\n])')
_OPERATOR_RUN = re.compile(r"((?:&&|\|\||;;|[;&|()\n])+)")  # captured: split() keeps the operators


# (text, operator): operators (`&&`, `;`, `(`, a line break ...) or a word. A plain tuple: a megabyte of `a)` is
# 800,000 of them, and a NamedTuple costs a Python call each.
Token = tuple[str, bool]


class Command(NamedTuple):
    words: list[str]
    after: str  # the operators before it ('' for the first): after `&&` it runs only if the one before succeeded


class _Words:
    """The tokens so far, and the word being built (a word may join plain text, quoted parts and escapes)."""

    def __init__(self) -> None:
        self.out: list[Token] = []
        self.word: list[str] = []
        self.open = False  # inside a word (`''` opens an empty one)

    def close(self) -> None:
        if self.open:
            self.out.append(("".join(self.word), False))
            self.word, self.open = [], False

    def part(self, text: str) -> None:
        self.word.append(text)
        self.open = True

    def plain(self, text: str) -> None:
        """Text without quotes, escapes or `#`: blanks end words, operators are tokens. Only its first and last
        stretch can join a word begun or continued outside it; the ones between are built in one comprehension
        (a megabyte of `a)` is 800,000 tokens)."""
        chunks = _OPERATOR_RUN.split(text)  # text, operators, text, ..., text
        self.stretch(chunks[0])
        if len(chunks) == 1:
            return
        self.close()
        self.out.extend([token for i, chunk in enumerate(chunks[1:-1], 1)
                         for token in ([(chunk, True)] if i % 2 else [(w, False) for w in chunk.split()])])
        self.stretch(chunks[-1])

    def stretch(self, chunk: str) -> None:
        """Operator-free text: its first word may continue the open word, its last may go on after it."""
        pieces = chunk.split()
        if not pieces:
            if chunk:
                self.close()
            return
        if chunk[0].isspace():
            self.close()
        self.part(pieces[0])
        if len(pieces) > 1:
            self.close()
            self.out.extend((p, False) for p in pieces[1:-1])
            self.part(pieces[-1])
        if chunk[-1].isspace():
            self.close()


def tokens(command: str) -> list[Token]:
    """The words and operators of `command`, quotes removed as the shell removes them. Operators written one after
    the other (`) && (`) are one token; a line break is one (it ends a command as `;` does). A `#` that starts a
    word starts a comment, to the end of the line. An unclosed quote or a backslash at the end raises ValueError
    with shlex's message."""
    words = _Words()
    pos = 0
    while (special := _SPECIAL.search(command, pos)) is not None:
        words.plain(command[pos:special.start()])
        text = special.group()
        pos = special.end()
        if text == "#":
            if not words.open:  # a comment, to the end of the line (the line break stays: it ends a command)
                end = command.find("\n", pos)
                pos = len(command) if end == -1 else end
            else:
                words.part("#")
        elif text in ("'", '"'):
            raise ValueError("No closing quotation")
        elif text == "\\":
            if pos >= len(command):
                raise ValueError("No escaped character")
            if command[pos] != "\n":  # a backslash before a line break continues the line
                words.part(command[pos])
            pos += 1
        elif text[0] == "'":
            words.part(text[1:-1])
        else:
            words.part(_DOUBLE_ESCAPE.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), text[1:-1]))
    words.plain(command[pos:])
    words.close()
    return words.out


def words(command: str) -> list[str]:
    """Every word of `command`, operators left out (shlex.split, which keeps `a;b` as one word, aside)."""
    return [text for text, operator in tokens(command) if not operator]


def commands(command: str) -> list[Command]:
    """The simple commands of a command line, each with the operators that come before it."""
    out: list[Command] = []
    current: list[str] = []
    after = ""
    for text, operator in tokens(command):
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
