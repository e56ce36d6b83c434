"""Line numbers for Terraform files.

python-hcl2 returns the values of a .tf file but not where they are (its `with_meta` option is declared but
fills nothing in 8.x), so this module scans the text once for the *structure*: every block header
(`resource "aws_sagemaker_endpoint" "main" {`) and every attribute (`instance_type = ...`), with their lines,
nested as the blocks nest. It understands just enough HCL not to be fooled: quoted strings with escapes and
`${...}` interpolations, heredocs (`<<EOT`, `<<-EOT`), `#`, `//` and `/* */` comments, and brackets inside
expressions (an object value's braces are not a block). Values come from python-hcl2; this only finds lines, and
when it cannot make sense of something it skips to the next line rather than fail.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")


@dataclass
class Block:
    """An HCL block with the lines of its attributes and nested blocks, for findings that point at them."""
    type: str
    labels: tuple[str, ...]
    line: int
    attrs: dict[str, int] = field(default_factory=dict)
    blocks: dict[str, list[Block]] = field(default_factory=dict)
    redefined: list[tuple[str, int]] = field(default_factory=list)  # an attribute set twice, and the second line

    def first_redefined(self) -> tuple[Block, str, int] | None:
        """The first attribute set twice in one block, here or below (Terraform refuses such a file; python-hcl2
        keeps the last value without a word)."""
        if self.redefined:
            return self, *self.redefined[0]
        for children in self.blocks.values():
            for child in children:
                found = child.first_redefined()
                if found:
                    return found
        return None

    def find(self, type_: str, *labels: str) -> Block | None:
        """The child block `type_ "label" ...` (labels compared without quotes)."""
        for block in self.blocks.get(type_, []):
            if block.labels[:len(labels)] == labels:
                return block
        return None


def scan(text: str) -> Block:
    """The block structure of one HCL file, with lines (1-based)."""
    root = Block("", (), 1)
    scanner = _Scanner(text)
    scanner.body(root, closing=False)
    return root


class _Scanner:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.n = len(text)
        self.newlines = [m.start() for m in re.finditer("\n", text)]

    def line(self, index: int) -> int:
        return bisect.bisect_left(self.newlines, index) + 1

    def body(self, node: Block, *, closing: bool, depth: int = 0) -> None:
        while True:
            self.skip_blank(newlines=True)
            if self.i >= self.n:
                return
            c = self.s[self.i]
            if c == "}":
                self.i += 1
                if closing:
                    return
                continue
            match = _IDENT.match(self.s, self.i)
            if not match:
                self.skip_line()
                continue
            name, start = match.group(0), self.i
            self.i = match.end()
            self.skip_blank(newlines=False)
            if self.peek("=") and not self.peek("=="):
                self.i += 1
                if name in node.attrs:
                    node.redefined.append((name, self.line(start)))
                node.attrs.setdefault(name, self.line(start))
                self.expression()
                continue
            labels: list[str] = []
            while self.i < self.n:
                self.skip_blank(newlines=False)
                if self.peek('"'):
                    begin = self.i
                    self.string()
                    labels.append(self.s[begin + 1:self.i - 1])
                elif (label := _IDENT.match(self.s, self.i)) is not None:
                    labels.append(label.group(0))
                    self.i = label.end()
                elif self.peek("{"):
                    self.i += 1
                    child = Block(name, tuple(labels), self.line(start))
                    node.blocks.setdefault(name, []).append(child)
                    if depth < 64:
                        self.body(child, closing=True, depth=depth + 1)
                    else:  # pragma: no cover - absurd nesting: skip the block's content
                        self.expression(closing_depth=1)
                    break
                else:
                    self.skip_line()
                    break

    def peek(self, token: str) -> bool:
        return self.s.startswith(token, self.i)

    def skip_line(self) -> None:
        end = self.s.find("\n", self.i)
        self.i = self.n if end < 0 else end + 1

    def skip_blank(self, *, newlines: bool) -> None:
        while self.i < self.n:
            c = self.s[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif c == "#" or self.peek("//"):
                end = self.s.find("\n", self.i)
                self.i = self.n if end < 0 else end
            elif self.peek("/*"):
                end = self.s.find("*/", self.i + 2)
                self.i = self.n if end < 0 else end + 2
            else:
                return

    def expression(self, closing_depth: int = 0) -> None:
        """Skip an attribute's value: up to the end of its line outside brackets, or up to the `}` that closes
        the enclosing block (left for the caller), whichever comes first."""
        depth = closing_depth
        while self.i < self.n:
            c = self.s[self.i]
            if c == '"':
                self.string()
                continue
            if self.peek("<<") and (heredoc := _HEREDOC.match(self.s, self.i)) is not None:
                self.heredoc(heredoc)
                continue
            if c == "#" or self.peek("//") or self.peek("/*"):
                self.skip_blank(newlines=False)
                continue
            if c in "([{":
                depth += 1
            elif c in ")]}":
                if depth == 0:
                    return
                depth -= 1
            elif c == "\n" and depth == 0:
                return
            self.i += 1

    def string(self) -> None:
        """Skip a quoted template string, starting at its opening quote."""
        self.i += 1
        while self.i < self.n:
            c = self.s[self.i]
            if c == "\\":
                self.i += 2
            elif c == '"':
                self.i += 1
                return
            elif c == "\n":  # an unterminated string: stop at the end of the line
                return
            elif (self.peek("${") or self.peek("%{")) and not self.s.startswith("$${", self.i - 1):
                self.i += 2
                self.interpolation()
            else:
                self.i += 1

    def interpolation(self) -> None:
        depth = 0
        while self.i < self.n:
            c = self.s[self.i]
            if c == '"':
                self.string()
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                if depth == 0:
                    self.i += 1
                    return
                depth -= 1
            self.i += 1

    def heredoc(self, match: re.Match[str]) -> None:
        marker = match.group(1)
        self.i = match.end()
        while self.i < self.n:
            end = self.s.find("\n", self.i)
            line = self.s[self.i:self.n if end < 0 else end]
            self.i = self.n if end < 0 else end + 1
            if line.strip() == marker:
                if end >= 0:
                    self.i = end  # leave the newline: it ends the attribute
                return
