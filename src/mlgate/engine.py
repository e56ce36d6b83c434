"""The engine: run every enabled rule on every deployment, then apply config and waivers.

Nothing flows back up: checks return findings, the engine decides statuses and readiness, renderers only render.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mlgate import __version__
from mlgate.aws import AwsSettings
from mlgate.checks import CheckContext
from mlgate.config import Config
from mlgate.deployment import ResolvedDeployment, resolve
from mlgate.errors import EvidenceError, UsageError
from mlgate.evidence.workspace import Workspace
from mlgate.registry import DOCS_BASE, Registry, implementation
from mlgate.result import (
    SEVERITY_RANK,
    ConfigUsed,
    Deployment,
    Finding,
    Location,
    Report,
    RuleInfo,
    RuleResult,
    Severity,
    WaiverState,
    worst_status,
)
from mlgate.spec.load import LoadedSpec

if TYPE_CHECKING:
    from mlgate.aws.live import Online
    from mlgate.rules import Implementation
    from mlgate.rules.params import RuleParams


@dataclass
class Options:
    """How one `mlgate check` run is asked for: the rules chosen, the fail-on level, the date, `--aws`."""
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    fail_on: Severity | None = None
    today: dt.date = field(default_factory=dt.date.today)
    aws: AwsSettings | None = None  # --aws: also check the live account (mlgate.aws); None: offline


def _matches(rule_id: str, selectors: Iterable[str]) -> bool:
    return any(rule_id == s or rule_id.startswith(s) for s in selectors)


def configured_severity(rule: RuleInfo, config: Config) -> Severity:
    """The severity the config gives a rule: the entry of its ID, else of its longest matching prefix
    (`SEC = "note"` covers SEC001 and SEC002), else the rule's own."""
    matching = [s for s in config.settings.severity if _matches(rule.id, [s])]
    return config.settings.severity[max(matching, key=len)] if matching else rule.severity


def unwaivable(rule_id: str, config: Config) -> bool:
    """Whether the config forbids waiving the rule (by its ID or a prefix: `unwaivable = ["SEC"]`)."""
    return _matches(rule_id, config.settings.unwaivable)


def config_used(registry: Registry, config: Config) -> ConfigUsed:
    """What the config does to the run, for the reports."""
    rules = registry.listed()
    severities = tuple((r.id, r.severity, configured_severity(r, config)) for r in rules
                       if configured_severity(r, config) != r.severity)
    return ConfigUsed(source=config.source,
                      skipped=tuple(r.id for r in rules if _matches(r.id, config.settings.skip)),
                      severities=severities,
                      unwaivable=tuple(r.id for r in rules if unwaivable(r.id, config)),
                      skipped_specs=tuple(config.settings.skip_specs))


def _validate_selectors(selectors: Iterable[str], registry: Registry, what: str, source: str | None) -> None:
    for sel in selectors:
        if not sel or not any(r.startswith(sel) for r in registry.rules):  # "" would select every rule
            raise UsageError(f"{what}: no rule matches '{sel}'", path=source,
                             hint="`mlgate rules` lists the rule IDs")


def enabled_rules(registry: Registry, config: Config, options: Options) -> list[RuleInfo]:
    settings = config.settings
    _validate_selectors(options.select, registry, "--select", None)
    _validate_selectors(options.ignore, registry, "--ignore", None)
    _validate_selectors(settings.skip, registry, "skip", config.source)
    for group, what in ((settings.severity, "severity"), (settings.params, "params")):
        _validate_selectors(group, registry, what, config.source)
    _validate_selectors(settings.unwaivable, registry, "unwaivable", config.source)
    for rule_id in settings.params:
        if rule_id not in registry.rules:  # parameters belong to one rule: a prefix would give the same values to
            # different rules
            raise UsageError(f"params.{rule_id}: parameters are set for one rule ID, not a prefix",
                             path=config.source, hint="`mlgate explain RULE` lists a rule's parameters")
    rules = []
    for listed in registry.listed():  # chosen by ID: only the rules that run are described (their modules imported)
        if options.select and not _matches(listed.id, options.select):
            continue
        if _matches(listed.id, options.ignore) or _matches(listed.id, settings.skip):
            continue
        rule = registry.rules[listed.id]
        rules.append(replace(rule, docs_linked=docs_linked(rule.docs, config)))
    return rules


def docs_linked(url: str, config: Config) -> bool:
    """Whether a rule's docs URL may be a link: mlgate's own docs, or an https URL on a host the config lists. A
    team rule file comes with the pull request, and a link in the PR comment is one click from a phishing page."""
    if url.startswith(DOCS_BASE + "#") or url == DOCS_BASE:
        return True
    parts = urlsplit(url)
    return parts.scheme == "https" and not parts.username and parts.hostname in config.settings.link_hosts


def rule_params(rule: RuleInfo, config: Config, found: Implementation | None = None) -> RuleParams:
    """The rule's parameters, typed and checked (the one validator): its defaults with the team's overrides.
    `found` is the rule's implementation when the caller has it already."""
    from mlgate.rules.params import from_defaults, validate

    found = found or _loaded(rule)
    model = (found.params if found else None) or from_defaults(rule.id, rule.params)
    return validate(rule.id, model, config.rule_params(rule), config.source)


def _loaded(rule: RuleInfo) -> Implementation | None:
    """The rule's implementation, or None when it does not load (reported on its rule when it runs)."""
    try:
        return implementation(rule)
    except Exception:
        return None


def run(specs: list[LoadedSpec], registry: Registry, config: Config, options: Options,
        workspaces: dict[Path, Workspace] | None = None) -> Report:
    """Every enabled rule on every spec. `workspaces` holds the repositories already opened (by `load_specs`),
    so that git is started and the index listed once per run."""
    rules = enabled_rules(registry, config, options)
    found = {rule.id: _loaded(rule) for rule in rules}
    params = {rule.id: rule_params(rule, config, found[rule.id]) for rule in rules}  # every problem before any runs
    fail_on: Severity = options.fail_on or config.settings.fail_on or "error"
    workspaces = {} if workspaces is None else workspaces
    online = _connect(options.aws) if options.aws else None
    deployments = []
    for loaded in specs:
        _validate_waivers(loaded, registry)
        workspace = workspaces.setdefault(loaded.root, Workspace(loaded.root))
        resolved = resolve(loaded, workspace)
        results = [_run_rule(rule, found[rule.id], params[rule.id], loaded, workspace, config, options.today,
                             online, resolved) for rule in rules]
        waivers = _apply_waivers(loaded, results, config, options.today)
        for result in results:
            result.blocking = _blocks(result, fail_on)
        pos = loaded.pos(("model",)) if loaded.doc.exists(("model",)) else loaded.pos(())
        deployments.append(Deployment(
            spec=loaded.rel,
            model=loaded.spec.model.name if loaded.spec.model else None,
            results=results,
            waivers=waivers,
            spec_location=Location(loaded.rel, pos.line),
            provenance=_provenance(loaded, workspace),
            cost=_cost(resolved, registry, config),
            facts=[f.to_json() for f in resolved.facts.values()],
            verified=resolved.counts(),
            unresolved=resolved.problem,
            evaluation=_evaluation(loaded, workspace, registry, config, options.today),
            rollout=_rollout_plan(loaded),
        ))
    return Report(deployments, fail_on, __version__, rules, config_used(registry, config))


def _connect(settings: AwsSettings) -> Online:
    """The online checker for one run (clients are created on first use, so nothing is sent yet)."""
    from mlgate.aws.live import Online

    return Online(settings)


def _run_rule(rule: RuleInfo, found: Implementation | None, params: RuleParams, loaded: LoadedSpec,
              workspace: Workspace, config: Config, today: dt.date, online: Online | None = None,
              resolved: ResolvedDeployment | None = None) -> RuleResult:
    ctx = CheckContext(loaded, workspace, rule, params, today, resolved)
    spec_loc = ctx.at(())
    online_check = None
    try:
        found = found or implementation(rule)  # one that did not load raises its error here, reported on the rule
        online_check = found.online
        findings = list(found.check(ctx))
    except EvidenceError as exc:
        location = Location(exc.path, exc.line or 1) if exc.path else spec_loc
        findings = [Finding("error", f"could not read the evidence: {exc.message}", location)]
    except Exception as exc:  # one broken check must not stop the run; it is reported on its rule
        findings = [Finding("error", f"the check failed to run: {type(exc).__name__}: {exc}", spec_loc)]
    if not findings:
        findings = [Finding("pass", "no problem found", spec_loc)]
    if online is not None and online_check is not None:  # the rule's online check, after its offline check
        from mlgate.aws.online import findings as online_findings

        findings += online_findings(ctx, online, online_check)
    severity = configured_severity(rule, config)
    return RuleResult(rule, worst_status(f.status for f in findings), severity, findings)


def _blocks(result: RuleResult, fail_on: Severity) -> bool:
    """A result blocks the deployment when its level reaches --fail-on: a fail or error counts at the rule's
    severity, a warn at no more than warning."""
    if result.status in ("fail", "error"):
        level = SEVERITY_RANK[result.severity]
    elif result.status == "warn":
        level = min(SEVERITY_RANK[result.severity], SEVERITY_RANK["warning"])
    else:
        return False
    return level >= SEVERITY_RANK[fail_on]


def _validate_waivers(loaded: LoadedSpec, registry: Registry) -> None:
    for i, waiver in enumerate(loaded.spec.waivers):
        if waiver.rule is None:
            continue
        if waiver.rule.upper() not in registry.rules:
            pos = loaded.pos(("waivers", i, "rule"))
            hint = "a waiver names exactly one rule ID" if any(c in waiver.rule for c in "*?[,") \
                else "`mlgate rules` lists the rule IDs"
            raise UsageError(f"waivers[{i}].rule: '{waiver.rule}' is not a rule", path=loaded.rel,
                             line=pos.line, column=pos.column, hint=hint)


def _apply_waivers(loaded: LoadedSpec, results: list[RuleResult], config: Config,
                   today: dt.date) -> list[WaiverState]:
    by_rule = {r.rule.id: r for r in results}
    states = []
    for i, waiver in enumerate(loaded.spec.waivers):
        pos = loaded.pos(("waivers", i))
        location = Location(loaded.rel, pos.line)
        missing = [k for k in ("rule", "reason", "approved_by", "expires") if not getattr(waiver, k)]
        rule_id = waiver.rule.upper() if waiver.rule else None
        result = by_rule.get(rule_id) if rule_id else None
        if missing:
            state, note = "incomplete", f"does not waive: missing {', '.join(missing)}"
        elif rule_id and unwaivable(rule_id, config):
            state, note = "forbidden", f"does not waive: {config.source or 'the config'} marks {rule_id} unwaivable"
        elif waiver.expires and waiver.expires < today:
            state, note = "expired", f"does not waive: expired on {waiver.expires.isoformat()}"
        elif waiver.expires and (waiver.expires - today).days > config.settings.max_waiver_days:
            state, note = "forbidden", (f"does not waive: expires on {waiver.expires.isoformat()}, more than "
                                        f"{config.settings.max_waiver_days} days away (max_waiver_days of "
                                        f"{config.source or 'the default config'}); a waiver is a short exception")
        elif config.settings.approvers and waiver.approved_by not in config.settings.approvers:
            state, note = "forbidden", (f"does not waive: approved_by '{waiver.approved_by}' is not one of the "
                                        f"approvers {config.source} lists ({', '.join(config.settings.approvers)})")
        elif result is None:
            state, note = "unused", "matches no rule in this run (the rule is skipped or not selected)"
        elif result.status not in ("fail", "warn"):
            state, note = "unused", f"matches nothing: {rule_id} is {result.status}; remove the waiver"
        else:
            state, note = "active", f"waives {rule_id} ({result.status}) until {waiver.expires}"
        ws = WaiverState(waiver.rule, waiver.reason, waiver.approved_by, waiver.expires, state,  # type: ignore[arg-type]
                         note, location)
        if state == "active" and result is not None:
            result.status = "waived"
            result.waiver = ws
        states.append(ws)
    return states


def _cost(resolved: ResolvedDeployment, registry: Registry, config: Config) -> dict[str, Any] | None:
    """The serving cost estimate the reports show (of what will be deployed), priced with SRV001's parameters."""
    spec = resolved.spec
    serving = spec.serving
    if serving is None or serving.traffic is None:
        return None
    from mlgate.cost import PriceError, monthly_costs, usd

    pricing_rule = registry.get("SRV001")
    params = rule_params(pricing_rule, config).model_dump() if pricing_rule else {}
    try:
        view = monthly_costs(spec, params, resolved)
    except PriceError as exc:
        return {"error": str(exc)}

    def estimate(e: Any) -> dict[str, Any] | None:
        if e is None:
            return None
        return {"pattern": e.pattern, "shape": e.shape, "monthly_usd": e.monthly_usd,
                "monthly": f"{usd(e.monthly_usd)}/month" if e.monthly_usd is not None else None,
                "basis": e.basis, "misfit": e.misfit, "unpriced": e.unpriced}

    return {"declared": estimate(view.declared), "cheapest": estimate(view.cheapest),
            "ratio": round(view.ratio, 2) if view.ratio is not None and view.ratio != float("inf") else None,
            "assumptions": list(view.assumptions), "missing": list(view.missing)}


def _evaluation(loaded: LoadedSpec, workspace: Workspace, registry: Registry, config: Config,
                today: dt.date) -> dict[str, Any] | None:
    """Candidate against production per metric and slice (the reports' evaluation block), judged with EVL002's and
    EVL003's parameters; None for a spec without an evaluation section."""
    if loaded.spec.evaluation is None:
        return None
    from mlgate.rules.evaluation._reports import table

    rule, slices_rule = registry.get("EVL002"), registry.get("EVL003")
    if rule is None:
        return None
    ctx = CheckContext(loaded, workspace, rule, rule_params(rule, config), today)
    try:
        return table(ctx, rule_params(slices_rule, config).get("default_tolerance") if slices_rule else None)
    except EvidenceError as exc:
        return {"candidate": None, "production": None, "dataset": None, "rows": [],
                "note": f"the evaluation reports cannot be read: {exc}"}


def _rollout_plan(loaded: LoadedSpec) -> dict[str, Any] | None:
    """The rollout as the spec plans it, in numbers only (the Markdown report draws it; RLO rules judge it)."""
    from mlgate.units import parse_duration

    rollout = loaded.spec.rollout
    if rollout is None:
        return None
    shadow, canary = rollout.shadow, rollout.canary
    return {"shadow": {"percent": shadow.sampling_percent, "seconds": parse_duration(shadow.duration)}
            if shadow else None,
            "steps": list(canary.steps) if canary else [],
            "bake_seconds": parse_duration(canary.bake_time) if canary else None,
            "previous_warm": bool(rollout.previous and rollout.previous.keep_warm)}


def _provenance(loaded: LoadedSpec, workspace: Workspace) -> dict[str, Any]:
    """What data and code produced this model, as the spec states it (the REP rules judge whether it is true)."""
    spec = loaded.spec
    prov = spec.provenance
    out: dict[str, Any] = {"model": spec.model.name if spec.model else None,
                           "model_version": spec.model.version if spec.model else None}
    if prov is None:
        return out
    out["data"] = [{"name": d.name, "uri": d.uri,
                    "pin": next((f"{k}: {v}" for k in ("version", "as_of", "snapshot_id", "sha256", "dvc")
                                 if (v := getattr(d, k))), None)} for d in prov.data]
    if prov.code:
        out["commit"] = prov.code.commit
        out["code_paths"] = list(prov.code.paths)
    if prov.seed:
        out["seed"] = prov.seed.value
    if prov.dependencies and prov.dependencies.lockfile:
        out["lockfile"] = prov.dependencies.lockfile
        try:
            path = workspace.resolve(loaded.base, prov.dependencies.lockfile)
            out["lockfile_sha256"] = hashlib.sha256(workspace.read_text(path).encode()).hexdigest()
        except EvidenceError:
            out["lockfile_sha256"] = None
    if prov.artifact:
        out["artifact"] = prov.artifact.uri
        out["artifact_sha256"] = prov.artifact.sha256
        out["manifest"] = prov.artifact.manifest
        out["model_package_arn"] = prov.artifact.model_package_arn
    return out
