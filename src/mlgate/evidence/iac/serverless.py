"""Serverless Framework files (serverless.yml) as CloudFormation: the `resources:` section carries plain
CloudFormation (`resources: {Resources: ...}`, or a list of such blocks), which the framework merges into the
stack it deploys (https://www.serverless.com/framework/docs/providers/aws/guide/resources). Those Resources are
read as a template, with every line as written in serverless.yml.

The framework's own variables (https://www.serverless.com/framework/docs/guides/variables) are resolved only where
the file alone decides them: `${self:custom.x}` (any `self:` path) that leads to a literal in the same file, with
that literal's line, and a fallback written as a literal. Everything else is unknown with its reason, never
guessed: `${opt:stage}` (the command line), `${sls:stage}`, `${env:X}`, `${ssm:/path}`, `${file(...)}`, `${cf:...}`,
`${aws:...}`, `${param:...}`, `${s3:...}`. CloudFormation's own `${Name}` / `${AWS::Region}` inside `!Sub` are left
to the CloudFormation reader.
"""

from __future__ import annotations

import re
from typing import Any

from mlgate.evidence.iac.cloudformation import Template
from mlgate.evidence.iac.model import UnreadCode, Value, show
from mlgate.result import Location
from mlgate.yamlload import Document, PathT, Pos

_MAX_DEPTH = 10
_MAX_TEXT = 64 * 1024  # a value built from variables that repeat variables could grow exponentially
# A framework variable starts with its source: `self:`, `opt:`, `cf(us-east-1):`, `file(...)` ... (CloudFormation's
# `${AWS::Region}` has a capitalised source and a double colon; `${Bucket}` has none).
_SOURCE = re.compile(r"^\s*(?:(self|opt|env|ssm|sls|aws|cf|s3|param|git)(?:\([^)]*\))?:|(file|strToBool)\()")
_WHY = {
    "opt": "is given on the command line when the service is deployed",
    "sls": "is decided by the Serverless Framework when the service is deployed (the stage given with --stage)",
    "env": "is read from an environment variable when the service is deployed",
    "ssm": "is read from SSM Parameter Store when the service is deployed",
    "cf": "is another stack's output, read when the service is deployed",
    "s3": "is read from S3 when the service is deployed",
    "aws": "is the AWS account or region the service is deployed to",
    "param": "is a parameter of the Serverless Dashboard or the command line",
    "file": "is read from another file, which mlgate does not follow",
    "git": "is read from git when the service is deployed",
    "strToBool": "is computed by the Serverless Framework",
}


class Variables:
    """The `${...}` variables of one serverless.yml, resolved as far as the file alone decides them."""

    def __init__(self, rel: str, doc: Document) -> None:
        self.rel = rel
        self.doc = doc
        self._resolved: dict[str, tuple[Any, str | None, str | None]] = {}  # each variable resolved once

    @staticmethod
    def used(text: Any) -> bool:
        return isinstance(text, str) and any(_SOURCE.match(inner) for _, _, inner in _spans(text))

    def value(self, text: str, at: Location, depth: int = 0) -> Value:
        """The value of a string that holds framework variables: known when every variable leads to a literal in
        this file (its source says where), else unknown with the reason."""
        spans = [s for s in _spans(text) if _SOURCE.match(s[2])]
        if len(spans) == 1 and spans[0][0] == 0 and spans[0][1] == len(text):
            found, source, why = self._resolve(spans[0][2], depth)
            if why is None:
                return Value(found, at, template=show(found), source=source)
            return Value(None, at, unknown=why, template=text, placeholder=text)
        parts: list[str] = []
        sources: list[str] = []
        pos = 0
        for start, end, inner in spans:
            parts.append(text[pos:start])
            pos = end
            found, source, why = self._resolve(inner, depth)
            if why is not None:
                return Value(None, at, unknown=why, template=text, placeholder=f"${{Sub:{text}}}")
            if isinstance(found, dict | list):
                return Value(None, at, unknown=f"${{{inner}}} is not text, so it cannot be part of '{text}'",
                             template=text, placeholder=f"${{Sub:{text}}}")
            parts.append(show(found))
            if source:
                sources.append(source)
            if sum(map(len, parts)) > _MAX_TEXT:
                return Value(None, at, unknown=f"'{text[:60]}' grows past {_MAX_TEXT // 1024} KiB when its variables "
                             "are filled in", template=text, placeholder=f"${{Sub:{text[:60]}}}")
        parts.append(text[pos:])
        joined = "".join(parts)
        return Value(joined, at, template=joined, source="; ".join(sources) or None)

    def _resolve(self, inner: str, depth: int) -> tuple[Any, str | None, str | None]:
        """(value, where it came from, None), or (None, None, why it is unknown). Memoised, so variables that
        repeat others cannot multiply the work; a variable met again while it is resolved refers to itself."""
        if inner not in self._resolved:
            self._resolved[inner] = (None, None, f"${{{inner.strip()}}} refers to itself")
            self._resolved[inner] = self._lookup(inner, depth)
        return self._resolved[inner]

    def _lookup(self, inner: str, depth: int) -> tuple[Any, str | None, str | None]:
        shown = f"${{{inner.strip()}}}"
        if depth > _MAX_DEPTH:
            return None, None, f"{shown} nests too deep to follow"
        if "${" in inner:
            return None, None, f"{shown} nests another variable, which mlgate does not resolve"
        expr, fallback = _split_fallback(inner)
        match = _SOURCE.match(expr)
        source = (match.group(1) or match.group(2)) if match else ""
        if source == "self":
            address = expr.split(":", 1)[1].strip()
            path = tuple(int(p) if p.isdigit() else p for p in address.split(".") if p)
            found = self._at(path)
            if found is not None:
                if Variables.used(found):
                    inner_value = self.value(found, Location(self.rel, self.doc.pos(path).line), depth + 1)
                    if not inner_value.known:
                        return None, None, f"{shown} leads to {found}, which {inner_value.unknown}"
                    return inner_value.value, f"{shown}, {self.rel}:{self.doc.pos(path).line}", None
                return found, f"{shown}, {self.rel}:{self.doc.pos(path).line}", None
            why = f"{shown} is not set in {self.rel}"
        else:
            why = f"{shown} {_WHY.get(source, 'is resolved by the Serverless Framework when the service is deployed')}"
        if fallback is None:
            return None, None, why
        literal = _literal(fallback)
        if literal is not None and source == "self":
            return literal, f"the fallback of {shown} ({why})", None
        return None, None, f"{why} (the fallback {fallback.strip()} applies only when it is not given)"

    def _at(self, path: PathT) -> Any:
        node: Any = self.doc.data
        for key in path:
            if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                node = node[key]
                continue
            if not (isinstance(node, dict) and key in node):
                return None
            node = node[key]
        return node


def _spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, inside) of each outermost `${...}` in `text` (braces nest)."""
    out: list[tuple[int, int, str]] = []
    i = 0
    while True:
        start = text.find("${", i)
        if start < 0:
            return out
        depth, j = 0, start + 2
        while j < len(text):
            if text.startswith("${", j):
                depth += 1
                j += 2
                continue
            if text[j] == "}":
                if depth == 0:
                    break
                depth -= 1
            j += 1
        if j >= len(text):
            return out
        out.append((start, j + 1, text[start + 2:j]))
        i = j + 1


def _split_fallback(inner: str) -> tuple[str, str | None]:
    """`self:custom.x, 'default'` -> ("self:custom.x", "'default'"): the first comma outside quotes and parens."""
    depth, quote = 0, ""
    for i, c in enumerate(inner):
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            return inner[:i].strip(), inner[i + 1:]
    return inner.strip(), None


def _literal(text: str) -> Any:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if text in ("true", "false"):
        return text == "true"
    return None


def read_serverless(rel: str, doc: Document) -> Template:
    """The CloudFormation a serverless.yml carries under `resources:`, as a template whose lines are the file's."""
    data = doc.data if isinstance(doc.data, dict) else {}
    merged: dict[str, Any] = {"Resources": {}}
    positions: dict[PathT, Pos] = {(): Pos(1, 1)}
    keys: dict[PathT, Pos] = {}
    gaps: list[UnreadCode] = []
    raw = data.get("resources")
    blocks: list[tuple[PathT, Any]] = [(("resources",), raw)] if isinstance(raw, dict) else \
        [(("resources", i), item) for i, item in enumerate(raw)] if isinstance(raw, list) else []
    for prefix, block in blocks:
        if not isinstance(block, dict):
            gaps.append(UnreadCode(f"resources entry {block!r} is not read (only resources written in this file are)",
                            Location(rel, doc.pos(prefix).line)))
            continue
        for section in ("Resources", "Conditions", "Mappings", "Outputs"):
            if isinstance(block.get(section), dict):
                merged.setdefault(section, {}).update(block[section])
        n = len(prefix)
        for table, out in ((doc.positions, positions), (doc.keys, keys)):
            for path, pos in table.items():
                if path[:n] == prefix and len(path) > n:
                    out[path[n:]] = pos
    template = Template(rel, Document(merged, positions, keys))
    template.variables = Variables(rel, doc)
    template.gaps = gaps
    return template
