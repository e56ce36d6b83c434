"""REP002 dependencies locked: real lockfiles (written by each tool, see tests/fixtures/lockfiles) in real git repos."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.result import RuleResult
from tests.conftest import Repo, messages

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"


def spec(lockfile: str, extra: str = "") -> str:
    return f"version: 1\nprovenance:\n  dependencies:\n    lockfile: {lockfile}\n{extra}"


def copy_fixture(repo: Repo, folder: str, into: str = "") -> None:
    for file in sorted((FIXTURES / folder).iterdir()):
        if file.name != "README.md":
            repo.write(f"{into}{file.name}", file.read_bytes())


def short(repo: Repo, rev: str = "HEAD") -> str:
    return repo.git("rev-parse", "--short=7", rev)


def statuses(result: RuleResult) -> list[str]:
    return [f.status for f in result.findings]


def add_dependency(repo: Repo, pyproject: str, old: str, new: str) -> None:
    path = repo.root / pyproject
    text = path.read_text()
    assert old in text
    repo.write(pyproject, text.replace(old, new, 1).encode())


# -- every format, from a real file ------------------------------------------------------------------------------

PASSING = [
    ("uv", "uv.lock", "pyproject.toml", "pins all 3 direct dependencies of pyproject.toml ([project.dependencies], "
     "[project.optional-dependencies] test) at exact versions: requests 2.34.2, pyyaml 6.0.4, iniconfig 2.3.1"),
    ("poetry", "poetry.lock", "pyproject.toml", "pins all 3 direct dependencies of pyproject.toml "
     "([tool.poetry.dependencies], [tool.poetry.group.test.dependencies]) at exact versions: requests 2.34.2"),
    ("pdm", "pdm.lock", "pyproject.toml", "(PDM) pins all 3 direct dependencies of pyproject.toml"),
    ("pipenv", "Pipfile.lock", "Pipfile", "(Pipenv) pins all 3 direct dependencies of Pipfile ([packages], "
     "[dev-packages]) at exact versions: requests 2.34.2, pyyaml 6.0.4, iniconfig 2.3.1"),
    ("pip-tools", "requirements.txt", "requirements.in", "(pip-compile) pins all 2 direct dependencies of "
     "requirements.in at exact versions: requests 2.34.2, pyyaml 6.0.4; every one with --hash"),
    ("conda-lock", "conda-lock.yml", "environment.yml", "(conda-lock) pins all 5 direct dependencies of "
     "environment.yml (dependencies, dependencies: pip) at exact versions: python 3.11.10, numpy 2.1.1, "
     "scikit-learn 1.5.2, pip 24.2, requests 2.32.3"),
    ("pixi", "pixi.lock", "pixi.toml", "(pixi) pins all 4 direct dependencies of pixi.toml ([dependencies], "
     "[pypi-dependencies]) at exact versions: python 3.11.10, numpy 2.1.1, scikit-learn 1.5.2, requests 2.32.3"),
]


@pytest.mark.parametrize(("folder", "lockfile", "manifest", "evidence"), PASSING, ids=[p[0] for p in PASSING])
def test_each_lockfile_format_passes_when_current(repo: Repo, folder: str, lockfile: str, manifest: str,
                                                  evidence: str) -> None:
    copy_fixture(repo, folder)
    repo.write("mlgate.yaml", spec(lockfile))
    repo.commit("lock")
    result = repo.rule("REP002")
    assert result.status == "pass", messages(result)
    text = messages(result)
    assert evidence in text
    assert f"git: {lockfile} and {manifest} last changed together, in {short(repo)}" in text


def test_a_lockfile_in_a_subdirectory_next_to_the_spec(repo: Repo) -> None:
    copy_fixture(repo, "uv", into="models/fraud/")
    repo.write("models/fraud/mlgate.yaml", spec("uv.lock"))
    repo.commit("lock")
    result = repo.rule("REP002", "models/fraud/mlgate.yaml")
    assert result.status == "pass", messages(result)
    assert "models/fraud/uv.lock (uv) pins all 3 direct dependencies of models/fraud/pyproject.toml" in \
        messages(result)


# -- a lock that does not cover the manifest ---------------------------------------------------------------------

def test_a_dependency_added_without_relocking_fails_twice(repo: Repo) -> None:
    copy_fixture(repo, "uv")
    repo.write("mlgate.yaml", spec("uv.lock"))
    repo.commit("lock")
    lock_sha = short(repo)
    add_dependency(repo, "pyproject.toml", '"pyyaml>=6.0",', '"pyyaml>=6.0",\n    "torch>=2.2",')
    repo.commit("train on torch")
    result = repo.rule("REP002")
    assert result.status == "fail"
    missing = next(f for f in result.findings if "torch" in f.message and f.status == "fail")
    assert missing.message.startswith("`torch>=2.2` ([project.dependencies] in pyproject.toml) is not in uv.lock")
    assert missing.location is not None and (missing.location.path, missing.location.line) == ("pyproject.toml", 8)
    assert missing.remediation == "run `uv lock` and commit uv.lock"
    stale = next(f for f in result.findings if "older than" in f.message)
    assert f'pyproject.toml changed its dependencies in {short(repo)} (' in stale.message
    assert '"train on torch" (added torch>=2.2)' in stale.message
    assert f"after uv.lock was last changed in {lock_sha} (" in stale.message


@pytest.mark.parametrize(("folder", "lockfile", "manifest", "old", "new", "declared"), [
    ("poetry", "poetry.lock", "pyproject.toml", 'PyYAML = ">=6.0"', 'PyYAML = ">=6.0"\nscipy = "^1.14"',
     "`scipy = ^1.14` ([tool.poetry.dependencies] in pyproject.toml) is not in poetry.lock"),
    ("pipenv", "Pipfile.lock", "Pipfile", 'pyyaml = "*"', 'pyyaml = "*"\nscipy = ">=1.14"',
     "`scipy = >=1.14` ([packages] in Pipfile) is not in Pipfile.lock"),
    ("pip-tools", "requirements.txt", "requirements.in", "PyYAML>=6.0", "PyYAML>=6.0\nscipy>=1.14",
     "`scipy>=1.14` (requirements.in in requirements.in) is not in requirements.txt"),
    ("conda-lock", "conda-lock.yml", "environment.yml", "  - pip\n", "  - pip\n  - pytorch::pytorch>=2.2\n",
     "`pytorch::pytorch>=2.2` (dependencies in environment.yml) is not in conda-lock.yml"),
    ("pixi", "pixi.lock", "pixi.toml", 'requests = ">=2.31"', 'requests = ">=2.31"\ntorch = ">=2.2"',
     "`torch = >=2.2` ([pypi-dependencies] in pixi.toml) is not in pixi.lock"),
])
def test_a_missing_dependency_is_named_in_every_format(repo: Repo, folder: str, lockfile: str, manifest: str,
                                                       old: str, new: str, declared: str) -> None:
    copy_fixture(repo, folder)
    repo.write("mlgate.yaml", spec(lockfile))
    add_dependency(repo, manifest, old, new)
    repo.commit("lock")
    result = repo.rule("REP002")
    assert result.status == "fail"
    assert declared in messages(result)


def test_a_lock_older_than_a_constraint_it_no_longer_meets(repo: Repo) -> None:
    copy_fixture(repo, "uv")
    repo.write("mlgate.yaml", spec("uv.lock"))
    add_dependency(repo, "pyproject.toml", '"requests>=2.31"', '"requests>=3.0"')
    repo.commit("lock")
    result = repo.rule("REP002")
    assert result.status == "fail"
    assert "uv.lock pins requests 2.34.2, which does not meet `requests>=3.0` ([project.dependencies] in " \
           "pyproject.toml): the lock is older than the manifest" in messages(result)


def test_an_unlocked_optional_group_and_the_groups_in_use(repo: Repo) -> None:
    copy_fixture(repo, "pdm")
    add_dependency(repo, "pyproject.toml", 'test = ["iniconfig>=2.0"]', 'test = ["iniconfig>=2.0"]\ndocs = ["mkdocs"]')
    repo.write("mlgate.yaml", spec("pdm.lock"))
    repo.commit("lock")
    result = repo.rule("REP002")
    assert result.status == "fail"
    assert "dependency group 'docs' of pyproject.toml is not locked: pdm.lock was made for default, test" in \
        messages(result)
    # the training image installs only the test group: docs need not be locked
    repo.write("mlgate.yaml", spec("pdm.lock", "    groups: [test]\n"))
    repo.commit("groups")
    result = repo.rule("REP002")
    assert result.status == "pass", messages(result)
    repo.write("mlgate.yaml", spec("pdm.lock", "    groups: [tests]\n"))
    repo.commit("typo")
    result = repo.rule("REP002")
    assert result.status == "fail"
    assert "dependency group 'tests' is not declared in pyproject.toml (declared: docs, test)" in messages(result)


def test_a_marker_dependency_missing_from_a_one_platform_lock_warns(repo: Repo) -> None:
    copy_fixture(repo, "pip-tools")
    add_dependency(repo, "requirements.in", "PyYAML>=6.0", 'PyYAML>=6.0\npywin32>=306 ; sys_platform == "win32"')
    repo.write("mlgate.yaml", spec("requirements.txt"))
    repo.commit("lock")
    result = repo.rule("REP002")
    assert result.status == "warn"
    assert "its marker `sys_platform == \"win32\"` may exclude the platform the lock was made on" in messages(result)


def test_a_marker_dependency_missing_from_a_universal_lock_fails(repo: Repo) -> None:
    copy_fixture(repo, "uv")
    add_dependency(repo, "pyproject.toml", '"pyyaml>=6.0",',
                   '"pyyaml>=6.0",\n    "pywin32>=306; sys_platform == \'win32\'",')
    repo.write("mlgate.yaml", spec("uv.lock"))
    repo.commit("lock")
    result = repo.rule("REP002")
    assert result.status == "fail"
    assert "is not in uv.lock: the lock was not regenerated" in messages(result)


# -- requirements files ------------------------------------------------------------------------------------------

def test_ranges_in_requirements_txt_fail_line_by_line(repo: Repo) -> None:
    repo.write("requirements.txt", "# hand-maintained\ntorch>=2.2\ntransformers~=4.44\npandas\nscikit-learn==1.5.2\n")
    repo.write("mlgate.yaml", spec("requirements.txt"))
    repo.commit("deps")
    result = repo.rule("REP002")
    assert result.status == "fail"
    fails = [(f.location.line if f.location else 0, f.message) for f in result.findings if f.status == "fail"]
    assert [line for line, _ in fails] == [2, 3, 4]
    assert fails[0][1] == "`torch>=2.2` is not pinned: it has the range `>=2.2`, so each install may resolve " \
                          "another version"
    assert "`pandas` is not pinned: it has no version at all" in fails[2][1]


def test_a_pip_freeze_without_requirements_in_is_its_own_list(repo: Repo) -> None:
    repo.write("requirements.txt", "numpy==2.1.3\npandas==2.2.3\n")
    repo.write("mlgate.yaml", spec("requirements.txt"))
    repo.commit("freeze")
    result = repo.rule("REP002")
    assert result.status == "pass", messages(result)
    assert "requirements.txt pins all 2 of its requirements with == (no --hash, so pip cannot verify the files " \
           "it downloads); no requirements.in was found" in messages(result)


def test_some_hashes_but_not_all_fails(repo: Repo) -> None:
    repo.write("requirements.txt", "numpy==2.1.3 \\\n    --hash=sha256:abcd\npandas==2.2.3\nscipy==1.14.1\n")
    repo.write("mlgate.yaml", spec("requirements.txt"))
    repo.commit("deps")
    result = repo.rule("REP002")
    assert result.status == "fail"
    assert "requirements.txt: 1 of 3 requirements carry --hash but pandas, scipy do not; pip switches to " \
           "hash-checking mode and refuses to install them" in messages(result)


def test_the_team_can_require_hashes(repo: Repo) -> None:
    repo.write("requirements.txt", "numpy==2.1.3\n")
    repo.write(".mlgate.toml", "[params.REP002]\nrequire_hashes = true\n")
    repo.write("mlgate.yaml", spec("requirements.txt"))
    repo.commit("deps")
    result = repo.rule("REP002")
    assert result.status == "fail"
    assert "requirements.txt has no --hash on any requirement; this team requires hashes" in messages(result)


def test_included_requirements_are_checked_where_they_are_written(repo: Repo) -> None:
    repo.write("requirements/base.txt", "numpy==2.1.3\nrequests>=2\n")
    repo.write("requirements/train.txt", "-r base.txt\ntorch==2.5.1\n")
    repo.write("mlgate.yaml", spec("requirements/train.txt"))
    repo.commit("deps")
    result = repo.rule("REP002")
    assert result.status == "fail"
    (fail,) = [f for f in result.findings if f.status == "fail"]
    assert fail.location is not None and (fail.location.path, fail.location.line) == ("requirements/base.txt", 2)
    assert "`requests>=2` is not pinned" in fail.message


@pytest.mark.parametrize(("line", "status"), [
    ("tool @ git+https://example.com/tool.git@main", "fail"),
    ("tool @ git+https://example.com/tool.git@0123456789abcdef0123456789abcdef01234567", "pass"),
    ("tool @ https://example.com/tool-1.0.tar.gz#sha256=" + "a" * 64, "pass"),
])
def test_direct_references_must_not_move(repo: Repo, line: str, status: str) -> None:
    repo.write("requirements.txt", f"numpy==2.1.3\n{line}\n")
    repo.write("mlgate.yaml", spec("requirements.txt"))
    repo.commit("deps")
    result = repo.rule("REP002")
    assert result.status == status, messages(result)


# -- git history -------------------------------------------------------------------------------------------------

def test_a_manifest_change_after_the_lock_that_keeps_the_dependencies_passes(repo: Repo) -> None:
    copy_fixture(repo, "uv")
    repo.write("mlgate.yaml", spec("uv.lock"))
    repo.commit("lock")
    lock_sha = short(repo)
    text = (repo.root / "pyproject.toml").read_text()
    repo.write("pyproject.toml", (text + "\n[tool.ruff]\nline-length = 100\n").encode())
    repo.commit("ruff settings")
    result = repo.rule("REP002")
    assert result.status == "pass", messages(result)
    assert f"git: pyproject.toml changed after uv.lock (last in {short(repo)} (" in messages(result)
    assert f"but its dependencies are the same as when uv.lock was last changed in {lock_sha} (" in messages(result)


def test_the_first_commit_that_changed_the_dependencies_is_named(repo: Repo) -> None:
    copy_fixture(repo, "uv")
    repo.write("mlgate.yaml", spec("uv.lock"))
    repo.commit("lock")
    add_dependency(repo, "pyproject.toml", '"requests>=2.31"', '"requests>=2.32"')
    repo.commit("raise requests")
    raised = short(repo)
    text = (repo.root / "pyproject.toml").read_text()
    repo.write("pyproject.toml", (text + "\n[tool.ruff]\nline-length = 100\n").encode())
    repo.commit("ruff settings")
    result = repo.rule("REP002")
    assert result.status == "fail"
    assert f'changed its dependencies in {raised} (' in messages(result)
    assert '"raise requests" (requests>=2.31 -> requests>=2.32)' in messages(result)


def test_dependencies_changed_and_changed_back_leave_the_lock_current(repo: Repo) -> None:
    copy_fixture(repo, "uv")
    repo.write("mlgate.yaml", spec("uv.lock"))
    repo.commit("lock")
    original = (repo.root / "pyproject.toml").read_bytes()
    add_dependency(repo, "pyproject.toml", '"requests>=2.31"', '"requests>=2.32"')
    repo.commit("try a newer requests")
    repo.write("pyproject.toml", original)
    repo.commit("revert")
    result = repo.rule("REP002")
    assert result.status == "pass", messages(result)
    assert "but its dependencies are the same as when uv.lock was last changed" in messages(result)


def test_a_lock_regenerated_after_the_manifest_passes(repo: Repo) -> None:
    copy_fixture(repo, "uv")
    repo.write("mlgate.yaml", spec("uv.lock"))
    repo.commit("lock")
    manifest_sha = short(repo)
    lock = (repo.root / "uv.lock").read_text()
    repo.write("uv.lock", lock.replace("revision = 5", "revision = 5\n").encode())
    repo.commit("relock")
    result = repo.rule("REP002")
    assert result.status == "pass", messages(result)
    assert f"git: uv.lock last changed in {short(repo)} (" in messages(result)
    assert f"after pyproject.toml (last changed in {manifest_sha} (" in messages(result)


def test_an_untracked_lockfile_fails(repo: Repo) -> None:
    repo.write("mlgate.yaml", spec("requirements.txt"))
    repo.commit("spec")
    repo.write("requirements.txt", "numpy==2.1.3\n")
    result = repo.rule("REP002")
    assert result.status == "fail"
    assert "requirements.txt is not tracked by git: a fresh clone (CI, the training job) does not have it" in \
        messages(result)


def test_uncommitted_changes_to_the_lock_or_the_manifest_warn(repo: Repo) -> None:
    copy_fixture(repo, "pip-tools")
    repo.write("mlgate.yaml", spec("requirements.txt"))
    repo.commit("lock")
    repo.write("requirements.in", (repo.root / "requirements.in").read_bytes() + b"# a comment\n")
    repo.write("requirements.txt", (repo.root / "requirements.txt").read_bytes() + b"# a comment\n")
    result = repo.rule("REP002")
    assert result.status == "warn", messages(result)
    assert "requirements.txt has uncommitted changes: the committed lock is not the one on disk" in messages(result)
    assert "requirements.in has uncommitted changes; commit them together with a regenerated requirements.txt" in \
        messages(result)


# -- the spec ----------------------------------------------------------------------------------------------------

def test_no_lockfile_named_points_at_the_one_found(repo: Repo) -> None:
    copy_fixture(repo, "uv", into="models/fraud/")
    repo.write("models/fraud/mlgate.yaml", "version: 1\nprovenance:\n  seed:\n    value: 1\n")
    repo.commit("spec")
    result = repo.rule("REP002", "models/fraud/mlgate.yaml")
    assert result.status == "fail"
    (finding,) = result.findings
    assert finding.message == "no lockfile is named in provenance.dependencies.lockfile (found " \
                              "models/fraud/uv.lock in the repository)"
    assert finding.remediation == "add `lockfile: uv.lock` under provenance.dependencies"


def test_no_lockfile_at_all(repo: Repo) -> None:
    repo.write("mlgate.yaml", "version: 1\n")
    repo.commit("spec")
    result = repo.rule("REP002")
    assert result.status == "fail"
    assert "none was found next to the spec" in messages(result)


@pytest.mark.parametrize(("lockfile", "fragment"), [
    ("uv.lock", "lockfile uv.lock does not exist"),
    ("deps.lock", "deps.lock is not a lockfile mlgate reads"),
])
def test_a_lockfile_that_is_not_there_or_not_a_lockfile(repo: Repo, lockfile: str, fragment: str) -> None:
    repo.write("deps.lock", "numpy 2.1.3\n")
    repo.write("mlgate.yaml", spec(lockfile))
    repo.commit("spec")
    result = repo.rule("REP002")
    assert result.status == "fail"
    assert fragment in messages(result)


def test_an_unreadable_lockfile_is_an_error_with_its_line(repo: Repo) -> None:
    repo.write("uv.lock", "version = 1\n[[package]\nname = 'x'\n")
    repo.write("mlgate.yaml", spec("uv.lock"))
    repo.commit("spec")
    result = repo.rule("REP002")
    assert result.status == "error"
    (finding,) = result.findings
    assert "is not valid TOML" in finding.message
    assert finding.location is not None and (finding.location.path, finding.location.line) == ("uv.lock", 2)


def test_a_named_manifest_that_does_not_exist(repo: Repo) -> None:
    copy_fixture(repo, "uv")
    repo.write("mlgate.yaml", spec("uv.lock", "    manifest: train/pyproject.toml\n"))
    repo.commit("spec")
    result = repo.rule("REP002")
    assert result.status == "fail"
    assert "manifest train/pyproject.toml does not exist" in messages(result)


def test_a_lockfile_without_a_manifest_warns(repo: Repo) -> None:
    copy_fixture(repo, "uv")
    (repo.root / "pyproject.toml").unlink()
    repo.write("mlgate.yaml", spec("uv.lock"))
    repo.commit("spec")
    result = repo.rule("REP002")
    assert result.status == "warn"
    assert "no manifest found next to uv.lock (looked for pyproject.toml)" in messages(result)


def test_a_lockfile_larger_than_the_spec_limit_is_read(repo: Repo) -> None:
    # real lockfiles run to megabytes; they get 16 MiB where specs get 1 MiB
    padding = "".join(f"# via some-package-{i}\n" for i in range(60_000))
    repo.write("requirements.txt", "numpy==2.1.3\n" + padding + "pandas==2.2.3\n")
    assert (repo.root / "requirements.txt").stat().st_size > 1024 * 1024
    repo.write("mlgate.yaml", spec("requirements.txt"))
    repo.commit("freeze")
    result = repo.rule("REP002")
    assert result.status == "pass", messages(result)
