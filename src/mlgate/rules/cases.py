"""A rule's cases: `<section>/<ID>.cases.yaml` beside the rule, its pass and fail examples as data. One harness
(tests/test_rule_cases.py) builds each case's repository and runs the rule on it; `mlgate explain` and
docs/rules.md show the first passing and the first failing case, so the examples a reader sees are ones the tests
prove.

    base: ready          # ready: the bundled examples/ready, which passes every rule; empty: a new repository
    cases:
      - name: a placeholder pages nobody
        spec: {operations.on_call: TBD}      # dotted path (list indexes as numbers) -> value; null removes
        files: {docs/runbook.md: "..."}      # written before the commit; null deletes the file
        params: {}                           # the team's [tool.mlgate.params.<ID>] overrides
        later: [{files: {...}}]              # commits made after that one, in order
        expect: fail                         # the rule's status
        message: 'a placeholder: nobody is paged'   # a regex some finding of that status matches
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlgate.result import STATUS_ORDER
from mlgate.yamlload import parse_yaml

BASES = ("ready", "empty")


class CaseFileError(ValueError):
    pass


@dataclass(frozen=True)
class Case:
    """One example of a rule's case file: a repository and the status the rule must give it."""
    name: str
    expect: str
    message: str
    spec: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str | None] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    later: tuple[dict[str, str | None], ...] = ()


@dataclass(frozen=True)
class RuleCases:
    """A rule's case file: its pass and fail examples."""
    rule: str
    base: str
    cases: tuple[Case, ...]

    def example(self, passing: bool) -> Case | None:
        """The first case that shows the rule passing (or failing: fail, else warn), for the docs."""
        wanted = ("pass",) if passing else ("fail", "warn")
        for status in wanted:
            found = next((c for c in self.cases if c.expect == status), None)
            if found is not None:
                return found
        return None


def _case(raw: Any, where: str) -> Case:
    if not isinstance(raw, dict):
        raise CaseFileError(f"{where}: a case is a mapping")
    unknown = set(raw) - {"name", "expect", "message", "spec", "files", "params", "later"}
    if unknown:
        raise CaseFileError(f"{where}: unknown keys {sorted(unknown)}")
    if raw.get("expect") not in STATUS_ORDER or not isinstance(raw.get("name"), str) or \
            not isinstance(raw.get("message"), str):
        raise CaseFileError(f"{where}: a case needs name, message (a regex) and expect "
                            f"(one of {', '.join(STATUS_ORDER)})")
    later = raw.get("later") or []
    return Case(raw["name"], raw["expect"], raw["message"], dict(raw.get("spec") or {}),
                dict(raw.get("files") or {}), dict(raw.get("params") or {}),
                tuple(dict(step.get("files") or {}) for step in later))


def _plain(value: Any) -> Any:
    """The loader's values as plain Python ones (a YAML float keeps its text for the spec loader, not here)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, float):
        return float(value)
    return value


def parse_cases(rule: str, text: str) -> RuleCases:
    data = _plain(parse_yaml(text).data)
    if not isinstance(data, dict) or data.get("base", "ready") not in BASES or \
            not isinstance(data.get("cases"), list) or not data["cases"]:
        raise CaseFileError(f"{rule}.cases.yaml: needs base ({' or '.join(BASES)}) and a list of cases")
    cases = tuple(_case(raw, f"{rule}.cases.yaml: cases[{i}]") for i, raw in enumerate(data["cases"]))
    return RuleCases(rule, data.get("base", "ready"), cases)


def load_cases(rule: str, section: str) -> RuleCases | None:
    """The shipped cases of a built-in rule (None: it has no case file)."""
    from mlgate.rules import folders

    for found in folders():
        file = found.joinpath(f"{rule}.cases.yaml")
        if found.name == section and file.is_file():
            return parse_cases(rule, file.read_text(encoding="utf-8"))
    return None
