"""The rule files themselves: each loads, names a check that exists, and docs/rules.md is up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.registry import SECTIONS, implementation, load_registry
from mlgate.report.catalogue import render_catalogue

ROOT = Path(__file__).resolve().parents[1]
RULE_FILES = sorted(p for p in (ROOT / "src" / "mlgate" / "rules").glob("*/*.yaml") if ".cases." not in p.name)


def test_every_rule_file_is_in_the_installed_catalogue() -> None:
    registry = load_registry(None)
    assert {p.stem for p in RULE_FILES} <= set(registry.rules)


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.stem)
def test_rule_file(path: Path) -> None:
    rule = load_registry(None).rules[path.stem]
    assert rule.id == path.stem
    assert rule.section in SECTIONS
    assert path.parent.name == rule.section, "a rule lives in its section's folder"
    assert callable(implementation(rule).check)
    assert len(rule.rationale) > 60, "the rationale tells a release manager why it matters"
    assert len(rule.remediation) > 30
    assert rule.docs.endswith(f"#{rule.id.lower()}")


def test_docs_rules_md_is_generated_from_the_rule_files() -> None:
    expected = render_catalogue(load_registry(None).ordered(), "markdown")
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == expected, \
        "regenerate with: mlgate rules --format markdown > docs/rules.md"


def test_every_builtin_rule_is_one_folder_entry_with_typed_params_and_cases() -> None:
    from mlgate.rules import builtin_rules, load
    from mlgate.rules.cases import load_cases
    from mlgate.rules.params import RuleParams

    shipped = builtin_rules()
    assert len(shipped) == len(RULE_FILES)
    for rule in shipped:
        rule_id = rule.name.removesuffix(".yaml")
        assert rule.module is not None and rule.module.startswith(f"mlgate.rules.{rule.section}.{rule_id.lower()}_")
        found = load(rule.module)
        assert found.params is not None and issubclass(found.params, RuleParams)
        for field in found.params.model_fields.values():
            assert field.description, f"{rule_id}: every parameter says what it means"
        cases = load_cases(rule_id, rule.section)
        assert cases is not None, f"{rule_id} has no {rule.section}/{rule_id}.cases.yaml"
        assert cases.example(passing=True) is not None and cases.example(passing=False) is not None


def test_the_online_checks_are_the_rule_modules_own() -> None:
    """--aws runs a rule module's `online`: the rules with one are the ones docs/aws.md lists."""
    from mlgate.rules import builtin_rules, load

    online = {r.name.removesuffix(".yaml") for r in builtin_rules() if r.module and load(r.module).online}
    assert online == {"REP001", "REP005", "EVL002", "SEC001", "RLO001", "RLO002", "RLO003", "RLO004", "MON001",
                      "MON002", "MON003", "MON004"}
