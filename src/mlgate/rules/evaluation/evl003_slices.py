"""EVL003: every declared slice is in the candidate's report, meets its minimum, and is not worse than production's
same slice by more than the tolerance.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from mlgate.checks import CheckContext
from mlgate.result import Finding
from mlgate.rules.evaluation._reports import (
    EVAL,
    candidate,
    comparable,
    drain,
    fmt,
    inherit,
    meets,
    metric_problem,
    regression,
)
from mlgate.rules.params import Number, RuleParams
from mlgate.yamlload import PathT


class Params(RuleParams):
    default_tolerance: Number = Field(0.0, ge=0, description="the tolerance of a slice metric that states none, in the "
                                                           "metric's units (0: any loss fails)")


def check(ctx: CheckContext) -> Iterator[Finding]:
    """EVL003: every declared slice is in the report, meets its minimum, and has not regressed past tolerance."""
    ev = ctx.spec.evaluation
    if ev is not None and not ev.slices:
        yield ctx.na("evaluation.slices declares no slice (e.g. per country or merchant category) to check",
                     at=EVAL)
        return
    cand = yield from candidate(ctx)
    if ev is None or cand is None:
        return
    # production is optional here: a first model's slices are judged on their minimums alone
    findings, both = drain(comparable(ctx))
    comparing = both is not None
    yield from (f for f in findings if f.status in ("fail", "error", "n/a"))
    for i, piece in enumerate(ev.slices):
        at: PathT = (*EVAL, "slices", i)
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
            merged = inherit(metric, ev)
            m_at: PathT = (*at, "metrics", j)
            label = f"{merged.name} of slice {piece.name}"
            problem = metric_problem(ctx, merged, m_at, need_bound=True)
            if problem is not None:
                yield problem
                continue
            score = cand.metric(merged.name or "", piece.name)
            yield meets(ctx, merged, score, cand, m_at, label)
            if comparing and both is not None and score is not None:
                prod = both.prod.scores
                if prod.slice(piece.name) is None:
                    yield ctx.fail(f"slice '{piece.name}' is not in the production report {prod.source}: nothing "
                                   f"shows the candidate's {fmt(score.value)} is not a regression", at=m_at,
                                   fix="evaluate the production model on the same slices")
                    continue
                yield regression(ctx, merged, m_at, score, cand.source, prod.metric(merged.name or "", piece.name),
                                 prod.source, label)
