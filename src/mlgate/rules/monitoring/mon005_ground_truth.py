"""MON005: the real quality metric is tracked once labels arrive: which metric, how late the labels are, and a bound on
the worse side within the metric's range."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from mlgate.checks import CheckContext
from mlgate.result import Finding
from mlgate.rules.monitoring._shared import num, required_section
from mlgate.rules.params import NoParams
from mlgate.spec.models import GroundTruth
from mlgate.units import DURATION_HELP, parse_duration

Params = NoParams  # no parameters

_GT = ("monitoring", "ground_truth")

# Quality metrics by direction and range: (better when "higher" | "lower", lowest value, highest value).
_UNIT = (0.0, 1.0)
_METRICS: dict[str, tuple[str, float | None, float | None]] = {
    **dict.fromkeys((
        "auc", "roc_auc", "auc_roc", "pr_auc", "au_prc", "aucpr", "average_precision", "accuracy",
        "balanced_accuracy", "f1", "f1_score", "f0_5", "f2", "weighted_f1", "macro_f1", "micro_f1", "precision",
        "recall", "weighted_precision", "weighted_recall", "specificity", "sensitivity", "true_positive_rate",
        "true_negative_rate", "tpr", "tnr", "ndcg", "map", "mrr", "hit_rate", "top_k_accuracy", "jaccard", "iou",
        "dice", "precision_at_k", "recall_at_k"), ("higher", *_UNIT)),
    "r2": ("higher", None, 1.0),
    "mcc": ("higher", -1.0, 1.0),
    **dict.fromkeys((
        "false_positive_rate", "false_negative_rate", "fpr", "fnr", "error_rate", "misclassification_rate",
        "brier", "brier_score"), ("lower", *_UNIT)),
    **dict.fromkeys((
        "mae", "mse", "rmse", "rmsle", "msle", "mape", "smape", "log_loss", "logloss", "cross_entropy", "wer",
        "cer", "perplexity", "median_absolute_error"), ("lower", 0.0, None)),
}


def _metric_info(metric: str) -> tuple[str, float | None, float | None] | None:
    return _METRICS.get(re.sub(r"[\s\-]+", "_", metric.strip().lower()))


def check(ctx: CheckContext) -> Iterator[Finding]:
    """The real quality metric, once labels arrive: which metric, how late the labels are, and the bound."""
    gt: GroundTruth | None = yield from required_section(
        ctx, "ground_truth", "drift says the inputs changed, only ground truth says the model got worse",
        fix="add monitoring.ground_truth with the metric (e.g. auc), label_delay (how long labels take to arrive, "
            "e.g. 30d) and minimum")
    if gt is None:
        return
    problems = 0
    metric = (gt.metric or "").strip()
    if not metric:
        problems += 1
        yield ctx.fail("monitoring.ground_truth.metric is not set: say which quality metric is tracked",
                       at=(*_GT, "metric"), fix="write the metric, e.g. `metric: auc`")
    if gt.label_delay is None or not str(gt.label_delay).strip():
        problems += 1
        yield ctx.fail("monitoring.ground_truth.label_delay is not set: say how long labels take to arrive, so "
                       "everyone knows how late a quality drop shows", at=(*_GT, "label_delay"),
                       fix=f"write {DURATION_HELP}")
    elif parse_duration(gt.label_delay) is None:
        problems += 1
        yield ctx.fail(f"ground truth label_delay '{gt.label_delay}' is not a duration mlgate understands",
                       at=(*_GT, "label_delay"), fix=f"write {DURATION_HELP}")

    info = _metric_info(metric) if metric else None
    direction = info[0] if info else None
    # A metric better when lower is bounded by a maximum; an unknown metric may use either bound.
    if direction == "lower" or (direction is None and gt.minimum is None and gt.maximum is not None):
        bound_name, bound = "maximum", gt.maximum
    else:
        bound_name, bound = "minimum", gt.minimum
    if bound is None:
        problems += 1
        wrong = gt.minimum if bound_name == "maximum" else gt.maximum
        if wrong is not None:
            worse = "rises" if direction == "lower" else "falls"
            yield ctx.fail(f"{metric} gets worse as it {worse}, so a "
                           f"{'minimum' if bound_name == 'maximum' else 'maximum'} of {num(wrong)} never catches "
                           f"a worse model", at=(*_GT, "minimum" if bound_name == "maximum" else "maximum"),
                           fix=f"write `{bound_name}: <value>`, the worst {metric} you accept")
        else:
            yield ctx.fail(f"monitoring.ground_truth.{bound_name} is not set: without a bound no quality is too low",
                           at=(*_GT, bound_name), fix=f"write `{bound_name}:`, the worst {metric or 'value'} you "
                                                      "accept")
    elif not math.isfinite(bound):
        problems += 1
        yield ctx.fail(f"ground truth {bound_name} is {num(bound)}, not a finite number", at=(*_GT, bound_name),
                       fix="write a finite number")
    elif info:
        _, lowest, highest = info
        if (lowest is not None and bound < lowest) or (highest is not None and bound > highest):
            problems += 1
            span = f"[{'-inf' if lowest is None else num(lowest)}, {'inf' if highest is None else num(highest)}]"
            looks_like_percent = (lowest, highest) == _UNIT and 10 <= bound <= 100
            hint = f"; for {num(bound)} %, write {num(bound / 100)}" if looks_like_percent else ""
            yield ctx.fail(f"{metric} lies in {span}, so a {bound_name} of {num(bound)} is impossible{hint}",
                           at=(*_GT, bound_name), fix=f"write a {bound_name} within {span}")
        elif (direction == "higher" and bound == lowest) or (direction == "lower" and bound == highest):
            problems += 1
            yield ctx.fail(f"a {bound_name} of {num(bound)} for {metric} never fires: no model can do worse",
                           at=(*_GT, bound_name), fix=f"write the worst {metric} you accept")
    if not problems:
        yield ctx.ok(f"ground truth: {metric} is tracked with labels arriving after {gt.label_delay}, "
                     f"{bound_name} {num(bound or 0)}", at=_GT)
