"""REP004 code pinned at a commit: resolution, ancestry, staleness, shallow clones, uncommitted training files."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, Repo, messages


def spec(commit: str | None, paths: str = "[train/, features/]") -> str:
    line = f"    commit: {commit}\n" if commit is not None else ""
    return f"version: 1\nprovenance:\n  code:\n{line}    paths: {paths}\n"


def clone(repo: Repo, dest: Path, *options: str) -> Repo:
    """`git clone` of a test repo, as CI checks it out."""
    subprocess.run(["git", "clone", "-q", *options, f"file://{repo.root}", str(dest)], check=True,
                   env={**os.environ, **GIT_ENV}, capture_output=True)
    copy = Repo.__new__(Repo)
    copy.root = dest
    return copy


def trained(repo: Repo) -> str:
    """A repo with training code; returns the sha of the commit the 'artifact' was trained from."""
    repo.write("train/train.py", "print('train')\n")
    repo.write("features/transform.py", "def build():\n    return 1\n")
    repo.write("README.md", "docs\n")
    return repo.commit("training code")


def test_the_commit_at_head_passes(repo: Repo) -> None:
    sha = trained(repo)
    repo.write("mlgate.yaml", spec(sha))
    head = repo.commit("spec")
    result = repo.rule("REP004")
    assert result.status == "pass", messages(result)
    (finding,) = result.findings
    assert finding.message.startswith(f"commit {sha[:7]} (")
    assert finding.message.endswith("\"training code\": it is an ancestor of HEAD, and none of the 1 commit "
                                    "since changed train/, features/")
    assert head != sha


def test_a_commit_that_is_head_says_so(repo: Repo) -> None:
    trained(repo)
    repo.write("mlgate.yaml", spec("PLACEHOLDER"))
    repo.commit("spec")
    sha = repo.git("rev-parse", "HEAD")
    repo.write("mlgate.yaml", spec(sha))  # uncommitted spec edit: the commit is still HEAD
    result = repo.rule("REP004")
    assert result.status == "pass", messages(result)
    assert result.findings[0].message.endswith("\"spec\": it is HEAD")


def test_a_training_file_changed_after_the_commit_makes_the_artifact_stale(repo: Repo) -> None:
    sha = trained(repo)
    repo.write("train/train.py", "print('train harder')\n")
    repo.write("features/new.py", "X = 1\n")
    repo.commit("tune the training loop")
    repo.write("README.md", "more docs\n")
    repo.commit("docs only")
    repo.write("mlgate.yaml", spec(sha))
    later = repo.commit("spec")
    result = repo.rule("REP004")
    assert result.status == "fail"
    (fail,) = result.findings
    tune = repo.git("rev-parse", "--short=7", f"{later}~2")
    assert fail.message.startswith(f"the artifact is stale: 2 files under train/, features/ changed since commit "
                                   f"{sha[:7]} (")
    assert "features/new.py, train/train.py; changed in 1 commit: " in fail.message
    assert f"{tune} (" in fail.message and "\"tune the training loop\"" in fail.message
    assert "docs only" not in fail.message
    assert fail.location is not None and (fail.location.path, fail.location.line) == ("mlgate.yaml", 4)
    assert fail.remediation is not None and fail.remediation.startswith("retrain from HEAD")


def test_a_change_reverted_later_is_not_stale(repo: Repo) -> None:
    sha = trained(repo)
    repo.write("train/train.py", "print('experiment')\n")
    repo.commit("experiment")
    repo.write("train/train.py", "print('train')\n")
    repo.commit("revert the experiment")
    repo.write("mlgate.yaml", spec(sha))
    repo.commit("spec")
    result = repo.rule("REP004")
    assert result.status == "pass", messages(result)
    assert "(3 commits since); 2 of them touched train/, features/, but the files are the same as at the commit" \
        in result.findings[0].message


def test_a_spec_in_a_subdirectory_guards_its_own_paths(repo: Repo) -> None:
    repo.write("models/churn/train/train.py", "print(1)\n")
    repo.write("train/train.py", "print('another model')\n")
    sha = repo.commit("two models")
    repo.write("train/train.py", "print('another model, changed')\n")  # not this spec's training code
    repo.write("models/churn/mlgate.yaml", spec(sha, "[train/]"))
    repo.commit("spec")
    result = repo.rule("REP004", "models/churn/mlgate.yaml")
    assert result.status == "pass", messages(result)


def test_no_commit_fails(repo: Repo) -> None:
    trained(repo)
    repo.write("mlgate.yaml", spec(None))
    repo.commit("spec")
    result = repo.rule("REP004")
    assert result.status == "fail"
    assert messages(result) == ("fail: no commit is recorded in provenance.code.commit: nobody can check out the "
                                "code that produced this artifact")
    assert "git rev-parse HEAD" in (result.findings[0].remediation or "")


@pytest.mark.parametrize(("written", "expected"), [
    ("main", "commit 'main' is a branch name (refs/heads/main), not a commit: it moves with every push, so it "
             "names a different commit tomorrow (today "),
    ("HEAD", "commit 'HEAD' is a revision expression relative to a ref that moves (today "),
    ("main~1", "commit 'main~1' is a revision expression relative to a ref that moves (today "),
    ("'HEAD@{2}'", "commit 'HEAD@{2}' is a revision expression relative to a ref that moves"),
])
def test_names_that_move_fail(repo: Repo, written: str, expected: str) -> None:
    trained(repo)
    repo.write("mlgate.yaml", spec(written))
    repo.commit("spec")
    result = repo.rule("REP004")
    assert result.status == "fail"
    assert result.findings[0].message.startswith(expected), messages(result)


def test_a_remote_tracking_branch_name_fails_too(repo: Repo, tmp_path: Path) -> None:
    trained(repo)
    copy = clone(repo, tmp_path / "clone")
    copy.git("checkout", "-q", "--detach")
    copy.git("branch", "-q", "-D", "main")
    copy.write("mlgate.yaml", spec("main"))
    copy.commit("spec")
    result = copy.rule("REP004")
    assert result.status == "fail"
    assert "is a branch name (refs/remotes/origin/main)" in messages(result)


@pytest.mark.parametrize("annotated", [False, True], ids=["lightweight", "annotated"])
def test_a_tag_is_resolved_and_named(repo: Repo, annotated: bool) -> None:
    sha = trained(repo)
    repo.git("tag", *(["-a", "-m", "release"] if annotated else []), "churn-v7")
    repo.write("mlgate.yaml", spec("churn-v7"))
    repo.commit("spec")
    result = repo.rule("REP004")
    assert result.status == "pass", messages(result)
    message = result.findings[0].message
    assert message.startswith(f"tag churn-v7 -> commit {sha[:7]} (")
    assert message.endswith("(a tag can be moved with `git tag -f`; the sha it points at cannot)")


def test_a_short_sha_is_resolved_to_the_full_one(repo: Repo) -> None:
    sha = trained(repo)
    repo.write("mlgate.yaml", spec(sha[:8]))
    repo.commit("spec")
    result = repo.rule("REP004")
    assert result.status == "pass", messages(result)
    assert f"(short sha {sha[:8]} -> {sha})" in result.findings[0].message


def _colliding_blobs() -> tuple[bytes, bytes, str]:
    """Two file contents whose git blob ids share their first 4 hex digits."""
    seen: dict[str, bytes] = {}
    for i in range(100_000):
        content = f"blob {i}\n".encode()
        prefix = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()[:4]
        if prefix in seen:
            return seen[prefix], content, prefix
        seen[prefix] = content
    raise AssertionError("no collision")


def test_an_ambiguous_short_sha_fails(repo: Repo) -> None:
    first, second, prefix = _colliding_blobs()
    trained(repo)
    repo.write("data/a.txt", first)
    repo.write("data/b.txt", second)
    repo.write("mlgate.yaml", spec(f"'{prefix}'"))
    repo.commit("spec")
    result = repo.rule("REP004")
    assert result.status == "fail"
    assert result.findings[0].message.startswith(f"short sha '{prefix}' is ambiguous: ")
    assert result.findings[0].remediation == "write the full 40-character sha"


@pytest.mark.parametrize("written", ["9fceb02d0ae598e95dc970b74767f19372d61af8", "9fceb02", "release-2026"])
def test_a_commit_this_repository_does_not_have_fails(repo: Repo, written: str) -> None:
    trained(repo)
    repo.write("mlgate.yaml", spec(written))
    repo.commit("spec")
    result = repo.rule("REP004")
    assert result.status == "fail"
    assert result.findings[0].message.startswith(f"commit '{written}' does not exist in this repository")


def test_a_commit_on_another_branch_is_not_an_ancestor(repo: Repo) -> None:
    trained(repo)
    repo.git("checkout", "-q", "-b", "experiment")
    repo.write("train/train.py", "print('experiment')\n")
    side = repo.commit("experiment")
    repo.git("checkout", "-q", "main")
    repo.write("mlgate.yaml", spec(side))
    repo.commit("spec")
    result = repo.rule("REP004")
    assert result.status == "fail"
    assert result.findings[0].message.startswith(f"commit {side[:7]} (")
    assert "is not an ancestor of HEAD (" in result.findings[0].message
    assert "merge the branch" in (result.findings[0].remediation or "")


def _shallow_clone(repo: Repo, tmp_path: Path) -> Repo:
    copy = clone(repo, tmp_path / "shallow", "--depth", "1")
    assert copy.git("rev-parse", "--is-shallow-repository") == "true"
    return copy


def test_a_shallow_clone_says_to_fetch_the_full_history(repo: Repo, tmp_path: Path) -> None:
    sha = trained(repo)
    repo.write("README.md", "later\n")
    repo.write("mlgate.yaml", spec(sha))
    repo.commit("spec")
    shallow = _shallow_clone(repo, tmp_path)
    result = shallow.rule("REP004")
    assert result.status == "error"
    (error,) = result.findings
    assert error.message.startswith(f"commit '{sha}' is not in this clone, and this is a shallow clone")
    assert "`fetch-depth: 0` on actions/checkout" in error.message
    # the same spec in the full repository passes
    assert repo.rule("REP004").status == "pass"


def test_a_shallow_clone_that_has_the_commit_passes(repo: Repo, tmp_path: Path) -> None:
    trained(repo)
    repo.write("mlgate.yaml", spec("PLACEHOLDER"))
    repo.commit("spec")
    shallow = _shallow_clone(repo, tmp_path)
    head = shallow.git("rev-parse", "HEAD")
    shallow.write("mlgate.yaml", spec(head))
    result = shallow.rule("REP004")
    assert result.status == "pass", messages(result)


def test_uncommitted_training_files_warn(repo: Repo) -> None:
    sha = trained(repo)
    repo.write("mlgate.yaml", spec(sha))
    repo.commit("spec")
    repo.write("train/train.py", "print('local edit')\n")
    repo.write("train/scratch.py", "untracked = True\n")  # untracked: not reported
    repo.write("README.md", "edited, not training code\n")
    result = repo.rule("REP004")
    assert result.status == "warn"
    warning = result.findings[-1]
    assert warning.message.startswith("1 tracked training file has uncommitted changes: train/train.py: ")
    assert result.findings[0].status == "pass"


@pytest.mark.parametrize(("paths", "expected"), [
    ("[]", "provenance.code.paths is empty"),
    ("[train/, featurs/]", "code path 'featurs/' does not exist"),
    ("[train/, notebooks/]", "nothing under code path 'notebooks/' is tracked by git"),
])
def test_code_paths_that_guard_nothing_fail(repo: Repo, paths: str, expected: str) -> None:
    sha = trained(repo)
    repo.write("mlgate.yaml", spec(sha, paths))
    repo.commit("spec")
    repo.write("notebooks/explore.py", "x = 1\n")
    result = repo.rule("REP004")
    assert result.status == "fail"
    assert result.findings[0].message.startswith(expected), messages(result)


def test_a_path_deleted_since_the_commit_is_stale_not_missing(repo: Repo) -> None:
    sha = trained(repo)
    repo.git("rm", "-q", "-r", "features")
    repo.write("mlgate.yaml", spec(sha))
    repo.commit("drop features")
    result = repo.rule("REP004")
    assert result.status == "fail"
    assert "1 file under train/, features/ changed since" in result.findings[0].message
    assert "features/transform.py" in result.findings[0].message


def test_a_tag_of_a_blob_is_not_a_commit(repo: Repo) -> None:
    trained(repo)
    blob = repo.git("rev-parse", "HEAD:README.md")
    repo.git("tag", "readme-tag", blob)
    repo.write("mlgate.yaml", spec("readme-tag"))
    repo.commit("spec")
    result = repo.rule("REP004")
    assert result.status == "fail"
    assert messages(result) == "fail: tag 'readme-tag' does not point at a commit"


def test_a_repository_without_commits_fails(repo: Repo) -> None:
    repo.write("train/train.py", "print(1)\n")
    repo.write("mlgate.yaml", spec("0123456789abcdef0123456789abcdef01234567", "[train/]"))
    result = repo.rule("REP004")
    assert result.status == "fail"
    assert messages(result) == ("fail: the repository has no commit yet, so provenance.code.commit cannot be in its "
                                "history")
