"""Infrastructure rules (IAC001-IAC003): the spec against the CloudFormation, CDK or Terraform that creates the
endpoint.

A spec is a claim; the infrastructure code is what gets deployed. Each rule reads the resources behind the spec's
endpoint (see `mlgate.evidence.iac`) and compares every fact both state: a disagreement fails with both sides and
both locations (the spec line as the finding's place, the IaC file:line in the message). A fact the spec leaves out
is taken from the code, and the finding says where it came from. A value the code computes at deploy time (a
parameter without a default, a condition, `!ImportValue`, a Terraform variable without a default, a module) is
reported as unknown with its location, never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mlgate.checks import CheckContext
from mlgate.deployment.resolve import iac_pattern, named, new_model_variant, serving_variant
from mlgate.evidence.iac import (
    Infrastructure,
    Selection,
    infrastructure,
    infrastructure_paths,
    model_of,
    select_endpoint,
)
from mlgate.evidence.iac.model import (
    CloudWatchAlarm,
    Endpoint,
    EndpointConfig,
    MonitoringSchedule,
    Value,
    Variant,
    names,
    show,
)
from mlgate.facts import load_facts
from mlgate.result import Finding, Location
from mlgate.rules.rollout._mechanism import step_share
from mlgate.schedules import frequency
from mlgate.units import format_duration, parse_duration
from mlgate.yamlload import PathT

# CloudWatch publishes ModelLatency and OverheadLatency in microseconds (facts §3.3); the spec writes milliseconds.


def _pattern(ctx: CheckContext) -> str | None:
    return ctx.spec.serving.pattern if ctx.spec.serving else None


def _dotted(path: PathT) -> str:
    return ".".join(str(p) for p in path)


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _same(a: Any, b: Any) -> bool:
    na, nb = _num(a), _num(b)
    if na is not None and nb is not None:
        return math.isclose(na, nb, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, bool) or isinstance(b, bool):
        return _flag(a) is not None and _flag(a) == _flag(b)
    return show(a) == show(b)


def _flag(value: Any) -> bool | None:
    """A boolean as CloudFormation accepts it: true/false, or the strings "true"/"false" (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _src(value: Value) -> str:
    return f"; {value.source}" if value.source else ""


def _iac(value: Value) -> str:
    """An IaC fact with its place: `ml.m5.large (deploy/stack.yaml:41)`."""
    return f"{value.text} ({value.where()}{_src(value)})"


def _unknown_fix(kind: str) -> str:
    if kind == "script":
        return ("write the value in the deploy script as a literal or a module-level constant (not read from the "
                "environment or the command line), so that what will be deployed can be checked before it is")
    if kind == "terraform":
        return ("write the value in the Terraform code, give the variable a default, or set it in "
                "terraform.tfvars or a file named in infrastructure.tfvars, so that what will be deployed can be "
                "checked before it is")
    return "write the value in the template, give the parameter a Default, or name the parameter file the stack " \
           "is deployed with in infrastructure.parameters, so that what will be deployed can be checked before it is"


@dataclass
class _Judge:
    """Collects the comparisons of one rule: findings for disagreements and unknowns, and the agreements for one
    closing `pass` that names the evidence."""

    ctx: CheckContext
    kind: str
    findings: list[Finding] = field(default_factory=list)
    agreed: list[str] = field(default_factory=list)

    def compare(self, what: str, spec: Any, at: PathT, iac: Value | None, *, fix: str,
                equal: Callable[[Any, Any], bool] = _same, shown: str | None = None,
                default: Value | None = None, absent: str | None = None) -> None:
        """`spec` (the spec's value at `at`) against the IaC fact `iac` (None: not written; then `default`, the
        value SageMaker or Terraform uses, stands in, or `absent` is the problem when the spec states one)."""
        if iac is None:
            if default is None:
                if spec is not None and absent:
                    self.findings.append(self.ctx.fail(absent, at=at, fix=fix))
                return
            iac = default
        spec_text = shown if shown is not None else (show(spec) if spec is not None else None)
        if spec is None:
            if iac.known and iac is not default:
                self.findings.append(self.ctx.ok(
                    f"{_dotted(at)} is not in the spec; the infrastructure code sets {what} to {_iac(iac)}",
                    at=iac.at))
            return
        if not iac.known:
            self.findings.append(self.ctx.warn(
                f"{_dotted(at)} is {spec_text}, but {what} in the infrastructure code is {iac.text}, known only at "
                f"deploy time ({iac.unknown}; {iac.where()}): mlgate cannot check that they agree", at=at,
                fix=_unknown_fix(self.kind)))
            return
        if equal(spec, iac.value):
            self.agreed.append(f"{what} {_iac(iac)}")
            return
        via = f" ({iac.source})" if iac.source else ""
        self.findings.append(self.ctx.fail(
            f"{_dotted(at)} is {spec_text}, but the infrastructure code sets {what} to {iac.text}{via}; the rules "
            "judge the code's value, which is what will be deployed", at=at, fix=fix,
            related=tuple(loc for loc in (iac.set_at, iac.at) if loc)))

    def fail(self, message: str, at: PathT | Location, fix: str, related: tuple[Location, ...] = ()) -> None:
        self.findings.append(self.ctx.fail(message, at=at, fix=fix, related=related))

    def warn(self, message: str, at: PathT | Location, fix: str) -> None:
        self.findings.append(self.ctx.warn(message, at=at, fix=fix))

    def ok(self, message: str, at: PathT | Location) -> None:
        self.findings.append(self.ctx.ok(message, at=at))

    def agree(self, fact: str) -> None:
        self.agreed.append(fact)

    def close(self, at: PathT, origin: str, how: str) -> Iterator[Finding]:
        yield from self.findings
        problems = any(f.status in ("fail", "error") for f in self.findings)
        if self.agreed and not problems:
            yield self.ctx.ok(f"the spec agrees with the infrastructure code ({origin}; {how}) on: "
                              + "; ".join(self.agreed), at=at)
        elif not self.findings:
            yield self.ctx.na(f"neither the spec nor the infrastructure code ({origin}) states a fact this rule "
                              "compares", at=at)


# -- loading ----------------------------------------------------------------------------------------------------------

@dataclass
class _Target:
    infra: Infrastructure
    selection: Selection
    endpoint: Endpoint
    config: EndpointConfig | None
    origin: str
    kind: str


def _load(ctx: CheckContext) -> tuple[Infrastructure | None, list[Finding]]:
    paths = infrastructure_paths(ctx.site)
    if not paths:
        return None, [ctx.na("the spec names no infrastructure code (infrastructure.cloudformation, "
                             "infrastructure.terraform or infrastructure.scripts), so there is nothing to cross-check",
                             at=("infrastructure",))]
    scripts = ctx.spec.infrastructure.scripts if ctx.spec.infrastructure else []
    missing = [ctx.fail(f"infrastructure.scripts names {written}, which does not exist",
                        at=("infrastructure", "scripts", scripts.index(written)),
                        fix="point it at the Python script that deploys the endpoint (boto3 or the SageMaker SDK)")
               if kind == "script" else
               ctx.fail(f"infrastructure.{kind} names {written}, which does not exist", at=("infrastructure", kind),
                        fix="point it at the CloudFormation template (YAML or JSON, or cdk.out/*.template.json) "
                            "or the Terraform directory that creates the endpoint")
               for kind, written, path in paths if not path.exists()]
    if missing:
        return None, missing
    return infrastructure(ctx.site), []


def _origin(infra: Infrastructure) -> str:
    files = infra.files
    return files[0] if len(files) == 1 else f"{infra.origin}, {len(files)} files"


def _target(ctx: CheckContext, *, strict: bool) -> tuple[_Target | None, list[Finding]]:
    """The spec's endpoint in the infrastructure code. `strict` (IAC001) reports a missing endpoint as a failure;
    the other rules only say they cannot apply."""
    infra, early = _load(ctx)
    if infra is None:
        return None, early
    name = ctx.spec.serving.endpoint if ctx.spec.serving else None
    selection = select_endpoint(infra, name)
    origin = _origin(infra)
    kind = infra.kind
    where: PathT = ("infrastructure", kind)
    if selection.endpoint is None:
        if _pattern(ctx) == "batch" and not infra.endpoints:
            return None, [ctx.ok(f"serving.pattern is batch and the infrastructure code ({origin}) defines no "
                                 "endpoint, as a batch transform needs none", at=("serving", "pattern"))]
        if not strict:
            return None, [ctx.na(f"the spec's endpoint is not found in the infrastructure code ({origin}; see "
                                 f"IAC001), so there is nothing to compare", at=where)]
        gaps = "; ".join(f"{g.what} ({g.at.path}:{g.at.line})" for g in infra.gaps)
        if gaps:
            return None, [ctx.warn(f"the infrastructure code ({origin}) {selection.problem}; it may be created "
                                   f"where mlgate cannot read: {gaps}", at=where,
                                   fix="define the endpoint in the named code, or name the code that defines it")]
        return None, [ctx.fail(f"the infrastructure code ({origin}) {selection.problem}, so nothing there deploys "
                               "the spec's endpoint", at=("serving", "endpoint") if name else where,
                               fix="name the template or Terraform directory that creates the endpoint in "
                                   "infrastructure:, and set serving.endpoint to the endpoint's name")]
    return _Target(infra, selection, selection.endpoint, selection.config, origin, kind), []


def _variants_text(variants: list[Variant]) -> str:
    return ", ".join(f"'{v.name.text}'" if v.name else "(unnamed)" for v in variants) or "none"


# IAC001 -------------------------------------------------------------------------------------------------------------

def serving(ctx: CheckContext) -> Iterator[Finding]:
    """The endpoint the infrastructure code deploys is the one the spec describes: pattern, instance type and
    count, serverless memory and concurrency, async settings, autoscaling, isolation."""
    target, early = _target(ctx, strict=True)
    if target is None:
        yield from early
        return
    judge = _Judge(ctx, target.kind)
    endpoint, config = target.endpoint, target.config
    spec_serving = ctx.spec.serving
    pattern = _pattern(ctx)
    if pattern == "batch":
        yield ctx.fail(f"serving.pattern is batch, but the infrastructure code deploys endpoint {endpoint.id} "
                       f"({endpoint.at.path}:{endpoint.at.line}): a batch transform serves from no endpoint",
                       at=("serving", "pattern"),
                       fix="set serving.pattern to what the code deploys (realtime, serverless or async), or remove "
                           "the endpoint from the code")
        return

    judge.compare("the endpoint's name", spec_serving.endpoint if spec_serving else None, ("serving", "endpoint"),
                  endpoint.name, fix="set serving.endpoint to the EndpointName the code gives the endpoint, or "
                                     "rename the endpoint in the code")
    if endpoint.condition:
        judge.warn(f"endpoint {endpoint.id} ({endpoint.at.path}:{endpoint.at.line}) is created only when condition "
                   f"{endpoint.condition} holds, which mlgate does not decide", at=endpoint.at,
                   fix="make sure the deployment this spec describes meets the condition")

    if config is None:
        judge.fail(f"endpoint {endpoint.id} uses endpoint config {endpoint.config.text if endpoint.config else '?'}, "
                   f"which is not defined in the infrastructure code ({target.origin})", at=endpoint.at,
                   fix="define the endpoint config in the same code, so its variants can be checked")
        yield from judge.close(("serving",), target.origin, target.selection.how)
        return
    if target.selection.config_note:
        judge.agree(f"endpoint config {target.selection.config_note}")
    if config.unknown:
        judge.warn(f"the shape of endpoint config {config.id} ({config.at.path}:{config.at.line}) cannot be known "
                   f"before deployment: {config.unknown}; its variants are not compared with the spec",
                   at=config.at, fix=_unknown_fix(target.kind))

    deployed_pattern = iac_pattern(config)
    if deployed_pattern is not None:
        judge.compare("the serving pattern", pattern, ("serving", "pattern"), deployed_pattern,
                      fix=f"set serving.pattern to what the endpoint config serves ({deployed_pattern.text}), or "
                          f"change the endpoint config to serve as {pattern}")

    variant, how = serving_variant(ctx.spec, config)
    if variant is None and config.variants:
        judge.warn(f"endpoint config {config.id} has {len(config.variants)} production variants "
                   f"({_variants_text(config.variants)}) and none is rollout.canary.variant, so mlgate cannot tell "
                   "which one serves this model", at=("rollout", "canary", "variant"),
                   fix="name the new model's variant in rollout.canary.variant")
    if variant is not None:
        vname = f"variant '{variant.name.text if variant.name else '?'}' ({how})"
        if variant.serverless is None:
            judge.compare(f"{vname}'s InstanceType", spec_serving.instance_type if spec_serving else None,
                          ("serving", "instance_type"), variant.instance_type,
                          fix="make serving.instance_type and the variant's InstanceType the same")
            judge.compare(f"{vname}'s InitialInstanceCount", spec_serving.instance_count if spec_serving else None,
                          ("serving", "instance_count"), variant.instance_count,
                          fix="make serving.instance_count and the variant's InitialInstanceCount the same")
        else:
            spec_sl = spec_serving.serverless if spec_serving else None
            sl = variant.serverless
            base = ("serving", "serverless")
            for field_, label, iac_value in (("memory_mb", "MemorySizeInMB", sl.memory_mb),
                                             ("max_concurrency", "MaxConcurrency", sl.max_concurrency),
                                             ("provisioned_concurrency", "ProvisionedConcurrency",
                                              sl.provisioned_concurrency)):
                judge.compare(f"{vname}'s ServerlessConfig.{label}",
                              getattr(spec_sl, field_) if spec_sl else None, (*base, field_), iac_value,
                              fix=f"make serving.serverless.{field_} and ServerlessConfig.{label} the same",
                              absent=(f"serving.serverless.{field_} is {getattr(spec_sl, field_, None)}, but "
                                      f"{vname} sets no ServerlessConfig.{label} ({sl.at.path}:{sl.at.line})"
                                      if field_ == "provisioned_concurrency" else None))
        _autoscaling(ctx, judge, target, variant)
        _model_facts(ctx, judge, target, variant)

    if config.async_inference is not None and spec_serving and spec_serving.async_inference:
        judge.compare("AsyncInferenceConfig.ClientConfig.MaxConcurrentInvocationsPerInstance",
                      spec_serving.async_inference.max_concurrent_invocations_per_instance,
                      ("serving", "async_inference", "max_concurrent_invocations_per_instance"),
                      config.async_inference.max_concurrent_invocations_per_instance,
                      fix="make the two MaxConcurrentInvocationsPerInstance values the same")
    yield from judge.close(("serving",), target.origin, target.selection.how)


def _autoscaling(ctx: CheckContext, judge: _Judge, target: _Target, variant: Variant) -> None:
    spec_as = ctx.spec.serving.autoscaling if ctx.spec.serving else None
    if variant.name is None or not variant.name.known:
        return
    suffix = f"/variant/{show(variant.name.value)}"
    matches = []
    for t in target.infra.targets:
        text = t.resource_id.template or t.resource_id.text if t.resource_id is not None else ""
        if t.resource_id is not None and t.resource_id.known:
            text = show(t.resource_id.value)
        if text.endswith(suffix):
            matches.append(t)
    if not matches:
        if spec_as is not None and (spec_as.min_instances is not None or spec_as.max_instances is not None):
            judge.warn(f"serving.autoscaling is set, but the infrastructure code ({target.origin}) registers no "
                       f"scalable target for variant '{show(variant.name.value)}' (AWS::ApplicationAutoScaling::"
                       "ScalableTarget / aws_appautoscaling_target): nothing there scales the endpoint",
                       at=("serving", "autoscaling"),
                       fix="register the variant as a scalable target in the same code, with the spec's minimum and "
                           "maximum")
        return
    scaling = matches[0]
    judge.compare("the scalable target's MinCapacity", spec_as.min_instances if spec_as else None,
                  ("serving", "autoscaling", "min_instances"), scaling.min_capacity,
                  fix="make serving.autoscaling.min_instances and MinCapacity the same")
    judge.compare("the scalable target's MaxCapacity", spec_as.max_instances if spec_as else None,
                  ("serving", "autoscaling", "max_instances"), scaling.max_capacity,
                  fix="make serving.autoscaling.max_instances and MaxCapacity the same")


def _model_facts(ctx: CheckContext, judge: _Judge, target: _Target, variant: Variant) -> None:
    spec_serving = ctx.spec.serving
    if spec_serving is None:
        return
    new = new_model_variant(ctx.spec, target.config) if target.config is not None else None
    new_model = model_of(target.infra, new) if new is not None else None
    if new_model is not None:
        judge.compare(f"model {new_model.id}'s container image", spec_serving.image, ("serving", "image"),
                      new_model.image, fix="make serving.image and the model's container Image the same image "
                                           "(by digest)")
    model = model_of(target.infra, variant)
    if model is None:
        return
    judge.compare(f"model {model.id}'s EnableNetworkIsolation", spec_serving.network_isolation,
                  ("serving", "network_isolation"), model.network_isolation,
                  default=Value(False, model.at, source="not written: SageMaker's default is false"),
                  fix="make serving.network_isolation and the model's EnableNetworkIsolation the same")
    judge.compare(f"model {model.id}'s VpcConfig (present)", spec_serving.vpc, ("serving", "vpc"),
                  Value(True, model.vpc) if model.vpc else None,
                  default=Value(False, model.at, source="the model has no VpcConfig"),
                  fix="make serving.vpc say whether the model has a VpcConfig")
    judge.compare(f"model {model.id}'s multi-model mode", spec_serving.multi_model, ("serving", "multi_model"),
                  Value(True, model.at, source="a container has Mode MultiModel") if model.multi_model else None,
                  default=Value(False, model.at, source="no container has Mode MultiModel"),
                  fix="make serving.multi_model say whether the container's Mode is MultiModel")


# IAC002 -------------------------------------------------------------------------------------------------------------

def rollout(ctx: CheckContext) -> Iterator[Finding]:
    """The rollout the infrastructure code performs is the one the spec describes: the variants (new, previous,
    shadow) in the endpoint config, the canary's share of traffic, the deployment policy's steps and bake times,
    and the rollback alarms attached to this endpoint and defined on its metrics."""
    if _pattern(ctx) == "batch":
        yield ctx.na("serving.pattern is batch: a batch transform has no rollout to compare", at=("serving", "pattern"))
        return
    target, early = _target(ctx, strict=False)
    if target is None:
        yield from early
        return
    judge = _Judge(ctx, target.kind)
    config = target.config
    _mechanism(ctx, judge)
    if config is not None and config.unknown:
        judge.warn(f"the variants of endpoint config {config.id} cannot be known before deployment: "
                   f"{config.unknown}; mlgate cannot check the rollout's variants against them", at=config.at,
                   fix=_unknown_fix(target.kind))
    elif config is not None:
        _shadow(ctx, judge, config)
        _canary(ctx, judge, target, config)
    _rollback_alarms(ctx, judge, target)
    yield from judge.close(("rollout",), target.origin, target.selection.how)


def _mechanism(ctx: CheckContext, judge: _Judge) -> None:
    """rollout.mechanism as written against the mechanism the endpoint config and its DeploymentConfig show."""
    fact = ctx.resolved.fact(("rollout", "mechanism")) if ctx.resolved is not None else None
    if fact is None or fact.origin == "spec":
        return
    rollout_ = ctx.claimed.rollout
    claimed = rollout_.mechanism if rollout_ else None
    at: PathT = ("rollout", "mechanism")
    if fact.unknown:
        if claimed is not None:
            judge.warn(f"rollout.mechanism is {claimed}, but the infrastructure code decides it at deploy time "
                       f"({fact.unknown}): mlgate cannot check that they agree", at=at, fix=_unknown_fix(judge.kind))
        return
    shown = f"{fact.value} ({fact.at.path}:{fact.at.line}; {fact.via})" if fact.via else str(fact.value)
    if claimed is None:
        return  # the code's mechanism is a resolved fact; the rollout rules name it
    if claimed == fact.value:
        judge.agree(f"the rollout mechanism {shown}")
    else:
        judge.fail(f"rollout.mechanism is {claimed}, but the infrastructure code rolls out by {shown}; the rules judge "
                   "the code's mechanism, which is what will run", at=at, related=(fact.at,),
                   fix="make rollout.mechanism say what the code does, or change the endpoint config: two production "
                       "variants for weights, one variant and a DeploymentConfig for guardrails")


def _weight(variant: Variant) -> Value:
    if variant.weight is not None:
        return variant.weight
    return Value(1.0, variant.at, source="InitialVariantWeight not written: SageMaker's default is 1.0")


def _shadow(ctx: CheckContext, judge: _Judge, config: EndpointConfig) -> None:
    rollout_ = ctx.spec.rollout
    shadow = rollout_.shadow if rollout_ else None
    serving_endpoint = ctx.spec.serving.endpoint if ctx.spec.serving else None
    where = f"endpoint config {config.id} ({config.at.path}:{config.at.line})"
    if shadow is None or not shadow.variant:
        for v in config.shadow_variants:
            if v.name is not None:
                judge.ok(f"rollout.shadow is not in the spec; the infrastructure code hosts shadow variant "
                         f"{_iac(v.name)} in {where}", at=v.at)
        return
    if shadow.endpoint and shadow.endpoint != serving_endpoint:
        return  # the shadow runs on an endpoint of its own, not in this config
    at: PathT = ("rollout", "shadow", "variant")
    found = named(config.shadow_variants, shadow.variant)
    if found is not None and found.name is not None:
        judge.agree(f"shadow variant '{shadow.variant}' is a ShadowProductionVariants entry "
                    f"({found.name.where()})")
        return
    served = named(config.variants, shadow.variant)
    if served is not None:
        weight = _weight(served)
        judge.fail(f"shadow variant '{shadow.variant}' is a production variant in {where}, line {served.at.line}, "
                   f"with weight {weight.text}: callers get its answers, so it is a canary, not a shadow", at=at,
                   fix="move it to ShadowProductionVariants (its answers are then discarded), or fix "
                       "rollout.shadow.variant")
        return
    if any(v.name is None or not v.name.known for v in config.shadow_variants + config.variants):
        judge.warn(f"shadow variant '{shadow.variant}' is not among the variants of {where} whose names are known; "
                   "some names are computed at deploy time", at=at, fix=_unknown_fix(judge.kind))
        return
    judge.fail(f"rollout.shadow.variant is '{shadow.variant}', but {where} has no such shadow variant (shadow "
               f"variants: {_variants_text(config.shadow_variants)}): the shadow the spec promises is not deployed",
               at=at, fix="add the shadow variant to ShadowProductionVariants, or fix rollout.shadow.variant")


def _canary(ctx: CheckContext, judge: _Judge, target: _Target, config: EndpointConfig) -> None:
    rollout_ = ctx.spec.rollout
    canary = rollout_.canary if rollout_ else None
    previous = rollout_.previous if rollout_ else None
    endpoint = target.endpoint
    policy = endpoint.policy
    where = f"endpoint config {config.id} ({config.at.path}:{config.at.line})"
    variants = config.variants
    if any(v.name is None or not v.name.known for v in variants):
        unknown = [v.name.text + " at " + v.name.where() if v.name else f"unnamed at line {v.at.line}"
                   for v in variants if v.name is None or not v.name.known]
        judge.warn(f"the names of {len(unknown)} variant(s) of {where} are known only at deploy time "
                   f"({', '.join(unknown)}): mlgate cannot match rollout.canary and rollout.previous to them",
                   at=("rollout",), fix=_unknown_fix(judge.kind))
        _policy_steps(ctx, judge, target, variants)
        return
    guarded = policy is not None and policy.type is not None and (
        not policy.type.known or policy.type.value in ("CANARY", "LINEAR", "ROLLING"))
    shadow = rollout_.shadow if rollout_ else None
    as_shadow = named(config.shadow_variants, canary.variant if canary else None) or \
        named(config.shadow_variants, shadow.variant if shadow else None)
    if as_shadow is not None and named(variants, canary.variant if canary else None) is None:
        # the shadow phase: the new model only scores mirrored traffic (a config with shadow variants holds one
        # production variant), so its canary comes with a later endpoint config
        shown = as_shadow.name.text if as_shadow.name else "?"
        judge.agree(f"the new model runs as shadow variant '{shown}' ({as_shadow.at.path}:{as_shadow.at.line}) "
                    "before its canary, which a later endpoint config ramps")
        old = named(variants, previous.variant if previous else None)
        if previous is not None and previous.variant and old is None:
            judge.fail(f"rollout.previous.variant is '{previous.variant}', but {where} serves "
                       f"{_variants_text(variants)}: the model the spec says is live is not the one served",
                       at=("rollout", "previous", "variant"),
                       fix="serve the current model as the production variant, or fix rollout.previous.variant")
        elif old is not None and old.name is not None:
            judge.agree(f"the previous variant '{previous.variant if previous else ''}' serves the traffic "
                        f"({old.name.where()})")
        _rollout_policy_note(judge, target)
        return
    if len(variants) >= 2:
        _weighted_split(ctx, judge, config, where)
        _rollout_policy_note(judge, target)
        return
    if variants:
        only = variants[0]
        only_name = show(only.name.value) if only.name else "?"
        if guarded:
            if canary is not None and canary.variant and canary.variant != only_name:
                judge.agree(f"blue/green deployment guardrails replace variant '{only_name}' in place: the new fleet "
                            f"(rollout.canary '{canary.variant}') takes over variant '{only_name}'")
        elif not endpoint.deployment_unknown and canary is not None and previous is not None \
                and previous.variant and previous.variant != only_name:
            judge.fail(f"rollout.previous.variant is '{previous.variant}', but {where} has one production "
                       f"variant, '{only_name}' (line {only.at.line}), and no blue/green traffic shift keeps the "
                       "old fleet: after this deployment there is no previous variant to roll back to",
                       at=("rollout", "previous", "variant"),
                       fix="keep the previous variant in ProductionVariants beside the new one (weights decide "
                           "the canary's share), or deploy with a BlueGreenUpdatePolicy (CANARY or LINEAR)")
    _policy_steps(ctx, judge, target, variants)


def _rollout_policy_note(judge: _Judge, target: _Target) -> None:
    """With the canary split by variant weights, the DeploymentConfig governs how each new endpoint config
    replaces the old one, not the canary's steps: it is evidence, not a ramp to compare."""
    endpoint = target.endpoint
    policy = endpoint.policy
    if endpoint.deployment_unknown:
        judge.warn(f"endpoint {endpoint.id}'s deployment policy cannot be known before deployment: "
                   f"{endpoint.deployment_unknown}", at=("rollout",), fix=_unknown_fix(judge.kind))
    elif policy is not None and policy.type is not None:
        judge.agree(f"each new endpoint config is shifted in {policy.type.text} "
                    f"({policy.at.path}:{policy.at.line})")


def _weighted_split(ctx: CheckContext, judge: _Judge, config: EndpointConfig, where: str) -> None:
    rollout_ = ctx.spec.rollout
    canary = rollout_.canary if rollout_ else None
    previous = rollout_.previous if rollout_ else None
    variants = config.variants
    listed = _variants_text(variants)
    new = named(variants, canary.variant if canary else None)
    if canary is not None and canary.variant and new is None:
        judge.fail(f"rollout.canary.variant is '{canary.variant}', but {where} has no such production variant "
                   f"(variants: {listed}): the canary the spec ramps is not deployed",
                   at=("rollout", "canary", "variant"),
                   fix="name the new model's production variant in rollout.canary.variant, or add it to the config")
    old = named(variants, previous.variant if previous else None)
    if previous is not None and previous.variant and old is None:
        judge.fail(f"rollout.previous.variant is '{previous.variant}', but {where} has no such production variant "
                   f"(variants: {listed}): the model to roll back to is not kept deployed",
                   at=("rollout", "previous", "variant"),
                   fix="keep the previous variant in ProductionVariants, or fix rollout.previous.variant")
    if old is not None and previous is not None and previous.min_instances is not None:
        judge.compare(f"previous variant '{previous.variant}''s InitialInstanceCount", previous.min_instances,
                      ("rollout", "previous", "min_instances"), old.instance_count,
                      equal=lambda spec, iac: _num(iac) is not None and (_num(iac) or 0) >= spec,
                      shown=f"{previous.min_instances} (a minimum)",
                      fix="give the previous variant at least rollout.previous.min_instances instances")
    if new is None or canary is None or not canary.steps:
        return
    weights = [_weight(v) for v in variants]
    unknown = next((w for w in weights if not w.known), None)
    if unknown is not None:
        judge.warn(f"the canary's share of traffic cannot be known: a variant weight is {unknown.text} "
                   f"({unknown.unknown}; {unknown.where()})", at=("rollout", "canary", "steps", 0),
                   fix=_unknown_fix(judge.kind))
        return
    total = sum(_num(w.value) or 0.0 for w in weights)
    mine = _num(_weight(new).value) or 0.0
    share = 100 * mine / total if total > 0 else 0.0
    first = canary.steps[0]
    weight = _weight(new)
    detail = (f"weight {weight.text} of {total:g} ({weight.where()}{_src(weight)}) in {where}, i.e. {share:.3g} % of "
              "traffic when it is deployed")
    if share == 0:
        judge.agree(f"canary '{canary.variant}' starts with no traffic ({detail}); the ramp moves its weight")
    elif abs(share - first) <= 0.5:
        judge.agree(f"canary '{canary.variant}' starts at {detail}")
    else:
        judge.fail(f"the spec's first canary step is {first:g} %, but the infrastructure code gives canary "
                   f"'{canary.variant}' {detail}", at=("rollout", "canary", "steps", 0),
                   fix=f"set the variants' InitialVariantWeight so that '{canary.variant}' gets {first:g} % "
                       "(or 0, and ramp by updating the weights), or fix rollout.canary.steps")


def _policy_steps(ctx: CheckContext, judge: _Judge, target: _Target, variants: list[Variant]) -> None:
    """The DeploymentConfig's traffic shift against rollout.canary (steps and bake time) and rollout.previous."""
    endpoint = target.endpoint
    rollout_ = ctx.spec.rollout
    canary = rollout_.canary if rollout_ else None
    previous = rollout_.previous if rollout_ else None
    if endpoint.deployment_unknown:
        judge.warn(f"endpoint {endpoint.id}'s deployment policy cannot be known before deployment: "
                   f"{endpoint.deployment_unknown}; mlgate cannot check the canary ramp and rollback alarms "
                   "against it", at=("rollout", "canary") if canary else ("rollout",), fix=_unknown_fix(judge.kind))
        return
    policy = endpoint.policy
    if any(v.serverless is not None or v.serverless_unknown for v in variants):
        return  # guardrails do not cover serverless endpoints: the split between endpoints happens outside (RLO002)
    steps = canary.steps if canary else []
    ramp = " → ".join(f"{s:g}" for s in steps)
    if policy is None or policy.type is None:
        if len(variants) < 2 and steps and steps != [100]:
            where = f"endpoint {endpoint.id} ({endpoint.at.path}:{endpoint.at.line})"
            judge.fail(f"rollout.canary ramps {ramp} %, but {where} has no BlueGreenUpdatePolicy and one production "
                       "variant: SageMaker then shifts all traffic to the new fleet at once (ALL_AT_ONCE)",
                       at=("rollout", "canary", "steps"),
                       fix="add DeploymentConfig.BlueGreenUpdatePolicy with a CANARY or LINEAR TrafficRouting"
                           "Configuration matching the steps (or keep both variants in the config and ramp weights)")
        return
    kind = policy.type
    if not kind.known:
        judge.warn(f"the traffic shift type is {kind.text} ({kind.unknown}; {kind.where()})",
                   at=("rollout", "canary"), fix=_unknown_fix(judge.kind))
        return
    shift = str(kind.value)
    if shift == "ALL_AT_ONCE":
        if steps and steps != [100]:
            judge.fail(f"rollout.canary ramps {ramp} %, but the infrastructure code shifts traffic ALL_AT_ONCE "
                       f"({kind.where()})", at=("rollout", "canary", "steps"),
                       fix="use TrafficRoutingConfiguration Type CANARY or LINEAR with the spec's steps")
        return
    percent = _size_percent(judge, policy.size, variants)
    if canary is not None and percent is not None:
        expected = [percent, 100.0] if shift == "CANARY" else _linear(percent)
        label = {"CANARY": "CanarySize", "LINEAR": "LinearStepSize", "ROLLING": "MaximumBatchSize"}.get(shift, shift)
        size_at = policy.size.value.where() if policy.size and policy.size.value else kind.where()
        shown = " → ".join(f"{s:g}" for s in expected)
        if not steps:
            judge.ok(f"rollout.canary.steps is empty; the infrastructure code ramps {shown} % ({shift}, {label} "
                     f"{percent:g} % at {size_at})", at=policy.at)
        elif len(steps) == len(expected) and all(abs(a - b) <= 0.5 for a, b in zip(steps, expected, strict=True)):
            judge.agree(f"the {shift} traffic shift {shown} % ({label} at {size_at})")
        else:
            judge.fail(f"rollout.canary ramps {ramp} %, but the infrastructure code shifts traffic {shift} with "
                       f"{label} {percent:g} % ({size_at}), i.e. {shown} %", at=("rollout", "canary", "steps"),
                       fix=f"make rollout.canary.steps {shown}, or change {label} to match the spec")
    if canary is not None and canary.bake_time is not None and policy.wait_s is not None:
        bake = parse_duration(canary.bake_time)
        judge.compare("WaitIntervalInSeconds (the bake time between steps)", bake, ("rollout", "canary", "bake_time"),
                      policy.wait_s, shown=f"{canary.bake_time} ({bake:g} s)" if bake is not None else None,
                      equal=lambda a, b: _num(b) is not None and abs((_num(b) or 0) - a) < 1,
                      fix="make rollout.canary.bake_time and WaitIntervalInSeconds the same")
    elif canary is not None and canary.bake_time is not None and shift != "ROLLING":
        judge.fail(f"rollout.canary.bake_time is {canary.bake_time}, but the {shift} traffic shift "
                   f"({kind.where()}) sets no WaitIntervalInSeconds, so it does not wait between steps",
                   at=("rollout", "canary", "bake_time"), fix="set WaitIntervalInSeconds to the bake time")
    if previous is not None and previous.keep_warm and shift != "ROLLING" and len(variants) < 2:
        wait = policy.termination_wait_s
        if wait is None or (wait.known and (_num(wait.value) or 0) == 0):
            shown_wait = f"{wait.text}, {wait.where()}" if wait is not None else "not written: default 0"
            judge.fail(f"rollout.previous.keep_warm is true, but the blue/green policy ({policy.at.path}:"
                       f"{policy.at.line}) terminates the old fleet as soon as the traffic shift ends "
                       f"(TerminationWaitInSeconds {shown_wait}): rolling back after that is a redeploy",
                       at=("rollout", "previous", "keep_warm"),
                       fix="set TerminationWaitInSeconds (up to 3600) to keep the old fleet after the shift, or keep "
                           "the previous variant in the endpoint config")
        elif wait.known:
            judge.agree(f"the old fleet is kept {format_duration(_num(wait.value) or 0)} after the shift "
                        f"(TerminationWaitInSeconds, {wait.where()})")


def _linear(step: float) -> list[float]:
    if step <= 0:
        return [100.0]
    count = math.ceil(100 / step - 1e-9)
    return [min(100.0, step * (i + 1)) for i in range(count)]


def _size_percent(judge: _Judge, size: Any, variants: list[Variant]) -> float | None:
    if size is None or size.value is None:
        return None
    if not size.value.known or (size.type is not None and not size.type.known):
        bad = size.value if not size.value.known else size.type
        judge.warn(f"the traffic shift's step size is {bad.text} ({bad.unknown}; {bad.where()}): mlgate cannot "
                   "check the canary steps against it", at=("rollout", "canary", "steps"),
                   fix=_unknown_fix(judge.kind))
        return None
    value = _num(size.value.value)
    if value is None:
        return None
    if size.type is not None and size.type.value == "INSTANCE_COUNT":
        counts = [v.instance_count for v in variants]
        if len(counts) != 1 or counts[0] is None or not counts[0].known or not _num(counts[0].value):
            judge.warn(f"the traffic shift moves {value:g} instance(s) at a time ({size.value.where()}), but the "
                       "variant's instance count is not known, so the share of traffic per step is not either",
                       at=("rollout", "canary", "steps"), fix="write the step size as CAPACITY_PERCENT")
            return None
        return 100 * value / (_num(counts[0].value) or 1)
    counts = [v.instance_count for v in variants]
    count = _num(counts[0].value) if len(counts) == 1 and counts[0] is not None and counts[0].known else None
    return step_share(value, int(count) if count else None)  # a step activates whole instances


def _rollback_alarms(ctx: CheckContext, judge: _Judge, target: _Target) -> None:
    endpoint = target.endpoint
    names_ = ctx.spec.rollout.rollback_alarms if ctx.spec.rollout else []
    attached = endpoint.rollback_alarms
    base: PathT = ("rollout", "rollback_alarms")
    if endpoint.deployment_unknown:
        return  # already reported with the policy
    where = f"endpoint {endpoint.id} ({endpoint.at.path}:{endpoint.at.line})"
    if not names_:
        if attached:
            judge.ok(f"rollout.rollback_alarms is empty; the infrastructure code rolls {where} back on "
                     + ", ".join(_iac(a) for a in attached), at=attached[0].at)
        return
    if not attached:
        fact = ctx.resolved.fact(("rollout", "mechanism")) if ctx.resolved is not None else None
        if fact is not None and fact.value == "weights":
            return  # a weights rollout's alarms act through rollout.rollback_automation (RLO004), not the endpoint
        judge.fail(f"rollout.rollback_alarms lists {', '.join(names_)}, but {where} has no AutoRollbackConfiguration: "
                   "no alarm rolls this deployment back", at=base,
                   fix="add DeploymentConfig.AutoRollbackConfiguration.Alarms with these alarm names (it takes 1-10)")
        return
    unknown = [a for a in attached if not a.known]
    for i, name in enumerate(names_):
        at: PathT = (*base, i)
        hit = next((a for a in attached if a.known and show(a.value) == name), None)
        if hit is None:
            if unknown:
                judge.warn(f"rollback alarm '{name}' is not among the alarms attached to {where} whose names are "
                           f"known; {', '.join(_iac(a) for a in unknown)} cannot be known before deployment", at=at,
                           fix=_unknown_fix(judge.kind))
            else:
                judge.fail(f"rollback alarm '{name}' is not attached to {where}: its AutoRollbackConfiguration "
                           f"lists {', '.join(_iac(a) for a in attached)}", at=at,
                           fix=f"add {{AlarmName: {name}}} to AutoRollbackConfiguration.Alarms, or fix "
                               "rollout.rollback_alarms")
            continue
        _attached_alarm(judge, target, name, hit, at)
    for a in attached:
        if a.known and show(a.value) not in names_:
            judge.warn(f"the infrastructure code also rolls back on alarm {_iac(a)}, which rollout.rollback_alarms "
                       "does not list", at=base, fix="list every rollback alarm in rollout.rollback_alarms")


def _alarm_named(infra: Infrastructure, value: Value) -> CloudWatchAlarm | None:
    for alarm in infra.alarms:
        if names(value, alarm.id, alarm.name):
            return alarm
    return None


def _watches(alarm: CloudWatchAlarm, endpoint: Endpoint) -> bool | None:
    """Whether the alarm's EndpointName dimension is this endpoint (None: it cannot be known)."""
    dim = alarm.dimensions.get("EndpointName")
    if dim is None:
        return False
    if names(dim, endpoint.id, endpoint.name):
        return True
    if endpoint.name is not None and not dim.known and not endpoint.name.known:
        return (dim.template or dim.text) == (endpoint.name.template or endpoint.name.text) or None
    if not dim.known or endpoint.name is None or not endpoint.name.known:
        return None
    return False


def _attached_alarm(judge: _Judge, target: _Target, name: str, attached: Value, at: PathT) -> None:
    endpoint = target.endpoint
    alarm = _alarm_named(target.infra, attached)
    if alarm is None:
        judge.fail(f"rollback alarm '{name}' is attached ({attached.where()}) but not defined in the infrastructure "
                   f"code ({target.origin}): an alarm that does not exist never fires, so nothing rolls back", at=at,
                   fix="define the CloudWatch alarm (AWS::CloudWatch::Alarm / aws_cloudwatch_metric_alarm) in the "
                       "same code, on this endpoint's metrics")
        return
    defined = f"{alarm.id} ({alarm.at.path}:{alarm.at.line})"
    if alarm.condition:
        judge.warn(f"rollback alarm '{name}' ({defined}) exists only when {alarm.condition} holds", at=at,
                   fix="make sure the deployment this spec describes creates the alarm")
    namespace = alarm.namespace
    if namespace is not None and namespace.known and namespace.value != "AWS/SageMaker" and not alarm.metric_math:
        judge.fail(f"rollback alarm '{name}' ({defined}) watches namespace {namespace.text}, not the endpoint's "
                   "AWS/SageMaker metrics", at=at, fix="alarm on the endpoint's AWS/SageMaker metrics "
                                                       "(Invocation5XXErrors, ModelLatency ...)")
        return
    watched = _watches(alarm, endpoint)
    dim = alarm.dimensions.get("EndpointName")
    if watched is False:
        seen = f"EndpointName {_iac(dim)}" if dim is not None else "no EndpointName dimension"
        judge.fail(f"rollback alarm '{name}' ({defined}) watches {seen}, not endpoint "
                   f"{endpoint.name.text if endpoint.name else endpoint.id}: it cannot see this deployment go wrong",
                   at=at, fix="set the alarm's EndpointName dimension to this endpoint (e.g. a reference to it)")
    elif watched is None:
        judge.warn(f"rollback alarm '{name}' ({defined}) watches EndpointName {dim.text if dim else '?'}, which "
                   "mlgate cannot match to this endpoint before deployment", at=at, fix=_unknown_fix(judge.kind))
    else:
        metric = alarm.metric.text if alarm.metric else "metric math"
        judge.agree(f"rollback alarm '{name}' attached at {attached.where()} and defined on this endpoint's "
                    f"{metric} ({defined})")


# IAC003 -------------------------------------------------------------------------------------------------------------

def monitoring(ctx: CheckContext) -> Iterator[Finding]:
    """What the infrastructure code monitors is what the spec describes: data capture, the data drift schedule and
    baseline, and the operational alarms on this endpoint."""
    if _pattern(ctx) == "batch":
        yield ctx.na("serving.pattern is batch: there is no endpoint to capture from or alarm on",
                     at=("serving", "pattern"))
        return
    target, early = _target(ctx, strict=False)
    if target is None:
        yield from early
        return
    judge = _Judge(ctx, target.kind)
    unknown = (target.config.capture_unknown or target.config.unknown) if target.config is not None else None
    if target.config is not None and unknown:
        judge.warn(f"data capture of endpoint config {target.config.id} cannot be known before deployment: "
                   f"{unknown}", at=("monitoring", "capture"), fix=_unknown_fix(target.kind))
    elif target.config is not None:
        _capture(ctx, judge, target, target.config)
    _schedules(ctx, judge, target)
    _operational(ctx, judge, target)
    yield from judge.close(("monitoring",), target.origin, target.selection.how)


def _capture(ctx: CheckContext, judge: _Judge, target: _Target, config: EndpointConfig) -> None:
    spec = ctx.spec.monitoring.capture if ctx.spec.monitoring else None
    base: PathT = ("monitoring", "capture")
    capture = config.capture
    where = f"endpoint config {config.id} ({config.at.path}:{config.at.line})"
    if capture is None:
        if spec is not None and spec.enabled:
            judge.fail(f"monitoring.capture.enabled is true, but {where} has no DataCaptureConfig: nothing is "
                       "captured", at=(*base, "enabled"),
                       fix="add DataCaptureConfig (EnableCapture, InitialSamplingPercentage, DestinationS3Uri, "
                           "CaptureOptions Input and Output) to the endpoint config")
        return
    # EnableCapture unwritten: the API's default is enabled; Terraform's provider defaults enable_capture to false.
    default = Value(target.kind != "terraform", capture.at,
                    source="EnableCapture not written: " + ("the API's default is enabled" if target.kind !=
                                                            "terraform" else "the provider's default is false"))
    judge.compare("DataCaptureConfig.EnableCapture", spec.enabled if spec else None, (*base, "enabled"),
                  capture.enabled, default=default, fix="make monitoring.capture.enabled and EnableCapture the same")
    judge.compare("DataCaptureConfig.InitialSamplingPercentage", spec.sampling_percent if spec else None,
                  (*base, "sampling_percent"), capture.sampling_percent,
                  fix="make monitoring.capture.sampling_percent and InitialSamplingPercentage the same")
    judge.compare("DataCaptureConfig.DestinationS3Uri", spec.destination if spec else None, (*base, "destination"),
                  capture.destination, equal=lambda a, b: str(a).rstrip("/") == str(b).rstrip("/"),
                  fix="make monitoring.capture.destination and DestinationS3Uri the same")
    judge.compare("DataCaptureConfig.KmsKeyId", spec.kms_key if spec else None, (*base, "kms_key"), capture.kms_key,
                  equal=_same_key, fix="make monitoring.capture.kms_key and KmsKeyId name the same key",
                  absent=f"monitoring.capture.kms_key is {spec.kms_key if spec else None}, but the DataCaptureConfig "
                         f"({capture.at.path}:{capture.at.line}) sets no KmsKeyId: captured data is not encrypted "
                         "with that key")
    if capture.modes:
        unknown = next((m for m in capture.modes if not m.known), None)
        if unknown is None:
            modes = {show(m.value) for m in capture.modes}
            first = capture.modes[0]
            for field_, mode in (("inputs", "Input"), ("outputs", "Output")):
                has = mode in modes or "InputAndOutput" in modes
                judge.compare(f"CaptureOptions ({', '.join(sorted(modes))}) capturing {field_}",
                              getattr(spec, field_) if spec else None, (*base, field_),
                              Value(has, first.at), shown=None,
                              fix=f"make monitoring.capture.{field_} and the CaptureMode {mode} agree")


def _same_key(spec: Any, iac: Any) -> bool:
    a, b = str(spec), str(iac)
    if a == b:
        return True
    # an alias and a key ARN (or a key id) may be the same key: only two of the same form can be told apart
    forms = [("alias" if x.startswith("alias/") or ":alias/" in x else "key") for x in (a, b)]
    if forms[0] != forms[1]:
        return True
    return a.rsplit("/", 1)[-1] == b.rsplit("/", 1)[-1] and (a.startswith("arn:") != b.startswith("arn:"))


def _for_endpoint(schedule: MonitoringSchedule, endpoint: Endpoint) -> bool | None:
    if schedule.endpoint is None:
        return None
    if names(schedule.endpoint, endpoint.id, endpoint.name):
        return True
    if not schedule.endpoint.known or endpoint.name is None or not endpoint.name.known:
        return None
    return False


def _schedules(ctx: CheckContext, judge: _Judge, target: _Target) -> None:
    drift = ctx.spec.monitoring.data_drift if ctx.spec.monitoring else None
    base: PathT = ("monitoring", "data_drift")
    mine = [s for s in target.infra.schedules if _for_endpoint(s, target.endpoint) is not False]
    data_quality = [s for s in mine if s.monitoring_type is None or not s.monitoring_type.known
                    or s.monitoring_type.value == "DataQuality"]
    if not data_quality:
        if drift is not None and drift.schedule and mine == [] and target.infra.schedules == []:
            judge.warn(f"monitoring.data_drift.schedule is {drift.schedule}, but the infrastructure code "
                       f"({target.origin}) defines no monitoring schedule (AWS::SageMaker::MonitoringSchedule / "
                       "aws_sagemaker_monitoring_schedule) for this endpoint: the drift monitor must be created "
                       "elsewhere", at=(*base, "schedule"),
                       fix="define the data quality monitoring schedule in the same code, so it is deployed with "
                           "the endpoint")
        return
    schedule = data_quality[0]
    defined = f"{schedule.id} ({schedule.at.path}:{schedule.at.line})"
    if _for_endpoint(schedule, target.endpoint) is None and schedule.endpoint is not None:
        judge.warn(f"monitoring schedule {defined} monitors endpoint {schedule.endpoint.text}, which mlgate cannot "
                   "match to this endpoint before deployment", at=schedule.at, fix=_unknown_fix(judge.kind))
    judge.compare(f"monitoring schedule {schedule.id}'s ScheduleExpression", drift.schedule if drift else None,
                  (*base, "schedule"), schedule.schedule,
                  equal=lambda a, b: frequency(str(a)) == frequency(str(b)),
                  fix="make monitoring.data_drift.schedule and the ScheduleExpression the same")
    judge.compare(f"monitoring schedule {schedule.id}'s baseline statistics", drift.baseline if drift else None,
                  (*base, "baseline"), schedule.baseline_statistics,
                  fix="make monitoring.data_drift.baseline and the baseline's StatisticsResource the same")


def _operational(ctx: CheckContext, judge: _Judge, target: _Target) -> None:
    operational = ctx.spec.monitoring.operational if ctx.spec.monitoring else None
    alarms = operational.alarms if operational else []
    endpoint = target.endpoint
    by_name = {show(a.name.value): a for a in target.infra.alarms if a.name is not None and a.name.known}
    spec_names = set()
    for i, spec_alarm in enumerate(alarms):
        at: PathT = ("monitoring", "operational", "alarms", i)
        if not spec_alarm.name:
            continue
        spec_names.add(spec_alarm.name)
        alarm = by_name.get(spec_alarm.name)
        if alarm is None:
            continue  # defined elsewhere, or under a computed name: RLO004/MON004 judge the spec's own alarms
        defined = f"{alarm.id} ({alarm.at.path}:{alarm.at.line})"
        watched = _watches(alarm, endpoint)
        if watched is False and not alarm.metric_math:
            dim = alarm.dimensions.get("EndpointName")
            judge.fail(f"alarm '{spec_alarm.name}' ({defined}) watches "
                       f"{'EndpointName ' + _iac(dim) if dim else 'no EndpointName dimension'}, not this endpoint",
                       at=(*at, "name"), fix="set the alarm's EndpointName dimension to this endpoint")
        judge.compare(f"alarm '{spec_alarm.name}''s MetricName", spec_alarm.metric, (*at, "metric"), alarm.metric,
                      fix="make the spec's metric and the alarm's MetricName the same")
        statistic = alarm.extended_statistic or alarm.statistic
        judge.compare(f"alarm '{spec_alarm.name}''s statistic", spec_alarm.statistic, (*at, "statistic"), statistic,
                      equal=lambda a, b: str(a).lower() == str(b).lower(),
                      fix="make the spec's statistic and the alarm's Statistic / ExtendedStatistic the same")
        metric = show(alarm.metric.value) if alarm.metric is not None and alarm.metric.known else \
            spec_alarm.metric or ""
        threshold = alarm.threshold
        if spec_alarm.threshold_ms is not None and threshold is not None:
            factor = 1000.0 if metric in load_facts().microsecond_metrics else 1.0
            unit = "µs" if factor == 1000 else "ms"
            judge.compare(f"alarm '{spec_alarm.name}''s Threshold ({unit})", spec_alarm.threshold_ms * factor,
                          (*at, "threshold_ms"), threshold, shown=f"{spec_alarm.threshold_ms:g} ms",
                          fix=f"make threshold_ms and the alarm's Threshold agree ({metric} is in {unit})")
        for field_ in ("threshold_rate", "threshold_count"):
            value = getattr(spec_alarm, field_)
            if value is not None:
                judge.compare(f"alarm '{spec_alarm.name}''s Threshold", value, (*at, field_), threshold,
                              fix=f"make {field_} and the alarm's Threshold the same")
    for alarm in target.infra.alarms:
        if alarm.name is None or not alarm.name.known or show(alarm.name.value) in spec_names:
            continue
        if _watches(alarm, endpoint) and alarm.namespace is not None and alarm.namespace.value == "AWS/SageMaker":
            judge.ok(f"alarm {_iac(alarm.name)} on this endpoint's {alarm.metric.text if alarm.metric else 'metrics'} "
                     "is defined in the infrastructure code but not in monitoring.operational.alarms", at=alarm.at)
