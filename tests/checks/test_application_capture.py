"""MON001 with `monitoring.capture.method: application`: a serverless endpoint cannot use SageMaker data capture,
so the inference code must keep what it received and answered itself (issue 19)."""

from __future__ import annotations

from tests.conftest import Repo

SPEC = """\
version: 1
serving:
  pattern: serverless
  endpoint: scorer
  serverless: {memory_mb: 2048, max_concurrency: 5}
  code_paths: [serve/]
monitoring:
  capture:
    method: application
    destination: s3://acme-capture/scorer/
"""

HANDLER = '''\
import json
import uuid

import boto3

firehose = boto3.client("firehose")
STREAM = "scorer-capture"


def handler(event, context):
    request = json.loads(event["body"])
    response = {"score": predict(request)}
    record = {"id": str(uuid.uuid4()), "request": request, "response": response}
    firehose.put_record(DeliveryStreamName=STREAM, Record={"Data": json.dumps(record) + "\\n"})
    return {"statusCode": 200, "body": json.dumps(response)}


def predict(request):
    return 0.5
'''


def test_the_application_writing_records_passes(repo: Repo) -> None:
    repo.write("mlgate.yaml", SPEC)
    repo.write("serve/handler.py", HANDLER)
    repo.commit()
    result = repo.rule("MON001")
    assert result.status == "pass", [f.message for f in result.findings]
    (ok,) = result.findings
    line = next(n for n, text in enumerate(HANDLER.splitlines(), start=1) if "put_record(" in text)
    assert f"firehose.put_record at serve/handler.py:{line}" in ok.message
    assert ok.location is not None and (ok.location.path, ok.location.line) == ("serve/handler.py", line)


def test_an_extensionless_serve_script_counts(repo: Repo) -> None:
    repo.write("mlgate.yaml", SPEC)
    repo.write("serve/serve", "#!/usr/bin/env python3\n" + HANDLER)
    repo.commit()
    assert repo.rule("MON001").status == "pass"


def test_application_capture_without_a_write_fails(repo: Repo) -> None:
    repo.write("mlgate.yaml", SPEC)
    repo.write("serve/handler.py", HANDLER.replace(
        '    firehose.put_record(DeliveryStreamName=STREAM, Record={"Data": json.dumps(record) + "\\n"})\n',
        "    print(record)\n"))
    repo.commit()
    result = repo.rule("MON001")
    assert result.status == "fail"
    assert "none of the 1 Python files under serving.code_paths writes a record" in result.findings[0].message


def test_serverless_without_application_capture_says_how_to(repo: Repo) -> None:
    repo.write("mlgate.yaml", SPEC.replace("    method: application\n", ""))
    repo.write("serve/handler.py", HANDLER)
    repo.commit()
    result = repo.rule("MON001")
    assert result.status == "fail"
    assert "serverless endpoints cannot capture data" in result.findings[0].message
    assert "monitoring.capture.method: application" in (result.findings[0].remediation or "")
