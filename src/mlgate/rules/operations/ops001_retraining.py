"""OPS001: retraining has a decided trigger: a valid schedule, or a drift monitor or alarm that exists."""

from __future__ import annotations

from collections.abc import Iterator

from mlgate.checks import CheckContext
from mlgate.result import Finding
from mlgate.rules.params import NoParams
from mlgate.schedules import SCHEDULE_HELP, schedule_problem
from mlgate.spelling import did_you_mean

Params = NoParams  # no parameters

_RETRAIN = ("retraining",)


def check(ctx: CheckContext) -> Iterator[Finding]:
    """Retraining has a decided trigger: a valid schedule, or a drift monitor or alarm that exists."""
    rt = ctx.spec.retraining
    trigger = rt.trigger if rt else None
    if rt is None or trigger is None:
        yield ctx.fail("retraining.trigger is not set: nobody has decided when this model is retrained, so it "
                       "ages until it fails", at=(*_RETRAIN, "trigger"),
                       fix="write `trigger: schedule` with a `schedule: cron(...)`, or `trigger: drift` with the "
                           "`drift_alarm` that starts it")
        return
    if trigger == "manual":
        yield ctx.warn("retraining.trigger is manual: nobody will remember to retrain until the model has already "
                       "drifted", at=(*_RETRAIN, "trigger"),
                       fix="retrain on a schedule (`trigger: schedule`) or when a drift monitor fires "
                           "(`trigger: drift`)")
        return
    if trigger == "schedule":
        at = (*_RETRAIN, "schedule")
        if not rt.schedule or not rt.schedule.strip():
            yield ctx.fail("retraining.trigger is schedule, but retraining.schedule is not set", at=at,
                           fix=f"write a schedule such as {SCHEDULE_HELP}")
            return
        problem = schedule_problem(rt.schedule)
        if problem:
            yield ctx.fail(f"retraining schedule {problem}", at=at, fix=f"write a schedule such as {SCHEDULE_HELP}")
            return
        yield ctx.ok(f"retraining runs on schedule {rt.schedule}", at=at)
        return

    # trigger: drift
    at = (*_RETRAIN, "drift_alarm")
    monitoring = ctx.spec.monitoring
    monitors = {name: getattr(monitoring, name) is not None if monitoring else False
                for name in ("data_drift", "prediction_drift", "ground_truth")}
    alarms = {a.name: a for a in (monitoring.operational.alarms if monitoring and monitoring.operational else [])
              if a.name}
    known = [name for name, configured in monitors.items() if configured] + list(alarms)
    name = (rt.drift_alarm or "").strip()
    if not name:
        yield ctx.fail("retraining.trigger is drift, but retraining.drift_alarm is not set: say which monitor "
                       f"starts retraining ({did_you_mean('', known, 'monitor')})", at=at,
                       fix="write `drift_alarm: data_drift`, `prediction_drift`, or the name of an alarm in "
                           "monitoring.operational.alarms")
        return
    if name in monitors:
        if not monitors[name]:
            yield ctx.fail(f"retraining waits for the {name} monitor, but monitoring.{name} is not configured: "
                           "retraining would never start", at=at,
                           fix=f"configure monitoring.{name}, or name a monitor that exists "
                               f"({', '.join(known) or 'none is configured'})")
            return
        yield ctx.ok(f"retraining starts when the {name} monitor (monitoring.{name}) fires", at=at)
        return
    alarm = alarms.get(name)
    if alarm is None:
        yield ctx.fail(f"retraining waits for '{name}', which is neither a configured drift monitor nor an alarm "
                       f"in monitoring.operational.alarms ({did_you_mean(name, known, 'monitor')}): retraining "
                       "would never start", at=at,
                       fix="name data_drift, prediction_drift, ground_truth or an alarm defined in "
                           "monitoring.operational.alarms")
        return
    if alarm.watches in ("latency", "errors", "throttles"):
        yield ctx.warn(f"retraining starts on alarm '{name}', which watches {alarm.watches}: retraining does not "
                       f"fix {alarm.watches}, and no drift monitor starts it", at=at,
                       fix="start retraining from data_drift, prediction_drift or ground_truth")
        return
    yield ctx.ok(f"retraining starts when alarm '{name}' (monitoring.operational.alarms) fires", at=at)
