"""CloudFormation parameter files: the values a team deploys a template with (`infrastructure.parameters`).

Three formats, each as the AWS tools take it, every value kept with its file:line:
- the CloudFormation CLI's JSON, `[{"ParameterKey": "K", "ParameterValue": "V"}, ...]`, as
  `aws cloudformation create-stack --parameters file://params.json` takes it
  (https://docs.aws.amazon.com/cli/latest/reference/cloudformation/create-stack.html); `UsePreviousValue: true`
  keeps the value the stack already has, which is not in the repository;
- the CodePipeline template configuration, `{"Parameters": {"K": "V"}, "Tags": ..., "StackPolicy": ...}`, which
  SageMaker project seed code commits as `staging-config.json` / `prod-config.json`
  (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/continuous-delivery-codepipeline-cfn-artifacts.html);
- `Key=Value` lines, as `aws cloudformation deploy --parameter-overrides` takes them (one pair a line; `#` comments
  and blank lines skipped), or the same pairs as a JSON list of strings
  (https://docs.aws.amazon.com/cli/latest/reference/cloudformation/deploy/).
A later file overrides an earlier one, as a later `--parameter-overrides` pair does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.errors import EvidenceError
from mlgate.evidence.workspace import Workspace
from mlgate.parsers import load_json
from mlgate.result import Location
from mlgate.yamlload import Document, Pos, YamlError, parse_yaml

# CloudFormation parameter names are alphanumeric (the template anatomy's Parameters section).
_NAME = re.compile(r"^[A-Za-z0-9]+$")


@dataclass(frozen=True)
class Parameter:
    """One parameter value a deployment passes: the text written, or why it is not in the file."""

    name: str
    value: str | None
    at: Location
    unknown: str | None = None  # e.g. UsePreviousValue: the value the deployed stack already has

    def where(self) -> str:
        return f"{self.at.path}:{self.at.line}"


@dataclass
class ParameterSet:
    """The parameters of every file named, merged in order (a later file wins)."""

    files: list[str] = field(default_factory=list)
    values: dict[str, Parameter] = field(default_factory=dict)

    def get(self, name: str) -> Parameter | None:
        return self.values.get(name)

    @property
    def named(self) -> str:
        return ", ".join(self.files)


def read_parameters(ws: Workspace, paths: list[Path]) -> ParameterSet:
    """The parameter files `paths` in order; raises EvidenceError (file and line) for a file that cannot be read."""
    found = ParameterSet()
    for path in paths:
        found.files.append(ws.rel(path))
        found.values.update(read_parameter_file(ws, path))
    return found


def read_parameter_file(ws: Workspace, path: Path) -> dict[str, Parameter]:
    rel = ws.rel(path)
    text = ws.read_text(path)
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("[", "{")):
        return _from_json(text, rel)
    return _from_lines(text, rel)


def _from_lines(text: str, rel: str) -> dict[str, Parameter]:
    out: dict[str, Parameter] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        _add(out, _pair(line, rel, number), rel)
    if not out:
        raise EvidenceError("sets no parameter: write one Key=Value a line, or CloudFormation's JSON "
                            '([{"ParameterKey": ..., "ParameterValue": ...}]) or {"Parameters": {...}}', path=rel)
    return out


def _pair(text: str, rel: str, line: int) -> Parameter:
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not _NAME.match(name):
        raise EvidenceError(f"'{_short(text)}' is not Key=Value (a parameter name is letters and digits, then =, "
                            "then the value)", path=rel, line=line)
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1]  # the quotes a shell would remove from Key="a value"
    return Parameter(name, value, Location(rel, line))


def _from_json(text: str, rel: str) -> dict[str, Parameter]:
    try:
        data = load_json(text)
    except json.JSONDecodeError as exc:
        raise EvidenceError(f"is not valid JSON: {exc.msg}", path=rel, line=exc.lineno) from None
    try:
        doc = parse_yaml(text)  # the same data (JSON is YAML), read again for the line of every value
    except YamlError:
        doc = Document(data, {(): Pos(1, 1)})

    def line(*path: str | int) -> int:
        return doc.pos(tuple(path)).line

    out: dict[str, Parameter] = {}
    if isinstance(data, dict):
        params = data.get("Parameters")
        if not isinstance(params, dict):
            raise EvidenceError('is a JSON object without a "Parameters" mapping (a template configuration file '
                                'is {"Parameters": {"Key": "Value"}})', path=rel, line=line())
        for name, value in params.items():
            _add(out, Parameter(_name(name, rel, line("Parameters", name)), _text(value, name, rel,
                                line("Parameters", name)), Location(rel, line("Parameters", name))), rel)
        return out
    if not isinstance(data, list):
        raise EvidenceError("is neither a list of parameters nor a {\"Parameters\": ...} object", path=rel, line=1)
    for i, item in enumerate(data):
        if isinstance(item, str):
            _add(out, _pair(item, rel, line(i)), rel)
            continue
        if not isinstance(item, dict) or "ParameterKey" not in item:
            raise EvidenceError('an entry is not {"ParameterKey": ..., "ParameterValue": ...}', path=rel,
                                line=line(i))
        name = _name(item["ParameterKey"], rel, line(i, "ParameterKey"))
        if item.get("UsePreviousValue") is True:
            _add(out, Parameter(name, None, Location(rel, line(i, "UsePreviousValue")),
                                unknown="keeps the value the deployed stack already has (UsePreviousValue)"), rel)
            continue
        if "ParameterValue" not in item:
            raise EvidenceError(f"parameter {name} has no ParameterValue (and no UsePreviousValue: true)", path=rel,
                                line=line(i))
        at = line(i, "ParameterValue")
        _add(out, Parameter(name, _text(item["ParameterValue"], name, rel, at), Location(rel, at)), rel)
    return out


def _name(name: Any, rel: str, line: int) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise EvidenceError(f"{name!r} is not a parameter name (letters and digits)", path=rel, line=line)
    return name


def _text(value: Any, name: str, rel: str, line: int) -> str:
    """A value as the text CloudFormation receives (parameter values are strings; a JSON number is its text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise EvidenceError(f"the value of parameter {name} is {type(value).__name__}, not text (a list parameter is "
                        "written as one comma-separated string)", path=rel, line=line)


def _add(out: dict[str, Parameter], param: Parameter, rel: str) -> None:
    first = out.get(param.name)
    if first is not None:
        raise EvidenceError(f"parameter {param.name} is set twice in this file (first at line {first.at.line}): "
                            "which one counts would be a guess", path=rel, line=param.at.line)
    out[param.name] = param


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def check_declared(params: ParameterSet, declared: dict[str, dict[str, Any]], templates: str) -> None:
    """Refuse a parameter no template declares, and a value CloudFormation itself would refuse (not one of the
    AllowedValues, or not a number for a Number), each at its file:line."""
    for name, param in params.values.items():
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise EvidenceError(f"sets parameter {name}, which {templates} does not declare (its parameters: "
                                f"{known}); CloudFormation refuses the deployment", path=param.at.path,
                                line=param.at.line)
        spec = declared[name]
        if param.value is None:
            continue
        allowed = spec.get("AllowedValues")
        if isinstance(allowed, list) and allowed and param.value not in [_as_text(a) for a in allowed]:
            raise EvidenceError(f"parameter {name} is '{param.value}', which is not one of its AllowedValues "
                                f"({', '.join(_as_text(a) for a in allowed)}); CloudFormation refuses it",
                                path=param.at.path, line=param.at.line)
        if spec.get("Type") == "Number":
            try:
                float(param.value)
            except ValueError:
                raise EvidenceError(f"parameter {name} is a Number, but is set to '{param.value}'", path=param.at.path,
                                    line=param.at.line) from None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
