"""Git oddities: not a repository, no commit yet, a detached HEAD, a shallow clone, a missing or corrupt object, a
submodule, and a commit id that is really a tag or a branch. Each is a finding or status `error` with the reason;
a corrupt object used to raise GitPython's ValueError out of REP005 ("the check failed to run"). A repository's
own .git/config names no command that mlgate runs (core.fsmonitor)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV
from tests.hostile.support import Cli, Model, adopt, check

REP = ("--select", "REP")


def git(root: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "protocol.file.allow=always", *args],
                          cwd=root, env=env, check=True, capture_output=True, text=True).stdout.strip()


def loose_objects(root: Path) -> None:
    """Unpack the packs, so single objects can be removed or damaged."""
    git(root, "gc", "-q", "--prune=now")
    for pack in list((root / ".git/objects/pack").glob("*.pack")):
        data = pack.read_bytes()
        pack.unlink()
        pack.with_suffix(".idx").unlink()
        subprocess.run(["git", "unpack-objects", "-q"], input=data, cwd=root, check=True)


def object_file(root: Path, rev: str) -> Path:
    sha = git(root, "rev-parse", rev)
    path = root / ".git/objects" / sha[:2] / sha[2:]
    path.chmod(0o644)
    return path


def test_not_a_repository(model: Model, cli: Cli) -> None:
    shutil.rmtree(model.root / ".git")
    outcome = check(cli, model.root, *REP)
    for rule in ("REP001", "REP002", "REP004", "REP005"):
        assert outcome.status(rule) == "error"
        assert "is not a git repository; run mlgate inside the repository that holds the spec" \
            in outcome.messages(rule)


def test_no_commit_yet(model: Model, cli: Cli) -> None:
    shutil.rmtree(model.root / ".git")
    git(model.root, "init", "-q", "-b", "main")
    outcome = check(cli, model.root, *REP)
    assert "the repository has no commit yet, so provenance.code.commit cannot be in its history" \
        in outcome.messages("REP004")
    assert "requirements.txt is not tracked by git" in outcome.messages("REP002")


def test_detached_head(model: Model, cli: Cli) -> None:
    git(model.root, "checkout", "-q", "--detach", "HEAD")
    assert check(cli, model.root, *REP).code == 0


def test_shallow_clone(model: Model, cli: Cli, tmp_path: Path) -> None:
    for i in range(2):
        with (model.root / "README.md").open("a", encoding="utf-8") as fh:
            fh.write(f"change {i}\n")
        model.commit()
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{model.root}", str(clone))
    outcome = check(cli, clone, *REP)
    assert outcome.status("REP004") == "error"
    assert "this is a shallow clone" in outcome.messages("REP004")


def test_missing_commit_object(model: Model, cli: Cli) -> None:
    loose_objects(model.root)
    root_commit = git(model.root, "rev-list", "--max-parents=0", "HEAD")
    object_file(model.root, root_commit).unlink()
    outcome = check(cli, model.root, *REP)
    assert "git log failed: stderr: 'fatal: cannot read commit object" in outcome.messages("REP002")
    assert outcome.status("REP004") == "fail"


def test_corrupt_blob(model: Model, cli: Cli) -> None:
    """Regression: GitPython's ValueError for an unreadable blob escaped REP005."""
    loose_objects(model.root)
    object_file(model.root, "HEAD:requirements.txt").write_bytes(b"garbage")
    outcome = check(cli, model.root, *REP)
    assert outcome.status("REP005") == "error"
    assert "git cannot read requirements.txt as committed in" in outcome.messages("REP005")
    assert "its object is missing or corrupt" in outcome.messages("REP005")


def test_corrupt_tree(model: Model, cli: Cli) -> None:
    loose_objects(model.root)
    object_file(model.root, "HEAD^{tree}").write_bytes(b"garbage")
    outcome = check(cli, model.root, *REP)
    assert outcome.status("REP001") == "error"
    assert "is corrupt" in outcome.messages("REP001")


@pytest.mark.parametrize("head", ["ref: refs/heads/nonexistent\n", "garbage\n"])
def test_broken_head(model: Model, cli: Cli, head: str) -> None:
    (model.root / ".git/HEAD").write_text(head, encoding="utf-8")
    outcome = check(cli, model.root, *REP)
    assert outcome.code == 1
    assert outcome.status("REP004") in ("fail", "error")


def test_training_code_in_a_submodule(model: Model, cli: Cli, tmp_path: Path) -> None:
    library = adopt(tmp_path / "lib")
    library.root.mkdir()
    git(library.root, "init", "-q", "-b", "main")
    (library.root / "model.py").write_text("import random\nrandom.seed(1)\n", encoding="utf-8")
    library.commit("lib")
    git(model.root, "submodule", "add", "-q", f"file://{library.root}", "vendor/lib")
    model.commit()
    model.edit_spec("paths: [train/, features/]", "paths: [train/, features/, vendor/lib/]")
    model.commit()
    outcome = check(cli, model.root, *REP)
    assert outcome.code in (0, 1)
    assert outcome.status("REP004") in ("pass", "fail", "warn")


# provenance.code.commit written as something other than a commit id
@pytest.mark.parametrize(("setup", "written", "expected"), [
    (None, "main", "commit 'main' is a branch name (refs/heads/main), not a commit"),
    (None, "HEAD", "commit 'HEAD' is a revision expression relative to a ref that moves"),
    (None, "HEAD~0", "is a revision expression relative to a ref that moves"),
    (None, "@{-1}", "is a revision expression relative to a ref that moves"),
    (None, "--all", "commit '--all' does not exist in this repository"),
    (("tag", "abcdef1"), "abcdef1", "commit 'abcdef1' looks like a short sha but is a tag (refs/tags/abcdef1"),
    (("branch", "deadbeef" * 5), "deadbeef" * 5, "does not exist in this repository (no commit, tag or branch"),
    (("tag", "cafe" * 10), "cafe" * 10, "does not exist in this repository (no commit, tag or branch"),
    (("branch", "abcd123"), "abcd123", "commit 'abcd123' is a branch name (refs/heads/abcd123), not a commit"),
])
def test_commit_that_is_not_a_commit_id(model: Model, cli: Cli, setup: tuple[str, str] | None, written: str,
                                        expected: str) -> None:
    if setup:
        git(model.root, *setup)
    recorded = next(line for line in model.spec.splitlines() if line.strip().startswith("commit: "))
    model.edit_spec(recorded, f'    commit: "{written}"')
    outcome = check(cli, model.root, "--select", "REP004")
    assert outcome.status("REP004") == "fail"
    assert expected in outcome.messages("REP004")


def test_fsmonitor_of_the_repository_config_is_not_run(model: Model, cli: Cli, tmp_path: Path) -> None:
    """`git status` runs core.fsmonitor; mlgate turns it off for every git command it runs."""
    marker = tmp_path / "fsmonitor-ran"
    git(model.root, "config", "core.fsmonitor", f"touch {marker}; false")
    outcome = check(cli, model.root, *REP)
    assert outcome.code == 0
    assert not marker.exists()
