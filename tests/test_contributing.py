"""CONTRIBUTING.md's worked example is true: its three files, installed into a rules folder as a contributor would
add them (and nothing else), make a rule that the catalogue lists and explains, and whose cases pass."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlgate.rules
import mlgate.rules.operations
from mlgate.registry import load_registry
from mlgate.report.catalogue import explain
from mlgate.rules.cases import load_cases
from tests.conftest import Repo
from tests.test_rule_cases import build

GUIDE = Path(__file__).resolve().parents[1] / "CONTRIBUTING.md"
_BLOCK = re.compile(r"^```\w+ file=(\S+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@pytest.fixture
def example_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The guide's files in a rules folder on the rules package's path."""
    files = dict(_BLOCK.findall(GUIDE.read_text(encoding="utf-8")))
    assert len(files) == 3 and all(p.startswith("src/mlgate/rules/operations/") for p in files), files
    folder = tmp_path / "rules" / "operations"
    folder.mkdir(parents=True)
    for path, text in files.items():
        (folder / Path(path).name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(mlgate.rules, "__path__", [*mlgate.rules.__path__, str(tmp_path / "rules")])
    monkeypatch.setattr(mlgate.rules.operations, "__path__", [*mlgate.rules.operations.__path__, str(folder)])
    yield "OPS004"
    sys.modules.pop("mlgate.rules.operations.ops004_runbook_sections", None)


def test_the_example_rule_joins_the_catalogue_with_its_parameters_and_examples(example_rule: str) -> None:
    rule = load_registry(None).rules[example_rule]
    assert rule.check == "operations.runbook_sections" and rule.source == "built-in"
    assert rule.params == {"required_headings": ["Roll back", "Escalation"]}
    text = explain(rule)
    assert 'required_headings = ["Roll back", "Escalation"] -- the headings the runbook must have' in text
    assert "Fails: examples/ready (nobody to escalate to):" in text
    assert "-> fail: runbook docs/runbook.md has no section 'Escalation'" in text


def test_the_example_rules_cases_pass(example_rule: str, tmp_path: Path,
                                      ready_template: Path) -> None:
    cases = load_cases(example_rule, "operations")
    assert cases is not None and len(cases.cases) == 3
    for i, case in enumerate(cases.cases):
        repo: Repo = build(cases, case, tmp_path / f"case{i}", ready_template)
        result = repo.rule(example_rule)
        assert result.status == case.expect, [f.message for f in result.findings]
        assert any(re.search(case.message, f.message) for f in result.findings)
