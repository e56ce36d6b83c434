"""No deployment is dropped from a run silently (issue 18, item 2). With `mlgate check .` and two specs, an empty
`pyvenv.cfg` beside one (read as a virtualenv), a spec moved under `build/`, or a spec made a symlink used to
remove it from the run without a trace. Every spec git tracks is now checked, wherever it lies; one the config's
`skip_specs` lists is left out and every report says so; a symlinked spec is an error."""

from __future__ import annotations

import pytest

from tests.hostile.support import Cli, Model, check

# a second deployment that is not ready (no provenance, no serving...): checked, it fails the run
OTHER = "version: 1\nmodel:\n  name: fraud-scorer\n"
FORMATS = ["text", "markdown", "sarif", "json", "junit", "gitlab", "github"]


def _specs(outcome: object) -> list[str]:
    report = getattr(outcome, "report", None) or {}
    return [d["spec"] for d in report.get("deployments", [])]


@pytest.mark.parametrize(("rel", "extra"), [
    ("models/fraud/mlgate.yaml", {"models/fraud/pyvenv.cfg": ""}),  # an empty pyvenv.cfg beside it
    ("models/fraud/mlgate.yaml", {"models/pyvenv.cfg": ""}),  # ... or above it
    ("build/fraud/mlgate.yaml", {}),  # moved under build/
    ("node_modules/fraud/mlgate.yaml", {}),
    (".venv/fraud/mlgate.yml", {}),
])
def test_a_tracked_spec_is_checked_wherever_it_lies(model: Model, cli: Cli, rel: str, extra: dict[str, str]) -> None:
    model.write(rel, OTHER)
    for path, text in extra.items():
        model.write(path, text)
    model.commit()
    outcome = check(cli, model.root)
    assert _specs(outcome) == ["mlgate.yaml", rel]
    assert outcome.code == 1  # the second deployment is not ready, and the run says so


def test_an_untracked_spec_in_build_output_is_not_searched(model: Model, cli: Cli) -> None:
    model.write("build/fraud/mlgate.yaml", OTHER)  # what a build step wrote: not part of the pull request
    outcome = check(cli, model.root)
    assert _specs(outcome) == ["mlgate.yaml"]
    assert outcome.code == 0


@pytest.mark.parametrize("commit", [True, False], ids=["tracked", "untracked"])
def test_a_symlinked_spec_is_an_error(model: Model, cli: Cli, commit: bool) -> None:
    model.write("models/fraud/real.yaml", OTHER)
    (model.root / "models/fraud/mlgate.yaml").symlink_to("real.yaml")
    if commit:
        model.commit()
    outcome = check(cli, model.root)
    assert outcome.code == 2
    assert "models/fraud/mlgate.yaml is a symbolic link: mlgate checks the spec file itself" in outcome.err


def test_a_spec_the_config_lists_is_skipped_and_every_report_says_so(model: Model, cli: Cli) -> None:
    model.write("build/fraud/mlgate.yaml", OTHER)
    model.write(".mlgate.toml", 'skip_specs = ["build/fraud/mlgate.yaml"]\n')
    model.commit()
    outcome = check(cli, model.root)
    assert _specs(outcome) == ["mlgate.yaml"]
    assert outcome.code == 0
    for fmt in FORMATS:
        _, out, _ = cli("check", str(model.root), "--format", fmt)
        shown = out.replace("\\", "") if fmt == "markdown" else out
        assert "does not check the spec build/fraud/mlgate.yaml" in shown, fmt


@pytest.mark.parametrize("entry", ["build/*/mlgate.yaml", "build/fraud", "missing/mlgate.yaml", "../mlgate.yaml",
                                   "build/fraud/other.yaml"])
def test_skip_specs_names_spec_files(model: Model, cli: Cli, entry: str) -> None:
    model.write("build/fraud/mlgate.yaml", OTHER)
    model.write("build/fraud/other.yaml", OTHER)
    model.write(".mlgate.toml", f'skip_specs = ["{entry}"]\n')
    outcome = check(cli, model.root)
    assert outcome.code == 2
    assert f"skip_specs: '{entry}' is not a spec file of this repository" in outcome.err


def test_a_spec_deleted_from_the_work_tree_is_not_an_error(model: Model, cli: Cli) -> None:
    model.write("models/fraud/mlgate.yaml", OTHER)
    model.commit()
    (model.root / "models/fraud/mlgate.yaml").unlink()  # tracked by git, gone from the work tree
    assert _specs(check(cli, model.root)) == ["mlgate.yaml"]
