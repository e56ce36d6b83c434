"""The pre-commit hooks (.pre-commit-hooks.yaml), run by the real pre-commit as a user's commit would run them.

`pre-commit try-repo` installs a hook repository from a git clone of it, so the test commits this repository's
working tree (the files git would see: tracked and untracked, not ignored) into a tmp repository and points
try-repo there. pre-commit builds the hook's virtualenv once (PRE_COMMIT_HOME is shared by the module), with pip
as this machine configures it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import GIT_ENV, TODAY, Repo
from tests.example_repos import example_repo, ready_repo

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed copy of this repository's working tree: what a user's pre-commit would clone."""
    dest = tmp_path_factory.mktemp("hooks") / "mlgate"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    Repo(dest).commit("mlgate as a hook repository")
    return dest


def lock_constraints(dest: Path) -> Path:
    """requirements/dev.lock as a pip constraints file (names and versions, markers kept, hashes dropped): the
    hook's virtualenv gets the locked versions of mlgate's dependencies, not whatever the registry serves today."""
    pins = re.findall(r"^([A-Za-z0-9_.\-]+==[^ \\\n]+(?: ; [^\\\n]+)?)", (ROOT / "requirements/dev.lock").read_text(),
                      flags=re.MULTILINE)
    assert len(pins) > 20, "requirements/dev.lock lists too few pins"
    dest.write_text("".join(f"{pin.strip()}\n" for pin in pins))
    return dest


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    return {**os.environ, **GIT_ENV, "HOME": str(home), "PRE_COMMIT_HOME": str(home / "cache"),
            "VIRTUALENV_OVERRIDE_APP_DATA": str(home / "virtualenv"), "MLGATE_TODAY": TODAY.isoformat(),
            "NO_COLOR": "1", "PIP_CONSTRAINT": str(lock_constraints(home / "constraints.txt"))}


def try_repo(target: Path, hook: str, hooks: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(hooks), hook, "--all-files",
                           "--color", "never"], cwd=target, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def test_ready_repository_passes(tmp_path: Path, hooks: Path, env: dict[str, str]) -> None:
    repo = ready_repo(tmp_path / "ready")
    run = try_repo(repo.root, "mlgate", hooks, env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "mlgate (deployment readiness)" in run.stdout and "Passed" in run.stdout


def test_not_ready_repository_fails_with_the_rule_ids(tmp_path: Path, hooks: Path, env: dict[str, str]) -> None:
    repo = example_repo(tmp_path / "not-ready", "not-ready")
    run = try_repo(repo.root, "mlgate", hooks, env)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Failed" in run.stdout
    for rule in ("REP001", "REP002", "RLO001", "OPS002"):
        assert f"FAIL   {rule}" in run.stdout, rule
    assert "mlgate.yaml (ticket-urgency): NOT READY" in run.stdout


def test_validate_hook_checks_only_that_the_spec_loads(tmp_path: Path, hooks: Path, env: dict[str, str]) -> None:
    repo = example_repo(tmp_path / "not-ready", "not-ready")
    run = try_repo(repo.root, "mlgate-validate", hooks, env)
    assert run.returncode == 0, run.stdout + run.stderr  # not ready, but a valid spec
    assert "mlgate (validate the spec)" in run.stdout and "Passed" in run.stdout
    repo.write("mlgate.yaml", (repo.root / "mlgate.yaml").read_text(encoding="utf-8").replace("model:", "modle:"))
    repo.commit("a typo")
    run = try_repo(repo.root, "mlgate-validate", hooks, env)
    assert run.returncode == 1
    assert "unknown key 'modle' (did you mean 'model'?)" in run.stdout


def test_documented_config_names_the_hooks() -> None:
    text = (ROOT / "docs" / "integrations.md").read_text(encoding="utf-8")
    (config,) = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL) if "repos:" in b]
    hook_ids = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert {h["id"] for h in config["repos"][0]["hooks"]} <= hook_ids == {"mlgate", "mlgate-validate"}
    assert "- id: mlgate-validate" in text


@pytest.mark.parametrize(
    ("spec", "code", "message"),
    [
        ("version: 1\nmodel:\n  name: fraud\n", 0, "mlgate.yaml: valid"),
        ("version: 1\nmodle:\n  name: fraud\n", 2, "unknown key 'modle'"),
        ("version: 1\nwaivers:\n  - rule: NOPE001\n", 2, "'NOPE001' is not a rule"),
    ],
)
def test_validate_command(repo: Repo, cli, spec: str, code: int, message: str) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", spec)
    got, out, err = cli("validate", str(repo.root))
    assert got == code
    assert message in out + err


def test_validate_reads_the_config_as_check_does(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", "version: 1\n")
    repo.write(".mlgate.toml", "skip = ['NOPE']\n")
    got, _out, err = cli("validate", str(repo.root))
    assert got == 2 and "no rule matches 'NOPE'" in err
