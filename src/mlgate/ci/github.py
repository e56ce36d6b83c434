"""The GitHub Action's check step: `python -m mlgate.ci.github`, run by action.yml in the action's own virtualenv.

The action maps every input into `env:` (never into the script), and this module hands them to mlgate as items
of an argument vector, never through a shell, so no input can become a command:

  MLGATE_PATH         a spec file or a directory, relative to the workspace (default: the workspace)
  MLGATE_FAIL_ON      error | warning | note (default: the repository's config, else error)
  MLGATE_SELECT       rule IDs or prefixes to run, comma-separated
  MLGATE_IGNORE       rule IDs or prefixes to skip, comma-separated
  MLGATE_SOFT_FAIL    true: report everything, but do not fail the step when the deployment is not ready
  MLGATE_OUTPUT_DIR   where the reports are written (default: a new directory under RUNNER_TEMP)
  MLGATE_SUMMARY      false: no job summary
  MLGATE_ANNOTATIONS  false: no annotations

The step says so when the checkout is shallow (git history is evidence), runs `mlgate check` with the text report
in the log and the Markdown, SARIF and JSON reports in files, annotates the spec and evidence lines of each
problem, appends the Markdown report to the job summary (trimmed under GitHub's 1 MiB limit, with a note) and
sets the outputs `ready`, `report-path`, `sarif-path` and `json-path`. Exit code: 0 ready (or not ready with
soft-fail), 1 not ready, 2 the spec, the config or an input is unusable (soft-fail does not hide that).

Nothing from the repository reaches the log as a workflow command: while mlgate writes to the log, workflow
commands are stopped with `::stop-commands::` and a random token, and every annotation is escaped.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from mlgate.report.annotations import Level, capped, command, problem_annotations
from mlgate.textsafe import md_code, md_escape

SUMMARY_LIMIT = 1024 * 1024  # GitHub refuses a step summary above 1 MiB
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
SHALLOW_ADVICE = ("the checkout is shallow: mlgate reads git history (when the lockfile, the training code and the "
                  "data pins last changed), which a shallow clone does not have. Check out with `fetch-depth: 0` "
                  "(actions/checkout) so those rules see the real history.")


class InputError(Exception):
    """An input the step cannot use (exit code 2)."""


@dataclass(frozen=True)
class Inputs:
    """The GitHub Action's inputs, as the step receives them in its environment."""
    path: str
    fail_on: str
    select: str
    ignore: str
    soft_fail: bool
    output_dir: str
    summary: bool
    annotations: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        return cls(
            path=env.get("MLGATE_PATH", "").strip() or ".",
            fail_on=env.get("MLGATE_FAIL_ON", "").strip(),
            select=env.get("MLGATE_SELECT", "").strip(),
            ignore=env.get("MLGATE_IGNORE", "").strip(),
            soft_fail=_flag(env, "MLGATE_SOFT_FAIL", "soft-fail", default=False),
            output_dir=env.get("MLGATE_OUTPUT_DIR", "").strip(),
            summary=_flag(env, "MLGATE_SUMMARY", "summary", default=True),
            annotations=_flag(env, "MLGATE_ANNOTATIONS", "annotations", default=True),
        )

    def check_args(self) -> list[str]:
        """Options for `mlgate check`, each value joined to its option so that none can pass for another."""
        args = []
        if self.fail_on:
            args.append(f"--fail-on={self.fail_on}")
        if self.select:
            args.append(f"--select={self.select}")
        if self.ignore:
            args.append(f"--ignore={self.ignore}")
        return args


def _flag(env: Mapping[str, str], name: str, label: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise InputError(f"input {label} must be true or false, not {raw!r}")


@dataclass(frozen=True)
class Outputs:
    """What the GitHub Action step reports back: the verdict and the report files it wrote."""
    ready: bool
    report: Path | None
    sarif: Path | None
    json: Path | None


# -- pieces, each testable alone -----------------------------------------------------------------------------------


def is_shallow(directory: Path) -> bool:
    """Whether `directory` is in a shallow git clone (False when it is not in a git repository at all)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=directory, capture_output=True,
                             text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and out.stdout.strip() == "true"


def trim_summary(text: str, *, limit: int = SUMMARY_LIMIT, where: str = "") -> str:
    """`text`, cut at a line boundary so that it and a note saying so fit in `limit` bytes of UTF-8."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    note = (f"\n\n> **Note:** this report was trimmed to fit GitHub's {limit // 1024} KiB job summary limit "
            f"({len(data):,} bytes in all).{' The whole report is ' + where + '.' if where else ''}\n")
    budget = limit - len(note.encode("utf-8"))
    head = data[:max(0, budget)].decode("utf-8", errors="ignore")
    cut = head.rfind("\n")
    return (head[:cut] if cut > 0 else head) + note


def write_outputs(path: Path, values: Mapping[str, str]) -> None:
    """Append step outputs to $GITHUB_OUTPUT (the multi-line form, with a random delimiter, when a value has a line
    break)."""
    with path.open("a", encoding="utf-8") as fh:
        for name, value in values.items():
            if "\n" in value or "\r" in value:
                delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
                fh.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                fh.write(f"{name}={value}\n")


def repo_prefix(workspace: Path, target: Path) -> str:
    """Where the repository holding `target` is inside the workspace ('' when it is the workspace)."""
    from mlgate.paths import find_repo_root

    start = target if target.is_dir() else target.parent
    root = find_repo_root(start.resolve())
    if root is None:
        return ""
    try:
        rel = root.resolve().relative_to(workspace.resolve()).as_posix()
    except ValueError:
        return ""
    return "" if rel == "." else rel


class _Tee(io.TextIOBase):
    """Writes to a stream and keeps a copy (the error messages of a run that exits 2)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.copy.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


def run_check(argv: list[str], out: TextIO) -> tuple[int, str]:
    """`mlgate check` with workflow commands stopped while it writes to the log; returns (exit code, stderr)."""
    from mlgate.cli import main as cli_main

    token = secrets.token_hex(16)
    out.write("::group::mlgate check\n")
    out.write(f"::stop-commands::{token}\n")
    out.flush()
    tee = _Tee(out)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(tee):
            try:
                code = cli_main(argv)
            except SystemExit as exc:  # argparse refusing an input (e.g. --fail-on=maybe) exits 2
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        out.flush()
        out.write(f"::{token}::\n")
        out.write("::endgroup::\n")
        out.flush()
    return code, tee.copy.getvalue()


def _summary_text(inputs: Inputs, code: int, report: Path | None, errors: str, shallow: bool) -> str:
    """The job summary: the shallow-clone warning, then the Markdown report (or why there is none), trimmed."""
    parts: list[str] = []
    if shallow:
        parts.append(f"> **Warning:** {md_escape(SHALLOW_ADVICE)}\n")
    if code == 2 or report is None or not report.is_file():
        lines = [line for line in errors.splitlines() if line.strip()][:20] or ["(no message)"]
        parts.append("## ❗ mlgate could not check this deployment\n")
        parts.append("\n".join(f"- {md_code(line)}" for line in lines) + "\n")
    else:
        parts.append(report.read_text(encoding="utf-8"))
        if inputs.soft_fail and code == 1:
            parts.append("\n_Not ready, but `soft-fail` is set: this step passes._\n")
    where = f"in the file at the `report-path` output ({md_code(str(report))})" if report else ""
    return trim_summary("\n".join(parts), where=where)


# -- the step -------------------------------------------------------------------------------------------------------


def main(env: Mapping[str, str] | None = None, out: TextIO | None = None) -> int:
    env = os.environ if env is None else env
    out = sys.stdout if out is None else out
    workspace = Path(env.get("GITHUB_WORKSPACE") or Path.cwd())
    try:
        inputs = Inputs.from_env(env)
        target = _target(inputs, workspace)
        out_dir = _output_dir(inputs, env)
    except InputError as exc:
        out.write(command("error", f"mlgate: {exc}", title="mlgate") + "\n")
        _publish(env, summary=f"## ❗ mlgate could not check this deployment\n\n- {md_code(str(exc))}\n",
                 ready=False, written={})
        return 2
    files = {"report": out_dir / "mlgate-report.md", "sarif": out_dir / "mlgate.sarif", "json": out_dir / "mlgate.json"}
    for stale in files.values():
        stale.unlink(missing_ok=True)

    shallow = is_shallow(target if target.is_dir() else target.parent)
    if shallow:
        out.write(command("warning", f"mlgate: {SHALLOW_ADVICE}", title="mlgate: shallow checkout") + "\n")
    argv = ["check", "--format", "text", "--format", "markdown", "--output", str(files["report"]),
            "--format", "sarif", "--output", str(files["sarif"]), "--format", "json", "--output", str(files["json"]),
            *inputs.check_args(), "--", str(target)]
    code, errors = run_check(argv, out)
    written = {name: path for name, path in files.items() if path.is_file()}
    soft = inputs.soft_fail and code == 1

    if inputs.annotations:
        if code == 2 or "json" not in written:
            first = next((line for line in errors.splitlines() if line.strip()), "no message")
            out.write(command("error", f"mlgate could not check {inputs.path}: {first}", title="mlgate") + "\n")
        else:
            data: dict[str, Any] = json.loads(written["json"].read_text(encoding="utf-8"))
            reserved: dict[Level, int] = {"warning": int(shallow), "notice": int(soft)}
            for line in capped(problem_annotations(data, path_prefix=repo_prefix(workspace, target)),
                               reserved=reserved):
                out.write(line + "\n")
    if soft:
        out.write(command("notice", "mlgate: not ready, but soft-fail is set, so this step passes",
                          title="mlgate") + "\n")
    summary = _summary_text(inputs, code, written.get("report"), errors, shallow) if inputs.summary else None
    _publish(env, summary=summary, ready=code == 0, written=written)
    out.flush()
    return 0 if soft else code


def _target(inputs: Inputs, workspace: Path) -> Path:
    """The spec or directory to check, which must be inside the workspace."""
    given = Path(inputs.path)
    resolved = (given if given.is_absolute() else workspace / given).resolve()
    if resolved != workspace.resolve() and workspace.resolve() not in resolved.parents:
        raise InputError(f"input path {inputs.path!r} is outside the workspace ({workspace})")
    return resolved


def _publish(env: Mapping[str, str], *, summary: str | None, ready: bool, written: Mapping[str, Path]) -> None:
    """The job summary (when wanted) and the step outputs."""
    summary_file = env.get("GITHUB_STEP_SUMMARY")
    if summary is not None and summary_file:
        with Path(summary_file).open("a", encoding="utf-8") as fh:
            fh.write(summary)
    output_file = env.get("GITHUB_OUTPUT")
    if output_file:
        write_outputs(Path(output_file), {
            "ready": "true" if ready else "false",
            **{f"{name}-path": str(written[name]) if name in written else "" for name in ("report", "sarif", "json")},
        })


def _output_dir(inputs: Inputs, env: Mapping[str, str]) -> Path:
    if inputs.output_dir:
        workspace = Path(env.get("GITHUB_WORKSPACE") or Path.cwd())
        path = Path(inputs.output_dir)
        if not path.is_absolute():
            path = workspace / path
        _refuse_links(path, workspace)
        path.mkdir(parents=True, exist_ok=True)
        return path
    base = Path(env.get("RUNNER_TEMP") or tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="mlgate-", dir=base))


def _refuse_links(path: Path, workspace: Path) -> None:
    """An output directory in the workspace must not be, or lie below, a symlink: the pull request commits the
    workspace's files, so a link there could send the reports (and the removal of stale ones) anywhere the job
    may write, its own scripts and credentials included."""
    try:
        below = path.relative_to(workspace).parts
    except ValueError:  # outside the workspace: the workflow's own choice, which the pull request cannot change
        return
    current = workspace
    for part in below:
        current = current / part
        if current.is_symlink():
            raise InputError(f"output-dir {str(path)!r} passes through {str(current)!r}, a symbolic link: mlgate "
                             "writes its reports only to real directories")
        if part == "..":
            raise InputError(f"output-dir {str(path)!r} leaves the workspace with '..'")


if __name__ == "__main__":
    raise SystemExit(main())
