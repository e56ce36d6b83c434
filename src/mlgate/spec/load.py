"""Load mlgate.yaml: safe YAML with positions, then the pydantic models, with errors a person can act on."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mlgate.errors import UsageError
from mlgate.paths import PathEscape, confine, find_repo_root, repo_relative
from mlgate.spec.models import Spec
from mlgate.spelling import closest
from mlgate.yamlload import Document, PathT, Pos, YamlError, load_yaml_file

SCHEMA_URL = "https://mlgate.dev/schema/mlgate-spec-1.json"


@dataclass
class LoadedSpec:
    """A parsed mlgate.yaml, with its file, its positions and the repository root."""
    spec: Spec
    doc: Document
    file: Path  # absolute
    root: Path  # repository root every path is confined to
    rel: str  # the spec's repo-relative path, as reports show it

    @property
    def base(self) -> Path:
        return self.file.parent

    def pos(self, path: PathT) -> Pos:
        return self.doc.pos(path)


def is_local(uri: str) -> bool:
    return "://" not in uri


def path_fields(spec: Spec) -> Iterator[tuple[PathT, str]]:
    """Every field of the spec that names a file or directory in the repository, with its spec path."""
    prov = spec.provenance
    if prov:
        for i, ds in enumerate(prov.data):
            if ds.uri and is_local(ds.uri):
                yield ("provenance", "data", i, "uri"), ds.uri
            if ds.dvc:
                yield ("provenance", "data", i, "dvc"), ds.dvc
            if ds.manifest:
                yield ("provenance", "data", i, "manifest"), ds.manifest
        if prov.code:
            for i, p in enumerate(prov.code.paths):
                yield ("provenance", "code", "paths", i), p
        if prov.dependencies:
            for key in ("lockfile", "manifest"):
                value = getattr(prov.dependencies, key)
                if value:
                    yield ("provenance", "dependencies", key), value
        if prov.seed and prov.seed.source:
            yield ("provenance", "seed", "source"), prov.seed.source.split("#", 1)[0]
        if prov.artifact:
            if prov.artifact.manifest:
                yield ("provenance", "artifact", "manifest"), prov.artifact.manifest
            if prov.artifact.uri and is_local(prov.artifact.uri):
                yield ("provenance", "artifact", "uri"), prov.artifact.uri
    evaluation = spec.evaluation
    if evaluation:
        if evaluation.report:
            yield ("evaluation", "report"), evaluation.report
        for key in ("uri", "dvc", "manifest"):
            value = getattr(evaluation.dataset, key) if evaluation.dataset else None
            if value and (key != "uri" or is_local(value)):
                yield ("evaluation", "dataset", key), value
        production = evaluation.production
        for key in ("report", "manifest"):
            value = getattr(production, key) if production else None
            if value:
                yield ("evaluation", "production", key), value
    if spec.monitoring and spec.monitoring.data_drift and spec.monitoring.data_drift.baseline:
        baseline = spec.monitoring.data_drift.baseline
        if is_local(baseline):
            yield ("monitoring", "data_drift", "baseline"), baseline
    if spec.operations and spec.operations.runbook:
        yield ("operations", "runbook"), spec.operations.runbook
    if spec.security and spec.security.execution_role:
        role = spec.security.execution_role
        for key in ("policy", "cloudformation", "terraform"):
            value = getattr(role, key)
            if value:
                yield ("security", "execution_role", key), value.split("#", 1)[0]
    if spec.infrastructure:
        for key in ("cloudformation", "terraform"):
            value = getattr(spec.infrastructure, key)
            if value:
                yield ("infrastructure", key), value
        for i, script in enumerate(spec.infrastructure.scripts):
            yield ("infrastructure", "scripts", i), script


def load_spec(file: Path, *, root: Path | None = None) -> LoadedSpec:
    """Load and validate one spec. Raises UsageError (exit 2) naming file:line and the fix."""
    file = file.absolute()
    root = (root or find_repo_root(file.parent) or file.parent).absolute()
    rel = repo_relative(root, file)
    try:
        doc = load_yaml_file(file, root=root)
    except YamlError as exc:
        raise UsageError(exc.message, path=rel, line=exc.line, column=exc.column) from None
    if not isinstance(doc.data, dict):
        raise UsageError("the spec must be a YAML mapping with `version: 1` and the sections of a deployment",
                         path=rel, line=1, hint="run `mlgate schema` for the format")
    try:
        spec = Spec.model_validate(doc.data)
    except ValidationError as exc:
        errors = [_explain(err, doc, rel) for err in exc.errors(include_url=False)]
        errors.sort(key=lambda e: (e.line or 0, e.column or 0))
        first = errors[0]
        first.more = errors[1:]
        raise first from None
    loaded = LoadedSpec(spec, doc, file, root, rel)
    for loc, value in path_fields(spec):
        try:
            confine(root, loaded.base, value)
        except PathEscape as exc:
            pos = doc.pos(loc)
            raise UsageError(f"{'.'.join(map(str, loc))}: {exc}", path=rel, line=pos.line, column=pos.column,
                             hint="name a file inside the repository, relative to the spec") from None
    return loaded


def _explain(err: Any, doc: Document, rel: str) -> UsageError:
    loc: PathT = tuple(err["loc"])
    dotted = ".".join(str(p) for p in loc) or "(top level)"
    kind = err["type"]
    pos = doc.pos(loc)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = sorted(_fields_at(loc[:-1]))
        close = closest(key, known)
        hint = f"did you mean '{close}'?" if close else f"expected one of: {', '.join(known)}"
        return UsageError(f"unknown key '{dotted}'", path=rel, line=pos.line, column=pos.column, hint=hint)
    if kind == "missing":
        return UsageError(f"missing required key '{dotted}'", path=rel, line=pos.line, column=pos.column,
                          hint="add it; `version: 1` starts every spec")
    found = err.get("input")
    return UsageError(f"{dotted}: {expected(err['msg'])}, found {_describe(found)}",
                      path=rel, line=pos.line, column=pos.column)


def expected(msg: str) -> str:
    """pydantic's 'Input should be ...' as mlgate words it: 'expected ...'."""
    msg = msg.replace("Input should be", "expected").replace("Input", "the value")
    return msg[0].lower() + msg[1:]


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    text = repr(value) if isinstance(value, str) else str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__.replace('YamlFloat', 'float').replace('str', 'text')} {text}"


def _fields_at(loc: PathT) -> set[str]:
    """Field names of the model found at `loc` in the spec, for "did you mean" suggestions."""
    annotation: Any = Spec
    for part in loc:
        annotation = _unwrap(annotation, isinstance(part, int))
        if isinstance(part, str) and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            if field is None:
                return set()
            annotation = field.annotation
    annotation = _unwrap(annotation, False)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return set(annotation.model_fields)
    return set()


def _unwrap(annotation: Any, item: bool) -> Any:
    """Strip Optional, and for a list index step into the item type."""
    while True:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin in (typing.Union, types.UnionType) and len(args) == 1:
            annotation = args[0]
        elif item and origin is list and args:
            annotation = args[0]
            item = False
        else:
            return annotation
