"""SEC001's knowledge beyond the IAM database, read from `data/knowledge.yaml`: what an inference endpoint
needs, privilege-escalation actions and combinations, credential-returning and data-exfiltration actions, and the
condition keys that narrow a statement to particular resources. Every list there names its source."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

from mlgate.iam.match import glob_matches
from mlgate.yamlload import parse_yaml

# The spec facts an endpoint need can depend on (see EndpointFacts in mlgate.iam.suggest).
FACTS = ("vpc", "capture", "async", "alarms")


@dataclass(frozen=True)
class Need:
    """An IAM action an inference endpoint's execution role needs, and when."""
    action: str
    why: str
    star: bool  # may stay on Resource "*"
    when: tuple[str, ...]  # any of these facts makes the endpoint need it; empty: always


@dataclass(frozen=True)
class Escalation:
    """An IAM action that lets its holder gain more privilege, and how."""
    action: str
    how: str
    severity: Literal["critical", "high"]


@dataclass(frozen=True)
class Combination:
    """IAM actions that escalate privilege only when granted together."""
    name: str
    actions: tuple[str, ...]
    passed_to: str | None


@dataclass(frozen=True)
class Knowledge:
    """SEC001's knowledge beyond the IAM database (`data/knowledge.yaml`)."""
    needs: dict[str, Need]  # keyed by lowercase action
    escalation: dict[str, Escalation]
    combinations: tuple[Combination, ...]
    credentials: frozenset[str]
    exfiltration: frozenset[str]
    narrowing: tuple[str, ...]  # lowercase condition-key globs

    def narrows(self, key: str) -> bool:
        return any(glob_matches(pattern, key.lower()) for pattern in self.narrowing)


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


@lru_cache(maxsize=1)
def knowledge() -> Knowledge:
    text = (resources.files("mlgate.iam") / "data" / "knowledge.yaml").read_text(encoding="utf-8")
    data = parse_yaml(text).data
    needs = {}
    for item in data["endpoint_needs"]:
        when = _tuple(item.get("when"))
        unknown = set(when) - set(FACTS)
        if unknown:  # pragma: no cover - a mistake in the shipped data file, caught by the tests
            raise ValueError(f"knowledge.yaml: unknown `when` {sorted(unknown)} for {item['action']}")
        needs[item["action"].lower()] = Need(item["action"], item["why"], bool(item.get("star")), when)
    escalation = {}
    for item in data["escalation"]["single"]:
        severity = item.get("severity", "critical")
        if severity not in ("critical", "high"):  # pragma: no cover - a mistake in the shipped data file
            raise ValueError(f"knowledge.yaml: severity {severity!r} for {item['action']}")
        escalation[item["action"].lower()] = Escalation(item["action"], item["how"], severity)
    combinations = tuple(Combination(item["name"], tuple(item["actions"]), item.get("passed_to"))
                         for item in data["escalation"]["combinations"])
    return Knowledge(
        needs=needs, escalation=escalation, combinations=combinations,
        credentials=frozenset(a.lower() for a in data["credentials"]),
        exfiltration=frozenset(a.lower() for a in data["exfiltration"]),
        narrowing=tuple(k.lower() for k in data["narrowing_conditions"]),
    )
