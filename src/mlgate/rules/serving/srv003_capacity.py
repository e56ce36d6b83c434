"""SRV003: capacity covers the peak with headroom: instances x per-instance throughput (or serverless concurrency, or
the async processing rate), on at least two instances, scaled by a real policy, and on the previous variant after a
rollback; a day's batch fits in its window."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated

from pydantic import Field

from mlgate.checks import CheckContext, Where
from mlgate.cost import (
    TIMES,
    Throughput,
    Workload,
    instance_throughput,
    num,
)
from mlgate.facts import Facts, PatternName, load_facts
from mlgate.result import Finding
from mlgate.rules.params import Number, RuleParams
from mlgate.rules.serving._shared import TRAFFIC, instance_type_missing, missing_traffic, serving_pattern
from mlgate.spec.models import Serving, Traffic
from mlgate.units import DURATION_HELP, parse_duration
from mlgate.yamlload import PathT


class Params(RuleParams):
    # the bound inside Annotated: Number's own check (finite, sized) runs first
    headroom: Annotated[Number, Field(ge=0)] = Field(0.3, description="capacity must exceed the peak by this share")
    min_instances: int = Field(2, ge=1, description="a real-time or async production endpoint runs on at least this "
                                                    "many instances (Availability Zone redundancy)")


def _pct(share: float) -> str:
    return f"{share * 100:g} %"


def _workload(traffic: Traffic) -> Workload:
    return Workload(requests_per_day=traffic.requests_per_day or 0.0, processing_s=traffic.processing_s,
                    peak_rps=traffic.peak_rps, latency_p99_ms=traffic.latency_p99_ms, payload_kb=traffic.payload_kb,
                    synchronous=traffic.synchronous is not False, gpu=bool(traffic.gpu),
                    throughput_rps_per_instance=traffic.throughput_rps_per_instance)


# Metrics a policy can scale an asynchronous endpoint out from zero on: the queue, not the invocations.
_BACKLOG_METRICS = ("HasBacklogWithoutCapacity", "ApproximateBacklogSize", "ApproximateBacklogSizePerInstance")
_DEFAULT_WINDOW = "24h"


def check(ctx: CheckContext) -> Iterator[Finding]:
    """Instances x per-instance throughput (or serverless concurrency, or the async processing rate) cover the
    peak with headroom, on at least two instances, scaled by a real policy, and on the previous variant after a
    rollback; a day's batch fits in its window."""
    start = serving_pattern(ctx)
    if isinstance(start, Finding):
        yield start
        return
    serving, pattern = start
    params: Params = ctx.params
    headroom, floor = params.headroom, params.min_instances
    traffic = serving.traffic
    needs: tuple[str, ...] = {"batch": ("requests_per_day", "processing_s"),
                              "async": ("requests_per_day", "peak_rps", "processing_s")}.get(
                                  pattern, ("peak_rps", "processing_s"))
    if traffic is not None and traffic.throughput_rps_per_instance and pattern != "serverless":
        needs = tuple(n for n in needs if n != "processing_s")
    missing = missing_traffic(ctx, traffic, needs, "the capacity cannot be compared with the load")
    if missing:
        yield missing
        return
    assert traffic is not None
    if pattern == "serverless":
        yield from _serverless_capacity(ctx, serving, traffic, headroom)
        return
    no_type = instance_type_missing(ctx, serving, pattern)
    if no_type:
        yield no_type
        return
    facts = load_facts()
    itype = serving.instance_type or ""
    inst = facts.instance(itype)
    tp = instance_throughput(inst, _workload(traffic), declared=True)
    if tp is None:
        known = ", ".join(sorted(facts.families))
        yield ctx.warn(f"{itype} is neither in mlgate's facts table nor an ml.<family>.<size> type of a SageMaker "
                       f"hosting family it knows ({known}): its throughput cannot be derived, so the capacity is "
                       "not checked", at=("serving", "instance_type"),
                       fix="Declare serving.traffic.throughput_rps_per_instance from a load test of this type.")
        return
    if pattern == "batch":
        yield from _batch_capacity(ctx, serving, traffic, tp, headroom)
        return
    auto = serving.autoscaling
    if auto and auto.min_instances is not None and auto.max_instances is not None \
            and auto.min_instances > auto.max_instances:
        yield ctx.fail(f"autoscaling.min_instances {auto.min_instances} is above max_instances {auto.max_instances}",
                       at=("serving", "autoscaling"), fix="Set min_instances at most max_instances.")
        return
    if serving.instance_count is None and (auto is None or auto.max_instances is None):
        yield ctx.fail("serving.instance_count is not declared: the capacity cannot be compared with the peak",
                       at=("serving", "instance_count"),
                       fix="Declare serving.instance_count (and serving.autoscaling: {min_instances, max_instances}).")
        return
    yield from _availability(ctx, facts, serving, pattern, floor)
    top, field, scaling = _reachable(ctx, facts, serving, pattern)
    yield from scaling
    if pattern == "async":
        yield from _async_capacity(ctx, serving, traffic, tp, top, field, headroom)
    else:
        yield from _realtime_capacity(ctx, serving, traffic, tp, top, field, headroom)
    yield from _rollback_capacity(ctx, facts, serving, traffic, headroom, floor)


def _availability(ctx: CheckContext, facts: Facts, serving: Serving, pattern: PatternName,
                  floor: int) -> Iterator[Finding]:
    """Two or more instances, so that an instance failure or a zone outage leaves the endpoint serving."""
    auto = serving.autoscaling
    fact = facts.pattern(pattern).fact("availability_min_instances")
    cited = facts.cite(fact)
    at: PathT
    if auto is not None and auto.min_instances == 0 and pattern == "async":
        # scaled to zero when idle: what matters is the fleet it scales out to
        have, at, what = auto.max_instances or 0, ("serving", "autoscaling", "max_instances"), "scales out to at most"
    elif auto is not None and auto.min_instances:
        have, at, what = auto.min_instances, ("serving", "autoscaling", "min_instances"), "runs on at least"
    else:
        have, at, what = serving.instance_count or 0, ("serving", "instance_count"), "runs on"
    field = ".".join(at[1:])
    if have < floor and serving.environment != "production":
        yield ctx.ok(f"the endpoint {what} {have} instance{'s' if have != 1 else ''} ({field}), below the {floor} "
                     f"a production endpoint needs ({cited}); serving.environment is {serving.environment}, and the "
                     "availability minimum applies to production endpoints only", at=at)
    elif have < floor:
        yield ctx.fail(f"the endpoint {what} {have} instance{'s' if have != 1 else ''} ({field}): one "
                       "instance failure or Availability Zone outage takes it down, and SageMaker spreads instances "
                       f"across Availability Zones only when there are several ({cited}); the minimum is {floor}",
                       at=at, fix=f"Run at least {floor} instances (serving.{field}: {floor}); the rule parameter "
                                  "min_instances sets the minimum for a team that accepts less.")
    else:
        yield ctx.ok(f"the endpoint {what} {have} instances ({field}): SageMaker can spread them across "
                     "Availability Zones "
                     f"({cited})", at=at)


def _reachable(ctx: CheckContext, facts: Facts, serving: Serving,
               pattern: PatternName) -> tuple[int, str, list[Finding]]:
    """The instance count the endpoint can reach at the peak, the spec field that sets it, and what stands in the
    way: autoscaling counts only with a scaling policy, and an async endpoint at zero needs one on its backlog."""
    auto = serving.autoscaling
    count = serving.instance_count
    findings: list[Finding] = []
    if auto is None or auto.max_instances is None:
        return count or 0, "instance_count", findings
    at = ("serving", "autoscaling")
    policies = auto.policies
    if not policies:
        stays = auto.min_instances if auto.min_instances else count or 0
        findings.append(ctx.warn(f"autoscaling sets {auto.min_instances if auto.min_instances is not None else '?'}"
                                 f"-{auto.max_instances} instances, but no scaling policy (target tracking or step) "
                                 f"acts on the variant: a scalable target alone never changes the count, so the "
                                 f"endpoint stays at {stays} and max_instances does not count",
                                 at=(*at, "policies"),
                                 fix="Add a scaling policy (AWS::ApplicationAutoScaling::ScalingPolicy / "
                                     "aws_appautoscaling_policy, e.g. target tracking on "
                                     "SageMakerVariantInvocationsPerInstance) and list it in "
                                     "serving.autoscaling.policies when no infrastructure code shows it."))
        return stays, "autoscaling.min_instances" if auto.min_instances else "instance_count", findings
    if pattern == "async" and auto.min_instances == 0:
        findings.extend(_scale_from_zero(ctx, facts, serving))
    described = "; ".join(f"{p.type or '?'} on {p.metric or '?'}" + (f" at {num(p.target)}" if p.target else "")
                          for p in policies)
    findings.append(ctx.ok(f"autoscaling scales {auto.min_instances if auto.min_instances is not None else '?'}-"
                           f"{auto.max_instances} instances with {described}", at=(*at, "policies")))
    return auto.max_instances, "autoscaling.max_instances", findings


def _scale_from_zero(ctx: CheckContext, facts: Facts, serving: Serving) -> Iterator[Finding]:
    auto = serving.autoscaling
    assert auto is not None
    fact = facts.pattern("async").fact("scale_from_zero")
    on_backlog = [p for p in auto.policies if p.metric in _BACKLOG_METRICS]
    at = ("serving", "autoscaling", "policies")
    if not on_backlog:
        metrics = ", ".join(sorted({p.metric or "?" for p in auto.policies}))
        yield ctx.fail(f"autoscaling.min_instances is 0, and no scaling policy watches the backlog (the policies "
                       f"scale on {metrics}, which an endpoint at zero instances does not publish): requests queue "
                       f"and wait until their RequestTTL expires ({facts.cite(fact)})", at=at,
                       fix="Add a step scaling policy on HasBacklogWithoutCapacity (and target tracking on "
                           "ApproximateBacklogSizePerInstance) so that a request arriving at zero instances scales "
                           "the endpoint out.")
    elif not any(p.metric == "HasBacklogWithoutCapacity" for p in on_backlog):
        yield ctx.warn(f"autoscaling.min_instances is 0 and the policies track {on_backlog[0].metric}: the "
                       "endpoint scales out from zero only once the backlog exceeds the target value, so the first "
                       f"requests wait ({facts.cite(fact)})", at=at,
                       fix="Add a step scaling policy on HasBacklogWithoutCapacity to scale out on the first request.")


def _capacity_of(ctx: CheckContext, variant: str) -> tuple[str | None, int | None, Where]:
    """The instance type and warm instance count of a variant: from the endpoint config the code deploys, else the
    spec (rollout.previous.min_instances on serving.instance_type)."""
    serving = ctx.spec.serving
    found = ctx.resolved.capacities.get(variant) if ctx.resolved is not None else None
    if found is not None and found.count is not None:
        count = max(found.count, found.min_instances or 0)
        return found.instance_type or (serving.instance_type if serving else None), count, found.at
    previous = ctx.spec.rollout.previous if ctx.spec.rollout else None
    count_ = previous.min_instances if previous else None
    return (serving.instance_type if serving else None), count_, ("rollout", "previous", "min_instances")


def _rollback_capacity(ctx: CheckContext, facts: Facts, serving: Serving, traffic: Traffic,
                       headroom: float, floor: int) -> Iterator[Finding]:
    """After a rollback the previous variant serves the whole peak again, at once, alone: its warm instances must
    cover it, on as many instances as availability needs."""
    previous = ctx.spec.rollout.previous if ctx.spec.rollout else None
    if previous is None or not previous.variant or previous.keep_warm is False:
        return
    deployed = ctx.resolved.variants if ctx.resolved is not None else None
    if deployed is not None and ctx.resolved is not None and ctx.resolved.config_at is not None \
            and previous.variant not in deployed:
        return  # not deployed beside the new one: RLO003 says so
    itype, count, at = _capacity_of(ctx, previous.variant)
    if not itype or not count:
        return
    if count < floor and serving.environment == "production":
        cited = facts.cite(facts.pattern("realtime").fact("availability_min_instances"))
        yield ctx.fail(f"after a rollback the previous variant {previous.variant} serves every caller alone on "
                       f"{count} instance{'s' if count != 1 else ''}: one instance failure or Availability Zone "
                       f"outage then takes the endpoint down ({cited}); the minimum is {floor}", at=at,
                       fix=f"Keep at least {floor} warm instances on {previous.variant} until the new variant has "
                           "baked; the rule parameter min_instances sets the minimum.")
    inst = facts.instance(itype)
    same = itype == serving.instance_type
    tp = instance_throughput(inst, _workload(traffic), declared=same)
    if tp is None:
        return
    peak = traffic.peak_rps or 0.0
    need = peak * (1 + headroom)
    have = count * tp.rps
    served = f"{count} {TIMES} {itype} serve {num(have)} requests/s ({num(tp.rps)} each: {tp.basis})"
    if have < need:
        want = math.ceil(need / tp.rps - 1e-9)
        yield ctx.fail(f"after a rollback the previous variant {previous.variant} gets the whole peak back at once: "
                       f"{served}, below the {num(need)} the peak of {num(peak)} rps needs with {_pct(headroom)} "
                       "headroom", at=at,
                       fix=f"Keep {want} warm instances on {previous.variant} until the new variant has baked "
                           "(rollout.previous.min_instances and its InitialInstanceCount / scaling minimum).")
    else:
        yield ctx.ok(f"after a rollback the previous variant {previous.variant} carries the whole peak: {served}, "
                     f"covering {num(peak)} rps with {_pct(headroom)} headroom", at=at)


def _count_at(field: str) -> PathT:
    return ("serving", *field.split("."))


def _realtime_capacity(ctx: CheckContext, serving: Serving, traffic: Traffic, tp: Throughput, top: int, field: str,
                       headroom: float) -> Iterator[Finding]:
    peak = traffic.peak_rps or 0.0
    need = peak * (1 + headroom)
    have = top * tp.rps
    served = (f"{top} {TIMES} {serving.instance_type} serve {num(have)} requests/s ({num(tp.rps)} each: {tp.basis})")
    if have < need:
        want = math.ceil(need / tp.rps - 1e-9)
        yield ctx.fail(f"{served}; the peak of {num(peak)} rps needs {num(need)} with {_pct(headroom)} headroom",
                       at=_count_at(field),
                       fix=f"Raise serving.{field} to {want}, or declare a measured "
                           "traffic.throughput_rps_per_instance if the instances serve more.")
    else:
        yield ctx.ok(f"{served}, covering the peak of {num(peak)} rps with {_pct(headroom)} headroom "
                     f"({num(need)} rps)", at=_count_at(field))
    auto = serving.autoscaling
    if auto is not None and auto.min_instances:
        average = (traffic.requests_per_day or 0) / 86400
        floor = auto.min_instances * tp.rps
        if floor < average:
            yield ctx.warn(f"autoscaling.min_instances {auto.min_instances} serve {num(floor)} requests/s, below the "
                           f"average of {num(average)} rps ({num(traffic.requests_per_day or 0)} a day): the endpoint "
                           "scales out every day before it can carry even average traffic",
                           at=("serving", "autoscaling", "min_instances"),
                           fix=f"Raise min_instances to {math.ceil(average / tp.rps - 1e-9)}.")


def _serverless_capacity(ctx: CheckContext, serving: Serving, traffic: Traffic, headroom: float) -> Iterator[Finding]:
    conf = serving.serverless
    at = ("serving", "serverless", "max_concurrency")
    if conf is None or conf.max_concurrency is None:
        yield ctx.fail("serving.serverless.max_concurrency is not declared: the concurrency cannot be compared with "
                       "the peak", at=at, fix="Declare serving.serverless.max_concurrency.")
        return
    peak, seconds = traffic.peak_rps or 0.0, traffic.processing_s or 0.0
    concurrent = peak * seconds
    need = concurrent * (1 + headroom)
    top = load_facts().pattern("serverless").fact("max_concurrency_max")
    load = f"the peak of {num(peak)} rps {TIMES} {num(seconds)} s keeps {num(concurrent)} requests in flight"
    if conf.max_concurrency < need:
        want = math.ceil(need - 1e-9)
        fix = (f"Raise serving.serverless.max_concurrency to {want}." if want <= top.value else
               f"The peak needs {want} concurrent requests, above the serverless maximum of {num(top.value)} "
               f"({load_facts().cite(top)}): serve it from pattern: realtime.")
        yield ctx.fail(f"max_concurrency {conf.max_concurrency} is below what the peak needs: {load}, "
                       f"{num(need)} with {_pct(headroom)} headroom; requests beyond it are throttled", at=at, fix=fix)
    else:
        yield ctx.ok(f"max_concurrency {conf.max_concurrency} covers the peak: {load}, {num(need)} with "
                     f"{_pct(headroom)} headroom", at=at)


def _async_capacity(ctx: CheckContext, serving: Serving, traffic: Traffic, tp: Throughput, top: int, field: str,
                    headroom: float) -> Iterator[Finding]:
    conf = serving.async_inference
    per = tp
    if conf and conf.max_concurrent_invocations_per_instance and traffic.processing_s:
        cap = conf.max_concurrent_invocations_per_instance / traffic.processing_s
        if cap < tp.rps:
            per = Throughput(cap, f"max_concurrent_invocations_per_instance "
                                  f"{conf.max_concurrent_invocations_per_instance} / {num(traffic.processing_s)} s")
    rate = top * per.rps
    at = _count_at(field)
    served = f"{top} {TIMES} {serving.instance_type} process {num(rate)} requests/s ({num(per.rps)} each: {per.basis})"
    average = (traffic.requests_per_day or 0) / 86400
    if average * (1 + headroom) > rate:
        yield ctx.fail(f"{served}, but {num(traffic.requests_per_day or 0)} requests a day arrive at {num(average)} "
                       f"rps on average ({num(average * (1 + headroom))} with {_pct(headroom)} headroom): the "
                       "backlog never drains", at=at,
                       fix=f"Raise serving.{field} to {math.ceil(average * (1 + headroom) / per.rps - 1e-9)}.")
        return
    peak = traffic.peak_rps or 0.0
    need = peak * (1 + headroom)
    if rate >= need:
        yield ctx.ok(f"{served}, covering the peak of {num(peak)} rps with {_pct(headroom)} headroom: no backlog "
                     "builds up", at=at)
        return
    ttl = conf.request_ttl_s if conf and conf.request_ttl_s else \
        load_facts().pattern("async").fact("request_ttl_s_max").value
    if peak > rate:
        growth = peak - rate
        minutes = ttl * rate / growth / 60
        yield ctx.warn(f"{served}; at the peak of {num(peak)} rps the backlog grows by {num(growth)} requests/s, and "
                       f"after {num(round(minutes, 1))} min of peak a new request waits longer than its "
                       f"{num(ttl)} s RequestTTL and expires", at=at,
                       fix=f"Raise serving.{field} to {math.ceil(need / per.rps - 1e-9)} if peaks last that long, "
                           "or declare how long they last in the runbook.")
    else:
        yield ctx.warn(f"{served}: the peak of {num(peak)} rps fits, but without the {_pct(headroom)} headroom "
                       f"({num(need)} rps); a longer peak builds a backlog", at=at,
                       fix=f"Raise serving.{field} to {math.ceil(need / per.rps - 1e-9)}.")


def _batch_capacity(ctx: CheckContext, serving: Serving, traffic: Traffic, tp: Throughput,
                    headroom: float) -> Iterator[Finding]:
    """Batch transform has no peak: the day's records must be scored within the job's window (default a day)."""
    count = serving.instance_count or 1
    day = traffic.requests_per_day or 0.0
    written = traffic.window
    window_s = parse_duration(str(written if written is not None else _DEFAULT_WINDOW))
    if window_s is None or window_s <= 0:
        yield ctx.fail(f"serving.traffic.window '{written}' is not a duration mlgate understands",
                       at=(*TRAFFIC, "window"), fix=f"Write the job's window as {DURATION_HELP}.")
        return
    window = f"the {written} window" if written is not None else "a day (serving.traffic.window is not declared)"
    hours = day / (count * tp.rps) / 3600
    allowed = window_s / 3600 / (1 + headroom)
    what = (f"{num(day)} requests a day take {num(round(hours, 2))} h on {count} {TIMES} {serving.instance_type} "
            f"({num(tp.rps)} requests/s each: {tp.basis})")
    at = ("serving", "instance_count")
    if hours > allowed:
        want = math.ceil(day / (tp.rps * allowed * 3600) - 1e-9)
        yield ctx.fail(f"{what}: more than the {num(round(allowed, 2))} h {window} allows with {_pct(headroom)} "
                       "headroom, so the job overruns it", at=at,
                       fix=f"Run the transform job on {want} instances (serving.instance_count), or widen "
                           "serving.traffic.window if the results may come later.")
    else:
        yield ctx.ok(f"{what}, within {window} with {_pct(headroom)} headroom ({num(round(allowed, 2))} h)", at=at)
