"""EVL002: on the *same* evaluation data, the candidate is not worse than the production model by more than each
metric's tolerance: production's report from the previous release's files or as committed at
`evaluation.production.commit`, and with --aws the ModelMetrics of the model package the endpoint serves. Different
data is an error, never a comparison.

Online, the endpoint's production variant (rollout.previous.variant, else the variant with the most weight that is
not the canary) runs a SageMaker model; when that model was created from a model package (a container's
`ModelPackageName`, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ContainerDefinition.html), the
package's `ModelMetrics.ModelQuality.Statistics` names the S3 object of its model quality report
(https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ModelQuality.html,
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_MetricsSource.html), which is read (GetObject, at
most 1 MiB) and parsed like a report file. The data those metrics were computed on comes from the report, or
from the package's CustomerMetadataProperties `evaluation_dataset_uri` with a pin (`evaluation_dataset_version`,
`_as_of`, `_snapshot_id`, `_sha256`): without it, nothing is compared (an error, as offline).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from pydantic import Field

from mlgate.checks import CheckContext
from mlgate.evidence.evaluation import ReportError, parse_report
from mlgate.result import Finding
from mlgate.rules.evaluation._reports import (
    EVAL,
    candidate,
    comparable,
    compare_datasets,
    regression,
    same_data,
    spec_dataset,
)
from mlgate.rules.params import Number, OnlineParams
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    from mlgate.aws.live import LiveEndpoint, LiveVariant, Online


class Params(OnlineParams):
    default_tolerance: Number = Field(0.0, ge=0, description="the tolerance of a metric that states none, in the "
                                                           "metric's units (0: any loss fails)")


_AT: PathT = ("evaluation",)
MAX_REPORT_BYTES = 1024 * 1024
_DATASET_PREFIX = "evaluation_dataset_"


def check(ctx: CheckContext) -> Iterator[Finding]:
    """EVL002: on the same evaluation data, no metric is worse than production's by more than its tolerance."""
    both = yield from comparable(ctx)
    if both is None:
        return
    ev = ctx.spec.evaluation
    assert ev is not None
    if not ev.metrics:
        yield ctx.fail("evaluation.metrics declares no metric to compare with production", at=EVAL,
                       fix="list the metrics that decide the release, each with its `tolerance`")
        return
    for i, metric in enumerate(ev.metrics):
        yield regression(ctx, metric, (*EVAL, "metrics", i), both.cand.metric(metric.name or ""),
                         both.cand.source, both.prod.scores.metric(metric.name or ""), both.prod.scores.source,
                         metric.name or "")


def _production_variant(ctx: CheckContext, endpoint: LiveEndpoint) -> LiveVariant | None:
    rollout = ctx.spec.rollout
    previous = rollout.previous.variant if rollout and rollout.previous else None
    if previous:
        return endpoint.variant(previous)
    canary = rollout.canary.variant if rollout and rollout.canary else None
    others = [v for v in endpoint.variants if v.name != canary]
    return max(others, key=lambda v: v.weight) if others else None


def online(ctx: CheckContext, live: Online) -> Iterator[Finding]:
    """EVL002 online: the candidate's metrics against the production model package's ModelMetrics."""
    from mlgate.aws.data import parse_s3

    ev = ctx.spec.evaluation
    if ev is None or not ev.metrics:
        yield ctx.na("no evaluation metrics declared to compare with the account's", at=_AT)
        return
    found = live.live_endpoint(ctx, "production model's metrics")
    variant = _production_variant(ctx, found)
    if variant is None or not variant.model:
        yield ctx.na(f"{found.where} has no production variant to compare with ({found.listing()})", at=_AT)
        return
    region = live.region(ctx)
    model = live.session.call("sagemaker", "DescribeModel", region=region, target=f"model {variant.model}",
                                ModelName=variant.model)
    containers = [model.get("PrimaryContainer") or {}, *(model.get("Containers") or [])]
    package = next((str(c["ModelPackageName"]) for c in containers if c.get("ModelPackageName")), None)
    if package is None:
        yield ctx.na(f"the production variant '{variant.name}' runs model {variant.model}, which was not created "
                     "from a model package: the account holds no ModelMetrics for it (the offline comparison "
                     "stands)", at=_AT)
        return
    described = live.session.call("sagemaker", "DescribeModelPackage", region=region,
                                    target=f"model package {package}", ModelPackageName=package)
    statistics = ((described.get("ModelMetrics") or {}).get("ModelQuality") or {}).get("Statistics") or {}
    uri = statistics.get("S3Uri")
    obj = parse_s3(str(uri)) if uri else None
    if obj is None:
        yield ctx.warn(f"the production model package {package} records no ModelMetrics.ModelQuality.Statistics "
                       "(an S3 object): the Model Registry cannot show what the production model scored", at=_AT,
                       fix="register model packages with ModelMetrics (the evaluation step's report)")
        return
    answer = live.session.call("s3", "GetObject", region=region, target=obj.uri, Bucket=obj.bucket, Key=obj.key,
                                 Range=f"bytes=0-{MAX_REPORT_BYTES - 1}")
    source = f"model package {package} ModelMetrics {obj.uri}"
    try:
        text = answer["Body"].read().decode("utf-8-sig")
        prod = parse_report(text, source)
    except (UnicodeDecodeError, ReportError) as exc:
        message = exc.message if isinstance(exc, ReportError) else "is not UTF-8 text"
        yield ctx.error(f"the ModelMetrics statistics {obj.uri} of {package} {message}", at=_AT)
        return
    cand = None
    gen = candidate(ctx)
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        cand = stop.value
    if cand is None:
        yield ctx.fail("the candidate's evaluation report cannot be read (EVL001 says why), so it was not compared "
                       f"with {source}", at=_AT)
        return
    props = described.get("CustomerMetadataProperties") or {}
    stated = {k[len(_DATASET_PREFIX):]: str(v) for k, v in props.items()
              if str(k).lower().startswith(_DATASET_PREFIX) and str(v).strip()}
    theirs = prod.dataset or (stated if stated.get("uri") else None)
    declared = spec_dataset(ev.dataset)
    problems = list(compare_datasets(ctx, declared, theirs, source if prod.dataset else
                                     f"the CustomerMetadataProperties of {package}", source))
    if problems or declared is None or theirs is None or not same_data(declared, theirs):
        yield from problems
        return
    for i, metric in enumerate(ev.metrics):
        name = metric.name or ""
        yield regression(ctx, metric, ("evaluation", "metrics", i), cand.metric(name), cand.source,
                         prod.metric(name), source, name)
