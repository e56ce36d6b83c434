"""Heavy dependencies load only when a rule or a format needs them: a pre-commit hook must not pay for policy_sentry's
IAM database, boto3, python-hcl2 or Jinja2 on a spec that uses none of them. Each case runs `mlgate check` through
`mlgate.cli.main` in a fresh interpreter and reads its `sys.modules` (behaviour, not timing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlgate import __version__
from tests.conftest import Repo

HEAVY = ("policy_sentry", "policy_sentry.shared.iam_data", "policy_sentry.querying", "boto3", "botocore", "hcl2",
         "jinja2",
         # the rules' online halves import these inside `online()`: an offline check loads no AWS code
         "mlgate.aws.live", "mlgate.aws.session", "mlgate.aws.data", "mlgate.aws.monitoring", "mlgate.aws.online")

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


LAZY_PROBE = """
import json, sys
import pydantic
from mlgate.cli import main
code = main(sys.argv[1:])
from mlgate import textsafe

def models(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from models(sub)

built = sorted(f"{m.__module__}.{m.__qualname__}" for m in models(pydantic.BaseModel)
               if m.__module__.startswith("mlgate.") and m.__pydantic_complete__)
print(json.dumps({"code": code, "built": built, "xml_regex": textsafe._xml_forbidden.cache_info().currsize}))
"""


def _lazy_state(repo: Repo, *args: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", LAZY_PROBE, "check", str(repo.root), *args], capture_output=True,
                         text=True, check=True, cwd=repo.root)
    result: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    assert result["code"] in (0, 1), out.stderr
    return result


@pytest.mark.parametrize(("config", "args", "xml_regex"), [
    (False, [], 0), (False, ["--format", "junit", "--output", "report.xml"], 1), (True, [], 0)],
    ids=["text", "junit", "with a config"])
def test_a_check_builds_only_the_validators_it_uses(repo: Repo, config: bool, args: list[str], xml_regex: int) -> None:
    """Pydantic models are built on first validation (defer_build), nested ones inside their parent's validator:
    a check validates the spec, the rule files, the facts table and the config when there is one (the defaults are
    not validated), and builds no per-class validator for the ~60 models under them. The XML-forbidden character
    class (slow to compile) is compiled for JUnit only."""
    repo.write("mlgate.yaml", SPEC)
    if config:
        repo.write(".mlgate.toml", 'fail_on = "warning"\n')
    repo.commit("spec")
    state = _lazy_state(repo, *args)
    assert state["built"] == [*(["mlgate.config.ConfigModel"] if config else []), "mlgate.facts.Facts",
                              "mlgate.registry.RuleFile", "mlgate.spec.models.Spec"]
    assert state["xml_regex"] == xml_regex


def test_the_console_script_answers_version_before_the_command_line_loads() -> None:
    """`mlgate --version` through the console script's entry point: the version, without argparse or mlgate.cli
    (about half of what the interpreter's own start-up costs); any other argument goes to the full command line."""
    probe = ("import sys\nsys.argv = ['mlgate', '--version']\nfrom mlgate.entry import main\ncode = main()\n"
             "print(code, sorted(m for m in ('argparse', 'mlgate.cli') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parent)
    assert out.stdout.splitlines() == [f"mlgate {__version__}", "0 []"]
    probe = probe.replace("'--version'", "'--help'")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False,
                         cwd=Path(__file__).parent)
    assert out.returncode == 0 and "usage: mlgate" in out.stdout


SPY_PLUGIN = """\
import os


class Spy:
    def new_schema_validator(self, schema, schema_type, *args, **kwargs):
        with open(os.environ["SPY_LOG"], "a") as log:
            log.write(f"{getattr(schema_type, '__qualname__', schema_type)}\\n")
        return None, None, None


plugin = Spy()
"""


@pytest.mark.parametrize(("setting", "spied"), [(None, False), ("0", True)], ids=["default", "asked for"])
def test_the_console_script_runs_no_pydantic_plugin_unless_asked(repo: Repo, tmp_path: Path, setting: str | None,
                                                                 spied: bool) -> None:
    """A pydantic plugin installed in the environment (an observability hook) would see every spec mlgate validates,
    and finding plugins means reading every installed distribution's entry points: the console script turns them
    off unless PYDANTIC_DISABLE_PLUGINS says otherwise."""
    site = tmp_path / "site"
    (site / "spy_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "spy_plugin.py").write_text(SPY_PLUGIN)
    (site / "spy_plugin-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: spy-plugin\n"
                                                                 "Version: 1.0\n")
    (site / "spy_plugin-1.0.dist-info" / "entry_points.txt").write_text("[pydantic]\nspy = spy_plugin:plugin\n")
    repo.write("mlgate.yaml", SPEC)
    repo.commit("spec")
    log = tmp_path / "spy.log"
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    env.update({"PYTHONPATH": str(site), "SPY_LOG": str(log), **({"PYDANTIC_DISABLE_PLUGINS": setting}
                                                                  if setting is not None else {})})
    probe = f"import sys\nsys.argv = ['mlgate', 'check', {str(repo.root)!r}]\nfrom mlgate.entry import main\nmain()\n"
    subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False, cwd=repo.root,
                   env=env)
    validators = log.read_text().split() if log.exists() else []
    assert ("Spec" in validators) is spied, validators


def test_select_imports_only_the_modules_of_the_rules_that_run(repo: Repo) -> None:
    """The catalogue is read from the rule files; a rule's module (and what its check imports) loads when the rule
    is looked up to run, so `--select SEC001` does not pay for the other 27."""
    repo.write("mlgate.yaml", SPEC + POLICY)
    repo.write("role.json", json.dumps(ROLE))
    repo.commit("spec")

    def rule_modules(*args: str) -> set[str]:
        out = subprocess.run([sys.executable, "-c", PROBE, "check", str(repo.root), *args], capture_output=True,
                             text=True, check=True, cwd=repo.root)
        result = json.loads(out.stdout.splitlines()[-1])
        return {m.rsplit(".", 1)[1] for m in result["modules"]
                if m.startswith("mlgate.rules.") and m.count(".") == 3 and not m.rsplit(".", 1)[1].startswith("_")}

    assert rule_modules("--select", "SEC001") == {"sec001_least_privilege"}
    assert len(rule_modules()) == 28
