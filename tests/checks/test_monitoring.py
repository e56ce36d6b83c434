"""MON001-MON005: capture, data drift, prediction drift, operational alarms, ground truth; on real spec files.

Every case starts from a spec that passes all five rules and changes a few fields (dotted paths, list indexes as
numbers; DROP removes one), sometimes with extra files. `expected` lists every finding the rule must yield: its
status and a fragment of its message or fix.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from mlgate.errors import UsageError
from mlgate.result import RuleResult
from tests.conftest import Expected, Repo, assert_findings

DROP = object()
TRAIN_VERSION = "3HL4kqtJlcpXroDTDmJ"

BASE: dict[str, Any] = {
    "version": 1,
    "serving": {"pattern": "realtime", "endpoint": "scorer",
                "traffic": {"requests_per_day": 2_000_000, "latency_p99_ms": 150}},
    "provenance": {"data": [
        {"name": "transactions", "uri": "s3://acme-data/train.parquet", "version": TRAIN_VERSION},
        {"name": "merchants", "uri": "featurestore://merchants", "as_of": "2026-10-01T00:00:00Z"},
    ]},
    "monitoring": {
        "capture": {"enabled": True, "sampling_percent": 20, "inputs": True, "outputs": True,
                    "destination": "s3://acme-capture/scorer/"},
        "data_drift": {"baseline": "monitoring/statistics.json",
                       "made_from": {"dataset": "transactions", "version": TRAIN_VERSION},
                       "schedule": "hourly"},
        "prediction_drift": {"metric": "positive_rate", "expected": [0.002, 0.02], "schedule": "cron(0 * ? * * *)"},
        "operational": {"alarms": [
            {"name": "scorer-p99-latency", "watches": "latency", "metric": "ModelLatency", "statistic": "p99",
             "threshold_ms": 150},
            {"name": "scorer-5xx-rate", "watches": "errors", "metric": "Invocation5XXErrors", "threshold_rate": 0.01},
            {"name": "scorer-throttles", "watches": "throttles", "metric": "Invocation4XXErrors",
             "threshold_count": 50},
        ]},
        "ground_truth": {"label_delay": "30d", "metric": "auc", "minimum": 0.9},
    },
}

STATISTICS = json.dumps({
    "version": 0.0,
    "dataset": {"item_count": 50000},
    "features": [
        {"name": "amount", "inferred_type": "Fractional", "numerical_statistics": {"mean": 52.1}},
        {"name": "merchant_id", "inferred_type": "String", "string_statistics": {"distinct_count": 812}},
    ],
}, indent=2)



def spec_text(patch: dict[str, Any]) -> str:
    data = copy.deepcopy(BASE)
    for dotted, value in patch.items():
        *parents, last = [int(p) if p.isdigit() else p for p in dotted.split(".")]
        node: Any = data
        for key in parents:
            node = node[key] if isinstance(node, list) else node.setdefault(key, {})
        if value is DROP:
            if isinstance(node, list):
                del node[last]
            else:
                node.pop(last, None)
        elif isinstance(node, list) and last == len(node):
            node.append(value)
        else:
            node[last] = value
    return yaml.safe_dump(data, sort_keys=False)


def run_rule(repo: Repo, rule: str, patch: dict[str, Any], params: dict[str, Any] | None,
             files: dict[str, str] | None = None) -> RuleResult:
    repo.write("mlgate.yaml", spec_text(patch))
    repo.write("monitoring/statistics.json", STATISTICS)
    for rel, text in (files or {}).items():
        repo.write(rel, text)
    if params:
        lines = [f"[params.{rule}]"] + [f"{k} = {json.dumps(v)}" for k, v in params.items()]
        repo.write(".mlgate.toml", "\n".join(lines) + "\n")
    repo.commit()
    return repo.rule(rule)


def case(id_: str, patch: dict[str, Any], expected: Expected, params: dict[str, Any] | None = None,
         files: dict[str, str] | None = None) -> Any:
    return pytest.param(patch, params, files, expected, id=id_)


CAP = "monitoring.capture"
DRIFT = "monitoring.data_drift"
PRED = "monitoring.prediction_drift"
ALARMS = "monitoring.operational.alarms"
GT = "monitoring.ground_truth"

# MON001 ------------------------------------------------------------------------------------------------------------

CAPTURE_PASS = ("pass", "capture is enabled for inputs and outputs, 20 % of requests, to s3://acme-capture/scorer/")
CAPTURE_CASES = [
    case("pass", {}, [CAPTURE_PASS]),
    case("pattern-missing-is-realtime", {"serving.pattern": DROP}, [CAPTURE_PASS]),
    case("async", {"serving.pattern": "async"}, [CAPTURE_PASS]),
    case("serverless", {"serving.pattern": "serverless"},
         [("fail", "serving.pattern is serverless, and SageMaker serverless endpoints cannot capture data (data "
                   "capture and Model Monitor are among the features serverless excludes): nothing records what the "
                   "model saw and answered | fix: capture in the application: have the inference code")]),
    case("batch-needs-no-sampling", {"serving.pattern": "batch", f"{CAP}.sampling_percent": DROP},
         [("pass", "capture is enabled for inputs and outputs, every record (batch transform), to s3://")]),
    case("batch-sampling-zero", {"serving.pattern": "batch", f"{CAP}.sampling_percent": 0},
         [("fail", "capture sampling_percent is 0, outside (0, 100] | fix: leave sampling_percent out for batch")]),
    case("no-capture", {CAP: DROP}, [("fail", "no monitoring.capture: without the live inputs and outputs")]),
    case("no-monitoring", {"monitoring": DROP}, [("fail", "no monitoring.capture")]),
    case("enabled-unset", {f"{CAP}.enabled": DROP},
         [("fail", "monitoring.capture.enabled is not set (the SageMaker API defaults to enabled, Terraform to "
                   "disabled)")]),
    case("enabled-false", {f"{CAP}.enabled": False}, [("fail", "monitoring.capture.enabled is false")]),
    case("inputs-false", {f"{CAP}.inputs": False},
         [("fail", "monitoring.capture.inputs is false: the inputs the model received are not kept | fix: write "
                   "`inputs: true` (CaptureMode Input")]),
    case("neither-side", {f"{CAP}.inputs": DROP, f"{CAP}.outputs": False},
         [("fail", "monitoring.capture.inputs is not set"),
          ("fail", "monitoring.capture.outputs is false: the outputs the model returned are not kept")]),
    case("sampling-unset", {f"{CAP}.sampling_percent": DROP},
         [("fail", "monitoring.capture.sampling_percent is not set (InitialSamplingPercentage is required)")]),
    case("sampling-zero", {f"{CAP}.sampling_percent": 0},
         [("fail", "capture sampling_percent is 0, outside (0, 100]")]),
    case("sampling-over-100", {f"{CAP}.sampling_percent": 150}, [("fail", "sampling_percent is 150, outside")]),
    case("sampling-fractional", {f"{CAP}.sampling_percent": 2.5},
         [("fail", "capture sampling_percent is 2.5, but SageMaker's InitialSamplingPercentage is a whole number | "
                   "fix: write 2")]),
    case("sampling-below-team-minimum", {}, [("fail", "capture samples 20 % of requests, below the 30 % minimum")],
         {"min_sampling_percent": 30}),
    case("too-few-records-a-day", {"serving.traffic.requests_per_day": 2000},
         [("warn", "at 20 % of 2000 requests a day, capture keeps about 400 records a day, fewer than the 1000 "
                   "the drift and quality monitors need to say anything | fix: raise sampling_percent to 50"),
          ("pass", "capture is enabled")]),
    case("low-traffic-fully-sampled", {"serving.traffic.requests_per_day": 300, f"{CAP}.sampling_percent": 100},
         [("pass", "100 % of requests")]),
    case("destination-unset", {f"{CAP}.destination": DROP},
         [("fail", "monitoring.capture.destination is not set")]),
    case("destination-not-s3", {f"{CAP}.destination": "acme-capture/scorer/"},
         [("fail", "capture destination: 'acme-capture/scorer/' is not an s3:// URI")]),
    case("destination-no-bucket", {f"{CAP}.destination": "s3:///scorer/"}, [("fail", "names no bucket")]),
    case("bucket-uppercase", {f"{CAP}.destination": "s3://Acme-Capture/x/"},
         [("fail", "'Acme-Capture' in 's3://Acme-Capture/x/' is not a valid S3 bucket name (bucket names are "
                   "lowercase)")]),
    case("bucket-too-short", {f"{CAP}.destination": "s3://ab/x/"},
         [("fail", "(a bucket name is 3-63 lowercase letters, digits, dots and hyphens")]),
    case("bucket-underscore", {f"{CAP}.destination": "s3://acme_capture/x/"},
         [("fail", "'acme_capture' in 's3://acme_capture/x/' is not a valid S3 bucket name")]),
    case("bucket-adjacent-dots", {f"{CAP}.destination": "s3://acme..capture/x/"},
         [("fail", "(a bucket name has no two adjacent dots)")]),
    case("bucket-ip", {f"{CAP}.destination": "s3://192.168.1.10/x/"}, [("fail", "not an IP address")]),
    case("bucket-reserved", {f"{CAP}.destination": "s3://xn--capture/x/"},
         [("fail", "S3 reserves that prefix or suffix")]),
    case("destination-space", {f"{CAP}.destination": "s3://acme capture/x/"}, [("fail", "contains whitespace")]),
    case("destination-too-long", {f"{CAP}.destination": "s3://acme-capture/" + "k" * 500},
         [("fail", "the destination is 518 characters; DestinationS3Uri takes at most 512")]),
]


@pytest.mark.parametrize(("patch", "params", "files", "expected"), CAPTURE_CASES)
def test_mon001_capture(repo: Repo, patch: dict[str, Any], params: dict[str, Any] | None,
                        files: dict[str, str] | None, expected: Expected) -> None:
    assert_findings(run_rule(repo, "MON001", patch, params, files), expected)


# MON002 ------------------------------------------------------------------------------------------------------------

BASELINE_OK = ("pass", "drift baseline monitoring/statistics.json holds statistics for 2 features from 50000 records")
MADE_FROM_OK = ("pass", f"the drift baseline was made from training dataset 'transactions' at {TRAIN_VERSION}, "
                        "the version the model was trained on")
SCHEDULE_OK = ("pass", "data drift is checked on schedule hourly")
DVC = "outs:\n- md5: 5d41402abc4b2a76b9719d911017c592\n  size: 1024\n  path: chargebacks.csv\n"

DRIFT_CASES = [
    case("pass", {}, [BASELINE_OK, MADE_FROM_OK, SCHEDULE_OK]),
    case("no-section", {DRIFT: DROP}, [("fail", "no monitoring.data_drift: nobody will know")]),
    case("s3-baseline", {f"{DRIFT}.baseline": "s3://acme-monitoring/scorer/statistics.json"},
         [("pass", "drift baseline is s3://acme-monitoring/scorer/statistics.json (in S3, not read offline)"),
          MADE_FROM_OK, SCHEDULE_OK]),
    case("s3-baseline-prefix", {f"{DRIFT}.baseline": "s3://acme-monitoring/scorer/"},
         [("warn", "drift baseline 's3://acme-monitoring/scorer/' is a prefix, not a file: Model Monitor's "
                   "StatisticsResource names the statistics file itself | fix: write "
                   "s3://acme-monitoring/scorer/statistics.json"), MADE_FROM_OK, SCHEDULE_OK]),
    case("s3-baseline-bad-bucket", {f"{DRIFT}.baseline": "s3://Acme/statistics.json"},
         [("fail", "drift baseline: 'Acme' in 's3://Acme/statistics.json' is not a valid S3 bucket name"),
          MADE_FROM_OK]),
    case("baseline-other-scheme", {f"{DRIFT}.baseline": "https://example.com/statistics.json"},
         [("fail", "neither an s3:// URI nor a file in the repository"), MADE_FROM_OK]),
    case("baseline-unset", {f"{DRIFT}.baseline": DROP},
         [("fail", "monitoring.data_drift.baseline is not set"), MADE_FROM_OK]),
    case("baseline-missing-file", {f"{DRIFT}.baseline": "monitoring/stats.json"},
         [("fail", "drift baseline monitoring/stats.json does not exist"), MADE_FROM_OK]),
    case("baseline-directory", {f"{DRIFT}.baseline": "monitoring"},
         [("fail", "drift baseline monitoring is a directory, not a statistics file"), MADE_FROM_OK]),
    case("baseline-not-statistics", {f"{DRIFT}.baseline": "monitoring/config.yaml"},
         [("fail", "drift baseline monitoring/config.yaml has no `features` list: it is not baseline statistics"),
          MADE_FROM_OK], files={"monitoring/config.yaml": "schedule: hourly\n"}),
    case("baseline-no-features", {f"{DRIFT}.baseline": "monitoring/empty.json"},
         [("fail", "has an empty `features` list"), MADE_FROM_OK],
         files={"monitoring/empty.json": '{"features": []}'}),
    case("baseline-feature-without-name", {f"{DRIFT}.baseline": "monitoring/bad.json"},
         [("fail", "drift baseline monitoring/bad.json: feature 2 has no name"), MADE_FROM_OK],
         files={"monitoring/bad.json": '{"features": [{"name": "a"}, {"inferred_type": "String"}]}'}),
    case("baseline-yaml-statistics", {f"{DRIFT}.baseline": "monitoring/statistics.yaml"},
         [("pass", "drift baseline monitoring/statistics.yaml holds statistics for 1 feature"), MADE_FROM_OK,
          SCHEDULE_OK], files={"monitoring/statistics.yaml": "features:\n  - name: amount\n"}),
    case("baseline-unparsable", {f"{DRIFT}.baseline": "monitoring/broken.json"},
         [("error", "could not read the evidence: YAML syntax error")],
         files={"monitoring/broken.json": '{"features": [\n'}),
    case("made-from-unset", {f"{DRIFT}.made_from": DROP},
         [BASELINE_OK,
          ("fail", "monitoring.data_drift.made_from is not set: record which training data version the baseline "
                   f"was made from (training data: 'transactions' version {TRAIN_VERSION}, 'merchants' as_of "
                   f"2026-10-01T00:00:00Z) | fix: write `made_from: {{dataset: transactions, version: "
                   f"{TRAIN_VERSION}}}`")]),
    case("made-from-dataset-unset", {f"{DRIFT}.made_from.dataset": DROP},
         [BASELINE_OK, ("fail", "monitoring.data_drift.made_from.dataset is not set")]),
    case("made-from-unknown-dataset", {f"{DRIFT}.made_from.dataset": "transaction"},
         [BASELINE_OK,
          ("fail", "the baseline was made from dataset 'transaction', which is not in provenance.data (did you mean "
                   "'transactions'?)")]),
    case("made-from-dataset-far-off", {f"{DRIFT}.made_from.dataset": "clicks"},
         [BASELINE_OK, ("fail", "(known datasets: merchants, transactions)")]),
    case("made-from-version-unset", {f"{DRIFT}.made_from.version": DROP},
         [BASELINE_OK,
          ("fail", "monitoring.data_drift.made_from.version is not set: record the version of 'transactions' the "
                   f"baseline was made from (the model was trained on version {TRAIN_VERSION})")]),
    case("made-from-other-version", {f"{DRIFT}.made_from.version": "oldVersionId"},
         [BASELINE_OK,
          ("fail", "the drift baseline was made from 'transactions' version oldVersionId, but the model was trained "
                   f"on version {TRAIN_VERSION}: drift would be measured against data the model never saw")]),
    case("made-from-snapshot-same-instant",
         {f"{DRIFT}.made_from": {"dataset": "merchants", "version": "2026-10-01T00:00:00+00:00"}},
         [BASELINE_OK, ("pass", "made from training dataset 'merchants' at 2026-10-01T00:00:00+00:00, the as_of "
                                "the model"), SCHEDULE_OK]),
    case("made-from-snapshot-other-day",
         {f"{DRIFT}.made_from": {"dataset": "merchants", "version": "2026-09-01T00:00:00Z"}},
         [BASELINE_OK, ("fail", "trained on as_of 2026-10-01T00:00:00Z")]),
    case("made-from-uri-version-id",
         {"provenance.data.0": {"name": "transactions", "uri": "s3://acme-data/train.parquet?versionId=abc123"},
          f"{DRIFT}.made_from.version": "abc123"},
         [BASELINE_OK, ("pass", "made from training dataset 'transactions' at abc123, the uri versionId the model"),
          SCHEDULE_OK]),
    case("made-from-dvc-hash",
         {"provenance.data.0": {"name": "chargebacks", "uri": "data/chargebacks.csv",
                                "dvc": "data/chargebacks.csv.dvc"},
          f"{DRIFT}.made_from": {"dataset": "chargebacks", "version": "5D41402ABC4B2A76B9719D911017C592"}},
         [BASELINE_OK, ("pass", "made from training dataset 'chargebacks' at 5D41402ABC4B2A76B9719D911017C592, "
                                "the dvc md5 the model was trained on"), SCHEDULE_OK],
         files={"data/chargebacks.csv.dvc": DVC}),
    case("made-from-unpinned-dataset",
         {"provenance.data.0": {"name": "transactions", "uri": "s3://acme-data/train/"}},
         [BASELINE_OK, ("fail", "training dataset 'transactions' has no pinned version")]),
    case("no-training-data", {"provenance": DROP},
         [BASELINE_OK, ("fail", "provenance.data names no training dataset")]),
    case("schedule-unset", {f"{DRIFT}.schedule": DROP},
         [BASELINE_OK, MADE_FROM_OK,
          ("fail", "monitoring.data_drift.schedule is not set: the data drift monitor never runs")]),
    case("schedule-rate-plural", {f"{DRIFT}.schedule": "rate(1 days)"},
         [BASELINE_OK, MADE_FROM_OK,
          ("fail", "the data drift monitor schedule 'rate(1 days)': EventBridge wants the singular unit for 1")]),
    case("schedule-cron-both-days", {f"{DRIFT}.schedule": "cron(0 3 * * MON *)"},
         [BASELINE_OK, MADE_FROM_OK,
          ("fail", "schedule 'cron(0 3 * * MON *)' is not a valid EventBridge cron expression")]),
    case("schedule-free-text", {f"{DRIFT}.schedule": "every night"},
         [BASELINE_OK, MADE_FROM_OK, ("fail", "'every night' is not a schedule")]),
]


@pytest.mark.parametrize(("patch", "params", "files", "expected"), DRIFT_CASES)
def test_mon002_data_drift(repo: Repo, patch: dict[str, Any], params: dict[str, Any] | None,
                           files: dict[str, str] | None, expected: Expected) -> None:
    assert_findings(run_rule(repo, "MON002", patch, params, files), expected)


def test_mon002_points_into_the_baseline_file(repo: Repo) -> None:
    bad = '{\n  "dataset": {"item_count": 3},\n  "features": [\n    {"name": "a"},\n    {"type": "x"}\n  ]\n}\n'
    result = run_rule(repo, "MON002", {f"{DRIFT}.baseline": "monitoring/bad.json"}, None,
                      {"monitoring/bad.json": bad})
    (problem,) = result.problems
    assert problem.location is not None
    assert (problem.location.path, problem.location.line) == ("monitoring/bad.json", 5)


# MON003 ------------------------------------------------------------------------------------------------------------

PRED_OK = ("pass", "prediction drift: positive_rate is expected in [0.002, 0.02], checked on schedule "
                   "cron(0 * ? * * *)")
PRED_CASES = [
    case("pass", {}, [PRED_OK]),
    case("no-section", {PRED: DROP}, [("fail", "no monitoring.prediction_drift")]),
    case("metric-unset", {f"{PRED}.metric": DROP}, [("fail", "monitoring.prediction_drift.metric is not set")]),
    case("metric-blank", {f"{PRED}.metric": "  "}, [("fail", "monitoring.prediction_drift.metric is not set")]),
    case("band-unset", {f"{PRED}.expected": DROP},
         [("fail", "monitoring.prediction_drift.expected is not set: without an expected band no value is ever "
                   "wrong")]),
    case("band-three-values", {f"{PRED}.expected": [0.1, 0.2, 0.3]},
         [("fail", "prediction_drift.expected has 3 values, not [low, high]")]),
    case("band-one-value", {f"{PRED}.expected": [0.1]},
         [("fail", "prediction_drift.expected has 1 value, not [low, high]")]),
    case("band-reversed", {f"{PRED}.expected": [0.02, 0.002]},
         [("fail", "prediction_drift.expected [0.02, 0.002]: the low bound is not below the high bound | fix: write "
                   "`expected: [0.002, 0.02]`")]),
    case("band-empty", {f"{PRED}.expected": [0.02, 0.02]},
         [("fail", "the low bound is not below the high bound | fix: widen the band")]),
    case("band-infinite", {f"{PRED}.expected": [0.0, float("inf")]}, [("fail", "is not a finite band")]),
    case("fraction-band-in-percent", {f"{PRED}.expected": [0.2, 20]},
         [("warn", "'positive_rate' reads as a fraction of the predictions, but the expected band [0.2, 20] reaches "
                   "outside [0, 1]"), ("pass", "positive_rate is expected in [0.2, 20]")]),
    case("unbounded-metric", {f"{PRED}.metric": "mean_amount", f"{PRED}.expected": [10, 250]},
         [("pass", "mean_amount is expected in [10, 250]")]),
    case("schedule-unset", {f"{PRED}.schedule": DROP},
         [("fail", "monitoring.prediction_drift.schedule is not set: the prediction drift monitor never runs")]),
    case("schedule-invalid", {f"{PRED}.schedule": "rate(0 hours)"},
         [("fail", "the prediction drift monitor schedule 'rate(0 hours)'")]),
]


@pytest.mark.parametrize(("patch", "params", "files", "expected"), PRED_CASES)
def test_mon003_prediction_drift(repo: Repo, patch: dict[str, Any], params: dict[str, Any] | None,
                                 files: dict[str, str] | None, expected: Expected) -> None:
    assert_findings(run_rule(repo, "MON003", patch, params, files), expected)


# MON004 ------------------------------------------------------------------------------------------------------------

# Each metric is named for what AWS documents it to count (the facts table's `metrics`).
MODEL_LATENCY = "ModelLatency (the time the model container took to answer, as SageMaker sees it)"
LAT_OK = ("pass", f"latency alarmed: 'scorer-p99-latency' on {MODEL_LATENCY} p99 above 150 ms (declared p99 150 ms, "
                  "limit 225 ms)")
ERR_OK = ("pass", "errors alarmed: 'scorer-5xx-rate' on Invocation5XXErrors (requests that got a 5xx response) above "
                  "a rate of 0.01")
THR_OK = ("pass", "throttles alarmed: 'scorer-throttles' on Invocation4XXErrors (requests that got a 4xx response) "
                  "above 50 per period")
ALL_OK = [LAT_OK, ERR_OK, THR_OK]
LAT, ERR, THR = f"{ALARMS}.0", f"{ALARMS}.1", f"{ALARMS}.2"

OPERATIONAL_CASES = [
    case("pass", {}, ALL_OK),
    case("batch", {"serving.pattern": "batch"},
         [("n/a", "serving.pattern is batch: a batch transform has no live invocations")]),
    case("async", {"serving.pattern": "async"}, ALL_OK),
    case("serverless-concurrency-throttles",
         {"serving.pattern": "serverless", f"{THR}.metric": "ServerlessConcurrentExecutionsUtilization",
          f"{THR}.threshold_rate": 0.9, f"{THR}.threshold_count": DROP},
         [("fail", "on a serverless endpoint the latency callers see includes cold starts, which ModelLatency does "
                   "not count; OverheadLatency does (source: OverheadLatency: time added by SageMaker overheads; on "
                   "serverless endpoints it tracks the cold start time")]),
    case("serverless-overhead-latency-watched",
         {"serving.pattern": "serverless", f"{THR}.metric": "ServerlessConcurrentExecutionsUtilization",
          f"{THR}.threshold_rate": 0.9, f"{THR}.threshold_count": DROP,
          f"{ALARMS}.3": {"name": "scorer-p99-overhead", "watches": "latency", "metric": "OverheadLatency",
                          "statistic": "p99", "threshold_ms": 150}},
         [("pass", "'scorer-p99-latency' on ModelLatency"), ERR_OK,
          ("pass", "'scorer-throttles' on ServerlessConcurrentExecutionsUtilization (concurrent executions divided by "
                   "the maximum concurrency (at 1, further requests are throttled)) above a rate of 0.9")]),
    case("no-alarms", {"monitoring.operational": DROP},
         [("fail", "monitoring.operational.alarms is empty: nobody is paged")]),
    case("no-latency-alarm", {LAT: DROP},
         [("fail", "no alarm watches latency | fix: add an alarm with `watches: latency` on ModelLatency")]),
    case("no-throttle-alarm", {THR: DROP}, [("fail", "no alarm watches throttles")]),
    case("latency-alarm-unlabelled", {f"{LAT}.watches": DROP},
         [("warn", "alarm 'scorer-p99-latency' does not say what it watches"),
          ("fail", "no alarm watches latency; alarm 'scorer-p99-latency' looks like one: add `watches: latency`")]),
    case("average-hides-tail", {f"{LAT}.statistic": "Average"},
         [("fail", "latency alarm 'scorer-p99-latency' uses the Average statistic, which hides the tail")]),
    case("median-hides-tail", {f"{LAT}.statistic": "p50"}, [("fail", "uses the p50 statistic, which hides the tail")]),
    case("p95-hides-tail", {f"{LAT}.statistic": "p95"}, [("fail", "uses the p95 statistic")]),
    case("trimmed-mean-hides-tail", {f"{LAT}.statistic": "tm99"}, [("fail", "uses the tm99 statistic")]),
    case("p99.9-is-stricter", {f"{LAT}.statistic": "p99.9"},
         [("pass", f"'scorer-p99-latency' on {MODEL_LATENCY} p99.9 above 150 ms"), ERR_OK, THR_OK]),
    case("maximum-is-stricter", {f"{LAT}.statistic": "Maximum"}, [("pass", "SageMaker sees it) Maximum above"),
                                                                  ERR_OK, THR_OK]),
    case("not-a-percentile", {f"{LAT}.statistic": "p150"}, [("fail", "p150 is not a percentile")]),
    case("statistic-unset", {f"{LAT}.statistic": DROP},
         [("fail", "latency alarm 'scorer-p99-latency' has no statistic | fix: write `statistic: p99`")]),
    case("threshold-too-loose", {f"{LAT}.threshold_ms": 500},
         [("fail", "latency alarm 'scorer-p99-latency' fires at 500 ms, looser than 1.5 times the declared p99 of "
                   "150 ms (225 ms): callers would wait that long before anyone is paged | fix: lower threshold_ms to "
                   "at most 225")]),
    case("threshold-within-factor", {f"{LAT}.threshold_ms": 225}, [("pass", "p99 above 225 ms"), ERR_OK, THR_OK]),
    case("threshold-within-team-factor", {f"{LAT}.threshold_ms": 500},
         [("pass", "p99 above 500 ms (declared p99 150 ms, limit 600 ms)"), ERR_OK, THR_OK],
         {"latency_threshold_factor": 4}),
    case("threshold-unset", {f"{LAT}.threshold_ms": DROP},
         [("fail", "has no threshold_ms | fix: write `threshold_ms: 150` (the declared p99)")]),
    case("threshold-zero", {f"{LAT}.threshold_ms": 0}, [("fail", "fires at 0 ms: a threshold must be above 0")]),
    case("p99-undeclared", {"serving.traffic.latency_p99_ms": DROP},
         [("warn", "fires at 150 ms, but serving.traffic.latency_p99_ms is not declared"),
          ("pass", f"'scorer-p99-latency' on {MODEL_LATENCY} p99 above 150 ms"), ERR_OK, THR_OK]),
    case("unknown-metric", {f"{LAT}.metric": "Latency"},
         [("warn", "alarm 'scorer-p99-latency': 'Latency' is not a metric a SageMaker endpoint publishes (did you mean "
                   "'ModelLatency'?)"), ("pass", "on Latency p99"), ERR_OK, THR_OK]),
    case("metric-wrong-case", {f"{LAT}.metric": "modellatency"},
         [("warn", "(did you mean 'ModelLatency'?); CloudWatch metric names are case-sensitive"),
          ("pass", "on modellatency"), ERR_OK, THR_OK]),
    case("metric-unset", {f"{ERR}.metric": DROP},
         [("fail", "alarm 'scorer-5xx-rate' names no metric | fix: write the CloudWatch metric it alarms on, e.g. "
                   "`metric: Invocation5XXErrors`")]),
    case("metric-measures-something-else", {f"{LAT}.metric": "Invocation5XXErrors"},
         [("fail", "alarm 'scorer-p99-latency' says it watches latency, but Invocation5XXErrors (requests that got "
                   "a 5xx response) does not measure latency | fix: alarm on a latency metric, e.g. ModelLatency, "
                   "OverheadLatency")]),
    case("serverless-metric-on-realtime", {f"{LAT}.metric": "ModelSetupTime"},
         [("warn", "ModelSetupTime is published for serverless endpoints only, and this endpoint is realtime"),
          ("pass", "on ModelSetupTime"), ERR_OK, THR_OK]),
    case("async-metric-on-realtime", {f"{THR}.metric": "ApproximateBacklogSize"},
         [("warn", "ApproximateBacklogSize is published for asynchronous endpoints only"), LAT_OK, ERR_OK,
          ("pass", "on ApproximateBacklogSize")]),
    case("metric-async-does-not-publish", {"serving.pattern": "async", f"{LAT}.metric": "OverheadLatency"},
         [("warn", "asynchronous endpoints do not publish OverheadLatency"), ("pass", "on OverheadLatency"), ERR_OK,
          THR_OK]),
    case("error-threshold-unset", {f"{ERR}.threshold_rate": DROP},
         [("fail", "errors alarm 'scorer-5xx-rate' has no threshold_rate or threshold_count")]),
    case("throttle-threshold-unset", {f"{THR}.threshold_count": DROP},
         [("fail", "throttles alarm 'scorer-throttles' has no threshold_rate or threshold_count")]),
    case("error-rate-as-percent", {f"{ERR}.threshold_rate": 5},
         [("fail", "has threshold_rate 5, outside [0, 1): it can never fire (a rate is a fraction: 5 % is 0.05)")]),
    case("error-rate-negative", {f"{ERR}.threshold_rate": -0.1}, [("fail", "outside [0, 1): it is not a rate")]),
    case("throttle-count-negative", {f"{THR}.threshold_count": -1},
         [("fail", "throttles alarm 'scorer-throttles' has threshold_count -1, below 0")]),
    case("errors-only-4xx", {f"{ERR}.metric": "Invocation4XXErrors"},
         [("warn", "the only error alarm is on Invocation4XXErrors (requests that got a 4xx response): the "
                   "caller's side of a request"), LAT_OK,
          ("pass", "'scorer-5xx-rate' on Invocation4XXErrors"), THR_OK]),
    case("duplicate-names", {f"{THR}.name": "scorer-p99-latency"},
         [("fail", "alarm name 'scorer-p99-latency' is used by alarms #1 and #3: CloudWatch alarm names are "
                   "unique")]),
    case("unnamed-alarm", {f"{ERR}.name": DROP}, [("fail", "alarm #2 has no name")]),
    case("other-alarm-is-fine", {f"{ALARMS}.3": {"name": "scorer-cpu", "watches": "other",
                                                 "metric": "CPUUtilization"}}, ALL_OK),
    case("other-alarm-on-a-custom-metric", {f"{ALARMS}.3": {"name": "scorer-null-features", "watches": "other",
                                                           "metric": "feature_null_rate"}}, ALL_OK),
]


@pytest.mark.parametrize(("patch", "params", "files", "expected"), OPERATIONAL_CASES)
def test_mon004_operational(repo: Repo, patch: dict[str, Any], params: dict[str, Any] | None,
                            files: dict[str, str] | None, expected: Expected) -> None:
    assert_findings(run_rule(repo, "MON004", patch, params, files), expected)


@pytest.mark.parametrize(("rule", "params", "message"), [
    ("MON001", {"min_sampling_percent": 0},
     "params.MON001.min_sampling_percent: expected greater than 0, found 0"),
    ("MON001", {"min_sampling_percent": 101},
     "params.MON001.min_sampling_percent: expected less than or equal to 100, found 101"),
    ("MON001", {"min_captured_per_day": -1},
     "params.MON001.min_captured_per_day: expected greater than or equal to 0, found -1"),
    ("MON004", {"latency_threshold_factor": 0.5},
     "params.MON004.latency_threshold_factor: expected greater than or equal to 1, found 0.5"),
])
def test_out_of_range_parameter_is_refused(repo: Repo, rule: str, params: dict[str, Any], message: str) -> None:
    """A parameter outside its bounds is a usage error naming the config file, before the rule runs."""
    with pytest.raises(UsageError) as refused:
        run_rule(repo, rule, {}, params)
    assert str(refused.value).startswith(f".mlgate.toml: {message}")


# MON005 ------------------------------------------------------------------------------------------------------------

GT_CASES = [
    case("pass", {}, [("pass", "ground truth: auc is tracked with labels arriving after 30d, minimum 0.9")]),
    case("no-section", {GT: DROP}, [("fail", "no monitoring.ground_truth: drift says the inputs changed")]),
    case("metric-unset", {f"{GT}.metric": DROP}, [("fail", "monitoring.ground_truth.metric is not set")]),
    case("delay-unset", {f"{GT}.label_delay": DROP},
         [("fail", "monitoring.ground_truth.label_delay is not set: say how long labels take to arrive, so "
                   "everyone knows how late a quality drop shows | fix: write a duration such as 30m")]),
    case("delay-unparsable", {f"{GT}.label_delay": "a month"},
         [("fail", "ground truth label_delay 'a month' is not a duration mlgate understands")]),
    case("delay-bare-number", {f"{GT}.label_delay": 30}, [("fail", "label_delay '30' is not a duration")]),
    case("minimum-unset", {f"{GT}.minimum": DROP},
         [("fail", "monitoring.ground_truth.minimum is not set: without a bound no quality is too low")]),
    case("minimum-in-percent", {f"{GT}.minimum": 90},
         [("fail", "auc lies in [0, 1], so a minimum of 90 is impossible; for 90 %, write 0.9")]),
    case("minimum-negative", {f"{GT}.metric": "accuracy", f"{GT}.minimum": -0.1},
         [("fail", "accuracy lies in [0, 1], so a minimum of -0.1 is impossible")]),
    case("minimum-never-fires", {f"{GT}.minimum": 0}, [("fail", "a minimum of 0 for auc never fires")]),
    case("metric-spelled-differently", {f"{GT}.metric": "ROC-AUC", f"{GT}.minimum": 1.5},
         [("fail", "ROC-AUC lies in [0, 1], so a minimum of 1.5 is impossible | fix")]),
    case("higher-metric-with-maximum", {f"{GT}.minimum": DROP, f"{GT}.maximum": 0.5},
         [("fail", "auc gets worse as it falls, so a maximum of 0.5 never catches a worse model | fix: write "
                   "`minimum: <value>`")]),
    case("error-metric-with-minimum", {f"{GT}.metric": "rmse", f"{GT}.minimum": 12.5},
         [("fail", "rmse gets worse as it rises, so a minimum of 12.5 never catches a worse model | fix: write "
                   "`maximum: <value>`")]),
    case("error-metric-with-maximum", {f"{GT}.metric": "rmse", f"{GT}.minimum": DROP, f"{GT}.maximum": 12.5},
         [("pass", "rmse is tracked with labels arriving after 30d, maximum 12.5")]),
    case("error-metric-maximum-negative", {f"{GT}.metric": "log_loss", f"{GT}.minimum": DROP, f"{GT}.maximum": -1},
         [("fail", "log_loss lies in [0, inf], so a maximum of -1 is impossible")]),
    case("error-rate-never-fires", {f"{GT}.metric": "false_positive_rate", f"{GT}.minimum": DROP,
                                    f"{GT}.maximum": 1}, [("fail", "a maximum of 1 for false_positive_rate never")]),
    case("r2-above-one", {f"{GT}.metric": "r2", f"{GT}.minimum": 2},
         [("fail", "r2 lies in [-inf, 1], so a minimum of 2 is impossible | fix")]),
    case("unknown-metric-minimum", {f"{GT}.metric": "revenue_lift", f"{GT}.minimum": 0.1},
         [("pass", "revenue_lift is tracked with labels arriving after 30d, minimum 0.1")]),
    case("unknown-metric-maximum", {f"{GT}.metric": "churn_cost", f"{GT}.minimum": DROP, f"{GT}.maximum": 1000},
         [("pass", "churn_cost is tracked with labels arriving after 30d, maximum 1000")]),
    case("minimum-nan", {f"{GT}.minimum": float("nan")}, [("fail", "ground truth minimum is nan, not a finite")]),
]


@pytest.mark.parametrize(("patch", "params", "files", "expected"), GT_CASES)
def test_mon005_ground_truth(repo: Repo, patch: dict[str, Any], params: dict[str, Any] | None,
                             files: dict[str, str] | None, expected: Expected) -> None:
    assert_findings(run_rule(repo, "MON005", patch, params, files), expected)
