"""Every rule's case file (`src/mlgate/rules/<section>/<ID>.cases.yaml`), run through one harness: the case's
repository is built for real (a git repository: the bundled examples/ready with its provenance manifest, or an empty
one), the spec changed, files written and committed, the team's parameters set; then the rule runs on it and its
status and a finding's message must be what the case says."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgate.rules.cases import Case, RuleCases, load_cases
from tests.conftest import Repo

RULES = Path(__file__).resolve().parents[1] / "src" / "mlgate" / "rules"
CASE_FILES = sorted(RULES.glob("*/*.cases.yaml"))


def _all_cases() -> list[Any]:
    params = []
    for file in CASE_FILES:
        rule = file.name.removesuffix(".cases.yaml")
        cases = load_cases(rule, file.parent.name)
        assert cases is not None
        params += [pytest.param(cases, case, id=f"{rule}: {case.name}") for case in cases.cases]
    return params


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    keys: list[Any] = [int(k) if k.isdigit() else k for k in dotted.split(".")]
    node: Any = data
    for key in keys[:-1]:
        node = node.setdefault(key, {}) if isinstance(node, dict) else node[key]
    if value is None:
        if isinstance(node, dict):
            node.pop(keys[-1], None)
        else:
            del node[keys[-1]]
    elif isinstance(node, list) and keys[-1] == len(node):
        node.append(value)
    else:
        node[keys[-1]] = value


def _write(repo: Repo, files: dict[str, str | None]) -> None:
    for rel, text in files.items():
        if text is None:
            (repo.root / rel).unlink()
        else:
            repo.write(rel, text)


def build(cases: RuleCases, case: Case, root: Path, template: Path) -> Repo:
    if cases.base == "ready":
        shutil.copytree(template, root, symlinks=True)
        repo = Repo.__new__(Repo)
        repo.root = root
    else:
        repo = Repo(root)
    spec_file = root / "mlgate.yaml"
    if case.spec:
        data = yaml.safe_load(spec_file.read_text(encoding="utf-8")) if spec_file.exists() else {}
        for dotted, value in case.spec.items():
            _set(data, dotted, value)
        spec_file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    _write(repo, case.files)
    if case.params:
        toml = "".join(f"{name} = {_toml(value)}\n" for name, value in case.params.items())
        repo.write(".mlgate.toml", f"[params.{cases.rule}]\n{toml}")
    repo.commit(case.name)
    for step in case.later:
        _write(repo, step)
        repo.commit(f"{case.name}: later")
    return repo


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


@pytest.mark.parametrize(("cases", "case"), _all_cases())
def test_rule_case(cases: RuleCases, case: Case, tmp_path: Path, ready_template: Path) -> None:
    repo = build(cases, case, tmp_path / "repo", ready_template)
    result = repo.rule(cases.rule)
    said = "\n".join(f"{f.status}: {f.message}" for f in result.findings)
    assert result.status == case.expect, said
    wanted = {"pass": ("pass",), "n/a": ("n/a",)}.get(case.expect, (case.expect,))
    assert any(f.status in wanted and re.search(case.message, f.message) for f in result.findings), \
        f"no {case.expect} finding matches {case.message!r}:\n{said}"

