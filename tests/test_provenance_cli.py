"""`mlgate provenance`: one screen per deployment saying what data and code produced the model, and whether the
REP rules back it, on the bundled examples as repositories of their own."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Repo
from tests.example_repos import example_repo, ready_repo


def test_the_ready_example_shows_its_provenance_verified(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo = ready_repo(tmp_path / "ready")
    head = repo.git("rev-parse", "HEAD~1")  # the commit training ran from (ready_repo then commits the manifest)
    manifest = json.loads((repo.root / "models/churn-predictor-v7.manifest.json").read_text())
    code, out, err = cli("provenance", cwd=repo.root)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "churn-predictor v7 (mlgate.yaml)"
    assert lines[1] == "  artifact   s3://acme-ml-models/churn/v7/model.tar.gz"
    assert lines[2] == f"             sha256 {manifest['artifact']['sha256']}"
    assert lines[3].startswith("  manifest   models/churn-predictor-v7.manifest.json (mlgate ")
    assert lines[4].startswith("  trained    ")
    assert lines[5].startswith(f"  code       {head} (")
    assert lines[6] == "             training code train/, features/"
    assert "             labels            data/labels.csv  dvc: data/labels.csv.dvc md5:" \
           "5d2e7f1c9b0a4e8d3c6b1a7f2e9d4c80" in lines
    lock = manifest["dependencies"]["sha256"]
    assert f"  lockfile   requirements.txt  sha256 {lock} at {head[:7]}" in lines
    assert "  frameworks numpy 2.1.3, pandas 2.2.3, scikit-learn 1.5.2" in lines
    assert "  seed       20261101 (train/config.yaml#training.seed)" in lines
    assert [line.split()[:2] for line in lines if line.startswith("  REP")] == [
        [f"REP00{i}", "pass"] for i in range(1, 6)]
    assert lines[-1] == "  provenance verified: REP001-REP005 hold"
    assert len(lines) <= 24  # one screen


def test_the_not_ready_example_says_what_is_not_verified(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo = example_repo(tmp_path / "not-ready", "not-ready")
    code, out, _ = cli("provenance", str(repo.root / "mlgate.yaml"))
    assert code == 0
    assert "  manifest   (none: no provenance.artifact.manifest)\n" in out
    assert f"  code       main -> {repo.git('rev-parse', 'HEAD')} (" in out
    assert "  REP004 fail   Code pinned at a commit: commit 'main' is a branch name (refs/heads/main)" in out
    assert "  REP005 fail   Artifact registered with provenance: the artifact " \
           "s3://acme-ml-models/ticket-urgency/latest/model.tar.gz has no provenance manifest" in out
    assert out.endswith("  provenance NOT verified: REP001, REP002, REP003, REP004, REP005 fail; `mlgate check "
                        "mlgate.yaml --select REP` shows the fixes\n")


def test_a_broken_manifest_and_untrusted_text_are_shown_safely(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", 'version: 1\nmodel:\n  name: "churn\\e[2J"\nprovenance:\n  code:\n    commit: 0123456\n'
                              "  artifact:\n    manifest: m.json\n")
    repo.write("m.json", '{"mlgate_manifest": 7}')
    repo.commit("spec")
    code, out, _ = cli("provenance", cwd=repo.root)
    assert code == 0
    assert out.startswith("churn\\x1b[2J (mlgate.yaml)\n  artifact   (not stated)\n")
    assert "  manifest   m.json (invalid: is version 7; this mlgate reads version 1 manifests)\n" in out
    assert "  code       0123456 (not in this repository)\n" in out
    assert "  data       (not stated)\n" in out and "  lockfile   (not stated)\n" in out


def test_every_spec_below_a_directory_is_shown(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    repo = ready_repo(tmp_path / "mono")
    (repo.root / "models/fraud").mkdir(parents=True)
    (repo.root / "models/fraud/mlgate.yaml").write_text("version: 1\nmodel:\n  name: fraud\n")
    code, out, _ = cli("provenance", str(repo.root))
    assert code == 0
    headings = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert headings == ["churn-predictor v7 (mlgate.yaml)", "fraud (models/fraud/mlgate.yaml)"]
    assert "\n\nfraud (models/fraud/mlgate.yaml)\n" in out


def test_a_path_that_does_not_exist_exits_2(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli("provenance", str(tmp_path / "nope"))
    assert code == 2 and out == ""
    assert err == f"mlgate: error: {tmp_path / 'nope'}: no such file or directory\n"
