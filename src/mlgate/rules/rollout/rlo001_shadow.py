"""RLO001: the new model scores live traffic in shadow (a shadow variant of the serving endpoint, a managed shadow
test, or a separate endpoint the caller mirrors to), long and wide enough, before any of its output is served."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from pydantic import Field

from mlgate.checks import CheckContext
from mlgate.facts import load_facts
from mlgate.result import Finding
from mlgate.rules.params import Duration, Number, OnlineParams
from mlgate.rules.rollout._shared import duration_at_least, live_pct_text, live_traffic_only, pct_text, variants
from mlgate.units import parse_duration

if TYPE_CHECKING:
    from mlgate.aws.live import Online


class Params(OnlineParams):
    min_sampling_percent: Number = Field(10, gt=0, le=100, description="the smallest percent of live requests the "
                                         "shadow must score (rollout.shadow.sampling_percent)")
    min_duration: Duration = Field("24h", description="the shortest time the shadow must run "
                                                       "(rollout.shadow.duration)")


# The longest managed shadow test (a SageMaker inference experiment) that can be scheduled.
# Facts §2.2: botocore `InferenceExperimentSchedule` — "maximum duration ... for an inference experiment is 30 days".
MAX_SHADOW_TEST_S = 30 * 86400

# Patterns that cannot host a shadow variant on the serving endpoint (facts §1.2 and §2.2): serverless endpoints
# exclude multiple production variants, and SageMaker shadow tests exclude serverless and asynchronous inference.
_NO_SHADOW_VARIANT = {
    "serverless": "a serverless endpoint cannot hold more than one production variant, and SageMaker shadow "
                  "tests exclude serverless inference",
    "async": "SageMaker shadow tests exclude asynchronous inference endpoints",
}


@live_traffic_only("no live traffic to shadow")
def check(ctx: CheckContext) -> Iterator[Finding]:
    """The new model scores live traffic in shadow, long and wide enough, before any of its output is served."""
    params: Params = ctx.params
    min_pct = float(params.min_sampling_percent)
    min_dur = parse_duration(params.min_duration)
    assert min_dur is not None  # Params validated it
    min_dur_txt = params.min_duration.strip()

    sh, canary, previous = variants(ctx)
    base = ("rollout", "shadow")
    if sh is None:
        yield ctx.fail("no rollout.shadow: the new model would answer real callers without ever having scored "
                       "live traffic, so its first errors reach users", at=base,
                       fix=f"add rollout.shadow with a variant name, sampling_percent (at least {pct_text(min_pct)}) "
                           f"and a duration (at least {min_dur_txt}), e.g. "
                           "`shadow: {variant: model-v2-shadow, sampling_percent: 100, duration: 3d}`")
        return

    pattern = ctx.pattern
    serving_endpoint = ctx.spec.serving.endpoint if ctx.spec.serving else None
    separate = bool(sh.endpoint) and sh.endpoint != serving_endpoint
    problems = 0
    resolved = ctx.resolved
    hosted = resolved.shadow_variants + resolved.experiment_shadows \
        if resolved is not None and resolved.shadow_variants is not None else None
    problems += yield from _shadow_config(ctx, separate)
    if sh.variant and not separate and hosted is not None and ctx.resolved is not None and sh.variant not in hosted:
        problems += 1
        listed = ", ".join(f"'{v}'" for v in hosted) or "none"
        yield ctx.fail(f"rollout.shadow.variant is '{sh.variant}', but the endpoint config the infrastructure code "
                       f"deploys ({ctx.resolved.source}) hosts shadow variants {listed}: the shadow the spec promises "
                       "is not deployed", at=ctx.resolved.config_at or (*base, "variant"),
                       related=(ctx.at((*base, "variant")),),
                       fix="add the shadow variant to ShadowProductionVariants of the endpoint config, or fix "
                           "rollout.shadow.variant")

    if pattern in _NO_SHADOW_VARIANT and not separate:
        problems += 1
        where = (f"rollout.shadow.endpoint is the serving endpoint '{sh.endpoint}'" if sh.endpoint
                 else "the shadow has no endpoint of its own")
        yield ctx.fail(f"serving.pattern is {pattern} and {where}: {_NO_SHADOW_VARIANT[pattern]}, so SageMaker "
                       "cannot run this shadow variant", at=(*base, "endpoint") if sh.endpoint else base,
                       fix="host the shadow on a separate endpoint, have the caller mirror a sample of live "
                           "requests to it and discard its answers, and name that endpoint in "
                           "rollout.shadow.endpoint")

    if not sh.variant:
        problems += 1
        yield ctx.fail("rollout.shadow.variant is not set: nothing says which variant scores the shadow traffic",
                       at=(*base, "variant"), fix="name the shadow variant, e.g. `variant: model-v2-shadow`")
    else:
        for role, other in (("canary", canary), ("previous", previous)):
            if other is not None and other.variant == sh.variant:
                problems += 1
                yield ctx.fail(f"shadow variant '{sh.variant}' is also the {role} variant: a shadow must be a "
                               "variant of its own whose answers are never returned to callers",
                               at=(*base, "variant"),
                               fix=f"give the shadow its own variant name, distinct from rollout.{role}.variant")

    pct = sh.sampling_percent
    if pct is None:
        problems += 1
        yield ctx.fail("rollout.shadow.sampling_percent is not set: how much live traffic the shadow sees is "
                       "unknown", at=(*base, "sampling_percent"),
                       fix=f"set sampling_percent between {pct_text(min_pct)} and 100")
    elif not 0 < pct <= 100:
        problems += 1
        yield ctx.fail(f"shadow sampling_percent is {pct_text(pct)}, outside (0, 100]: it is a percent of live "
                       "requests copied to the shadow", at=(*base, "sampling_percent"),
                       fix=f"set sampling_percent between {pct_text(min_pct)} and 100")
    elif pct < min_pct:
        problems += 1
        yield ctx.fail(f"shadow samples {pct_text(pct)} % of live traffic, below the {pct_text(min_pct)} % minimum: "
                       "too few requests to show how the model behaves on real inputs", at=(*base, "sampling_percent"),
                       fix=f"raise sampling_percent to at least {pct_text(min_pct)} (100 before promotion is best)")

    seconds = yield from duration_at_least(
        ctx, sh.duration, min_dur, min_dur_txt, (*base, "duration"),
        unset="nothing says how long the shadow runs before the canary starts", example="3d",
        short=f"shadow runs {sh.duration}, shorter than the {min_dur_txt} minimum: too short to see a full daily "
              "traffic cycle",
        short_fix=f"run the shadow for at least {min_dur_txt}")
    if seconds is None:
        problems += 1
    elif seconds > MAX_SHADOW_TEST_S and pattern not in _NO_SHADOW_VARIANT and not separate:
        yield ctx.warn(f"shadow runs {sh.duration}, longer than the 30 days a SageMaker shadow test "
                       "(inference experiment) can be scheduled for", at=(*base, "duration"),
                       fix="plan the shadow as a ShadowProductionVariants endpoint config rather than a "
                           "managed shadow test, or run successive tests of at most 30d")

    instance_type = ctx.spec.serving.instance_type if ctx.spec.serving else None
    if pattern == "realtime" and not separate and instance_type and instance_type.startswith("ml.inf1."):
        # Facts §2.2: the shadow-test exclusions list Inf1 instances.
        yield ctx.warn(f"serving.instance_type is {instance_type}: SageMaker shadow tests exclude Inf1 "
                       "instances", at=("serving", "instance_type"),
                       fix="host the shadow on a separate endpoint (rollout.shadow.endpoint) that the caller "
                           "mirrors requests to, or serve on another instance family")

    if not problems and pct is not None and seconds is not None:
        where = (f"on its own endpoint '{sh.endpoint}' (the caller mirrors requests)" if separate
                 else f"on endpoint '{serving_endpoint}'" if serving_endpoint else "beside the serving variant")
        if resolved is not None and resolved.experiment_at is not None and sh.variant in resolved.experiment_shadows:
            where += f", as a shadow test ({resolved.experiment_at.path}:{resolved.experiment_at.line})"
        yield ctx.ok(f"shadow variant '{sh.variant}' scores {pct_text(pct)} % of live traffic for {sh.duration} "
                     f"{where} before serving (minimum {pct_text(min_pct)} % for {min_dur_txt})", at=base)


def _shadow_config(ctx: CheckContext, separate: bool) -> Generator[Finding, None, int]:
    """The endpoint config's shape: with ShadowProductionVariants, the API takes exactly one production and one
    shadow variant."""
    resolved = ctx.resolved
    if separate or resolved is None or not resolved.shadow_variants or resolved.variants is None:
        return 0
    facts = load_facts()
    cited = facts.cite(facts.rollout.shadow_production_variants)
    production, shadows = resolved.variants, resolved.shadow_variants
    if len(production) == 1 and len(shadows) == 1:
        return 0
    listed = ", ".join(f"'{v}'" for v in production)
    yield ctx.fail(f"the endpoint config ({resolved.source}) holds {len(production)} production variant"
                   f"{'s' if len(production) != 1 else ''} ({listed}) and {len(shadows)} shadow variant"
                   f"{'s' if len(shadows) != 1 else ''} ({', '.join(repr(v) for v in shadows)}): {cited}, so "
                   "SageMaker rejects this endpoint config", at=resolved.config_at or ("rollout", "shadow"),
                   fix="shadow one production variant with one shadow variant; ramp the canary with a later endpoint "
                       "config that has no shadow")
    return 1


# --aws ---------------------------------------------------------------------------------------------------------------

def online(ctx: CheckContext, account: Online) -> Iterator[Finding]:
    """RLO001 online: the shadow variant is a shadow of the live endpoint (its answers discarded), never served."""
    rollout = ctx.spec.rollout
    sh = rollout.shadow if rollout else None
    if sh is None or not sh.variant:
        yield ctx.na("rollout.shadow.variant is not set, so there is no shadow variant to look for in the account",
                     at=("rollout", "shadow") if sh else ("rollout",))
        return
    serving_endpoint = ctx.spec.serving.endpoint if ctx.spec.serving else None
    at = ("rollout", "shadow", "variant")
    if sh.endpoint and sh.endpoint != serving_endpoint:
        yield from _shadow_endpoint(ctx, account, sh.endpoint)
        return
    found = account.live_endpoint(ctx, "shadow variant")
    live = found
    hosted = live.shadow(sh.variant)
    if hosted is not None:
        yield ctx.ok(f"shadow variant '{sh.variant}' is a shadow production variant of the {live.where} (model "
                     f"{hosted.model}): it scores mirrored requests and its answers are discarded", at=at)
        return
    served = live.variant(sh.variant)
    if served is not None and live.share(served) > 0:
        yield ctx.fail(f"shadow variant '{sh.variant}' is a production variant of the {live.where} with "
                       f"{live_pct_text(live.share(served))} % of live traffic: callers get its answers, so it is a "
                       "canary, not a shadow", at=at,
                       fix="host it in ShadowProductionVariants of the endpoint config (its answers are then "
                           "discarded), or fix rollout.shadow.variant")
        return
    canary = rollout.canary if rollout else None
    live_canary = live.variant(canary.variant if canary else None)
    if live_canary is not None and live.share(live_canary) > 0:
        yield ctx.na(f"the canary '{live_canary.name}' already serves "
                     f"{live_pct_text(live.share(live_canary))} % on the {live.where}: the shadow phase is over, "
                     "and the account no longer shows it", at=at)
        return
    yield ctx.na(f"shadow variant '{sh.variant}' is not deployed yet: the {live.where} serves "
                 f"{live.listing()}", at=at)


def _shadow_endpoint(ctx: CheckContext, account: Online, name: str) -> Iterator[Finding]:
    at = ("rollout", "shadow", "endpoint")
    region = account.region(ctx)
    from mlgate.aws.session import AwsProblem

    try:
        described = account.session.call("sagemaker", "DescribeEndpoint", region=region, target=f"endpoint {name}",
                                        EndpointName=name)
    except AwsProblem as problem:
        if problem.kind != "not-found":
            raise
        yield ctx.na(f"shadow endpoint {name} does not exist yet in the account: the shadow phase has not started, "
                     "or is over", at=at)
        return
    yield ctx.ok(f"shadow endpoint {name} exists ({described.get('EndpointStatus', 'status unknown')}); the caller "
                 "mirrors live requests to it", at=at)
