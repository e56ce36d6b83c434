"""pydantic models of the deployment spec, version 1 (see the reference spec in the README).

Every section is optional: a field the team cannot fill yet is left out, and the rule that needs it fails and
says what to add. Only the shape is validated here; whether the values are true is the rules' job.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from mlgate.yamlload import as_text

# An identifier written in YAML (a version, a commit, a VersionId): kept as the text that was written.
Text = Annotated[str, BeforeValidator(as_text)]


# Spec numbers are sizes, rates, counts, durations and percentages: none is larger than 1e15 or a nonzero amount
# smaller than 1e-9. Outside that range the arithmetic of the rules overflows (1e308 KB in bytes, 1 / 5e-324 rps)
# instead of giving an answer a report can show. A seed is an identifier, not an amount: it is not bounded.
LARGEST_NUMBER, SMALLEST_NUMBER = 1e15, 1e-9


class _Node(BaseModel):
    # `.inf` and `.nan` are YAML floats, but no spec number means them (and arithmetic on them cannot be reported).
    # defer_build: a model's validator is built when first used, inside Spec's, not once per class at import.
    model_config = ConfigDict(extra="forbid", populate_by_name=False, allow_inf_nan=False, defer_build=True)
    _unbounded: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _in_range(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name in cls._unbounded:
            return value
        for number in value if isinstance(value, list) else [value]:
            if isinstance(number, int | float) and not isinstance(number, bool) and number != 0 \
                    and not SMALLEST_NUMBER <= abs(number) <= LARGEST_NUMBER:
                raise PydanticCustomError("out_of_range", "expected a number between 1e-9 and 1e15 in size")
        return value


class Model(_Node):
    name: str | None = None
    version: Text | None = None
    owner: str | None = Field(None, description="A team address, not a person who may leave.")


class Dataset(_Node):
    name: Text | None = None
    uri: str | None = Field(None, description="s3://, featurestore://, lakefs://, hf://datasets/..., delta/iceberg "
                                              "table, or a path in the repo.")
    version: Text | None = Field(None, description="S3 VersionId, or a Delta table version.")
    as_of: Text | None = Field(None, description="Feature-store snapshot (time-travel point).")
    snapshot_id: Text | None = Field(None, description="Iceberg snapshot id.")
    dvc: str | None = Field(None, description="A committed .dvc file that pins the data by content hash.")
    sha256: Text | None = Field(None, description="sha256 of the data file's content.")
    manifest: str | None = Field(None, description="For a prefix: a file listing every object with its version.")


class Code(_Node):
    commit: Text | None = Field(None, description="The commit the artifact was trained from.")
    paths: list[str] = Field(default_factory=list, description="Training code; a change here after `commit` "
                                                               "makes the artifact stale.")
    repository: str | None = None


class Dependencies(_Node):
    lockfile: str | None = None
    manifest: str | None = Field(None, description="The project manifest the lockfile locks (default: found "
                                                   "next to the lockfile).")
    groups: list[str] | None = Field(None, description="The optional dependency groups / extras the training "
                                                       "environment installs (default: every group the "
                                                       "manifest declares); each must be locked.")


class Seed(_Node):
    _unbounded: ClassVar[frozenset[str]] = frozenset({"value"})
    value: int | None = None
    source: str | None = Field(None, description="Where training reads it: a file, then '#' and a dotted key.")


class Artifact(_Node):
    uri: str | None = None
    sha256: Text | None = None
    manifest: str | None = None
    model_package_arn: str | None = None


class Provenance(_Node):
    data: list[Dataset] = Field(default_factory=list)
    code: Code | None = None
    dependencies: Dependencies | None = None
    seed: Seed | None = None
    artifact: Artifact | None = None


class Serverless(_Node):
    memory_mb: int | None = None
    max_concurrency: int | None = None
    provisioned_concurrency: int | None = None


class Traffic(_Node):
    requests_per_day: float | None = None
    peak_rps: float | None = None
    latency_p99_ms: float | None = None
    payload_kb: float | None = None
    processing_s: float | None = None
    synchronous: bool | None = None
    gpu: bool | None = None
    throughput_rps_per_instance: float | None = Field(None, description="Requests per second one instance of "
                                                      "serving.instance_type sustains (from a load test); "
                                                      "else derived from processing_s and the type's vCPUs.")
    window: Text | None = Field(None, description="pattern: batch: how long the day's transform job may run, e.g. "
                                                  "4h (SRV003 judges the day's records against it; default 24h).")


class ScalingPolicy(_Node):
    type: Literal["target_tracking", "step"] | None = Field(None, description="TargetTrackingScaling or "
                                                                             "StepScaling.")
    metric: str | None = Field(None, description="What it scales on: SageMakerVariantInvocationsPerInstance, "
                                                 "ApproximateBacklogSizePerInstance, HasBacklogWithoutCapacity ...")
    target: float | None = Field(None, description="Target tracking: the value per instance it keeps the metric at.")


class Autoscaling(_Node):
    min_instances: int | None = None
    max_instances: int | None = None
    policies: list[ScalingPolicy] = Field(default_factory=list, description="The scaling policies on the variant "
                                          "(read from the infrastructure code when it has them): a scalable target "
                                          "without a policy never changes its capacity.")


class AsyncInference(_Node):
    max_concurrent_invocations_per_instance: int | None = None
    invocation_timeout_s: float | None = Field(None, description="InvocationTimeoutSeconds (default 900).")
    request_ttl_s: float | None = Field(None, description="RequestTTLSeconds: how long a request may wait in the "
                                                          "queue (default 21600).")


class Serving(_Node):
    pattern: Literal["realtime", "serverless", "async", "batch"] | None = None
    environment: Literal["production", "staging", "development"] = Field(
        "production", description="What the endpoint serves (default production): the production-only judgements "
                                  "(two instances for availability, a latency or error alarm that pages nobody "
                                  "failing rather than warning) apply to production only.")
    endpoint: str | None = None
    instance_type: str | None = None
    instance_count: int | None = None
    serverless: Serverless | None = None
    traffic: Traffic | None = None
    autoscaling: Autoscaling | None = None
    async_inference: AsyncInference | None = Field(None, description="pattern: async only.")
    vpc: bool | None = Field(None, description="The endpoint runs in a VPC (VpcConfig).")
    network_isolation: bool | None = None
    multi_model: bool | None = Field(None, description="A multi-model endpoint (container Mode: MultiModel).")
    image: str | None = Field(None, description="The inference container image (an ECR URI, by digest): its "
                                                "repository is the one the execution role may pull from.")
    region: str | None = Field(None, description="The AWS Region the endpoint runs in (e.g. eu-west-1).")
    account: Text | None = Field(None, description="The 12-digit AWS account id the endpoint runs in.")
    code_paths: list[str] = Field(default_factory=list, description="The inference code (files or directories) "
                                                                    "that handles requests; read by AST, never run.")


class Shadow(_Node):
    variant: str | None = None
    sampling_percent: float | None = None
    duration: Text | None = Field(None, description="How long the shadow runs, e.g. 3d, 12h.")
    endpoint: str | None = Field(None, description="A separate endpoint that hosts the shadow, the caller mirroring "
                                                   "live requests to it (for serverless and async endpoints, which "
                                                   "cannot host a shadow variant).")


class Canary(_Node):
    variant: str | None = None
    steps: list[float] = Field(default_factory=list, description="Percent of live traffic at each step.")
    bake_time: Text | None = Field(None, description="Wait at each step before the next, e.g. 1h.")


class Previous(_Node):
    variant: str | None = None
    keep_warm: bool | None = None
    min_instances: int | None = None


class Rollout(_Node):
    mechanism: Literal["weights", "guardrails"] | None = Field(
        None, description="How the new model takes the traffic, where no infrastructure code shows it: `weights` "
                          "(the new and the previous variant side by side in one endpoint config, the weights moved "
                          "with UpdateEndpointWeightsAndCapacities) or `guardrails` (UpdateEndpoint with a "
                          "DeploymentConfig: blue/green ALL_AT_ONCE, CANARY or LINEAR, or a rolling update, which "
                          "replaces the fleet under the same variant name).")
    shadow: Shadow | None = None
    canary: Canary | None = None
    previous: Previous | None = None
    rollback_alarms: list[str] = Field(default_factory=list)
    rollback_automation: str | None = Field(
        None, description="Weights rollouts: who or what acts when a rollback alarm fires, since "
                          "UpdateEndpointWeightsAndCapacities takes no alarms and nothing rolls back by itself. A "
                          "pager target (e.g. pagerduty:ml-primary: a person paged by the alarms runs "
                          "operations.rollback) or a repository path to the automation's code (a Lambda handler or "
                          "Step Functions definition that moves the weight back to the previous variant).")


class Capture(_Node):
    method: Literal["endpoint", "application"] | None = Field(
        None, description="endpoint (SageMaker data capture, the default) or application: the inference code in "
                          "serving.code_paths writes requests and responses itself (serverless endpoints cannot "
                          "use endpoint capture).")
    enabled: bool | None = None
    sampling_percent: float | None = None
    inputs: bool | None = None
    outputs: bool | None = None
    destination: str | None = None
    kms_key: str | None = None
    retention: Text | None = None


class MadeFrom(_Node):
    dataset: Text | None = Field(None, description="Name of the provenance dataset the baseline was made from.")
    version: Text | None = Field(None, description="The version of that dataset the baseline was made from.")


class DataDrift(_Node):
    baseline: str | None = None
    made_from: MadeFrom | None = Field(None, description="The training data version the baseline was made from.")
    schedule: str | None = None


class PredictionDrift(_Node):
    # MON003 judges the band itself: an infinite bound is its finding ("never alerts"), not an unusable spec
    model_config = ConfigDict(allow_inf_nan=True)
    _unbounded: ClassVar[frozenset[str]] = frozenset({"expected"})
    metric: str | None = None
    expected: list[float] = Field(default_factory=list, description="[low, high]: alert outside this band.")
    schedule: str | None = None


class Alarm(_Node):
    name: str | None = None
    watches: Literal["latency", "errors", "throttles", "other"] | None = None
    metric: str | None = None
    statistic: str | None = None
    threshold_ms: float | None = None
    threshold_rate: float | None = None
    threshold_count: float | None = None
    dimensions: dict[str, str] | None = Field(
        default=None, description="The alarm's CloudWatch dimensions (EndpointName, VariantName), when no "
                                  "infrastructure code mlgate reads defines it.")
    actions: list[str] | None = Field(
        default=None, description="AlarmActions (SNS topic ARNs ...), when no infrastructure code mlgate reads "
                                  "defines the alarm; [] for none.")


class Operational(_Node):
    alarms: list[Alarm] = Field(default_factory=list)


class GroundTruth(_Node):
    # MON005 judges the bounds itself (an infinite bound is its finding)
    model_config = ConfigDict(allow_inf_nan=True)
    _unbounded: ClassVar[frozenset[str]] = frozenset({"minimum", "maximum"})
    label_delay: Text | None = None
    metric: str | None = None
    minimum: float | None = None
    maximum: float | None = Field(None, description="For a metric that is better when lower (rmse, log_loss): "
                                                     "alert above this, instead of a minimum.")


class Monitoring(_Node):
    capture: Capture | None = None
    data_drift: DataDrift | None = None
    prediction_drift: PredictionDrift | None = None
    operational: Operational | None = None
    ground_truth: GroundTruth | None = None


class Retraining(_Node):
    trigger: Literal["schedule", "drift", "manual"] | None = None
    schedule: str | None = None
    drift_alarm: str | None = None


class Operations(_Node):
    on_call: str | None = None
    runbook: str | None = None
    rollback: str | None = None


class ExecutionRole(_Node):
    policy: str | None = None
    cloudformation: str | None = None
    terraform: str | None = None
    managed_policies: list[str] = Field(default_factory=list, description="ARNs of the AWS managed policies "
                                                                          "attached to the role.")
    arn: str | None = Field(None, description="The role's ARN in the account. With --aws, SEC001 analyses its live "
                                              "policies, and the endpoint's models must run with it.")


class Pii(_Node):
    input_fields: list[str] = Field(default_factory=list)
    pii_fields: list[str] = Field(default_factory=list, description="Fields declared PII beyond name detection.")
    handling: dict[str, Literal["drop", "hash", "mask", "tokenize", "keep"]] = Field(default_factory=dict)


class Security(_Node):
    execution_role: ExecutionRole | None = None
    pii: Pii | None = None


class Infrastructure(_Node):
    cloudformation: str | None = None
    terraform: str | None = None
    scripts: list[str] = Field(default_factory=list, description="Python deploy scripts that create the endpoint "
                               "with boto3 or the SageMaker Python SDK; read with `ast`, never run.")
    parameters: str | list[str] | None = Field(
        None, description="The CloudFormation parameter files the template is deployed with (a later file wins): "
                          "CLI JSON [{ParameterKey, ParameterValue}], {\"Parameters\": {...}}, or Key=Value lines.")
    tfvars: str | list[str] | None = Field(
        None, description="Terraform .tfvars files passed with -var-file, read after terraform.tfvars and "
                          "*.auto.tfvars (a later file wins).")


class EvaluationMetric(_Node):
    name: str | None = Field(None, description="The metric as the report names it (auc, f1, rmse, ...).")
    direction: Literal["higher", "lower"] | None = Field(None, description="Which way is better (default: higher).")
    minimum: float | None = Field(None, description="direction: higher: the least acceptable value.")
    maximum: float | None = Field(None, description="direction: lower: the largest acceptable value.")
    tolerance: float | None = Field(None, description="EVL002/EVL003: how much worse than the production model "
                                                      "is accepted, in the metric's units (default: the rule's "
                                                      "default_tolerance, 0).")


class EvaluationSlice(_Node):
    name: str | None = Field(None, description="The slice as the report names it, e.g. country=DE.")
    metrics: list[EvaluationMetric] = Field(default_factory=list)


class ProductionEvaluation(_Node):
    report: str | None = Field(None, description="The evaluation report of the model being replaced (default: "
                                                 "evaluation.report, read at `commit`).")
    format: Literal["sagemaker", "mlflow", "json"] | None = None
    manifest: str | None = Field(None, description="Its provenance manifest, when the report does not say which "
                                                   "data it was computed on.")
    commit: Text | None = Field(None, description="Read the report (and manifest) as committed at this revision: "
                                                  "the release of the production model, e.g. a tag.")


class Evaluation(_Node):
    report: str | None = Field(None, description="The candidate's evaluation report: a SageMaker model quality "
                                                 "JSON, a plain JSON, or an MLflow run directory.")
    format: Literal["sagemaker", "mlflow", "json"] | None = Field(None, description="Default: detected.")
    dataset: Dataset | None = Field(None, description="The held-out data, pinned like a training dataset.")
    metrics: list[EvaluationMetric] = Field(default_factory=list)
    slices: list[EvaluationSlice] = Field(default_factory=list)
    production: ProductionEvaluation | None = Field(None, description="The evaluation of the model this one "
                                                                      "replaces, for EVL002 and EVL003.")


class Waiver(_Node):
    # Every field is optional here so an incomplete waiver is reported by the engine (it does not waive)
    # instead of making the whole spec unusable.
    rule: str | None = None
    reason: str | None = None
    approved_by: str | None = None
    expires: dt.date | None = None


class Spec(_Node):
    """An mlgate deployment spec: one model deployment, and the evidence that it is ready."""

    model_config = ConfigDict(extra="forbid", title="mlgate deployment spec (version 1)")

    version: Literal[1] = Field(description="Spec format version; 1 is the only one.")
    model: Model | None = None
    provenance: Provenance | None = None
    evaluation: Evaluation | None = None
    serving: Serving | None = None
    rollout: Rollout | None = None
    monitoring: Monitoring | None = None
    retraining: Retraining | None = None
    operations: Operations | None = None
    security: Security | None = None
    infrastructure: Infrastructure | None = None
    waivers: list[Waiver] = Field(default_factory=list)


# The schema as a file in the installed package, for editors (`mlgate init` points a spec at it when the repository
# has no copy). tests/test_init.py checks that it equals json_schema(); after a change to the models, regenerate it:
#   mlgate schema > src/mlgate/spec/mlgate-spec-1.schema.json
SCHEMA_FILE = Path(__file__).with_name("mlgate-spec-1.schema.json")


def json_schema() -> dict[str, Any]:
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://mlgate.dev/schema/mlgate-spec-1.json"
    return schema
