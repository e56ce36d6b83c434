"""MON004: live invocations are alarmed on tail latency, errors and throttles; each alarm watches this endpoint's
variants (the canary too) with the dimensions SageMaker publishes and pages someone; with --aws, the alarms exist in
CloudWatch as the spec describes them."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from mlgate.checks import CheckContext
from mlgate.deployment.alarms import DeployedAlarm, deployed_alarms
from mlgate.facts import load_facts
from mlgate.result import Finding, Location
from mlgate.rules.monitoring._shared import num
from mlgate.rules.params import Number, OnlineParams
from mlgate.spec.models import Alarm
from mlgate.spelling import did_you_mean
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    from mlgate.aws.live import Online


_OPS = ("monitoring", "operational")


class Params(OnlineParams):
    # the bound sits inside Annotated so that Number's own check (finite, sized) runs first
    latency_threshold_factor: Annotated[Number, Field(ge=1)] = Field(
        1.5,
        description="how far above the declared p99 (serving.traffic.latency_p99_ms) a latency alarm may fire: 1.5 "
                    "leaves room for noise without letting callers wait much longer than promised before anyone is "
                    "paged")

KINDS = ("latency", "errors", "throttles")
# The alarms whose silence hurts callers at once: with no way to page anyone, MON004 fails rather than warns.
_PAGING_KINDS = ("latency", "errors")

# CloudWatch metrics a SageMaker endpoint publishes (facts §3.3): namespace AWS/SageMaker for invocation metrics,
# /aws/sagemaker/Endpoints for instance metrics. What each counts, and its dimensions, are in the facts table.
_ENDPOINT_METRICS = {
    "Invocations", "InvocationsPerInstance", "Invocation4XXErrors", "Invocation5XXErrors", "InvocationModelErrors",
    "ModelLatency", "OverheadLatency",
    "ModelLoadingWaitTime", "ModelUnloadingTime", "ModelDownloadingTime", "ModelLoadingTime", "ModelCacheHit",
    "CPUUtilization", "MemoryUtilization", "GPUUtilization", "GPUMemoryUtilization", "DiskUtilization",
    "LoadedModelCount",
}
_SERVERLESS_ONLY = {"ModelSetupTime", "ServerlessConcurrentExecutionsUtilization"}
_ASYNC_ONLY = {
    "ApproximateBacklogSize", "ApproximateBacklogSizePerInstance", "ApproximateAgeOfOldestRequest",
    "HasBacklogWithoutCapacity", "RequestDownloadFailures", "ResponseUploadFailures", "NotificationFailures",
    "ExpiredRequests", "InvocationFailures", "InvocationsProcesssed", "RequestDownloadLatency",
    "ResponseUploadLatency", "TimeInBacklog", "TotalProcessingTime",
}
# Async endpoints do not publish these (facts §3.3, async-inference-monitor).
_NOT_ASYNC = {"OverheadLatency", "Invocations", "InvocationsPerInstance"}
KNOWN_METRICS = _ENDPOINT_METRICS | _SERVERLESS_ONLY | _ASYNC_ONLY

# Which metrics can stand for each kind (mlgate's judgment). AWS publishes no count of throttled requests for an
# instance-backed endpoint: a team that alarms on 4xx responses for throttling says so with `watches: throttles`.
# A serverless endpoint throttles beyond its max concurrency; an async endpoint queues instead of throttling.
_FITS = {
    "latency": {"ModelLatency", "OverheadLatency", "ModelSetupTime", "TotalProcessingTime", "TimeInBacklog",
                "ApproximateAgeOfOldestRequest", "RequestDownloadLatency", "ResponseUploadLatency"},
    "errors": {"Invocation5XXErrors", "Invocation4XXErrors", "InvocationModelErrors", "InvocationFailures",
               "RequestDownloadFailures", "ResponseUploadFailures", "NotificationFailures", "ExpiredRequests"},
    "throttles": {"Invocation4XXErrors", "InvocationsPerInstance", "ServerlessConcurrentExecutionsUtilization",
                  "ApproximateBacklogSize", "ApproximateBacklogSizePerInstance", "HasBacklogWithoutCapacity",
                  "ApproximateAgeOfOldestRequest", "ExpiredRequests"},
}
_EXAMPLE_METRIC = {"latency": "ModelLatency", "errors": "Invocation5XXErrors", "throttles": "Invocation4XXErrors"}
# The metric that shows a pattern's callers being turned away (or kept waiting) for lack of capacity.
_THROTTLE_SIGNAL = {
    "realtime": "Invocation4XXErrors (AWS publishes no count of throttled requests for an instance-backed endpoint; "
                "a 4xx alarm counts as a throttle alarm once the spec says `watches: throttles`)",
    "serverless": "ServerlessConcurrentExecutionsUtilization (at 1 the endpoint is at its MaxConcurrency and further "
                  "requests are throttled)",
    "async": "ApproximateBacklogSize or HasBacklogWithoutCapacity (an asynchronous endpoint queues requests instead "
             "of throttling them)",
}
_PERCENTILE = re.compile(r"p(\d+(?:\.\d+)?)", re.IGNORECASE)
Base = PathT | Location


def _percentile(statistic: str) -> float | None:
    """The percentile a CloudWatch statistic reports (Maximum is p100), or None for means, sums and the like."""
    text = statistic.strip()
    if text.lower() in ("maximum", "max"):
        return 100.0
    match = _PERCENTILE.fullmatch(text)
    return float(match.group(1)) if match else None


def _under(base: Base, *keys: str) -> Base:
    """A field of an alarm: its spec path, or for an alarm only the code defines, the code's line."""
    return (*base, *keys) if isinstance(base, tuple) else base


def _named(metric: str) -> str:
    """The metric with what AWS documents it to count: "Invocation4XXErrors (requests that got a 4xx response)"."""
    known = load_facts().metric(metric)
    return f"{metric} ({known.counts})" if known else metric


def _metric_findings(ctx: CheckContext, alarm: Alarm, base: Base, label: str, kind: str) -> Iterator[Finding]:
    at = _under(base, "metric")
    metric = (alarm.metric or "").strip()
    if not metric:
        yield ctx.fail(f"alarm {label} names no metric", at=at,
                       fix=f"write the CloudWatch metric it alarms on, e.g. `metric: {_EXAMPLE_METRIC[kind]}`")
        return
    if metric not in KNOWN_METRICS:
        yield ctx.warn(f"alarm {label}: '{metric}' is not a metric a SageMaker endpoint publishes "
                       f"({did_you_mean(metric, KNOWN_METRICS, 'metric')}); CloudWatch metric names are "
                       "case-sensitive and an alarm on a metric nobody publishes stays silent", at=at,
                       fix="use the metric's exact AWS/SageMaker name, or waive if it is a custom metric you "
                           "publish yourself")
        return
    kind_now = ctx.pattern
    if metric in _SERVERLESS_ONLY and kind_now != "serverless":
        yield ctx.warn(f"alarm {label}: {metric} is published for serverless endpoints only, and this endpoint is "
                       f"{kind_now}", at=at, fix="alarm on a metric this endpoint publishes")
    elif metric in _ASYNC_ONLY and kind_now != "async":
        yield ctx.warn(f"alarm {label}: {metric} is published for asynchronous endpoints only, and this endpoint "
                       f"is {kind_now}", at=at, fix="alarm on a metric this endpoint publishes")
    elif metric in _NOT_ASYNC and kind_now == "async":
        yield ctx.warn(f"alarm {label}: asynchronous endpoints do not publish {metric}", at=at,
                       fix="alarm on a metric async endpoints publish (e.g. ModelLatency, TotalProcessingTime)")
    if metric not in _FITS[kind]:
        yield ctx.fail(f"alarm {label} says it watches {kind}, but {_named(metric)} does not measure {kind}", at=at,
                       fix=f"alarm on a {kind} metric, e.g. {', '.join(sorted(_FITS[kind] & _available(ctx)))}")


def _available(ctx: CheckContext) -> set[str]:
    kind = ctx.pattern
    names = set(_ENDPOINT_METRICS)
    if kind == "serverless":
        names |= _SERVERLESS_ONLY
    if kind == "async":
        names = (names | _ASYNC_ONLY) - _NOT_ASYNC
    return names


def _latency_alarm(ctx: CheckContext, alarm: Alarm, base: Base, label: str, factor: float) -> Iterator[Finding]:
    stat = (alarm.statistic or "").strip()
    if not stat:
        yield ctx.fail(f"latency alarm {label} has no statistic", at=_under(base, "statistic"),
                       fix="write `statistic: p99`: the tail is what callers feel")
    else:
        pctl = _percentile(stat)
        if pctl is None or pctl < 99:
            yield ctx.fail(f"latency alarm {label} uses the {stat} statistic, which hides the tail: the slowest "
                           "requests can time out while it stays green", at=_under(base, "statistic"),
                           fix="alarm on `statistic: p99` (or stricter, p99.9)")
        elif pctl > 100:
            yield ctx.fail(f"latency alarm {label}: {stat} is not a percentile", at=_under(base, "statistic"),
                           fix="write `statistic: p99`")
    threshold = alarm.threshold_ms
    traffic = ctx.spec.serving.traffic if ctx.spec.serving else None
    p99 = traffic.latency_p99_ms if traffic else None
    at = _under(base, "threshold_ms")
    if threshold is None:
        yield ctx.fail(f"latency alarm {label} has no threshold_ms", at=at,
                       fix=f"write `threshold_ms: {num(p99)}` (the declared p99)" if p99 else
                       "write threshold_ms, the latency the caller can bear")
    elif not threshold > 0:
        yield ctx.fail(f"latency alarm {label} fires at {num(threshold)} ms: a threshold must be above 0",
                       at=at, fix="write the latency the caller can bear, in milliseconds")
    elif p99 is None:
        yield ctx.warn(f"latency alarm {label} fires at {num(threshold)} ms, but serving.traffic.latency_p99_ms is "
                       "not declared, so mlgate cannot tell whether that is too loose", at=("serving", "traffic"),
                       fix="declare serving.traffic.latency_p99_ms, the latency the caller needs")
    elif threshold > p99 * factor:
        yield ctx.fail(f"latency alarm {label} fires at {num(threshold)} ms, looser than {num(factor)} times the "
                       f"declared p99 of {num(p99)} ms ({num(p99 * factor)} ms): callers would wait that long "
                       "before anyone is paged", at=at, fix=f"lower threshold_ms to at most {num(p99 * factor)}")


def _rate_alarm(ctx: CheckContext, alarm: Alarm, base: Base, label: str, kind: str) -> Iterator[Finding]:
    rate, count = alarm.threshold_rate, alarm.threshold_count
    if rate is None and count is None:
        yield ctx.fail(f"{kind} alarm {label} has no threshold_rate or threshold_count", at=base,
                       fix="write `threshold_rate: 0.01` (a fraction of requests) or `threshold_count: 10` "
                           "(per period)")
        return
    if rate is not None and not 0 <= rate < 1:
        hint = f" (a rate is a fraction: {num(rate)} % is {num(rate / 100)})" if 1 < rate <= 100 else ""
        yield ctx.fail(f"{kind} alarm {label} has threshold_rate {num(rate)}, outside [0, 1): it "
                       f"{'can never fire' if rate >= 1 else 'is not a rate'}{hint}",
                       at=_under(base, "threshold_rate"), fix="write the rate as a fraction of requests, e.g. 0.01 "
                                                             "for 1 %")
    if count is not None and count < 0:
        yield ctx.fail(f"{kind} alarm {label} has threshold_count {num(count)}, below 0",
                       at=_under(base, "threshold_count"), fix="write a count of 0 or more per period")


def _threshold_text(ctx: CheckContext, alarm: Alarm, factor: float) -> str:
    if alarm.threshold_ms is not None:
        traffic = ctx.spec.serving.traffic if ctx.spec.serving else None
        p99 = traffic.latency_p99_ms if traffic else None
        within = f" (declared p99 {num(p99)} ms, limit {num(p99 * factor)} ms)" if p99 else ""
        return f"{alarm.statistic} above {num(alarm.threshold_ms)} ms{within}"
    if alarm.threshold_rate is not None:
        return f"above a rate of {num(alarm.threshold_rate)}"
    return f"above {num(alarm.threshold_count or 0)} per period"


def _base(deployed: DeployedAlarm) -> Base:
    if deployed.index is not None and deployed.origin == "spec":
        return (*_OPS, "alarms", deployed.index)
    return deployed.at or (*_OPS, "alarms")


def _related(ctx: CheckContext, deployed: DeployedAlarm) -> tuple[Location, ...]:
    """The spec's entry of an alarm the code defines, as the second location of a finding on the code."""
    if deployed.index is None or deployed.origin == "spec":
        return ()
    return (ctx.at((*_OPS, "alarms", deployed.index)),)


def _deployed_variants(ctx: CheckContext) -> list[str] | None:
    """The production variants the endpoint runs: the endpoint config's, else the spec's canary and previous."""
    if ctx.resolved is not None and ctx.resolved.variants is not None and ctx.resolved.config_at is not None:
        return ctx.resolved.variants
    rollout = ctx.spec.rollout
    names = [v.variant for v in (rollout.canary, rollout.previous) if v is not None and v.variant] if rollout else []
    return names or None


def _dimension_findings(ctx: CheckContext, deployed: DeployedAlarm) -> Iterator[Finding]:
    """The alarm's dimensions are the ones SageMaker publishes the metric with, on this endpoint's variants."""
    alarm, dims = deployed.alarm, deployed.dimensions
    facts = load_facts()
    known = facts.metric(alarm.metric or "")
    if dims is None or known is None:
        return
    base, label = _base(deployed), deployed.label
    missing = [d for d in known.dimensions if d not in dims]
    if missing:
        have = " and ".join(dims) if dims else "no dimensions"
        yield ctx.fail(f"alarm {label} on {alarm.metric} has {have}, but SageMaker publishes {alarm.metric} per "
                       f"{' and '.join(known.dimensions)} ({facts.cite(known)}): an alarm without "
                       f"{' and '.join(missing)} watches a metric nobody publishes and never gets data",
                       at=_under(base, "dimensions"), related=_related(ctx, deployed),
                       fix=f"give the alarm the dimensions {', '.join(known.dimensions)} (VariantName: the "
                           "variant it watches; one alarm per variant, or metric math over them)")
        return
    endpoint = ctx.spec.serving.endpoint if ctx.spec.serving else None
    seen = dims.get("EndpointName")
    if endpoint and seen is not None and seen != endpoint:
        yield ctx.fail(f"alarm {label} watches EndpointName {seen}, not this endpoint ({endpoint})",
                       at=_under(base, "dimensions"), related=_related(ctx, deployed),
                       fix=f"set the alarm's EndpointName dimension to {endpoint}")
    variant = dims.get("VariantName")
    variants = _deployed_variants(ctx)
    shadows = ctx.resolved.shadow_variants if ctx.resolved and ctx.resolved.shadow_variants else []
    if "VariantName" in known.dimensions and variant is not None and variants is not None \
            and variant not in variants + shadows:
        yield ctx.fail(f"alarm {label} watches VariantName {variant}, which this endpoint does not run (its "
                       f"variants: {', '.join(variants + shadows)}): it never gets data",
                       at=_under(base, "dimensions"), related=_related(ctx, deployed),
                       fix="set VariantName to the variant the alarm is meant to watch")


def _canary_coverage(ctx: CheckContext, alarms: list[DeployedAlarm]) -> Iterator[Finding]:
    """With weighted variants, the canary runs beside the previous variant: each must be watched on its own."""
    rollout = ctx.spec.rollout
    canary = rollout.canary.variant if rollout and rollout.canary else None
    variants = _deployed_variants(ctx)
    if not canary or variants is None or canary not in variants or len(variants) < 2:
        return
    for kind in _PAGING_KINDS:
        group = [a for a in alarms if a.alarm.watches == kind and a.dimensions is not None
                 and load_facts().metric(a.alarm.metric or "") is not None]
        watched = {a.dimensions.get("VariantName") for a in group if a.dimensions}
        if not group or canary in watched or None in watched:
            continue
        others = ", ".join(sorted(str(v) for v in watched))
        names_ = ", ".join(a.label for a in group)
        yield ctx.fail(f"the {kind} alarm{'s' if len(group) > 1 else ''} {names_} watch{'' if len(group) > 1 else 'es'}"
                       f" VariantName {others} only: the canary {canary} runs beside it on the same endpoint and no "
                       f"{kind} alarm watches it, so a canary that fails or slows down stays unseen",
                       at=_under(_base(group[0]), "dimensions"), related=_related(ctx, group[0]),
                       fix=f"add a {kind} alarm with VariantName {canary} (or metric math over every variant)")


def _action_findings(ctx: CheckContext, alarms: list[DeployedAlarm]) -> Iterator[Finding]:
    """An alarm with no AlarmActions changes state and pages nobody."""
    facts = load_facts()
    environment = ctx.spec.serving.environment if ctx.spec.serving else "production"
    for deployed in alarms:
        if deployed.actions is None or deployed.actions:
            continue
        kind = deployed.alarm.watches
        others = [a.label for a in alarms if a is not deployed and a.alarm.watches == kind and a.actions]
        via = deployed.notified_by
        cited = facts.cite(facts.cloudwatch["alarm_actions"])
        base = _under(_base(deployed), "actions")
        fix = ("add AlarmActions (an SNS topic that reaches the on-call, e.g. the pager integration) to the alarm, "
               "or a composite alarm with actions over it")
        if via:
            yield ctx.ok(f"alarm {deployed.label} has no AlarmActions of its own; composite alarm "
                         f"{', '.join(via)} notifies on it", at=base)
        elif kind in _PAGING_KINDS and not others and environment == "production":
            yield ctx.fail(f"{kind} alarm {deployed.label} has no AlarmActions and no other {kind} alarm notifies "
                           f"anyone: when this production endpoint {'slows down' if kind == 'latency' else 'fails'}, "
                           f"the alarm changes state and nobody is paged ({cited})", at=base,
                           related=_related(ctx, deployed), fix=fix)
        else:
            also = f" ({kind} alarm {', '.join(others)} does notify)" if others else ""
            if kind in _PAGING_KINDS and not others:
                also = f" (a warning, not a failure: serving.environment is {environment}, and a {kind} alarm " \
                       "that pages nobody fails on production endpoints only)"
            yield ctx.warn(f"alarm {deployed.label} has no AlarmActions: it changes state and pages nobody{also}",
                           at=base, related=_related(ctx, deployed), fix=fix)


def _serverless_latency(ctx: CheckContext, alarms: list[DeployedAlarm]) -> Iterator[Finding]:
    if ctx.pattern != "serverless":
        return
    group = [a for a in alarms if a.alarm.watches == "latency"]
    if not group or any(a.alarm.metric == "OverheadLatency" for a in group):
        return
    facts = load_facts()
    overhead = facts.metric("OverheadLatency")
    cited = f" ({facts.cite(overhead)})" if overhead else ""
    yield ctx.fail(f"on a serverless endpoint the latency callers see includes cold starts, which "
                   f"{', '.join(sorted({a.alarm.metric or '?' for a in group}))} does not count; OverheadLatency "
                   f"does{cited}, and no latency alarm watches it", at=_under(_base(group[0]), "metric"),
                   fix="add a latency alarm on OverheadLatency (p99, threshold_ms within the declared p99)")


def check(ctx: CheckContext) -> Iterator[Finding]:
    """Live invocations are alarmed on p99 latency (no looser than the declared p99 allows), errors and throttles;
    each alarm sees this endpoint's variants (the canary too) and pages someone."""
    if ctx.pattern == "batch":
        yield ctx.na("serving.pattern is batch: a batch transform has no live invocations, so there is no latency, "
                     "error rate or throttling to alarm on (watch the job's status instead)", at=("serving", "pattern"))
        return
    params: Params = ctx.params
    factor = float(params.latency_threshold_factor)
    alarms = ctx.resolved.alarms if ctx.resolved is not None else deployed_alarms(ctx.spec, None, None)
    pattern = ctx.pattern
    if not alarms:
        yield ctx.fail("monitoring.operational.alarms is empty: nobody is paged when the endpoint slows down, fails "
                       "or throttles", at=(*_OPS, "alarms"),
                       fix="define alarms that watch latency (ModelLatency p99), errors (Invocation5XXErrors) and "
                           f"throttles ({_THROTTLE_SIGNAL.get(pattern, 'Invocation4XXErrors')})")
        return

    findings: list[Finding] = []
    seen: dict[str, int] = {}
    for i, deployed in enumerate(alarms):
        alarm, base, label = deployed.alarm, _base(deployed), deployed.label
        if deployed.index is not None:
            if not alarm.name or not alarm.name.strip():
                findings.append(ctx.fail(f"alarm #{i + 1} has no name: rollback settings and the IaC refer to alarms "
                                         "by name", at=base, fix="write `name:` as the CloudWatch AlarmName"))
            elif alarm.name in seen:
                findings.append(ctx.fail(f"alarm name '{alarm.name}' is used by alarms #{seen[alarm.name] + 1} and "
                                         f"#{i + 1}: CloudWatch alarm names are unique, so one would replace the "
                                         "other", at=_under(base, "name"), fix="give each alarm its own name"))
            else:
                seen[alarm.name] = i
        if alarm.watches is None:
            findings.append(ctx.warn(f"alarm {label} does not say what it watches, so it counts for no kind", at=base,
                                     fix="write `watches: latency`, `errors`, `throttles` or `other`"))
        if alarm.watches in KINDS:  # an `other` alarm may watch a metric of the team's own
            findings.extend(_metric_findings(ctx, alarm, base, label, alarm.watches))
        if alarm.watches == "latency":
            findings.extend(_latency_alarm(ctx, alarm, base, label, factor))
        elif alarm.watches in ("errors", "throttles"):
            findings.extend(_rate_alarm(ctx, alarm, base, label, alarm.watches))
        findings.extend(_dimension_findings(ctx, deployed))

    for kind in KINDS:
        group = [a for a in alarms if a.alarm.watches == kind]
        if not group:
            unlabelled = [a.alarm.name for a in alarms if a.alarm.watches is None and a.alarm.metric in _FITS[kind]
                          and a.alarm.name]
            hint = f"; alarm '{unlabelled[0]}' looks like one: add `watches: {kind}`" if unlabelled else ""
            example = _THROTTLE_SIGNAL.get(pattern, _EXAMPLE_METRIC[kind]) if kind == "throttles" \
                else _EXAMPLE_METRIC[kind]
            findings.append(ctx.fail(f"no alarm watches {kind}{hint}", at=(*_OPS, "alarms"),
                                     fix=f"add an alarm with `watches: {kind}` on {example}"))
            continue
        if kind == "errors" and all(a.alarm.metric == "Invocation4XXErrors" for a in group):
            findings.append(ctx.warn(f"the only error alarm is on {_named('Invocation4XXErrors')}: the caller's side "
                                     "of a request; the model's own failures are 5xx responses "
                                     "(Invocation5XXErrors) and model errors (InvocationModelErrors)",
                                     at=_base(group[0]),
                                     fix="add an error alarm on Invocation5XXErrors or InvocationModelErrors"))
    findings.extend(_serverless_latency(ctx, alarms))
    findings.extend(_canary_coverage(ctx, alarms))
    findings.extend(_action_findings(ctx, alarms))
    yield from findings
    if not any(f.status in ("fail", "error") for f in findings):
        for kind in KINDS:
            described = "; ".join(_described(ctx, a, factor) for a in alarms if a.alarm.watches == kind)
            yield ctx.ok(f"{kind} alarmed: {described}", at=(*_OPS, "alarms"))


def _described(ctx: CheckContext, deployed: DeployedAlarm, factor: float) -> str:
    alarm = deployed.alarm
    text = f"'{alarm.name}' on {_named(alarm.metric or '?')} {_threshold_text(ctx, alarm, factor)}"
    if deployed.dimensions is not None and deployed.dimensions.get("VariantName"):
        text += f", variant {deployed.dimensions['VariantName']}"
    if deployed.actions:
        text += f", notifying {', '.join(deployed.actions)}"
    elif deployed.actions is None and deployed.origin == "spec":
        text += " (its dimensions and actions are not in any infrastructure code mlgate reads: unverified)"
    if deployed.at is not None:
        text += f" ({deployed.at.path}:{deployed.at.line})"
    return text


def online(ctx: CheckContext, account: Online) -> Iterator[Finding]:
    """MON004 online: every alarm in monitoring.operational exists in CloudWatch, watches this endpoint with the
    spec's metric, statistic and threshold, and notifies someone."""
    from mlgate.aws.live import alarm_metric

    op = ctx.spec.monitoring.operational if ctx.spec.monitoring else None
    specs = [(i, a) for i, a in enumerate(op.alarms if op else []) if a.name]
    if not specs:
        yield ctx.na("monitoring.operational.alarms names no alarm to look for in the account",
                     at=("monitoring",))
        return
    if ctx.pattern == "batch":
        yield ctx.na("serving.pattern is batch: there are no live invocations to alarm on", at=("serving", "pattern"))
        return
    wrong = account.account_problem(ctx, ("monitoring", "operational", "alarms"))
    if wrong is not None:
        yield wrong
        return
    alarms = account.alarms(ctx)
    endpoint = ctx.spec.serving.endpoint if ctx.spec.serving else None
    region = account.region(ctx)
    problems = 0
    fine = []
    for i, spec_alarm in specs:
        at: PathT = ("monitoring", "operational", "alarms", i)
        name = str(spec_alarm.name)
        alarm = alarms.get(name)
        if alarm is None:
            problems += 1
            yield ctx.fail(f"alarm '{name}' does not exist in CloudWatch{f' ({region})' if region else ''}: nobody is "
                           f"paged when it should fire", at=(*at, "name"),
                           fix="create the alarm (deploy the stack or monitoring code that defines it), or fix its "
                               "name")
            continue
        if alarm.get("composite"):
            fine.append(f"'{name}' (composite)")
            continue
        found = list(_alarm_problems(ctx, spec_alarm, alarm, at, endpoint))
        problems += sum(1 for f in found if f.status == "fail")
        yield from found
        if not any(f.status == "fail" for f in found):
            fine.append(f"'{name}' on {alarm_metric(alarm)}")
    if fine and not problems:
        yield ctx.ok(f"alarms {', '.join(fine)} exist in CloudWatch as monitoring.operational describes them",
                     at=("monitoring", "operational", "alarms"))


def _alarm_problems(ctx: CheckContext, spec_alarm: Any, alarm: dict[str, Any], at: PathT,
                    endpoint: str | None) -> Iterator[Finding]:
    from mlgate.aws.live import alarm_metric, watched_endpoints

    name = spec_alarm.name
    watched = watched_endpoints(alarm)
    if endpoint and endpoint not in watched:
        seen = f"EndpointName {', '.join(sorted(watched))}" if watched else "no EndpointName dimension"
        yield ctx.fail(f"alarm '{name}' watches {alarm_metric(alarm)} with {seen}, not endpoint {endpoint}",
                       at=(*at, "name"), fix=f"put the alarm on endpoint {endpoint} (EndpointName dimension)")
    metric = alarm.get("MetricName")
    if spec_alarm.metric and metric and spec_alarm.metric != metric:
        yield ctx.fail(f"alarm '{name}' is on {metric} in CloudWatch, but the spec says {spec_alarm.metric}",
                       at=(*at, "metric"), fix="make the spec's metric and the alarm's MetricName the same")
    statistic = alarm.get("ExtendedStatistic") or alarm.get("Statistic")
    if spec_alarm.statistic and statistic and str(spec_alarm.statistic).lower() != str(statistic).lower():
        yield ctx.fail(f"alarm '{name}' uses statistic {statistic} in CloudWatch, but the spec says "
                       f"{spec_alarm.statistic}", at=(*at, "statistic"),
                       fix="make the spec's statistic and the alarm's Statistic / ExtendedStatistic the same")
    threshold = alarm.get("Threshold")
    if isinstance(threshold, int | float):
        for field, value in (("threshold_ms", spec_alarm.threshold_ms), ("threshold_rate", spec_alarm.threshold_rate),
                             ("threshold_count", spec_alarm.threshold_count)):
            if value is None:
                continue
            in_microseconds = (metric or spec_alarm.metric) in load_facts().microsecond_metrics
            factor = 1000.0 if field == "threshold_ms" and in_microseconds else 1.0
            if not math.isclose(float(threshold), value * factor, rel_tol=1e-9, abs_tol=1e-9):
                unit = " µs" if factor == 1000 else ""
                shown = f"{value:g} ms, i.e. {value * factor:g} µs" if factor == 1000 else f"{value:g}"
                yield ctx.fail(f"alarm '{name}' fires above {threshold:g}{unit} in CloudWatch, but the spec's "
                               f"{field} is {shown}", at=(*at, field),
                               fix=f"make the alarm's Threshold and {field} agree")
    if not alarm.get("AlarmActions"):
        yield ctx.warn(f"alarm '{name}' has no AlarmActions in CloudWatch: when it fires, nobody is notified",
                       at=(*at, "name"), fix="add an action (an SNS topic that pages the on-call) to the alarm")
    elif alarm.get("ActionsEnabled") is False:
        yield ctx.warn(f"alarm '{name}' has its actions disabled in CloudWatch: when it fires, nobody is notified",
                       at=(*at, "name"), fix="enable the alarm's actions (EnableAlarmActions)")
