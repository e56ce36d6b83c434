"""The command line as a user meets it: exit codes, messages without tracebacks, formats and outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Repo

SPEC = "version: 1\nmodel:\n  name: fraud\n"


pytestmark = pytest.mark.usefixtures("test_plugin")


def test_version_and_help(cli) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as info:
        cli("--version")
    assert info.value.code == 0
    code, out, _err = cli()
    assert code == 2
    assert "exit codes: 0 ready, 1 not ready, 2" in out
    for command in ("check", "rules", "explain", "schema"):
        assert command in out


def test_check_help_teaches_by_example(cli, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        cli("check", "--help")
    out = capsys.readouterr().out
    assert "--format markdown --output report.md --format sarif --output mlgate.sarif" in out


@pytest.mark.parametrize(("select", "code"), [("TST004", 0), ("TST001", 1), ("TST003", 0)])
def test_exit_code_says_ready_or_not(repo: Repo, cli, select: str, code: int) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", SPEC)
    assert cli("check", str(repo.root), "--select", select)[0] == code


def test_fail_on_warning(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", SPEC)
    assert cli("check", str(repo.root), "--select", "TST003", "--fail-on", "warning")[0] == 1


def test_text_report_shows_problems_with_location_and_fix(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", SPEC)
    code, out, _ = cli("check", str(repo.root), "--select", "TST001,TST004")
    assert code == 1
    assert "mlgate.yaml (fraud): NOT READY" in out
    assert "FAIL   TST001  Always fails" in out
    assert "mlgate.yaml:3: threshold is 3" in out
    assert "fix: raise it" in out
    assert "\x1b[" not in out  # no colour when not a terminal
    assert "1 deployment checked: not ready (1 fail, 1 pass; fail-on error)" in out


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ("version: 1\nmodle:\n  name: x\n", "mlgate.yaml:2:1: unknown key 'modle' (did you mean 'model'?)"),
        ("version: 1\nmodel: [\n", "mlgate.yaml:3:1: YAML syntax error"),
        ("version: 1\nmodel: !!python/object/apply:os.system ['touch pwned']\n", "is not allowed"),
        ("version: 1\noperations:\n  runbook: ../../etc/passwd\n", "resolves outside the repository"),
    ],
)
def test_unusable_spec_exits_2_with_one_clear_line(repo: Repo, cli, spec: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", spec)
    code, _out, err = cli("check", str(repo.root))
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err
    assert not (repo.root / "pwned").exists()


def test_huge_spec_exits_2(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", b"version: 1\n" + b"#" * (50 * 1024 * 1024))
    code, _, err = cli("check", str(repo.root / "mlgate.yaml"))
    assert code == 2
    assert "larger than 1024 KiB" in err


def test_no_spec_found_says_where_it_looked(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("check", str(repo.root))
    assert code == 2
    assert f"no mlgate.yaml found in {repo.root.resolve()}" in err


def test_missing_path(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("check", str(tmp_path / "nope"))
    assert code == 2
    assert "no such file or directory" in err


def test_discovery_finds_nested_specs_and_skips_tooling_dirs(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    for rel in ("mlgate.yaml", "models/a/mlgate.yaml", "models/b/mlgate.yaml",
                "node_modules/x/mlgate.yaml", ".venv/lib/mlgate.yaml", "env2/mlgate.yaml"):
        repo.write(rel, SPEC)
    repo.write("env2/pyvenv.cfg", "home = /usr\n")  # a virtualenv with another name
    code, out, _ = cli("check", str(repo.root), "--select", "TST004", "--format", "json")
    assert code == 0
    specs = [d["spec"] for d in json.loads(out)["deployments"]]
    assert specs == ["mlgate.yaml", "models/a/mlgate.yaml", "models/b/mlgate.yaml"]


def test_format_output_pairs_and_determinism(repo: Repo, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", SPEC)
    out_dir = tmp_path / "out"
    args = ["check", str(repo.root), "--select", "TST", "--format", "json", "--output", str(out_dir / "r.json"),
            "--output", str(out_dir / "r.txt"), "--format", "text"]
    code, stdout, _ = cli(*args)
    assert code == 1
    assert "Always fails" in stdout  # the last --format had no --output: standard output
    first = (out_dir / "r.json").read_bytes()
    report = json.loads(first)
    assert report["mlgate_report"] == 1
    assert "Always fails" in (out_dir / "r.txt").read_text()  # format inferred from the extension
    cli(*args)
    assert (out_dir / "r.json").read_bytes() == first


def test_two_formats_cannot_share_standard_output(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", SPEC)
    code, _, err = cli("check", str(repo.root), "--format", "json", "--format", "text")
    assert code == 2
    assert "only one --format can go to standard output" in err


def test_json_report_shape(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    repo.write("models/fraud/mlgate.yaml", SPEC)
    _code, out, _ = cli("check", str(repo.root), "--select", "TST001,TST002", "--format", "json")
    data = json.loads(out)
    assert data["ready"] is False
    (dep,) = data["deployments"]
    assert (dep["spec"], dep["model"], dep["ready"]) == ("models/fraud/mlgate.yaml", "fraud", False)
    first = dep["results"][0]
    assert first["rule"] == "TST001"
    assert first["status"] == "fail"
    assert first["severity"] == "error"
    assert first["message"] == "threshold is 3"
    assert first["location"] == {"path": "models/fraud/mlgate.yaml", "line": 3, "column": 3}
    assert first["remediation"] == "raise it"
    assert [f["status"] for f in first["findings"]] == ["pass", "fail"]
    assert dep["results"][1]["status"] == "error"


def test_rules_and_explain(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("rules", "--root", str(repo.root))
    assert code == 0
    assert "REP001" in out and "TST001" in out
    code, out, _ = cli("rules", "--root", str(repo.root), "--format", "json")
    catalogue = {r["id"]: r for r in json.loads(out)}
    assert set(catalogue) >= {"REP001", "TST001"}
    steps = next(p for p in catalogue["RLO002"]["parameters"] if p["name"] == "min_steps")
    assert steps == {"name": "min_steps", "default": 2, "bounds": ">= 1, <= 100",
                     "meaning": "the fewest steps the ramp must take, the last (100 %) included"}
    code, out, _ = cli("explain", "rep001")
    assert code == 0
    assert out.startswith("REP001: Training data pinned to an immutable version")
    assert "Why it matters:" in out and "How to fix:" in out
    code, _, err = cli("explain", "REP01")
    assert code == 2
    assert "did you mean REP001?" in err


def test_schema_is_json(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("schema")
    assert code == 0
    assert json.loads(out)["title"] == "mlgate deployment spec (version 1)"


def test_installed_console_script_runs(repo: Repo) -> None:
    """The real entry points: `python -m mlgate` and the `mlgate` script next to the interpreter."""
    repo.write("mlgate.yaml", "version: 1\nmodle: {}\n")
    proc = subprocess.run([sys.executable, "-m", "mlgate", "check", str(repo.root)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 2
    assert "unknown key 'modle'" in proc.stderr
    script = Path(sys.executable).parent / "mlgate"
    proc = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0
    assert proc.stdout.startswith("mlgate ")

