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
