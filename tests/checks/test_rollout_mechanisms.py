"""The two rollout mechanisms, as a reviewer would try them: a repository with a spec and the CloudFormation that
deploys the endpoint, and the status and message each rollout rule gives.

- weights: the new and the previous variant side by side, ramped with UpdateEndpointWeightsAndCapacities, which
  takes no alarms: someone (rollout.rollback_automation) must act on the rollback alarms;
- guardrails: UpdateEndpoint with a DeploymentConfig, whose canary is made of whole instances of the variant and
  whose limits (WaitIntervalInSeconds 0-3600, CanarySize <= 50 %, LinearStepSize 10-50 %,
  MaximumExecutionTimeoutInSeconds 600-28800 and longer than the waits) come from the SageMaker API reference.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mlgate.result import RuleResult
from tests.conftest import Repo, messages
from tests.example_repos import example_repo, ready_repo

ALARMS = """
  ErrorsAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: scorer-5xx-rate
      Namespace: AWS/SageMaker
      MetricName: Invocation5XXErrors
      Dimensions:
        - {Name: EndpointName, Value: scorer}
        - {Name: VariantName, Value: scorer}
      Statistic: Average
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0.01
      ComparisonOperator: GreaterThanThreshold
  LatencyAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: scorer-p99-latency
      Namespace: AWS/SageMaker
      MetricName: ModelLatency
      Dimensions:
        - {Name: EndpointName, Value: scorer}
        - {Name: VariantName, Value: scorer}
      ExtendedStatistic: p99
      Period: 60
      EvaluationPeriods: 1
      Threshold: 200000
      ComparisonOperator: GreaterThanThreshold
"""


HEAD = """Resources:
  ModelV1:
    Type: AWS::SageMaker::Model
    Properties:
      ModelName: scorer-v1
      ExecutionRoleArn: arn:aws:iam::111122223333:role/scorer
      PrimaryContainer: {Image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/scorer@sha256:ab12}
  ModelV2:
    Type: AWS::SageMaker::Model
    Properties:
      ModelName: scorer-v2
      ExecutionRoleArn: arn:aws:iam::111122223333:role/scorer
      PrimaryContainer: {Image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/scorer@sha256:ab12}
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      EndpointConfigName: scorer-config
      ProductionVariants:
"""
ENDPOINT = """  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointName: scorer
      EndpointConfigName: !GetAtt Config.EndpointConfigName
"""


def stack(variants: str, *, deployment: str = "", shadows: str = "", extra: str = "") -> str:
    """A template: the models, an endpoint config with `variants` (and `shadows`), the endpoint with `deployment`
    (its DeploymentConfig body), the two alarms and `extra` resources. Blocks are written at column 0."""
    def block(text: str, indent: int) -> str:
        return textwrap.indent(textwrap.dedent(text).strip("\n"), " " * indent) + "\n"

    out = HEAD + block(variants, 8)
    if shadows:
        out += "      ShadowProductionVariants:\n" + block(shadows, 8)
    out += ENDPOINT
    if deployment:
        out += "      DeploymentConfig:\n" + block(deployment, 8)
    out += ALARMS.lstrip("\n")
    if extra:
        out += block(extra, 2)
    return out


def variant(name: str, model: str = "ModelV2", count: int = 2, weight: float | None = None,
            instance_type: str = "ml.c5.xlarge") -> str:
    weight_line = f"\n  InitialVariantWeight: {weight:g}" if weight is not None else ""
    return (f"- VariantName: {name}\n  ModelName: !GetAtt {model}.ModelName\n  InstanceType: {instance_type}\n"
            f"  InitialInstanceCount: {count}{weight_line}\n")


def canary_policy(size_type: str = "CAPACITY_PERCENT", size: int = 5, wait: int = 600, termination: int | None = None,
                  timeout: int | None = None, kind: str = "CANARY") -> str:
    size_key = "CanarySize" if kind == "CANARY" else "LinearStepSize"
    lines = ["BlueGreenUpdatePolicy:", "  TrafficRoutingConfiguration:", f"    Type: {kind}",
             f"    {size_key}: {{Type: {size_type}, Value: {size}}}", f"    WaitIntervalInSeconds: {wait}"]
    if termination is not None:
        lines.append(f"  TerminationWaitInSeconds: {termination}")
    if timeout is not None:
        lines.append(f"  MaximumExecutionTimeoutInSeconds: {timeout}")
    lines += ["AutoRollbackConfiguration:", "  Alarms:", "    - AlarmName: !Ref ErrorsAlarm",
              "    - AlarmName: !Ref LatencyAlarm"]
    return "\n".join(lines) + "\n"


def spec(rollout: str, *, serving: str = "", operations: str = "") -> str:
    return (textwrap.dedent("""
        version: 1
        serving:
          pattern: realtime
          endpoint: scorer
        """).lstrip("\n") + (textwrap.indent(textwrap.dedent(serving).strip("\n"), "  ") + "\n" if serving else "")
            + "rollout:\n" + textwrap.indent(textwrap.dedent(rollout).strip("\n"), "  ") + "\n"
            + textwrap.dedent("""
        monitoring:
          operational:
            alarms:
              - {name: scorer-5xx-rate, watches: errors, metric: Invocation5XXErrors}
              - {name: scorer-p99-latency, watches: latency, metric: ModelLatency, statistic: p99}
        infrastructure:
          cloudformation: deploy/stack.yaml
        """).lstrip("\n") + textwrap.dedent(operations))


def run(repo: Repo, rule: str, template: str | None, spec_text: str) -> RuleResult:
    if template is not None:
        repo.write("deploy/stack.yaml", template)
    else:
        spec_text = spec_text.replace("infrastructure:\n  cloudformation: deploy/stack.yaml\n", "")
    repo.write("mlgate.yaml", spec_text)
    repo.commit()
    return repo.rule(rule)


def line(repo: Repo, text: str) -> int:
    """The line of deploy/stack.yaml that holds `text` (the first one)."""
    lines = (repo.root / "deploy/stack.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, written in enumerate(lines, start=1) if text in written)


def only(result: RuleResult, status: str) -> str:
    """The messages of the findings with `status`, one per line."""
    return "\n".join(f.message for f in result.findings if f.status == status)


GUARDED = """
canary: {variant: scorer, steps: [50, 100], bake_time: 10m}
"""

# -- RLO002: the guardrail ramp is the DeploymentConfig's, in whole instances ---------------------------------------


def test_a_five_percent_canary_of_two_instances_is_half_the_traffic(repo: Repo) -> None:
    result = run(repo, "RLO002", stack(variant("scorer"), deployment=canary_policy()), spec(GUARDED))
    assert result.status == "fail"
    text = only(result, "fail")
    assert "the CANARY shift's first step is CanarySize 5 % of 2 instances = 1 instance (50 % of the traffic): that " \
           "share reaches the new model before any alarm has seen it, above the 10 % maximum" in text
    (finding,) = result.findings
    assert finding.location is not None
    assert (finding.location.path, finding.location.line) == ("deploy/stack.yaml", line(repo, "CanarySize"))
    assert finding.remediation is not None and "at least 10 instances for a 1-instance canary" in finding.remediation


def test_a_linear_shift_of_ten_percent_on_ten_instances_passes(repo: Repo) -> None:
    template = stack(variant("scorer", count=10), deployment=canary_policy(kind="LINEAR", size=10, wait=900))
    result = run(repo, "RLO002", template, spec("canary: {variant: scorer, steps: [10, 20, 30, 40, 50, 60, 70, 80, "
                                                "90, 100], bake_time: 15m}"))
    assert result.status == "pass", messages(result)
    policy = line(repo, "BlueGreenUpdatePolicy")
    assert f"the LINEAR traffic shift (deploy/stack.yaml:{policy}) ramps 10 → 20 → 30 → 40 → 50 → 60 → 70 → 80 → " \
           "90 → 100 % with 15m bake at each step (LinearStepSize 10 % of 10 instances = 1 instance (10 % of the " \
           "traffic)); SageMaker rolls the update back if a rollback alarm fires meanwhile" in only(result, "pass")


@pytest.mark.parametrize(("policy", "count", "fragment"), [
    (canary_policy(size_type="INSTANCE_COUNT", size=1, wait=7200), 20,
     "WaitIntervalInSeconds is 7200 (deploy/stack.yaml:33), outside 0-3600 (source: WaitIntervalInSeconds "
     "(TrafficRoutingConfig, RollingUpdatePolicy): 0-3600, SageMaker API Reference, TrafficRoutingConfig; SageMaker "
     "API Reference, RollingUpdatePolicy"),
    (canary_policy(size_type="INSTANCE_COUNT", size=1), 1,
     "CanarySize 1 instance of 1 instance = 1 instance (100 % of the traffic): the canary is 100 % of the variant's "
     "capacity, above the 50 % the API allows (source: CanarySize: must be less than or equal to 50% of the "
     "variant's total instance count, SageMaker API Reference, TrafficRoutingConfig, read 2026-11-26); a variant of 1 "
     "instance cannot hold a canary"),
    (canary_policy(kind="LINEAR", size=5), 20,
     "LinearStepSize 5 % of 20 instances = 1 instance (5 % of the traffic): LinearStepSize 5 % is below the 10 % "
     "the API allows"),
    (canary_policy(kind="LINEAR", size=60), 20,
     "LinearStepSize 60 % of 20 instances = 12 instances (60 % of the traffic): each step is 60 % of the variant's "
     "capacity, above the 50 % the API allows"),
    (canary_policy(size_type="INSTANCE_COUNT", size=1, wait=3600, termination=3600, timeout=7200), 20,
     "MaximumExecutionTimeoutInSeconds is 7200 s, not longer than the waits of the CANARY shift (1 × "
     "WaitIntervalInSeconds 3600 + TerminationWaitInSeconds 3600 = 7200 s; source: the timeout value should be "
     "larger than the total waiting time"),
    (canary_policy(size_type="INSTANCE_COUNT", size=1, timeout=30000), 20,
     "MaximumExecutionTimeoutInSeconds is 30000, outside 600-28800"),
])
def test_guardrail_api_limits(repo: Repo, policy: str, count: int, fragment: str) -> None:
    result = run(repo, "RLO002", stack(variant("scorer", count=count), deployment=policy), spec(GUARDED))
    assert result.status == "fail"
    assert fragment in only(result, "fail"), messages(result)


def test_a_spec_ramp_guardrails_cannot_run_fails_with_what_can(repo: Repo) -> None:
    result = run(repo, "RLO002", None, spec("""
        mechanism: guardrails
        canary: {variant: scorer, steps: [5, 25, 50, 100], bake_time: 2h}
        """, serving="instance_count: 2"))
    assert result.status == "fail"
    (finding,) = result.findings
    assert finding.message == (
        "rollout.canary ramps 5 → 25 → 50 → 100 % with 2h bake, which deployment guardrails (rollout.mechanism: "
        "guardrails) cannot run: a step bakes at most WaitIntervalInSeconds 3600 (1h), not 2h; CANARY shifts in two "
        "steps ([canary, 100], the canary at most half the instances) and LINEAR in equal steps of 10-50 % of the "
        "instances. What guardrails can run on 2 instances: CANARY `steps: [50, 100], bake_time: 1h` or LINEAR "
        "`steps: [50, 100], bake_time: 1h`; or ramp with variant weights (rollout.mechanism: weights)")


def test_a_spec_ramp_guardrails_can_run_passes_unconfirmed(repo: Repo) -> None:
    result = run(repo, "RLO002", None, spec("""
        mechanism: guardrails
        canary: {variant: scorer, steps: [10, 100], bake_time: 1h}
        """, serving="instance_count: 10"))
    assert result.status == "pass", messages(result)
    assert "a shift deployment guardrails can run (rollout.mechanism: guardrails; no infrastructure code shows the " \
           "DeploymentConfig, so it is not confirmed)" in only(result, "pass")


def test_one_variant_without_deployment_config_shifts_all_at_once(repo: Repo) -> None:
    result = run(repo, "RLO002", stack(variant("scorer")), spec(GUARDED))
    assert result.status == "fail"
    assert "the endpoint has one production variant and no DeploymentConfig (deploy/stack.yaml:23): UpdateEndpoint " \
           "shifts all the traffic to the new fleet at once (source: if no update policy is specified, SageMaker " \
           "uses a blue/green deployment with all at once traffic shifting" in only(result, "fail")


def test_guardrails_do_not_apply_to_inf1(repo: Repo) -> None:
    template = stack(variant("scorer", count=20, instance_type="ml.inf1.xlarge"),
                     deployment=canary_policy(size_type="INSTANCE_COUNT", size=1))
    result = run(repo, "RLO002", template, spec(GUARDED))
    assert f"the rollout uses deployment guardrails (deploy/stack.yaml:{line(repo, 'BlueGreenUpdatePolicy')}), but " \
           "they do not apply here: source: " \
           "endpoints on Inf1 instances cannot use deployment guardrails: they fall back to blue/green all at once " \
           "with no final baking period" in only(result, "fail")
    rlo004 = repo.rule("RLO004")
    assert rlo004.status == "fail"
    assert "their auto-rollback does not run, so these alarms roll nothing back" in only(rlo004, "fail")


V2_IMAGE = """      ModelName: scorer-v2
      ExecutionRoleArn: arn:aws:iam::111122223333:role/scorer
      PrimaryContainer: {Image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/scorer@sha256:ab12}"""
GUARDED_ONE = canary_policy(size_type="INSTANCE_COUNT", size=1, termination=600)


def from_package(package: str, *, head: str = "", extra: str = "") -> str:
    """The guarded stack of 10 instances whose new model is made from model package `package` (a YAML value)."""
    template = stack(variant("scorer", count=10), deployment=GUARDED_ONE, extra=extra)
    template = template.replace(V2_IMAGE, V2_IMAGE.replace(
        "{Image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/scorer@sha256:ab12}", f"{{ModelPackageName: {package}}}"))
    return head + template


def test_a_model_package_may_be_a_marketplace_container_and_that_is_unknown(repo: Repo) -> None:
    arn = "arn:aws:sagemaker:eu-west-1:111122223333:model-package/scorer/3"
    result = run(repo, "RLO002", from_package(arn), spec(GUARDED))
    assert result.status == "warn", messages(result)
    (finding,) = [f for f in result.findings if f.status == "warn"]
    assert finding.message.startswith(
        "the rollout uses deployment guardrails (deploy/stack.yaml:"
        f"{line(repo, 'BlueGreenUpdatePolicy')}) and the new model's container is made from model package '{arn}' "
        f"(deploy/stack.yaml:{line(repo, 'ModelPackageName')}): if that is a model package subscribed to on AWS "
        "Marketplace, guardrails do not apply (source: Marketplace containers cannot use deployment guardrails: they "
        "fall back to blue/green all at once with no final baking period")
    assert finding.message.endswith("Whether it is cannot be told from the code: unknown")
    assert finding.location is not None and finding.location.line == line(repo, "ModelPackageName")


def test_a_model_package_known_only_at_deploy_time_is_unknown_never_guessed(repo: Repo) -> None:
    head = "Parameters:\n  PackageArn: {Type: String}\n"
    result = run(repo, "RLO002", from_package("!Ref PackageArn", head=head), spec(GUARDED))
    assert result.status == "warn", messages(result)
    text = only(result, "warn")
    assert "the new model's container is made from model package ${Ref:PackageArn} (" in text
    assert "Whether it is cannot be told from the code: unknown" in text
    assert not only(result, "fail")


def test_a_model_package_the_stack_defines_is_the_accounts_own(repo: Repo) -> None:
    package = """
    Package:
      Type: AWS::SageMaker::ModelPackage
      Properties:
        ModelPackageGroupName: scorer
        InferenceSpecification:
          Containers: [{Image: 111122223333.dkr.ecr.eu-west-1.amazonaws.com/scorer@sha256:ab12}]
          SupportedContentTypes: [text/csv]
          SupportedResponseMIMETypes: [text/csv]
    """
    result = run(repo, "RLO002", from_package("!Ref Package", extra=package), spec(GUARDED))
    assert "Marketplace" not in messages(result)
    assert result.status == "pass", messages(result)


def test_a_model_package_in_terraform_is_unknown_too(repo: Repo) -> None:
    repo.write("deploy/main.tf", textwrap.dedent("""
        resource "aws_sagemaker_model" "v2" {
          name               = "scorer-v2"
          execution_role_arn = "arn:aws:iam::111122223333:role/scorer"
          primary_container {
            model_package_name = "arn:aws:sagemaker:eu-west-1:111122223333:model-package/scorer/3"
          }
        }
        resource "aws_sagemaker_endpoint_configuration" "config" {
          name = "scorer-config"
          production_variants {
            variant_name           = "scorer"
            model_name             = aws_sagemaker_model.v2.name
            instance_type          = "ml.c5.xlarge"
            initial_instance_count = 10
          }
        }
        resource "aws_sagemaker_endpoint" "scorer" {
          name                 = "scorer"
          endpoint_config_name = aws_sagemaker_endpoint_configuration.config.name
          deployment_config {
            blue_green_update_policy {
              termination_wait_in_seconds = 600
              traffic_routing_configuration {
                type                     = "CANARY"
                wait_interval_in_seconds = 600
                canary_size {
                  type  = "INSTANCE_COUNT"
                  value = 1
                }
              }
            }
          }
        }
        """))
    result = run(repo, "RLO002", None, spec(GUARDED) + "infrastructure:\n  terraform: deploy\n")
    assert "the new model's container is made from model package " \
           "'arn:aws:sagemaker:eu-west-1:111122223333:model-package/scorer/3' (deploy/main.tf:" in only(result, "warn")


def test_a_rolling_update_excludes_multi_variant_endpoints(repo: Repo) -> None:
    rolling = ("RollingUpdatePolicy:\n  MaximumBatchSize: {Type: INSTANCE_COUNT, Value: 1}\n"
               "  WaitIntervalInSeconds: 600\n")
    template = stack(variant("scorer-v1", "ModelV1", weight=1) + variant("scorer", weight=0), deployment=rolling)
    result = run(repo, "RLO002", template, spec("canary: {variant: scorer, steps: [5, 50, 100], bake_time: 10m}"))
    assert "the DeploymentConfig is a rolling update, which this endpoint cannot use: source: a rolling deployment " \
           "excludes multi-variant inference endpoints" in only(result, "fail")


# -- RLO003: with guardrails, "kept warm" is TerminationWaitInSeconds ------------------------------------------------


def test_blue_green_without_termination_wait_keeps_nothing_warm(repo: Repo) -> None:
    result = run(repo, "RLO003", stack(variant("scorer"), deployment=canary_policy()), spec(GUARDED))
    assert result.status == "fail"
    assert "terminate the old fleet as soon as the traffic shift ends (no TerminationWaitInSeconds: the API's " \
           "default is 0): after that, rolling back is a redeploy" in only(result, "fail")


def test_blue_green_termination_wait_is_the_warm_fleet(repo: Repo) -> None:
    result = run(repo, "RLO003", stack(variant("scorer"), deployment=canary_policy(termination=1800)), spec(GUARDED))
    assert result.status == "pass", messages(result)
    assert "the old (blue) fleet stays warm 30m after the traffic shift (TerminationWaitInSeconds, " \
           f"deploy/stack.yaml:{line(repo, 'TerminationWaitInSeconds')})" in only(result, "pass")


def test_the_blue_fleet_terminated_before_the_bake_ends_cannot_be_rolled_back_to(repo: Repo) -> None:
    # the spec bakes 30m at each step; the old fleet is gone 5m after the shift to 100 %
    bake = "canary: {variant: scorer, steps: [50, 100], bake_time: 30m}"
    result = run(repo, "RLO003", stack(variant("scorer"), deployment=canary_policy(termination=300)), spec(bake))
    assert result.status == "fail"
    (finding,) = [f for f in result.findings if f.status == "fail"]
    assert finding.message.startswith(
        "the old (blue) fleet is terminated 5m after the traffic shift (TerminationWaitInSeconds, "
        f"deploy/stack.yaml:{line(repo, 'TerminationWaitInSeconds')}), shorter than the 30m bake the spec asks of "
        "every step (rollout.canary.bake_time): a problem found in the rest of the bake at 100 % cannot be rolled "
        "back by moving the traffic, only by a new deployment of the previous endpoint config (source: SageMaker "
        "terminates the blue fleet once the green fleet has run for the baking period")
    assert finding.remediation == "set TerminationWaitInSeconds to at least 1800"


def test_a_bake_longer_than_any_termination_wait_needs_weights(repo: Repo) -> None:
    bake = "canary: {variant: scorer, steps: [50, 100], bake_time: 2h}"
    result = run(repo, "RLO003", stack(variant("scorer"), deployment=canary_policy(termination=3600)), spec(bake))
    assert result.status == "fail"
    (finding,) = [f for f in result.findings if f.status == "fail"]
    assert "shorter than the 2h bake the spec asks of every step" in finding.message
    assert finding.remediation is not None and finding.remediation.startswith(
        "TerminationWaitInSeconds is at most 3600 (1h), so a 2h bake at full traffic needs variant weights")


def test_the_blue_fleets_capacity_is_unknown_from_the_code(repo: Repo) -> None:
    result = run(repo, "RLO003", stack(variant("scorer"), deployment=canary_policy(termination=600)), spec(GUARDED))
    assert result.status == "pass", messages(result)
    assert "The blue fleet keeps the instance count of the endpoint config it runs now, which this code does not " \
           "show: its capacity for the whole peak is unknown here" in only(result, "pass")


def test_a_rolling_update_keeps_no_warm_fleet(repo: Repo) -> None:
    rolling = ("RollingUpdatePolicy:\n  MaximumBatchSize: {Type: INSTANCE_COUNT, Value: 1}\n"
               "  WaitIntervalInSeconds: 600\n")
    result = run(repo, "RLO003", stack(variant("scorer", count=4), deployment=rolling), spec(GUARDED))
    assert result.status == "fail"
    rolling_at = line(repo, "RollingUpdatePolicy")
    assert f"the rollout is a rolling update (deploy/stack.yaml:{rolling_at}): each batch of old instances is " \
           "terminated as the new batch takes its traffic, so no previous fleet is kept warm" in only(result, "fail")


# -- RLO004: who acts on the rollback alarms -------------------------------------------------------------------------

WEIGHTS = """
canary: {variant: scorer-v2, steps: [5, 25, 50, 100], bake_time: 2h}
previous: {variant: scorer-v1, keep_warm: true, min_instances: 1}
rollback_alarms: [scorer-5xx-rate, scorer-p99-latency]
"""
SPLIT = variant("scorer-v1", "ModelV1", weight=95) + variant("scorer-v2", weight=5)
ROLLBACK = """
operations:
  rollback: >-
    aws sagemaker update-endpoint-weights-and-capacities --endpoint-name scorer
    --desired-weights-and-capacities VariantName=scorer-v1,DesiredWeight=100 VariantName=scorer-v2,DesiredWeight=0
"""


def test_a_weight_ramp_without_rollback_automation_fails(repo: Repo) -> None:
    result = run(repo, "RLO004", stack(SPLIT), spec(WEIGHTS))
    assert result.status == "fail"
    (finding,) = result.findings
    assert finding.message == (
        f"the rollout moves variant weights (deploy/stack.yaml:{line(repo, 'VariantName: scorer-v2')}), and "
        "nothing rolls a weights rollout back by "
        "itself (source: UpdateEndpointWeightsAndCapacities takes EndpointName and DesiredWeightsAndCapacities: no "
        "alarm, no automatic rollback, SageMaker API Reference, UpdateEndpointWeightsAndCapacities, read "
        "2026-11-26): rollout.rollback_automation does not say who or what acts when a rollback alarm fires")
    assert "automatically" not in finding.message


def test_a_weight_ramp_watched_by_the_on_call(repo: Repo) -> None:
    result = run(repo, "RLO004", stack(SPLIT),
                 spec(WEIGHTS + "rollback_automation: pagerduty:scorer-primary\n", operations=ROLLBACK))
    assert result.status == "pass", messages(result)
    (finding,) = result.findings
    assert finding.message.endswith("nothing rolls a weights rollout back by itself: when one fires, PagerDuty "
                                    "scorer-primary is paged and runs operations.rollback")
    assert "rolled back automatically" not in finding.message


def test_a_pager_without_a_rollback_command_fails(repo: Repo) -> None:
    result = run(repo, "RLO004", stack(SPLIT), spec(WEIGHTS + "rollback_automation: pagerduty:scorer-primary\n"))
    assert "rollout.rollback_automation pages PagerDuty scorer-primary, but operations.rollback is not set" \
           in only(result, "fail")


def test_a_weight_ramp_rolled_back_by_a_lambda_in_the_repository(repo: Repo) -> None:
    repo.write("ops/rollback.py", """
        import boto3

        sagemaker = boto3.client("sagemaker")


        def handler(event, context):
            sagemaker.update_endpoint_weights_and_capacities(
                EndpointName="scorer",
                DesiredWeightsAndCapacities=[{"VariantName": "scorer-v1", "DesiredWeight": 1},
                                             {"VariantName": "scorer-v2", "DesiredWeight": 0}])
        """)
    result = run(repo, "RLO004", stack(SPLIT), spec(WEIGHTS + "rollback_automation: ops/rollback.py\n"))
    assert result.status == "pass", messages(result)
    assert "when one fires, the automation in ops/rollback.py:7 moves the weights " \
           "(UpdateEndpointWeightsAndCapacities)" in only(result, "pass")


def test_automation_that_never_moves_weights_fails(repo: Repo) -> None:
    repo.write("ops/rollback.py", "def handler(event, context):\n    print(event)  # update_endpoint_weights\n")
    result = run(repo, "RLO004", stack(SPLIT), spec(WEIGHTS + "rollback_automation: ops/rollback.py\n"))
    assert "rollback automation ops/rollback.py never moves variant weights" in only(result, "fail")


def test_a_step_functions_definition_counts_as_automation(repo: Repo) -> None:
    repo.write("ops/rollback.asl.json", """
        {"StartAt": "Rollback", "States": {"Rollback": {"Type": "Task", "End": true,
          "Resource": "arn:aws:states:::aws-sdk:sagemaker:updateEndpointWeightsAndCapacities"}}}
        """)
    result = run(repo, "RLO004", stack(SPLIT), spec(WEIGHTS + "rollback_automation: ops/rollback.asl.json\n"))
    assert result.status == "pass", messages(result)
    assert "the automation in ops/rollback.asl.json:2 moves the weights" in only(result, "pass")


def test_no_mechanism_anywhere_fails(repo: Repo) -> None:
    result = run(repo, "RLO004", None, spec(WEIGHTS))
    assert "rollout.mechanism is not set and no infrastructure code shows it" in only(result, "fail")


def test_guardrails_roll_back_automatically(repo: Repo) -> None:
    result = run(repo, "RLO004", stack(variant("scorer"), deployment=canary_policy()),
                 spec(GUARDED + "rollback_alarms: [scorer-5xx-rate, scorer-p99-latency]\n"))
    assert result.status == "pass", messages(result)
    assert "SageMaker rolls the update back automatically when one fires while it runs (AutoRollbackConfiguration of " \
           f"the DeploymentConfig; deploy/stack.yaml:{line(repo, 'BlueGreenUpdatePolicy')})" in only(result, "pass")


# -- RLO001: shadow variants -------------------------------------------------------------------------------------------

SHADOWED = """
shadow: {variant: scorer-shadow, sampling_percent: 50, duration: 3d}
canary: {variant: scorer-v2, steps: [5, 25, 50, 100], bake_time: 2h}
previous: {variant: scorer-v1, keep_warm: true, min_instances: 1}
"""


def test_a_shadow_beside_two_production_variants_is_rejected(repo: Repo) -> None:
    template = stack(SPLIT, shadows=variant("scorer-shadow", weight=1))
    result = run(repo, "RLO001", template, spec(SHADOWED))
    assert result.status == "fail"
    assert "the endpoint config (deploy/stack.yaml) holds 2 production variants ('scorer-v1', 'scorer-v2') and 1 " \
           "shadow variant ('scorer-shadow'): source: with ShadowProductionVariants, one variant for " \
           "ProductionVariants and one for ShadowProductionVariants" in only(result, "fail")


def test_a_shadow_test_inference_experiment_is_a_shadow(repo: Repo) -> None:
    experiment = """
    ShadowTest:
      Type: AWS::SageMaker::InferenceExperiment
      Properties:
        Name: scorer-shadow-test
        Type: ShadowMode
        EndpointName: !Ref Endpoint
        RoleArn: arn:aws:iam::111122223333:role/scorer
        ModelVariants:
          - ModelName: scorer-v1
            VariantName: scorer-v1
            InfrastructureConfig:
              InfrastructureType: RealTimeInference
              RealTimeInferenceConfig: {InstanceCount: 1, InstanceType: ml.c5.xlarge}
          - ModelName: scorer-v2
            VariantName: scorer-shadow
            InfrastructureConfig:
              InfrastructureType: RealTimeInference
              RealTimeInferenceConfig: {InstanceCount: 1, InstanceType: ml.c5.xlarge}
        ShadowModeConfig:
          SourceModelVariantName: scorer-v1
          ShadowModelVariants:
            - {ShadowModelVariantName: scorer-shadow, SamplingPercentage: 50}
    """
    template = stack(variant("scorer-v1", "ModelV1"), extra=experiment)
    result = run(repo, "RLO001", template, spec("""
        shadow: {duration: 3d}
        canary: {variant: scorer-v2, steps: [5, 25, 50, 100], bake_time: 2h}
        """))
    assert result.status == "pass", messages(result)
    assert "shadow variant 'scorer-shadow' scores 50 % of live traffic for 3d on endpoint 'scorer', as a shadow test " \
           "(deploy/stack.yaml:" in only(result, "pass")


# -- OPS003: a rollback the mechanism can run ------------------------------------------------------------------------


def test_a_weight_rollback_under_guardrails_names_a_variant_that_is_replaced(repo: Repo) -> None:
    repo.write("docs/runbook.md", "Rollback:\n\n    " + ROLLBACK.split(">-\n", 1)[1].replace("\n    ", " ").strip()
               + "\n")
    result = run(repo, "OPS003", stack(variant("scorer"), deployment=canary_policy(termination=600)),
                 spec(GUARDED, operations=ROLLBACK + "  runbook: docs/runbook.md\n"))
    assert result.status == "fail"
    assert "the rollback command moves weight between variants ('scorer-v1', 'scorer-v2'), but the rollout uses " \
           f"deployment guardrails (deploy/stack.yaml:{line(repo, 'BlueGreenUpdatePolicy')}): the new fleet replaces " \
           "the old one under the same variant name" in only(result, "fail")


def test_a_redeploy_is_the_rollback_under_guardrails(repo: Repo) -> None:
    command = "aws sagemaker update-endpoint --endpoint-name scorer --endpoint-config-name scorer-config-v1"
    repo.write("docs/runbook.md", f"Rollback:\n\n    {command}\n")
    result = run(repo, "OPS003", stack(variant("scorer"), deployment=canary_policy(termination=600)),
                 spec(GUARDED, operations=f"operations:\n  runbook: docs/runbook.md\n  rollback: {command}\n"))
    assert result.status == "pass", messages(result)
    assert "once the update has ended, pointing the endpoint back at the previous endpoint config is the rollback" \
        in only(result, "pass")


def test_a_weight_rollback_to_a_variant_the_config_does_not_keep(repo: Repo) -> None:
    repo.write("docs/runbook.md", "Rollback:\n\n    " + ROLLBACK.split(">-\n", 1)[1].replace("\n    ", " ").strip()
               + "\n")
    template = stack(variant("scorer-v0", "ModelV1", weight=95) + variant("scorer-v2", weight=5))
    result = run(repo, "OPS003", template, spec(WEIGHTS + "rollback_automation: pagerduty:scorer-primary\n",
                                                operations=ROLLBACK + "  runbook: docs/runbook.md\n"))
    assert "the rollback command moves the traffic to variant 'scorer-v1', but the endpoint config the " \
           "infrastructure code deploys (deploy/stack.yaml) has production variants 'scorer-v0', 'scorer-v2'" \
           in only(result, "fail")


# -- IAC002: the spec's mechanism against the code's -----------------------------------------------------------------


def test_the_spec_says_weights_and_the_code_runs_guardrails(repo: Repo) -> None:
    result = run(repo, "IAC002", stack(variant("scorer"), deployment=canary_policy()),
                 spec("mechanism: weights\n" + GUARDED))
    fails = [f for f in result.findings if f.status == "fail" and "rollout.mechanism is weights" in f.message]
    assert len(fails) == 1, messages(result)
    policy = line(repo, "BlueGreenUpdatePolicy")
    assert f"but the infrastructure code rolls out by guardrails (deploy/stack.yaml:{policy}; one production " \
           "variant, replaced by UpdateEndpoint with a CANARY DeploymentConfig)" in fails[0].message
    assert fails[0].location is not None and fails[0].location.path == "mlgate.yaml"
    assert [(r.path, r.line) for r in fails[0].related] == [("deploy/stack.yaml", policy)]


# -- the bundled examples ---------------------------------------------------------------------------------------------


def test_the_not_ready_example_shows_the_canary_size_and_a_weight_ramp_nobody_acts_on(tmp_path: Path) -> None:
    repo = example_repo(tmp_path / "repo", "not-ready")
    results = {r.rule.id: r for r in repo.report(select=["RLO002", "RLO004"]).deployments[0].results}
    ramp = messages(results["RLO002"])
    assert "fail: CanarySize 5 % of 1 instance of variant 'ticket-urgency-v1' = 1 instance (100 % of its traffic): " \
           "the canary is 100 % of the variant's capacity, above the 50 % the API allows" in ramp
    assert "warn: CanarySize 5 % of 2 instances of variant 'ticket-urgency-v2' = 1 instance (50 % of its traffic): a " \
           "step activates whole instances" in ramp
    assert "so the canary takes 50 %, not 5 %" in ramp
    alarms = messages(results["RLO004"])
    assert "fail: the rollout moves variant weights (deploy/stack.yaml:" in alarms
    assert "rollout.rollback_automation does not say who or what acts when a rollback alarm fires" in alarms


def test_the_ready_example_ramps_weights_watched_by_the_on_call(tmp_path: Path) -> None:
    repo = ready_repo(tmp_path / "repo")
    report = repo.report(select=["RLO001", "RLO002", "RLO003", "RLO004", "OPS003", "IAC002"])
    results = {r.rule.id: r for r in report.deployments[0].results}
    assert {rule: r.status for rule, r in results.items()} == dict.fromkeys(results, "pass"), \
        {rule: messages(r) for rule, r in results.items() if r.status != "pass"}
    alarms = messages(results["RLO004"])
    assert "when one fires, PagerDuty growth-ml-primary is paged and runs operations.rollback" in alarms
    assert "automatically" not in alarms
    assert "the weights move with UpdateEndpointWeightsAndCapacities (rollout.mechanism: weights)" \
        in messages(results["RLO002"])


def test_iac002_counts_the_canary_in_whole_instances(repo: Repo) -> None:
    """The spec's 50 % first step is what a 5 % CanarySize does on 2 instances: the two agree."""
    result = run(repo, "IAC002", stack(variant("scorer"), deployment=canary_policy()), spec(GUARDED))
    assert not [f for f in result.findings if f.status == "fail"], messages(result)
    assert "the CANARY traffic shift 50 → 100 % (CanarySize at deploy/stack.yaml:" in messages(result)


TERRAFORM = """
resource "aws_sagemaker_model" "v2" {
  name               = "scorer-v2"
  execution_role_arn = "arn:aws:iam::111122223333:role/scorer"
  primary_container {
    image = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/scorer@sha256:ab12"
  }
}

resource "aws_sagemaker_endpoint_configuration" "config" {
  name = "scorer-config"
  production_variants {
    variant_name           = "scorer"
    model_name             = aws_sagemaker_model.v2.name
    instance_type          = "ml.c5.xlarge"
    initial_instance_count = 4
  }
}

resource "aws_sagemaker_endpoint" "endpoint" {
  name                 = "scorer"
  endpoint_config_name = aws_sagemaker_endpoint_configuration.config.name
  deployment_config {
    blue_green_update_policy {
      traffic_routing_configuration {
        type                     = "LINEAR"
        wait_interval_in_seconds = 600
        linear_step_size {
          type  = "INSTANCE_COUNT"
          value = 1
        }
      }
      termination_wait_in_seconds = 900
    }
  }
}
"""


def test_terraform_shows_guardrails_and_their_ramp(repo: Repo) -> None:
    repo.write("deploy/terraform/main.tf", TERRAFORM)
    spec_text = spec("canary: {variant: scorer, steps: [25, 50, 75, 100], bake_time: 10m}").replace(
        "cloudformation: deploy/stack.yaml", "terraform: deploy/terraform")
    repo.write("mlgate.yaml", spec_text)
    repo.commit()
    ramp, warm = repo.rule("RLO002"), repo.rule("RLO003")
    assert ramp.status == "fail"  # a 25 % first step is above the 10 % maximum
    assert "the LINEAR shift's first step is LinearStepSize 1 instance of 4 instances = 1 instance (25 % of the " \
           "traffic)" in only(ramp, "fail")
    assert warm.status == "pass", messages(warm)
    assert "the old (blue) fleet stays warm 15m after the traffic shift (TerminationWaitInSeconds, " \
           "deploy/terraform/main.tf:" in only(warm, "pass")
