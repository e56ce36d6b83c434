"""Loading mlgate.yaml: every mistake is exit-2 material that names the file, the line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.errors import UsageError
from mlgate.spec.load import load_spec
from mlgate.spec.models import json_schema
from tests.conftest import Repo

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_error(repo: Repo, text: str) -> UsageError:
    repo.write("mlgate.yaml", text)
    with pytest.raises(UsageError) as info:
        load_spec(repo.root / "mlgate.yaml")
    return info.value


def test_example_specs_load() -> None:
    for name in ("ready", "not-ready"):
        loaded = load_spec(REPO_ROOT / "examples" / name / "mlgate.yaml")
        assert loaded.spec.version == 1
        assert loaded.rel == f"examples/{name}/mlgate.yaml"
        assert loaded.root == REPO_ROOT


def test_misspelt_key_suggests_the_right_one(repo: Repo) -> None:
    err = load_error(repo, "version: 1\nrollout:\n  canary:\n    stpes: [10, 100]\n")
    assert err.message == "unknown key 'rollout.canary.stpes'"
    assert err.hint == "did you mean 'steps'?"
    assert (err.path, err.line, err.column) == ("mlgate.yaml", 4, 5)


def test_unknown_key_without_a_close_match_lists_the_known_ones(repo: Repo) -> None:
    err = load_error(repo, "version: 1\noperations:\n  pager: x\n")
    assert "expected one of: on_call, rollback, runbook" in str(err.hint)


def test_unknown_key_in_a_list_item(repo: Repo) -> None:
    err = load_error(repo, "version: 1\nprovenance:\n  data:\n    - name: a\n      uri: s3://b/k\n      verison: x\n")
    assert err.message == "unknown key 'provenance.data.0.verison'"
    assert err.hint == "did you mean 'version'?"
    assert err.line == 6


def test_wrong_type_names_path_expected_and_found(repo: Repo) -> None:
    err = load_error(repo, "version: 1\nserving:\n  instance_count: two\n")
    assert "serving.instance_count: expected a valid integer" in err.message
    assert "found text 'two'" in err.message
    assert err.line == 3


def test_wrong_choice_lists_the_allowed_values(repo: Repo) -> None:
    err = load_error(repo, "version: 1\nserving:\n  pattern: lambda\n")
    assert "'realtime', 'serverless', 'async' or 'batch'" in err.message
    assert err.line == 3


def test_all_problems_are_reported_in_line_order(repo: Repo) -> None:
    err = load_error(repo, "version: 1\nmodel:\n  nmae: x\nserving:\n  instance_count: [1]\n")
    assert err.line == 3
    assert [e.line for e in err.more] == [5]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("model: {name: x}\n", "missing required key 'version'"),
        ("version: 2\n", "version: expected 1"),
        ("- version: 1\n", "must be a YAML mapping"),
        ("", "must be a YAML mapping"),
    ],
)
def test_top_level_problems(repo: Repo, text: str, fragment: str) -> None:
    assert fragment in str(load_error(repo, text))


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("operations:\n  runbook", "../outside.md", "resolves outside the repository"),
        ("operations:\n  runbook", "/etc/passwd", "is absolute"),
        ("provenance:\n  seed:\n    source", "../../x.yaml#seed", "resolves outside the repository"),
        ("provenance:\n  data:\n    - uri", "../../data.csv", "resolves outside the repository"),
        ("security:\n  execution_role:\n    policy", "'~/.aws/policy.json'", "is absolute"),
    ],
)
def test_paths_must_stay_in_the_repo(repo: Repo, field: str, value: str, fragment: str) -> None:
    err = load_error(repo, f"version: 1\n{field}: {value}\n")
    assert fragment in err.message
    assert err.hint == "name a file inside the repository, relative to the spec"
    assert err.line is not None and err.line > 1


def test_symlink_out_of_the_repo_is_refused(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "secret.md"
    outside.write_text("secret")
    (repo.root / "docs").mkdir()
    (repo.root / "docs" / "runbook.md").symlink_to(outside)
    (repo.root / "chain.md").symlink_to(repo.root / "docs" / "runbook.md")  # a chain of links ends outside too
    for target in ("docs/runbook.md", "chain.md"):
        err = load_error(repo, f"version: 1\noperations:\n  runbook: {target}\n")
        assert "resolves outside the repository" in err.message


def test_paths_are_relative_to_the_spec_directory(repo: Repo) -> None:
    repo.write("models/fraud/mlgate.yaml", "version: 1\noperations:\n  runbook: ../../docs/runbook.md\n")
    loaded = load_spec(repo.root / "models/fraud/mlgate.yaml")
    assert loaded.rel == "models/fraud/mlgate.yaml"
    assert loaded.root == repo.root


def test_identifiers_keep_their_written_text(repo: Repo) -> None:
    repo.write("mlgate.yaml", "version: 1\nmodel:\n  version: 1.10\nprovenance:\n  code:\n    commit: 0123456\n")
    spec = load_spec(repo.root / "mlgate.yaml").spec
    assert spec.model is not None and spec.model.version == "1.10"
    assert spec.provenance is not None and spec.provenance.code is not None
    assert spec.provenance.code.commit == "0123456"


def test_json_schema_describes_the_spec() -> None:
    schema = json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["required"] == ["version"]
    assert {"provenance", "serving", "rollout", "monitoring", "waivers"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False


def test_serving_environment_defaults_to_production_and_lists_its_choices(repo: Repo) -> None:
    repo.write("mlgate.yaml", "version: 1\nserving:\n  pattern: realtime\n")
    loaded = load_spec(repo.root / "mlgate.yaml")
    assert loaded.spec.serving is not None and loaded.spec.serving.environment == "production"
    err = load_error(repo, "version: 1\nserving:\n  environment: prod\n")
    assert "serving.environment" in err.message
    assert "'production', 'staging' or 'development'" in err.message
    assert err.line == 3
