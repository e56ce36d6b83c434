"""OPS001-OPS003: retraining trigger, on-call, rollback command; on real spec files and committed runbooks.

Every case starts from a spec that passes all three rules and changes a few fields (dotted paths; DROP removes one).
For OPS003 the runbook is written from the spec's rollback command (wrapped over lines with `\\` continuations)
unless the case gives its own runbook. `expected` lists every finding the rule must yield: its status and a fragment
of its message or fix.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from mlgate.result import RuleResult
from tests.conftest import Expected, Repo, assert_findings

DROP = object()
ROLLBACK = ("aws sagemaker update-endpoint-weights-and-capacities --endpoint-name scorer "
            "--desired-weights-and-capacities VariantName=model-v1,DesiredWeight=100 "
            "VariantName=model-v2,DesiredWeight=0")

BASE: dict[str, Any] = {
    "version": 1,
    "serving": {"pattern": "realtime", "endpoint": "scorer"},
    "rollout": {"canary": {"variant": "model-v2", "steps": [10, 100], "bake_time": "1h"},
                "previous": {"variant": "model-v1", "keep_warm": True}},
    "monitoring": {
        "data_drift": {"baseline": "s3://acme-monitoring/statistics.json", "schedule": "hourly"},
        "operational": {"alarms": [
            {"name": "scorer-p99-latency", "watches": "latency", "metric": "ModelLatency"},
            {"name": "scorer-feature-nulls", "watches": "other", "metric": "feature_null_rate"},
        ]},
    },
    "retraining": {"trigger": "drift", "drift_alarm": "data_drift"},
    "operations": {"on_call": "pagerduty:scorer-primary", "runbook": "docs/runbook.md", "rollback": ROLLBACK},
}



def runbook_for(command: str) -> str:
    wrapped = command.replace(" --", " \\\n    --")
    return f"# Scorer runbook\n\n## Roll back\n\nMove all traffic back to the previous variant:\n\n```sh\n" \
           f"{wrapped}\n```\n"


RUNBOOK_LINE = 8  # the line where runbook_for puts the command


def spec_data(patch: dict[str, Any]) -> dict[str, Any]:
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
    return data


def run_rule(repo: Repo, rule: str, patch: dict[str, Any], files: dict[str, str | bytes] | None = None,
             commit: bool = True) -> RuleResult:
    data = spec_data(patch)
    repo.write("mlgate.yaml", yaml.safe_dump(data, sort_keys=False))
    files = dict(files or {})
    command = data.get("operations", {}).get("rollback")
    if "docs/runbook.md" not in files and isinstance(command, str):
        files["docs/runbook.md"] = runbook_for(command)
    for rel, text in files.items():
        if isinstance(text, str):
            repo.write(rel, text.encode())  # bytes: written exactly, CRLF and indentation kept
        else:
            repo.write(rel, text)
    if commit:
        repo.commit()
    return repo.rule(rule)


def case(id_: str, patch: dict[str, Any], expected: Expected, files: dict[str, str | bytes] | None = None) -> Any:
    return pytest.param(patch, files, expected, id=id_)


RT = "retraining"

# OPS001 ------------------------------------------------------------------------------------------------------------

RETRAIN_CASES = [
    case("drift-data-monitor", {}, [("pass", "retraining starts when the data_drift monitor (monitoring.data_drift) "
                                             "fires")]),
    case("drift-prediction-monitor",
         {f"{RT}.drift_alarm": "prediction_drift",
          "monitoring.prediction_drift": {"metric": "positive_rate", "expected": [0.01, 0.05], "schedule": "daily"}},
         [("pass", "retraining starts when the prediction_drift monitor")]),
    case("drift-ground-truth", {f"{RT}.drift_alarm": "ground_truth",
                                "monitoring.ground_truth": {"metric": "auc", "minimum": 0.8, "label_delay": "7d"}},
         [("pass", "retraining starts when the ground_truth monitor")]),
    case("drift-named-alarm", {f"{RT}.drift_alarm": "scorer-feature-nulls"},
         [("pass", "retraining starts when alarm 'scorer-feature-nulls' (monitoring.operational.alarms) fires")]),
    case("drift-latency-alarm", {f"{RT}.drift_alarm": "scorer-p99-latency"},
         [("warn", "retraining starts on alarm 'scorer-p99-latency', which watches latency: retraining does not fix "
                   "latency")]),
    case("drift-monitor-not-configured", {f"{RT}.drift_alarm": "prediction_drift"},
         [("fail", "retraining waits for the prediction_drift monitor, but monitoring.prediction_drift is not "
                   "configured: retraining would never start | fix: configure monitoring.prediction_drift, or name a "
                   "monitor that exists (data_drift, scorer-p99-latency, scorer-feature-nulls)")]),
    case("drift-typo", {f"{RT}.drift_alarm": "data-drift"},
         [("fail", "retraining waits for 'data-drift', which is neither a configured drift monitor nor an alarm in "
                   "monitoring.operational.alarms (did you mean 'data_drift'?)")]),
    case("drift-unknown", {f"{RT}.drift_alarm": "weekly-review"},
         [("fail", "(known monitors: data_drift, scorer-feature-nulls, scorer-p99-latency)")]),
    case("drift-nothing-monitored", {"monitoring": DROP, f"{RT}.drift_alarm": "quality"},
         [("fail", "(no monitor is defined)")]),
    case("drift-alarm-unset", {f"{RT}.drift_alarm": DROP},
         [("fail", "retraining.trigger is drift, but retraining.drift_alarm is not set: say which monitor starts "
                   "retraining (known monitors: data_drift, scorer-feature-nulls, scorer-p99-latency)")]),
    case("schedule", {f"{RT}.trigger": "schedule", f"{RT}.schedule": "cron(0 3 ? * MON *)"},
         [("pass", "retraining runs on schedule cron(0 3 ? * MON *)")]),
    case("schedule-rate", {f"{RT}.trigger": "schedule", f"{RT}.schedule": "rate(7 days)"},
         [("pass", "retraining runs on schedule rate(7 days)")]),
    case("schedule-unset", {f"{RT}.trigger": "schedule"},
         [("fail", "retraining.trigger is schedule, but retraining.schedule is not set")]),
    case("schedule-cron-both-days", {f"{RT}.trigger": "schedule", f"{RT}.schedule": "cron(0 3 * * MON *)"},
         [("fail", "retraining schedule 'cron(0 3 * * MON *)' is not a valid EventBridge cron expression: Invalid "
                   "combination of day-of-month")]),
    case("schedule-five-fields", {f"{RT}.trigger": "schedule", f"{RT}.schedule": "cron(0 3 * * 1)"},
         [("fail", "retraining schedule 'cron(0 3 * * 1)' is not a valid EventBridge cron expression")]),
    case("schedule-rate-weeks", {f"{RT}.trigger": "schedule", f"{RT}.schedule": "rate(1 weeks)"},
         [("fail", "retraining schedule 'rate(1 weeks)' is not a rate expression")]),
    case("schedule-crontab", {f"{RT}.trigger": "schedule", f"{RT}.schedule": "0 3 * * 1"},
         [("fail", "retraining schedule '0 3 * * 1' is not a schedule: write cron(0 3 ? * MON *)")]),
    case("manual", {f"{RT}.trigger": "manual"},
         [("warn", "retraining.trigger is manual: nobody will remember to retrain")]),
    case("trigger-unset", {f"{RT}.trigger": DROP}, [("fail", "retraining.trigger is not set")]),
    case("no-section", {RT: DROP}, [("fail", "retraining.trigger is not set: nobody has decided when this model is "
                                             "retrained")]),
]


@pytest.mark.parametrize(("patch", "files", "expected"), RETRAIN_CASES)
def test_ops001_retraining(repo: Repo, patch: dict[str, Any], files: dict[str, str | bytes] | None,
                           expected: Expected) -> None:
    assert_findings(run_rule(repo, "OPS001", patch, files), expected)


# OPS002 ------------------------------------------------------------------------------------------------------------

ON_CALL_CASES = [
    ("pagerduty:scorer-primary", "pass", "on-call is paged through PagerDuty scorer-primary"),
    ("PagerDuty:Scorer", "pass", "PagerDuty Scorer"),
    ("opsgenie:risk-ml", "pass", "Opsgenie risk-ml"),
    ("incidentio:risk-ml-schedule", "pass", "incident.io risk-ml-schedule"),
    ("victorops:risk", "pass", "VictorOps risk"),
    ("splunk-oncall:risk-routing", "pass", "Splunk On-Call risk-routing"),
    ("risk-ml-oncall@acme.example", "pass", "email risk-ml-oncall@acme.example"),
    ("mailto:risk@acme.example", "pass", "email risk@acme.example"),
    ("https://acme.pagerduty.com/service-directory/P1234", "pass", "PagerDuty https://acme.pagerduty.com/"),
    ("slack:#risk-ml, pagerduty:risk", "pass", "PagerDuty risk"),
    ("TBD", "fail", "operations.on_call is 'TBD', a placeholder: nobody is paged"),
    ("tbd", "fail", "a placeholder"),
    ("TODO", "fail", "a placeholder"),
    ("none", "fail", "a placeholder"),
    ("N/A", "fail", "a placeholder"),
    ("?", "fail", "a placeholder"),
    ("-", "fail", "a placeholder"),
    ("Team", "fail", "a placeholder"),
    ("someone", "fail", "a placeholder"),
    ("pagerduty:TBD", "fail", "'pagerduty:TBD', a placeholder"),
    ("pagerduty:", "fail", "a placeholder"),
    ("", "fail", "operations.on_call is not set: when the model breaks at 3 a.m., nobody is paged"),
    ("   ", "fail", "operations.on_call is not set"),
    (DROP, "fail", "operations.on_call is not set: when the model breaks at 3 a.m., nobody is paged | fix: write a "
                   "pager target: pagerduty:<service>"),
    ("slack:#risk-ml", "warn", "operations.on_call is 'slack:#risk-ml', a chat channel: a message there does not "
                               "wake anyone up"),
    ("#risk-ml-alerts", "warn", "a chat channel"),
    ("the risk-ml folks", "warn", "operations.on_call is 'the risk-ml folks': mlgate cannot tell whether it pages "
                                  "anyone"),
    ("https://example.com/oncall", "warn", "mlgate cannot tell whether it pages anyone"),
]


@pytest.mark.parametrize(("value", "status", "fragment"), ON_CALL_CASES,
                         ids=[("unset" if v is DROP else repr(v)) for v, _, _ in ON_CALL_CASES])
def test_ops002_on_call(repo: Repo, value: Any, status: str, fragment: str) -> None:
    result = run_rule(repo, "OPS002", {"operations.on_call": value})
    assert_findings(result, [(status, fragment)])


def test_ops002_without_operations_section(repo: Repo) -> None:
    result = run_rule(repo, "OPS002", {"operations": DROP})
    assert_findings(result, [("fail", "operations.on_call is not set")])


# OPS003 ------------------------------------------------------------------------------------------------------------

OPS = "operations"
FOUND = ("pass", f"runbook docs/runbook.md:{RUNBOOK_LINE} contains the rollback command")
SHIFT_OK = ("pass", "the rollback (aws CLI update-endpoint-weights-and-capacities) moves all traffic on endpoint "
                    "'scorer' to the previous variant 'model-v1' (model-v1=100, model-v2=0): a weight change, done in "
                    "seconds")
WEIGHTS = "--desired-weights-and-capacities"
CLI = "aws sagemaker update-endpoint-weights-and-capacities --endpoint-name scorer"
JSON_WEIGHTS = json.dumps([{"VariantName": "model-v1", "DesiredWeight": 1},
                           {"VariantName": "model-v2", "DesiredWeight": 0}])
BOTO3_WEIGHTS = "[{'VariantName': 'model-v1', 'DesiredWeight': 100}, {'VariantName': 'model-v2', 'DesiredWeight': 0}]"
BOTO3 = ("python -c \"import boto3; boto3.client('sagemaker').update_endpoint_weights_and_capacities("
         f"EndpointName='scorer', DesiredWeightsAndCapacities={BOTO3_WEIGHTS})\"")


def rollback(command: str) -> dict[str, Any]:
    return {f"{OPS}.rollback": command}


ROLLBACK_CASES = [
    case("pass", {}, [FOUND, SHIFT_OK]),
    case("pattern-missing-is-realtime", {"serving.pattern": DROP}, [FOUND, SHIFT_OK]),
    case("async", {"serving.pattern": "async"}, [FOUND, SHIFT_OK]),
    case("json-weights", rollback(f"{CLI} {WEIGHTS} '{JSON_WEIGHTS}'"),
         [FOUND, ("pass", "moves all traffic on endpoint 'scorer' to the previous variant 'model-v1' (model-v1=1, "
                          "model-v2=0)")]),
    case("option-equals-form", rollback("aws sagemaker update-endpoint-weights-and-capacities --endpoint-name=scorer "
                                        f"{WEIGHTS} VariantName=model-v1,DesiredWeight=100,DesiredInstanceCount=2 "
                                        "VariantName=model-v2,DesiredWeight=0"),
         [FOUND, ("pass", "(model-v1=100, model-v2=0)")]),
    case("global-options-and-wait", rollback(
        "aws --region us-east-1 sagemaker update-endpoint-weights-and-capacities --endpoint-name scorer "
        f"{WEIGHTS} VariantName=model-v1,DesiredWeight=100 VariantName=model-v2,DesiredWeight=0 && "
        "aws sagemaker wait endpoint-in-service --endpoint-name scorer"),
         [FOUND, SHIFT_OK]),
    case("boto3-python-c", rollback(BOTO3),
         [FOUND, ("pass", "the rollback (boto3 update_endpoint_weights_and_capacities) moves all traffic on endpoint "
                          "'scorer' to the previous variant 'model-v1' (model-v1=100, model-v2=0)")]),
    case("boto3-bare-call", rollback("sm.update_endpoint_weights_and_capacities(EndpointName='scorer', "
                                     f"DesiredWeightsAndCapacities={BOTO3_WEIGHTS})"),
         [FOUND, ("pass", "the rollback (boto3 update_endpoint_weights_and_capacities) moves all traffic")]),
    case("boto3-wrong-endpoint", rollback(BOTO3.replace("'scorer'", "'scorer-staging'")),
         [FOUND, ("fail", "the rollback command moves traffic on endpoint 'scorer-staging', but this deployment's "
                          "endpoint is 'scorer'")]),
    case("boto3-variable", rollback("sm.update_endpoint_weights_and_capacities(EndpointName=ENDPOINT, "
                                    f"DesiredWeightsAndCapacities={BOTO3_WEIGHTS})"),
         [FOUND, ("warn", "mlgate cannot read the rollback command: EndpointName is ENDPOINT, not a value written "
                          "out; it cannot tell whether it moves traffic to the previous variant")]),
    case("wrong-endpoint", rollback(ROLLBACK.replace("--endpoint-name scorer", "--endpoint-name scorer-staging")),
         [FOUND, ("fail", "the rollback command moves traffic on endpoint 'scorer-staging', but this deployment's "
                          "endpoint is 'scorer' | fix: write aws sagemaker update-endpoint-weights-and-capacities "
                          "--endpoint-name scorer --desired-weights-and-capacities "
                          "VariantName=model-v1,DesiredWeight=100 VariantName=model-v2,DesiredWeight=0")]),
    case("no-endpoint-option", rollback(ROLLBACK.replace(" --endpoint-name scorer", "")),
         [FOUND, ("fail", "the rollback command (aws CLI) names no endpoint")]),
    case("no-weights-option", rollback(f"{CLI}"), [FOUND, ("fail", "the rollback command sets no variant weights")]),
    case("weight-to-the-new-variant", rollback(f"{CLI} {WEIGHTS} VariantName=model-v1,DesiredWeight=0 "
                                               "VariantName=model-v2,DesiredWeight=100"),
         [FOUND,
          ("fail", "leaves the previous variant 'model-v1' at weight 0 (model-v1=0, model-v2=100): traffic "
                   "does not move back to it"),
          ("fail", "the rollback command gives weight 100 to 'model-v2', the new (canary) variant: after the "
                   "rollback it still serves traffic")]),
    case("new-variant-left-out", rollback(f"{CLI} {WEIGHTS} VariantName=model-v1,DesiredWeight=100"),
         [FOUND, ("fail", "the rollback command does not set the new variant 'model-v2' (it sets model-v1=100): a "
                          "variant the call leaves out keeps its current weight")]),
    case("new-variant-without-weight", rollback(f"{CLI} {WEIGHTS} VariantName=model-v1,DesiredWeight=100 "
                                                "VariantName=model-v2,DesiredInstanceCount=1"),
         [FOUND, ("fail", "lists the new variant 'model-v2' without a DesiredWeight, so it keeps its current weight")]),
    case("previous-variant-left-out", rollback(f"{CLI} {WEIGHTS} VariantName=model-v2,DesiredWeight=0"),
         [FOUND, ("fail", "does not give the previous variant 'model-v1' any weight (it sets model-v2=0)")]),
    case("previous-without-weight", rollback(f"{CLI} {WEIGHTS} VariantName=model-v1,DesiredInstanceCount=2 "
                                             "VariantName=model-v2,DesiredWeight=0"),
         [FOUND, ("fail", "leaves the previous variant 'model-v1' at its current weight (model-v1=unchanged, "
                          "model-v2=0)")]),
    case("previous-no-instances", rollback(f"{CLI} {WEIGHTS} VariantName=model-v1,DesiredWeight=100,"
                                           "DesiredInstanceCount=0 VariantName=model-v2,DesiredWeight=0"),
         [FOUND, ("fail", "sets DesiredInstanceCount 0 for the previous variant 'model-v1'")]),
    case("third-variant-keeps-weight", rollback(f"{ROLLBACK} VariantName=model-v0,DesiredWeight=5"),
         [FOUND, ("fail", "gives weight 5 to 'model-v0', neither the previous nor the canary variant")]),
    case("variant-twice", rollback(f"{ROLLBACK} VariantName=model-v1,DesiredWeight=50"),
         [FOUND, ("fail", "the rollback command sets variant 'model-v1' twice")]),
    case("negative-weight", rollback(f"{CLI} {WEIGHTS} VariantName=model-v1,DesiredWeight=100 "
                                     "VariantName=model-v2,DesiredWeight=-1"),
         [FOUND, ("fail", "sets DesiredWeight -1 for 'model-v2'; SageMaker takes weights of 0 or more")]),
    case("endpoint-undeclared", {"serving.endpoint": DROP},
         [FOUND, ("warn", "serving.endpoint is not declared, so mlgate cannot tell whether the rollback's endpoint "
                          "'scorer' is this one"), SHIFT_OK]),
    case("previous-undeclared", {"rollout.previous": DROP},
         [FOUND, ("warn", "rollout.previous.variant is not declared, so mlgate cannot tell whether the rollback "
                          "moves traffic to it")]),
    case("weights-from-file", rollback(f"{CLI} {WEIGHTS} file://rollback-weights.json"),
         [FOUND, ("warn", "mlgate cannot read the rollback command: the weights come from "
                          "file://rollback-weights.json")]),
    case("weights-not-shorthand", rollback(f"{CLI} {WEIGHTS} model-v1"),
         [FOUND, ("warn", "'model-v1' is not AWS CLI shorthand (VariantName=<name>,DesiredWeight=<weight>)")]),
    case("weights-bad-json", rollback(f"{CLI} {WEIGHTS} '[{{\"VariantName\": model-v1}}]'"),
         [FOUND, ("warn", "--desired-weights-and-capacities is not valid JSON")]),
    case("weight-not-a-number", rollback(f"{CLI} {WEIGHTS} VariantName=model-v1,DesiredWeight=all "
                                         "VariantName=model-v2,DesiredWeight=0"),
         [FOUND, ("warn", "DesiredWeight 'all' is not a number")]),
    case("unbalanced-quote", rollback(f"{CLI} {WEIGHTS} 'VariantName=model-v1,DesiredWeight=100"),
         [FOUND, ("fail", "the rollback command cannot be split into shell words (No closing quotation)")]),
    case("redeploy-update-endpoint", rollback("aws sagemaker update-endpoint --endpoint-name scorer "
                                              "--endpoint-config-name scorer-v1"),
         [FOUND, ("warn", "the rollback redeploys the endpoint (aws sagemaker update-endpoint): that takes minutes, "
                          "while moving the weight back to the warm previous variant takes seconds")]),
    case("redeploy-cdk", rollback("npx cdk deploy ScorerStack --context model=v1"),
         [FOUND, ("warn", "redeploys the endpoint (cdk deploy)")]),
    case("redeploy-terraform", rollback("terraform -chdir=infra apply -auto-approve -var model_version=v1"),
         [FOUND, ("warn", "redeploys the endpoint (terraform apply)")]),
    case("redeploy-make", rollback("make deploy MODEL_VERSION=v1"),
         [FOUND, ("warn", "redeploys the endpoint (make deploy)")]),
    case("redeploy-sdk", rollback("python -c \"model.deploy(initial_instance_count=1)\""),
         [FOUND, ("warn", "redeploys the endpoint (.deploy)")]),
    case("serverless-redeploy", {"serving.pattern": "serverless", **rollback(
        "aws sagemaker update-endpoint --endpoint-name scorer --endpoint-config-name scorer-v1")},
         [FOUND, ("pass", "the rollback redeploys (aws sagemaker update-endpoint): a serverless endpoint holds one "
                          "variant")]),
    case("serverless-weight-shift", {"serving.pattern": "serverless"},
         [FOUND, ("fail", "the rollback shifts weight between variants, but a serverless endpoint holds one "
                          "production variant")]),
    case("unknown-script", rollback("./scripts/rollback.sh scorer"),
         [FOUND, ("warn", "mlgate cannot tell whether the rollback command moves traffic to the previous variant")]),
    case("batch", {"serving.pattern": "batch", **rollback("./scripts/run-transform.sh --model model-v1")},
         [FOUND, ("pass", "serving.pattern is batch: a batch job has no endpoint variants")]),
    case("runbook-unset", {f"{OPS}.runbook": DROP},
         [("fail", "operations.runbook is not set: the on-call engineer has no page to follow")]),
    case("runbook-missing", {f"{OPS}.runbook": "docs/runbok.md"},
         [("fail", "runbook docs/runbok.md does not exist")]),
    case("runbook-directory", {f"{OPS}.runbook": "docs"}, [("fail", "runbook docs is a directory, not a file")]),
    case("runbook-binary", {f"{OPS}.runbook": "docs/runbook.pdf"},
         [("fail", "runbook docs/runbook.pdf is a binary file, not text: mlgate reads runbooks as text")],
         {"docs/runbook.pdf": b"%PDF-1.7\n\x00\x01binary"}),
    case("rollback-unset", {f"{OPS}.rollback": DROP},
         [("fail", "operations.rollback is not set: write down the command that rolls back")],
         {"docs/runbook.md": "# Runbook\n\nCall the on-call lead.\n"}),
    case("runbook-lacks-command", {}, [("fail", "runbook docs/runbook.md does not contain the rollback command in "
                                                "operations.rollback"), SHIFT_OK],
         {"docs/runbook.md": "# Runbook\n\nRoll back in the console.\n"}),
    case("runbook-has-other-command", {},
         [("fail", "runbook docs/runbook.md does not contain the rollback command in operations.rollback; line 4 has "
                   "a different command: aws sagemaker update-endpoint-weights-and-capacities --endpoint-name "
                   "scorer-old"), SHIFT_OK],
         {"docs/runbook.md": "# Runbook\n\n```\naws sagemaker update-endpoint-weights-and-capacities --endpoint-name "
                             "scorer-old\n```\n"}),
    case("runbook-command-is-only-a-prefix", {},
         [("fail", "does not contain the rollback command"), SHIFT_OK],
         {"docs/runbook.md": f"# Runbook\n\n    {ROLLBACK}.5 VariantName=model-v3,DesiredWeight=1\n"}),
    case("runbook-one-line-spec-continued",
         rollback(ROLLBACK.replace(" --desired", " \\\n  --desired")),
         [("pass", "runbook docs/runbook.md:3 contains the rollback command"), SHIFT_OK],
         {"docs/runbook.md": f"# Runbook\n\n`{ROLLBACK}`\n"}),
    case("runbook-crlf", {}, [FOUND, SHIFT_OK],
         {"docs/runbook.md": runbook_for(ROLLBACK).replace("\n", "\r\n")}),
    case("runbook-prompt-and-indent", {}, [("pass", "runbook docs/runbook.md:5 contains"), SHIFT_OK],
         {"docs/runbook.md": f"# Runbook\n\n1. Roll back:\n\n       $ {ROLLBACK.replace(' Variant', '   Variant')}\n"}),
]


@pytest.mark.parametrize(("patch", "files", "expected"), ROLLBACK_CASES)
def test_ops003_rollback(repo: Repo, patch: dict[str, Any], files: dict[str, str | bytes] | None,
                         expected: Expected) -> None:
    assert_findings(run_rule(repo, "OPS003", patch, files), expected)


def test_ops003_points_at_the_runbook_line(repo: Repo) -> None:
    result = run_rule(repo, "OPS003", {})
    located = [(f.location.path, f.location.line) for f in result.findings if f.location]
    assert ("docs/runbook.md", RUNBOOK_LINE) in located


def test_ops003_runbook_not_committed(repo: Repo) -> None:
    repo.write("README.md", "scorer\n")
    repo.commit()
    result = run_rule(repo, "OPS003", {}, commit=False)
    assert_findings(result, [("warn", "runbook docs/runbook.md is not committed: CI and the on-call engineer will not "
                                      "have it | fix: git add docs/runbook.md"), FOUND, SHIFT_OK])
