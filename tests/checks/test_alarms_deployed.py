"""MON004 on the alarms as they will be deployed: the spec's alarms joined with the CloudWatch alarms of the
CloudFormation or Terraform that creates the endpoint. Each case is a repository with a spec and its
infrastructure code, and the status and message a reviewer expects.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from mlgate.result import RuleResult
from tests.conftest import Repo, messages

SPEC: dict[str, Any] = {
    "version": 1,
    "serving": {"pattern": "realtime", "endpoint": "scorer",
                "traffic": {"requests_per_day": 2_000_000, "latency_p99_ms": 150}},
    "monitoring": {"operational": {"alarms": [
        {"name": "scorer-p99-latency", "watches": "latency", "metric": "ModelLatency", "statistic": "p99",
         "threshold_ms": 150},
        {"name": "scorer-5xx-rate", "watches": "errors", "metric": "Invocation5XXErrors", "threshold_rate": 0.01},
        {"name": "scorer-throttles", "watches": "throttles", "metric": "Invocation4XXErrors", "threshold_count": 50},
    ]}},
    "infrastructure": {"cloudformation": "deploy/stack.yaml"},
}
METRICS = {"scorer-p99-latency": ("ModelLatency", {"ExtendedStatistic": "p99"}, 150000),
           "scorer-5xx-rate": ("Invocation5XXErrors", {"Statistic": "Average"}, 0.01),
           "scorer-throttles": ("Invocation4XXErrors", {"Statistic": "Sum"}, 50)}


def alarm(name: str, variant: str | None = "v1", actions: bool = True, metric: str | None = None) -> dict[str, Any]:
    default_metric, stat, threshold = METRICS.get(name, ("ModelLatency", {"ExtendedStatistic": "p99"}, 150000))
    dims = [{"Name": "EndpointName", "Value": {"Ref": "Endpoint"}}]
    if variant:
        dims.append({"Name": "VariantName", "Value": variant})
    props: dict[str, Any] = {"AlarmName": name, "Namespace": "AWS/SageMaker", "MetricName": metric or default_metric,
                             "Dimensions": dims, **stat, "Period": 60, "EvaluationPeriods": 3,
                             "Threshold": threshold, "ComparisonOperator": "GreaterThanThreshold"}
    if actions:
        props["AlarmActions"] = [{"Ref": "OnCall"}]
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": props}


def stack(alarms: dict[str, dict[str, Any]], variants: tuple[tuple[str, int], ...] = (("v1", 2),),
          extra: dict[str, Any] | None = None) -> str:
    resources: dict[str, Any] = {
        "Model": {"Type": "AWS::SageMaker::Model", "Properties": {
            "ModelName": "scorer-v2", "ExecutionRoleArn": "arn:aws:iam::111122223333:role/scorer",
            "PrimaryContainer": {"Image": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/scorer@sha256:" + "a" * 64}}},
        "Config": {"Type": "AWS::SageMaker::EndpointConfig", "Properties": {"ProductionVariants": [
            {"VariantName": name, "ModelName": {"Fn::GetAtt": ["Model", "ModelName"]}, "InstanceType": "ml.c5.xlarge",
             "InitialInstanceCount": count, "InitialVariantWeight": 1} for name, count in variants]}},
        "Endpoint": {"Type": "AWS::SageMaker::Endpoint", "Properties": {
            "EndpointName": "scorer", "EndpointConfigName": {"Fn::GetAtt": ["Config", "EndpointConfigName"]}}},
        "OnCall": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "scorer-on-call"}},
        **alarms, **(extra or {}),
    }
    return yaml.safe_dump({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}, sort_keys=False)


def all_alarms(**changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out = {"LatencyAlarm": alarm("scorer-p99-latency"), "ErrorAlarm": alarm("scorer-5xx-rate"),
           "ThrottleAlarm": alarm("scorer-throttles")}
    out.update(changes)
    return out


def run(repo: Repo, template: str, spec: dict[str, Any] | None = None, rule: str = "MON004") -> RuleResult:
    repo.write("mlgate.yaml", yaml.safe_dump(spec or SPEC, sort_keys=False))
    repo.write("deploy/stack.yaml", template)
    repo.commit()
    return repo.rule(rule)


def line_of(repo: Repo, text: str) -> int:
    lines = (repo.root / "deploy/stack.yaml").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def with_canary(spec: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    out["rollout"] = {"canary": {"variant": "v2", "steps": [10, 50, 100], "bake_time": "1h"},
                      "previous": {"variant": "v1", "keep_warm": True, "min_instances": 2}}
    return out


# Dimensions -----------------------------------------------------------------------------------------------------------

def test_alarms_in_the_code_on_the_variant_with_actions_pass_and_say_so(repo: Repo) -> None:
    result = run(repo, stack(all_alarms()))
    assert result.status == "pass", messages(result)
    text = messages(result)
    assert "'scorer-p99-latency' on ModelLatency (the time the model container took to answer, as SageMaker sees " \
           "it) p99 above 150 ms (declared p99 150 ms, limit 225 ms), variant v1, notifying OnCall " \
           "(deploy/stack.yaml:" in text
    assert "'scorer-throttles' on Invocation4XXErrors (requests that got a 4xx response) above 50 per period" in text


def test_an_alarm_without_the_variant_dimension_never_gets_data(repo: Repo) -> None:
    result = run(repo, stack(all_alarms(LatencyAlarm=alarm("scorer-p99-latency", variant=None))))
    assert result.status == "fail"
    (finding,) = [f for f in result.findings if f.status == "fail"]
    assert finding.message.startswith(
        "alarm 'scorer-p99-latency' on ModelLatency has EndpointName, but SageMaker publishes ModelLatency per "
        "EndpointName and VariantName (source: ModelLatency: the interval taken by a model to respond as viewed from "
        "SageMaker, in microseconds, SageMaker Developer Guide, endpoint invocation metrics (2023)")
    assert "an alarm without VariantName watches a metric nobody publishes and never gets data" in finding.message
    # on the code's line, with the spec's entry as the related location
    assert finding.location is not None and finding.location.path == "deploy/stack.yaml"
    assert finding.location.line == line_of(repo, "LatencyAlarm:")
    assert [r.path for r in finding.related] == ["mlgate.yaml"]


def test_an_alarm_on_a_variant_the_endpoint_does_not_run_fails(repo: Repo) -> None:
    result = run(repo, stack(all_alarms(ErrorAlarm=alarm("scorer-5xx-rate", variant="AllTraffic"))))
    assert result.status == "fail"
    assert "alarm 'scorer-5xx-rate' watches VariantName AllTraffic, which this endpoint does not run (its variants: " \
           "v1): it never gets data" in messages(result)


def test_alarms_on_the_previous_variant_only_do_not_watch_the_canary(repo: Repo) -> None:
    result = run(repo, stack(all_alarms(), variants=(("v1", 2), ("v2", 2))), with_canary(SPEC))
    assert result.status == "fail"
    text = messages(result)
    assert "the latency alarm 'scorer-p99-latency' watches VariantName v1 only: the canary v2 runs beside it on the " \
           "same endpoint and no latency alarm watches it" in text
    assert "the errors alarm 'scorer-5xx-rate' watches VariantName v1 only" in text


def test_alarms_on_both_variants_watch_the_canary(repo: Repo) -> None:
    spec = with_canary(SPEC)
    spec["monitoring"]["operational"]["alarms"] += [
        {"name": "scorer-v2-p99-latency", "watches": "latency", "metric": "ModelLatency", "statistic": "p99",
         "threshold_ms": 150},
        {"name": "scorer-v2-5xx-rate", "watches": "errors", "metric": "Invocation5XXErrors", "threshold_rate": 0.01}]
    canary = {"CanaryLatency": alarm("scorer-v2-p99-latency", variant="v2"),
              "CanaryErrors": alarm("scorer-v2-5xx-rate", variant="v2", metric="Invocation5XXErrors")}
    canary["CanaryErrors"]["Properties"].update({"Statistic": "Average", "Threshold": 0.01})
    canary["CanaryErrors"]["Properties"].pop("ExtendedStatistic")
    result = run(repo, stack(all_alarms(**canary), variants=(("v1", 2), ("v2", 2))), spec)
    assert result.status == "pass", messages(result)
    assert "'scorer-v2-p99-latency' on ModelLatency" in messages(result)


# Actions --------------------------------------------------------------------------------------------------------------

def test_a_latency_alarm_that_pages_nobody_fails(repo: Repo) -> None:
    result = run(repo, stack(all_alarms(LatencyAlarm=alarm("scorer-p99-latency", actions=False))))
    assert result.status == "fail"
    assert "latency alarm 'scorer-p99-latency' has no AlarmActions and no other latency alarm notifies anyone: when " \
           "this production endpoint slows down, the alarm changes state and nobody is paged (source: AlarmActions" \
           in messages(result)


def test_a_latency_alarm_that_pages_nobody_on_a_development_endpoint_warns(repo: Repo) -> None:
    spec = copy.deepcopy(SPEC)
    spec["serving"]["environment"] = "development"
    result = run(repo, stack(all_alarms(LatencyAlarm=alarm("scorer-p99-latency", actions=False))), spec)
    assert result.status == "warn", messages(result)
    assert "alarm 'scorer-p99-latency' has no AlarmActions: it changes state and pages nobody (a warning, not a " \
           "failure: serving.environment is development, and a latency alarm that pages nobody fails on production " \
           "endpoints only)" in messages(result)


def test_a_throttle_alarm_without_actions_warns(repo: Repo) -> None:
    result = run(repo, stack(all_alarms(ThrottleAlarm=alarm("scorer-throttles", actions=False))))
    assert result.status == "warn", messages(result)
    assert "alarm 'scorer-throttles' has no AlarmActions: it changes state and pages nobody" in messages(result)


def test_a_silent_latency_alarm_beside_one_that_pages_warns(repo: Repo) -> None:
    spec = copy.deepcopy(SPEC)
    spec["monitoring"]["operational"]["alarms"].append(
        {"name": "scorer-p99-latency-ticket", "watches": "latency", "metric": "ModelLatency", "statistic": "p99",
         "threshold_ms": 120})
    extra = {"TicketAlarm": alarm("scorer-p99-latency-ticket", actions=False)}
    extra["TicketAlarm"]["Properties"]["Threshold"] = 120000
    result = run(repo, stack(all_alarms(**extra)), spec)
    assert result.status == "warn", messages(result)
    assert "alarm 'scorer-p99-latency-ticket' has no AlarmActions: it changes state and pages nobody (latency alarm " \
           "'scorer-p99-latency' does notify)" in messages(result)


def test_a_composite_alarm_with_actions_notifies_for_the_alarm(repo: Repo) -> None:
    composite = {"Type": "AWS::CloudWatch::CompositeAlarm", "Properties": {
        "AlarmName": "scorer-health", "AlarmRule": 'ALARM("scorer-p99-latency") OR ALARM("scorer-5xx-rate")',
        "AlarmActions": [{"Ref": "OnCall"}]}}
    alarms = all_alarms(LatencyAlarm=alarm("scorer-p99-latency", actions=False),
                        ErrorAlarm=alarm("scorer-5xx-rate", actions=False))
    result = run(repo, stack(alarms, extra={"Health": composite}))
    assert result.status == "pass", messages(result)
    assert "alarm 'scorer-p99-latency' has no AlarmActions of its own; composite alarm scorer-health notifies on it" \
        in messages(result)


def test_actions_disabled_page_nobody(repo: Repo) -> None:
    latency = alarm("scorer-p99-latency")
    latency["Properties"]["ActionsEnabled"] = False
    result = run(repo, stack(all_alarms(LatencyAlarm=latency)))
    assert result.status == "fail"
    assert "latency alarm 'scorer-p99-latency' has no AlarmActions" in messages(result)


# Alarms only the code defines -----------------------------------------------------------------------------------------

def test_the_codes_alarms_count_and_a_4xx_alarm_is_no_throttle_alarm_unless_the_spec_says_so(repo: Repo) -> None:
    spec = copy.deepcopy(SPEC)
    del spec["monitoring"]
    result = run(repo, stack(all_alarms()), spec)
    assert result.status == "fail"
    fails = [f for f in result.findings if f.status == "fail"]
    assert len(fails) == 1, messages(result)
    assert fails[0].message == "no alarm watches throttles"
    assert fails[0].remediation == (
        "add an alarm with `watches: throttles` on Invocation4XXErrors (AWS publishes no count of throttled requests "
        "for an instance-backed endpoint; a 4xx alarm counts as a throttle alarm once the spec says `watches: "
        "throttles`)")
    assert "throttle" not in " ".join(f.message for f in result.findings if "4XX" in f.message)


def test_a_serverless_endpoint_says_which_metric_shows_throttling(repo: Repo) -> None:
    spec = copy.deepcopy(SPEC)
    spec["serving"]["pattern"] = "serverless"
    spec["monitoring"]["operational"]["alarms"] = spec["monitoring"]["operational"]["alarms"][:2]
    del spec["infrastructure"]
    result = run(repo, "{}\n", spec)
    fixes = "\n".join(f.remediation or "" for f in result.findings)
    assert "add an alarm with `watches: throttles` on ServerlessConcurrentExecutionsUtilization (at 1 the endpoint " \
           "is at its MaxConcurrency and further requests are throttled)" in fixes


# Alarms only the spec describes ---------------------------------------------------------------------------------------

def test_spec_declared_dimensions_and_actions_are_judged(repo: Repo) -> None:
    spec = copy.deepcopy(SPEC)
    del spec["infrastructure"]
    latency = spec["monitoring"]["operational"]["alarms"][0]
    latency["dimensions"] = {"EndpointName": "scorer"}
    latency["actions"] = []
    result = run(repo, "{}\n", spec)
    assert result.status == "fail"
    text = messages(result)
    assert "alarm 'scorer-p99-latency' on ModelLatency has EndpointName, but SageMaker publishes ModelLatency per " \
           "EndpointName and VariantName" in text
    assert "latency alarm 'scorer-p99-latency' has no AlarmActions and no other latency alarm notifies anyone" in text
    assert all(f.location is not None and f.location.path == "mlgate.yaml" for f in result.findings)


# Terraform ------------------------------------------------------------------------------------------------------------

TERRAFORM = '''
resource "aws_sagemaker_endpoint_configuration" "config" {
  name = "scorer-config"
  production_variants {
    variant_name           = "v1"
    model_name             = "scorer-v2"
    instance_type          = "ml.c5.xlarge"
    initial_instance_count = 2
  }
}

resource "aws_sagemaker_endpoint" "scorer" {
  name                 = "scorer"
  endpoint_config_name = aws_sagemaker_endpoint_configuration.config.name
}

resource "aws_sns_topic" "oncall" {
  name = "scorer-on-call"
}

resource "aws_cloudwatch_metric_alarm" "latency" {
  alarm_name          = "scorer-p99-latency"
  namespace           = "AWS/SageMaker"
  metric_name         = "ModelLatency"
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 3
  threshold           = 150000
  comparison_operator = "GreaterThanThreshold"
  dimensions = {
    EndpointName = aws_sagemaker_endpoint.scorer.name
  }
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "scorer-5xx-rate"
  namespace           = "AWS/SageMaker"
  metric_name         = "Invocation5XXErrors"
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 3
  threshold           = 0.01
  comparison_operator = "GreaterThanThreshold"
  alarm_actions       = [aws_sns_topic.oncall.arn]
  dimensions = {
    EndpointName = aws_sagemaker_endpoint.scorer.name
    VariantName  = "v1"
  }
}
'''


def test_terraform_alarm_actions_and_dimensions_are_read(repo: Repo) -> None:
    spec = copy.deepcopy(SPEC)
    spec["infrastructure"] = {"terraform": "terraform"}
    spec["monitoring"]["operational"]["alarms"] = spec["monitoring"]["operational"]["alarms"][:2]
    repo.write("terraform/main.tf", TERRAFORM)
    result = run(repo, "{}\n", spec)
    text = messages(result)
    assert "alarm 'scorer-p99-latency' on ModelLatency has EndpointName, but SageMaker publishes ModelLatency per " \
           "EndpointName and VariantName" in text
    assert "latency alarm 'scorer-p99-latency' has no AlarmActions" in text
    latency = next(f for f in result.findings if "has EndpointName" in f.message)
    assert latency.location is not None and latency.location.path == "terraform/main.tf"
    # the error alarm has both dimensions and an action known only after apply: it is not reported
    assert "'scorer-5xx-rate' has no AlarmActions" not in text and "scorer-5xx-rate' on Invocation5XXErrors has" \
        not in text


# Deploy scripts -------------------------------------------------------------------------------------------------------

SCRIPT = '''\
import boto3

sns = boto3.client("sns")
cloudwatch = boto3.client("cloudwatch")
autoscaling = boto3.client("application-autoscaling")


def main():
    topic_arn = sns.create_topic(Name="scorer-on-call")["TopicArn"]
    cloudwatch.put_metric_alarm(
        AlarmName="scorer-p99-latency",
        Namespace="AWS/SageMaker",
        MetricName="ModelLatency",
        Dimensions=[{"Name": "EndpointName", "Value": "scorer"}, {"Name": "VariantName", "Value": "v1"}],
        ExtendedStatistic="p99",
        Threshold=150000,
        EvaluationPeriods=3,
        ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[topic_arn],
    )
    cloudwatch.put_metric_alarm(
        AlarmName="scorer-5xx-rate",
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": "scorer"}, {"Name": "VariantName", "Value": "v1"}],
        Statistic="Average",
        Threshold=0.01,
        EvaluationPeriods=3,
        ComparisonOperator="GreaterThanThreshold",
    )
    autoscaling.put_scaling_policy(
        PolicyName="scorer-invocations",
        ServiceNamespace="sagemaker",
        ResourceId="endpoint/scorer/variant/v1",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        PolicyType="TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": 3000.0,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"},
        },
    )


if __name__ == "__main__":
    main()
'''


def test_deploy_script_alarm_actions_and_scaling_policy_are_read(repo: Repo) -> None:
    from mlgate.evidence.iac.scripts import read_scripts
    from mlgate.evidence.workspace import Workspace

    repo.write("deploy/deploy.py", SCRIPT)
    repo.commit()
    infra = read_scripts(Workspace(repo.root), [repo.root / "deploy/deploy.py"])
    latency, errors = infra.alarms
    # the topic's ARN is known only when the script runs, but the alarm has an action
    assert len(latency.actions) == 1 and not latency.actions[0].known and latency.actions_unknown is None
    assert errors.actions == [] and errors.actions_unknown is None
    (policy,) = infra.policies
    assert policy.policy_type is not None and policy.policy_type.value == "TargetTrackingScaling"
    assert policy.metric is not None and policy.metric.value == "SageMakerVariantInvocationsPerInstance"
    assert policy.target_value is not None and policy.target_value.value == 3000.0
