"""Serving rules (SRV001-SRV003): the pattern fits the traffic and its cost, the platform's hard limits, capacity.

Every limit and price comes from the facts table (`mlgate.facts`, sourced and dated), every cost from
`mlgate.cost`; a finding quotes the figures and where the limit comes from.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from mlgate.checks import CheckContext, Where
from mlgate.cost import (
    TIMES,
    Assumptions,
    CostView,
    PriceError,
    Throughput,
    Workload,
    estimate_costs,
    instance_throughput,
    num,
    price_book,
    pricing_region,
    usd,
)
from mlgate.facts import Fact, Facts, Instance, Pattern, PatternName, gpu_family, load_facts
from mlgate.result import Finding
from mlgate.spec.models import Serving, Traffic
from mlgate.units import DURATION_HELP, parse_duration
from mlgate.yamlload import PathT

# Within this share of a real-time limit, a payload or processing time that nobody waits for is better sent to an
# asynchronous endpoint (its limits are 1 GB and an hour, and it can scale to zero).
NEAR_LIMIT = 0.5

_TRAFFIC = ("serving", "traffic")
_PATTERN_FIX = ("Declare serving.pattern (realtime, serverless, async or batch) and serving.traffic: requests_per_day, "
                "peak_rps, latency_p99_ms, payload_kb, processing_s, synchronous, gpu.")


def _pct(share: float) -> str:
    return f"{share * 100:g} %"


def _a(label: str) -> str:
    """The label with its indefinite article: "an asynchronous endpoint", "a batch transform"."""
    return f"{'an' if label[:1] in 'aeiou' else 'a'} {label}"


def _bytes(n: float) -> str:
    if n >= 1e9:
        return f"{num(n / 1e9)} GB"
    if n % (1024 * 1024) == 0:
        return f"{num(n / (1024 * 1024))} MiB ({int(n):,} bytes)"
    return f"{num(n / 1e6)} MB"


def _kb(kb: float) -> str:
    if kb >= 1024:
        return f"{num(kb)} KB ({num(kb / 1024)} MiB)"
    return f"{num(kb)} KB"


def _start(ctx: CheckContext) -> tuple[Serving, PatternName] | Finding:
    """The serving section and its pattern, or the failure that says what to declare."""
    serving = ctx.spec.serving
    if serving is None or serving.pattern is None:
        return ctx.fail("serving.pattern is not declared: nothing says how the model is served, so its fit to the "
                        "traffic, the platform limits and the capacity cannot be checked",
                        at=("serving", "pattern"), fix=_PATTERN_FIX)
    return serving, serving.pattern


def _missing(ctx: CheckContext, traffic: Traffic | None, names: tuple[str, ...], why: str) -> Finding | None:
    absent = [n for n in names if traffic is None or getattr(traffic, n) is None]
    if not absent:
        return None
    fields = [f"serving.traffic.{n}" for n in absent]
    listed = fields[0] if len(fields) == 1 else f"{', '.join(fields[:-1])} and {fields[-1]}"
    verb = "is" if len(fields) == 1 else "are"
    return ctx.fail(f"{listed} {verb} not declared: {why}", at=_TRAFFIC,
                    fix=f"Add {', '.join(absent)} under serving.traffic: what the use case needs (from its "
                        "callers and a load test), not what the endpoint can do.")


def _number_param(ctx: CheckContext, name: str, *, minimum: float = 0.0) -> float | Finding:
    value = ctx.params.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        return ctx.error(f"rule parameter {name} is {value!r}, not a number of at least {num(minimum)}; fix it in "
                         f"the [tool.mlgate] params for {ctx.rule.id}")
    return float(value)


def _instance_type_missing(ctx: CheckContext, serving: Serving, pattern: PatternName) -> Finding | None:
    if pattern == "serverless" or serving.instance_type:
        return None
    return ctx.fail(f"serving.instance_type is not declared: {_a(load_facts().pattern(pattern).label)} runs on "
                    "instances of a type you choose", at=("serving", "instance_type"),
                    fix="Declare serving.instance_type (e.g. ml.c5.xlarge) and serving.instance_count.")


def _describe_instance(itype: str, inst: Instance | None) -> str:
    if inst is None:
        return itype
    accel = ""
    if inst.gpus:
        accel = f", {inst.gpus} {inst.accelerator + ' ' if inst.accelerator else ''}GPU{'s' if inst.gpus > 1 else ''}"
    elif inst.neuron_devices:
        accel = f", {inst.neuron_devices} {inst.accelerator or 'Neuron'} device{'s' if inst.neuron_devices > 1 else ''}"
    return f"{itype} ({inst.vcpus} vCPUs, {num(inst.memory_gib)} GiB{accel})"


def _accelerated(itype: str, inst: Instance | None) -> bool | None:
    if inst is not None:
        return inst.accelerated
    return gpu_family(itype)


def _workload(traffic: Traffic) -> Workload:
    return Workload(requests_per_day=traffic.requests_per_day or 0.0, processing_s=traffic.processing_s,
                    peak_rps=traffic.peak_rps, latency_p99_ms=traffic.latency_p99_ms, payload_kb=traffic.payload_kb,
                    synchronous=traffic.synchronous is not False, gpu=bool(traffic.gpu),
                    throughput_rps_per_instance=traffic.throughput_rps_per_instance)


# SRV001 ------------------------------------------------------------------------------------------------------------

def pattern_fit(ctx: CheckContext) -> Iterator[Finding]:
    """The serving pattern fits what the traffic needs (synchronous or not, latency, GPU), and does not cost many
    times what the cheapest pattern that meets those needs would."""
    start = _start(ctx)
    if isinstance(start, Finding):
        yield start
        return
    serving, pattern = start
    traffic = serving.traffic
    # a batch transform has no peak rate: it is judged by its day's volume (SRV003, against serving.traffic.window)
    needs = ("requests_per_day", "processing_s", "synchronous") if pattern == "batch" else \
        ("requests_per_day", "peak_rps", "processing_s", "synchronous")
    missing = _missing(ctx, traffic, needs,
                       "the pattern cannot be judged against the traffic it serves")
    if missing:
        yield missing
        return
    assert traffic is not None
    no_type = _instance_type_missing(ctx, serving, pattern)
    if no_type:
        yield no_type
        return
    ratio_limit = _number_param(ctx, "cost_ratio", minimum=1.0)
    if isinstance(ratio_limit, Finding):
        yield ratio_limit
        return
    facts = load_facts()
    try:
        assumptions = Assumptions.from_params(ctx.params)
        region, region_how = pricing_region(ctx.spec, ctx.resolved, assumptions.region)
        prices = price_book(facts, region, ctx.params.get("prices"))
    except PriceError as exc:
        yield ctx.error(f"rule parameter error: {exc}; fix it in the [tool.mlgate] params for {ctx.rule.id}")
        return
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
    yield from _cost(ctx, view, traffic, ratio_limit)


def _synchronous_fit(ctx: CheckContext, facts: Facts, p: Pattern, traffic: Traffic, pattern: str) -> Iterator[Finding]:
    if traffic.synchronous and not p.synchronous.value:
        yield ctx.fail(f"callers wait for the answer (traffic.synchronous: true), but {_a(p.label)} does not answer "
                       f"them ({facts.cite(p.synchronous)})", at=(*_TRAFFIC, "synchronous"),
                       fix="Serve a waiting caller from pattern: realtime (or serverless for low, bursty traffic); "
                           f"keep {pattern} for work nobody waits for, and set synchronous: false if that is the case.")
    elif traffic.synchronous:
        yield ctx.ok(f"callers wait for the answer, and {_a(p.label)} answers in the response",
                     at=("serving", "pattern"))
    else:
        yield ctx.ok(f"callers do not wait for the answer (synchronous: false); {_a(p.label)} serves that",
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
        yield ctx.fail(f"{_describe_instance(itype, inst)} is {kind} instance, but the model declares no GPU need "
                       f"({said}): it pays for hardware it does not use",
                       at=("serving", "instance_type"),
                       fix="Serve it on a CPU instance type (ml.m5 or ml.c5), or set traffic.gpu: true if the model "
                           "needs the GPU to meet its latency.")
    elif accelerated and traffic.gpu:
        what = "the GPU" if inst is None or inst.gpus else "an accelerator for the GPU"
        yield ctx.ok(f"{_describe_instance(itype, inst)} gives the model {what} it declares it needs",
                     at=("serving", "instance_type"))


def _cold_starts(ctx: CheckContext, facts: Facts, serving: Serving, traffic: Traffic) -> Iterator[Finding]:
    sv = facts.pattern("serverless")
    low, high = sv.fact("cold_start_s_min"), sv.fact("cold_start_s_max")
    p99 = traffic.latency_p99_ms
    if p99 is None or p99 >= low.value * 1000:
        if p99 is not None:
            yield ctx.ok(f"the p99 of {num(p99)} ms allows for a serverless cold start ({num(low.value)}-"
                         f"{num(high.value)} s)", at=(*_TRAFFIC, "latency_p99_ms"))
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
                       at=(*_TRAFFIC, "latency_p99_ms"),
                       fix="Serve it from pattern: async (minutes) or realtime/serverless (seconds); or, if a day is "
                           "fine, remove latency_p99_ms or set it to the time a result may take.")


def _suggest_async(ctx: CheckContext, facts: Facts, traffic: Traffic) -> Iterator[Finding]:
    rt, asy = facts.pattern("realtime"), facts.pattern("async")
    near: list[str] = []
    if traffic.payload_kb is not None and traffic.payload_kb * 1024 >= NEAR_LIMIT * rt.payload_bytes.value:
        near.append(f"the {_kb(traffic.payload_kb)} payload is near the {_bytes(rt.payload_bytes.value)} limit")
    if traffic.processing_s is not None and traffic.processing_s >= NEAR_LIMIT * rt.processing_s.value:
        near.append(f"{num(traffic.processing_s)} s of processing is near the {num(rt.processing_s.value)} s limit")
    if near:
        yield ctx.warn(f"nobody waits for the answer (synchronous: false) and {' and '.join(near)} of a real-time "
                       f"endpoint; an asynchronous endpoint takes payloads up to {_bytes(asy.payload_bytes.value)} "
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


# SRV002 ------------------------------------------------------------------------------------------------------------

def hard_limits(ctx: CheckContext) -> Iterator[Finding]:
    """Payload, processing time, memory, concurrency, GPU and feature exclusions against the pattern's documented
    limits; each finding cites the limit and its source."""
    start = _start(ctx)
    if isinstance(start, Finding):
        yield start
        return
    serving, pattern = start
    facts = load_facts()
    p = facts.pattern(pattern)
    traffic = serving.traffic
    missing = _missing(ctx, traffic, ("payload_kb", "processing_s"),
                       f"they cannot be checked against the {p.label}'s limits")
    if missing:
        yield missing
    else:
        assert traffic is not None
        yield from _size_limits(ctx, facts, p, traffic, pattern)
    yield from _gpu_limits(ctx, facts, p, serving)
    if pattern == "serverless":
        yield from _serverless_limits(ctx, facts, p, serving)
        yield from _exclusions(ctx, facts, p, serving)
    else:
        yield from _instance_limits(ctx, facts, p, serving, pattern)
    if pattern == "async":
        yield from _async_limits(ctx, facts, p, serving)
    mme = facts.pattern("realtime").fact("model_monitor_multi_model")
    if serving.multi_model and ctx.spec.monitoring and ctx.spec.monitoring.data_drift and not mme.value:
        yield ctx.fail("a multi-model endpoint (serving.multi_model: true) declares data-drift monitoring, but "
                       f"Model Monitor does not monitor multi-model endpoints ({facts.cite(mme)})",
                       at=("monitoring", "data_drift"),
                       fix="Monitor drift with your own job over captured data, or host the model on its own endpoint.")


_PAYLOAD_FIX = {
    "realtime": "Send large inputs through S3 with pattern: async (up to 1 GB), or shrink the request.",
    "serverless": "Use pattern: realtime (6 MiB) or async (1 GB through S3), or shrink the request.",
    "async": "Split the input into several requests.",
    "batch": "Split records (SplitType Line or RecordIO, BatchStrategy SingleRecord) so each request stays under "
             "MaxPayloadInMB.",
}
_TIME_FIX = {
    "realtime": "Make inference faster, or move it to pattern: async (up to 3600 s per request).",
    "serverless": "Make inference faster, or move it to pattern: realtime or async.",
    "async": "Split the work into smaller requests.",
    "batch": "Send smaller mini-batches so each invocation finishes within the timeout.",
}


def _size_limits(ctx: CheckContext, facts: Facts, p: Pattern, traffic: Traffic, pattern: str) -> Iterator[Finding]:
    kb, seconds = traffic.payload_kb or 0.0, traffic.processing_s or 0.0
    limit = p.payload_bytes.value
    if kb * 1024 > limit:
        yield ctx.fail(f"a request of {num(kb)} KB ({int(kb * 1024):,} bytes) is above the {p.label} limit of "
                       f"{_bytes(limit)} ({facts.cite(p.payload_bytes)})",
                       at=(*_TRAFFIC, "payload_kb"), fix=_PAYLOAD_FIX[pattern])
    else:
        yield ctx.ok(f"a request of {num(kb)} KB is within the {p.label} limit of {_bytes(limit)} "
                     f"({facts.cite(p.payload_bytes)})", at=(*_TRAFFIC, "payload_kb"))
    if seconds > p.processing_s.value:
        yield ctx.fail(f"{num(seconds)} s of processing per request is above the {p.label} limit of "
                       f"{num(p.processing_s.value)} s ({facts.cite(p.processing_s)})",
                       at=(*_TRAFFIC, "processing_s"), fix=_TIME_FIX[pattern])
    else:
        yield ctx.ok(f"{num(seconds)} s of processing per request is within the {p.label} limit of "
                     f"{num(p.processing_s.value)} s ({facts.cite(p.processing_s)})", at=(*_TRAFFIC, "processing_s"))


def _gpu_limits(ctx: CheckContext, facts: Facts, p: Pattern, serving: Serving) -> Iterator[Finding]:
    if not (serving.traffic and serving.traffic.gpu):
        return
    if not p.gpu.value:
        yield ctx.fail(f"the model needs a GPU (traffic.gpu: true), and {_a(p.label)} has none ({facts.cite(p.gpu)})",
                       at=(*_TRAFFIC, "gpu"),
                       fix="Serve it from a GPU instance: pattern realtime, async (can scale to zero) or batch.")
        return
    itype = serving.instance_type
    if not itype:
        return
    inst = facts.instance(itype)
    if inst is not None and inst.gpus == 0 and inst.neuron_devices:
        yield ctx.warn(f"the model needs a GPU (traffic.gpu: true); {_describe_instance(itype, inst)} has an AWS "
                       f"Neuron accelerator, not a GPU ({facts.cite(inst)}): the model must be compiled for Neuron",
                       at=("serving", "instance_type"),
                       fix="Confirm the model is compiled with the AWS Neuron SDK, or use a GPU type (ml.g5, ml.g4dn).")
    elif (inst is not None and inst.gpus == 0) or (inst is None and gpu_family(itype) is False):
        cited = f" ({facts.cite(inst)})" if inst else ""
        yield ctx.fail(f"the model needs a GPU (traffic.gpu: true), and {_describe_instance(itype, inst)} has "
                       f"none{cited}", at=("serving", "instance_type"),
                       fix="Use a GPU instance type such as ml.g4dn.xlarge or ml.g5.xlarge, or set traffic.gpu: "
                           "false if the model meets its latency on CPU.")
    elif inst is not None:
        yield ctx.ok(f"{_describe_instance(itype, inst)} has the GPU the model needs ({facts.cite(inst)})",
                     at=("serving", "instance_type"))


def _range(ctx: CheckContext, facts: Facts, value: float | None, low: Fact, high: Fact, what: str,
           at: tuple[str, ...], fix: str) -> Iterator[Finding]:
    if value is None:
        return
    if not low.value <= value <= high.value:
        yield ctx.fail(f"{what} {num(value)} is outside {num(low.value)}-{num(high.value)} ({facts.cite(high)})",
                       at=at, fix=fix)
    else:
        yield ctx.ok(f"{what} {num(value)} is within {num(low.value)}-{num(high.value)} ({facts.cite(high)})", at=at)


def _serverless_limits(ctx: CheckContext, facts: Facts, p: Pattern, serving: Serving) -> Iterator[Finding]:
    conf = serving.serverless
    at = ("serving", "serverless")
    absent = [n for n in ("memory_mb", "max_concurrency") if conf is None or getattr(conf, n) is None]
    if absent:
        listed = " and ".join(f"serving.serverless.{n}" for n in absent)
        yield ctx.fail(f"{listed} {'is' if len(absent) == 1 else 'are'} not declared: a serverless "
                       "endpoint is created with a memory size and a maximum concurrency (ServerlessConfig "
                       "MemorySizeInMB and MaxConcurrency are required)", at=at,
                       fix="Declare serving.serverless: {memory_mb: 2048, max_concurrency: 20} sized for the model "
                           "and its peak.")
    if conf is None:
        return
    step, low, high = p.fact("memory_mb_step"), p.fact("memory_mb_min"), p.fact("memory_mb_max")
    if conf.memory_mb is not None:
        if not (low.value <= conf.memory_mb <= high.value and conf.memory_mb % step.value == 0):
            yield ctx.fail(f"serverless memory {conf.memory_mb} MB is not one of {num(low.value)}-{num(high.value)} "
                           f"MB in {num(step.value)} MB steps ({facts.cite(step)})",
                           at=(*at, "memory_mb"), fix="Use 1024, 2048, 3072, 4096, 5120 or 6144.")
        else:
            yield ctx.ok(f"serverless memory {conf.memory_mb} MB is a valid size ({facts.cite(step)})",
                         at=(*at, "memory_mb"))
    yield from _range(ctx, facts, conf.max_concurrency, p.fact("max_concurrency_min"), p.fact("max_concurrency_max"),
                      "serverless max_concurrency", (*at, "max_concurrency"),
                      "Keep MaxConcurrency between 1 and 200; beyond 200, serve it from pattern: realtime.")
    provisioned = conf.provisioned_concurrency
    if provisioned:  # 0 (or absent) means none
        yield from _range(ctx, facts, provisioned, p.fact("provisioned_concurrency_min"),
                          p.fact("provisioned_concurrency_max"), "serverless provisioned_concurrency",
                          (*at, "provisioned_concurrency"), "Keep ProvisionedConcurrency between 1 and 200.")
        if conf.max_concurrency is not None and provisioned > conf.max_concurrency:
            cited = facts.cite(p.fact("provisioned_concurrency_max"))
            yield ctx.fail(f"provisioned_concurrency {provisioned} is above max_concurrency {conf.max_concurrency}, "
                           f"and it must be at most MaxConcurrency ({cited})", at=(*at, "provisioned_concurrency"),
                           fix="Lower provisioned_concurrency to at most max_concurrency, or raise max_concurrency.")


def _exclusions(ctx: CheckContext, facts: Facts, p: Pattern, serving: Serving) -> Iterator[Finding]:
    """Features a serverless endpoint does not have, against what the spec uses."""
    spec = ctx.spec
    used: list[tuple[str, str, tuple[Any, ...], str]] = []
    capture = spec.monitoring.capture if spec.monitoring else None
    if capture is not None and capture.enabled:
        used.append(("data_capture", "monitoring.capture is enabled", ("monitoring", "capture", "enabled"),
                     "Log inputs and outputs from the caller (to S3), or serve it from pattern: realtime."))
    rollout = spec.rollout
    if rollout and rollout.canary and rollout.canary.variant:
        steps = rollout.canary.steps
        other = rollout.previous.variant if rollout.previous and rollout.previous.variant else None
        if other or any(s < 100 for s in steps):
            two = f"{rollout.canary.variant} and {other}" if other else f"{rollout.canary.variant} and the live one"
            used.append(("multiple_variants", f"rollout.canary splits traffic between two variants ({two}) on one "
                         "endpoint", ("rollout", "canary"),
                         "Shift traffic between two serverless endpoints in the caller (or with a weighted "
                         "router), or serve it from pattern: realtime to canary on one endpoint."))
    if rollout and rollout.shadow and rollout.shadow.variant and not rollout.shadow.endpoint:
        used.append(("multiple_variants", f"rollout.shadow runs {rollout.shadow.variant} as a shadow variant of the "
                     "same endpoint", ("rollout", "shadow"),
                     "Run the shadow on its own endpoint (rollout.shadow.endpoint) and mirror requests from the "
                     "caller."))
    for feature, field, what in (("vpc", "vpc", "serving.vpc is true"),
                                 ("network_isolation", "network_isolation", "serving.network_isolation is true"),
                                 ("multi_model", "multi_model", "serving.multi_model is true")):
        if getattr(serving, field):
            used.append((feature, what, ("serving", field), "Serve it from pattern: realtime, which supports it."))
    for feature, what, at, fix in used:
        excl = p.excluded(feature)
        if excl is None:
            continue
        yield ctx.fail(f"{what}, and a serverless endpoint excludes {excl.label} ({facts.cite(excl)})", at=at, fix=fix)
    drift = spec.monitoring.data_drift if spec.monitoring else None
    monitor = p.excluded("model_monitor")
    if drift is not None and monitor is not None:
        yield ctx.warn(f"monitoring.data_drift is declared, and a serverless endpoint excludes {monitor.label} and "
                       f"data capture ({facts.cite(monitor)})", at=("monitoring", "data_drift"),
                       fix="Compute drift with your own scheduled job over inputs the caller logs, and say so in "
                           "the runbook; or serve it from pattern: realtime.")
    if not used and drift is None:
        yield ctx.ok("the spec uses no feature a serverless endpoint excludes (data capture, several variants, "
                     "VPC, network isolation, multi-model, Model Monitor)", at=("serving", "pattern"))


def _instance_limits(ctx: CheckContext, facts: Facts, p: Pattern, serving: Serving, pattern: str) -> Iterator[Finding]:
    count = serving.instance_count
    if count is not None and count < 1:
        floor = facts.pattern("realtime").fact("min_instances")
        cited = f" ({facts.cite(floor)})" if pattern != "batch" else ""
        yield ctx.fail(f"serving.instance_count is {count}: {_a(p.label)} starts with at least one instance{cited}",
                       at=("serving", "instance_count"), fix="Set instance_count to 1 or more.")
    if pattern == "batch" and count is not None and p.max_instances is not None and count > p.max_instances.value:
        yield ctx.fail(f"a transform job of {count} instances is above the limit of {num(p.max_instances.value)} "
                       f"({facts.cite(p.max_instances)})", at=("serving", "instance_count"),
                       fix="Use at most 100 instances, or larger instance types.")
    auto = serving.autoscaling
    if pattern == "realtime" and auto is not None and auto.min_instances == 0:
        floor = p.fact("scale_to_zero")
        note = f"; {floor.note}" if floor.note else ""
        yield ctx.warn(f"autoscaling.min_instances is 0, but a real-time instance variant keeps at least one "
                       f"instance ({facts.cite(floor)}){note}",
                       at=("serving", "autoscaling", "min_instances"),
                       fix="Set min_instances: 1, host the model as an inference component, or use pattern: async "
                           "to scale to zero.")


def _async_limits(ctx: CheckContext, facts: Facts, p: Pattern, serving: Serving) -> Iterator[Finding]:
    conf = serving.async_inference
    at = ("serving", "async_inference")
    timeout = conf.invocation_timeout_s if conf else None
    if conf is not None:
        yield from _range(ctx, facts, conf.max_concurrent_invocations_per_instance,
                          p.fact("max_concurrent_invocations_min"), p.fact("max_concurrent_invocations_max"),
                          "async max_concurrent_invocations_per_instance",
                          (*at, "max_concurrent_invocations_per_instance"),
                          "Keep MaxConcurrentInvocationsPerInstance between 1 and 1000.")
        yield from _range(ctx, facts, timeout, p.fact("invocation_timeout_s_min"), p.processing_s,
                          "async invocation_timeout_s", (*at, "invocation_timeout_s"),
                          "Keep InvocationTimeoutSeconds between 1 and 3600.")
        yield from _range(ctx, facts, conf.request_ttl_s, p.fact("request_ttl_s_min"), p.fact("request_ttl_s_max"),
                          "async request_ttl_s", (*at, "request_ttl_s"), "Keep RequestTTLSeconds between 60 and 21600.")
    processing = serving.traffic.processing_s if serving.traffic else None
    default = p.fact("invocation_timeout_s_default")
    effective = timeout if timeout is not None else default.value
    if processing is not None and processing > effective:
        what = (f"invocation_timeout_s {num(effective)}" if timeout is not None else
                f"the default invocation timeout of {num(effective)} s ({facts.cite(default)})")
        yield ctx.fail(f"{num(processing)} s of processing per request is above {what}: every request would time "
                       "out", at=(*at, "invocation_timeout_s") if timeout is not None else (*_TRAFFIC, "processing_s"),
                       fix=f"Set serving.async_inference.invocation_timeout_s to at least {math.ceil(processing)} "
                           "(max 3600).")


# SRV003 ------------------------------------------------------------------------------------------------------------

# Metrics a policy can scale an asynchronous endpoint out from zero on: the queue, not the invocations.
_BACKLOG_METRICS = ("HasBacklogWithoutCapacity", "ApproximateBacklogSize", "ApproximateBacklogSizePerInstance")
_DEFAULT_WINDOW = "24h"


def capacity(ctx: CheckContext) -> Iterator[Finding]:
    """Instances x per-instance throughput (or serverless concurrency, or the async processing rate) cover the
    peak with headroom, on at least two instances, scaled by a real policy, and on the previous variant after a
    rollback; a day's batch fits in its window."""
    start = _start(ctx)
    if isinstance(start, Finding):
        yield start
        return
    serving, pattern = start
    headroom = _number_param(ctx, "headroom")
    if isinstance(headroom, Finding):
        yield headroom
        return
    floor = _number_param(ctx, "min_instances", minimum=1)
    if isinstance(floor, Finding):
        yield floor
        return
    traffic = serving.traffic
    needs: tuple[str, ...] = {"batch": ("requests_per_day", "processing_s"),
                              "async": ("requests_per_day", "peak_rps", "processing_s")}.get(
                                  pattern, ("peak_rps", "processing_s"))
    if traffic is not None and traffic.throughput_rps_per_instance and pattern != "serverless":
        needs = tuple(n for n in needs if n != "processing_s")
    missing = _missing(ctx, traffic, needs, "the capacity cannot be compared with the load")
    if missing:
        yield missing
        return
    assert traffic is not None
    if pattern == "serverless":
        yield from _serverless_capacity(ctx, serving, traffic, headroom)
        return
    no_type = _instance_type_missing(ctx, serving, pattern)
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
    yield from _availability(ctx, facts, serving, pattern, int(floor))
    top, field, scaling = _reachable(ctx, facts, serving, pattern)
    yield from scaling
    if pattern == "async":
        yield from _async_capacity(ctx, serving, traffic, tp, top, field, headroom)
    else:
        yield from _realtime_capacity(ctx, serving, traffic, tp, top, field, headroom)
    yield from _rollback_capacity(ctx, facts, serving, traffic, headroom, int(floor))


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
                       at=(*_TRAFFIC, "window"), fix=f"Write the job's window as {DURATION_HELP}.")
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
