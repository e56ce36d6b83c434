"""SRV003 as an SRE judges capacity: redundancy across Availability Zones, autoscaling that has a policy, an async
endpoint that can scale out from zero, the previous variant carrying the peak after a rollback, batch transform by
its volume and window. Each case is a repository with a spec (and, where the code decides, its CloudFormation or
Terraform), and the status and message a reviewer expects.

Per-instance throughput: vCPUs / processing_s (ml.c5.xlarge: 4 vCPUs; ml.m5.xlarge: 4 vCPUs).
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from mlgate.result import RuleResult
from tests.checks.test_serving import patched
from tests.conftest import Repo, messages

# 4 vCPUs / 0.05 s = 80 rps per ml.c5.xlarge; the peak of 100 rps needs 130 with 30 % headroom: 2 instances
SPEC: dict[str, Any] = {
    "version": 1,
    "serving": {"pattern": "realtime", "endpoint": "scorer", "instance_type": "ml.c5.xlarge", "instance_count": 2,
                "traffic": {"requests_per_day": 1_000_000, "peak_rps": 100, "processing_s": 0.05,
                            "latency_p99_ms": 200, "payload_kb": 4, "synchronous": True}},
}
AZ_SOURCE = ("source: deploy multiple instances for each production endpoint: on an outage or an instance failure "
             "SageMaker distributes the instances across Availability Zones, SageMaker Developer Guide, hosting best "
             "practices (2023)")


def run(repo: Repo, data: dict[str, Any], files: dict[str, str] | None = None, rule: str = "SRV003",
        params: str = "") -> RuleResult:
    repo.write("mlgate.yaml", yaml.safe_dump(data, sort_keys=False))
    for rel, text in (files or {}).items():
        repo.write(rel, text)
    if params:
        repo.write(".mlgate.toml", params)
    repo.commit()
    return repo.rule(rule)


# Availability ---------------------------------------------------------------------------------------------------------

def test_one_instance_has_no_redundancy_across_availability_zones(repo: Repo) -> None:
    # one instance serves 80 rps: the peak is not covered either
    result = run(repo, patched({"serving.instance_count": 1, "serving.traffic.peak_rps": 50}, SPEC))
    assert result.status == "fail"
    (finding,) = [f for f in result.findings if f.status == "fail"]
    assert finding.message.startswith("the endpoint runs on 1 instance (instance_count): one instance failure or "
                                      "Availability Zone outage takes it down")
    assert AZ_SOURCE in finding.message and finding.message.endswith("the minimum is 2")
    assert finding.remediation is not None and "Run at least 2 instances (serving.instance_count: 2)" in \
        finding.remediation
    assert "1 x ml.c5.xlarge serve 80 requests/s" in messages(result).replace("\u00d7", "x").replace("\u00f7", "/")


def test_a_staging_endpoint_on_one_instance_is_not_held_to_the_production_minimum(repo: Repo) -> None:
    data = patched({"serving.instance_count": 1, "serving.traffic.peak_rps": 50, "serving.environment": "staging"},
                   SPEC)
    result = run(repo, data)
    assert result.status == "pass", messages(result)
    assert "the endpoint runs on 1 instance (instance_count), below the 2 a production endpoint needs (" + \
        AZ_SOURCE + ", read 2026-11-26); serving.environment is staging, and the availability minimum applies to " \
        "production endpoints only" in messages(result)
    # the same spec said production (the default, written out) fails as before
    data["serving"]["environment"] = "production"
    assert run(repo, data).status == "fail"


def test_the_minimum_is_a_rule_parameter(repo: Repo) -> None:
    result = run(repo, patched({"serving.instance_count": 1, "serving.traffic.peak_rps": 50}, SPEC),
                 params="[params.SRV003]\nmin_instances = 1\n")
    assert result.status == "pass", messages(result)
    assert "the endpoint runs on 1 instances (instance_count): SageMaker can spread them" in messages(result)


def test_the_autoscaling_minimum_is_the_floor(repo: Repo) -> None:
    data = patched({"serving.autoscaling": {"min_instances": 1, "max_instances": 4, "policies": [
        {"type": "target_tracking", "metric": "SageMakerVariantInvocationsPerInstance", "target": 3000}]}}, SPEC)
    result = run(repo, data)
    assert result.status == "fail"
    assert "the endpoint runs on at least 1 instance (autoscaling.min_instances)" in messages(result)


# Autoscaling counts only with a policy --------------------------------------------------------------------------------

STACK = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - VariantName: v1
          ModelName: scorer-v1
          InstanceType: ml.c5.xlarge
          InitialInstanceCount: 2
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointName: scorer
      EndpointConfigName: !GetAtt Config.EndpointConfigName
  Target:
    Type: AWS::ApplicationAutoScaling::ScalableTarget
    Properties:
      ServiceNamespace: sagemaker
      ResourceId: endpoint/scorer/variant/v1
      ScalableDimension: sagemaker:variant:DesiredInstanceCount
      MinCapacity: 2
      MaxCapacity: 6
"""
POLICY = """
  Policy:
    Type: AWS::ApplicationAutoScaling::ScalingPolicy
    Properties:
      PolicyName: scorer-invocations
      PolicyType: TargetTrackingScaling
      ScalingTargetId: !Ref Target
      TargetTrackingScalingPolicyConfiguration:
        TargetValue: 3000
        PredefinedMetricSpecification:
          PredefinedMetricType: SageMakerVariantInvocationsPerInstance
"""
# a 300 rps peak needs 390 with headroom: 5 instances of 80 rps; 2 serve 160, 6 serve 480
PEAK = {"serving.traffic.peak_rps": 300, "infrastructure": {"cloudformation": "deploy/stack.yaml"}}


def test_a_scalable_target_without_a_policy_never_scales(repo: Repo) -> None:
    result = run(repo, patched(PEAK, SPEC), {"deploy/stack.yaml": STACK})
    assert result.status == "fail"
    text = messages(result).replace("\u00d7", "x").replace("\u00f7", "/")
    assert "autoscaling sets 2-6 instances, but no scaling policy (target tracking or step) acts on the variant: a " \
           "scalable target alone never changes the count, so the endpoint stays at 2 and max_instances does not " \
           "count" in text
    assert "2 x ml.c5.xlarge serve 160 requests/s (80 each: 4 vCPUs / 0.05 s); the peak of 300 rps needs 390" in text
    warn = next(f for f in result.findings if f.status == "warn")
    assert warn.location is not None and warn.location.path == "deploy/stack.yaml"


def test_a_target_tracking_policy_lets_the_maximum_count(repo: Repo) -> None:
    result = run(repo, patched(PEAK, SPEC), {"deploy/stack.yaml": STACK + POLICY})
    assert result.status == "pass", messages(result)
    text = messages(result).replace("\u00d7", "x").replace("\u00f7", "/")
    assert "autoscaling scales 2-6 instances with target_tracking on SageMakerVariantInvocationsPerInstance at 3,000" \
        in text
    assert "6 x ml.c5.xlarge serve 480 requests/s" in text


TERRAFORM = """
resource "aws_sagemaker_endpoint_configuration" "config" {
  name = "scorer-config"
  production_variants {
    variant_name           = "v1"
    model_name             = "scorer-v1"
    instance_type          = "ml.c5.xlarge"
    initial_instance_count = 2
  }
}

resource "aws_sagemaker_endpoint" "scorer" {
  name                 = "scorer"
  endpoint_config_name = aws_sagemaker_endpoint_configuration.config.name
}

resource "aws_appautoscaling_target" "variant" {
  service_namespace  = "sagemaker"
  resource_id        = "endpoint/scorer/variant/v1"
  scalable_dimension = "sagemaker:variant:DesiredInstanceCount"
  min_capacity       = 2
  max_capacity       = 4
}

resource "aws_appautoscaling_policy" "invocations" {
  name               = "scorer-invocations"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.variant.service_namespace
  resource_id        = aws_appautoscaling_target.variant.resource_id
  scalable_dimension = aws_appautoscaling_target.variant.scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value = 3000
    predefined_metric_specification {
      predefined_metric_type = "SageMakerVariantInvocationsPerInstance"
    }
  }
}
"""


def test_terraform_scaling_policy_is_read_and_the_maximum_judged(repo: Repo) -> None:
    # 4 x 80 = 320 < 390: the maximum the policy can reach is too low
    data = patched({"serving.traffic.peak_rps": 300, "infrastructure": {"terraform": "terraform"}}, SPEC)
    result = run(repo, data, {"terraform/main.tf": TERRAFORM})
    assert result.status == "fail"
    text = messages(result).replace("\u00d7", "x")
    assert "autoscaling scales 2-4 instances with target_tracking on SageMakerVariantInvocationsPerInstance" in text
    assert "4 x ml.c5.xlarge serve 320 requests/s" in text
    fail = next(f for f in result.findings if f.status == "fail")
    assert fail.remediation is not None and "Raise serving.autoscaling.max_instances to 5" in fail.remediation
    assert fail.location is not None and fail.location.path == "terraform/main.tf"


# Async scaled to zero -------------------------------------------------------------------------------------------------

# 200 requests a day, 5 s each on ml.m5.xlarge: 4 / 5 = 0.8 rps per instance; peak 0.5 rps
ASYNC = patched({"serving.pattern": "async", "serving.instance_type": "ml.m5.xlarge", "serving.instance_count": 1,
                 "serving.traffic": {"requests_per_day": 200, "peak_rps": 0.5, "processing_s": 5, "payload_kb": 512,
                                     "synchronous": False}}, SPEC)


def async_with(*policies: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(ASYNC)
    data["serving"]["autoscaling"] = {"min_instances": 0, "max_instances": 2, "policies": list(policies)}
    return data


def test_async_at_zero_without_a_backlog_policy_never_wakes_up(repo: Repo) -> None:
    result = run(repo, async_with({"type": "target_tracking", "metric": "SageMakerVariantInvocationsPerInstance"}))
    assert result.status == "fail"
    assert "autoscaling.min_instances is 0, and no scaling policy watches the backlog (the policies scale on " \
           "SageMakerVariantInvocationsPerInstance, which an endpoint at zero instances does not publish)" \
           in messages(result)


def test_async_at_zero_tracking_the_backlog_wakes_up_late(repo: Repo) -> None:
    result = run(repo, async_with({"type": "target_tracking", "metric": "ApproximateBacklogSizePerInstance",
                                   "target": 5}))
    assert result.status == "warn", messages(result)
    assert "the endpoint scales out from zero only once the backlog exceeds the target value" in messages(result)
    assert "HasBacklogWithoutCapacity" in messages(result) + str([f.remediation for f in result.findings])


STEP_STACK = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - VariantName: v1
          ModelName: scorer-v1
          InstanceType: ml.m5.xlarge
          InitialInstanceCount: 1
      AsyncInferenceConfig:
        OutputConfig:
          S3OutputPath: s3://acme-async/scorer/
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointName: scorer
      EndpointConfigName: !GetAtt Config.EndpointConfigName
  Target:
    Type: AWS::ApplicationAutoScaling::ScalableTarget
    Properties:
      ServiceNamespace: sagemaker
      ResourceId: endpoint/scorer/variant/v1
      ScalableDimension: sagemaker:variant:DesiredInstanceCount
      MinCapacity: 0
      MaxCapacity: 2
  FromZero:
    Type: AWS::ApplicationAutoScaling::ScalingPolicy
    Properties:
      PolicyName: scorer-from-zero
      PolicyType: StepScaling
      ScalingTargetId: !Ref Target
      StepScalingPolicyConfiguration:
        AdjustmentType: ChangeInCapacity
        StepAdjustments:
          - MetricIntervalLowerBound: 0
            ScalingAdjustment: 1
  BacklogAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: scorer-backlog-without-capacity
      Namespace: AWS/SageMaker
      MetricName: HasBacklogWithoutCapacity
      Dimensions:
        - Name: EndpointName
          Value: scorer
      Statistic: Average
      Period: 60
      EvaluationPeriods: 2
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions:
        - !Ref FromZero
"""


def test_async_step_policy_on_the_alarm_that_runs_it_scales_out_from_zero(repo: Repo) -> None:
    data = copy.deepcopy(ASYNC)
    data["infrastructure"] = {"cloudformation": "deploy/stack.yaml"}
    result = run(repo, data, {"deploy/stack.yaml": STEP_STACK})
    text = messages(result)
    # the step policy's metric is the metric of the alarm whose AlarmActions run it
    assert "autoscaling scales 0-2 instances with step on HasBacklogWithoutCapacity" in text
    assert "no scaling policy watches the backlog" not in text
    assert "the endpoint scales out to at most 2 instances (autoscaling.max_instances)" in text


# After a rollback the previous variant carries the peak ---------------------------------------------------------------

WEIGHTED = """
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - VariantName: v1
          ModelName: scorer-v1
          InstanceType: ml.c5.xlarge
          InitialInstanceCount: 1
          InitialVariantWeight: 0.9
        - VariantName: v2
          ModelName: scorer-v2
          InstanceType: ml.c5.xlarge
          InitialInstanceCount: 2
          InitialVariantWeight: 0.1
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointName: scorer
      EndpointConfigName: !GetAtt Config.EndpointConfigName
"""
ROLLOUT = {"canary": {"variant": "v2", "steps": [10, 50, 100], "bake_time": "1h"},
           "previous": {"variant": "v1", "keep_warm": True, "min_instances": 1}}


def test_the_previous_variant_must_carry_the_whole_peak_after_a_rollback(repo: Repo) -> None:
    data = patched({"rollout": ROLLOUT, "infrastructure": {"cloudformation": "deploy/stack.yaml"}}, SPEC)
    result = run(repo, data, {"deploy/stack.yaml": WEIGHTED})
    assert result.status == "fail"
    alone = next(f for f in result.findings if "serves every caller alone on 1 instance" in f.message)
    assert alone.status == "fail" and "the minimum is 2" in alone.message
    fail = next(f for f in result.findings if "gets the whole peak back" in f.message)
    assert fail.status == "fail"
    assert fail.message.replace("\u00d7", "x").replace("\u00f7", "/") == (
        "after a rollback the previous variant v1 gets the whole peak back at once: 1 x ml.c5.xlarge serve 80 "
        "requests/s (80 each: 4 vCPUs / 0.05 s), below the 130 the peak of 100 rps needs with 30 % headroom")
    assert fail.location is not None and fail.location.path == "deploy/stack.yaml" and fail.location.line == 7  # v1


def test_a_warm_previous_variant_that_covers_the_peak_passes(repo: Repo) -> None:
    data = patched({"rollout": {**ROLLOUT, "previous": {"variant": "v1", "keep_warm": True, "min_instances": 2}}},
                   SPEC)
    result = run(repo, data)
    assert result.status == "pass", messages(result)
    assert "after a rollback the previous variant v1 carries the whole peak" in messages(result)


# Batch transform: volume against the window ---------------------------------------------------------------------------

# 2 x ml.m5.xlarge at 0.01 s: 400 rps each, 800 together
BATCH = {"version": 1, "serving": {"pattern": "batch", "instance_type": "ml.m5.xlarge", "instance_count": 2,
                                   "traffic": {"requests_per_day": 1_000_000, "processing_s": 0.01, "payload_kb": 4,
                                               "synchronous": False, "window": "4h"}}}


def test_batch_needs_no_peak_and_fits_its_window(repo: Repo) -> None:
    # 1,000,000 / 800 = 1,250 s = 0.35 h, within 4 h / 1.3 = 3.08 h
    result = run(repo, BATCH)
    assert result.status == "pass", messages(result)
    assert "1,000,000 requests a day take 0.35 h on 2 \u00d7 ml.m5.xlarge" in messages(result)
    assert "within the 4h window with 30 % headroom (3.08 h)" in messages(result)
    srv001 = repo.rule("SRV001")
    assert "peak_rps" not in messages(srv001)


def test_batch_that_overruns_its_window_fails_with_the_instances_it_needs(repo: Repo) -> None:
    # 5,000,000 / 800 = 6,250 s = 1.74 h > 1 h / 1.3 = 0.77 h; 5,000,000 / (400 x 2,769.2 s) = 4.5 -> 5 instances
    data = copy.deepcopy(BATCH)
    data["serving"]["traffic"].update({"requests_per_day": 5_000_000, "window": "1h"})
    result = run(repo, data)
    assert result.status == "fail"
    fail = result.findings[0]
    assert "5,000,000 requests a day take 1.74 h on 2 \u00d7 ml.m5.xlarge" in fail.message
    assert "more than the 0.77 h the 1h window allows with 30 % headroom" in fail.message
    assert fail.remediation is not None and fail.remediation.startswith("Run the transform job on 5 instances")


def test_batch_window_that_is_no_duration_fails(repo: Repo) -> None:
    data = copy.deepcopy(BATCH)
    data["serving"]["traffic"]["window"] = "overnight"
    result = run(repo, data)
    assert result.status == "fail"
    assert "serving.traffic.window 'overnight' is not a duration mlgate understands" in messages(result)


def test_batch_without_a_window_has_a_day(repo: Repo) -> None:
    data = copy.deepcopy(BATCH)
    del data["serving"]["traffic"]["window"]
    result = run(repo, data)
    assert result.status == "pass"
    assert "within a day (serving.traffic.window is not declared)" in messages(result)
