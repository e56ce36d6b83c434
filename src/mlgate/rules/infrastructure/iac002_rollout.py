"""IAC002: the rollout the infrastructure code performs is the one the spec describes (the variants, the canary's
share and steps, the bake time, the kept old fleet, the rollback alarms attached to this endpoint and defined on its
metrics)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from mlgate.checks import CheckContext
from mlgate.deployment.alarms import watches
from mlgate.deployment.resolve import named
from mlgate.evidence.iac import Infrastructure
from mlgate.evidence.iac.model import CloudWatchAlarm, EndpointConfig, Value, Variant, names, show
from mlgate.result import Finding
from mlgate.rules.infrastructure._judge import (
    Judge,
    Target,
    compared_target,
    iac_fact,
    num,
    source_note,
    unknown_fix,
    variants_text,
)
from mlgate.rules.params import NoParams
from mlgate.rules.rollout._mechanism import step_share
from mlgate.units import format_duration, parse_duration
from mlgate.yamlload import PathT

Params = NoParams  # no parameters


def check(ctx: CheckContext) -> Iterator[Finding]:
    """The rollout the infrastructure code performs is the one the spec describes: the variants (new, previous,
    shadow) in the endpoint config, the canary's share of traffic, the deployment policy's steps and bake times,
    and the rollback alarms attached to this endpoint and defined on its metrics."""
    target, early = compared_target(ctx, "serving.pattern is batch: a batch transform has no rollout to compare")
    if target is None:
        yield from early
        return
    judge = Judge(ctx, target.kind)
    config = target.config
    _mechanism(ctx, judge)
    if config is not None and config.unknown:
        judge.warn(f"the variants of endpoint config {config.id} cannot be known before deployment: "
                   f"{config.unknown}; mlgate cannot check the rollout's variants against them", at=config.at,
                   fix=unknown_fix(target.kind))
    elif config is not None:
        _shadow(ctx, judge, config)
        _canary(ctx, judge, target, config)
    _rollback_alarms(ctx, judge, target)
    yield from judge.close(("rollout",), target.origin, target.selection.how)


def _mechanism(ctx: CheckContext, judge: Judge) -> None:
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
                       f"({fact.unknown}): mlgate cannot check that they agree", at=at, fix=unknown_fix(judge.kind))
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


def _shadow(ctx: CheckContext, judge: Judge, config: EndpointConfig) -> None:
    rollout_ = ctx.spec.rollout
    shadow = rollout_.shadow if rollout_ else None
    serving_endpoint = ctx.spec.serving.endpoint if ctx.spec.serving else None
    where = f"endpoint config {config.id} ({config.at.path}:{config.at.line})"
    if shadow is None or not shadow.variant:
        for v in config.shadow_variants:
            if v.name is not None:
                judge.ok(f"rollout.shadow is not in the spec; the infrastructure code hosts shadow variant "
                         f"{iac_fact(v.name)} in {where}", at=v.at)
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
                   "some names are computed at deploy time", at=at, fix=unknown_fix(judge.kind))
        return
    judge.fail(f"rollout.shadow.variant is '{shadow.variant}', but {where} has no such shadow variant (shadow "
               f"variants: {variants_text(config.shadow_variants)}): the shadow the spec promises is not deployed",
               at=at, fix="add the shadow variant to ShadowProductionVariants, or fix rollout.shadow.variant")


def _canary(ctx: CheckContext, judge: Judge, target: Target, config: EndpointConfig) -> None:
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
                   at=("rollout",), fix=unknown_fix(judge.kind))
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
        old = _spec_variant(judge, variants, "previous", previous.variant if previous else None,
                            f"{where} serves {variants_text(variants)}: the model the spec says is live is not the "
                            "one served",
                            "serve the current model as the production variant, or fix rollout.previous.variant")
        if old is not None and old.name is not None:
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


def _spec_variant(judge: Judge, variants: list[Variant], role: str, name: str | None, problem: str,
                  fix: str) -> Variant | None:
    """The production variant that rollout.<role>.variant names; a name none of `variants` has fails, and
    `problem` says what the config has instead and what that breaks."""
    found = named(variants, name)
    if name and found is None:
        judge.fail(f"rollout.{role}.variant is '{name}', but {problem}", at=("rollout", role, "variant"), fix=fix)
    return found


def _rollout_policy_note(judge: Judge, target: Target) -> None:
    """With the canary split by variant weights, the DeploymentConfig governs how each new endpoint config
    replaces the old one, not the canary's steps: it is evidence, not a ramp to compare."""
    endpoint = target.endpoint
    policy = endpoint.policy
    if endpoint.deployment_unknown:
        judge.warn(f"endpoint {endpoint.id}'s deployment policy cannot be known before deployment: "
                   f"{endpoint.deployment_unknown}", at=("rollout",), fix=unknown_fix(judge.kind))
    elif policy is not None and policy.type is not None:
        judge.agree(f"each new endpoint config is shifted in {policy.type.text} "
                    f"({policy.at.path}:{policy.at.line})")


def _weighted_split(ctx: CheckContext, judge: Judge, config: EndpointConfig, where: str) -> None:
    rollout_ = ctx.spec.rollout
    canary = rollout_.canary if rollout_ else None
    previous = rollout_.previous if rollout_ else None
    variants = config.variants
    absent = f"{where} has no such production variant (variants: {variants_text(variants)})"
    new = _spec_variant(judge, variants, "canary", canary.variant if canary else None,
                        f"{absent}: the canary the spec ramps is not deployed",
                        "name the new model's production variant in rollout.canary.variant, or add it to the config")
    old = _spec_variant(judge, variants, "previous", previous.variant if previous else None,
                        f"{absent}: the model to roll back to is not kept deployed",
                        "keep the previous variant in ProductionVariants, or fix rollout.previous.variant")
    if old is not None and previous is not None and previous.min_instances is not None:
        judge.compare(f"previous variant '{previous.variant}''s InitialInstanceCount", previous.min_instances,
                      ("rollout", "previous", "min_instances"), old.instance_count,
                      equal=lambda spec, iac: num(iac) is not None and (num(iac) or 0) >= spec,
                      shown=f"{previous.min_instances} (a minimum)",
                      fix="give the previous variant at least rollout.previous.min_instances instances")
    if new is None or canary is None or not canary.steps:
        return
    weights = [_weight(v) for v in variants]
    unknown = next((w for w in weights if not w.known), None)
    if unknown is not None:
        judge.warn(f"the canary's share of traffic cannot be known: a variant weight is {unknown.text} "
                   f"({unknown.unknown}; {unknown.where()})", at=("rollout", "canary", "steps", 0),
                   fix=unknown_fix(judge.kind))
        return
    total = sum(num(w.value) or 0.0 for w in weights)
    mine = num(_weight(new).value) or 0.0
    share = 100 * mine / total if total > 0 else 0.0
    first = canary.steps[0]
    weight = _weight(new)
    detail = (f"weight {weight.text} of {total:g} ({weight.where()}{source_note(weight)}) in {where}, i.e. "
              f"{share:.3g} % of traffic when it is deployed")
    if share == 0:
        judge.agree(f"canary '{canary.variant}' starts with no traffic ({detail}); the ramp moves its weight")
    elif abs(share - first) <= 0.5:
        judge.agree(f"canary '{canary.variant}' starts at {detail}")
    else:
        judge.fail(f"the spec's first canary step is {first:g} %, but the infrastructure code gives canary "
                   f"'{canary.variant}' {detail}", at=("rollout", "canary", "steps", 0),
                   fix=f"set the variants' InitialVariantWeight so that '{canary.variant}' gets {first:g} % "
                       "(or 0, and ramp by updating the weights), or fix rollout.canary.steps")


def _policy_steps(ctx: CheckContext, judge: Judge, target: Target, variants: list[Variant]) -> None:
    """The DeploymentConfig's traffic shift against rollout.canary (steps and bake time) and rollout.previous."""
    endpoint = target.endpoint
    rollout_ = ctx.spec.rollout
    canary = rollout_.canary if rollout_ else None
    previous = rollout_.previous if rollout_ else None
    if endpoint.deployment_unknown:
        judge.warn(f"endpoint {endpoint.id}'s deployment policy cannot be known before deployment: "
                   f"{endpoint.deployment_unknown}; mlgate cannot check the canary ramp and rollback alarms "
                   "against it", at=("rollout", "canary") if canary else ("rollout",), fix=unknown_fix(judge.kind))
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
                   at=("rollout", "canary"), fix=unknown_fix(judge.kind))
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
                      equal=lambda a, b: num(b) is not None and abs((num(b) or 0) - a) < 1,
                      fix="make rollout.canary.bake_time and WaitIntervalInSeconds the same")
    elif canary is not None and canary.bake_time is not None and shift != "ROLLING":
        judge.fail(f"rollout.canary.bake_time is {canary.bake_time}, but the {shift} traffic shift "
                   f"({kind.where()}) sets no WaitIntervalInSeconds, so it does not wait between steps",
                   at=("rollout", "canary", "bake_time"), fix="set WaitIntervalInSeconds to the bake time")
    if previous is not None and previous.keep_warm and shift != "ROLLING" and len(variants) < 2:
        wait = policy.termination_wait_s
        if wait is None or (wait.known and (num(wait.value) or 0) == 0):
            shown_wait = f"{wait.text}, {wait.where()}" if wait is not None else "not written: default 0"
            judge.fail(f"rollout.previous.keep_warm is true, but the blue/green policy ({policy.at.path}:"
                       f"{policy.at.line}) terminates the old fleet as soon as the traffic shift ends "
                       f"(TerminationWaitInSeconds {shown_wait}): rolling back after that is a redeploy",
                       at=("rollout", "previous", "keep_warm"),
                       fix="set TerminationWaitInSeconds (up to 3600) to keep the old fleet after the shift, or keep "
                           "the previous variant in the endpoint config")
        elif wait.known:
            judge.agree(f"the old fleet is kept {format_duration(num(wait.value) or 0)} after the shift "
                        f"(TerminationWaitInSeconds, {wait.where()})")


def _linear(step: float) -> list[float]:
    if step <= 0:
        return [100.0]
    count = math.ceil(100 / step - 1e-9)
    return [min(100.0, step * (i + 1)) for i in range(count)]


def _size_percent(judge: Judge, size: Any, variants: list[Variant]) -> float | None:
    if size is None or size.value is None:
        return None
    if not size.value.known or (size.type is not None and not size.type.known):
        bad = size.value if not size.value.known else size.type
        judge.warn(f"the traffic shift's step size is {bad.text} ({bad.unknown}; {bad.where()}): mlgate cannot "
                   "check the canary steps against it", at=("rollout", "canary", "steps"),
                   fix=unknown_fix(judge.kind))
        return None
    value = num(size.value.value)
    if value is None:
        return None
    if size.type is not None and size.type.value == "INSTANCE_COUNT":
        counts = [v.instance_count for v in variants]
        if len(counts) != 1 or counts[0] is None or not counts[0].known or not num(counts[0].value):
            judge.warn(f"the traffic shift moves {value:g} instance(s) at a time ({size.value.where()}), but the "
                       "variant's instance count is not known, so the share of traffic per step is not either",
                       at=("rollout", "canary", "steps"), fix="write the step size as CAPACITY_PERCENT")
            return None
        return 100 * value / (num(counts[0].value) or 1)
    counts = [v.instance_count for v in variants]
    count = num(counts[0].value) if len(counts) == 1 and counts[0] is not None and counts[0].known else None
    return step_share(value, int(count) if count else None)  # a step activates whole instances


def _rollback_alarms(ctx: CheckContext, judge: Judge, target: Target) -> None:
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
                     + ", ".join(iac_fact(a) for a in attached), at=attached[0].at)
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
                           f"known; {', '.join(iac_fact(a) for a in unknown)} cannot be known before deployment", at=at,
                           fix=unknown_fix(judge.kind))
            else:
                judge.fail(f"rollback alarm '{name}' is not attached to {where}: its AutoRollbackConfiguration "
                           f"lists {', '.join(iac_fact(a) for a in attached)}", at=at,
                           fix=f"add {{AlarmName: {name}}} to AutoRollbackConfiguration.Alarms, or fix "
                               "rollout.rollback_alarms")
            continue
        _attached_alarm(judge, target, name, hit, at)
    for a in attached:
        if a.known and show(a.value) not in names_:
            judge.warn(f"the infrastructure code also rolls back on alarm {iac_fact(a)}, which rollout.rollback_alarms "
                       "does not list", at=base, fix="list every rollback alarm in rollout.rollback_alarms")


def _alarm_named(infra: Infrastructure, value: Value) -> CloudWatchAlarm | None:
    for alarm in infra.alarms:
        if names(value, alarm.id, alarm.name):
            return alarm
    return None


def _attached_alarm(judge: Judge, target: Target, name: str, attached: Value, at: PathT) -> None:
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
    watched = watches(alarm, endpoint)
    dim = alarm.dimensions.get("EndpointName")
    if watched is False:
        seen = f"EndpointName {iac_fact(dim)}" if dim is not None else "no EndpointName dimension"
        judge.fail(f"rollback alarm '{name}' ({defined}) watches {seen}, not endpoint "
                   f"{endpoint.name.text if endpoint.name else endpoint.id}: it cannot see this deployment go wrong",
                   at=at, fix="set the alarm's EndpointName dimension to this endpoint (e.g. a reference to it)")
    elif watched is None:
        judge.warn(f"rollback alarm '{name}' ({defined}) watches EndpointName {dim.text if dim else '?'}, which "
                   "mlgate cannot match to this endpoint before deployment", at=at, fix=unknown_fix(judge.kind))
    else:
        metric = alarm.metric.text if alarm.metric else "metric math"
        judge.agree(f"rollback alarm '{name}' attached at {attached.where()} and defined on this endpoint's "
                    f"{metric} ({defined})")
