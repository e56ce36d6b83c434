"""MON002: input drift is measured against a baseline made from the exact training data version, on a valid schedule;
with --aws, a data quality schedule runs on the endpoint with the spec's baseline and frequency."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

from mlgate.checks import CheckContext
from mlgate.errors import EvidenceError
from mlgate.result import Finding
from mlgate.rules.monitoring._shared import required_section, s3_problem, schedule_findings
from mlgate.rules.params import OnlineParams
from mlgate.schedules import frequency
from mlgate.spec.load import is_local
from mlgate.spec.models import DataDrift, Dataset
from mlgate.spelling import did_you_mean
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    from mlgate.aws.live import Online



class Params(OnlineParams):
    """Only the online check's `aws_missing_endpoint`."""


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


def check(ctx: CheckContext) -> Iterator[Finding]:
    """Drift of the inputs is measured against a baseline made from the training data version, on a schedule."""
    dd: DataDrift | None = yield from required_section(
        ctx, "data_drift", "nobody will know when live inputs stop looking like the training data",
        fix="add monitoring.data_drift with a baseline (statistics of the training data), made_from (the training "
            "dataset and version) and a schedule")
    if dd is None:
        return
    findings = [*_baseline(ctx, dd.baseline), *_made_from(ctx),
                *schedule_findings(ctx, dd.schedule, (*_DRIFT, "schedule"), "the data drift monitor")]
    yield from findings
    if not any(f.status in ("fail", "error") for f in findings):
        yield ctx.ok(f"data drift is checked on schedule {dd.schedule}", at=(*_DRIFT, "schedule"))


def online(ctx: CheckContext, account: Online) -> Iterator[Finding]:
    """MON002 online: a data quality schedule runs on the endpoint, at the spec's frequency, on the spec's
    baseline."""
    from mlgate.aws.monitoring import describe_schedule, endpoint_schedules, schedule_facts

    drift = ctx.spec.monitoring.data_drift if ctx.spec.monitoring else None
    if drift is None:
        yield ctx.na("monitoring.data_drift is not in the spec: no drift monitor to look for in the account",
                     at=("monitoring",))
        return
    found = account.live_endpoint(ctx, "monitoring schedules")
    schedules = endpoint_schedules(ctx, account, found)
    base: PathT = ("monitoring", "data_drift")
    quality = [s for s in schedules if schedule_facts(s)[1] == "DataQuality"]
    if not quality:
        listed = ", ".join(describe_schedule(s) for s in schedules) or "none"
        yield ctx.fail(f"no data quality monitoring schedule runs on the {found.where} (schedules: {listed}): the "
                       "data drift monitor the spec describes does not exist", at=base,
                       fix="create the data quality monitoring schedule on this endpoint (CreateMonitoringSchedule, "
                           "MonitoringType DataQuality) with the spec's baseline and schedule")
        return
    problems = 0
    for schedule in quality:
        name, _, expression, baseline = schedule_facts(schedule)
        status = schedule.get("MonitoringScheduleStatus")
        if status and status != "Scheduled":
            problems += 1
            yield ctx.fail(f"data quality schedule '{name}' on the {found.where} is {status}, not Scheduled: it "
                           "does not run", at=base, fix="start the monitoring schedule (StartMonitoringSchedule)")
        if drift.schedule and expression and frequency(drift.schedule) != frequency(expression):
            problems += 1
            yield ctx.fail(f"monitoring.data_drift.schedule is {drift.schedule}, but data quality schedule '{name}' "
                           f"runs {expression}", at=(*base, "schedule"),
                           fix="make the schedule's ScheduleExpression and monitoring.data_drift.schedule the same")
        if drift.baseline and baseline and drift.baseline != baseline:
            problems += 1
            yield ctx.fail(f"monitoring.data_drift.baseline is {drift.baseline}, but data quality schedule "
                           f"'{name}' compares with {baseline}", at=(*base, "baseline"),
                           fix="point the schedule's baseline statistics at the spec's baseline, or fix the spec")
    if not problems:
        yield ctx.ok(f"data quality monitoring runs on the {found.where}: "
                     f"{', '.join(describe_schedule(s) for s in quality)}", at=base)
