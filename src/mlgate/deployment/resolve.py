"""Resolve a spec and the infrastructure code it names into one `ResolvedDeployment` (see model.py).

Every fact the code states goes into the judged spec with its origin; where the spec states the same fact and
disagrees, the code's value is judged (it is what will be deployed) and the spec's is kept as the claim, which the
IAC rules report with both locations. A value the code computes at deploy time never replaces the spec's: the
spec's value is judged and the fact says it is unconfirmed, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from mlgate.deployment.alarms import deployed_alarms
from mlgate.deployment.model import Fact, ResolvedDeployment, Running, VariantCapacity
from mlgate.errors import EvidenceError
from mlgate.evidence.iac import infrastructure, model_of, select_endpoint
from mlgate.evidence.iac.model import (
    Endpoint,
    EndpointConfig,
    Infrastructure,
    ScalingPolicy,
    ScalingTarget,
    Value,
    Variant,
    names,
    show,
)
from mlgate.evidence.site import Site
from mlgate.evidence.workspace import Workspace
from mlgate.result import Location
from mlgate.spec.load import LoadedSpec
from mlgate.spec.models import Spec
from mlgate.yamlload import PathT


def named(variants: list[Variant], name: str | None) -> Variant | None:
    if not name:
        return None
    for variant in variants:
        if variant.name is not None and variant.name.known and show(variant.name.value) == name:
            return variant
    return None


def serving_variant(spec: Spec, config: EndpointConfig) -> tuple[Variant | None, str]:
    """The production variant that serves the model this spec deploys, and how it was chosen."""
    rollout = spec.rollout
    canary = rollout.canary.variant if rollout and rollout.canary else None
    previous = rollout.previous.variant if rollout and rollout.previous else None
    found = named(config.variants, canary)
    if found is not None:
        return found, "the canary variant"
    if len(config.variants) == 1:
        return config.variants[0], "the only production variant"
    others = [v for v in config.variants if named([v], previous) is None]
    if len(others) == 1:
        return others[0], "the production variant that is not rollout.previous"
    return None, ""


def new_model_variant(spec: Spec, config: EndpointConfig) -> Variant | None:
    """The variant that runs the new model: the canary, else the shadow (the shadow phase), else the serving one."""
    rollout = spec.rollout
    canary = rollout.canary.variant if rollout and rollout.canary else None
    shadow = rollout.shadow.variant if rollout and rollout.shadow else None
    found = named(config.variants, canary) or named(config.shadow_variants, canary) \
        or named(config.shadow_variants, shadow)
    if found is None and len(config.shadow_variants) == 1:
        found = config.shadow_variants[0]
    return found or serving_variant(spec, config)[0]


def iac_pattern(config: EndpointConfig) -> Value | None:
    if config.async_inference is not None:
        return Value("async", config.async_inference.at)
    for variant in config.variants:
        if variant.serverless is not None:
            return Value("serverless", variant.serverless.at)
        if variant.serverless_unknown:
            return Value(None, variant.at, unknown=variant.serverless_unknown, placeholder="realtime or serverless")
    if config.variants and not config.unknown:
        return Value("realtime", config.variants[0].at)
    return None


@dataclass
class _Collector:
    """Gathers the infrastructure code's facts into the spec, recording for each whether the code or the spec
    stated it."""
    loaded: LoadedSpec
    data: dict[str, Any]  # the spec as written, to be completed with the code's facts
    facts: dict[PathT, Fact]

    def put(self, path: PathT, code: Value | None, *, convert: Callable[[Any], Any] = lambda v: v) -> None:
        """The code's value of `path` (None: the code does not state it)."""
        if code is None:
            return
        written = self._get(path)
        claimed_at = self._spec_at(path) if written is not None else None
        if not code.known:
            if written is not None and claimed_at is not None:
                self.facts[path] = Fact(path, written, "spec", claimed_at, via=code.source,
                                        unknown=f"{code.text} at {code.where()}: {code.unknown}")
            else:
                self.facts[path] = Fact(path, None, "code", code.at, unknown=f"{code.text}: {code.unknown}")
            return
        try:
            value = convert(code.value)
        except (TypeError, ValueError):
            return
        if written is not None and _same(written, value):
            self.facts[path] = Fact(path, written, "spec+code", claimed_at or code.at, via=code.source)
            return
        # a value passed in at deployment (parameter file, .tfvars) is judged where it is set
        self.facts[path] = Fact(path, value, "code", code.set_at or code.at, via=code.source,
                                claimed=written, claimed_at=claimed_at)
        self._set(path, value)

    def spec_only(self, paths: list[PathT]) -> None:
        """Facts the spec states and no code speaks to: taken from the spec alone."""
        for path in paths:
            if path not in self.facts and (value := self._get(path)) is not None:
                self.facts[path] = Fact(path, value, "spec", self._spec_at(path) or Location(self.loaded.rel))

    def _spec_at(self, path: PathT) -> Location | None:
        if not self.loaded.doc.exists(path):
            return None
        pos = self.loaded.pos(path)
        return Location(self.loaded.rel, pos.line, pos.column)

    def _get(self, path: PathT) -> Any:
        node: Any = self.data
        for key in path:
            if not isinstance(node, dict) or node.get(key) is None:
                return None
            node = node[key]
        return node

    def _set(self, path: PathT, value: Any) -> None:
        node = self.data
        for key in map(str, path[:-1]):
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        node[str(path[-1])] = value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or str(a).lower() == str(b).lower()
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        pass
    if isinstance(a, list) and isinstance(b, list):
        return sorted(map(str, a)) == sorted(map(str, b))
    return str(a).rstrip("/") == str(b).rstrip("/")


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(value)


# The facts a team may leave to the code: counted as "from the spec alone" when the spec states them and no code
# does.
RESOLVABLE: list[PathT] = [
    ("serving", "endpoint"), ("serving", "pattern"), ("serving", "instance_type"), ("serving", "instance_count"),
    ("serving", "serverless", "memory_mb"), ("serving", "serverless", "max_concurrency"),
    ("serving", "serverless", "provisioned_concurrency"), ("serving", "autoscaling", "min_instances"),
    ("serving", "autoscaling", "max_instances"), ("serving", "image"), ("serving", "network_isolation"),
    ("serving", "vpc"), ("monitoring", "capture", "enabled"), ("monitoring", "capture", "inputs"),
    ("monitoring", "capture", "outputs"), ("monitoring", "capture", "sampling_percent"),
    ("monitoring", "capture", "destination"), ("monitoring", "capture", "kms_key"),
    ("rollout", "rollback_alarms"), ("rollout", "shadow", "variant"), ("serving", "region"), ("rollout", "mechanism"),
]


def resolve(loaded: LoadedSpec, workspace: Workspace) -> ResolvedDeployment:
    """The deployment the spec and its infrastructure code describe. Never raises for unreadable code: the
    deployment then holds the spec's facts and `problem` says why (IAC001 reports it with its location)."""
    spec = loaded.spec
    data = spec.model_dump(exclude_none=True)
    out = _Collector(loaded, data, {})
    resolved = ResolvedDeployment(spec)
    infra: Infrastructure | None = None
    if spec.infrastructure is not None:
        try:
            infra = infrastructure(Site.written(loaded, workspace))
        except EvidenceError as exc:
            resolved.problem = exc.message
        except OSError as exc:
            resolved.problem = str(exc)
    if infra is not None:
        resolved.source = infra.files[0] if len(infra.files) == 1 else infra.origin
        _from_code(spec, infra, out, resolved)
    else:
        resolved.alarms = deployed_alarms(spec, None, None)
    out.spec_only(RESOLVABLE)
    resolved.facts = out.facts
    resolved.spec = _validated(data, out.facts, spec)
    return resolved


def _validated(data: dict[str, Any], facts: dict[PathT, Fact], spec: Spec) -> Spec:
    """The judged spec; a value from the code that the spec's type refuses is dropped (the IAC rules report it)."""
    for _ in range(len(facts) + 1):
        try:
            return Spec.model_validate(data)
        except ValidationError as exc:
            bad = {tuple(err["loc"]) for err in exc.errors()}
            dropped = False
            for path, fact in list(facts.items()):
                if fact.origin == "code" and any(b[:len(path)] == tuple(path) for b in bad):
                    _restore(data, path, fact.claimed)
                    del facts[path]
                    dropped = True
            if not dropped:
                return spec
    return spec


def _restore(data: dict[str, Any], path: PathT, value: Any) -> None:
    node = data
    for key in path[:-1]:
        node = node.setdefault(str(key), {})
    if value is None:
        node.pop(str(path[-1]), None)
    else:
        node[str(path[-1])] = value


def _from_code(spec: Spec, infra: Infrastructure, out: _Collector, resolved: ResolvedDeployment) -> None:
    selection = select_endpoint(infra, spec.serving.endpoint if spec.serving else None)
    endpoint, config = selection.endpoint, selection.config
    resolved.alarms = deployed_alarms(spec, infra, endpoint)
    if endpoint is None:
        resolved.problem = selection.problem
        return
    out.put(("serving", "endpoint"), endpoint.name)
    resolved.endpoint_at = endpoint.at
    resolved.policy, resolved.policy_unknown = endpoint.policy, endpoint.deployment_unknown
    weights = config is not None and not config.unknown and \
        (mechanism := _mechanism(spec, endpoint, config)) is not None and mechanism.value == "weights"
    # AutoRollbackConfiguration rolls back an UpdateEndpoint; a weights rollout's alarms may be others, and absent
    # there they are still the spec's
    if endpoint.rollback_alarms or (endpoint.policy is not None and not weights):
        alarms = endpoint.rollback_alarms
        unknown = next((a for a in alarms if not a.known), None)
        first = alarms[0].at if alarms else (endpoint.deployment_at or endpoint.at)
        out.put(("rollout", "rollback_alarms"), unknown or Value([show(a.value) for a in alarms], first))
    if config is None or config.unknown:
        return
    resolved.config_at = config.at
    resolved.fleet = _fleet(infra, config)
    resolved.variants = [show(v.name.value) for v in config.variants if v.name is not None and v.name.known]
    resolved.shadow_variants = [show(v.name.value) for v in config.shadow_variants
                                if v.name is not None and v.name.known]
    if any(v.name is None or not v.name.known for v in config.variants + config.shadow_variants):
        resolved.variants = resolved.shadow_variants = None  # a name known only at deploy time: cannot tell
    resolved.variant_locations = {show(v.name.value): v.at for v in config.variants + config.shadow_variants
                                  if v.name is not None and v.name.known}
    resolved.variant_instances = {show(v.name.value): _number(v.instance_count) for v in config.variants
                                  if v.name is not None and v.name.known}
    _experiment(infra, endpoint, out, resolved)
    out.put(("rollout", "mechanism"), _mechanism(spec, endpoint, config))
    out.put(("serving", "pattern"), iac_pattern(config))
    resolved.capacities = {c.variant: c for v in config.variants if (c := _capacity(infra, v)) is not None}
    if len(config.shadow_variants) == 1 and config.shadow_variants[0].name is not None:
        out.put(("rollout", "shadow", "variant"), config.shadow_variants[0].name)
    variant, _ = serving_variant(spec, config)
    if variant is not None:
        if variant.serverless is None:
            out.put(("serving", "instance_type"), variant.instance_type)
            out.put(("serving", "instance_count"), variant.instance_count, convert=int)
        else:
            for field_ in ("memory_mb", "max_concurrency", "provisioned_concurrency"):
                out.put(("serving", "serverless", field_), getattr(variant.serverless, field_), convert=int)
        _autoscaling(infra, variant, out)
    new = new_model_variant(spec, config)
    model = model_of(infra, new) if new is not None else None
    if model is not None:
        out.put(("serving", "image"), model.image)
        out.put(("serving", "region"), _image_region(model.image))
        out.put(("serving", "network_isolation"), model.network_isolation, convert=_flag)
        out.put(("serving", "vpc"), Value(model.vpc is not None, model.vpc or model.at,
                                          source=None if model.vpc else "the model has no VpcConfig"))
        if model.model_data is not None:
            out.facts[("deployed", "model_data")] = _artifact_fact(model.model_data)
        if model.model_package is not None and not model.own_package:
            resolved.model_package = model.model_package
    _capture(infra, config, out)


# ContainerDefinition.Image: "the Docker image for inference container in Amazon EC2 Container Registry must be in
# the same region as the model or endpoint you are creating" (SageMaker API reference, ContainerDefinition).
_ECR_REGION = re.compile(r"\d{12}\.dkr\.ecr(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?/.+")


def _image_region(image: Value | None) -> Value | None:
    """The endpoint's Region, read from its ECR image (an image in a private registry says nothing)."""
    if image is None or not image.known:
        return None
    found = _ECR_REGION.fullmatch(show(image.value))
    if found is None:
        return None
    return Value(found.group(1), image.at, source="the Region of the model's ECR image, which must be the "
                                                  "endpoint's (ContainerDefinition.Image)")


def _fleet(infra: Infrastructure, config: EndpointConfig) -> list[Running]:
    """Every production and shadow variant the config runs, with its instances (the autoscaling minimum when a
    scaling target names the variant) and its model's artifact."""
    out: list[Running] = []
    roles: tuple[tuple[Literal["production", "shadow"], list[Variant]], ...] = (
        ("production", config.variants), ("shadow", config.shadow_variants))
    for role, variants in roles:
        for variant in variants:
            name = variant.name.text if variant.name is not None else "(unnamed)"
            model = model_of(infra, variant)
            artifact = model.model_data if model is not None else None
            if variant.serverless is not None:
                out.append(Running(name, role, None, None, variant.at, serverless=True, artifact=artifact))
                continue
            target = _target_of(infra, variant)
            count = (target.min_capacity if target is not None else None) or variant.instance_count
            itype = variant.instance_type
            unknown = next((f"{v.text}: {v.unknown}" for v in (itype, count) if v is not None and not v.known), None)
            out.append(Running(name, role, show(itype.value) if itype is not None and itype.known else None,
                               _number(count), variant.at, unknown=unknown, artifact=artifact))
    return out


def _mechanism(spec: Spec, endpoint: Endpoint, config: EndpointConfig) -> Value | None:
    """How the new model takes the traffic, as far as the code shows it (None: it does not, e.g. in the shadow
    phase, when the canary's endpoint config is not written yet).

    Two production variants, one of them the new model's: the weights split the traffic (weights). One production
    variant that runs the new model: UpdateEndpoint replaces the old fleet under the same variant name, as the
    DeploymentConfig says, or blue/green ALL_AT_ONCE without one (guardrails; API BlueGreenUpdatePolicy: "If no
    update policy is specified, SageMaker uses a blue/green deployment strategy with all at once traffic
    shifting")."""
    rollout = spec.rollout
    canary = rollout.canary.variant if rollout and rollout.canary else None
    previous = rollout.previous.variant if rollout and rollout.previous else None
    shadow = rollout.shadow.variant if rollout and rollout.shadow else None
    variants = config.variants
    if not variants or any(v.name is None or not v.name.known for v in variants):
        return None
    new = named(variants, canary)
    if len(variants) >= 2:
        if new is None:
            return None
        others = ", ".join(f"'{show(v.name.value)}'" for v in variants if v is not new and v.name is not None)
        return Value("weights", new.at, source=f"the endpoint config serves the new variant '{canary}' beside "
                                                f"{others}: their weights split the traffic")
    if new is None and (named(config.shadow_variants, canary) or named(config.shadow_variants, shadow)
                        or named(variants, previous)):
        return None  # the shadow phase: the code does not show how the canary will take the traffic
    if endpoint.deployment_unknown:
        return Value(None, endpoint.deployment_at or endpoint.at, unknown=endpoint.deployment_unknown,
                     placeholder="${DeploymentConfig}")
    policy = endpoint.policy
    if policy is not None and policy.type is not None:
        if not policy.type.known:
            return Value(None, policy.type.at, unknown=policy.type.unknown, placeholder=policy.type.text)
        return Value("guardrails", policy.at, source=f"one production variant, replaced by UpdateEndpoint with a "
                                                     f"{policy.type.text} DeploymentConfig")
    return Value("guardrails", endpoint.at, source="one production variant and no DeploymentConfig: UpdateEndpoint "
                                                   "replaces its fleet blue/green, all at once (the API's default)")


def _experiment(infra: Infrastructure, endpoint: Endpoint, out: _Collector, resolved: ResolvedDeployment) -> None:
    """A shadow test (AWS::SageMaker::InferenceExperiment in ShadowMode) on this endpoint hosts its shadow
    variants as a ShadowProductionVariants config does."""
    for experiment in infra.experiments:
        kind = experiment.type
        if kind is not None and kind.known and show(kind.value) != "ShadowMode":
            continue
        if not names(experiment.endpoint, endpoint.id, endpoint.name) or not experiment.shadow_variants:
            continue
        resolved.experiment_at = experiment.at
        resolved.experiment_shadows = [show(name.value) for name, _ in experiment.shadow_variants if name.known]
        for name, _ in experiment.shadow_variants:
            if name.known:
                resolved.variant_locations.setdefault(show(name.value), name.at)
        if len(experiment.shadow_variants) == 1:
            name, sampling = experiment.shadow_variants[0]
            out.put(("rollout", "shadow", "variant"), name)
            out.put(("rollout", "shadow", "sampling_percent"), sampling, convert=float)
        return


def _artifact_fact(value: Value) -> Fact:
    path: PathT = ("deployed", "model_data")
    if not value.known:
        return Fact(path, None, "code", value.at, unknown=f"{value.text}: {value.unknown}")
    return Fact(path, show(value.value), "code", value.at, via=value.source)


def _resource_text(value: Value | None) -> str:
    if value is None:
        return ""
    return show(value.value) if value.known else (value.template or value.text)


def _target_of(infra: Infrastructure, variant: Variant) -> ScalingTarget | None:
    """The scalable target of the variant (ResourceId endpoint/<endpoint>/variant/<variant>)."""
    if variant.name is None or not variant.name.known:
        return None
    suffix = f"/variant/{show(variant.name.value)}"
    return next((t for t in infra.targets if _resource_text(t.resource_id).endswith(suffix)), None)


def _policies_of(infra: Infrastructure, target: ScalingTarget) -> list[ScalingPolicy]:
    """The scaling policies that act on the target: by ScalingTargetId, or by the same ResourceId."""
    text = _resource_text(target.resource_id)
    return [p for p in infra.policies
            if (p.target is not None and p.target.ref == target.id)
            or (p.resource_id is not None
                and (p.resource_id.ref == target.id or _resource_text(p.resource_id) == text))]


def _policy_record(infra: Infrastructure, policy: ScalingPolicy) -> dict[str, object]:
    kind = _resource_text(policy.policy_type)
    record: dict[str, object] = {"type": {"TargetTrackingScaling": "target_tracking",
                                          "StepScaling": "step"}.get(kind, kind or "target_tracking")}
    metric = policy.metric
    if metric is None and record["type"] == "step":  # a step policy acts on the metric of the alarm that runs it
        alarm = next((a for a in infra.alarms if any(x.ref == policy.id for x in a.actions)), None)
        metric = alarm.metric if alarm is not None else None
    if metric is not None and metric.known:
        record["metric"] = show(metric.value)
    if policy.target_value is not None and policy.target_value.known:
        record["target"] = policy.target_value.value
    return record


def _autoscaling(infra: Infrastructure, variant: Variant, out: _Collector) -> None:
    target = _target_of(infra, variant)
    if target is None:
        return
    out.put(("serving", "autoscaling", "min_instances"), target.min_capacity, convert=int)
    out.put(("serving", "autoscaling", "max_instances"), target.max_capacity, convert=int)
    policies = _policies_of(infra, target)
    where = policies[0].at if policies else target.at
    out.put(("serving", "autoscaling", "policies"),
            Value([_policy_record(infra, p) for p in policies], where,
                  source=None if policies else f"no scaling policy acts on scalable target {target.id}"))


def _number(value: Value | None) -> int | None:
    if value is None or not value.known:
        return None
    try:
        return int(value.value)
    except (TypeError, ValueError):
        return None


def _capacity(infra: Infrastructure, variant: Variant) -> VariantCapacity | None:
    if variant.name is None or not variant.name.known or variant.serverless is not None:
        return None
    itype = variant.instance_type
    target = _target_of(infra, variant)
    return VariantCapacity(show(variant.name.value), show(itype.value) if itype is not None and itype.known else None,
                           _number(variant.instance_count), _number(target.min_capacity) if target else None,
                           _number(target.max_capacity) if target else None, variant.at)


def _capture(infra: Infrastructure, config: EndpointConfig, out: _Collector) -> None:
    base: PathT = ("monitoring", "capture")
    if config.capture_unknown:
        out.put((*base, "enabled"), Value(None, config.at, unknown=config.capture_unknown,
                                          placeholder="${DataCaptureConfig}"))
        return
    capture = config.capture
    if capture is None:
        out.put((*base, "enabled"), Value(False, config.at, source="the endpoint config has no DataCaptureConfig"))
        return
    enabled = capture.enabled
    if enabled is None:  # the API's default is enabled; the Terraform provider's is false
        api = infra.kind != "terraform"
        enabled = Value(api, capture.at, source="EnableCapture not written: " + (
            "the API's default is enabled" if api else "the provider's default is false"))
    out.put((*base, "enabled"), enabled, convert=_flag)
    out.put((*base, "sampling_percent"), capture.sampling_percent, convert=float)
    out.put((*base, "destination"), capture.destination)
    # no KmsKeyId: captured data is encrypted with the S3 default, whatever key the spec names
    out.put((*base, "kms_key"), capture.kms_key or Value(None, capture.at, source="the DataCaptureConfig sets no "
                                                                               "KmsKeyId"))
    if capture.modes and all(m.known for m in capture.modes):
        modes = {show(m.value) for m in capture.modes}
        first = capture.modes[0].at
        out.put((*base, "inputs"), Value(bool(modes & {"Input", "InputAndOutput"}), first))
        out.put((*base, "outputs"), Value(bool(modes & {"Output", "InputAndOutput"}), first))
