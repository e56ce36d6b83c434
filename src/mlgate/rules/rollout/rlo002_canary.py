"""RLO002: the new variant takes live traffic in rising steps with a bake time at each (from the spec's steps with
variant weights, from the DeploymentConfig's traffic shift with deployment guardrails), never 0 -> 100 at once."""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

from pydantic import Field

from mlgate.checks import CheckContext
from mlgate.evidence.iac.model import show
from mlgate.facts import load_facts
from mlgate.result import Finding
from mlgate.rules.params import Duration, Number, OnlineParams
from mlgate.rules.rollout._mechanism import excluded, expressible, marketplace_unknown, mechanism, plan
from mlgate.rules.rollout._shared import duration_at_least, live_pct_text, live_traffic_only, pct_text, variants
from mlgate.spec.models import Canary
from mlgate.units import DURATION_HELP, format_duration, parse_duration

if TYPE_CHECKING:
    from mlgate.aws.live import LiveEndpoint, Online


class Params(OnlineParams):
    max_first_step: Number = Field(10, gt=0, le=100, description="the largest first step of the ramp, in percent of "
                                   "live traffic (with guardrails: the share the first step's whole instances take)")
    min_steps: int = Field(2, ge=1, le=100, description="the fewest steps the ramp must take, the last (100 %) "
                                                        "included")
    min_bake_time: Duration = Field("10m", description="the shortest bake at each step (rollout.canary.bake_time, or "
                                                       "the DeploymentConfig's WaitIntervalInSeconds)")


@live_traffic_only("no traffic to ramp")
def check(ctx: CheckContext) -> Iterator[Finding]:
    """The new variant takes live traffic in rising steps, with a bake time at each, never 0 -> 100 at once."""
    params: Params = ctx.params
    max_first = float(params.max_first_step)
    min_steps = params.min_steps
    min_bake = parse_duration(params.min_bake_time)
    assert min_bake is not None  # Params validated it
    min_bake_txt = params.min_bake_time.strip()

    _, can, _ = variants(ctx)
    base = ("rollout", "canary")
    mech, how = mechanism(ctx)
    if mech == "guardrails":
        yield from _guardrail_ramp(ctx, can, how, max_first, min_steps, min_bake)
        return
    if can is None:
        yield ctx.fail("no rollout.canary: the new model would take 100 % of traffic at once, so a bad model "
                       "hurts every caller before any alarm can fire", at=base,
                       fix=f"add rollout.canary with a variant, steps rising from at most {pct_text(max_first)} to 100 "
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
                                    f"{pct_text(max_first)} and ending at 100, e.g. `steps: [10, 50, 100]`")
    elif len(steps) == 1 and steps[0] == 100:
        problems += 1
        yield ctx.fail("the canary goes from 0 → 100 % at once: every caller gets the new model before any "
                       "alarm has seen it", at=(*path, 0),
                       fix=f"ramp in steps, starting at most at {pct_text(max_first)} %, e.g. `steps: [10, 50, 100]`")
    else:
        problems += yield from _ramp_problems(ctx, steps, path, max_first, min_steps)

    bake = yield from duration_at_least(
        ctx, can.bake_time, min_bake, min_bake_txt, (*base, "bake_time"),
        unset="the next step could start before the alarms have seen the canary", example="1h",
        short=f"canary bakes {can.bake_time} at each step, shorter than the {min_bake_txt} minimum: the alarms may "
              "not have enough data to fire before the next step",
        short_fix=f"set bake_time to at least {min_bake_txt}")
    if bake is None:
        problems += 1

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
        ramp = " → ".join(pct_text(s) for s in steps)
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
                           f"before any alarm has seen it, above the {pct_text(max_first)} % maximum", at=at,
                           fix=f"add instances so one instance is at most {pct_text(max_first)} % of the variant "
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
                       fix=f"ramp in steps, starting at most at {pct_text(max_first)} %, e.g. `steps: [10, 20, 30, 40, "
                           "50, 60, 70, 80, 90, 100]` (LINEAR 10 %)")
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
    ramp = " → ".join(pct_text(s) for s in steps)
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
            yield ctx.fail(f"canary step {i + 1} is {pct_text(step)} %, outside (0, 100]: a step is the percent of "
                           "live traffic the canary takes", at=at, fix="use percents above 0 and at most 100")
            continue
        if step <= highest:
            count += 1
            yield ctx.fail(f"canary step {i + 1} is {pct_text(step)} %, not above the {pct_text(highest)} % before it: "
                           "the steps must rise strictly", at=at,
                           fix="order the steps from the smallest to 100, each larger than the one before")
        highest = max(highest, step)
    first = steps[0]
    if 0 < first <= 100 and first > max_first:
        count += 1
        yield ctx.fail(f"first canary step is {pct_text(first)} %, above the {pct_text(max_first)} % maximum: a bad "
                       "model would reach that share of callers before any alarm fires", at=(*path, 0),
                       fix=f"start the ramp at {pct_text(max_first)} % or less, e.g. "
                           f"`steps: [{pct_text(max_first)}, 50, 100]`")
    last = steps[-1]
    if 0 < last < 100:
        count += 1
        yield ctx.fail(f"the ramp ends at {pct_text(last)} %, not 100 %: the canary never takes all the traffic, so "
                       "the rollout never finishes", at=(*path, len(steps) - 1), fix="end the steps at 100")
    if len(steps) < min_steps:
        count += 1
        yield ctx.fail(f"the ramp has {len(steps)} step{'s' if len(steps) != 1 else ''}, fewer than the "
                       f"{min_steps} required", at=path,
                       fix=f"ramp in at least {min_steps} steps ending at 100, e.g. `steps: [10, 50, 100]`")
    return count


# --aws ---------------------------------------------------------------------------------------------------------------

def _ramp_text(steps: list[float]) -> str:
    return " → ".join(f"{s:g}" for s in steps)


def online(ctx: CheckContext, account: Online) -> Iterator[Finding]:
    """RLO002 online: a live canary serves a share that is a step of the spec's ramp (or none yet), and a blue/green
    deployment policy on the endpoint ramps as the spec says."""
    rollout = ctx.spec.rollout
    can = rollout.canary if rollout else None
    if can is None or not can.variant:
        yield ctx.na("rollout.canary.variant is not set, so there is no canary to look for in the account",
                     at=("rollout", "canary") if can else ("rollout",))
        return
    found = account.live_endpoint(ctx, "canary")
    live = found
    at = ("rollout", "canary", "variant")
    yield from _deployment_policy(ctx, live)
    variant = live.variant(can.variant)
    if variant is None:
        shadowed = live.shadow(can.variant)
        state = "a shadow variant (its answers discarded)" if shadowed else "not deployed yet"
        yield ctx.na(f"canary '{can.variant}' is {state}: the {live.where} serves {live.listing()}", at=at)
        return
    share = live.share(variant)
    steps = list(can.steps)
    if share == 0 or not steps or any(abs(share - s) <= 0.5 for s in steps):
        step = next((i for i, s in enumerate(steps) if abs(share - s) <= 0.5), None)
        where = f"step {step + 1} of the ramp {_ramp_text(steps)} %" if step is not None else \
            ("no traffic yet" if share == 0 else "its share")
        yield ctx.ok(f"canary '{can.variant}' serves {live_pct_text(share)} % of live traffic on the {live.where} "
                     f"({where}; variants: {live.listing()})", at=at)
        return
    yield ctx.fail(f"canary '{can.variant}' serves {live_pct_text(share)} % of live traffic on the {live.where} "
                   f"(variants: {live.listing()}), which is no step of the spec's ramp {_ramp_text(steps)} %",
                   at=("rollout", "canary", "steps"),
                   fix="set the variant weights to the current step of rollout.canary.steps "
                       "(UpdateEndpointWeightsAndCapacities), or fix the steps")


def _deployment_policy(ctx: CheckContext, live: LiveEndpoint) -> Iterator[Finding]:
    """The endpoint's last DeploymentConfig (blue/green traffic shifting) against the ramp and the bake time."""
    policy = (live.deployment or {}).get("BlueGreenUpdatePolicy") or {}
    routing = policy.get("TrafficRoutingConfiguration") or {}
    kind = routing.get("Type")
    can = ctx.spec.rollout.canary if ctx.spec.rollout else None
    if not kind or can is None:
        return
    steps = list(can.steps)
    if kind == "ALL_AT_ONCE" and len(live.variants) < 2 and steps and steps != [100]:
        yield ctx.fail(f"the {live.where} was last deployed with traffic shifting ALL_AT_ONCE, but the spec ramps "
                       f"{_ramp_text(steps)} %", at=("rollout", "canary", "steps"),
                       fix="deploy with a BlueGreenUpdatePolicy of Type CANARY or LINEAR matching the steps")
        return
    wait = routing.get("WaitIntervalInSeconds")
    bake = parse_duration(can.bake_time) if can.bake_time else None
    if kind in ("CANARY", "LINEAR") and isinstance(wait, int | float) and bake is not None:
        if abs(float(wait) - bake) >= 1:
            yield ctx.fail(f"the {live.where} bakes {format_duration(float(wait))} between traffic steps "
                           f"({kind}, WaitIntervalInSeconds {wait}), but rollout.canary.bake_time is {can.bake_time}",
                           at=("rollout", "canary", "bake_time"),
                           fix="make WaitIntervalInSeconds and rollout.canary.bake_time the same")
        else:
            yield ctx.ok(f"the {live.where} shifts traffic {kind} and bakes {can.bake_time} at each step "
                         f"(WaitIntervalInSeconds {wait})", at=("rollout", "canary", "bake_time"))
