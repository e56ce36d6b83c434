"""MON001-MON004 online: data capture as the live endpoint config sets it, the monitoring schedules on the endpoint
(ListMonitoringSchedules, DescribeMonitoringSchedule), and the operational alarms in CloudWatch (DescribeAlarms).
A disagreement with the spec fails with both sides shown.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mlgate.aws.live import alarm_metric, watched_endpoints
from mlgate.facts import load_facts
from mlgate.result import Finding
from mlgate.schedules import frequency
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    from mlgate.aws.live import LiveEndpoint, Online
    from mlgate.checks import CheckContext

_CAPTURE: PathT = ("monitoring", "capture")
def _same_key(spec: str, live: str) -> bool:
    """Whether two KMS key references may be the same key: equal, or of different forms (an alias and a key ARN
    cannot be told apart without kms:DescribeKey, which mlgate does not call)."""
    if spec == live:
        return True
    forms = ["alias" if x.startswith("alias/") or ":alias/" in x else "key" for x in (spec, live)]
    if forms[0] != forms[1]:
        return True
    return spec.rsplit("/", 1)[-1] == live.rsplit("/", 1)[-1]


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def capture(ctx: CheckContext, online: Online) -> Iterator[Finding]:
    """MON001 online: the live endpoint config captures what the spec says, where it says."""
    spec = ctx.spec.monitoring.capture if ctx.spec.monitoring else None
    if spec is None:
        yield ctx.na("monitoring.capture is not in the spec: no capture to compare with the account",
                     at=("monitoring",))
        return
    if ctx.pattern == "serverless":
        yield ctx.na("serving.pattern is serverless, which cannot capture data: nothing to look up",
                     at=("serving", "pattern"))
        return
    found = online.endpoint(ctx, "data capture")
    if isinstance(found, Finding):
        yield found
        return
    live = found
    config = live.capture
    if not config:
        if spec.enabled:
            yield ctx.fail(f"monitoring.capture.enabled is true, but the {live.where} has no DataCaptureConfig: "
                           "nothing is captured", at=(*_CAPTURE, "enabled"),
                           fix="deploy an endpoint config with DataCaptureConfig as the spec describes")
        else:
            yield ctx.ok(f"the {live.where} captures nothing, as monitoring.capture.enabled says", at=_CAPTURE)
        return
    problems: list[Finding] = []
    agreed: list[str] = []

    def compare(field: str, spec_value: Any, live_value: Any, label: str, same: bool) -> None:
        if spec_value is None or live_value is None:
            return
        if same:
            agreed.append(f"{label} {_show(live_value)}")
        else:
            problems.append(ctx.fail(f"monitoring.capture.{field} is {_show(spec_value)}, but the {live.where} has "
                                     f"{label} {_show(live_value)}", at=(*_CAPTURE, field),
                                     fix=f"make monitoring.capture.{field} and the live {label} the same (deploy "
                                         "an endpoint config that matches the spec, or fix the spec)"))

    enabled = config.get("EnableCapture", True)  # the API's default is enabled
    if spec.enabled is not None and bool(enabled) != spec.enabled:
        problems.append(ctx.fail(f"monitoring.capture.enabled is {str(spec.enabled).lower()}, but the {live.where} "
                                 f"has EnableCapture {str(bool(enabled)).lower()}", at=(*_CAPTURE, "enabled"),
                                 fix="make the spec and the live endpoint config agree"))
    elif enabled:
        agreed.append("EnableCapture true")
    if live.capture_status == "Stopped" and spec.enabled:
        problems.append(ctx.fail(f"the {live.where} reports CaptureStatus Stopped: capture is configured but "
                                 "stopped", at=(*_CAPTURE, "enabled"),
                                 fix="start capture again (UpdateEndpoint with the config)"))
    sampling = config.get("InitialSamplingPercentage")
    compare("sampling_percent", spec.sampling_percent, sampling, "InitialSamplingPercentage",
            spec.sampling_percent is not None and isinstance(sampling, int | float)
            and math.isclose(float(sampling), float(spec.sampling_percent)))
    destination = config.get("DestinationS3Uri")
    compare("destination", spec.destination, destination, "DestinationS3Uri",
            str(spec.destination).rstrip("/") == str(destination).rstrip("/"))
    key = config.get("KmsKeyId")
    if spec.kms_key and not key:
        problems.append(ctx.fail(f"monitoring.capture.kms_key is {spec.kms_key}, but the {live.where} captures "
                                 "with no KmsKeyId (S3's default encryption only)", at=(*_CAPTURE, "kms_key"),
                                 fix="set DataCaptureConfig.KmsKeyId to the spec's key"))
    else:
        compare("kms_key", spec.kms_key, key, "KmsKeyId", _same_key(str(spec.kms_key), str(key)))
    modes = {str(o.get("CaptureMode")) for o in config.get("CaptureOptions") or []}
    if modes:
        for field, mode in (("inputs", "Input"), ("outputs", "Output")):
            wanted = getattr(spec, field)
            has = mode in modes or "InputAndOutput" in modes
            if wanted is not None:
                compare(field, wanted, has, f"CaptureOptions ({', '.join(sorted(modes))}) capturing {field}:",
                        wanted == has)
    yield from problems
    if not problems:
        yield ctx.ok(f"the {live.where} captures as the spec says: {'; '.join(agreed)}", at=_CAPTURE)


def _schedules(ctx: CheckContext, online: Online, live: LiveEndpoint) -> list[dict[str, Any]]:
    """The monitoring schedules on the endpoint, each described (expression, type, baseline, status)."""
    summaries = online.session.pages("sagemaker", "ListMonitoringSchedules", "MonitoringScheduleSummaries",
                                     region=live.region, target=f"monitoring schedules of endpoint {live.name}",
                                     EndpointName=live.name)
    described = []
    for summary in summaries:
        name = str(summary.get("MonitoringScheduleName"))
        described.append(online.session.call("sagemaker", "DescribeMonitoringSchedule", region=live.region,
                                             target=f"monitoring schedule {name}", MonitoringScheduleName=name))
    return described


def _schedule_facts(schedule: dict[str, Any]) -> tuple[str, str, str | None, str | None]:
    """(name, type, expression, baseline statistics uri) of a described monitoring schedule."""
    config = schedule.get("MonitoringScheduleConfig") or {}
    kind = str(schedule.get("MonitoringType") or config.get("MonitoringType") or "DataQuality")
    expression = (config.get("ScheduleConfig") or {}).get("ScheduleExpression")
    baseline = ((((config.get("MonitoringJobDefinition") or {}).get("BaselineConfig") or {})
                 .get("StatisticsResource") or {}).get("S3Uri"))
    return str(schedule.get("MonitoringScheduleName")), kind, expression, baseline


def _describe(schedule: dict[str, Any]) -> str:
    name, kind, expression, _ = _schedule_facts(schedule)
    return f"'{name}' ({kind}, {schedule.get('MonitoringScheduleStatus', '?')}, {expression or 'no expression'})"


def data_drift(ctx: CheckContext, online: Online) -> Iterator[Finding]:
    """MON002 online: a data quality schedule runs on the endpoint, at the spec's frequency, on the spec's
    baseline."""
    drift = ctx.spec.monitoring.data_drift if ctx.spec.monitoring else None
    if drift is None:
        yield ctx.na("monitoring.data_drift is not in the spec: no drift monitor to look for in the account",
                     at=("monitoring",))
        return
    found = online.endpoint(ctx, "monitoring schedules")
    if isinstance(found, Finding):
        yield found
        return
    schedules = _schedules(ctx, online, found)
    base: PathT = ("monitoring", "data_drift")
    quality = [s for s in schedules if _schedule_facts(s)[1] == "DataQuality"]
    if not quality:
        listed = ", ".join(_describe(s) for s in schedules) or "none"
        yield ctx.fail(f"no data quality monitoring schedule runs on the {found.where} (schedules: {listed}): the "
                       "data drift monitor the spec describes does not exist", at=base,
                       fix="create the data quality monitoring schedule on this endpoint (CreateMonitoringSchedule, "
                           "MonitoringType DataQuality) with the spec's baseline and schedule")
        return
    problems = 0
    for schedule in quality:
        name, _, expression, baseline = _schedule_facts(schedule)
        status = schedule.get("MonitoringScheduleStatus")
        if status and status != "Scheduled":
            problems += 1
            yield ctx.fail(f"data quality schedule '{name}' on the {found.where} is {status}, not Scheduled: it "
                           "does not run", at=base, fix="start the monitoring schedule (StartMonitoringSchedule)")
        if drift.schedule and expression and frequency(drift.schedule) != frequency(expression):
            problems += 1
            yield ctx.fail(f"monitoring.data_drift.schedule is {drift.schedule}, but data quality schedule '{name}' "
                           f"runs {expression}", at=(*base, "schedule"),
                           fix="make the schedule's ScheduleExpression and monitoring.data_drift.schedule the same")
        if drift.baseline and baseline and drift.baseline != baseline:
            problems += 1
            yield ctx.fail(f"monitoring.data_drift.baseline is {drift.baseline}, but data quality schedule "
                           f"'{name}' compares with {baseline}", at=(*base, "baseline"),
                           fix="point the schedule's baseline statistics at the spec's baseline, or fix the spec")
    if not problems:
        yield ctx.ok(f"data quality monitoring runs on the {found.where}: "
                     f"{', '.join(_describe(s) for s in quality)}", at=base)


def prediction_drift(ctx: CheckContext, online: Online) -> Iterator[Finding]:
    """MON003 online: a monitoring schedule on the endpoint runs at the prediction drift schedule's frequency."""
    drift = ctx.spec.monitoring.prediction_drift if ctx.spec.monitoring else None
    if drift is None or not drift.schedule:
        yield ctx.na("monitoring.prediction_drift.schedule is not in the spec: no monitor to look for in the "
                     "account", at=("monitoring",))
        return
    found = online.endpoint(ctx, "monitoring schedules")
    if isinstance(found, Finding):
        yield found
        return
    schedules = _schedules(ctx, online, found)
    at: PathT = ("monitoring", "prediction_drift", "schedule")
    running = [s for s in schedules if s.get("MonitoringScheduleStatus") in (None, "Scheduled")]
    matching = [s for s in running if _schedule_facts(s)[2] and
                frequency(str(_schedule_facts(s)[2])) == frequency(drift.schedule)]
    if not matching:
        listed = ", ".join(_describe(s) for s in schedules) or "none"
        yield ctx.fail(f"monitoring.prediction_drift.schedule is {drift.schedule}, but no running monitoring "
                       f"schedule on the {found.where} runs then (schedules: {listed})", at=at,
                       fix="schedule the prediction drift monitor on this endpoint (a model quality or custom "
                           "monitoring schedule), or fix monitoring.prediction_drift.schedule")
        return
    yield ctx.ok(f"monitoring on the {found.where} runs {drift.schedule} as monitoring.prediction_drift says: "
                 f"{', '.join(_describe(s) for s in matching)}", at=at)


def operational(ctx: CheckContext, online: Online) -> Iterator[Finding]:
    """MON004 online: every alarm in monitoring.operational exists in CloudWatch, watches this endpoint with the
    spec's metric, statistic and threshold, and notifies someone."""
    op = ctx.spec.monitoring.operational if ctx.spec.monitoring else None
    specs = [(i, a) for i, a in enumerate(op.alarms if op else []) if a.name]
    if not specs:
        yield ctx.na("monitoring.operational.alarms names no alarm to look for in the account",
                     at=("monitoring",))
        return
    if ctx.pattern == "batch":
        yield ctx.na("serving.pattern is batch: there are no live invocations to alarm on", at=("serving", "pattern"))
        return
    wrong = online.account_problem(ctx, ("monitoring", "operational", "alarms"))
    if wrong is not None:
        yield wrong
        return
    alarms = online.alarms(ctx)
    endpoint = ctx.spec.serving.endpoint if ctx.spec.serving else None
    region = online.region(ctx)
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
