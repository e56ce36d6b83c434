"""IAM policies as evidence, whatever file they come from (a policy JSON, a CloudFormation role, Terraform).

Readers turn each source into `PolicyDocument`s whose statements keep their file:line; the SEC001 analysis
only ever sees these, so it judges a policy file and an IaC role the same way. Values that an intrinsic function
computes (`!Sub`, `${var}`) become placeholders such as `${Sub:...}`, never `*`, so they cannot look broader or
narrower than they are.

`parse_policy` reads one policy document (the `{"Version": ..., "Statement": [...]}` mapping) out of any loaded
YAML/JSON `Document`, wherever it sits in it, so the policy-file reader and the IaC readers share one parser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from mlgate.errors import EvidenceError
from mlgate.result import Location
from mlgate.yamlload import Document, PathT

PolicyKind = Literal["policy-file", "cloudformation", "terraform", "aws-managed", "aws-account"]


@dataclass(frozen=True)
class PolicyStatement:
    """One IAM policy statement, normalised, with where it is written."""
    effect: Literal["Allow", "Deny"]
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    conditions: dict[str, Any] = field(default_factory=dict)
    sid: str | None = None
    location: Location | None = None


@dataclass(frozen=True)
class PolicyDocument:
    """One policy attached to the execution role: inline, customer-managed or AWS-managed."""

    name: str  # a file path, a logical id / resource address, or a managed policy ARN
    kind: PolicyKind
    statements: tuple[PolicyStatement, ...]
    location: Location | None = None
    # AWS managed policies attached by ARN whose documents are not in the source (resolved from the snapshot)
    managed_arns: tuple[str, ...] = ()


def placeholder(value: Any) -> str:
    """A value computed when the stack is deployed, as text that is neither broader nor narrower than it:
    `{"Fn::Sub": "arn:aws:s3:::${Bucket}/*"}` keeps its template (literal wildcards included), `{"Fn::Join": ...}`
    joins its parts, and `{"Ref": "Bucket"}` becomes `${Ref:Bucket}` (opaque: never a wildcard, never an ARN)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Fn::Sub":
            template = arg[0] if isinstance(arg, list) and arg else arg
            if isinstance(template, str):
                return template
        if key == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) \
                and isinstance(arg[1], list):
            return arg[0].join(placeholder(part) for part in arg[1])
        if key == "Fn::GetAtt" and isinstance(arg, list) and all(isinstance(a, str) for a in arg):
            return "${GetAtt:" + ".".join(arg) + "}"
        if key == "Ref" and isinstance(arg, str):
            return "${Ref:" + arg + "}"
        text = arg if isinstance(arg, str) else json.dumps(arg, sort_keys=True, separators=(",", ":"))
        return "${" + f"{key}:{text}".replace("*", "").replace("?", "") + "}"
    return json.dumps(value, sort_keys=True, separators=(",", ":")).replace("*", "").replace("?", "")


_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition", "Principal",
                   "NotPrincipal"}


def parse_policy(data: Any, *, name: str, kind: PolicyKind, rel: str | None = None, doc: Document | None = None,
                 at: PathT = (), location: Location | None = None) -> PolicyDocument:
    """The policy document `data` (found at `at` in `doc`, the file `rel`) as a PolicyDocument whose statements
    keep their lines. Without `doc` (a managed policy from mlgate's snapshot) every statement takes `location`.
    Raises EvidenceError (with the line) for a document IAM itself would reject."""

    def line(path: PathT) -> int | None:
        return doc.pos((*at, *path)).line if doc is not None else None

    def fail(message: str, path: PathT) -> EvidenceError:
        return EvidenceError(message, path=rel, line=line(path))

    def where(path: PathT) -> Location | None:
        found = line(path)
        return Location(rel, found) if rel is not None and found is not None else location

    if not isinstance(data, dict):
        raise fail("an IAM policy is a mapping with Version and Statement", ())
    if "Statement" not in data:
        raise fail("the policy has no Statement", ())
    raw = data["Statement"]
    items: list[tuple[PathT, Any]]
    if isinstance(raw, dict):
        items = [(("Statement",), raw)]
    elif isinstance(raw, list):
        items = [(("Statement", i), item) for i, item in enumerate(raw)]
    else:
        raise fail("Statement is neither a statement nor a list of statements", ("Statement",))
    statements = []
    for path, item in items:
        if not isinstance(item, dict):
            raise fail("a statement is a mapping with Effect, Action and Resource", path)
        statements.append(_statement(item, path, fail, where(path)))
    return PolicyDocument(name=name, kind=kind, statements=tuple(statements), location=location or where(()))


def _strings(value: Any, path: PathT, fail: Any) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    out = []
    for i, item in enumerate(values):
        if isinstance(item, str) or (isinstance(item, dict) and len(item) == 1):
            out.append(placeholder(item))
        else:
            where = (*path, i) if isinstance(value, list) else path
            raise fail(f"{path[-1]} holds {item!r}, not an action or ARN text", where)
    return tuple(out)


def _statement(item: dict[str, Any], path: PathT, fail: Any, location: Location | None) -> PolicyStatement:
    unknown = sorted(set(item) - _STATEMENT_KEYS)
    if unknown:
        raise fail(f"unknown statement element {unknown[0]} (IAM rejects the policy)", (*path, unknown[0]))
    if "Principal" in item or "NotPrincipal" in item:
        raise fail("the statement names a Principal: this is a trust or resource policy, not the role's "
                   "permissions policy", (*path, "Principal" if "Principal" in item else "NotPrincipal"))
    effect = item.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise fail(f"Effect is {effect!r}, not Allow or Deny", (*path, "Effect"))
    if ("Action" in item) == ("NotAction" in item):
        raise fail("a statement has exactly one of Action and NotAction", path)
    if ("Resource" in item) == ("NotResource" in item):
        raise fail("a statement has exactly one of Resource and NotResource", path)
    conditions = item.get("Condition", {})
    if not isinstance(conditions, dict):
        raise fail("Condition is a mapping of operators to keys and values", (*path, "Condition"))
    sid = item.get("Sid")

    def get(key: str) -> tuple[str, ...]:
        return _strings(item[key], (*path, key), fail) if key in item else ()

    return PolicyStatement(effect=effect, actions=get("Action"), not_actions=get("NotAction"),
                           resources=get("Resource"), not_resources=get("NotResource"), conditions=conditions,
                           sid=str(sid) if sid is not None else None, location=location)
