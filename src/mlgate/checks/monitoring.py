"""Monitoring rules (MON001-MON005): capture, data drift, prediction drift, operational alarms, ground truth.

The rules adapt to `serving.pattern` (a spec without one is judged as realtime): serverless endpoints cannot
capture data, a batch transform has no live invocations to alarm on, and asynchronous endpoints publish a
different set of CloudWatch metrics.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

from mlgate.checks import CheckContext
from mlgate.deployment.alarms import DeployedAlarm, deployed_alarms
from mlgate.errors import EvidenceError
from mlgate.facts import load_facts
from mlgate.result import Finding, Location
from mlgate.schedules import SCHEDULE_HELP, schedule_problem
from mlgate.spec.load import is_local
from mlgate.spec.models import Alarm, Dataset
from mlgate.spelling import did_you_mean
from mlgate.units import DURATION_HELP, parse_duration
from mlgate.yamlload import PathT

# -- shared helpers --------------------------------------------------------------------------------------------------


def _num(value: float) -> str:
    return f"{value:g}"


def _number_param(ctx: CheckContext, name: str) -> float | None:
    value = ctx.params.get(name)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _bad_param(ctx: CheckContext, name: str, expected: str) -> Finding:
    return ctx.error(f"rule parameter {name} is {ctx.params.get(name)!r}, not {expected}; fix it in the "
                     f"[tool.mlgate] params for {ctx.rule.id}")


# S3 bucket naming rules (general purpose buckets), as the S3 user guide states them: 3-63 characters of lowercase
# letters, digits, dots and hyphens, starting and ending with a letter or digit, no two adjacent dots, not an IP
# address, and none of the prefixes and suffixes S3 reserves.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# DataCaptureConfig.DestinationS3Uri is at most 512 characters (facts §3.1).
MAX_CAPTURE_URI = 512


def s3_problem(uri: str) -> str | None:
    """Why `uri` is not a well-formed s3://bucket/key URI, or None when it is."""
    if not uri.startswith("s3://"):
        return f"'{uri}' is not an s3:// URI"
    if any(c.isspace() for c in uri):
        return f"'{uri}' contains whitespace"
    bucket = uri[5:].split("/", 1)[0]
    if not bucket:
        return f"'{uri}' names no bucket"
    why = None
    if bucket != bucket.lower():
        why = "bucket names are lowercase"
    elif not _BUCKET.fullmatch(bucket):
        why = "a bucket name is 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a " \
              "letter or digit"
    elif ".." in bucket:
        why = "a bucket name has no two adjacent dots"
    elif _IP.fullmatch(bucket):
        why = "a bucket name is not an IP address"
    elif bucket.startswith(_RESERVED_PREFIXES) or bucket.endswith(_RESERVED_SUFFIXES):
        why = "S3 reserves that prefix or suffix"
    if why:
        return f"'{bucket}' in '{uri}' is not a valid S3 bucket name ({why})"
    return None


def _schedule(ctx: CheckContext, expression: str | None, at: PathT, what: str) -> Iterator[Finding]:
    if expression is None or not str(expression).strip():
        yield ctx.fail(f"{'.'.join(map(str, at))} is not set: {what} never runs without a schedule", at=at,
                       fix=f"write a schedule such as {SCHEDULE_HELP}")
        return
    problem = schedule_problem(str(expression))
    if problem:
        yield ctx.fail(f"{what} schedule {problem}", at=at, fix=f"write a schedule such as {SCHEDULE_HELP}")


# -- MON001 ----------------------------------------------------------------------------------------------------------

_CAPTURE = ("monitoring", "capture")


def _application_capture(ctx: CheckContext) -> Iterator[Finding]:
    """monitoring.capture.method: application: the inference code writes what it received and answered."""
    from mlgate.evidence.app_capture import capture_calls

    at = (*_CAPTURE, "method")
    paths = ctx.spec.serving.code_paths if ctx.spec.serving else []
    if not paths:
        yield ctx.fail("monitoring.capture.method is application, but serving.code_paths names no inference code, "
                       "so nothing shows the application writing requests and responses", at=at,
                       fix="list the inference code in serving.code_paths")
        return
    files = [f for written in paths if (target := ctx.resolve(written)).exists()
             for f in ctx.workspace.python_files(target)]
    calls = capture_calls(ctx.workspace, files)
    if not calls:
        yield ctx.fail(f"monitoring.capture.method is application, but none of the {len(files)} Python files under "
                       "serving.code_paths writes a record (S3 put_object/upload_fileobj, Firehose or Kinesis "
                       "put_record, CloudWatch Logs put_log_events): nothing shows that requests and responses are "
                       "kept", at=at,
                       fix="write each request and its response (with an inference id) from the handler to S3 or "
                           "Firehose, or point serving.code_paths at the code that does")
        return
    shown = ", ".join(f"{c.call} at {c.path}:{c.line}" for c in calls[:3]) + (", ..." if len(calls) > 3 else "")
    yield ctx.ok(f"the application captures what the model receives and answers: {shown} (monitoring.capture.method "
                 "application; endpoint data capture is not used)", at=ctx.file(calls[0].path, calls[0].line))


def capture(ctx: CheckContext) -> Iterator[Finding]:
    """Inputs and outputs are captured at a useful sampling rate to a well-formed S3 destination."""
    min_pct = _number_param(ctx, "min_sampling_percent")
    if min_pct is None or not 0 < min_pct <= 100:
        yield _bad_param(ctx, "min_sampling_percent", "a percentage in (0, 100]")
        return
    min_per_day = _number_param(ctx, "min_captured_per_day")
    if min_per_day is None or min_per_day < 0:
        yield _bad_param(ctx, "min_captured_per_day", "a number of records, 0 or more")
        return
    kind = ctx.pattern
    cap = ctx.spec.monitoring.capture if ctx.spec.monitoring else None
    if cap is not None and cap.method == "application":
        yield from _application_capture(ctx)
        return
    if kind == "serverless":
        # Facts §1.2: serverless endpoints exclude data capture and Model Monitor.
        yield ctx.fail("serving.pattern is serverless, and SageMaker serverless endpoints cannot capture data "
                       "(data capture and Model Monitor are among the features serverless excludes): nothing "
                       "records what the model saw and answered", at=("serving", "pattern"),
                       fix="capture in the application: have the inference code (serving.code_paths) write each "
                           "request and response to S3, Firehose or a log, and set monitoring.capture.method: "
                           "application; or serve from a realtime endpoint with endpoint data capture")
        return
    if cap is None:
        yield ctx.fail("no monitoring.capture: without the live inputs and outputs there is nothing to check for "
                       "drift, to join with ground truth, or to replay when something goes wrong", at=_CAPTURE,
                       fix="add monitoring.capture with enabled: true, inputs: true, outputs: true, "
                           "sampling_percent and an s3:// destination")
        return

    problems = 0
    if cap.enabled is not True:
        problems += 1
        found = "is not set (the SageMaker API defaults to enabled, Terraform to disabled)" \
            if cap.enabled is None else "is false"
        yield ctx.fail(f"monitoring.capture.enabled {found}: capture must be switched on explicitly",
                       at=(*_CAPTURE, "enabled"), fix="write `enabled: true` (EnableCapture in DataCaptureConfig)")
    for side, mode in (("inputs", "Input"), ("outputs", "Output")):
        value = getattr(cap, side)
        if value is not True:
            problems += 1
            found = "is not set" if value is None else "is false"
            yield ctx.fail(f"monitoring.capture.{side} {found}: the {side} the model "
                           f"{'received' if side == 'inputs' else 'returned'} are not kept",
                           at=(*_CAPTURE, side),
                           fix=f"write `{side}: true` (CaptureMode {mode} in DataCaptureConfig.CaptureOptions)")

    pct = cap.sampling_percent
    pct_at = (*_CAPTURE, "sampling_percent")
    if kind == "batch":
        if pct is not None and not 0 < pct <= 100:
            problems += 1
            yield ctx.fail(f"capture sampling_percent is {_num(pct)}, outside (0, 100]", at=pct_at,
                           fix="leave sampling_percent out for batch: batch transform capture keeps every record")
    elif pct is None:
        problems += 1
        yield ctx.fail("monitoring.capture.sampling_percent is not set (InitialSamplingPercentage is required)",
                       at=pct_at, fix=f"write a whole-number sampling_percent of at least {_num(min_pct)}, e.g. "
                                  f"{_num(max(20.0, math.ceil(min_pct)))}")
    elif not 0 < pct <= 100:
        problems += 1
        yield ctx.fail(f"capture sampling_percent is {_num(pct)}, outside (0, 100]", at=pct_at,
                       fix=f"write a percentage between {_num(min_pct)} and 100")
    elif pct != int(pct):
        problems += 1
        # Facts §3.1: InitialSamplingPercentage is an integer 0-100.
        yield ctx.fail(f"capture sampling_percent is {_num(pct)}, but SageMaker's InitialSamplingPercentage is a "
                       "whole number", at=pct_at, fix=f"write {max(1, round(pct))}")
    elif pct < min_pct:
        problems += 1
        yield ctx.fail(f"capture samples {_num(pct)} % of requests, below the {_num(min_pct)} % minimum", at=pct_at,
                       fix=f"raise sampling_percent to at least {_num(min_pct)}")
    else:
        traffic = ctx.spec.serving.traffic if ctx.spec.serving else None
        per_day = traffic.requests_per_day if traffic else None
        if per_day and pct < 100 and per_day * pct / 100 < min_per_day:
            needed = min(100, math.ceil(min_per_day * 100 / per_day))
            yield ctx.warn(f"at {_num(pct)} % of {_num(per_day)} requests a day, capture keeps about "
                           f"{_num(round(per_day * pct / 100))} records a day, fewer than the {_num(min_per_day)} "
                           "the drift and quality monitors need to say anything", at=pct_at,
                           fix=f"raise sampling_percent to {needed}")

    dest = cap.destination
    dest_at = (*_CAPTURE, "destination")
    if not dest or not dest.strip():
        problems += 1
        yield ctx.fail("monitoring.capture.destination is not set: captured records need an S3 location",
                       at=dest_at, fix="write `destination: s3://<bucket>/<prefix>/`")
    else:
        problem = s3_problem(dest)
        if problem is None and len(dest) > MAX_CAPTURE_URI:
            problem = f"the destination is {len(dest)} characters; DestinationS3Uri takes at most {MAX_CAPTURE_URI}"
        if problem:
            problems += 1
            yield ctx.fail(f"capture destination: {problem}", at=dest_at,
                           fix="write `destination: s3://<bucket>/<prefix>/` with a valid bucket name")

    if not problems:
        rate = "every record (batch transform)" if kind == "batch" else f"{_num(pct or 0)} % of requests"
        yield ctx.ok(f"capture is enabled for inputs and outputs, {rate}, to {dest}", at=_CAPTURE)


# -- MON002 ----------------------------------------------------------------------------------------------------------

_DRIFT = ("monitoring", "data_drift")
_PIN_FIELDS = ("version", "as_of", "snapshot_id", "sha256")


def _dataset_pins(ctx: CheckContext, ds: Dataset) -> list[tuple[str, str]]:
    """(field, value) of every immutable version the spec gives for a training dataset."""
    pins = [(name, str(value)) for name in _PIN_FIELDS if (value := getattr(ds, name))]
    if ds.uri:
        for value in parse_qs(urlsplit(ds.uri).query).get("versionId", []):
            pins.append(("uri versionId", value))
    if ds.dvc:
        try:
            doc = ctx.workspace.read_yaml(ctx.resolve(ds.dvc))
        except EvidenceError:
            doc = None  # REP001 reports an unreadable .dvc file; here it only adds a pin when it can be read
        outs = doc.data.get("outs") if doc is not None and isinstance(doc.data, dict) else None
        for out in outs if isinstance(outs, list) else []:
            if isinstance(out, dict) and isinstance(out.get("md5"), str):
                pins.append(("dvc md5", out["md5"]))
    return pins


def _same_version(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    if a == b:
        return True
    if re.fullmatch(r"[0-9a-fA-F]{7,}", a) and a.lower() == b.lower():
        return True
    try:  # the same instant written two ways (2026-10-01T00:00:00Z and 2026-10-01T00:00:00+00:00)
        ta, tb = dt.datetime.fromisoformat(a), dt.datetime.fromisoformat(b)
    except ValueError:
        return False
    if (ta.tzinfo is None) != (tb.tzinfo is None):
        return False
    return ta == tb


def _baseline(ctx: CheckContext, baseline: str | None) -> Iterator[Finding]:
    at = (*_DRIFT, "baseline")
    fix = "point baseline at the statistics file the baselining job made from the training data (Model " \
          "Monitor's statistics.json): an s3:// URI, or a file committed in the repo"
    if baseline is None or not baseline.strip():
        yield ctx.fail("monitoring.data_drift.baseline is not set: drift is measured against a baseline made "
                       "from the training data", at=at, fix=fix)
        return
    if baseline.startswith("s3://"):
        problem = s3_problem(baseline)
        if problem:
            yield ctx.fail(f"drift baseline: {problem}", at=at, fix=fix)
            return
        key = baseline[5:].partition("/")[2]
        if not key or key.endswith("/"):
            yield ctx.warn(f"drift baseline '{baseline}' is a prefix, not a file: Model Monitor's "
                           "StatisticsResource names the statistics file itself", at=at,
                           fix=f"write {baseline.rstrip('/')}/statistics.json (or the file's real name)")
            return
        yield ctx.ok(f"drift baseline is {baseline} (in S3, not read offline)", at=at)
        return
    if not is_local(baseline):
        yield ctx.fail(f"drift baseline '{baseline}' is neither an s3:// URI nor a file in the repository",
                       at=at, fix=fix)
        return
    path = ctx.resolve(baseline)
    rel = ctx.workspace.rel(path)
    if not path.exists():
        yield ctx.fail(f"drift baseline {rel} does not exist", at=at, fix=fix)
        return
    if path.is_dir():
        yield ctx.fail(f"drift baseline {rel} is a directory, not a statistics file", at=at, fix=fix)
        return
    doc = ctx.workspace.read_yaml(path)
    data = doc.data
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list) or not features:
        found = "an empty `features` list" if isinstance(features, list) else "no `features` list"
        yield ctx.fail(f"drift baseline {rel} has {found}: it is not baseline statistics (Model Monitor's "
                       "statistics.json lists one entry per feature)", at=ctx.file(rel, doc.pos(("features",)).line),
                       fix=fix)
        return
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or not isinstance(feature.get("name"), str) or not feature["name"]:
            yield ctx.fail(f"drift baseline {rel}: feature {i + 1} has no name", at=ctx.file(rel, doc.pos(
                ("features", i)).line), fix="regenerate the baseline statistics; every feature has a `name`")
            return
    dataset = data.get("dataset") if isinstance(data, dict) else None
    count = dataset.get("item_count") if isinstance(dataset, dict) else None
    records = f" from {count} records" if isinstance(count, int) and not isinstance(count, bool) else ""
    plural = "" if len(features) == 1 else "s"
    yield ctx.ok(f"drift baseline {rel} holds statistics for {len(features)} feature{plural}{records}", at=at)


def _made_from(ctx: CheckContext) -> Iterator[Finding]:
    dd = ctx.spec.monitoring.data_drift if ctx.spec.monitoring else None
    made = dd.made_from if dd else None
    at = (*_DRIFT, "made_from")
    datasets = ctx.spec.provenance.data if ctx.spec.provenance else []
    named = [d for d in datasets if d.name]
    pinned = [(d, pins) for d in named if (pins := _dataset_pins(ctx, d))]
    example = f"{{dataset: {pinned[0][0].name}, version: {pinned[0][1][0][1]}}}" if pinned else None
    if not named:
        yield ctx.fail("provenance.data names no training dataset, so nothing shows that the drift baseline was "
                       "made from the data the model was trained on", at=("provenance", "data"),
                       fix="list the training datasets in provenance.data with a name and a pinned version, then "
                           "record in monitoring.data_drift.made_from which one the baseline was made from")
        return
    if made is None or (not made.dataset and not made.version):
        fix = f"write `made_from: {example}` if the baseline was made from that data" if example else \
            "pin the training data in provenance.data and record its name and version in made_from"
        yield ctx.fail("monitoring.data_drift.made_from is not set: record which training data version the "
                       f"baseline was made from (training data: {_describe_pins(ctx, named)})", at=at, fix=fix)
        return
    if not made.dataset:
        yield ctx.fail("monitoring.data_drift.made_from.dataset is not set: name the provenance dataset the "
                       f"baseline was made from ({_describe_pins(ctx, named)})", at=at,
                       fix="write `dataset: <name from provenance.data>`")
        return
    index = next((i for i, d in enumerate(datasets) if d.name == made.dataset), None)
    if index is None:
        yield ctx.fail(f"the baseline was made from dataset '{made.dataset}', which is not in provenance.data "
                       f"({did_you_mean(made.dataset, (d.name for d in named if d.name), 'dataset')}): a baseline "
                       "from other data than the model was trained on reports drift that is not there, or misses "
                       "drift that is", at=(*at, "dataset"),
                       fix="name the training dataset in provenance.data the baseline was made from")
        return
    ds = datasets[index]
    pins = _dataset_pins(ctx, ds)
    if not pins:
        yield ctx.fail(f"training dataset '{ds.name}' has no pinned version (version, as_of, snapshot_id, sha256 "
                       "or a .dvc hash), so nothing shows which data the baseline was made from",
                       at=("provenance", "data", index),
                       fix="pin the dataset (see REP001), then record that version in made_from.version")
        return
    pin_text = " or ".join(f"{name} {value}" for name, value in pins)
    if not made.version:
        yield ctx.fail(f"monitoring.data_drift.made_from.version is not set: record the version of '{ds.name}' the "
                       f"baseline was made from (the model was trained on {pin_text})", at=at,
                       fix=f"write `version: {pins[0][1]}` if the baseline was made from that data, else rebuild it")
        return
    matched = next((name for name, value in pins if _same_version(made.version, value)), None)
    if matched is None:
        yield ctx.fail(f"the drift baseline was made from '{ds.name}' version {made.version}, but the model was "
                       f"trained on {pin_text}: drift would be measured against data the model never saw",
                       at=(*at, "version"),
                       fix=f"rebuild the baseline from '{ds.name}' {pins[0][1]} and record that version")
        return
    yield ctx.ok(f"the drift baseline was made from training dataset '{ds.name}' at {made.version}, the "
                 f"{matched} the model was trained on", at=at)


def _describe_pins(ctx: CheckContext, datasets: list[Dataset]) -> str:
    parts = []
    for d in datasets:
        pins = _dataset_pins(ctx, d)
        parts.append(f"'{d.name}' {pins[0][0]} {pins[0][1]}" if pins else f"'{d.name}' (not pinned)")
    return ", ".join(parts)


def data_drift(ctx: CheckContext) -> Iterator[Finding]:
    """Drift of the inputs is measured against a baseline made from the training data version, on a schedule."""
    dd = ctx.spec.monitoring.data_drift if ctx.spec.monitoring else None
    if dd is None:
        yield ctx.fail("no monitoring.data_drift: nobody will know when live inputs stop looking like the "
                       "training data", at=_DRIFT,
                       fix="add monitoring.data_drift with a baseline (statistics of the training data), made_from "
                           "(the training dataset and version) and a schedule")
        return
    findings = [*_baseline(ctx, dd.baseline), *_made_from(ctx),
                *_schedule(ctx, dd.schedule, (*_DRIFT, "schedule"), "the data drift monitor")]
    yield from findings
    if not any(f.status in ("fail", "error") for f in findings):
        yield ctx.ok(f"data drift is checked on schedule {dd.schedule}", at=(*_DRIFT, "schedule"))


# -- MON003 ----------------------------------------------------------------------------------------------------------

_PRED = ("monitoring", "prediction_drift")
# Output statistics that are fractions of the predictions (a share of a class, a mean probability).
_FRACTION_NAME = re.compile(r"(?:^|_)(?:rate|share|fraction|proportion|probability|prob)$")


def prediction_drift(ctx: CheckContext) -> Iterator[Finding]:
    """A statistic of the model's output distribution is watched against an expected band, on a schedule."""
    pd = ctx.spec.monitoring.prediction_drift if ctx.spec.monitoring else None
    if pd is None:
        yield ctx.fail("no monitoring.prediction_drift: a model whose answers shift (everything scored as fraud, or "
                       "nothing) goes unnoticed until the business does", at=_PRED,
                       fix="add monitoring.prediction_drift with a metric of the outputs (e.g. positive_rate), "
                           "expected: [low, high] and a schedule")
        return
    problems = 0
    metric = (pd.metric or "").strip()
    if not metric:
        problems += 1
        yield ctx.fail("monitoring.prediction_drift.metric is not set: say which statistic of the outputs is "
                       "watched", at=(*_PRED, "metric"),
                       fix="write a metric of the output distribution, e.g. `metric: positive_rate` or `mean_score`")
    band_at = (*_PRED, "expected")
    expected = list(pd.expected)
    if not expected:
        problems += 1
        yield ctx.fail("monitoring.prediction_drift.expected is not set: without an expected band no value is "
                       "ever wrong", at=band_at, fix="write `expected: [low, high]`, the range the metric stays in "
                                                     "on healthy traffic")
    elif len(expected) != 2:
        problems += 1
        count = f"{len(expected)} value{'' if len(expected) == 1 else 's'}"
        yield ctx.fail(f"prediction_drift.expected has {count}, not [low, high]", at=band_at,
                       fix="write exactly two numbers: `expected: [low, high]`")
    else:
        low, high = expected
        if not (math.isfinite(low) and math.isfinite(high)):
            problems += 1
            yield ctx.fail(f"prediction_drift.expected [{_num(low)}, {_num(high)}] is not a finite band: an "
                           "infinite or NaN bound never alerts", at=band_at, fix="write two finite numbers")
        elif not low < high:
            problems += 1
            fix = f"write `expected: [{_num(high)}, {_num(low)}]`" if low > high else \
                "widen the band to the range the metric holds on healthy traffic, with low < high"
            yield ctx.fail(f"prediction_drift.expected [{_num(low)}, {_num(high)}]: the low bound is not below the "
                           "high bound", at=band_at, fix=fix)
        elif metric and _FRACTION_NAME.search(metric.lower()) and (low < 0 or high > 1):
            yield ctx.warn(f"'{metric}' reads as a fraction of the predictions, but the expected band "
                           f"[{_num(low)}, {_num(high)}] reaches outside [0, 1]", at=band_at,
                           fix="write the band as fractions (2 % is 0.02)")
    schedule = list(_schedule(ctx, pd.schedule, (*_PRED, "schedule"), "the prediction drift monitor"))
    problems += len(schedule)
    yield from schedule
    if not problems:
        low, high = expected
        yield ctx.ok(f"prediction drift: {metric} is expected in [{_num(low)}, {_num(high)}], checked on schedule "
                     f"{pd.schedule}", at=_PRED)


# -- MON004 ----------------------------------------------------------------------------------------------------------

_OPS = ("monitoring", "operational")
KINDS = ("latency", "errors", "throttles")
# The alarms whose silence hurts callers at once: with no way to page anyone, MON004 fails rather than warns.
_PAGING_KINDS = ("latency", "errors")

# CloudWatch metrics a SageMaker endpoint publishes (facts §3.3): namespace AWS/SageMaker for invocation metrics,
# /aws/sagemaker/Endpoints for instance metrics. What each counts, and its dimensions, are in the facts table.
_ENDPOINT_METRICS = {
    "Invocations", "InvocationsPerInstance", "Invocation4XXErrors", "Invocation5XXErrors", "InvocationModelErrors",
    "ModelLatency", "OverheadLatency",
    "ModelLoadingWaitTime", "ModelUnloadingTime", "ModelDownloadingTime", "ModelLoadingTime", "ModelCacheHit",
    "CPUUtilization", "MemoryUtilization", "GPUUtilization", "GPUMemoryUtilization", "DiskUtilization",
    "LoadedModelCount",
}
_SERVERLESS_ONLY = {"ModelSetupTime", "ServerlessConcurrentExecutionsUtilization"}
_ASYNC_ONLY = {
    "ApproximateBacklogSize", "ApproximateBacklogSizePerInstance", "ApproximateAgeOfOldestRequest",
    "HasBacklogWithoutCapacity", "RequestDownloadFailures", "ResponseUploadFailures", "NotificationFailures",
    "ExpiredRequests", "InvocationFailures", "InvocationsProcesssed", "RequestDownloadLatency",
    "ResponseUploadLatency", "TimeInBacklog", "TotalProcessingTime",
}
# Async endpoints do not publish these (facts §3.3, async-inference-monitor).
_NOT_ASYNC = {"OverheadLatency", "Invocations", "InvocationsPerInstance"}
KNOWN_METRICS = _ENDPOINT_METRICS | _SERVERLESS_ONLY | _ASYNC_ONLY

# Which metrics can stand for each kind (mlgate's judgment). AWS publishes no count of throttled requests for an
# instance-backed endpoint: a team that alarms on 4xx responses for throttling says so with `watches: throttles`.
# A serverless endpoint throttles beyond its max concurrency; an async endpoint queues instead of throttling.
_FITS = {
    "latency": {"ModelLatency", "OverheadLatency", "ModelSetupTime", "TotalProcessingTime", "TimeInBacklog",
                "ApproximateAgeOfOldestRequest", "RequestDownloadLatency", "ResponseUploadLatency"},
    "errors": {"Invocation5XXErrors", "Invocation4XXErrors", "InvocationModelErrors", "InvocationFailures",
               "RequestDownloadFailures", "ResponseUploadFailures", "NotificationFailures", "ExpiredRequests"},
    "throttles": {"Invocation4XXErrors", "InvocationsPerInstance", "ServerlessConcurrentExecutionsUtilization",
                  "ApproximateBacklogSize", "ApproximateBacklogSizePerInstance", "HasBacklogWithoutCapacity",
                  "ApproximateAgeOfOldestRequest", "ExpiredRequests"},
}
_EXAMPLE_METRIC = {"latency": "ModelLatency", "errors": "Invocation5XXErrors", "throttles": "Invocation4XXErrors"}
# The metric that shows a pattern's callers being turned away (or kept waiting) for lack of capacity.
_THROTTLE_SIGNAL = {
    "realtime": "Invocation4XXErrors (AWS publishes no count of throttled requests for an instance-backed endpoint; "
                "a 4xx alarm counts as a throttle alarm once the spec says `watches: throttles`)",
    "serverless": "ServerlessConcurrentExecutionsUtilization (at 1 the endpoint is at its MaxConcurrency and further "
                  "requests are throttled)",
    "async": "ApproximateBacklogSize or HasBacklogWithoutCapacity (an asynchronous endpoint queues requests instead "
             "of throttling them)",
}
_PERCENTILE = re.compile(r"p(\d+(?:\.\d+)?)", re.IGNORECASE)
Base = PathT | Location


def _percentile(statistic: str) -> float | None:
    """The percentile a CloudWatch statistic reports (Maximum is p100), or None for means, sums and the like."""
    text = statistic.strip()
    if text.lower() in ("maximum", "max"):
        return 100.0
    match = _PERCENTILE.fullmatch(text)
    return float(match.group(1)) if match else None


def _under(base: Base, *keys: str) -> Base:
    """A field of an alarm: its spec path, or for an alarm only the code defines, the code's line."""
    return (*base, *keys) if isinstance(base, tuple) else base


def _named(metric: str) -> str:
    """The metric with what AWS documents it to count: "Invocation4XXErrors (requests that got a 4xx response)"."""
    known = load_facts().metric(metric)
    return f"{metric} ({known.counts})" if known else metric


def _metric_findings(ctx: CheckContext, alarm: Alarm, base: Base, label: str, kind: str) -> Iterator[Finding]:
    at = _under(base, "metric")
    metric = (alarm.metric or "").strip()
    if not metric:
        yield ctx.fail(f"alarm {label} names no metric", at=at,
                       fix=f"write the CloudWatch metric it alarms on, e.g. `metric: {_EXAMPLE_METRIC[kind]}`")
        return
    if metric not in KNOWN_METRICS:
        yield ctx.warn(f"alarm {label}: '{metric}' is not a metric a SageMaker endpoint publishes "
                       f"({did_you_mean(metric, KNOWN_METRICS, 'metric')}); CloudWatch metric names are "
                       "case-sensitive and an alarm on a metric nobody publishes stays silent", at=at,
                       fix="use the metric's exact AWS/SageMaker name, or waive if it is a custom metric you "
                           "publish yourself")
        return
    kind_now = ctx.pattern
    if metric in _SERVERLESS_ONLY and kind_now != "serverless":
        yield ctx.warn(f"alarm {label}: {metric} is published for serverless endpoints only, and this endpoint is "
                       f"{kind_now}", at=at, fix="alarm on a metric this endpoint publishes")
    elif metric in _ASYNC_ONLY and kind_now != "async":
        yield ctx.warn(f"alarm {label}: {metric} is published for asynchronous endpoints only, and this endpoint "
                       f"is {kind_now}", at=at, fix="alarm on a metric this endpoint publishes")
    elif metric in _NOT_ASYNC and kind_now == "async":
        yield ctx.warn(f"alarm {label}: asynchronous endpoints do not publish {metric}", at=at,
                       fix="alarm on a metric async endpoints publish (e.g. ModelLatency, TotalProcessingTime)")
    if metric not in _FITS[kind]:
        yield ctx.fail(f"alarm {label} says it watches {kind}, but {_named(metric)} does not measure {kind}", at=at,
                       fix=f"alarm on a {kind} metric, e.g. {', '.join(sorted(_FITS[kind] & _available(ctx)))}")


def _available(ctx: CheckContext) -> set[str]:
    kind = ctx.pattern
    names = set(_ENDPOINT_METRICS)
    if kind == "serverless":
        names |= _SERVERLESS_ONLY
    if kind == "async":
        names = (names | _ASYNC_ONLY) - _NOT_ASYNC
    return names


def _latency_alarm(ctx: CheckContext, alarm: Alarm, base: Base, label: str, factor: float) -> Iterator[Finding]:
    stat = (alarm.statistic or "").strip()
    if not stat:
        yield ctx.fail(f"latency alarm {label} has no statistic", at=_under(base, "statistic"),
                       fix="write `statistic: p99`: the tail is what callers feel")
    else:
        pctl = _percentile(stat)
        if pctl is None or pctl < 99:
            yield ctx.fail(f"latency alarm {label} uses the {stat} statistic, which hides the tail: the slowest "
                           "requests can time out while it stays green", at=_under(base, "statistic"),
                           fix="alarm on `statistic: p99` (or stricter, p99.9)")
        elif pctl > 100:
            yield ctx.fail(f"latency alarm {label}: {stat} is not a percentile", at=_under(base, "statistic"),
                           fix="write `statistic: p99`")
    threshold = alarm.threshold_ms
    traffic = ctx.spec.serving.traffic if ctx.spec.serving else None
    p99 = traffic.latency_p99_ms if traffic else None
    at = _under(base, "threshold_ms")
    if threshold is None:
        yield ctx.fail(f"latency alarm {label} has no threshold_ms", at=at,
                       fix=f"write `threshold_ms: {_num(p99)}` (the declared p99)" if p99 else
                       "write threshold_ms, the latency the caller can bear")
    elif not threshold > 0:
        yield ctx.fail(f"latency alarm {label} fires at {_num(threshold)} ms: a threshold must be above 0",
                       at=at, fix="write the latency the caller can bear, in milliseconds")
    elif p99 is None:
        yield ctx.warn(f"latency alarm {label} fires at {_num(threshold)} ms, but serving.traffic.latency_p99_ms is "
                       "not declared, so mlgate cannot tell whether that is too loose", at=("serving", "traffic"),
                       fix="declare serving.traffic.latency_p99_ms, the latency the caller needs")
    elif threshold > p99 * factor:
        yield ctx.fail(f"latency alarm {label} fires at {_num(threshold)} ms, looser than {_num(factor)} times the "
                       f"declared p99 of {_num(p99)} ms ({_num(p99 * factor)} ms): callers would wait that long "
                       "before anyone is paged", at=at, fix=f"lower threshold_ms to at most {_num(p99 * factor)}")


def _rate_alarm(ctx: CheckContext, alarm: Alarm, base: Base, label: str, kind: str) -> Iterator[Finding]:
    rate, count = alarm.threshold_rate, alarm.threshold_count
    if rate is None and count is None:
        yield ctx.fail(f"{kind} alarm {label} has no threshold_rate or threshold_count", at=base,
                       fix="write `threshold_rate: 0.01` (a fraction of requests) or `threshold_count: 10` "
                           "(per period)")
        return
    if rate is not None and not 0 <= rate < 1:
        hint = f" (a rate is a fraction: {_num(rate)} % is {_num(rate / 100)})" if 1 < rate <= 100 else ""
        yield ctx.fail(f"{kind} alarm {label} has threshold_rate {_num(rate)}, outside [0, 1): it "
                       f"{'can never fire' if rate >= 1 else 'is not a rate'}{hint}",
                       at=_under(base, "threshold_rate"), fix="write the rate as a fraction of requests, e.g. 0.01 "
                                                             "for 1 %")
    if count is not None and count < 0:
        yield ctx.fail(f"{kind} alarm {label} has threshold_count {_num(count)}, below 0",
                       at=_under(base, "threshold_count"), fix="write a count of 0 or more per period")


def _threshold_text(ctx: CheckContext, alarm: Alarm, factor: float) -> str:
    if alarm.threshold_ms is not None:
        traffic = ctx.spec.serving.traffic if ctx.spec.serving else None
        p99 = traffic.latency_p99_ms if traffic else None
        within = f" (declared p99 {_num(p99)} ms, limit {_num(p99 * factor)} ms)" if p99 else ""
        return f"{alarm.statistic} above {_num(alarm.threshold_ms)} ms{within}"
    if alarm.threshold_rate is not None:
        return f"above a rate of {_num(alarm.threshold_rate)}"
    return f"above {_num(alarm.threshold_count or 0)} per period"


def _base(deployed: DeployedAlarm) -> Base:
    if deployed.index is not None and deployed.origin == "spec":
        return (*_OPS, "alarms", deployed.index)
    return deployed.at or (*_OPS, "alarms")


def _related(ctx: CheckContext, deployed: DeployedAlarm) -> tuple[Location, ...]:
    """The spec's entry of an alarm the code defines, as the second location of a finding on the code."""
    if deployed.index is None or deployed.origin == "spec":
        return ()
    return (ctx.at((*_OPS, "alarms", deployed.index)),)


def _deployed_variants(ctx: CheckContext) -> list[str] | None:
    """The production variants the endpoint runs: the endpoint config's, else the spec's canary and previous."""
    if ctx.resolved is not None and ctx.resolved.variants is not None and ctx.resolved.config_at is not None:
        return ctx.resolved.variants
    rollout = ctx.spec.rollout
    names = [v.variant for v in (rollout.canary, rollout.previous) if v is not None and v.variant] if rollout else []
    return names or None


def _dimension_findings(ctx: CheckContext, deployed: DeployedAlarm) -> Iterator[Finding]:
    """The alarm's dimensions are the ones SageMaker publishes the metric with, on this endpoint's variants."""
    alarm, dims = deployed.alarm, deployed.dimensions
    facts = load_facts()
    known = facts.metric(alarm.metric or "")
    if dims is None or known is None:
        return
    base, label = _base(deployed), deployed.label
    missing = [d for d in known.dimensions if d not in dims]
    if missing:
        have = " and ".join(dims) if dims else "no dimensions"
        yield ctx.fail(f"alarm {label} on {alarm.metric} has {have}, but SageMaker publishes {alarm.metric} per "
                       f"{' and '.join(known.dimensions)} ({facts.cite(known)}): an alarm without "
                       f"{' and '.join(missing)} watches a metric nobody publishes and never gets data",
                       at=_under(base, "dimensions"), related=_related(ctx, deployed),
                       fix=f"give the alarm the dimensions {', '.join(known.dimensions)} (VariantName: the "
                           "variant it watches; one alarm per variant, or metric math over them)")
        return
    endpoint = ctx.spec.serving.endpoint if ctx.spec.serving else None
    seen = dims.get("EndpointName")
    if endpoint and seen is not None and seen != endpoint:
        yield ctx.fail(f"alarm {label} watches EndpointName {seen}, not this endpoint ({endpoint})",
                       at=_under(base, "dimensions"), related=_related(ctx, deployed),
                       fix=f"set the alarm's EndpointName dimension to {endpoint}")
    variant = dims.get("VariantName")
    variants = _deployed_variants(ctx)
    shadows = ctx.resolved.shadow_variants if ctx.resolved and ctx.resolved.shadow_variants else []
    if "VariantName" in known.dimensions and variant is not None and variants is not None \
            and variant not in variants + shadows:
        yield ctx.fail(f"alarm {label} watches VariantName {variant}, which this endpoint does not run (its "
                       f"variants: {', '.join(variants + shadows)}): it never gets data",
                       at=_under(base, "dimensions"), related=_related(ctx, deployed),
                       fix="set VariantName to the variant the alarm is meant to watch")


def _canary_coverage(ctx: CheckContext, alarms: list[DeployedAlarm]) -> Iterator[Finding]:
    """With weighted variants, the canary runs beside the previous variant: each must be watched on its own."""
    rollout = ctx.spec.rollout
    canary = rollout.canary.variant if rollout and rollout.canary else None
    variants = _deployed_variants(ctx)
    if not canary or variants is None or canary not in variants or len(variants) < 2:
        return
    for kind in _PAGING_KINDS:
        group = [a for a in alarms if a.alarm.watches == kind and a.dimensions is not None
                 and load_facts().metric(a.alarm.metric or "") is not None]
        watched = {a.dimensions.get("VariantName") for a in group if a.dimensions}
        if not group or canary in watched or None in watched:
            continue
        others = ", ".join(sorted(str(v) for v in watched))
        names_ = ", ".join(a.label for a in group)
        yield ctx.fail(f"the {kind} alarm{'s' if len(group) > 1 else ''} {names_} watch{'' if len(group) > 1 else 'es'}"
                       f" VariantName {others} only: the canary {canary} runs beside it on the same endpoint and no "
                       f"{kind} alarm watches it, so a canary that fails or slows down stays unseen",
                       at=_under(_base(group[0]), "dimensions"), related=_related(ctx, group[0]),
                       fix=f"add a {kind} alarm with VariantName {canary} (or metric math over every variant)")


def _action_findings(ctx: CheckContext, alarms: list[DeployedAlarm]) -> Iterator[Finding]:
    """An alarm with no AlarmActions changes state and pages nobody."""
    facts = load_facts()
    environment = ctx.spec.serving.environment if ctx.spec.serving else "production"
    for deployed in alarms:
        if deployed.actions is None or deployed.actions:
            continue
        kind = deployed.alarm.watches
        others = [a.label for a in alarms if a is not deployed and a.alarm.watches == kind and a.actions]
        via = deployed.notified_by
        cited = facts.cite(facts.cloudwatch["alarm_actions"])
        base = _under(_base(deployed), "actions")
        fix = ("add AlarmActions (an SNS topic that reaches the on-call, e.g. the pager integration) to the alarm, "
               "or a composite alarm with actions over it")
        if via:
            yield ctx.ok(f"alarm {deployed.label} has no AlarmActions of its own; composite alarm "
                         f"{', '.join(via)} notifies on it", at=base)
        elif kind in _PAGING_KINDS and not others and environment == "production":
            yield ctx.fail(f"{kind} alarm {deployed.label} has no AlarmActions and no other {kind} alarm notifies "
                           f"anyone: when this production endpoint {'slows down' if kind == 'latency' else 'fails'}, "
                           f"the alarm changes state and nobody is paged ({cited})", at=base,
                           related=_related(ctx, deployed), fix=fix)
        else:
            also = f" ({kind} alarm {', '.join(others)} does notify)" if others else ""
            if kind in _PAGING_KINDS and not others:
                also = f" (a warning, not a failure: serving.environment is {environment}, and a {kind} alarm " \
                       "that pages nobody fails on production endpoints only)"
            yield ctx.warn(f"alarm {deployed.label} has no AlarmActions: it changes state and pages nobody{also}",
                           at=base, related=_related(ctx, deployed), fix=fix)


def _serverless_latency(ctx: CheckContext, alarms: list[DeployedAlarm]) -> Iterator[Finding]:
    if ctx.pattern != "serverless":
        return
    group = [a for a in alarms if a.alarm.watches == "latency"]
    if not group or any(a.alarm.metric == "OverheadLatency" for a in group):
        return
    facts = load_facts()
    overhead = facts.metric("OverheadLatency")
    cited = f" ({facts.cite(overhead)})" if overhead else ""
    yield ctx.fail(f"on a serverless endpoint the latency callers see includes cold starts, which "
                   f"{', '.join(sorted({a.alarm.metric or '?' for a in group}))} does not count; OverheadLatency "
                   f"does{cited}, and no latency alarm watches it", at=_under(_base(group[0]), "metric"),
                   fix="add a latency alarm on OverheadLatency (p99, threshold_ms within the declared p99)")


def operational(ctx: CheckContext) -> Iterator[Finding]:
    """Live invocations are alarmed on p99 latency (no looser than the declared p99 allows), errors and throttles;
    each alarm sees this endpoint's variants (the canary too) and pages someone."""
    if ctx.pattern == "batch":
        yield ctx.na("serving.pattern is batch: a batch transform has no live invocations, so there is no latency, "
                     "error rate or throttling to alarm on (watch the job's status instead)", at=("serving", "pattern"))
        return
    factor = _number_param(ctx, "latency_threshold_factor")
    if factor is None or factor < 1:
        yield _bad_param(ctx, "latency_threshold_factor", "a number of 1 or more")
        return
    alarms = ctx.resolved.alarms if ctx.resolved is not None else deployed_alarms(ctx.spec, None, None)
    pattern = ctx.pattern
    if not alarms:
        yield ctx.fail("monitoring.operational.alarms is empty: nobody is paged when the endpoint slows down, fails "
                       "or throttles", at=(*_OPS, "alarms"),
                       fix="define alarms that watch latency (ModelLatency p99), errors (Invocation5XXErrors) and "
                           f"throttles ({_THROTTLE_SIGNAL.get(pattern, 'Invocation4XXErrors')})")
        return

    findings: list[Finding] = []
    seen: dict[str, int] = {}
    for i, deployed in enumerate(alarms):
        alarm, base, label = deployed.alarm, _base(deployed), deployed.label
        if deployed.index is not None:
            if not alarm.name or not alarm.name.strip():
                findings.append(ctx.fail(f"alarm #{i + 1} has no name: rollback settings and the IaC refer to alarms "
                                         "by name", at=base, fix="write `name:` as the CloudWatch AlarmName"))
            elif alarm.name in seen:
                findings.append(ctx.fail(f"alarm name '{alarm.name}' is used by alarms #{seen[alarm.name] + 1} and "
                                         f"#{i + 1}: CloudWatch alarm names are unique, so one would replace the "
                                         "other", at=_under(base, "name"), fix="give each alarm its own name"))
            else:
                seen[alarm.name] = i
        if alarm.watches is None:
            findings.append(ctx.warn(f"alarm {label} does not say what it watches, so it counts for no kind", at=base,
                                     fix="write `watches: latency`, `errors`, `throttles` or `other`"))
        if alarm.watches in KINDS:  # an `other` alarm may watch a metric of the team's own
            findings.extend(_metric_findings(ctx, alarm, base, label, alarm.watches))
        if alarm.watches == "latency":
            findings.extend(_latency_alarm(ctx, alarm, base, label, factor))
        elif alarm.watches in ("errors", "throttles"):
            findings.extend(_rate_alarm(ctx, alarm, base, label, alarm.watches))
        findings.extend(_dimension_findings(ctx, deployed))

    for kind in KINDS:
        group = [a for a in alarms if a.alarm.watches == kind]
        if not group:
            unlabelled = [a.alarm.name for a in alarms if a.alarm.watches is None and a.alarm.metric in _FITS[kind]
                          and a.alarm.name]
            hint = f"; alarm '{unlabelled[0]}' looks like one: add `watches: {kind}`" if unlabelled else ""
            example = _THROTTLE_SIGNAL.get(pattern, _EXAMPLE_METRIC[kind]) if kind == "throttles" \
                else _EXAMPLE_METRIC[kind]
            findings.append(ctx.fail(f"no alarm watches {kind}{hint}", at=(*_OPS, "alarms"),
                                     fix=f"add an alarm with `watches: {kind}` on {example}"))
            continue
        if kind == "errors" and all(a.alarm.metric == "Invocation4XXErrors" for a in group):
            findings.append(ctx.warn(f"the only error alarm is on {_named('Invocation4XXErrors')}: the caller's side "
                                     "of a request; the model's own failures are 5xx responses "
                                     "(Invocation5XXErrors) and model errors (InvocationModelErrors)",
                                     at=_base(group[0]),
                                     fix="add an error alarm on Invocation5XXErrors or InvocationModelErrors"))
    findings.extend(_serverless_latency(ctx, alarms))
    findings.extend(_canary_coverage(ctx, alarms))
    findings.extend(_action_findings(ctx, alarms))
    yield from findings
    if not any(f.status in ("fail", "error") for f in findings):
        for kind in KINDS:
            described = "; ".join(_described(ctx, a, factor) for a in alarms if a.alarm.watches == kind)
            yield ctx.ok(f"{kind} alarmed: {described}", at=(*_OPS, "alarms"))


def _described(ctx: CheckContext, deployed: DeployedAlarm, factor: float) -> str:
    alarm = deployed.alarm
    text = f"'{alarm.name}' on {_named(alarm.metric or '?')} {_threshold_text(ctx, alarm, factor)}"
    if deployed.dimensions is not None and deployed.dimensions.get("VariantName"):
        text += f", variant {deployed.dimensions['VariantName']}"
    if deployed.actions:
        text += f", notifying {', '.join(deployed.actions)}"
    elif deployed.actions is None and deployed.origin == "spec":
        text += " (its dimensions and actions are not in any infrastructure code mlgate reads: unverified)"
    if deployed.at is not None:
        text += f" ({deployed.at.path}:{deployed.at.line})"
    return text


# -- MON005 ----------------------------------------------------------------------------------------------------------

_GT = ("monitoring", "ground_truth")

# Quality metrics by direction and range: (better when "higher" | "lower", lowest value, highest value).
_UNIT = (0.0, 1.0)
_METRICS: dict[str, tuple[str, float | None, float | None]] = {
    **dict.fromkeys((
        "auc", "roc_auc", "auc_roc", "pr_auc", "au_prc", "aucpr", "average_precision", "accuracy",
        "balanced_accuracy", "f1", "f1_score", "f0_5", "f2", "weighted_f1", "macro_f1", "micro_f1", "precision",
        "recall", "weighted_precision", "weighted_recall", "specificity", "sensitivity", "true_positive_rate",
        "true_negative_rate", "tpr", "tnr", "ndcg", "map", "mrr", "hit_rate", "top_k_accuracy", "jaccard", "iou",
        "dice", "precision_at_k", "recall_at_k"), ("higher", *_UNIT)),
    "r2": ("higher", None, 1.0),
    "mcc": ("higher", -1.0, 1.0),
    **dict.fromkeys((
        "false_positive_rate", "false_negative_rate", "fpr", "fnr", "error_rate", "misclassification_rate",
        "brier", "brier_score"), ("lower", *_UNIT)),
    **dict.fromkeys((
        "mae", "mse", "rmse", "rmsle", "msle", "mape", "smape", "log_loss", "logloss", "cross_entropy", "wer",
        "cer", "perplexity", "median_absolute_error"), ("lower", 0.0, None)),
}


def _metric_info(metric: str) -> tuple[str, float | None, float | None] | None:
    return _METRICS.get(re.sub(r"[\s\-]+", "_", metric.strip().lower()))


def ground_truth(ctx: CheckContext) -> Iterator[Finding]:
    """The real quality metric, once labels arrive: which metric, how late the labels are, and the bound."""
    gt = ctx.spec.monitoring.ground_truth if ctx.spec.monitoring else None
    if gt is None:
        yield ctx.fail("no monitoring.ground_truth: drift says the inputs changed, only ground truth says the model "
                       "got worse", at=_GT,
                       fix="add monitoring.ground_truth with the metric (e.g. auc), label_delay (how long labels take "
                           "to arrive, e.g. 30d) and minimum")
        return
    problems = 0
    metric = (gt.metric or "").strip()
    if not metric:
        problems += 1
        yield ctx.fail("monitoring.ground_truth.metric is not set: say which quality metric is tracked",
                       at=(*_GT, "metric"), fix="write the metric, e.g. `metric: auc`")
    if gt.label_delay is None or not str(gt.label_delay).strip():
        problems += 1
        yield ctx.fail("monitoring.ground_truth.label_delay is not set: say how long labels take to arrive, so "
                       "everyone knows how late a quality drop shows", at=(*_GT, "label_delay"),
                       fix=f"write {DURATION_HELP}")
    elif parse_duration(gt.label_delay) is None:
        problems += 1
        yield ctx.fail(f"ground truth label_delay '{gt.label_delay}' is not a duration mlgate understands",
                       at=(*_GT, "label_delay"), fix=f"write {DURATION_HELP}")

    info = _metric_info(metric) if metric else None
    direction = info[0] if info else None
    # A metric better when lower is bounded by a maximum; an unknown metric may use either bound.
    if direction == "lower" or (direction is None and gt.minimum is None and gt.maximum is not None):
        bound_name, bound = "maximum", gt.maximum
    else:
        bound_name, bound = "minimum", gt.minimum
    if bound is None:
        problems += 1
        wrong = gt.minimum if bound_name == "maximum" else gt.maximum
        if wrong is not None:
            worse = "rises" if direction == "lower" else "falls"
            yield ctx.fail(f"{metric} gets worse as it {worse}, so a "
                           f"{'minimum' if bound_name == 'maximum' else 'maximum'} of {_num(wrong)} never catches "
                           f"a worse model", at=(*_GT, "minimum" if bound_name == "maximum" else "maximum"),
                           fix=f"write `{bound_name}: <value>`, the worst {metric} you accept")
        else:
            yield ctx.fail(f"monitoring.ground_truth.{bound_name} is not set: without a bound no quality is too low",
                           at=(*_GT, bound_name), fix=f"write `{bound_name}:`, the worst {metric or 'value'} you "
                                                      "accept")
    elif not math.isfinite(bound):
        problems += 1
        yield ctx.fail(f"ground truth {bound_name} is {_num(bound)}, not a finite number", at=(*_GT, bound_name),
                       fix="write a finite number")
    elif info:
        _, lowest, highest = info
        if (lowest is not None and bound < lowest) or (highest is not None and bound > highest):
            problems += 1
            span = f"[{'-inf' if lowest is None else _num(lowest)}, {'inf' if highest is None else _num(highest)}]"
            looks_like_percent = (lowest, highest) == _UNIT and 10 <= bound <= 100
            hint = f"; for {_num(bound)} %, write {_num(bound / 100)}" if looks_like_percent else ""
            yield ctx.fail(f"{metric} lies in {span}, so a {bound_name} of {_num(bound)} is impossible{hint}",
                           at=(*_GT, bound_name), fix=f"write a {bound_name} within {span}")
        elif (direction == "higher" and bound == lowest) or (direction == "lower" and bound == highest):
            problems += 1
            yield ctx.fail(f"a {bound_name} of {_num(bound)} for {metric} never fires: no model can do worse",
                           at=(*_GT, bound_name), fix=f"write the worst {metric} you accept")
    if not problems:
        yield ctx.ok(f"ground truth: {metric} is tracked with labels arriving after {gt.label_delay}, "
                     f"{bound_name} {_num(bound or 0)}", at=_GT)
