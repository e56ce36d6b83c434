"""The provenance manifest: `mlgate manifest` and mlgate.manifest.write build it from the spec and the repository;
mlgate.manifest.parse reads it back (REP005's tests check what the rule makes of it)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

from mlgate.errors import UsageError
from mlgate.manifest import (
    FRAMEWORKS,
    ArtifactManifest,
    ManifestError,
    build,
    dump,
    dvc_content_hash,
    json_schema,
    parse,
    public_url,
    same_repository,
    utc,
    write,
)
from tests.conftest import Repo

MODEL = b"weights" * 1000
LOCK = "numpy==2.1.3\n"
SPEC = """\
version: 1
model:
  name: churn
  version: v7
provenance:
  data:
    - name: events
      uri: s3://acme-data/events.parquet
      version: Vx8Fq2KQm1sYdT0b7hN3cR9pL4eWzAuJ
  code:
    paths: [train/]
  dependencies:
    lockfile: requirements.txt
  seed:
    value: 7
  artifact:
    uri: s3://acme-models/churn/v7/model.tar.gz
    manifest: models/churn-v7.manifest.json
"""
STARTED = "2026-11-26T09:40:00Z"


@pytest.fixture
def project(repo: Repo) -> Repo:
    repo.write("train/train.py", "print('train')\n")
    repo.write("requirements.txt", LOCK)
    repo.write("mlgate.yaml", SPEC)
    repo.commit("training code")
    repo.write("out/model.tar.gz", MODEL)
    return repo


def test_mlgate_manifest_writes_the_manifest_and_says_how_to_link_it(project: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    head = project.git("rev-parse", "HEAD")
    code, out, err = cli("manifest", "out/model.tar.gz", "--started", STARTED, "--ended", "2026-11-26T10:22:00+00:00",
                         "--no-detect", "--framework", "scikit-learn==1.5.2", cwd=project.root)
    assert (code, err) == (0, "")
    digest = hashlib.sha256(MODEL).hexdigest()
    lock = hashlib.sha256(LOCK.encode()).hexdigest()
    assert out == f"""\
wrote models/churn-v7.manifest.json
  artifact   s3://acme-models/churn/v7/model.tar.gz sha256 {digest}
  commit     {head}
  lockfile   requirements.txt sha256 {lock}
  frameworks scikit-learn 1.5.2
  training   2026-11-26T09:40:00+00:00 to 2026-11-26T10:22:00+00:00
to link the artifact to it, set in mlgate.yaml:
  provenance.code.commit: {head}
  provenance.artifact.sha256: {digest}
"""
    data = json.loads((project.root / "models/churn-v7.manifest.json").read_text())
    assert data == {
        "mlgate_manifest": 1, "generated_by": data["generated_by"], "spec": "mlgate.yaml",
        "model": {"name": "churn", "version": "v7"},
        "artifact": {"uri": "s3://acme-models/churn/v7/model.tar.gz", "sha256": digest, "size": len(MODEL)},
        "data": [{"name": "events", "uri": "s3://acme-data/events.parquet",
                  "version": "Vx8Fq2KQm1sYdT0b7hN3cR9pL4eWzAuJ"}],
        "code": {"commit": head, "paths": ["train"], "uncommitted": []},
        "dependencies": {"lockfile": "requirements.txt", "sha256": lock},
        "seed": 7, "frameworks": {"scikit-learn": "1.5.2"},
        "training": {"started": "2026-11-26T09:40:00Z", "ended": "2026-11-26T10:22:00Z"},
    }
    assert data["generated_by"].startswith("mlgate ")


def test_the_lockfile_hash_is_of_the_committed_blob_not_the_work_tree(project: Repo) -> None:
    project.write("requirements.txt", LOCK + "pandas==2.2.3\n")  # edited after the commit training ran from
    built = build(project.root / "out/model.tar.gz", spec=project.root / "mlgate.yaml",
                  started=dt.datetime(2026, 11, 26, 9, 40, tzinfo=dt.UTC), detect=False)
    assert built.manifest.dependencies is not None
    assert built.manifest.dependencies.sha256 == hashlib.sha256(LOCK.encode()).hexdigest()


def test_uncommitted_training_code_is_recorded_and_warned(project: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    project.write("train/train.py", "print('changed after the commit')\n")
    code, _, err = cli("manifest", "out/model.tar.gz", "--started", STARTED, "--no-detect", cwd=project.root)
    assert code == 0
    head = project.git("rev-parse", "HEAD")
    assert err == (f"mlgate: warning: training code differs from commit {head[:12]}: train/train.py: no commit holds "
                   "the code that trained this artifact (REP005 fails until it is retrained from a commit)\n")
    data = json.loads((project.root / "models/churn-v7.manifest.json").read_text())
    assert data["code"]["uncommitted"] == ["train/train.py"]


def test_write_from_a_training_script(project: Repo) -> None:
    project.git("remote", "add", "origin", "https://ci-bot:s3cr3t@github.com/acme/churn.git")
    path = write(project.root / "out/model.tar.gz", spec=project.root / "mlgate.yaml",
                 output=project.root / "elsewhere/m.json", frameworks={"torch": "2.3.1"})
    assert path == project.root / "elsewhere/m.json"
    manifest, _ = parse(path.read_text())
    assert manifest.code.repository == "https://github.com/acme/churn.git"  # the token is not written down
    assert manifest.training.started <= manifest.training.ended <= dt.datetime.now(dt.UTC)
    installed = {}
    for name in FRAMEWORKS:
        try:
            installed[name] = version(name)
        except PackageNotFoundError:
            continue
    assert manifest.frameworks == dict(sorted({**installed, "torch": "2.3.1"}.items()))


def test_an_artifact_that_is_only_in_s3_is_given_by_its_hash(project: Repo) -> None:
    digest = "0d" * 32
    built = build(spec=project.root / "mlgate.yaml", sha256=digest.upper(), started=utc(dt.datetime(2026, 11, 26)),
                  commit="HEAD", detect=False)
    assert built.manifest.artifact.sha256 == digest and built.manifest.artifact.size is None
    assert built.output == project.root / "models/churn-v7.manifest.json"


def test_a_local_artifact_uri_defaults_to_its_path_from_the_spec(project: Repo) -> None:
    project.write("mlgate.yaml", SPEC.replace("    uri: s3://acme-models/churn/v7/model.tar.gz\n", ""))
    project.commit("no uri")
    built = build(project.root / "out/model.tar.gz", spec=project.root / "mlgate.yaml", detect=False)
    assert built.manifest.artifact.uri == "out/model.tar.gz"
    assert built.spec_updates["provenance.artifact.uri"] == "out/model.tar.gz"


@pytest.mark.parametrize(("args", "expected"), [
    (["out/model.tar.gz"], "--started is required: when training began"),
    (["out/model.tar.gz", "--started", "2026-11-26T09:40:00"], "--started '2026-11-26T09:40:00' has no time zone"),
    (["out/model.tar.gz", "--started", "yesterday"], "--started 'yesterday' is not an ISO 8601 time"),
    (["out/model.tar.gz", "--started", STARTED, "--ended", "2026-11-26T09:00:00Z"], "training ended "),
    (["out/model.tar.gz", "--started", STARTED, "--framework", "torch"], "--framework 'torch' is not NAME==VERSION"),
    (["--started", STARTED], "no artifact: give the artifact file (it is hashed) or its sha256"),
    (["out/missing.tar.gz", "--started", STARTED], "artifact out/missing.tar.gz: no such file"),
    (["out/model.tar.gz", "--sha256", "ab" * 32, "--started", STARTED], "--sha256 " + "ab" * 32 + " is not the sha256"),
    (["--sha256", "xyz", "--started", STARTED], "sha256 'xyz' is not a sha256 (64 hex digits)"),
    (["out/model.tar.gz", "--started", STARTED, "--commit", "nosuch"], "commit 'nosuch' does not resolve"),
    (["out/model.tar.gz", "--started", STARTED, "--spec", "other.yaml"], "other.yaml: no such spec file"),
])
def test_unusable_manifest_commands_exit_2(project: Repo, cli, args: list[str], expected: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli("manifest", *args, cwd=project.root)
    assert code == 2 and out == ""
    assert err.startswith(f"mlgate: error: {expected}"), err


def test_no_place_to_write_it_exits_2(project: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    project.write("mlgate.yaml", SPEC.replace("    manifest: models/churn-v7.manifest.json\n", ""))
    code, _, err = cli("manifest", "out/model.tar.gz", "--started", STARTED, cwd=project.root)
    assert code == 2
    assert err.startswith("mlgate: error: no place to write the manifest: pass --output FILE or set "
                          "provenance.artifact.manifest")
    code, out, _ = cli("manifest", "out/model.tar.gz", "--started", STARTED, "-o", "m.json", cwd=project.root)
    assert code == 0 and "  provenance.artifact.manifest: m.json\n" in out


def test_outside_a_git_repository_exits_2(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "mlgate.yaml").write_text(SPEC)
    code, _, err = cli("manifest", "--sha256", "ab" * 32, "--started", STARTED, cwd=tmp_path)
    assert code == 2 and "is not inside a git repository" in err


def test_the_schema_is_versioned_and_documented(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("manifest", "--schema")
    schema = json.loads(out)
    assert code == 0 and schema == json_schema()
    assert schema["$id"] == "https://mlgate.dev/schema/mlgate-manifest-1.json"
    assert schema["properties"]["mlgate_manifest"]["const"] == 1
    assert set(schema["required"]) == {"mlgate_manifest", "generated_by", "artifact", "code", "training"}


def test_dump_and_parse_round_trip(project: Repo) -> None:
    built = build(project.root / "out/model.tar.gz", spec=project.root / "mlgate.yaml", detect=False,
                  started=dt.datetime(2026, 11, 26, 10, 40, 12, 999, tzinfo=dt.timezone(dt.timedelta(hours=1))),
                  ended=dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC))
    text = dump(built.manifest)
    again, doc = parse(text)
    assert again == built.manifest
    assert again.training.started.isoformat() == "2026-11-26T09:40:12+00:00"  # UTC, to the second
    assert doc.pos(("code", "commit")).line == text.splitlines().index(
        next(line for line in text.splitlines() if '"commit"' in line)) + 1


def test_parse_names_each_problem(project: Repo) -> None:
    with pytest.raises(ManifestError) as info:
        parse('{\n  "mlgate_manifest": 1,\n  "generated_by": 3,\n  "seed": "seven"\n}\n')
    found = [(p.message, p.line) for p in info.value.problems]
    assert ("generated_by: input should be a valid string", 3) in found
    assert ("seed: input should be a valid integer, unable to parse string as an integer", 4) in found
    assert ("artifact: field required", 1) in found


@pytest.mark.parametrize(("url", "public"), [
    ("https://ci-bot:tok@github.com/acme/churn.git", "https://github.com/acme/churn.git"),
    ("https://github.com/acme/churn", "https://github.com/acme/churn"),
    ("git@github.com:acme/churn.git", "git@github.com:acme/churn.git"),
    ("ssh://git@gitlab.example:2222/ml/churn.git", "ssh://gitlab.example:2222/ml/churn.git"),
])
def test_public_url_drops_credentials(url: str, public: str) -> None:
    assert public_url(url) == public


@pytest.mark.parametrize(("a", "b", "same"), [
    ("https://github.com/acme/churn", "git@github.com:acme/churn.git", True),
    ("https://GitHub.com/acme/churn.git/", "ssh://git@github.com/acme/churn", True),
    ("https://github.com/acme/churn", "https://github.com/acme/fraud", False),
    ("https://github.com/acme/churn", "https://gitlab.com/acme/churn", False),
])
def test_same_repository(a: str, b: str, same: bool) -> None:
    assert same_repository(a, b) is same


def test_dvc_content_hash_picks_the_entry_of_the_dataset(tmp_path: Path) -> None:
    text = ("outs:\n- md5: aaaa\n  path: train.csv\n- md5: bbbb\n  path: labels.csv\n")
    assert dvc_content_hash(text, tmp_path, tmp_path / "labels.csv") == "md5:bbbb"
    assert dvc_content_hash(text, tmp_path, tmp_path / "other.csv") is None
    assert dvc_content_hash("outs:\n- etag: '0x1'\n  path: x\n", tmp_path, None) == "etag:0x1"
    assert dvc_content_hash("not: [a dvc file", tmp_path, None) is None


def test_a_naive_time_is_local_time() -> None:
    naive = dt.datetime(2026, 11, 26, 9, 40, 30, 500)
    assert utc(naive) == naive.astimezone().astimezone(dt.UTC).replace(microsecond=0)
    assert utc(naive).tzinfo == dt.UTC


def test_the_model_is_the_documented_shape() -> None:
    assert set(ArtifactManifest.model_fields) == {"mlgate_manifest", "generated_by", "spec", "model", "artifact",
                                                  "data", "code", "dependencies", "seed", "frameworks", "training",
                                                  "evaluation"}


def test_an_uncommitted_spec_in_a_repo_without_commits_exits_2(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", SPEC)
    code, _, err = cli("manifest", "--sha256", "ab" * 32, "--started", STARTED, cwd=repo.root)
    assert code == 2 and "has no commit yet" in err
    with pytest.raises(UsageError):
        build(spec=repo.root / "mlgate.yaml", sha256="ab" * 32)
