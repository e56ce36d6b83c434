"""SageMaker facts as data: per serving pattern its hard limits, per instance type its vCPUs, memory and GPUs, and
on-demand prices per region. Every number in `sagemaker.yaml` names its source and the day it was read; `cite`
turns that into the words a finding quotes.

    facts = load_facts()
    facts.pattern("serverless").payload_bytes.value   # 4000000
    facts.cite(facts.pattern("serverless").payload_bytes)
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from mlgate.yamlload import parse_yaml

PatternName = Literal["realtime", "serverless", "async", "batch"]
PATTERNS: tuple[PatternName, ...] = ("realtime", "serverless", "async", "batch")
Confidence = Literal["high", "medium-high", "medium", "low", "assumption"]


def _as_tuple(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


SourceKeys = Annotated[tuple[str, ...], BeforeValidator(_as_tuple)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Sourced(_Frozen):
    """Where a value was read, what exactly was read there, when, and how sure it is."""

    source: SourceKeys = Field(min_length=1)
    ref: str
    read: dt.date
    confidence: Confidence
    note: str | None = None


class Fact(Sourced):
    value: bool | int | float


class Exclusion(Sourced):
    feature: str
    label: str


class Source(_Frozen):
    title: str
    detail: str
    where: str


class Pattern(_Frozen):
    label: str
    synchronous: Fact
    payload_bytes: Fact
    processing_s: Fact
    gpu: Fact
    scale_to_zero: Fact
    min_instances: Fact | None = None
    availability_min_instances: Fact | None = None
    scale_from_zero: Fact | None = None
    model_monitor_multi_model: Fact | None = None
    max_instances: Fact | None = None
    memory_mb_min: Fact | None = None
    memory_mb_max: Fact | None = None
    memory_mb_step: Fact | None = None
    max_concurrency_min: Fact | None = None
    max_concurrency_max: Fact | None = None
    provisioned_concurrency_min: Fact | None = None
    provisioned_concurrency_max: Fact | None = None
    cold_start_s_min: Fact | None = None
    cold_start_s_max: Fact | None = None
    invocation_timeout_s_min: Fact | None = None
    invocation_timeout_s_default: Fact | None = None
    request_ttl_s_min: Fact | None = None
    request_ttl_s_max: Fact | None = None
    max_concurrent_invocations_min: Fact | None = None
    max_concurrent_invocations_max: Fact | None = None
    excludes: tuple[Exclusion, ...] = ()

    def fact(self, name: str) -> Fact:
        """A limit that the pattern must have (a KeyError names it when the table lacks it)."""
        value = getattr(self, name, None)
        if not isinstance(value, Fact):
            raise KeyError(f"the facts table has no {name} for the {self.label}")
        return value

    def excluded(self, feature: str) -> Exclusion | None:
        return next((e for e in self.excludes if e.feature == feature), None)


class Rollout(_Frozen):
    """The two rollout mechanisms' limits: deployment guardrails (DeploymentConfig) and variant weights."""

    weights_take_alarms: Fact
    wait_interval_s_min: Fact
    wait_interval_s_max: Fact
    canary_size_max_percent: Fact
    linear_step_min_percent: Fact
    linear_step_max_percent: Fact
    rolling_batch_min_percent: Fact
    rolling_batch_max_percent: Fact
    capacity_unit_instances: Fact
    max_execution_timeout_s_min: Fact
    max_execution_timeout_s_max: Fact
    timeout_exceeds_waits: Fact
    termination_wait_s_max: Fact
    blue_fleet_until_termination: Fact
    default_all_at_once: Fact
    same_variant_name: Fact
    shadow_production_variants: Fact
    excludes: tuple[Exclusion, ...] = ()

    def excluded(self, feature: str) -> Exclusion:
        found = next((e for e in self.excludes if e.feature == feature), None)
        if found is None:
            raise KeyError(f"the facts table has no rollout exclusion {feature}")
        return found


class Instance(Sourced):
    vcpus: int = Field(gt=0)
    memory_gib: float = Field(gt=0)
    gpus: int = Field(ge=0)
    neuron_devices: int = Field(0, ge=0)
    accelerator: str | None = None
    accelerator_memory_gib: float | None = None  # per GPU or Neuron device
    derived: bool = False  # not a row of the table: derived from its family and size

    @property
    def accelerated(self) -> bool:
        """Has a GPU or an AWS Inferentia/Trainium device."""
        return self.gpus > 0 or self.neuron_devices > 0


class SizeException(Sourced):
    """Where one size of a family departs from the family's rule (g5.12xlarge has 4 GPUs, not 1)."""

    gpus: int | None = None
    neuron_devices: int | None = None
    memory_gib: float | None = None


class Family(Sourced):
    """A SageMaker hosting instance family: what every size of it has per vCPU, and its accelerators."""

    memory_gib_per_vcpu: float = Field(gt=0)
    gpus: int = Field(0, ge=0)
    neuron_devices: int = Field(0, ge=0)
    accelerator: str | None = None
    accelerator_memory_gib: float | None = None
    sizes: dict[str, SizeException] = Field(default_factory=dict)


class Metric(Sourced):
    """A CloudWatch metric of an endpoint: what AWS documents it to count, and who publishes it."""

    counts: str
    unit: str
    dimensions: tuple[str, ...] = ()
    patterns: tuple[PatternName, ...] = ()


def size_vcpus(size: str) -> int | None:
    """vCPUs of an EC2 size name: large 2, xlarge 4, Nxlarge 4N (metal and the others: None)."""
    if size == "large":
        return 2
    if size == "xlarge":
        return 4
    head = size.removesuffix("xlarge")
    if head != size and head.isdigit() and int(head) > 0:
        return 4 * int(head)
    return None


class InstancePrice(Sourced):
    hourly: float = Field(gt=0)


class ServerlessRates(_Frozen):
    """A Region's serverless rates; a rate no source gave for the Region is left out (not borrowed from another)."""

    compute_per_gb_s: Fact | None = None
    data_per_gb: Fact | None = None
    provisioned_per_gb_s: Fact | None = None

    def rates(self) -> list[Fact]:
        return [r for r in (self.compute_per_gb_s, self.data_per_gb, self.provisioned_per_gb_s) if r is not None]


class RegionPrices(_Frozen):
    instances: dict[str, InstancePrice] = Field(default_factory=dict)
    serverless: ServerlessRates | None = None


class Regions(Sourced):
    """The commercial AWS Regions SageMaker serves."""

    names: tuple[str, ...] = Field(min_length=1)


class Facts(_Frozen):
    version: Literal[1]
    sources: dict[str, Source]
    patterns: dict[PatternName, Pattern]
    regions: Regions
    instances: dict[str, Instance]
    families: dict[str, Family] = Field(default_factory=dict)
    metrics: dict[str, Metric] = Field(default_factory=dict)
    cloudwatch: dict[str, Fact] = Field(default_factory=dict)
    prices: dict[str, RegionPrices]
    rollout: Rollout

    @model_validator(mode="after")
    def _sources_exist(self) -> Facts:
        missing = sorted({key for item in self.sourced() for key in item.source} - set(self.sources))
        if missing:
            raise ValueError(f"unknown source key(s): {', '.join(missing)}")
        if set(self.patterns) != set(PATTERNS):
            raise ValueError(f"patterns must be exactly {', '.join(PATTERNS)}")
        stray = sorted(set(self.prices) - set(self.regions.names))
        if stray:
            raise ValueError(f"prices for {', '.join(stray)}, not among the regions")
        return self

    def sourced(self) -> list[Sourced]:
        """Every sourced entry of the table (facts, exclusions, instance rows, prices)."""
        out: list[Sourced] = []
        for pattern in self.patterns.values():
            out.extend(v for v in pattern.__dict__.values() if isinstance(v, Fact))
            out.extend(pattern.excludes)
        out.append(self.regions)
        out.extend(self.instances.values())
        out.extend(v for v in self.rollout.__dict__.values() if isinstance(v, Fact))
        out.extend(self.rollout.excludes)
        out.extend(self.families.values())
        out.extend(size for family in self.families.values() for size in family.sizes.values())
        out.extend(self.metrics.values())
        out.extend(self.cloudwatch.values())
        for region in self.prices.values():
            out.extend(region.instances.values())
            if region.serverless:
                out.extend(region.serverless.rates())
        return out

    def pattern(self, name: PatternName) -> Pattern:
        return self.patterns[name]

    def instance(self, instance_type: str) -> Instance | None:
        """The type's row of the table, else what its family and size give (None for a name that is not
        ml.<known family>.<size>)."""
        return self.instances.get(instance_type) or self.derive(instance_type)

    def derive(self, instance_type: str) -> Instance | None:
        parts = instance_type.split(".")
        if len(parts) != 3 or parts[0] != "ml" or parts[1] not in self.families:
            return None
        family, size = self.families[parts[1]], parts[2]
        vcpus = size_vcpus(size)
        if vcpus is None:
            return None
        extra = family.sizes.get(size)
        memory = extra.memory_gib if extra and extra.memory_gib else vcpus * family.memory_gib_per_vcpu
        gpus = extra.gpus if extra and extra.gpus is not None else family.gpus
        devices = extra.neuron_devices if extra and extra.neuron_devices is not None else family.neuron_devices
        return Instance(vcpus=vcpus, memory_gib=memory, gpus=gpus, neuron_devices=devices,
                        accelerator=family.accelerator, accelerator_memory_gib=family.accelerator_memory_gib,
                        derived=True, source=family.source, read=family.read, confidence=family.confidence,
                        ref=f"{instance_type} derived from its family and size ({size}: {vcpus} vCPUs); "
                            f"{family.ref}")

    def metric(self, name: str) -> Metric | None:
        return self.metrics.get(name)

    @property
    def microsecond_metrics(self) -> frozenset[str]:
        """The metrics CloudWatch publishes in microseconds (ModelLatency, OverheadLatency, ...): a threshold the
        spec writes in milliseconds is a thousand times larger there. The one list every reader uses."""
        return frozenset(name for name, metric in self.metrics.items() if metric.unit == "microseconds")

    def cite(self, item: Sourced) -> str:
        """Where a value comes from, for a message to put in parentheses: "source: InvokeEndpointInput.Body is at
        most 6,291,456 bytes, botocore 1.43.11 SageMaker Runtime API model, read 2026-11-26"."""
        titles = "; ".join(self.sources[key].title for key in item.source)
        extra = f"; confidence {item.confidence}" if item.confidence not in ("high", "medium-high") else ""
        return f"source: {item.ref}, {titles}, read {item.read.isoformat()}{extra}"


FACTS_FILE = "sagemaker.yaml"


@lru_cache(maxsize=1)
def load_facts() -> Facts:
    """The facts table shipped in the package (parsed once per process)."""
    text = (resources.files(__name__) / FACTS_FILE).read_text(encoding="utf-8")
    return Facts.model_validate(parse_yaml(text).data)


def gpu_family(instance_type: str) -> bool | None:
    """For a type missing from the table: True for the GPU families (ml.g*, ml.p*), False for the others, None
    when the name is not an ml.<family>.<size> type. AWS names its GPU instance families G and P."""
    parts = instance_type.split(".")
    if len(parts) != 3 or parts[0] != "ml" or not parts[1]:
        return None
    return parts[1][0] in ("g", "p")
