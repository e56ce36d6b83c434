"""Deployment guardrails as the rollout rules judge them: what an endpoint's DeploymentConfig does to the traffic.

SageMaker rolls a new model out in one of two ways (facts `rollout`):
- **weights**: the new and the previous variant sit side by side in one endpoint config, and
  UpdateEndpointWeightsAndCapacities moves the traffic between them; it takes no alarms, so nothing rolls back by
  itself;
- **guardrails**: UpdateEndpoint with a DeploymentConfig replaces the fleet under the same variant name, blue/green
  (ALL_AT_ONCE, CANARY, LINEAR) or rolling, and rolls back on its alarms while the update runs.

A step of a traffic shift activates capacity, i.e. whole instances of the variant: a canary of 5 % of 2 instances
is one instance, half the traffic. `plan` turns a DeploymentConfig and the variant's instance count into the share
of traffic after each step, with a finding for every API limit it breaks; `expressible` says whether a ramp written
in the spec can be a CANARY or LINEAR shift at all, and what can.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator
from dataclasses import dataclass

from mlgate.checks import CheckContext
from mlgate.evidence.iac.model import Size, TrafficPolicy, Value, show
from mlgate.facts import Exclusion, load_facts
from mlgate.result import Finding, Location
from mlgate.units import format_duration

Mechanism = str  # "weights" | "guardrails"

_SIZE_LABEL = {"CANARY": "CanarySize", "LINEAR": "LinearStepSize", "ROLLING": "MaximumBatchSize"}


@dataclass(frozen=True)
class Shift:
    """What a DeploymentConfig does to one variant's traffic: the new fleet's share after each step (percent)."""

    kind: str  # ALL_AT_ONCE | CANARY | LINEAR | ROLLING
    shares: tuple[float, ...] | None  # None: the step size or the instance count is known only at deploy time
    step: str  # how a step is sized, for messages
    wait_s: float | None
    at: Location

    @property
    def ramp(self) -> str:
        return " → ".join(f"{s:.3g}" for s in self.shares) + " %" if self.shares else "unknown"


def activated(percent: float, instances: int) -> int:
    """The instances a CAPACITY_PERCENT step activates: whole instances, at least one (rounded down above one: the
    API does not document the rounding, and the findings say so where it matters)."""
    return max(1, math.floor(percent * instances / 100))


def step_share(percent: float, instances: int | None) -> float:
    """The share of a variant's traffic a CAPACITY_PERCENT step moves: whole instances of it, when the count is
    known (5 % of 2 instances is 1 instance, 50 %); the written percent otherwise, or on one instance, where no
    step is valid (plan reports it)."""
    if not instances or instances < 2:
        return percent
    return 100 * activated(percent, instances) / instances


def mechanism(ctx: CheckContext) -> tuple[Mechanism | None, str]:
    """The rollout mechanism the deployment uses, and where that was read (for messages)."""
    rollout = ctx.spec.rollout
    value = rollout.mechanism if rollout else None
    fact = ctx.resolved.fact(("rollout", "mechanism")) if ctx.resolved is not None else None
    if fact is not None and fact.origin in ("code", "spec+code") and not fact.unknown:
        return value, f"{fact.at.path}:{fact.at.line}"
    if value is not None:
        return value, f"rollout.mechanism: {value}"
    return None, ""


def _number(value: Value | None) -> float | None:
    if value is None or not value.known or isinstance(value.value, bool):
        return None
    try:
        return float(value.value)
    except (TypeError, ValueError):
        return None


def _pct(value: float) -> str:
    return f"{value:.3g}"


def _instances(count: float) -> str:
    return f"{count:g} instance{'' if count == 1 else 's'}"


def excluded(ctx: CheckContext, kind: str | None) -> list[Exclusion]:
    """The guardrail exclusions that apply to this deployment (Inf1 instances for every policy; serverless and
    multi-variant endpoints for a rolling update)."""
    facts = load_facts().rollout
    found = []
    instance_type = ctx.spec.serving.instance_type if ctx.spec.serving else None
    if instance_type and instance_type.startswith("ml.inf1."):
        found.append(facts.excluded("inf1"))
    if kind == "ROLLING":
        if ctx.pattern == "serverless":
            found.append(facts.excluded("rolling_serverless"))
        variants = ctx.resolved.variants if ctx.resolved is not None else None
        if variants is not None and len(variants) > 1:
            found.append(facts.excluded("rolling_multi_variant"))
    return found


def marketplace_unknown(ctx: CheckContext, how: str) -> Finding | None:
    """A warning when the new model's container is made from a model package the code does not define: an AWS
    Marketplace subscription would take the endpoint out of deployment guardrails, and nothing documented in the
    code tells one from the account's own package (facts: the marketplace exclusion's note), so it is unknown."""
    package = ctx.resolved.model_package if ctx.resolved is not None else None
    if package is None:
        return None
    facts = load_facts()
    excl = facts.rollout.excluded("marketplace")
    written = f"'{package.text}'" if package.known else f"{package.text} ({package.unknown})"
    return ctx.warn(f"the rollout uses deployment guardrails ({how}) and the new model's container is made from "
                    f"model package {written} ({package.where()}): if that is a model package subscribed to on AWS "
                    f"Marketplace, guardrails do not apply ({facts.cite(excl)}) and the declared canary is no canary. "
                    "Whether it is cannot be told from the code: unknown", at=package.at,
                    fix="confirm the model package is the account's own (e.g. a model registry version); if it is a "
                        "Marketplace subscription, ramp variant weights with UpdateEndpointWeightsAndCapacities "
                        "(rollout.mechanism: weights)")


def plan(ctx: CheckContext, policy: TrafficPolicy, instances: dict[str, int | None], variant: str | None, *,
         say_share: bool) -> Generator[Finding, None, tuple[Shift | None, int]]:
    """Findings for every API limit the DeploymentConfig breaks, for each production variant it updates; returns
    the shift of `variant` (the new model's; None when the policy type is known only at deploy time) and how many
    limits failed. `say_share`: warn where a percentage step activates another share of the traffic than it says."""
    failed = 0
    steps = _plan(ctx, policy, instances, variant, say_share=say_share)
    while True:
        try:
            finding = next(steps)
        except StopIteration as done:
            return done.value, failed
        failed += finding.status == "fail"
        yield finding


def _plan(ctx: CheckContext, policy: TrafficPolicy, instances: dict[str, int | None], variant: str | None, *,
          say_share: bool) -> Generator[Finding, None, Shift | None]:
    facts = load_facts().rollout
    kind_value = policy.type
    if kind_value is None:
        return None
    if not kind_value.known:
        yield ctx.warn(f"the DeploymentConfig's traffic shift is {kind_value.text} ({kind_value.unknown}; "
                       f"{kind_value.where()}): mlgate cannot tell how the new fleet takes the traffic",
                       at=kind_value.at, fix="write the TrafficRoutingConfiguration Type in the code")
        return None
    kind = show(kind_value.value)
    wait = _number(policy.wait_s)
    if wait is not None and not facts.wait_interval_s_min.value <= wait <= facts.wait_interval_s_max.value:
        yield ctx.fail(f"WaitIntervalInSeconds is {wait:g} ({policy.wait_s.where() if policy.wait_s else ''}), "
                       f"outside {facts.wait_interval_s_min.value:g}-{facts.wait_interval_s_max.value:g} "
                       f"({load_facts().cite(facts.wait_interval_s_max)}): SageMaker rejects the update",
                       at=policy.wait_s.at if policy.wait_s else policy.at,
                       fix="bake at most 1h per step (WaitIntervalInSeconds 3600); for longer bakes, ramp variant "
                           "weights with UpdateEndpointWeightsAndCapacities")
    termination = _number(policy.termination_wait_s)
    if termination is not None and not 0 <= termination <= facts.termination_wait_s_max.value:
        yield ctx.fail(f"TerminationWaitInSeconds is {termination:g}, outside 0-"
                       f"{facts.termination_wait_s_max.value:g} ({load_facts().cite(facts.termination_wait_s_max)})",
                       at=policy.termination_wait_s.at if policy.termination_wait_s else policy.at,
                       fix="keep the old fleet at most 3600 s after the shift")
    chosen: Shift | None = None
    names: list[str | None] = [*instances] or [None]
    for name in names:
        count = instances.get(name) if name is not None else None
        shift = yield from _variant_shift(ctx, policy, kind, name, count, wait, many=len(names) > 1,
                                          say_share=say_share)
        if name == variant or chosen is None:
            chosen = shift
    if chosen is not None and chosen.shares:
        yield from _timeout(ctx, policy, chosen, wait, termination)
    return chosen


def _variant_shift(ctx: CheckContext, policy: TrafficPolicy, kind: str, name: str | None, count: int | None,
                   wait: float | None, *, many: bool, say_share: bool) -> Generator[Finding, None, Shift]:
    facts = load_facts()
    limits = facts.rollout
    of = f" of variant '{name}'" if many and name else ""
    if kind == "ALL_AT_ONCE":
        return Shift(kind, (100.0,), "all at once", wait, policy.at)
    label = _SIZE_LABEL.get(kind, kind)
    size: Size | None = policy.size
    if size is None or size.value is None:
        return Shift(kind, None, f"no {label} written", wait, policy.at)
    unknown = next((v for v in (size.value, size.type) if v is not None and not v.known), None)
    if unknown is not None:
        yield ctx.warn(f"{label} is {unknown.text} ({unknown.unknown}; {unknown.where()}): mlgate cannot tell what "
                       "share of the traffic each step moves", at=unknown.at,
                       fix="write the step size in the code, so the ramp can be checked before it runs")
        return Shift(kind, None, f"{label} {unknown.text}", wait, policy.at)
    value = _number(size.value) or 0.0
    by_count = size.type is not None and show(size.type.value) == "INSTANCE_COUNT"
    written = f"{label} {value:g} instance{'s' if value != 1 else ''}" if by_count else f"{label} {value:g} %"
    at = size.value.at
    if count is None or count < 1:
        if by_count:
            return Shift(kind, None, f"{written} of an instance count known only at deploy time", wait, at)
        declared = value
        low = high = None
    else:
        exact = value if by_count else value * count / 100
        low, high = (int(exact), int(exact)) if by_count else (activated(value, count), max(1, math.ceil(exact)))
        declared = 100 * value / count if by_count else value
    lo_pct, hi_pct = limits.canary_size_max_percent, limits.canary_size_max_percent
    lo_ok = 0.0
    if kind == "LINEAR":
        lo_pct, hi_pct = limits.linear_step_min_percent, limits.linear_step_max_percent
        lo_ok = lo_pct.value
    elif kind == "ROLLING":
        lo_pct, hi_pct = limits.rolling_batch_min_percent, limits.rolling_batch_max_percent
        lo_ok = lo_pct.value
    cite = facts.cite(hi_pct)
    fleet = f" of {_instances(count)}" if count else ""
    if low is not None and count is not None and high is not None:
        share_lo, share_hi = 100 * low / count, 100 * high / count
        shown = _pct(share_lo) if low == high else f"{_pct(share_lo)}-{_pct(share_hi)}"
        step = f"{written}{fleet}{of} = {_instances(low) if low == high else f'{low}-{high} instances'} " \
               f"({shown} % of {'its' if many else 'the'} traffic)"
        if high > count / 2 or share_lo > hi_pct.value:
            what = "the canary" if kind == "CANARY" else "each step"
            yield ctx.fail(f"{step}: {what} is {_pct(share_lo)} % of the variant's capacity, above the "
                           f"{hi_pct.value:g} % the API allows ({cite}); "
                           + ("a variant of 1 instance cannot hold a canary, since a step activates whole instances"
                              if count == 1 else "SageMaker rejects the update"),
                           at=at, fix=_size_fix(kind, count))
        elif declared < lo_ok:
            yield ctx.fail(f"{step}: {label} {_pct(declared)} % is below the {lo_ok:g} % the API allows ({cite})",
                           at=at, fix=_size_fix(kind, count))
        elif say_share and not by_count and abs(share_lo - value) > 0.5:
            yield ctx.warn(f"{step}: a step activates whole instances ({facts.cite(limits.capacity_unit_instances)}),"
                           f" so the {'canary' if kind == 'CANARY' else 'step'} takes {shown} %, not "
                           f"{value:g} %", at=at,
                           fix=f"write the step as {label} {{Type: INSTANCE_COUNT, Value: {low}}} so the template "
                               "says what it does, or add instances for a smaller share")
        shares = _shares(kind, 100 * low / count)
        return Shift(kind, shares, step, wait, at)
    if not lo_ok <= declared <= hi_pct.value:
        yield ctx.fail(f"{written}{of} is outside the {lo_ok:g}-{hi_pct.value:g} % the API allows ({cite})", at=at,
                       fix=_size_fix(kind, None))
    return Shift(kind, _shares(kind, declared), written, wait, at)


def _shares(kind: str, first: float) -> tuple[float, ...]:
    if kind == "CANARY" or first <= 0:
        return (min(first, 100.0), 100.0) if first < 100 else (100.0,)
    count = math.ceil(100 / first - 1e-9)
    return tuple(min(100.0, first * (i + 1)) for i in range(count))


def _size_fix(kind: str, count: int | None) -> str:
    if kind == "CANARY":
        if count is not None and count < 2:
            return "run the variant on at least 2 instances so one instance can be the canary, or ramp variant " \
                   "weights with UpdateEndpointWeightsAndCapacities"
        return "make the canary at most half the variant's instances: CanarySize {Type: INSTANCE_COUNT, Value: 1}"
    if kind == "LINEAR":
        return "make each linear step 10-50 % of the variant's instances"
    return "make each rolling batch 5-50 % of the variant's instances"


def _timeout(ctx: CheckContext, policy: TrafficPolicy, shift: Shift, wait: float | None,
             termination: float | None) -> Iterator[Finding]:
    facts = load_facts()
    limits = facts.rollout
    timeout = _number(policy.max_timeout_s)
    if timeout is None or policy.max_timeout_s is None:
        return
    at = policy.max_timeout_s.at
    low, high = limits.max_execution_timeout_s_min.value, limits.max_execution_timeout_s_max.value
    if not low <= timeout <= high:
        yield ctx.fail(f"MaximumExecutionTimeoutInSeconds is {timeout:g}, outside {low:g}-{high:g} "
                       f"({facts.cite(limits.max_execution_timeout_s_max)}): SageMaker rejects the update", at=at,
                       fix=f"set MaximumExecutionTimeoutInSeconds between {low:g} and {high:g}")
        return
    steps = len(shift.shares or ())
    waits = (wait or 0) * max(steps - 1, 0) + (termination or 0)
    if timeout <= waits:
        yield ctx.fail(f"MaximumExecutionTimeoutInSeconds is {timeout:g} s, not longer than the waits of the "
                       f"{shift.kind} shift ({steps - 1} × WaitIntervalInSeconds {wait or 0:g} + "
                       f"TerminationWaitInSeconds {termination or 0:g} = {waits:g} s; "
                       f"{facts.cite(limits.timeout_exceeds_waits)}): the update times out and rolls back before "
                       "it can finish", at=at,
                       fix=f"raise MaximumExecutionTimeoutInSeconds above {waits:g} (plus the time instances take "
                           f"to start), at most {high:g}")


def expressible(steps: list[float], bake_s: float | None, instances: int | None) -> str | None:
    """None when a CANARY or LINEAR shift can run the spec's ramp and bake; else what can, for the message."""
    limits = load_facts().rollout
    max_wait = limits.wait_interval_s_max.value
    unit = 100 / instances if instances else None
    problems = []
    if bake_s is not None and bake_s > max_wait:
        problems.append(f"a step bakes at most WaitIntervalInSeconds {max_wait:g} ({format_duration(max_wait)}), "
                        f"not {format_duration(bake_s)}")
    shape = _shape(steps, unit)
    if shape is None:
        problems.append("CANARY shifts in two steps ([canary, 100], the canary at most half the instances) and "
                        "LINEAR in equal steps of 10-50 % of the instances")
    if not problems:
        return None
    bake = format_duration(min(bake_s or max_wait, max_wait))
    first = steps[0] if steps else 10.0
    canary = max(first, unit or 0.0)
    linear = min(max(first, 10.0, unit or 0.0), 50.0)
    if unit:
        linear = min(50.0, unit * math.ceil(linear / unit - 1e-9))
    options = []
    if canary <= limits.canary_size_max_percent.value:
        options.append(f"CANARY `steps: [{_pct(canary)}, 100], bake_time: {bake}`")
    options.append(f"LINEAR `steps: [{', '.join(_pct(s) for s in _shares('LINEAR', linear))}], bake_time: {bake}`")
    of = f" on {_instances(instances)}" if instances else ""
    return "; ".join(problems) + f". What guardrails can run{of}: " + " or ".join(options) + \
        "; or ramp with variant weights (rollout.mechanism: weights)"


def _shape(steps: list[float], unit: float | None) -> str | None:
    """The shift kind that runs exactly these steps, or None."""
    limits = load_facts().rollout
    if steps == [100]:
        return "ALL_AT_ONCE"
    if not steps or steps[-1] != 100:
        return None
    if unit is not None and any(abs(s / unit - round(s / unit)) > 1e-6 for s in steps):
        return None  # a step activates whole instances
    if len(steps) == 2 and steps[0] <= limits.canary_size_max_percent.value:
        return "CANARY"
    step = steps[0]
    if limits.linear_step_min_percent.value <= step <= limits.linear_step_max_percent.value \
            and list(_shares("LINEAR", step)) == steps:
        return "LINEAR"
    return None
