"""RLO001-RLO004: shadow, canary ramp, warm previous variant, rollback alarms; each on real spec files.

Every case starts from a spec that passes all four rules and changes a few fields (dotted paths; DROP removes one).
`expected` lists every finding the rule must yield: its status and a fragment of its message or fix.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from mlgate.errors import UsageError
from mlgate.result import RuleResult
from tests.conftest import Expected, Repo, assert_findings, messages

DROP = object()

BASE: dict[str, Any] = {
    "version": 1,
    "serving": {"pattern": "realtime", "endpoint": "scorer"},
    "rollout": {
        "mechanism": "weights",
        "rollback_automation": "pagerduty:scorer-primary",
        "shadow": {"variant": "model-v2-shadow", "sampling_percent": 100, "duration": "3d"},
        "canary": {"variant": "model-v2", "steps": [10, 50, 100], "bake_time": "1h"},
        "previous": {"variant": "model-v1", "keep_warm": True, "min_instances": 1},
        "rollback_alarms": ["scorer-5xx-rate", "scorer-p99-latency"],
    },
    "monitoring": {"operational": {"alarms": [
        {"name": "scorer-p99-latency", "watches": "latency"},
        {"name": "scorer-5xx-rate", "watches": "errors"},
        {"name": "scorer-throttles", "watches": "throttles"},
    ]}},
    "operations": {"rollback": "aws sagemaker update-endpoint-weights-and-capacities --endpoint-name scorer "
                               "--desired-weights-and-capacities VariantName=model-v1,DesiredWeight=100 "
                               "VariantName=model-v2,DesiredWeight=0"},
}



def spec_text(patch: dict[str, Any]) -> str:
    data = copy.deepcopy(BASE)
    for dotted, value in patch.items():
        *parents, last = dotted.split(".")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        if value is DROP:
            node.pop(last, None)
        else:
            node[last] = value
    return yaml.safe_dump(data, sort_keys=False)


def run_rule(repo: Repo, rule: str, patch: dict[str, Any], params: dict[str, Any] | None) -> RuleResult:
    repo.write("mlgate.yaml", spec_text(patch))
    if params:
        lines = [f"[params.{rule}]"] + [f"{k} = {v!r}".replace("True", "true").replace("False", "false")
                                        for k, v in params.items()]
        repo.write(".mlgate.toml", "\n".join(lines) + "\n")
    return repo.rule(rule)


def case(id_: str, patch: dict[str, Any], expected: Expected, params: dict[str, Any] | None = None) -> Any:
    return pytest.param(patch, params, expected, id=id_)


BATCH = {"serving.pattern": "batch"}

# RLO001 ------------------------------------------------------------------------------------------------------------

SHADOW_CASES = [
    case("pass", {}, [("pass", "shadow variant 'model-v2-shadow' scores 100 % of live traffic for 3d on endpoint "
                               "'scorer' before serving (minimum 10 % for 24h)")]),
    case("pattern-missing-is-realtime", {"serving": DROP}, [("pass", "beside the serving variant")]),
    case("batch", BATCH, [("n/a", "a batch transform serves no live traffic")]),
    case("no-shadow", {"rollout.shadow": DROP},
         [("fail", "no rollout.shadow: the new model would answer real callers")]),
    case("no-rollout", {"rollout": DROP}, [("fail", "add rollout.shadow with a variant name")]),
    case("no-variant", {"rollout.shadow.variant": DROP}, [("fail", "rollout.shadow.variant is not set")]),
    case("variant-is-canary", {"rollout.shadow.variant": "model-v2"},
         [("fail", "shadow variant 'model-v2' is also the canary variant")]),
    case("variant-is-previous", {"rollout.shadow.variant": "model-v1"},
         [("fail", "shadow variant 'model-v1' is also the previous variant")]),
    case("no-sampling", {"rollout.shadow.sampling_percent": DROP},
         [("fail", "rollout.shadow.sampling_percent is not set")]),
    case("sampling-zero", {"rollout.shadow.sampling_percent": 0},
         [("fail", "shadow sampling_percent is 0, outside (0, 100]")]),
    case("sampling-over-100", {"rollout.shadow.sampling_percent": 150},
         [("fail", "shadow sampling_percent is 150, outside (0, 100]")]),
    case("sampling-below-min", {"rollout.shadow.sampling_percent": 5},
         [("fail", "shadow samples 5 % of live traffic, below the 10 % minimum")]),
    case("sampling-below-team-min", {"rollout.shadow.sampling_percent": 20},
         [("fail", "below the 50 % minimum")], {"min_sampling_percent": 50}),
    case("no-duration", {"rollout.shadow.duration": DROP},
         [("fail", "rollout.shadow.duration is not set")]),
    case("duration-unparsable", {"rollout.shadow.duration": "three days"},
         [("fail", "shadow duration 'three days' is not a duration mlgate understands | fix: write a duration "
                   "such as 30m, 1h, 3d, 2w or 1h30m")]),
    case("duration-bare-number", {"rollout.shadow.duration": 24},
         [("fail", "shadow duration '24' is not a duration")]),
    case("duration-short", {"rollout.shadow.duration": "12h"},
         [("fail", "shadow runs 12h, shorter than the 24h minimum")]),
    case("duration-below-team-min", {"rollout.shadow.duration": "3d"},
         [("fail", "shorter than the 1w minimum")], {"min_duration": "1w"}),
    case("duration-over-managed-cap", {"rollout.shadow.duration": "45d"},
         [("warn", "longer than the 30 days a SageMaker shadow test (inference experiment) can be scheduled"),
          ("pass", "for 45d")]),
    case("serverless-on-serving-endpoint", {"serving.pattern": "serverless"},
         [("fail", "serving.pattern is serverless and the shadow has no endpoint of its own: a serverless endpoint "
                   "cannot hold more than one production variant, and SageMaker shadow tests exclude serverless "
                   "inference, so SageMaker cannot run this shadow variant | fix: host the shadow on a separate "
                   "endpoint, have the caller mirror")]),
    case("async-on-serving-endpoint", {"serving.pattern": "async"},
         [("fail", "SageMaker shadow tests exclude asynchronous inference endpoints")]),
    case("serverless-shadow-endpoint-is-serving",
         {"serving.pattern": "serverless", "rollout.shadow.endpoint": "scorer"},
         [("fail", "rollout.shadow.endpoint is the serving endpoint 'scorer'")]),
    case("serverless-separate-endpoint",
         {"serving.pattern": "serverless", "rollout.shadow.endpoint": "scorer-shadow",
          "rollout.shadow.duration": "45d"},
         [("pass", "for 45d on its own endpoint 'scorer-shadow' (the caller mirrors requests)")]),
    case("inf1-instances", {"serving.instance_type": "ml.inf1.xlarge"},
         [("warn", "serving.instance_type is ml.inf1.xlarge: SageMaker shadow tests exclude Inf1"),
          ("pass", "shadow variant 'model-v2-shadow'")]),
]


@pytest.mark.parametrize(("patch", "params", "expected"), SHADOW_CASES)
def test_rlo001_shadow(repo: Repo, patch: dict[str, Any], params: dict[str, Any] | None, expected: Expected) -> None:
    assert_findings(run_rule(repo, "RLO001", patch, params), expected)


@pytest.mark.parametrize(("rule", "params", "fragment"), [
    ("RLO001", {"min_duration": "soon"}, "params.RLO001.min_duration: a duration like 10m, 1h or 2d, found 'soon'"),
    ("RLO001", {"min_sampling_percent": 0}, "params.RLO001.min_sampling_percent: expected greater than 0"),
    ("RLO002", {"max_first_step": 150}, "params.RLO002.max_first_step: expected less than or equal to 100"),
    ("RLO002", {"min_steps": 0}, "params.RLO002.min_steps: expected greater than or equal to 1"),
    ("RLO003", {"min_instances": "one"}, "params.RLO003.min_instances: expected a whole number like the default 1"),
    ("RLO004", {"require_latency": "yes"}, "params.RLO004.require_latency: expected a boolean like the default True"),
])
def test_a_bad_rollout_parameter_is_refused_before_the_run(repo: Repo, rule: str, params: dict[str, Any],
                                                           fragment: str) -> None:
    """A wrong parameter is a usage error naming the config file (it used to be the rule's `error` finding)."""
    with pytest.raises(UsageError) as info:
        run_rule(repo, rule, {}, params)
    assert fragment in str(info.value)
    assert info.value.path == ".mlgate.toml"


# RLO002 ------------------------------------------------------------------------------------------------------------

CANARY_CASES = [
    case("pass", {}, [("pass", "canary 'model-v2' ramps 10 → 50 → 100 % with 1h bake at each step")]),
    case("fractional-steps", {"rollout.canary.steps": [2.5, 25, 100]}, [("pass", "ramps 2.5 → 25 → 100 %")]),
    case("batch", BATCH, [("n/a", "a batch transform serves no live traffic, so there is no traffic to ramp")]),
    case("no-canary", {"rollout.canary": DROP}, [("fail", "no rollout.canary: the new model would take 100 %")]),
    case("no-variant", {"rollout.canary.variant": DROP}, [("fail", "rollout.canary.variant is not set")]),
    case("no-steps", {"rollout.canary.steps": DROP}, [("fail", "rollout.canary.steps is empty")]),
    case("all-at-once", {"rollout.canary.steps": [100]}, [("fail", "the canary goes from 0 → 100 % at once")]),
    case("first-step-too-big", {"rollout.canary.steps": [50, 100]},
         [("fail", "first canary step is 50 %, above the 10 % maximum")]),
    case("first-step-within-team-max", {"rollout.canary.steps": [50, 100]}, [("pass", "ramps 50 → 100 %")],
         {"max_first_step": 50}),
    case("step-falls", {"rollout.canary.steps": [10, 5, 100]},
         [("fail", "canary step 2 is 5 %, not above the 10 % before it")]),
    case("step-repeats", {"rollout.canary.steps": [10, 50, 50, 100]},
         [("fail", "canary step 3 is 50 %, not above the 50 % before it")]),
    case("step-zero", {"rollout.canary.steps": [0, 50, 100]},
         [("fail", "canary step 1 is 0 %, outside (0, 100]")]),
    case("step-over-100", {"rollout.canary.steps": [10, 150]},
         [("fail", "canary step 2 is 150 %, outside (0, 100]")]),
    case("does-not-end-at-100", {"rollout.canary.steps": [10, 50]},
         [("fail", "the ramp ends at 50 %, not 100 %")]),
    case("single-small-step", {"rollout.canary.steps": [5]},
         [("fail", "the ramp ends at 5 %, not 100 %"), ("fail", "the ramp has 1 step, fewer than the 2 required")]),
    case("too-few-steps-for-team", {"rollout.canary.steps": [10, 100]},
         [("fail", "the ramp has 2 steps, fewer than the 3 required")], {"min_steps": 3}),
    case("no-bake", {"rollout.canary.bake_time": DROP}, [("fail", "rollout.canary.bake_time is not set")]),
    case("bake-unparsable", {"rollout.canary.bake_time": "an hour"},
         [("fail", "canary bake_time 'an hour' is not a duration mlgate understands | fix: write a duration such as")]),
    case("bake-short", {"rollout.canary.bake_time": "5m"},
         [("fail", "canary bakes 5m at each step, shorter than the 10m minimum")]),
    case("serverless-note", {"serving.pattern": "serverless"},
         [("pass", "serverless endpoints hold one variant each, so whatever routes callers")]),
]


@pytest.mark.parametrize(("patch", "params", "expected"), CANARY_CASES)
def test_rlo002_canary(repo: Repo, patch: dict[str, Any], params: dict[str, Any] | None, expected: Expected) -> None:
    assert_findings(run_rule(repo, "RLO002", patch, params), expected)


def test_rlo002_points_at_the_step(repo: Repo) -> None:
    repo.write("mlgate.yaml", """
        version: 1
        rollout:
          canary:
            variant: model-v2
            steps:
              - 50
              - 40
              - 100
            bake_time: 1h
        """)
    result = repo.rule("RLO002")
    lines = {f.message.split(":")[0]: f.location.line for f in result.findings if f.location}
    assert lines == {"first canary step is 50 %, above the 10 % maximum": 6,
                     "canary step 2 is 40 %, not above the 50 % before it": 7}


# RLO003 ------------------------------------------------------------------------------------------------------------

FIRST_RELEASE = "on a first deployment there is no previous variant: waive RLO003 with that reason until the second"

PREVIOUS_CASES = [
    case("pass", {}, [("pass", "previous variant 'model-v1' stays deployed and warm with at least 1 instance: "
                               "rollback is a weight change, not a redeploy")]),
    case("async-pass", {"serving.pattern": "async", "rollout.previous.min_instances": 2},
         [("pass", "with at least 2 instances")]),
    case("batch", BATCH, [("n/a", "no live variant to roll back to")]),
    case("no-previous", {"rollout.previous": DROP},
         [("fail", "no rollout.previous: nothing keeps the current model deployed, so rolling back would need a "
                   "redeploy")]),
    case("no-previous-fix-says-waive", {"rollout.previous": DROP}, [("fail", FIRST_RELEASE)]),
    case("no-variant", {"rollout.previous.variant": DROP},
         [("fail", "rollout.previous.variant is not set: nothing says which variant traffic goes back to")]),
    case("variant-is-canary", {"rollout.previous.variant": "model-v2"},
         [("fail", "previous variant 'model-v2' is also the canary variant")]),
    case("keep-warm-false", {"rollout.previous.keep_warm": False},
         [("fail", "rollout.previous.keep_warm is false: if the old variant is torn down, rolling back needs a "
                   "redeploy")]),
    case("keep-warm-missing", {"rollout.previous.keep_warm": DROP}, [("fail", "keep_warm is not set")]),
    case("min-instances-missing", {"rollout.previous.min_instances": DROP},
         [("fail", "rollout.previous.min_instances is not set, so the old variant may have no instances")]),
    case("min-instances-zero", {"rollout.previous.min_instances": 0},
         [("fail", "the old variant keeps 0 instances, below the 1 minimum")]),
    case("async-scaled-to-zero", {"serving.pattern": "async", "rollout.previous.min_instances": 0},
         [("fail", "keeps 0 instances, below the 1 minimum")]),
    case("below-team-min", {}, [("fail", "the old variant keeps 1 instance, below the 2 minimum")],
         {"min_instances": 2}),
    case("serverless-provisioned", {"serving.pattern": "serverless", "rollout.previous.min_instances": DROP,
                                    "serving.serverless": {"provisioned_concurrency": 2}},
         [("pass", "stays deployed and warm with 2 provisioned concurrency")]),
    case("serverless-cold", {"serving.pattern": "serverless", "rollout.previous.min_instances": DROP},
         [("warn", "on serverless, warm means provisioned concurrency, and "
                   "serving.serverless.provisioned_concurrency is not set: traffic rolled back")]),
    case("serverless-zero-with-min-instances", {"serving.pattern": "serverless",
                                                "serving.serverless": {"provisioned_concurrency": 0}},
         [("warn", "provisioned_concurrency is 0 (min_instances does not apply to serverless)")]),
]


@pytest.mark.parametrize(("patch", "params", "expected"), PREVIOUS_CASES)
def test_rlo003_previous(repo: Repo, patch: dict[str, Any], params: dict[str, Any] | None,
                         expected: Expected) -> None:
    assert_findings(run_rule(repo, "RLO003", patch, params), expected)


def test_rlo003_missing_variant_fix_explains_first_release(repo: Repo) -> None:
    result = run_rule(repo, "RLO003", {"rollout.previous.variant": DROP}, None)
    (finding,) = result.findings
    assert finding.remediation is not None
    assert FIRST_RELEASE in finding.remediation


# RLO004 ------------------------------------------------------------------------------------------------------------

EXTRA = [f"scorer-alarm-{i}" for i in range(9)]

ALARM_CASES = [
    case("pass", {}, [("pass", "rollback alarms scorer-5xx-rate (errors), scorer-p99-latency (latency) are defined "
                               "in monitoring.operational and cover errors and latency")]),
    case("batch", BATCH, [("n/a", "no traffic ramp to roll back")]),
    case("none", {"rollout.rollback_alarms": DROP},
         [("fail", "rollout.rollback_alarms is empty: nothing watches the canary, so a bad one keeps its traffic")]),
    case("none-guardrails", {"rollout.rollback_alarms": DROP, "rollout.mechanism": "guardrails"},
         [("fail", "rollout.rollback_alarms is empty: nothing rolls a bad canary back automatically")]),
    case("misspelt", {"rollout.rollback_alarms": ["scorer-5xx-rate", "scorer-p99-latncy"]},
         [("fail", "rollback alarm 'scorer-p99-latncy' is not an alarm in monitoring.operational.alarms (did you "
                   "mean 'scorer-p99-latency'?)"),
          ("fail", "no rollback alarm watches latency (rollback alarms: scorer-5xx-rate (errors))")]),
    case("unknown-no-close-match", {"rollout.rollback_alarms": ["scorer-5xx-rate", "scorer-p99-latency", "zzz"]},
         [("fail", "rollback alarm 'zzz' is not an alarm in monitoring.operational.alarms (known alarms: "
                   "scorer-5xx-rate, scorer-p99-latency, scorer-throttles)")]),
    case("no-monitoring", {"monitoring": DROP},
         [("fail", "'scorer-5xx-rate' is not an alarm in monitoring.operational.alarms (no alarm "
                   "is defined)"),
          ("fail", "'scorer-p99-latency' is not an alarm"),
          ("fail", "no rollback alarm watches errors (rollback alarms: none of them is defined)"),
          ("fail", "no rollback alarm watches latency")]),
    case("no-errors-alarm", {"rollout.rollback_alarms": ["scorer-p99-latency", "scorer-throttles"]},
         [("fail", "no rollback alarm watches errors (rollback alarms: scorer-p99-latency (latency), "
                   "scorer-throttles (throttles)): a canary that returns errors would keep its traffic")]),
    case("no-latency-alarm", {"rollout.rollback_alarms": ["scorer-5xx-rate"]},
         [("fail", "no rollback alarm watches latency")]),
    case("latency-not-required", {"rollout.rollback_alarms": ["scorer-5xx-rate"]},
         [("pass", "rollback alarms scorer-5xx-rate (errors) are defined in monitoring.operational and cover errors")],
         {"require_latency": False}),
    case("duplicate", {"rollout.rollback_alarms": ["scorer-5xx-rate", "scorer-p99-latency", "scorer-5xx-rate"]},
         [("warn", "rollback alarm 'scorer-5xx-rate' is listed more than once"), ("pass", "cover errors and latency")]),
    case("more-than-ten", {"rollout.rollback_alarms": ["scorer-5xx-rate", "scorer-p99-latency", *EXTRA],
                           "monitoring.operational.alarms": [*BASE["monitoring"]["operational"]["alarms"],
                                                             *({"name": n, "watches": "other"} for n in EXTRA)]},
         [("fail", "11 rollback alarms are listed; SageMaker's AutoRollbackConfiguration takes at most 10")]),
    case("serverless-note", {"serving.pattern": "serverless", "rollout.mechanism": "guardrails"},
         [("pass", "SageMaker deployment guardrails do not cover serverless")]),
]


@pytest.mark.parametrize(("patch", "params", "expected"), ALARM_CASES)
def test_rlo004_rollback_alarms(repo: Repo, patch: dict[str, Any], params: dict[str, Any] | None,
                                expected: Expected) -> None:
    assert_findings(run_rule(repo, "RLO004", patch, params), expected)


def test_rlo004_points_at_the_unknown_alarm(repo: Repo) -> None:
    repo.write("mlgate.yaml", """
        version: 1
        rollout:
          mechanism: guardrails
          rollback_alarms:
            - scorer-5xx-rate
            - scorer-p99
            - scorer-p99-latency
        monitoring:
          operational:
            alarms:
              - {name: scorer-5xx-rate, watches: errors}
              - {name: scorer-p99-latency, watches: latency}
        """)
    result = repo.rule("RLO004")
    (finding,) = result.findings
    assert finding.status == "fail"
    assert "did you mean 'scorer-p99-latency'?" in finding.message
    assert finding.location is not None
    assert finding.location.line == 6


ALARM_STACK = """
Resources:
  ErrorsAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: scorer-5xx-in-code
      Namespace: AWS/SageMaker
      MetricName: Invocation5XXErrors
      Dimensions:
        - {Name: EndpointName, Value: scorer}
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 5
      ComparisonOperator: GreaterThanThreshold
"""


def test_rlo004_accepts_a_rollback_alarm_defined_in_the_infrastructure_code(repo: Repo) -> None:
    repo.write("deploy/stack.yaml", ALARM_STACK)
    repo.write("mlgate.yaml", """
        version: 1
        serving: {pattern: realtime, endpoint: scorer}
        rollout:
          rollback_alarms: [scorer-5xx-in-code]
        infrastructure:
          cloudformation: deploy/stack.yaml
    """)
    result = repo.rule("RLO004")
    text = messages(result)
    assert "rollback alarm 'scorer-5xx-in-code' is defined in the infrastructure code (deploy/stack.yaml:2) on " \
           "Invocation5XXErrors" in text
    # it watches errors (read from its metric); latency is still missing
    assert "no rollback alarm watches errors" not in text
    assert "fail: no rollback alarm watches latency" in text
