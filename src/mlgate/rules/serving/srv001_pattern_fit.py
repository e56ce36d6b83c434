"""SRV001: the serving pattern fits what the traffic needs (callers that wait, latency, GPU), and does not cost many
times what the cheapest pattern meeting those needs would (monthly figures from dated on-demand prices in
`mlgate.cost`)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from mlgate.checks import CheckContext
from mlgate.cost import (
    TIMES,
    Assumptions,
    CostView,
    check_prices,
    estimate_costs,
    num,
    price_book,
    pricing_region,
    usd,
)
from mlgate.facts import Facts, Instance, Pattern, gpu_family, load_facts
from mlgate.result import Finding
from mlgate.rules.params import Number, RuleParams
from mlgate.rules.serving._shared import (
    TRAFFIC,
    describe_instance,
    instance_type_missing,
    missing_traffic,
    serving_pattern,
    show_bytes,
    with_article,
)
from mlgate.spec.models import Serving, Traffic

# The bounds sit inside Annotated so that Number's own check (finite, sized) runs first: nan is "not a number", not
# "not greater than 0".
_Positive = Annotated[Number, Field(gt=0)]
_AtLeastZero = Annotated[Number, Field(ge=0)]


class Params(RuleParams):
    cost_ratio: Annotated[Number, Field(ge=1)] = Field(
        5, description="fail when the declared pattern costs at least this many times the cheapest pattern that "
                       "meets the traffic's needs")
    region: str = Field("us-east-1", min_length=1, description="the Region priced when neither serving.region nor "
                                                                "the infrastructure code states one")
    hours_per_month: _Positive = Field(730, description="hours an always-on instance is billed a month")
    prices: Annotated[dict[str, dict[str, Any]], AfterValidator(check_prices)] = Field(
        default_factory=dict, description="price overrides, merged with [tool.mlgate.prices]: region -> {ml.<type>: "
                                          "hourly USD, serverless: {compute_per_gb_s, data_per_gb, "
                                          "provisioned_per_gb_s}}")
    serverless_memory_mb: int = Field(2048, gt=0, description="the memory of a serverless estimate when "
                                                               "serving.serverless.memory_mb is not declared")
    batch_jobs_per_day: _Positive = Field(1, description="transform jobs a day in a batch estimate")
    instance_start_minutes: _Positive = Field(5, description="billed start-up of a batch job's instance, or of an "
                                                             "async endpoint scaled to zero")
    scale_in_minutes: _Positive = Field(15, description="idle time before an async endpoint scaled to zero stops "
                                                        "its instance")
    min_instances: int = Field(2, ge=1, description="an alternative on instances keeps at least this many running "
                                                    "(across Availability Zones)")
    headroom: _AtLeastZero = Field(0.3, description="an alternative's capacity exceeds the peak by this share")
    updates_per_month: _AtLeastZero = Field(1, description="blue/green updates a month, each running the green fleet "
                                                           "beside the blue one")


# Within this share of a real-time limit, a payload or processing time that nobody waits for is better sent to an
# asynchronous endpoint (its limits are 1 GB and an hour, and it can scale to zero).
NEAR_LIMIT = 0.5


def _kb(kb: float) -> str:
    if kb >= 1024:
        return f"{num(kb)} KB ({num(kb / 1024)} MiB)"
    return f"{num(kb)} KB"


def _accelerated(itype: str, inst: Instance | None) -> bool | None:
    if inst is not None:
        return inst.accelerated
    return gpu_family(itype)


def check(ctx: CheckContext) -> Iterator[Finding]:
    """The serving pattern fits what the traffic needs (synchronous or not, latency, GPU), and does not cost many
    times what the cheapest pattern that meets those needs would."""
    start = serving_pattern(ctx)
    if isinstance(start, Finding):
        yield start
        return
    serving, pattern = start
    traffic = serving.traffic
    # a batch transform has no peak rate: it is judged by its day's volume (SRV003, against serving.traffic.window)
    needs = ("requests_per_day", "processing_s", "synchronous") if pattern == "batch" else \
        ("requests_per_day", "peak_rps", "processing_s", "synchronous")
    missing = missing_traffic(ctx, traffic, needs,
                       "the pattern cannot be judged against the traffic it serves")
    if missing:
        yield missing
        return
    assert traffic is not None
    no_type = instance_type_missing(ctx, serving, pattern)
    if no_type:
        yield no_type
        return
    params: Params = ctx.params
    facts = load_facts()
    assumptions = Assumptions.from_params(params.model_dump())
    region, region_how = pricing_region(ctx.spec, ctx.resolved, assumptions.region)
    prices = price_book(facts, region, params.prices)
    p = facts.pattern(pattern)
    yield from _synchronous_fit(ctx, facts, p, traffic, pattern)
    yield from _gpu_need(ctx, facts, serving, traffic)
    if pattern == "serverless":
        yield from _cold_starts(ctx, facts, serving, traffic)
    if pattern == "realtime" and traffic.synchronous is False:
        yield from _suggest_async(ctx, facts, traffic)
    if pattern == "batch" and traffic.latency_p99_ms is not None:
        yield from _batch_latency(ctx, traffic, assumptions)
    view = estimate_costs(ctx.spec, facts, prices, assumptions, ctx.resolved, region_how)
    yield from _cost(ctx, view, traffic, params.cost_ratio)


def _synchronous_fit(ctx: CheckContext, facts: Facts, p: Pattern, traffic: Traffic, pattern: str) -> Iterator[Finding]:
    if traffic.synchronous and not p.synchronous.value:
        yield ctx.fail(f"callers wait for the answer (traffic.synchronous: true), but {with_article(p.label)} does "
                       f"not answer them ({facts.cite(p.synchronous)})", at=(*TRAFFIC, "synchronous"),
                       fix="Serve a waiting caller from pattern: realtime (or serverless for low, bursty traffic); "
                           f"keep {pattern} for work nobody waits for, and set synchronous: false if that is the case.")
    elif traffic.synchronous:
        yield ctx.ok(f"callers wait for the answer, and {with_article(p.label)} answers in the response",
                     at=("serving", "pattern"))
    else:
        yield ctx.ok(f"callers do not wait for the answer (synchronous: false); {with_article(p.label)} serves that",
                     at=("serving", "pattern"))


def _gpu_need(ctx: CheckContext, facts: Facts, serving: Serving, traffic: Traffic) -> Iterator[Finding]:
    itype = serving.instance_type
    if serving.pattern == "serverless" or not itype:
        return
    inst = facts.instance(itype)
    accelerated = _accelerated(itype, inst)
    if accelerated and not traffic.gpu:
        said = "traffic.gpu: false" if traffic.gpu is False else "traffic.gpu is not declared"
        kind = "a GPU" if (inst is None or inst.gpus) else "an accelerator"
        yield ctx.fail(f"{describe_instance(itype, inst)} is {kind} instance, but the model declares no GPU need "
                       f"({said}): it pays for hardware it does not use",
                       at=("serving", "instance_type"),
                       fix="Serve it on a CPU instance type (ml.m5 or ml.c5), or set traffic.gpu: true if the model "
                           "needs the GPU to meet its latency.")
    elif accelerated and traffic.gpu:
        what = "the GPU" if inst is None or inst.gpus else "an accelerator for the GPU"
        yield ctx.ok(f"{describe_instance(itype, inst)} gives the model {what} it declares it needs",
                     at=("serving", "instance_type"))


def _cold_starts(ctx: CheckContext, facts: Facts, serving: Serving, traffic: Traffic) -> Iterator[Finding]:
    sv = facts.pattern("serverless")
    low, high = sv.fact("cold_start_s_min"), sv.fact("cold_start_s_max")
    p99 = traffic.latency_p99_ms
    if p99 is None or p99 >= low.value * 1000:
        if p99 is not None:
            yield ctx.ok(f"the p99 of {num(p99)} ms allows for a serverless cold start ({num(low.value)}-"
                         f"{num(high.value)} s)", at=(*TRAFFIC, "latency_p99_ms"))
        return
    need = max(1, math.ceil((traffic.peak_rps or 0) * (traffic.processing_s or 0) - 1e-9))
    provisioned = serving.serverless.provisioned_concurrency if serving.serverless else None
    where = f"cold starts take {num(low.value)}-{num(high.value)} s ({facts.cite(low)}; {facts.cite(high)})"
    peak = f"peak {num(traffic.peak_rps or 0)} rps {TIMES} {num(traffic.processing_s or 0)} s"
    if not provisioned:
        yield ctx.warn(f"the p99 of {num(p99)} ms is below serverless cold starts, and no provisioned concurrency is "
                       f"declared: a request that finds no warm instance waits for one to start; {where}",
                       at=("serving", "serverless", "provisioned_concurrency"),
                       fix=f"Set serving.serverless.provisioned_concurrency: {need} ({peak}), priced in this rule's "
                           "cost figures, or serve it from pattern: realtime.")
    elif provisioned < need:
        yield ctx.warn(f"provisioned concurrency {provisioned} keeps {provisioned} request(s) warm, but the peak "
                       f"needs {need} at once ({peak}): the rest wait for cold starts longer than the p99 of "
                       f"{num(p99)} ms; {where}",
                       at=("serving", "serverless", "provisioned_concurrency"),
                       fix=f"Raise serving.serverless.provisioned_concurrency to {need}.")
    else:
        yield ctx.ok(f"provisioned concurrency {provisioned} covers the peak's {need} concurrent request(s) ({peak}), "
                     f"so the p99 of {num(p99)} ms does not wait for cold starts",
                     at=("serving", "serverless", "provisioned_concurrency"))


def _batch_latency(ctx: CheckContext, traffic: Traffic, a: Assumptions) -> Iterator[Finding]:
    interval_h = 24 / a.batch_jobs_per_day
    p99 = traffic.latency_p99_ms or 0.0
    if p99 < interval_h * 3.6e6:
        yield ctx.fail(f"a result can wait up to {num(interval_h)} h for the next transform job "
                       f"({num(a.batch_jobs_per_day)} a day), far above the p99 of {num(p99)} ms the use case needs",
                       at=(*TRAFFIC, "latency_p99_ms"),
                       fix="Serve it from pattern: async (minutes) or realtime/serverless (seconds); or, if a day is "
                           "fine, remove latency_p99_ms or set it to the time a result may take.")


def _suggest_async(ctx: CheckContext, facts: Facts, traffic: Traffic) -> Iterator[Finding]:
    rt, asy = facts.pattern("realtime"), facts.pattern("async")
    near: list[str] = []
    if traffic.payload_kb is not None and traffic.payload_kb * 1024 >= NEAR_LIMIT * rt.payload_bytes.value:
        near.append(f"the {_kb(traffic.payload_kb)} payload is near the {show_bytes(rt.payload_bytes.value)} limit")
    if traffic.processing_s is not None and traffic.processing_s >= NEAR_LIMIT * rt.processing_s.value:
        near.append(f"{num(traffic.processing_s)} s of processing is near the {num(rt.processing_s.value)} s limit")
    if near:
        yield ctx.warn(f"nobody waits for the answer (synchronous: false) and {' and '.join(near)} of a real-time "
                       f"endpoint; an asynchronous endpoint takes payloads up to {show_bytes(asy.payload_bytes.value)} "
                       f"through S3 and {num(asy.processing_s.value)} s per request, and scales to zero "
                       f"({facts.cite(asy.payload_bytes)})",
                       at=("serving", "pattern"),
                       fix="Serve it from pattern: async (InvokeEndpointAsync with the input in S3).")


def _cost(ctx: CheckContext, view: CostView, traffic: Traffic, limit: float) -> Iterator[Finding]:
    declared, cheapest = view.declared, view.cheapest
    at = ("serving", "pattern")
    if declared is None:
        return
    volume = f"{num(traffic.requests_per_day or 0)} requests/day"
    priced = view.priced_in(declared)  # the Region and each price's source, after every figure SRV001 states
    src = f" ({priced})" if priced else ""
    if declared.monthly_usd is None:
        other = (f"; the cheapest priced pattern that meets the traffic's needs, {cheapest.shape}, costs "
                 f"{usd(cheapest.monthly_usd)}/month" if cheapest is not None else "")
        yield ctx.warn(f"the cost of {declared.shape} cannot be estimated: {declared.unpriced}{other}", at=at,
                       fix="Add the missing price (on-demand USD per hour, from the SageMaker pricing page or your "
                           "bill) under [tool.mlgate.prices.REGION] in pyproject.toml or .mlgate.toml.")
        return
    if declared.misfit is not None:
        other = (f"the cheapest pattern that does, {cheapest.shape}, costs {usd(cheapest.monthly_usd)}/month"
                 if cheapest else "no pattern meets all of them")
        yield ctx.ok(f"{declared.shape}: {usd(declared.monthly_usd)}/month for {volume}, but it does not meet the "
                     f"traffic's needs ({declared.misfit}, see the other findings); {other}{src}", at=at)
        return
    if cheapest is None:
        yield ctx.ok(f"{declared.shape}: {usd(declared.monthly_usd)}/month for {volume}; no other pattern that meets "
                     f"the traffic's needs could be priced{src}", at=at)
        return
    ratio = view.ratio or 1.0
    if cheapest.pattern != declared.pattern and ratio >= limit:
        yield ctx.fail(f"{declared.shape}: {usd(declared.monthly_usd)}/month for {volume}; {cheapest.shape}: "
                       f"{usd(cheapest.monthly_usd)}/month meets the same needs, {ratio:.1f}{TIMES} cheaper (the limit "
                       f"is {num(limit)}{TIMES}). Estimates: {declared.basis}; {cheapest.basis}{src}",
                       at=at,
                       fix=f"Serve it as pattern: {cheapest.pattern} ({cheapest.shape}), or correct the traffic "
                           "figures if they understate the load; prices are on-demand estimates (this rule's "
                           "`prices` parameter corrects them).")
    elif cheapest.pattern == declared.pattern:
        yield ctx.ok(f"{declared.shape}: {usd(declared.monthly_usd)}/month for {volume}, the cheapest pattern that "
                     f"meets the traffic's needs ({declared.basis}){src}", at=at)
    else:
        yield ctx.ok(f"{declared.shape}: {usd(declared.monthly_usd)}/month for {volume}; the cheapest pattern that "
                     f"meets the traffic's needs, {cheapest.shape}, costs {usd(cheapest.monthly_usd)}/month "
                     f"({ratio:.1f}{TIMES}, within the {num(limit)}{TIMES} limit){src}", at=at)


