"""What the rollout rules share: a batch transform is out of scope for all four, percents are shown alike, and the
spec's shadow, canary and previous variants are read together (each rule checks one against the others), and a
spec duration (the shadow's run, the canary's bake) is judged against its minimum alike."""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Iterator

from mlgate.checks import CheckContext
from mlgate.result import Finding
from mlgate.spec.models import Canary, Previous, Shadow
from mlgate.units import DURATION_HELP, parse_duration
from mlgate.yamlload import PathT

RuleCheck = Callable[[CheckContext], Iterator[Finding]]


def live_traffic_only(what: str) -> Callable[[RuleCheck], RuleCheck]:
    """Makes a rollout rule's check `n/a` on a batch transform, which serves no live traffic (so there is no shadow,
    ramp, previous variant or rollback: `what` says which)."""
    def decorate(check: RuleCheck) -> RuleCheck:
        @functools.wraps(check)
        def checked(ctx: CheckContext) -> Iterator[Finding]:
            if ctx.pattern == "batch":
                yield ctx.na(f"serving.pattern is batch: a batch transform serves no live traffic, so there is "
                             f"{what}", at=("serving", "pattern"))
                return
            yield from check(ctx)
        return checked
    return decorate


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


def duration_at_least(ctx: CheckContext, value: str | None, minimum: float, min_text: str, at: PathT, *,
                      unset: str, example: str, short: str, short_fix: str) -> Generator[Finding, None, float | None]:
    """A failure when the duration at `at` (e.g. rollout.shadow.duration) is not set, not a duration, or shorter
    than `minimum` seconds; returns its seconds when none of these holds, None when it failed.

    `unset` says why an unset duration matters, `example` is a sample value for the fix, and `short` / `short_fix`
    are the message and fix for a duration below the minimum."""
    field = str(at[-1])
    if value is None:
        yield ctx.fail(f"{'.'.join(map(str, at))} is not set: {unset}", at=at,
                       fix=f"set {field} to at least {min_text}, e.g. `{field}: {example}`")
        return None
    seconds = parse_duration(value)
    if seconds is None:
        yield ctx.fail(f"{at[-2]} {field} '{value}' is not a duration mlgate understands", at=at,
                       fix=f"write {DURATION_HELP}")
        return None
    if seconds < minimum:
        yield ctx.fail(short, at=at, fix=short_fix)
        return None
    return seconds
