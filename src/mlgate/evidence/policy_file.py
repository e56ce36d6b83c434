"""An IAM policy JSON file (the execution role's permissions policy) as a PolicyDocument with statement lines.

Besides a plain policy document, the shapes the AWS CLI prints are accepted, so a policy can be saved straight
from the account: `aws iam get-role-policy` (`{"PolicyDocument": {...}}`) and `aws iam get-policy-version`
(`{"PolicyVersion": {"Document": {...}}}`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlgate.errors import EvidenceError
from mlgate.evidence.iam import PolicyDocument, parse_policy
from mlgate.evidence.workspace import Workspace
from mlgate.yamlload import PathT


def _policy_at(data: Any) -> PathT:
    if isinstance(data, dict) and "Statement" not in data:
        if isinstance(data.get("PolicyDocument"), dict):
            return ("PolicyDocument",)
        version = data.get("PolicyVersion")
        if isinstance(version, dict) and isinstance(version.get("Document"), dict):
            return ("PolicyVersion", "Document")
    return ()


def read_policy_file(workspace: Workspace, path: Path) -> PolicyDocument:
    """The policy in the JSON (or YAML) file at `path`; raises EvidenceError, with the line, when IAM would
    reject it or it is not an IAM permissions policy at all."""
    doc = workspace.read_yaml(path)
    rel = workspace.rel(path)
    at = _policy_at(doc.data)
    data: Any = doc.data
    for key in at:
        data = data[key]
    if not isinstance(data, dict):
        raise EvidenceError("is not an IAM policy document (a JSON object with Version and Statement)", path=rel)
    return parse_policy(data, name=rel, kind="policy-file", rel=rel, doc=doc, at=at)
