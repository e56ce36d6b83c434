"""Safe YAML loading that keeps the position of every node.

PyYAML composes the document into nodes (with the C parser when present); this module builds plain Python
values from those nodes itself, so that it can:
- record file:line:column for every value and key (checks report a path, the loader owns positions);
- refuse tags that construct objects, duplicate keys and merge keys;
- bound alias expansion, nesting depth and file size, so a "billion laughs" document cannot exhaust memory;
- resolve plain scalars by the YAML 1.2 core rules (``no`` stays a string; ``0123`` is not octal).

With ``cfn_tags=True`` (CloudFormation templates only) the short-form intrinsic function tags (``!Ref``, ``!Sub``,
``!GetAtt`` ...) are read as the long form CloudFormation defines for them (``{"Ref": ...}``, ``{"Fn::Sub": ...}``),
each keeping its position; every other tag is still refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mlgate.paths import NotAFile, PathEscape, open_confined

try:  # the C parser is several times faster; fall back to pure Python where libyaml is absent
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 100
MAX_ALIASED = 100_000

Key = str | int
PathT = tuple[Key, ...]

_IMPLICIT = "mlgate:implicit"
_T = "tag:yaml.org,2002:"
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}

# CloudFormation's short-form intrinsic functions and the long-form key each one stands for.
CFN_TAGS = {"!Ref": "Ref", "!Condition": "Condition",
            **{f"!{name}": f"Fn::{name}" for name in (
                "Sub", "GetAtt", "Join", "If", "Select", "FindInMap", "ImportValue", "Equals", "Not", "And", "Or",
                "Base64", "Cidr", "GetAZs", "Split", "Transform", "ToJsonString", "Length")}}


class YamlFloat(float):
    """A float that remembers how it was written, so `version: 1.10` can still be read as the text "1.10"."""

    raw: str

    def __new__(cls, raw: str, value: float) -> YamlFloat:
        obj = super().__new__(cls, value)
        obj.raw = raw
        return obj

    def __reduce__(self) -> tuple[type[YamlFloat], tuple[str, float]]:  # copy and deepcopy rebuild it (pydantic
        return YamlFloat, (self.raw, float(self))                         # copies a rule parameter's default)


def as_text(value: Any) -> Any:
    """The written text of a YAML scalar that names something (a version, a commit), else the value unchanged."""
    if isinstance(value, bool):
        return value
    if isinstance(value, YamlFloat):
        return value.raw
    if isinstance(value, int | float):
        return str(value)
    return value


@dataclass(frozen=True)
class Pos:
    """A 1-based line and column in a YAML file."""
    line: int
    column: int


class YamlError(Exception):
    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass
class Document:
    """Plain data loaded from YAML, with the position of every value (`positions`) and key (`keys`)."""

    data: Any
    positions: dict[PathT, Pos] = field(default_factory=dict)
    keys: dict[PathT, Pos] = field(default_factory=dict)

    def pos(self, path: PathT) -> Pos:
        """Position of the value at `path`, or of its nearest ancestor that exists (a missing field is
        reported where it should have been written)."""
        p = tuple(path)
        while p:
            if p in self.positions:
                return self.keys.get(p, self.positions[p])
            p = p[:-1]
        return self.positions.get((), Pos(1, 1))

    def exists(self, path: PathT) -> bool:
        return tuple(path) in self.positions


class _Loader(_BaseLoader):
    def resolve(self, kind: type[Node], value: str | None, implicit: tuple[bool, bool]) -> str:
        # Mark plain, untagged scalars so that the constructor, not PyYAML's YAML 1.1 resolver, decides.
        if kind is ScalarNode and implicit[0]:
            return _IMPLICIT
        result: str = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        return result


def _pos(node: Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


def _at(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Builder:
    def __init__(self, max_nodes: int, max_depth: int, cfn_tags: bool = False) -> None:
        self.count = 0
        self.max_nodes = max_nodes
        self.max_depth = max_depth
        self.cfn_tags = cfn_tags
        self.positions: dict[PathT, Pos] = {}
        self.keys: dict[PathT, Pos] = {}
        self.seen: set[int] = set()  # ids of the nodes built once: building one again is an alias expanding
        self.expanded = 0

    def build(self, node: Node, path: PathT, depth: int) -> Any:
        self.count += 1
        if self.count > self.max_nodes:
            raise YamlError(f"the document expands to more than {self.max_nodes} nodes "
                            "(aliases repeated too often: a YAML bomb?)", *_at(node))
        if id(node) in self.seen:
            # a large limit (lockfiles) must not let a bomb of aliases cost seconds: aliases expand to at most
            # MAX_ALIASED nodes, whatever the document's own size
            self.expanded += 1
            if self.expanded > MAX_ALIASED:
                raise YamlError(f"aliases expand to more than {MAX_ALIASED} nodes (a YAML bomb?)", *_at(node))
        else:
            self.seen.add(id(node))
        if depth > self.max_depth:
            raise YamlError(f"nesting deeper than {self.max_depth} levels", *_at(node))
        self.positions.setdefault(path, _pos(node))
        if self.cfn_tags and node.tag in CFN_TAGS:
            return self.intrinsic(node, path, depth)
        return self.plain(node, path, depth, node.tag)

    def intrinsic(self, node: Node, path: PathT, depth: int) -> dict[str, Any]:
        """`!Sub text` as `{"Fn::Sub": text}`: the function's key and its argument take the tag's position."""
        key = CFN_TAGS[node.tag]
        inner_path = (*path, key)
        self.keys[inner_path] = _pos(node)
        self.positions.setdefault(inner_path, _pos(node))
        kind = _T + ("str" if isinstance(node, ScalarNode) else "seq" if isinstance(node, SequenceNode) else "map")
        value = self.plain(node, inner_path, depth + 1, kind)
        if key == "Fn::GetAtt" and isinstance(value, str):
            # `!GetAtt Resource.Attribute` is the list form split at the first dot (the attribute may hold dots)
            value = value.split(".", 1)
            for i in range(len(value)):
                self.positions.setdefault((*inner_path, i), _pos(node))
        return {key: value}

    def plain(self, node: Node, path: PathT, depth: int, tag: str) -> Any:
        if isinstance(node, ScalarNode):
            return self.scalar(node, tag)
        if isinstance(node, SequenceNode):
            self.check_tag(node, "seq", tag)
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, MappingNode):
            self.check_tag(node, "map", tag)
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    raise YamlError("a mapping key must be a plain string, not a list or a mapping",
                                    *_at(key_node))
                if key_node.tag == _T + "merge" or (key_node.value == "<<" and not key_node.style):
                    raise YamlError("merge keys (<<) are not supported: write the keys out",
                                    *_at(key_node))
                key = str(self.scalar(key_node))
                key_path = (*path, key)
                if key in out:
                    first = self.keys[key_path]
                    raise YamlError(f"duplicate key '{key}' (first defined at line {first.line})",
                                    *_at(key_node))
                self.keys[key_path] = _pos(key_node)
                out[key] = self.build(value_node, key_path, depth + 1)
            return out
        raise YamlError(f"unsupported YAML node {type(node).__name__}")  # pragma: no cover

    @staticmethod
    def check_tag(node: Node, kind: str, tag: str | None = None) -> None:
        if (node.tag if tag is None else tag) not in (_T + kind, "!"):
            raise YamlError(f"YAML tag {node.tag!r} is not allowed (only plain data is read)",
                            *_at(node))

    @staticmethod
    def scalar(node: ScalarNode, tag: str | None = None) -> Any:
        tag, text = (node.tag if tag is None else tag), node.value
        if tag == _IMPLICIT:
            if _NULL.match(text):
                return None
            if text in _BOOL:
                return _BOOL[text]
            if _INT.match(text):
                try:
                    return int(text)
                except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
                    raise YamlError(f"an integer of {len(text)} digits is too long to read", *_at(node)) from None
            if _FLOAT.match(text):
                return YamlFloat(text, float(text))
            if text in _SPECIAL_FLOAT:
                return YamlFloat(text, _SPECIAL_FLOAT[text])
            return text
        try:
            if tag in (_T + "str", _T + "timestamp", "!"):
                return text
            if tag == _T + "int":
                number = int(text, 0)
                if number.bit_length() > 14_000:  # str() of it fails past 4,300 decimal digits
                    raise ValueError(text)
                return number
            if tag == _T + "float":
                return YamlFloat(text, float(text))
            if tag == _T + "bool":
                return _BOOL[text]
            if tag == _T + "null":
                return None
        except (ValueError, KeyError):
            shown = text if len(text) <= 40 else text[:37] + "..."
            raise YamlError(f"{shown!r} is not a valid {tag.rsplit(':', 1)[-1]}",
                            *_at(node)) from None
        raise YamlError(f"YAML tag {tag!r} is not allowed (only plain data is read)",
                        *_at(node))


def read_text(path: Path, *, max_bytes: int = MAX_BYTES, root: Path | None = None) -> str:
    """Read a UTF-8 text file (BOM tolerated) no larger than `max_bytes`; raise YamlError on anything else.

    The file must resolve to a regular file inside `root` (default: its own directory): see `open_confined`."""
    try:
        with open_confined(root or path.absolute().parent, path) as fh:
            raw = fh.read(max_bytes + 1)
    except PathEscape as exc:
        raise YamlError(str(exc)) from None
    except FileNotFoundError:
        raise YamlError("does not exist") from None
    except NotAFile as exc:
        raise YamlError(str(exc)) from None
    except OSError as exc:
        raise YamlError(f"cannot be read: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:
        raise YamlError(f"is larger than {max_bytes // 1024} KiB, the limit for files mlgate reads")
    if b"\0" in raw:
        raise YamlError("is a binary file, not text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise YamlError(f"is not UTF-8 text (bad byte at offset {exc.start})") from None


def parse_yaml(text: str, *, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH,
               max_bytes: int = MAX_BYTES, cfn_tags: bool = False) -> Document:
    """Parse one YAML document into plain data with positions. Raises YamlError with line and column.

    `cfn_tags=True` reads CloudFormation's short-form intrinsic tags as their long form (see CFN_TAGS)."""
    if len(text) > max_bytes:
        raise YamlError(f"is larger than {max_bytes // 1024} KiB, the limit for files mlgate reads")
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is not None:
            raise YamlError(f"YAML syntax error: {problem}", mark.line + 1, mark.column + 1) from None
        raise YamlError(f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlError(f"YAML error: {exc}") from None
    except RecursionError:
        raise YamlError("nesting too deep to parse") from None
    if node is None:
        return Document(None, {(): Pos(1, 1)})
    builder = _Builder(max_nodes, max_depth, cfn_tags)
    try:
        data = builder.build(node, (), 0)
    except RecursionError:
        raise YamlError("nesting too deep to parse") from None
    return Document(data, builder.positions, builder.keys)


def load_yaml_file(path: Path, *, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH,
                   max_bytes: int = MAX_BYTES, root: Path | None = None) -> Document:
    return parse_yaml(read_text(path, max_bytes=max_bytes, root=root), max_nodes=max_nodes, max_depth=max_depth,
                      max_bytes=max_bytes)
