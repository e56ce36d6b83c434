"""The operational alarms of the deployment: the spec's `monitoring.operational.alarms` joined, by name, with the
CloudWatch alarms the infrastructure code defines, plus the code's alarms on this endpoint that the spec does not
list. For each: what it watches, its dimensions (which endpoint and variant it sees) and its actions (who it pages),
each from the code when the code defines the alarm, else from what the spec declares, else unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from mlgate.deployment.origin import Origin
from mlgate.evidence.iac.model import CloudWatchAlarm, CompositeAlarm, Endpoint, Infrastructure, Value, names, show
from mlgate.facts import load_facts
from mlgate.result import Location
from mlgate.spec.models import Alarm, Spec

# What an alarm found only in the code watches, by its metric. A 4xx alarm is not taken for a throttle alarm: only
# the spec can say that is what it is for.
_LATENCY = {"ModelLatency", "OverheadLatency", "ModelSetupTime", "TotalProcessingTime", "TimeInBacklog"}
_ERRORS = {"Invocation5XXErrors", "InvocationModelErrors", "InvocationFailures"}
_THROTTLES = {"ServerlessConcurrentExecutionsUtilization"}


@dataclass(frozen=True)
class DeployedAlarm:
    """One operational alarm as it will be deployed."""

    alarm: Alarm  # the spec's fields; for an alarm only the code defines, what the code gives
    index: int | None  # its place in monitoring.operational.alarms (None: only the code defines it)
    origin: Origin
    at: Location | None  # where the code defines it
    dimensions: dict[str, str | None] | None  # None: not known; a value None: known only at deploy time
    actions: list[str] | None  # AlarmActions; None: not known
    notified_by: list[str] = field(default_factory=list)  # composite alarms with actions whose rule names it
    unknown: str | None = None  # why the code's dimensions or actions cannot be read

    @property
    def label(self) -> str:
        return f"'{self.alarm.name}'" if self.alarm.name else f"#{(self.index or 0) + 1}"


def _text(value: Value, endpoint: Endpoint | None) -> str | None:
    if endpoint is not None and names(value, endpoint.id, endpoint.name) and endpoint.name is not None \
            and endpoint.name.known:
        return show(endpoint.name.value)
    return show(value.value) if value.known else None


def watches(alarm: CloudWatchAlarm, endpoint: Endpoint) -> bool | None:
    """Whether the alarm's EndpointName dimension is this endpoint (None: it cannot be known before deployment)."""
    dim = alarm.dimensions.get("EndpointName")
    if dim is None:
        return False
    if names(dim, endpoint.id, endpoint.name):
        return True
    if endpoint.name is not None and not dim.known and not endpoint.name.known:
        return (dim.template or dim.text) == (endpoint.name.template or endpoint.name.text) or None
    if not dim.known or endpoint.name is None or not endpoint.name.known:
        return None
    return False


def _composites(alarm_name: str, composites: list[CompositeAlarm]) -> list[str]:
    pattern = re.compile(rf"""ALARM\(\s*["']?{re.escape(alarm_name)}["']?\s*\)""")
    out = []
    for composite in composites:
        rule = composite.rule
        text = (show(rule.value) if rule.known else rule.template or rule.text) if rule is not None else ""
        if composite.actions and pattern.search(text):
            out.append(composite.name.text if composite.name is not None else composite.id)
    return out


def _from_code(alarm: CloudWatchAlarm, endpoint: Endpoint | None, composites: list[CompositeAlarm],
               spec_alarm: Alarm | None, index: int | None) -> DeployedAlarm:
    dimensions = {name: _text(value, endpoint) for name, value in alarm.dimensions.items()}
    enabled = alarm.actions_enabled
    actions = [a.text if a.known else (a.ref or a.text) for a in alarm.actions]
    unknown = alarm.actions_unknown
    if enabled is not None and enabled.known and str(enabled.value).lower() == "false":
        actions = []
    if alarm.metric_math:
        unknown = unknown or "it is defined by metric math"
    name = show(alarm.name.value) if alarm.name is not None and alarm.name.known else alarm.id
    judged = spec_alarm if spec_alarm is not None else _inferred(alarm, name)
    return DeployedAlarm(judged, index, "spec+code" if spec_alarm is not None else "code", alarm.at,
                         None if alarm.metric_math else dimensions, None if alarm.actions_unknown else actions,
                         _composites(name, composites), unknown)


def _inferred(alarm: CloudWatchAlarm, name: str) -> Alarm:
    """The spec's view of an alarm only the code defines: its metric, statistic and threshold in the spec's units."""
    metric = show(alarm.metric.value) if alarm.metric is not None and alarm.metric.known else None
    stat_value = alarm.extended_statistic or alarm.statistic
    statistic = show(stat_value.value) if stat_value is not None and stat_value.known else None
    threshold = float(alarm.threshold.value) if alarm.threshold is not None and alarm.threshold.known \
        and isinstance(alarm.threshold.value, int | float) else None
    watches = ("latency" if metric in _LATENCY else "errors" if metric in _ERRORS
               else "throttles" if metric in _THROTTLES else "other")
    out = Alarm(name=name, watches=watches, metric=metric, statistic=statistic)  # type: ignore[arg-type]
    if threshold is not None:
        if watches == "latency":
            out.threshold_ms = threshold / 1000 if metric in load_facts().microsecond_metrics else threshold
        elif statistic == "Average":
            out.threshold_rate = threshold
        else:
            out.threshold_count = threshold
    return out


def deployed_alarms(spec: Spec, infra: Infrastructure | None, endpoint: Endpoint | None) -> list[DeployedAlarm]:
    operational = spec.monitoring.operational if spec.monitoring else None
    listed = operational.alarms if operational else []
    in_code = {show(a.name.value): a for a in (infra.alarms if infra else []) if a.name is not None and a.name.known}
    composites = infra.composites if infra else []
    out: list[DeployedAlarm] = []
    for i, alarm in enumerate(listed):
        code = in_code.get(alarm.name or "")
        if code is not None:
            out.append(_from_code(code, endpoint, composites, alarm, i))
            continue
        dims: dict[str, str | None] | None = dict(alarm.dimensions) if alarm.dimensions is not None else None
        out.append(DeployedAlarm(alarm, i, "spec", None, dims, alarm.actions,
                                 _composites(alarm.name or "", composites)))
    named = {a.name for a in listed if a.name}
    for code_alarm in infra.alarms if infra and endpoint else []:
        name = show(code_alarm.name.value) if code_alarm.name is not None and code_alarm.name.known else None
        if name in named or endpoint is None or not watches(code_alarm, endpoint):
            continue
        out.append(_from_code(code_alarm, endpoint, composites, None, None))
    return out
