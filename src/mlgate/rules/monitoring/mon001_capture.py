"""MON001: what the model received and answered is captured (endpoint data capture at a useful sampling rate to a
well-formed S3 destination, or the application's own writes); with --aws, the live endpoint config captures as the
spec says."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from mlgate.checks import CheckContext
from mlgate.evidence.iac.model import show
from mlgate.result import Finding
from mlgate.rules.monitoring._shared import num, s3_problem
from mlgate.rules.params import Number, OnlineParams
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    from mlgate.aws.live import Online


_CAPTURE: PathT = ("monitoring", "capture")
# DataCaptureConfig.DestinationS3Uri is at most 512 characters (facts §3.1).
MAX_CAPTURE_URI = 512


class Params(OnlineParams):
    # the bounds sit inside Annotated so that Number's own check (finite, sized) runs first: nan is "not a number"
    min_sampling_percent: Annotated[Number, Field(gt=0, le=100)] = Field(
        1,
        description="the lowest sampling_percent that passes; SageMaker's InitialSamplingPercentage is a whole "
                    "number, so 1 is the smallest rate it captures at all: raise it for endpoints whose traffic "
                    "is too low for a 1 % sample to say anything")
    min_captured_per_day: Annotated[Number, Field(ge=0)] = Field(
        1000,
        description="below this many captured records a day (from serving.traffic.requests_per_day), drift and "
                    "quality statistics are noise: a warning that suggests the sampling that reaches it")


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


def check(ctx: CheckContext) -> Iterator[Finding]:
    """Inputs and outputs are captured at a useful sampling rate to a well-formed S3 destination."""
    params: Params = ctx.params
    min_pct = float(params.min_sampling_percent)
    min_per_day = float(params.min_captured_per_day)
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
            yield ctx.fail(f"capture sampling_percent is {num(pct)}, outside (0, 100]", at=pct_at,
                           fix="leave sampling_percent out for batch: batch transform capture keeps every record")
    elif pct is None:
        problems += 1
        yield ctx.fail("monitoring.capture.sampling_percent is not set (InitialSamplingPercentage is required)",
                       at=pct_at, fix=f"write a whole-number sampling_percent of at least {num(min_pct)}, e.g. "
                                  f"{num(max(20.0, math.ceil(min_pct)))}")
    elif not 0 < pct <= 100:
        problems += 1
        yield ctx.fail(f"capture sampling_percent is {num(pct)}, outside (0, 100]", at=pct_at,
                       fix=f"write a percentage between {num(min_pct)} and 100")
    elif pct != int(pct):
        problems += 1
        # Facts §3.1: InitialSamplingPercentage is an integer 0-100.
        yield ctx.fail(f"capture sampling_percent is {num(pct)}, but SageMaker's InitialSamplingPercentage is a "
                       "whole number", at=pct_at, fix=f"write {max(1, round(pct))}")
    elif pct < min_pct:
        problems += 1
        yield ctx.fail(f"capture samples {num(pct)} % of requests, below the {num(min_pct)} % minimum", at=pct_at,
                       fix=f"raise sampling_percent to at least {num(min_pct)}")
    else:
        traffic = ctx.spec.serving.traffic if ctx.spec.serving else None
        per_day = traffic.requests_per_day if traffic else None
        if per_day and pct < 100 and per_day * pct / 100 < min_per_day:
            needed = min(100, math.ceil(min_per_day * 100 / per_day))
            yield ctx.warn(f"at {num(pct)} % of {num(per_day)} requests a day, capture keeps about "
                           f"{num(round(per_day * pct / 100))} records a day, fewer than the {num(min_per_day)} "
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
        rate = "every record (batch transform)" if kind == "batch" else f"{num(pct or 0)} % of requests"
        yield ctx.ok(f"capture is enabled for inputs and outputs, {rate}, to {dest}", at=_CAPTURE)


def _same_key(spec: str, live: str) -> bool:
    """Whether two KMS key references may be the same key: equal, or of different forms (an alias and a key ARN
    cannot be told apart without kms:DescribeKey, which mlgate does not call)."""
    if spec == live:
        return True
    forms = ["alias" if x.startswith("alias/") or ":alias/" in x else "key" for x in (spec, live)]
    if forms[0] != forms[1]:
        return True
    return spec.rsplit("/", 1)[-1] == live.rsplit("/", 1)[-1]


def online(ctx: CheckContext, account: Online) -> Iterator[Finding]:
    """MON001 online: the live endpoint config captures what the spec says, where it says."""
    spec = ctx.spec.monitoring.capture if ctx.spec.monitoring else None
    if spec is None:
        yield ctx.na("monitoring.capture is not in the spec: no capture to compare with the account",
                     at=("monitoring",))
        return
    if ctx.pattern == "serverless":
        yield ctx.na("serving.pattern is serverless, which cannot capture data: nothing to look up",
                     at=("serving", "pattern"))
        return
    found = account.live_endpoint(ctx, "data capture")
    live = found
    config = live.capture
    if not config:
        if spec.enabled:
            yield ctx.fail(f"monitoring.capture.enabled is true, but the {live.where} has no DataCaptureConfig: "
                           "nothing is captured", at=(*_CAPTURE, "enabled"),
                           fix="deploy an endpoint config with DataCaptureConfig as the spec describes")
        else:
            yield ctx.ok(f"the {live.where} captures nothing, as monitoring.capture.enabled says", at=_CAPTURE)
        return
    problems: list[Finding] = []
    agreed: list[str] = []

    def compare(field: str, spec_value: Any, live_value: Any, label: str, same: bool) -> None:
        if spec_value is None or live_value is None:
            return
        if same:
            agreed.append(f"{label} {show(live_value)}")
        else:
            problems.append(ctx.fail(f"monitoring.capture.{field} is {show(spec_value)}, but the {live.where} has "
                                     f"{label} {show(live_value)}", at=(*_CAPTURE, field),
                                     fix=f"make monitoring.capture.{field} and the live {label} the same (deploy "
                                         "an endpoint config that matches the spec, or fix the spec)"))

    enabled = config.get("EnableCapture", True)  # the API's default is enabled
    if spec.enabled is not None and bool(enabled) != spec.enabled:
        problems.append(ctx.fail(f"monitoring.capture.enabled is {str(spec.enabled).lower()}, but the {live.where} "
                                 f"has EnableCapture {str(bool(enabled)).lower()}", at=(*_CAPTURE, "enabled"),
                                 fix="make the spec and the live endpoint config agree"))
    elif enabled:
        agreed.append("EnableCapture true")
    if live.capture_status == "Stopped" and spec.enabled:
        problems.append(ctx.fail(f"the {live.where} reports CaptureStatus Stopped: capture is configured but "
                                 "stopped", at=(*_CAPTURE, "enabled"),
                                 fix="start capture again (UpdateEndpoint with the config)"))
    sampling = config.get("InitialSamplingPercentage")
    compare("sampling_percent", spec.sampling_percent, sampling, "InitialSamplingPercentage",
            spec.sampling_percent is not None and isinstance(sampling, int | float)
            and math.isclose(float(sampling), float(spec.sampling_percent)))
    destination = config.get("DestinationS3Uri")
    compare("destination", spec.destination, destination, "DestinationS3Uri",
            str(spec.destination).rstrip("/") == str(destination).rstrip("/"))
    key = config.get("KmsKeyId")
    if spec.kms_key and not key:
        problems.append(ctx.fail(f"monitoring.capture.kms_key is {spec.kms_key}, but the {live.where} captures "
                                 "with no KmsKeyId (S3's default encryption only)", at=(*_CAPTURE, "kms_key"),
                                 fix="set DataCaptureConfig.KmsKeyId to the spec's key"))
    else:
        compare("kms_key", spec.kms_key, key, "KmsKeyId", _same_key(str(spec.kms_key), str(key)))
    modes = {str(o.get("CaptureMode")) for o in config.get("CaptureOptions") or []}
    if modes:
        for field, mode in (("inputs", "Input"), ("outputs", "Output")):
            wanted = getattr(spec, field)
            has = mode in modes or "InputAndOutput" in modes
            if wanted is not None:
                compare(field, wanted, has, f"CaptureOptions ({', '.join(sorted(modes))}) capturing {field}:",
                        wanted == has)
    yield from problems
    if not problems:
        yield ctx.ok(f"the {live.where} captures as the spec says: {'; '.join(agreed)}", at=_CAPTURE)
