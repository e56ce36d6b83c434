"""Infrastructure code as evidence: the CloudFormation, CDK output, Terraform or deploy scripts that create the
endpoint.

`infrastructure(site)` reads what `infrastructure:` in the spec names (each file once per run, shared by the rules)
into one `Infrastructure` (see model.py), with the values the team deploys with: CloudFormation parameter files
(`infrastructure.parameters`, see parameters.py) and Terraform `-var-file`s (`infrastructure.tfvars`).
`select_endpoint` finds the spec's endpoint and its endpoint config in it. For SEC001, `role_policies_from_iac`
reads a role's policies out of a template or a Terraform directory (with the same deploy-time values), and
`model_execution_role` says which role the infrastructure gives the model.
"""

from __future__ import annotations

import json
import os
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlgate.errors import EvidenceError
from mlgate.evidence.iac.cloudformation import Template, read_template
from mlgate.evidence.iac.model import Endpoint, EndpointConfig, Infrastructure, Kind, Value, Variant, names, show
from mlgate.evidence.iam import PolicyDocument
from mlgate.evidence.site import Site
from mlgate.evidence.workspace import Workspace
from mlgate.parsers import load_json
from mlgate.result import Location
from mlgate.yamlload import Document, Pos, YamlError, parse_yaml

__all__ = ["Endpoint", "EndpointConfig", "ExecutionRole", "Infrastructure", "Selection", "Value", "Variant",
           "deploy_values", "deployed_templates", "infrastructure", "infrastructure_paths", "model_execution_role",
           "role_policies_from_iac", "select_endpoint"]

_CACHE: weakref.WeakKeyDictionary[Workspace, dict[tuple[str, Path], Any]] = weakref.WeakKeyDictionary()
_TEMPLATE_SUFFIXES = (".yaml", ".yml", ".json", ".template")


def _cached(ws: Workspace, kind: str, path: Path, load: Any) -> Any:
    store = _CACHE.setdefault(ws, {})
    key = (kind, path)
    if key not in store:
        try:
            store[key] = load()
        except EvidenceError as exc:
            store[key] = exc
    found = store[key]
    if isinstance(found, EvidenceError):
        raise found
    return found


# -- CloudFormation -----------------------------------------------------------------------------------------------

def _parse_template(ws: Workspace, path: Path) -> Template:
    rel = ws.rel(path)
    text = ws.read_text(path)
    try:
        doc = parse_yaml(text, cfn_tags=True)
    except YamlError as exc:
        if path.suffix != ".json":
            raise EvidenceError(exc.message, path=rel, line=exc.line) from None
        try:  # JSON that the YAML parser refuses (tabs, say): read it without lines rather than not at all
            doc = Document(load_json(text), {(): Pos(1, 1)})
        except json.JSONDecodeError as err:
            raise EvidenceError(f"is not valid JSON: {err.msg}", path=rel, line=err.lineno) from None
    data = doc.data
    if isinstance(data, dict) and "Resources" not in data and "service" in data and "provider" in data:
        from mlgate.evidence.iac.serverless import read_serverless  # a Serverless Framework file (serverless.yml)

        return read_serverless(rel, doc)
    return Template(rel, doc)


def templates(ws: Workspace, path: Path) -> list[Template]:
    """The template `path` names, or every template in the directory it names (e.g. cdk.out/)."""
    def load() -> list[Template]:
        if path.is_dir():
            found = []
            for file in sorted(path.iterdir()):
                if file.is_file() and file.name.endswith(_TEMPLATE_SUFFIXES):
                    try:
                        found.append(_parse_template(ws, file))
                    except EvidenceError:
                        continue  # cdk.out also holds manifest.json, tree.json ...: not templates
            if not found:
                raise EvidenceError("holds no CloudFormation template (a YAML or JSON file with Resources)",
                                    path=ws.rel(path))
            return found
        return [_parse_template(ws, path)]
    result: list[Template] = _cached(ws, "cloudformation", path, load)
    return result


def deployed_templates(ws: Workspace, path: Path, parameters: tuple[Path, ...] = ()) -> list[Template]:
    """The templates at `path` bound to the parameter files they are deployed with (a later file wins). Raises
    EvidenceError for a parameter file that cannot be read, or that sets a parameter no template declares."""
    found = templates(ws, path)
    if not parameters:
        return found
    from mlgate.evidence.iac.parameters import check_declared, read_parameters

    given = read_parameters(ws, list(parameters))
    declared = {name: spec if isinstance(spec, dict) else {} for t in found for name, spec in t.params.items()}
    check_declared(given, declared, ws.rel(path))
    return [t.bind(given) for t in found]


# -- Terraform ----------------------------------------------------------------------------------------------------

def terraform_module(ws: Workspace, path: Path, var_files: tuple[Path, ...] = ()) -> Any:
    """The Terraform root module at `path`, with `var_files` read after terraform.tfvars and *.auto.tfvars."""
    from mlgate.evidence.iac.terraform import Module

    if not path.is_dir():
        raise EvidenceError("is not a directory: name the Terraform directory (its *.tf files are read)",
                            path=ws.rel(path))
    return _cached(ws, "terraform" + _key(var_files), path, lambda: Module(ws, path, list(var_files)))


def _key(extra: tuple[Path, ...]) -> str:
    return "".join(f"|{p}" for p in extra)


# -- the spec's infrastructure --------------------------------------------------------------------------------------

def infrastructure_paths(site: Site) -> list[tuple[Kind, str, Path]]:
    """(kind, the path as written, the resolved path) of each `infrastructure:` entry of the spec."""
    infra = site.spec.infrastructure
    out: list[tuple[Kind, str, Path]] = []
    if infra is None:
        return out
    kinds: tuple[Kind, ...] = ("cloudformation", "terraform")
    for kind in kinds:
        written = getattr(infra, kind)
        if written:
            out.append((kind, written, site.resolve(written)))
    out += [("script", written, site.resolve(written)) for written in infra.scripts]
    return out


def deploy_values(site: Site, kind: Kind) -> tuple[Path, ...]:
    """The files that give the code its values at deploy time: `infrastructure.parameters` (CloudFormation) or
    `infrastructure.tfvars` (Terraform), resolved against the spec. Raises EvidenceError, at the spec's line, for
    a file that does not exist or one named for code the spec does not name."""
    infra = site.spec.infrastructure
    field = "parameters" if kind == "cloudformation" else "tfvars"
    written = getattr(infra, field) if infra is not None else None
    if not written:
        return ()
    listed = [written] if isinstance(written, str) else list(written)
    spec = site.at(("infrastructure", field))
    if infra is not None and not getattr(infra, kind):
        code = "a CloudFormation template" if kind == "cloudformation" else "Terraform"
        raise EvidenceError(f"infrastructure.{field} gives values to {code}, but the spec names no "
                            f"infrastructure.{kind}", path=spec.path, line=spec.line)
    out = []
    for i, name in enumerate(listed):
        path = site.resolve(name)
        if not path.is_file():
            at = site.at(("infrastructure", field) if isinstance(written, str) else ("infrastructure", field, i))
            raise EvidenceError(f"infrastructure.{field} names {name}, which is not a file", path=at.path,
                                line=at.line)
        out.append(path)
    return tuple(out)


def infrastructure(site: Site) -> Infrastructure | None:
    """Everything the spec's infrastructure code deploys (None when the spec names none). Raises EvidenceError
    for a file that cannot be read; the caller checks first that the named paths exist."""
    found: Infrastructure | None = None
    kinds: tuple[Kind, ...] = ("cloudformation", "terraform")
    values = {kind: deploy_values(site, kind) for kind in kinds}  # every named file is checked, used or not
    for kind, _, path in infrastructure_paths(site):
        part = _read(site.workspace, kind, path, values.get(kind, ()))
        if found is None:
            found = Infrastructure(part.kind, part.origin)
        found.merge(part)
    return found


def _read(ws: Workspace, kind: Kind, path: Path, extra: tuple[Path, ...] = ()) -> Infrastructure:
    def load() -> Infrastructure:
        if kind == "cloudformation":
            out = Infrastructure("cloudformation", ws.rel(path))
            for t in deployed_templates(ws, path, extra):
                out.merge(read_template(t))
            return out
        if kind == "script":
            from mlgate.evidence.iac.scripts import read_scripts

            return read_scripts(ws, [path])
        from mlgate.evidence.iac.terraform import read_module

        return read_module(terraform_module(ws, path, extra))
    result: Infrastructure = _cached(ws, f"{kind}-infra{_key(extra)}", path, load)
    return result


@dataclass
class Selection:
    """The spec's endpoint in the infrastructure code, and its endpoint config; or why none was chosen."""

    endpoint: Endpoint | None
    config: EndpointConfig | None
    how: str  # how the endpoint was matched, for messages
    problem: str | None = None
    config_note: str | None = None  # how the config was matched when no reference links it


def select_endpoint(infra: Infrastructure, name: str | None) -> Selection:
    endpoints = infra.endpoints
    if not endpoints:
        return Selection(None, None, "", problem="defines no SageMaker endpoint (AWS::SageMaker::Endpoint, "
                                                 "aws_sagemaker_endpoint, create_endpoint or .deploy)")
    chosen: Endpoint | None = None
    how = ""
    if name:
        matches = [e for e in endpoints if e.name is not None and e.name.known and show(e.name.value) == name]
        if matches:
            chosen, how = matches[0], f"endpoint '{name}' ({matches[0].id}, {_where(matches[0].at)})"
    if chosen is None:
        if len(endpoints) > 1:
            listed = ", ".join(f"{e.id} ({e.name.text if e.name else 'no name'})" for e in endpoints)
            wanted = f"none is named '{name}'" if name else "serving.endpoint does not say which"
            return Selection(None, None, "", problem=f"defines {len(endpoints)} endpoints ({listed}) and {wanted}")
        chosen = endpoints[0]
        shown = chosen.name.text if chosen.name is not None else "a generated name"
        how = f"the only endpoint in the code, {chosen.id} ({shown}, {_where(chosen.at)})"
    config, note = _config_of(infra, chosen)
    return Selection(chosen, config, how, config_note=note)


def _config_of(infra: Infrastructure, endpoint: Endpoint) -> tuple[EndpointConfig | None, str | None]:
    for config in infra.configs:
        if names(endpoint.config, config.id, config.name):
            return config, None
    if len(infra.configs) == 1:
        config = infra.configs[0]
        return config, f"the only endpoint config in the code, {config.id} (the endpoint's EndpointConfigName " \
                       f"{endpoint.config.text if endpoint.config else 'is not written'} does not name it)"
    return None, None


def _where(at: Location) -> str:
    return f"{at.path}:{at.line}"


def model_of(infra: Infrastructure, variant: Variant) -> Any:
    for model in infra.models:
        if names(variant.model, model.id, model.name):
            return model
    return None


# -- the execution role, for SEC001 ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExecutionRole:
    """The role the infrastructure code gives the model (ExecutionRoleArn / execution_role_arn)."""

    kind: Kind
    model: str  # the model resource
    at: Location  # where the role ARN is written
    ref: str | None  # `file#LogicalId` or `dir#aws_iam_role.name`, for role_policies_from_iac; None if not in the code
    unknown: str | None = None  # why the role cannot be read from the code
    arn: str | None = None  # a role ARN written literally (the role is defined elsewhere)


def model_execution_role(site: Site) -> ExecutionRole | None:
    """The execution role of the model the spec's endpoint serves (the canary variant's model when the config has
    several), or of the only model in the code; None when the spec names no infrastructure or it has no model."""
    for kind, written, path in infrastructure_paths(site):
        if not path.exists():
            continue
        infra = _read(site.workspace, kind, path, deploy_values(site, kind))
        models = list(infra.models)
        selection = select_endpoint(infra, site.spec.serving.endpoint if site.spec.serving else None)
        if selection.config is not None:
            canary = site.spec.rollout.canary.variant if site.spec.rollout and site.spec.rollout.canary else None
            ordered = sorted(selection.config.variants,
                             key=lambda v: not (v.name is not None and v.name.known and v.name.value == canary))
            served = [m for v in ordered if (m := model_of(infra, v)) is not None]
            models = served or models
        if not models:
            continue
        model = models[0]
        role = model.execution_role
        if role is None:
            return ExecutionRole(kind, model.id, model.at, None, unknown=f"{model.id} writes no execution role")
        if role.ref is not None:
            # refs are written like the spec writes paths: relative to the spec's directory
            template = Path(os.path.relpath(site.workspace.root / role.at.path, site.base)).as_posix()
            ref = f"{template}#{role.ref}" if kind == "cloudformation" else f"{written.rstrip('/')}#{role.ref}"
            return ExecutionRole(kind, model.id, role.at, ref)
        if role.known:
            return ExecutionRole(kind, model.id, role.at, None, unknown="the role is named by its ARN, defined "
                                 "outside this code", arn=show(role.value))
        return ExecutionRole(kind, model.id, role.at, None, unknown=role.unknown)
    return None


def role_policies_from_iac(site: Site, ref: str, kind: Literal["cloudformation", "terraform"]
                           ) -> list[PolicyDocument]:
    """The policies of a role defined in the infrastructure code: `ref` is `file#LogicalId` (CloudFormation) or
    `directory#aws_iam_role.name` (Terraform); without `#...`, the role the model is given, else the only role.
    Returns the inline policies, the policy resources attached to it, and its managed policy ARNs (`managed_arns`).
    Raises EvidenceError when the file cannot be read or holds no such role."""
    written, _, role_id = ref.partition("#")
    path = site.resolve(written)
    if not path.exists():
        raise EvidenceError(f"{written} does not exist", path=site.workspace.rel(path))
    extra = _values_for(site, kind, path)
    if kind == "cloudformation":
        from mlgate.evidence.iac.cloudformation import role_ids, role_policies

        found = deployed_templates(site.workspace, path, extra)
        roles = {rid: t for t in found for rid in role_ids(t)}
        role = role_id or _default_role(list(roles), lambda r: any(
            m.execution_role is not None and m.execution_role.ref == r
            for t in found for m in read_template(t).models))
        if role not in roles:
            raise EvidenceError(_no_role(role, "AWS::IAM::Role", list(roles)), path=site.workspace.rel(path))
        return role_policies(roles[role], role)
    from mlgate.evidence.iac.terraform import role_addresses
    from mlgate.evidence.iac.terraform import role_policies as tf_role_policies

    root = terraform_module(site.workspace, path, extra)
    owners = {a: m for m in (root, *root.children()) for a in role_addresses(m)}  # local modules' roles too
    addresses = list(owners)
    infra = _read(site.workspace, "terraform", path, extra)
    if role_id and "aws_iam_role." not in role_id:
        role_id = f"aws_iam_role.{role_id}"
    role = role_id or _default_role(addresses, lambda r: any(
        m.execution_role is not None and m.execution_role.ref == r for m in infra.models))
    if role not in addresses:
        raise EvidenceError(_no_role(role, "aws_iam_role", addresses), path=site.workspace.rel(path))
    docs: list[PolicyDocument] = tf_role_policies(owners[role], role)
    return docs


def _values_for(site: Site, kind: Kind, path: Path) -> tuple[Path, ...]:
    """The deploy-time values of the code at `path` when it is (or is inside) the spec's infrastructure code: a
    role read for SEC001 is judged with the parameters it is deployed with, like the endpoint."""
    for named_kind, _, named in infrastructure_paths(site):
        if named_kind == kind and (path == named or named in path.parents):
            return deploy_values(site, kind)
    return ()


def _default_role(roles: list[str], is_execution_role: Any) -> str:
    used = [r for r in roles if is_execution_role(r)]
    if len(used) == 1:
        return used[0]
    if len(roles) == 1:
        return roles[0]
    return ""


def _no_role(role: str, kind: str, roles: list[str]) -> str:
    listed = ", ".join(roles) or "none"
    if not role:
        return f"cannot tell which role to read: name it after '#' ({kind}s in the code: {listed})"
    return f"there is no {kind} '{role}' ({kind}s in the code: {listed})"
