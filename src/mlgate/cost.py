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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate.facts import PATTERNS, Facts, Instance, PatternName, gpu_family, load_facts
from mlgate.spec.models import Spec

GIB = 1024**3
TIMES = "\u00d7"  # the multiplication sign, in figures shown to people
DIVIDED = "\u00f7"
SECONDS_PER_HOUR = 3600.0


class PriceError(ValueError):
    """A price override that is not a mapping of region -> instance type -> hourly USD (plus serverless rates)."""


@dataclass(frozen=True)
class Assumptions:
    region: str = "us-east-1"
    hours_per_month: float = 730.0
    serverless_memory_mb: int = 2048  # when the spec declares no serverless.memory_mb
    batch_jobs_per_day: float = 1.0
    instance_start_minutes: float = 5.0  # a batch job's or a scaled-to-zero async endpoint's instance start-up
    scale_in_minutes: float = 15.0  # idle time before a scaled-to-zero async endpoint stops its instance

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
            elif isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 \
                    or (isinstance(default, int) and value != int(value)):
                kind = "a positive whole number" if isinstance(default, int) else "a positive number"
                raise PriceError(f"parameter {name} is {value!r}, not {kind}")
            values[name] = int(value) if isinstance(default, int) else value
        return cls(**values)

    @property
    def days_per_month(self) -> float:
        return self.hours_per_month / 24


@dataclass(frozen=True)
class Rate:
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

    def hourly(self, instance_type: str) -> Rate | None:
        return self.instances.get(instance_type)


_SERVERLESS_RATES = ("compute_per_gb_s", "data_per_gb", "provisioned_per_gb_s")


def price_book(facts: Facts, region: str, overrides: Any = None) -> PriceBook:
    """Prices for `region`: the facts table's, then `overrides` (SRV001's `prices` parameter: region -> {instance
    type: hourly USD, "serverless": {compute_per_gb_s, data_per_gb, provisioned_per_gb_s}}) on top."""
    instances: dict[str, Rate] = {}
    rates: dict[str, Rate] = {}
    table = facts.prices.get(region)
    if table is not None:
        for name, price in table.instances.items():
            instances[name] = Rate(price.hourly, f"facts table: {facts.cite(price)}")
        if table.serverless is not None:
            for key in _SERVERLESS_RATES:
                fact = getattr(table.serverless, key)
                rates[key] = Rate(float(fact.value), f"facts table: {facts.cite(fact)}")
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
    return PriceBook(region, instances, rates.get("compute_per_gb_s"), rates.get("data_per_gb"),
                     rates.get("provisioned_per_gb_s"))


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

    @property
    def cheapest(self) -> Estimate | None:
        """The cheapest priced pattern that fits; the declared pattern wins a tie."""
        fitting = [e for e in self.options if e.fits and e.monthly_usd is not None]
        if not fitting:
            return None
        declared = self.declared.pattern if self.declared else None
        return min(fitting, key=lambda e: (e.monthly_usd, e.pattern != declared))

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
    instance_type: str
    instance: Instance | None
    price: Rate | None
    declared: bool


def _suits(instance_type: str, instance: Instance | None, gpu: bool) -> bool:
    if instance is not None:
        return instance.gpus > 0 if gpu else not instance.accelerated
    family = gpu_family(instance_type)
    return family is True if gpu else family is False


def choose_instance(spec: Spec, facts: Facts, prices: PriceBook, workload: Workload) -> _Chosen | None:
    """The declared instance type when it suits the GPU need, else the cheapest priced type in the table that does."""
    declared = spec.serving.instance_type if spec.serving else None
    if declared and _suits(declared, facts.instance(declared), workload.gpu):
        return _Chosen(declared, facts.instance(declared), prices.hourly(declared), True)
    options = [(rate.value, name) for name, rate in prices.instances.items()
               if (inst := facts.instance(name)) is not None and _suits(name, inst, workload.gpu)]
    if not options:
        return None
    _, name = min(options)
    return _Chosen(name, facts.instance(name), prices.hourly(name), False)


class _Estimator:
    def __init__(self, spec: Spec, facts: Facts, prices: PriceBook, a: Assumptions, workload: Workload) -> None:
        self.spec, self.facts, self.prices, self.a, self.w = spec, facts, prices, a, workload
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
            return chosen, (f"no price for {chosen.instance_type} in {self.prices.region}; add it under the SRV001 "
                            f"parameter prices.{self.prices.region}")
        return chosen, None

    def _throughput(self, chosen: _Chosen) -> Throughput | None:
        return instance_throughput(chosen.instance, self.w, declared=chosen.declared)

    def realtime(self, declared: bool) -> Estimate:
        chosen, unpriced = self._instance(declared)
        misfit = self.misfit("realtime")
        if chosen is None or unpriced:
            return Estimate("realtime", chosen.instance_type if chosen else "real-time endpoint", None,
                            misfit=misfit, unpriced=unpriced)
        assert chosen.price is not None
        if declared:
            count, why = self.declared_floor(minimum=1)
        else:
            tp = self._throughput(chosen)
            if tp and self.w.peak_rps:
                count = max(1, math.ceil(self.w.peak_rps / tp.rps - 1e-9))
                why = f"for a peak of {num(self.w.peak_rps)} rps at {num(tp.rps)} rps each, {tp.basis}"
            else:
                count, why = 1, "one instance"
        monthly = always_on_monthly(chosen.price.value, count, self.a.hours_per_month)
        basis = (f"{count} {TIMES} {_rate(chosen.price.value)}/h {TIMES} {num(self.a.hours_per_month)} h "
                 f"= {usd(monthly)}, {why}")
        return Estimate("realtime", f"{chosen.instance_type} {TIMES} {count} always on", monthly, basis, misfit,
                        instance_type=chosen.instance_type)

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
        chosen, unpriced = self._instance(declared)
        misfit = self.misfit("async")
        if chosen is None or unpriced:
            return Estimate("async", chosen.instance_type if chosen else "asynchronous endpoint", None,
                            misfit=misfit, unpriced=unpriced)
        assert chosen.price is not None
        hourly = chosen.price.value
        if declared:
            floor, why = self.declared_floor(minimum=0)
        else:
            start_ms = self.a.instance_start_minutes * 60_000
            slow_ok = self.w.latency_p99_ms is None or self.w.latency_p99_ms >= start_ms
            floor, why = (0, "scaled to zero") if slow_ok else (1, "one instance kept warm for the p99")
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
        chosen, unpriced = self._instance(declared)
        misfit = self.misfit("batch")
        if chosen is None or unpriced:
            return Estimate("batch", chosen.instance_type if chosen else "batch transform", None,
                            misfit=misfit, unpriced=unpriced)
        assert chosen.price is not None
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
        monthly = hours * chosen.price.value
        work_s = self.w.requests_per_day / tp.rps
        basis = (f"{num(self.a.days_per_month)} days {TIMES} ({num(jobs)} job{'s' if jobs != 1 else ''} {TIMES} "
                 f"{count} instance{'s' if count != 1 else ''} {TIMES} "
                 f"{num(self.a.instance_start_minutes)} min start-up + {num(self.w.requests_per_day)} requests "
                 f"{DIVIDED} {num(tp.rps)} rps = {num(work_s)} s) = {hours:,.2f} instance-hours {TIMES} "
                 f"{_rate(chosen.price.value)}/h = {usd(monthly)}")
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
        if p.compute_per_gb_s is None or p.data_per_gb is None or (provisioned and p.provisioned_per_gb_s is None):
            return Estimate("serverless", shape, None, misfit=misfit,
                            unpriced=f"no serverless rates for {p.region}; add prices.{p.region}.serverless")
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


def estimate_costs(spec: Spec, facts: Facts, prices: PriceBook, assumptions: Assumptions) -> CostView:
    """Every pattern's monthly estimate for the spec's traffic, the declared one marked, and the assumptions."""
    workload, missing = workload_of(spec)
    if workload is None:
        return CostView(None, (), (), missing)
    est = _Estimator(spec, facts, prices, assumptions, workload)
    declared_pattern = spec.serving.pattern if spec.serving else None
    options = tuple(est.estimate(p, declared=p == declared_pattern) for p in PATTERNS)
    declared = next((e for e in options if e.pattern == declared_pattern), None)
    return CostView(declared, options, _assumptions(est) + tuple(_price_lines(est, options)), missing)


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
    out = [
        f"{a.region} on-demand prices (the facts table, read {_read_date(facts)}, unless overridden); EBS storage "
        "and data transfer outside SageMaker are not included",
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
    start = num(a.instance_start_minutes)
    out.append(f"batch: {num(a.batch_jobs_per_day)} transform job(s) a day, {start} min start-up billed per instance")
    out.append(f"async scaled to zero: requests arrive at random, an instance stops after {num(a.scale_in_minutes)} "
               f"min idle and takes {start} min (billed) to start")
    return tuple(out)


def _read_date(facts: Facts) -> str:
    dates = sorted({item.read for item in facts.sourced()})
    return dates[-1].isoformat() if dates else "?"


def _bytes(n: float) -> str:
    if n % (1024 * 1024) == 0:
        return f"{num(n / (1024 * 1024))} MiB"
    if n >= 1e9:
        return f"{num(n / 1e9)} GB"
    return f"{num(n / 1e6)} MB"


def _hours(h: float) -> str:
    return f"{num(h)} h"


def monthly_costs(spec: Spec, params: Mapping[str, Any] | None = None) -> CostView:
    """For the reports: the cost view of a spec with SRV001's parameters (region, hours_per_month, prices, ...).
    Raises PriceError when the parameters are malformed."""
    params = params or {}
    assumptions = Assumptions.from_params(params)
    facts = load_facts()
    return estimate_costs(spec, facts, price_book(facts, assumptions.region, params.get("prices")), assumptions)
