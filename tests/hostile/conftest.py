"""Fixtures of the hostile-input tests: the ready example, built once and copied for each test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.example_repos import ready_repo
from tests.hostile.support import Model, copy_repo


@pytest.fixture(scope="session")
def _built_ready(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile") / "ready"
    ready_repo(root)
    return root


@pytest.fixture
def model(_built_ready: Path, tmp_path: Path) -> Model:
    """A fresh copy of the ready example (a real git repository on which every rule passes)."""
    return Model(copy_repo(_built_ready, tmp_path / "repo"))
