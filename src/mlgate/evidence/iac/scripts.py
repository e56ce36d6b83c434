"""Python deploy scripts as evidence: boto3 and SageMaker Python SDK calls, read with `ast`, never run or imported.

What is read:
- boto3: `create_model`, `create_endpoint_config`, `create_endpoint` / `update_endpoint` of a SageMaker client,
  CloudWatch `put_metric_alarm`, Application Auto Scaling `register_scalable_target` and `put_scaling_policy` (a
  client is `boto3.client("sagemaker")`, `session.client(...)` or `x.sagemaker_client`; a call on an object mlgate
  cannot follow, `self.sm.create_endpoint_config(...)`, counts when it writes the API's own argument names);
- the SageMaker Python SDK: `.deploy(...)` on a `Model`, any framework `*Model`, a `ModelPackage` or an estimator,
  with `DataCaptureConfig`, `ServerlessInferenceConfig` and `AsyncInferenceConfig`, as the script imports them.

Values are literals, f-strings and `+` of literals, `.format`/`.join` of them, names assigned once (module constants,
local variables) and the dicts and lists built from those. Everything the script learns when it runs is unknown with
its reason and a placeholder, never guessed: `${env:NAME}` (os.environ, os.getenv), `${arg:name}` (argparse),
`${param:name}` (a function's parameter), `${var:name}` (a name assigned in several places or by a loop),
`${expr:...}` (any other computation). Each value keeps the file:line of the expression it was read from.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from typing import Any

from mlgate.errors import EvidenceError
from mlgate.evidence.iac.model import (
    AsyncInference,
    Capture,
    CloudWatchAlarm,
    Endpoint,
    EndpointConfig,
    Infrastructure,
    SageMakerModel,
    ScalingPolicy,
    ScalingTarget,
    Serverless,
    Size,
    TrafficPolicy,
    UnreadCode,
    Value,
    Variant,
    show,
)
from mlgate.evidence.iac.pyscan import Call, Ref, Scope, Script, is_none, short, unknown
from mlgate.evidence.workspace import Workspace
from mlgate.parsers import nesting_limit, too_deep
from mlgate.result import Location

# The SDK's own names: `variant_name` defaults to AllTraffic (sagemaker-python-sdk, src/sagemaker/model.py,
# Model.deploy: "variant_name (str): The VariantName of this production variant (default: 'AllTraffic')").
_SDK_VARIANT = "AllTraffic"
# DataCaptureConfig.API_MAPPING (src/sagemaker/model_monitor/data_capture_config.py): the SDK's capture options
# become the API's CaptureMode values. Its defaults, used below when an argument is not written, come from the same
# signatures: DataCaptureConfig(sampling_percentage=20, capture_options=["REQUEST", "RESPONSE"], destination in the
# session's default bucket) and ServerlessInferenceConfig(memory_size_in_mb=2048, max_concurrency=5)
# (src/sagemaker/serverless/serverless_inference_config.py).
_CAPTURE_MODES = {"REQUEST": "Input", "RESPONSE": "Output"}

# Positional parameters of the SDK classes and methods read here (sagemaker-python-sdk v2 signatures).
_POSITIONAL: dict[str, tuple[str, ...]] = {
    "Model": ("image_uri", "model_data", "role"),
    "ModelPackage": ("role", "model_data", "algorithm_arn", "model_package_arn"),
    "HuggingFaceModel": ("role", "model_data", "entry_point"),
    "MultiDataModel": ("name", "model_data_prefix", "model", "image_uri", "role"),
    "PipelineModel": ("models", "role"),
    "*Model": ("model_data", "role", "entry_point"),  # PyTorchModel, SKLearnModel, XGBoostModel, TensorFlowModel ...
    "deploy": ("initial_instance_count", "instance_type"),
    "DataCaptureConfig": ("enable_capture", "sampling_percentage", "destination_s3_uri", "kms_key_id",
                          "capture_options"),
    "ServerlessInferenceConfig": ("memory_size_in_mb", "max_concurrency", "provisioned_concurrency"),
    "AsyncInferenceConfig": ("output_path", "max_concurrent_invocations_per_instance", "kms_key_id"),
}

# boto3 methods read, with their service and the argument names that mark an API call on an object mlgate cannot
# follow (a client passed in, `self.client`).
_BOTO3 = {
    "create_model": ("sagemaker", {"ModelName", "PrimaryContainer", "Containers", "ExecutionRoleArn"}),
    "create_endpoint_config": ("sagemaker", {"EndpointConfigName", "ProductionVariants"}),
    "create_endpoint": ("sagemaker", {"EndpointName", "EndpointConfigName"}),
    "update_endpoint": ("sagemaker", {"EndpointName", "EndpointConfigName"}),
    "put_metric_alarm": ("cloudwatch", {"AlarmName", "MetricName", "Namespace"}),
    "register_scalable_target": ("application-autoscaling", {"ResourceId", "ScalableDimension"}),
    "put_scaling_policy": ("application-autoscaling", {"PolicyName", "PolicyType", "ResourceId"}),
}
# SDK session helpers that create endpoints from arguments this reader does not follow.
_UNREAD = {"endpoint_from_production_variants", "endpoint_from_model_data", "endpoint_from_job", "deploy_endpoint"}


def read_scripts(ws: Workspace, paths: list[Path]) -> Infrastructure:
    """What the deploy scripts at `paths` create. Raises EvidenceError (file and line) for a script that cannot be
    read or parsed."""
    rels = [ws.rel(p) for p in paths]
    infra = Infrastructure("script", rels[0] if len(rels) == 1 else f"{len(rels)} scripts")
    for path, rel in zip(paths, rels, strict=True):
        try:
            infra.merge(_read(rel, ws.read_text(path)))
        except SyntaxError as exc:
            if exc.lineno is None:  # nested deeper than Python reads, a NUL byte ...
                raise EvidenceError(f"cannot be read as Python: {exc.msg}", path=rel) from None
            raise EvidenceError(f"is not valid Python: {exc.msg}", path=rel, line=exc.lineno) from None
    return infra


@nesting_limit(too_deep)
def _read(rel: str, text: str) -> Infrastructure:
    return _Reader(Script(rel, text)).read()


class _Reader:
    """Turns the calls of one script into the records of model.py."""

    def __init__(self, script: Script) -> None:
        self.s = script
        self.infra = Infrastructure("script", script.rel, files=[script.rel])
        self.models: dict[int, SageMakerModel] = {}  # id() of the SDK model call -> its record

    def read(self) -> Infrastructure:
        for node, scope in self.s.calls:
            self.visit(node, scope)
        return self.finish()

    def imports_sagemaker(self) -> bool:
        return any(m == "sagemaker" or m.startswith("sagemaker.") for m in [*self.s.imports.values(), *self.s.star])

    def sdk_class(self, func: ast.expr) -> str | None:
        """The SageMaker Python SDK class or function a call names (`Model`, `PyTorchModel`, ...), or None."""
        name = self.s.qual(func)
        if name is None or not (name == "sagemaker" or name.startswith("sagemaker.")):
            return None
        return name.rsplit(".", 1)[-1]

    def service(self, node: ast.expr, scope: Scope) -> str | None:
        """The AWS service of the boto3 client `node` is (`sagemaker`, `cloudwatch` ...), or None if unknown."""
        if isinstance(node, ast.Attribute) and node.attr == "sagemaker_client":  # sagemaker.Session().sagemaker_client
            return "sagemaker"
        made = self.s.origin(node, scope)
        if made is None:
            return None
        func = made.node.func
        if isinstance(func, ast.Attribute) and func.attr == "sagemaker_client":
            return "sagemaker"
        if not ((isinstance(func, ast.Attribute) and func.attr == "client") or self.s.qual(func) == "boto3.client"):
            return None  # made by something mlgate does not follow: the call's argument names decide
        name = made.kwargs.get("service_name") or (made.args[0] if made.args else None)
        if name is None:
            return None
        value = self.s.value(name.node, name.scope)
        return show(value.value) if value.known else None

    def ident(self, node: ast.Call) -> str:
        func = node.func
        if isinstance(func, ast.Attribute):
            label = f"{func.value.id}.{func.attr}" if isinstance(func.value, ast.Name) else func.attr
        else:
            label = short(func)
        return f"{label}@{self.s.file}:{node.lineno}"

    def visit(self, node: ast.Call, scope: Scope) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute):
            return
        method = func.attr
        if method == "deploy":
            self.deploy(self.s.call(node, scope))
        elif method in _BOTO3:
            service, marks = _BOTO3[method]
            found = self.service(func.value, scope)
            named = {k.arg for k in node.keywords if k.arg}
            if found == service or (found is None and named & marks):
                getattr(self, method)(self.s.call(node, scope))
        elif method in _UNREAD:
            self.infra.gaps.append(UnreadCode(f"`{short(func)}(...)` creates an endpoint from arguments mlgate "
                                              "does not read", self.s.loc(node)))

    # -- boto3 --------------------------------------------------------------------------------------------------------

    def create_model(self, call: Call) -> None:
        s = self.s
        kw = call.kwargs
        containers: list[Ref] = []
        if not is_none(kw.get("PrimaryContainer")):
            containers.append(kw["PrimaryContainer"])
        listed, _ = s.items(kw.get("Containers"))
        containers += listed
        first = containers[0] if containers else None
        model_data = s.get(first, "ModelDataUrl") or s.get(first, "ModelDataSource", "S3DataSource", "S3Uri")
        multi = any((mode := s.get(c, "Mode")) is not None and mode.known and mode.value == "MultiModel"
                    for c in containers)
        vpc = kw.get("VpcConfig")
        self.infra.models.append(SageMakerModel(
            self.ident(call.node), s.arg(call, "ModelName"), s.arg(call, "ExecutionRoleArn"),
            s.arg(call, "EnableNetworkIsolation"), None if is_none(vpc) else s.loc(vpc.node) if vpc else None,
            multi, s.loc(call.node), image=s.get(first, "Image"), model_data=model_data,
            model_package=s.get(first, "ModelPackageName")))

    def _variant(self, item: Ref) -> Variant:
        s = self.s
        serverless: Serverless | None = None
        sc, why = s.at(item, "ServerlessConfig")
        if sc is not None and not is_none(sc):
            serverless = Serverless(s.get(sc, "MemorySizeInMB"), s.get(sc, "MaxConcurrency"),
                                    s.get(sc, "ProvisionedConcurrency"), s.loc(sc.node))
        return Variant(s.get(item, "VariantName"), s.get(item, "ModelName"), s.get(item, "InstanceType"),
                       s.get(item, "InitialInstanceCount"), s.get(item, "InitialVariantWeight"), serverless,
                       s.loc(item.node), serverless_unknown=f"its ServerlessConfig is {why}" if why else None)

    def create_endpoint_config(self, call: Call) -> None:
        s = self.s
        kw = call.kwargs
        config = EndpointConfig(self.ident(call.node), s.arg(call, "EndpointConfigName"), [], [], None, None,
                                s.arg(call, "KmsKeyId"), s.loc(call.node))
        if call.unknown and "ProductionVariants" not in kw:
            config.unknown = f"its arguments are {call.unknown}"
        for key, out in (("ProductionVariants", config.variants), ("ShadowProductionVariants", config.shadow_variants)):
            found, why = s.items(kw.get(key))
            if why:
                config.unknown = config.unknown or f"its {key} are {why}"
            out += [self._variant(item) for item in found]
        capture = kw.get("DataCaptureConfig")
        if capture is None and call.unknown:
            config.capture_unknown = f"its arguments are {call.unknown}"
        elif capture is not None and not is_none(capture):
            data, why = s.struct(capture.node, capture.scope)
            if not isinstance(data, dict):
                config.capture_unknown = f"its DataCaptureConfig is {why or 'not a dict'}"
            else:
                options, _ = s.items(data.get("CaptureOptions"))
                modes = tuple(m for o in options if (m := s.get(o, "CaptureMode")) is not None)
                config.capture = Capture(s.get(capture, "EnableCapture"), s.get(capture, "InitialSamplingPercentage"),
                                         s.get(capture, "DestinationS3Uri"), s.get(capture, "KmsKeyId"), modes,
                                         s.loc(capture.node))
        asynchronous = kw.get("AsyncInferenceConfig")
        if not is_none(asynchronous):
            assert asynchronous is not None
            config.async_inference = AsyncInference(
                s.get(asynchronous, "ClientConfig", "MaxConcurrentInvocationsPerInstance"),
                s.get(asynchronous, "OutputConfig", "S3OutputPath"), s.loc(asynchronous.node))
        self.infra.configs.append(config)

    def create_endpoint(self, call: Call) -> None:
        s = self.s
        endpoint = Endpoint(self.ident(call.node), s.arg(call, "EndpointName"), s.arg(call, "EndpointConfigName"),
                            None, [], s.loc(call.node))
        deployment = call.kwargs.get("DeploymentConfig")
        if deployment is not None and not is_none(deployment):
            self._deployment(endpoint, deployment)
        elif call.unknown:
            endpoint.deployment_unknown = f"its arguments are {call.unknown}"
        self.infra.endpoints.append(endpoint)

    update_endpoint = create_endpoint

    def _size(self, ref: Ref | None, key: str) -> Size | None:
        found, _ = self.s.at(ref, key)
        if found is None or is_none(found):
            return None
        return Size(self.s.get(found, "Type"), self.s.get(found, "Value"), self.s.loc(found.node))

    def _deployment(self, endpoint: Endpoint, ref: Ref) -> None:
        s = self.s
        endpoint.deployment_at = s.loc(ref.node)
        data, why = s.struct(ref.node, ref.scope)
        if not isinstance(data, dict):
            endpoint.deployment_unknown = f"its DeploymentConfig is {why or 'not a dict'}"
            return
        blue_green, why_bg = s.at(ref, "BlueGreenUpdatePolicy")
        rolling, why_ru = s.at(ref, "RollingUpdatePolicy")
        if why_bg or why_ru:
            endpoint.deployment_unknown = f"its update policy is {why_bg or why_ru}"
        if blue_green is not None and not is_none(blue_green):
            routing, _ = s.at(blue_green, "TrafficRoutingConfiguration")
            endpoint.policy = TrafficPolicy(
                s.get(routing, "Type"), self._size(routing, "CanarySize") or self._size(routing, "LinearStepSize"),
                s.get(routing, "WaitIntervalInSeconds"), s.get(blue_green, "TerminationWaitInSeconds"),
                s.get(blue_green, "MaximumExecutionTimeoutInSeconds"), s.loc(blue_green.node))
        elif rolling is not None and not is_none(rolling):
            endpoint.policy = TrafficPolicy(Value("ROLLING", s.loc(rolling.node)),
                                            self._size(rolling, "MaximumBatchSize"),
                                            s.get(rolling, "WaitIntervalInSeconds"), None,
                                            s.get(rolling, "MaximumExecutionTimeoutInSeconds"), s.loc(rolling.node))
        alarms, why_alarms = s.at(ref, "AutoRollbackConfiguration", "Alarms")
        listed, why_items = s.items(alarms)
        if why_alarms or why_items:
            endpoint.deployment_unknown = endpoint.deployment_unknown or \
                f"its rollback alarms are {why_alarms or why_items}"
        for alarm in listed:
            name = s.get(alarm, "AlarmName")
            if name is not None:
                endpoint.rollback_alarms.append(name)

    def put_metric_alarm(self, call: Call) -> None:
        s = self.s
        alarm = CloudWatchAlarm(self.ident(call.node), s.arg(call, "AlarmName"), s.arg(call, "Namespace"),
                                s.arg(call, "MetricName"), self._dimensions(call.kwargs.get("Dimensions")),
                                s.arg(call, "Statistic"), s.arg(call, "ExtendedStatistic"), s.arg(call, "Threshold"),
                                s.loc(call.node))
        metrics, _ = s.items(call.kwargs.get("Metrics"))
        for item in metrics:
            alarm.metric_math = True
            metric, _ = s.at(item, "MetricStat", "Metric")
            if metric is None:
                continue
            namespace = s.get(metric, "Namespace")
            if alarm.metric is None or (namespace is not None and namespace.value == "AWS/SageMaker"):
                alarm.namespace, alarm.metric = namespace, s.get(metric, "MetricName")
                alarm.dimensions = self._dimensions(s.at(metric, "Dimensions")[0])
                alarm.statistic = s.get(item, "MetricStat", "Stat")
        alarm.actions, alarm.actions_unknown = self._actions(call)
        alarm.actions_enabled = s.arg(call, "ActionsEnabled")
        self.infra.alarms.append(alarm)

    def _actions(self, call: Call) -> tuple[list[Value], str | None]:
        """AlarmActions element by element: an ARN the script learns when it runs is still an action."""
        ref = call.kwargs.get("AlarmActions")
        if ref is not None and isinstance(ref.node, ast.List):
            return [self.s.value(item, ref.scope) for item in ref.node.elts], None
        value = self.s.arg(call, "AlarmActions")
        if value is None:
            return [], None
        if value.known and isinstance(value.value, list):
            return [Value(item, value.at) for item in value.value], None
        return [], f"its AlarmActions are {value.unknown or 'not a list'}"

    def put_scaling_policy(self, call: Call) -> None:
        s = self.s
        config = call.kwargs.get("TargetTrackingScalingPolicyConfiguration")
        metric = s.get(config, "PredefinedMetricSpecification", "PredefinedMetricType") \
            or s.get(config, "CustomizedMetricSpecification", "MetricName")
        self.infra.policies.append(ScalingPolicy(self.ident(call.node), None, s.arg(call, "ResourceId"),
                                                 s.arg(call, "PolicyType"), metric, s.get(config, "TargetValue"),
                                                 s.loc(call.node)))

    def _dimensions(self, ref: Ref | None) -> dict[str, Value]:
        out: dict[str, Value] = {}
        found, _ = self.s.items(ref)
        for item in found:
            name, value = self.s.get(item, "Name"), self.s.get(item, "Value")
            if name is not None and name.known and value is not None:
                out[show(name.value)] = value
        return out

    def register_scalable_target(self, call: Call) -> None:
        s = self.s
        self.infra.targets.append(ScalingTarget(self.ident(call.node), s.arg(call, "ResourceId"),
                                                s.arg(call, "ScalableDimension"), s.arg(call, "MinCapacity"),
                                                s.arg(call, "MaxCapacity"), s.loc(call.node)))

    # -- the SageMaker Python SDK -------------------------------------------------------------------------------------

    def deploy(self, call: Call) -> None:
        s = self.s
        func = call.node.func
        assert isinstance(func, ast.Attribute)
        made = s.origin(func.value, call.scope)
        kind = self.sdk_class(made.node.func) if made is not None else None
        deploy_kwargs = {"initial_instance_count", "instance_type", "endpoint_name", "serverless_inference_config",
                         "data_capture_config", "async_inference_config"}
        if kind is None and not (self.imports_sagemaker() and deploy_kwargs & set(call.kwargs)):
            return  # a `.deploy` of something else
        ident = self.ident(call.node)
        at = s.loc(call.node)
        model = self._sdk_model(made, kind, call, ident, func.value)
        written = s.arg(call, "variant_name", _POSITIONAL["deploy"])
        variant_name = written or Value(_SDK_VARIANT, at, template=_SDK_VARIANT,
                                        source="variant_name not written: the SageMaker Python SDK names the variant "
                                               "AllTraffic")
        model_ref = replace(model.name, ref=model.id) if model.name is not None else \
            unknown(at, "the SageMaker Python SDK generates the model's name", "${generated:model}")
        model_ref = replace(model_ref, ref=model.id)
        serverless, serverless_unknown = self._sdk_serverless(call)
        variant = Variant(variant_name, model_ref, s.arg(call, "instance_type", _POSITIONAL["deploy"]),
                          s.arg(call, "initial_instance_count", _POSITIONAL["deploy"]), None, serverless, at,
                          serverless_unknown=serverless_unknown)
        config = EndpointConfig(ident, None, [variant], [], None, None, s.arg(call, "kms_key"), at)
        self._sdk_capture(call, config)
        self._sdk_async(call, config)
        self.infra.configs.append(config)
        endpoint_name = s.arg(call, "endpoint_name")
        config_ref = unknown(at, "the SageMaker Python SDK creates the endpoint config with the endpoint",
                              "${generated:endpoint-config}")
        self.infra.endpoints.append(Endpoint(ident, endpoint_name, replace(config_ref, ref=ident), None, [], at))

    def _sdk_model(self, made: Call | None, kind: str | None, call: Call, ident: str,
                   receiver: ast.expr) -> SageMakerModel:
        """The model a `.deploy` creates: from the Model call it is bound to, or from an estimator's training."""
        s = self.s
        at = s.loc(call.node)
        if made is not None and kind is not None and (kind.endswith("Model") or kind == "ModelPackage"):
            key = id(made.node)
            if key in self.models:
                return self.models[key]
            signature = _POSITIONAL.get(kind, _POSITIONAL["*Model"])
            image = s.arg(made, "image_uri", signature)
            model_data = s.arg(made, "model_data", signature)
            package = None
            if kind == "ModelPackage":
                written = s.arg(made, "model_package_arn", signature)
                shown = written.text if written is not None else "its model package"
                package = written or unknown(s.loc(made.node), "the model package's ARN is not written",
                                             "${model-package}")
                image = image or unknown(s.loc(made.node), f"the image of model package {shown}, known from the "
                                                            "model registry", "${model-package:image}")
                model_data = model_data or unknown(s.loc(made.node), f"the artifact of model package {shown}, known "
                                                                      "from the model registry",
                                                    "${model-package:model_data}")
            elif kind == "MultiDataModel":
                model_data = s.arg(made, "model_data_prefix", signature)
            elif image is None and kind != "Model":
                version = s.arg(made, "framework_version", signature)
                image = unknown(s.loc(made.node), f"chosen by the SageMaker Python SDK for {kind} (framework_version "
                                                   f"{version.text if version else 'not written'}) when the script "
                                                   "runs", "${sdk:image}")
            vpc = s.param(made, "vpc_config", signature)
            model = SageMakerModel(self.ident(made.node), s.arg(made, "name", signature),
                                   s.arg(made, "role", signature), s.arg(made, "enable_network_isolation", signature),
                                   None if is_none(vpc) else s.loc(vpc.node) if vpc else None,
                                   kind == "MultiDataModel", s.loc(made.node), image=image, model_data=model_data,
                                   model_package=package)
            self.models[key] = model
            self.infra.models.append(model)
            return model
        # an estimator (or an object mlgate cannot follow): the SDK creates the model from its training job
        what = f"`{short(receiver)}`"
        role = s.arg(made, "role") if made is not None else None
        image = s.arg(made, "image_uri") if made is not None else None
        model = SageMakerModel(
            ident, s.arg(call, "model_name"), role, s.arg(call, "enable_network_isolation"), None, False, at,
            image=image or unknown(at, f"the image of {what}, chosen when the script runs", "${sdk:image}"),
            model_data=unknown(at, f"the estimator's training output ({what}), known after training",
                                "${training:model_data}"))
        self.infra.models.append(model)
        return model

    def _sdk_object(self, call: Call, kwarg: str, cls: str) -> tuple[Call | None, str | None]:
        """The `cls(...)` call passed as `kwarg` (followed through names): (call, None), (None, why), (None, None)."""
        ref = call.kwargs.get(kwarg)
        if ref is None:
            return None, f"the call's arguments are {call.unknown}" if call.unknown else None
        if is_none(ref):
            return None, None
        made = self.s.origin(ref.node, ref.scope)
        if made is not None and self.sdk_class(made.node.func) == cls:
            return made, None
        found = self.s.value(ref.node, ref.scope)
        return None, found.unknown or f"not a {cls} ({self.s.where(ref.node)})"

    def _sdk_serverless(self, call: Call) -> tuple[Serverless | None, str | None]:
        made, why = self._sdk_object(call, "serverless_inference_config", "ServerlessInferenceConfig")
        if made is None:
            return None, f"its serverless_inference_config is {why}" if why else None
        s = self.s
        name = _POSITIONAL["ServerlessInferenceConfig"]
        at = s.loc(made.node)
        return Serverless(s.arg(made, "memory_size_in_mb", name) or _sdk_default(at, "memory_size_in_mb", 2048),
                          s.arg(made, "max_concurrency", name) or _sdk_default(at, "max_concurrency", 5),
                          s.arg(made, "provisioned_concurrency", name), at), None

    def _sdk_capture(self, call: Call, config: EndpointConfig) -> None:
        made, why = self._sdk_object(call, "data_capture_config", "DataCaptureConfig")
        if made is None:
            config.capture_unknown = f"its data_capture_config is {why}" if why else None
            return
        s = self.s
        name = _POSITIONAL["DataCaptureConfig"]
        modes: list[Value] = []
        written = s.param(made, "capture_options", name)
        if written is not None and not is_none(written):
            data, why_options = s.struct(written.node, written.scope)
            for item in data if isinstance(data, list) else []:
                mode = s.value(item.node, item.scope)
                if mode.known and isinstance(mode.value, str) and mode.value.upper() in _CAPTURE_MODES:
                    api = _CAPTURE_MODES[mode.value.upper()]
                    mode = replace(mode, value=api, template=api,
                                   source=f"capture option {mode.value} (the SDK sends CaptureMode {api})")
                modes.append(mode)
            if not isinstance(data, list):
                modes.append(unknown(s.loc(written.node), why_options or "not a list", "${expr:capture_options}"))
        at = s.loc(made.node)
        if written is None or is_none(written):
            modes = [replace(_sdk_default(at, "capture_options", api), source="capture_options not written: the "
                             "SageMaker Python SDK captures REQUEST and RESPONSE") for api in ("Input", "Output")]
        destination = s.arg(made, "destination_s3_uri", name) or unknown(
            at, "destination_s3_uri not written: the SageMaker Python SDK writes to model-monitor/data-capture in the "
                "session's default bucket, known when the script runs", "s3://${sdk:default_bucket}/model-monitor/"
                                                                         "data-capture")
        sampling = s.arg(made, "sampling_percentage", name) or _sdk_default(at, "sampling_percentage", 20)
        config.capture = Capture(s.arg(made, "enable_capture", name), sampling, destination,
                                 s.arg(made, "kms_key_id", name), tuple(modes), at)

    def _sdk_async(self, call: Call, config: EndpointConfig) -> None:
        made, why = self._sdk_object(call, "async_inference_config", "AsyncInferenceConfig")
        if made is None:
            if why:
                config.unknown = config.unknown or f"its async_inference_config is {why}"
            return
        s = self.s
        name = _POSITIONAL["AsyncInferenceConfig"]
        config.async_inference = AsyncInference(s.arg(made, "max_concurrent_invocations_per_instance", name),
                                                s.arg(made, "output_path", name), s.loc(made.node))

    # -- linking ------------------------------------------------------------------------------------------------------

    def finish(self) -> Infrastructure:
        infra = self.infra
        infra.endpoints = _merge_endpoints(infra.endpoints)
        # names the script computes (a timestamp, an argument) link when both sides are the same expression
        for endpoint in infra.endpoints:
            endpoint.config = _link(endpoint.config, [(c.id, c.name) for c in infra.configs])
        for config in infra.configs:
            config.variants = [replace(v, model=_link(v.model, [(m.id, m.name) for m in infra.models]))
                               for v in config.variants]
        return infra


def _sdk_default(at: Location, argument: str, value: Any) -> Value:
    """What the SDK sends for an argument the script does not write (its signature's default)."""
    return Value(value, at, template=show(value),
                 source=f"{argument} not written: the SageMaker Python SDK's default is {show(value)}")


def _link(value: Value | None, candidates: list[tuple[str, Value | None]]) -> Value | None:
    if value is None or value.ref is not None or value.known:
        return value
    same = [rid for rid, name in candidates if name is not None and not name.known and name.text == value.text]
    return replace(value, ref=same[0]) if len(same) == 1 else value


def _merge_endpoints(endpoints: list[Endpoint]) -> list[Endpoint]:
    """`create_endpoint` and `update_endpoint` of the same endpoint (a script that creates it the first time and
    updates it after) are one endpoint: the later call's config and deployment policy are what the script deploys."""
    merged: list[Endpoint] = []
    by_name: dict[str, Endpoint] = {}
    for endpoint in endpoints:
        key = endpoint.name.text if endpoint.name is not None else None
        first = by_name.get(key) if key is not None else None
        if first is None:
            merged.append(endpoint)
            if key is not None:
                by_name[key] = endpoint
            continue
        first.config = endpoint.config or first.config
        if endpoint.deployment_at is not None or endpoint.deployment_unknown:
            first.policy, first.rollback_alarms = endpoint.policy, endpoint.rollback_alarms
            first.deployment_at, first.deployment_unknown = endpoint.deployment_at, endpoint.deployment_unknown
    return merged
