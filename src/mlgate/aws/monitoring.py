"""What the monitoring rules read of the account's Model Monitor schedules (ListMonitoringSchedules,
DescribeMonitoringSchedule), shared by MON002 and MON003's online checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlgate.aws.live import LiveEndpoint, Online
    from mlgate.checks import CheckContext


def endpoint_schedules(ctx: CheckContext, online: Online, live: LiveEndpoint) -> list[dict[str, Any]]:
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


def schedule_facts(schedule: dict[str, Any]) -> tuple[str, str, str | None, str | None]:
    """(name, type, expression, baseline statistics uri) of a described monitoring schedule."""
    config = schedule.get("MonitoringScheduleConfig") or {}
    kind = str(schedule.get("MonitoringType") or config.get("MonitoringType") or "DataQuality")
    expression = (config.get("ScheduleConfig") or {}).get("ScheduleExpression")
    baseline = ((((config.get("MonitoringJobDefinition") or {}).get("BaselineConfig") or {})
                 .get("StatisticsResource") or {}).get("S3Uri"))
    return str(schedule.get("MonitoringScheduleName")), kind, expression, baseline


def describe_schedule(schedule: dict[str, Any]) -> str:
    name, kind, expression, _ = schedule_facts(schedule)
    return f"'{name}' ({kind}, {schedule.get('MonitoringScheduleStatus', '?')}, {expression or 'no expression'})"
