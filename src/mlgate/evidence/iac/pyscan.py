"""Python source read statically with `ast` (never run, never imported): the scopes of a script, what each name is
bound to, and the value of an expression as far as the text alone tells it.

A value is known when it is a literal, an f-string, `+`/`*` or `.format`/`.join` of known values, or a name assigned
exactly once (a module constant, a local variable), followed through dicts and lists written in the script. Anything
the script learns when it runs is unknown, with its reason, where it is read and a placeholder: `${env:NAME}`
(`os.environ`, `os.getenv`), `${arg:name}` (argparse), `${argv:1}`, `${param:name}` (a function's parameter),
`${var:name}` (a name assigned in several places, by a loop, or changed in place), `${expr:...}` (any other
computation). The deploy-script reader (scripts.py) builds on this.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field, replace
from typing import Any

from mlgate.evidence.iac.model import Value, show
from mlgate.parsers import parse_python
from mlgate.result import Location

_MAX_DEPTH = 20
_SHOWN = 60  # characters of an expression a placeholder shows
_MAX_ITEMS = 100  # elements of a list a comprehension is followed through
_CONVERSIONS: dict[int, Any] = {ord("r"): repr, ord("a"): ascii, ord("s"): str}  # f"{x!r}" ...
_MUTATORS = {"update", "append", "extend", "insert", "pop", "setdefault", "clear", "remove", "popitem"}


@dataclass
class Binding:
    """One place a Python script binds a name, and the expression it binds it to."""
    value: ast.expr | None  # the assigned expression; None when the name is bound another way
    line: int
    how: str | None = None  # "a for loop", "an import" ...: how the name is bound when not by `name = value`
    scope: Scope | None = None  # where `value` is evaluated, when not the scope that binds the name


@dataclass(eq=False)
class Scope:
    """A module, function or class body of a script: the names bound in it."""
    name: str  # "the module", "deploy()"
    parent: Scope | None
    params: dict[str, ast.expr | None] = field(default_factory=dict)  # parameter -> its default
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    mutated: dict[str, int] = field(default_factory=dict)  # name -> first line that changes it in place
    is_class: bool = False

    def bind(self, name: str, binding: Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)


@dataclass(frozen=True)
class Ref:
    """An expression together with the scope it is evaluated in."""
    node: ast.expr
    scope: Scope


@dataclass
class Call:
    """A call in a script with its arguments, each resolvable in its own scope."""
    node: ast.Call
    scope: Scope
    kwargs: dict[str, Ref]
    args: list[Ref]
    unknown: str | None  # why some arguments cannot be read (`**kwargs` computed at run time)


Struct = dict[str, Ref] | list[Ref]


def short(node: ast.AST) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"


def unknown(at: Location, why: str, placeholder: str) -> Value:
    return Value(None, at, unknown=why, placeholder=placeholder, template=placeholder)


def is_none(ref: Ref | None) -> bool:
    return ref is None or (isinstance(ref.node, ast.Constant) and ref.node.value is None)


class Script:
    """One parsed script: its scopes and bindings, the calls it makes, and the evaluation of their arguments."""

    def __init__(self, rel: str, text: str) -> None:
        self.rel = rel
        self.file = rel.rsplit("/", 1)[-1]
        self.tree = parse_python(rel, text)
        self.module = Scope("the module", None)
        self.imports: dict[str, str] = {}  # local name -> dotted name it imports
        self.star: list[str] = []  # modules imported with *
        self.calls: list[tuple[ast.Call, Scope]] = []
        self._mutations: list[tuple[str, Scope, int]] = []
        for stmt in self.tree.body:
            self._visit(stmt, self.module)
        self._memo: dict[tuple[int, int], Value] = {}  # a followed name's value, by (expression, scope)
        for name, scope, line in self._mutations:
            found = self._find(name, scope)
            if found is not None:
                owner = found[0]
                owner.mutated[name] = min(line, owner.mutated.get(name, line))

    def loc(self, node: ast.AST) -> Location:
        return Location(self.rel, getattr(node, "lineno", 1))

    def where(self, node: ast.AST) -> str:
        return f"{self.rel}:{getattr(node, 'lineno', 1)}"

    # -- scopes and bindings -----------------------------------------------------------------------------------------

    def _visit(self, node: ast.AST, scope: Scope) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            if not isinstance(node, ast.Lambda):
                scope.bind(node.name, Binding(None, node.lineno, "a def statement"))
                for deco in node.decorator_list:
                    self._visit(deco, scope)
            for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
                self._visit(default, scope)
            name = f"{node.name}()" if not isinstance(node, ast.Lambda) else "a lambda"
            inner = Scope(name, scope.parent if scope.is_class else scope, params=_params(node.args))
            for stmt in node.body if isinstance(node.body, list) else [node.body]:
                self._visit(stmt, inner)
            return
        if isinstance(node, ast.ClassDef):
            scope.bind(node.name, Binding(None, node.lineno, "a class statement"))
            inner = Scope(f"class {node.name}", scope, is_class=True)
            for child in [*node.bases, *node.keywords, *node.decorator_list]:
                self._visit(child, scope)
            for stmt in node.body:
                self._visit(stmt, inner)
            return
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            inner = Scope("a comprehension", scope)
            for gen in node.generators:
                self._target(gen.target, inner, None, gen.target.lineno, "a comprehension")
            for child in ast.iter_child_nodes(node):
                self._visit(child, inner)
            return
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._target(target, scope, node.value, node.lineno)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self._target(node.target, scope, node.value, node.lineno)
        elif isinstance(node, ast.AugAssign):
            self._target(node.target, scope, None, node.lineno, f"`{short(node)}`")
        elif isinstance(node, ast.For | ast.AsyncFor):
            self._target(node.target, scope, None, node.lineno, "a for loop")
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if item.optional_vars is not None:
                    self._target(item.optional_vars, scope, None, node.lineno, "a with statement")
        elif isinstance(node, ast.ExceptHandler) and node.name:
            scope.bind(node.name, Binding(None, node.lineno, "an except clause"))
        elif isinstance(node, ast.NamedExpr):
            self._target(node.target, scope, node.value, node.lineno)
        elif isinstance(node, ast.Delete):
            for target in node.targets:
                self._target(target, scope, None, node.lineno, "a del statement")
        elif isinstance(node, ast.Import | ast.ImportFrom):
            self._import(node, scope)
        elif isinstance(node, ast.Call):
            self.calls.append((node, scope))
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _MUTATORS and isinstance(func.value, ast.Name):
                self._mutations.append((func.value.id, scope, node.lineno))
        for child in ast.iter_child_nodes(node):
            self._visit(child, scope)

    def _target(self, target: ast.expr, scope: Scope, value: ast.expr | None, line: int,
                how: str | None = None) -> None:
        if isinstance(target, ast.Name):
            scope.bind(target.id, Binding(value if how is None else None, line, how))
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._target(element, scope, None, line, how or "unpacking")
        elif isinstance(target, ast.Starred):
            self._target(target.value, scope, None, line, how or "unpacking")
        elif isinstance(target, ast.Subscript | ast.Attribute):
            base = target.value
            while isinstance(base, ast.Subscript | ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name):  # `config["X"] = ...` changes what `config` holds
                self._mutations.append((base.id, scope, line))

    def _import(self, node: ast.Import | ast.ImportFrom, scope: Scope) -> None:
        for alias in node.names:
            if isinstance(node, ast.Import):
                local = alias.asname or alias.name.split(".")[0]
                self.imports[local] = alias.name if alias.asname else local
            elif alias.name == "*":
                self.star.append(node.module or "")
                continue
            else:
                local = alias.asname or alias.name
                self.imports[local] = f"{'.' * node.level}{node.module or ''}.{alias.name}"
            scope.bind(local, Binding(None, node.lineno, "an import"))

    def _find(self, name: str, scope: Scope) -> tuple[Scope, list[Binding] | None] | None:
        """The scope that binds `name` and its bindings (None: it is a parameter of that scope)."""
        current: Scope | None = scope
        while current is not None:
            if name in current.params:
                return current, None
            if name in current.bindings:
                return current, current.bindings[name]
            current = current.parent
        return None

    def _single(self, name: str, scope: Scope, node: ast.AST) -> tuple[Ref | None, Value | None]:
        """The one expression assigned to `name` (and where), or why there is none, as an unknown Value."""
        at = self.loc(node)
        found = self._find(name, scope)
        if found is None:
            return None, unknown(at, f"not defined in the script ({name}, {self.where(node)})", f"${{expr:{name}}}")
        owner, bindings = found
        if bindings is None:
            default = owner.params[name]
            also = f"; its default is {short(default)}" if default is not None else ""
            return None, unknown(at, f"given as parameter {name} of {owner.name}, known only when it is called{also}",
                                  f"${{param:{name}}}")
        if len(bindings) > 1:
            lines = ", ".join(str(b.line) for b in bindings)
            return None, unknown(at, f"assigned to {name} in {len(bindings)} places (lines {lines} of {self.rel}), "
                                      "so which one holds is known only when the script runs", f"${{var:{name}}}")
        binding = bindings[0]
        if binding.value is None:
            return None, unknown(at, f"bound to {name} by {binding.how} ({self.rel}:{binding.line}), known only when "
                                      "the script runs", f"${{var:{name}}}")
        if name in owner.mutated:
            return None, unknown(at, f"changed in place after it is assigned to {name} ({self.rel}:"
                                      f"{owner.mutated[name]}), so its content is known only when the script runs",
                                  f"${{var:{name}}}")
        return Ref(binding.value, binding.scope or owner), None

    def qual(self, node: ast.expr) -> str | None:
        """The dotted name an expression stands for through the imports: `sm.model.Model` -> sagemaker.model.Model."""
        if isinstance(node, ast.Name):
            if node.id in self.imports:
                return self.imports[node.id]
            if any(m == "sagemaker" or m.startswith("sagemaker.") for m in self.star):
                return f"sagemaker.*.{node.id}"
            return None
        if isinstance(node, ast.Attribute):
            base = self.qual(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    # -- values -------------------------------------------------------------------------------------------------------

    def value(self, node: ast.expr, scope: Scope, depth: int = 0) -> Value:
        at = self.loc(node)
        if depth > _MAX_DEPTH:
            return unknown(at, f"the names refer to each other too deeply to follow ({self.where(node)})",
                            f"${{expr:{short(node)}}}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool | type(None)):
            return Value(node.value, at, template=show(node.value))
        if isinstance(node, ast.Name):
            ref, why = self._single(node.id, scope, node)
            if ref is None:
                assert why is not None
                return why
            key = (id(ref.node), id(ref.scope))
            if key not in self._memo:  # a chain of names that each use the last twice stays linear
                self._memo[key] = self.value(ref.node, ref.scope, depth + 1)
            inner = self._memo[key]
            source = inner.source or f"the value of {node.id}, {self.rel}:{ref.node.lineno}"
            return replace(inner, at=at, source=source)
        if isinstance(node, ast.JoinedStr):
            return self._fstring(node, scope, depth)
        if isinstance(node, ast.BinOp):
            return self._binop(node, scope, depth)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self.value(node.operand, scope, depth + 1)
            if inner.known and isinstance(inner.value, int | float) and not isinstance(inner.value, bool):
                return Value(-inner.value, at, template=show(-inner.value))
        if isinstance(node, ast.Subscript):
            return self._subscript(node, scope, depth)
        if isinstance(node, ast.Attribute):
            found = self._argparse(node, scope)
            if found is not None:
                return found
        if isinstance(node, ast.Call):
            found = self._call_value(node, scope, depth)
            if found is not None:
                return found
        if isinstance(node, ast.Dict | ast.List | ast.Tuple):
            return self._plain(node, scope, depth)
        return self._computed(node)

    def _computed(self, node: ast.expr, why: str | None = None) -> Value:
        shown = short(node)
        return unknown(self.loc(node), why or f"computed by the script when it runs (`{shown}`, {self.where(node)})",
                        f"${{expr:{shown}}}")

    def _fstring(self, node: ast.JoinedStr, scope: Scope, depth: int) -> Value:
        parts: list[str] = []
        missing: Value | None = None
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
                continue
            if not isinstance(part, ast.FormattedValue):
                return self._computed(node)
            inner = self.value(part.value, scope, depth + 1)
            if not inner.known:
                missing = missing or inner
                parts.append(inner.text)
                continue
            spec = self.value(part.format_spec, scope, depth + 1) if part.format_spec is not None else None
            if spec is not None and not spec.known:
                missing = missing or spec
                parts.append(f"${{expr:{short(part)}}}")
                continue
            converted = _CONVERSIONS[part.conversion](inner.value) if part.conversion in _CONVERSIONS else inner.value
            try:
                parts.append(format(converted, str(spec.value) if spec is not None else ""))
            except (ValueError, TypeError):
                return self._computed(node)
        text = "".join(parts)
        if missing is None:
            return Value(text, self.loc(node), template=text)
        return Value(None, self.loc(node), unknown=missing.unknown, placeholder=text, template=text)

    def _binop(self, node: ast.BinOp, scope: Scope, depth: int) -> Value:
        at = self.loc(node)
        left, right = self.value(node.left, scope, depth + 1), self.value(node.right, scope, depth + 1)
        numbers = all(isinstance(v.value, int | float) and not isinstance(v.value, bool) for v in (left, right))
        if left.known and right.known:
            if isinstance(node.op, ast.Add) and isinstance(left.value, str) and isinstance(right.value, str):
                return Value(left.value + right.value, at, template=left.value + right.value)
            repeated = _repeat(left.value, right.value) if isinstance(node.op, ast.Mult) else None
            if repeated is not None:
                return Value(repeated, at, template=repeated)
            if numbers and isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
                a, b = left.value, right.value
                result = a + b if isinstance(node.op, ast.Add) else a - b if isinstance(node.op, ast.Sub) else a * b
                return Value(result, at, template=show(result))
            return self._computed(node)
        textual = all(isinstance(v.value, str) or not v.known for v in (left, right))
        if isinstance(node.op, ast.Add) and textual:
            missing = left if not left.known else right
            text = left.text + right.text
            return Value(None, at, unknown=missing.unknown, placeholder=text, template=text)
        missing = left if not left.known else right
        return self._computed(node, missing.unknown)

    def _subscript(self, node: ast.Subscript, scope: Scope, depth: int) -> Value:
        at = self.loc(node)
        base = self.qual(node.value)
        key = self.value(node.slice, scope, depth + 1)
        if base == "os.environ":
            return self._env(node, key, None)
        if base == "sys.argv":
            index = key.text
            return unknown(at, f"given on the command line as argument {index} (sys.argv[{index}], "
                                f"{self.where(node)}), known only when the script runs", f"${{argv:{index}}}")
        data, why = self.struct(node.value, scope, depth + 1)
        if data is not None and key.known:
            element = _element(data, key.value)
            if element is None:
                return self._computed(node, f"{short(node.value)} has no entry {key.text} ({self.where(node)})")
            inner = self.value(element.node, element.scope, depth + 1)
            source = inner.source or f"{short(node)}, {self.rel}:{element.node.lineno}"
            return replace(inner, at=at, source=source)
        if why is not None:
            return unknown(at, why, f"${{expr:{short(node)}}}")
        return self._computed(node, key.unknown if not key.known else None)

    def _env(self, node: ast.expr, name: Value, default: ast.expr | None) -> Value:
        if not name.known:
            return self._computed(node, name.unknown)
        unset = f"; {short(default)} when it is unset" if default is not None else ""
        return unknown(self.loc(node), f"read from environment variable {name.text} ({self.where(node)}) when the "
                                        f"script runs{unset}", f"${{env:{name.text}}}")

    def _argparse(self, node: ast.Attribute, scope: Scope) -> Value | None:
        """`args.instance_type`, where `args = parser.parse_args()`: a command-line argument."""
        if not isinstance(node.value, ast.Name):
            return None
        ref, _ = self._single(node.value.id, scope, node)
        parsed = ref.node if ref is not None else None
        if isinstance(parsed, ast.Subscript):  # args, _ = parser.parse_known_args() is unpacking; [0] is not
            parsed = parsed.value
        if not (isinstance(parsed, ast.Call) and isinstance(parsed.func, ast.Attribute)
                and parsed.func.attr in ("parse_args", "parse_known_args")):
            return None
        dest = node.attr
        option, default = f"--{dest.replace('_', '-')}", None
        for call, _scope in self.calls:
            if not (isinstance(call.func, ast.Attribute) and call.func.attr == "add_argument"):
                continue
            flags = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            named = next((k.value.value for k in call.keywords
                          if k.arg == "dest" and isinstance(k.value, ast.Constant)), None)
            long = next((f for f in flags if f.startswith("--")), flags[0] if flags else "")
            if named == dest or long.lstrip("-").replace("-", "_") == dest:
                option = long or option
                default = next((k.value for k in call.keywords if k.arg == "default"), None)
                break
        also = f"; its default is {short(default)}" if default is not None else ""
        return unknown(self.loc(node), f"given on the command line as {option} ({short(node)}, {self.where(node)}), "
                                        f"known only when the script runs{also}", f"${{arg:{dest}}}")

    def _call_value(self, node: ast.Call, scope: Scope, depth: int) -> Value | None:
        at = self.loc(node)
        func = node.func
        name = self.qual(func)
        if name in ("os.getenv", "os.environ.get") and node.args:
            default = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "default"), None)
            return self._env(node, self.value(node.args[0], scope, depth + 1), default)
        if isinstance(func, ast.Name) and self._find(func.id, scope) is None and len(node.args) == 1 \
                and not node.keywords and func.id in ("str", "int", "float"):
            inner = self.value(node.args[0], scope, depth + 1)
            if not inner.known:
                return replace(inner, at=at)
            try:
                converted = {"str": str, "int": int, "float": float}[func.id](inner.value)
            except (ValueError, TypeError):
                return None
            return Value(converted, at, template=show(converted), source=inner.source)
        if isinstance(func, ast.Name) and func.id == "dict" and self._find("dict", scope) is None:
            return self._plain(node, scope, depth)
        if not isinstance(func, ast.Attribute):
            return None
        if func.attr == "format" and isinstance(func.value, ast.Constant) and isinstance(func.value.value, str):
            args = [self.value(a, scope, depth + 1) for a in node.args]
            kwargs = {k.arg: self.value(k.value, scope, depth + 1) for k in node.keywords if k.arg}
            if len(kwargs) != len(node.keywords) or any(isinstance(a, ast.Starred) for a in node.args):
                return None
            missing = next((v for v in [*args, *kwargs.values()] if not v.known), None)
            try:
                if missing is None:
                    text = func.value.value.format(*[a.value for a in args], **{k: v.value for k, v in kwargs.items()})
                    return Value(text, at, template=text)
                text = func.value.value.format(*[a.text for a in args], **{k: v.text for k, v in kwargs.items()})
            except (ValueError, TypeError, IndexError, KeyError, AttributeError):
                return None
            return Value(None, at, unknown=missing.unknown, placeholder=text, template=text)
        if func.attr == "join" and isinstance(func.value, ast.Constant) and isinstance(func.value.value, str) \
                and len(node.args) == 1:
            items, why = self.struct(node.args[0], scope, depth + 1)
            if not isinstance(items, list):
                return self._computed(node, why)
            values = [self.value(i.node, i.scope, depth + 1) for i in items]
            joined = func.value.value.join(show(v.value) if v.known else v.text for v in values)
            missing = next((v for v in values if not v.known), None)
            if missing is None:
                return Value(joined, at, template=joined)
            return Value(None, at, unknown=missing.unknown, placeholder=joined, template=joined)
        if func.attr == "get" and node.args:
            data, _ = self.struct(func.value, scope, depth + 1)
            key = self.value(node.args[0], scope, depth + 1)
            default = node.args[1] if len(node.args) > 1 else None
            if isinstance(data, dict) and key.known:
                element = data.get(show(key.value))
                if element is None:
                    return self.value(default, scope, depth + 1) if default is not None else Value(None, at)
                return replace(self.value(element.node, element.scope, depth + 1), at=at)
            base = self.value(func.value, scope, depth + 1)
            if not base.known:  # event.get("instance_type", "ml.m5.large") in a handler
                unset = f"; {short(default)} when it has no {key.text}" if default is not None else ""
                return self._computed(node, f"{base.unknown}{unset}")
        return None

    def _plain(self, node: ast.expr, scope: Scope, depth: int) -> Value:
        """A dict or list as plain data; unknown (with the placeholders inside) when a part is."""
        data, why = self.struct(node, scope, depth + 1)
        if data is None:
            return self._computed(node, why)
        values = {k: self.value(r.node, r.scope, depth + 1) for k, r in data.items()} if isinstance(data, dict) \
            else dict(enumerate(self.value(r.node, r.scope, depth + 1) for r in data))
        plain = {k: v.value if v.known else v.text for k, v in values.items()}
        out: Any = plain if isinstance(data, dict) else list(plain.values())
        missing = next((v for v in values.values() if not v.known), None)
        if missing is None:
            return Value(out, self.loc(node))
        return Value(None, self.loc(node), unknown=missing.unknown, placeholder=str(out), template=str(out))

    def struct(self, node: ast.expr, scope: Scope, depth: int = 0) -> tuple[Struct | None, str | None]:
        """A dict (key -> element) or a list written in the script, followed through names, `dict(...)`, `**`, `+`
        and subscripts: (data, None); (None, why) when the script computes it; (None, None) for `None`."""
        if depth > _MAX_DEPTH:
            return None, f"nested too deeply to follow ({self.where(node)})"
        if isinstance(node, ast.Constant) and node.value is None:
            return None, None
        if isinstance(node, ast.Dict):
            out: dict[str, Ref] = {}
            for key, item in zip(node.keys, node.values, strict=True):
                if key is None:
                    sub, why = self.struct(item, scope, depth + 1)
                    if not isinstance(sub, dict):
                        return None, why or f"`**{short(item)}` is not a dict the script writes ({self.where(item)})"
                    out.update(sub)
                    continue
                name = self.value(key, scope, depth + 1)
                if not name.known:
                    return None, name.unknown
                out[show(name.value)] = Ref(item, scope)
            return out, None
        if isinstance(node, ast.List | ast.Tuple):
            items: list[Ref] = []
            for written in node.elts:
                if isinstance(written, ast.Starred):
                    sub, why = self.struct(written.value, scope, depth + 1)
                    if not isinstance(sub, list):
                        return None, why or f"`*{short(written.value)}` is not a list ({self.where(written)})"
                    items += sub
                else:
                    items.append(Ref(written, scope))
            return items, None
        if isinstance(node, ast.ListComp):
            return self._comprehension(node, scope, depth)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" \
                and self._find("dict", scope) is None:
            result: dict[str, Ref] = {}
            for arg in node.args[:1]:
                sub, why = self.struct(arg, scope, depth + 1)
                if not isinstance(sub, dict):
                    return None, why or f"`{short(arg)}` is not a dict ({self.where(arg)})"
                result.update(sub)
            for kw in node.keywords:
                if kw.arg is None:
                    sub, why = self.struct(kw.value, scope, depth + 1)
                    if not isinstance(sub, dict):
                        return None, why or f"`**{short(kw.value)}` is not a dict ({self.where(kw.value)})"
                    result.update(sub)
                else:
                    result[kw.arg] = Ref(kw.value, scope)
            return result, None
        if isinstance(node, ast.Name):
            ref, missing = self._single(node.id, scope, node)
            if ref is None:
                return None, missing.unknown if missing is not None else None
            return self.struct(ref.node, ref.scope, depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, why_l = self.struct(node.left, scope, depth + 1)
            right, why_r = self.struct(node.right, scope, depth + 1)
            if isinstance(left, list) and isinstance(right, list):
                return left + right, None
            return None, why_l or why_r or f"computed by the script when it runs (`{short(node)}`, {self.where(node)})"
        if isinstance(node, ast.Subscript):
            data, why = self.struct(node.value, scope, depth + 1)
            index = self.value(node.slice, scope, depth + 1)
            if data is not None and index.known:
                element = _element(data, index.value)
                if element is not None:
                    return self.struct(element.node, element.scope, depth + 1)
            return None, why or index.unknown or f"{short(node.value)} has no entry {index.text} ({self.where(node)})"
        found = self.value(node, scope, depth + 1)
        if found.known:
            return None, f"not a dict or list ({short(node)}, {self.where(node)})"
        return None, found.unknown

    def _comprehension(self, node: ast.ListComp, scope: Scope, depth: int) -> tuple[Struct | None, str | None]:
        """`[{"AlarmName": a} for a in ALARMS]`: one `for` over a list the script writes, without conditions."""
        computed = f"computed by the script when it runs (`{short(node)}`, {self.where(node)})"
        if len(node.generators) != 1 or node.generators[0].ifs or node.generators[0].is_async \
                or not isinstance(node.generators[0].target, ast.Name):
            return None, computed
        loop = node.generators[0]
        assert isinstance(loop.target, ast.Name)
        items, why = self.struct(loop.iter, scope, depth + 1)
        if not isinstance(items, list) or len(items) > _MAX_ITEMS:
            return None, why or computed
        out: list[Ref] = []
        for item in items:
            each = Scope("a comprehension", scope)
            each.bind(loop.target.id, Binding(item.node, loop.target.lineno, scope=item.scope))
            out.append(Ref(node.elt, each))
        return out, None

    # -- calls and their arguments ----------------------------------------------------------------------------------

    def call(self, node: ast.Call, scope: Scope) -> Call:
        kwargs: dict[str, Ref] = {}
        unknown: str | None = None
        for kw in node.keywords:
            if kw.arg is not None:
                kwargs[kw.arg] = Ref(kw.value, scope)
                continue
            data, why = self.struct(kw.value, scope)
            if isinstance(data, dict):
                kwargs.update({k: v for k, v in data.items() if k not in kwargs})
            else:
                unknown = unknown or why or f"given by `**{short(kw.value)}` ({self.where(kw.value)})"
        args: list[Ref] = []
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                data, why = self.struct(arg.value, scope)
                if isinstance(data, list):
                    args += data
                else:
                    unknown = unknown or why or f"given by `*{short(arg.value)}` ({self.where(arg)})"
                    break
            else:
                args.append(Ref(arg, scope))
        return Call(node, scope, kwargs, args, unknown)

    def param(self, call: Call, name: str, positional: tuple[str, ...] = ()) -> Ref | None:
        """The argument `name` of a call, by keyword or by its place in `positional` (the callee's parameters)."""
        if name in call.kwargs:
            return call.kwargs[name]
        if name in positional and positional.index(name) < len(call.args):
            return call.args[positional.index(name)]
        return None

    def arg(self, call: Call, name: str, positional: tuple[str, ...] = ()) -> Value | None:
        """The value of argument `name`; None when not written (or written as None)."""
        ref = self.param(call, name, positional)
        if ref is None:
            if call.unknown:
                return unknown(self.loc(call.node), f"the call's arguments are {call.unknown}",
                                f"${{expr:{name}}}")
            return None
        if is_none(ref):
            return None
        return self.value(ref.node, ref.scope)

    def at(self, ref: Ref | None, *keys: str) -> tuple[Ref | None, str | None]:
        """The element under `ref` at `keys`: (element, None); (None, why) when a level is computed at run time;
        (None, None) when it is not written."""
        node = ref
        for key in keys:
            if node is None:
                return None, None
            data, why = self.struct(node.node, node.scope)
            if data is None:
                return None, why
            node = data.get(key) if isinstance(data, dict) else None
        return node, None

    def get(self, ref: Ref | None, *keys: str) -> Value | None:
        found, why = self.at(ref, *keys)
        if found is None:
            if why and ref is not None:
                return unknown(self.loc(ref.node), why, f"${{expr:{'.'.join(keys)}}}")
            return None
        if is_none(found):
            return None
        return self.value(found.node, found.scope)

    def items(self, ref: Ref | None) -> tuple[list[Ref], str | None]:
        """The elements of the list at `ref` that are dicts, and why (some of) the list cannot be read."""
        if ref is None or is_none(ref):
            return [], None
        data, why = self.struct(ref.node, ref.scope)
        if not isinstance(data, list):
            return [], why or f"not a list ({self.where(ref.node)})"
        found = []
        for item in data:
            inner, item_why = self.struct(item.node, item.scope)
            if not isinstance(inner, dict):
                why = why or item_why or f"not a dict ({self.where(item.node)})"
                continue
            found.append(item)
        return found, why

    def origin(self, node: ast.expr, scope: Scope, depth: int = 0) -> Call | None:
        """The call whose result `node` is, followed through names assigned once."""
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        if isinstance(node, ast.Name):
            ref, _ = self._single(node.id, scope, node)
            if ref is not None:
                return self.origin(ref.node, ref.scope, depth + 1)
        return None

def _params(args: ast.arguments) -> dict[str, ast.expr | None]:
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    out: dict[str, ast.expr | None] = {a.arg: d for a, d in zip(positional, defaults, strict=True)}
    out.update({a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)})
    for extra in (args.vararg, args.kwarg):
        if extra is not None:
            out[extra.arg] = None
    return out


def _repeat(left: Any, right: Any) -> str | None:
    """`"ab" * 32` (either order), when the result stays a reasonable size."""
    text, count = (left, right) if isinstance(left, str) else (right, left)
    if isinstance(text, str) and isinstance(count, int) and not isinstance(count, bool) \
            and len(text) * max(count, 0) <= 4096:
        return text * count
    return None


def _element(data: Struct, key: Any) -> Ref | None:
    if isinstance(data, dict):
        return data.get(show(key)) if isinstance(key, str) else None
    if isinstance(key, int) and not isinstance(key, bool) and -len(data) <= key < len(data):
        return data[key]
    return None
