"""MON003: a statistic of the model's outputs is watched against the band it holds on healthy traffic, on a valid
schedule; with --aws, a monitoring schedule on the endpoint runs at that frequency."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mlgate.checks import CheckContext
from mlgate.result import Finding
from mlgate.rules.monitoring._shared import num, required_section, schedule_findings
from mlgate.rules.params import OnlineParams
from mlgate.schedules import frequency
from mlgate.spec.models import PredictionDrift
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    from mlgate.aws.live import Online



class Params(OnlineParams):
    """Only the online check's `aws_missing_endpoint`."""


_PRED = ("monitoring", "prediction_drift")
# Output statistics that are fractions of the predictions (a share of a class, a mean probability).
_FRACTION_NAME = re.compile(r"(?:^|_)(?:rate|share|fraction|proportion|probability|prob)$")


def check(ctx: CheckContext) -> Iterator[Finding]:
    """A statistic of the model's output distribution is watched against an expected band, on a schedule."""
    pd: PredictionDrift | None = yield from required_section(
        ctx, "prediction_drift", "a model whose answers shift (everything scored as fraud, or nothing) goes "
        "unnoticed until the business does",
        fix="add monitoring.prediction_drift with a metric of the outputs (e.g. positive_rate), expected: [low, high] "
            "and a schedule")
    if pd is None:
        return
    problems = 0
    metric = (pd.metric or "").strip()
    if not metric:
        problems += 1
        yield ctx.fail("monitoring.prediction_drift.metric is not set: say which statistic of the outputs is "
                       "watched", at=(*_PRED, "metric"),
                       fix="write a metric of the output distribution, e.g. `metric: positive_rate` or `mean_score`")
    band_at = (*_PRED, "expected")
    expected = list(pd.expected)
    if not expected:
        problems += 1
        yield ctx.fail("monitoring.prediction_drift.expected is not set: without an expected band no value is "
                       "ever wrong", at=band_at, fix="write `expected: [low, high]`, the range the metric stays in "
                                                     "on healthy traffic")
    elif len(expected) != 2:
        problems += 1
        count = f"{len(expected)} value{'' if len(expected) == 1 else 's'}"
        yield ctx.fail(f"prediction_drift.expected has {count}, not [low, high]", at=band_at,
                       fix="write exactly two numbers: `expected: [low, high]`")
    else:
        low, high = expected
        if not (math.isfinite(low) and math.isfinite(high)):
            problems += 1
            yield ctx.fail(f"prediction_drift.expected [{num(low)}, {num(high)}] is not a finite band: an "
                           "infinite or NaN bound never alerts", at=band_at, fix="write two finite numbers")
        elif not low < high:
            problems += 1
            fix = f"write `expected: [{num(high)}, {num(low)}]`" if low > high else \
                "widen the band to the range the metric holds on healthy traffic, with low < high"
            yield ctx.fail(f"prediction_drift.expected [{num(low)}, {num(high)}]: the low bound is not below the "
                           "high bound", at=band_at, fix=fix)
        elif metric and _FRACTION_NAME.search(metric.lower()) and (low < 0 or high > 1):
            yield ctx.warn(f"'{metric}' reads as a fraction of the predictions, but the expected band "
                           f"[{num(low)}, {num(high)}] reaches outside [0, 1]", at=band_at,
                           fix="write the band as fractions (2 % is 0.02)")
    schedule = list(schedule_findings(ctx, pd.schedule, (*_PRED, "schedule"), "the prediction drift monitor"))
    problems += len(schedule)
    yield from schedule
    if not problems:
        low, high = expected
        yield ctx.ok(f"prediction drift: {metric} is expected in [{num(low)}, {num(high)}], checked on schedule "
                     f"{pd.schedule}", at=_PRED)


def online(ctx: CheckContext, account: Online) -> Iterator[Finding]:
    """MON003 online: a monitoring schedule on the endpoint runs at the prediction drift schedule's frequency."""
    from mlgate.aws.monitoring import describe_schedule, endpoint_schedules, schedule_facts

    drift = ctx.spec.monitoring.prediction_drift if ctx.spec.monitoring else None
    if drift is None or not drift.schedule:
        yield ctx.na("monitoring.prediction_drift.schedule is not in the spec: no monitor to look for in the "
                     "account", at=("monitoring",))
        return
    found = account.live_endpoint(ctx, "monitoring schedules")
    schedules = endpoint_schedules(ctx, account, found)
    at: PathT = ("monitoring", "prediction_drift", "schedule")
    running = [s for s in schedules if s.get("MonitoringScheduleStatus") in (None, "Scheduled")]
    matching = [s for s in running if schedule_facts(s)[2] and
                frequency(str(schedule_facts(s)[2])) == frequency(drift.schedule)]
    if not matching:
        listed = ", ".join(describe_schedule(s) for s in schedules) or "none"
        yield ctx.fail(f"monitoring.prediction_drift.schedule is {drift.schedule}, but no running monitoring "
                       f"schedule on the {found.where} runs then (schedules: {listed})", at=at,
                       fix="schedule the prediction drift monitor on this endpoint (a model quality or custom "
                           "monitoring schedule), or fix monitoring.prediction_drift.schedule")
        return
    yield ctx.ok(f"monitoring on the {found.where} runs {drift.schedule} as monitoring.prediction_drift says: "
                 f"{', '.join(describe_schedule(s) for s in matching)}", at=at)
