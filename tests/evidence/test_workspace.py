"""The workspace answers each path question once per run, and the answer is the one confinement gives: an escape is
refused every time it is asked, and a file swapped for a link after it was resolved is still refused when read."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.errors import EvidenceError
from mlgate.evidence.workspace import Workspace
from tests.conftest import Repo


def test_a_path_resolves_once_and_an_escape_is_refused_each_time(repo: Repo) -> None:
    repo.write("models/churn/train.py", "print('train')\n")
    workspace = Workspace(repo.root)
    base = repo.root / "models" / "churn"
    assert workspace.resolve(base, "train.py") == (base / "train.py").resolve()
    assert workspace.rel(workspace.resolve(base, "train.py")) == "models/churn/train.py"
    for _ in range(2):
        with pytest.raises(EvidenceError, match="outside the repository"):
            workspace.resolve(base, "../../../outside.txt")
        with pytest.raises(EvidenceError, match=r"inside \.git"):
            workspace.resolve(base, "../../.git/config")


def test_a_file_swapped_for_a_link_out_after_it_was_resolved_is_refused_when_read(repo: Repo, tmp_path: Path) -> None:
    repo.write("models/churn/params.json", "{}\n")
    outside = tmp_path / "secret.txt"
    outside.write_text("token\n", encoding="utf-8")
    workspace = Workspace(repo.root)
    path = workspace.resolve(repo.root / "models" / "churn", "params.json")
    path.unlink()
    path.symlink_to(outside)  # after the resolution the run remembers
    with pytest.raises(EvidenceError, match="outside the repository"):
        workspace.read_text(path)
