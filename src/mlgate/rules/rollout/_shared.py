"""What the rollout rules share: a batch transform is out of scope for all four, percents are shown alike, and the
spec's shadow, canary and previous variants are read together (each rule checks one against the others)."""

from __future__ import annotations

from mlgate.checks import CheckContext
from mlgate.result import Finding
from mlgate.spec.models import Canary, Previous, Shadow


def batch_na(ctx: CheckContext, what: str) -> Finding | None:
    """`n/a` on a batch transform, which serves no live traffic (so no shadow, ramp, previous variant or rollback)."""
    if ctx.pattern != "batch":
        return None
    return ctx.na(f"serving.pattern is batch: a batch transform serves no live traffic, so there is {what}",
                  at=("serving", "pattern"))


def pct_text(value: float) -> str:
    """A percent as the spec writes it (10, 12.5)."""
    return f"{value:g}"


def live_pct_text(value: float) -> str:
    """A percent of live traffic read from the account (a weight share): three significant digits."""
    return f"{value:.3g}"


def variants(ctx: CheckContext) -> tuple[Shadow | None, Canary | None, Previous | None]:
    rollout = ctx.spec.rollout
    if rollout is None:
        return None, None, None
    return rollout.shadow, rollout.canary, rollout.previous
