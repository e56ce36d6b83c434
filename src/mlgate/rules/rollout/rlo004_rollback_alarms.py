"""RLO004: alarms on errors and latency watch the ramp, and something acts on them: the DeploymentConfig's
auto-rollback (guardrails), or a pager or automation that moves the weight back (weights)."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

from pydantic import Field

from mlgate.checks import CheckContext
from mlgate.errors import EvidenceError
from mlgate.facts import load_facts
from mlgate.result import Finding, Location
from mlgate.rules.params import OnlineParams
from mlgate.rules.rollout._mechanism import excluded, mechanism
from mlgate.rules.rollout._shared import live_traffic_only
from mlgate.spec.models import Alarm
from mlgate.spelling import did_you_mean

if TYPE_CHECKING:
    from mlgate.aws.live import Online


class Params(OnlineParams):
    require_latency: bool = Field(True, description="require a rollback alarm that watches latency as well as one "
                                                    "that watches errors")


# SageMaker's AutoRollbackConfiguration takes 1-10 alarms (facts §2.3, botocore `AutoRollbackConfiguration`).
MAX_ROLLBACK_ALARMS = 10


# What an alarm in the infrastructure code watches, from its AWS/SageMaker metric.
_WATCHES_BY_METRIC = {"Invocation5XXErrors": "errors", "InvocationModelErrors": "errors",
                      "InvocationFailures": "errors", "ModelLatency": "latency", "OverheadLatency": "latency",
                      "Invocation4XXErrors": "throttles"}


def _alarms_in_code(ctx: CheckContext) -> dict[str, tuple[Alarm, Location]]:
    """CloudWatch alarms the spec's infrastructure code defines, by name: a rollback alarm may live there instead
    of in monitoring.operational (IAC002 checks that it watches this endpoint)."""
    if ctx.spec.infrastructure is None:
        return {}
    from mlgate.evidence.iac import infrastructure

    try:
        infra = infrastructure(ctx.site)
    except EvidenceError:
        return {}  # IAC001-IAC003 report an unreadable template
    found: dict[str, tuple[Alarm, Location]] = {}
    for alarm in infra.alarms if infra else []:
        if alarm.name is None or not alarm.name.known:
            continue
        metric = str(alarm.metric.value) if alarm.metric is not None and alarm.metric.known else None
        watches = _WATCHES_BY_METRIC.get(metric or "")
        found[str(alarm.name.value)] = (Alarm(name=str(alarm.name.value), metric=metric,
                                              watches=watches), alarm.at)  # type: ignore[arg-type]
    return found


@live_traffic_only("no traffic ramp to roll back")
def check(ctx: CheckContext) -> Iterator[Finding]:
    """The ramp is watched by alarms, defined in monitoring.operational, that roll it back on errors and latency."""
    params: Params = ctx.params
    require_latency = params.require_latency

    names = ctx.spec.rollout.rollback_alarms if ctx.spec.rollout else []
    base = ("rollout", "rollback_alarms")
    want = "errors and latency" if require_latency else "errors"
    mech, how = mechanism(ctx)
    if not names:
        why = ("nothing watches the canary, so a bad one keeps its traffic until someone notices" if mech == "weights"
               else "nothing rolls a bad canary back automatically, so it keeps its traffic until someone notices "
                    "(SageMaker's auto-rollback needs CloudWatch alarms)")
        yield ctx.fail(f"rollout.rollback_alarms is empty: {why}",
                       at=base, fix=f"list the monitoring.operational alarms that watch {want}, e.g. "
                                    "`rollback_alarms: [my-model-5xx-rate, my-model-p99-latency]`")
        return

    operational = ctx.spec.monitoring.operational if ctx.spec.monitoring else None
    defined: dict[str, Alarm] = {a.name: a for a in (operational.alarms if operational else []) if a.name}
    in_code = _alarms_in_code(ctx)
    problems = 0
    seen: set[str] = set()
    used: list[Alarm] = []
    for i, name in enumerate(names):
        at = (*base, i)
        if name in seen:
            yield ctx.warn(f"rollback alarm '{name}' is listed more than once", at=at,
                           fix="list each rollback alarm once")
            continue
        seen.add(name)
        alarm = defined.get(name)
        if alarm is None and name in in_code:
            alarm, where = in_code[name]
            yield ctx.ok(f"rollback alarm '{name}' is defined in the infrastructure code ({where.path}:{where.line}) "
                         f"on {alarm.metric or 'a metric mlgate cannot read'}", at=at)
        if alarm is None:
            problems += 1
            known = did_you_mean(name, defined, "alarm")
            yield ctx.fail(f"rollback alarm '{name}' is not an alarm in monitoring.operational.alarms ({known}): "
                           "a rollback wired to an alarm that does not exist never fires", at=at,
                           fix="name an alarm defined in monitoring.operational.alarms, or define this one there")
            continue
        used.append(alarm)

    if len(seen) > MAX_ROLLBACK_ALARMS:
        problems += 1
        yield ctx.fail(f"{len(seen)} rollback alarms are listed; SageMaker's AutoRollbackConfiguration takes at "
                       f"most {MAX_ROLLBACK_ALARMS}", at=base,
                       fix=f"keep the {MAX_ROLLBACK_ALARMS} alarms that matter most for a rollback")

    watched = {a.watches for a in used}
    described = ", ".join(f"{a.name} ({a.watches or 'watches not set'})" for a in used) or "none of them is defined"
    required = [("errors", "a canary that returns errors")]
    if require_latency:
        required.append(("latency", "a canary that answers too slowly"))
    for kind, harm in required:
        if kind not in watched:
            problems += 1
            metric = "Invocation5XXErrors" if kind == "errors" else "ModelLatency"
            yield ctx.fail(f"no rollback alarm watches {kind} (rollback alarms: {described}): {harm} would keep "
                           "its traffic", at=base,
                           fix=f"define an alarm with `watches: {kind}` (e.g. on {metric}) in "
                               "monitoring.operational.alarms and add its name to rollout.rollback_alarms")

    acts = yield from _who_acts(ctx, mech, how)
    if acts is None:
        problems += 1
    if not problems:
        home = "monitoring.operational"
        if any(a.name not in defined for a in used):
            home += " or the infrastructure code"
        yield ctx.ok(f"rollback alarms {described} are defined in {home} and cover {want}; {acts}", at=base)


def _who_acts(ctx: CheckContext, mech: str | None, how: str) -> Generator[Finding, None, str | None]:
    """What happens when a rollback alarm fires, for the pass message; None (with a failure) when nothing does."""
    rollout = ctx.spec.rollout
    facts = load_facts()
    if mech is None:
        yield ctx.fail("rollout.mechanism is not set and no infrastructure code shows it: whether a firing alarm "
                       "rolls anything back depends on it (deployment guardrails roll back on their alarms; "
                       "UpdateEndpointWeightsAndCapacities takes none)", at=("rollout",),
                       fix="set `rollout.mechanism: guardrails` (UpdateEndpoint with a DeploymentConfig and "
                           "AutoRollbackConfiguration) or `rollout.mechanism: weights` with "
                           "`rollout.rollback_automation` (who or what moves the weight back), or name the "
                           "infrastructure code in infrastructure:")
        return None
    if mech == "guardrails":
        for excl in excluded(ctx, None):
            yield ctx.fail(f"the rollout uses deployment guardrails ({how}), but {facts.cite(excl)}: their "
                           "auto-rollback does not run, so these alarms roll nothing back", at=("rollout",),
                           fix="serve on an instance family guardrails support, or ramp variant weights and name "
                               "rollout.rollback_automation")
            return None
        if ctx.pattern == "serverless":
            # Facts §2.3: deployment guardrails (and their auto-rollback) apply to realtime and async endpoints only.
            return "SageMaker deployment guardrails do not cover serverless, so these alarms must drive your own " \
                   "rollback"
        return (f"SageMaker rolls the update back automatically when one fires while it runs "
                f"(AutoRollbackConfiguration of the DeploymentConfig; {how})")
    weights = facts.cite(facts.rollout.weights_take_alarms)
    written = rollout.rollback_automation if rollout else None
    at = ("rollout", "rollback_automation")
    if written is None or not written.strip():
        yield ctx.fail(f"the rollout moves variant weights ({how}), and nothing rolls a weights rollout back by "
                       f"itself ({weights}): rollout.rollback_automation does not say who or what acts when a "
                       "rollback alarm fires", at=at if rollout and rollout.rollback_automation is not None
                       else ("rollout",),
                       fix="set rollout.rollback_automation to the pager the alarms page (e.g. "
                           "pagerduty:ml-primary, whose on-call runs operations.rollback) or to the repository path "
                           "of the automation that moves the weight back (a Lambda handler calling "
                           "update_endpoint_weights_and_capacities)")
        return None
    return (yield from _automation(ctx, written.strip(), at))


_WEIGHT_CALLS = ("update_endpoint_weights_and_capacities", "UpdateEndpointWeightsAndCapacities",
                 "updateEndpointWeightsAndCapacities", "update-endpoint-weights-and-capacities")


def _automation(ctx: CheckContext, written: str, at: tuple[str, ...]) -> Generator[Finding, None, str | None]:
    """A pager target (a person runs operations.rollback) or the code of the automation that shifts the weights."""
    from mlgate.rules.operations.ops002_on_call import judge_target

    kind, desc = judge_target(written)
    ops = ctx.spec.operations
    if kind == "pager":
        if ops is None or not (ops.rollback or "").strip():
            yield ctx.fail(f"rollout.rollback_automation pages {desc}, but operations.rollback is not set: the "
                           "person paged has no rollback command to run", at=at,
                           fix="write the weight change that rolls back in operations.rollback and in the runbook")
            return None
        return (f"nothing rolls a weights rollout back by itself: when one fires, {desc} is paged and runs "
                "operations.rollback")
    if kind in ("placeholder", "slack"):
        what = "a placeholder" if kind == "placeholder" else "a chat channel, which wakes nobody up"
        yield ctx.fail(f"rollout.rollback_automation is '{written}', {what}: nobody acts when a rollback alarm "
                       "fires", at=at, fix="name a pager target or the repository path of the rollback automation")
        return None
    try:
        path = ctx.resolve(written)
    except EvidenceError as exc:
        yield ctx.error(f"rollout.rollback_automation '{written}': {exc.message}", at=at)
        return None
    rel = ctx.workspace.rel(path)
    if not path.is_file():
        yield ctx.fail(f"rollout.rollback_automation is '{written}', neither a pager target nor a file in the "
                       "repository: nobody is known to act when a rollback alarm fires", at=at,
                       fix="name a pager target (pagerduty:<service>, opsgenie:<team> ...) or the repository path "
                           "of the rollback automation's code")
        return None
    try:
        text = ctx.workspace.read_text(path)
    except EvidenceError as exc:
        yield ctx.error(f"rollback automation {rel} {exc.message}", at=at)
        return None
    line = _weight_call_line(text, python=path.suffix == ".py")
    if line is None:
        yield ctx.fail(f"rollback automation {rel} never moves variant weights (no "
                       "update_endpoint_weights_and_capacities call, no UpdateEndpointWeightsAndCapacities task): "
                       "it cannot roll a weights rollout back", at=ctx.file(rel),
                       fix="have it call UpdateEndpointWeightsAndCapacities with the previous variant's weight, or "
                           "name the code that does")
        return None
    return (f"nothing rolls a weights rollout back by itself: when one fires, the automation in {rel}:{line} moves "
            "the weights (UpdateEndpointWeightsAndCapacities)")


def _weight_call_line(text: str, *, python: bool) -> int | None:
    """The line that shifts the weights: a call (read with ast) in Python, the API's name in any other text (a
    Step Functions definition, a shell script)."""
    if python:
        import ast

        from mlgate.parsers import parse_python

        try:
            tree = parse_python("<automation>", text)
        except (SyntaxError, RecursionError, MemoryError):
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == _WEIGHT_CALLS[0]:
                return node.lineno
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if any(name in line for name in _WEIGHT_CALLS[1:]):
            return number
    return None


# --aws ---------------------------------------------------------------------------------------------------------------

def _watch_problem(alarm: dict[str, Any], endpoint: str) -> str | None:
    """Why a CloudWatch alarm cannot see the endpoint go wrong, or None."""
    from mlgate.aws.live import alarm_metric, watched_endpoints

    if alarm.get("composite"):
        return None
    watched = watched_endpoints(alarm)
    if endpoint in watched:
        return None
    seen = f"EndpointName {', '.join(sorted(watched))}" if watched else "no EndpointName dimension"
    return f"watches {alarm_metric(alarm)} with {seen}, not endpoint {endpoint}"


def online(ctx: CheckContext, account: Online) -> Iterator[Finding]:
    """RLO004 online: each rollback alarm exists in CloudWatch, watches this endpoint, and is not firing now."""
    from mlgate.aws.live import alarm_metric  # the AWS layer loads with --aws only

    names = list(dict.fromkeys(ctx.spec.rollout.rollback_alarms if ctx.spec.rollout else []))
    if not names:
        yield ctx.na("rollout.rollback_alarms is empty: no alarm to look for in the account",
                     at=("rollout",))
        return
    if ctx.pattern == "batch":
        yield ctx.na("serving.pattern is batch: there is no ramp to roll back", at=("serving", "pattern"))
        return
    wrong = account.account_problem(ctx, ("rollout", "rollback_alarms"))
    if wrong is not None:
        yield wrong
        return
    endpoint = ctx.spec.serving.endpoint if ctx.spec.serving else None
    alarms = account.alarms(ctx)
    region = account.region(ctx)
    problems = 0
    fine: list[str] = []
    seen: set[str] = set()
    for i, name in enumerate(ctx.spec.rollout.rollback_alarms if ctx.spec.rollout else []):
        if name in seen:  # listed twice: the offline check warns
            continue
        seen.add(name)
        at = ("rollout", "rollback_alarms", i)
        alarm = alarms.get(name)
        if alarm is None:
            problems += 1
            yield ctx.fail(f"rollback alarm '{name}' does not exist in CloudWatch{f' ({region})' if region else ''}: "
                           "a rollback wired to it never fires", at=at,
                           fix="create the alarm (deploy the stack or monitoring code that defines it), or fix its "
                               "name")
            continue
        problem = _watch_problem(alarm, endpoint) if endpoint else None
        if problem:
            problems += 1
            yield ctx.fail(f"rollback alarm '{name}' {problem}: it cannot see this deployment go wrong", at=at,
                           fix=f"put the alarm on endpoint {endpoint}'s AWS/SageMaker metrics (EndpointName "
                               "dimension)")
            continue
        if alarm.get("StateValue") == "ALARM":
            yield ctx.warn(f"rollback alarm '{name}' is in state ALARM now ({alarm.get('StateReason', '')}): a "
                           "rollout started now rolls back at once", at=at,
                           fix="find out why it fires, and start the rollout once it is OK")
        fine.append(name)
    attached = ((_live_deployment(account, ctx) or {}).get("AutoRollbackConfiguration") or {}).get("Alarms") or []
    attached_names = {str(a.get("AlarmName")) for a in attached}
    if attached:
        for name in names:
            if name not in attached_names:
                problems += 1
                yield ctx.fail(f"rollback alarm '{name}' is not in the endpoint's AutoRollbackConfiguration "
                               f"({', '.join(sorted(attached_names))}): SageMaker does not roll back on it",
                               at=("rollout", "rollback_alarms"),
                               fix="add it to DeploymentConfig.AutoRollbackConfiguration.Alarms")
    if fine and not problems:
        shown = ", ".join(f"'{n}' ({alarm_metric(alarms[n])}, {alarms[n].get('StateValue', '?')})" for n in fine)
        yield ctx.ok(f"rollback alarms {shown} exist in CloudWatch and watch endpoint {endpoint}",
                     at=("rollout", "rollback_alarms"))


def _live_deployment(account: Online, ctx: CheckContext) -> dict[str, Any] | None:
    """The live endpoint's last DeploymentConfig, when the endpoint can be read (else None: RLO004's alarms are
    judged from CloudWatch alone)."""
    if not ctx.spec.serving or not ctx.spec.serving.endpoint:
        return None
    from mlgate.aws.live import LiveEndpoint

    found = account.endpoint(ctx, "deployment config")
    return found.deployment if isinstance(found, LiveEndpoint) else None
