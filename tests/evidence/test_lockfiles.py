"""Lockfile and manifest parsers, on real files written by each tool (tests/fixtures/lockfiles, see its README)."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from mlgate.evidence.lockfiles import (
    LockfileError,
    compare,
    compiled_from,
    lock_kind,
    manifest_kind,
    parse_lockfile,
    parse_manifest,
    poetry_constraint,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lockfiles"

# directory, lockfile, manifest, lock kind, packages locked, {package: version}, {dependency: group}
FORMATS = [
    ("uv", "uv.lock", "pyproject.toml", "uv", 8, {"requests": "2.34.2", "pyyaml": "6.0.4", "iniconfig": "2.3.1"},
     {"requests": None, "pyyaml": None, "iniconfig": "test"}),
    ("poetry", "poetry.lock", "pyproject.toml", "poetry", 7,
     {"requests": "2.34.2", "pyyaml": "6.0.4", "charset-normalizer": "3.5.3"},
     {"requests": None, "pyyaml": None, "iniconfig": "test"}),
    ("pdm", "pdm.lock", "pyproject.toml", "pdm", 7, {"requests": "2.34.2", "urllib3": "2.8.0"},
     {"requests": None, "pyyaml": None, "iniconfig": "test"}),
    ("pipenv", "Pipfile.lock", "Pipfile", "pipenv", 7, {"requests": "2.34.2", "iniconfig": "2.3.1"},
     {"requests": None, "pyyaml": None, "iniconfig": "dev"}),
    ("pip-tools", "requirements.txt", "requirements.in", "requirements", 6,
     {"requests": "2.34.2", "certifi": "2026.10.19.post1"}, {"requests": None, "pyyaml": None}),
    ("conda-lock", "conda-lock.yml", "environment.yml", "conda-lock", 29,
     {"python": "3.11.10", "_libgcc_mutex": "0.1", "requests": "2.32.3"},
     {"python": None, "numpy": None, "scikit-learn": None, "pip": None, "requests": None}),
    ("pixi", "pixi.lock", "pixi.toml", "pixi", 27,
     {"python": "3.11.10", "scikit-learn": "1.5.2", "requests": "2.32.3", "ld_impl_linux-64": "2.40"},
     {"python": None, "numpy": None, "scikit-learn": None, "requests": None}),
]


@pytest.mark.parametrize(("folder", "lockname", "manifestname", "kind", "count", "versions", "deps"), FORMATS,
                         ids=[f[0] for f in FORMATS])
def test_each_real_lockfile_parses_and_covers_its_manifest(folder: str, lockname: str, manifestname: str, kind: str,
                                                           count: int, versions: dict[str, str],
                                                           deps: dict[str, str | None]) -> None:
    lock_type = lock_kind(lockname)
    assert lock_type is not None and lock_type.key == kind
    lock = parse_lockfile(lock_type, (FIXTURES / folder / lockname).read_text(), name=lockname)
    assert lock.count == count
    for name, version in versions.items():
        (locked,) = lock.packages[name]
        assert (locked.version, locked.exact) == (version, True)
        assert locked.line is not None and locked.line > 1
    assert lock.problems == []
    mkind = manifest_kind(manifestname)
    assert mkind is not None
    manifest = parse_manifest(mkind, (FIXTURES / folder / manifestname).read_text(), name=manifestname)
    assert {d.name: d.group for d in manifest.deps} == deps
    gaps, found = compare(manifest, lock, [None, *manifest.groups])
    assert gaps == []
    assert {d.name for d in found} == set(deps)


def test_locations_point_at_the_package_and_the_declaration() -> None:
    text = (FIXTURES / "uv" / "uv.lock").read_text()
    lock = parse_lockfile(lock_kind("uv.lock"), text)  # type: ignore[arg-type]
    lines = text.splitlines()
    assert lines[lock.packages["requests"][0].line - 1] == 'name = "requests"'  # type: ignore[operator]
    manifest_text = (FIXTURES / "poetry" / "pyproject.toml").read_text()
    manifest = parse_manifest("pyproject", manifest_text)
    by_name = {d.name: d for d in manifest.deps}
    assert manifest_text.splitlines()[by_name["pyyaml"].line - 1] == 'PyYAML = ">=6.0"'
    assert by_name["pyyaml"].section == "[tool.poetry.dependencies]"
    assert by_name["iniconfig"].section == "[tool.poetry.group.test.dependencies]"


def test_hashes_locked_groups_and_sources() -> None:
    req = parse_lockfile(lock_kind("requirements.txt"),  # type: ignore[arg-type]
                         (FIXTURES / "pip-tools" / "requirements.txt").read_text(), name="requirements.txt")
    assert req.hash_coverage() == (6, 6)
    pdm = parse_lockfile(lock_kind("pdm.lock"), (FIXTURES / "pdm" / "pdm.lock").read_text())  # type: ignore[arg-type]
    assert pdm.locked_groups == {"default", "test"}
    conda = parse_lockfile(lock_kind("conda-lock.yml"),  # type: ignore[arg-type]
                           (FIXTURES / "conda-lock" / "conda-lock.yml").read_text())
    assert conda.sources == ["environment.yml"]
    assert compiled_from((FIXTURES / "pip-tools" / "requirements.txt").read_text()) == ["requirements.in"]


@pytest.mark.parametrize(("name", "kind"), [
    ("uv.lock", "uv"), ("poetry.lock", "poetry"), ("pdm.lock", "pdm"), ("Pipfile.lock", "pipenv"),
    ("conda-lock.yml", "conda-lock"), ("envs/linux.conda-lock.yaml", "conda-lock"), ("pixi.lock", "pixi"),
    ("requirements.txt", "requirements"), ("requirements/prod.txt", "requirements"), ("deps.lock", None),
    ("Cargo.lock", None), ("package-lock.json", None),
])
def test_lockfile_kind_by_name(name: str, kind: str | None) -> None:
    found = lock_kind(name)
    assert (found.key if found else None) == kind


REQUIREMENTS = """\
# a hand-maintained file
--index-url https://registry.example/simple
torch>=2.2              # a range
pandas
scikit-learn==1.5.2 \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
numpy===2.1.3
scipy==1.14.*
pywin32==306 ; sys_platform == "win32"
tool @ git+https://example.com/tool.git@main
lib @ git+https://example.com/lib.git@0123456789abcdef0123456789abcdef01234567
-e .
"""


def test_requirements_every_line_must_be_a_pin() -> None:
    lock = parse_lockfile(lock_kind("requirements.txt"), REQUIREMENTS, name="requirements.txt")  # type: ignore[arg-type]
    problems = {p.line: p.message for p in lock.problems}
    assert sorted(problems) == [3, 4, 9, 11]
    assert "`torch>=2.2` is not pinned: it has the range `>=2.2`" in problems[3]
    assert "`pandas` is not pinned: it has no version at all" in problems[4]
    assert "`scipy==1.14.*` is not pinned" in problems[9]
    assert "direct reference that can change" in problems[11]
    assert lock.packages["scikit-learn"][0].hashed is True
    assert lock.packages["numpy"][0].hashed is False
    assert (lock.packages["numpy"][0].version, lock.packages["numpy"][0].exact) == ("2.1.3", True)
    assert lock.packages["pywin32"][0].exact
    assert lock.packages["lib"][0].exact
    assert lock.hash_coverage() == (1, 9)  # -e . counts: pip refuses an editable in hash-checking mode
    (option,) = lock.options
    assert (option.line, option.name, option.value) == (2, "--index-url", "https://registry.example/simple")


def test_requirements_follow_includes_with_a_reader() -> None:
    files = {"base.txt": "numpy==2.1.3\nrequests>=2\n"}

    def read(ref: str, from_file: str) -> tuple[str, str]:
        if ref not in files:
            raise LockfileError("does not exist")
        return ref, files[ref]

    text = "-r base.txt\n-r missing.txt\npandas==2.2.3\n"
    lock = parse_lockfile(lock_kind("requirements.txt"), text, name="requirements.txt",  # type: ignore[arg-type]
                          read=read)
    assert set(lock.packages) == {"numpy", "requests", "pandas"}
    assert [(p.file, p.line) for p in lock.problems] == [("requirements.txt", 2), ("base.txt", 2)]
    assert "includes missing.txt, which does not exist" in lock.problems[0].message


def test_the_same_lockfile_is_parsed_once_but_an_include_is_read_each_time() -> None:
    """A monorepo's specs share one lockfile: its text is parsed once. A lockfile that includes another is parsed
    again for each reader, since the included file's text is the reader's (the work tree, or a commit)."""
    kind = lock_kind("requirements.txt")
    assert kind is not None
    text = "numpy==2.1.3\npandas==2.2.3\n"
    first = parse_lockfile(kind, text, name="requirements.txt")
    assert parse_lockfile(kind, text, name="requirements.txt") is first
    assert parse_lockfile(kind, text + "scipy==1.14.1\n", name="requirements.txt") is not first

    def reader(version: str):  # type: ignore[no-untyped-def]
        return lambda ref, from_file: (ref, f"requests=={version}\n")

    including = "-r base.txt\nnumpy==2.1.3\n"
    old = parse_lockfile(kind, including, name="requirements.txt", read=reader("2.31.0"))
    new = parse_lockfile(kind, including, name="requirements.txt", read=reader("2.32.3"))
    assert [p.version for p in old.packages["requests"]] == ["2.31.0"]
    assert [p.version for p in new.packages["requests"]] == ["2.32.3"]


@pytest.mark.parametrize(("constraint", "inside", "outside"), [
    ("^2.31", ["2.31", "2.99.1"], ["3.0", "2.30"]),
    ("^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0"]),
    ("^0.0.3", ["0.0.3"], ["0.0.4"]),
    ("~1.2", ["1.2.0", "1.2.9"], ["1.3"]),
    ("~1", ["1.0", "1.9"], ["2.0"]),
    ("~=1.4.2", ["1.4.5"], ["1.5.0"]),
    ("1.2.3", ["1.2.3"], ["1.2.4"]),
    (">= 1.2, < 1.5", ["1.4"], ["1.5"]),
    (">=1.2 <1.5", ["1.4"], ["1.5"]),
    ("2.1.*", ["2.1.7"], ["2.2.0"]),
    ("*", ["0.1", "99"], []),
    ("^1.0 || ^3.0", ["1.5", "3.1"], ["2.0"]),
])
def test_poetry_constraints_mean_what_poetry_means(constraint: str, inside: list[str], outside: list[str]) -> None:
    specs = poetry_constraint(constraint)
    assert specs is not None
    for version in inside:
        assert any(s.contains(version, prereleases=True) for s in specs), version
    for version in outside:
        assert not any(s.contains(version, prereleases=True) for s in specs), version


def test_an_unreadable_poetry_constraint_is_not_judged() -> None:
    assert poetry_constraint("^banana") is None


PYPROJECT = """\
[project]
name = "fraud-train"
dependencies = ["torch>=2.2", "numpy"]

[project.optional-dependencies]
gpu = ["nvidia-ml-py>=12"]
all = ["fraud-train[gpu]"]

[dependency-groups]
test = ["pytest>=8"]
ci = [{include-group = "test"}, "coverage"]

[tool.uv]
dev-dependencies = ["ruff"]

[tool.pdm.dev-dependencies]
lint = ["mypy", "-e file:///${PROJECT_ROOT}/../sibling"]
"""


def test_pyproject_every_dependency_section() -> None:
    manifest = parse_manifest("pyproject", PYPROJECT)
    got = {(d.group, d.name) for d in manifest.deps}
    assert got == {(None, "torch"), (None, "numpy"), ("gpu", "nvidia-ml-py"), ("test", "pytest"),
                   ("ci", "pytest"), ("ci", "coverage"), ("dev", "ruff"), ("lint", "mypy")}
    assert manifest.groups == {"gpu", "all", "test", "ci", "dev", "lint"}
    torch = next(d for d in manifest.deps if d.name == "torch")
    assert (torch.line, torch.section, torch.specifiers) == (3, "[project.dependencies]", (SpecifierSet(">=2.2"),))


def test_environment_yml_conda_and_pip_dependencies() -> None:
    text = "name: x\ndependencies:\n  - conda-forge::pytorch>=2.2\n  - numpy[version='>=1.26']\n  - python=3.11\n" \
           "  - pip:\n      - requests>=2.31\n      - --index-url https://registry.example/simple\n"
    manifest = parse_manifest("environment-yml", text)
    assert [(d.name, d.conda, d.line) for d in manifest.deps] == [
        ("pytorch", True, 3), ("numpy", True, 4), ("python", True, 5), ("requests", False, 7)]


@pytest.mark.parametrize(("kind", "text", "fragment"), [
    ("uv", "version = 1\n[[package]\n", "is not valid TOML"),
    ("uv", "[[package]]\nname = 'x'\n", "is not a uv.lock"),
    ("poetry", "[[package]]\nname = 'x'\nversion = '1'\n", "is not a poetry.lock"),
    ("pipenv", '{"default": {}', "is not valid JSON"),
    ("pipenv", '{"default": {}}', "is not a Pipfile.lock"),
    ("conda-lock", "version: 1\npackage: {}\n", "is not a conda-lock file"),
    ("pixi", "version: 6\n", "is not a pixi.lock"),
])
def test_a_file_that_is_not_the_lockfile_it_claims_to_be(kind: str, text: str, fragment: str) -> None:
    from mlgate.evidence.lockfiles import KINDS

    with pytest.raises(LockfileError) as exc:
        parse_lockfile(KINDS[kind], text)
    assert fragment in exc.value.message


def test_an_invalid_requirement_in_a_manifest_is_reported_with_its_line() -> None:
    with pytest.raises(LockfileError) as exc:
        parse_manifest("pyproject", '[project]\nname = "x"\ndependencies = [\n  "torch >>= 2",\n]\n')
    assert exc.value.line == 4
    assert "`torch >>= 2` is not a valid requirement" in exc.value.message


def test_pipfile_lock_vcs_and_path_entries() -> None:
    text = '{"_meta": {}, "default": {' \
           '"pinned": {"git": "https://example.com/p.git", "ref": "0123456789abcdef0123456789abcdef01234567"},' \
           '"floating": {"git": "https://example.com/f.git", "ref": "main"},' \
           '"local": {"path": ".", "editable": true},' \
           '"ranged": {"version": ">=1.0"}}}'
    lock = parse_lockfile(lock_kind("Pipfile.lock"), text)  # type: ignore[arg-type]
    assert {name: pkgs[0].exact for name, pkgs in lock.packages.items()} == {
        "pinned": True, "floating": False, "local": True, "ranged": False}
