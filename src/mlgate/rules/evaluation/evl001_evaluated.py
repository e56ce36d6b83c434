"""EVL001: the report of `evaluation.report` is of *this* artifact (its own sha256 key, tag or logged file,
or the provenance manifest's record of the report's sha256), the evaluation dataset is pinned (REP001's readers) and
is not a training dataset, and each declared metric meets its minimum (or maximum, for a metric better when lower).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from mlgate.checks import CheckContext
from mlgate.errors import EvidenceError
from mlgate.evidence.evaluation import Scores
from mlgate.manifest import ArtifactManifest, ManifestError, parse
from mlgate.result import Finding
from mlgate.rules.evaluation._reports import (
    EVAL,
    candidate,
    describe,
    meets,
    metric_problem,
    same_data,
    spec_dataset,
)
from mlgate.rules.params import RuleParams
from mlgate.rules.reproducibility.rep001_data import dataset_pinned
from mlgate.spec.models import Evaluation
from mlgate.yamlload import PathT


class Params(RuleParams):
    extra_floating_refs: list[str] = Field(
        default_factory=list, description="names of your own that always point at the newest data; they fail in the "
                                          "evaluation dataset's pin like the built-in ones (latest, current, main, "
                                          "master, head, newest, stable). REP001 has the same parameter")


def check(ctx: CheckContext) -> Iterator[Finding]:
    """EVL001: evaluated on pinned held-out data, this artifact's report, every metric above its minimum."""
    scores = yield from candidate(ctx)
    ev = ctx.spec.evaluation
    if ev is None:
        return
    yield from _dataset(ctx, ev, scores)
    if scores is None:
        return
    for note in scores.notes:
        yield ctx.fail(f"evaluation report {scores.source}: {note}", at=(*EVAL, "report"),
                       fix="evaluate again and let the run finish, or point evaluation.report at a finished run")
    yield from _for_this_artifact(ctx, scores)
    yield from _metrics(ctx, ev, scores)


def _dataset(ctx: CheckContext, ev: Evaluation, scores: Scores | None) -> Iterator[Finding]:
    ds = ev.dataset
    at: PathT = (*EVAL, "dataset")
    if ds is None:
        yield ctx.fail("evaluation.dataset is not set: nothing says what data the model was scored on, so nobody "
                       "can tell held-out data from the training data", at=EVAL,
                       fix="add evaluation.dataset with its uri and a pin, like a training dataset: "
                           "`{name: holdout, uri: s3://bucket/holdout.parquet, version: <S3 VersionId>}`")
        return
    yield from dataset_pinned(ctx, ds, at, label=f"evaluation dataset '{ds.name}'" if ds.name else
                              "evaluation.dataset")
    declared = spec_dataset(ds)
    if declared is None:
        return
    prov = ctx.spec.provenance
    for i, train in enumerate(prov.data if prov else []):
        theirs = spec_dataset(train)
        if theirs is None:
            continue
        label = f"training dataset '{train.name}'" if train.name else f"provenance.data[{i}]"
        if same_data(declared, theirs):
            yield ctx.fail(f"the evaluation dataset is {label} ({describe(declared)}): the model was scored on "
                           "data it learned from, so its metrics say nothing about unseen data", at=at,
                           fix="evaluate on held-out data that training did not read, and pin it here")
        elif theirs["uri"].rstrip("/") == declared["uri"].rstrip("/"):
            yield ctx.warn(f"the evaluation dataset has the same uri as {label} ({declared['uri']}), at another "
                           f"version ({describe(declared)} against {describe(theirs)}): a later version of the "
                           "same data may hold the training rows", at=at,
                           fix="evaluate on a held-out split stored apart from the training data")
    if scores is not None and scores.dataset is not None:
        if same_data(declared, scores.dataset):
            yield ctx.ok(f"the report {scores.source} states it was computed on {describe(scores.dataset)}, the "
                         "spec's evaluation dataset", at=at)
        else:
            yield ctx.fail(f"the report {scores.source} was computed on {describe(scores.dataset)}, but "
                           f"evaluation.dataset is {describe(declared)}", at=at,
                           fix="evaluate on the declared dataset, or declare the dataset the report was computed on")


def _for_this_artifact(ctx: CheckContext, scores: Scores) -> Iterator[Finding]:
    prov = ctx.spec.provenance
    art = prov.artifact if prov else None
    manifest, manifest_rel = _manifest(ctx)
    expected = art.sha256.strip().lower() if art and art.sha256 else (manifest.artifact.sha256 if manifest else None)
    at_report: PathT = (*EVAL, "report")
    if expected is None:
        yield ctx.fail("the artifact's sha256 is not stated (provenance.artifact.sha256, or its manifest), so "
                       f"nothing shows the report {scores.source} is of the artifact being deployed",
                       at=("provenance", "artifact") if art else ("provenance",),
                       fix="record the artifact's sha256 in provenance.artifact.sha256")
        return
    if scores.artifact_sha256 is not None:
        if scores.artifact_sha256 == expected:
            yield ctx.ok(f"the report {scores.source} is of this artifact: {scores.artifact_sha256_from} is its "
                         f"sha256 {expected[:12]}…", at=at_report)
        else:
            yield ctx.fail(f"the report {scores.source} is of another artifact: {scores.artifact_sha256_from} is "
                           f"sha256 {scores.artifact_sha256}, but the deployed artifact's is {expected}",
                           at=at_report, fix="evaluate the artifact being deployed, or deploy the one that was "
                                             "evaluated")
        return
    record = manifest.evaluation if manifest else None
    if manifest is None or record is None:
        where = f"the manifest {manifest_rel} has no evaluation record" if manifest else "there is no manifest"
        yield ctx.fail(f"the report {scores.source} does not say which artifact it scored (no artifact_sha256), "
                       f"and {where}: it may be another model's", at=at_report,
                       fix="record the artifact's sha256 in the report (`artifact_sha256`; an MLflow tag), or "
                           "write the manifest with `mlgate manifest <artifact> --evaluation <report>`")
        return
    if manifest.artifact.sha256 != expected:
        yield ctx.fail(f"the manifest {manifest_rel} records the evaluation of artifact {manifest.artifact.sha256}, "
                       f"not of the deployed {expected}", at=at_report,
                       fix="write the manifest of the deployed artifact with --evaluation")
    elif record.sha256 != scores.digest:
        yield ctx.fail(f"the report {scores.source} has sha256 {scores.digest}, but the manifest {manifest_rel} "
                       f"recorded {record.sha256} for {record.report}: the report is not the one evaluated with "
                       "this artifact (edited, or another run)", at=at_report,
                       fix="restore the report the evaluation wrote, or evaluate again and rewrite the manifest "
                           "with --evaluation")
    else:
        yield ctx.ok(f"the manifest {manifest_rel} ties the report {scores.source} (sha256 {scores.digest[:12]}…) to "
                     f"this artifact (sha256 {expected[:12]}…)", at=at_report)


def _manifest(ctx: CheckContext) -> tuple[ArtifactManifest | None, str]:
    """The spec's provenance manifest, when it reads (REP005 reports one that does not)."""
    art = ctx.spec.provenance.artifact if ctx.spec.provenance else None
    if art is None or not art.manifest:
        return None, ""
    try:
        path = ctx.resolve(art.manifest)
        rel = ctx.workspace.rel(path)
        if not path.is_file():
            return None, rel
        return parse(ctx.workspace.read_text(path))[0], rel
    except (EvidenceError, ManifestError):
        return None, art.manifest


def _metrics(ctx: CheckContext, ev: Evaluation, scores: Scores) -> Iterator[Finding]:
    if not ev.metrics:
        yield ctx.fail(f"evaluation.metrics declares no metric, so no score of {scores.source} is judged", at=EVAL,
                       fix="list each metric that decides the release with its minimum, e.g. "
                           "`metrics: [{name: auc, minimum: 0.85}]`")
        return
    for i, metric in enumerate(ev.metrics):
        at: PathT = (*EVAL, "metrics", i)
        problem = metric_problem(ctx, metric, at, need_bound=True)
        if problem is not None:
            yield problem
            continue
        assert metric.name is not None
        yield meets(ctx, metric, scores.metric(metric.name), scores, at, metric.name)


