"""What goes wrong reaching AWS becomes an `error` finding with its reason (or `n/a` before the first deployment,
when the config says so), the offline findings still come out, and there is never a traceback."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import moto.settings
import pytest

from tests.aws.conftest import ENDPOINT, Account, client
from tests.aws.test_online import Cli, check, texts
from tests.conftest import Repo

ROOT = Path(__file__).resolve().parents[2]


def test_no_credentials(churn: tuple[Repo, Account], cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    repo, account = churn
    account.build()
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code, results, err = check(cli, repo, "--select", "REP001,RLO003,SEC001")
    assert (code, err) == (1, "")
    for rule in ("REP001", "RLO003", "SEC001"):
        assert results[rule]["status"] == "error"
        assert "no AWS credentials were found in the standard chain" in texts(results[rule], "error")
        assert texts(results[rule], "pass")  # the offline findings stand


def test_unknown_profile(churn: tuple[Repo, Account], cli: Cli) -> None:
    repo, _ = churn
    _, results, _ = check(cli, repo, "--select", "RLO003", "--profile", "nope")
    assert "AWS profile 'nope' is not in ~/.aws/config or ~/.aws/credentials" in texts(results["RLO003"], "error")


def test_no_region(churn: tuple[Repo, Account], cli: Cli) -> None:
    repo, account = churn
    account.build()
    spec = repo.root / "mlgate.yaml"
    spec.write_text(spec.read_text().replace("  region: eu-west-1\n", ""))
    # the template's model image is in eu-west-1's ECR, which must be the endpoint's Region: that one is used
    _, results, _ = check(cli, repo, "--select", "RLO003")
    assert results["RLO003"]["status"] == "pass"
    # an image in a private registry says nothing of the Region
    for rel in ("deploy/stack.yaml", "deploy/params/prod.json"):  # the parameter file gives the image
        path = repo.root / rel
        path.write_text(re.sub(r"\d{12}\.dkr\.ecr\.eu-west-1\.amazonaws\.com/", "registry.acme.example/",
                               path.read_text()))
    _, results, _ = check(cli, repo, "--select", "RLO003")
    assert "no AWS Region to send sts:GetCallerIdentity to: set serving.region in the spec, pass --region, or set " \
           "AWS_REGION" in texts(results["RLO003"], "error")
    _, results, _ = check(cli, repo, "--select", "RLO003", "--region", "eu-west-1")
    assert results["RLO003"]["status"] == "pass"


@pytest.mark.parametrize(("config", "status", "fragment"), [
    ("", "error", "endpoint churn-predictor does not exist in the AWS account in eu-west-1, so its previous "
                  "variant cannot be checked"),
    ('[tool.mlgate.params.RLO003]\naws_missing_endpoint = "n/a"\n', "pass",
     "endpoint churn-predictor does not exist in eu-west-1 yet (before its first deployment"),
])
def test_endpoint_not_deployed(churn: tuple[Repo, Account], cli: Cli, config: str, status: str,
                               fragment: str) -> None:
    repo, account = churn
    account.build()
    client("sagemaker").delete_endpoint(EndpointName=ENDPOINT)
    if config:
        repo.write("pyproject.toml", config)
    _, results, _ = check(cli, repo, "--select", "RLO003")
    assert results["RLO003"]["status"] == status
    assert fragment in texts(results["RLO003"])


def test_access_denied(churn: tuple[Repo, Account], cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's IAM enforcement (every request checked once INITIAL_NO_AUTH_ACTION_COUNT is reached) gives a user
    with no policy real AccessDenied answers."""
    repo, account = churn
    account.build()
    iam = client("iam")
    iam.create_user(UserName="nobody")
    key = iam.create_access_key(UserName="nobody")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.setattr(moto.settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    code, results, err = check(cli, repo, "--select", "RLO003,REP005,SEC001")
    assert (code, err) == (1, "")
    assert "access denied to sagemaker:DescribeEndpoint on endpoint churn-predictor: the AWS identity may not read " \
           "it (`mlgate aws-policy` prints the read-only policy mlgate needs)" in texts(results["RLO003"], "error")
    assert "access denied to sagemaker:DescribeModelPackage" in texts(results["REP005"], "error")
    assert "access denied to s3:HeadObject on s3://acme-ml-models/churn/v7/model.tar.gz" in texts(
        results["REP005"], "error")


class _Throttling(BaseHTTPRequestHandler):
    """Answers every request as AWS answers one it throttles (a stand-in: moto never throttles)."""

    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        target = self.headers.get("X-Amz-Target")
        if target:  # the JSON protocol (SageMaker, CloudWatch)
            self.seen.append(target.rsplit(".", 1)[-1])
            payload = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
            kind = "application/x-amz-json-1.1"
        else:  # the query protocol (STS)
            self.seen.append(dict(p.split("=", 1) for p in body.split("&") if "=" in p).get("Action", "?"))
            payload = (b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded"
                       b"</Message></Error><RequestId>1</RequestId></ErrorResponse>")
            kind = "text/xml"
        self.send_response(400)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def throttling(monkeypatch: pytest.MonkeyPatch, aws_env: str) -> Iterator[list[str]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Throttling.seen = []
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    yield _Throttling.seen
    server.shutdown()
    server.server_close()


def test_throttling_is_retried_then_reported(churn: tuple[Repo, Account], cli: Cli, throttling: list[str]) -> None:
    repo, _ = churn
    _, results, err = check(cli, repo, "--select", "RLO003")
    assert err == ""
    assert "AWS throttled sts:GetCallerIdentity on the credentials (Throttling) and it still failed after 2 attempts " \
           "with backoff; run again later, or allow more attempts with AWS_MAX_ATTEMPTS" in texts(
               results["RLO003"], "error")
    assert throttling == ["GetCallerIdentity", "GetCallerIdentity"]  # retried once, as AWS_MAX_ATTEMPTS says


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT / "src"), "HOME": str(cwd)})


def test_without_boto3_aws_says_how_to_install(churn: tuple[Repo, Account]) -> None:
    repo, _ = churn
    blocked = "import sys; sys.modules['boto3'] = None; sys.modules['botocore'] = None\n" \
              "from mlgate.cli import main\n"
    done = _run(blocked + f"sys.exit(main(['check', {str(repo.root)!r}, '--aws']))", repo.root)
    assert done.returncode == 2
    assert "mlgate: error: --aws needs boto3, which is not installed in this Python environment (install the " \
           "extra: pip install 'mlgate[aws]')" in done.stderr
    assert "Traceback" not in done.stderr
    offline = _run(blocked + f"code = main(['check', {str(repo.root)!r}, '--select', 'REP'])\n"
                             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore') "
                             "and sys.modules[m] is not None))\nsys.exit(code)", repo.root)
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout.rstrip().endswith("[]")  # offline, nothing of boto3 or botocore was imported


def test_profile_without_aws_is_a_usage_error(churn: tuple[Repo, Account], cli: Cli) -> None:
    repo, _ = churn
    code, _, err = cli("check", str(repo.root), "--profile", "prod", "--region", "eu-west-1")
    assert code == 2
    assert "--profile and --region only apply with --aws" in err
