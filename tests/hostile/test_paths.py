"""Hostile paths: nothing outside the repository is read (absolute paths, `../`, symlinks and chains of them,
`.git`), nothing blocks (a FIFO where a file is expected, read by every reader in turn), and odd names (a
directory for a file, a file for a directory, letter case, very long names, unicode, newlines) get a clear answer.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from mlgate.paths import MAX_NAME, NotAFile, PathEscape, confine, open_confined
from tests.hostile.support import CFN_WITH_PARAMETERS, Cli, Model, check

RUNBOOK = "runbook: docs/runbook.md"
SECRET = "TOP-SECRET aws sagemaker update-endpoint-weights-and-capacities"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the repository, holding what an attacker would like mlgate to read."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.md").write_text(SECRET + "\n", encoding="utf-8")
    (folder / "secret.ini").write_text("[training]\nseed = " + SECRET + "\n", encoding="utf-8")
    return folder


def _assert_secret_not_shown(outcome_text: str) -> None:
    assert "TOP-SECRET" not in outcome_text


# -- a path in the spec: refused when the spec loads (exit 2 at the line) -------------------------------------------

@pytest.mark.parametrize(("written", "setup", "expected"), [
    ("{outside}/secret.md", None, "is absolute; paths in a spec are relative to the spec's directory"),
    ("../outside/secret.md", None, "resolves outside the repository"),
    ("x/link.md", {"x/link.md": "{outside}/secret.md"}, "resolves outside the repository"),
    ("x/a.md", {"x/a.md": "b.md", "x/b.md": "c.md", "x/c.md": "{outside}/secret.md"},
     "resolves outside the repository"),  # a chain of symlinks
    ("x/dir/secret.md", {"x/dir": "{outside}"}, "resolves outside the repository"),  # a symlinked directory
    ("x/a.md", {"x/a.md": "b.md", "x/b.md": "a.md"}, "cannot be resolved"),  # a loop
    ("x/dev", {"x/dev": "/dev/zero"}, "resolves outside the repository"),  # a device, through a symlink
    (".git/config", None, "is inside .git: git's own data (its config may hold credentials) is not evidence"),
    (".GIT/config", None, "is inside .git"),  # a case-insensitive file system opens .git/config for it
    ("docs/../.git/config", None, "is inside .git"),
    ("x/cfg.md", {"x/cfg.md": "../.git/config"}, "is inside .git"),
    ("x/" + "a" * 300 + ".md", None, "is too long: a file name holds at most 255 bytes"),
    ("/".join(["x"] + ["abcdefgh"] * 600) + "/r.md", None, "is too long"),
    ("~/secret.md", None, "is absolute"),
    ("docs/\\u0000runbook.md", None, "the path contains a NUL byte"),
])
def test_spec_path_outside_the_repository(model: Model, cli: Cli, outside: Path, written: str,
                                          setup: dict[str, str] | None, expected: str) -> None:
    for link, target in (setup or {}).items():
        path = model.root / link
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target.format(outside=outside))
    model.edit_spec(RUNBOOK, f'runbook: "{written.format(outside=outside)}"')
    outcome = check(cli, model.root)
    assert outcome.code == 2
    line = next(n for n, text in enumerate((model.root / "mlgate.yaml").read_text().splitlines(), start=1)
                if text.startswith("  runbook:"))
    assert outcome.err.startswith(f"mlgate: error: mlgate.yaml:{line}:3: operations.runbook: ")
    assert expected in outcome.err
    _assert_secret_not_shown(outcome.err)


def test_code_path_outside_is_an_error_on_the_rule(model: Model, cli: Cli, outside: Path) -> None:
    model.edit_spec("code_paths: [serve/]", f"code_paths: [{outside}]")
    outcome = check(cli, model.root, "--select", "SEC002")
    assert outcome.status("SEC002") == "error"
    assert "is absolute; paths in a spec are relative to the spec's directory" in outcome.messages("SEC002")


# -- files that are found, not named: the confinement holds for them too ------------------------------------------

@pytest.mark.parametrize(("where", "rule", "expected"), [
    ("train/evil.py", "REP003", None),  # a symlink in a walked code directory: skipped, never read
    ("serve/evil.py", "SEC002", None),
    ("deploy/cfn/stack.yaml", "IAC001", "holds no CloudFormation template"),
    ("deploy/tf/main.tf", "IAC001", "leads outside the repository (to {outside}/secret.md)"),
])
def test_symlink_found_in_a_directory(model: Model, cli: Cli, outside: Path, where: str, rule: str,
                                      expected: str | None) -> None:
    if where.startswith("deploy/cfn"):
        model.edit_spec("cloudformation: deploy/stack.yaml", "cloudformation: deploy/cfn")
    if where.startswith("deploy/tf"):
        model.edit_spec(CFN_WITH_PARAMETERS, "  terraform: deploy/tf")
    link = model.root / where
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside / "secret.md")
    outcome = check(cli, model.root, "--select", rule)
    _assert_secret_not_shown(outcome.out)
    if expected:
        assert expected.format(outside=outside) in outcome.messages(rule)
    else:
        assert where not in outcome.messages(rule)


@pytest.mark.parametrize(("rel", "expected"), [
    (".mlgate.toml", ".mlgate.toml: leads outside the repository"),
    ("pyproject.toml", "pyproject.toml: leads outside the repository"),
    (".mlgate/rules/T001.yaml", ".mlgate/rules/T001.yaml: leads outside the repository"),
])
def test_symlinked_config_and_rule_files(model: Model, cli: Cli, outside: Path, rel: str, expected: str) -> None:
    """Regression: the config was read through a symlink to anywhere (and its TOML errors quote the content)."""
    link = model.root / rel
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside / "secret.ini")
    outcome = check(cli, model.root)
    assert outcome.code == 2
    assert expected in outcome.err
    _assert_secret_not_shown(outcome.err)


def test_spec_that_is_a_symlink_out(model: Model, cli: Cli, outside: Path) -> None:
    (outside / "spec.yaml").write_text("version: 1\nmodel: {name: " + SECRET + "}\n", encoding="utf-8")
    (model.root / "mlgate.yaml").unlink()
    (model.root / "mlgate.yaml").symlink_to(outside / "spec.yaml")
    outcome = check(cli, model.root / "mlgate.yaml")
    assert outcome.code == 2
    assert "mlgate.yaml: leads outside the repository" in outcome.err
    _assert_secret_not_shown(outcome.err)


def test_discovery_refuses_symlinked_specs(model: Model, cli: Cli, outside: Path) -> None:
    # issue 18: a silent skip let a pull request drop a deployment from the run by making its spec a link
    (outside / "mlgate.yaml").write_text("version: 1\nmodel: {name: " + SECRET + "}\n", encoding="utf-8")
    (model.root / "other").mkdir()
    (model.root / "other" / "mlgate.yaml").symlink_to(outside / "mlgate.yaml")
    outcome = check(cli, model.root)
    assert outcome.code == 2
    assert "other/mlgate.yaml is a symbolic link: mlgate checks the spec file itself" in outcome.err
    _assert_secret_not_shown(outcome.err)


# -- FIFOs: every reader refuses one before opening it, so nothing blocks --------------------------------------------

# (spec text to swap, the FIFO's path, the rule that reads it, what it says)
FIFOS = {
    "runbook": (RUNBOOK, "runbook: x/rb.md", "x/rb.md", "OPS003", "is a FIFO (named pipe), not a regular file"),
    "lockfile": ("lockfile: requirements.txt", "lockfile: x/requirements.txt", "x/requirements.txt", "REP002",
                 "is a FIFO (named pipe), not a regular file"),
    "seed source": ("source: train/config.yaml#training.seed", "source: x/s.yaml#a", "x/s.yaml", "REP003",
                    "seed source x/s.yaml is not a regular file"),
    "dvc file": ("dvc: data/labels.csv.dvc", "dvc: x/l.dvc", "x/l.dvc", "REP001", "x/l.dvc is not a file"),
    "manifest": ("manifest: models/churn-predictor-v7.manifest.json", "manifest: x/m.json", "x/m.json", "REP005",
                 "manifest x/m.json is not a regular file"),
    "policy": ("policy: deploy/iam/churn-predictor-role.json", "policy: x/p.json", "x/p.json", "SEC001",
               "is a FIFO (named pipe), not a regular file"),
    "template": ("cloudformation: deploy/stack.yaml", "cloudformation: x/s.yaml", "x/s.yaml", "IAC001",
                 "is a FIFO (named pipe), not a regular file"),
    "template in a directory": ("cloudformation: deploy/stack.yaml", "cloudformation: x", "x/s.yaml", "IAC001",
                                "holds no CloudFormation template"),
    "terraform file": (CFN_WITH_PARAMETERS, "  terraform: x", "x/main.tf", "IAC001",
                       "has no Terraform files"),
    "drift baseline": ("baseline: s3://acme-ml-monitoring/churn-predictor/v7/statistics.json", "baseline: x/b.json",
                       "x/b.json", "MON002", "is a FIFO (named pipe), not a regular file"),
    "hashed data file": ("uri: data/labels.csv\n      dvc: data/labels.csv.dvc", "uri: x/d.csv\n      sha256: "
                         + "a" * 64, "x/d.csv", "REP001", "x/d.csv is not a regular file"),
    "training code": ("paths: [train/, features/]", "paths: [train/, features/, x/]", "x/f.py", "REP003",
                      "x/f.py was not scanned for seeding calls: it is a FIFO (named pipe), not a regular file"),
    "inference code": ("code_paths: [serve/]", "code_paths: [x/]", "x/f.py", "SEC002",
                       "x/f.py was not scanned for logged inputs: it is a FIFO (named pipe), not a regular file"),
}


@pytest.mark.parametrize("name", FIFOS)
def test_fifo_never_blocks(model: Model, cli: Cli, name: str) -> None:
    old, new, fifo, rule, expected = FIFOS[name]
    model.edit_spec(old, new)
    (model.root / fifo).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(model.root / fifo)
    outcome = check(cli, model.root, "--select", rule, seconds=20)
    assert outcome.status(rule) in ("fail", "error", "warn")
    assert expected in outcome.messages(rule)


def test_terraform_variables_fifo(model: Model, cli: Cli) -> None:
    model.edit_spec(CFN_WITH_PARAMETERS, "  terraform: deploy/tf")
    model.write("deploy/tf/main.tf", 'resource "aws_sagemaker_endpoint" "e" {\n  name = "churn-predictor"\n}\n')
    os.mkfifo(model.root / "deploy/tf/terraform.tfvars")
    check(cli, model.root, "--select", "IAC001", seconds=20)


@pytest.mark.parametrize(("rel", "expected"), [
    (".mlgate/rules/T001.yaml", ".mlgate/rules/T001.yaml: is a FIFO (named pipe), not a regular file"),
    ("models/mlgate.yaml", "models/mlgate.yaml: is a FIFO (named pipe), not a regular file"),
])
def test_fifo_config_and_specs(model: Model, cli: Cli, rel: str, expected: str) -> None:
    (model.root / rel).parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(model.root / rel)
    outcome = check(cli, model.root, seconds=20)
    assert outcome.code == 2
    assert expected in outcome.err


def test_fifo_config_is_an_error_without_blocking(model: Model, cli: Cli) -> None:
    # anything at .mlgate.toml is the config (issue 18): not a regular file is an error, never "no config"
    os.mkfifo(model.root / ".mlgate.toml")
    outcome = check(cli, model.root, "--select", "OPS003", seconds=20)
    assert outcome.code == 2
    assert ".mlgate.toml: is a FIFO (named pipe), not a regular file" in outcome.err


def test_socket_is_not_read(model: Model, cli: Cli) -> None:
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(model.root / "docs" / "sock.md"))
        model.edit_spec(RUNBOOK, "runbook: docs/sock.md")
        outcome = check(cli, model.root, "--select", "OPS003", seconds=20)
    assert "is a socket, not a regular file" in outcome.messages("OPS003")


# -- a directory for a file, a file for a directory, case, unicode, newlines ---------------------------------------

@pytest.mark.parametrize(("old", "new", "rule", "expected"), [
    (RUNBOOK, "runbook: docs", "OPS003", "runbook docs is a directory, not a file"),
    (RUNBOOK, "runbook: docs/runbook.md/x.md", "OPS003", "runbook docs/runbook.md/x.md does not exist"),
    (RUNBOOK, "runbook: DOCS/RUNBOOK.md", "OPS003", "runbook DOCS/RUNBOOK.md does not exist"),
    (CFN_WITH_PARAMETERS, "  terraform: deploy/stack.yaml", "IAC001",
     "is not a directory: name the Terraform directory"),
    ("lockfile: requirements.txt", "lockfile: deploy", "REP002", "deploy"),
])
def test_wrong_kind_of_path(model: Model, cli: Cli, old: str, new: str, rule: str, expected: str) -> None:
    model.edit_spec(old, new)
    outcome = check(cli, model.root, "--select", rule)
    assert outcome.status(rule) in ("fail", "error")
    assert expected in outcome.messages(rule)


@pytest.mark.parametrize("name", ["rünbook ☃.md", "運用手順.md", "run\nbook.md", "run book [1](x).md"])
def test_unusual_file_names_are_read(model: Model, cli: Cli, name: str) -> None:
    model.write(f"docs/{name}", (model.root / "docs/runbook.md").read_bytes())
    model.edit_spec(RUNBOOK, "runbook: " + repr(name).replace("'", '"').replace('"', '"docs/', 1))
    model.commit()
    outcome = check(cli, model.root, "--select", "OPS003")
    assert outcome.status("OPS003") == "pass", outcome.messages("OPS003")


# -- the confining functions themselves ------------------------------------------------------------------------------

def test_open_confined_refuses_a_device() -> None:
    with pytest.raises(NotAFile, match="is a device, not a regular file"):
        open_confined(Path("/dev"), Path("/dev/null"))


def test_open_confined_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(NotAFile, match="is a directory, not a regular file"):
        open_confined(tmp_path, tmp_path)


def test_open_confined_refuses_outside_and_git(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    (tmp_path / "repo" / ".git" / "config").write_text("[core]\n", encoding="utf-8")
    (tmp_path / "elsewhere.txt").write_text("x", encoding="utf-8")
    with pytest.raises(PathEscape, match="leads outside the repository"):
        open_confined(tmp_path / "repo", tmp_path / "elsewhere.txt")
    with pytest.raises(PathEscape, match=r"leads into \.git"):
        open_confined(tmp_path / "repo", tmp_path / "repo" / ".git" / "config")
    with pytest.raises(FileNotFoundError):
        open_confined(tmp_path / "repo", tmp_path / "repo" / "missing.txt")


def test_confine_accepts_the_longest_name(tmp_path: Path) -> None:
    assert confine(tmp_path, tmp_path, "a" * MAX_NAME) == (tmp_path / ("a" * MAX_NAME)).resolve()
    with pytest.raises(PathEscape, match="too long"):
        confine(tmp_path, tmp_path, "a" * (MAX_NAME + 1))
