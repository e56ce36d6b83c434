"""Lockfiles and the project manifests they lock, parsed with real parsers (tomllib, json, the safe YAML loader,
`packaging` for requirement strings, versions and canonical names).

Lockfiles: poetry.lock, uv.lock, pdm.lock, Pipfile.lock, conda-lock.yml, pixi.lock and pip-compile style
requirements*.txt. Manifests: pyproject.toml (`[project]` dependencies and optional dependencies, PEP 735
`[dependency-groups]`, `[tool.poetry]` dependencies and groups, `[tool.uv]`/`[tool.pdm]` dev dependencies,
`[tool.pixi]`), Pipfile, requirements*.in, environment.yml and pixi.toml.

Every parser takes the file's text (so that an old version read from git parses the same way) and raises
`LockfileError` for a file it cannot read. tomllib and json give no positions: the line of a value is found
afterwards by looking for the text that was parsed (`_line_of`), which only places a finding and never decides
what a file means.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from mlgate.evidence.workspace import LARGE_FILE_BYTES, LARGE_FILE_NODES
from mlgate.parsers import load_json, load_toml
from mlgate.yamlload import Document, YamlError, parse_yaml


class LockfileError(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# -- which tool wrote a lockfile, and what it locks --------------------------------------------------------------

@dataclass(frozen=True)
class LockKind:
    """A lockfile format: the tool that writes it and how to regenerate it."""
    key: str
    tool: str  # for messages
    manifests: tuple[str, ...]  # where the manifest usually is, next to the lockfile
    relock: str  # the command that regenerates the lock


KINDS: dict[str, LockKind] = {k.key: k for k in (
    LockKind("poetry", "Poetry", ("pyproject.toml",), "poetry lock"),
    LockKind("uv", "uv", ("pyproject.toml",), "uv lock"),
    LockKind("pdm", "PDM", ("pyproject.toml",), "pdm lock -G :all"),
    LockKind("pipenv", "Pipenv", ("Pipfile",), "pipenv lock"),
    LockKind("conda-lock", "conda-lock", ("environment.yml", "environment.yaml"), "conda-lock -f environment.yml"),
    LockKind("pixi", "pixi", ("pixi.toml", "pyproject.toml"), "pixi lock"),
    LockKind("requirements", "pip-compile", (), "pip-compile --generate-hashes requirements.in"),
)}

LOCKFILE_NAMES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "conda-lock.yml", "pixi.lock",
                  "requirements.txt")


def lock_kind(filename: str) -> LockKind | None:
    """The kind of lockfile a file name is, or None when mlgate does not know it."""
    name = PurePosixPath(filename).name
    exact = {"poetry.lock": "poetry", "uv.lock": "uv", "pdm.lock": "pdm", "Pipfile.lock": "pipenv",
             "pixi.lock": "pixi"}
    if name in exact:
        return KINDS[exact[name]]
    lower = name.lower()
    if lower.endswith(("conda-lock.yml", "conda-lock.yaml")):
        return KINDS["conda-lock"]
    if lower.endswith(".txt"):
        return KINDS["requirements"]
    return None


def manifest_candidates(kind: LockKind, lockfile: str) -> list[str]:
    """File names, next to the lockfile, where its manifest usually is (first existing one wins)."""
    if kind.key == "requirements":  # the .in of the same name; a pyproject.toml only when the header names it
        return [PurePosixPath(lockfile).name[: -len(".txt")] + ".in"]
    return list(kind.manifests)


# -- what a lockfile pins -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Locked:
    """One package a lockfile pins. `exact` is False for a requirements line that is a range, not a pin."""

    name: str  # canonical
    version: str  # as written ("" when the lock has none)
    exact: bool
    line: int | None = None
    hashed: bool | None = None  # requirements.txt: the line carries --hash


@dataclass(frozen=True)
class Problem:
    """A line of a lockfile that does not pin what it should, and why."""
    line: int
    message: str
    file: str | None = None  # an included file (-r other.txt), else the lockfile itself


@dataclass(frozen=True)
class OptionLine:
    """A pip option line of a requirements file (`--index-url URL`, `-c constraints.txt` ...)."""

    line: int
    text: str
    file: str | None = None  # an included file, else the file itself

    @property
    def name(self) -> str:
        """The option's long name: `--index-url` for `-i x`, `--index-url=x` and `--index-url x`."""
        word = self.text.split(None, 1)[0].split("=", 1)[0]
        return _SHORT_OPTIONS.get(word, word)

    @property
    def value(self) -> str:
        first, _, rest = self.text.partition(" ")
        return first.split("=", 1)[1] if first.startswith("--") and "=" in first else rest.strip()


_SHORT_OPTIONS = {"-i": "--index-url", "-f": "--find-links", "-c": "--constraint", "-r": "--requirement",
                  "-e": "--editable"}


@dataclass
class LockFile:
    """A parsed lockfile: the packages it pins and the lines that fall short of a pin."""
    kind: LockKind
    packages: dict[str, list[Locked]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)  # requirements: lines that are not pins
    locked_groups: frozenset[str] | None = None  # PDM: the groups the lock was made for
    sources: list[str] = field(default_factory=list)  # conda-lock: the files it was made from
    options: list[OptionLine] = field(default_factory=list)  # requirements.txt: -c/--index-url... lines

    def add(self, pkg: Locked) -> None:
        self.packages.setdefault(pkg.name, []).append(pkg)

    @property
    def count(self) -> int:
        return len(self.packages)

    def hash_coverage(self) -> tuple[int, int]:
        """(requirements with --hash, all requirements) for requirements.txt."""
        pins = [p for pkgs in self.packages.values() for p in pkgs]
        return sum(1 for p in pins if p.hashed), len(pins)


# -- what a manifest asks for -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dependency:
    """One dependency a project manifest asks for, as written there."""
    name: str  # canonical
    raw: str  # as written, for messages
    specifiers: tuple[SpecifierSet, ...] | None  # any one satisfies; None when the form cannot be judged
    group: str | None  # None: the main dependencies; else the extra / group name
    section: str  # where it is written, e.g. [project.optional-dependencies] test
    line: int = 1
    marker: str | None = None
    conda: bool = False  # a conda package (environment.yml, pixi [dependencies])
    url: str | None = None  # a direct reference (git, path, url)
    hashed: bool = False  # a requirements line with --hash

    def key(self) -> tuple[str | None, str, str, str]:
        """What makes two declarations the same for history comparisons."""
        specs = "|".join(sorted(str(s) for s in self.specifiers)) if self.specifiers is not None else self.raw
        return (self.group, self.name, specs, self.marker or "")


@dataclass
class DependencyManifest:
    """A project manifest (pyproject.toml, Pipfile ...): what the lock must satisfy."""
    kind: str  # pyproject, pipfile, requirements-in, environment-yml, pixi-toml
    deps: list[Dependency] = field(default_factory=list)
    groups: set[str] = field(default_factory=set)  # every optional group / extra it declares
    project: str | None = None  # the project's own (canonical) name, never a dependency of itself

    def signature(self) -> frozenset[tuple[str | None, str, str, str]]:
        return frozenset(d.key() for d in self.deps)


# -- helpers ------------------------------------------------------------------------------------------------------

def _line_of(text: str, *needles: str, start: int = 1) -> int:
    """The first line (from `start`) containing any needle, to place a finding; 1 when none does."""
    lines = text.splitlines()
    for number in range(max(start, 1), len(lines) + 1):
        line = lines[number - 1]
        if any(n in line for n in needles):
            return number
    return 1


def _exact_line(text: str, wanted: str, start: int = 1) -> int:
    """The first line (from `start`) that is exactly `wanted`, surrounding blanks aside; 1 when none is."""
    lines = text.splitlines()
    for number in range(max(start, 1), len(lines) + 1):
        if lines[number - 1].strip() == wanted:
            return number
    return 1


def _key_line(text: str, key: str, start: int = 1) -> int:
    """The line where a TOML key (bare or quoted) is assigned, at or after `start`."""
    lines = text.splitlines()
    for number in range(max(start, 1), len(lines) + 1):
        stripped = lines[number - 1].strip()
        for form in (key, f'"{key}"', f"'{key}'"):
            if stripped.startswith(form) and stripped[len(form):].lstrip().startswith("="):
                return number
    return 1


def _table_line(text: str, header: str) -> int:
    """The line of a TOML table header such as `[project.optional-dependencies]`."""
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip().replace(" ", "") == header:
            return number
    return 1


def _load_toml(text: str) -> dict[str, Any]:
    try:
        return load_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise LockfileError(f"is not valid TOML: {exc}", toml_error_line(exc)) from None


def toml_error_line(exc: tomllib.TOMLDecodeError) -> int | None:
    """The line of a TOML syntax error (Python 3.14 has `lineno`; before, it is only in the message)."""
    line = getattr(exc, "lineno", None)
    if isinstance(line, int):
        return line
    found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
    return int(found.group(1)) if found else None


def _load_json(text: str) -> Any:
    try:
        return load_json(text)
    except json.JSONDecodeError as exc:
        raise LockfileError(f"is not valid JSON: {exc.msg}", exc.lineno) from None


def _load_yaml(text: str) -> Document:
    try:
        return parse_yaml(text, max_bytes=LARGE_FILE_BYTES, max_nodes=LARGE_FILE_NODES)
    except YamlError as exc:
        raise LockfileError(exc.message, exc.line) from None


def _table(data: Any, *path: str) -> dict[str, Any]:
    for key in path:
        if not isinstance(data, dict):
            return {}
        data = data.get(key)
    return data if isinstance(data, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


_HEX40 = re.compile(r"[0-9a-f]{40}")


def _is_commit(ref: str) -> bool:
    return bool(_HEX40.fullmatch(ref.lower()))


def is_exact(specifier: SpecifierSet) -> bool:
    """A pin: exactly one `==` (without a wildcard) or `===` clause."""
    specs = list(specifier)
    return len(specs) == 1 and (specs[0].operator == "===" or
                                (specs[0].operator == "==" and not specs[0].version.endswith(".*")))


def satisfies(version: str, specifiers: tuple[SpecifierSet, ...]) -> bool | None:
    """Whether a locked version meets any of the specifier sets; None when it cannot be judged."""
    if not specifiers:
        return True
    try:
        parsed = Version(version)
    except InvalidVersion:
        return None
    return any(s.contains(parsed, prereleases=True) for s in specifiers)


# -- lockfile parsers ---------------------------------------------------------------------------------------------

Reader = Callable[[str, str], tuple[str, str]]
"""read(reference, from_file) -> (display path, text) of a file a requirements file includes with -r."""


# A monorepo's specs share one lockfile, and REP005 reads it again as committed at each model's training commit:
# the same text is parsed once per run. A parse that read an included file (`-r base.txt`) is not kept, since what
# an include says depends on the caller's reader (the work tree, or a commit). A few texts are kept (a lockfile may
# run to megabytes): the one most specs share, and its versions at the training commits as they come.
_PARSED: dict[tuple[LockKind, str, str], LockFile] = {}
_PARSED_MAX = 8


def parse_lockfile(kind: LockKind, text: str, *, name: str = "", read: Reader | None = None) -> LockFile:
    """The lockfile `text` (of file `name`) parsed; `read` reads the files it includes. The result may be shared
    with other callers that parsed the same text: read it, never change it."""
    key = (kind, name, text)
    if (parsed := _PARSED.get(key)) is not None:
        return parsed
    included = False

    def reading(ref: str, from_file: str) -> tuple[str, str]:
        nonlocal included
        included = True
        assert read is not None
        return read(ref, from_file)

    parsers: dict[str, Callable[[LockFile, str], None]] = {
        "poetry": _parse_poetry_lock, "uv": _parse_uv_lock, "pdm": _parse_pdm_lock,
        "pipenv": _parse_pipfile_lock, "conda-lock": _parse_conda_lock, "pixi": _parse_pixi_lock,
    }
    lock = LockFile(kind)
    if kind.key == "requirements":
        _parse_requirements_lock(lock, text, name, reading if read is not None else None)
    else:
        parsers[kind.key](lock, text)
    if not included:
        if len(_PARSED) >= _PARSED_MAX:
            del _PARSED[next(iter(_PARSED))]
        _PARSED[key] = lock
    return lock


def _toml_packages(text: str, what: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    data = _load_toml(text)
    packages = data.get("package", [])
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        raise LockfileError(f"is not a {what}: `package` is not an array of tables")
    return data, packages


def _add_toml_package(lock: LockFile, text: str, pkg: dict[str, Any], exact: bool, cursor: list[int]) -> None:
    name = _str(pkg.get("name"))
    if not name:
        return
    line = _exact_line(text, f'name = "{name}"', start=cursor[0])  # not `{ name = "x" }` in a dependency list
    if line > 1:
        cursor[0] = line + 1
    lock.add(Locked(canonicalize_name(name), _str(pkg.get("version")), exact, line))


def _parse_poetry_lock(lock: LockFile, text: str) -> None:
    data, packages = _toml_packages(text, "poetry.lock")
    if "metadata" not in data:
        raise LockfileError("is not a poetry.lock: it has no [metadata] table")
    cursor = [1]
    for pkg in packages:
        _add_toml_package(lock, text, pkg, bool(pkg.get("version")), cursor)


def _parse_uv_lock(lock: LockFile, text: str) -> None:
    data, packages = _toml_packages(text, "uv.lock")
    if "version" not in data:
        raise LockfileError("is not a uv.lock: it has no `version`")
    cursor = [1]
    for pkg in packages:
        source = _table(pkg, "source")
        local = any(k in source for k in ("virtual", "editable", "directory", "path", "workspace"))
        git = _str(source.get("git"))
        exact = bool(pkg.get("version")) or local or (git and _is_commit(git.rsplit("#", 1)[-1]))
        _add_toml_package(lock, text, pkg, bool(exact), cursor)


def _parse_pdm_lock(lock: LockFile, text: str) -> None:
    data, packages = _toml_packages(text, "pdm.lock")
    groups = _table(data, "metadata").get("groups")
    if isinstance(groups, list):
        lock.locked_groups = frozenset(_str(g) for g in groups)
    cursor = [1]
    for pkg in packages:
        _add_toml_package(lock, text, pkg, bool(pkg.get("version") or pkg.get("revision") or pkg.get("path")),
                          cursor)


def _parse_pipfile_lock(lock: LockFile, text: str) -> None:
    data = _load_json(text)
    if not isinstance(data, dict) or "_meta" not in data:
        raise LockfileError("is not a Pipfile.lock: it has no `_meta`")
    for category, entries in data.items():
        if category == "_meta" or not isinstance(entries, dict):
            continue
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                continue
            version = _str(entry.get("version"))
            exact = (version.startswith("==") and "*" not in version) or version.startswith("===")
            if not version:  # a VCS or path dependency is pinned by its commit or by the repository itself
                exact = "path" in entry or ("file" in entry and bool(entry.get("hashes"))) or \
                    _is_commit(_str(entry.get("ref")))
            line = _line_of(text, f'"{name}": {{')
            lock.add(Locked(canonicalize_name(name), version.lstrip("="), exact, line,
                            hashed=bool(entry.get("hashes"))))


def _parse_conda_lock(lock: LockFile, text: str) -> None:
    doc = _load_yaml(text)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("package"), list):
        raise LockfileError("is not a conda-lock file: it has no `package` list")
    lock.sources = [_str(s) for s in _list(_table(data, "metadata").get("sources"))]
    for i, pkg in enumerate(data["package"]):
        if isinstance(pkg, dict) and pkg.get("name"):
            version = _str(pkg.get("version"))
            name = _str(pkg["name"])
            key = canonicalize_name(name) if pkg.get("manager") == "pip" else conda_key(name)
            lock.add(Locked(key, version, bool(version), doc.pos(("package", i)).line))


def conda_key(name: str) -> str:
    """Conda package names are lowercase and keep `_` and `-` apart (`_libgcc_mutex`, `typing_extensions`)."""
    return name.strip().lower()


def _conda_filename(url: str) -> tuple[str, str]:
    """(name, version) from a conda package file name: <name>-<version>-<build>.conda (or .tar.bz2)."""
    base = url.rstrip("/").rsplit("/", 1)[-1]
    for suffix in (".conda", ".tar.bz2"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    parts = base.rsplit("-", 2)
    return (parts[0], parts[1]) if len(parts) == 3 else ("", "")


def _parse_pixi_lock(lock: LockFile, text: str) -> None:
    doc = _load_yaml(text)
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("packages"), list):
        raise LockfileError("is not a pixi.lock: it has no `packages` list")
    for i, pkg in enumerate(data["packages"]):
        if not isinstance(pkg, dict):
            continue
        url = _str(pkg.get("conda") or pkg.get("pypi") or pkg.get("url"))
        name, version = _str(pkg.get("name")), _str(pkg.get("version"))
        if (not name or not version) and ("conda" in pkg or pkg.get("kind") == "conda"):
            from_file = _conda_filename(url)
            name, version = name or from_file[0], version or from_file[1]
        if name:
            key = conda_key(name) if "conda" in pkg or pkg.get("kind") == "conda" else canonicalize_name(name)
            lock.add(Locked(key, version, bool(version), doc.pos(("packages", i)).line))


# -- requirements files (pip-compile output, requirements.in) -----------------------------------------------------

@dataclass(frozen=True)
class _ReqLine:
    """One logical line of a requirements file."""
    line: int
    text: str  # the logical line: continuations joined, comment removed
    hashed: bool


def _logical_lines(text: str) -> Iterator[_ReqLine]:
    """Join backslash continuations and drop comments (a `#` at the start or after whitespace)."""
    buffer: list[str] = []
    first = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw
        if line.lstrip().startswith("#"):
            line = ""
        elif " #" in line or "\t#" in line:
            line = line[: min(i for i in (line.find(" #"), line.find("\t#")) if i >= 0)]
        if not buffer:
            first = number
        if line.rstrip().endswith("\\"):
            buffer.append(line.rstrip()[:-1])
            continue
        buffer.append(line)
        joined = " ".join(part.strip() for part in buffer).strip()
        buffer = []
        if joined:
            yield _ReqLine(first, joined, "--hash" in joined)
    if buffer:
        joined = " ".join(part.strip() for part in buffer).strip()
        if joined:
            yield _ReqLine(first, joined, "--hash" in joined)


def _without_options(text: str) -> str:
    """A requirement line without its per-requirement options (--hash=..., --config-settings ...)."""
    kept: list[str] = []
    skip = False
    for word in text.split():
        if skip:
            skip = False
        elif word.startswith("--"):
            skip = "=" not in word and word in ("--hash", "--config-settings", "--global-option")
        else:
            kept.append(word)
    return " ".join(kept)


def parse_requirement_text(text: str, *, section: str, name: str = "", read: Reader | None = None,
                           seen: set[str] | None = None) -> tuple[list[Dependency], list[Problem], list[OptionLine]]:
    """Every requirement of a requirements file (following -r includes), the lines that cannot be read as
    requirements, and the option lines (-c, --index-url, ...)."""
    deps: list[Dependency] = []
    problems: list[Problem] = []
    options: list[OptionLine] = []
    seen = seen if seen is not None else {name}
    for item in _logical_lines(text):
        body = item.text
        if body.startswith(("-r", "--requirement")):
            ref = (body[len("--requirement"):] if body.startswith("--requirement") else body[2:]).lstrip("= ")
            if read is None or not ref:
                options.append(OptionLine(item.line, body, name or None))
                continue
            try:
                display, included = read(ref, name)
            except LockfileError as exc:
                problems.append(Problem(item.line, f"includes {ref}, which {exc.message}", name or None))
                continue
            if display in seen:
                continue
            seen.add(display)
            more, more_problems, more_options = parse_requirement_text(included, section=display, name=display,
                                                                       read=read, seen=seen)
            deps += more
            problems += more_problems
            options += more_options
            continue
        if body.startswith(("-e", "--editable")):
            target = (body[len("--editable"):] if body.startswith("--editable") else body[2:]).lstrip("= ")
            deps.append(_editable(target, item, section, body))
            continue
        if body.startswith("-"):
            options.append(OptionLine(item.line, body, name or None))
            continue
        requirement_text = _without_options(body)
        try:
            req = Requirement(requirement_text)
        except InvalidRequirement as exc:
            if "/" in requirement_text or requirement_text.startswith("."):  # a local path: the project itself
                deps.append(_editable(requirement_text, item, section, requirement_text))
                continue
            problems.append(Problem(item.line, f"`{requirement_text}` is not a valid requirement: {exc}",
                                    name or None))
            continue
        deps.append(Dependency(canonicalize_name(req.name), requirement_text,
                               None if req.url else (req.specifier,), None, section, item.line,
                               str(req.marker) if req.marker else None, url=req.url, hashed=item.hashed))
    return deps, problems, options


def _editable(target: str, item: _ReqLine, section: str, raw: str) -> Dependency:
    fragment = target.split("#egg=", 1)
    name = canonicalize_name(fragment[1].split("&", 1)[0]) if len(fragment) == 2 else target
    return Dependency(name, raw, None, None, section, item.line, url=target, hashed=item.hashed)


_VCS = ("git+", "hg+", "svn+", "bzr+")


def _url_pinned(url: str) -> bool:
    """A direct reference that cannot change: a git or Mercurial url at a full commit id, or an archive with a
    hash. pip ignores a `#sha256=` fragment on a VCS url (it checks hashes of archives it downloads, not of
    checkouts), so on `git+` only the commit pins."""
    if url.startswith(_VCS):
        path = url.split("://", 1)[-1].split("#", 1)[0]
        return url.startswith(("git+", "hg+")) and "@" in path and _is_commit(path.rsplit("@", 1)[1])
    if "#sha256=" in url or "#sha384=" in url or "#sha512=" in url:
        return True
    return url.startswith(("file:", ".", "/"))


# The platforms a training job may run on: a marker false on every one never applies, so the line pins nothing.
# (`extra` is empty: `pip install -r` installs no extra of a requirements file's lines.)
_PLATFORMS = {"linux": ("Linux", "posix"), "darwin": ("Darwin", "posix"), "win32": ("Windows", "nt")}
_MACHINES = ("x86_64", "aarch64", "arm64", "AMD64")
_PYTHONS = [f"3.{minor}" for minor in range(8, 16)]


def never_applies(marker: str) -> bool:
    """Whether an environment marker is false for every platform, machine and Python 3 a job may use."""
    from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

    try:
        parsed = Marker(marker)
    except InvalidMarker:
        return False
    for platform, (system, os_name) in _PLATFORMS.items():
        for machine in _MACHINES:
            for python in _PYTHONS:
                for implementation in ("cpython", "pypy"):
                    env = {"sys_platform": platform, "platform_system": system, "os_name": os_name,
                           "platform_machine": machine, "python_version": python,
                           "python_full_version": f"{python}.0", "implementation_name": implementation,
                           "platform_python_implementation": "CPython" if implementation == "cpython" else "PyPy",
                           "implementation_version": f"{python}.0", "platform_release": "",
                           "platform_version": "", "extra": ""}
                    try:
                        if parsed.evaluate(env):
                            return False
                    except (UndefinedComparison, UndefinedEnvironmentName):
                        return False  # a comparison mlgate cannot decide: it may apply
    return True


def _parse_requirements_lock(lock: LockFile, text: str, name: str, read: Reader | None) -> None:
    deps, problems, options = parse_requirement_text(text, section=name, name=name, read=read)
    lock.problems += problems
    lock.options = options
    for dep in deps:
        own = dep.section == name
        if dep.marker and never_applies(dep.marker):
            lock.problems.append(Problem(dep.line, f"`{dep.raw}` never applies: its marker is false on Linux, macOS "
                                                   "and Windows (x86_64, aarch64) with Python 3.8 to 3.15, so pip "
                                                   "skips it and it pins nothing",
                                         None if own else dep.section))
            continue
        if dep.url is not None:
            exact = _url_pinned(dep.url)
            version = dep.url
            if not exact:
                lock.problems.append(Problem(dep.line, f"`{dep.raw}` is a direct reference that can change; pin a "
                                                       "VCS url to a full commit sha or add #sha256= to an archive",
                                             None if own else dep.section))
        else:
            spec = dep.specifiers[0] if dep.specifiers else SpecifierSet()
            exact = is_exact(spec)
            version = next(iter(spec)).version if exact else str(spec)
            if not exact:
                what = f"the range `{spec}`" if str(spec) else "no version at all"
                lock.problems.append(Problem(dep.line, f"`{dep.raw}` is not pinned: it has {what}, so each "
                                                       "install may resolve another version",
                                             None if own else dep.section))
        lock.add(Locked(dep.name, version, exact, dep.line, hashed=dep.hashed))


# -- manifest parsers ---------------------------------------------------------------------------------------------

def manifest_kind(filename: str) -> str | None:
    name = PurePosixPath(filename).name
    lower = name.lower()
    if name == "pyproject.toml":
        return "pyproject"
    if name == "Pipfile":
        return "pipfile"
    if name == "pixi.toml":
        return "pixi-toml"
    if lower.endswith((".yml", ".yaml")):
        return "environment-yml"
    if lower.endswith((".in", ".txt")):
        return "requirements-in"
    return None


def parse_manifest(kind: str, text: str, *, name: str = "", read: Reader | None = None) -> DependencyManifest:
    if kind == "pyproject":
        return _parse_pyproject(text)
    if kind == "pipfile":
        return _parse_pipfile(text)
    if kind == "pixi-toml":
        manifest = DependencyManifest(kind)
        _pixi_tables(manifest, _load_toml(text), text, "")
        return manifest
    if kind == "environment-yml":
        return _parse_environment(text)
    if kind == "requirements-in":
        deps, problems, _ = parse_requirement_text(text, section=name, name=name, read=read)
        if problems:
            raise LockfileError(problems[0].message, problems[0].line)
        return DependencyManifest(kind, deps)
    raise LockfileError(f"is not a manifest mlgate reads ({kind})")


def _pep508(manifest: DependencyManifest, text: str, raw: Any, group: str | None, section: str, start: int) -> None:
    if isinstance(raw, dict):  # PEP 735 {include-group = "..."}: resolved by the caller
        return
    value = _str(raw)
    try:
        req = Requirement(value)
    except InvalidRequirement as exc:
        raise LockfileError(f"{section}: `{value}` is not a valid requirement: {exc}",
                            _line_of(text, value, start=start)) from None
    name = canonicalize_name(req.name)
    if name == manifest.project:  # `project[extra]`: a self-reference, not a dependency
        return
    manifest.deps.append(Dependency(name, value, None if req.url else (req.specifier,), group, section,
                                    _line_of(text, f'"{value}"', f"'{value}'", start=start),
                                    str(req.marker) if req.marker else None, url=req.url))


def _parse_pyproject(text: str) -> DependencyManifest:
    data = _load_toml(text)
    manifest = DependencyManifest("pyproject")
    project = _table(data, "project")
    if project.get("name"):
        manifest.project = canonicalize_name(_str(project["name"]))
    if "dependencies" in project:
        start = _table_line(text, "[project]")
        for raw in _list(project.get("dependencies")):
            _pep508(manifest, text, raw, None, "[project.dependencies]", start)
    for extra, reqs in _table(project, "optional-dependencies").items():
        manifest.groups.add(extra)
        start = _table_line(text, "[project.optional-dependencies]")
        for raw in _list(reqs):
            _pep508(manifest, text, raw, extra, f"[project.optional-dependencies] {extra}", start)
    groups = _table(data, "dependency-groups")
    for group in groups:
        manifest.groups.add(group)
        start = _table_line(text, "[dependency-groups]")
        for raw in _expand_group(groups, group, set()):
            _pep508(manifest, text, raw, group, f"[dependency-groups] {group}", start)
    uv_dev = _table(data, "tool", "uv").get("dev-dependencies")
    if isinstance(uv_dev, list):
        manifest.groups.add("dev")
        for raw in uv_dev:
            _pep508(manifest, text, raw, "dev", "[tool.uv] dev-dependencies", _table_line(text, "[tool.uv]"))
    for group, reqs in _table(data, "tool", "pdm", "dev-dependencies").items():
        manifest.groups.add(group)
        for raw in _list(reqs):
            if isinstance(raw, str) and raw.startswith("-e "):
                continue  # an editable local path: the project or a sibling in the repository
            _pep508(manifest, text, raw, group, f"[tool.pdm.dev-dependencies] {group}",
                    _table_line(text, "[tool.pdm.dev-dependencies]"))
    poetry = _table(data, "tool", "poetry")
    if poetry.get("name") and manifest.project is None:
        manifest.project = canonicalize_name(_str(poetry["name"]))
    _poetry_table(manifest, text, _table(poetry, "dependencies"), None, "[tool.poetry.dependencies]")
    if "dev-dependencies" in poetry:
        manifest.groups.add("dev")
        _poetry_table(manifest, text, _table(poetry, "dev-dependencies"), "dev", "[tool.poetry.dev-dependencies]")
    for group, body in _table(poetry, "group").items():
        manifest.groups.add(group)
        _poetry_table(manifest, text, _table(body, "dependencies"), group,
                      f"[tool.poetry.group.{group}.dependencies]")
    for extra in _table(poetry, "extras"):
        manifest.groups.add(extra)
    pixi = _table(data, "tool", "pixi")
    if pixi:
        _pixi_tables(manifest, pixi, text, "tool.pixi.")
    return manifest


def _expand_group(groups: dict[str, Any], group: str, seen: set[str]) -> list[Any]:
    """A PEP 735 group's requirements, with `{include-group = "other"}` entries expanded."""
    if group in seen:
        return []
    seen.add(group)
    out: list[Any] = []
    for item in _list(groups.get(group)):
        if isinstance(item, dict) and isinstance(item.get("include-group"), str):
            out += _expand_group(groups, item["include-group"], seen)
        else:
            out.append(item)
    return out


# Poetry's own constraint syntax (^1.2, ~1.2, 1.2.*, >=1,<2 || >=3) in terms of PEP 440 specifier sets.

def _bump(release: tuple[int, ...], index: int) -> str:
    parts = [*release[:index], release[index] + 1]
    return ".".join(str(p) for p in parts)


def _poetry_clause(clause: str) -> str:
    clause = clause.strip().replace(" ", "")
    if clause in ("", "*"):
        return ""
    if clause.startswith("^"):
        release = Version(clause[1:]).release
        nonzero = next((i for i, part in enumerate(release) if part != 0), len(release) - 1)
        return f">={clause[1:]},<{_bump(release, nonzero)}"
    if clause.startswith("~") and not clause.startswith("~="):
        release = Version(clause[1:]).release
        return f">={clause[1:]},<{_bump(release, 1 if len(release) >= 2 else 0)}"
    if clause[0].isdigit():
        return f"=={clause}"
    return clause


def poetry_constraint(constraint: str) -> tuple[SpecifierSet, ...] | None:
    """Poetry's constraint as PEP 440 specifier sets (any one satisfies), or None when it cannot be read."""
    out = []
    try:
        for alternative in constraint.split("||"):
            tight = re.sub(r"([<>=!~^]+)\s+", r"\1", alternative.strip())  # ">= 1.2" -> ">=1.2"
            clauses = [c for c in re.split(r"[,\s]+", tight) if c]
            out.append(SpecifierSet(",".join(filter(None, (_poetry_clause(c) for c in clauses)))))
    except (InvalidSpecifier, InvalidVersion, IndexError):
        return None
    return tuple(out)


def _poetry_table(manifest: DependencyManifest, text: str, table: dict[str, Any], group: str | None,
                  section: str) -> None:
    start = _table_line(text, section.split(" ")[0])
    for name, value in table.items():
        if name.lower() == "python":
            continue
        canonical = canonicalize_name(name)
        entries = value if isinstance(value, list) else [value]  # a list: one constraint per python/platform
        specs: list[SpecifierSet] = []
        judged = True
        url = None
        marker = None
        raw_parts = []
        for entry in entries:
            if isinstance(entry, dict):
                if any(k in entry for k in ("git", "path", "url")):
                    url = _str(entry.get("git") or entry.get("path") or entry.get("url"))
                    judged = False
                constraint = _str(entry.get("version"))
                marker = _str(entry.get("markers")) or None
            else:
                constraint = _str(entry)
            raw_parts.append(constraint)
            parsed = poetry_constraint(constraint) if constraint else (SpecifierSet(),)
            if parsed is None:
                judged = False
            else:
                specs += parsed
        line = _key_line(text, name, start)
        raw = f"{name} = {' || '.join(filter(None, raw_parts)) or '*'}"
        manifest.deps.append(Dependency(canonical, raw, tuple(specs) if judged and url is None else None, group,
                                        section, line, marker, url=url))


def _pipfile_spec(value: str) -> tuple[SpecifierSet, ...] | None:
    if value.strip() in ("", "*"):
        return (SpecifierSet(),)
    try:
        return (SpecifierSet(value),)
    except InvalidSpecifier:
        return None


def _parse_pipfile(text: str) -> DependencyManifest:
    data = _load_toml(text)
    manifest = DependencyManifest("pipfile")
    for category, table in data.items():
        if category in ("source", "requires", "pipenv", "scripts") or not isinstance(table, dict):
            continue
        group = None if category == "packages" else "dev" if category == "dev-packages" else category
        if group:
            manifest.groups.add(group)
        start = _table_line(text, f"[{category}]")
        for name, value in table.items():
            url = None
            marker = None
            if isinstance(value, dict):
                url = _str(value.get("git") or value.get("path") or value.get("file")) or None
                version = _str(value.get("version", "*"))
                marker = _str(value.get("markers")) or None
            else:
                version = _str(value)
            manifest.deps.append(Dependency(canonicalize_name(name), f"{name} = {version or '*'}",
                                            None if url else _pipfile_spec(version), group, f"[{category}]",
                                            _key_line(text, name, start), marker, url=url))
    return manifest


def _conda_name(spec: str) -> str:
    """The package name of a conda match spec: `conda-forge::numpy>=1.26`, `python=3.11`, `numpy[version=..]`."""
    spec = spec.split("::", 1)[-1].strip()
    end = len(spec)
    for stop in " =<>!~[":
        index = spec.find(stop)
        if index >= 0:
            end = min(end, index)
    return spec[:end]


def _parse_environment(text: str) -> DependencyManifest:
    doc = _load_yaml(text)
    data = doc.data
    if not isinstance(data, dict):
        raise LockfileError("is not a conda environment file: expected a mapping with `dependencies`")
    manifest = DependencyManifest("environment-yml")
    for i, item in enumerate(_list(data.get("dependencies"))):
        if isinstance(item, str):
            name = _conda_name(item)
            if name:
                manifest.deps.append(Dependency(conda_key(name), item, None, None, "dependencies",
                                                doc.pos(("dependencies", i)).line, conda=True))
        elif isinstance(item, dict) and isinstance(item.get("pip"), list):
            for j, raw in enumerate(item["pip"]):
                value = _str(raw)
                if value.startswith("-"):
                    continue  # -r / -e / --index-url lines of an embedded pip section
                try:
                    req = Requirement(value)
                except InvalidRequirement as exc:
                    raise LockfileError(f"dependencies: pip: `{value}` is not a valid requirement: {exc}",
                                        doc.pos(("dependencies", i, "pip", j)).line) from None
                manifest.deps.append(Dependency(canonicalize_name(req.name), value,
                                                None if req.url else (req.specifier,), None, "dependencies: pip",
                                                doc.pos(("dependencies", i, "pip", j)).line,
                                                str(req.marker) if req.marker else None, url=req.url))
    return manifest


def _pixi_tables(manifest: DependencyManifest, data: dict[str, Any], text: str, prefix: str) -> None:
    def add(table: dict[str, Any], group: str | None, section: str, conda: bool) -> None:
        start = _table_line(text, f"[{section}]")
        for name, value in table.items():
            version = _str(value.get("version", "*")) if isinstance(value, dict) else _str(value)
            url = _str(value.get("git") or value.get("path") or value.get("url")) if isinstance(value, dict) \
                else ""
            specs = None if conda or url else _pipfile_spec(version)
            key = conda_key(name) if conda else canonicalize_name(name)
            manifest.deps.append(Dependency(key, f"{name} = {version or '*'}", specs, group, f"[{section}]",
                                            _key_line(text, name, start), conda=conda, url=url or None))

    add(_table(data, "dependencies"), None, f"{prefix}dependencies", True)
    add(_table(data, "pypi-dependencies"), None, f"{prefix}pypi-dependencies", False)
    for feature, body in _table(data, "feature").items():
        manifest.groups.add(feature)
        add(_table(body, "dependencies"), feature, f"{prefix}feature.{feature}.dependencies", True)
        add(_table(body, "pypi-dependencies"), feature, f"{prefix}feature.{feature}.pypi-dependencies", False)


# -- comparing a manifest with its lock ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LockGap:
    """A direct dependency the lock does not pin as the manifest asks."""

    dep: Dependency
    kind: str  # missing | not-exact | unsatisfied | platform
    locked: tuple[Locked, ...] = ()


def compare(manifest: DependencyManifest, lock: LockFile,
            groups: Iterable[str | None]) -> tuple[list[LockGap], list[Dependency]]:
    """(gaps, dependencies found pinned) for the manifest's dependencies in `groups` (None: the main ones)."""
    wanted = set(groups)
    gaps: list[LockGap] = []
    found: list[Dependency] = []
    for dep in manifest.deps:
        if dep.group not in wanted:
            continue
        locked = tuple(lock.packages.get(dep.name, ()))
        if not locked:
            gaps.append(LockGap(dep, "platform" if dep.marker else "missing"))
            continue
        if lock.kind.key != "requirements" and not any(p.exact for p in locked):
            gaps.append(LockGap(dep, "not-exact", locked))
            continue
        if dep.specifiers is not None and not dep.conda:
            verdicts = [satisfies(p.version, dep.specifiers) for p in locked]
            if verdicts and all(v is False for v in verdicts):
                gaps.append(LockGap(dep, "unsatisfied", locked))
                continue
        found.append(dep)
    return gaps, found


def compiled_from(text: str) -> list[str]:
    """The input files named in a pip-compile (or `uv pip compile`) header, e.g. `#    pip-compile
    --output-file=requirements.txt requirements.in` gives ["requirements.in"]."""
    inputs: list[str] = []
    for line in text.splitlines()[:30]:
        body = line.lstrip("#").strip()
        if not line.startswith("#") or not body.startswith(("pip-compile", "uv pip compile")):
            continue
        words = body.split()[1 if body.startswith("pip-compile") else 3:]
        skip = False
        for word in words:
            if skip:
                skip = False
                continue
            if word.startswith("-"):
                skip = word in ("-o", "--output-file", "-c", "--constraint", "-i", "--index-url",
                                "--extra-index-url", "-f", "--find-links", "-P", "--upgrade-package")
                continue
            if word.endswith((".in", ".txt", ".toml", ".cfg", ".py")):
                inputs.append(word)
    return inputs
