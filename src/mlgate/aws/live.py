"""The live account as one `--aws` run reads it: the spec's endpoint (DescribeEndpoint, DescribeEndpointConfig) and
the alarms the spec names (DescribeAlarms), read once per run and shared by the rules' online checks
(`mlgate.aws.online` runs them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlgate.aws.session import AwsProblem, Session
from mlgate.result import Finding
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    from mlgate.aws import AwsSettings
    from mlgate.checks import CheckContext

MISSING_PARAM = "aws_missing_endpoint"


@dataclass
class LiveVariant:
    """A production or shadow variant as the live endpoint runs it now."""
    name: str
    model: str | None
    weight: float  # current weight (DescribeEndpoint), else the config's initial weight (default 1.0)
    instances: int | None  # current instance count, else the config's initial count
    instance_type: str | None
    serverless: dict[str, Any] | None
    shadow: bool


@dataclass
class LiveEndpoint:
    """The spec's endpoint as the account describes it, with the endpoint config it runs."""
    name: str
    region: str | None
    status: str
    config_name: str
    variants: list[LiveVariant]
    shadows: list[LiveVariant]
    capture: dict[str, Any] | None  # the endpoint config's DataCaptureConfig
    capture_status: str | None  # DescribeEndpoint's DataCaptureConfig.CaptureStatus (Started | Stopped)
    deployment: dict[str, Any] | None  # DescribeEndpoint's LastDeploymentConfig
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        region = f", {self.region}" if self.region else ""
        return f"live endpoint {self.name} ({self.status}{region}, endpoint config {self.config_name})"

    def variant(self, name: str | None) -> LiveVariant | None:
        return next((v for v in self.variants if name and v.name == name), None)

    def shadow(self, name: str | None) -> LiveVariant | None:
        return next((v for v in self.shadows if name and v.name == name), None)

    def share(self, variant: LiveVariant) -> float:
        """The percent of live traffic a production variant gets from the weights."""
        total = sum(v.weight for v in self.variants)
        return 100.0 * variant.weight / total if total > 0 else 0.0

    def listing(self) -> str:
        parts = [f"'{v.name}' {self.share(v):.3g} % ({_instances(v)})" for v in self.variants]
        parts += [f"shadow '{v.name}'" for v in self.shadows]
        return ", ".join(parts) or "no variant"


def _instances(variant: LiveVariant) -> str:
    if variant.serverless is not None:
        return "serverless"
    if variant.instances is None:
        return "instances unknown"
    return f"{variant.instances} instance{'s' if variant.instances != 1 else ''}"


def _number(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else default


def _variants(summaries: list[dict[str, Any]], configured: list[dict[str, Any]], shadow: bool) -> list[LiveVariant]:
    by_name = {s.get("VariantName"): s for s in summaries}
    out = []
    for v in configured:
        name = str(v.get("VariantName", ""))
        summary = by_name.get(name, {})
        count = summary.get("CurrentInstanceCount", v.get("InitialInstanceCount"))
        out.append(LiveVariant(
            name=name, model=v.get("ModelName"),
            weight=_number(summary.get("CurrentWeight"), _number(v.get("InitialVariantWeight"), 1.0)),
            instances=int(count) if isinstance(count, int) else None, instance_type=v.get("InstanceType"),
            serverless=summary.get("CurrentServerlessConfig") or v.get("ServerlessConfig"), shadow=shadow))
    return out


class NoLiveEndpoint(Exception):
    """Raised by `Online.live_endpoint` when there is no live endpoint to compare: the online check stops there and
    its runner reports `finding` (why: a batch pattern, no endpoint name, a missing endpoint, another account)."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


class Online:
    """The online checker of one run."""

    def __init__(self, settings: AwsSettings) -> None:
        self.settings = settings
        self.session = Session(settings)
        self._endpoints: dict[tuple[str | None, str], LiveEndpoint | AwsProblem] = {}

    # -- shared reads -------------------------------------------------------------------------------------------

    def region(self, ctx: CheckContext) -> str | None:
        return self.session.region(ctx.spec.serving.region if ctx.spec.serving else None)

    def account_problem(self, ctx: CheckContext, at: PathT) -> Finding | None:
        """An `error` when the credentials belong to another account than serving.account."""
        stated = ctx.spec.serving.account if ctx.spec.serving else None
        if not stated:
            return None
        region = self.region(ctx)
        answer = self.session.call("sts", "GetCallerIdentity", region=region, target="the credentials")
        actual = str(answer.get("Account") or "")
        if actual and actual != str(stated).strip():
            return ctx.error(f"the AWS credentials are for account {actual}, but serving.account is {stated}: "
                             "comparing with another account would report what it lacks as this deployment's "
                             "problems, so nothing was compared", at=("serving", "account"))
        return None

    def live_endpoint(self, ctx: CheckContext, what: str) -> LiveEndpoint:
        """The spec's live endpoint; when there is none to compare, NoLiveEndpoint stops the online check with the
        finding that says why."""
        found = self.endpoint(ctx, what)
        if isinstance(found, Finding):
            raise NoLiveEndpoint(found)
        return found

    def endpoint(self, ctx: CheckContext, what: str) -> LiveEndpoint | Finding:
        """The spec's live endpoint, or the finding that says why there is none to compare (`what` is what the
        rule would compare, for the message)."""
        serving = ctx.spec.serving
        if ctx.pattern == "batch":
            return ctx.na(f"serving.pattern is batch: there is no live endpoint whose {what} to check",
                          at=("serving", "pattern"))
        name = serving.endpoint if serving else None
        if not name:
            return ctx.na(f"serving.endpoint is not set, so there is no live endpoint whose {what} to check",
                          at=("serving",))
        wrong = self.account_problem(ctx, ("serving", "endpoint"))
        if wrong is not None:
            return wrong
        region = self.region(ctx)
        key = (region, name)
        if key not in self._endpoints:
            self._endpoints[key] = self._read_endpoint(name, region)
        found = self._endpoints[key]
        if isinstance(found, LiveEndpoint):
            return found
        if found.kind != "not-found":
            raise found
        where = f" in {region}" if region else ""
        mode = ctx.params.get(MISSING_PARAM, "error")
        if mode == "n/a":
            return ctx.na(f"endpoint {name} does not exist{where} yet (before its first deployment, as "
                          f"{MISSING_PARAM} = \"n/a\" allows): its {what} cannot be checked in the account",
                          at=("serving", "endpoint"))
        if mode != "error":
            return ctx.error(f"rule parameter {MISSING_PARAM} is {mode!r}, not \"error\" or \"n/a\"; fix "
                             f"params.{ctx.rule.id} in the mlgate config")
        return ctx.error(f"endpoint {name} does not exist in the AWS account{where}, so its {what} cannot be "
                         f"checked: a wrong serving.endpoint, Region or account? Before the endpoint's first "
                         f"deployment, set {MISSING_PARAM} = \"n/a\" in [tool.mlgate.params.{ctx.rule.id}]",
                         at=("serving", "endpoint"))

    def _read_endpoint(self, name: str, region: str | None) -> LiveEndpoint | AwsProblem:
        try:
            described = self.session.call("sagemaker", "DescribeEndpoint", region=region,
                                          target=f"endpoint {name}", EndpointName=name)
            config_name = str(described.get("EndpointConfigName", ""))
            config = self.session.call("sagemaker", "DescribeEndpointConfig", region=region,
                                       target=f"endpoint config {config_name}", EndpointConfigName=config_name)
        except AwsProblem as problem:
            return problem
        summary_capture = described.get("DataCaptureConfig") or {}
        return LiveEndpoint(
            name=name, region=region, status=str(described.get("EndpointStatus", "unknown")),
            config_name=config_name,
            variants=_variants(described.get("ProductionVariants") or [], config.get("ProductionVariants") or [],
                               shadow=False),
            shadows=_variants(described.get("ShadowProductionVariants") or [],
                              config.get("ShadowProductionVariants") or [], shadow=True),
            capture=config.get("DataCaptureConfig"), capture_status=summary_capture.get("CaptureStatus"),
            deployment=described.get("LastDeploymentConfig"), config=config)

    def alarms(self, ctx: CheckContext) -> dict[str, dict[str, Any]]:
        """Every alarm the spec names (rollback and operational) that exists, by name: one DescribeAlarms."""
        rollout = ctx.spec.rollout
        operational = ctx.spec.monitoring.operational if ctx.spec.monitoring else None
        names = sorted({*(rollout.rollback_alarms if rollout else []),
                        *(a.name for a in (operational.alarms if operational else []) if a.name)})
        found: dict[str, dict[str, Any]] = {}
        region = self.region(ctx)
        for start in range(0, len(names), 100):  # DescribeAlarms takes at most 100 names
            chunk = names[start:start + 100]
            answer = self.session.call("cloudwatch", "DescribeAlarms", region=region,
                                       target=f"alarms {', '.join(chunk)}", AlarmNames=chunk,
                                       AlarmTypes=["MetricAlarm", "CompositeAlarm"])
            for alarm in answer.get("MetricAlarms") or []:
                found[str(alarm.get("AlarmName"))] = alarm
            for alarm in answer.get("CompositeAlarms") or []:
                found[str(alarm.get("AlarmName"))] = {**alarm, "composite": True}
        return found


def watched_endpoints(alarm: dict[str, Any]) -> set[str]:
    """The EndpointName dimensions an alarm's metric (or metric math) is on."""
    found = set()
    dimension_lists = [alarm.get("Dimensions") or []]
    for query in alarm.get("Metrics") or []:
        metric = (query.get("MetricStat") or {}).get("Metric") or {}
        dimension_lists.append(metric.get("Dimensions") or [])
    for dimensions in dimension_lists:
        for d in dimensions:
            if d.get("Name") == "EndpointName" and d.get("Value"):
                found.add(str(d["Value"]))
    return found


def alarm_metric(alarm: dict[str, Any]) -> str:
    if alarm.get("MetricName"):
        return f"{alarm.get('Namespace', '?')}/{alarm['MetricName']}"
    return "metric math" if alarm.get("Metrics") else "no metric"

