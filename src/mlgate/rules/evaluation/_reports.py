"""What the evaluation rules share: the two reports (the candidate's and the production model's, read by
mlgate.evidence.evaluation, never executed), whether they were scored on the same data, and how one metric is
judged against its bound and against production. `table()` gives the reports the same comparison as rows (the
Markdown evaluation block, `mlgate provenance`).
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, TypeVar

from mlgate.checks import CheckContext
from mlgate.evidence.evaluation import ReportError, Scores, read_at_commit, read_in_tree
from mlgate.manifest import ArtifactManifest, ManifestError, parse
from mlgate.result import Finding
from mlgate.spec.models import Dataset, Evaluation, EvaluationMetric
from mlgate.yamlload import PathT

T = TypeVar("T")

EVAL: PathT = ("evaluation",)
PROD: PathT = ("evaluation", "production")
PIN_KEYS = ("version", "as_of", "snapshot_id", "sha256", "dvc")
# Names of metrics that are better when lower: one of them without a `direction` is a finding, not a guess.
_LOWER_NAMES = ("mse", "rmse", "mae", "mape", "loss", "log_loss", "logloss", "error", "brier", "wer", "cer",
                "perplexity")
_EPSILON = 1e-9  # float noise: 0.1 + 0.2 is not worse than 0.3
NO_EVALUATION_FIX = ("add an `evaluation:` section: the report (`report:`), the held-out data pinned like a "
                     "training dataset (`dataset:`), and each metric with its minimum (`metrics: [{name: auc, "
                     "minimum: 0.85}]`)")


def fmt(value: float) -> str:
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
                       at=EVAL, fix=NO_EVALUATION_FIX)
        return None
    if not ev.report:
        yield ctx.fail("evaluation.report is not set: no report says what this model scored", at=EVAL,
                       fix="set evaluation.report to the evaluation step's output (a SageMaker model quality "
                           "JSON, a JSON of metrics, or an MLflow run directory)")
        return None
    path = ctx.resolve(ev.report)
    rel = ctx.workspace.rel(path)
    if not path.exists():
        yield ctx.fail(f"evaluation report {rel} does not exist", at=(*EVAL, "report"),
                       fix="commit the evaluation step's report, or fix evaluation.report")
        return None
    tracked = f"{rel}/meta.yaml" if path.is_dir() else rel
    if not ctx.workspace.git.is_tracked(tracked):
        yield ctx.fail(f"evaluation report {rel} is not tracked by git: a fresh clone (CI, the deploy job) does not "
                       "have it", at=(*EVAL, "report"), fix=f"git add {rel} && git commit")
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
    """The production model's scores, and the data they were computed on."""
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
                           "of it: nothing shows the new model is not worse than the one it replaces", at=EVAL,
                           fix="add evaluation.production: the report of the production model (`report:`), or the "
                               "same report path as committed at its release (`commit: <tag or sha>`)")
        else:
            yield ctx.na("no production model: evaluation.production and rollout.previous are not set (a first "
                         "model replaces nothing)", at=EVAL)
        return None
    written = prod.report or ev.report
    if not written:
        yield ctx.fail("evaluation.production names no report, and evaluation.report is not set either",
                       at=PROD, fix="set evaluation.production.report")
        return None
    at_report: PathT = (*PROD, "report") if prod.report else (*PROD, "commit")
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
                               at=(*PROD, "commit"), fix="name the production release's tag or commit (fetch the "
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


def tolerance(default: float, metric: EvaluationMetric) -> float:
    """The metric's own tolerance, else the rule's `default_tolerance` (its Params bound it, before the run)."""
    return abs(metric.tolerance) if metric.tolerance is not None else abs(default)


def meets(ctx: CheckContext, metric: EvaluationMetric, score: Any, scores: Scores, at: PathT,
          label: str) -> Finding:
    bound, word = bound_text(metric)
    assert bound is not None
    if score is None:
        return ctx.fail(f"{label} is not in the report {scores.source}: the model was not measured on it", at=at,
                        fix=f"log {label} in the evaluation step, or fix the metric's name")
    relation = "≤" if word == "maximum" else "≥"
    where = ctx.file(scores.file, score.line) if scores.file else at
    if meets_bound(metric, score.value):
        return ctx.ok(f"{label} = {fmt(score.value)} {relation} {word} {fmt(bound)} ({scores.source})", at=where)
    return ctx.fail(f"{label} = {fmt(score.value)} in {scores.source}, {'above' if word == 'maximum' else 'below'} "
                    f"the {word} {fmt(bound)}", at=at,
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
    problems, cand = drain(candidate(ctx))
    if ctx.spec.evaluation is None:
        yield from problems
        return None
    if cand is None:
        yield ctx.fail("the candidate's evaluation report cannot be read (EVL001 says why), so nothing can be "
                       "compared with production", at=(*EVAL, "report"))
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
                       f"{cand_sha[:12]}…): the model would be compared with itself", at=PROD,
                       fix="name the report of the model now serving")
        return None
    return Compared(cand, prod)


def compare_datasets(ctx: CheckContext, declared: dict[str, str] | None, theirs: dict[str, str] | None,
                     theirs_from: str, source: str) -> Iterator[Finding]:
    """An error, never a silent comparison, when the two models were not scored on the same data."""
    if declared is None:
        yield ctx.error("evaluation.dataset is not set, so nothing says the two models were scored on the same "
                        "data: metrics on different data cannot be compared", at=EVAL)
    elif theirs is None:
        yield ctx.error(f"the production report {source} does not say what data it was computed on (no dataset "
                        "in it, and no manifest with an evaluation record): its metrics cannot be compared with "
                        f"the candidate's on {describe(declared)}", at=PROD)
    elif not same_data(declared, theirs):
        yield ctx.error(f"the two models were scored on different data: the candidate on {describe(declared)}, "
                        f"production on {describe(theirs)} (per {theirs_from}); a difference in their metrics may be "
                        "the data's, not the model's, so they were not compared", at=(*EVAL, "dataset"))


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
                        f"{fmt(cand.value)} is not a regression", at=at,
                        fix="compare with a production report that has this metric (evaluate the production model "
                            "on the same data)")
    allowed = tolerance(ctx.params.default_tolerance, metric)
    worse = worse_by(metric, cand.value, prod.value)
    sense = "lower is better" if direction(metric) == "lower" else "higher is better"
    both = (f"{label}: candidate {fmt(cand.value)} ({cand_source}) against production {fmt(prod.value)} "
            f"({prod_source}), {sense}")
    if worse > allowed + _EPSILON:
        return ctx.fail(f"{both}: worse by {fmt(worse)}, more than the tolerance {fmt(allowed)}", at=at,
                        fix="keep the production model, or improve the candidate; raise the tolerance only if the "
                            "owners accept the loss")
    verdict = f"better by {fmt(-worse)}" if worse < 0 else ("equal" if worse == 0 else
                                                              f"worse by {fmt(worse)}, within {fmt(allowed)}")
    return ctx.ok(f"{both}: {verdict}", at=at)


def inherit(metric: EvaluationMetric, ev: Evaluation) -> EvaluationMetric:
    """A slice metric takes its direction from the overall metric of the same name when it states none."""
    if metric.direction is not None or not metric.name:
        return metric
    overall = next((m for m in ev.metrics if m.name and m.name.lower() == metric.name.lower()), None)
    if overall is None or overall.direction is None:
        return metric
    return metric.model_copy(update={"direction": overall.direction})


# -- the reports' evaluation block ------------------------------------------------------------------------------

def table(ctx: CheckContext, slice_tolerance: float | None = None) -> dict[str, Any] | None:
    """Candidate against production, per metric and slice, with the difference and the verdict, for the reports
    (`ctx.params` are EVL002's, `slice_tolerance` EVL003's `default_tolerance`). None when the spec has no evaluation
    section."""
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
    overall: float = ctx.params.default_tolerance
    for metric in ev.metrics:
        out["rows"].append(_row(overall, metric, None, cand, prod))
    for piece in ev.slices:
        for metric in piece.metrics:
            out["rows"].append(_row(overall if slice_tolerance is None else slice_tolerance, inherit(metric, ev),
                                    piece.name, cand, prod))
    return out


def drain(gen: Generator[Finding, None, T]) -> tuple[list[Finding], T]:
    """The findings a generator yields, and what it returns."""
    findings: list[Finding] = []
    try:
        while True:
            findings.append(next(gen))
    except StopIteration as stop:
        return findings, stop.value


def _quiet(gen: Generator[Finding, None, T]) -> T:
    return drain(gen)[1]


def _row(default_tolerance: float, metric: EvaluationMetric, slice_name: str | None, cand: Scores,
         prod: Production | None) -> dict[str, Any]:
    name = metric.name or "?"
    c = cand.metric(name, slice_name)
    p = prod.scores.metric(name, slice_name) if prod else None
    bound, word = bound_text(metric)
    allowed = tolerance(default_tolerance, metric)
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
