"""What the infrastructure code deploys, whatever wrote it: CloudFormation (YAML, JSON, CDK output), Terraform or a
Python deploy script (boto3, the SageMaker Python SDK).

Each reader turns its source into these records; the checks only ever see them. Every fact is a `Value` that keeps
its file:line. A value the code computes at deploy time (a parameter without a default, `!ImportValue`, a condition,
a Terraform variable without a default, a module output) is *unknown*: it carries the reason and a placeholder text
(`${Ref:InstanceType}`, `${Sub:arn:aws:s3:::${Bucket}/*}`, `${var:instance_type}`), never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mlgate.result import Location

Kind = Literal["cloudformation", "terraform", "script"]


@dataclass(frozen=True)
class Value:
    """One fact read from the infrastructure code, or why it cannot be known before deployment."""

    value: Any
    at: Location
    unknown: str | None = None  # why the value is known only at deploy time; None when known
    template: str | None = None  # Sub-style text of a computed value: known parts literal, the rest `${...}`
    placeholder: str | None = None  # how an unknown value is shown, e.g. ${Ref:InstanceType}
    ref: str | None = None  # the resource (logical id / Terraform address) this value names, when it names one
    source: str | None = None  # where a known value came from when not written in place ("default of parameter X")
    # where the value is set when a deployment passes it in (a parameter file, a .tfvars, a module's caller)
    set_at: Location | None = None

    @property
    def known(self) -> bool:
        return self.unknown is None

    @property
    def text(self) -> str:
        """The value as a person reads it: the literal, or the placeholder of an unknown value."""
        if not self.known:
            return self.placeholder or "${unknown}"
        return show(self.value)

    def where(self) -> str:
        return f"{self.at.path}:{self.at.line}"


def show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@dataclass
class Interpolation:
    """Sub-style text being built from literal text and interpolated values (`!Sub`, a Terraform template): a known
    value is written in, an unknown one keeps its own template or its `${...}`; the first unknown part's reason and
    resource stand for the whole."""

    parts: list[str] = field(default_factory=list)
    unknown: str | None = None
    ref: str | None = None

    def literal(self, text: str) -> None:
        self.parts.append(text)

    def value(self, v: Value, written: str) -> None:
        """Adds `v`, interpolated from `${written}`."""
        if v.known:
            self.parts.append(show(v.value))
        else:
            self.unknown = self.unknown or v.unknown
            self.ref = self.ref or v.ref
            self.parts.append(v.template or "${" + written + "}")

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass(frozen=True)
class Serverless:
    """A variant's ServerlessConfig, as the infrastructure code writes it."""
    memory_mb: Value | None
    max_concurrency: Value | None
    provisioned_concurrency: Value | None
    at: Location


@dataclass(frozen=True)
class Variant:
    """A production or shadow variant of an endpoint config, as the infrastructure code writes it."""
    name: Value | None
    model: Value | None
    instance_type: Value | None
    instance_count: Value | None
    weight: Value | None  # None: not written (SageMaker's default is 1.0)
    serverless: Serverless | None
    at: Location
    serverless_unknown: str | None = None  # ServerlessConfig chosen by a condition: the pattern is not known


@dataclass(frozen=True)
class Capture:
    """An endpoint config's DataCaptureConfig, as the infrastructure code writes it."""
    enabled: Value | None  # None: not written (the API's default is enabled; Terraform's is false)
    sampling_percent: Value | None
    destination: Value | None
    kms_key: Value | None
    modes: tuple[Value, ...]
    at: Location


@dataclass(frozen=True)
class AsyncInference:
    """An endpoint config's AsyncInferenceConfig, as the infrastructure code writes it."""
    max_concurrent_invocations_per_instance: Value | None
    output_path: Value | None
    at: Location


@dataclass
class EndpointConfig:
    """A SageMaker endpoint config resource in the infrastructure code."""
    id: str
    name: Value | None
    variants: list[Variant]
    shadow_variants: list[Variant]
    capture: Capture | None
    async_inference: AsyncInference | None
    kms_key: Value | None
    at: Location
    # why the variants (or the whole config) cannot be read: a condition chooses between shapes, a dynamic block
    unknown: str | None = None
    capture_unknown: str | None = None  # why DataCaptureConfig cannot be read
    condition: str | None = None  # the resource exists only under this condition


@dataclass(frozen=True)
class Size:
    """A CapacitySize: CAPACITY_PERCENT or INSTANCE_COUNT, and its value."""

    type: Value | None
    value: Value | None
    at: Location


@dataclass(frozen=True)
class TrafficPolicy:
    """The endpoint's DeploymentConfig: a blue/green traffic shift (or a rolling update) and its timings."""

    type: Value | None  # ALL_AT_ONCE | CANARY | LINEAR, or ROLLING for a RollingUpdatePolicy
    size: Size | None  # CanarySize, LinearStepSize or MaximumBatchSize
    wait_s: Value | None
    termination_wait_s: Value | None
    max_timeout_s: Value | None
    at: Location


@dataclass
class Endpoint:
    """A SageMaker endpoint resource in the infrastructure code, with its deployment policy."""
    id: str
    name: Value | None
    config: Value | None  # the endpoint config it uses (a reference or a name)
    policy: TrafficPolicy | None
    rollback_alarms: list[Value]
    at: Location
    deployment_unknown: str | None = None  # DeploymentConfig chosen by a condition, a dynamic block ...
    deployment_at: Location | None = None
    condition: str | None = None


@dataclass
class CloudWatchAlarm:
    """A CloudWatch metric alarm resource in the infrastructure code."""
    id: str
    name: Value | None
    namespace: Value | None
    metric: Value | None
    dimensions: dict[str, Value]
    statistic: Value | None
    extended_statistic: Value | None
    threshold: Value | None
    at: Location
    condition: str | None = None
    metric_math: bool = False  # defined by `Metrics` (metric math) rather than one metric
    actions: list[Value] = field(default_factory=list)  # AlarmActions: run when the alarm goes into ALARM
    actions_unknown: str | None = None  # the AlarmActions list is computed at deploy time
    actions_enabled: Value | None = None  # ActionsEnabled (default true)


@dataclass
class CompositeAlarm:
    """An alarm on other alarms (AlarmRule), with its own actions."""

    id: str
    name: Value | None
    rule: Value | None
    actions: list[Value]
    at: Location


@dataclass
class ScalingPolicy:
    """An Application Auto Scaling policy: what makes a scalable target change its capacity."""

    id: str
    target: Value | None  # ScalingTargetId (CloudFormation), or None
    resource_id: Value | None  # endpoint/<name>/variant/<variant>
    policy_type: Value | None  # TargetTrackingScaling | StepScaling
    metric: Value | None  # the predefined metric type or the customized metric's name (target tracking)
    target_value: Value | None
    at: Location


@dataclass
class MonitoringSchedule:
    """A SageMaker Model Monitor schedule resource in the infrastructure code."""
    id: str
    name: Value | None
    monitoring_type: Value | None
    endpoint: Value | None
    schedule: Value | None
    job_definition: Value | None
    baseline_statistics: Value | None
    at: Location
    condition: str | None = None


@dataclass
class ScalingTarget:
    """An Application Auto Scaling target (a variant's instance range) in the infrastructure code."""
    id: str
    resource_id: Value | None
    dimension: Value | None
    min_capacity: Value | None
    max_capacity: Value | None
    at: Location


@dataclass
class SageMakerModel:
    """A SageMaker model resource in the infrastructure code: its container, role and network settings."""
    id: str
    name: Value | None
    execution_role: Value | None
    network_isolation: Value | None
    vpc: Location | None  # where VpcConfig is written, when it is
    multi_model: bool
    at: Location
    image: Value | None = None  # the (first) container's Image
    model_data: Value | None = None  # the (first) container's ModelDataUrl
    # the (first) container's ModelPackageName: a model package of the account's own, or one subscribed to on AWS
    # Marketplace (which deployment guardrails exclude); own_package: the package is a resource of the same code
    model_package: Value | None = None
    own_package: bool = False


@dataclass
class InferenceExperiment:
    """A SageMaker inference experiment (a managed shadow test): which endpoint, which production variant's traffic
    is copied, to which shadow variants and what share of it."""

    id: str
    type: Value | None  # ShadowMode is the only type the API defines
    endpoint: Value | None
    source_variant: Value | None
    shadow_variants: list[tuple[Value, Value | None]]  # (ShadowModelVariantName, SamplingPercentage)
    at: Location
    condition: str | None = None


@dataclass(frozen=True)
class UnreadCode:
    """Something in the code mlgate cannot read, with its location: a registry module, a dynamic block ..."""

    what: str
    at: Location


@dataclass
class Infrastructure:
    """Every SageMaker-related resource read from the infrastructure code a spec names, and what could not be read."""
    kind: Kind
    origin: str  # the file or directory the spec names, repo-relative
    files: list[str] = field(default_factory=list)
    endpoints: list[Endpoint] = field(default_factory=list)
    configs: list[EndpointConfig] = field(default_factory=list)
    models: list[SageMakerModel] = field(default_factory=list)
    alarms: list[CloudWatchAlarm] = field(default_factory=list)
    schedules: list[MonitoringSchedule] = field(default_factory=list)
    targets: list[ScalingTarget] = field(default_factory=list)
    policies: list[ScalingPolicy] = field(default_factory=list)
    composites: list[CompositeAlarm] = field(default_factory=list)
    gaps: list[UnreadCode] = field(default_factory=list)
    experiments: list[InferenceExperiment] = field(default_factory=list)

    def merge(self, other: Infrastructure) -> None:
        self.files += other.files
        self.endpoints += other.endpoints
        self.configs += other.configs
        self.models += other.models
        self.alarms += other.alarms
        self.schedules += other.schedules
        self.targets += other.targets
        self.policies += other.policies
        self.composites += other.composites
        self.gaps += other.gaps
        self.experiments += other.experiments


def names(value: Value | None, resource_id: str, resource_name: Value | None) -> bool:
    """Whether `value` (a reference or a name written somewhere) designates the resource `resource_id`."""
    if value is None:
        return False
    if value.ref is not None and value.ref == resource_id:
        return True
    return bool(value.known and resource_name is not None and resource_name.known
                and show(value.value) == show(resource_name.value))
