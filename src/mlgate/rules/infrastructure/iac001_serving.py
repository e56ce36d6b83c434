"""IAC001: the endpoint the infrastructure code deploys is the one the spec describes (pattern, instance type and
count, serverless memory and concurrency, async settings, autoscaling, image, isolation)."""

from __future__ import annotations

from collections.abc import Iterator

from mlgate.checks import CheckContext
from mlgate.deployment.resolve import iac_pattern, new_model_variant, serving_variant
from mlgate.evidence.iac import model_of
from mlgate.evidence.iac.model import Value, Variant, show
from mlgate.result import Finding
from mlgate.rules.infrastructure._judge import Judge, Target, find_target, spec_pattern, unknown_fix, variants_text
from mlgate.rules.params import NoParams

Params = NoParams  # no parameters


def check(ctx: CheckContext) -> Iterator[Finding]:
    """The endpoint the infrastructure code deploys is the one the spec describes: pattern, instance type and
    count, serverless memory and concurrency, async settings, autoscaling, isolation."""
    target, early = find_target(ctx, strict=True)
    if target is None:
        yield from early
        return
    judge = Judge(ctx, target.kind)
    endpoint, config = target.endpoint, target.config
    spec_serving = ctx.spec.serving
    pattern = spec_pattern(ctx)
    if pattern == "batch":
        yield ctx.fail(f"serving.pattern is batch, but the infrastructure code deploys endpoint {endpoint.id} "
                       f"({endpoint.at.path}:{endpoint.at.line}): a batch transform serves from no endpoint",
                       at=("serving", "pattern"),
                       fix="set serving.pattern to what the code deploys (realtime, serverless or async), or remove "
                           "the endpoint from the code")
        return

    judge.compare("the endpoint's name", spec_serving.endpoint if spec_serving else None, ("serving", "endpoint"),
                  endpoint.name, fix="set serving.endpoint to the EndpointName the code gives the endpoint, or "
                                     "rename the endpoint in the code")
    if endpoint.condition:
        judge.warn(f"endpoint {endpoint.id} ({endpoint.at.path}:{endpoint.at.line}) is created only when condition "
                   f"{endpoint.condition} holds, which mlgate does not decide", at=endpoint.at,
                   fix="make sure the deployment this spec describes meets the condition")

    if config is None:
        judge.fail(f"endpoint {endpoint.id} uses endpoint config {endpoint.config.text if endpoint.config else '?'}, "
                   f"which is not defined in the infrastructure code ({target.origin})", at=endpoint.at,
                   fix="define the endpoint config in the same code, so its variants can be checked")
        yield from judge.close(("serving",), target.origin, target.selection.how)
        return
    if target.selection.config_note:
        judge.agree(f"endpoint config {target.selection.config_note}")
    if config.unknown:
        judge.warn(f"the shape of endpoint config {config.id} ({config.at.path}:{config.at.line}) cannot be known "
                   f"before deployment: {config.unknown}; its variants are not compared with the spec",
                   at=config.at, fix=unknown_fix(target.kind))

    deployed_pattern = iac_pattern(config)
    if deployed_pattern is not None:
        judge.compare("the serving pattern", pattern, ("serving", "pattern"), deployed_pattern,
                      fix=f"set serving.pattern to what the endpoint config serves ({deployed_pattern.text}), or "
                          f"change the endpoint config to serve as {pattern}")

    variant, how = serving_variant(ctx.spec, config)
    if variant is None and config.variants:
        judge.warn(f"endpoint config {config.id} has {len(config.variants)} production variants "
                   f"({variants_text(config.variants)}) and none is rollout.canary.variant, so mlgate cannot tell "
                   "which one serves this model", at=("rollout", "canary", "variant"),
                   fix="name the new model's variant in rollout.canary.variant")
    if variant is not None:
        vname = f"variant '{variant.name.text if variant.name else '?'}' ({how})"
        if variant.serverless is None:
            judge.compare(f"{vname}'s InstanceType", spec_serving.instance_type if spec_serving else None,
                          ("serving", "instance_type"), variant.instance_type,
                          fix="make serving.instance_type and the variant's InstanceType the same")
            judge.compare(f"{vname}'s InitialInstanceCount", spec_serving.instance_count if spec_serving else None,
                          ("serving", "instance_count"), variant.instance_count,
                          fix="make serving.instance_count and the variant's InitialInstanceCount the same")
        else:
            spec_sl = spec_serving.serverless if spec_serving else None
            sl = variant.serverless
            base = ("serving", "serverless")
            for field_, label, iac_value in (("memory_mb", "MemorySizeInMB", sl.memory_mb),
                                             ("max_concurrency", "MaxConcurrency", sl.max_concurrency),
                                             ("provisioned_concurrency", "ProvisionedConcurrency",
                                              sl.provisioned_concurrency)):
                judge.compare(f"{vname}'s ServerlessConfig.{label}",
                              getattr(spec_sl, field_) if spec_sl else None, (*base, field_), iac_value,
                              fix=f"make serving.serverless.{field_} and ServerlessConfig.{label} the same",
                              absent=(f"serving.serverless.{field_} is {getattr(spec_sl, field_, None)}, but "
                                      f"{vname} sets no ServerlessConfig.{label} ({sl.at.path}:{sl.at.line})"
                                      if field_ == "provisioned_concurrency" else None))
        _autoscaling(ctx, judge, target, variant)
        _model_facts(ctx, judge, target, variant)

    if config.async_inference is not None and spec_serving and spec_serving.async_inference:
        judge.compare("AsyncInferenceConfig.ClientConfig.MaxConcurrentInvocationsPerInstance",
                      spec_serving.async_inference.max_concurrent_invocations_per_instance,
                      ("serving", "async_inference", "max_concurrent_invocations_per_instance"),
                      config.async_inference.max_concurrent_invocations_per_instance,
                      fix="make the two MaxConcurrentInvocationsPerInstance values the same")
    yield from judge.close(("serving",), target.origin, target.selection.how)


def _autoscaling(ctx: CheckContext, judge: Judge, target: Target, variant: Variant) -> None:
    spec_as = ctx.spec.serving.autoscaling if ctx.spec.serving else None
    if variant.name is None or not variant.name.known:
        return
    suffix = f"/variant/{show(variant.name.value)}"
    matches = []
    for t in target.infra.targets:
        text = t.resource_id.template or t.resource_id.text if t.resource_id is not None else ""
        if t.resource_id is not None and t.resource_id.known:
            text = show(t.resource_id.value)
        if text.endswith(suffix):
            matches.append(t)
    if not matches:
        if spec_as is not None and (spec_as.min_instances is not None or spec_as.max_instances is not None):
            judge.warn(f"serving.autoscaling is set, but the infrastructure code ({target.origin}) registers no "
                       f"scalable target for variant '{show(variant.name.value)}' (AWS::ApplicationAutoScaling::"
                       "ScalableTarget / aws_appautoscaling_target): nothing there scales the endpoint",
                       at=("serving", "autoscaling"),
                       fix="register the variant as a scalable target in the same code, with the spec's minimum and "
                           "maximum")
        return
    scaling = matches[0]
    judge.compare("the scalable target's MinCapacity", spec_as.min_instances if spec_as else None,
                  ("serving", "autoscaling", "min_instances"), scaling.min_capacity,
                  fix="make serving.autoscaling.min_instances and MinCapacity the same")
    judge.compare("the scalable target's MaxCapacity", spec_as.max_instances if spec_as else None,
                  ("serving", "autoscaling", "max_instances"), scaling.max_capacity,
                  fix="make serving.autoscaling.max_instances and MaxCapacity the same")


def _model_facts(ctx: CheckContext, judge: Judge, target: Target, variant: Variant) -> None:
    spec_serving = ctx.spec.serving
    if spec_serving is None:
        return
    new = new_model_variant(ctx.spec, target.config) if target.config is not None else None
    new_model = model_of(target.infra, new) if new is not None else None
    if new_model is not None:
        judge.compare(f"model {new_model.id}'s container image", spec_serving.image, ("serving", "image"),
                      new_model.image, fix="make serving.image and the model's container Image the same image "
                                           "(by digest)")
    model = model_of(target.infra, variant)
    if model is None:
        return
    judge.compare(f"model {model.id}'s EnableNetworkIsolation", spec_serving.network_isolation,
                  ("serving", "network_isolation"), model.network_isolation,
                  default=Value(False, model.at, source="not written: SageMaker's default is false"),
                  fix="make serving.network_isolation and the model's EnableNetworkIsolation the same")
    judge.compare(f"model {model.id}'s VpcConfig (present)", spec_serving.vpc, ("serving", "vpc"),
                  Value(True, model.vpc) if model.vpc else None,
                  default=Value(False, model.at, source="the model has no VpcConfig"),
                  fix="make serving.vpc say whether the model has a VpcConfig")
    judge.compare(f"model {model.id}'s multi-model mode", spec_serving.multi_model, ("serving", "multi_model"),
                  Value(True, model.at, source="a container has Mode MultiModel") if model.multi_model else None,
                  default=Value(False, model.at, source="no container has Mode MultiModel"),
                  fix="make serving.multi_model say whether the container's Mode is MultiModel")
