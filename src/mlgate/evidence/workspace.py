"""A repository as evidence: confined path resolution, cached file reads, and git, shared across specs."""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import BinaryIO

from mlgate.errors import EvidenceError
from mlgate.evidence.git import GitRepo
from mlgate.paths import PathEscape, confine, open_confined, repo_relative, searched_dirs
from mlgate.yamlload import MAX_BYTES, MAX_NODES, Document, YamlError, parse_yaml, read_text

# Lockfiles of real projects run to megabytes (a multi-platform uv.lock or pixi.lock): they get a larger limit.
LARGE_FILE_BYTES = 16 * 1024 * 1024
LARGE_FILE_NODES = 2_000_000
# A script without `.py` is Python when its first line says so: `#!/usr/bin/env python3`, `#!/usr/bin/python3.11 -u`,
# `#!/opt/conda/bin/python`, as custom SageMaker containers write their `train` and `serve` entry points.
_PYTHON_SHEBANG = re.compile(rb"#![ \t]*\S*?(?:/env(?:[ \t]+-\S+)*[ \t]+|/)python[0-9.]*(?:[ \t]|$)")
_SHEBANG_BYTES = 256


class Workspace:
    """One repository's evidence for a run: every spec and rule reads it through here, so each answer (a path
    resolved, a file read or parsed, a git question) is worked out once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._texts: dict[Path, str] = {}
        self._yaml: dict[Path, Document] = {}
        # Resolving a path follows its symlinks one component at a time (an lstat each): a monorepo's specs and
        # rules ask for the same paths thousands of times. Reads still go through open_confined, which checks the
        # file again as it opens it.
        self._resolved: dict[tuple[Path, str], Path | str] = {}
        self._rels: dict[Path, str] = {}

    @cached_property
    def _root_real(self) -> Path:
        return self.root.resolve()

    @cached_property
    def git(self) -> GitRepo:
        return GitRepo(self.root)

    def resolve(self, base: Path, relative: str) -> Path:
        """The absolute path of `relative` (written in a spec in `base`), confined to the repository."""
        key = (base, relative)
        if key not in self._resolved:
            try:
                self._resolved[key] = confine(self.root, base, relative, root_real=self._root_real)
            except PathEscape as exc:
                self._resolved[key] = str(exc)
        found = self._resolved[key]
        if isinstance(found, str):
            raise EvidenceError(found)
        return found

    def rel(self, path: Path) -> str:
        if path not in self._rels:
            self._rels[path] = repo_relative(self.root, path, root_real=self._root_real)
        return self._rels[path]

    def read_text(self, path: Path, *, max_bytes: int = MAX_BYTES) -> str:
        """A text file's content (UTF-8, at most `max_bytes`), read once per run."""
        if path not in self._texts:
            try:
                self._texts[path] = read_text(path, max_bytes=max_bytes, root=self.root)
            except YamlError as exc:
                raise EvidenceError(exc.message, path=self.rel(path)) from None
        return self._texts[path]

    def open_binary(self, path: Path) -> BinaryIO:
        """A file of the repository opened for reading bytes (to hash it), through `open_confined`."""
        try:
            return open_confined(self.root, path)
        except PathEscape as exc:
            raise EvidenceError(str(exc), path=self.rel(path)) from None

    def read_yaml(self, path: Path, *, max_bytes: int = MAX_BYTES, max_nodes: int = MAX_NODES) -> Document:
        """A YAML (or JSON) evidence file with positions, loaded safely and once per run."""
        if path not in self._yaml:
            try:
                self._yaml[path] = parse_yaml(self.read_text(path, max_bytes=max_bytes), max_bytes=max_bytes,
                                              max_nodes=max_nodes)
            except YamlError as exc:
                raise EvidenceError(exc.message, path=self.rel(path), line=exc.line) from None
        return self._yaml[path]

    def python_files(self, target: Path) -> list[Path]:
        """The Python files at `target` (see `is_python`): the file itself, or the files below a directory in
        sorted order, skipping tooling directories (paths.SKIP_DIRS), hidden ones, virtualenvs and links that
        lead out of the repository."""
        if target.is_file():
            candidates = [target]
        else:
            candidates = []
            for folder, dirs, files in os.walk(target):
                here = Path(folder)
                dirs[:] = searched_dirs(here, dirs, hidden=False)
                candidates += [here / f for f in sorted(files)]
        return [p for p in candidates if self._root_real in p.resolve().parents and self.is_python(p)]

    def is_python(self, path: Path) -> bool:
        """A file is Python when its name ends in `.py`, or when it has no extension and its first line is a
        Python shebang (`train` and `serve` in a custom container). Only extensionless files are opened, so a
        directory of data files costs no reads; a file that cannot be read (a FIFO, a link out) is not Python."""
        if path.suffix == ".py":
            return True
        if path.suffix:
            return False
        try:
            with open_confined(self.root, path) as fh:
                head = fh.read(_SHEBANG_BYTES)
        except (OSError, PathEscape):
            return False
        return _PYTHON_SHEBANG.match(head.split(b"\n", 1)[0].rstrip(b"\r")) is not None

