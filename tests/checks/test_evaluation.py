"""EVL001-EVL003 on real files: a SageMaker model quality JSON tied to the artifact by a manifest that
`mlgate manifest --evaluation` wrote, an MLflow file store written by the real MLflow, and a plain JSON; the
production model's report from the previous release's file or from git history."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from mlgate.manifest import ManifestWarning, write
from tests.conftest import Repo, messages

ARTIFACT = b"fraud-scorer v4 weights\n"
SHA = hashlib.sha256(ARTIFACT).hexdigest()
OTHER_SHA = hashlib.sha256(b"fraud-scorer v3 weights\n").hexdigest()
HOLDOUT = {"name": "holdout", "uri": "s3://acme-ml-data/fraud/holdout.parquet", "version": "HoLdOuT0v1"}
TRAIN = {"name": "transactions", "uri": "s3://acme-ml-data/fraud/train.parquet", "version": "TrAiN0v1"}
STARTED = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def spec(repo: Repo, report: str, *, dataset: dict[str, str] | None = None, production: str | None = None,
         metrics: str = "[{name: auc, minimum: 0.85, tolerance: 0.01}]", slices: str = "[]",
         manifest: bool = False, previous: bool = True) -> None:
    ds = dataset or HOLDOUT
    lines = [
        "version: 1",
        "model: {name: fraud-scorer, version: v4}",
        "provenance:",
        f"  data: [{json.dumps(TRAIN)}]",
        "  artifact:",
        "    uri: s3://acme-ml-models/fraud/v4/model.tar.gz",
        f"    sha256: {SHA}",
        *(["    manifest: models/manifest.json"] if manifest else []),
        "evaluation:",
        f"  report: {report}",
        f"  dataset: {json.dumps(ds)}",
        f"  metrics: {metrics}",
        f"  slices: {slices}",
        *([f"  production: {production}"] if production else []),
        *(["rollout: {previous: {variant: fraud-v3}}"] if previous else []),
    ]
    repo.write("mlgate.yaml", "\n".join(lines) + "\n")


def plain(metrics: dict[str, float], *, sha: str | None = SHA, dataset: dict[str, str] | None = None,
          slices: dict[str, dict[str, float]] | None = None) -> str:
    body: dict[str, Any] = {"metrics": metrics, "dataset": dataset or HOLDOUT}
    if sha:
        body["artifact_sha256"] = sha
    if slices:
        body["slices"] = slices
    return json.dumps(body, indent=2)


def sagemaker(auc: float, recall: float) -> str:
    """A binary classification model quality report, in SageMaker's shape (confusion matrix and NaN deviations
    included)."""
    return json.dumps({"version": 0.0, "dataset": {"item_count": 4000},
                       "binary_classification_metrics": {
                           "confusion_matrix": {"0": {"0": 3700, "1": 40}, "1": {"0": 60, "1": 200}},
                           "recall": {"value": recall, "standard_deviation": "NaN"},
                           "auc": {"value": auc, "standard_deviation": 0.0031},
                           "receiver_operating_characteristic_curve": {"false_positive_rates": [0, 1],
                                                                       "true_positive_rates": [0, 1]}}}, indent=2)


# -- the three formats pass ---------------------------------------------------------------------------------------

def test_plain_json_passes_every_rule(repo: Repo) -> None:
    repo.write("eval/v4.json", plain({"auc": 0.91}, slices={"country=DE": {"auc": 0.9}}))
    repo.write("eval/v3.json", plain({"auc": 0.905}, sha=OTHER_SHA, slices={"country=DE": {"auc": 0.89}}))
    spec(repo, "eval/v4.json", production="{report: eval/v3.json}",
         slices="[{name: country=DE, metrics: [{name: auc, minimum: 0.85, tolerance: 0.01}]}]")
    repo.commit()
    evl1, evl2, evl3 = (repo.rule(r) for r in ("EVL001", "EVL002", "EVL003"))
    assert (evl1.status, evl2.status, evl3.status) == ("pass", "pass", "pass"), messages(evl1) + messages(evl2)
    assert "is of this artifact: its artifact_sha256" in messages(evl1)
    assert "auc = 0.91 ≥ minimum 0.85" in messages(evl1)
    assert "candidate 0.91 (eval/v4.json) against production 0.905 (eval/v3.json)" in messages(evl2)
    assert "better by 0.01" in messages(evl3)


def test_sagemaker_report_tied_by_the_manifest_passes(repo: Repo) -> None:
    repo.write("eval/v4.json", sagemaker(auc=0.92, recall=0.8))
    spec(repo, "eval/v4.json", manifest=True, previous=False,
         metrics="[{name: auc, minimum: 0.85}, {name: recall, minimum: 0.75}]")
    repo.commit("training code")
    with pytest.warns(ManifestWarning, match="no provenance.code.paths"):
        write(spec=repo.root / "mlgate.yaml", sha256=SHA, started=STARTED, detect=False,
              evaluation=repo.root / "eval/v4.json")
    repo.commit("manifest")
    result = repo.rule("EVL001")
    assert result.status == "pass", messages(result)
    assert "the manifest models/manifest.json ties the report eval/v4.json" in messages(result)
    assert "auc = 0.92" in messages(result) and "recall = 0.8 ≥ minimum 0.75" in messages(result)
    manifest = json.loads((repo.root / "models/manifest.json").read_text())
    assert manifest["evaluation"]["metrics"] == {"recall": 0.8, "auc": 0.92}
    assert manifest["evaluation"]["dataset"]["version"] == HOLDOUT["version"]
    assert repo.rule("EVL002").status == "n/a"  # a first model: nothing to compare with


def test_sagemaker_report_edited_after_the_manifest_fails(repo: Repo) -> None:
    repo.write("eval/v4.json", sagemaker(auc=0.80, recall=0.8))
    spec(repo, "eval/v4.json", manifest=True, previous=False)
    repo.commit()
    with pytest.warns(ManifestWarning, match="no provenance.code.paths"):
        write(spec=repo.root / "mlgate.yaml", sha256=SHA, started=STARTED, detect=False,
              evaluation=repo.root / "eval/v4.json")
    repo.write("eval/v4.json", sagemaker(auc=0.93, recall=0.8))  # someone "fixes" the number
    repo.commit()
    result = repo.rule("EVL001")
    assert result.status == "fail"
    assert "the report is not the one evaluated with this artifact" in messages(result)


def test_sagemaker_report_without_a_tie_to_the_artifact_fails(repo: Repo) -> None:
    repo.write("eval/v4.json", sagemaker(auc=0.92, recall=0.8))
    spec(repo, "eval/v4.json", previous=False)
    repo.commit()
    result = repo.rule("EVL001")
    assert result.status == "fail"
    assert "does not say which artifact it scored (no artifact_sha256), and there is no manifest" in messages(result)


@pytest.fixture
def mlflow_store(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A real MLflow file store in the repository (MLflow 3 keeps the file store in maintenance mode behind
    MLFLOW_ALLOW_FILE_STORE)."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=(repo.root / "mlruns").as_uri())
    experiment = client.create_experiment("fraud-scorer")

    def run(metrics: dict[str, list[float]], tags: dict[str, str], params: dict[str, str],
            finish: bool = True) -> str:
        created = client.create_run(experiment)
        run_id = created.info.run_id
        for name, values in metrics.items():
            for step, value in enumerate(values):
                client.log_metric(run_id, name, value, step=step)
        for key, value in params.items():
            client.log_param(run_id, key, value)
        for key, value in tags.items():
            client.set_tag(run_id, key, value)
        if finish:
            client.set_terminated(run_id)
        return f"mlruns/{experiment}/{run_id}"

    return run


HOLDOUT_PARAMS = {"dataset.uri": HOLDOUT["uri"], "dataset.version": HOLDOUT["version"]}


def test_mlflow_runs_pass_and_the_latest_step_counts(repo: Repo, mlflow_store: Any) -> None:
    # MLflow allows no '=' in a metric name: the slice is country:DE
    candidate = mlflow_store({"auc": [0.80, 0.93], "country:DE/auc": [0.9]}, {"artifact_sha256": SHA},
                             HOLDOUT_PARAMS)
    production = mlflow_store({"auc": [0.92], "country:DE/auc": [0.91]}, {"artifact_sha256": OTHER_SHA},
                              HOLDOUT_PARAMS)
    spec(repo, candidate, production=f"{{report: {production}}}",
         slices="[{name: 'country:DE', metrics: [{name: auc, minimum: 0.85, tolerance: 0.02}]}]")
    repo.commit()
    evl1, evl2, evl3 = (repo.rule(r) for r in ("EVL001", "EVL002", "EVL003"))
    assert (evl1.status, evl2.status, evl3.status) == ("pass", "pass", "pass"), messages(evl1) + messages(evl3)
    assert "auc = 0.93 ≥ minimum 0.85" in messages(evl1)  # step 1, not step 0's 0.80
    assert "its sha256" in messages(evl1) and "the run's artifact_sha256" in messages(evl1)
    assert "worse by 0.01, within 0.02" in messages(evl3)


def test_mlflow_run_with_the_logged_artifact_hashed(repo: Repo, mlflow_store: Any, tmp_path: Path) -> None:
    run = mlflow_store({"auc": [0.93]}, {}, HOLDOUT_PARAMS)
    from mlflow.tracking import MlflowClient

    (tmp_path / "model.tar.gz").write_bytes(b"not the deployed artifact")
    MlflowClient(tracking_uri=(repo.root / "mlruns").as_uri()).log_artifact(run.rsplit("/", 1)[1],
                                                                            str(tmp_path / "model.tar.gz"))
    spec(repo, run, previous=False)
    repo.commit()
    result = repo.rule("EVL001")
    assert result.status == "fail"
    assert f"/artifacts/model.tar.gz (hashed) is sha256 {hashlib.sha256(b'not the deployed artifact').hexdigest()}" \
        in messages(result)


def test_unfinished_mlflow_run_fails(repo: Repo, mlflow_store: Any) -> None:
    run = mlflow_store({"auc": [0.93]}, {"artifact_sha256": SHA}, HOLDOUT_PARAMS, finish=False)
    spec(repo, run, previous=False)
    repo.commit()
    result = repo.rule("EVL001")
    assert result.status == "fail"
    assert "status is RUNNING, not FINISHED" in messages(result)


# -- the failures the gate exists for ----------------------------------------------------------------------------

def test_metric_below_its_minimum_fails(repo: Repo) -> None:
    repo.write("eval/v4.json", plain({"auc": 0.83}))
    spec(repo, "eval/v4.json", previous=False)
    repo.commit()
    result = repo.rule("EVL001")
    assert result.status == "fail"
    assert "auc = 0.83 in eval/v4.json, below the minimum 0.85" in messages(result)


def test_lower_is_better_metric_above_its_maximum_fails(repo: Repo) -> None:
    repo.write("eval/v4.json", plain({"rmse": 4.2}))
    spec(repo, "eval/v4.json", previous=False, metrics="[{name: rmse, direction: lower, maximum: 4.0}]")
    repo.commit()
    assert "rmse = 4.2 in eval/v4.json, above the maximum 4" in messages(repo.rule("EVL001"))


def test_a_loss_without_a_direction_is_not_guessed(repo: Repo) -> None:
    repo.write("eval/v4.json", plain({"log_loss": 0.2}))
    spec(repo, "eval/v4.json", previous=False, metrics="[{name: log_loss, minimum: 0.1}]")
    repo.commit()
    assert "'log_loss' is usually better when lower, but it has no direction" in messages(repo.rule("EVL001"))


def test_regression_beyond_tolerance_fails_with_both_numbers(repo: Repo) -> None:
    repo.write("eval/v4.json", plain({"auc": 0.88}))
    repo.write("eval/v3.json", plain({"auc": 0.91}, sha=OTHER_SHA))
    spec(repo, "eval/v4.json", production="{report: eval/v3.json}")
    repo.commit()
    result = repo.rule("EVL002")
    assert result.status == "fail"
    assert ("auc: candidate 0.88 (eval/v4.json) against production 0.91 (eval/v3.json), higher is better: worse "
            "by 0.03, more than the tolerance 0.01") in messages(result)
    assert repo.rule("EVL001").status == "pass"  # above its minimum: only the comparison stops it


def test_production_from_git_history_of_the_report(repo: Repo) -> None:
    repo.write("eval/report.json", plain({"auc": 0.93}, sha=OTHER_SHA))
    spec(repo, "eval/report.json", production="{commit: v3}")
    repo.commit("release v3")
    repo.git("tag", "v3")
    repo.write("eval/report.json", plain({"auc": 0.90}))
    repo.commit("evaluate v4")
    result = repo.rule("EVL002")
    assert result.status == "fail"
    assert "against production 0.93 (eval/report.json at v3)" in messages(result)


def test_evaluation_on_a_training_dataset_fails(repo: Repo) -> None:
    repo.write("eval/v4.json", plain({"auc": 0.99}, dataset=TRAIN))
    spec(repo, "eval/v4.json", dataset=TRAIN, previous=False)
    repo.commit()
    result = repo.rule("EVL001")
    assert result.status == "fail"
    assert "the evaluation dataset is training dataset 'transactions'" in messages(result)
    assert "scored on data it learned from" in messages(result)


def test_report_for_another_artifact_fails(repo: Repo) -> None:
    repo.write("eval/v4.json", plain({"auc": 0.91}, sha=OTHER_SHA))
    spec(repo, "eval/v4.json", previous=False)
    repo.commit()
    result = repo.rule("EVL001")
    assert result.status == "fail"
    assert f"is of another artifact: its artifact_sha256 (line 10) is sha256 {OTHER_SHA}, but the deployed " \
           f"artifact's is {SHA}" in messages(result)


def test_missing_slice_fails(repo: Repo) -> None:
    repo.write("eval/v4.json", plain({"auc": 0.91}, slices={"country=DE": {"auc": 0.9}}))
    spec(repo, "eval/v4.json", previous=False,
         slices="[{name: country=FR, metrics: [{name: auc, minimum: 0.8}]}]")
    repo.commit()
    result = repo.rule("EVL003")
    assert result.status == "fail"
    assert "slice 'country=FR' is not in the report eval/v4.json" in messages(result)


def test_slice_regression_fails(repo: Repo) -> None:
    repo.write("eval/v4.json", plain({"auc": 0.91}, slices={"country=DE": {"auc": 0.84}}))
    repo.write("eval/v3.json", plain({"auc": 0.90}, sha=OTHER_SHA, slices={"country=DE": {"auc": 0.89}}))
    spec(repo, "eval/v4.json", production="{report: eval/v3.json}",
         slices="[{name: country=DE, metrics: [{name: auc, minimum: 0.8, tolerance: 0.02}]}]")
    repo.commit()
    result = repo.rule("EVL003")
    assert result.status == "fail"
    assert "auc of slice country=DE: candidate 0.84 (eval/v4.json) against production 0.89 (eval/v3.json)" \
        in messages(result)


def test_production_on_other_data_is_an_error_not_a_comparison(repo: Repo) -> None:
    older = {**HOLDOUT, "version": "HoLdOuT0v0"}
    repo.write("eval/v4.json", plain({"auc": 0.91}))
    repo.write("eval/v3.json", plain({"auc": 0.99}, sha=OTHER_SHA, dataset=older))
    spec(repo, "eval/v4.json", production="{report: eval/v3.json}")
    repo.commit()
    result = repo.rule("EVL002")
    assert result.status == "error"
    assert "scored on different data: the candidate on s3://acme-ml-data/fraud/holdout.parquet (version " \
           "HoLdOuT0v1), production on s3://acme-ml-data/fraud/holdout.parquet (version HoLdOuT0v0)" \
           in messages(result)
    assert "candidate 0.91" not in messages(result)  # never a silent comparison


def test_production_that_is_the_candidates_own_report_fails(repo: Repo) -> None:
    repo.write("eval/v4.json", plain({"auc": 0.91}))
    spec(repo, "eval/v4.json", production="{report: eval/v4.json}")
    repo.commit()
    assert "the model would be compared with itself" in messages(repo.rule("EVL002"))


def test_replacing_a_variant_without_a_production_report_fails(repo: Repo) -> None:
    repo.write("eval/v4.json", plain({"auc": 0.91}))
    spec(repo, "eval/v4.json")
    repo.commit()
    result = repo.rule("EVL002")
    assert result.status == "fail"
    assert "the rollout replaces variant 'fraud-v3', but evaluation.production names no report" in messages(result)


def test_untracked_report_fails(repo: Repo) -> None:
    spec(repo, "eval/v4.json", previous=False)
    repo.commit()
    repo.write("eval/v4.json", plain({"auc": 0.91}))
    assert "is not tracked by git" in messages(repo.rule("EVL001"))


def test_no_evaluation_section_fails_every_rule(repo: Repo) -> None:
    repo.write("mlgate.yaml", "version: 1\n")
    repo.commit()
    for rule in ("EVL001", "EVL002", "EVL003"):
        result = repo.rule(rule)
        assert result.status == "fail"
        assert "no evaluation: nothing shows this model was measured" in messages(result)


def test_a_report_that_is_not_json_fails_at_its_line(repo: Repo) -> None:
    repo.write("eval/v4.json", '{"auc": 0.9,\n "recall": }\n')
    spec(repo, "eval/v4.json", previous=False)
    repo.commit()
    result = repo.rule("EVL001")
    assert result.status == "fail"
    problem = next(f for f in result.findings if "is not JSON" in f.message)
    assert problem.location is not None and (problem.location.path, problem.location.line) == ("eval/v4.json", 2)


def test_manifest_cli_records_the_evaluation(repo: Repo, cli: Any) -> None:
    repo.write("eval/v4.json", sagemaker(auc=0.92, recall=0.8))
    spec(repo, "eval/v4.json", manifest=True, previous=False)
    repo.write("model.tar.gz", ARTIFACT)
    repo.commit()
    code, out, err = cli("manifest", "model.tar.gz", "--spec", "mlgate.yaml", "--started", "2026-11-20T09:00:00Z",
                         "--uri", "s3://acme-ml-models/fraud/v4/model.tar.gz", "--no-detect",
                         "--evaluation", "eval/v4.json", cwd=repo.root)
    assert code == 0, err
    assert "evaluation eval/v4.json sha256" in out and "auc 0.92" in out
    repo.commit()
    assert repo.rule("EVL001").status == "pass"
    code, _, err = cli("manifest", "model.tar.gz", "--started", "2026-11-20T09:00:00Z", "--evaluation", "nope.json",
                       cwd=repo.root)
    assert code == 2 and "--evaluation nope.json: no such file" in err


# -- the reports: the Markdown evaluation block, JSON and `mlgate provenance` ------------------------------------

def test_reports_show_candidate_against_production(repo: Repo, cli: Any) -> None:
    repo.write("eval/v4.json", plain({"auc": 0.88}, slices={"country=DE": {"auc": 0.9}}))
    repo.write("eval/v3.json", plain({"auc": 0.91}, sha=OTHER_SHA, slices={"country=DE": {"auc": 0.89}}))
    spec(repo, "eval/v4.json", production="{report: eval/v3.json}",
         slices="[{name: 'country=DE|<b>x</b>', metrics: [{name: auc, minimum: 0.85}]}]")
    repo.commit()
    code, out, _ = cli("check", str(repo.root), "--format", "markdown", "--select", "EVL")
    assert code == 1
    block = out.split("#### Evaluation", 1)[1].split("#### Checklist", 1)[0]
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark").enable("table").render(block)
    cells = [c.rsplit("<td", 1)[1].split(">", 1)[1] for c in html.split("</td>") if "<td" in c]
    assert cells[:5] == ["auc (higher is better)", "all", "0.88", "0.91", "-0.03"], cells
    assert "❌ regression beyond tolerance" in html
    # a slice name from the spec cannot add HTML or cells: it renders as the text it is
    assert "<b>" not in html and "country=DE|&lt;b&gt;x&lt;/b&gt;" in html
    code, out, _ = cli("check", str(repo.root), "--format", "json", "--select", "EVL")
    rows = json.loads(out)["deployments"][0]["evaluation"]["rows"]
    assert rows[0] == {"slice": None, "metric": "auc", "direction": "higher", "candidate": 0.88, "production": 0.91,
                       "difference": -0.03, "minimum": 0.85, "tolerance": 0.01, "verdict": "fail",
                       "why": "regression beyond tolerance"}
    code, out, _ = cli("provenance", str(repo.root))
    assert code == 0
    assert "evaluation eval/v4.json against eval/v3.json" in out
    assert "FAIL auc: 0.88 vs 0.91 (-0.03): regression beyond tolerance" in out
