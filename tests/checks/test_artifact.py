"""REP005 artifact registered with provenance: a manifest written by mlgate.manifest.write, read back and compared
field by field with the spec and the repository (real git, real files); SageMaker model package ARNs by form."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlgate.manifest import write
from mlgate.result import RuleResult
from tests.conftest import GIT_ENV, Repo, messages

MODEL = b"\x00trained weights\x01" * 64
DVC = "outs:\n- md5: 5d2e7f1c9b0a4e8d3c6b1a7f2e9d4c80\n  size: 1843\n  hash: md5\n  path: labels.csv\n"
LOCK = "numpy==2.1.3\nscikit-learn==1.5.2\n"
START = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=1)
END = START + dt.timedelta(minutes=42)


def spec(commit: str = "{commit}", sha256: str = "{sha256}", extra_code: str = "", seed: int = 7,
         uri: str = "models/model.bin", name: str = "churn") -> str:
    return f"""\
version: 1
model:
  name: {name}
  version: v7
provenance:
  data:
    - name: events
      uri: s3://acme-data/events.parquet
      version: Vx8Fq2KQm1sYdT0b7hN3cR9pL4eWzAuJ
    - name: labels
      uri: data/labels.csv
      dvc: data/labels.csv.dvc
  code:
    commit: {commit}
    paths: [train/]{extra_code}
  dependencies:
    lockfile: requirements.txt
  seed:
    value: {seed}
  artifact:
    uri: {uri}
    sha256: {sha256}
    manifest: models/model.manifest.json
"""


class Trained:
    """A repository whose training job ran and wrote its manifest with mlgate.manifest.write."""

    def __init__(self, repo: Repo, *, frameworks: dict[str, str] | None = None, dirty: bool = False) -> None:
        self.repo = repo
        repo.write("train/train.py", "import numpy as np\n\nnp.random.seed(7)\n")
        repo.write("requirements.txt", LOCK)
        repo.write("data/labels.csv.dvc", DVC)
        self.commit = repo.commit("training code")
        self.digest = hashlib.sha256(MODEL).hexdigest()
        repo.write("models/model.bin", MODEL)
        repo.write("mlgate.yaml", spec(self.commit, self.digest))
        if dirty:
            repo.write("train/train.py", "import numpy as np\n\nnp.random.seed(8)\n")
        self.path = write(repo.root / "models/model.bin", spec=repo.root / "mlgate.yaml", started=START, ended=END,
                          frameworks={"scikit-learn": "1.5.2", "numpy": "2.1.3"} if frameworks is None else frameworks,
                          detect=False)
        if dirty:
            repo.git("checkout", "--", "train/train.py")
        repo.commit("model v7 and its manifest")

    def edit(self, change: Callable[[dict[str, Any]], None]) -> None:
        data = json.loads(self.path.read_text())
        change(data)
        self.path.write_text(json.dumps(data, indent=2) + "\n")
        self.repo.commit("edit the manifest")

    def respec(self, text: str) -> None:
        self.repo.write("mlgate.yaml", text.format(commit=self.commit, sha256=self.digest))
        self.repo.commit("edit the spec")

    def rule(self) -> RuleResult:
        return self.repo.rule("REP005")

    def cite(self, key: str, after: str | None = None) -> str:
        """`file:line` of the first `"key":` in the manifest (after the line holding `"after":`)."""
        lines = self.path.read_text().splitlines()
        start = next(i for i, text in enumerate(lines) if f'"{after}":' in text) if after else 0
        number = next(i for i, text in enumerate(lines) if i >= start and f'"{key}":' in text) + 1
        return f"models/model.manifest.json:{number}"


def problems(result: RuleResult) -> list[str]:
    return [f.message for f in result.findings if f.status != "pass"]


@pytest.fixture
def trained(repo: Repo) -> Trained:
    return Trained(repo)


def test_a_manifest_that_agrees_with_the_spec_and_the_repo_passes(trained: Trained) -> None:
    result = trained.rule()
    assert result.status == "pass", messages(result)
    lock_sha = hashlib.sha256(LOCK.encode()).hexdigest()
    assert [f.message for f in result.findings] == [
        f"artifact models/model.bin sha256 {trained.digest} matches the manifest models/model.manifest.json; the "
        f"local file hashes to it ({len(MODEL)} bytes)",
        "all 2 datasets agree with the manifest: events (version: Vx8Fq2KQm1sYdT0b7hN3cR9pL4eWzAuJ); labels (dvc: "
        "data/labels.csv.dvc)",
        f"commit {trained.commit[:12]} matches the manifest, and training ran from a clean checkout of train",
        "seed 7 matches the manifest",
        f"lockfile requirements.txt as committed at {trained.commit[:7]} has sha256 {lock_sha}, as the manifest "
        "records",
        "framework versions match the lock: numpy 2.1.3, scikit-learn 1.5.2",
        f"trained {START:%Y-%m-%d %H:%M} UTC to {END:%Y-%m-%d %H:%M} UTC (42 min), after commit "
        f"{trained.commit[:7]} was made",
    ]


def test_the_manifest_records_what_the_spec_and_the_repo_say(trained: Trained) -> None:
    data = json.loads(trained.path.read_text())
    assert data["mlgate_manifest"] == 1 and data["spec"] == "mlgate.yaml"
    assert data["code"] == {"commit": trained.commit, "paths": ["train"], "uncommitted": []}
    assert data["dependencies"] == {"lockfile": "requirements.txt", "sha256": hashlib.sha256(LOCK.encode()).hexdigest()}
    assert data["data"][1] == {"name": "labels", "uri": "data/labels.csv", "dvc": "data/labels.csv.dvc",
                               "content_hash": "md5:5d2e7f1c9b0a4e8d3c6b1a7f2e9d4c80"}
    assert data["artifact"] == {"uri": "models/model.bin", "sha256": trained.digest, "size": len(MODEL)}
    assert data["training"] == {"started": START.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "ended": END.strftime("%Y-%m-%dT%H:%M:%SZ")}


def test_a_short_sha_or_a_tag_in_the_spec_matches_the_full_sha(trained: Trained) -> None:
    trained.repo.git("tag", "v7", trained.commit)
    for written in (trained.commit[:8], "v7"):
        trained.respec(spec(commit=written))
        result = trained.rule()
        assert result.status == "pass", messages(result)


def _set(*path: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value  # type: ignore[index]
    return change


OTHER = "ab" * 32

MANIFEST_EDITS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("lockfile hash", _set("dependencies", "sha256", value=OTHER),
     f"the manifest models/model.manifest.json:N records sha256 {OTHER} for requirements.txt, but requirements.txt "
     "as committed at {short} has sha256 " + hashlib.sha256(LOCK.encode()).hexdigest() + ": the training environment "
     "was not the one locked at its commit"),
    ("data version", _set("data", 0, "version", value="3HL4kqtJlcpXroDTDmJ"),
     "dataset 'events': the spec pins version Vx8Fq2KQm1sYdT0b7hN3cR9pL4eWzAuJ, but the manifest "
     "models/model.manifest.json:N records that training read 3HL4kqtJlcpXroDTDmJ"),
    ("data uri", _set("data", 0, "uri", value="s3://acme-data/events-v2.parquet"),
     "dataset 'events': the spec has uri s3://acme-data/events.parquet, but the manifest "
     "models/model.manifest.json:N records that training read s3://acme-data/events-v2.parquet"),
    ("dataset missing", lambda d: d["data"].pop(1),
     "dataset 'labels' is not in the manifest models/model.manifest.json: the artifact was trained without it, or "
     "the manifest is of another training run"),
    ("extra dataset", lambda d: d["data"].append({"name": "clicks", "uri": "s3://acme-data/clicks/"}),
     "the manifest models/model.manifest.json:N lists dataset 'clicks' that the spec does not: the artifact was "
     "trained on data the spec does not pin"),
    ("artifact sha256", _set("artifact", "sha256", value=OTHER),
     "the spec's artifact sha256 is {digest}, but the manifest models/model.manifest.json:N records " + OTHER
     + ": the manifest is of another artifact (or another training run)"),
    ("artifact uri", _set("artifact", "uri", value="s3://acme-models/churn/v6/model.tar.gz"),
     "the spec deploys models/model.bin, but the manifest models/model.manifest.json:N is of "
     "s3://acme-models/churn/v6/model.tar.gz"),
    ("seed", _set("seed", value=8),
     "the spec records seed 7, but the manifest models/model.manifest.json:N says training used 8"),
    ("commit", _set("code", "commit", value="c" * 40),
     "the spec says the artifact was trained from {commit} ({short12}), but the manifest "
     "models/model.manifest.json:N records cccccccccccc"),
    ("code paths", _set("code", "paths", value=["train", "features"]),
     "the spec's code.paths are train, but the manifest models/model.manifest.json:N checked train, features for "
     "uncommitted changes"),
    ("other spec", _set("spec", value="models/fraud/mlgate.yaml"),
     "the manifest was written from models/fraud/mlgate.yaml, not from this spec (mlgate.yaml): it describes "
     "another deployment's artifact"),
    ("model name", _set("model", "name", value="fraud"),
     "the spec deploys model name 'churn', but the manifest models/model.manifest.json:N is of 'fraud'"),
    ("framework", _set("frameworks", "scikit-learn", value="1.4.2"),
     "the manifest models/model.manifest.json:N says scikit-learn 1.4.2 trained the artifact, but requirements.txt "
     "at {short} pins 1.5.2: training did not run in the locked environment"),
    ("started before the commit", _set("training", "started", value="2020-01-01T00:00:00Z"),
     "the manifest models/model.manifest.json:N says training started at 2020-01-01 00:00 UTC, before commit "
     "{short} was made"),
    ("ended before it started", _set("training", "ended", value="2020-01-01T00:00:00Z"),
     "the manifest models/model.manifest.json:N says training ended (2020-01-01 00:00 UTC) before it started"),
]


@pytest.mark.parametrize(("change", "expected"), [e[1:] for e in MANIFEST_EDITS], ids=[e[0] for e in MANIFEST_EDITS])
def test_a_manifest_field_that_disagrees_fails(trained: Trained, change: Callable[[dict[str, Any]], None],
                                               expected: str) -> None:
    trained.edit(change)
    result = trained.rule()
    assert result.status == "fail", messages(result)
    wanted = expected.format(commit=trained.commit, short=trained.commit[:7], short12=trained.commit[:12],
                             digest=trained.digest)
    found = [re.sub(r"manifest\.json:\d+", "manifest.json:N", m) for m in problems(result)]
    assert any(m.startswith(wanted) for m in found), messages(result)


def test_a_framework_the_lock_does_not_pin_is_named_not_failed(repo: Repo) -> None:
    trained = Trained(repo, frameworks={"scikit-learn": "1.5.2", "torch": "2.3.1+cpu"})
    result = trained.rule()
    assert result.status == "pass", messages(result)
    assert "framework versions match the lock: scikit-learn 1.5.2; not in the lock (from the training image?): " \
           "torch 2.3.1+cpu" in messages(result)


def test_no_framework_versions_warn(repo: Repo) -> None:
    trained = Trained(repo, frameworks={})
    result = trained.rule()
    assert result.status == "warn"
    assert problems(result) == [f"the manifest {trained.cite('frameworks')} records no framework versions: nobody "
                                "can tell which torch / scikit-learn / ... built the artifact"]


def test_training_from_uncommitted_code_fails(repo: Repo) -> None:
    with pytest.warns(UserWarning, match=r"training code differs from commit [0-9a-f]{12}: train/train.py"):
        trained = Trained(repo, dirty=True)
    result = trained.rule()
    assert result.status == "fail"
    assert problems(result) == ["the artifact was trained from uncommitted changes to train/train.py (the manifest "
                                f"{trained.cite('uncommitted')}): no commit holds the code that produced it"]


def test_a_local_artifact_that_changed_since_training_fails(trained: Trained) -> None:
    trained.repo.write("models/model.bin", MODEL + b"fine-tuned")
    trained.repo.commit("overwrite the model")
    result = trained.rule()
    assert result.status == "fail"
    (problem,) = problems(result)
    assert problem.startswith(f"artifact models/model.bin hashes to {hashlib.sha256(MODEL + b'fine-tuned').hexdigest()}"
                              f" ({len(MODEL) + 10} bytes), but the manifest {trained.cite('sha256')} records "
                              f"{trained.digest}: the file is not the artifact that was trained")


@pytest.mark.parametrize(("content", "expected"), [
    (None, "artifact models/model.bin is not in the work tree, so its sha256 cannot be checked"),
    (b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"0" * 64 + b"\nsize 1\n",
     "artifact models/model.bin is a git-lfs pointer, not the model file, so its sha256 cannot be checked"),
])
def test_a_local_artifact_that_cannot_be_hashed_warns(trained: Trained, content: bytes | None, expected: str) -> None:
    if content is None:
        (trained.repo.root / "models/model.bin").unlink()
    else:
        trained.repo.write("models/model.bin", content)
    result = trained.rule()
    assert result.status == "warn"
    assert problems(result) == [expected]


def test_the_data_a_dvc_file_pins_now_is_not_what_trained(trained: Trained) -> None:
    trained.repo.write("data/labels.csv.dvc", DVC.replace("5d2e7f1c", "00000000"))
    trained.repo.commit("new labels")
    result = trained.rule()
    assert result.status == "fail"
    where = trained.cite("content_hash")
    assert problems(result) == ["dataset 'labels': data/labels.csv.dvc now pins md5:000000009b0a4e8d3c6b1a7f2e9d4c80, "
                                f"but training read md5:5d2e7f1c9b0a4e8d3c6b1a7f2e9d4c80 ({where}): the data changed "
                                "since the artifact was trained"]


@pytest.mark.parametrize(("text", "expected", "fix"), [
    (spec(sha256="''").replace("    sha256: ''\n", ""), "provenance.artifact.sha256 is not set: nothing ties the "
     "deployed file to the manifest's artifact (sha256 {digest})", "add `sha256: {digest}` under provenance.artifact"),
    (spec(seed=8), "the spec records seed 8, but the manifest {seed} says training used 7",
     "set seed.value: 7"),
    (spec(commit="{commit}~0").replace("{commit}~0", "0" * 40), "provenance.code.commit '" + "0" * 40 + "' does "
     "not resolve in this repository (REP004 says why); the manifest records {commit}",
     "set provenance.code.commit: {commit}"),
    (spec(name="fraud"), "the spec deploys model name 'fraud', but the manifest {name} is of "
     "'churn'", "point provenance.artifact.manifest at this model's manifest"),
])
def test_a_spec_that_disagrees_with_its_manifest_fails(trained: Trained, text: str, expected: str, fix: str) -> None:
    trained.respec(text)
    result = trained.rule()
    assert result.status == "fail"
    fail = next(f for f in result.findings if f.status == "fail")
    assert fail.message == expected.format(commit=trained.commit, digest=trained.digest, seed=trained.cite("seed"),
                                           name=trained.cite("name"))
    assert fail.remediation == fix.format(commit=trained.commit, digest=trained.digest)
    assert fail.location is not None and fail.location.path == "mlgate.yaml"


def test_a_lockfile_not_committed_at_the_training_commit_fails(repo: Repo) -> None:
    repo.write("train/train.py", "print(1)\n")
    repo.write("data/labels.csv.dvc", DVC)
    commit = repo.commit("training code, no lock yet")
    repo.write("requirements.txt", LOCK)
    repo.write("models/model.bin", MODEL)
    repo.write("mlgate.yaml", spec(commit, hashlib.sha256(MODEL).hexdigest()))
    with pytest.warns(UserWarning, match="lockfile requirements.txt is not committed at"):
        write(repo.root / "models/model.bin", spec=repo.root / "mlgate.yaml", started=START, ended=END,
              frameworks={"numpy": "2.1.3"}, detect=False, commit=commit)
    repo.commit("lock and model")
    result = repo.rule("REP005")
    assert result.status == "fail"
    assert f"lockfile requirements.txt is not committed at {commit[:7]}, the commit the artifact was trained from: " \
           "the environment that trained it is not pinned" in problems(result)


def test_the_spec_repository_must_be_the_manifests(trained: Trained) -> None:
    trained.edit(_set("code", "repository", value="https://github.com/acme/churn"))
    trained.respec(spec(extra_code="\n    repository: git@github.com:acme/churn.git"))
    assert trained.rule().status == "pass", messages(trained.rule())
    trained.respec(spec(extra_code="\n    repository: https://github.com/acme/fraud"))
    result = trained.rule()
    assert result.status == "fail"
    assert problems(result) == ["the spec's repository is https://github.com/acme/fraud, but the manifest "
                                f"{trained.cite('repository')} records https://github.com/acme/churn"]


def test_a_manifest_of_another_repository_than_the_remotes_warns(trained: Trained) -> None:
    trained.repo.git("remote", "add", "origin", "https://github.com/acme/churn.git")
    trained.edit(_set("code", "repository", value="https://github.com/someone/fork"))
    result = trained.rule()
    assert result.status == "warn"
    assert problems(result)[0].startswith(f"the manifest {trained.cite('repository')} records repository "
                                          "https://github.com/someone/fork, which is none of this clone's remotes "
                                          "(https://github.com/acme/churn.git)")


@pytest.mark.parametrize(("text", "expected"), [
    ("{not json", "manifest models/model.manifest.json is not JSON: Expecting property name enclosed in double quotes"),
    ('{\n  "mlgate_manifest": 2\n}\n', "manifest models/model.manifest.json is version 2; this mlgate reads version 1 "
                                       "manifests"),
    ('{"generated_by": "x"}', "manifest models/model.manifest.json has no mlgate_manifest version"),
    ('{\n  "mlgate_manifest": 1,\n  "generated_by": "x",\n  "artifact": {\n    "uri": "s3://m",\n    "sha256": "xyz"'
     '\n  }\n}\n', "manifest models/model.manifest.json: artifact.sha256: string should match pattern"),
])
def test_a_manifest_that_is_not_a_valid_manifest_fails(trained: Trained, text: str, expected: str) -> None:
    trained.path.write_text(text)
    trained.repo.commit("break the manifest")
    result = trained.rule()
    assert result.status == "fail"
    assert problems(result)[0].startswith(expected), messages(result)
    assert result.findings[0].location is not None and result.findings[0].location.path == "models/model.manifest.json"


def test_missing_fields_are_each_named_with_their_line(trained: Trained) -> None:
    trained.path.write_text('{\n  "mlgate_manifest": 1,\n  "generated_by": "x",\n  "artifact": {"uri": "s3://m"}\n}\n')
    trained.repo.commit("a hand-written manifest")
    result = trained.rule()
    found = [(f.message, f.location.line if f.location else None) for f in result.findings]
    assert found == [
        ("manifest models/model.manifest.json: artifact.sha256: field required", 4),
        ("manifest models/model.manifest.json: code: field required", 1),
        ("manifest models/model.manifest.json: training: field required", 1),
    ]


def test_a_manifest_that_does_not_exist_or_is_not_committed_fails(trained: Trained) -> None:
    trained.respec(spec().replace("models/model.manifest.json", "models/other.manifest.json"))
    assert problems(trained.rule()) == ["manifest models/other.manifest.json does not exist"]
    trained.repo.write("models/other.manifest.json", trained.path.read_text())
    assert problems(trained.rule()) == ["manifest models/other.manifest.json is not tracked by git: a fresh clone (CI, "
                                        "the deploy job) does not have it"]


def test_uncommitted_manifest_edits_warn(trained: Trained) -> None:
    trained.path.write_text(trained.path.read_text().replace('"size"', '"size" '))
    result = trained.rule()
    assert result.status == "warn"
    assert problems(result) == ["manifest models/model.manifest.json has uncommitted changes: the committed manifest "
                                "is not the one checked here"]


@pytest.mark.parametrize("artifact", ["", "  artifact:\n    uri: s3://acme-models/churn/latest/model.tar.gz\n"])
def test_no_manifest_and_no_model_package_fails(repo: Repo, artifact: str) -> None:
    repo.write("mlgate.yaml", "version: 1\nprovenance:\n" + (artifact or "  seed:\n    value: 1\n"))
    repo.commit("spec")
    result = repo.rule("REP005")
    assert result.status == "fail"
    uri = " s3://acme-models/churn/latest/model.tar.gz" if artifact else ""
    assert messages(result) == (f"fail: the artifact{uri} has no provenance manifest (provenance.artifact.manifest) "
                                "and no SageMaker model package (model_package_arn): nothing links its sha256 to the "
                                "data, commit, seed and lockfile that produced it")
    assert "mlgate manifest" in (result.findings[0].remediation or "")


ARNS = [
    ("arn:aws:sagemaker:us-east-1:111122223333:model-package/churn-predictor/7", None),
    ("arn:aws-cn:sagemaker:cn-north-1:111122223333:model-package/churn", None),
    ("arn:aws:sagemaker:us-east-1:111122223333:model-package-group/churn-predictor",
     "names a model package group, which holds every version of the model, not the one deployed"),
    ("arn:aws:sagemaker:us-east-1:1111:model-package/churn/7", "has account '1111', not a 12-digit AWS account id"),
    ("arn:aws:sagemaker:useast1:111122223333:model-package/churn/7",
     "has region 'useast1', which is not an AWS region"),
    ("arn:aws:s3:us-east-1:111122223333:model-package/churn/7", "is an ARN of s3, not of SageMaker"),
    ("arn:aws:sagemaker:us-east-1:111122223333:model/churn", "names a SageMaker model, not a model package"),
    ("arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/v7", "has version 'v7', not a model package "
                                                                         "version"),
    ("arn:aws:sagemaker:us-east-1:111122223333:model-package/-churn/7", "has package name '-churn', which is not a "
                                                                         "SageMaker name"),
    ("arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/7/1", "has 'churn/7/1' after model-package/"),
    ("arn:azure:sagemaker:us-east-1:111122223333:model-package/churn/7", "has partition 'azure'"),
    ("churn-predictor/7", "is not an ARN"),
]


@pytest.mark.parametrize(("arn", "problem"), ARNS, ids=[a[0].split(":", 5)[-1][:40] for a in ARNS])
def test_a_model_package_arn_is_checked_for_form(repo: Repo, arn: str, problem: str | None) -> None:
    repo.write("mlgate.yaml", f"version: 1\nprovenance:\n  artifact:\n    uri: s3://m/model.tar.gz\n"
                              f"    model_package_arn: {arn}\n")
    repo.commit("spec")
    result = repo.rule("REP005")
    (finding,) = result.findings
    if problem is None:
        assert result.status == "pass"
        assert finding.message.startswith("model package ARN is well-formed (")
        assert finding.message.endswith("what the package records is read only with AWS access")
    else:
        assert result.status == "fail"
        assert finding.message.startswith(f"model_package_arn '{arn}' {problem}"), finding.message
        assert finding.location is not None and finding.location.line == 5


def test_a_manifest_and_a_model_package_must_name_the_same_package(trained: Trained) -> None:
    arn = "arn:aws:sagemaker:us-east-1:111122223333:model-package/churn/7"
    trained.edit(_set("artifact", "model_package_arn", value=arn.replace("/7", "/6")))
    trained.respec(spec() + f"    model_package_arn: {arn}\n")
    result = trained.rule()
    assert result.status == "fail"
    assert problems(result) == [f"the spec's model package is {arn}, but the manifest "
                                f"{trained.cite('model_package_arn')} registered {arn.replace('/7', '/6')}"]


def test_the_lockfile_read_at_the_commit_ignores_later_edits(trained: Trained) -> None:
    trained.repo.write("requirements.txt", LOCK + "pandas==2.2.3\n")
    trained.repo.commit("add pandas to the lock after training")
    result = trained.rule()
    assert result.status == "pass", messages(result)


def test_a_shallow_clone_says_to_fetch_the_full_history(trained: Trained, tmp_path: Path) -> None:
    trained.repo.write("README.md", "a later commit\n")
    trained.repo.commit("later")
    dest = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{trained.repo.root}", str(dest)], check=True,
                   env={**os.environ, **GIT_ENV}, capture_output=True)
    shallow = Repo.__new__(Repo)
    shallow.root = dest
    result = shallow.rule("REP005")
    assert result.status == "error"
    errors = [f.message for f in result.findings if f.status == "error"]
    assert errors == [f"the manifest's commit {trained.commit[:12]} is not in this clone, which is shallow "
                      "(actions/checkout fetches one commit by default), so the commit, the lockfile at it and the "
                      "training times cannot be checked; to fix: check out the full history: `fetch-depth: 0` on "
                      "actions/checkout (GitLab: GIT_DEPTH: 0), or run `git fetch --unshallow`"]
    assert not [f for f in result.findings if f.status == "fail"]
