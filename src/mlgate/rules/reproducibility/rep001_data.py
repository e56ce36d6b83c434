"""REP001: every dataset in `provenance.data` is pinned to a version that cannot change under
the same name.

Each kind of uri has its own pins (see `_PINNED_BY`); a pin field that does not apply to the uri's kind fails, so
that a spec cannot look pinned while it is not. Everything is judged offline: a pin that lives outside the
repository (an S3 VersionId, a remote sha256) is checked for its form, not looked up.

Decisions worth knowing:
- An `as_of` in the future warns: no snapshot of that time existed when the model was trained.
  An `as_of` without a UTC offset is read as UTC.
- An integer `version:` (or an `@v<N>` suffix) on an S3 uri is read as a Delta table version (an S3 VersionId is
  never a bare number), and an S3 prefix with a table pin (`version: N`, `snapshot_id`, `as_of`) is a table.
- A table name without a scheme fails even with a version: it does not say which catalog holds the table.
- A wildcard under an immutable lakeFS commit or Hugging Face commit matches a fixed set of files: it passes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from pydantic import Field

from mlgate.checks import CheckContext, Where
from mlgate.errors import EvidenceError
from mlgate.paths import PathEscape, sha256_file
from mlgate.result import Finding
from mlgate.rules.params import RuleParams
from mlgate.spec.models import Dataset
from mlgate.yamlload import Document, PathT, as_text

if TYPE_CHECKING:
    from mlgate.aws.data import S3Object
    from mlgate.aws.live import Online

# Names that point at whatever is newest. Teams add their own with the rule parameter `extra_floating_refs`.
DEFAULT_FLOATING = ("latest", "current", "main", "master", "head", "newest", "stable")
_MOVING_TIMES = {"now", "today", "latest", "current"}

_HEX64 = re.compile(r"[0-9a-f]{64}", re.IGNORECASE)
_GIT_SHA = re.compile(r"[0-9a-f]{40}", re.IGNORECASE)
_SHORT_SHA = re.compile(r"[0-9a-f]{7,39}", re.IGNORECASE)
_LAKEFS_COMMIT = re.compile(r"[0-9a-f]{12,64}", re.IGNORECASE)
_MD5 = re.compile(r"[0-9a-f]{32}(?:\.dir)?", re.IGNORECASE)
_INTEGER = re.compile(r"[0-9]+")
_WILDCARD = re.compile(r"[*?\[]")
_AT_SUFFIX = re.compile(r"@([^/@]+)/?$")
_AT_VERSION = re.compile(r"v([0-9]+)")
_HF = re.compile(r"(?:(?:datasets|models|spaces)/)?[^/@]+(?:/[^/@]+)?(?:@(?P<rev>[^/]*))?(?P<path>/.*)?")
_LFS_POINTER = "version https://git-lfs.github.com/spec/"

PIN_FIELDS = ("version", "as_of", "snapshot_id", "sha256", "dvc", "manifest")

# Which pin fields apply to each kind of uri, and how that kind is pinned (for messages and fixes).
_APPLIES: dict[str, frozenset[str]] = {
    "local": frozenset({"dvc", "sha256"}),
    "s3": frozenset({"version", "as_of", "snapshot_id", "sha256", "manifest"}),
    "featurestore": frozenset({"as_of", "snapshot_id"}),
    "lakefs": frozenset({"sha256"}),
    "hf": frozenset({"sha256"}),
    "delta": frozenset({"version", "as_of"}),
    "iceberg": frozenset({"snapshot_id", "as_of"}),
    "remote": frozenset({"version", "as_of", "snapshot_id", "sha256"}),
}
_PINNED_BY = {
    "local": "a file in the repository is pinned by dvc: (a committed .dvc file) or sha256:",
    "s3": "an S3 object is pinned by version: (its VersionId), ?versionId= in the uri or sha256:; a prefix by "
          "manifest:; a table on S3 by an integer version:, snapshot_id: or as_of:",
    "featurestore": "a feature group is pinned by as_of: (the snapshot time) or an offline-store snapshot_id:",
    "lakefs": "a lakeFS object is pinned by the commit id in the uri (`lakefs://<repo>/<commit id>/<path>`)",
    "hf": "a Hugging Face dataset is pinned by the commit sha in the uri (hf://datasets/<org>/<name>@<sha>)",
    "delta": "a Delta table is pinned by an integer version: (or an @v<N> suffix) or as_of:",
    "iceberg": "an Iceberg table is pinned by snapshot_id: or as_of:",
    "remote": "a remote dataset is pinned by an integer version:, snapshot_id:, as_of: or sha256:",
}


class Params(RuleParams):
    extra_floating_refs: list[str] = Field(
        default_factory=list,
        description="version, branch and tag names of your own that always point at the newest data (e.g. prod, "
                    "live); they fail like the built-in ones: latest, current, main, master, head, newest, stable "
                    "(any case)")


def check(ctx: CheckContext) -> Iterator[Finding]:
    """REP001: every dataset the model was trained on is pinned to an immutable version."""
    prov = ctx.spec.provenance
    if prov is None or not prov.data:
        yield ctx.fail("no training data recorded: provenance.data lists no dataset, so nobody can say what "
                       "data produced this model", at=("provenance", "data"),
                       fix="list every training dataset under provenance.data with its uri and a pin, e.g. "
                           "`- {name: transactions, uri: s3://bucket/key.parquet, version: <S3 VersionId>}`")
        return
    for i, ds in enumerate(prov.data):
        yield from dataset_pinned(ctx, ds, ("provenance", "data", i))


def dataset_pinned(ctx: CheckContext, ds: Dataset, at: PathT, label: str | None = None) -> Iterator[Finding]:
    """The findings of one dataset's pin, against the spec path `at` where the dataset is written (REP001 runs it
    on every training dataset, EVL001 on the evaluation dataset). Floating names: the built-in ones and the rule's
    `extra_floating_refs` parameter (REP001's, or EVL001's own)."""
    names = [*DEFAULT_FLOATING, *(ctx.params.get("extra_floating_refs") or [])]
    floating = frozenset(str(n).strip().lower() for n in names)
    yield from _DatasetCheck(ctx, at, ds, floating, label).run()


@dataclass
class _Entry:
    """One object of a prefix manifest."""

    line: int
    key: str | None
    version: str | None


class _DatasetCheck:
    def __init__(self, ctx: CheckContext, base: PathT, ds: Dataset, floating: frozenset[str],
                 label: str | None = None) -> None:
        self.ctx = ctx
        self.base = base  # the spec path of the dataset
        self.ds = ds
        self.floating = floating
        self.judged = False  # a pin was found good, bad or doubtful
        self.label = label or (f"dataset '{ds.name}'" if ds.name else ".".join(
            f"[{k}]" if isinstance(k, int) else k for k in base).replace(".[", "["))

    # -- helpers ------------------------------------------------------------------------------------------------

    def at(self, *keys: str | int) -> PathT:
        return (*self.base, *keys)

    def ok(self, message: str, at: Where) -> Finding:
        self.judged = True
        return self.ctx.ok(f"{self.label}: {message}", at=at)

    def fail(self, message: str, at: Where, fix: str | None = None) -> Finding:
        self.judged = True
        return self.ctx.fail(f"{self.label}: {message}", at=at, fix=fix)

    def warn(self, message: str, at: Where, fix: str | None = None) -> Finding:
        self.judged = True
        return self.ctx.warn(f"{self.label}: {message}", at=at, fix=fix)

    def value(self, name: str) -> str | None:
        raw = getattr(self.ds, name)
        if raw is None:
            return None
        text = str(raw).strip()
        return text or None

    def is_floating(self, ref: str) -> bool:
        base = re.split(r"[~^]", ref.strip(), maxsplit=1)[0]
        return base.lower() in self.floating

    def moving(self, what: str, ref: str, at: Where, fix: str) -> Finding:
        return self.fail(f"{what} '{ref}' is a moving name, not a version: it names something else after the "
                         "next write", at=at, fix=fix)

    # -- entry point ----------------------------------------------------------------------------------------------

    def run(self) -> Iterator[Finding]:
        uri = (self.ds.uri or "").strip()
        if not uri:
            yield self.fail("has no uri: nothing says where the training data is", at=self.at("uri"),
                            fix="add uri: (s3://bucket/key, featurestore://group, a path in the repository, ...) "
                                "and a pin for it")
            return
        kind = self._kind(uri)
        if kind == "table-name":
            yield self.fail(f"uri '{uri}' is a table name alone: it says neither which catalog holds the table nor "
                            "which version of it was read, and a table changes with every write",
                            at=self.at("uri"),
                            fix=f"write the table's uri with a pin, e.g. `uri: delta://<catalog>/{uri}` with "
                                "`version: <N>` (DESCRIBE HISTORY), or `uri: iceberg://<catalog>/"
                                f"{uri.replace('.', '/')}` with `snapshot_id:`")
            return
        for name in PIN_FIELDS:
            if getattr(self.ds, name) is None and not self.ctx.loaded.doc.exists(self.at(name)):
                continue
            if self.value(name) is None:
                yield self.fail(f"{name}: is empty", at=self.at(name),
                                fix=f"write the {name} value, or remove the field")
            elif name not in _APPLIES[kind]:
                yield self._not_applicable(name, kind)
        yield from getattr(self, f"_{kind.replace('-', '_')}")(uri)
        if not self.judged:
            yield self._unpinned(kind, uri)

    def _kind(self, uri: str) -> str:
        if "://" not in uri:
            if "/" in uri or self.ds.dvc or self.ds.sha256:
                return "local"
            return "local" if self.ctx.resolve(uri).exists() else "table-name"
        scheme = uri.split("://", 1)[0].lower()
        if scheme in ("s3", "s3a", "s3n"):
            return "s3"
        if scheme in ("featurestore", "lakefs", "hf", "delta", "iceberg"):
            return scheme
        return "remote"

    def _not_applicable(self, name: str, kind: str) -> Finding:
        value = self.value(name)
        if name == "dvc":
            return self.fail(f"dvc: {value} cannot pin '{self.ds.uri}': a .dvc file pins a path in the repository",
                             at=self.at("dvc"),
                             fix="set uri to the repository path the .dvc file tracks (for `dvc import-url`, "
                                 "the local output path), or remove dvc:")
        return self.fail(f"{name}: '{value}' does not pin this uri; {_PINNED_BY[kind]}", at=self.at(name),
                         fix=f"remove {name}: and pin the dataset as its kind requires")

    def _unpinned(self, kind: str, uri: str) -> Finding:
        if kind == "local":
            return self.fail(f"'{uri}' is a path in the repository with neither dvc: nor sha256:, so it is whatever "
                             "the working tree held at training time", at=self.at(),
                             fix=f"track it with DVC (`dvc add {uri}`, commit {uri}.dvc, set dvc: {uri}.dvc) or "
                                 f"record its hash (`sha256sum {uri}`) in sha256:")
        if kind == "s3":
            rest = uri.split("://", 1)[1]
            bucket, _, key = rest.partition("/")
            return self.fail(f"{uri} has no version: S3 serves whatever was last written under that key",
                             at=self.at("version"),
                             fix=f"add version: <VersionId> (`aws s3api list-object-versions --bucket {bucket} "
                                 f"--prefix {key}`), or sha256: of the object")
        if kind == "featurestore":
            return self.fail(f"{uri} has no as_of: a feature group read without a time returns the features as "
                             "they are at read time", at=self.at("as_of"),
                             fix="add as_of: the time of the training snapshot, e.g. as_of: \"2026-10-01T00:00:00Z\"")
        if kind == "delta":
            return self.fail(f"{uri} has no version: a Delta table read without one returns its latest commit",
                             at=self.at("version"),
                             fix="add version: <N>, the table version training read (DESCRIBE HISTORY <table>)")
        if kind == "iceberg":
            return self.fail(f"{uri} has no snapshot_id: an Iceberg table read without one returns its current "
                             "snapshot", at=self.at("snapshot_id"),
                             fix="add snapshot_id: <id>, the snapshot training read (SELECT * FROM <table>.snapshots)")
        return self.fail(f"{uri} has no version, snapshot_id, as_of or sha256: the data behind it can change",
                         at=self.at(), fix=f"add a pin; {_PINNED_BY[kind]}")

    def _wildcard(self, uri: str, part: str) -> Finding | None:
        found = _WILDCARD.search(part)
        if not found:
            return None
        return self.fail(f"uri '{uri}' has a wildcard ('{found.group()}'): the files it matches change as files "
                         "are added or removed", at=self.at("uri"),
                         fix="name the data exactly: one object with its version, a prefix with a manifest: of "
                             "object versions, or a table with a version")

    # -- kinds ------------------------------------------------------------------------------------------------------

    def _local(self, uri: str) -> Iterator[Finding]:
        wild = self._wildcard(uri, uri)
        if wild:
            yield wild
            return
        if self.value("dvc"):
            yield from self._dvc(uri)
        if self.value("sha256"):
            yield from self._local_sha256(uri)

    def _s3(self, uri: str) -> Iterator[Finding]:
        rest = uri.split("://", 1)[1]
        query_version: str | None = None
        if "?" in rest:
            base, query = rest.split("?", 1)
            params = parse_qs(query, keep_blank_values=True)
            if "versionId" in params:
                rest, query_version = base, params["versionId"][0].strip()
        wild = self._wildcard(uri, rest)
        if wild:
            yield wild
            return
        key = rest.partition("/")[2]
        version = self.value("version")
        at_version = yield from self._at_suffix(uri, rest)
        table = bool(at_version or self.value("snapshot_id") or self.value("as_of")
                     or (version and _INTEGER.fullmatch(version)))
        prefix = not key or key.endswith("/") or bool(self.value("manifest"))
        if query_version is not None and version and query_version != version:
            yield self.fail(f"version: {version} disagrees with the uri's versionId={query_version}",
                            at=self.at("version"), fix="keep one VersionId: remove version: or the query")
        elif query_version is not None:
            yield self._s3_version_id(query_version, "the uri's versionId", self.at("uri"), prefix)
        elif version:
            fix = "write the object's VersionId (`aws s3api list-object-versions`), or an integer table version"
            if self.is_floating(version):
                yield self.moving("version", version, self.at("version"), fix)
            elif _INTEGER.fullmatch(version):
                yield self.ok(f"{uri} pinned to table version {version} (read as a Delta table version: an S3 "
                              "VersionId is never a bare number)", at=self.at("version"))
            else:
                yield self._s3_version_id(version, "version", self.at("version"), prefix)
        yield from self._written_pins(uri, ("snapshot_id", "as_of"))
        if self.value("sha256") and not prefix:
            yield self._remote_sha256(uri)
        if self.value("manifest"):
            yield from self._manifest(uri)
        elif prefix and not table:
            yield self.fail(f"{uri} is a prefix: its objects can be added, replaced or deleted, and no manifest: "
                            "lists which object versions training read", at=self.at("uri"),
                            fix="add manifest: <file in the repository> listing every object's key and VersionId "
                                "(JSON/YAML list or CSV with a key,version_id header)")

    def _s3_version_id(self, version: str, what: str, at: Where, prefix: bool) -> Finding:
        uri = self.ds.uri
        fix = "write the object's VersionId (`aws s3api list-object-versions`) with versioning enabled on the bucket"
        if self.is_floating(version):
            return self.moving(what, version, at, fix)
        if not version:
            return self.fail(f"{what} is empty", at=at, fix=fix)
        if prefix:
            return self.fail(f"{what} '{version}' is a VersionId, which pins one object, but {uri} is a prefix",
                             at=at, fix="list every object under the prefix with its VersionId in a manifest:")
        if version == "null":
            return self.fail(f"{what} is 'null', the VersionId S3 gives objects written while versioning was off: "
                             "the next write to the key overwrites it", at=at,
                             fix="enable versioning on the bucket, rewrite the object and record its new VersionId")
        if any(c.isspace() for c in version) or len(version) > 1024:
            return self.fail(f"{what} '{version}' is not an S3 VersionId (no spaces, at most 1024 characters)",
                             at=at, fix=fix)
        return self.ok(f"{uri} pinned to S3 VersionId {version} (its existence is not checked offline)", at=at)

    def _at_suffix(self, uri: str, rest: str) -> Generator[Finding, None, str | None]:
        """An `@v<N>` table-version suffix: yields its finding and returns the version (None without one)."""
        match = _AT_SUFFIX.search(rest)
        if not match:
            return None
        token = match.group(1)
        number = _AT_VERSION.fullmatch(token)
        if number:
            version = self.value("version")
            if version and version != number.group(1):
                yield self.fail(f"version: {version} disagrees with the uri's @{token}", at=self.at("version"),
                                fix="keep one table version: remove version: or the @v suffix")
            else:
                yield self.ok(f"{uri} pinned to table version {number.group(1)} (@{token})", at=self.at("uri"))
            return number.group(1)
        if self.is_floating(token):
            yield self.moving("the uri's suffix", "@" + token, self.at("uri"),
                              "write the table version instead, e.g. @v12")
        return None

    def _featurestore(self, uri: str) -> Iterator[Finding]:
        yield from self._pinned_by_fields(uri, uri, None, ("as_of", "snapshot_id"))

    def _delta(self, uri: str) -> Iterator[Finding]:
        yield from self._pinned_by_fields(uri, uri, "Delta table version", ("as_of",))

    def _iceberg(self, uri: str) -> Iterator[Finding]:
        yield from self._pinned_by_fields(uri, uri, None, ("snapshot_id", "as_of"))

    def _remote(self, uri: str) -> Iterator[Finding]:
        web = uri.split("://", 1)[0].lower() in ("http", "https")
        path = uri.split("?", 1)[0] if web else uri  # an http(s) '?' starts the query
        yield from self._pinned_by_fields(uri, path, "version", ("snapshot_id", "as_of", "sha256"))

    def _pinned_by_fields(self, uri: str, path: str, table_version: str | None,
                          pins: tuple[str, ...]) -> Iterator[Finding]:
        """The kinds pinned by their fields (a feature group, a Delta or Iceberg table, a remote uri): a wildcard in
        `path` fails; otherwise the table version from an `@v<N>` suffix or version: (for a kind that has one,
        which `table_version` names in messages), then each of `pins` that is written, in that order."""
        wild = self._wildcard(uri, path)
        if wild:
            yield wild
            return
        if table_version:
            at_version = yield from self._at_suffix(uri, uri)
            version = self.value("version")
            if version and not at_version:
                yield self._table_version(uri, version, table_version)
        yield from self._written_pins(uri, pins)

    def _written_pins(self, uri: str, pins: tuple[str, ...]) -> Iterator[Finding]:
        """The judgement of each of the pin fields `pins` (as_of, snapshot_id, a remote sha256) that is written."""
        judges = {"as_of": self._as_of, "snapshot_id": self._snapshot_id, "sha256": self._remote_sha256}
        for name in pins:
            if self.value(name):
                yield judges[name](uri)

    def _lakefs(self, uri: str) -> Iterator[Finding]:
        parts = uri.split("://", 1)[1].split("/", 2)
        repo, ref = parts[0], (parts[1] if len(parts) > 1 else "")
        path = parts[2] if len(parts) > 2 else ""
        fix = ("write the commit id instead (`lakectl log lakefs://<repo>/<branch>`): "
               "`lakefs://<repo>/<commit id>/<path>`")
        if not repo or not ref:
            yield self.fail(f"{uri} names no ref: a lakeFS uri is lakefs://<repo>/<ref>/<path>", at=self.at("uri"),
                            fix=fix)
        elif self.is_floating(ref) and not re.search(r"[~^@]", ref):
            yield self.fail(f"lakeFS ref '{ref}' is a branch: it moves with every commit", at=self.at("uri"),
                            fix=fix)
        elif re.search(r"[~^@]", ref):
            yield self.fail(f"lakeFS ref '{ref}' is relative to a branch or tag, which moves", at=self.at("uri"),
                            fix=fix)
        elif _LAKEFS_COMMIT.fullmatch(ref):
            fixed = " (its wildcard matches a fixed set of files at that commit)" if _WILDCARD.search(path) else ""
            yield self.ok(f"{uri} pinned to lakeFS commit {ref}{fixed}", at=self.at("uri"))
        else:
            yield self.fail(f"lakeFS ref '{ref}' is a branch or tag name, not a commit id (12 to 64 hex digits): it "
                            "can move", at=self.at("uri"), fix=fix)
        if self.value("sha256"):
            yield self._remote_sha256(uri)

    def _hf(self, uri: str) -> Iterator[Finding]:
        match = _HF.fullmatch(uri.split("://", 1)[1])
        fix = "write the 40-hex commit sha (the dataset's History tab, or `HfApi().dataset_info(repo).sha`): " \
              "hf://datasets/<org>/<name>@<sha>"
        if not match:
            yield self.fail(f"{uri} is not a Hugging Face uri (hf://datasets/<org>/<name>@<sha>[/<path>])",
                            at=self.at("uri"), fix=fix)
            return
        rev, path = match.group("rev"), match.group("path") or ""
        if not rev:
            yield self.fail(f"{uri} has no revision (@<commit sha>): the Hub serves its main branch, which moves",
                            at=self.at("uri"), fix=fix)
        elif self.is_floating(rev):
            yield self.fail(f"revision '{rev}' is a branch: it moves with every push", at=self.at("uri"), fix=fix)
        elif _GIT_SHA.fullmatch(rev):
            fixed = " (its wildcard matches a fixed set of files at that commit)" if _WILDCARD.search(path) else ""
            yield self.ok(f"{uri} pinned to Hugging Face commit {rev}{fixed}", at=self.at("uri"))
        elif _SHORT_SHA.fullmatch(rev):
            yield self.fail(f"revision '{rev}' is an abbreviated commit sha: write all 40 hex digits",
                            at=self.at("uri"), fix=fix)
        else:
            yield self.fail(f"revision '{rev}' is a branch or tag name, not a commit sha: it can be moved",
                            at=self.at("uri"), fix=fix)
        if self.value("sha256"):
            yield self._remote_sha256(uri)

    # -- pins -------------------------------------------------------------------------------------------------------

    def _table_version(self, uri: str, version: str, what: str) -> Finding:
        return self._integer_pin("version", version, f"{what}: a label does not pin {uri}",
                                 f"{uri} pinned to {what} {version}",
                                 "write the integer table version training read (DESCRIBE HISTORY <table>)")

    def _snapshot_id(self, uri: str) -> Finding:
        snapshot = self.value("snapshot_id") or ""
        return self._integer_pin("snapshot_id", snapshot, "Iceberg snapshot id",
                                 f"{uri} pinned to Iceberg snapshot {snapshot}",
                                 "write the integer snapshot id training read "
                                 "(SELECT snapshot_id FROM <table>.snapshots)")

    def _integer_pin(self, field: str, value: str, kind: str, pinned: str, fix: str) -> Finding:
        """A pin that is an integer (a table version, a snapshot id) written in `field`: a moving name or a label
        fails; `kind` says what the integer is, `pinned` what it pins."""
        at = self.at(field)
        if self.is_floating(value):
            return self.moving(field, value, at, fix)
        if not _INTEGER.fullmatch(value):
            return self.fail(f"{field} '{value}' is not an integer {kind}", at=at, fix=fix)
        return self.ok(pinned, at=at)

    def _as_of(self, uri: str) -> Finding:
        text = self.value("as_of") or ""
        at = self.at("as_of")
        fix = "write the snapshot time as an ISO-8601 timestamp with its offset, e.g. as_of: \"2026-10-01T00:00:00Z\""
        if text.lower() in _MOVING_TIMES or self.is_floating(text):
            return self.fail(f"as_of '{text}' is a moving time, not a snapshot: it means a different point on every "
                             "read", at=at, fix=fix)
        try:
            when = dt.datetime.fromisoformat(text)
        except ValueError:
            return self.fail(f"as_of '{text}' is not an ISO-8601 timestamp", at=at, fix=fix)
        note = ""
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
            note = " (no UTC offset: read as UTC)"
        today = self.ctx.today
        if when.astimezone(dt.UTC).date() > today:
            return self.warn(f"as_of {text} is in the future (today is {today.isoformat()}): training cannot have "
                             "read a snapshot that did not exist yet, and data written until then would change it",
                             at=at, fix="write the time of the snapshot training actually read")
        return self.ok(f"{uri} pinned to the snapshot as of {text}{note}", at=at)

    def _sha256_value(self) -> tuple[str | None, Finding | None]:
        text = self.value("sha256") or ""
        digest = text[len("sha256:"):] if text.lower().startswith("sha256:") else text
        if not _HEX64.fullmatch(digest):
            return None, self.fail(f"sha256 '{text}' is not a sha256 (64 hex digits)", at=self.at("sha256"),
                                   fix="record the file's `sha256sum` output (64 hex digits)")
        return digest.lower(), None

    def _remote_sha256(self, uri: str) -> Finding:
        digest, problem = self._sha256_value()
        if problem:
            return problem
        return self.ok(f"{uri} has a recorded sha256 {digest}; it is not verified offline (the data is not in the "
                       "repository)", at=self.at("sha256"))

    def _local_sha256(self, uri: str) -> Iterator[Finding]:
        expected, problem = self._sha256_value()
        if problem:
            yield problem
            return
        path = self.ctx.resolve(uri)
        if not path.exists():
            yield self.fail(f"{uri} not found in the repository, so its sha256 cannot be checked", at=self.at("uri"),
                            fix="fix uri:, or add the file (or pin it with a .dvc file if it is not kept in git)")
            return
        if not path.is_file():
            yield self.fail(f"{uri} is not a regular file: a sha256 pins the content of one file",
                            at=self.at("uri"), fix="pin a directory with a committed .dvc file (dvc add) instead")
            return
        actual, size = _sha256_file(self.ctx, path)
        if actual != expected:
            yield self.fail(f"{uri} has sha256 {actual}, but the spec records {expected}: the file changed since it "
                            "was recorded", at=self.at("sha256"),
                            fix="restore the data training used, or record the new hash if training used this file")
            return
        yield self.ok(f"{uri} matches its recorded sha256 {expected} ({size} bytes hashed)", at=self.at("sha256"))

    def _dvc(self, uri: str) -> Iterator[Finding]:
        dvc_rel = self.value("dvc") or ""
        at = self.at("dvc")
        path = self.ctx.resolve(dvc_rel)
        if not path.exists():
            yield self.fail(f"dvc file {dvc_rel} not found", at=at,
                            fix=f"run `dvc add {uri}` and commit the .dvc file it writes, or fix dvc:")
            return
        if not path.is_file():
            yield self.fail(f"dvc: {dvc_rel} is not a file", at=at, fix="name the .dvc file, e.g. data/x.csv.dvc")
            return
        rel = self.ctx.workspace.rel(path)
        git = self.ctx.workspace.git
        committed = git.is_tracked(rel)
        if not committed:
            yield self.fail(f"{rel} is not tracked by git: the hash it records is not part of the history this "
                            "model ships from", at=at, fix=f"git add {rel} && git commit")
        elif git.has_changes(rel):
            yield self.warn(f"{rel} has uncommitted changes: the committed hash may not be the one checked here",
                            at=self.ctx.file(rel), fix=f"commit {rel} (or restore it with `git checkout -- {rel}`)")
        doc, problem = self._dvc_document(path, rel)
        if problem:
            yield problem
            return
        assert doc is not None
        outs = doc.data.get("outs")
        if not isinstance(outs, list) or not outs:
            yield self.fail(f"{rel} has no outs: entry, so it pins nothing", at=self.ctx.file(rel, doc.pos(("outs",))
                                                                                          .line),
                            fix=f"regenerate it with `dvc add {uri}`")
            return
        target = self.ctx.resolve(uri)
        index = _matching_out(outs, path.parent, target)
        if index is None:
            tracked = ", ".join(repr(o.get("path")) for o in outs if isinstance(o, dict)) or "no path"
            yield self.fail(f"{rel} tracks {tracked}, not the dataset's uri '{uri}' "
                            f"({self.ctx.workspace.rel(target)})", at=self.ctx.file(rel, doc.pos(("outs",)).line),
                            fix=f"point dvc: at the .dvc file of {uri} (`dvc add {uri}` writes {uri}.dvc)")
            return
        out: dict[str, Any] = outs[index]
        found = _content_hash(out)
        line = doc.pos(("outs", index)).line
        if found is None:
            yield self.fail(f"{rel}: the outs entry for '{out.get('path')}' has no content hash (md5, etag, checksum "
                            "or sha256)", at=self.ctx.file(rel, line),
                            fix=f"run `dvc commit {rel}` (or `dvc add {uri}`) and commit the result")
            return
        name, digest = found
        if name == "md5" and not _MD5.fullmatch(digest):
            yield self.fail(f"{rel}: md5 '{digest}' is not an md5 (32 hex digits, '.dir' for a directory)",
                            at=self.ctx.file(rel, doc.pos(("outs", index, "md5")).line),
                            fix=f"regenerate it with `dvc add {uri}`")
            return
        if name == "sha256" and not _HEX64.fullmatch(digest):
            yield self.fail(f"{rel}: sha256 '{digest}' is not a sha256 (64 hex digits)",
                            at=self.ctx.file(rel, doc.pos(("outs", index, "sha256")).line),
                            fix=f"regenerate it with `dvc add {uri}`")
            return
        if committed:
            yield self.ok(f"{uri} pinned by {name} {digest} in {rel}:{line}, committed in git", at=at)

    def _dvc_document(self, path: Path, rel: str) -> tuple[Document | None, Finding | None]:
        fix = f"point dvc: at the .dvc file DVC wrote for {self.ds.uri} (`dvc add` writes <file>.dvc)"
        try:
            text = self.ctx.workspace.read_text(path)
        except EvidenceError as exc:
            return None, self.fail(f"{rel} is not a .dvc file: it {exc.message}", at=self.ctx.file(rel), fix=fix)
        if text.startswith(_LFS_POINTER):
            return None, self.fail(f"{rel} is a git-lfs pointer, not a .dvc file", at=self.ctx.file(rel), fix=fix)
        try:
            doc = self.ctx.workspace.read_yaml(path)
        except EvidenceError as exc:
            return None, self.fail(f"{rel} is not a .dvc file: {exc.message}", at=self.ctx.file(rel, exc.line or 1),
                                   fix=fix)
        if not isinstance(doc.data, dict):
            return None, self.fail(f"{rel} is not a .dvc file (not a YAML mapping with outs:)",
                                   at=self.ctx.file(rel), fix=fix)
        return doc, None

    def _manifest(self, uri: str) -> Iterator[Finding]:
        manifest = self.value("manifest") or ""
        at = self.at("manifest")
        path = self.ctx.resolve(manifest)
        if not path.is_file():
            yield self.fail(f"manifest {manifest} not found", at=at,
                            fix="write the manifest (every object's key and VersionId, e.g. from `aws s3api "
                                "list-object-versions`) and commit it, or fix manifest:")
            return
        rel = self.ctx.workspace.rel(path)
        if path.suffix.lower() == ".csv":
            entries, problem = _csv_entries(self.ctx.workspace.read_text(path))
        else:
            entries, problem = _yaml_entries(self.ctx.workspace.read_yaml(path))
        fix = "give every object its key and VersionId (columns or fields key and version_id)"
        if problem:
            yield self.fail(f"manifest {rel}: {problem}", at=self.ctx.file(rel), fix=fix)
            return
        if not entries:
            yield self.fail(f"manifest {rel} lists no objects", at=self.ctx.file(rel), fix=fix)
            return
        base = uri if uri.endswith("/") else uri + "/"
        bad: list[tuple[int, str]] = []
        for entry in entries:
            reason = self._entry_problem(entry, base)
            if reason:
                bad.append((entry.line, reason))
        if bad:
            shown = "; ".join(f"line {line}: {reason}" for line, reason in bad[:5])
            more = f"; and {len(bad) - 5} more" if len(bad) > 5 else ""
            yield self.fail(f"manifest {rel}: {len(bad)} of {len(entries)} objects are not pinned ({shown}{more})",
                            at=self.ctx.file(rel, bad[0][0]), fix=fix)
            return
        if not self.ctx.workspace.git.is_tracked(rel):
            yield self.warn(f"manifest {rel} is not tracked by git, so the pin is not part of the history",
                            at=self.ctx.file(rel), fix=f"git add {rel} && git commit")
        yield self.ok(f"{uri} pinned by manifest {rel}: {len(entries)} objects, each with a VersionId", at=at)

    def _entry_problem(self, entry: _Entry, base: str) -> str | None:
        if not entry.key:
            return "no key"
        if "://" in entry.key and not entry.key.startswith(base):
            return f"{entry.key} is not under {base}"
        if not entry.version:
            return f"{entry.key} has no version id"
        if entry.version == "null":
            return f"{entry.key} has VersionId 'null' (written while versioning was off: it can be overwritten)"
        if self.is_floating(entry.version):
            return f"{entry.key} has the moving version '{entry.version}'"
        return None


# -- file formats ---------------------------------------------------------------------------------------------------

def _sha256_file(ctx: CheckContext, path: Path) -> tuple[str, int]:
    """The sha256 of a file of the repository, streamed in chunks (data files can be large), and its size."""
    rel = ctx.workspace.rel(path)
    try:
        return sha256_file(path, root=ctx.workspace.root)
    except PathEscape as exc:
        raise EvidenceError(str(exc), path=rel) from None
    except OSError as exc:
        raise EvidenceError(f"cannot be read: {exc.strerror or exc}", path=rel) from None


def _matching_out(outs: list[Any], dvc_dir: Path, target: Path) -> int | None:
    """The index of the outs entry whose path (relative to the .dvc file's directory) is `target`."""
    for index, out in enumerate(outs):
        if isinstance(out, dict) and isinstance(out.get("path"), str) and out["path"].strip():
            try:
                if (dvc_dir / out["path"]).resolve() == target:
                    return index
            except (OSError, RuntimeError):
                continue
    return None


def _content_hash(out: dict[str, Any]) -> tuple[str, str] | None:
    """The content hash of a .dvc outs entry: md5 (DVC 2 and 3, `hash: md5`), else etag, checksum or sha256."""
    for name in ("md5", "sha256", "etag", "checksum"):
        value = as_text(out.get(name))
        if isinstance(value, str) and value.strip():
            return name, value.strip()
    return None


_KEY_COLUMNS = ("key", "s3key", "objectkey", "path", "uri")
_VERSION_COLUMNS = ("versionid", "s3versionid", "version")


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


def _pick(row: dict[str, Any], names: tuple[str, ...]) -> str | None:
    normalised = {_norm(str(k)): v for k, v in row.items() if k is not None}
    for name in names:
        value = as_text(normalised.get(name))
        if value is not None and not isinstance(value, bool):
            text = str(value).strip()
            return text or None
    return None


def _csv_entries(text: str) -> tuple[list[_Entry], str | None]:
    reader = csv.DictReader(io.StringIO(text))
    header = {_norm(h) for h in reader.fieldnames or [] if h}
    if not header & set(_KEY_COLUMNS) or not header & set(_VERSION_COLUMNS):
        return [], (f"the CSV header ({', '.join(reader.fieldnames or []) or 'empty'}) has no key and version_id "
                    "columns")
    entries = []
    for row in reader:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        entries.append(_Entry(reader.line_num, _pick(row, _KEY_COLUMNS), _pick(row, _VERSION_COLUMNS)))
    return entries, None


def _yaml_entries(doc: Document) -> tuple[list[_Entry], str | None]:
    data = doc.data
    base: PathT = ()
    if isinstance(data, dict):
        for name in ("objects", "files", "entries"):
            if isinstance(data.get(name), list):
                data, base = data[name], (name,)
                break
    if not isinstance(data, list):
        return [], "not a list of objects (a JSON/YAML list, or a mapping with an objects: list)"
    entries = []
    for i, item in enumerate(data):
        line = doc.pos((*base, i)).line
        if isinstance(item, dict):
            entries.append(_Entry(line, _pick(item, _KEY_COLUMNS), _pick(item, _VERSION_COLUMNS)))
        else:
            entries.append(_Entry(line, str(as_text(item)) if item is not None else None, None))
    return entries, None


# With --aws: each pinned S3 object version exists (HeadObject with its VersionId), agrees with a pinned sha256
# where S3 stores one, and its bucket keeps versions (versioning Enabled, or Object Lock).
def _bucket(online: Online, bucket: str) -> tuple[bool, str]:
    """(protected, how) for a data bucket: versioning Enabled (and its Object Lock, if any)."""
    from mlgate.aws.session import AwsProblem

    versioning = online.session.call("s3", "GetBucketVersioning", target=f"bucket {bucket}", Bucket=bucket)
    status = versioning.get("Status")
    if status != "Enabled":
        state = f"versioning {status}" if status else "versioning never enabled"
        return False, f"bucket {bucket} has {state} (and so no Object Lock, which needs versioning)"
    try:
        lock = online.session.call("s3", "GetObjectLockConfiguration", target=f"bucket {bucket}",
                                   Bucket=bucket).get("ObjectLockConfiguration") or {}
    except AwsProblem as problem:
        if problem.kind != "not-found" and problem.code != "ObjectLockConfigurationNotFoundError":
            raise
        lock = {}
    if lock.get("ObjectLockEnabled") == "Enabled":
        retention = ((lock.get("Rule") or {}).get("DefaultRetention")) or {}
        period = next((f"{retention[k]} {k.lower()}" for k in ("Days", "Years") if retention.get(k)), None)
        default = f", default retention {retention.get('Mode')} {period}" if retention.get("Mode") and period \
            else ""
        return True, f"bucket {bucket} keeps versions under Object Lock{default}"
    return True, f"bucket {bucket} keeps versions (versioning Enabled; no Object Lock)"


def online(ctx: CheckContext, live: Online) -> Iterator[Finding]:
    """REP001 online: each pinned S3 dataset version exists, and its bucket keeps versions."""
    from mlgate.aws.data import dataset_object
    from mlgate.aws.session import AwsProblem

    prov = ctx.spec.provenance
    datasets = list(enumerate(prov.data)) if prov else []
    objects = [(i, ds, obj) for i, ds in datasets if (obj := dataset_object(ds)) is not None]
    if not objects:
        yield ctx.na("no dataset is an S3 object pinned by a VersionId or a sha256, so there is no data version to "
                     "look up in the account", at=("provenance", "data"))
        return
    for i, ds, obj in objects:
        label = f"dataset '{ds.name}'" if ds.name else f"provenance.data[{i}]"
        at = ("provenance", "data", i, "version" if ds.version else "uri")
        try:
            yield from _dataset(ctx, live, label, ds, obj, at)
        except AwsProblem as problem:
            yield ctx.error(f"{label}: {problem}", at=at)


def _dataset(ctx: CheckContext, online: Online, label: str, ds: Dataset, obj: S3Object,
             at: tuple[Any, ...]) -> Iterator[Finding]:
    from mlgate.aws.data import describe_head, head, stored_sha256
    from mlgate.aws.session import AwsProblem

    try:
        answer = head(online, obj)
    except AwsProblem as problem:
        if problem.kind != "not-found":
            raise
        gone = "is a delete marker" if problem.code == "DeleteMarker" else "does not exist in the account"
        what = "deleted, or never a version of this object" if obj.version else "deleted or moved"
        yield ctx.fail(f"{label}: {obj.describe()} {gone} ({what}): the data this model was trained on cannot be "
                       "read any more, so the training run cannot be repeated or audited", at=at,
                       fix="restore that version (from a replica or backup) or retrain on data that exists and pin "
                           "its VersionId; protect training data with S3 Object Lock so versions cannot be "
                           "deleted")
        return
    facts = describe_head(answer)
    evidence = f"{obj.describe()} exists ({facts})" if facts else f"{obj.describe()} exists"
    pinned_sha = str(ds.sha256).strip().lower() if ds.sha256 else None
    if pinned_sha and _HEX64.fullmatch(pinned_sha):
        stored = stored_sha256(answer)
        if stored is None:
            evidence += "; S3 stores no full-object sha256 for it, so the pinned sha256 was not compared"
        elif stored != pinned_sha:
            yield ctx.fail(f"{label}: S3's sha256 of {obj.describe()} is {stored}, but the spec pins {pinned_sha}: "
                           "the object holds other data than the model was trained on", at=at,
                           fix="pin the version the model was trained on (its VersionId), or fix the sha256")
            return
        else:
            evidence += f"; S3's sha256 of it is the pinned {pinned_sha[:12]}…"
    protected, how = _bucket(online, obj.bucket)
    if not protected:
        yield ctx.fail(f"{label}: {evidence}, but {how}: the object can be overwritten or deleted and the "
                       "training data lost without trace", at=at,
                       fix=f"enable versioning on bucket {obj.bucket} (better: Object Lock with a retention), so a "
                           "pinned version stays readable")
        return
    yield ctx.ok(f"{label}: {evidence}; {how}", at=at)
