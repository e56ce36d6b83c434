"""The provenance manifest: what data, code, dependencies and seed produced one model artifact.

A training job writes it once, when the artifact exists, with `mlgate manifest ARTIFACT --started ...` or, from
Python, one line at the end of the training script::

    import mlgate.manifest                       # at the top: the import time is the default training start
    ...
    mlgate.manifest.write("model/model.tar.gz")  # reads mlgate.yaml and the repository, writes the manifest

REP005 reads the same file back and checks that every field agrees with the spec and with the repository. The
file is JSON; its shape is the `ArtifactManifest` model below (`mlgate manifest --schema` prints it as JSON Schema), and
`mlgate_manifest` is its version. Version 1:

- ``mlgate_manifest``: 1. ``generated_by``: the mlgate that wrote it. ``spec``: the spec it was written from
  (repository-relative).
- ``model``: name and version, from the spec.
- ``artifact``: ``uri`` where the artifact is stored, its ``sha256`` (of the file's bytes), its ``size`` when a
  local file was hashed, and the SageMaker ``model_package_arn`` when it was registered.
- ``data``: every dataset of the spec, with its uri and the pins as the spec writes them (``version``,
  ``as_of``, ``snapshot_id``, ``sha256``, ``dvc``, ``manifest``); for a DVC-tracked dataset, ``content_hash``
  is the hash its .dvc file recorded when training ran (``md5:...``).
- ``code``: the full ``commit`` training ran from, the ``repository`` (a remote URL, credentials removed), the
  training code ``paths`` (repository-relative) and ``uncommitted``: files under them that differed from the
  commit when the manifest was written (empty when training ran from a clean checkout).
- ``dependencies``: the ``lockfile`` (repository-relative) and the sha256 of its bytes *as committed at
  code.commit*, read from git (so a lockfile edited after training does not change it).
- ``seed``: the seed training used. ``frameworks``: name -> version of the ML libraries installed where
  training ran. ``training``: ``started`` and ``ended``, ISO 8601 with a time zone (written in UTC).
- ``evaluation`` (with ``--evaluation FILE``): the evaluation ``report`` (repository-relative), its ``format``,
  the ``sha256`` of what was read (the file's bytes; for an MLflow run, see mlgate.evidence.evaluation), its
  ``metrics`` and ``slices`` as numbers, and the evaluation ``dataset`` of the spec. It ties a report that does not
  name the artifact (a SageMaker model quality JSON) to the artifact's sha256 (EVL001).
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from mlgate import __version__
from mlgate.errors import EvidenceError, UsageError
from mlgate.evidence.git import public_url
from mlgate.parsers import load_json
from mlgate.paths import sha256_file
from mlgate.yamlload import Document, YamlError, parse_yaml

if TYPE_CHECKING:
    from mlgate.evidence.workspace import Workspace
    from mlgate.result import Deployment, Report
    from mlgate.spec.load import LoadedSpec

MANIFEST_VERSION = 1
_IMPORTED_AT = dt.datetime.now(dt.UTC)  # the default training start for a script that imports this at its top
SHA256_PATTERN = r"^[0-9a-f]{64}$"
COMMIT_PATTERN = r"^([0-9a-f]{40}|[0-9a-f]{64})$"
PIN_FIELDS = ("version", "as_of", "snapshot_id", "sha256", "dvc", "manifest")
# The ML libraries whose installed versions a manifest records (distribution names, as pip knows them).
FRAMEWORKS = ("torch", "tensorflow", "keras", "jax", "scikit-learn", "xgboost", "lightgbm", "catboost",
              "transformers", "lightning", "pytorch-lightning", "sentence-transformers", "statsmodels",
              "onnxruntime", "numpy", "pandas", "scipy")


# -- the schema ---------------------------------------------------------------------------------------------------

class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ModelRecord(_Record):
    name: str | None = None
    version: str | None = None


class ArtifactRecord(_Record):
    uri: str = Field(description="Where the artifact is stored (s3://..., or a path in the repository).")
    sha256: str = Field(pattern=SHA256_PATTERN, description="sha256 of the artifact file's bytes, lowercase hex.")
    size: int | None = Field(None, ge=0, description="Bytes hashed, when the manifest writer hashed a local file.")
    model_package_arn: str | None = Field(None, description="The SageMaker model package it was registered as.")


class DatasetRecord(_Record):
    name: str | None = None
    uri: str | None = None
    version: str | None = None
    as_of: str | None = None
    snapshot_id: str | None = None
    sha256: str | None = None
    dvc: str | None = None
    manifest: str | None = None
    content_hash: str | None = Field(None, description="For a DVC-tracked dataset: the hash its .dvc file "
                                                       "recorded when training ran, as `md5:<hex>`.")


class CodeRecord(_Record):
    commit: str = Field(pattern=COMMIT_PATTERN, description="The full sha training ran from.")
    repository: str | None = Field(None, description="The repository's remote URL, without credentials.")
    paths: list[str] = Field(default_factory=list, description="Training code, repository-relative.")
    uncommitted: list[str] = Field(default_factory=list, description="Files under `paths` that differed from "
                                                                      "`commit` when training ran.")


class DependenciesRecord(_Record):
    lockfile: str = Field(description="Repository-relative path of the lockfile.")
    sha256: str | None = Field(None, pattern=SHA256_PATTERN, description="sha256 of the lockfile's bytes as "
                                                                          "committed at code.commit; null when "
                                                                          "it was not committed there.")


class EvaluationRecord(_Record):
    report: str = Field(description="The evaluation report, repository-relative (a file or an MLflow run).")
    format: Literal["sagemaker", "mlflow", "json"]
    sha256: str = Field(pattern=SHA256_PATTERN, description="sha256 of the report as read (see "
                                                            "mlgate.evidence.evaluation).")
    metrics: dict[str, float] = Field(default_factory=dict)
    slices: dict[str, dict[str, float]] = Field(default_factory=dict)
    dataset: DatasetRecord | None = Field(None, description="The evaluation dataset of the spec.")


class TrainingRecord(_Record):
    started: AwareDatetime
    ended: AwareDatetime


class ArtifactManifest(_Record):
    """A provenance manifest (version 1): what data, code, dependencies and seed produced one artifact."""

    model_config = ConfigDict(extra="forbid", title="mlgate provenance manifest (version 1)")

    mlgate_manifest: Literal[1] = Field(description="Manifest format version; 1 is the only one.")
    generated_by: str = Field(description="The tool that wrote the manifest, e.g. `mlgate 0.1.0`.")
    spec: str | None = Field(None, description="The deployment spec it was written from, repository-relative.")
    model: ModelRecord = Field(default_factory=ModelRecord)
    artifact: ArtifactRecord
    data: list[DatasetRecord] = Field(default_factory=list)
    code: CodeRecord
    dependencies: DependenciesRecord | None = None
    seed: int | None = None
    frameworks: dict[str, str] = Field(default_factory=dict, description="Installed version of each ML library.")
    training: TrainingRecord
    evaluation: EvaluationRecord | None = Field(None, description="The evaluation report of this artifact.")


def json_schema() -> dict[str, Any]:
    schema = ArtifactManifest.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://mlgate.dev/schema/mlgate-manifest-1.json"
    return schema


def dump(manifest: ArtifactManifest) -> str:
    """The manifest as JSON text (stable key order, UTC times; a field with no value is left out)."""
    return json.dumps(manifest.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False) + "\n"


# -- reading ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """Why a provenance manifest cannot be read, and the line that shows it."""
    message: str
    line: int


class ManifestError(Exception):
    """A manifest file that is not a valid version-1 manifest; `problems` has one entry per wrong field."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems[0].message)
        self.problems = problems


def parse(text: str) -> tuple[ArtifactManifest, Document]:
    """A manifest from its JSON text, with the positions of its fields. Raises ManifestError."""
    try:
        data = load_json(text)
    except json.JSONDecodeError as exc:
        raise ManifestError([Problem(f"is not JSON: {exc.msg}", exc.lineno)]) from None
    try:
        doc = parse_yaml(text)  # JSON is YAML: only for the line of each field
    except YamlError:
        doc = Document(data)
    if not isinstance(data, dict):
        raise ManifestError([Problem("is not a JSON object", 1)])
    version = data.get("mlgate_manifest")
    if version != MANIFEST_VERSION:
        what = "has no mlgate_manifest version" if version is None else f"is version {version!r}"
        raise ManifestError([Problem(f"{what}; this mlgate reads version {MANIFEST_VERSION} manifests",
                                     doc.pos(("mlgate_manifest",)).line)])
    try:
        return ArtifactManifest.model_validate(data), doc
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(err["loc"])
            name = ".".join(str(p) for p in loc) or "(top)"
            problems.append(Problem(f"{name}: {err['msg'].lower()}", doc.pos(loc).line))
        raise ManifestError(problems) from None


def load(path: Path) -> ArtifactManifest:
    """A manifest file, for tools (raises ManifestError or EvidenceError)."""
    from mlgate.yamlload import read_text

    try:
        return parse(read_text(path))[0]
    except YamlError as exc:
        raise EvidenceError(exc.message, path=str(path)) from None


# -- helpers the writer and REP005 share --------------------------------------------------------------------------

def same_repository(a: str, b: str) -> bool:
    """Whether two remote URLs name the same repository (https, ssh and scp-style forms; `.git` optional)."""
    return _repo_key(a) == _repo_key(b)


def _repo_key(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme and parts.netloc:
        host, path = parts.hostname or "", parts.path
    elif ":" in url and "/" not in url.split(":", 1)[0]:  # scp-like: git@github.com:org/repo.git
        host, path = url.split(":", 1)[0].rsplit("@", 1)[-1], url.split(":", 1)[1]
    else:
        host, path = "", url
    path = path.strip("/")
    path = path.removesuffix(".git")
    return f"{host.lower()}/{path.lower() if host else path}"


def dvc_content_hash(text: str, dvc_dir: Path, target: Path | None) -> str | None:
    """`md5:<hex>` (or sha256/etag/checksum) of the outs entry of a .dvc file that tracks `target` (or its only
    entry), or None when the file records none."""
    try:
        data = parse_yaml(text).data
    except YamlError:
        return None
    outs = data.get("outs") if isinstance(data, dict) else None
    if not isinstance(outs, list):
        return None
    entries = [o for o in outs if isinstance(o, dict)]
    chosen = entries[0] if len(entries) == 1 else None
    for out in entries:
        path = out.get("path")
        if target is not None and isinstance(path, str) and path.strip():
            try:
                if (dvc_dir / path).resolve() == target.resolve():
                    chosen = out
                    break
            except (OSError, RuntimeError):
                continue
    if chosen is None:
        return None
    for name in ("md5", "sha256", "etag", "checksum"):
        value = chosen.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            return f"{name}:{str(value).strip()}"
    return None


def installed_frameworks() -> dict[str, str]:
    """The installed version of each known ML library in this Python environment."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in FRAMEWORKS:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def utc(moment: dt.datetime) -> dt.datetime:
    """An aware UTC time, to the second (a naive time is taken as local time, as datetime.now() gives it)."""
    aware = moment if moment.tzinfo is not None else moment.astimezone()
    return aware.astimezone(dt.UTC).replace(microsecond=0)


# -- writing ------------------------------------------------------------------------------------------------------

@dataclass
class Built:
    """A provenance manifest made for an artifact, and what the training job and the spec should know."""
    manifest: ArtifactManifest
    output: Path | None  # where the spec says the manifest goes (provenance.artifact.manifest), if it says
    spec_file: Path
    notes: list[str] = field(default_factory=list)  # what the training job should know (printed, or warned)
    spec_updates: dict[str, str] = field(default_factory=dict)  # spec field -> value that would link the manifest


def build(artifact: str | Path | None = None, *, spec: str | Path = "mlgate.yaml", sha256: str | None = None,
          uri: str | None = None, commit: str | None = None, started: dt.datetime | None = None,
          ended: dt.datetime | None = None, frameworks: Mapping[str, str] | None = None, detect: bool = True,
          repository: str | None = None, model_package_arn: str | None = None,
          evaluation: str | Path | None = None) -> Built:
    """Build the manifest of `artifact` (a local file, hashed) from the spec and the repository; `evaluation` is
    the artifact's evaluation report (a file or an MLflow run directory in the repository), recorded with its sha256
    and metrics.

    Raises UsageError when the inputs cannot make a manifest (no spec, not a git repository, no artifact hash)."""
    from mlgate.evidence.workspace import Workspace
    from mlgate.paths import find_repo_root
    from mlgate.spec.load import is_local, load_spec

    spec_file = Path(spec)
    if not spec_file.is_file():
        raise UsageError(f"{spec}: no such spec file", hint="pass the deployment spec with --spec")
    root = find_repo_root(spec_file.resolve().parent)
    if root is None:
        raise UsageError(f"{spec} is not inside a git repository: a manifest records the commit training ran from")
    loaded = load_spec(spec_file, root=root)
    workspace = Workspace(root)
    git = workspace.git
    prov = loaded.spec.provenance
    notes: list[str] = []

    # the artifact
    art = prov.artifact if prov else None
    size = None
    if artifact is not None:
        path = Path(artifact)
        if not path.is_file():
            raise UsageError(f"artifact {artifact}: no such file")
        digest, size = sha256_file(path)
        if sha256 and sha256.lower() != digest:
            raise UsageError(f"--sha256 {sha256} is not the sha256 of {artifact} ({digest})")
    elif sha256:
        digest = sha256.strip().lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise UsageError(f"sha256 '{sha256}' is not a sha256 (64 hex digits)")
    else:
        raise UsageError("no artifact: give the artifact file (it is hashed) or its sha256")
    where = uri or (art.uri if art else None)
    if where is None and artifact is not None:
        resolved = Path(artifact).resolve()
        if resolved.is_relative_to(root.resolve()):
            where = Path(_relpath(resolved, loaded.base)).as_posix()
    if not where:
        raise UsageError("no artifact uri: pass --uri (where the artifact is stored) or set "
                         "provenance.artifact.uri in the spec")
    if art and art.uri and where != art.uri:
        notes.append(f"the artifact uri {where} is not the spec's provenance.artifact.uri ({art.uri})")
    if art and art.sha256 and art.sha256.lower() != digest:
        notes.append(f"the spec records artifact sha256 {art.sha256}; this artifact's is {digest}")
    arn = model_package_arn or (art.model_package_arn if art else None)

    # the code
    rev = commit or "HEAD"
    sha = git.resolve_commit(rev)
    if sha is None:
        raise UsageError(f"commit '{rev}' does not resolve in {root}" if commit else
                         f"{root} has no commit yet: commit the training code, then train")
    code = prov.code if prov else None
    paths = [_repo_rel(workspace, loaded.base, p) for p in (code.paths if code else [])]
    uncommitted = git.changed_under(sha, paths, to=None) if paths else []
    if uncommitted:
        notes.append(f"training code differs from commit {sha[:12]}: {', '.join(uncommitted[:8])}: no commit holds "
                     "the code that trained this artifact (REP005 fails until it is retrained from a commit)")
    if not paths:
        notes.append("the spec lists no provenance.code.paths, so uncommitted training code cannot be detected")
    repo_url = repository or (code.repository if code else None)
    if repo_url is None:
        urls = git.remote_urls
        repo_url = urls.get("origin") or (next(iter(urls.values())) if urls else None)
    repo_url = public_url(repo_url) if repo_url else None

    # data, dependencies, seed
    datasets = []
    for ds in prov.data if prov else []:
        content_hash = None
        if ds.dvc:
            dvc_path = workspace.resolve(loaded.base, ds.dvc)
            target = workspace.resolve(loaded.base, ds.uri) if ds.uri and is_local(ds.uri) else None
            try:
                content_hash = dvc_content_hash(workspace.read_text(dvc_path), dvc_path.parent, target)
            except EvidenceError as exc:
                notes.append(f"dataset {ds.name or ds.uri}: {ds.dvc} {exc.message}")
        datasets.append(DatasetRecord(name=ds.name, uri=ds.uri, content_hash=content_hash,
                                      **{k: getattr(ds, k) for k in PIN_FIELDS}))
    dependencies = None
    deps = prov.dependencies if prov else None
    if deps and deps.lockfile:
        lock_rel = _repo_rel(workspace, loaded.base, deps.lockfile)
        lock_sha = git.blob_sha256(sha, lock_rel)
        if lock_sha is None:
            notes.append(f"lockfile {lock_rel} is not committed at {sha[:12]}: the environment is not pinned")
        dependencies = DependenciesRecord(lockfile=lock_rel, sha256=lock_sha)
    seed = prov.seed.value if prov and prov.seed else None

    found = installed_frameworks() if detect else {}
    found.update(frameworks or {})
    start = utc(started or _IMPORTED_AT)
    end = utc(ended or dt.datetime.now(dt.UTC))
    if end < start:
        raise UsageError(f"training ended ({end.isoformat()}) before it started ({start.isoformat()})")
    evaluated = _evaluation_record(workspace, loaded, Path(evaluation), where, notes) if evaluation else None
    model = loaded.spec.model
    manifest = ArtifactManifest(
        mlgate_manifest=1, generated_by=f"mlgate {__version__}", spec=loaded.rel,
        model=ModelRecord(name=model.name if model else None, version=model.version if model else None),
        artifact=ArtifactRecord(uri=where, sha256=digest, size=size, model_package_arn=arn),
        data=datasets,
        code=CodeRecord(commit=sha, repository=repo_url, paths=paths, uncommitted=uncommitted),
        dependencies=dependencies, seed=seed, frameworks=dict(sorted(found.items())),
        training=TrainingRecord(started=start, ended=end), evaluation=evaluated,
    )
    output = workspace.resolve(loaded.base, art.manifest) if art and art.manifest else None
    updates = {}
    if not (code and code.commit and git.resolve_commit(code.commit) == sha):
        updates["provenance.code.commit"] = sha
    if not (art and art.sha256 and art.sha256.lower() == digest):
        updates["provenance.artifact.sha256"] = digest
    if not (art and art.uri):
        updates["provenance.artifact.uri"] = where
    return Built(manifest, output, spec_file, notes, updates)


def _evaluation_record(workspace: Workspace, loaded: LoadedSpec, report: Path, artifact_uri: str,
                       notes: list[str]) -> EvaluationRecord:
    """The evaluation report, read as EVL001 reads it, for the manifest."""
    from mlgate.evidence.evaluation import ReportError, read_in_tree
    from mlgate.paths import PathEscape, confine

    try:
        path = confine(workspace.root, Path.cwd(), _relpath(report.absolute(), Path.cwd()))
    except PathEscape:
        raise UsageError(f"--evaluation {report}: the report must be inside the repository ({workspace.root})",
                         hint="EVL001 reads it from there") from None
    if not path.exists():
        raise UsageError(f"--evaluation {report}: no such file or MLflow run directory")
    spec_eval = loaded.spec.evaluation
    fmt = spec_eval.format if spec_eval and spec_eval.format else None
    try:
        scores = read_in_tree(workspace, path, fmt, PurePosixPath(artifact_uri).name or None)
    except ReportError as exc:
        raise UsageError(f"--evaluation {report}: {exc.message}", line=exc.line) from None
    except EvidenceError as exc:
        raise UsageError(f"--evaluation {report}: {exc.message}") from None
    notes.extend(scores.notes)
    rel = workspace.rel(path)
    written = confine(workspace.root, loaded.base, spec_eval.report) if spec_eval and spec_eval.report else None
    if written != path:
        notes.append(f"the spec's evaluation.report is not {rel}: set it, or EVL001 reads another report")
    ds = spec_eval.dataset if spec_eval else None
    dataset = DatasetRecord(name=ds.name, uri=ds.uri, **{k: getattr(ds, k) for k in PIN_FIELDS}) if ds else None
    if dataset is None:
        notes.append("the spec names no evaluation.dataset: the manifest cannot say what data the report scored")
    return EvaluationRecord(report=rel, format=scores.format, sha256=scores.digest,  # type: ignore[arg-type]
                            metrics={k: v.value for k, v in scores.metrics.items()},
                            slices={n: {k: v.value for k, v in t.items()} for n, t in scores.slices.items()},
                            dataset=dataset)


def _repo_rel(workspace: Workspace, base: Path, written: str) -> str:
    rel = workspace.rel(workspace.resolve(base, written))
    return "" if rel == "." else rel


def _relpath(path: Path, base: Path) -> str:
    import os

    return os.path.relpath(path, base.resolve())


class ManifestWarning(UserWarning):
    """Something a training job should know about the manifest it wrote (uncommitted code, a lock not committed)."""


def write(artifact: str | Path | None = None, *, spec: str | Path = "mlgate.yaml", output: str | Path | None = None,
          sha256: str | None = None, uri: str | None = None, commit: str | None = None,
          started: dt.datetime | None = None, ended: dt.datetime | None = None,
          frameworks: Mapping[str, str] | None = None, detect: bool = True, repository: str | None = None,
          model_package_arn: str | None = None, evaluation: str | Path | None = None) -> Path:
    """Write the provenance manifest of `artifact` from a training script; returns the file written.

    `output` defaults to the spec's provenance.artifact.manifest. `started` defaults to when this module was
    first imported (import it at the top of the training script), `ended` to now. Framework versions are read
    from the running environment (`detect`), then `frameworks` adds to or overrides them. Warnings
    (`ManifestWarning`) say what would make REP005 fail, such as training code that differs from the commit.
    """
    built = build(artifact, spec=spec, sha256=sha256, uri=uri, commit=commit, started=started, ended=ended,
                  frameworks=frameworks, detect=detect, repository=repository, model_package_arn=model_package_arn,
                  evaluation=evaluation)
    target = Path(output) if output is not None else built.output
    if target is None:
        raise UsageError("no place to write the manifest: pass output=... or set provenance.artifact.manifest")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dump(built.manifest), encoding="utf-8", newline="\n")
    for note in built.notes:
        warnings.warn(note, ManifestWarning, stacklevel=2)
    return target


# -- `mlgate provenance`: one screen per deployment ---------------------------------------------------------------

def render_provenance(report: Report, specs: list[LoadedSpec]) -> str:
    """What data and code produced each model, from the spec and its manifest, with the REP rules' verdict."""
    from mlgate.evidence.workspace import Workspace
    from mlgate.textsafe import no_workflow_commands, one_line

    workspaces: dict[Path, Workspace] = {}
    blocks = []
    for deployment, loaded in zip(report.deployments, specs, strict=True):
        workspace = workspaces.setdefault(loaded.root, Workspace(loaded.root))
        lines = _provenance_lines(deployment, loaded, workspace)
        blocks.append("\n".join(one_line(line) if i == 0 or not line else "  " + one_line(line)
                                for i, line in enumerate(lines)))
    return no_workflow_commands("\n\n".join(blocks) + "\n")


def _provenance_lines(d: Deployment, loaded: LoadedSpec, workspace: Workspace) -> list[str]:
    p = d.provenance
    prov = loaded.spec.provenance
    title = " ".join(str(v) for v in (p.get("model"), p.get("model_version")) if v) or "(no model name)"
    lines = [f"{title} ({d.spec})"]
    manifest, manifest_note = _manifest_for(loaded, workspace)
    art = manifest.artifact if manifest else None
    lines.append(f"{'artifact':<11}{p.get('artifact') or (art.uri if art else '(not stated)')}")
    sha = p.get("artifact_sha256") or (art.sha256 if art else None)
    if sha:
        lines.append(f"{'':<11}sha256 {sha}")
    if prov and prov.artifact and prov.artifact.model_package_arn:
        lines.append(f"{'':<11}model package {prov.artifact.model_package_arn}")
    lines.append(f"{'manifest':<11}{manifest_note}")
    if manifest:
        start, end = manifest.training.started.astimezone(dt.UTC), manifest.training.ended.astimezone(dt.UTC)
        minutes = round((end - start).total_seconds() / 60)
        until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
        lines.append(f"{'trained':<11}{start:%Y-%m-%d %H:%M} to {until} UTC ({minutes} min)")
    lines.append(f"{'code':<11}{_commit_text(p.get('commit'), workspace)}")
    if p.get("code_paths"):
        lines.append(f"{'':<11}training code {', '.join(p['code_paths'])}")
    data = p.get("data") or []
    if not data:
        lines.append(f"{'data':<11}(not stated)")
    width = max((len(str(ds.get('name') or '-')) for ds in data), default=0)
    read = {r.name: r.content_hash for r in manifest.data if r.content_hash} if manifest else {}
    for i, ds in enumerate(data):
        name = str(ds.get("name") or "-")
        pin = " ".join(str(x) for x in (ds.get("pin"), read.get(ds.get("name"))) if x)
        lines.append(f"{'data' if i == 0 else '':<11}{name:<{width}}  {ds.get('uri')}  {pin}".rstrip())
    if p.get("lockfile"):
        if manifest and manifest.dependencies and manifest.dependencies.sha256:
            lock_sha = f"sha256 {manifest.dependencies.sha256} at {manifest.code.commit[:7]}"
        else:
            lock_sha = f"sha256 {p.get('lockfile_sha256') or '(unreadable)'} (work tree)"
        lines.append(f"{'lockfile':<11}{p['lockfile']}  {lock_sha}")
    else:
        lines.append(f"{'lockfile':<11}(not stated)")
    if manifest and manifest.frameworks:
        lines.append(f"{'frameworks':<11}{', '.join(f'{k} {v}' for k, v in manifest.frameworks.items())}")
    seed = p.get("seed")
    source = prov.seed.source if prov and prov.seed and prov.seed.source else None
    lines.append(f"{'seed':<11}{seed if seed is not None else '(not stated)'}{f' ({source})' if source else ''}")
    lines += _evaluation_lines(d.evaluation)
    lines.append("")
    for r in d.results:
        problem = next((f.message for f in r.findings if f.status in ("fail", "error", "warn")), None)
        text = f"{r.rule.id} {r.status:<6} {r.rule.title}"
        if problem:
            text += f": {problem if len(problem) <= 160 else problem[:159] + '…'}"
        lines.append(text)
    bad = [r for r in d.results if r.status in ("fail", "error")]
    ids = [r.rule.id for r in d.results]
    span = f"{ids[0]}-{ids[-1]}" if len(ids) > 1 else "".join(ids)
    if not d.results:
        lines.append("no REP rule ran (skipped in the config?)")
    elif bad:
        lines.append(f"provenance NOT verified: {', '.join(r.rule.id for r in bad)} "
                     f"{'fail' if len(bad) != 1 else 'fails'}; `mlgate check {d.spec} --select REP` shows the fixes")
    else:
        lines.append(f"provenance verified: {span} hold")
    return lines


def _evaluation_lines(block: dict[str, Any] | None) -> list[str]:
    """The evaluation block of the reports, candidate against production, as lines of `mlgate provenance`."""
    if block is None:
        return [f"{'evaluation':<11}(not stated)"]
    lines = [f"{'evaluation':<11}{block.get('candidate') or '(no readable report)'}"
             f" against {block.get('production') or '(no production compared)'}"]
    if block.get("dataset"):
        lines.append(f"{'':<11}on {block['dataset']}")
    if block.get("note"):
        lines.append(f"{'':<11}{block['note']}")

    def number(value: Any) -> str:
        return "-" if value is None else f"{value:.6g}"

    passed = []  # one screen: the passes on one line, each problem on its own
    for row in block.get("rows") or []:
        name = f"{row['metric']} [{row['slice']}]" if row.get("slice") else str(row["metric"])
        diff = f" ({row['difference']:+.6g})" if row.get("difference") is not None else ""
        if row["verdict"] == "pass":
            passed.append(f"{name} {number(row.get('candidate'))}{diff}")
        else:
            lines.append(f"{'':<11}FAIL {name}: {number(row.get('candidate'))} vs {number(row.get('production'))}"
                         f"{diff}: {row.get('why')}")
    if passed:
        lines.append(f"{'':<11}pass {', '.join(passed)}")
    return lines


def _manifest_for(loaded: LoadedSpec, workspace: Workspace) -> tuple[ArtifactManifest | None, str]:
    prov = loaded.spec.provenance
    written = prov.artifact.manifest if prov and prov.artifact else None
    if not written:
        return None, "(none: no provenance.artifact.manifest)"
    try:
        path = workspace.resolve(loaded.base, written)
        rel = workspace.rel(path)
        if not path.is_file():
            return None, f"{rel} (does not exist)"
        manifest, _ = parse(workspace.read_text(path))
    except EvidenceError as exc:
        return None, f"{written} (unreadable: {exc.message})"
    except ManifestError as exc:
        return None, f"{rel} (invalid: {exc.problems[0].message})"
    return manifest, f"{rel} ({manifest.generated_by})"


def _commit_text(commit: str | None, workspace: Workspace) -> str:
    if not commit:
        return "(no commit stated)"
    try:
        info = workspace.git.commit_info(commit)
    except EvidenceError:
        info = None
    if info is None:
        return f"{commit} (not in this repository)"
    shown = info.sha if commit.lower() == info.sha else f"{commit} -> {info.sha}"
    return f"{shown} ({info.date}) \"{info.subject}\""
