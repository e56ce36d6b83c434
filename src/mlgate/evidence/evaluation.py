"""Evaluation reports as evidence: the metrics a model scored, read (never executed) from the formats the tools
that compute them write.

- **SageMaker model quality JSON** (`sagemaker`): what a SageMaker Pipelines evaluation step writes, the Model
  Registry shows as the package's ModelMetrics, and Model Monitor computes: one object per problem type,
  `binary_classification_metrics`, `multiclass_classification_metrics` or `regression_metrics`, each mapping a
  metric to `{"value": ..., "standard_deviation": ...}` (the deviation may be the text "NaN"); entries without a
  numeric `value` (`confusion_matrix`, curves) are not metrics. Format:
  https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html
  The format has no slices and no artifact sha: mlgate reads a `slices` object beside the metrics (each entry in
  the same shape), and the sha comes from the provenance manifest (`mlgate manifest --evaluation FILE`).
- **MLflow run** (`mlflow`): a run directory of MLflow's file store, `mlruns/<experiment id>/<run id>/`, with
  `meta.yaml` (the run's status and lifecycle stage), `metrics/<name>` (lines `<timestamp> <value> <step>`; the
  latest step counts, as MLflow's own "latest metric"), `params/<name>` and `tags/<name>`. A metric
  `<slice>/<name>` (MLflow allows `/` in names) is the metric of that slice. The artifact's sha256 is the run's
  `artifact_sha256` tag (or param), or the sha256 of the artifact file logged in the run's `artifacts/`; the
  evaluation data is named by the params or tags `dataset.uri`, `dataset.version`, `dataset.as_of`,
  `dataset.snapshot_id`, `dataset.sha256`.
- **Plain JSON** (`json`): `{"artifact_sha256": "...", "dataset": {"uri": ..., "version": ...},
  "metrics": {"auc": 0.94}, "slices": {"country=DE": {"auc": 0.93}}}`, or the metrics as numbers at the top
  level (`{"auc": 0.94, "artifact_sha256": "..."}`).

Every reader returns a `Scores`; `digest` is the sha256 of what was read (the file's bytes; for an MLflow run,
of its meta.yaml, metrics, params and tags), which the provenance manifest records to tie a report to an artifact.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import EvidenceError
from mlgate.parsers import load_json
from mlgate.paths import sha256_file
from mlgate.yamlload import Document, YamlError, as_text, parse_yaml

if TYPE_CHECKING:
    from mlgate.evidence.workspace import Workspace

FORMATS = ("sagemaker", "mlflow", "json")
SAGEMAKER_GROUPS = ("binary_classification_metrics", "multiclass_classification_metrics", "regression_metrics")
DATASET_KEYS = ("name", "uri", "version", "as_of", "snapshot_id", "sha256")
SHA_KEYS = ("artifact_sha256", "model_sha256", "mlgate.artifact_sha256")
_HEX64 = re.compile(r"[0-9a-f]{64}")
MAX_RUN_FILES = 10_000  # an MLflow run logs a few hundred metrics; more is not an evaluation run
# MLflow RunStatus, as meta.yaml stores it (mlflow/protos/service.proto)
_MLFLOW_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}


class ReportError(Exception):
    """A report that cannot be read as its format; `line` is where, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Score:
    """One metric's value in an evaluation report, and the line it is written on."""
    value: float
    line: int = 1  # where the value is written in the report (1 when unknown)


@dataclass
class Scores:
    """What one evaluation report says about one model."""

    source: str  # how to cite it: the repo-relative path, `path@commit`, or an S3 uri
    format: str
    metrics: dict[str, Score]
    slices: dict[str, dict[str, Score]] = field(default_factory=dict)
    artifact_sha256: str | None = None
    artifact_sha256_from: str | None = None  # where the sha was found (a key, a tag, a hashed file)
    dataset: dict[str, str] | None = None  # the evaluation data, as the report states it
    digest: str = ""
    notes: list[str] = field(default_factory=list)  # why a run's numbers may not count (an unfinished run)
    file: str | None = None  # the work-tree file the values' lines are in (None: at a commit, in S3, MLflow)

    def metric(self, name: str, slice_name: str | None = None) -> Score | None:
        """A metric by name, case-insensitively (`AUC` is `auc`); of a slice when `slice_name` is given."""
        table = self.metrics if slice_name is None else self.slice(slice_name)
        return _lookup(table, name) if table is not None else None

    def slice(self, name: str) -> dict[str, Score] | None:
        found: dict[str, Score] | None = _lookup(self.slices, name)
        return found


def _lookup(table: dict[str, Any], name: str) -> Any:
    if name in table:
        return table[name]
    folded = name.strip().lower()
    found = [v for k, v in table.items() if k.strip().lower() == folded]
    return found[0] if len(found) == 1 else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def detect(data: Any) -> str:
    """`sagemaker` for a JSON object with a SageMaker metrics group, else `json`."""
    if isinstance(data, dict) and any(isinstance(data.get(g), dict) for g in SAGEMAKER_GROUPS):
        return "sagemaker"
    return "json"


def parse_report(text: str, source: str, fmt: str | None = None) -> Scores:
    """A report file's text (SageMaker model quality JSON or plain JSON). Raises ReportError."""
    try:
        data = load_json(text)
    except json.JSONDecodeError as exc:
        raise ReportError(f"is not JSON: {exc.msg}", exc.lineno) from None
    try:
        doc = parse_yaml(text)  # JSON is YAML: only for the line of each value
    except YamlError:
        doc = Document(data)
    if not isinstance(data, dict):
        raise ReportError("is not a JSON object", 1)
    kind = fmt or detect(data)
    if kind == "mlflow":
        raise ReportError("is a file, but an MLflow run is a directory (mlruns/<experiment id>/<run id>)", 1)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    scores = _sagemaker(data, doc, source) if kind == "sagemaker" else _plain(data, doc, source)
    scores.digest = digest
    return scores


def _sagemaker(data: dict[str, Any], doc: Document, source: str) -> Scores:
    groups = [g for g in SAGEMAKER_GROUPS if isinstance(data.get(g), dict)]
    if not groups:
        raise ReportError(f"has none of {', '.join(SAGEMAKER_GROUPS)}: it is not a SageMaker model quality report", 1)
    metrics = _sagemaker_group(data, doc, ())
    slices: dict[str, dict[str, Score]] = {}
    raw = data.get("slices")
    if isinstance(raw, dict):
        for name, body in raw.items():
            if isinstance(body, dict):
                slices[str(name)] = _sagemaker_group(body, doc, ("slices", name))
    scores = Scores(source, "sagemaker", metrics, slices)
    _sha_and_dataset(scores, data, doc)
    return scores


def _sagemaker_group(data: dict[str, Any], doc: Document, base: tuple[str, ...]) -> dict[str, Score]:
    out: dict[str, Score] = {}
    for group in SAGEMAKER_GROUPS:
        body = data.get(group)
        if not isinstance(body, dict):
            continue
        for name, entry in body.items():
            value = _number(entry.get("value")) if isinstance(entry, dict) else None
            if value is None:
                continue  # a confusion matrix or a curve, not a metric
            if name in out:
                raise ReportError(f"metric '{name}' is in two problem types; one report scores one model",
                                  doc.pos((*base, group, name)).line)
            out[str(name)] = Score(value, doc.pos((*base, group, name, "value")).line)
    return out


def _plain(data: dict[str, Any], doc: Document, source: str) -> Scores:
    if isinstance(data.get("metrics"), dict):
        metrics = _numbers(data["metrics"], doc, ("metrics",))
    else:
        skip = {"slices", "dataset", *SHA_KEYS, "sha256"}
        metrics = _numbers({k: v for k, v in data.items() if k not in skip}, doc, ())
    slices: dict[str, dict[str, Score]] = {}
    raw = data.get("slices")
    if isinstance(raw, dict):
        for name, body in raw.items():
            if isinstance(body, dict):
                slices[str(name)] = _numbers(body, doc, ("slices", name))
    if not metrics and not slices:
        raise ReportError("has no metric: expected {\"metrics\": {\"<name>\": <number>}} or numbers at the top "
                          "level", 1)
    scores = Scores(source, "json", metrics, slices)
    _sha_and_dataset(scores, data, doc)
    return scores


def _numbers(table: dict[str, Any], doc: Document, base: tuple[str, ...]) -> dict[str, Score]:
    """`{name: number}` or `{name: {"value": number}}` entries; other entries are not metrics."""
    out: dict[str, Score] = {}
    for name, raw in table.items():
        value, path = _number(raw), (*base, name)
        if value is None and isinstance(raw, dict):
            value, path = _number(raw.get("value")), (*base, name, "value")
        if value is not None:
            out[str(name)] = Score(value, doc.pos(path).line)
    return out


def _sha_and_dataset(scores: Scores, data: dict[str, Any], doc: Document) -> None:
    for key in (*SHA_KEYS, "sha256"):
        value = as_text(data.get(key))
        if isinstance(value, str) and value.strip():
            scores.artifact_sha256 = _sha(value, f"key {key}", doc.pos((key,)).line)
            scores.artifact_sha256_from = f"its {key} (line {doc.pos((key,)).line})"
            break
    dataset = data.get("dataset")
    if isinstance(dataset, dict):
        stated = {k: str(as_text(dataset[k])).strip() for k in DATASET_KEYS
                  if dataset.get(k) is not None and str(as_text(dataset[k])).strip()}
        if stated.get("uri"):
            scores.dataset = stated


def _sha(value: str, what: str, line: int | None = None) -> str:
    digest = value.strip().lower().removeprefix("sha256:")
    if not _HEX64.fullmatch(digest):
        raise ReportError(f"{what} '{value.strip()}' is not a sha256 (64 hex digits)", line)
    return digest


# -- MLflow's file store ----------------------------------------------------------------------------------------

def is_mlflow_run(path: Path) -> bool:
    return path.is_dir() and (path / "meta.yaml").is_file()


def read_mlflow_run(workspace: Workspace, run: Path, artifact_name: str | None = None) -> Scores:
    """An MLflow run directory of a file store, read through the workspace (confined, size-limited). Raises
    ReportError. `artifact_name` is the file name of the deployed artifact: a file of that name logged in the
    run's artifacts/ is hashed for the artifact's sha when no tag states it."""
    source = workspace.rel(run)
    meta_text = _read(workspace, run / "meta.yaml")
    try:
        meta = parse_yaml(meta_text).data
    except YamlError as exc:
        raise ReportError(f"meta.yaml is not YAML: {exc.message}", exc.line) from None
    if not isinstance(meta, dict) or "run_id" not in meta:
        raise ReportError("meta.yaml has no run_id: this is not an MLflow run directory (mlruns/<experiment id>/"
                          "<run id>)", 1)
    digest = hashlib.sha256()
    digest.update(b"meta.yaml\0" + meta_text.encode("utf-8") + b"\0")
    notes = []
    status = meta.get("status")
    status_name = _MLFLOW_STATUS.get(status, str(status)) if isinstance(status, int) else str(status)
    if status_name != "FINISHED":
        notes.append(f"the MLflow run's status is {status_name}, not FINISHED: its metrics may be incomplete")
    if str(meta.get("lifecycle_stage", "active")) != "active":
        notes.append(f"the MLflow run is {meta.get('lifecycle_stage')} (lifecycle_stage), not active")
    metrics: dict[str, Score] = {}
    slices: dict[str, dict[str, Score]] = {}
    for name, text in _files(workspace, run / "metrics", digest, "metrics"):
        value = _latest(text, f"metrics/{name}")
        if "/" in name:
            slice_name, _, metric = name.rpartition("/")
            slices.setdefault(slice_name, {})[metric] = Score(value)
        else:
            metrics[name] = Score(value)
    values: dict[str, str] = {}
    for kind in ("params", "tags"):
        for name, text in _files(workspace, run / kind, digest, kind):
            values.setdefault(name, text.strip())
    if not metrics and not slices:
        raise ReportError("has no metric in metrics/: the run logged nothing to judge", 1)
    scores = Scores(source, "mlflow", metrics, slices, digest=digest.hexdigest(), notes=notes)
    for key in (*SHA_KEYS, "sha256"):
        if values.get(key):
            scores.artifact_sha256 = _sha(values[key], f"the run's {key}")
            scores.artifact_sha256_from = f"the run's {key}"
            break
    if scores.artifact_sha256 is None and artifact_name:
        logged = run / "artifacts" / artifact_name
        if logged.is_file():
            scores.artifact_sha256 = sha256_file(logged, root=workspace.root)[0]
            scores.artifact_sha256_from = f"the logged artifact {workspace.rel(logged)} (hashed)"
    stated = {k: values[f"dataset.{k}"] for k in DATASET_KEYS if values.get(f"dataset.{k}")}
    if stated.get("uri"):
        scores.dataset = stated
    return scores


def _read(workspace: Workspace, path: Path) -> str:
    try:
        return workspace.read_text(path)
    except EvidenceError as exc:
        raise ReportError(f"{workspace.rel(path)} {exc.message}") from None


def _files(workspace: Workspace, folder: Path, digest: Any, kind: str) -> list[tuple[str, str]]:
    """(name, text) of every file below `folder`, names relative to it with `/`, in sorted order."""
    if not folder.is_dir():
        return []
    root = workspace.root.resolve()
    out = []
    paths = []
    for path in folder.rglob("*"):
        if path.is_file():
            paths.append(path)
            if len(paths) > MAX_RUN_FILES:
                raise ReportError(f"{workspace.rel(folder)} holds more than {MAX_RUN_FILES} files")
    for path in sorted(paths):
        if root not in path.resolve().parents:
            raise ReportError(f"{workspace.rel(path)} leads out of the repository")
        name = path.relative_to(folder).as_posix()
        text = _read(workspace, path)
        digest.update(f"{kind}/{name}\0".encode() + text.encode("utf-8") + b"\0")
        out.append((name, text))
    return out


def _latest(text: str, where: str) -> float:
    """The value of the latest step (then the latest timestamp) of an MLflow metric file."""
    best: tuple[int, int, float] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            timestamp, value = int(parts[0]), float(parts[1])
            step = int(parts[2]) if len(parts) > 2 else 0
        except (ValueError, IndexError):
            raise ReportError(f"{where} line {number} is not `<timestamp> <value> <step>`", number) from None
        key = (step, timestamp, value)
        if best is None or key[:2] >= best[:2]:
            best = key
    if best is None or not math.isfinite(best[2]):
        raise ReportError(f"{where} has no finite value")
    return best[2]


# -- where a report is ------------------------------------------------------------------------------------------

def read_in_tree(workspace: Workspace, path: Path, fmt: str | None = None,
                 artifact_name: str | None = None) -> Scores:
    """A report in the work tree: a file (SageMaker or plain JSON) or an MLflow run directory. Raises
    ReportError (or EvidenceError for a file that cannot be read)."""
    if path.is_dir():
        if fmt not in (None, "mlflow") or not is_mlflow_run(path):
            raise ReportError("is a directory but not an MLflow run (no meta.yaml)" if fmt in (None, "mlflow")
                              else f"is a directory, not a {fmt} report file")
        return read_mlflow_run(workspace, path, artifact_name)
    scores = parse_report(workspace.read_text(path), workspace.rel(path), fmt)
    scores.file = scores.source
    return scores


def read_at_commit(workspace: Workspace, rev: str, rel: str, fmt: str | None = None) -> Scores | None:
    """A report file as committed at `rev` (None when the commit has no such file). Raises ReportError."""
    if fmt == "mlflow":
        raise ReportError("an MLflow run is read from the work tree; a report at a commit must be a JSON file")
    text = workspace.git.file_at(rev, rel)
    if text is None:
        return None
    return parse_report(text, f"{rel} at {rev}", fmt)
