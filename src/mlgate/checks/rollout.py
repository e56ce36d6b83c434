"""Rollout rules (RLO001-RLO004): shadow first, then a gradual canary, the old variant warm, alarms that roll back.

The rules adapt to `serving.pattern` (a spec without one is judged as realtime). A batch transform serves no live
traffic, so none of them applies to it.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from typing import Any

from mlgate.checks import CheckContext
from mlgate.errors import EvidenceError
from mlgate.evidence.iac.model import show
from mlgate.facts import load_facts
from mlgate.result import Finding, Location
from mlgate.rules.rollout._mechanism import excluded, expressible, marketplace_unknown, mechanism, plan
from mlgate.spec.models import Alarm, Canary, Previous, Shadow
from mlgate.spelling import did_you_mean
from mlgate.units import DURATION_HELP, format_duration, parse_duration

# The longest managed shadow test (a SageMaker inference experiment) that can be scheduled.
# Facts §2.2: botocore `InferenceExperimentSchedule` — "maximum duration ... for an inference experiment is 30 days".
MAX_SHADOW_TEST_S = 30 * 86400

# SageMaker's AutoRollbackConfiguration takes 1-10 alarms (facts §2.3, botocore `AutoRollbackConfiguration`).
MAX_ROLLBACK_ALARMS = 10

# Patterns that cannot host a shadow variant on the serving endpoint (facts §1.2 and §2.2): serverless endpoints
# exclude multiple production variants, and SageMaker shadow tests exclude serverless and asynchronous inference.
_NO_SHADOW_VARIANT = {
    "serverless": "a serverless endpoint cannot hold more than one production variant, and SageMaker shadow "
                  "tests exclude serverless inference",
    "async": "SageMaker shadow tests exclude asynchronous inference endpoints",
}


def _batch_na(ctx: CheckContext, what: str) -> Finding | None:
    if ctx.pattern != "batch":
        return None
    return ctx.na(f"serving.pattern is batch: a batch transform serves no live traffic, so there is {what}",
                  at=("serving", "pattern"))


def _pct(value: float) -> str:
    return f"{value:g}"


def _number_param(ctx: CheckContext, name: str) -> float | None:
    value = ctx.params.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _duration_param(ctx: CheckContext, name: str) -> float | None:
    return parse_duration(ctx.params.get(name))


def _bad_param(ctx: CheckContext, name: str, expected: str) -> Finding:
    return ctx.error(f"rule parameter {name} is {ctx.params.get(name)!r}, not {expected}; fix params.{ctx.rule.id} "
                     "in the mlgate config ([tool.mlgate] or .mlgate.toml)")


def _variants(ctx: CheckContext) -> tuple[Shadow | None, Canary | None, Previous | None]:
    rollout = ctx.spec.rollout
    if rollout is None:
        return None, None, None
    return rollout.shadow, rollout.canary, rollout.previous


# What an alarm in the infrastructure code watches, from its AWS/SageMaker metric.
_WATCHES_BY_METRIC = {"Invocation5XXErrors": "errors", "InvocationModelErrors": "errors",
                      "InvocationFailures": "errors", "ModelLatency": "latency", "OverheadLatency": "latency",
                      "Invocation4XXErrors": "throttles"}


def _alarms_in_code(ctx: CheckContext) -> dict[str, tuple[Alarm, Location]]:
    """CloudWatch alarms the spec's infrastructure code defines, by name: a rollback alarm may live there instead
    of in monitoring.operational (IAC002 checks that it watches this endpoint)."""
    if ctx.spec.infrastructure is None:
        return {}
    from mlgate.evidence.iac import infrastructure

    try:
        infra = infrastructure(ctx.site)
    except EvidenceError:
        return {}  # IAC001-IAC003 report an unreadable template
    found: dict[str, tuple[Alarm, Location]] = {}
    for alarm in infra.alarms if infra else []:
        if alarm.name is None or not alarm.name.known:
            continue
        metric = str(alarm.metric.value) if alarm.metric is not None and alarm.metric.known else None
        watches = _WATCHES_BY_METRIC.get(metric or "")
        found[str(alarm.name.value)] = (Alarm(name=str(alarm.name.value), metric=metric,
                                              watches=watches), alarm.at)  # type: ignore[arg-type]
    return found


# RLO001 -----------------------------------------------------------------------------------------------------------

def shadow(ctx: CheckContext) -> Iterator[Finding]:
    """The new model scores live traffic in shadow, long and wide enough, before any of its output is served."""
    na = _batch_na(ctx, "no live traffic to shadow")
    if na:
        yield na
        return
    min_pct = _number_param(ctx, "min_sampling_percent")
    min_dur = _duration_param(ctx, "min_duration")
    if min_pct is None:
        yield _bad_param(ctx, "min_sampling_percent", "a number")
    if min_dur is None:
        yield _bad_param(ctx, "min_duration", DURATION_HELP)
    if min_pct is None or min_dur is None:
        return
    min_dur_txt = str(ctx.params["min_duration"]).strip()

    sh, canary, previous = _variants(ctx)
    base = ("rollout", "shadow")
    if sh is None:
        yield ctx.fail("no rollout.shadow: the new model would answer real callers without ever having scored "
                       "live traffic, so its first errors reach users", at=base,
                       fix=f"add rollout.shadow with a variant name, sampling_percent (at least {_pct(min_pct)}) "
                           f"and a duration (at least {min_dur_txt}), e.g. "
                           "`shadow: {variant: model-v2-shadow, sampling_percent: 100, duration: 3d}`")
        return

    pattern = ctx.pattern
    serving_endpoint = ctx.spec.serving.endpoint if ctx.spec.serving else None
    separate = bool(sh.endpoint) and sh.endpoint != serving_endpoint
    problems = 0
    resolved = ctx.resolved
    hosted = resolved.shadow_variants + resolved.experiment_shadows \
        if resolved is not None and resolved.shadow_variants is not None else None
    problems += yield from _shadow_config(ctx, separate)
    if sh.variant and not separate and hosted is not None and ctx.resolved is not None and sh.variant not in hosted:
        problems += 1
        listed = ", ".join(f"'{v}'" for v in hosted) or "none"
        yield ctx.fail(f"rollout.shadow.variant is '{sh.variant}', but the endpoint config the infrastructure code "
                       f"deploys ({ctx.resolved.source}) hosts shadow variants {listed}: the shadow the spec promises "
                       "is not deployed", at=ctx.resolved.config_at or (*base, "variant"),
                       related=(ctx.at((*base, "variant")),),
                       fix="add the shadow variant to ShadowProductionVariants of the endpoint config, or fix "
                           "rollout.shadow.variant")

    if pattern in _NO_SHADOW_VARIANT and not separate:
        problems += 1
        where = (f"rollout.shadow.endpoint is the serving endpoint '{sh.endpoint}'" if sh.endpoint
                 else "the shadow has no endpoint of its own")
        yield ctx.fail(f"serving.pattern is {pattern} and {where}: {_NO_SHADOW_VARIANT[pattern]}, so SageMaker "
                       "cannot run this shadow variant", at=(*base, "endpoint") if sh.endpoint else base,
                       fix="host the shadow on a separate endpoint, have the caller mirror a sample of live "
                           "requests to it and discard its answers, and name that endpoint in "
                           "rollout.shadow.endpoint")

    if not sh.variant:
        problems += 1
        yield ctx.fail("rollout.shadow.variant is not set: nothing says which variant scores the shadow traffic",
                       at=(*base, "variant"), fix="name the shadow variant, e.g. `variant: model-v2-shadow`")
    else:
        for role, other in (("canary", canary), ("previous", previous)):
            if other is not None and other.variant == sh.variant:
                problems += 1
                yield ctx.fail(f"shadow variant '{sh.variant}' is also the {role} variant: a shadow must be a "
                               "variant of its own whose answers are never returned to callers",
                               at=(*base, "variant"),
                               fix=f"give the shadow its own variant name, distinct from rollout.{role}.variant")

    pct = sh.sampling_percent
    if pct is None:
        problems += 1
        yield ctx.fail("rollout.shadow.sampling_percent is not set: how much live traffic the shadow sees is "
                       "unknown", at=(*base, "sampling_percent"),
                       fix=f"set sampling_percent between {_pct(min_pct)} and 100")
    elif not 0 < pct <= 100:
        problems += 1
        yield ctx.fail(f"shadow sampling_percent is {_pct(pct)}, outside (0, 100]: it is a percent of live "
                       "requests copied to the shadow", at=(*base, "sampling_percent"),
                       fix=f"set sampling_percent between {_pct(min_pct)} and 100")
    elif pct < min_pct:
        problems += 1
        yield ctx.fail(f"shadow samples {_pct(pct)} % of live traffic, below the {_pct(min_pct)} % minimum: too "
                       "few requests to show how the model behaves on real inputs", at=(*base, "sampling_percent"),
                       fix=f"raise sampling_percent to at least {_pct(min_pct)} (100 before promotion is best)")

    seconds: float | None = None
    if sh.duration is None:
        problems += 1
        yield ctx.fail("rollout.shadow.duration is not set: nothing says how long the shadow runs before the "
                       "canary starts", at=(*base, "duration"),
                       fix=f"set duration to at least {min_dur_txt}, e.g. `duration: 3d`")
    else:
        seconds = parse_duration(sh.duration)
        if seconds is None:
            problems += 1
            yield ctx.fail(f"shadow duration '{sh.duration}' is not a duration mlgate understands",
                           at=(*base, "duration"), fix=f"write {DURATION_HELP}")
        elif seconds < min_dur:
            problems += 1
            yield ctx.fail(f"shadow runs {sh.duration}, shorter than the {min_dur_txt} minimum: "
                           "too short to see a full daily traffic cycle", at=(*base, "duration"),
                           fix=f"run the shadow for at least {min_dur_txt}")
        elif seconds > MAX_SHADOW_TEST_S and pattern not in _NO_SHADOW_VARIANT and not separate:
            yield ctx.warn(f"shadow runs {sh.duration}, longer than the 30 days a SageMaker shadow test "
                           "(inference experiment) can be scheduled for", at=(*base, "duration"),
                           fix="plan the shadow as a ShadowProductionVariants endpoint config rather than a "
                               "managed shadow test, or run successive tests of at most 30d")

    instance_type = ctx.spec.serving.instance_type if ctx.spec.serving else None
    if pattern == "realtime" and not separate and instance_type and instance_type.startswith("ml.inf1."):
        # Facts §2.2: the shadow-test exclusions list Inf1 instances.
        yield ctx.warn(f"serving.instance_type is {instance_type}: SageMaker shadow tests exclude Inf1 "
                       "instances", at=("serving", "instance_type"),
                       fix="host the shadow on a separate endpoint (rollout.shadow.endpoint) that the caller "
                           "mirrors requests to, or serve on another instance family")

    if not problems and pct is not None and seconds is not None:
        where = (f"on its own endpoint '{sh.endpoint}' (the caller mirrors requests)" if separate
                 else f"on endpoint '{serving_endpoint}'" if serving_endpoint else "beside the serving variant")
        if resolved is not None and resolved.experiment_at is not None and sh.variant in resolved.experiment_shadows:
            where += f", as a shadow test ({resolved.experiment_at.path}:{resolved.experiment_at.line})"
        yield ctx.ok(f"shadow variant '{sh.variant}' scores {_pct(pct)} % of live traffic for {sh.duration} "
                     f"{where} before serving (minimum {_pct(min_pct)} % for {min_dur_txt})", at=base)


def _shadow_config(ctx: CheckContext, separate: bool) -> Generator[Finding, None, int]:
    """The endpoint config's shape: with ShadowProductionVariants, the API takes exactly one production and one
    shadow variant."""
    resolved = ctx.resolved
    if separate or resolved is None or not resolved.shadow_variants or resolved.variants is None:
        return 0
    facts = load_facts()
    cited = facts.cite(facts.rollout.shadow_production_variants)
    production, shadows = resolved.variants, resolved.shadow_variants
    if len(production) == 1 and len(shadows) == 1:
        return 0
    listed = ", ".join(f"'{v}'" for v in production)
    yield ctx.fail(f"the endpoint config ({resolved.source}) holds {len(production)} production variant"
                   f"{'s' if len(production) != 1 else ''} ({listed}) and {len(shadows)} shadow variant"
                   f"{'s' if len(shadows) != 1 else ''} ({', '.join(repr(v) for v in shadows)}): {cited}, so "
                   "SageMaker rejects this endpoint config", at=resolved.config_at or ("rollout", "shadow"),
                   fix="shadow one production variant with one shadow variant; ramp the canary with a later endpoint "
                       "config that has no shadow")
    return 1


# RLO002 -----------------------------------------------------------------------------------------------------------

def canary(ctx: CheckContext) -> Iterator[Finding]:
    """The new variant takes live traffic in rising steps, with a bake time at each, never 0 -> 100 at once."""
    na = _batch_na(ctx, "no traffic to ramp")
    if na:
        yield na
        return
    max_first = _number_param(ctx, "max_first_step")
    min_steps = ctx.params.get("min_steps")
    min_bake = _duration_param(ctx, "min_bake_time")
    if max_first is None:
        yield _bad_param(ctx, "max_first_step", "a number")
    if not isinstance(min_steps, int) or isinstance(min_steps, bool):
        yield _bad_param(ctx, "min_steps", "a whole number")
        min_steps = None
    if min_bake is None:
        yield _bad_param(ctx, "min_bake_time", DURATION_HELP)
    if max_first is None or min_steps is None or min_bake is None:
        return
    min_bake_txt = str(ctx.params["min_bake_time"]).strip()

    _, can, _ = _variants(ctx)
    base = ("rollout", "canary")
    mech, how = mechanism(ctx)
    if mech == "guardrails":
        yield from _guardrail_ramp(ctx, can, how, max_first, min_steps, min_bake)
        return
    if can is None:
        yield ctx.fail("no rollout.canary: the new model would take 100 % of traffic at once, so a bad model "
                       "hurts every caller before any alarm can fire", at=base,
                       fix=f"add rollout.canary with a variant, steps rising from at most {_pct(max_first)} to 100 "
                           f"and a bake_time of at least {min_bake_txt}, e.g. "
                           "`canary: {variant: model-v2, steps: [10, 50, 100], bake_time: 1h}`")
        return

    problems = 0
    if not can.variant:
        problems += 1
        yield ctx.fail("rollout.canary.variant is not set: nothing says which variant the traffic moves to",
                       at=(*base, "variant"), fix="name the new model's variant, e.g. `variant: model-v2`")

    steps = can.steps
    path = (*base, "steps")
    if not steps:
        problems += 1
        yield ctx.fail("rollout.canary.steps is empty: there is no ramp, so traffic would move all at once",
                       at=path, fix=f"list the percent of traffic at each step, starting at most at "
                                    f"{_pct(max_first)} and ending at 100, e.g. `steps: [10, 50, 100]`")
    elif len(steps) == 1 and steps[0] == 100:
        problems += 1
        yield ctx.fail("the canary goes from 0 → 100 % at once: every caller gets the new model before any "
                       "alarm has seen it", at=(*path, 0),
                       fix=f"ramp in steps, starting at most at {_pct(max_first)} %, e.g. `steps: [10, 50, 100]`")
    else:
        problems += yield from _ramp_problems(ctx, steps, path, max_first, min_steps)

    bake: float | None = None
    if can.bake_time is None:
        problems += 1
        yield ctx.fail("rollout.canary.bake_time is not set: the next step could start before the alarms have "
                       "seen the canary", at=(*base, "bake_time"),
                       fix=f"set bake_time to at least {min_bake_txt}, e.g. `bake_time: 1h`")
    else:
        bake = parse_duration(can.bake_time)
        if bake is None:
            problems += 1
            yield ctx.fail(f"canary bake_time '{can.bake_time}' is not a duration mlgate understands",
                           at=(*base, "bake_time"), fix=f"write {DURATION_HELP}")
        elif bake < min_bake:
            problems += 1
            yield ctx.fail(f"canary bakes {can.bake_time} at each step, shorter than the "
                           f"{min_bake_txt} minimum: the alarms may not have enough data to fire "
                           "before the next step", at=(*base, "bake_time"),
                           fix=f"set bake_time to at least {min_bake_txt}")

    swap = ""
    resolved = ctx.resolved
    if resolved is not None and resolved.policy is not None and mech == "weights":
        # the DeploymentConfig applies each new endpoint config (e.g. the one that adds the canary variant)
        found = list(plan(ctx, resolved.policy, resolved.variant_instances, None, say_share=True))
        kind_value = resolved.policy.type
        for excl in excluded(ctx, show(kind_value.value) if kind_value is not None and kind_value.known else None):
            if excl.feature.startswith("rolling_"):
                found.append(ctx.fail(f"the DeploymentConfig is a rolling update, which this endpoint cannot use: "
                                      f"{load_facts().cite(excl)}", at=resolved.policy.at,
                                      fix="use a BlueGreenUpdatePolicy to apply new endpoint configs"))
        problems += sum(f.status in ("fail", "warn") for f in found)
        yield from found
        kind = resolved.policy.type.text if resolved.policy.type is not None else "ALL_AT_ONCE"
        swap = f"; the DeploymentConfig shifts each new endpoint config {kind} ({resolved.policy.at.path}:" \
               f"{resolved.policy.at.line})"
    if not problems:
        ramp = " → ".join(_pct(s) for s in steps)
        note = ""
        if mech == "weights":
            note = f"; the weights move with UpdateEndpointWeightsAndCapacities ({how}){swap}"
        if ctx.pattern == "serverless":
            # Facts §1.2 (no multiple production variants on serverless) and §2.3 (deployment guardrails apply to
            # realtime and async only): the split happens outside SageMaker.
            note = ("; serverless endpoints hold one variant each, so whatever routes callers between the two "
                    "endpoints must apply these weights")
        yield ctx.ok(f"canary '{can.variant}' ramps {ramp} % with {can.bake_time} bake at each step{note}",
                     at=path)


def _guardrail_ramp(ctx: CheckContext, can: Canary | None, how: str, max_first: float, min_steps: int,
                    min_bake: float) -> Iterator[Finding]:
    """RLO002 for deployment guardrails: the DeploymentConfig's traffic shift is the ramp (its first step in whole
    instances of the variant, its WaitIntervalInSeconds the bake); a ramp written only in the spec must be one a
    CANARY or LINEAR shift can run."""
    base = ("rollout", "canary")
    resolved = ctx.resolved
    policy = resolved.policy if resolved is not None else None
    serving = ctx.spec.serving
    count = serving.instance_count if serving else None
    kind = show(policy.type.value) if policy is not None and policy.type is not None and policy.type.known else None
    steps = can.steps if can is not None else []
    declared = kind in ("CANARY", "LINEAR", "ROLLING") or (kind is None and bool(steps) and steps != [100])
    problems = 0
    for excl in excluded(ctx, kind):
        if declared:
            problems += 1
            yield ctx.fail(f"the rollout uses deployment guardrails ({how}), but they do not apply here: "
                           f"{load_facts().cite(excl)}; the declared canary is no canary", at=base,
                           fix="serve on an instance family guardrails support (not Inf1), or ramp variant weights "
                               "with UpdateEndpointWeightsAndCapacities (rollout.mechanism: weights)")
    package = marketplace_unknown(ctx, how) if declared else None
    if package is not None:
        problems += 1
        yield package
    if resolved is not None and resolved.policy_unknown:
        yield ctx.warn(f"the endpoint's DeploymentConfig cannot be known before deployment: "
                       f"{resolved.policy_unknown}; mlgate cannot check the traffic shift", at=base,
                       fix="write the DeploymentConfig in the infrastructure code")
        return
    if policy is not None and resolved is not None:
        instances = resolved.variant_instances
        only = next(iter(instances)) if len(instances) == 1 else (can.variant if can else None)
        shift, failed = yield from plan(ctx, policy, instances, only, say_share=False)
        problems += failed
        if shift is None or not shift.shares:
            return
        at = shift.at
        if shift.kind == "ALL_AT_ONCE" or len(shift.shares) == 1:
            yield ctx.fail(f"the DeploymentConfig ({policy.at.path}:{policy.at.line}) shifts all the traffic to "
                           "the new fleet at once (ALL_AT_ONCE): every caller gets the new model before any alarm "
                           "has seen it", at=at,
                           fix="use TrafficRoutingConfiguration Type CANARY (CanarySize: 1 instance) or LINEAR, "
                               "with WaitIntervalInSeconds as the bake time")
            return
        first = shift.shares[0]
        if first > max_first:
            problems += 1
            yield ctx.fail(f"the {shift.kind} shift's first step is {shift.step}: that share reaches the new model "
                           f"before any alarm has seen it, above the {_pct(max_first)} % maximum", at=at,
                           fix=f"add instances so one instance is at most {_pct(max_first)} % of the variant "
                               f"(at least {math.ceil(100 / max_first)} instances for a 1-instance canary), or "
                               "ramp variant weights instead (rollout.mechanism: weights)")
        if len(shift.shares) < min_steps:
            problems += 1
            yield ctx.fail(f"the {shift.kind} shift ramps {shift.ramp} in {len(shift.shares)} steps, fewer than "
                           f"the {min_steps} required", at=at, fix="use a LINEAR shift with smaller steps")
        if shift.wait_s is None:
            problems += 1
            yield ctx.fail(f"the {shift.kind} shift sets no WaitIntervalInSeconds: it does not bake between steps",
                           at=policy.at, fix="set WaitIntervalInSeconds to the bake time")
        elif shift.wait_s < min_bake:
            problems += 1
            yield ctx.fail(f"the {shift.kind} shift bakes {format_duration(shift.wait_s)} at each step "
                           f"(WaitIntervalInSeconds), shorter than the {format_duration(min_bake)} minimum",
                           at=policy.wait_s.at if policy.wait_s else policy.at,
                           fix=f"set WaitIntervalInSeconds to at least {min_bake:g}")
        if not problems:
            yield ctx.ok(f"the {shift.kind} traffic shift ({how}) ramps {shift.ramp} with "
                         f"{format_duration(shift.wait_s or 0)} bake at each step ({shift.step}); SageMaker rolls "
                         "the update back if a rollback alarm fires meanwhile", at=at)
        return
    fact = resolved.fact(("rollout", "mechanism")) if resolved is not None else None
    if fact is not None and fact.origin != "spec" and not fact.unknown:
        problems += 1
        yield ctx.fail(f"the endpoint has one production variant and no DeploymentConfig ({how}): UpdateEndpoint "
                       f"shifts all the traffic to the new fleet at once "
                       f"({load_facts().cite(load_facts().rollout.default_all_at_once)})", at=fact.at,
                       fix="add DeploymentConfig.BlueGreenUpdatePolicy with a CANARY or LINEAR "
                           "TrafficRoutingConfiguration, or keep both variants in the config and ramp weights")
        return
    if can is None or not can.steps:
        yield ctx.fail("rollout.mechanism is guardrails but rollout.canary.steps is not set: nothing says how the "
                       "new fleet takes the traffic", at=base,
                       fix="write the ramp the DeploymentConfig will run, e.g. `steps: [10, 20, ..., 100]` for LINEAR "
                           "10 %, and name the infrastructure code in infrastructure:")
        return
    path = (*base, "steps")
    if steps == [100]:
        yield ctx.fail("the canary goes from 0 → 100 % at once (ALL_AT_ONCE): every caller gets the new model "
                       "before any alarm has seen it", at=(*path, 0),
                       fix=f"ramp in steps, starting at most at {_pct(max_first)} %, e.g. `steps: [10, 20, 30, 40, 50, "
                           "60, 70, 80, 90, 100]` (LINEAR 10 %)")
        return
    problems += yield from _ramp_problems(ctx, steps, path, max_first, min_steps)
    bake = parse_duration(can.bake_time) if can.bake_time is not None else None
    if bake is None:
        problems += 1
        yield ctx.fail("rollout.canary.bake_time is not set or not a duration: it becomes WaitIntervalInSeconds",
                       at=(*base, "bake_time"), fix=f"write {DURATION_HELP}")
    elif bake < min_bake:
        problems += 1
        yield ctx.fail(f"canary bakes {can.bake_time} at each step, shorter than the {format_duration(min_bake)} "
                       "minimum", at=(*base, "bake_time"), fix=f"set bake_time to at least {format_duration(min_bake)}")
    if problems:
        return
    cannot = expressible(steps, bake, count)
    ramp = " → ".join(_pct(s) for s in steps)
    if cannot is not None:
        yield ctx.fail(f"rollout.canary ramps {ramp} % with {can.bake_time} bake, which deployment guardrails "
                       f"({how}) cannot run: {cannot}", at=path,
                       fix="write a ramp a CANARY or LINEAR DeploymentConfig can run, or set rollout.mechanism: "
                           "weights and ramp with UpdateEndpointWeightsAndCapacities")
        return
    yield ctx.ok(f"rollout.canary ramps {ramp} % with {can.bake_time} bake, a shift deployment guardrails can run "
                 f"({how}; no infrastructure code shows the DeploymentConfig, so it is not confirmed)", at=path)


def _ramp_problems(ctx: CheckContext, steps: list[float], path: tuple[Any, ...], max_first: float,
                   min_steps: int) -> Generator[Finding, None, int]:
    """Findings for a ramp of at least one step that is not the single 100 % step; returns how many."""
    count = 0
    highest = 0.0
    for i, step in enumerate(steps):
        at = (*path, i)
        if not 0 < step <= 100:
            count += 1
            yield ctx.fail(f"canary step {i + 1} is {_pct(step)} %, outside (0, 100]: a step is the percent of "
                           "live traffic the canary takes", at=at, fix="use percents above 0 and at most 100")
            continue
        if step <= highest:
            count += 1
            yield ctx.fail(f"canary step {i + 1} is {_pct(step)} %, not above the {_pct(highest)} % before it: "
                           "the steps must rise strictly", at=at,
                           fix="order the steps from the smallest to 100, each larger than the one before")
        highest = max(highest, step)
    first = steps[0]
    if 0 < first <= 100 and first > max_first:
        count += 1
        yield ctx.fail(f"first canary step is {_pct(first)} %, above the {_pct(max_first)} % maximum: a bad "
                       "model would reach that share of callers before any alarm fires", at=(*path, 0),
                       fix=f"start the ramp at {_pct(max_first)} % or less, e.g. `steps: [{_pct(max_first)}, 50, "
                           "100]`")
    last = steps[-1]
    if 0 < last < 100:
        count += 1
        yield ctx.fail(f"the ramp ends at {_pct(last)} %, not 100 %: the canary never takes all the traffic, so "
                       "the rollout never finishes", at=(*path, len(steps) - 1), fix="end the steps at 100")
    if len(steps) < min_steps:
        count += 1
        yield ctx.fail(f"the ramp has {len(steps)} step{'s' if len(steps) != 1 else ''}, fewer than the "
                       f"{min_steps} required", at=path,
                       fix=f"ramp in at least {min_steps} steps ending at 100, e.g. `steps: [10, 50, 100]`")
    return count


# RLO003 -----------------------------------------------------------------------------------------------------------

_FIRST_RELEASE = ("on a first deployment there is no previous variant: waive RLO003 with that reason until the "
                  "second release")


def previous(ctx: CheckContext) -> Iterator[Finding]:
    """The variant being replaced stays deployed with capacity, so rollback is a weight change, not a redeploy."""
    na = _batch_na(ctx, "no live variant to roll back to")
    if na:
        yield na
        return
    min_instances = ctx.params.get("min_instances")
    if not isinstance(min_instances, int) or isinstance(min_instances, bool):
        yield _bad_param(ctx, "min_instances", "a whole number")
        return

    _, can, prev = _variants(ctx)
    base = ("rollout", "previous")
    mech, how = mechanism(ctx)
    if mech == "guardrails":
        yield from _guardrail_previous(ctx, how)
        return
    if prev is None:
        yield ctx.fail("no rollout.previous: nothing keeps the current model deployed, so rolling back would need "
                       "a redeploy (new endpoint config, instances to start, model to load) while the bad model "
                       "keeps serving", at=base,
                       fix="add rollout.previous with the variant being replaced, keep_warm: true and "
                           f"min_instances: {max(min_instances, 1)}; {_FIRST_RELEASE}")
        return

    problems = 0
    if not prev.variant:
        problems += 1
        yield ctx.fail("rollout.previous.variant is not set: nothing says which variant traffic goes back to on "
                       "rollback", at=(*base, "variant"),
                       fix=f"name the variant being replaced, e.g. `variant: model-v1`; {_FIRST_RELEASE}")
    elif can is not None and can.variant == prev.variant:
        problems += 1
        yield ctx.fail(f"previous variant '{prev.variant}' is also the canary variant: rolling back must move "
                       "traffic to the model being replaced, not to the new one", at=(*base, "variant"),
                       fix="name the variant that serves traffic today in rollout.previous.variant")

    deployed = ctx.resolved.variants if ctx.resolved is not None else None
    if prev.variant and deployed is not None and ctx.resolved is not None and prev.variant not in deployed \
            and (can is None or can.variant != prev.variant):
        problems += 1
        where = ctx.resolved.config_at
        listed = ", ".join(f"'{v}'" for v in deployed) or "none"
        yield ctx.fail(f"rollout.previous.variant is '{prev.variant}', but the endpoint config the infrastructure "
                       f"code deploys ({ctx.resolved.source}) has production variants {listed}: the variant to roll "
                       "back to is not deployed, so rolling back would need a redeploy",
                       at=where or (*base, "variant"), related=(ctx.at((*base, "variant")),),
                       fix="keep the previous variant in ProductionVariants beside the new one until the canary "
                           "has reached 100 % and baked, or fix rollout.previous.variant")

    if prev.keep_warm is not True:
        problems += 1
        state = "false" if prev.keep_warm is False else "not set"
        yield ctx.fail(f"rollout.previous.keep_warm is {state}: if the old variant is torn down, rolling back "
                       "needs a redeploy instead of a weight change", at=(*base, "keep_warm"),
                       fix="set keep_warm: true and keep the old variant deployed until the canary has reached "
                           "100 % and baked")

    pattern = ctx.pattern
    if pattern == "serverless":
        pc = ctx.spec.serving.serverless.provisioned_concurrency if (
            ctx.spec.serving and ctx.spec.serving.serverless) else None
        if not pc or pc < 1:
            ignored = " (min_instances does not apply to serverless)" if prev.min_instances is not None else ""
            yield ctx.warn(f"on serverless, warm means provisioned concurrency, and "
                           f"serving.serverless.provisioned_concurrency is {pc if pc is not None else 'not set'}"
                           f"{ignored}: traffic rolled back to the old model waits on cold starts",
                           at=("serving", "serverless", "provisioned_concurrency"),
                           fix="set serving.serverless.provisioned_concurrency to 1 or more for the rollout")
            problems += 1
            warm = None
        else:
            warm = f"{pc} provisioned concurrency"
    elif prev.min_instances is None:
        problems += 1
        yield ctx.fail("rollout.previous.min_instances is not set, so the old variant may have no instances: "
                       "rolling back would wait for instances to start and the model to load",
                       at=(*base, "min_instances"), fix=f"set min_instances: {max(min_instances, 1)}")
        warm = None
    elif prev.min_instances < min_instances:
        problems += 1
        yield ctx.fail(f"the old variant keeps {prev.min_instances} instance"
                       f"{'s' if prev.min_instances != 1 else ''}, below the {min_instances} minimum: rolling back "
                       "would wait for instances to start and the model to load", at=(*base, "min_instances"),
                       fix=f"set min_instances to at least {min_instances}")
        warm = None
    else:
        warm = f"at least {prev.min_instances} instance{'s' if prev.min_instances != 1 else ''}"

    if not problems:
        capacity = f" with {warm}" if warm else ""
        yield ctx.ok(f"previous variant '{prev.variant}' stays deployed and warm{capacity}: rollback is a weight "
                     "change, not a redeploy", at=base)


def _guardrail_previous(ctx: CheckContext, how: str) -> Iterator[Finding]:
    """RLO003 for deployment guardrails: the new fleet replaces the old one under the same variant name, so "the
    previous variant kept warm" is the old (blue) fleet kept TerminationWaitInSeconds after the shift; a rolling
    update keeps none."""
    base = ("rollout", "previous")
    limits = load_facts().rollout
    resolved = ctx.resolved
    policy = resolved.policy if resolved is not None else None
    same = load_facts().cite(limits.same_variant_name)
    kind = show(policy.type.value) if policy is not None and policy.type is not None and policy.type.known else None
    fact = resolved.fact(("rollout", "mechanism")) if resolved is not None else None
    from_code = fact is not None and fact.origin != "spec" and not fact.unknown
    if kind == "ROLLING" and policy is not None:
        yield ctx.fail(f"the rollout is a rolling update ({how}): each batch of old instances is terminated as the "
                       "new batch takes its traffic, so no previous fleet is kept warm; once the update ends, rolling "
                       "back is a redeploy of the previous endpoint config", at=policy.at,
                       fix="use a BlueGreenUpdatePolicy with TerminationWaitInSeconds (up to 3600) to keep the old "
                           "fleet after the shift, or ramp variant weights with the previous variant kept deployed")
        return
    if policy is not None or from_code:
        wait = policy.termination_wait_s if policy is not None else None
        seconds = float(wait.value) if wait is not None and wait.known and not isinstance(wait.value, bool) \
            and isinstance(wait.value, int | float) else None
        at = wait.at if wait is not None else (policy.at if policy is not None else ctx.at(base))
        if wait is not None and not wait.known:
            yield ctx.warn(f"TerminationWaitInSeconds is {wait.text} ({wait.unknown}; {wait.where()}): how long the "
                           "old fleet stays after the shift is known only at deploy time", at=at,
                           fix="write TerminationWaitInSeconds in the infrastructure code")
            return
        if not seconds:
            shown = f"TerminationWaitInSeconds {wait.text}, {wait.where()}" if wait is not None else \
                "no TerminationWaitInSeconds: the API's default is 0"
            yield ctx.fail(f"blue/green deployment guardrails ({how}) terminate the old fleet as soon as the traffic "
                           f"shift ends ({shown}): after that, rolling back is a redeploy, not a switch back to a "
                           f"warm fleet (the new fleet keeps the variant name: {same})", at=at,
                           fix="set TerminationWaitInSeconds (at most 3600) to keep the old fleet warm after the "
                               "shift, or ramp variant weights with the previous variant kept deployed")
            return
        if (yield from _blue_outlives_bake(ctx, seconds, at)):
            yield ctx.ok(f"the old (blue) fleet stays warm {format_duration(seconds)} after the traffic shift "
                         f"(TerminationWaitInSeconds, {at.path}:{at.line}); during the update and that wait, a "
                         "rollback alarm sends the traffic back to it. After it, rolling back is a redeploy of the "
                         "previous endpoint config. The blue fleet keeps the instance count of the endpoint config "
                         "it runs now, which this code does not show: its capacity for the whole peak is unknown "
                         f"here ({load_facts().cite(limits.blue_fleet_until_termination)})", at=at)
        return
    prev = ctx.spec.rollout.previous if ctx.spec.rollout else None
    if prev is None or prev.keep_warm is not True:
        yield ctx.fail(f"the rollout uses deployment guardrails ({how}) and rollout.previous.keep_warm is not true: "
                       "the old fleet is terminated when the traffic shift ends, so rolling back is a redeploy",
                       at=(*base, "keep_warm") if prev is not None else base,
                       fix="keep the old fleet after the shift with TerminationWaitInSeconds (at most 3600) and set "
                           "rollout.previous.keep_warm: true")
        return
    yield ctx.warn("with deployment guardrails, keep_warm means the old fleet stays TerminationWaitInSeconds after "
                   "the shift (at most 3600 s), and no infrastructure code shows that value", at=(*base, "keep_warm"),
                   fix="name the infrastructure code that sets the DeploymentConfig in infrastructure:, so mlgate "
                       "can read TerminationWaitInSeconds")


def _blue_outlives_bake(ctx: CheckContext, seconds: float, at: Location) -> Generator[Finding, None, bool]:
    """The blue fleet must survive the spec's bake at full traffic: the last step of the shift sends every caller
    to the new fleet, and a problem found after TerminationWaitInSeconds can no longer be rolled back by moving
    traffic. False (with a failure) when it does not."""
    facts = load_facts()
    limits = facts.rollout
    canary = ctx.spec.rollout.canary if ctx.spec.rollout else None
    written = canary.bake_time if canary is not None else None
    bake = parse_duration(written) if written else None
    if bake is None or seconds >= bake:
        return True
    most = limits.termination_wait_s_max.value
    can = f"set TerminationWaitInSeconds to at least {bake:g}" if bake <= most else \
        f"TerminationWaitInSeconds is at most {most:g} ({format_duration(most)}), so a {written} bake at full " \
        "traffic needs variant weights with the previous variant kept deployed (rollout.mechanism: weights)"
    yield ctx.fail(f"the old (blue) fleet is terminated {format_duration(seconds)} after the traffic shift "
                   f"(TerminationWaitInSeconds, {at.path}:{at.line}), shorter than the {written} bake the spec "
                   "asks of every step (rollout.canary.bake_time): a problem found in the "
                   "rest of the bake at 100 % cannot be rolled back by moving the traffic, only by a new deployment "
                   f"of the previous endpoint config ({facts.cite(limits.blue_fleet_until_termination)})", at=at,
                   fix=can)
    return False


# RLO004 -----------------------------------------------------------------------------------------------------------

def rollback_alarms(ctx: CheckContext) -> Iterator[Finding]:
    """The ramp is watched by alarms, defined in monitoring.operational, that roll it back on errors and latency."""
    na = _batch_na(ctx, "no traffic ramp to roll back")
    if na:
        yield na
        return
    require_latency = ctx.params.get("require_latency")
    if not isinstance(require_latency, bool):
        yield _bad_param(ctx, "require_latency", "true or false")
        return

    names = ctx.spec.rollout.rollback_alarms if ctx.spec.rollout else []
    base = ("rollout", "rollback_alarms")
    want = "errors and latency" if require_latency else "errors"
    mech, how = mechanism(ctx)
    if not names:
        why = ("nothing watches the canary, so a bad one keeps its traffic until someone notices" if mech == "weights"
               else "nothing rolls a bad canary back automatically, so it keeps its traffic until someone notices "
                    "(SageMaker's auto-rollback needs CloudWatch alarms)")
        yield ctx.fail(f"rollout.rollback_alarms is empty: {why}",
                       at=base, fix=f"list the monitoring.operational alarms that watch {want}, e.g. "
                                    "`rollback_alarms: [my-model-5xx-rate, my-model-p99-latency]`")
        return

    operational = ctx.spec.monitoring.operational if ctx.spec.monitoring else None
    defined: dict[str, Alarm] = {a.name: a for a in (operational.alarms if operational else []) if a.name}
    in_code = _alarms_in_code(ctx)
    problems = 0
    seen: set[str] = set()
    used: list[Alarm] = []
    for i, name in enumerate(names):
        at = (*base, i)
        if name in seen:
            yield ctx.warn(f"rollback alarm '{name}' is listed more than once", at=at,
                           fix="list each rollback alarm once")
            continue
        seen.add(name)
        alarm = defined.get(name)
        if alarm is None and name in in_code:
            alarm, where = in_code[name]
            yield ctx.ok(f"rollback alarm '{name}' is defined in the infrastructure code ({where.path}:{where.line}) "
                         f"on {alarm.metric or 'a metric mlgate cannot read'}", at=at)
        if alarm is None:
            problems += 1
            known = did_you_mean(name, defined, "alarm")
            yield ctx.fail(f"rollback alarm '{name}' is not an alarm in monitoring.operational.alarms ({known}): "
                           "a rollback wired to an alarm that does not exist never fires", at=at,
                           fix="name an alarm defined in monitoring.operational.alarms, or define this one there")
            continue
        used.append(alarm)

    if len(seen) > MAX_ROLLBACK_ALARMS:
        problems += 1
        yield ctx.fail(f"{len(seen)} rollback alarms are listed; SageMaker's AutoRollbackConfiguration takes at "
                       f"most {MAX_ROLLBACK_ALARMS}", at=base,
                       fix=f"keep the {MAX_ROLLBACK_ALARMS} alarms that matter most for a rollback")

    watched = {a.watches for a in used}
    described = ", ".join(f"{a.name} ({a.watches or 'watches not set'})" for a in used) or "none of them is defined"
    required = [("errors", "a canary that returns errors")]
    if require_latency:
        required.append(("latency", "a canary that answers too slowly"))
    for kind, harm in required:
        if kind not in watched:
            problems += 1
            metric = "Invocation5XXErrors" if kind == "errors" else "ModelLatency"
            yield ctx.fail(f"no rollback alarm watches {kind} (rollback alarms: {described}): {harm} would keep "
                           "its traffic", at=base,
                           fix=f"define an alarm with `watches: {kind}` (e.g. on {metric}) in "
                               "monitoring.operational.alarms and add its name to rollout.rollback_alarms")

    acts = yield from _who_acts(ctx, mech, how)
    if acts is None:
        problems += 1
    if not problems:
        home = "monitoring.operational"
        if any(a.name not in defined for a in used):
            home += " or the infrastructure code"
        yield ctx.ok(f"rollback alarms {described} are defined in {home} and cover {want}; {acts}", at=base)


def _who_acts(ctx: CheckContext, mech: str | None, how: str) -> Generator[Finding, None, str | None]:
    """What happens when a rollback alarm fires, for the pass message; None (with a failure) when nothing does."""
    rollout = ctx.spec.rollout
    facts = load_facts()
    if mech is None:
        yield ctx.fail("rollout.mechanism is not set and no infrastructure code shows it: whether a firing alarm "
                       "rolls anything back depends on it (deployment guardrails roll back on their alarms; "
                       "UpdateEndpointWeightsAndCapacities takes none)", at=("rollout",),
                       fix="set `rollout.mechanism: guardrails` (UpdateEndpoint with a DeploymentConfig and "
                           "AutoRollbackConfiguration) or `rollout.mechanism: weights` with "
                           "`rollout.rollback_automation` (who or what moves the weight back), or name the "
                           "infrastructure code in infrastructure:")
        return None
    if mech == "guardrails":
        for excl in excluded(ctx, None):
            yield ctx.fail(f"the rollout uses deployment guardrails ({how}), but {facts.cite(excl)}: their "
                           "auto-rollback does not run, so these alarms roll nothing back", at=("rollout",),
                           fix="serve on an instance family guardrails support, or ramp variant weights and name "
                               "rollout.rollback_automation")
            return None
        if ctx.pattern == "serverless":
            # Facts §2.3: deployment guardrails (and their auto-rollback) apply to realtime and async endpoints only.
            return "SageMaker deployment guardrails do not cover serverless, so these alarms must drive your own " \
                   "rollback"
        return (f"SageMaker rolls the update back automatically when one fires while it runs "
                f"(AutoRollbackConfiguration of the DeploymentConfig; {how})")
    weights = facts.cite(facts.rollout.weights_take_alarms)
    written = rollout.rollback_automation if rollout else None
    at = ("rollout", "rollback_automation")
    if written is None or not written.strip():
        yield ctx.fail(f"the rollout moves variant weights ({how}), and nothing rolls a weights rollout back by "
                       f"itself ({weights}): rollout.rollback_automation does not say who or what acts when a "
                       "rollback alarm fires", at=at if rollout and rollout.rollback_automation is not None
                       else ("rollout",),
                       fix="set rollout.rollback_automation to the pager the alarms page (e.g. "
                           "pagerduty:ml-primary, whose on-call runs operations.rollback) or to the repository path "
                           "of the automation that moves the weight back (a Lambda handler calling "
                           "update_endpoint_weights_and_capacities)")
        return None
    return (yield from _automation(ctx, written.strip(), at))


_WEIGHT_CALLS = ("update_endpoint_weights_and_capacities", "UpdateEndpointWeightsAndCapacities",
                 "updateEndpointWeightsAndCapacities", "update-endpoint-weights-and-capacities")


def _automation(ctx: CheckContext, written: str, at: tuple[str, ...]) -> Generator[Finding, None, str | None]:
    """A pager target (a person runs operations.rollback) or the code of the automation that shifts the weights."""
    from mlgate.rules.operations.ops002_on_call import judge_target

    kind, desc = judge_target(written)
    ops = ctx.spec.operations
    if kind == "pager":
        if ops is None or not (ops.rollback or "").strip():
            yield ctx.fail(f"rollout.rollback_automation pages {desc}, but operations.rollback is not set: the "
                           "person paged has no rollback command to run", at=at,
                           fix="write the weight change that rolls back in operations.rollback and in the runbook")
            return None
        return (f"nothing rolls a weights rollout back by itself: when one fires, {desc} is paged and runs "
                "operations.rollback")
    if kind in ("placeholder", "slack"):
        what = "a placeholder" if kind == "placeholder" else "a chat channel, which wakes nobody up"
        yield ctx.fail(f"rollout.rollback_automation is '{written}', {what}: nobody acts when a rollback alarm "
                       "fires", at=at, fix="name a pager target or the repository path of the rollback automation")
        return None
    try:
        path = ctx.resolve(written)
    except EvidenceError as exc:
        yield ctx.error(f"rollout.rollback_automation '{written}': {exc.message}", at=at)
        return None
    rel = ctx.workspace.rel(path)
    if not path.is_file():
        yield ctx.fail(f"rollout.rollback_automation is '{written}', neither a pager target nor a file in the "
                       "repository: nobody is known to act when a rollback alarm fires", at=at,
                       fix="name a pager target (pagerduty:<service>, opsgenie:<team> ...) or the repository path "
                           "of the rollback automation's code")
        return None
    try:
        text = ctx.workspace.read_text(path)
    except EvidenceError as exc:
        yield ctx.error(f"rollback automation {rel} {exc.message}", at=at)
        return None
    line = _weight_call_line(text, python=path.suffix == ".py")
    if line is None:
        yield ctx.fail(f"rollback automation {rel} never moves variant weights (no "
                       "update_endpoint_weights_and_capacities call, no UpdateEndpointWeightsAndCapacities task): "
                       "it cannot roll a weights rollout back", at=ctx.file(rel),
                       fix="have it call UpdateEndpointWeightsAndCapacities with the previous variant's weight, or "
                           "name the code that does")
        return None
    return (f"nothing rolls a weights rollout back by itself: when one fires, the automation in {rel}:{line} moves "
            "the weights (UpdateEndpointWeightsAndCapacities)")


def _weight_call_line(text: str, *, python: bool) -> int | None:
    """The line that shifts the weights: a call (read with ast) in Python, the API's name in any other text (a
    Step Functions definition, a shell script)."""
    if python:
        import ast

        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == _WEIGHT_CALLS[0]:
                return node.lineno
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if any(name in line for name in _WEIGHT_CALLS[1:]):
            return number
    return None
