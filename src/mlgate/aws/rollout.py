"""RLO001-RLO004 online: the rollout against the live endpoint (DescribeEndpoint, DescribeEndpointConfig) and the
alarms in CloudWatch (DescribeAlarms).

The account shows one moment of the rollout: before it, the endpoint serves the previous variant; during the
shadow phase, the new model is a shadow variant; during the canary, both are production variants and the weights
give the canary's share. Each rule judges what the moment shows, and says which moment it saw: a variant of the
new model that is not deployed yet is `n/a`, not a failure, while a live state the spec contradicts (the shadow
served to callers, a canary share that is no step of the ramp, the previous variant gone or without instances, a
rollback alarm that does not exist or does not watch this endpoint) fails with both sides shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mlgate.aws.live import LiveEndpoint, alarm_metric, watched_endpoints
from mlgate.result import Finding
from mlgate.units import format_duration, parse_duration

if TYPE_CHECKING:
    from mlgate.aws.live import Online
    from mlgate.checks import CheckContext


def _pct(value: float) -> str:
    return f"{value:.3g}"


def shadow(ctx: CheckContext, online: Online) -> Iterator[Finding]:
    """RLO001 online: the shadow variant is a shadow of the live endpoint (its answers discarded), never served."""
    rollout = ctx.spec.rollout
    sh = rollout.shadow if rollout else None
    if sh is None or not sh.variant:
        yield ctx.na("rollout.shadow.variant is not set, so there is no shadow variant to look for in the account",
                     at=("rollout", "shadow") if sh else ("rollout",))
        return
    serving_endpoint = ctx.spec.serving.endpoint if ctx.spec.serving else None
    at = ("rollout", "shadow", "variant")
    if sh.endpoint and sh.endpoint != serving_endpoint:
        yield from _shadow_endpoint(ctx, online, sh.endpoint)
        return
    found = online.endpoint(ctx, "shadow variant")
    if isinstance(found, Finding):
        yield found
        return
    live = found
    hosted = live.shadow(sh.variant)
    if hosted is not None:
        yield ctx.ok(f"shadow variant '{sh.variant}' is a shadow production variant of the {live.where} (model "
                     f"{hosted.model}): it scores mirrored requests and its answers are discarded", at=at)
        return
    served = live.variant(sh.variant)
    if served is not None and live.share(served) > 0:
        yield ctx.fail(f"shadow variant '{sh.variant}' is a production variant of the {live.where} with "
                       f"{_pct(live.share(served))} % of live traffic: callers get its answers, so it is a canary, "
                       "not a shadow", at=at,
                       fix="host it in ShadowProductionVariants of the endpoint config (its answers are then "
                           "discarded), or fix rollout.shadow.variant")
        return
    canary = rollout.canary if rollout else None
    live_canary = live.variant(canary.variant if canary else None)
    if live_canary is not None and live.share(live_canary) > 0:
        yield ctx.na(f"the canary '{live_canary.name}' already serves {_pct(live.share(live_canary))} % on the "
                     f"{live.where}: the shadow phase is over, and the account no longer shows it", at=at)
        return
    yield ctx.na(f"shadow variant '{sh.variant}' is not deployed yet: the {live.where} serves "
                 f"{live.listing()}", at=at)


def _shadow_endpoint(ctx: CheckContext, online: Online, name: str) -> Iterator[Finding]:
    at = ("rollout", "shadow", "endpoint")
    region = online.region(ctx)
    from mlgate.aws.session import AwsProblem

    try:
        described = online.session.call("sagemaker", "DescribeEndpoint", region=region, target=f"endpoint {name}",
                                        EndpointName=name)
    except AwsProblem as problem:
        if problem.kind != "not-found":
            raise
        yield ctx.na(f"shadow endpoint {name} does not exist yet in the account: the shadow phase has not started, "
                     "or is over", at=at)
        return
    yield ctx.ok(f"shadow endpoint {name} exists ({described.get('EndpointStatus', 'status unknown')}); the caller "
                 "mirrors live requests to it", at=at)


def _ramp_text(steps: list[float]) -> str:
    return " → ".join(f"{s:g}" for s in steps)


def canary(ctx: CheckContext, online: Online) -> Iterator[Finding]:
    """RLO002 online: a live canary serves a share that is a step of the spec's ramp (or none yet), and a blue/green
    deployment policy on the endpoint ramps as the spec says."""
    rollout = ctx.spec.rollout
    can = rollout.canary if rollout else None
    if can is None or not can.variant:
        yield ctx.na("rollout.canary.variant is not set, so there is no canary to look for in the account",
                     at=("rollout", "canary") if can else ("rollout",))
        return
    found = online.endpoint(ctx, "canary")
    if isinstance(found, Finding):
        yield found
        return
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
        yield ctx.ok(f"canary '{can.variant}' serves {_pct(share)} % of live traffic on the {live.where} "
                     f"({where}; variants: {live.listing()})", at=at)
        return
    yield ctx.fail(f"canary '{can.variant}' serves {_pct(share)} % of live traffic on the {live.where} (variants: "
                   f"{live.listing()}), which is no step of the spec's ramp {_ramp_text(steps)} %",
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


def previous(ctx: CheckContext, online: Online) -> Iterator[Finding]:
    """RLO003 online: the previous variant is a live production variant with instances, so rollback is a weight
    change."""
    rollout = ctx.spec.rollout
    prev = rollout.previous if rollout else None
    if prev is None or not prev.variant:
        yield ctx.na("rollout.previous.variant is not set, so there is no previous variant to look for in the "
                     "account", at=("rollout", "previous") if prev else ("rollout",))
        return
    found = online.endpoint(ctx, "previous variant")
    if isinstance(found, Finding):
        yield found
        return
    live = found
    at = ("rollout", "previous", "variant")
    variant = live.variant(prev.variant)
    if variant is None:
        yield ctx.fail(f"previous variant '{prev.variant}' is not a production variant of the {live.where}, which "
                       f"serves {live.listing()}: rolling back to it would need a redeploy", at=at,
                       fix="keep the variant being replaced in the endpoint config until the canary has baked at "
                           "100 %, or fix rollout.previous.variant to the variant that serves today")
        return
    if variant.serverless is not None:
        provisioned = variant.serverless.get("ProvisionedConcurrency")
        if not provisioned:
            yield ctx.warn(f"previous variant '{prev.variant}' of the {live.where} is serverless without provisioned "
                           "concurrency: traffic rolled back to it waits on cold starts",
                           at=("serving", "serverless", "provisioned_concurrency"),
                           fix="give the variant ProvisionedConcurrency for the rollout")
            return
        yield ctx.ok(f"previous variant '{prev.variant}' is live on the {live.where} with provisioned concurrency "
                     f"{provisioned}", at=at)
        return
    wanted = prev.min_instances if prev.min_instances is not None else 1
    count = variant.instances
    if count is None or count < max(wanted, 1):
        shown = "an unknown number of" if count is None else str(count)
        yield ctx.fail(f"previous variant '{prev.variant}' of the {live.where} has {shown} instance(s), fewer than "
                       f"the {max(wanted, 1)} rollout.previous.min_instances asks: rolling back would wait for "
                       "instances to start", at=("rollout", "previous", "min_instances"),
                       fix=f"keep at least {max(wanted, 1)} instance(s) on the previous variant "
                           "(UpdateEndpointWeightsAndCapacities DesiredInstanceCount)")
        return
    yield ctx.ok(f"previous variant '{prev.variant}' is live on the {live.where} with {count} instance"
                 f"{'s' if count != 1 else ''} and {_pct(live.share(variant))} % of traffic: rollback is a weight "
                 "change", at=at)


def _watch_problem(alarm: dict[str, Any], endpoint: str) -> str | None:
    """Why a CloudWatch alarm cannot see the endpoint go wrong, or None."""
    if alarm.get("composite"):
        return None
    watched = watched_endpoints(alarm)
    if endpoint in watched:
        return None
    seen = f"EndpointName {', '.join(sorted(watched))}" if watched else "no EndpointName dimension"
    return f"watches {alarm_metric(alarm)} with {seen}, not endpoint {endpoint}"


def rollback_alarms(ctx: CheckContext, online: Online) -> Iterator[Finding]:
    """RLO004 online: each rollback alarm exists in CloudWatch, watches this endpoint, and is not firing now."""
    names = list(dict.fromkeys(ctx.spec.rollout.rollback_alarms if ctx.spec.rollout else []))
    if not names:
        yield ctx.na("rollout.rollback_alarms is empty: no alarm to look for in the account",
                     at=("rollout",))
        return
    if ctx.pattern == "batch":
        yield ctx.na("serving.pattern is batch: there is no ramp to roll back", at=("serving", "pattern"))
        return
    wrong = online.account_problem(ctx, ("rollout", "rollback_alarms"))
    if wrong is not None:
        yield wrong
        return
    endpoint = ctx.spec.serving.endpoint if ctx.spec.serving else None
    alarms = online.alarms(ctx)
    region = online.region(ctx)
    problems = 0
    fine: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(ctx.spec.rollout.rollback_alarms if ctx.spec.rollout else []):
        if name in seen:  # listed twice: the offline check warns
            continue
        seen.add(name)
        at = ("rollout", "rollback_alarms", i)
        alarm = alarms.get(name)
        if alarm is None:
            problems += 1
            yield ctx.fail(f"rollback alarm '{name}' does not exist in CloudWatch{f' ({region})' if region else ''}: "
                           "a rollback wired to it never fires", at=at,
                           fix="create the alarm (deploy the stack or monitoring code that defines it), or fix its "
                               "name")
            continue
        problem = _watch_problem(alarm, endpoint) if endpoint else None
        if problem:
            problems += 1
            yield ctx.fail(f"rollback alarm '{name}' {problem}: it cannot see this deployment go wrong", at=at,
                           fix=f"put the alarm on endpoint {endpoint}'s AWS/SageMaker metrics (EndpointName "
                               "dimension)")
            continue
        if alarm.get("StateValue") == "ALARM":
            yield ctx.warn(f"rollback alarm '{name}' is in state ALARM now ({alarm.get('StateReason', '')}): a "
                           "rollout started now rolls back at once", at=at,
                           fix="find out why it fires, and start the rollout once it is OK")
        fine.append(name)
    attached = ((_live_deployment(online, ctx) or {}).get("AutoRollbackConfiguration") or {}).get("Alarms") or []
    attached_names = {str(a.get("AlarmName")) for a in attached}
    if attached:
        for name in names:
            if name not in attached_names:
                problems += 1
                yield ctx.fail(f"rollback alarm '{name}' is not in the endpoint's AutoRollbackConfiguration "
                               f"({', '.join(sorted(attached_names))}): SageMaker does not roll back on it",
                               at=("rollout", "rollback_alarms"),
                               fix="add it to DeploymentConfig.AutoRollbackConfiguration.Alarms")
    if fine and not problems:
        shown = ", ".join(f"'{n}' ({alarm_metric(alarms[n])}, {alarms[n].get('StateValue', '?')})" for n in fine)
        yield ctx.ok(f"rollback alarms {shown} exist in CloudWatch and watch endpoint {endpoint}",
                     at=("rollout", "rollback_alarms"))


def _live_deployment(online: Online, ctx: CheckContext) -> dict[str, Any] | None:
    """The live endpoint's last DeploymentConfig, when the endpoint can be read (else None: RLO004's alarms are
    judged from CloudWatch alone)."""
    if not ctx.spec.serving or not ctx.spec.serving.endpoint:
        return None
    found = online.endpoint(ctx, "deployment config")
    return found.deployment if isinstance(found, LiveEndpoint) else None
