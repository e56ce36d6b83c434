"""REP001: every training dataset pinned to an immutable version, on real specs, files and git repositories.

The tables give one dataset each and the status and message fragment REP001 must report; the real-file tests
build .dvc files, data files and manifests in a git repository.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import yaml

from mlgate.result import RuleResult
from mlgate.rules.reproducibility.rep001_data import DEFAULT_FLOATING
from tests.conftest import Repo, messages

SHA40 = "9fceb02d0ae598e95dc970b74767f19372d61af8"
LAKEFS_COMMIT = "c7a632d7c3b1ba2d0f2e0e5c5f1f2d6d3a1b4c5d6e7f8a9b0c1d2e3f4a5b6c7d"
VERSION_ID = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
SHA256 = "0d5f3c4a8f1e2b7c6d9a0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b"
MD5 = "7b1b3b4f6f8a2f1e0c9d8e7f6a5b4c3d"
DATA = b"id,amount,label\n1,12.50,0\n2,990.00,1\n"


def spec(*datasets: dict[str, Any]) -> str:
    return yaml.safe_dump({"version": 1, "provenance": {"data": list(datasets)}}, sort_keys=False)


def run(repo: Repo, *datasets: dict[str, Any]) -> RuleResult:
    repo.write("mlgate.yaml", spec(*datasets))
    return repo.rule("REP001")


def statuses(result: RuleResult) -> list[str]:
    return [f.status for f in result.findings]


PINNED = [
    ("s3-version-id", {"uri": "s3://acme/fraud/train.parquet", "version": VERSION_ID},
     f"s3://acme/fraud/train.parquet pinned to S3 VersionId {VERSION_ID}"),
    ("s3-query-version-id", {"uri": f"s3://acme/fraud/train.parquet?versionId={VERSION_ID}"},
     f"pinned to S3 VersionId {VERSION_ID}"),
    ("s3-query-and-same-version", {"uri": f"s3://acme/t.parquet?versionId={VERSION_ID}", "version": VERSION_ID},
     f"pinned to S3 VersionId {VERSION_ID}"),
    ("s3-sha256", {"uri": "s3://acme/fraud/train.parquet", "sha256": SHA256},
     f"has a recorded sha256 {SHA256}; it is not verified offline"),
    ("s3-delta-table-version", {"uri": "s3://lake/tables/transactions/", "version": 7},
     "pinned to table version 7 (read as a Delta table version"),
    ("s3-table-at-version", {"uri": "s3://lake/tables/transactions@v9"}, "pinned to table version 9 (@v9)"),
    ("s3-iceberg-snapshot", {"uri": "s3://lake/warehouse/transactions/", "snapshot_id": 4938745345345},
     "pinned to Iceberg snapshot 4938745345345"),
    ("featurestore-as-of", {"uri": "featurestore://merchant-features", "as_of": "2026-10-01T00:00:00Z"},
     "featurestore://merchant-features pinned to the snapshot as of 2026-10-01T00:00:00Z"),
    ("featurestore-as-of-offset", {"uri": "featurestore://merchant-features", "as_of": "2026-10-01T02:00:00+02:00"},
     "as of 2026-10-01T02:00:00+02:00"),
    ("featurestore-as-of-naive", {"uri": "featurestore://merchant-features", "as_of": "2026-10-01"},
     "as of 2026-10-01 (no UTC offset: read as UTC)"),
    ("featurestore-snapshot", {"uri": "featurestore://merchant-features", "snapshot_id": "123"},
     "pinned to Iceberg snapshot 123"),
    ("delta-version", {"uri": "delta://lake/fraud/transactions", "version": 12},
     "delta://lake/fraud/transactions pinned to Delta table version 12"),
    ("delta-at-version", {"uri": "delta://lake/fraud/transactions@v12"}, "pinned to table version 12 (@v12)"),
    ("delta-as-of", {"uri": "delta://lake/fraud/transactions", "as_of": "2026-09-30T23:00:00Z"},
     "as of 2026-09-30T23:00:00Z"),
    ("iceberg-snapshot", {"uri": "iceberg://glue/fraud/transactions", "snapshot_id": "8744736658442914487"},
     "pinned to Iceberg snapshot 8744736658442914487"),
    ("lakefs-commit", {"uri": f"lakefs://fraud-data/{LAKEFS_COMMIT}/train/part-0.parquet"},
     f"pinned to lakeFS commit {LAKEFS_COMMIT}"),
    ("lakefs-short-commit", {"uri": "lakefs://fraud-data/c7a632d7c3b1/train/"}, "pinned to lakeFS commit c7a632d7c3b1"),
    ("lakefs-commit-wildcard", {"uri": f"lakefs://fraud-data/{LAKEFS_COMMIT}/train/*.parquet"},
     "matches a fixed set of files at that commit"),
    ("hf-commit", {"uri": f"hf://datasets/acme/transactions@{SHA40}"}, f"pinned to Hugging Face commit {SHA40}"),
    ("hf-commit-path-glob", {"uri": f"hf://datasets/acme/transactions@{SHA40}/data/train-*.parquet"},
     "matches a fixed set of files at that commit"),
    ("https-sha256", {"uri": "https://example.com/fraud/train.csv", "sha256": f"sha256:{SHA256.upper()}"},
     f"has a recorded sha256 {SHA256}"),
    ("https-query-sha256", {"uri": "https://example.com/train.csv?download=1", "sha256": SHA256},
     f"https://example.com/train.csv?download=1 has a recorded sha256 {SHA256}"),
    ("gcs-generation", {"uri": "gs://acme/fraud/train.parquet", "version": 1700000000000000},
     "pinned to version 1700000000000000"),
]


@pytest.mark.parametrize(("dataset", "evidence"), [c[1:] for c in PINNED], ids=[c[0] for c in PINNED])
def test_pinned_forms_pass_with_their_evidence(repo: Repo, dataset: dict[str, Any], evidence: str) -> None:
    result = run(repo, {"name": "train", **dataset})
    assert result.status == "pass", messages(result)
    assert all(s == "pass" for s in statuses(result))
    assert evidence in messages(result)
    assert result.findings[0].message.startswith("dataset 'train': ")


UNPINNED = [
    ("no-uri", {"version": VERSION_ID}, "has no uri"),
    ("s3-no-version", {"uri": "s3://acme/fraud/train.parquet"},
     "s3://acme/fraud/train.parquet has no version: S3 serves whatever was last written under that key"),
    ("s3-version-null", {"uri": "s3://acme/train.parquet", "version": "null"},
     "version is 'null', the VersionId S3 gives objects written while versioning was off"),
    ("s3-query-version-null", {"uri": "s3://acme/train.parquet?versionId=null"},
     "the uri's versionId is 'null'"),
    ("s3-version-empty", {"uri": "s3://acme/train.parquet", "version": None}, "version: is empty"),
    ("s3-version-conflict", {"uri": f"s3://acme/t.parquet?versionId={VERSION_ID}", "version": "other"},
     f"version: other disagrees with the uri's versionId={VERSION_ID}"),
    ("s3-version-with-space", {"uri": "s3://acme/t.parquet", "version": "v 1"}, "is not an S3 VersionId"),
    ("s3-wildcard-star", {"uri": "s3://acme/train/part-*.parquet", "version": VERSION_ID}, "has a wildcard ('*')"),
    ("s3-wildcard-question", {"uri": "s3://acme/train/part-?.parquet"}, "has a wildcard ('?')"),
    ("s3-wildcard-bracket", {"uri": "s3://acme/train/part-[0-3].parquet"}, "has a wildcard ('[')"),
    ("s3-prefix", {"uri": "s3://acme/fraud/train/"}, "s3://acme/fraud/train/ is a prefix"),
    ("s3-bucket", {"uri": "s3://acme"}, "s3://acme is a prefix"),
    ("s3-prefix-with-version-id", {"uri": "s3://acme/fraud/train/", "version": VERSION_ID},
     "is a VersionId, which pins one object, but s3://acme/fraud/train/ is a prefix"),
    ("s3-dvc", {"uri": "s3://acme/train.parquet", "dvc": "train.parquet.dvc"},
     "a .dvc file pins a path in the repository"),
    ("s3-at-latest", {"uri": "s3://lake/tables/transactions@latest"}, "the uri's suffix '@latest' is a moving name"),
    ("featurestore-no-as-of", {"uri": "featurestore://merchant-features"}, "has no as_of"),
    ("featurestore-as-of-now", {"uri": "featurestore://merchant-features", "as_of": "now"},
     "as_of 'now' is a moving time"),
    ("featurestore-as-of-latest", {"uri": "featurestore://merchant-features", "as_of": "latest"},
     "as_of 'latest' is a moving time"),
    ("featurestore-as-of-garbage", {"uri": "featurestore://merchant-features", "as_of": "last tuesday"},
     "as_of 'last tuesday' is not an ISO-8601 timestamp"),
    ("featurestore-version", {"uri": "featurestore://merchant-features", "version": 3},
     "version: '3' does not pin this uri; a feature group is pinned by as_of:"),
    ("delta-no-version", {"uri": "delta://lake/fraud/transactions"},
     "has no version: a Delta table read without one returns its latest commit"),
    ("delta-version-label", {"uri": "delta://lake/fraud/transactions", "version": "v3"},
     "version 'v3' is not an integer Delta table version"),
    ("delta-version-current", {"uri": "delta://lake/fraud/transactions", "version": "current"},
     "version 'current' is a moving name"),
    ("delta-at-version-conflict", {"uri": "delta://lake/fraud/transactions@v3", "version": 4},
     "version: 4 disagrees with the uri's @v3"),
    ("delta-wildcard", {"uri": "delta://lake/fraud/*", "version": 3}, "has a wildcard ('*')"),
    ("iceberg-no-snapshot", {"uri": "iceberg://glue/fraud/transactions"}, "has no snapshot_id"),
    ("iceberg-snapshot-label", {"uri": "iceberg://glue/fraud/transactions", "snapshot_id": "abc"},
     "snapshot_id 'abc' is not an integer Iceberg snapshot id"),
    ("iceberg-version", {"uri": "iceberg://glue/fraud/transactions", "version": 3},
     "an Iceberg table is pinned by snapshot_id: or as_of:"),
    ("lakefs-main", {"uri": "lakefs://fraud-data/main/train/part-0.parquet"},
     "lakeFS ref 'main' is a branch: it moves with every commit"),
    ("lakefs-feature-branch", {"uri": "lakefs://fraud-data/feature-x/train/"},
     "lakeFS ref 'feature-x' is a branch or tag name, not a commit id"),
    ("lakefs-relative-ref", {"uri": "lakefs://fraud-data/main~1/train/"}, "is relative to a branch or tag"),
    ("lakefs-no-ref", {"uri": "lakefs://fraud-data"}, "names no ref"),
    ("hf-no-revision", {"uri": "hf://datasets/acme/transactions"}, "has no revision (@<commit sha>)"),
    ("hf-main", {"uri": "hf://datasets/acme/transactions@main"}, "revision 'main' is a branch"),
    ("hf-tag", {"uri": "hf://datasets/acme/transactions@v1.0"}, "revision 'v1.0' is a branch or tag name"),
    ("hf-short-sha", {"uri": "hf://datasets/acme/transactions@9fceb02"}, "'9fceb02' is an abbreviated commit sha"),
    ("hf-bad", {"uri": "hf://"}, "is not a Hugging Face uri"),
    ("table-name", {"uri": "transactions"}, "uri 'transactions' is a table name alone"),
    ("table-name-dotted-with-snapshot", {"uri": "analytics.transactions", "snapshot_id": 42},
     "uri 'analytics.transactions' is a table name alone"),
    ("local-unpinned", {"uri": "data/train.csv"}, "'data/train.csv' is a path in the repository with neither dvc: "
                                                  "nor sha256:"),
    ("local-version", {"uri": "data/train.csv", "version": 3},
     "version: '3' does not pin this uri; a file in the repository is pinned by dvc:"),
    ("local-wildcard", {"uri": "data/*.csv", "sha256": SHA256}, "has a wildcard ('*')"),
    ("gcs-wildcard-question", {"uri": "gs://acme/part-?.csv", "sha256": SHA256}, "has a wildcard ('?')"),
    ("remote-unpinned", {"uri": "https://example.com/train.csv"},
     "https://example.com/train.csv has no version, snapshot_id, as_of or sha256"),
    ("remote-version-label", {"uri": "https://example.com/train.csv", "version": "2024-01"},
     "version '2024-01' is not an integer version"),
    ("remote-sha256-malformed", {"uri": "https://example.com/train.csv", "sha256": "abc123"},
     "sha256 'abc123' is not a sha256 (64 hex digits)"),
]


@pytest.mark.parametrize(("dataset", "reason"), [c[1:] for c in UNPINNED], ids=[c[0] for c in UNPINNED])
def test_unpinned_forms_fail_with_the_reason(repo: Repo, dataset: dict[str, Any], reason: str) -> None:
    result = run(repo, {"name": "train", **dataset})
    assert result.status == "fail", messages(result)
    assert "pass" not in statuses(result)
    assert reason in messages(result)
    assert all(f.remediation for f in result.findings if f.status == "fail")


def test_a_pin_field_that_does_not_apply_fails_next_to_the_real_pin(repo: Repo) -> None:
    result = run(repo, {"uri": f"lakefs://fraud-data/{LAKEFS_COMMIT}/t.csv", "version": 3})
    assert statuses(result) == ["fail", "pass"]
    assert "version: '3' does not pin this uri; a lakeFS object is pinned by the commit id in the uri" in \
        result.findings[0].message
    assert f"pinned to lakeFS commit {LAKEFS_COMMIT}" in result.findings[1].message


@pytest.mark.parametrize("name", [*DEFAULT_FLOATING, "HEAD", "Latest", "MAIN"])
def test_every_floating_name_fails_as_a_version(repo: Repo, name: str) -> None:
    result = run(repo, {"uri": "s3://acme/train.parquet", "version": name})
    assert result.status == "fail"
    assert f"version '{name}' is a moving name, not a version" in messages(result)


def test_team_floating_names_add_to_the_built_in_ones(repo: Repo) -> None:
    datasets = ({"uri": "s3://acme/t.parquet", "version": "prod"}, {"uri": "s3://acme/u.parquet", "version": "latest"})
    before = run(repo, *datasets)
    assert statuses(before) == ["pass", "fail"]
    repo.write(".mlgate.toml", '[params.REP001]\nextra_floating_refs = ["Prod"]\n')
    after = run(repo, *datasets)
    assert statuses(after) == ["fail", "fail"]
    assert "version 'prod' is a moving name" in after.findings[0].message
    assert "version 'latest' is a moving name" in after.findings[1].message


@pytest.mark.parametrize("provenance", [{}, {"data": []}, None])
def test_no_training_data_recorded_fails(repo: Repo, provenance: dict[str, Any] | None) -> None:
    doc: dict[str, Any] = {"version": 1}
    if provenance is not None:
        doc["provenance"] = provenance
    repo.write("mlgate.yaml", yaml.safe_dump(doc))
    result = repo.rule("REP001")
    assert result.status == "fail"
    assert messages(result).startswith("fail: no training data recorded")


def test_as_of_in_the_future_warns(repo: Repo) -> None:
    # the run's "today" is conftest.TODAY (2026-11-26): the day after is the future, the day itself is not
    result = run(repo, {"uri": "featurestore://merchant-features", "as_of": "2026-11-27T00:00:00Z"})
    assert result.status == "warn"
    assert "as_of 2026-11-27T00:00:00Z is in the future (today is 2026-11-26)" in messages(result)
    assert run(repo, {"uri": "featurestore://merchant-features", "as_of": "2026-11-26T23:00:00Z"}).status == "pass"


def test_each_dataset_is_a_separate_finding_at_its_own_field(repo: Repo) -> None:
    result = run(repo,
                 {"name": "transactions", "uri": "s3://acme/t.parquet", "version": VERSION_ID},
                 {"name": "features", "uri": "featurestore://merchant", "as_of": "latest"},
                 {"name": "labels", "uri": "delta://lake/labels", "version": 3})
    assert result.status == "fail"
    assert statuses(result) == ["pass", "fail", "pass"]
    text = (repo.root / "mlgate.yaml").read_text().splitlines()
    lines = [f.location.line for f in result.findings if f.location]
    assert text[lines[0] - 1].strip() == f"version: {VERSION_ID}"
    assert text[lines[1] - 1].strip() == "as_of: latest"
    assert text[lines[2] - 1].strip() == "version: 3"
    assert result.findings[1].message.startswith("dataset 'features': ")


def test_unnamed_dataset_is_labelled_by_its_index(repo: Repo) -> None:
    result = run(repo, {"uri": "s3://acme/t.parquet", "version": VERSION_ID}, {"uri": "s3://acme/u.parquet"})
    assert result.findings[1].message.startswith("provenance.data[1]: ")


# -- .dvc files ---------------------------------------------------------------------------------------------------

DVC3 = f"""\
outs:
- md5: {MD5}
  size: 1048576
  hash: md5
  path: chargebacks.csv
"""
DVC_DATASET = {"name": "chargebacks", "uri": "data/chargebacks.csv", "dvc": "data/chargebacks.csv.dvc"}


def dvc_repo(repo: Repo, dvc_text: str | bytes, *, commit: bool = True) -> None:
    repo.write("mlgate.yaml", spec(DVC_DATASET))
    repo.write(".gitignore", "/data/chargebacks.csv\n")
    repo.write("data/chargebacks.csv", DATA)
    if commit:
        repo.commit("spec")
    repo.write("data/chargebacks.csv.dvc", dvc_text)
    if commit:
        repo.commit("track data")


@pytest.mark.parametrize(("dvc_text", "evidence"), [
    (DVC3, f"pinned by md5 {MD5} in data/chargebacks.csv.dvc:2, committed in git"),
    (f"outs:\n- md5: {MD5}\n  size: 10\n  path: chargebacks.csv\n", f"md5 {MD5}"),  # DVC 2
    (f"md5: 0123\nouts:\n- md5: {MD5}.dir\n  nfiles: 3\n  path: chargebacks.csv\n", f"md5 {MD5}.dir"),
    (f"outs:\n- etag: '\"{MD5}\"'\n  path: ./chargebacks.csv\n", f'etag "{MD5}"'),
    (f"outs:\n- path: other.csv\n  md5: {MD5}\n- path: chargebacks.csv\n  sha256: {SHA256}\n", f"sha256 {SHA256}"),
], ids=["dvc3", "dvc2", "directory", "etag", "second-out-sha256"])
def test_committed_dvc_file_pins_the_data(repo: Repo, dvc_text: str, evidence: str) -> None:
    dvc_repo(repo, dvc_text)
    result = repo.rule("REP001")
    assert result.status == "pass", messages(result)
    assert evidence in messages(result)


def test_dvc_file_in_a_spec_subdirectory_resolves_relative_paths(repo: Repo) -> None:
    repo.write("models/fraud/mlgate.yaml", spec({"uri": "../../data/chargebacks.csv", "dvc": "../../data/c.dvc"}))
    repo.write("data/c.dvc", DVC3)
    repo.commit()
    result = repo.rule("REP001", "models/fraud/mlgate.yaml")
    assert result.status == "pass", messages(result)


def test_untracked_dvc_file_fails(repo: Repo) -> None:
    dvc_repo(repo, DVC3, commit=False)
    result = repo.rule("REP001")
    assert result.status == "fail"
    assert "data/chargebacks.csv.dvc is not tracked by git" in messages(result)
    assert "pass" not in statuses(result)


def test_modified_uncommitted_dvc_file_warns(repo: Repo) -> None:
    dvc_repo(repo, DVC3)
    repo.write("data/chargebacks.csv.dvc", DVC3.replace(MD5, "f" * 32))
    result = repo.rule("REP001")
    assert result.status == "warn", messages(result)
    assert statuses(result) == ["warn", "pass"]
    assert "data/chargebacks.csv.dvc has uncommitted changes" in messages(result)
    assert result.findings[0].location is not None
    assert result.findings[0].location.path == "data/chargebacks.csv.dvc"


@pytest.mark.parametrize(("dvc_text", "reason", "line"), [
    (DVC3.replace("path: chargebacks.csv", "path: other.csv"),
     "data/chargebacks.csv.dvc tracks 'other.csv', not the dataset's uri 'data/chargebacks.csv'", 1),
    (DVC3.replace(f"- md5: {MD5}\n  size", "- size"),
     "the outs entry for 'chargebacks.csv' has no content hash", 2),
    ("# dvc\nouts:\n- md5: nothex\n  path: chargebacks.csv\n", "md5 'nothex' is not an md5", 3),
    (f"outs:\n- sha256: {MD5}\n  path: chargebacks.csv\n", f"sha256 '{MD5}' is not a sha256", 2),
    ("wdir: .\n", "has no outs: entry", 1),
    ("outs: []\n", "has no outs: entry", 1),
    (f"version https://git-lfs.github.com/spec/v1\noid sha256:{SHA256}\nsize 42\n", "is a git-lfs pointer", 1),
    (DATA, "is not a .dvc file (not a YAML mapping with outs:)", 1),
    (b"PAR1\x00\x01\x02", "is not a .dvc file: it is a binary file", 1),
    ("outs: [\n", "is not a .dvc file: YAML syntax error", 2),
], ids=["other-path", "no-hash", "bad-md5", "bad-sha256", "no-outs", "empty-outs", "lfs-pointer", "bare-file",
        "binary", "not-yaml"])
def test_broken_dvc_file_fails_at_its_line(repo: Repo, dvc_text: str | bytes, reason: str, line: int) -> None:
    dvc_repo(repo, dvc_text)
    result = repo.rule("REP001")
    assert result.status == "fail", messages(result)
    (finding,) = result.findings
    assert reason in finding.message
    assert finding.location is not None
    assert (finding.location.path, finding.location.line) == ("data/chargebacks.csv.dvc", line)


def test_missing_dvc_file_fails(repo: Repo) -> None:
    result = run(repo, DVC_DATASET)
    assert result.status == "fail"
    assert "dvc file data/chargebacks.csv.dvc not found" in messages(result)


def test_dvc_pointing_at_a_directory_fails(repo: Repo) -> None:
    repo.write("data/chargebacks.csv.dvc/x", "x")
    result = run(repo, DVC_DATASET)
    assert "dvc: data/chargebacks.csv.dvc is not a file" in messages(result)


# -- sha256 of a file in the repository ---------------------------------------------------------------------------

def test_local_file_with_matching_sha256_passes(repo: Repo) -> None:
    repo.write("data/train.csv", DATA)
    digest = hashlib.sha256(DATA).hexdigest()
    result = run(repo, {"uri": "data/train.csv", "sha256": digest})
    assert result.status == "pass", messages(result)
    assert f"data/train.csv matches its recorded sha256 {digest} ({len(DATA)} bytes hashed)" in messages(result)


def test_large_local_file_is_hashed_in_full(repo: Repo) -> None:
    blob = bytes(range(256)) * 9000  # > 2 MiB: several chunks, above the text-file size limit
    repo.write("train.bin", blob)
    assert run(repo, {"uri": "train.bin", "sha256": hashlib.sha256(blob).hexdigest()}).status == "pass"
    assert run(repo, {"uri": "train.bin", "sha256": hashlib.sha256(blob[:-1]).hexdigest()}).status == "fail"


def test_local_file_with_wrong_sha256_fails_with_both_hashes(repo: Repo) -> None:
    repo.write("data/train.csv", DATA)
    result = run(repo, {"uri": "data/train.csv", "sha256": SHA256})
    assert result.status == "fail"
    actual = hashlib.sha256(DATA).hexdigest()
    assert f"data/train.csv has sha256 {actual}, but the spec records {SHA256}" in messages(result)


@pytest.mark.parametrize(("setup", "reason"), [
    ({}, "data/train.csv not found in the repository"),
    ({"data/train.csv/part-0": "x"}, "data/train.csv is not a regular file"),
])
def test_local_sha256_without_a_file_fails(repo: Repo, setup: dict[str, str], reason: str) -> None:
    for rel, text in setup.items():
        repo.write(rel, text)
    result = run(repo, {"uri": "data/train.csv", "sha256": SHA256})
    assert result.status == "fail"
    assert reason in messages(result)


def test_bare_file_name_that_exists_is_a_local_file_not_a_table(repo: Repo) -> None:
    repo.write("train.csv", DATA)
    result = run(repo, {"uri": "train.csv"})
    assert "'train.csv' is a path in the repository with neither dvc: nor sha256:" in messages(result)


# -- S3 prefix manifests ------------------------------------------------------------------------------------------

PREFIX = "s3://acme/fraud/train/"
JSON_MANIFEST = f"""\
[{{"key": "fraud/train/part-0.parquet", "version_id": "{VERSION_ID}"}},
 {{"key": "{PREFIX}part-1.parquet", "VersionId": "Wq2Lm0x8d"}}]
"""
YAML_MANIFEST = f"""\
objects:
  - {{key: part-0.parquet, versionId: {VERSION_ID}}}
  - {{key: part-1.parquet, versionId: Wq2Lm0x8d}}
  - {{key: part-2.parquet, versionId: 0123}}
"""
CSV_MANIFEST = f"key,version_id,size\npart-0.parquet,{VERSION_ID},10\npart-1.parquet,Wq2Lm0x8d,11\n\n"


def manifest_run(repo: Repo, name: str, text: str, *, commit: bool = True) -> RuleResult:
    repo.write(name, text)
    repo.write("mlgate.yaml", spec({"name": "train", "uri": PREFIX, "manifest": name}))
    if commit:
        repo.commit()
    return repo.rule("REP001")


@pytest.mark.parametrize(("name", "text", "count"), [
    ("manifests/train.json", JSON_MANIFEST, 2),
    ("manifests/train.yaml", YAML_MANIFEST, 3),
    ("manifests/train.csv", CSV_MANIFEST, 2),
], ids=["json", "yaml", "csv"])
def test_prefix_with_a_manifest_of_versions_passes(repo: Repo, name: str, text: str, count: int) -> None:
    result = manifest_run(repo, name, text)
    assert result.status == "pass", messages(result)
    assert f"{PREFIX} pinned by manifest {name}: {count} objects, each with a VersionId" in messages(result)


def test_untracked_manifest_warns(repo: Repo) -> None:
    result = manifest_run(repo, "train.json", JSON_MANIFEST, commit=False)
    assert result.status == "warn"
    assert "manifest train.json is not tracked by git" in messages(result)


@pytest.mark.parametrize(("name", "text", "reason", "line"), [
    ("m.csv", f"key,version_id\npart-0.parquet,{VERSION_ID}\npart-1.parquet,\n",
     "1 of 2 objects are not pinned (line 3: part-1.parquet has no version id)", 3),
    ("m.json", f'[{{"key": "a", "version_id": "{VERSION_ID}"}},\n {{"key": "b"}},\n "c"]',
     "2 of 3 objects are not pinned (line 2: b has no version id; line 3: c has no version id)", 2),
    ("m.yaml", "- {key: a, version_id: 'null'}\n", "a has VersionId 'null' (written while versioning was off", 1),
    ("m.yaml", "- {key: a, version_id: latest}\n", "a has the moving version 'latest'", 1),
    ("m.yaml", f"- {{version_id: {VERSION_ID}}}\n", "line 1: no key", 1),
    ("m.yaml", f"- {{key: 's3://other/x', version_id: {VERSION_ID}}}\n", f"s3://other/x is not under {PREFIX}", 1),
    ("m.csv", f"bucket,object\nacme,{VERSION_ID}\n", "the CSV header (bucket, object) has no key and version_id", 1),
    ("m.json", '{"bucket": "acme"}', "not a list of objects", 1),
    ("m.json", "[]", "lists no objects", 1),
], ids=["csv-missing-version", "json-missing-versions", "null-version", "moving-version", "no-key",
        "outside-prefix", "csv-no-columns", "not-a-list", "empty"])
def test_manifest_without_a_version_for_every_object_fails(repo: Repo, name: str, text: str, reason: str,
                                                          line: int) -> None:
    result = manifest_run(repo, name, text)
    assert result.status == "fail", messages(result)
    (finding,) = result.findings
    assert reason in finding.message
    assert finding.location is not None
    assert (finding.location.path, finding.location.line) == (name, line)


def test_missing_manifest_fails(repo: Repo) -> None:
    result = run(repo, {"uri": PREFIX, "manifest": "manifests/train.json"})
    assert result.status == "fail"
    assert "manifest manifests/train.json not found" in messages(result)
