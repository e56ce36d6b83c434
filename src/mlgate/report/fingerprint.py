"""Fingerprints that follow a problem across commits, shared by the SARIF and GitLab Code Quality reports.

A problem is keyed on what it is, never on how it is said or where its line is: the rule, the deployment's spec,
and the fact judged (the spec field the finding names, else the evidence file it points at), plus its
occurrence among the rule's problems with that same key, so two distinct problems never share a fingerprint.
Rewording a message or moving a line keeps the fingerprint; a fix that makes another field fail changes it.
"""

from __future__ import annotations

import hashlib

from mlgate.result import Deployment, Finding, RuleResult


def fingerprint(*parts: str) -> str:
    """The SHA-256 of the parts, NUL-separated."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def subject_key(d: Deployment, f: Finding) -> str:
    """The fact a finding judges: its spec field, else the file of its evidence (not the line, which moves)."""
    if f.subject is not None:
        return f"spec:{f.subject}"
    return f"file:{(f.location or d.spec_location).path}"


def problem_fingerprints(d: Deployment, r: RuleResult) -> list[str]:
    """One fingerprint per problem of the rule result, in the order of `r.problems`."""
    seen: dict[str, int] = {}
    out = []
    for f in r.problems:
        key = subject_key(d, f)
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        out.append(fingerprint(r.rule.id, d.spec, key, str(occurrence)))
    return out
