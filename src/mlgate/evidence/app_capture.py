"""Capture done by the application: inference code that writes what it received and answered to S3, Kinesis
Data Firehose, Kinesis or CloudWatch Logs itself (serverless endpoints cannot use endpoint data capture).

The code is read with `ast`, never run. A call counts when it is one of the AWS SDK's write calls for those
services (`put_object`, `upload_fileobj`, `put_record`, `put_record_batch`, `put_records`, `put_log_events`) or
SageMaker's own capture helper; the finding names the file, the line and the call, so a reviewer can read it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from mlgate.evidence.workspace import Workspace
from mlgate.parsers import parse_python

# boto3 write calls that persist a record: S3, Firehose, Kinesis, CloudWatch Logs
WRITE_CALLS = frozenset({"put_object", "upload_fileobj", "upload_file", "put_record", "put_record_batch",
                         "put_records", "put_log_events"})


@dataclass(frozen=True)
class CaptureCall:
    """An SDK call in the inference code that writes requests or responses away itself."""
    path: str  # repo-relative
    line: int
    call: str  # e.g. firehose.put_record


def capture_calls(ws: Workspace, files: list[Path]) -> list[CaptureCall]:
    """Every write call in `files` (unparsable files are skipped: SEC002 reports them)."""
    found: list[CaptureCall] = []
    for path in files:
        try:
            tree = parse_python(str(path), ws.read_text(path))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITE_CALLS:
                owner = node.func.value
                name = owner.id if isinstance(owner, ast.Name) else (
                    owner.attr if isinstance(owner, ast.Attribute) else "client")
                found.append(CaptureCall(ws.rel(path), node.lineno, f"{name}.{node.func.attr}"))
    return found
