"""CloudFormation templates (YAML with short-form tags, JSON, CDK's cdk.out/*.template.json) as evidence.

The template is loaded with the safe YAML loader in CloudFormation mode (`!Ref` becomes `{"Ref": ...}` and keeps
its position), then every fact is evaluated as far as the template alone allows:
- literals, `Ref` to a parameter set in the parameter files the team deploys with (`infrastructure.parameters`,
  see parameters.py) or else with a `Default` (the value says which), `Fn::Sub`/`Fn::Join` whose parts are all
  known, `Fn::FindInMap` with known keys, `Fn::Select` from a written list, and the names of other resources
  (`!GetAtt Config.EndpointConfigName`, `!Ref Alarm`) when those resources write them;
- everything else is unknown with its reason and location: parameters neither set nor defaulted, parameters read
  from SSM (`AWS::SSM::Parameter::Value<...>`: the file or default names the SSM parameter, not the value),
  pseudo parameters (`AWS::Region`), `Fn::ImportValue`, generated names and ARNs, and conditions whose inputs are
  not all known (a condition over known values, e.g. `!Equals [!Ref StageName, prod]` with StageName set in a
  parameter file, is decided: `Fn::If` takes its branch and a resource whose condition is false is not created).
A SAM template (`Transform: AWS::Serverless-2016-10-31`) is read the same way: the transform leaves SageMaker
resources as written. A Serverless Framework file is read by serverless.py into a Template of its `resources:`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from mlgate.errors import EvidenceError
from mlgate.evidence.iac.model import (
    AsyncInference,
    Capture,
    CloudWatchAlarm,
    CompositeAlarm,
    Endpoint,
    EndpointConfig,
    InferenceExperiment,
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
from mlgate.result import Location
from mlgate.yamlload import Document, PathT

if TYPE_CHECKING:
    from mlgate.evidence.iac.parameters import ParameterSet

_MAX_DEPTH = 20
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")
_NO_VALUE = "AWS::NoValue"

# Attributes that return a name the resource itself may write (`!GetAtt X.EndpointName` is X's EndpointName).
_NAME_ATTRS = {"EndpointName", "EndpointConfigName", "ModelName", "MonitoringScheduleName", "JobDefinitionName",
               "AlarmName", "RoleName", "PolicyName", "ManagedPolicyName"}
# What `Ref` returns for the types whose Ref is a name (CloudFormation docs, "Return values" of each type).
_REF_NAME = {"AWS::CloudWatch::Alarm": "AlarmName", "AWS::IAM::Role": "RoleName", "AWS::IAM::Policy": "PolicyName",
             "AWS::SageMaker::EndpointConfig": "EndpointConfigName", "AWS::SageMaker::Model": "ModelName",
             "AWS::SageMaker::Endpoint": "EndpointName"}
_JOB_DEFINITIONS = {
    "AWS::SageMaker::DataQualityJobDefinition": ("DataQuality", "DataQualityJobInput", "DataQualityBaselineConfig"),
    "AWS::SageMaker::ModelQualityJobDefinition": ("ModelQuality", "ModelQualityJobInput", None),
    "AWS::SageMaker::ModelBiasJobDefinition": ("ModelBias", "ModelBiasJobInput", None),
    "AWS::SageMaker::ModelExplainabilityJobDefinition": ("ModelExplainability", "ModelExplainabilityJobInput", None),
}
_SAM = "AWS::Serverless"


class Variables(Protocol):
    """Variables a deployment tool fills in before CloudFormation reads the template (the Serverless Framework's
    `${self:...}`: serverless.py implements it, so this reader does not import that one)."""

    def used(self, text: Any) -> bool: ...

    def value(self, text: str, at: Location) -> Value: ...


class Template:
    """One loaded template: raw data with positions, and the evaluation of its values."""

    def __init__(self, rel: str, doc: Document) -> None:
        data = doc.data
        if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
            raise EvidenceError("is not a CloudFormation template: it has no Resources mapping", path=rel)
        self.rel = rel
        self.doc = doc
        self.data: dict[str, Any] = data
        self.params: dict[str, Any] = _mapping(data.get("Parameters"))
        self.mappings: dict[str, Any] = _mapping(data.get("Mappings"))
        self.resources: dict[str, Any] = {k: v for k, v in data["Resources"].items() if isinstance(v, dict)}
        self.given: ParameterSet | None = None  # the parameter files the template is deployed with
        self.variables: Variables | None = None  # a Serverless Framework file's ${...} variables
        self.gaps: list[UnreadCode] = []  # what the file holds but this reader does not read
        self._decided: dict[str, bool | None] = {}

    def bind(self, given: ParameterSet | None) -> Template:
        """This template as deployed with the parameter files `given` (the loaded template is shared)."""
        bound = copy.copy(self)
        bound.given = given
        bound._decided = {}
        return bound

    # -- conditions -------------------------------------------------------------------------------------------------

    def decide(self, name: str, depth: int = 0) -> bool | None:
        """Whether the condition `name` holds, when every value it compares is known; None otherwise."""
        if name not in self._decided:
            self._decided[name] = None  # a condition that refers to itself stays undecided
            node = _mapping(self.data.get("Conditions")).get(name)
            self._decided[name] = self._truth(node, ("Conditions", name), depth) if depth <= _MAX_DEPTH else None
        return self._decided[name]

    def _truth(self, node: Any, path: PathT, depth: int) -> bool | None:
        if not (isinstance(node, dict) and len(node) == 1):
            return None
        key, arg = next(iter(node.items()))
        sub = (*path, key)
        if key == "Condition" and isinstance(arg, str):
            return self.decide(arg, depth + 1)
        if not isinstance(arg, list):
            return None
        if key == "Fn::Equals" and len(arg) == 2:
            a, b = (self.eval(arg[i], (*sub, i), depth + 1) for i in (0, 1))
            return show(a.value) == show(b.value) if a.known and b.known else None
        if key == "Fn::Not" and len(arg) == 1:
            inner = self._truth(arg[0], (*sub, 0), depth + 1)
            return None if inner is None else not inner
        if key in ("Fn::And", "Fn::Or"):
            values = [self._truth(x, (*sub, i), depth + 1) for i, x in enumerate(arg)]
            decisive: bool = key == "Fn::Or"  # the value that decides alone: any true for Or, any false for And
            if decisive in values:
                return decisive
            return None if None in values else not decisive
        return None

    def _branch(self, arg: Any) -> int | None:
        """The index (1 or 2) of the `Fn::If` branch a decided condition takes."""
        if isinstance(arg, list) and len(arg) == 3 and isinstance(arg[0], str):
            holds = self.decide(arg[0])
            if holds is not None:
                return 1 if holds else 2
        return None

    # -- raw access -------------------------------------------------------------------------------------------------

    def loc(self, path: PathT) -> Location:
        pos = self.doc.pos(self._walk(path)[1])
        return Location(self.rel, pos.line)

    def raw(self, path: PathT) -> Any:
        return self._walk(path)[0]

    def _walk(self, path: PathT) -> tuple[Any, PathT]:
        """The node at `path` and where it is written: a decided `Fn::If` on the way is stepped through to the
        branch it takes (`Properties: !If [IsProd, {...}, {...}]`), so readers need not know about it."""
        node: Any = self.data
        real: list[Any] = []
        for i, key in enumerate(path):
            while isinstance(node, dict) and len(node) == 1 and "Fn::If" in node and key != "Fn::If" \
                    and (branch := self._branch(node["Fn::If"])) is not None:  # an If in a branch: step again
                node = node["Fn::If"][branch]
                real += ["Fn::If", branch]
            found = (isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node)) or (
                isinstance(node, dict) and key in node)
            if not found:
                return None, (*real, *path[i:])
            node = node[key]
            real.append(key)
        return node, tuple(real)

    def rtype(self, rid: str) -> str:
        kind = self.resources.get(rid, {}).get("Type")
        return kind if isinstance(kind, str) else ""

    def of_type(self, *types: str) -> Iterator[str]:
        for rid in self.resources:
            if self.rtype(rid) in types:
                yield rid

    def condition(self, rid: str) -> str | None:
        """The condition the resource is created under, unless it is decided to hold."""
        cond = self.resources[rid].get("Condition")
        return cond if isinstance(cond, str) and self.decide(cond) is not True else None

    def created(self, rid: str) -> bool:
        """False for a resource whose condition is decided not to hold: the stack does not create it."""
        cond = self.resources[rid].get("Condition")
        return not (isinstance(cond, str) and self.decide(cond) is False)

    def struct(self, path: PathT) -> tuple[Any, str | None]:
        """A mapping or list at `path`: (node, None); (None, why) when an intrinsic function computes it; (None,
        None) when it is absent or `AWS::NoValue`."""
        node = self.raw(path)
        if self.variables is not None and self.variables.used(node):
            value = self.variables.value(node, self.loc(path))
            if not value.known:
                return None, f"{value.unknown} ({self.rel}:{value.at.line})"
            return value.value, None
        if isinstance(node, dict) and len(node) == 1:
            key, arg = next(iter(node.items()))
            if key == "Ref" and arg == _NO_VALUE:
                return None, None
            branch = self._branch(arg) if key == "Fn::If" else None
            if branch is not None:
                return self.struct((*path, key, branch))
            if key == "Fn::If":
                cond = arg[0] if isinstance(arg, list) and arg and isinstance(arg[0], str) else "?"
                return None, f"chosen by condition {cond} ({self.rel}:{self.loc((*path, key)).line})"
            if key.startswith("Fn::") or key == "Ref":
                return None, f"computed by {key} at deploy time ({self.rel}:{self.loc((*path, key)).line})"
        return node, None

    def items(self, path: PathT) -> Iterator[tuple[PathT, dict[str, Any] | None, str | None]]:
        """Each element of the list at `path`: (its path, the mapping or None, why it is unknown)."""
        node, _ = self.struct(path)
        if not isinstance(node, list):
            return
        for i in range(len(node)):
            item, why = self.struct((*path, i))
            if item is None and why is None:
                continue
            yield (*path, i), item if isinstance(item, dict) else None, why

    # -- evaluation -------------------------------------------------------------------------------------------------

    def value(self, path: PathT) -> Value | None:
        """The evaluated value at `path`, or None when it is not written (or is `AWS::NoValue`)."""
        node = self.raw(path)
        if node is None or (isinstance(node, dict) and node == {"Ref": _NO_VALUE}):
            return None
        if isinstance(node, dict) and len(node) == 1 and "Fn::If" in node:
            branch = self._branch(node["Fn::If"])
            if branch is not None:
                return self.value((*path, "Fn::If", branch))
        return self.eval(node, path, 0)

    def eval(self, node: Any, path: PathT, depth: int) -> Value:
        at = self.loc(path)
        if depth > _MAX_DEPTH:
            return _unknown(at, "the intrinsic functions nest too deep to follow", "${...}")
        if isinstance(node, dict) and len(node) == 1:
            key, arg = next(iter(node.items()))
            sub = (*path, key)
            if key == "Ref" and isinstance(arg, str):
                return self._ref(arg, sub, depth)
            if key == "Fn::GetAtt":
                parts = arg.split(".", 1) if isinstance(arg, str) else arg
                if isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) for p in parts):
                    return self._getatt(parts[0], parts[1], sub, depth)
            if key == "Fn::Sub":
                return self._sub(arg, sub, depth)
            if key == "Fn::Join":
                return self._join(arg, sub, depth)
            if key == "Fn::If":
                branch = self._branch(arg)
                if branch is not None:
                    return self.eval(arg[branch], (*sub, branch), depth + 1)
                cond = arg[0] if isinstance(arg, list) and arg and isinstance(arg[0], str) else "?"
                why = "whose inputs are not all known before deployment" \
                    if cond in _mapping(self.data.get("Conditions")) else "which the template does not define"
                return _unknown(self.loc(sub), f"chosen by condition {cond}, {why}", f"${{If:{cond}}}")
            if key == "Fn::ImportValue":
                name = self.eval(arg, sub, depth + 1)
                return _unknown(self.loc(sub), f"imported from another stack's export {name.text}",
                                f"${{ImportValue:{name.text}}}")
            if key == "Fn::FindInMap":
                return self._find_in_map(arg, sub, depth)
            if key == "Fn::Select":
                return self._select(arg, sub, depth)
            if key.startswith("Fn::"):
                fn = key[4:]
                return _unknown(self.loc(sub), f"computed by Fn::{fn} at deploy time", f"${{{fn}}}")
        if isinstance(node, dict):
            return Value(self.plain(node, path, depth), at)
        if isinstance(node, list):
            values = [self.eval(v, (*path, i), depth + 1) for i, v in enumerate(node)]
            if all(v.known for v in values):
                return Value([v.value for v in values], at)
            first = next(v for v in values if not v.known)
            return _unknown(at, first.unknown or "", "[" + ", ".join(v.text for v in values) + "]")
        if self.variables is not None and self.variables.used(node):
            return self.variables.value(node, at)
        return Value(node, at, template=show(node))

    def plain(self, node: Any, path: PathT, depth: int = 0) -> Any:
        """Plain data with every intrinsic function replaced by its value, or by its placeholder when unknown."""
        if _intrinsic(node):
            value = self.eval(node, path, depth + 1)
            return value.value if value.known else value.text
        if isinstance(node, dict):
            return {k: self.plain(v, (*path, k), depth + 1) for k, v in node.items()}
        if isinstance(node, list):
            return [self.plain(v, (*path, i), depth + 1) for i, v in enumerate(node)]
        return node

    def _ref(self, name: str, path: PathT, depth: int) -> Value:
        at = self.loc(path)
        if name in self.params:
            return self._parameter(name, at)
        if name.startswith("AWS::"):
            return _unknown(at, f"pseudo parameter {name} is known only at deploy time", f"${{Ref:{name}}}",
                            template=f"${{{name}}}")
        if name in self.resources:
            prop = _REF_NAME.get(self.rtype(name))
            if prop:
                return self._resource_name(name, prop, at, depth, f"${{Ref:{name}}}", f"${{{name}}}")
            return _unknown(at, f"Ref {name} is made when the stack is deployed", f"${{Ref:{name}}}",
                            template=f"${{{name}}}", ref=name)
        return _unknown(at, f"Ref {name} names nothing in this template", f"${{Ref:{name}}}",
                        template=f"${{{name}}}")

    def _parameter(self, name: str, at: Location) -> Value:
        """A parameter's value: from the last parameter file that sets it, else its Default."""
        param = self.params[name] if isinstance(self.params[name], dict) else {}
        kind = param.get("Type")
        placeholder, template = f"${{Ref:{name}}}", f"${{{name}}}"
        given = self.given.get(name) if self.given is not None else None
        if given is not None:
            if given.unknown is not None or given.value is None:
                return _unknown(at, f"parameter {name} {given.unknown} ({given.where()})", placeholder,
                                template=template)
            if isinstance(kind, str) and kind.startswith("AWS::SSM::Parameter::Value"):
                return _unknown(at, f"parameter {name} is read from SSM parameter {given.value} ({given.where()}) "
                                    "at deploy time", placeholder, template=template)
            value = _typed(given.value, kind)
            return Value(value, at, template=show(value), source=f"parameter {name} from {given.where()}",
                         set_at=given.at)
        unset = f" (not set in {self.given.named})" if self.given is not None and self.given.files else ""
        if "Default" in param:
            line = self.loc(("Parameters", name, "Default")).line
            if isinstance(kind, str) and kind.startswith("AWS::SSM::Parameter::Value"):
                return _unknown(at, f"parameter {name} is read from SSM parameter {show(param.get('Default'))} "
                                    f"({self.rel}:{line}) at deploy time", placeholder, template=template)
            default = _typed(param.get("Default"), kind)
            later = "" if unset else "; a deployment may pass another value"
            return Value(default, at, template=show(default),
                         source=f"the default of parameter {name}, {self.rel}:{line}{unset}{later}")
        return _unknown(at, f"parameter {name} has no default{unset}: its value is given at deploy time",
                        placeholder, template=template)

    def _getatt(self, rid: str, attr: str, path: PathT, depth: int) -> Value:
        at = self.loc(path)
        placeholder, template = f"${{GetAtt:{rid}.{attr}}}", f"${{{rid}.{attr}}}"
        if rid in self.resources and attr in _NAME_ATTRS:
            return self._resource_name(rid, attr, at, depth, placeholder, template)
        return _unknown(at, f"{rid}.{attr} is made when the stack is deployed", placeholder, template=template,
                        ref=rid if rid in self.resources else None)

    def _resource_name(self, rid: str, prop: str, at: Location, depth: int, placeholder: str,
                       template: str) -> Value:
        written = self.raw(("Resources", rid, "Properties", prop))
        if written is not None:
            value = self.eval(written, ("Resources", rid, "Properties", prop), depth + 1)
            if value.known:
                return Value(value.value, at, template=show(value.value), ref=rid,
                             source=f"{prop} of {rid}, {value.where()}")
            return _unknown(at, value.unknown or "", placeholder, template=value.template or template, ref=rid)
        return _unknown(at, f"{rid} writes no {prop}, so CloudFormation generates it", placeholder,
                        template=template, ref=rid)

    def _sub(self, arg: Any, path: PathT, depth: int) -> Value:
        at = self.loc(path)
        text, variables = (arg, {}) if isinstance(arg, str) else (
            (arg[0], arg[1] if len(arg) > 1 and isinstance(arg[1], dict) else {})
            if isinstance(arg, list) and arg and isinstance(arg[0], str) else (None, {}))
        if text is None:
            return _unknown(at, "Fn::Sub is not a string or [string, variables]", "${Sub:?}")
        if self.variables is not None and self.variables.used(text):
            # the framework fills its own variables in before CloudFormation sees the Sub
            filled = self.variables.value(text, at)
            if not filled.known:
                return _unknown(at, filled.unknown or "", f"${{Sub:{text}}}", template=text)
            text = show(filled.value)
        out = Interpolation()
        pos = 0
        for match in _SUB_VAR.finditer(text):
            out.literal(text[pos:match.start()])
            pos = match.end()
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is written out as ${Literal}
                out.literal("${" + name[1:] + "}")
                continue
            if name in variables:
                v = self.eval(variables[name], (*path, 1, name), depth + 1)
            elif "." in name:
                rid, attr = name.split(".", 1)
                v = self._getatt(rid, attr, path, depth + 1)
            else:
                v = self._ref(name, path, depth + 1)
            out.value(v, name)
        out.literal(text[pos:])
        joined = out.text
        if out.unknown is None:
            return Value(joined, at, template=joined)
        return _unknown(at, out.unknown, f"${{Sub:{joined}}}", template=joined, ref=out.ref if joined.startswith("${")
                        and joined.endswith("}") and joined.count("${") == 1 else None)

    def _join(self, arg: Any, path: PathT, depth: int) -> Value:
        at = self.loc(path)
        if not (isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str)):
            return _unknown(at, "Fn::Join is not [delimiter, list]", "${Join:?}")
        items, why = self.struct((*path, 1))
        if not isinstance(items, list):
            return _unknown(at, why or "Fn::Join joins a list computed at deploy time", "${Join:?}")
        values = [self.eval(v, (*path, 1, i), depth + 1) for i, v in enumerate(items)]
        joined = arg[0].join(show(v.value) if v.known else (v.template or v.text) for v in values)
        missing = next((v for v in values if not v.known), None)
        if missing is None:
            return Value(joined, at, template=joined)
        return _unknown(at, missing.unknown or "", f"${{Sub:{joined}}}", template=joined)

    def _find_in_map(self, arg: Any, path: PathT, depth: int) -> Value:
        at = self.loc(path)
        if isinstance(arg, list) and len(arg) >= 3:
            keys = [self.eval(k, (*path, i), depth + 1) for i, k in enumerate(arg[:3])]
            if all(k.known for k in keys):
                found = self.raw(("Mappings", *(show(k.value) for k in keys)))
                if found is not None and not isinstance(found, dict | list):
                    return Value(found, at, template=show(found))
                return _unknown(at, f"mapping {'/'.join(k.text for k in keys)} is not in Mappings",
                                "${FindInMap}")
            missing = next(k for k in keys if not k.known)
            return _unknown(at, f"Fn::FindInMap looks up {missing.text}: {missing.unknown}",
                            "${FindInMap:" + "/".join(k.text for k in keys) + "}")
        return _unknown(at, "Fn::FindInMap is not [map, key, key]", "${FindInMap}")

    def _select(self, arg: Any, path: PathT, depth: int) -> Value:
        at = self.loc(path)
        if isinstance(arg, list) and len(arg) == 2:
            index = self.eval(arg[0], (*path, 0), depth + 1)
            items, _ = self.struct((*path, 1))
            if index.known and isinstance(items, list):
                try:
                    i = int(index.value)
                except (TypeError, ValueError):
                    i = -1
                if 0 <= i < len(items):
                    return self.eval(items[i], (*path, 1, i), depth + 1)
        return _unknown(at, "Fn::Select picks from a list computed at deploy time", "${Select}")


def _unknown(at: Location, why: str, placeholder: str, *, template: str | None = None,
             ref: str | None = None) -> Value:
    return Value(None, at, unknown=why or "computed at deploy time", template=template or placeholder,
                 placeholder=placeholder, ref=ref)


def _intrinsic(node: Any) -> bool:
    return isinstance(node, dict) and len(node) == 1 and (
        next(iter(node)) == "Ref" or next(iter(node)).startswith("Fn::"))


def _mapping(node: Any) -> dict[str, Any]:
    return node if isinstance(node, dict) else {}


def _typed(default: Any, kind: Any) -> Any:
    """A parameter default as the type the parameter declares (a Number's default may be written as text)."""
    if kind == "Number" and isinstance(default, str):
        try:
            number = float(default)
        except ValueError:
            return default
        return int(number) if number.is_integer() else number
    if isinstance(kind, str) and (kind == "CommaDelimitedList" or kind.startswith("List<")) \
            and isinstance(default, str):
        return [part.strip() for part in default.split(",")]
    return default


# -- reading the SageMaker deployment ---------------------------------------------------------------------------------

def read_template(t: Template) -> Infrastructure:
    infra = Infrastructure("cloudformation", t.rel, files=[t.rel], gaps=list(t.gaps))
    transform = t.data.get("Transform")
    for name in transform if isinstance(transform, list) else [transform]:
        if isinstance(name, str) and not name.startswith("AWS::Serverless"):
            infra.gaps.append(UnreadCode(f"the template uses the macro {name}, whose generated resources are not read",
                                  t.loc(("Transform",))))
    for rid in t.resources:
        kind = t.rtype(rid)
        if not t.created(rid):
            continue
        read = _READERS.get(kind)
        if read is not None:
            records, reader = read
            records(infra).append(reader(t, rid))
        elif kind in ("AWS::CloudFormation::Stack", "AWS::Serverless::Application"):
            infra.gaps.append(UnreadCode(f"nested stack {rid} is not read", t.loc(("Resources", rid))))
    return infra


def _composite(t: Template, rid: str) -> CompositeAlarm:
    p = _props(rid)
    return CompositeAlarm(rid, t.value((*p, "AlarmName")), t.value((*p, "AlarmRule")),
                          _list_values(t, (*p, "AlarmActions")), t.loc(("Resources", rid)))


def _props(rid: str) -> PathT:
    return ("Resources", rid, "Properties")


def _variant(t: Template, path: PathT, item: dict[str, Any]) -> Variant:
    serverless: Serverless | None = None
    sc, why = t.struct((*path, "ServerlessConfig"))
    if isinstance(sc, dict):
        sp = (*path, "ServerlessConfig")
        serverless = Serverless(t.value((*sp, "MemorySizeInMB")), t.value((*sp, "MaxConcurrency")),
                                t.value((*sp, "ProvisionedConcurrency")), t.loc(sp))
    return Variant(t.value((*path, "VariantName")), t.value((*path, "ModelName")), t.value((*path, "InstanceType")),
                   t.value((*path, "InitialInstanceCount")), t.value((*path, "InitialVariantWeight")), serverless,
                   t.loc(path), serverless_unknown=f"its ServerlessConfig is {why}" if why else None)


def _config(t: Template, rid: str) -> EndpointConfig:
    p = _props(rid)
    config = EndpointConfig(rid, t.value((*p, "EndpointConfigName")), [], [], None, None,
                            t.value((*p, "KmsKeyId")), t.loc(("Resources", rid)), condition=t.condition(rid))
    _, why = t.struct(p)
    if why:
        config.unknown = f"its Properties are {why}"
        return config
    for key, out in (("ProductionVariants", config.variants), ("ShadowProductionVariants", config.shadow_variants)):
        _, why = t.struct((*p, key))
        if why and config.unknown is None:
            config.unknown = f"its {key} are {why}"
        for path, item, item_why in t.items((*p, key)):
            if item is None:
                config.unknown = config.unknown or f"an entry of its {key} is {item_why}"
                continue
            out.append(_variant(t, path, item))
    dc, why = t.struct((*p, "DataCaptureConfig"))
    if why:
        config.capture_unknown = f"its DataCaptureConfig is {why}"
    if isinstance(dc, dict):
        cp = (*p, "DataCaptureConfig")
        modes = tuple(v for path, item, _ in t.items((*cp, "CaptureOptions")) if item is not None
                      for v in [t.value((*path, "CaptureMode"))] if v is not None)
        config.capture = Capture(t.value((*cp, "EnableCapture")), t.value((*cp, "InitialSamplingPercentage")),
                                 t.value((*cp, "DestinationS3Uri")), t.value((*cp, "KmsKeyId")), modes, t.loc(cp))
    ac, _ = t.struct((*p, "AsyncInferenceConfig"))
    if isinstance(ac, dict):
        ap = (*p, "AsyncInferenceConfig")
        config.async_inference = AsyncInference(t.value((*ap, "ClientConfig", "MaxConcurrentInvocationsPerInstance")),
                                                t.value((*ap, "OutputConfig", "S3OutputPath")), t.loc(ap))
    return config


def _size(t: Template, path: PathT) -> Size | None:
    node, _ = t.struct(path)
    if not isinstance(node, dict):
        return None
    return Size(t.value((*path, "Type")), t.value((*path, "Value")), t.loc(path))


def _endpoint(t: Template, rid: str) -> Endpoint:
    p = _props(rid)
    endpoint = Endpoint(rid, t.value((*p, "EndpointName")), t.value((*p, "EndpointConfigName")), None, [],
                        t.loc(("Resources", rid)), condition=t.condition(rid))
    dp = (*p, "DeploymentConfig")
    dc, why = t.struct(dp)
    endpoint.deployment_at = t.loc(dp) if t.raw(dp) is not None else None
    if why:
        endpoint.deployment_unknown = f"its DeploymentConfig is {why}"
        return endpoint
    if not isinstance(dc, dict):
        return endpoint
    bg, why_bg = t.struct((*dp, "BlueGreenUpdatePolicy"))
    ru, why_ru = t.struct((*dp, "RollingUpdatePolicy"))
    if why_bg or why_ru:
        endpoint.deployment_unknown = f"its update policy is {why_bg or why_ru}"
    if isinstance(bg, dict):
        bp = (*dp, "BlueGreenUpdatePolicy")
        tp = (*bp, "TrafficRoutingConfiguration")
        kind = t.value((*tp, "Type"))
        size = _size(t, (*tp, "CanarySize")) or _size(t, (*tp, "LinearStepSize"))
        endpoint.policy = TrafficPolicy(kind, size, t.value((*tp, "WaitIntervalInSeconds")),
                                        t.value((*bp, "TerminationWaitInSeconds")),
                                        t.value((*bp, "MaximumExecutionTimeoutInSeconds")), t.loc(bp))
    elif isinstance(ru, dict):
        rp = (*dp, "RollingUpdatePolicy")
        endpoint.policy = TrafficPolicy(Value("ROLLING", t.loc(rp)), _size(t, (*rp, "MaximumBatchSize")),
                                        t.value((*rp, "WaitIntervalInSeconds")), None,
                                        t.value((*rp, "MaximumExecutionTimeoutInSeconds")), t.loc(rp))
    ap = (*dp, "AutoRollbackConfiguration", "Alarms")
    _, why_alarms = t.struct(ap)
    if why_alarms:
        endpoint.deployment_unknown = endpoint.deployment_unknown or f"its rollback alarms are {why_alarms}"
    for path, item, item_why in t.items(ap):
        if item is None:
            endpoint.deployment_unknown = endpoint.deployment_unknown or f"a rollback alarm is {item_why}"
            continue
        name = t.value((*path, "AlarmName"))
        if name is not None:
            endpoint.rollback_alarms.append(name)
    return endpoint


def _model(t: Template, rid: str) -> SageMakerModel:
    p = _props(rid)
    containers = [item for _, item, _ in t.items((*p, "Containers")) if item]
    primary, _ = t.struct((*p, "PrimaryContainer"))
    if isinstance(primary, dict):
        containers.append(primary)
    multi = any(c.get("Mode") == "MultiModel" for c in containers)
    vpc = t.loc((*p, "VpcConfig")) if t.raw((*p, "VpcConfig")) is not None else None
    first: PathT = (*p, "PrimaryContainer") if isinstance(primary, dict) else (*p, "Containers", 0)
    package = t.raw((*first, "ModelPackageName"))
    target = package.get("Ref") or (package.get("Fn::GetAtt") or [None])[0] if isinstance(package, dict) else None
    return SageMakerModel(rid, t.value((*p, "ModelName")), t.value((*p, "ExecutionRoleArn")),
                          t.value((*p, "EnableNetworkIsolation")), vpc, multi, t.loc(("Resources", rid)),
                          image=t.value((*first, "Image")), model_data=t.value((*first, "ModelDataUrl")),
                          model_package=t.value((*first, "ModelPackageName")),
                          own_package=isinstance(target, str) and t.rtype(target) == "AWS::SageMaker::ModelPackage")


def _alarm(t: Template, rid: str) -> CloudWatchAlarm:
    p = _props(rid)
    alarm = CloudWatchAlarm(rid, t.value((*p, "AlarmName")), t.value((*p, "Namespace")), t.value((*p, "MetricName")),
                            _dimensions(t, (*p, "Dimensions")), t.value((*p, "Statistic")),
                            t.value((*p, "ExtendedStatistic")), t.value((*p, "Threshold")),
                            t.loc(("Resources", rid)), condition=t.condition(rid))
    for path, item, _ in t.items((*p, "Metrics")):
        if item is None:
            continue
        alarm.metric_math = True
        mp = (*path, "MetricStat", "Metric")
        if t.raw(mp) is None:
            continue
        namespace = t.value((*mp, "Namespace"))
        if alarm.metric is None or (namespace and namespace.value == "AWS/SageMaker"):
            alarm.namespace, alarm.metric = namespace, t.value((*mp, "MetricName"))
            alarm.dimensions = _dimensions(t, (*mp, "Dimensions"))
            alarm.statistic = t.value((*path, "MetricStat", "Stat"))
    _, why = t.struct((*p, "AlarmActions"))
    alarm.actions_unknown = f"its AlarmActions are {why}" if why else None
    alarm.actions = _list_values(t, (*p, "AlarmActions"))
    alarm.actions_enabled = t.value((*p, "ActionsEnabled"))
    return alarm


def _dimensions(t: Template, path: PathT) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for dpath, item, _ in t.items(path):
        name = t.value((*dpath, "Name")) if item else None
        value = t.value((*dpath, "Value")) if item else None
        if name is not None and name.known and value is not None:
            out[show(name.value)] = value
    return out


def _schedule(t: Template, rid: str) -> MonitoringSchedule:
    p = _props(rid)
    cp = (*p, "MonitoringScheduleConfig")
    schedule = MonitoringSchedule(rid, t.value((*p, "MonitoringScheduleName")), t.value((*cp, "MonitoringType")),
                                  t.value((*p, "EndpointName")),
                                  t.value((*cp, "ScheduleConfig", "ScheduleExpression")),
                                  t.value((*cp, "MonitoringJobDefinitionName")), None, t.loc(("Resources", rid)),
                                  condition=t.condition(rid))
    jp = (*cp, "MonitoringJobDefinition")
    if t.raw(jp) is not None:
        schedule.baseline_statistics = t.value((*jp, "BaselineConfig", "StatisticsResource", "S3Uri"))
        for path, item, _ in t.items((*jp, "MonitoringInputs")):
            if item and schedule.endpoint is None:
                schedule.endpoint = t.value((*path, "EndpointInput", "EndpointName"))
        if schedule.monitoring_type is None:
            schedule.monitoring_type = Value("DataQuality", t.loc(jp), source="a MonitoringJobDefinition without "
                                             "MonitoringType is a data quality job")
    job = schedule.job_definition
    for jid in t.of_type(*_JOB_DEFINITIONS):
        if job is None or not names(job, jid, t.value((*_props(jid), "JobDefinitionName"))):
            continue
        kind, input_key, baseline_key = _JOB_DEFINITIONS[t.rtype(jid)]
        jdp = _props(jid)
        if schedule.monitoring_type is None:
            schedule.monitoring_type = Value(kind, t.loc(("Resources", jid)), source=f"job definition {jid}")
        if schedule.endpoint is None:
            schedule.endpoint = t.value((*jdp, input_key, "EndpointInput", "EndpointName"))
        if baseline_key and schedule.baseline_statistics is None:
            schedule.baseline_statistics = t.value((*jdp, baseline_key, "StatisticsResource", "S3Uri"))
    return schedule


def _target(t: Template, rid: str) -> ScalingTarget:
    p = _props(rid)
    return ScalingTarget(rid, t.value((*p, "ResourceId")), t.value((*p, "ScalableDimension")),
                         t.value((*p, "MinCapacity")), t.value((*p, "MaxCapacity")), t.loc(("Resources", rid)))


def _experiment(t: Template, rid: str) -> InferenceExperiment:
    p = _props(rid)
    sp = (*p, "ShadowModeConfig")
    shadows = [(name, t.value((*path, "SamplingPercentage")))
               for path, item, _ in t.items((*sp, "ShadowModelVariants")) if item is not None
               for name in [t.value((*path, "ShadowModelVariantName"))] if name is not None]
    return InferenceExperiment(rid, t.value((*p, "Type")), t.value((*p, "EndpointName")),
                               t.value((*sp, "SourceModelVariantName")), shadows, t.loc(("Resources", rid)),
                               condition=t.condition(rid))


def _scaling_policy(t: Template, rid: str) -> ScalingPolicy:
    p = _props(rid)
    tp = (*p, "TargetTrackingScalingPolicyConfiguration")
    metric = t.value((*tp, "PredefinedMetricSpecification", "PredefinedMetricType")) \
        or t.value((*tp, "CustomizedMetricSpecification", "MetricName"))
    return ScalingPolicy(rid, t.value((*p, "ScalingTargetId")), t.value((*p, "ResourceId")),
                         t.value((*p, "PolicyType")), metric, t.value((*tp, "TargetValue")), t.loc(("Resources", rid)))


# -- IAM ---------------------------------------------------------------------------------------------------------------

def role_ids(t: Template) -> list[str]:
    return list(t.of_type("AWS::IAM::Role"))


def role_policies(t: Template, role: str) -> list[PolicyDocument]:
    """The role's inline policies, the AWS::IAM::Policy / ManagedPolicy resources attached to it, and the managed
    policy ARNs it lists (in `managed_arns` of one document). Statements are read by the shared IAM parser, so
    intrinsic values become its placeholders."""
    docs: list[PolicyDocument] = []
    rp = _props(role)
    for path, item, why in t.items((*rp, "Policies")):
        if item is None:
            raise EvidenceError(f"an inline policy of role {role} is {why}: mlgate cannot tell what it grants",
                                path=t.rel, line=t.loc(path).line)
        name = t.value((*path, "PolicyName"))
        docs.append(_policy(t, (*path, "PolicyDocument"), f"{t.rel}#{role}/{name.text if name else len(docs)}",
                            t.loc(path)))
    managed: list[str] = []
    for arn in _list_values(t, (*rp, "ManagedPolicyArns")):
        if arn.ref and t.rtype(arn.ref) == "AWS::IAM::ManagedPolicy":
            docs.append(_policy(t, (*_props(arn.ref), "PolicyDocument"), f"{t.rel}#{arn.ref}",
                                t.loc(("Resources", arn.ref))))
        else:
            managed.append(managed_arn(arn))
    for pid in t.of_type("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        pp = _props(pid)
        label = f"{t.rel}#{pid}"
        attached = any(v.ref == role or (v.known and v.value == role) for v in _list_values(t, (*pp, "Roles")))
        if attached and not any(d.name == label for d in docs):
            docs.append(_policy(t, (*pp, "PolicyDocument"), label, t.loc(("Resources", pid))))
    if managed:
        docs.append(PolicyDocument(f"{t.rel}#{role}/ManagedPolicyArns", "cloudformation", (),
                                   t.loc((*rp, "ManagedPolicyArns")), managed_arns=tuple(managed)))
    return docs


def _policy(t: Template, path: PathT, name: str, location: Location) -> PolicyDocument:
    data, why = t.struct(path)
    if why or data is None:
        raise EvidenceError(f"the policy document of {name} is {why or 'missing'}: mlgate cannot tell what it "
                            "grants", path=t.rel, line=t.loc(path).line)
    return parse_policy(_resolved(t, data, path, 0), name=name, kind="cloudformation", rel=t.rel, doc=t.doc, at=path,
                        location=location)


def _resolved(t: Template, node: Any, path: PathT, depth: int) -> Any:
    """A policy with its parameters substituted as the stack is deployed (`!Ref P`, `${P}` in `!Sub`: the parameter
    file's value, else the Default), so a `Default: "*"` counts as the wildcard it is. What stays unknown is left
    to the IAM parser's placeholders (a Sub or Join keeps its template with the known parts filled in)."""
    if depth > _MAX_DEPTH:
        return node
    if _intrinsic(node):
        value = t.eval(node, path, depth + 1)
        if value.known and (isinstance(value.value, str) or (
                isinstance(value.value, list) and all(isinstance(v, str) for v in value.value))):
            return value.value
        if not value.known and next(iter(node)) in ("Fn::Sub", "Fn::Join") and value.template:
            return value.template
        return node
    if isinstance(node, dict):
        return {k: _resolved(t, v, (*path, k), depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        out: list[Any] = []
        for i, item in enumerate(node):
            got = _resolved(t, item, (*path, i), depth + 1)
            out.extend(got) if isinstance(got, list) and _intrinsic(item) else out.append(got)
        return out
    return node


_MANAGED = re.compile(r"^arn:(?:aws|\$\{[^}]*\}):iam::aws:policy/(.+)$")


def managed_arn(arn: Value) -> str:
    """A managed policy ARN as text; `arn:${AWS::Partition}:iam::aws:policy/X` (how CDK writes it) becomes
    `arn:aws:iam::aws:policy/X`, so the AWS managed policy can be looked up."""
    text = show(arn.value) if arn.known else (arn.template or arn.text)
    match = _MANAGED.match(text)
    return f"arn:aws:iam::aws:policy/{match.group(1)}" if match else (text if arn.known else arn.text)


def _list_values(t: Template, path: PathT) -> list[Value]:
    node, why = t.struct(path)
    if not isinstance(node, list):
        value = t.value(path)
        return [value] if value is not None and why is None else []
    out = []
    for i in range(len(node)):
        value = t.value((*path, i))
        if value is not None:
            out.append(value)
    return out


# The resource types read: where each joins the deployment, and its reader.
_READERS: dict[str, tuple[Callable[[Infrastructure], list[Any]], Callable[[Template, str], Any]]] = {
    "AWS::SageMaker::Endpoint": (lambda infra: infra.endpoints, _endpoint),
    "AWS::SageMaker::EndpointConfig": (lambda infra: infra.configs, _config),
    "AWS::SageMaker::Model": (lambda infra: infra.models, _model),
    "AWS::CloudWatch::Alarm": (lambda infra: infra.alarms, _alarm),
    "AWS::SageMaker::MonitoringSchedule": (lambda infra: infra.schedules, _schedule),
    "AWS::ApplicationAutoScaling::ScalableTarget": (lambda infra: infra.targets, _target),
    "AWS::SageMaker::InferenceExperiment": (lambda infra: infra.experiments, _experiment),
    "AWS::ApplicationAutoScaling::ScalingPolicy": (lambda infra: infra.policies, _scaling_policy),
    "AWS::CloudWatch::CompositeAlarm": (lambda infra: infra.composites, _composite),
}
