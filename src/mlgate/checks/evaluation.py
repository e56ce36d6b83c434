"""Evaluation rules: the model was measured, on pinned held-out data, and is not worse than the one it replaces.

- EVL001: the report of `evaluation.report` is of *this* artifact (its own sha256 key, tag or logged file, or the
  provenance manifest's record of the report's sha256), the evaluation dataset is pinned (REP001's readers) and is
  not a training dataset, and each declared metric meets its minimum (or maximum, for a metric better when lower).
- EVL002: the production model's metrics (its report from the previous release's files, or the same report path as
  committed at `evaluation.production.commit`; with --aws the model package's ModelMetrics) on the *same*
  evaluation data: the candidate is not worse by more than each metric's tolerance. Different data is an error.
- EVL003: every declared slice is in the report, meets its minimum and is not worse than production's slice by
  more than the tolerance.

The reports are read by mlgate.evidence.evaluation (never executed). `table()` gives the reports the same
comparison as rows (the Markdown evaluation block, `mlgate provenance`).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, TypeVar

from mlgate.checks import CheckContext
from mlgate.errors import EvidenceError
from mlgate.evidence.evaluation import ReportError, Scores, read_at_commit, read_in_tree
from mlgate.manifest import ArtifactManifest, ManifestError, parse
from mlgate.result import Finding
from mlgate.rules.reproducibility.rep001_data import dataset_pinned
from mlgate.spec.models import Dataset, Evaluation, EvaluationMetric
from mlgate.yamlload import PathT

T = TypeVar("T")

_EVAL: PathT = ("evaluation",)
_PROD: PathT = ("evaluation", "production")
PIN_KEYS = ("version", "as_of", "snapshot_id", "sha256", "dvc")
# Names of metrics that are better when lower: one of them without a `direction` is a finding, not a guess.
_LOWER_NAMES = ("mse", "rmse", "mae", "mape", "loss", "log_loss", "logloss", "error", "brier", "wer", "cer",
                "perplexity")
_EPSILON = 1e-9  # float noise: 0.1 + 0.2 is not worse than 0.3
NO_EVALUATION_FIX = ("add an `evaluation:` section: the report (`report:`), the held-out data pinned like a "
                     "training dataset (`dataset:`), and each metric with its minimum (`metrics: [{name: auc, "
                     "minimum: 0.85}]`)")


def _fmt(value: float) -> str:
    return f"{value:.6g}"


# -- reading the two reports ------------------------------------------------------------------------------------

def artifact_name(ctx: CheckContext) -> str | None:
    art = ctx.spec.provenance.artifact if ctx.spec.provenance else None
    return PurePosixPath(art.uri).name or None if art and art.uri else None


def candidate(ctx: CheckContext) -> Generator[Finding, None, Scores | None]:
    """The candidate's report, or the findings that say why it cannot be read."""
    ev = ctx.spec.evaluation
    if ev is None:
        yield ctx.fail("no evaluation: nothing shows this model was measured before it serves traffic",
                       at=_EVAL, fix=NO_EVALUATION_FIX)
        return None
    if not ev.report:
        yield ctx.fail("evaluation.report is not set: no report says what this model scored", at=_EVAL,
                       fix="set evaluation.report to the evaluation step's output (a SageMaker model quality "
                           "JSON, a JSON of metrics, or an MLflow run directory)")
        return None
    path = ctx.resolve(ev.report)
    rel = ctx.workspace.rel(path)
    if not path.exists():
        yield ctx.fail(f"evaluation report {rel} does not exist", at=(*_EVAL, "report"),
                       fix="commit the evaluation step's report, or fix evaluation.report")
        return None
    tracked = f"{rel}/meta.yaml" if path.is_dir() else rel
    if not ctx.workspace.git.is_tracked(tracked):
        yield ctx.fail(f"evaluation report {rel} is not tracked by git: a fresh clone (CI, the deploy job) does not "
                       "have it", at=(*_EVAL, "report"), fix=f"git add {rel} && git commit")
        return None
    try:
        scores = read_in_tree(ctx.workspace, path, ev.format, artifact_name(ctx))
    except ReportError as exc:
        yield ctx.fail(f"evaluation report {rel} {exc.message}", at=ctx.file(rel, exc.line or 1),
                       fix="point evaluation.report at the report the evaluation step wrote (and set "
                           "evaluation.format if it is not detected)")
        return None
    return scores


@dataclass
class Production:
    scores: Scores
    dataset: dict[str, str] | None  # the data its metrics were computed on, as its report or manifest states
    dataset_from: str


def production(ctx: CheckContext) -> Generator[Finding, None, Production | None]:
    """The production model's report from the repository, or the finding why there is none (n/a for a first
    model, which replaces nothing)."""
    ev = ctx.spec.evaluation
    assert ev is not None
    prod = ev.production
    previous = ctx.spec.rollout.previous.variant if ctx.spec.rollout and ctx.spec.rollout.previous else None
    if prod is None:
        if previous:
            yield ctx.fail(f"the rollout replaces variant '{previous}', but evaluation.production names no report "
                           "of it: nothing shows the new model is not worse than the one it replaces", at=_EVAL,
                           fix="add evaluation.production: the report of the production model (`report:`), or the "
                               "same report path as committed at its release (`commit: <tag or sha>`)")
        else:
            yield ctx.na("no production model: evaluation.production and rollout.previous are not set (a first "
                         "model replaces nothing)", at=_EVAL)
        return None
    written = prod.report or ev.report
    if not written:
        yield ctx.fail("evaluation.production names no report, and evaluation.report is not set either",
                       at=_PROD, fix="set evaluation.production.report")
        return None
    at_report: PathT = (*_PROD, "report") if prod.report else (*_PROD, "commit")
    path = ctx.resolve(written)
    rel = ctx.workspace.rel(path)
    fmt = prod.format or (ev.format if not prod.report else None)
    fix = "point evaluation.production at the report of the model now serving (its release's files, or the " \
          "report path as committed at its release tag)"
    manifest: ArtifactManifest | None = None
    sha: str | None = None
    try:
        if prod.commit:
            sha = ctx.workspace.git.resolve_commit(str(prod.commit))
            if sha is None:
                yield ctx.fail(f"evaluation.production.commit '{prod.commit}' does not resolve in this repository",
                               at=(*_PROD, "commit"), fix="name the production release's tag or commit (fetch the "
                                                          "history in CI: fetch-depth: 0)")
                return None
            found = read_at_commit(ctx.workspace, sha, rel, fmt)
            if found is None:
                yield ctx.fail(f"{rel} does not exist at {prod.commit} ({sha[:12]}): the production release "
                               "committed no report there", at=at_report, fix=fix)
                return None
            scores = found
            scores.source = f"{rel} at {prod.commit}"
        else:
            if not path.exists():
                yield ctx.fail(f"production report {rel} does not exist", at=at_report, fix=fix)
                return None
            scores = read_in_tree(ctx.workspace, path, fmt)
        if prod.manifest:
            manifest = _production_manifest(ctx, prod.manifest, sha)
    except ReportError as exc:
        yield ctx.fail(f"production report {rel}{f' at {prod.commit}' if prod.commit else ''} {exc.message}",
                       at=at_report, fix=fix)
        return None
    if not prod.commit and ev.report and ctx.resolve(ev.report) == path:
        yield ctx.fail(f"evaluation.production.report is the candidate's own report {rel}: the model would be "
                       "compared with itself", at=at_report,
                       fix="name the production model's report, or add `commit:` to read this path as committed "
                           "at the production release")
        return None
    dataset, dataset_from = scores.dataset, f"{scores.source}"
    if dataset is None and manifest is not None and manifest.evaluation and manifest.evaluation.dataset:
        record = manifest.evaluation.dataset
        dataset = {k: str(v) for k in ("name", "uri", *PIN_KEYS) if (v := getattr(record, k))}
        dataset_from = f"its manifest {prod.manifest}"
    return Production(scores, dataset, dataset_from)


def _production_manifest(ctx: CheckContext, written: str, commit: str | None) -> ArtifactManifest:
    path = ctx.resolve(written)
    rel = ctx.workspace.rel(path)
    if commit:
        text = ctx.workspace.git.file_at(commit, rel)
        if text is None:
            raise ReportError(f"has no manifest {rel} at {commit}")
    else:
        if not path.is_file():
            raise ReportError(f"has no manifest: {rel} does not exist")
        text = ctx.workspace.read_text(path)
    try:
        return parse(text)[0]
    except ManifestError as exc:
        raise ReportError(f"has an invalid manifest {rel}: {exc.problems[0].message}") from None


def spec_dataset(ds: Dataset | None) -> dict[str, str] | None:
    if ds is None or not ds.uri:
        return None
    return {k: str(v).strip() for k in ("name", "uri", *PIN_KEYS) if (v := getattr(ds, k)) is not None}


def same_data(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The same dataset version: the same uri and the same pins (a name is only a label)."""
    def key(d: dict[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
        uri = str(d.get("uri", "")).strip().rstrip("/")
        pins = tuple(sorted((k, str(d[k]).strip().lower()) for k in PIN_KEYS if d.get(k)))
        return uri, pins
    return key(a) == key(b)


def describe(d: dict[str, Any]) -> str:
    pins = ", ".join(f"{k} {d[k]}" for k in PIN_KEYS if d.get(k))
    return f"{d.get('uri')}{f' ({pins})' if pins else ' (no pin)'}"


# -- judging metrics ----------------------------------------------------------------------------------------------

def direction(metric: EvaluationMetric) -> str:
    return metric.direction or "higher"


def metric_problem(ctx: CheckContext, metric: EvaluationMetric, at: PathT, need_bound: bool) -> Finding | None:
    """A declared metric that cannot be judged: no name, a loss without a direction, or no bound."""
    if not metric.name:
        return ctx.fail("a metric has no name", at=at, fix="name the metric as the report does, e.g. `name: auc`")
    lowered = metric.name.strip().lower()
    if metric.direction is None and any(lowered == n or lowered.endswith(("_" + n, "-" + n)) for n in _LOWER_NAMES):
        return ctx.fail(f"metric '{metric.name}' is usually better when lower, but it has no direction: it would be "
                        "judged as better when higher", at=at, fix="add `direction: lower` and a `maximum:`")
    if not need_bound:
        return None
    if direction(metric) == "higher" and metric.minimum is None:
        return ctx.fail(f"metric '{metric.name}' has no minimum: any score would pass", at=at,
                        fix=f"add `minimum:`, the least {metric.name} that may serve traffic"
                            + (" (or `direction: lower` with a `maximum:`)" if metric.maximum is not None else ""))
    if direction(metric) == "lower" and metric.maximum is None:
        return ctx.fail(f"metric '{metric.name}' is better when lower but has no maximum: any score would pass",
                        at=at, fix=f"add `maximum:`, the largest {metric.name} that may serve traffic")
    return None


def bound_text(metric: EvaluationMetric) -> tuple[float | None, str]:
    if direction(metric) == "lower":
        return metric.maximum, "maximum"
    return metric.minimum, "minimum"


def meets_bound(metric: EvaluationMetric, value: float) -> bool:
    bound, _ = bound_text(metric)
    if bound is None:
        return True
    return value <= bound + _EPSILON if direction(metric) == "lower" else value >= bound - _EPSILON


def worse_by(metric: EvaluationMetric, candidate_value: float, production_value: float) -> float:
    """How much worse the candidate is (negative: better), in the metric's units."""
    if direction(metric) == "lower":
        return candidate_value - production_value
    return production_value - candidate_value


def tolerance(ctx_params: dict[str, Any], metric: EvaluationMetric) -> float:
    if metric.tolerance is not None:
        return abs(metric.tolerance)
    default = ctx_params.get("default_tolerance", 0.0)
    return abs(float(default)) if isinstance(default, int | float) and not isinstance(default, bool) else 0.0


# -- EVL001 -------------------------------------------------------------------------------------------------------

def evaluated(ctx: CheckContext) -> Iterator[Finding]:
    """EVL001: evaluated on pinned held-out data, this artifact's report, every metric above its minimum."""
    scores = yield from candidate(ctx)
    ev = ctx.spec.evaluation
    if ev is None:
        return
    yield from _dataset(ctx, ev, scores)
    if scores is None:
        return
    for note in scores.notes:
        yield ctx.fail(f"evaluation report {scores.source}: {note}", at=(*_EVAL, "report"),
                       fix="evaluate again and let the run finish, or point evaluation.report at a finished run")
    yield from _for_this_artifact(ctx, scores)
    yield from _metrics(ctx, ev, scores)


def _dataset(ctx: CheckContext, ev: Evaluation, scores: Scores | None) -> Iterator[Finding]:
    ds = ev.dataset
    at: PathT = (*_EVAL, "dataset")
    if ds is None:
        yield ctx.fail("evaluation.dataset is not set: nothing says what data the model was scored on, so nobody "
                       "can tell held-out data from the training data", at=_EVAL,
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
    at_report: PathT = (*_EVAL, "report")
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
        yield ctx.fail(f"evaluation.metrics declares no metric, so no score of {scores.source} is judged", at=_EVAL,
                       fix="list each metric that decides the release with its minimum, e.g. "
                           "`metrics: [{name: auc, minimum: 0.85}]`")
        return
    for i, metric in enumerate(ev.metrics):
        at: PathT = (*_EVAL, "metrics", i)
        problem = metric_problem(ctx, metric, at, need_bound=True)
        if problem is not None:
            yield problem
            continue
        assert metric.name is not None
        yield _meets(ctx, metric, scores.metric(metric.name), scores, at, metric.name)


def _meets(ctx: CheckContext, metric: EvaluationMetric, score: Any, scores: Scores, at: PathT,
           label: str) -> Finding:
    bound, word = bound_text(metric)
    assert bound is not None
    if score is None:
        return ctx.fail(f"{label} is not in the report {scores.source}: the model was not measured on it", at=at,
                        fix=f"log {label} in the evaluation step, or fix the metric's name")
    relation = "≤" if word == "maximum" else "≥"
    where = ctx.file(scores.file, score.line) if scores.file else at
    if meets_bound(metric, score.value):
        return ctx.ok(f"{label} = {_fmt(score.value)} {relation} {word} {_fmt(bound)} ({scores.source})", at=where)
    return ctx.fail(f"{label} = {_fmt(score.value)} in {scores.source}, {'above' if word == 'maximum' else 'below'} "
                    f"the {word} {_fmt(bound)}", at=at,
                    fix="improve the model before it serves traffic, or (with the owners' approval) change the "
                        f"{word}")


# -- EVL002 and EVL003: against production -----------------------------------------------------------------------

@dataclass
class Compared:
    """Both reports on the same evaluation data, ready to compare; None of these when they cannot be."""

    cand: Scores
    prod: Production


def comparable(ctx: CheckContext) -> Generator[Finding, None, Compared | None]:
    """Both reports, and the finding that stops a comparison (an error for different evaluation data)."""
    problems, cand = _drain(candidate(ctx))
    if ctx.spec.evaluation is None:
        yield from problems
        return None
    if cand is None:
        yield ctx.fail("the candidate's evaluation report cannot be read (EVL001 says why), so nothing can be "
                       "compared with production", at=(*_EVAL, "report"))
        return None
    prod = yield from production(ctx)
    if prod is None:
        return None
    yield from compare_datasets(ctx, spec_dataset(ctx.spec.evaluation.dataset), prod.dataset, prod.dataset_from,
                                prod.scores.source)
    if ctx.spec.evaluation.dataset is None or prod.dataset is None or not same_data(
            spec_dataset(ctx.spec.evaluation.dataset) or {}, prod.dataset):
        return None
    prod_sha, cand_sha = prod.scores.artifact_sha256, cand.artifact_sha256
    if prod_sha and cand_sha and prod_sha == cand_sha:
        yield ctx.fail(f"the production report {prod.scores.source} is of the candidate artifact itself (sha256 "
                       f"{cand_sha[:12]}…): the model would be compared with itself", at=_PROD,
                       fix="name the report of the model now serving")
        return None
    return Compared(cand, prod)


def compare_datasets(ctx: CheckContext, declared: dict[str, str] | None, theirs: dict[str, str] | None,
                     theirs_from: str, source: str) -> Iterator[Finding]:
    """An error, never a silent comparison, when the two models were not scored on the same data."""
    if declared is None:
        yield ctx.error("evaluation.dataset is not set, so nothing says the two models were scored on the same "
                        "data: metrics on different data cannot be compared", at=_EVAL)
    elif theirs is None:
        yield ctx.error(f"the production report {source} does not say what data it was computed on (no dataset "
                        "in it, and no manifest with an evaluation record): its metrics cannot be compared with "
                        f"the candidate's on {describe(declared)}", at=_PROD)
    elif not same_data(declared, theirs):
        yield ctx.error(f"the two models were scored on different data: the candidate on {describe(declared)}, "
                        f"production on {describe(theirs)} (per {theirs_from}); a difference in their metrics may be "
                        "the data's, not the model's, so they were not compared", at=(*_EVAL, "dataset"))


def no_regression(ctx: CheckContext) -> Iterator[Finding]:
    """EVL002: on the same evaluation data, no metric is worse than production's by more than its tolerance."""
    both = yield from comparable(ctx)
    if both is None:
        return
    ev = ctx.spec.evaluation
    assert ev is not None
    if not ev.metrics:
        yield ctx.fail("evaluation.metrics declares no metric to compare with production", at=_EVAL,
                       fix="list the metrics that decide the release, each with its `tolerance`")
        return
    for i, metric in enumerate(ev.metrics):
        yield regression(ctx, metric, (*_EVAL, "metrics", i), both.cand.metric(metric.name or ""),
                         both.cand.source, both.prod.scores.metric(metric.name or ""), both.prod.scores.source,
                         metric.name or "")


def regression(ctx: CheckContext, metric: EvaluationMetric, at: PathT, cand: Any, cand_source: str, prod: Any,
               prod_source: str, label: str) -> Finding:
    """One metric of the candidate against production's; `cand`/`prod` are Scores (or None when missing)."""
    problem = metric_problem(ctx, metric, at, need_bound=False)
    if problem is not None:
        return problem
    if cand is None:
        return ctx.fail(f"{label} is not in the candidate's report {cand_source}, so it cannot be compared", at=at,
                        fix=f"log {label} in the evaluation step")
    if prod is None:
        return ctx.fail(f"{label} is not in the production report {prod_source}: nothing shows the candidate's "
                        f"{_fmt(cand.value)} is not a regression", at=at,
                        fix="compare with a production report that has this metric (evaluate the production model "
                            "on the same data)")
    allowed = tolerance(ctx.params, metric)
    worse = worse_by(metric, cand.value, prod.value)
    sense = "lower is better" if direction(metric) == "lower" else "higher is better"
    both = (f"{label}: candidate {_fmt(cand.value)} ({cand_source}) against production {_fmt(prod.value)} "
            f"({prod_source}), {sense}")
    if worse > allowed + _EPSILON:
        return ctx.fail(f"{both}: worse by {_fmt(worse)}, more than the tolerance {_fmt(allowed)}", at=at,
                        fix="keep the production model, or improve the candidate; raise the tolerance only if the "
                            "owners accept the loss")
    verdict = f"better by {_fmt(-worse)}" if worse < 0 else ("equal" if worse == 0 else
                                                              f"worse by {_fmt(worse)}, within {_fmt(allowed)}")
    return ctx.ok(f"{both}: {verdict}", at=at)


def slices(ctx: CheckContext) -> Iterator[Finding]:
    """EVL003: every declared slice is in the report, meets its minimum, and has not regressed past tolerance."""
    ev = ctx.spec.evaluation
    if ev is not None and not ev.slices:
        yield ctx.na("evaluation.slices declares no slice (e.g. per country or merchant category) to check",
                     at=_EVAL)
        return
    cand = yield from candidate(ctx)
    if ev is None or cand is None:
        return
    # production is optional here: a first model's slices are judged on their minimums alone
    findings, both = _drain(comparable(ctx))
    comparing = both is not None
    yield from (f for f in findings if f.status in ("fail", "error", "n/a"))
    for i, piece in enumerate(ev.slices):
        at: PathT = (*_EVAL, "slices", i)
        if not piece.name:
            yield ctx.fail("a slice has no name", at=at, fix="name the slice as the report does, e.g. country=DE")
            continue
        if cand.slice(piece.name) is None:
            yield ctx.fail(f"slice '{piece.name}' is not in the report {cand.source}: the model was not measured "
                           "on it", at=(*at, "name"), fix="evaluate the slice in the evaluation step (a `slices` "
                                                          "entry; in MLflow, metrics named <slice>/<metric>)")
            continue
        if not piece.metrics:
            yield ctx.fail(f"slice '{piece.name}' declares no metric", at=at,
                           fix="list the slice's metrics with their minimums")
            continue
        for j, metric in enumerate(piece.metrics):
            merged = _inherit(metric, ev)
            m_at: PathT = (*at, "metrics", j)
            label = f"{merged.name} of slice {piece.name}"
            problem = metric_problem(ctx, merged, m_at, need_bound=True)
            if problem is not None:
                yield problem
                continue
            score = cand.metric(merged.name or "", piece.name)
            yield _meets(ctx, merged, score, cand, m_at, label)
            if comparing and both is not None and score is not None:
                prod = both.prod.scores
                if prod.slice(piece.name) is None:
                    yield ctx.fail(f"slice '{piece.name}' is not in the production report {prod.source}: nothing "
                                   f"shows the candidate's {_fmt(score.value)} is not a regression", at=m_at,
                                   fix="evaluate the production model on the same slices")
                    continue
                yield regression(ctx, merged, m_at, score, cand.source, prod.metric(merged.name or "", piece.name),
                                 prod.source, label)


def _inherit(metric: EvaluationMetric, ev: Evaluation) -> EvaluationMetric:
    """A slice metric takes its direction from the overall metric of the same name when it states none."""
    if metric.direction is not None or not metric.name:
        return metric
    overall = next((m for m in ev.metrics if m.name and m.name.lower() == metric.name.lower()), None)
    if overall is None or overall.direction is None:
        return metric
    return metric.model_copy(update={"direction": overall.direction})


# -- the reports' evaluation block ------------------------------------------------------------------------------

def table(ctx: CheckContext, slice_params: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Candidate against production, per metric and slice, with the difference and the verdict, for the reports
    (`ctx.params` are EVL002's, `slice_params` EVL003's). None when the spec has no evaluation section."""
    ev = ctx.spec.evaluation
    if ev is None:
        return None
    out: dict[str, Any] = {"candidate": None, "production": None, "dataset": None, "rows": [], "note": None}
    declared = spec_dataset(ev.dataset)
    out["dataset"] = describe(declared) if declared else None
    cand = _quiet(candidate(ctx))
    if cand is None:
        out["note"] = "the candidate's report cannot be read (EVL001 says why)"
        return out
    out["candidate"] = cand.source
    prod: Production | None = None
    if ev.production is not None:
        prod = _quiet(production(ctx))
        if prod is None:
            out["note"] = "the production report cannot be read (EVL002 says why)"
        elif declared is None or prod.dataset is None or not same_data(declared, prod.dataset):
            out["note"] = ("not compared with production: the two were not shown to be scored on the same data "
                           "(EVL002 says why)")
            out["production"] = prod.scores.source
            prod = None
        else:
            out["production"] = prod.scores.source
    for metric in ev.metrics:
        out["rows"].append(_row(ctx.params, metric, None, cand, prod))
    for piece in ev.slices:
        for metric in piece.metrics:
            out["rows"].append(_row(slice_params or ctx.params, _inherit(metric, ev), piece.name, cand, prod))
    return out


def _drain(gen: Generator[Finding, None, T]) -> tuple[list[Finding], T]:
    """The findings a generator yields, and what it returns."""
    findings: list[Finding] = []
    try:
        while True:
            findings.append(next(gen))
    except StopIteration as stop:
        return findings, stop.value


def _quiet(gen: Generator[Finding, None, T]) -> T:
    return _drain(gen)[1]


def _row(params: dict[str, Any], metric: EvaluationMetric, slice_name: str | None, cand: Scores,
         prod: Production | None) -> dict[str, Any]:
    name = metric.name or "?"
    c = cand.metric(name, slice_name)
    p = prod.scores.metric(name, slice_name) if prod else None
    bound, word = bound_text(metric)
    allowed = tolerance(params, metric)
    row: dict[str, Any] = {"slice": slice_name, "metric": name, "direction": direction(metric),
                           "candidate": c.value if c else None, "production": p.value if p else None,
                           "difference": round(c.value - p.value, 10) if c and p else None,
                           word: bound, "tolerance": allowed}
    problems = []
    if c is None:
        problems.append("not in the candidate's report")
    elif bound is not None and not meets_bound(metric, c.value):
        problems.append(f"{'above' if word == 'maximum' else 'below'} the {word}")
    if c is not None and p is not None and worse_by(metric, c.value, p.value) > allowed + _EPSILON:
        problems.append("regression beyond tolerance")
    elif prod is not None and p is None:
        problems.append("not in the production report")
    row["verdict"] = "fail" if problems else "pass"
    row["why"] = "; ".join(problems) or None
    return row
