"""The deployment model: what will be deployed, fact by fact, each with where it came from.

The spec holds intent; the infrastructure code (CloudFormation, CDK output, SAM, Serverless Framework, Terraform,
deploy scripts) says what gets deployed. `resolve()` (resolve.py) reads both into one `ResolvedDeployment`:

- `spec`: the spec the domain rules judge, with every fact the code states put in place of (or beside) what the
  spec wrote, so that a lean spec is complete and a spec that disagrees with the code is judged on the code;
- `facts`: for each spec path the code speaks to, a `Fact` with its value and origin (the spec line, the IaC
  file:line and the parameter or variable it came through) or why it is known only at deploy time;
- `variants` / `shadow_variants`: the production and shadow variants the endpoint config deploys;
  `experiment_shadows` those of a shadow test (`AWS::SageMaker::InferenceExperiment` in ShadowMode);
- `policy`: the endpoint's DeploymentConfig; the rollout mechanism (`rollout.mechanism`, weights or guardrails) is
  a fact like the others, read from the endpoint config and its DeploymentConfig.

The IAC rules keep comparing the spec as written with the code; the domain rules never see the difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mlgate.deployment.origin import Origin
from mlgate.evidence.iac.model import TrafficPolicy, Value
from mlgate.result import Location
from mlgate.spec.models import Spec
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    from mlgate.deployment.alarms import DeployedAlarm


@dataclass(frozen=True)
class Fact:
    """One judged fact of the deployment and where it came from.

    origin: `code` (only the infrastructure code states it, or the code overrides what the spec claims),
    `spec+code` (both state it and agree), `spec` (only the spec states it: the code leaves it to deploy time,
    `unknown` says why, or no code speaks to it)."""

    path: PathT
    value: Any
    origin: Origin
    at: Location  # where the judged value is written
    via: str | None = None  # how the code's value was reached: "the Default of parameter X", "var.x set in ..."
    unknown: str | None = None  # the code computes it at deploy time: why, and its placeholder
    claimed: Any = None  # the spec's value, when it differs from the code's
    claimed_at: Location | None = None

    @property
    def dotted(self) -> str:
        return ".".join(str(p) for p in self.path)

    @property
    def disagrees(self) -> bool:
        return self.claimed_at is not None and self.origin == "code"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"fact": self.dotted, "value": _plain(self.value), "origin": self.origin,
                               "location": self.at.to_json()}
        if self.via:
            out["via"] = self.via
        if self.unknown:
            out["unknown"] = self.unknown
        if self.claimed_at is not None:
            out["claimed"] = _plain(self.claimed)
            out["claimed_location"] = self.claimed_at.to_json()
        return out


@dataclass(frozen=True)
class Running:
    """One variant the endpoint config runs, as the cost estimate counts it: its instances, always on."""

    variant: str
    role: Literal["production", "shadow"]
    instance_type: str | None  # None: serverless, or known only at deploy time (`unknown` says why)
    count: int | None  # the autoscaling minimum when a scaling target names the variant, else InitialInstanceCount
    at: Location
    serverless: bool = False
    unknown: str | None = None
    artifact: Value | None = None  # the ModelDataUrl of the variant's model, when the code defines the model


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@dataclass(frozen=True)
class VariantCapacity:
    """What one production variant of the endpoint config runs on (None: the code does not say, or not before
    deployment)."""

    variant: str
    instance_type: str | None
    count: int | None
    min_instances: int | None
    max_instances: int | None
    at: Location


@dataclass
class ResolvedDeployment:
    """What will be deployed: the spec with the infrastructure code's facts in place, and where each came from."""
    spec: Spec  # the spec with the code's facts in place: what the domain rules judge
    facts: dict[PathT, Fact] = field(default_factory=dict)
    source: str | None = None  # the infrastructure code read ("deploy/stack.yaml"), None when the spec names none
    problem: str | None = None  # why the code could not be read or the endpoint not found (IAC001 reports it)
    variants: list[str] | None = None  # production variant names the endpoint config deploys (None: not known)
    shadow_variants: list[str] | None = None
    variant_locations: dict[str, Location] = field(default_factory=dict)
    config_at: Location | None = None  # the endpoint config, when found
    fleet: list[Running] | None = None  # every variant the endpoint config runs (None: no code, or unreadable)
    # the endpoint's DeploymentConfig (how UpdateEndpoint shifts each new endpoint config), when the code writes one
    policy: TrafficPolicy | None = None
    policy_unknown: str | None = None  # why the DeploymentConfig cannot be read before deployment
    endpoint_at: Location | None = None
    # instances of each production variant the config deploys, by name (None: a count known only at deploy time)
    variant_instances: dict[str, int | None] = field(default_factory=dict)
    # the managed shadow test (AWS::SageMaker::InferenceExperiment in ShadowMode) on this endpoint, and the shadow
    # variants it runs (beside the config's ShadowProductionVariants)
    experiment_at: Location | None = None
    experiment_shadows: list[str] = field(default_factory=list)
    alarms: list[DeployedAlarm] = field(default_factory=list)  # the operational alarms (spec and code joined)
    capacities: dict[str, VariantCapacity] = field(default_factory=dict)  # per production variant, from the code
    # the new model's container is made from a model package (ModelPackageName) that the code does not define:
    # it may be an AWS Marketplace subscription, which deployment guardrails exclude; the code cannot tell
    model_package: Value | None = None

    def fact(self, path: PathT) -> Fact | None:
        return self.facts.get(tuple(path))

    def location(self, path: PathT) -> Location | None:
        """Where the judged value of `path` (or of its nearest parent the code states) is written in the code,
        when the code is what decided it; None when the spec's own line is the place."""
        path = tuple(path)
        while path:
            fact = self.facts.get(path)
            if fact is not None:
                return fact.at if fact.origin == "code" else None
            path = path[:-1]
        return None

    def counts(self) -> dict[str, int]:
        """How much of the deployment was verified: facts confirmed by the code, known only at deploy time, and
        taken from the spec alone (no code speaks to them)."""
        out = {"code": 0, "deploy-time": 0, "spec": 0}
        for fact in self.facts.values():
            if fact.unknown:
                out["deploy-time"] += 1
            elif fact.origin in ("code", "spec+code"):
                out["code"] += 1
            else:
                out["spec"] += 1
        return out
