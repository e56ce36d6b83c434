"""The composite GitHub Action (action.yml), run step by step as the runner runs it.

The harness reads action.yml and, for each step: `uses: actions/setup-python` gets an interpreter of this
machine as its `python-path` output (as setup-python would give with `update-environment: false`); each `run:`
step runs its script with its `shell` (bash as GitHub starts it: `--noprofile --norc -eo pipefail`), in the
workspace, with its `env:` mapping, where `${{ ... }}` is substituted (in env values only: a run script that
holds an expression fails the test), and GITHUB_WORKSPACE, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, GITHUB_ENV,
GITHUB_PATH and RUNNER_TEMP pointing at tmp files. A failing step stops the action, as on GitHub.

The log is then read as the runner reads it (`workflow_commands`): `::stop-commands::TOKEN` stops command
processing until `::TOKEN::`, and every other line whose text starts with `::` (or holds `##[`) is a command.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgate.ci.github import SUMMARY_LIMIT, InputError, Inputs, trim_summary, write_outputs
from mlgate.ci.github import main as github_step
from mlgate.report.annotations import escape_data
from tests.conftest import GIT_ENV
from tests.example_repos import example_repo, ready_repo

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
SHELLS = {"bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail"], "sh": ["sh", "-e"]}


# -- the harness ----------------------------------------------------------------------------------------------------


@dataclass
class ActionRun:
    exit_code: int
    log: str
    summary: str
    outputs: dict[str, str]
    steps: dict[str, dict[str, str]] = field(default_factory=dict)


def _parse_output_file(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT as the runner reads it: `name=value` lines and `name<<DELIMITER` blocks."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value: list[str] = []
            for item in lines:
                if item == delimiter:
                    break
                value.append(item)
            out[name] = "\n".join(value)
        elif "=" in line:
            name, value_text = line.split("=", 1)
            out[name] = value_text
    return out


def _substitute(text: str, context: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        expr = match.group(1)
        if not re.fullmatch(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)+", expr):
            raise AssertionError(f"the harness does not evaluate expression {expr!r}")
        node: Any = context
        for part in expr.split("."):
            if not isinstance(node, dict):
                raise AssertionError(f"cannot resolve {expr!r}")
            if part not in node:
                if expr.startswith("steps."):
                    return ""  # an output a step did not set is empty, as on GitHub
                raise AssertionError(f"unknown context value {expr!r}")
            node = node[part]
        return str(node)

    return EXPRESSION.sub(value, text)


def run_action(workspace: Path, runner_temp: Path, inputs: dict[str, str] | None = None) -> ActionRun:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    given = inputs or {}
    unknown = set(given) - set(action["inputs"])
    assert not unknown, f"inputs the action does not declare: {unknown}"
    context: dict[str, Any] = {
        "inputs": {name: given.get(name, str(spec.get("default", ""))) for name, spec in action["inputs"].items()},
        "github": {"action_path": str(ROOT), "workspace": str(workspace)},
        "runner": {"temp": str(runner_temp), "os": "Linux"},
        "steps": {},
    }
    files = runner_temp / "_runner_files"
    files.mkdir(parents=True, exist_ok=True)
    log: list[str] = []
    summary: list[str] = []
    exit_code = 0
    for index, step in enumerate(action["runs"]["steps"]):
        step_id = step.get("id", f"step{index}")
        if "uses" in step:
            assert step["uses"].startswith("actions/setup-python@"), step["uses"]
            assert re.fullmatch(r"actions/setup-python@[0-9a-f]{40}", step["uses"]), "pin actions by commit"
            with_ = {k: _substitute(str(v), context) for k, v in step.get("with", {}).items()}
            assert with_.get("update-environment") in ("false", "False"), "setup-python must not change PATH"
            context["steps"][step_id] = {"outputs": {"python-path": BASE_PYTHON,
                                                     "python-version": ".".join(map(str, sys.version_info[:3]))}}
            continue
        script = step["run"]
        assert "${{" not in script, f"step {step_id}: an expression inside run: is a command injection"
        shell = step["shell"]
        env = {name: _substitute(str(value), context) for name, value in step.get("env", {}).items()}
        output, step_summary = files / f"{step_id}.output", files / f"{step_id}.summary"
        for f in (output, step_summary):
            f.write_text("", encoding="utf-8")
        script_file = files / f"{step_id}.sh"
        script_file.write_text(script, encoding="utf-8")
        proc_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(runner_temp / "home"), "LANG": "C.UTF-8",
            "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_ACTION_PATH": str(ROOT), "RUNNER_TEMP": str(runner_temp),
            "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(step_summary),
            "GITHUB_ENV": str(files / "env"), "GITHUB_PATH": str(files / "path"),
            **{k: v for k, v in os.environ.items() if k.startswith("PIP_")},  # this machine's package index
            **GIT_ENV, **env,
        }
        proc = subprocess.run([*SHELLS[shell], str(script_file)], cwd=workspace, env=proc_env,
                              capture_output=True, text=True, timeout=300, check=False)
        log.append(proc.stdout + proc.stderr)
        context["steps"][step_id] = {"outputs": _parse_output_file(output.read_text(encoding="utf-8"))}
        summary.append(step_summary.read_text(encoding="utf-8"))
        if proc.returncode != 0:
            exit_code = proc.returncode
            break
    outputs = {name: _substitute(str(spec["value"]), context) for name, spec in action["outputs"].items()}
    return ActionRun(exit_code, "".join(log), "".join(summary), outputs,
                     {k: v["outputs"] for k, v in context["steps"].items()})


@dataclass(frozen=True)
class Command:
    name: str
    props: dict[str, str]
    data: str


def _unescape(text: str, prop: bool) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else []) + [("%25", "%")]
    for a, b in pairs:
        text = text.replace(a, b)
    return text


def workflow_commands(log: str) -> list[Command]:
    """The workflow commands the runner would carry out for this log."""
    commands: list[Command] = []
    stop_token: str | None = None
    for raw in log.splitlines():
        line = raw.strip()
        if stop_token is not None:
            if line == f"::{stop_token}::":
                stop_token = None
            continue
        if line.startswith("::"):
            end = line.find("::", 2)
            if end < 0:
                continue
            head, data = line[2:end], line[end + 2:]
            name, _, prop_text = head.partition(" ")
            props = {}
            for part in filter(None, prop_text.split(",")):
                key, _, value = part.partition("=")
                props[key.strip()] = _unescape(value, prop=True)
            if name == "stop-commands":
                stop_token = data
            commands.append(Command(name, props, _unescape(data, prop=False)))
        elif "##[" in line:
            commands.append(Command("legacy", {}, line))
    return commands


# -- fixtures ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runner_temp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One runner temp dir for the module: the install step reuses the action's virtualenv across runs."""
    return tmp_path_factory.mktemp("runner-temp")


def _annotations(run: ActionRun) -> list[Command]:
    return [c for c in workflow_commands(run.log) if c.name in ("error", "warning", "notice")]


# -- the action, run -------------------------------------------------------------------------------------------------


def test_ready_repository_passes_with_summary_and_outputs(tmp_path: Path, runner_temp: Path) -> None:
    repo = ready_repo(tmp_path / "ws")
    run = run_action(repo.root, runner_temp)
    assert run.exit_code == 0, run.log
    assert run.outputs["ready"] == "true"
    report = Path(run.outputs["report-path"])
    assert report.is_file() and report.is_absolute()
    assert run.summary == report.read_text(encoding="utf-8")
    assert "## ✅ mlgate: READY" in run.summary
    sarif = json.loads(Path(run.outputs["sarif-path"]).read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert not [r for r in sarif["runs"][0]["results"] if r["properties"]["blocking"]]
    assert json.loads(Path(run.outputs["json-path"]).read_text(encoding="utf-8"))["ready"] is True
    assert not [c for c in _annotations(run) if c.name == "error"]
    assert "1 deployment checked: ready" in run.log  # the text report is in the log
    # the report files are the action's own, outside the user's checkout
    assert repo.root not in report.parents


def test_not_ready_repository_fails_with_annotations(tmp_path: Path, runner_temp: Path) -> None:
    repo = example_repo(tmp_path / "ws", "not-ready")
    run = run_action(repo.root, runner_temp)
    assert run.exit_code == 1
    assert run.outputs["ready"] == "false"
    assert "## ❌ mlgate: NOT READY" in run.summary
    assert run.summary == Path(run.outputs["report-path"]).read_text(encoding="utf-8")
    report = json.loads(Path(run.outputs["json-path"]).read_text(encoding="utf-8"))
    problems = [(r, f) for d in report["deployments"] for r in d["results"] if r["status"] in ("fail", "warn", "error")
                for f in r["findings"] if f["status"] in ("fail", "warn", "error")]
    notes = _annotations(run)
    by_kind = {kind: [c for c in notes if c.name == kind] for kind in ("error", "warning", "notice")}
    assert 0 < len(by_kind["error"]) <= 10 and len(by_kind["warning"]) <= 10 and len(by_kind["notice"]) <= 10
    shown = len(by_kind["error"]) + len(by_kind["warning"])
    assert len(problems) > shown  # the example has more problems than GitHub shows
    (closing,) = [c for c in by_kind["notice"] if "not shown as annotations" in c.data]
    assert closing.data.startswith(f"{len(problems) - shown} more mlgate findings")
    # each annotation is one finding of the report, at its file and line, with its fix
    where = [(f["location"]["path"], f["location"]["line"], f["message"]) for _r, f in problems]
    for c in by_kind["error"] + by_kind["warning"]:
        assert any(c.props["file"] == path and int(c.props["line"]) == line and message in c.data
                   for path, line, message in where), c
        assert (repo.root / c.props["file"]).is_file()
        assert c.props["title"].startswith("mlgate ")
    first = by_kind["error"][0]
    blocking = next(f for r, f in problems if r["blocking"] and f["status"] == "fail")
    assert first.data.startswith(blocking["message"])
    assert f"\nFix: {blocking['remediation']}" in first.data


def test_soft_fail_in_a_repository_below_the_workspace(tmp_path: Path, runner_temp: Path) -> None:
    """soft-fail reports everything but passes; annotations are placed from the workspace root when the repository
    is checked out in a subdirectory of it."""
    workspace = tmp_path / "ws"
    example_repo(workspace / "service", "not-ready")
    run = run_action(workspace, runner_temp, {"path": "service", "soft-fail": "true", "summary": "false"})
    assert run.exit_code == 0
    assert run.outputs["ready"] == "false"
    assert run.summary == ""
    notes = _annotations(run)
    assert any(c.name == "notice" and "soft-fail" in c.data for c in notes)
    located = [c for c in notes if "file" in c.props]
    assert located and any(c.name == "error" for c in located)
    assert all(c.props["file"].startswith("service/") and (workspace / c.props["file"]).is_file() for c in located)
    assert sum(c.name == "notice" for c in notes) <= 10


def test_shallow_checkout_says_fetch_depth_0(tmp_path: Path, runner_temp: Path) -> None:
    origin = ready_repo(tmp_path / "origin")
    origin.commit("second commit")
    clone = tmp_path / "ws"
    subprocess.run(["git", "clone", "-q", "--depth", "1", origin.root.as_uri(), str(clone)], check=True,
                   env={**os.environ, **GIT_ENV}, capture_output=True)
    run = run_action(clone, runner_temp)
    (warning,) = [c for c in _annotations(run) if c.props.get("title") == "mlgate: shallow checkout"]
    assert warning.name == "warning"
    assert "shallow" in warning.data and "fetch-depth: 0" in warning.data
    assert sum(c.name == "warning" for c in _annotations(run)) <= 10  # its slot is kept among GitHub's 10
    assert "fetch-depth: 0" in run.summary
    assert run.outputs["ready"] in ("true", "false")


PAYLOADS = ("$(touch pwned)", '"; touch pwned; "', "'; touch pwned; '", "`touch pwned`")


def test_inputs_cannot_inject_commands(tmp_path: Path, runner_temp: Path) -> None:
    repo = ready_repo(tmp_path / "ws")
    # modules a checked repository might hold to hijack `python -m venv/pip/mlgate` run from the workspace
    for hijack in ("venv.py", "pip/__init__.py", "mlgate/__init__.py", "mlgate/ci/__init__.py",
                   "mlgate/ci/github.py"):
        repo.write(hijack, "import pathlib\npathlib.Path('pwned-by-import').touch()\n")
    values = dict(zip(("path", "fail-on", "select", "ignore"), PAYLOADS, strict=True))
    run = run_action(repo.root, runner_temp, {**values, "soft-fail": "true"})
    assert run.exit_code == 2, run.log  # an unusable input fails the step, soft-fail or not
    assert run.outputs["ready"] == "false" and run.outputs["report-path"] == ""
    assert [c.name for c in _annotations(run)] == ["error"]
    assert "mlgate could not check this deployment" in run.summary
    assert "invalid choice" in run.summary  # argparse's message, shown as code
    flags = run_action(repo.root, runner_temp, dict(zip(("soft-fail", "summary", "annotations"), PAYLOADS[:3],
                                                        strict=True)))
    assert flags.exit_code == 2
    assert flags.outputs["ready"] == "false"
    assert "soft-fail must be true or false" in flags.summary
    (refused,) = _annotations(flags)
    assert refused.data == f"mlgate: input soft-fail must be true or false, not {PAYLOADS[0]!r}"
    for where in (repo.root, runner_temp, Path.cwd(), tmp_path):
        assert not list(where.rglob("pwned")), where
        assert not list(where.rglob("pwned-by-import")), where


def test_spec_strings_never_become_workflow_commands(tmp_path: Path, runner_temp: Path) -> None:
    repo = example_repo(tmp_path / "ws", "not-ready")
    spec = (repo.root / "mlgate.yaml").read_text(encoding="utf-8")
    crafted = {
        "on_call: TBD": 'on_call: "::set-output name=ready::true"',
        "name: ticket-urgency": 'name: "%0A::add-mask::secret ##[set-output name=ready;]true"',
    }
    for old, new in crafted.items():
        assert old in spec
        spec = spec.replace(old, new, 1)
    repo.write("mlgate.yaml", spec)
    repo.commit("crafted strings")
    run = run_action(repo.root, runner_temp, {"select": "OPS"})
    assert run.exit_code == 1
    assert run.outputs["ready"] == "false"
    commands = workflow_commands(run.log)
    assert {c.name for c in commands} <= {"group", "stop-commands", "endgroup", "error", "warning", "notice"}, \
        commands
    # the crafted text is shown inside an annotation, not carried out
    (on_call,) = [c for c in commands if "OPS002" in c.props.get("title", "")]
    assert "operations.on_call is '::set-output name=ready::true'" in on_call.data
    # the text report did reach the log, inside the stopped section
    assert "::set-output name=ready::true" in run.log
    assert [c.name for c in commands][:2] == ["group", "stop-commands"]


# -- the pieces ------------------------------------------------------------------------------------------------------


def test_action_file_follows_the_rules() -> None:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    (setup,) = [s for s in steps if "uses" in s]
    assert setup["with"]["update-environment"] is False
    for step in steps:
        if "run" in step:
            assert "${{" not in step["run"]
            assert step["shell"] == "bash"
    install = next(s for s in steps if s.get("id") == "install")
    assert install["env"]["MLGATE_SOURCE"] == "${{ github.action_path }}"
    assert {"ready", "report-path", "sarif-path"} <= set(action["outputs"])
    assert action["inputs"]["soft-fail"]["default"] == "false"


@pytest.mark.parametrize(
    ("text", "limit"),
    [("short report\n", 100), ("line\n" * 1000, 2000), ("é" * 300 + "\n" + "ü" * 3000 + "\n", 4000),
     ("x" * 5000, 1000), ("# h\n" + "ok\n" * (SUMMARY_LIMIT // 3), SUMMARY_LIMIT)],
)
def test_trim_summary_fits_the_limit(text: str, limit: int) -> None:
    trimmed = trim_summary(text, limit=limit, where="in the report-path output")
    assert len(trimmed.encode("utf-8")) <= limit
    if len(text.encode("utf-8")) <= limit:
        assert trimmed == text
    else:
        assert "trimmed to fit" in trimmed and "report-path" in trimmed
        kept = trimmed.split("\n\n> **Note:**")[0]
        assert text.startswith(kept) and kept


def test_outputs_with_line_breaks_use_a_delimiter(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs(out, {"ready": "false", "odd": "a\nb=c", "path": "/tmp/x"})
    assert _parse_output_file(out.read_text()) == {"ready": "false", "odd": "a\nb=c", "path": "/tmp/x"}


@pytest.mark.parametrize(("value", "expected"), [("", False), ("true", True), ("TRUE", True), ("false", False),
                                                   ("no", False), ("1", True)])
def test_boolean_inputs(value: str, expected: bool) -> None:
    assert Inputs.from_env({"MLGATE_SOFT_FAIL": value}).soft_fail is expected


def test_boolean_input_refuses_other_text() -> None:
    with pytest.raises(InputError, match="soft-fail must be true or false"):
        Inputs.from_env({"MLGATE_SOFT_FAIL": "maybe"})


def test_values_stay_joined_to_their_options() -> None:
    args = Inputs.from_env({"MLGATE_SELECT": "--format=junit", "MLGATE_FAIL_ON": "-h"}).check_args()
    assert args == ["--fail-on=-h", "--select=--format=junit"]
    assert escape_data("50%\r\n") == "50%25%0D%0A"


def _doc_blocks(language: str) -> list[str]:
    text = (ROOT / "docs" / "integrations.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, re.DOTALL)


def test_documented_workflow_uses_the_action_as_it_is() -> None:
    """The copy-paste workflow in docs/integrations.md: full history, known inputs and outputs, SARIF upload with
    a category per deployment and the permission it needs, and no expression inside a run: script."""
    (workflow,) = [yaml.safe_load(b) for b in _doc_blocks("yaml") if "jobs:" in b]
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    job = workflow["jobs"]["readiness"]
    assert job["permissions"]["security-events"] == "write"
    steps = job["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@") and steps[0]["with"]["fetch-depth"] == 0
    ours = next(s for s in steps if s.get("id") == "mlgate")
    assert ours["uses"].startswith("mlgate/mlgate@")
    assert set(ours["with"]) <= set(action["inputs"])
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "${{ steps.mlgate.outputs.sarif-path }}"
    assert "matrix.deployment" in upload["with"]["category"]
    for step in steps:
        for name in re.findall(r"steps\.mlgate\.outputs\.([\w-]+)", json.dumps(step)):
            assert name in action["outputs"], name
        assert "${{" not in step.get("run", "")


@pytest.mark.parametrize("path", ["..", "/etc", "sub/../../x"])
def test_path_outside_the_workspace_is_refused(tmp_path: Path, path: str) -> None:
    workspace, out_file = tmp_path / "ws", tmp_path / "output"
    workspace.mkdir()
    log = io.StringIO()
    env = {"GITHUB_WORKSPACE": str(workspace), "GITHUB_OUTPUT": str(out_file), "RUNNER_TEMP": str(tmp_path),
           "MLGATE_PATH": path}
    assert github_step(env, log) == 2
    (refused,) = workflow_commands(log.getvalue())
    assert refused.name == "error" and "outside the workspace" in refused.data
    assert _parse_output_file(out_file.read_text())["ready"] == "false"
