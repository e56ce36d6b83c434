"""Links a pull request cannot plant (issue 18, item 11). A team rule file comes with the pull request, so its
`docs:` URL is shown as text, not as a link, in the Markdown report (the PR comment) and in SARIF, unless its
host is in the config's `link_hosts` (mlgate's own docs are always linked). The GitHub Action refuses an
`output-dir` that is or passes through a symlink of the workspace, and the documented workflow writes nothing
into the checkout, where `>` would follow a symlink the pull request commits."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import yaml

from mlgate.ci.github import main as github_step
from tests.hostile.support import Cli, Model

EVIL = "https://docs.evil.example/acme001"
RULE = f"""\
id: ACME001
title: Canary starts at 1 %
section: rollout
severity: error
rationale: Tier-1 models serve payments.
remediation: Start the canary at 1 %.
check: rollout.canary
params:
  max_first_step: 1
docs: {EVIL}
"""
ROOT = Path(__file__).resolve().parents[2]


def _markdown_and_sarif(model: Model, cli: Cli) -> tuple[str, dict[str, object]]:
    _, markdown, _ = cli("check", str(model.root), "--format", "markdown")
    _, sarif, _ = cli("check", str(model.root), "--format", "sarif")
    rules = json.loads(sarif)["runs"][0]["tool"]["driver"]["rules"]
    return markdown, next(r for r in rules if r["id"] == "ACME001")


def test_a_team_rules_docs_url_is_text_not_a_link(model: Model, cli: Cli) -> None:
    model.write(".mlgate/rules/ACME001.yaml", RULE)
    markdown, descriptor = _markdown_and_sarif(model, cli)
    assert f"]({EVIL})" not in markdown  # no Markdown link to it
    assert f"ACME001 (`{EVIL}`)" in markdown.replace("\\", "")  # the URL shown as code
    assert "helpUri" not in descriptor
    assert f"]({EVIL})" not in json.dumps(descriptor)
    assert "](https://github.com/mlgate/mlgate/blob/main/docs/rules.md#rep001)" in markdown  # our own: a link


def test_a_host_the_config_lists_is_linked(model: Model, cli: Cli) -> None:
    model.write(".mlgate/rules/ACME001.yaml", RULE)
    model.write(".mlgate.toml", 'link_hosts = ["docs.evil.example"]\n')
    markdown, descriptor = _markdown_and_sarif(model, cli)
    assert f"[ACME001]({EVIL})" in markdown
    assert descriptor["helpUri"] == EVIL


@pytest.mark.parametrize("url", ["http://docs.evil.example/x", "https://user@docs.evil.example/x",
                                 "https://docs.evil.example.attacker.example/x"])
def test_only_https_on_the_listed_host_itself(model: Model, cli: Cli, url: str) -> None:
    model.write(".mlgate/rules/ACME001.yaml", RULE.replace(EVIL, url))
    model.write(".mlgate.toml", 'link_hosts = ["docs.evil.example"]\n')
    markdown, descriptor = _markdown_and_sarif(model, cli)
    assert f"]({url})" not in markdown
    assert "helpUri" not in descriptor


# -- the Action's output-dir ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("link", ["reports", "reports/sub"])
def test_the_action_refuses_an_output_dir_through_a_symlink(model: Model, tmp_path: Path, link: str) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "sub").mkdir()
    (model.root / link).parent.mkdir(parents=True, exist_ok=True)
    (model.root / link).symlink_to(target if link == "reports" else target / "sub", target_is_directory=True)
    log = io.StringIO()
    env = {"GITHUB_WORKSPACE": str(model.root), "GITHUB_OUTPUT": str(tmp_path / "output"),
           "RUNNER_TEMP": str(tmp_path), "MLGATE_OUTPUT_DIR": "reports/sub/out"}
    assert github_step(env, log) == 2
    assert "a symbolic link: mlgate writes its reports only to real directories" in log.getvalue()
    assert not any(target.rglob("*.sarif")) and not (target / "sub" / "out").exists()


def test_the_action_writes_to_a_real_output_dir(model: Model, tmp_path: Path) -> None:
    log = io.StringIO()
    env = {"GITHUB_WORKSPACE": str(model.root), "GITHUB_OUTPUT": str(tmp_path / "output"),
           "RUNNER_TEMP": str(tmp_path), "MLGATE_OUTPUT_DIR": "reports/out"}
    assert github_step(env, log) == 0, log.getvalue()
    assert (model.root / "reports/out/mlgate.sarif").is_file()


def test_the_documented_workflow_writes_nothing_into_the_checkout() -> None:
    text = (ROOT / "docs" / "integrations.md").read_text(encoding="utf-8")
    (workflow,) = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL) if "jobs:" in b]
    for step in workflow["jobs"]["readiness"]["steps"]:
        script = step.get("run", "")
        if not script:
            continue
        variables = dict(re.findall(r'^\s*(\w+)="?([^"\n]*)"?\s*$', script, re.MULTILINE))
        written = re.findall(r">>?\s*(\S+)", script) + re.findall(r"--body-file\s+(\S+)", script)
        assert written  # the comment step writes and reads its file
        for target in written:
            path = target.strip('"')
            for name, value in variables.items():  # the script's own assignments (COMMENT="$RUNNER_TEMP/...")
                path = path.replace(f"${name}", value)
            assert path.startswith("$RUNNER_TEMP/"), (step.get("name"), target)
