"""The history index (mlgate.evidence.history): once a run has asked GitRepo enough history questions, it answers
from one `git log` read into memory. Every answer must be git's own: each is compared here with the git command
GitRepo would otherwise run, on a linear history full of awkward changes and on one with merges."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlgate.evidence.git import HISTORY_AFTER, GitRepo
from mlgate.evidence.history import LOG_OPTIONS, History, Unanswered, parse_pair_diffs
from tests.conftest import Repo

RELS = ["", "train", "train/", "train2", "train.py", "moved", "a b", "odd\nname.txt", "ünï.txt", "README.md",
        "nothing", "train/deep"]


def _linear(repo: Repo) -> list[str]:
    """A linear history: renames, deletions, an empty commit, a mode change, names with spaces, newlines and
    accents, and paths that share a prefix (train, train2, train.py)."""
    shas = []
    repo.write("README.md", "v1\n")
    repo.write("train/a.py", "a = 1\n")
    repo.write("train2/b.py", "b = 1\n")
    repo.write("a b/c.txt", "c\n")
    repo.write("train.py", "print()\n")
    shas.append(repo.commit("initial"))
    repo.write("train/a.py", "a = 2\n")
    shas.append(repo.commit("tune a"))
    shas.append(repo.commit("empty"))
    repo.git("mv", "train/a.py", "moved.py")
    shas.append(repo.commit("move a out of train"))
    repo.write("odd\nname.txt", "odd\n")
    repo.write("ünï.txt", "ü\n")
    shas.append(repo.commit("odd names   "))  # a subject with trailing spaces: `git log -1` output is stripped
    (repo.root / "train2" / "b.py").unlink()
    shas.append(repo.commit("drop train2"))
    (repo.root / "train.py").chmod(0o755)
    shas.append(repo.commit("mode change only"))
    repo.write("train/deep/x.py", "x = 1\n")
    shas.append(repo.commit("deep"))
    for i in range(HISTORY_AFTER):
        repo.write("README.md", f"v{i + 2}\n")
        shas.append(repo.commit(f"readme {i}"))
    return shas


def _git_lines(repo: Repo, *args: str) -> list[str]:
    out = subprocess.run(["git", *args], cwd=repo.root, capture_output=True, check=True).stdout.decode()
    return [line for line in out.splitlines() if line]


def _spec(rel: str, top: bool = True) -> str:
    if not rel:
        return ":(top)"
    return f":(top,literal){rel}" if top else f":(literal){rel}"


def _indexed(repo: Repo, shas: list[str]) -> GitRepo:
    """A GitRepo that has asked enough questions to read the history into memory."""
    git = GitRepo(repo.root)
    for sha in shas[: HISTORY_AFTER + 1]:
        git.count_commits_since(sha)
    assert git._history is not None
    return git


def test_a_run_with_few_history_questions_never_reads_the_history(repo: Repo) -> None:
    shas = _linear(repo)
    git = GitRepo(repo.root)
    for sha in shas[:HISTORY_AFTER]:
        git.count_commits_since(sha)
    assert git._history is None


def test_the_index_answers_as_git_does_on_a_linear_history(repo: Repo) -> None:
    shas = _linear(repo)
    git = _indexed(repo, shas)
    assert git._history is not None and git._history.linear
    head = shas[-1]
    for base in shas:
        assert git.count_commits_since(base) == int(_git_lines(repo, "rev-list", "--count", f"{base}..HEAD")[0])
        assert git.commit_info(base) == GitRepo(repo.root).commit_info(base)
        for rel in RELS:
            touching = [c.sha for c in git.commits_touching(base, [rel])]
            assert touching == _git_lines(repo, "log", "--reverse", "--format=%H", f"{base}..HEAD", "--",
                                          _spec(rel)), (base, rel)
            assert git.changed_under(base, [rel]) == sorted(
                p for p in subprocess.run(["git", "diff", "--name-only", "--no-renames", "-z", base, "HEAD", "--",
                                           _spec(rel)], cwd=repo.root, capture_output=True, check=True)
                .stdout.decode().split("\0") if p), (base, rel)
            if rel:
                last = git.last_change_before(base, rel)
                expected = _git_lines(repo, "log", "-1", "--format=%H", base, "--", _spec(rel, top=False))
                assert ([last.sha] if last else []) == expected, (base, rel)
                assert [c.sha for c in git.changes_between(base, rel)] == _git_lines(
                    repo, "log", "--reverse", "--format=%H", f"{base}..HEAD", "--", _spec(rel, top=False))
    for older in shas[::3]:
        for newer in shas[::4]:
            expected = subprocess.run(["git", "merge-base", "--is-ancestor", older, newer], cwd=repo.root).returncode
            assert git.commit_is_ancestor(older, newer) is (expected == 0), (older, newer)
    assert git.last_change("README.md") is not None and git.last_change("README.md").sha == head  # type: ignore[union-attr]
    assert git.commit_info(shas[4]).subject == "odd names"  # type: ignore[union-attr]


def _merges(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A history with merges (each commit a second younger than its parent, so every order git uses is the same):
    a change made only on a merged side branch, a commit reachable only through a merge's second parent, a merge
    that changed a file itself (an evil merge), one that threw its side's change away (`-s ours`), and one of a
    side branch whose change main had made too."""
    clock = iter(range(1_700_000_000, 1_800_000_000, 1))

    def at() -> None:
        date = f"{next(clock)} +0000"
        monkeypatch.setenv("GIT_COMMITTER_DATE", date)
        monkeypatch.setenv("GIT_AUTHOR_DATE", date)

    def commit(name: str, message: str) -> None:
        at()
        shas[name] = repo.commit(message)

    def merge(name: str, branch: str, *options: str) -> None:
        at()
        repo.git("merge", "-q", "--no-ff", *options, "-m", f"merge {branch}", branch)
        shas[name] = repo.git("rev-parse", "HEAD")

    shas: dict[str, str] = {}
    repo.write("README.md", "v1\n")
    repo.write("train/a.py", "a = 1\n")
    commit("root", "root")
    repo.write("train/a.py", "a = 2\n")
    commit("base", "the training commit")
    repo.git("checkout", "-q", "-b", "side")
    repo.write("train/side.py", "s = 1\n")
    commit("side", "side: a change only here")
    repo.git("checkout", "-q", "main")
    repo.write("README.md", "v2\n")
    commit("main", "main: readme")
    merge("merge", "side")
    repo.git("checkout", "-q", "-b", "evil", shas["main"])
    repo.write("docs/x.md", "x\n")
    commit("evil-side", "evil side: docs")
    repo.git("checkout", "-q", "main")
    at()
    repo.git("merge", "-q", "--no-ff", "--no-commit", "evil")
    repo.write("train/a.py", "a = 3\n")
    commit("evil", "merge evil, and change train/a.py in the merge")
    repo.git("checkout", "-q", "-b", "dropped")
    repo.write("train/dropped.py", "d = 1\n")
    commit("dropped-side", "dropped: a change the merge throws away")
    repo.git("checkout", "-q", "main")
    merge("dropped", "dropped", "-s", "ours")
    repo.git("checkout", "-q", "-b", "twice")
    repo.write("train/both.py", "b = 1\n")
    commit("twice-side", "twice: the same change as main's")
    repo.git("checkout", "-q", "main")
    repo.write("train/both.py", "b = 1\n")
    commit("twice-main", "main: the same change as twice's")
    merge("twice", "twice")
    for i in range(HISTORY_AFTER):
        repo.write("notes.md", f"{i}\n")
        commit(f"notes{i}", f"notes {i}")
    return shas


def _touching_by_definition(repo: Repo, base: str | None, rel: str, head: str = "HEAD") -> list[str]:
    """The commits of `base..head` (all of head's without a base) whose tree under `rel` differs from each of their
    parents' (a root's: has files there), newest first: the history index's rule, asked of git commit by commit."""
    empty = subprocess.run(["git", "hash-object", "-t", "tree", "/dev/null"], cwd=repo.root, capture_output=True,
                           text=True, check=True).stdout.strip()
    found = []
    for line in _git_lines(repo, "rev-list", "--parents", f"{base}..{head}" if base else head):
        sha, *parents = line.split()
        if all(subprocess.run(["git", "diff", "--quiet", parent, sha, "--", _spec(rel)], cwd=repo.root).returncode
               for parent in parents or [empty]):
            found.append(sha)
    return found


MERGE_RELS = ["", "train", "train/a.py", "train/side.py", "train/dropped.py", "train/both.py", "docs", "README.md"]


def test_with_merges_every_answer_follows_every_parent(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    shas = _merges(repo, monkeypatch)
    git = _indexed(repo, list(shas.values()))
    assert git._history is not None and not git._history.linear and git._history.complete
    # every commit of the merges, and two of the notes after them (the rest answer as these do, slowly)
    bases = [sha for name, sha in shas.items() if not name.startswith("notes")] + [shas["notes0"], shas["notes5"]]
    for base in bases:
        assert git.count_commits_since(base) == int(_git_lines(repo, "rev-list", "--count", f"{base}..HEAD")[0])
        for other in shas.values():
            expected = subprocess.run(["git", "merge-base", "--is-ancestor", base, other], cwd=repo.root).returncode
            assert git.commit_is_ancestor(base, other) is (expected == 0), (base, other)
        for rel in MERGE_RELS:
            expected = _touching_by_definition(repo, base, rel)[::-1]
            # the index, and git asked by a GitRepo that never reads it (one question each)
            assert [c.sha for c in git.commits_touching(base, [rel])] == expected, (base, rel)
            assert [c.sha for c in GitRepo(repo.root).commits_touching(base, [rel])] == expected, (base, rel)
            diff = subprocess.run(["git", "diff", "--name-only", "--no-renames", "-z", base, "HEAD", "--", _spec(rel)],
                                  cwd=repo.root, capture_output=True, check=True).stdout.decode().split("\0")
            assert git.changed_under(base, [rel]) == sorted(p for p in diff if p), (base, rel)
            if rel:
                newest = _touching_by_definition(repo, None, rel, head=base)[:1]
                last = git.last_change_before(base, rel)
                assert ([last.sha] if last else []) == newest, (base, rel)
                fresh = GitRepo(repo.root).last_change_before(base, rel)
                assert ([fresh.sha] if fresh else []) == newest, (base, rel)
                assert [c.sha for c in git.changes_between(base, rel)] == _touching_by_definition(
                    repo, base, rel)[::-1]
    assert git._history is not None  # every answer above came from the index, not from git
    base = shas["base"]
    # the change made only on the side branch is a change since the training commit, made by the side's commit
    assert git.changed_under(base, ["train"]) == ["train/a.py", "train/both.py", "train/side.py"]
    touching = [c.sha for c in git.commits_touching(base, ["train"])]
    assert shas["side"] in touching and shas["merge"] not in touching
    assert shas["evil"] in touching and shas["evil-side"] not in touching  # the merge made its own change
    assert shas["dropped-side"] in touching and shas["dropped"] not in touching  # touched, though thrown away
    assert shas["twice-side"] in touching and shas["twice-main"] in touching and shas["twice"] not in touching
    assert git.changed_under(base, ["train/dropped.py"]) == []
    # reachable only through the second parent of "merge": an ancestor of HEAD, not of main's commit before it
    assert git.commit_is_ancestor(shas["side"], "HEAD") and not git.commit_is_ancestor(shas["side"], shas["main"])
    last = git.last_change("train/side.py")
    assert last is not None and last.sha == shas["side"]
    last = git.last_change("train/a.py")
    assert last is not None and last.sha == shas["evil"]


def test_with_merges_the_index_walks_no_history_again(repo: Repo, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    """Once read, the index answers every history question of a history with merges: git is asked only for the
    diff of files that did change (changed_under), never to walk the history (log, rev-list, merge-base)."""
    shas = _merges(repo, monkeypatch)
    git = _indexed(repo, list(shas.values()))
    trace = tmp_path / "trace"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    for base in shas.values():
        for rel in MERGE_RELS:
            git.commits_touching(base, [rel])
            git.changed_under(base, [rel])
            git.count_commits_since(base)
            git.commit_is_ancestor(base, shas["dropped"])
            if rel:
                git.last_change_before(base, rel)
                git.changes_between(base, rel)
    started = [line.split("trace: built-in: ")[1] for line in trace.read_text().splitlines()
               if "trace: built-in: git " in line]
    assert not [line for line in started if line.split()[1] in {"log", "rev-list", "merge-base"}], started
    diffs = [line for line in started if line.startswith("git diff ")]
    assert 0 < len(diffs) < len(shas) * len(MERGE_RELS) / 2  # a diff only where a commit since changed a file


def test_without_the_merges_other_diffs_no_path_question_is_answered(repo: Repo,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    shas = _merges(repo, monkeypatch)
    out = subprocess.run(["git", "log", *LOG_OPTIONS, "HEAD"], cwd=repo.root, capture_output=True,
                         check=True).stdout.decode()
    history = History.parse(out)  # the first-parent diffs alone would miss train/side.py
    with pytest.raises(Unanswered):
        history.touching(shas["base"], ["train"])
    with pytest.raises(Unanswered):
        history.last_change("HEAD", "train/side.py")
    assert history.count_since(shas["base"]) == int(_git_lines(repo, "rev-list", "--count", f"{shas['base']}..HEAD")[0])
    with pytest.raises(ValueError):  # a merge's other diffs, but not all of them
        history.with_merged({shas["merge"]: (("train/side.py",),)})


def test_pair_diffs_are_read_whatever_the_file_names() -> None:
    out = "a\0\nb\0/\n/\nc/\nd\0/\n"
    assert parse_pair_diffs(out, 3) == [("a", "\nb"), (), ("c/\nd",)]
    with pytest.raises(ValueError):
        parse_pair_diffs(out, 4)


def test_a_commit_the_index_does_not_hold_goes_to_git(repo: Repo) -> None:
    shas = _linear(repo)
    repo.git("checkout", "-q", "-b", "elsewhere", shas[2])
    repo.write("other.txt", "x\n")
    elsewhere = repo.commit("not on main")
    repo.git("checkout", "-q", "main")
    git = _indexed(repo, shas)
    assert git._history is not None and not git._history.contains(elsewhere)
    assert git.commit_is_ancestor(elsewhere, "HEAD") is False
    assert git.resolve_commit(elsewhere) == elsewhere
    assert git.count_commits_since(elsewhere) == int(_git_lines(repo, "rev-list", "--count", f"{elsewhere}..HEAD")[0])


def test_parse_reads_headers_and_files_whatever_their_names() -> None:
    out = ("/" + "a" * 40 + "\0" + "b" * 40 + "\0" + "100\0subject\0\n\nstarts with a newline\0plain\0"
           "/" + "b" * 40 + "\0\0" + "90\0\0/" + "c" * 40 + "\0\0" + "80\0root\0\nfile\0")
    history = History.parse(out)
    assert [c.sha[0] for c in history.commits] == ["a", "b", "c"]
    assert history.changed == [("\nstarts with a newline", "plain"), (), ("file",)]
    assert history.parents == [("b" * 40,), (), ()]
    assert [c.subject for c in history.commits] == ["subject", "", "root"]


def _window(repo: Repo, count: int) -> History:
    """The index of the newest `count` commits, as GitRepo reads it when the history is longer than its window."""
    options = [o for o in LOG_OPTIONS if not o.startswith("--max-count")]
    out = subprocess.run(["git", "log", *options, f"--max-count={count}", "HEAD"], cwd=repo.root,
                         capture_output=True, check=True).stdout.decode("utf-8", "surrogateescape")
    history = History.parse(out)
    return history.with_merged(GitRepo(repo.root)._merge_diffs(merges, [])) if (merges := history.merges()) \
        else history


def test_a_window_of_the_newest_commits_answers_exactly_or_not_at_all(repo: Repo) -> None:
    shas = _linear(repo)
    history = _window(repo, 6)
    assert history.linear and not history.complete and len(history.commits) == 6
    answered = unanswered = 0
    for base in shas[::2]:
        expected_count = int(_git_lines(repo, "rev-list", "--count", f"{base}..HEAD")[0])
        try:
            assert history.count_since(base) == expected_count
            assert history.is_ancestor(base, "HEAD")
        except Unanswered:
            assert not history.contains(base)
        for rel in ("train", "train.py", "README.md", "moved.py", "nothing"):
            try:
                touching = [c.sha for c in history.touching(base, [rel])]
                answered += 1
            except Unanswered:
                assert not history.contains(base)
                unanswered += 1
            else:
                assert touching == _git_lines(repo, "log", "--reverse", "--format=%H", f"{base}..HEAD", "--",
                                              _spec(rel)), (base, rel)
            expected = _git_lines(repo, "log", "-1", "--format=%H", base, "--", _spec(rel, top=False))
            try:
                last = history.last_change(base, rel)
            except Unanswered:  # not in the window, or changed only before it
                assert not history.contains(base) or not expected or not history.contains(expected[0])
            else:
                assert ([last.sha] if last else []) == expected, (base, rel)
    assert answered and unanswered


def test_a_window_of_a_history_with_merges_answers_only_for_head(repo: Repo,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    shas = list(_merges(repo, monkeypatch).values())
    history = _window(repo, len(shas) - 3)
    assert not history.linear and not history.complete
    inside = [s for s in shas if history.contains(s)]  # oldest first
    assert all(history.is_ancestor(s, "HEAD") for s in inside)
    with pytest.raises(Unanswered):  # a count needs the whole graph
        history.count_since(inside[0])
    with pytest.raises(Unanswered):  # and so does ancestry below HEAD
        history.is_ancestor(inside[0], inside[1])
