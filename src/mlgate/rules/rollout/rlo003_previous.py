"""RLO003: the variant being replaced stays deployed with capacity (weights), or the old fleet outlives the bake
(guardrails' TerminationWaitInSeconds), so rollback is a weight change, not a redeploy."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from pydantic import Field

from mlgate.checks import CheckContext
from mlgate.evidence.iac.model import show
from mlgate.facts import load_facts
from mlgate.result import Finding, Location
from mlgate.rules.params import OnlineParams
from mlgate.rules.rollout._mechanism import mechanism
from mlgate.rules.rollout._shared import live_pct_text, live_traffic_only, variants
from mlgate.units import format_duration, parse_duration

if TYPE_CHECKING:
    from mlgate.aws.live import Online


class Params(OnlineParams):
    min_instances: int = Field(1, ge=0, description="the fewest instances the previous variant must keep "
                                                    "(rollout.previous.min_instances)")


_FIRST_RELEASE = ("on a first deployment there is no previous variant: waive RLO003 with that reason until the "
                  "second release")


@live_traffic_only("no live variant to roll back to")
def check(ctx: CheckContext) -> Iterator[Finding]:
    """The variant being replaced stays deployed with capacity, so rollback is a weight change, not a redeploy."""
    params: Params = ctx.params
    min_instances = params.min_instances

    _, can, prev = variants(ctx)
    base = ("rollout", "previous")
    mech, how = mechanism(ctx)
    if mech == "guardrails":
        yield from _guardrail_previous(ctx, how)
        return
    if prev is None:
        yield ctx.fail("no rollout.previous: nothing keeps the current model deployed, so rolling back would need "
                       "a redeploy (new endpoint config, instances to start, model to load) while the bad model "
                       "keeps serving", at=base,
                       fix="add rollout.previous with the variant being replaced, keep_warm: true and "
                           f"min_instances: {max(min_instances, 1)}; {_FIRST_RELEASE}")
        return

    problems = 0
    if not prev.variant:
        problems += 1
        yield ctx.fail("rollout.previous.variant is not set: nothing says which variant traffic goes back to on "
                       "rollback", at=(*base, "variant"),
                       fix=f"name the variant being replaced, e.g. `variant: model-v1`; {_FIRST_RELEASE}")
    elif can is not None and can.variant == prev.variant:
        problems += 1
        yield ctx.fail(f"previous variant '{prev.variant}' is also the canary variant: rolling back must move "
                       "traffic to the model being replaced, not to the new one", at=(*base, "variant"),
                       fix="name the variant that serves traffic today in rollout.previous.variant")

    deployed = ctx.resolved.variants if ctx.resolved is not None else None
    if prev.variant and deployed is not None and ctx.resolved is not None and prev.variant not in deployed \
            and (can is None or can.variant != prev.variant):
        problems += 1
        where = ctx.resolved.config_at
        listed = ", ".join(f"'{v}'" for v in deployed) or "none"
        yield ctx.fail(f"rollout.previous.variant is '{prev.variant}', but the endpoint config the infrastructure "
                       f"code deploys ({ctx.resolved.source}) has production variants {listed}: the variant to roll "
                       "back to is not deployed, so rolling back would need a redeploy",
                       at=where or (*base, "variant"), related=(ctx.at((*base, "variant")),),
                       fix="keep the previous variant in ProductionVariants beside the new one until the canary "
                           "has reached 100 % and baked, or fix rollout.previous.variant")

    if prev.keep_warm is not True:
        problems += 1
        state = "false" if prev.keep_warm is False else "not set"
        yield ctx.fail(f"rollout.previous.keep_warm is {state}: if the old variant is torn down, rolling back "
                       "needs a redeploy instead of a weight change", at=(*base, "keep_warm"),
                       fix="set keep_warm: true and keep the old variant deployed until the canary has reached "
                           "100 % and baked")

    pattern = ctx.pattern
    if pattern == "serverless":
        pc = ctx.spec.serving.serverless.provisioned_concurrency if (
            ctx.spec.serving and ctx.spec.serving.serverless) else None
        if not pc or pc < 1:
            ignored = " (min_instances does not apply to serverless)" if prev.min_instances is not None else ""
            yield ctx.warn(f"on serverless, warm means provisioned concurrency, and "
                           f"serving.serverless.provisioned_concurrency is {pc if pc is not None else 'not set'}"
                           f"{ignored}: traffic rolled back to the old model waits on cold starts",
                           at=("serving", "serverless", "provisioned_concurrency"),
                           fix="set serving.serverless.provisioned_concurrency to 1 or more for the rollout")
            problems += 1
            warm = None
        else:
            warm = f"{pc} provisioned concurrency"
    elif prev.min_instances is None:
        problems += 1
        yield ctx.fail("rollout.previous.min_instances is not set, so the old variant may have no instances: "
                       "rolling back would wait for instances to start and the model to load",
                       at=(*base, "min_instances"), fix=f"set min_instances: {max(min_instances, 1)}")
        warm = None
    elif prev.min_instances < min_instances:
        problems += 1
        yield ctx.fail(f"the old variant keeps {prev.min_instances} instance"
                       f"{'s' if prev.min_instances != 1 else ''}, below the {min_instances} minimum: rolling back "
                       "would wait for instances to start and the model to load", at=(*base, "min_instances"),
                       fix=f"set min_instances to at least {min_instances}")
        warm = None
    else:
        warm = f"at least {prev.min_instances} instance{'s' if prev.min_instances != 1 else ''}"

    if not problems:
        capacity = f" with {warm}" if warm else ""
        yield ctx.ok(f"previous variant '{prev.variant}' stays deployed and warm{capacity}: rollback is a weight "
                     "change, not a redeploy", at=base)


def _guardrail_previous(ctx: CheckContext, how: str) -> Iterator[Finding]:
    """RLO003 for deployment guardrails: the new fleet replaces the old one under the same variant name, so "the
    previous variant kept warm" is the old (blue) fleet kept TerminationWaitInSeconds after the shift; a rolling
    update keeps none."""
    base = ("rollout", "previous")
    limits = load_facts().rollout
    resolved = ctx.resolved
    policy = resolved.policy if resolved is not None else None
    same = load_facts().cite(limits.same_variant_name)
    kind = show(policy.type.value) if policy is not None and policy.type is not None and policy.type.known else None
    fact = resolved.fact(("rollout", "mechanism")) if resolved is not None else None
    from_code = fact is not None and fact.origin != "spec" and not fact.unknown
    if kind == "ROLLING" and policy is not None:
        yield ctx.fail(f"the rollout is a rolling update ({how}): each batch of old instances is terminated as the "
                       "new batch takes its traffic, so no previous fleet is kept warm; once the update ends, rolling "
                       "back is a redeploy of the previous endpoint config", at=policy.at,
                       fix="use a BlueGreenUpdatePolicy with TerminationWaitInSeconds (up to 3600) to keep the old "
                           "fleet after the shift, or ramp variant weights with the previous variant kept deployed")
        return
    if policy is not None or from_code:
        wait = policy.termination_wait_s if policy is not None else None
        seconds = float(wait.value) if wait is not None and wait.known and not isinstance(wait.value, bool) \
            and isinstance(wait.value, int | float) else None
        at = wait.at if wait is not None else (policy.at if policy is not None else ctx.at(base))
        if wait is not None and not wait.known:
            yield ctx.warn(f"TerminationWaitInSeconds is {wait.text} ({wait.unknown}; {wait.where()}): how long the "
                           "old fleet stays after the shift is known only at deploy time", at=at,
                           fix="write TerminationWaitInSeconds in the infrastructure code")
            return
        if not seconds:
            shown = f"TerminationWaitInSeconds {wait.text}, {wait.where()}" if wait is not None else \
                "no TerminationWaitInSeconds: the API's default is 0"
            yield ctx.fail(f"blue/green deployment guardrails ({how}) terminate the old fleet as soon as the traffic "
                           f"shift ends ({shown}): after that, rolling back is a redeploy, not a switch back to a "
                           f"warm fleet (the new fleet keeps the variant name: {same})", at=at,
                           fix="set TerminationWaitInSeconds (at most 3600) to keep the old fleet warm after the "
                               "shift, or ramp variant weights with the previous variant kept deployed")
            return
        if (yield from _blue_outlives_bake(ctx, seconds, at)):
            yield ctx.ok(f"the old (blue) fleet stays warm {format_duration(seconds)} after the traffic shift "
                         f"(TerminationWaitInSeconds, {at.path}:{at.line}); during the update and that wait, a "
                         "rollback alarm sends the traffic back to it. After it, rolling back is a redeploy of the "
                         "previous endpoint config. The blue fleet keeps the instance count of the endpoint config "
                         "it runs now, which this code does not show: its capacity for the whole peak is unknown "
                         f"here ({load_facts().cite(limits.blue_fleet_until_termination)})", at=at)
        return
    prev = ctx.spec.rollout.previous if ctx.spec.rollout else None
    if prev is None or prev.keep_warm is not True:
        yield ctx.fail(f"the rollout uses deployment guardrails ({how}) and rollout.previous.keep_warm is not true: "
                       "the old fleet is terminated when the traffic shift ends, so rolling back is a redeploy",
                       at=(*base, "keep_warm") if prev is not None else base,
                       fix="keep the old fleet after the shift with TerminationWaitInSeconds (at most 3600) and set "
                           "rollout.previous.keep_warm: true")
        return
    yield ctx.warn("with deployment guardrails, keep_warm means the old fleet stays TerminationWaitInSeconds after "
                   "the shift (at most 3600 s), and no infrastructure code shows that value", at=(*base, "keep_warm"),
                   fix="name the infrastructure code that sets the DeploymentConfig in infrastructure:, so mlgate "
                       "can read TerminationWaitInSeconds")


def _blue_outlives_bake(ctx: CheckContext, seconds: float, at: Location) -> Generator[Finding, None, bool]:
    """The blue fleet must survive the spec's bake at full traffic: the last step of the shift sends every caller
    to the new fleet, and a problem found after TerminationWaitInSeconds can no longer be rolled back by moving
    traffic. False (with a failure) when it does not."""
    facts = load_facts()
    limits = facts.rollout
    canary = ctx.spec.rollout.canary if ctx.spec.rollout else None
    written = canary.bake_time if canary is not None else None
    bake = parse_duration(written) if written else None
    if bake is None or seconds >= bake:
        return True
    most = limits.termination_wait_s_max.value
    can = f"set TerminationWaitInSeconds to at least {bake:g}" if bake <= most else \
        f"TerminationWaitInSeconds is at most {most:g} ({format_duration(most)}), so a {written} bake at full " \
        "traffic needs variant weights with the previous variant kept deployed (rollout.mechanism: weights)"
    yield ctx.fail(f"the old (blue) fleet is terminated {format_duration(seconds)} after the traffic shift "
                   f"(TerminationWaitInSeconds, {at.path}:{at.line}), shorter than the {written} bake the spec "
                   "asks of every step (rollout.canary.bake_time): a problem found in the "
                   "rest of the bake at 100 % cannot be rolled back by moving the traffic, only by a new deployment "
                   f"of the previous endpoint config ({facts.cite(limits.blue_fleet_until_termination)})", at=at,
                   fix=can)
    return False


# --aws ---------------------------------------------------------------------------------------------------------------

def online(ctx: CheckContext, account: Online) -> Iterator[Finding]:
    """RLO003 online: the previous variant is a live production variant with instances, so rollback is a weight
    change."""
    rollout = ctx.spec.rollout
    prev = rollout.previous if rollout else None
    if prev is None or not prev.variant:
        yield ctx.na("rollout.previous.variant is not set, so there is no previous variant to look for in the "
                     "account", at=("rollout", "previous") if prev else ("rollout",))
        return
    found = account.live_endpoint(ctx, "previous variant")
    live = found
    at = ("rollout", "previous", "variant")
    variant = live.variant(prev.variant)
    if variant is None:
        yield ctx.fail(f"previous variant '{prev.variant}' is not a production variant of the {live.where}, which "
                       f"serves {live.listing()}: rolling back to it would need a redeploy", at=at,
                       fix="keep the variant being replaced in the endpoint config until the canary has baked at "
                           "100 %, or fix rollout.previous.variant to the variant that serves today")
        return
    if variant.serverless is not None:
        provisioned = variant.serverless.get("ProvisionedConcurrency")
        if not provisioned:
            yield ctx.warn(f"previous variant '{prev.variant}' of the {live.where} is serverless without provisioned "
                           "concurrency: traffic rolled back to it waits on cold starts",
                           at=("serving", "serverless", "provisioned_concurrency"),
                           fix="give the variant ProvisionedConcurrency for the rollout")
            return
        yield ctx.ok(f"previous variant '{prev.variant}' is live on the {live.where} with provisioned concurrency "
                     f"{provisioned}", at=at)
        return
    wanted = prev.min_instances if prev.min_instances is not None else 1
    count = variant.instances
    if count is None or count < max(wanted, 1):
        shown = "an unknown number of" if count is None else str(count)
        yield ctx.fail(f"previous variant '{prev.variant}' of the {live.where} has {shown} instance(s), fewer than "
                       f"the {max(wanted, 1)} rollout.previous.min_instances asks: rolling back would wait for "
                       "instances to start", at=("rollout", "previous", "min_instances"),
                       fix=f"keep at least {max(wanted, 1)} instance(s) on the previous variant "
                           "(UpdateEndpointWeightsAndCapacities DesiredInstanceCount)")
        return
    yield ctx.ok(f"previous variant '{prev.variant}' is live on the {live.where} with {count} instance"
                 f"{'s' if count != 1 else ''} and {live_pct_text(live.share(variant))} % of traffic: rollback is a "
                 "weight change", at=at)
