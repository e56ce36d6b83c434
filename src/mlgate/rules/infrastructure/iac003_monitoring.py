"""IAC003: what the infrastructure code monitors is what the spec describes (data capture, the data drift schedule
and baseline, the operational alarms on this endpoint)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlgate.checks import CheckContext
from mlgate.deployment.alarms import watches
from mlgate.evidence.iac.model import Endpoint, EndpointConfig, MonitoringSchedule, Value, names, show
from mlgate.facts import load_facts
from mlgate.result import Finding
from mlgate.rules.infrastructure._judge import Judge, Target, compared_target, iac_fact, unknown_fix
from mlgate.rules.params import NoParams
from mlgate.schedules import frequency
from mlgate.yamlload import PathT

Params = NoParams  # no parameters


def check(ctx: CheckContext) -> Iterator[Finding]:
    """What the infrastructure code monitors is what the spec describes: data capture, the data drift schedule and
    baseline, and the operational alarms on this endpoint."""
    target, early = compared_target(ctx, "serving.pattern is batch: there is no endpoint to capture from or alarm "
                                         "on")
    if target is None:
        yield from early
        return
    judge = Judge(ctx, target.kind)
    unknown = (target.config.capture_unknown or target.config.unknown) if target.config is not None else None
    if target.config is not None and unknown:
        judge.warn(f"data capture of endpoint config {target.config.id} cannot be known before deployment: "
                   f"{unknown}", at=("monitoring", "capture"), fix=unknown_fix(target.kind))
    elif target.config is not None:
        _capture(ctx, judge, target, target.config)
    _schedules(ctx, judge, target)
    _operational(ctx, judge, target)
    yield from judge.close(("monitoring",), target.origin, target.selection.how)


def _capture(ctx: CheckContext, judge: Judge, target: Target, config: EndpointConfig) -> None:
    spec = ctx.spec.monitoring.capture if ctx.spec.monitoring else None
    base: PathT = ("monitoring", "capture")
    capture = config.capture
    where = f"endpoint config {config.id} ({config.at.path}:{config.at.line})"
    if capture is None:
        if spec is not None and spec.enabled:
            judge.fail(f"monitoring.capture.enabled is true, but {where} has no DataCaptureConfig: nothing is "
                       "captured", at=(*base, "enabled"),
                       fix="add DataCaptureConfig (EnableCapture, InitialSamplingPercentage, DestinationS3Uri, "
                           "CaptureOptions Input and Output) to the endpoint config")
        return
    # EnableCapture unwritten: the API's default is enabled; Terraform's provider defaults enable_capture to false.
    default = Value(target.kind != "terraform", capture.at,
                    source="EnableCapture not written: " + ("the API's default is enabled" if target.kind !=
                                                            "terraform" else "the provider's default is false"))
    judge.compare("DataCaptureConfig.EnableCapture", spec.enabled if spec else None, (*base, "enabled"),
                  capture.enabled, default=default, fix="make monitoring.capture.enabled and EnableCapture the same")
    judge.compare("DataCaptureConfig.InitialSamplingPercentage", spec.sampling_percent if spec else None,
                  (*base, "sampling_percent"), capture.sampling_percent,
                  fix="make monitoring.capture.sampling_percent and InitialSamplingPercentage the same")
    judge.compare("DataCaptureConfig.DestinationS3Uri", spec.destination if spec else None, (*base, "destination"),
                  capture.destination, equal=lambda a, b: str(a).rstrip("/") == str(b).rstrip("/"),
                  fix="make monitoring.capture.destination and DestinationS3Uri the same")
    judge.compare("DataCaptureConfig.KmsKeyId", spec.kms_key if spec else None, (*base, "kms_key"), capture.kms_key,
                  equal=_same_key, fix="make monitoring.capture.kms_key and KmsKeyId name the same key",
                  absent=f"monitoring.capture.kms_key is {spec.kms_key if spec else None}, but the DataCaptureConfig "
                         f"({capture.at.path}:{capture.at.line}) sets no KmsKeyId: captured data is not encrypted "
                         "with that key")
    if capture.modes:
        unknown = next((m for m in capture.modes if not m.known), None)
        if unknown is None:
            modes = {show(m.value) for m in capture.modes}
            first = capture.modes[0]
            for field_, mode in (("inputs", "Input"), ("outputs", "Output")):
                has = mode in modes or "InputAndOutput" in modes
                judge.compare(f"CaptureOptions ({', '.join(sorted(modes))}) capturing {field_}",
                              getattr(spec, field_) if spec else None, (*base, field_),
                              Value(has, first.at), shown=None,
                              fix=f"make monitoring.capture.{field_} and the CaptureMode {mode} agree")


def _same_key(spec: Any, iac: Any) -> bool:
    a, b = str(spec), str(iac)
    if a == b:
        return True
    # an alias and a key ARN (or a key id) may be the same key: only two of the same form can be told apart
    forms = [("alias" if x.startswith("alias/") or ":alias/" in x else "key") for x in (a, b)]
    if forms[0] != forms[1]:
        return True
    return a.rsplit("/", 1)[-1] == b.rsplit("/", 1)[-1] and (a.startswith("arn:") != b.startswith("arn:"))


def _for_endpoint(schedule: MonitoringSchedule, endpoint: Endpoint) -> bool | None:
    if schedule.endpoint is None:
        return None
    if names(schedule.endpoint, endpoint.id, endpoint.name):
        return True
    if not schedule.endpoint.known or endpoint.name is None or not endpoint.name.known:
        return None
    return False


def _schedules(ctx: CheckContext, judge: Judge, target: Target) -> None:
    drift = ctx.spec.monitoring.data_drift if ctx.spec.monitoring else None
    base: PathT = ("monitoring", "data_drift")
    mine = [s for s in target.infra.schedules if _for_endpoint(s, target.endpoint) is not False]
    data_quality = [s for s in mine if s.monitoring_type is None or not s.monitoring_type.known
                    or s.monitoring_type.value == "DataQuality"]
    if not data_quality:
        if drift is not None and drift.schedule and mine == [] and target.infra.schedules == []:
            judge.warn(f"monitoring.data_drift.schedule is {drift.schedule}, but the infrastructure code "
                       f"({target.origin}) defines no monitoring schedule (AWS::SageMaker::MonitoringSchedule / "
                       "aws_sagemaker_monitoring_schedule) for this endpoint: the drift monitor must be created "
                       "elsewhere", at=(*base, "schedule"),
                       fix="define the data quality monitoring schedule in the same code, so it is deployed with "
                           "the endpoint")
        return
    schedule = data_quality[0]
    defined = f"{schedule.id} ({schedule.at.path}:{schedule.at.line})"
    if _for_endpoint(schedule, target.endpoint) is None and schedule.endpoint is not None:
        judge.warn(f"monitoring schedule {defined} monitors endpoint {schedule.endpoint.text}, which mlgate cannot "
                   "match to this endpoint before deployment", at=schedule.at, fix=unknown_fix(judge.kind))
    judge.compare(f"monitoring schedule {schedule.id}'s ScheduleExpression", drift.schedule if drift else None,
                  (*base, "schedule"), schedule.schedule,
                  equal=lambda a, b: frequency(str(a)) == frequency(str(b)),
                  fix="make monitoring.data_drift.schedule and the ScheduleExpression the same")
    judge.compare(f"monitoring schedule {schedule.id}'s baseline statistics", drift.baseline if drift else None,
                  (*base, "baseline"), schedule.baseline_statistics,
                  fix="make monitoring.data_drift.baseline and the baseline's StatisticsResource the same")


def _operational(ctx: CheckContext, judge: Judge, target: Target) -> None:
    operational = ctx.spec.monitoring.operational if ctx.spec.monitoring else None
    alarms = operational.alarms if operational else []
    endpoint = target.endpoint
    by_name = {show(a.name.value): a for a in target.infra.alarms if a.name is not None and a.name.known}
    spec_names = set()
    for i, spec_alarm in enumerate(alarms):
        at: PathT = ("monitoring", "operational", "alarms", i)
        if not spec_alarm.name:
            continue
        spec_names.add(spec_alarm.name)
        alarm = by_name.get(spec_alarm.name)
        if alarm is None:
            continue  # defined elsewhere, or under a computed name: RLO004/MON004 judge the spec's own alarms
        defined = f"{alarm.id} ({alarm.at.path}:{alarm.at.line})"
        watched = watches(alarm, endpoint)
        if watched is False and not alarm.metric_math:
            dim = alarm.dimensions.get("EndpointName")
            judge.fail(f"alarm '{spec_alarm.name}' ({defined}) watches "
                       f"{'EndpointName ' + iac_fact(dim) if dim else 'no EndpointName dimension'}, not this endpoint",
                       at=(*at, "name"), fix="set the alarm's EndpointName dimension to this endpoint")
        judge.compare(f"alarm '{spec_alarm.name}''s MetricName", spec_alarm.metric, (*at, "metric"), alarm.metric,
                      fix="make the spec's metric and the alarm's MetricName the same")
        statistic = alarm.extended_statistic or alarm.statistic
        judge.compare(f"alarm '{spec_alarm.name}''s statistic", spec_alarm.statistic, (*at, "statistic"), statistic,
                      equal=lambda a, b: str(a).lower() == str(b).lower(),
                      fix="make the spec's statistic and the alarm's Statistic / ExtendedStatistic the same")
        metric = show(alarm.metric.value) if alarm.metric is not None and alarm.metric.known else \
            spec_alarm.metric or ""
        threshold = alarm.threshold
        if spec_alarm.threshold_ms is not None and threshold is not None:
            # CloudWatch publishes ModelLatency and OverheadLatency in microseconds (facts §3.3); the spec
            # writes milliseconds
            factor = 1000.0 if metric in load_facts().microsecond_metrics else 1.0
            unit = "µs" if factor == 1000 else "ms"
            judge.compare(f"alarm '{spec_alarm.name}''s Threshold ({unit})", spec_alarm.threshold_ms * factor,
                          (*at, "threshold_ms"), threshold, shown=f"{spec_alarm.threshold_ms:g} ms",
                          fix=f"make threshold_ms and the alarm's Threshold agree ({metric} is in {unit})")
        for field_ in ("threshold_rate", "threshold_count"):
            value = getattr(spec_alarm, field_)
            if value is not None:
                judge.compare(f"alarm '{spec_alarm.name}''s Threshold", value, (*at, field_), threshold,
                              fix=f"make {field_} and the alarm's Threshold the same")
    for alarm in target.infra.alarms:
        if alarm.name is None or not alarm.name.known or show(alarm.name.value) in spec_names:
            continue
        if watches(alarm, endpoint) and alarm.namespace is not None and alarm.namespace.value == "AWS/SageMaker":
            judge.ok(f"alarm {iac_fact(alarm.name)} on this endpoint's "
                     f"{alarm.metric.text if alarm.metric else 'metrics'} is defined in the infrastructure code but "
                     "not in monitoring.operational.alarms", at=alarm.at)
