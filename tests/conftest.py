"""Shared fixtures: real git repositories built in tmp dirs, and helpers to run rules and the CLI on them."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlgate.cli import main
from mlgate.config import load_config
from mlgate.engine import Options, run
from mlgate.registry import load_registry
from mlgate.result import Report, RuleResult
from mlgate.spec.load import load_spec
from tests.plugin_fixture import install_plugin

TODAY = dt.date(2026, 11, 26)
GIT_ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_COMMITTER_NAME": "Test",
           "GIT_COMMITTER_EMAIL": "test@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}


class Repo:
    """A real git repository in a tmp dir. `write` files (dedented), `commit` them, `run` rules on a spec."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        env = {**os.environ, **GIT_ENV}
        return subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=self.root, env=env,
                              check=True, capture_output=True, text=True).stdout.strip()

    def write(self, rel: str, text: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def commit(self, message: str = "commit", *paths: str) -> str:
        self.git("add", "-A", *paths)
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def report(self, spec: str = "mlgate.yaml", *, select: list[str] | None = None,
               today: dt.date = TODAY) -> Report:
        loaded = load_spec(self.root / spec, root=self.root)
        return run([loaded], load_registry(self.root), load_config(self.root),
                   Options(select=select or [], today=today))

    def rule(self, rule_id: str, spec: str = "mlgate.yaml", *, today: dt.date = TODAY) -> RuleResult:
        """Run one rule on one spec and return its result."""
        (result,) = self.report(spec, select=[rule_id], today=today).deployments[0].results
        return result


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


@pytest.fixture(scope="session")
def ready_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/ready as its training job leaves it (tests/example_repos.py), made once per run: copy it."""
    from tests.example_repos import ready_repo

    return ready_repo(tmp_path_factory.mktemp("template") / "ready").root


@pytest.fixture
def test_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Install the test plugin (tests/plugin_fixture.py) on sys.path for one test, as pip would."""
    install_plugin(tmp_path / "site")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    yield
    sys.modules.pop("mlgate_testplugin", None)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run `mlgate ...` in-process: returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("MLGATE_TODAY", TODAY.isoformat())
    monkeypatch.delenv("NO_COLOR", raising=False)

    def invoke(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


# (status, message fragment) of every finding a rule must produce
Expected = list[tuple[str, str]]


def assert_findings(result: RuleResult, expected: Expected) -> None:
    """The result has exactly the expected findings (each fragment in the message or the fix, with its status),
    and its status is the worst of them."""
    got = [(f.status, f"{f.message} | fix: {f.remediation}") for f in result.findings]
    assert len(got) == len(expected), got
    for status, fragment in expected:
        assert any(s == status and fragment in text for s, text in got), (status, fragment, got)
    statuses = {f.status for f in result.findings}
    worst = next(s for s in ("error", "fail", "warn", "pass", "n/a") if s in statuses)
    assert result.status == worst


def messages(result: RuleResult) -> str:
    """Every finding message of a result, one per line, for assertions."""
    return "\n".join(f"{f.status}: {f.message}" for f in result.findings)
