"""The rule catalogue as data: built-in `rules/*.yaml`, a team's `.mlgate/rules/*.yaml`, and plugin checks
registered through the entry-point group `mlgate.checks`."""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlgate.errors import UsageError
from mlgate.result import RuleInfo
from mlgate.yamlload import YamlError, load_yaml_file, parse_yaml

if TYPE_CHECKING:
    from mlgate.rules import Implementation

ENTRY_POINT_GROUP = "mlgate.checks"
DOCS_BASE = "https://github.com/mlgate/mlgate/blob/main/docs/rules.md"
SECTIONS = ("reproducibility", "evaluation", "serving", "rollout", "monitoring", "operations", "security",
            "infrastructure")
_RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*[0-9]{3}$")


class RuleFile(BaseModel):
    """One rule, as written in `mlgate/rules/<section>/<ID>.yaml` (or a team's `.mlgate/rules/<ID>.yaml`)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    id: str = Field(pattern=_RULE_ID.pattern)
    title: str
    section: str
    severity: Literal["error", "warning", "note"] = "error"
    rationale: str
    remediation: str
    evidence: str | None = None  # what evidence satisfies the rule (explain and docs/rules.md show it)
    params: dict[str, Any] = Field(default_factory=dict)
    check: str
    docs: str | None = None


class Rules(MutableMapping[str, RuleInfo]):
    """Rule ID -> rule. A built-in rule is described by its module's `Params` (the parameters' defaults, meaning
    and bounds), and its module imports what its check needs: the module is imported when the rule is first looked
    up (`rules[id]`, `values()`), not when the catalogue is read, so `--select SEC001` imports one rule module, not
    28. Membership, iteration over IDs and `listed()` import nothing."""

    def __init__(self) -> None:
        self._rules: dict[str, RuleInfo] = {}
        self._undescribed: set[str] = set()

    def add_undescribed(self, info: RuleInfo) -> None:
        """A built-in rule as its file says, described by its module on first lookup."""
        self._rules[info.id] = info
        self._undescribed.add(info.id)

    def listed(self) -> list[RuleInfo]:
        """Every rule as its file says (ID, title, section, severity), built-in parameters not yet read."""
        return list(self._rules.values())

    def __getitem__(self, rule_id: str) -> RuleInfo:
        info = self._rules[rule_id]
        if rule_id in self._undescribed:
            info = self._rules[rule_id] = _described(info)
            self._undescribed.discard(rule_id)
        return info

    def __setitem__(self, rule_id: str, info: RuleInfo) -> None:
        self._rules[rule_id] = info
        self._undescribed.discard(rule_id)

    def __delitem__(self, rule_id: str) -> None:
        del self._rules[rule_id]
        self._undescribed.discard(rule_id)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __iter__(self) -> Iterator[str]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)


def _order(rule: RuleInfo) -> tuple[int, str]:
    return (SECTIONS.index(rule.section) if rule.section in SECTIONS else len(SECTIONS)), rule.id


@dataclass
class Registry:
    """Every rule this run knows (built-in, the team's own, plugins'), by ID."""
    rules: Rules = field(default_factory=Rules)

    def ordered(self) -> list[RuleInfo]:
        """Every rule, described, in the catalogue's order (section, then ID)."""
        return sorted(self.rules.values(), key=_order)

    def listed(self) -> list[RuleInfo]:
        """Every rule in the catalogue's order, as its file says: for what needs no parameter (IDs, severities),
        without importing the rule modules."""
        return sorted(self.rules.listed(), key=_order)

    def get(self, rule_id: str) -> RuleInfo | None:
        return self.rules.get(rule_id.upper())


def _to_info(data: Any, origin: str, line_of: Any = None, module: str | None = None,
             model: Any = None) -> RuleInfo:
    """A rule from its file (or a plugin's `mlgate_rule`); `module` is the built-in rule module beside the file,
    `model` a plugin check's `Params`: either holds the parameters' defaults, bounds and meaning."""
    try:
        parsed = RuleFile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise UsageError(f"rule file: {loc}: {err['msg']}", path=origin,
                         line=line_of(err["loc"]) if line_of else None) from None
    docs = parsed.docs or f"{DOCS_BASE}#{parsed.id.lower()}"
    info = RuleInfo(id=parsed.id, title=parsed.title.strip(), section=parsed.section, severity=parsed.severity,
                    rationale=" ".join(parsed.rationale.split()), remediation=" ".join(parsed.remediation.split()),
                    docs=docs, params=dict(parsed.params), check=parsed.check, source=origin,
                    evidence=" ".join(parsed.evidence.split()) if parsed.evidence else None, module=module)
    return _with_params(info, model, origin) if model is not None else info


def _described(info: RuleInfo) -> RuleInfo:
    """A built-in rule with its parameters as its module's `Params` declares them (the module is imported)."""
    from mlgate.rules import load

    assert info.module is not None
    return _with_params(info, load(info.module).params, info.source)


def _with_params(info: RuleInfo, model: Any, origin: str) -> RuleInfo:
    """`info` with the parameters a `Params` model holds: their defaults and their meaning."""
    from mlgate.rules.params import RuleParams
    from mlgate.rules.params import docs as params_docs

    if not (isinstance(model, type) and issubclass(model, RuleParams)):
        raise UsageError(f"rule {info.id}: Params must be a mlgate.rules.params.RuleParams model", path=origin)
    if info.params:
        raise UsageError(f"rule {info.id}: its parameters are declared in its Params model; remove "
                         "`params` from its rule file", path=origin)
    param_docs = params_docs(model)
    return replace(info, params={d.name: d.default for d in param_docs}, param_docs=param_docs)


def load_registry(root: Path | None = None) -> Registry:
    from mlgate.rules import builtin_rules

    registry = Registry()
    for shipped in builtin_rules():
        where = f"mlgate/rules/{shipped.section}/{shipped.name}"
        try:
            doc = parse_yaml(shipped.text)
        except YamlError as exc:  # pragma: no cover - the shipped files are tested
            raise UsageError(exc.message, path=where, line=exc.line) from None
        if shipped.module is None:  # pragma: no cover - the shipped files are tested
            raise UsageError("a shipped rule has no module beside it", path=where)
        registry.rules.add_undescribed(_to_info(doc.data, "built-in", module=shipped.module))
    builtin_checks = {r.check: r.id for r in registry.rules.listed()}
    _load_plugins(registry)
    if root is not None:
        for file in sorted((root / ".mlgate" / "rules").glob("*.yaml")):
            rel = file.relative_to(root).as_posix()
            try:
                doc = load_yaml_file(file, root=root)
            except YamlError as exc:
                raise UsageError(exc.message, path=rel, line=exc.line) from None
            info = _to_info(doc.data, rel, lambda loc, d=doc: d.pos(tuple(loc)).line)
            if info.id in registry.rules:
                raise UsageError(f"rule {info.id} is already defined ({registry.rules[info.id].source}); "
                                 "a team rule needs its own ID", path=rel, line=doc.pos(("id",)).line)
            if info.check in builtin_checks:  # reuse a built-in check: its module (online check included), its
                # parameters' meaning, and for the parameters the team rule does not set, the built-in defaults
                base = registry.rules[builtin_checks[info.check]]
                info = replace(info, params={**base.params, **info.params}, param_docs=base.param_docs,
                               module=base.module)
            registry.rules[info.id] = info
    return registry


def _load_plugins(registry: Registry) -> None:
    """Plugins: an entry point in `mlgate.checks` names a check; if the object carries `mlgate_rule` (the
    fields of a rule file), that rule joins the catalogue."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must say which one, not crash the run
            raise UsageError(f"plugin check '{ep.name}' ({ep.value}) failed to load: {exc}") from None
        meta = getattr(obj, "mlgate_rule", None)
        if meta is not None:
            info = _to_info({"check": ep.name, **meta}, f"plugin {ep.value}", model=getattr(obj, "Params", None))
            if info.id in registry.rules:
                raise UsageError(f"plugin {ep.value} defines rule {info.id}, which already exists")
            registry.rules[info.id] = info


def implementation(rule: RuleInfo) -> Implementation:
    """What runs for `rule`: its built-in rule module (a team rule reusing a built-in check has it too), or a
    plugin's entry point of its `check:` name. Imported only when a rule that uses it runs."""
    from mlgate.rules import Implementation, load

    if rule.module is not None:
        return load(rule.module)
    check = resolve_check(rule.check)
    online = getattr(check, "online", None)
    params = getattr(check, "Params", None)
    return Implementation(check, online if callable(online) else None,
                          params if isinstance(params, type) else None)


def resolve_check(name: str) -> Any:
    """The callable behind a plugin rule's `check:`: the entry point of that name in `mlgate.checks` (a built-in
    check is found through its rule module). Imported only when a rule that uses it runs."""
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP, name=name):
        return ep.load()
    raise LookupError(f"no check named '{name}' (not built in, and no plugin registers it in "
                      f"the '{ENTRY_POINT_GROUP}' entry-point group)")
