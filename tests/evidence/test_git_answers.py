"""Answers GitRepo reads without starting a git process for them (a commit's id and info through GitPython's
persistent `cat-file`, the newest change of a lockfile and its manifest from one walk, a commit's ancestry of HEAD
with the count since from one `rev-list`) must be the ones the git command each replaces gives: each is compared
here with that command, on awkward input."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import pytest

from mlgate.evidence.commits import CommitInfo
from mlgate.evidence.git import GitRepo
from tests.conftest import Repo
from tests.evidence.test_history import MERGE_RELS, RELS, _linear, _merges, _touching_by_definition


def _git(repo: Repo, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", *args], cwd=repo.root, capture_output=True, check=check)


def _rev_parse(repo: Repo, rev: str) -> str | None:
    out = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    return out.stdout.decode().strip() or None if out.returncode == 0 else None


def test_full_shas_resolve_as_rev_parse_does(repo: Repo) -> None:
    repo.write("a.txt", "a\n")
    first = repo.commit("first")
    second = repo.commit("second")
    repo.git("tag", "-a", "-m", "annotated", "v1", first)
    repo.git("tag", "-a", "-m", "a tag of a tag", "v1-again", "v1")
    repo.git("tag", "light", second)
    tree = repo.git("rev-parse", "HEAD^{tree}")
    blob = repo.git("rev-parse", "HEAD:a.txt")
    repo.git("tag", "-a", "-m", "a tag of a tree", "v-tree", tree)
    revs = [first, second, first.upper(), tree, blob, "0" * 40, "f" * 40, first[:-1] + "x", first[:12], first[:4],
            repo.git("rev-parse", "v1"), repo.git("rev-parse", "v1-again"), repo.git("rev-parse", "v-tree"),
            "v1", "light", "main", "HEAD", "HEAD~1", "nothing"]
    repo.git("branch", second, first)  # a branch named like a full sha: git still reads the sha as an object id
    git = GitRepo(repo.root)
    for rev in revs:
        assert git.resolve_commit(rev) == _rev_parse(repo, rev), rev
    assert git.resolve_commit(first.upper()) == first
    assert git.resolve_commit(repo.git("rev-parse", "v1-again")) == first
    assert git.head == second


MESSAGES = [
    b"subject with trailing spaces   \n\nbody\n",
    b"\n\n   \nafter blank lines\nand a second line of the paragraph\t \n\nbody\n",
    b"windows\r\nline endings\r\n\r\nbody\r\n",
    "ünïcödé, then a no-break space\u00a0\n".encode(),
    b"a\ttab inside\x0b\n",
    b"   \n\t\n",
    b"",
    b"no newline at the end",
    b"not utf-8: \xff\xfe\n",
]


@pytest.mark.parametrize("message", MESSAGES)
def test_commit_info_is_what_git_log_shows(repo: Repo, tmp_path: Path, message: bytes) -> None:
    repo.write("a.txt", "a\n")
    repo.commit("first")
    (tmp_path / "message").write_bytes(message)
    repo.git("commit", "-q", "--allow-empty", "--allow-empty-message", "--cleanup=verbatim", "-F",
             str(tmp_path / "message"))
    sha = repo.git("rev-parse", "HEAD")
    shown = _git(repo, "log", "-1", "--format=%H%x00%ct%x00%s", sha).stdout.decode(errors="surrogateescape")
    assert GitRepo(repo.root).commit_info(sha) == CommitInfo.parse(shown.strip())


def test_commit_info_of_a_message_in_another_encoding_is_git_log_s_utf_8(repo: Repo, tmp_path: Path) -> None:
    (tmp_path / "message").write_bytes("café, encodé en latin-1\n".encode("latin-1"))
    repo.git("-c", "i18n.commitEncoding=ISO-8859-1", "commit", "-q", "--allow-empty", "-F", str(tmp_path / "message"))
    sha = repo.git("rev-parse", "HEAD")
    info = GitRepo(repo.root).commit_info(sha)
    assert info is not None and info.subject == "café, encodé en latin-1"


def _pairs(rels: list[str]) -> list[tuple[str, str]]:
    return [(a, b) for a, b in itertools.permutations([rel for rel in rels if rel], 2)]


def test_last_changes_of_two_paths_from_one_walk_are_each_path_s_own_on_a_linear_history(repo: Repo) -> None:
    _linear(repo)
    for a, b in _pairs(RELS):
        together = GitRepo(repo.root).last_changes([a, b])
        assert together == [GitRepo(repo.root).last_change(a), GitRepo(repo.root).last_change(b)], (a, b)


def test_last_changes_of_two_paths_from_one_walk_follow_every_parent(repo: Repo,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _merges(repo, monkeypatch)
    newest = {rel: _touching_by_definition(repo, None, rel)[:1] for rel in MERGE_RELS if rel}
    for a, b in _pairs(MERGE_RELS):
        together = GitRepo(repo.root).last_changes([a, b])
        assert [[c.sha] if c else [] for c in together] == [newest[a], newest[b]], (a, b)
        assert together == [GitRepo(repo.root).last_change(a), GitRepo(repo.root).last_change(b)], (a, b)


def test_ancestry_of_head_and_the_commits_since_come_from_one_process(repo: Repo, monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    shas = list(_merges(repo, monkeypatch).values())
    repo.git("checkout", "-q", "-b", "unmerged", shas[3])
    repo.write("elsewhere.txt", "x\n")
    shas.append(repo.commit("a commit HEAD does not reach"))
    repo.git("checkout", "-q", "main")
    head = repo.git("rev-parse", "HEAD")
    trace = tmp_path / "trace"
    for i, (sha, descendant) in enumerate(itertools.product(shas, ["HEAD", head])):
        expected = _git(repo, "merge-base", "--is-ancestor", sha, "HEAD", check=False).returncode == 0
        count = int(_git(repo, "rev-list", "--count", f"{sha}..HEAD").stdout)
        monkeypatch.setenv("GIT_TRACE", str(trace.with_suffix(f".{i}")))
        git = GitRepo(repo.root)
        assert git.commit_is_ancestor(sha, descendant) is expected, sha
        assert git.count_commits_since(sha) == count, sha
        monkeypatch.delenv("GIT_TRACE")
        started = [line for line in trace.with_suffix(f".{i}").read_text().splitlines()
                   if "trace: built-in: git" in line and "cat-file" not in line]
        assert len(started) == 1 and " rev-list " in started[0], started
