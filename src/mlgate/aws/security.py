"""SEC001 online: the execution role as the account holds it, analysed exactly like a policy file.

The roles are the one `security.execution_role.arn` names and the ones the live endpoint's models run with
(DescribeModel). Each role's inline policies (ListRolePolicies, GetRolePolicy) and attached managed policies
(ListAttachedRolePolicies, then GetPolicy and GetPolicyVersion for the default version) become `PolicyDocument`s
and go through the same analysis as the offline check (`mlgate.iam.analysis.analyse`); an AWS managed policy that
mlgate's snapshot holds is analysed from the snapshot, as when a spec lists it in `managed_policies`. When the
repository also holds the role's policies, the actions the live role grants beyond them are reported: the account
is broader than the repository says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from mlgate.aws.session import AwsProblem
from mlgate.errors import EvidenceError
from mlgate.result import Finding, Location
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    from mlgate.aws.live import Online
    from mlgate.checks import CheckContext
    from mlgate.evidence.iam import PolicyDocument

_ROLE: PathT = ("security", "execution_role")
_SHOWN = 8


@dataclass
class LiveRole:
    arn: str
    used_by: list[str] = field(default_factory=list)  # "variant 'x' (model m)", "security.execution_role.arn"
    documents: list[PolicyDocument] = field(default_factory=list)
    managed: list[str] = field(default_factory=list)  # AWS managed policy ARNs, analysed from the snapshot
    names: list[str] = field(default_factory=list)  # every policy, as a person reads the list

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1]


def _document(raw: Any) -> Any:
    """A policy document as IAM returns it: a mapping (boto3 decodes it), or URL-encoded JSON text."""
    if isinstance(raw, str):
        return json.loads(unquote(raw))
    return raw


def _roles(ctx: CheckContext, online: Online) -> tuple[dict[str, LiveRole], list[Finding]]:
    """The roles to analyse, and findings about where they come from."""
    role_spec = ctx.spec.security.execution_role if ctx.spec.security else None
    stated = role_spec.arn.strip() if role_spec and role_spec.arn else None
    roles: dict[str, LiveRole] = {}
    notes: list[Finding] = []
    if stated:
        roles[stated] = LiveRole(stated, ["security.execution_role.arn"])
    wrong = online.account_problem(ctx, (*_ROLE, "arn") if stated else ("serving", "account"))
    if wrong is not None:
        return {}, [wrong]
    found = online.endpoint(ctx, "models' execution role")
    if isinstance(found, Finding):
        if not stated:  # with a stated role, the endpoint's absence does not stop the analysis
            notes.append(found)
        return roles, notes
    for variant in [*found.variants, *found.shadows]:
        if not variant.model:
            continue
        model = online.session.call("sagemaker", "DescribeModel", region=found.region,
                                    target=f"model {variant.model}", ModelName=variant.model)
        arn = model.get("ExecutionRoleArn")
        if not arn:
            continue
        kind = "shadow variant" if variant.shadow else "variant"
        roles.setdefault(str(arn), LiveRole(str(arn))).used_by.append(f"{kind} '{variant.name}' (model "
                                                                       f"{variant.model})")
    if stated:
        others = [r for a, r in roles.items() if a != stated]
        for role in others:
            notes.append(ctx.fail(f"{found.where}: {', '.join(role.used_by)} run{'s' if len(role.used_by) == 1 else ''}"
                                  f" with role {role.arn}, not the security.execution_role.arn {stated}",
                                  at=(*_ROLE, "arn"),
                                  fix="deploy the models with the role the spec names, or fix "
                                      "security.execution_role.arn"))
    return roles, notes


def _read(online: Online, role: LiveRole, at: Location, region: str | None) -> None:
    """Fill `role` with its live policies (IAM is global: any Region's endpoint answers)."""
    from functools import partial

    from mlgate.evidence.iam import parse_policy
    from mlgate.iam.managed import managed_policy

    call = partial(online.session.call, region=region or "us-east-1")
    pages = partial(online.session.pages, region=region or "us-east-1")
    call("iam", "GetRole", target=f"role {role.arn}", RoleName=role.name)
    for name in pages("iam", "ListRolePolicies", "PolicyNames", target=f"role {role.arn}",
                                     RoleName=role.name):
        answer = call("iam", "GetRolePolicy", target=f"inline policy {name} of role {role.name}",
                      RoleName=role.name, PolicyName=name)
        label = f"inline policy {name} of live role {role.name}"
        role.documents.append(parse_policy(_document(answer.get("PolicyDocument")), name=label, kind="aws-account",
                                           location=at))
        role.names.append(f"inline {name}")
    for attached in pages("iam", "ListAttachedRolePolicies", "AttachedPolicies",
                                         target=f"role {role.arn}", RoleName=role.name):
        arn = str(attached.get("PolicyArn"))
        if managed_policy(arn) is not None:
            role.managed.append(arn)
            role.names.append(f"AWS managed {arn.rsplit('/', 1)[-1]}")
            continue
        policy = call("iam", "GetPolicy", target=f"policy {arn}", PolicyArn=arn).get("Policy") or {}
        version = str(policy.get("DefaultVersionId") or "v1")
        document = (call("iam", "GetPolicyVersion", target=f"policy {arn} {version}", PolicyArn=arn,
                         VersionId=version).get("PolicyVersion") or {}).get("Document")
        label = f"managed policy {arn} ({version}) of live role {role.name}"
        role.documents.append(parse_policy(_document(document), name=label, kind="aws-account", location=at))
        role.names.append(f"managed {attached.get('PolicyName') or arn}")


def least_privilege(ctx: CheckContext, online: Online) -> Iterator[Finding]:
    """SEC001 online: every role the deployment runs with, as the account holds it."""
    roles, notes = _roles(ctx, online)
    yield from notes
    if not roles:
        if not notes:
            yield ctx.na("the live endpoint's models name no execution role, and security.execution_role.arn is not "
                         "set: no live role to analyse", at=_ROLE)
        return
    value = ctx.params.get("metric_namespaces")
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value) or not value:
        return  # the offline check reports the bad parameter
    namespaces = [str(v) for v in value]
    at = ctx.at(_ROLE)
    offline = _offline_actions(ctx, namespaces)
    for role in roles.values():
        try:
            _read(online, role, at, online.region(ctx))
        except AwsProblem as problem:
            if problem.kind == "not-found":
                yield ctx.fail(f"role {role.arn} ({', '.join(role.used_by)}) does not exist in the account: the "
                               "endpoint cannot run with it", at=_ROLE,
                               fix="create the role (deploy the stack that defines it), or fix the ARN")
            else:
                yield ctx.error(f"live role {role.arn}: {problem}", at=_ROLE)
            continue
        except EvidenceError as exc:
            yield ctx.error(f"live role {role.arn}: a policy is not a valid IAM policy: {exc.message}", at=_ROLE)
            continue
        yield from _judge(ctx, role, namespaces, offline, at)


def _analyse(ctx: CheckContext, documents: list[PolicyDocument], managed: list[tuple[str, Location | None]],
             namespaces: list[str]) -> Any:
    from mlgate.iam.analysis import analyse
    from mlgate.iam.suggest import EndpointFacts, suggest

    return analyse(documents, EndpointFacts.from_spec(ctx.spec), suggest(ctx.spec, namespaces), managed)


def _offline_actions(ctx: CheckContext, namespaces: list[str]) -> tuple[str, set[str]] | None:
    """(what the repository names, the actions its policies grant), when the repository holds the role's policies."""
    from mlgate.checks.security import role_policies

    role = ctx.spec.security.execution_role if ctx.spec.security else None
    try:
        documents, _ = role_policies(ctx)
    except EvidenceError:
        return None  # the offline check reports it
    managed = [(arn, ctx.at((*_ROLE, "managed_policies", i)))
               for i, arn in enumerate(role.managed_policies if role else [])]
    if not documents and not managed:
        return None
    analysis = _analyse(ctx, documents, list(managed), namespaces)
    names = ", ".join([d.name for d in documents] + [arn.rsplit("/", 1)[-1] for arn, _ in managed])
    return names, {key for g in analysis.grants for key in g.actions}


def _judge(ctx: CheckContext, role: LiveRole, namespaces: list[str], offline: tuple[str, set[str]] | None,
           at: Location) -> Iterator[Finding]:
    from mlgate.iam.analysis import IDENTITY_VIEW, RANK

    analysis = _analyse(ctx, role.documents, [(arn, at) for arn in role.managed], namespaces)
    who = f"live role {role.name} ({', '.join(role.used_by)}; policies: {', '.join(role.names) or 'none'})"
    blocking = [i for i in analysis.issues if i.blocking]
    if blocking:
        counts = ", ".join(f"{n} {s}" for s in RANK if (n := sum(1 for i in blocking if i.severity == s)))
        yield ctx.fail(f"the {who} grants more than an inference endpoint needs: {counts} finding"
                       f"{'s' if len(blocking) > 1 else ''} ({IDENTITY_VIEW})", at=_ROLE,
                       fix="replace the role's policies in the account with the least-privilege policy `mlgate "
                           "iam-policy` prints for this spec")
    for issue in analysis.issues:
        message = f"[{issue.severity}] live role {role.name}: {issue.message}"
        if issue.blocking:
            yield ctx.fail(message, at=_ROLE, fix=issue.fix)
        else:
            yield ctx.warn(message, at=_ROLE, fix=issue.fix)
    live = {key for g in analysis.grants for key in g.actions}
    names = {key: a.name for g in analysis.grants for key, a in g.actions.items()}
    if offline is not None:
        source, granted = offline
        extra = sorted(live - granted)
        if extra:
            shown = ", ".join(names[k] for k in extra[:_SHOWN]) + (f" and {len(extra) - _SHOWN} more"
                                                                    if len(extra) > _SHOWN else "")
            yield ctx.fail(f"the {who} grants {len(extra)} action{'s' if len(extra) != 1 else ''} that the "
                           f"repository's policies ({source}) do not: {shown}; the account is broader than the "
                           "repository says", at=_ROLE,
                           fix="make the role in the account hold the repository's policies (deploy them, detach "
                               "what they do not list), or commit and review what the account grants")
            return
    if not blocking:
        same = f"; it grants nothing beyond the repository's policies ({offline[0]})" if offline else ""
        yield ctx.ok(f"the {who}: {len(live)} action{'s' if len(live) != 1 else ''}, none of them privilege "
                     f"escalation, credential exposure or broad writes{same}; checked against "
                     f"{analysis.catalog.source} ({IDENTITY_VIEW})", at=_ROLE)
