"""SRV002: the deployment stays within its serving pattern's hard limits (payload, processing time, serverless memory
and concurrency, GPU, features a pattern excludes); each finding cites the limit and its source."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from mlgate.checks import CheckContext
from mlgate.cost import num
from mlgate.facts import Fact, Facts, Pattern, gpu_family, load_facts
from mlgate.result import Finding
from mlgate.rules.params import NoParams
from mlgate.rules.serving._shared import (
    TRAFFIC,
    describe_instance,
    missing_traffic,
    serving_pattern,
    show_bytes,
    with_article,
)
from mlgate.spec.models import Serving, Traffic

Params = NoParams  # no parameters


def check(ctx: CheckContext) -> Iterator[Finding]:
    """Payload, processing time, memory, concurrency, GPU and feature exclusions against the pattern's documented
    limits; each finding cites the limit and its source."""
    start = serving_pattern(ctx)
    if isinstance(start, Finding):
        yield start
        return
    serving, pattern = start
    facts = load_facts()
    p = facts.pattern(pattern)
    traffic = serving.traffic
    missing = missing_traffic(ctx, traffic, ("payload_kb", "processing_s"),
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
    yield _at_most(ctx, facts, p, kb * 1024, p.payload_bytes, show_bytes(p.payload_bytes.value),
                   f"a request of {num(kb)} KB", f" ({int(kb * 1024):,} bytes)", "payload_kb", _PAYLOAD_FIX[pattern])
    yield _at_most(ctx, facts, p, seconds, p.processing_s, f"{num(p.processing_s.value)} s",
                   f"{num(seconds)} s of processing per request", "", "processing_s", _TIME_FIX[pattern])


def _at_most(ctx: CheckContext, facts: Facts, p: Pattern, value: float, limit: Fact, shown_limit: str, what: str,
             detail: str, field: str, fix: str) -> Finding:
    """A traffic figure against the pattern's `limit` (`detail`, when the figure is above it, adds the figure in
    the limit's unit)."""
    if value > limit.value:
        return ctx.fail(f"{what}{detail} is above the {p.label} limit of {shown_limit} ({facts.cite(limit)})",
                        at=(*TRAFFIC, field), fix=fix)
    return ctx.ok(f"{what} is within the {p.label} limit of {shown_limit} ({facts.cite(limit)})",
                  at=(*TRAFFIC, field))


def _gpu_limits(ctx: CheckContext, facts: Facts, p: Pattern, serving: Serving) -> Iterator[Finding]:
    if not (serving.traffic and serving.traffic.gpu):
        return
    if not p.gpu.value:
        yield ctx.fail(f"the model needs a GPU (traffic.gpu: true), and {with_article(p.label)} has none "
                       f"({facts.cite(p.gpu)})",
                       at=(*TRAFFIC, "gpu"),
                       fix="Serve it from a GPU instance: pattern realtime, async (can scale to zero) or batch.")
        return
    itype = serving.instance_type
    if not itype:
        return
    inst = facts.instance(itype)
    if inst is not None and inst.gpus == 0 and inst.neuron_devices:
        yield ctx.warn(f"the model needs a GPU (traffic.gpu: true); {describe_instance(itype, inst)} has an AWS "
                       f"Neuron accelerator, not a GPU ({facts.cite(inst)}): the model must be compiled for Neuron",
                       at=("serving", "instance_type"),
                       fix="Confirm the model is compiled with the AWS Neuron SDK, or use a GPU type (ml.g5, ml.g4dn).")
    elif (inst is not None and inst.gpus == 0) or (inst is None and gpu_family(itype) is False):
        cited = f" ({facts.cite(inst)})" if inst else ""
        yield ctx.fail(f"the model needs a GPU (traffic.gpu: true), and {describe_instance(itype, inst)} has "
                       f"none{cited}", at=("serving", "instance_type"),
                       fix="Use a GPU instance type such as ml.g4dn.xlarge or ml.g5.xlarge, or set traffic.gpu: "
                           "false if the model meets its latency on CPU.")
    elif inst is not None:
        yield ctx.ok(f"{describe_instance(itype, inst)} has the GPU the model needs ({facts.cite(inst)})",
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
        yield ctx.fail(f"serving.instance_count is {count}: {with_article(p.label)} starts with at "
                       f"least one instance{cited}",
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
                       "out", at=(*at, "invocation_timeout_s") if timeout is not None else (*TRAFFIC, "processing_s"),
                       fix=f"Set serving.async_inference.invocation_timeout_s to at least {math.ceil(processing)} "
                           "(max 3600).")


