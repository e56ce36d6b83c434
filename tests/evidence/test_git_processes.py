"""How many git processes a one-spec `mlgate check` starts: each costs ~5 ms (GitPython's spawn and git's start-up)
of a check whose target is 0.30 s, so a new one must be a decision, not an accident. The run is a real one (its own
Python process, as a user's), on examples/ready as its training job leaves it, and git itself counts the processes
(GIT_TRACE2_EVENT writes a `start` event for each)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.conftest import GIT_ENV, Repo

# Per git command: GitPython's import (`git version`, asked by Git.refresh and again by FetchInfo.refresh), the
# index listed once for discovery and the rules (ls-files), the work-tree reads (status), the one history walk for
# the lockfile and its manifest (log), the ancestry of the manifest's commit (merge-base), the training commit's
# ancestry with the count since (rev-list --left-right --count), the training code's diff and commits since
# (diff, log), and GitPython's persistent object reader (cat-file --batch: HEAD, the training commit, the lockfile
# at it).
EXPECTED = Counter({"version": 2, "ls-files": 1, "log": 2, "cat-file": 1, "status": 1, "merge-base": 1, "rev-list": 1,
                    "diff": 1})


def _started(root: Path, tmp_path: Path) -> list[list[str]]:
    trace = tmp_path / "trace2.json"
    env = {**os.environ, **GIT_ENV, "GIT_TRACE2_EVENT": str(trace), "MLGATE_TODAY": "2026-11-26"}
    out = subprocess.run([sys.executable, "-m", "mlgate", "check", str(root)], cwd=root, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    events = [json.loads(line) for line in trace.read_text(encoding="utf-8").splitlines()]
    return [event["argv"] for event in events if event["event"] == "start"]


def _command(argv: list[str]) -> str:
    """The git command of an argv: the first word after `git` and its `-c name=value` options."""
    words = iter(argv[1:])
    for word in words:
        if word == "-c":
            next(words, None)
        else:
            return word
    return ""


def test_a_one_spec_check_starts_the_git_processes_it_needs_and_no_more(ready_template: Path,
                                                                        tmp_path: Path) -> None:
    root = tmp_path / "ready"
    shutil.copytree(ready_template, root, symlinks=True)
    repo = Repo.__new__(Repo)
    repo.root = root
    # the lockfile regenerated after its manifest last changed, and a commit since the training commit
    with (root / "requirements.txt").open("a", encoding="utf-8") as fh:
        fh.write("# regenerated\n")
    repo.commit("relock")
    repo.write("README.md", "# churn\n")
    repo.commit("readme")

    started = Counter(_command(argv) for argv in _started(root, tmp_path))
    assert started == EXPECTED, started
