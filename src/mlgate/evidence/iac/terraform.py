"""A Terraform directory (HCL, read with python-hcl2) as evidence.

Every `*.tf` file of the directory is read (not sub-directories: a module is read only where a `module` block
points). A local module (`source = "./..."` or `"../..."`, inside the repository) is read with its inputs: its
variables are the block's arguments, evaluated in the caller, and its resources join the caller's as
`module.<name>.<address>`; a module from a registry, git or a URL is a gap, never guessed. Values are evaluated as
far as the files alone allow: literals, `var.x` from `terraform.tfvars` / `*.auto.tfvars` (which Terraform loads by
itself for the root module) and then the `-var-file`s of `infrastructure.tfvars` (a later file wins), or the
variable's default, `local.x`, attributes other resources write (`aws_sagemaker_endpoint_configuration.main.name`)
and templates whose parts are all known. Everything else is unknown with its reason: a variable without a default
(given at plan time), an attribute known only after apply (`.arn`), a function call, a conditional, an output of
a module that is not read.

python-hcl2 gives no positions, so lines come from `hclscan`, which scans each file for its block headers and
attributes; a value is located at its attribute's line (a block at its header's line).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import EvidenceError
from mlgate.evidence.iac.hclscan import Block, scan
from mlgate.evidence.iac.model import (
    AsyncInference,
    Capture,
    CloudWatchAlarm,
    CompositeAlarm,
    Endpoint,
    EndpointConfig,
    Infrastructure,
    Interpolation,
    MonitoringSchedule,
    SageMakerModel,
    ScalingPolicy,
    ScalingTarget,
    Serverless,
    Size,
    TrafficPolicy,
    UnreadCode,
    Value,
    Variant,
    names,
    show,
)
from mlgate.evidence.iam import PolicyDocument, parse_policy
from mlgate.evidence.workspace import Workspace
from mlgate.parsers import load_json
from mlgate.result import Location
from mlgate.yamlload import Document, PathT, Pos

_MAX_DEPTH = 20
_MAX_MODULES = 8  # local modules calling local modules: deeper than this is a gap
_MAX_MODULE_READS = 64  # module blocks read from one root, in all (fan-out must not multiply the work)
# Arguments of a module block that are Terraform's, not the module's variables.
_MODULE_META = {"source", "version", "count", "for_each", "providers", "depends_on"}
_REFERENCE = re.compile(r"[A-Za-z_][\w-]*(?:\[[^\]\[]*\]|\.[A-Za-z_][\w-]*|\.\d+)*")
_INDEX = re.compile(r"\[[^\]\[]*\]")
_BLOCK = "__is_block__"
_JOB_DEFINITIONS = {
    "aws_sagemaker_data_quality_job_definition": ("DataQuality", "data_quality_job_input",
                                                  "data_quality_baseline_config"),
    "aws_sagemaker_model_quality_job_definition": ("ModelQuality", "model_quality_job_input", None),
    "aws_sagemaker_model_bias_job_definition": ("ModelBias", "model_bias_job_input", None),
    "aws_sagemaker_model_explainability_job_definition": ("ModelExplainability", "model_explainability_job_input",
                                                          None),
}


def _load_hcl(text: str, rel: str) -> dict[str, Any]:
    import hcl2  # imported here: only a Terraform directory needs it (start-up stays fast)
    from hcl2.utils import SerializationOptions

    try:
        data = hcl2.loads(text, serialization_options=SerializationOptions(with_comments=False,
                                                                             preserve_heredocs=False))
    except Exception as exc:  # lark raises many error types; each means "not valid HCL"
        line = getattr(exc, "line", None)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EvidenceError(f"is not valid HCL: {first}", path=rel,
                            line=line if isinstance(line, int) and line > 0 else None) from None
    return data if isinstance(data, dict) else {}


def _refuse_redefined(root: Block, rel: str) -> None:
    found = root.first_redefined()
    if found is not None:
        block, name, line = found
        where = f" in {block.type} {' '.join(block.labels)}".rstrip() if block.type else ""
        raise EvidenceError(f"'{name}' is set twice{where} (first at line {block.attrs[name]}): Terraform refuses "
                            "this file, and which value counts would be a guess", path=rel, line=line)


def _label(text: str) -> str:
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


@dataclass
class _Node:
    """A block (or a whole resource) with its values and the lines of its attributes and child blocks."""

    body: dict[str, Any]
    pos: Block | None
    rel: str
    line: int

    def loc(self, attr: str | None = None) -> Location:
        line = self.pos.attrs.get(attr, self.line) if self.pos is not None and attr else self.line
        return Location(self.rel, line)

    def blocks(self, name: str) -> list[_Node]:
        raw = self.body.get(name)
        items = [b for b in raw if isinstance(b, dict)] if isinstance(raw, list) else []
        positions = self.pos.blocks.get(name, []) if self.pos is not None else []
        out = []
        for i, item in enumerate(items):
            if not item.get(_BLOCK):
                continue
            pos = positions[i] if i < len(positions) else None
            out.append(_Node(item, pos, self.rel, pos.line if pos else self.line))
        return out

    def block(self, name: str) -> _Node | None:
        found = self.blocks(name)
        return found[0] if found else None

    def dynamic(self, name: str) -> Location | None:
        """Where a `dynamic "name"` block generates blocks of this type (their content is not read)."""
        for i, item in enumerate(self.body.get("dynamic") or []):
            if isinstance(item, dict) and any(_label(k) == name for k in item):
                positions = self.pos.blocks.get("dynamic", []) if self.pos is not None else []
                return Location(self.rel, positions[i].line if i < len(positions) else self.line)
        return None


@dataclass
class _Resource:
    """A Terraform `resource` block, addressed as Terraform addresses it."""
    type: str
    name: str
    node: _Node
    module: str = ""  # `module.x.` for a resource of a called module

    @property
    def address(self) -> str:
        return f"{self.module}{self.type}.{self.name}"


@dataclass(frozen=True)
class _Call:
    """How a `module` block calls a local module: the arguments it passes, evaluated in the caller."""

    name: str
    prefix: str  # `module.x.`, or `module.a.module.x.` for a module called by a called module
    inputs: dict[str, Value]
    chain: tuple[Path, ...]  # the directories being read, from the root: a module calling one of them is a cycle
    budget: list[int]  # module blocks the whole read may still follow (shared from the root down)


class Module:
    """The .tf files of one directory, and the evaluation of their expressions."""

    def __init__(self, workspace: Workspace, directory: Path, var_files: list[Path] | None = None,
                 call: _Call | None = None) -> None:
        self.ws = workspace
        self.dir = directory
        self.rel = workspace.rel(directory)
        self.call = call
        self.prefix = call.prefix if call is not None else ""
        self._budget = call.budget if call is not None else [_MAX_MODULE_READS]
        self.outputs: dict[str, _Node] = {}
        self._children: dict[str, Module | str] = {}
        self.files: list[str] = []
        self.variables: dict[str, _Node] = {}
        self.tfvars: dict[str, tuple[Any, Location]] = {}
        self.locals: dict[str, tuple[Any, Location]] = {}
        self.resources: dict[str, _Resource] = {}
        self.data: dict[str, _Resource] = {}
        self.modules: dict[str, _Node] = {}
        files = sorted(p for p in directory.glob("*.tf") if p.is_file() and not p.name.startswith("."))
        if not files:
            raise EvidenceError("has no Terraform files (*.tf)", path=self.rel)
        for path in files:
            self._read(path)
        if call is not None:
            return  # Terraform reads .tfvars files for the root module only: a called module gets its arguments
        for path in [directory / "terraform.tfvars", *sorted(directory.glob("*.auto.tfvars")), *(var_files or [])]:
            if path.is_file():
                self._read_tfvars(path)

    def _read(self, path: Path) -> None:
        rel = self.ws.rel(path)
        self.files.append(rel)
        text = self.ws.read_text(path)
        data = _load_hcl(text, rel)
        root = scan(text)
        _refuse_redefined(root, rel)
        for kind, table in (("resource", self.resources), ("data", self.data)):
            for entry in data.get(kind) or []:
                for rtype, by_name in (entry.items() if isinstance(entry, dict) else ()):
                    for rname, body in (by_name.items() if isinstance(by_name, dict) else ()):
                        rtype_, rname_ = _label(rtype), _label(rname)
                        if not isinstance(body, dict):
                            continue
                        pos = root.find(kind, rtype_, rname_)
                        key = f"{rtype_}.{rname_}" if kind == "resource" else f"data.{rtype_}.{rname_}"
                        if key in table:  # Terraform refuses a second block of the same address
                            first = table[key].node
                            here = [b for b in root.blocks.get(kind, []) if b.labels[:2] == (rtype_, rname_)]
                            raise EvidenceError(f"{key} is defined twice ({first.rel}:{first.line} and here); "
                                                "Terraform refuses this configuration",
                                                path=rel, line=here[-1].line if here else None)
                        table[key] = _Resource(rtype_, rname_, _Node(body, pos, rel, pos.line if pos else 1),
                                               self.prefix)
        for entry in data.get("variable") or []:
            for vname, body in (entry.items() if isinstance(entry, dict) else ()):
                pos = root.find("variable", _label(vname))
                if isinstance(body, dict):
                    self.variables[_label(vname)] = _Node(body, pos, rel, pos.line if pos else 1)
        local_blocks = root.blocks.get("locals", [])
        for i, entry in enumerate(data.get("locals") or []):
            pos = local_blocks[i] if i < len(local_blocks) else None
            for lname, raw in (entry.items() if isinstance(entry, dict) else ()):
                if lname != _BLOCK:
                    line = pos.attrs.get(lname, pos.line) if pos else 1
                    self.locals[lname] = (raw, Location(rel, line))
        for kind, table_ in (("module", self.modules), ("output", self.outputs)):
            for entry in data.get(kind) or []:
                for mname, body in (entry.items() if isinstance(entry, dict) else ()):
                    pos = root.find(kind, _label(mname))
                    if isinstance(body, dict):
                        table_[_label(mname)] = _Node(body, pos, rel, pos.line if pos else 1)

    def _read_tfvars(self, path: Path) -> None:
        rel = self.ws.rel(path)
        text = self.ws.read_text(path)
        data = _load_hcl(text, rel)
        root = scan(text)
        _refuse_redefined(root, rel)
        for name, raw in data.items():
            if not name.startswith("__"):
                self.tfvars[name] = (raw, Location(rel, root.attrs.get(name, 1)))

    # -- evaluation -------------------------------------------------------------------------------------------------

    def attr(self, node: _Node | None, name: str) -> Value | None:
        if node is None or name not in node.body:
            return None
        value = self.eval(node.body[name], node.loc(name), 0)
        return None if value.known and value.value is None else value  # null: the argument is not set

    def eval(self, raw: Any, at: Location, depth: int) -> Value:
        if depth > _MAX_DEPTH:
            return _unknown(at, "the references nest too deep to follow", "${...}")
        if raw is None or isinstance(raw, bool | int | float):
            return Value(raw, at, template=show(raw) if raw is not None else "null")
        if isinstance(raw, str):
            if len(raw) >= 2 and raw[0] == raw[-1] == '"':
                return self._template(raw[1:-1], at, depth)
            if raw.startswith("${") and raw.endswith("}"):
                return self.expr(raw[2:-1], at, depth)
            return Value(raw, at, template=raw)
        if isinstance(raw, list):
            values = [self.eval(v, at, depth + 1) for v in raw]
            if all(v.known for v in values):
                return Value([v.value for v in values], at)
            missing = next(v for v in values if not v.known)
            return _unknown(at, missing.unknown or "", "[" + ", ".join(v.text for v in values) + "]")
        if isinstance(raw, dict):
            out: dict[str, Any] = {}
            for key, item in raw.items():
                if key == _BLOCK:
                    continue
                value = self.eval(item, at, depth + 1)
                out[_label(key)] = value.value if value.known else value.text
            return Value(out, at)
        return _unknown(at, f"unexpected value {raw!r}", "${?}")

    def _template(self, text: str, at: Location, depth: int) -> Value:
        """A quoted string: literal text with `${...}` interpolations (`$${` is a literal `${`)."""
        out = Interpolation()
        i = 0
        literal: list[str] = []
        while i < len(text):
            if text.startswith("$${", i) or text.startswith("%%{", i):
                literal.append(text[i + 1:i + 3])
                i += 3
                continue
            if text.startswith("${", i) or text.startswith("%{", i):
                end = _closing(text, i + 2)
                out.literal(_unescape("".join(literal)))
                literal = []
                inner = text[i + 2:end]
                if text[i] == "%":
                    v = _unknown(at, f"template directive %{{{inner}}} is evaluated by Terraform",
                                 f"%{{{inner}}}")
                else:
                    v = self.expr(inner, at, depth + 1)
                out.value(v, inner.strip())
                i = end + 1
                continue
            literal.append(text[i])
            i += 1
        out.literal(_unescape("".join(literal)))
        joined = out.text
        if out.unknown is None:
            return Value(joined, at, template=joined)
        whole = text.startswith("${") and _closing(text, 2) == len(text) - 1
        return _unknown(at, out.unknown, joined if whole else f"${{Sub:{joined}}}", template=joined,
                        ref=out.ref if whole else None)

    def expr(self, expr: str, at: Location, depth: int) -> Value:
        expr = expr.strip()
        if len(expr) >= 2 and expr[0] == expr[-1] == '"' and _closing_quote(expr) == len(expr) - 1:
            return self._template(expr[1:-1], at, depth)
        if re.fullmatch(r"-?\d+(\.\d+)?", expr):
            number = float(expr)
            return Value(int(number) if number.is_integer() and "." not in expr else number, at, template=expr)
        if expr in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[expr]
            return Value(value, at, template=expr)
        if _REFERENCE.fullmatch(expr):
            return self.reference(expr, at, depth)
        if expr.startswith("(") and _matching_paren(expr) == len(expr) - 1:
            inner = expr[1:-1].strip()
            if inner[:1] in ("{", "["):
                # python-hcl2 8.x writes a parenthesised object or tuple as the Python text of its value
                try:
                    literal = ast.literal_eval(inner)
                except (ValueError, SyntaxError, MemoryError, RecursionError):
                    literal = None
                if isinstance(literal, dict | list):
                    return self.eval(literal, at, depth + 1)
            return self.expr(inner, at, depth + 1)
        return _unknown(at, f"`{_short(expr)}` is computed by Terraform", "${" + expr + "}")

    def reference(self, expr: str, at: Location, depth: int) -> Value:
        steps = [s for s in _INDEX.sub("", expr).split(".") if s]
        placeholder = "${" + expr + "}"
        head = steps[0]
        if head == "var" and len(steps) >= 2:
            return self._walk(self._variable(steps[1], at, depth), steps[2:], at, placeholder)
        if head == "local" and len(steps) >= 2:
            if steps[1] not in self.locals:
                return _unknown(at, f"local.{steps[1]} is not defined in {self.rel}", placeholder)
            raw, where = self.locals[steps[1]]
            value = self._walk(self.eval(raw, where, depth + 1), steps[2:], at, placeholder)
            if value.known:
                return Value(value.value, at, template=show(value.value), ref=value.ref,
                             source=f"local.{steps[1]}, {where.path}:{where.line}")
            return _unknown(at, value.unknown or "", placeholder, template=value.template, ref=value.ref)
        if head == "module" and len(steps) >= 2:
            return self._output(steps, at, placeholder)
        if head in ("each", "count", "path", "self", "terraform"):
            return _unknown(at, f"{expr} is known only when Terraform evaluates the configuration", placeholder)
        table, key, rest = ((self.data, ".".join(steps[:3]), steps[3:]) if head == "data"
                            else (self.resources, ".".join(steps[:2]), steps[2:]))
        resource = table.get(key)
        if resource is None:
            return _unknown(at, f"{key} is not defined in {self.rel}", placeholder)
        ref = self.prefix + key
        if not rest:
            return _unknown(at, f"{key} is a whole resource", placeholder, ref=ref)
        if rest[0] in resource.node.body and not isinstance(resource.node.body[rest[0]], list):
            value = self.eval(resource.node.body[rest[0]], resource.node.loc(rest[0]), depth + 1)
            value = self._walk(value, rest[1:], at, placeholder)
            if value.known:
                return Value(value.value, at, template=show(value.value), ref=ref,
                             source=f"{rest[0]} of {key}, {resource.node.rel}:{resource.node.loc(rest[0]).line}")
            return _unknown(at, value.unknown or "", placeholder, template=value.template, ref=ref)
        return _unknown(at, f"{key}.{'.'.join(rest)} is known only after apply", placeholder, ref=ref)

    def _output(self, steps: list[str], at: Location, placeholder: str) -> Value:
        """`module.x.name`: the output `name` of a local module, evaluated in that module."""
        child = self.child(steps[1])
        output = child.outputs.get(steps[2]) if isinstance(child, Module) and len(steps) >= 3 else None
        if not isinstance(child, Module) or output is None:
            return _unknown(at, f"{'.'.join(steps[:3])} is an output of module {steps[1]}"
                                f"{', which is not read: ' + child if isinstance(child, str) else ''}", placeholder)
        value = child.attr(output, "value")
        if value is None:
            return _unknown(at, f"output {steps[2]} of module {steps[1]} has no value", placeholder)
        value = self._walk(value, steps[3:], at, placeholder)
        where = f"output {steps[2]} of module {steps[1]}, {output.rel}:{output.loc('value').line}"
        if value.known:
            return Value(value.value, at, template=show(value.value), ref=value.ref, source=where)
        return _unknown(at, f"{value.unknown} ({where})", placeholder, ref=value.ref)

    # -- local modules ------------------------------------------------------------------------------------------------

    def child(self, name: str) -> Module | str:
        """The local module a `module` block calls, read with the block's arguments; or why it is not read."""
        if name not in self._children:
            self._children[name] = self._call(name)
        return self._children[name]

    def children(self) -> Iterator[Module]:
        """Every local module this module calls, and the ones they call."""
        for name in self.modules:
            found = self.child(name)
            if isinstance(found, Module):
                yield found
                yield from found.children()

    def _call(self, name: str) -> Module | str:
        node = self.modules.get(name)
        if node is None:
            return f"module {name} is not defined in {self.rel}"
        source = self.attr(node, "source")
        text = show(source.value) if source is not None and source.known else None
        if text is None:
            return "its source is not written as a literal"
        # Terraform reads a source as a local path only when it starts with ./ or ../ (module sources: Local paths)
        if not text.startswith(("./", "../")):
            return "mlgate follows local modules (./ or ../) only, not a registry, git or URL source"
        chain = self.call.chain if self.call is not None else (self.dir,)
        if len(chain) > _MAX_MODULES:
            return f"local modules nest more than {_MAX_MODULES} deep"
        try:
            directory = self.ws.resolve(self.dir, text)
        except EvidenceError:
            return f"its source {text} leads outside the repository"
        if not directory.is_dir():
            return f"its source {text} is not a directory"
        if directory in chain:
            return f"its source {text} is a module already being read (the modules call each other)"
        if self._budget[0] <= 0:
            return f"the configuration calls more than {_MAX_MODULE_READS} local modules; the rest are not read"
        self._budget[0] -= 1
        inputs: dict[str, Value] = {}
        for arg in node.body:
            if arg in _MODULE_META or arg == _BLOCK:
                continue
            value = self.attr(node, arg)
            if value is not None:  # null: the module's default applies
                inputs[arg] = value
        return Module(self.ws, directory, call=_Call(name, f"{self.prefix}module.{name}.", inputs,
                                                     (*chain, directory), self._budget))

    def _variable(self, name: str, at: Location, depth: int) -> Value:
        placeholder = "${var." + name + "}"
        if self.call is not None and name in self.call.inputs:
            given = self.call.inputs[name]
            passed = f"var.{name} of module {self.call.name}, set in {given.where()}"
            if given.known:
                return Value(given.value, at, template=show(given.value),
                             source=passed + (f" ({given.source})" if given.source else ""),
                             set_at=given.set_at or given.at)
            return _unknown(at, f"{given.unknown} ({passed})", placeholder)
        if name in self.tfvars:
            raw, where = self.tfvars[name]
            value = self.eval(raw, where, depth + 1)
            if value.known:
                return Value(value.value, at, template=show(value.value),
                             source=f"var.{name} set in {where.path}:{where.line}", set_at=where)
            return _unknown(at, value.unknown or "", placeholder)
        node = self.variables.get(name)
        if node is None:
            return _unknown(at, f"variable {name} is not declared in {self.rel}", placeholder)
        if "default" not in node.body:
            return _unknown(at, f"variable {name} has no default: its value is given at plan time (-var, "
                                f"TF_VAR_{name} or a .tfvars file)", placeholder)
        value = self.eval(node.body["default"], node.loc("default"), depth + 1)
        if value.known:
            where = node.loc("default")
            return Value(value.value, at, template=show(value.value),
                         source=f"the default of variable {name}, {where.path}:{where.line}; a plan may set "
                                "another value")
        return _unknown(at, value.unknown or "", placeholder)

    @staticmethod
    def _walk(value: Value, attrs: list[str], at: Location, placeholder: str) -> Value:
        """`var.obj.attr`: step into a known object value."""
        if not attrs or not value.known:
            return value if not attrs else _unknown(at, value.unknown or "", placeholder)
        current = value.value
        for attr in attrs:
            if isinstance(current, dict) and attr in current:
                current = current[attr]
            else:
                return _unknown(at, f"{placeholder[2:-1]} is not set (null)", placeholder)
        if isinstance(current, str) and current.startswith("${"):
            return _unknown(at, f"{placeholder[2:-1]} is computed", placeholder)
        return Value(current, at, template=show(current), source=value.source)

    # -- resources --------------------------------------------------------------------------------------------------

    def of_type(self, *types: str) -> Iterator[_Resource]:
        for resource in self.resources.values():
            if resource.type in types:
                yield resource

    def condition(self, resource: _Resource | _Node) -> str | None:
        """`count` / `for_each` that may make the resource (or a module block's resources) absent, or many."""
        node = resource.node if isinstance(resource, _Resource) else resource
        for key in ("count", "for_each"):
            if key in node.body:
                value = self.attr(node, key)
                if value is not None and value.known and key == "count" and value.value == 1:
                    return None
                return f"{key} = {value.text if value is not None else '?'} ({node.rel}:{node.loc(key).line})"
        return None

    def local(self, address: str | None) -> _Resource | None:
        """The resource of this module an address (as references carry it, `module.x.` included) names."""
        if address is None or not address.startswith(self.prefix):
            return None
        return self.resources.get(address[len(self.prefix):])


def _closing(text: str, start: int) -> int:
    """The index of the `}` closing an interpolation whose body starts at `start` (quotes and braces nest)."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _skip_quoted(text, i)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return len(text) - 1


def _skip_quoted(text: str, i: int) -> int:
    i += 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i + 1
        if text.startswith("${", i):
            i = _closing(text, i + 2) + 1
            continue
        i += 1
    return i


def _matching_paren(expr: str) -> int:
    depth = 0
    i = 0
    while i < len(expr):
        c = expr[i]
        if c == '"':
            i = _skip_quoted(expr, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _closing_quote(expr: str) -> int:
    return _skip_quoted(expr, 0) - 1


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    try:
        from hcl2.utils import process_escape_sequences

        result: str = process_escape_sequences(text)
        return result
    except (ImportError, ValueError):  # pragma: no cover - older python-hcl2
        return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def _short(expr: str) -> str:
    flat = " ".join(expr.split())
    return flat if len(flat) <= 80 else flat[:77] + "..."


def _unknown(at: Location, why: str, placeholder: str, *, template: str | None = None,
             ref: str | None = None) -> Value:
    return Value(None, at, unknown=why or "computed by Terraform", template=template or placeholder,
                 placeholder=placeholder, ref=ref)


# -- reading the SageMaker deployment ---------------------------------------------------------------------------------

def read_module(m: Module) -> Infrastructure:
    infra = Infrastructure("terraform", m.rel, files=list(m.files))
    for name, node in m.modules.items():
        child = m.child(name)
        if isinstance(child, str):
            source = m.attr(node, "source")
            shown = source.text if source else '?'
            infra.gaps.append(UnreadCode(f"module {name} (source {shown}) is not read: {child}; "
                                         "the resources it creates are unknown", node.loc()))
            continue
        called = read_module(child)
        condition = m.condition(node)
        if condition is not None:
            records: list[Endpoint | EndpointConfig | CloudWatchAlarm | MonitoringSchedule] = [
                *called.endpoints, *called.configs, *called.alarms, *called.schedules]
            for record in records:
                record.condition = record.condition or f"module {name} has {condition}"
        infra.merge(called)
    for r in m.resources.values():
        if r.type == "aws_sagemaker_endpoint":
            infra.endpoints.append(_endpoint(m, r))
        elif r.type == "aws_sagemaker_endpoint_configuration":
            infra.configs.append(_config(m, r))
        elif r.type == "aws_sagemaker_model":
            infra.models.append(_model(m, r))
        elif r.type == "aws_cloudwatch_metric_alarm":
            infra.alarms.append(_alarm(m, r))
        elif r.type == "aws_sagemaker_monitoring_schedule":
            infra.schedules.append(_schedule(m, r))
        elif r.type == "aws_appautoscaling_target":
            infra.targets.append(ScalingTarget(r.address, m.attr(r.node, "resource_id"),
                                               m.attr(r.node, "scalable_dimension"), m.attr(r.node, "min_capacity"),
                                               m.attr(r.node, "max_capacity"), r.node.loc()))
        elif r.type == "aws_appautoscaling_policy":
            infra.policies.append(_scaling_policy(m, r))
        elif r.type == "aws_cloudwatch_composite_alarm":
            actions, _ = _values(m, r.node, "alarm_actions")
            infra.composites.append(CompositeAlarm(r.address, m.attr(r.node, "alarm_name"),
                                                   m.attr(r.node, "alarm_rule"), actions, r.node.loc()))
    return infra


def _values(m: Module, node: _Node, attr: str) -> tuple[list[Value], str | None]:
    """The elements of a list argument, or why the list is known only at deploy time."""
    raw = node.body.get(attr)
    if isinstance(raw, list):  # each element on its own: an ARN known only after apply is still an element
        return [m.eval(item, node.loc(attr), 0) for item in raw], None
    value = m.attr(node, attr)
    if value is None:
        return [], None
    if not value.known:
        return [], f"its {attr} are {value.unknown}"
    items = value.value if isinstance(value.value, list) else [value.value]
    return [Value(item, value.at) for item in items], None


def _scaling_policy(m: Module, r: _Resource) -> ScalingPolicy:
    n = r.node
    tt = n.block("target_tracking_scaling_policy_configuration")
    predefined = tt.block("predefined_metric_specification") if tt else None
    custom = tt.block("customized_metric_specification") if tt else None
    metric = m.attr(predefined, "predefined_metric_type") or m.attr(custom, "metric_name")
    return ScalingPolicy(r.address, None, m.attr(n, "resource_id"), m.attr(n, "policy_type"), metric,
                         m.attr(tt, "target_value"), n.loc())


def _name(m: Module, node: _Node) -> Value | None:
    name = m.attr(node, "name")
    if name is None and "name_prefix" in node.body:
        prefix = m.attr(node, "name_prefix")
        return _unknown(node.loc("name_prefix"), "Terraform generates the name from name_prefix "
                        f"{prefix.text if prefix else '?'}", "${name_prefix}")
    return name


def _variant(m: Module, node: _Node) -> Variant:
    serverless = None
    sc = node.block("serverless_config")
    if sc is not None:
        serverless = Serverless(m.attr(sc, "memory_size_in_mb"), m.attr(sc, "max_concurrency"),
                                m.attr(sc, "provisioned_concurrency"), sc.loc())
    where = node.dynamic("serverless_config")
    return Variant(m.attr(node, "variant_name"), m.attr(node, "model_name"), m.attr(node, "instance_type"),
                   m.attr(node, "initial_instance_count"), m.attr(node, "initial_variant_weight"), serverless,
                   node.loc(), serverless_unknown=f"its serverless_config comes from a dynamic block ({where.path}:"
                                                  f"{where.line})" if where else None)


def _config(m: Module, r: _Resource) -> EndpointConfig:
    n = r.node
    config = EndpointConfig(r.address, _name(m, n), [_variant(m, v) for v in n.blocks("production_variants")],
                            [_variant(m, v) for v in n.blocks("shadow_production_variants")], None, None,
                            m.attr(n, "kms_key_arn"), n.loc(), condition=m.condition(r))
    for kind in ("production_variants", "shadow_production_variants"):
        where = n.dynamic(kind)
        if where is not None and config.unknown is None:
            config.unknown = f"its {kind} come from a dynamic block ({where.path}:{where.line})"
    where = n.dynamic("data_capture_config")
    if where is not None:
        config.capture_unknown = f"its data_capture_config comes from a dynamic block ({where.path}:{where.line})"
    dc = n.block("data_capture_config")
    if dc is not None:
        modes = tuple(v for o in dc.blocks("capture_options") for v in [m.attr(o, "capture_mode")] if v is not None)
        config.capture = Capture(m.attr(dc, "enable_capture"), m.attr(dc, "initial_sampling_percentage"),
                                 m.attr(dc, "destination_s3_uri"), m.attr(dc, "kms_key_id"), modes, dc.loc())
    ac = n.block("async_inference_config")
    if ac is not None:
        client, output = ac.block("client_config"), ac.block("output_config")
        config.async_inference = AsyncInference(m.attr(client, "max_concurrent_invocations_per_instance"),
                                                m.attr(output, "s3_output_path"), ac.loc())
    return config


def _size(m: Module, node: _Node | None) -> Size | None:
    if node is None:
        return None
    return Size(m.attr(node, "type"), m.attr(node, "value"), node.loc())


def _endpoint(m: Module, r: _Resource) -> Endpoint:
    n = r.node
    endpoint = Endpoint(r.address, _name(m, n), m.attr(n, "endpoint_config_name"), None, [], n.loc(),
                        condition=m.condition(r))
    dc = n.block("deployment_config")
    where = n.dynamic("deployment_config")
    if where is not None:
        endpoint.deployment_unknown = f"its deployment_config comes from a dynamic block ({where.path}:{where.line})"
        endpoint.deployment_at = where
    if dc is None:
        return endpoint
    endpoint.deployment_at = dc.loc()
    bg, ru = dc.block("blue_green_update_policy"), dc.block("rolling_update_policy")
    if bg is not None:
        tr = bg.block("traffic_routing_configuration")
        endpoint.policy = TrafficPolicy(m.attr(tr, "type"),
                                        _size(m, tr.block("canary_size") if tr else None)
                                        or _size(m, tr.block("linear_step_size") if tr else None),
                                        m.attr(tr, "wait_interval_in_seconds"),
                                        m.attr(bg, "termination_wait_in_seconds"),
                                        m.attr(bg, "maximum_execution_timeout_in_seconds"), bg.loc())
    elif ru is not None:
        endpoint.policy = TrafficPolicy(Value("ROLLING", ru.loc()), _size(m, ru.block("maximum_batch_size")),
                                        m.attr(ru, "wait_interval_in_seconds"), None,
                                        m.attr(ru, "maximum_execution_timeout_in_seconds"), ru.loc())
    for kind in ("blue_green_update_policy", "rolling_update_policy", "auto_rollback_configuration"):
        where = dc.dynamic(kind)
        if where is not None:
            endpoint.deployment_unknown = endpoint.deployment_unknown or \
                f"its {kind} comes from a dynamic block ({where.path}:{where.line})"
    ar = dc.block("auto_rollback_configuration")
    if ar is not None:
        where = ar.dynamic("alarms")
        if where is not None:
            endpoint.deployment_unknown = endpoint.deployment_unknown or \
                f"its rollback alarms come from a dynamic block ({where.path}:{where.line})"
        for alarm in ar.blocks("alarms"):
            name = m.attr(alarm, "alarm_name")
            if name is not None:
                endpoint.rollback_alarms.append(name)
    return endpoint


def _model(m: Module, r: _Resource) -> SageMakerModel:
    n = r.node
    containers = n.blocks("primary_container") + n.blocks("container")
    multi = any((v := m.attr(c, "mode")) is not None and v.known and v.value == "MultiModel" for c in containers)
    vpc = n.block("vpc_config")
    first = containers[0] if containers else None
    return SageMakerModel(r.address, _name(m, n), m.attr(n, "execution_role_arn"),
                          m.attr(n, "enable_network_isolation"), vpc.loc() if vpc else None, multi, n.loc(),
                          image=m.attr(first, "image") if first else None,
                          model_data=m.attr(first, "model_data_url") if first else None,
                          model_package=m.attr(first, "model_package_name") if first else None)


def _alarm(m: Module, r: _Resource) -> CloudWatchAlarm:
    n = r.node
    dims = _dims(m, n)
    alarm = CloudWatchAlarm(r.address, m.attr(n, "alarm_name"), m.attr(n, "namespace"), m.attr(n, "metric_name"),
                            dims, m.attr(n, "statistic"), m.attr(n, "extended_statistic"), m.attr(n, "threshold"),
                            n.loc(), condition=m.condition(r))
    for query in n.blocks("metric_query"):
        alarm.metric_math = True
        metric = query.block("metric")
        if metric is None:
            continue
        namespace = m.attr(metric, "namespace")
        if alarm.metric is None or (namespace is not None and namespace.value == "AWS/SageMaker"):
            alarm.namespace, alarm.metric = namespace, m.attr(metric, "metric_name")
            alarm.dimensions, alarm.statistic = _dims(m, metric), m.attr(metric, "stat")
    alarm.actions, alarm.actions_unknown = _values(m, n, "alarm_actions")
    alarm.actions_enabled = m.attr(n, "actions_enabled")
    return alarm


def _dims(m: Module, node: _Node) -> dict[str, Value]:
    raw = node.body.get("dimensions")
    if not isinstance(raw, dict):
        return {}
    return {_label(k): m.eval(v, node.loc("dimensions"), 0) for k, v in raw.items() if k != _BLOCK}


def _schedule(m: Module, r: _Resource) -> MonitoringSchedule:
    n = r.node
    cfg = n.block("monitoring_schedule_config")
    sc = cfg.block("schedule_config") if cfg else None
    schedule = MonitoringSchedule(r.address, _name(m, n), m.attr(cfg, "monitoring_type"), None,
                                  m.attr(sc, "schedule_expression"), m.attr(cfg, "monitoring_job_definition_name"),
                                  None, n.loc(), condition=m.condition(r))
    job = schedule.job_definition
    for jd in m.of_type(*_JOB_DEFINITIONS):
        if job is None or not names(job, jd.address, _name(m, jd.node)):
            continue
        kind, input_key, baseline_key = _JOB_DEFINITIONS[jd.type]
        if schedule.monitoring_type is None:
            schedule.monitoring_type = Value(kind, jd.node.loc(), source=f"job definition {jd.address}")
        job_input = jd.node.block(input_key)
        endpoint_input = job_input.block("endpoint_input") if job_input else None
        if schedule.endpoint is None:
            schedule.endpoint = m.attr(endpoint_input, "endpoint_name")
        if baseline_key:
            baseline = jd.node.block(baseline_key)
            stats = baseline.block("statistics_resource") if baseline else None
            schedule.baseline_statistics = schedule.baseline_statistics or m.attr(stats, "s3_uri")
    return schedule


# -- IAM ---------------------------------------------------------------------------------------------------------------

def role_addresses(m: Module) -> list[str]:
    return [r.address for r in m.of_type("aws_iam_role")]


def _mentions(value: Value | None, address: str) -> bool:
    return value is not None and value.ref == address


def role_policies(m: Module, address: str) -> list[PolicyDocument]:
    """The policies of the role `aws_iam_role.<name>`: inline_policy blocks, aws_iam_role_policy, attached
    aws_iam_policy documents, and managed policy ARNs (in `managed_arns`)."""
    role = m.local(address)
    if role is None:
        raise EvidenceError(f"there is no {address} in {m.rel}", path=m.rel)
    docs: list[PolicyDocument] = []
    managed: list[str] = []
    for block in role.node.blocks("inline_policy"):
        name = m.attr(block, "name")
        docs.append(_policy_doc(m, block, "policy", f"{address}/{name.text if name else 'inline'}"))
    for arn in _arn_list(m, role.node, "managed_policy_arns"):
        _attach(m, arn, docs, managed)
    for r in m.of_type("aws_iam_role_policy"):
        if _mentions(m.attr(r.node, "role"), address):
            docs.append(_policy_doc(m, r.node, "policy", r.address))
    for r in m.of_type("aws_iam_role_policy_attachment"):
        if _mentions(m.attr(r.node, "role"), address):
            attached = m.attr(r.node, "policy_arn")
            if attached is not None:
                _attach(m, attached, docs, managed)
    for r in m.of_type("aws_iam_policy_attachment"):
        roles = r.node.body.get("roles")
        if isinstance(roles, list) and any(_mentions(m.eval(x, r.node.loc("roles"), 0), address) for x in roles):
            attached = m.attr(r.node, "policy_arn")
            if attached is not None:
                _attach(m, attached, docs, managed)
    if managed:
        docs.append(PolicyDocument(f"{address}/managed_policy_arns", "terraform", (), role.node.loc(),
                                   managed_arns=tuple(dict.fromkeys(managed))))
    return docs


def _arn_list(m: Module, node: _Node, attr: str) -> list[Value]:
    raw = node.body.get(attr)
    if isinstance(raw, list):
        return [m.eval(x, node.loc(attr), 0) for x in raw]
    value = m.attr(node, attr)
    return [value] if value is not None else []


_MANAGED = re.compile(r"^arn:(?:aws|\$\{[^}]*\}):iam::aws:policy/(.+)$")


def _attach(m: Module, arn: Value, docs: list[PolicyDocument], managed: list[str]) -> None:
    policy = m.local(arn.ref)
    if arn.ref and policy is not None and policy.type == "aws_iam_policy":
        if not any(d.name == arn.ref for d in docs):
            docs.append(_policy_doc(m, policy.node, "policy", arn.ref))
        return
    text = show(arn.value) if arn.known else (arn.template or arn.text)
    match = _MANAGED.match(text)
    managed.append(f"arn:aws:iam::aws:policy/{match.group(1)}" if match else text)


def _policy_doc(m: Module, node: _Node, attr: str, name: str) -> PolicyDocument:
    """The policy document an attribute holds: a reference to an aws_iam_policy_document data source,
    jsonencode({...}), a JSON string or heredoc, or file("...")."""
    raw = node.body.get(attr)
    at = node.loc(attr)
    if isinstance(raw, str) and raw.startswith("${") and raw.endswith("}"):
        expr = raw[2:-1].strip()
        ref = re.fullmatch(r"data\.aws_iam_policy_document\.([\w-]+)(?:\[[^\]]*\])?\.json", expr)
        if ref:
            source = m.data.get(f"data.aws_iam_policy_document.{ref.group(1)}")
            if source is None:
                raise EvidenceError(f"{expr} is not defined in {m.rel}", path=at.path, line=at.line)
            return _from_document_blocks(m, source.node, name)
        if expr.startswith("jsonencode(") and expr.endswith(")"):
            return _from_jsonencode(m, expr[len("jsonencode("):-1], at, name)
        file_call = re.fullmatch(r'file\(\s*"(?:\$\{path\.module\}/)?([^"$]+)"\s*\)', expr)
        if file_call:
            path = m.ws.resolve(m.dir, file_call.group(1))
            text = m.ws.read_text(path)
            return _from_json(text, m.ws.rel(path), Location(m.ws.rel(path), 1), name)
    value = m.attr(node, attr)
    if value is not None and value.known and isinstance(value.value, str):
        return _from_json(value.value, at.path, at, name)
    raise EvidenceError(f"the policy of {name} is {value.text if value else 'missing'}"
                        f"{': ' + value.unknown if value is not None and value.unknown else ''}; mlgate cannot "
                        "tell what it grants", path=at.path, line=at.line)


def _from_json(text: str, rel: str, at: Location, name: str) -> PolicyDocument:
    try:
        data = load_json(text)
    except json.JSONDecodeError as exc:
        raise EvidenceError(f"the policy of {name} is not JSON: {exc.msg}", path=at.path, line=at.line) from None
    # A JSON string written inline has no lines of its own: every statement is located at the attribute.
    return parse_policy(data, name=name, kind="terraform", rel=rel, doc=Document(data, {(): Pos(at.line, 1)}),
                        location=at)


def _from_jsonencode(m: Module, inner: str, at: Location, name: str) -> PolicyDocument:
    parsed = _load_hcl(f"policy = {inner}\n", at.path)
    data = _policy_data(m, parsed.get("policy"), at)
    if not isinstance(data, dict):
        raise EvidenceError(f"jsonencode() of {name} is not an object: mlgate cannot tell what it grants",
                            path=at.path, line=at.line)
    return parse_policy(data, name=name, kind="terraform", rel=at.path, doc=Document(data, {(): Pos(at.line, 1)}),
                        location=at)


def _policy_data(m: Module, raw: Any, at: Location) -> Any:
    """An HCL object as the JSON it encodes, unknown strings kept as their templates (see _policy_text)."""
    if isinstance(raw, dict):
        return {_label(k): _policy_data(m, v, at) for k, v in raw.items() if k != _BLOCK}
    if isinstance(raw, list):
        return [_policy_data(m, v, at) for v in raw]
    value = m.eval(raw, at, 0)
    if not value.known and isinstance(raw, str) and raw.startswith("${") and raw.endswith("}"):
        inner = raw[2:-1].strip()
        if inner.startswith(("{", "[")):  # python-hcl2 wraps a nested object or tuple as an expression
            literal = _literal(inner)
            if literal is not None:
                return _policy_data(m, literal, at)
    return value.value if value.known else _policy_text(value)


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def _from_document_blocks(m: Module, node: _Node, name: str) -> PolicyDocument:
    """An aws_iam_policy_document data source as the JSON it renders, each statement at its block's line."""
    statements: list[dict[str, Any]] = []
    positions: dict[PathT, Pos] = {(): Pos(node.line, 1)}
    keys = (("sid", "Sid"), ("actions", "Action"), ("not_actions", "NotAction"), ("resources", "Resource"),
            ("not_resources", "NotResource"))
    for block in node.blocks("statement"):
        if block.blocks("principals") or block.blocks("not_principals"):
            continue  # a trust policy statement: who may assume the role, not what the role may do
        i = len(statements)
        effect = m.attr(block, "effect")
        item: dict[str, Any] = {"Effect": effect.value if effect is not None and effect.known else "Allow"}
        for tf_key, json_key in keys:
            value = m.attr(block, tf_key)
            if value is None:
                continue
            raw = block.body.get(tf_key)
            if isinstance(raw, list):
                item[json_key] = [_policy_text(m.eval(x, block.loc(tf_key), 0)) for x in raw]
            else:
                item[json_key] = _policy_text(value)
            positions[("Statement", i, json_key)] = Pos(block.loc(tf_key).line, 1)
        conditions: dict[str, dict[str, Any]] = {}
        for cond in block.blocks("condition"):
            test, variable = m.attr(cond, "test"), m.attr(cond, "variable")
            values = m.attr(cond, "values")
            if test is not None and variable is not None:
                conditions.setdefault(test.text, {})[variable.text] = (
                    values.value if values is not None and values.known else values.text if values else [])
        if conditions:
            item["Condition"] = conditions
        statements.append(item)
        positions[("Statement", i)] = Pos(block.line, 1)
    data = {"Version": "2012-10-17", "Statement": statements}
    return parse_policy(data, name=name, kind="terraform", rel=node.rel, doc=Document(data, positions),
                        location=Location(node.rel, node.line))


def _policy_text(value: Value) -> str:
    """An action or ARN for the IAM parser: the literal, or, as the shared parser does for `Fn::Sub`, the template
    with its unknown parts as `${...}` (a whole unknown reference stays opaque: never "*")."""
    return show(value.value) if value.known else (value.template or value.text)
