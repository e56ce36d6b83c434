"""Monthly cost of serving a deployment on each SageMaker pattern, from the facts table's prices.

Pure functions: the serving rules (SRV001) and the reports call them with the spec, the facts and the prices; no
I/O beyond reading the packaged facts table. Every estimate carries the arithmetic it was made from (`basis`), so
a release manager can redo it by hand, and `CostView.assumptions` lists what the figures take for granted.

The models, per pattern (H = hours_per_month, requests a month = requests_per_day x H / 24):
- real-time: instances x hourly x H, always on (at the autoscaling minimum when one is declared);
- serverless: requests x processing_s x memory GB x rate per GB-second, plus data in and out (each request's
  payload in, the same size out) x rate per GB, plus provisioned concurrency x memory GB x H x 3600 s x its rate;
- asynchronous: as real-time while its minimum is at least 1; scaled to zero it is billed for the time an instance
  is up: with requests arriving at random (Poisson, rate r per second) an instance that stops after T idle seconds
  is up a share 1 - e^(-rT) of the month, and each request that finds none pays an instance start;
- batch transform: jobs a day x instances x start-up time, plus the processing time of the day's requests (requests
  / per-instance throughput), x hourly, every day.
Per-instance throughput is the declared `throughput_rps_per_instance`, else slots / processing_s, the slots being
the GPUs when the model needs one, else the vCPUs.

What is priced, and where:
- the Region is the deployment's (`serving.region`, or the Region of the model's ECR image in the infrastructure
  code); only when neither states one, SRV001's `region` parameter, and the assumptions say so. A Region the facts
  table has no sourced price for is not priced as another: the estimate says which price is missing.
- the declared cost counts every instance the deployment runs: each production variant, the shadow variant and the
  previous variant kept warm (from the infrastructure code's endpoint config, else from the spec, the type and size
  the spec does not give taken from the serving variant and said so), plus the green fleet of each blue/green
  update (`green_fleet_hours`), `updates_per_month` times a month;
- an alternative is one the deployment can use (serverless excludes what the deployment uses: GPUs, VPC,
  network isolation, data capture, several variants, Model Monitor), sized like a production endpoint (at least
  `min_instances` always-on instances across Availability Zones, the peak with `headroom`), and never on a
  burstable (T-family) instance.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mlgate.facts import PATTERNS, Facts, Instance, PatternName, Sourced, gpu_family, load_facts
from mlgate.spec.models import Spec

if TYPE_CHECKING:
    from mlgate.deployment.model import ResolvedDeployment
    from mlgate.evidence.iac.model import TrafficPolicy

GIB = 1024**3
TIMES = "\u00d7"  # the multiplication sign, in figures shown to people
DIVIDED = "\u00f7"
SECONDS_PER_HOUR = 3600.0


class PriceError(ValueError):
    """A price override that is not a mapping of region -> instance type -> hourly USD (plus serverless rates)."""


_MAY_BE_ZERO = frozenset({"headroom", "updates_per_month"})


@dataclass(frozen=True)
class Assumptions:
    """What the cost estimates take for granted where the spec is silent (SRV001's parameters)."""
    region: str = "us-east-1"
    hours_per_month: float = 730.0
    serverless_memory_mb: int = 2048  # when the spec declares no serverless.memory_mb
    batch_jobs_per_day: float = 1.0
    instance_start_minutes: float = 5.0  # a batch job's or a scaled-to-zero async endpoint's instance start-up
    scale_in_minutes: float = 15.0  # idle time before a scaled-to-zero async endpoint stops its instance
    min_instances: int = 2  # an instance-based alternative keeps at least this many running (Availability Zones)
    headroom: float = 0.3  # an alternative's capacity exceeds the peak by this share (SRV003's default)
    updates_per_month: float = 1.0  # blue/green updates a month, each running a green fleet beside the blue one

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Assumptions:
        """The assumptions from SRV001's parameters; a PriceError names a parameter of the wrong type."""
        values: dict[str, Any] = {}
        for name, default in cls().__dict__.items():
            if name not in params:
                continue
            value = params[name]
            if isinstance(default, str):
                if not isinstance(value, str) or not value:
                    raise PriceError(f"parameter {name} is {value!r}, not a region name")
            elif isinstance(value, bool) or not isinstance(value, int | float) \
                    or not (value >= 0 if name in _MAY_BE_ZERO else value > 0) \
                    or (isinstance(default, int) and value != int(value)):
                kind = "a positive whole number" if isinstance(default, int) else \
                    "a number of at least 0" if name in _MAY_BE_ZERO else "a positive number"
                raise PriceError(f"parameter {name} is {value!r}, not {kind}")
            values[name] = int(value) if isinstance(default, int) else value
        return cls(**values)

    @property
    def days_per_month(self) -> float:
        return self.hours_per_month / 24


@dataclass(frozen=True)
class Rate:
    """A price, with where it came from (the facts table or a team override)."""
    value: float
    origin: str  # where the figure comes from, for the report


@dataclass(frozen=True)
class PriceBook:
    """The prices of one region: the facts table's, with a team's overrides on top."""

    region: str
    instances: Mapping[str, Rate] = field(default_factory=dict)
    compute_per_gb_s: Rate | None = None
    data_per_gb: Rate | None = None
    provisioned_per_gb_s: Rate | None = None
    gap: str = ""  # what the facts table lacks for this Region, said after "no price for X in REGION"

    def hourly(self, instance_type: str) -> Rate | None:
        return self.instances.get(instance_type)

    def no_price(self, what: str) -> str:
        """Why `what` is not priced, and how to price it."""
        return (f"no price for {what} in {self.region}{self.gap}; add it under [tool.mlgate.prices.{self.region}] "
                f"(or the SRV001 parameter prices.{self.region})")


_SERVERLESS_RATES = ("compute_per_gb_s", "data_per_gb", "provisioned_per_gb_s")


def price_book(facts: Facts, region: str, overrides: Any = None) -> PriceBook:
    """Prices for `region`: the facts table's, then `overrides` (SRV001's `prices` parameter: region -> {instance
    type: hourly USD, "serverless": {compute_per_gb_s, data_per_gb, provisioned_per_gb_s}}) on top."""
    instances: dict[str, Rate] = {}
    rates: dict[str, Rate] = {}
    table = facts.prices.get(region)
    if region not in facts.regions.names:
        gap = (f" ({region} is not a commercial AWS Region SageMaker serves, "
               f"{facts.cite(facts.regions).removeprefix('source: ')})")
    elif table is None:
        gap = " (the facts table has no sourced SageMaker price for this Region)"
    else:
        gap = " (not in the facts table's sourced prices for this Region)"
        for name, price in table.instances.items():
            instances[name] = Rate(price.hourly, f"facts table: {facts.cite(price)}")
        if table.serverless is not None:
            for key in _SERVERLESS_RATES:
                fact = getattr(table.serverless, key)
                if fact is not None:
                    rates[key] = Rate(float(fact.value), f"facts table: {facts.cite(fact)}")
    _team_rates(overrides, region, instances, rates)
    return PriceBook(region, instances, rates.get("compute_per_gb_s"), rates.get("data_per_gb"),
                     rates.get("provisioned_per_gb_s"), gap)


def check_prices(overrides: Any) -> Any:
    """`overrides` (SRV001's `prices` parameter) if every region's table is well formed; else a PriceError."""
    if isinstance(overrides, Mapping):
        for region in overrides:
            _team_rates(overrides, str(region), {}, {})
    else:
        _override_region(overrides, "")
    return overrides


def _team_rates(overrides: Any, region: str, instances: dict[str, Rate], rates: dict[str, Rate]) -> None:
    """Put the team's prices for `region` over `instances` and `rates`."""
    for key, value in _override_region(overrides, region).items():
        where = f"prices.{region}.{key}"
        if key == "serverless":
            if not isinstance(value, Mapping):
                raise PriceError(f"{where} must be a mapping of {', '.join(_SERVERLESS_RATES)}")
            for rate_key, rate in value.items():
                if rate_key not in _SERVERLESS_RATES:
                    raise PriceError(f"{where}.{rate_key} is not a serverless rate "
                                     f"(known: {', '.join(_SERVERLESS_RATES)})")
                rates[rate_key] = Rate(_positive(rate, f"{where}.{rate_key}"), "team override in params.SRV001.prices")
        elif key.startswith("ml."):
            instances[key] = Rate(_positive(value, where), "team override in params.SRV001.prices")
        else:
            raise PriceError(f"{where}: expected an instance type (ml.…) or 'serverless'")


def _override_region(overrides: Any, region: str) -> Mapping[str, Any]:
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise PriceError("prices must be a mapping of region -> instance type -> hourly USD")
    for name, table in overrides.items():
        if not isinstance(table, Mapping):
            raise PriceError(f"prices.{name} must be a mapping of instance type -> hourly USD")
    found = overrides.get(region, {})
    return found if isinstance(found, Mapping) else {}


def _positive(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise PriceError(f"{where} is {value!r}, not a positive price in USD")
    return float(value)


# --- the workload -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Workload:
    """The traffic a deployment must serve, as its spec states it: what every pattern is priced for."""
    requests_per_day: float
    processing_s: float | None = None
    peak_rps: float | None = None
    latency_p99_ms: float | None = None
    payload_kb: float | None = None
    synchronous: bool = True
    gpu: bool = False
    throughput_rps_per_instance: float | None = None  # of the declared instance type

    def requests_per_month(self, hours_per_month: float) -> float:
        return self.requests_per_day * hours_per_month / 24


@dataclass(frozen=True)
class Throughput:
    """Requests a second one instance can serve, and how that figure was reached."""
    rps: float
    basis: str  # e.g. "4 vCPUs / 0.05 s" (with a division sign) or "declared throughput_rps_per_instance"


def instance_throughput(instance: Instance | None, workload: Workload, *, declared: bool) -> Throughput | None:
    """Requests per second one instance sustains: the declared figure for the declared type, else one request at
    a time per slot (GPU when the model needs one, else vCPU) for processing_s each."""
    if declared and workload.throughput_rps_per_instance:
        return Throughput(workload.throughput_rps_per_instance, "declared throughput_rps_per_instance")
    if instance is None or not workload.processing_s:
        return None
    if workload.gpu and instance.gpus > 0:
        slots, unit = instance.gpus, "GPU" if instance.gpus == 1 else "GPUs"
    else:
        slots, unit = instance.vcpus, "vCPU" if instance.vcpus == 1 else "vCPUs"
    return Throughput(slots / workload.processing_s, f"{slots} {unit} {DIVIDED} {num(workload.processing_s)} s")


# --- the cost models ---------------------------------------------------------------------------------------------

def always_on_monthly(hourly: float, instances: int, hours_per_month: float) -> float:
    return hourly * instances * hours_per_month


def serverless_compute_monthly(requests_per_month: float, processing_s: float, memory_mb: int,
                               rate_per_gb_s: float) -> float:
    return requests_per_month * processing_s * (memory_mb / 1024) * rate_per_gb_s


def serverless_data_gb(requests_per_month: float, payload_kb: float) -> float:
    """GB (GiB) in and out: each request's payload in, and a response of the same size out."""
    return requests_per_month * payload_kb * 1024 * 2 / GIB


def provisioned_monthly(provisioned: int, memory_mb: int, hours_per_month: float, rate_per_gb_s: float) -> float:
    return provisioned * (memory_mb / 1024) * hours_per_month * SECONDS_PER_HOUR * rate_per_gb_s


def batch_instance_hours(requests_per_day: float, rps_per_instance: float, instances: int,
                         a: Assumptions) -> float:
    """Instance-hours a month of daily transform jobs: each job starts every instance, and the day's requests
    take requests / throughput instance-seconds whatever the instance count."""
    start_h = a.batch_jobs_per_day * instances * a.instance_start_minutes / 60
    work_h = requests_per_day / rps_per_instance / SECONDS_PER_HOUR
    return a.days_per_month * (start_h + work_h)


def scale_to_zero_instance_hours(requests_per_month: float, rps_per_instance: float, a: Assumptions) -> float:
    """Instance-hours a month of an async endpoint that scales to zero: up a share 1 - e^(-rT) of the month (r
    requests a second arriving at random, T the idle seconds before it stops), plus a start for every request
    that finds no instance (a share e^(-rT) of them); never less than the processing time itself."""
    hours = a.hours_per_month
    rate = requests_per_month / (hours * SECONDS_PER_HOUR)
    idle_share = math.exp(-rate * a.scale_in_minutes * 60)
    up_h = hours * (1 - idle_share)
    start_h = requests_per_month * idle_share * a.instance_start_minutes / 60
    work_h = requests_per_month / rps_per_instance / SECONDS_PER_HOUR
    return max(work_h, min(hours, up_h + start_h))


# --- estimates per pattern -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    """The monthly cost of serving on one pattern, or why it cannot serve the traffic or be priced."""
    pattern: PatternName
    shape: str  # "ml.g5.xlarge x 1 always on", "serverless 2 GB with 1 provisioned"
    monthly_usd: float | None  # None when it cannot be priced (see `unpriced`)
    basis: str = ""  # the arithmetic
    misfit: str | None = None  # why this pattern does not meet the traffic's needs
    unpriced: str | None = None  # why there is no figure
    instance_type: str | None = None  # the instance type priced, for instance-based patterns

    @property
    def fits(self) -> bool:
        return self.misfit is None

    @property
    def priced(self) -> bool:
        return self.monthly_usd is not None

    def describe(self) -> str:
        figure = f"{usd(self.monthly_usd)}/month" if self.monthly_usd is not None else "not priced"
        return f"{self.shape}: {figure}"


@dataclass(frozen=True)
class CostView:
    """For one spec: the declared pattern's estimate, every pattern's, the cheapest that fits, the assumptions."""

    declared: Estimate | None
    options: tuple[Estimate, ...]
    assumptions: tuple[str, ...]
    missing: tuple[str, ...] = ()  # spec fields the estimate needs and the spec lacks
    prices: PriceBook | None = None  # the Region's prices the figures use

    @property
    def cheapest(self) -> Estimate | None:
        """The cheapest priced pattern that fits; the declared pattern wins a tie."""
        fitting = [e for e in self.options if e.fits and e.monthly_usd is not None]
        if not fitting:
            return None
        declared = self.declared.pattern if self.declared else None
        return min(fitting, key=lambda e: (e.monthly_usd, e.pattern != declared))

    def priced_in(self, estimate: Estimate | None) -> str:
        """The Region and the prices behind an estimate's figure, each with where it comes from: "priced in
        us-east-2: ml.g4dn.xlarge $0.736/h (facts table: source: ...)"; "" when nothing was priced."""
        book = self.prices
        if book is None or estimate is None or estimate.monthly_usd is None:
            return ""
        if estimate.pattern == "serverless":
            used = [f"serverless {name} {_rate(rate.value)} ({rate.origin})"
                    for name, rate in (("compute/GB-s", book.compute_per_gb_s), ("data/GB", book.data_per_gb),
                                       ("provisioned/GB-s", book.provisioned_per_gb_s))
                    if rate is not None and (name != "provisioned/GB-s" or "provisioned" in estimate.shape)]
        else:
            names = set(re.findall(r"ml\.[a-z0-9-]+\.[a-z0-9-]+", estimate.shape))
            used = [f"{name} {_rate(rate.value)}/h ({rate.origin})" for name, rate in book.instances.items()
                    if name in names]
        return f"priced in {book.region}: {'; '.join(used)}" if used else ""

    @property
    def ratio(self) -> float | None:
        """Declared monthly cost ÷ the cheapest fitting one."""
        cheapest = self.cheapest
        if self.declared is None or self.declared.monthly_usd is None or cheapest is None:
            return None
        if not cheapest.monthly_usd:
            return math.inf if self.declared.monthly_usd > 0 else 1.0
        return self.declared.monthly_usd / cheapest.monthly_usd


def usd(amount: float | None) -> str:
    """$1,027.84"""
    return "n/a" if amount is None else f"${amount:,.2f}"


def num(value: float) -> str:
    """A number for people: 2,000,000 / 1,027.8 / 20.8 / 0.05 / 0.00002 (never 2e+06)."""
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.1f}"
    text = f"{value:.4g}"
    if "e" in text:
        text = f"{value:.12f}".rstrip("0").rstrip(".")
    return text


def _rate(value: float) -> str:
    return f"${num(value)}"


def workload_of(spec: Spec) -> tuple[Workload | None, tuple[str, ...]]:
    """The workload a spec declares, or None and the missing fields (requests_per_day is the minimum)."""
    traffic = spec.serving.traffic if spec.serving else None
    if traffic is None or traffic.requests_per_day is None:
        return None, ("serving.traffic.requests_per_day",)
    missing = tuple(f"serving.traffic.{name}" for name in ("processing_s", "peak_rps", "synchronous")
                    if getattr(traffic, name) is None)
    return Workload(requests_per_day=traffic.requests_per_day, processing_s=traffic.processing_s,
                    peak_rps=traffic.peak_rps, latency_p99_ms=traffic.latency_p99_ms, payload_kb=traffic.payload_kb,
                    synchronous=traffic.synchronous is not False, gpu=bool(traffic.gpu),
                    throughput_rps_per_instance=traffic.throughput_rps_per_instance), missing


@dataclass(frozen=True)
class _Chosen:
    """The instance type the instance-based alternatives are priced on, and whether the spec declared it."""
    instance_type: str
    instance: Instance | None
    price: Rate | None
    declared: bool


def _suits(instance_type: str, instance: Instance | None, gpu: bool) -> bool:
    if instance is not None:
        return instance.gpus > 0 if gpu else not instance.accelerated
    family = gpu_family(instance_type)
    return family is True if gpu else family is False


def burstable(instance_type: str) -> bool:
    """ml.t2.medium, ml.t3.large ...: the T families are EC2's burstable performance instances, whose CPU beyond a
    baseline runs on credits (Amazon EC2 User Guide, "Burstable performance instances"): no production endpoint
    is sized on them."""
    parts = instance_type.split(".")
    return len(parts) == 3 and parts[0] == "ml" and len(parts[1]) >= 2 and parts[1][0] == "t" and parts[1][1].isdigit()


def choose_instance(spec: Spec, facts: Facts, prices: PriceBook, workload: Workload) -> _Chosen | None:
    """The instance type the alternatives are priced on: the declared one when it suits the GPU need, is priced in
    the Region and is not burstable; else the cheapest priced type in the table that suits and is not burstable;
    else the declared type (unpriced: the estimate says so)."""
    declared = spec.serving.instance_type if spec.serving else None
    declared_fits = bool(declared) and _suits(str(declared), facts.instance(str(declared)), workload.gpu) \
        and not burstable(str(declared))
    if declared and declared_fits and prices.hourly(declared) is not None:
        return _Chosen(declared, facts.instance(declared), prices.hourly(declared), True)
    options = [(rate.value, name) for name, rate in prices.instances.items()
               if (inst := facts.instance(name)) is not None and _suits(name, inst, workload.gpu)
               and not burstable(name)]
    if options:
        _, name = min(options)
        return _Chosen(name, facts.instance(name), prices.hourly(name), False)
    if declared and declared_fits:
        return _Chosen(declared, facts.instance(declared), None, True)
    return None


@dataclass(frozen=True)
class Instances:
    """The instances one variant of the deployment keeps running, as the declared cost counts them."""

    label: str  # "churn-v6 (production)"
    instance_type: str | None
    count: int
    note: str | None = None  # what was assumed, or why it cannot be priced


def green_fleet_hours(policy: TrafficPolicy, fleet: int) -> tuple[float | None, str]:
    """Hours a blue/green update keeps the green fleet running beside the blue one, and how: SageMaker provisions
    the whole green fleet, shifts traffic with a baking period (WaitIntervalInSeconds) after the canary, after each
    linear step, or after the all-at-once shift, plus a final baking period, then terminates the blue fleet after
    TerminationWaitInSeconds; MaximumExecutionTimeoutInSeconds bounds the whole (SageMaker Developer Guide,
    "Blue/Green Deployments" and its traffic shifting pages; API reference, BlueGreenUpdatePolicy). A rolling
    update runs no second fleet. None when a value is known only at deploy time."""
    from mlgate.evidence.iac.model import show

    values: dict[str, float] = {}
    for key, value in (("wait", policy.wait_s), ("termination", policy.termination_wait_s),
                       ("timeout", policy.max_timeout_s)):
        if value is not None and not value.known:
            return None, f"{value.text} is known only at deploy time ({value.unknown})"
        if value is not None:
            try:
                values[key] = float(value.value)
            except (TypeError, ValueError):
                return None, f"{show(value.value)} is not a number of seconds"
    kind = show(policy.type.value) if policy.type is not None and policy.type.known else "ALL_AT_ONCE"
    if kind == "ROLLING":
        return 0.0, "a rolling update replaces instances in batches and runs no second fleet"
    bakes = 1 + 1  # the shift's bake, and the final one
    if kind == "LINEAR" and policy.size is not None and policy.size.value is not None and policy.size.value.known:
        try:
            step = float(policy.size.value.value)
        except (TypeError, ValueError):
            step = 0.0
        percent = policy.size.type is None or not policy.size.type.known or \
            show(policy.size.type.value) == "CAPACITY_PERCENT"
        if step > 0:
            bakes = math.ceil((100 if percent else fleet) / step - 1e-9) + 1
    elif kind == "ALL_AT_ONCE":
        bakes = 1
    wait, termination = values.get("wait", 0.0), values.get("termination", 0.0)
    seconds = bakes * wait + termination
    how = (f"{kind}: {bakes} baking period{'s' if bakes != 1 else ''} of {num(wait)} s + {num(termination)} s "
           "termination wait")
    if "timeout" in values and values["timeout"] < seconds:
        seconds = values["timeout"]
        how += f", at most the {num(values['timeout'])} s MaximumExecutionTimeout"
    return seconds / SECONDS_PER_HOUR, how


def _fleet_from_spec(spec: Spec, floor: int, why: str) -> list[Instances]:
    """No infrastructure code: the serving variant, and the previous and shadow variants the spec keeps running
    (their type, and the shadow's size, are the serving variant's: the spec gives none)."""
    serving, rollout = spec.serving, spec.rollout
    itype = serving.instance_type if serving else None
    serving_name = (rollout.canary.variant if rollout and rollout.canary else None) or "the serving variant"
    out = [Instances(f"{serving_name} (production)", itype, floor, why)]
    if serving is None or serving.pattern != "realtime" or rollout is None:
        return out
    previous = rollout.previous
    if previous is not None and previous.keep_warm and previous.variant:
        count = previous.min_instances or 1
        said = "rollout.previous.min_instances" if previous.min_instances else "1 assumed"
        out.append(Instances(f"{previous.variant} (previous, kept warm)", itype, count,
                           f"{said}, on the serving instance type"))
    shadow = rollout.shadow
    if shadow is not None and shadow.variant:
        where = f"on endpoint {shadow.endpoint}" if shadow.endpoint else "shadow"
        out.append(Instances(f"{shadow.variant} ({where})", itype, floor,
                           "the spec gives no size for the shadow: the serving variant's assumed"))
    return out


class _Estimator:
    def __init__(self, spec: Spec, facts: Facts, prices: PriceBook, a: Assumptions, workload: Workload,
                 resolved: ResolvedDeployment | None = None) -> None:
        self.spec, self.facts, self.prices, self.a, self.w = spec, facts, prices, a, workload
        self.resolved = resolved
        self.region_how = ""
        self.serving = spec.serving
        self.month_requests = workload.requests_per_month(a.hours_per_month)
        self.chosen = choose_instance(spec, facts, prices, workload)

    # fit ---------------------------------------------------------------------------------------------------------
    def misfit(self, pattern: PatternName, *, provisioned: int = 0) -> str | None:
        p = self.facts.pattern(pattern)
        w = self.w
        if w.synchronous and not p.synchronous.value:
            return "callers wait for the answer, and this pattern does not answer synchronously"
        if w.gpu and not p.gpu.value:
            return "the model needs a GPU, and this pattern has none"
        if w.payload_kb is not None and w.payload_kb * 1024 > p.payload_bytes.value:
            return f"the {num(w.payload_kb)} KB payload is above its {_bytes(p.payload_bytes.value)} limit"
        if w.processing_s is not None and w.processing_s > p.processing_s.value:
            return f"{num(w.processing_s)} s processing is above its {num(p.processing_s.value)} s limit"
        if pattern == "serverless":
            excluded = self.serverless_exclusions()
            if excluded:
                return (f"the deployment uses {_and(excluded)}, which a serverless endpoint does not support "
                        f"({self.facts.cite(p.excludes[0])})")
            need = self.serverless_concurrency()
            top = p.fact("max_concurrency_max").value
            if need > top:
                return f"peak concurrency {need} is above its MaxConcurrency limit of {top}"
            if provisioned > p.fact("provisioned_concurrency_max").value:
                return f"{provisioned} provisioned concurrency is above its limit"
            if self.tight_latency() and provisioned < need:
                return (f"the {num(w.latency_p99_ms or 0)} ms p99 is below serverless cold starts, and "
                        f"{provisioned} provisioned concurrency keeps fewer than the peak's {need} requests warm")
        if pattern == "batch" and w.latency_p99_ms is not None:
            interval_ms = 86400 / self.a.batch_jobs_per_day * 1000
            if w.latency_p99_ms < interval_ms:
                return (f"a result can wait up to {_hours(interval_ms / 3.6e6)} for the next job, above the "
                        f"{num(w.latency_p99_ms)} ms p99")
        return None

    def serverless_exclusions(self) -> list[str]:
        """The features the deployment uses that a serverless endpoint excludes (the facts table's exclusions),
        when serverless is an alternative; the declared serverless pattern is SRV002's to judge."""
        if self.serving is None or self.serving.pattern == "serverless":
            return []
        p = self.facts.pattern("serverless")
        spec, resolved = self.spec, self.resolved
        capture = spec.monitoring.capture if spec.monitoring else None
        rollout = spec.rollout
        if resolved is not None and resolved.fleet is not None:
            variants = sum(1 for r in resolved.fleet if r.role == "production")
            shadows = sum(1 for r in resolved.fleet if r.role == "shadow")
        else:
            previous = rollout.previous if rollout else None
            variants = 1 + bool(previous and previous.keep_warm and previous.variant)
            shadows = int(bool(rollout and rollout.shadow and rollout.shadow.variant and not rollout.shadow.endpoint))
        used = {"vpc": bool(self.serving.vpc), "network_isolation": bool(self.serving.network_isolation),
                "data_capture": bool(capture and capture.enabled),
                "multiple_variants": variants > 1 or (variants + shadows) > 1,
                "model_monitor": bool(spec.monitoring and spec.monitoring.data_drift),
                "multi_model": bool(self.serving.multi_model)}
        out = []
        for feature, on in used.items():
            excl = p.excluded(feature)
            if on and excl is not None:
                label = excl.label
                if feature == "multiple_variants" and shadows and variants == 1:
                    label += " (a shadow variant beside the production one)"
                out.append(label)
        return out

    def serverless_concurrency(self) -> int:
        """Concurrent requests at peak: peak_rps x processing_s, rounded up."""
        if self.w.peak_rps is None or self.w.processing_s is None:
            return 1
        return max(1, math.ceil(self.w.peak_rps * self.w.processing_s - 1e-9))

    def tight_latency(self) -> bool:
        """A p99 below the serverless cold-start range: only provisioned concurrency meets it."""
        floor = self.facts.pattern("serverless").fact("cold_start_s_min").value
        return self.w.latency_p99_ms is not None and self.w.latency_p99_ms < floor * 1000

    # instance-based --------------------------------------------------------------------------------------------------
    def _instance(self, declared: bool) -> tuple[_Chosen | None, str | None]:
        """The instance type an estimate uses: the declared one for the declared pattern (that is what the team
        pays), else the suitable choice; and why it cannot be priced, if so."""
        chosen = self.chosen
        declared_type = self.serving.instance_type if self.serving else None
        if declared and declared_type:
            chosen = _Chosen(declared_type, self.facts.instance(declared_type), self.prices.hourly(declared_type), True)
        if chosen is None:
            need = "a GPU" if self.w.gpu else "no accelerator"
            return None, f"no priced instance type with {need} in {self.prices.region}"
        if chosen.price is None:
            return chosen, self.prices.no_price(chosen.instance_type)
        return chosen, None

    def _priced(self, pattern: PatternName, declared: bool,
                unnamed: str) -> tuple[_Chosen, float, str | None] | Estimate:
        """What an instance-based estimate prices: the instance, its hourly rate and the pattern's misfit; or, when
        it cannot be priced, the unpriced estimate (its shape `unnamed` when no instance type is chosen)."""
        chosen, unpriced = self._instance(declared)
        misfit = self.misfit(pattern)
        if chosen is None or unpriced:
            return Estimate(pattern, chosen.instance_type if chosen else unnamed, None, misfit=misfit,
                            unpriced=unpriced)
        assert chosen.price is not None
        return chosen, chosen.price.value, misfit

    def _throughput(self, chosen: _Chosen) -> Throughput | None:
        return instance_throughput(chosen.instance, self.w, declared=chosen.declared)

    def sized(self, chosen: _Chosen) -> tuple[int, str]:
        """An alternative's always-on instances: the peak with headroom at the per-instance throughput, and never
        fewer than a production endpoint's minimum."""
        tp = self._throughput(chosen)
        floor = self.a.min_instances
        if tp and self.w.peak_rps:
            need = math.ceil(self.w.peak_rps * (1 + self.a.headroom) / tp.rps - 1e-9)
            why = (f"a peak of {num(self.w.peak_rps)} rps + {num(self.a.headroom * 100)} % headroom at "
                   f"{num(tp.rps)} rps each ({tp.basis})")
            if need >= floor:
                return need, why
            return floor, f"{why} needs {need}; at least {floor} for availability across Availability Zones"
        return floor, f"{floor} for availability across Availability Zones"

    def realtime(self, declared: bool) -> Estimate:
        if declared:
            floor, why = self.declared_floor(minimum=1)
            return self.fleet_estimate("realtime", floor, why)
        priced = self._priced("realtime", declared, "real-time endpoint")
        if isinstance(priced, Estimate):
            return priced
        chosen, hourly, misfit = priced
        count, why = self.sized(chosen)
        monthly = always_on_monthly(hourly, count, self.a.hours_per_month)
        basis = (f"{count} {TIMES} {_rate(hourly)}/h {TIMES} {num(self.a.hours_per_month)} h "
                 f"= {usd(monthly)}, {why}")
        return Estimate("realtime", f"{chosen.instance_type} {TIMES} {count} always on", monthly, basis, misfit,
                        instance_type=chosen.instance_type)

    def running(self, floor: int, why: str) -> list[Instances]:
        """Every instance the declared deployment keeps running: the infrastructure code's variants when it
        defines the endpoint config, else the spec's serving, previous and shadow variants."""
        fleet = self.resolved.fleet if self.resolved is not None else None
        if not fleet or all(r.serverless for r in fleet):
            return _fleet_from_spec(self.spec, floor, why)
        out = []
        for r in fleet:
            label = f"{r.variant} ({r.role})"
            if r.serverless:
                continue
            if r.instance_type is None or r.count is None:
                out.append(Instances(label, None, 0, r.unknown or "no instance type or count in the code"))
                continue
            out.append(Instances(label, r.instance_type, r.count))
        return out

    def fleet_estimate(self, pattern: PatternName, floor: int, why: str) -> Estimate:
        """The declared deployment's always-on instances, each variant priced by its type, plus the green fleet of
        its blue/green updates."""
        misfit = self.misfit(pattern)
        running = self.running(floor, why)
        types = list(dict.fromkeys(r.instance_type for r in running if r.instance_type))
        shape = _fleet_shape(running, pattern)
        blocked = [f"{r.label}: {r.note}" for r in running if r.instance_type is None]
        unpriced = [t for t in types if self.prices.hourly(t) is None]
        first = types[0] if types else (self.serving.instance_type if self.serving else None)
        if blocked or unpriced:
            why_not = "; ".join(blocked) or self.prices.no_price(_and(unpriced))
            return Estimate(pattern, shape, None, misfit=misfit, unpriced=why_not, instance_type=first)
        h = self.a.hours_per_month
        parts, monthly = [], 0.0
        for r in running:
            rate = self.prices.hourly(str(r.instance_type))
            assert rate is not None
            cost = always_on_monthly(rate.value, r.count, h)
            monthly += cost
            if len(running) == 1:  # the shape names the type
                parts.append(f"{r.count} {TIMES} {_rate(rate.value)}/h {TIMES} {num(h)} h = {usd(cost)}"
                             + (f", {r.note}" if r.note else ""))
                continue
            note = f" ({r.note})" if r.note else ""
            parts.append(f"{r.label} {r.count} {TIMES} {r.instance_type} {TIMES} {_rate(rate.value)}/h {TIMES} "
                         f"{num(h)} h = {usd(cost)}{note}")
        green = self.green_fleet(running)
        if green is not None:
            cost, text = green
            monthly += cost
            parts.append(text)
        return Estimate(pattern, shape, monthly, "; ".join(parts), misfit, instance_type=first)

    def green_fleet(self, running: list[Instances]) -> tuple[float, str] | None:
        """The green fleet's cost a month: each blue/green update runs the new config's instances beside the old
        ones until the blue fleet is terminated."""
        policy = self.resolved.policy if self.resolved is not None else None
        if policy is None or not self.a.updates_per_month:
            return None
        count = sum(r.count for r in running)
        hours, how = green_fleet_hours(policy, count)
        if hours is None:
            return 0.0, f"the green fleet of a blue/green update is not priced: {how}"
        if not hours:
            return None
        cost = 0.0
        for r in running:
            rate = self.prices.hourly(str(r.instance_type))
            cost += (rate.value if rate else 0.0) * r.count * hours * self.a.updates_per_month
        updates = num(self.a.updates_per_month)
        return cost, (f"blue/green update: the green fleet of {count} instance{'s' if count != 1 else ''} for "
                      f"{num(round(hours, 2))} h ({how}) {TIMES} {updates} update{'s' if updates != '1' else ''} a "
                      f"month = {usd(cost)}")

    def declared_floor(self, *, minimum: int) -> tuple[int, str]:
        """Instances always running as declared: the autoscaling minimum, else instance_count (else 1)."""
        serving = self.serving
        auto = serving.autoscaling if serving else None
        if auto is not None and auto.min_instances is not None:
            return max(minimum, auto.min_instances), f"the autoscaling minimum of {auto.min_instances}"
        if serving and serving.instance_count is not None:
            return max(minimum, serving.instance_count), "as declared in instance_count"
        return max(minimum, 1), "1 assumed: instance_count is not declared"

    def asynchronous(self, declared: bool) -> Estimate:
        priced = self._priced("async", declared, "asynchronous endpoint")
        if declared:
            floor, why = self.declared_floor(minimum=0)
            if floor >= 1:
                return self.fleet_estimate("async", floor, why)
        elif not isinstance(priced, Estimate):
            start_ms = self.a.instance_start_minutes * 60_000
            slow_ok = self.w.latency_p99_ms is None or self.w.latency_p99_ms >= start_ms
            floor, why = (0, "scaled to zero") if slow_ok else \
                (self.a.min_instances, f"kept warm for the p99, {self.a.min_instances} for availability across "
                                       "Availability Zones")
        if isinstance(priced, Estimate):
            return priced
        chosen, hourly, misfit = priced
        if floor >= 1:
            monthly = always_on_monthly(hourly, floor, self.a.hours_per_month)
            basis = (f"{floor} {TIMES} {_rate(hourly)}/h {TIMES} {num(self.a.hours_per_month)} h = {usd(monthly)}, "
                     f"{why}")
            shape = f"{chosen.instance_type} {TIMES} {floor} always on (async)"
            return Estimate("async", shape, monthly, basis, misfit, instance_type=chosen.instance_type)
        tp = self._throughput(chosen)
        if tp is None:
            return Estimate("async", f"{chosen.instance_type} scaled to zero (async)", None, misfit=misfit,
                            unpriced="needs traffic.processing_s (or throughput_rps_per_instance)")
        hours = scale_to_zero_instance_hours(self.month_requests, tp.rps, self.a)
        monthly = hours * hourly
        basis = (f"{hours:,.2f} instance-hours {TIMES} {_rate(hourly)}/h = {usd(monthly)} (up while requests arrive, "
                 f"stopped after {num(self.a.scale_in_minutes)} min idle, {num(self.a.instance_start_minutes)} min per "
                 f"start; {num(tp.rps)} rps per instance: {tp.basis})")
        return Estimate("async", f"{chosen.instance_type} scaled to zero when idle (async)", monthly, basis, misfit,
                        instance_type=chosen.instance_type)

    def batch(self, declared: bool) -> Estimate:
        priced = self._priced("batch", declared, "batch transform")
        if isinstance(priced, Estimate):
            return priced
        chosen, hourly, misfit = priced
        count = 1
        if declared and self.serving and self.serving.instance_count:
            count = self.serving.instance_count
        jobs = self.a.batch_jobs_per_day
        shape = (f"batch transform on {chosen.instance_type} {TIMES} {count}, "
                 f"{num(jobs)} job{'s' if jobs != 1 else ''} a day")
        tp = self._throughput(chosen)
        if tp is None:
            return Estimate("batch", shape, None, misfit=misfit,
                            unpriced="needs traffic.processing_s (or throughput_rps_per_instance)")
        hours = batch_instance_hours(self.w.requests_per_day, tp.rps, count, self.a)
        monthly = hours * hourly
        work_s = self.w.requests_per_day / tp.rps
        basis = (f"{num(self.a.days_per_month)} days {TIMES} ({num(jobs)} job{'s' if jobs != 1 else ''} {TIMES} "
                 f"{count} instance{'s' if count != 1 else ''} {TIMES} "
                 f"{num(self.a.instance_start_minutes)} min start-up + {num(self.w.requests_per_day)} requests "
                 f"{DIVIDED} {num(tp.rps)} rps = {num(work_s)} s) = {hours:,.2f} instance-hours {TIMES} "
                 f"{_rate(hourly)}/h = {usd(monthly)}")
        return Estimate("batch", shape, monthly, basis, misfit, instance_type=chosen.instance_type)

    # serverless ----------------------------------------------------------------------------------------------------
    def serverless(self, declared: bool) -> Estimate:
        conf = self.serving.serverless if self.serving else None
        memory = conf.memory_mb if conf and conf.memory_mb else self.a.serverless_memory_mb
        if declared:
            provisioned = (conf.provisioned_concurrency or 0) if conf else 0
        else:
            provisioned = self.serverless_concurrency() if self.tight_latency() else 0
        misfit = self.misfit("serverless", provisioned=provisioned)
        shape = f"serverless {num(memory / 1024)} GB" + (f" with {provisioned} provisioned" if provisioned else "")
        p = self.prices
        lacking = [name for name, rate in (("compute_per_gb_s", p.compute_per_gb_s), ("data_per_gb", p.data_per_gb),
                                           ("provisioned_per_gb_s", p.provisioned_per_gb_s if provisioned else 0))
                   if rate is None]
        if lacking or p.compute_per_gb_s is None or p.data_per_gb is None:
            return Estimate("serverless", shape, None, misfit=misfit,
                            unpriced=p.no_price(f"serverless ({_and(lacking)})").replace(
                                f"prices.{p.region}]", f"prices.{p.region}.serverless]"))
        if self.w.processing_s is None:
            return Estimate("serverless", shape, None, misfit=misfit, unpriced="needs traffic.processing_s")
        compute = serverless_compute_monthly(self.month_requests, self.w.processing_s, memory,
                                             p.compute_per_gb_s.value)
        data_gb = serverless_data_gb(self.month_requests, self.w.payload_kb or 0)
        data = data_gb * p.data_per_gb.value
        parts = [f"compute {self.month_requests:,.0f} requests {TIMES} {num(self.w.processing_s)} s {TIMES} "
                 f"{num(memory / 1024)} GB {TIMES} {_rate(p.compute_per_gb_s.value)}/GB-s = {usd(compute)}",
                 f"data {data_gb:,.3f} GB {TIMES} {_rate(p.data_per_gb.value)}/GB = {usd(data)}"]
        kept = 0.0
        if provisioned:
            assert p.provisioned_per_gb_s is not None
            kept = provisioned_monthly(provisioned, memory, self.a.hours_per_month, p.provisioned_per_gb_s.value)
            parts.append(f"provisioned {provisioned} {TIMES} {num(memory / 1024)} GB {TIMES} "
                         f"{self.a.hours_per_month * SECONDS_PER_HOUR:,.0f} s {TIMES} "
                         f"{_rate(p.provisioned_per_gb_s.value)}/GB-s = {usd(kept)}")
        monthly = compute + data + kept
        return Estimate("serverless", shape, monthly, "; ".join(parts), misfit)

    def estimate(self, pattern: PatternName, declared: bool) -> Estimate:
        if pattern == "realtime":
            return self.realtime(declared)
        if pattern == "serverless":
            return self.serverless(declared)
        if pattern == "async":
            return self.asynchronous(declared)
        return self.batch(declared)


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _fleet_shape(running: list[Instances], pattern: PatternName) -> str:
    """"ml.c5.xlarge × 4 always on (churn-v6 (production) × 2, churn-v7-shadow (shadow) × 2)"."""
    suffix = " (async)" if pattern == "async" else ""
    types = list(dict.fromkeys(r.instance_type or "?" for r in running))
    if len(running) == 1:
        r = running[0]
        return f"{r.instance_type or '?'} {TIMES} {r.count} always on{suffix}"
    total = sum(r.count for r in running)
    head = f"{types[0]} {TIMES} {total}" if len(types) == 1 else f"{total} instances"
    parts = ", ".join(f"{r.label} {TIMES} {r.count}" if len(types) == 1 else
                      f"{r.label} {r.instance_type or '?'} {TIMES} {r.count}" for r in running)
    return f"{head} always on{suffix} ({parts})"


def pricing_region(spec: Spec, resolved: ResolvedDeployment | None, fallback: str) -> tuple[str, str]:
    """The Region to price, and where it was read: the deployment's (serving.region, or the code's: the model's
    ECR image), else `fallback` (SRV001's region parameter)."""
    region = spec.serving.region if spec.serving else None
    if region:
        fact = resolved.fact(("serving", "region")) if resolved is not None else None
        if fact is not None and fact.origin == "code" and fact.via:
            return region, f"{fact.via}, {fact.at.path}:{fact.at.line}"
        return region, "serving.region"
    return fallback, ("the SRV001 region parameter: neither serving.region nor the infrastructure code states the "
                      "endpoint's Region")


def estimate_costs(spec: Spec, facts: Facts, prices: PriceBook, assumptions: Assumptions,
                   resolved: ResolvedDeployment | None = None, region_how: str = "") -> CostView:
    """Every pattern's monthly estimate for the spec's traffic, the declared one marked, and the assumptions."""
    workload, missing = workload_of(spec)
    if workload is None:
        return CostView(None, (), (), missing)
    est = _Estimator(spec, facts, prices, assumptions, workload, resolved)
    est.region_how = region_how
    declared_pattern = spec.serving.pattern if spec.serving else None
    options = tuple(est.estimate(p, declared=p == declared_pattern) for p in PATTERNS)
    declared = next((e for e in options if e.pattern == declared_pattern), None)
    return CostView(declared, options, _assumptions(est) + tuple(_price_lines(est, options)), missing, prices)


def _price_lines(est: _Estimator, options: tuple[Estimate, ...]) -> list[str]:
    """The prices the figures use, each with where it comes from (the facts table's source, or the team)."""
    lines = []
    for itype in dict.fromkeys(e.instance_type for e in options if e.instance_type):
        rate = est.prices.hourly(itype)
        if rate is not None:
            lines.append(f"{itype} {_rate(rate.value)}/h ({rate.origin})")
    p = est.prices
    for name, rate in (("serverless compute", p.compute_per_gb_s), ("serverless data", p.data_per_gb),
                       ("serverless provisioned concurrency", p.provisioned_per_gb_s)):
        if rate is not None:
            unit = "GB" if name == "serverless data" else "GB-s"
            lines.append(f"{name} {_rate(rate.value)}/{unit} ({rate.origin})")
    return lines


def _assumptions(est: _Estimator) -> tuple[str, ...]:
    a, w, facts = est.a, est.w, est.facts
    serverless = facts.pattern("serverless")
    how = f" ({est.region_how})" if est.region_how else ""
    out = [
        f"{est.prices.region}{how} on-demand prices ({_table_read(facts, est.prices.region)}, unless overridden); "
        "EBS storage and data transfer outside SageMaker are not included",
        f"{num(a.hours_per_month)} hours a month: {num(w.requests_per_day)} requests a day = "
        f"{est.month_requests:,.0f} a month",
    ]
    if est.chosen is not None:
        tp = instance_throughput(est.chosen.instance, w, declared=est.chosen.declared)
        if tp is not None:
            out.append(f"{est.chosen.instance_type} serves {num(tp.rps)} requests/s ({tp.basis})")
    conf = est.serving.serverless if est.serving else None
    memory = conf.memory_mb if conf and conf.memory_mb else a.serverless_memory_mb
    out.append(f"serverless memory {memory} MB; data billed for each request's payload in and the same size out")
    if est.tight_latency():
        low = num(serverless.fact("cold_start_s_min").value)
        high = num(serverless.fact("cold_start_s_max").value)
        out.append(f"the {num(w.latency_p99_ms or 0)} ms p99 is below serverless cold starts ({low}-{high} s): "
                   f"serverless is priced with provisioned concurrency for the peak ({est.serverless_concurrency()})")
    rate = est.prices.provisioned_per_gb_s
    if rate is not None and rate.origin.startswith("facts table") and "assumption" in rate.origin:
        out.append("provisioned concurrency priced at the on-demand GB-second rate (no published price was found)")
    out.append(f"alternatives on instances: at least {a.min_instances} always on (availability across Availability "
               f"Zones), the peak + {num(a.headroom * 100)} % headroom, no burstable (T-family) instance type")
    if est.resolved is not None and est.resolved.policy is not None:
        out.append(f"{num(a.updates_per_month)} blue/green update(s) a month, each running the green fleet beside "
                   "the blue one until the blue fleet is terminated (provisioning time not counted)")
    start = num(a.instance_start_minutes)
    out.append(f"batch: {num(a.batch_jobs_per_day)} transform job(s) a day, {start} min start-up billed per instance")
    out.append(f"async scaled to zero: requests arrive at random, an instance stops after {num(a.scale_in_minutes)} "
               f"min idle and takes {start} min (billed) to start")
    return tuple(out)


def _table_read(facts: Facts, region: str) -> str:
    """When the facts table's prices for `region` were read (its own entries only, never another Region's)."""
    table = facts.prices.get(region)
    if table is None:
        return "the facts table has none sourced for this Region"
    rates: list[Sourced] = [*table.instances.values(), *(table.serverless.rates() if table.serverless else [])]
    return f"the facts table, read {max(item.read for item in rates).isoformat()}" if rates else \
        "the facts table has none sourced for this Region"


def _bytes(n: float) -> str:
    if n % (1024 * 1024) == 0:
        return f"{num(n / (1024 * 1024))} MiB"
    if n >= 1e9:
        return f"{num(n / 1e9)} GB"
    return f"{num(n / 1e6)} MB"


def _hours(h: float) -> str:
    return f"{num(h)} h"


def monthly_costs(spec: Spec, params: Mapping[str, Any] | None = None,
                  resolved: ResolvedDeployment | None = None) -> CostView:
    """The cost view of a deployment (its judged spec and, when read, its infrastructure code) with SRV001's
    parameters (region, hours_per_month, prices, ...). Raises PriceError when the parameters are malformed."""
    params = params or {}
    assumptions = Assumptions.from_params(params)
    facts = load_facts()
    region, how = pricing_region(spec, resolved, assumptions.region)
    return estimate_costs(spec, facts, price_book(facts, region, params.get("prices")), assumptions, resolved, how)
