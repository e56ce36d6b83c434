"""Secrets a CI checkout keeps in `.git/config` never reach a report (issue 18, item 1). The pull request cannot
write `.git/config`, but it can make mlgate print what is there: a manifest whose `repository` matches no remote
makes REP005 list the clone's remotes. Each remote URL is printed without its user-info, query string and
fragment, whichever way the token got there (the URL itself, `url.<base>.insteadOf`), in every format."""

from __future__ import annotations

import json

import pytest

from mlgate.evidence.git import public_url, redact
from tests.hostile.support import Cli, Model, check
from tests.hostile.test_git import git

SECRET = "S3CR3T-t0ken"
FORMATS = ["text", "markdown", "sarif", "json", "junit", "gitlab", "github"]


def _manifest_from_elsewhere(model: Model) -> None:
    path = next((model.root / "models").glob("*.json"))
    data = json.loads(path.read_text(encoding="utf-8"))
    data["code"]["repository"] = "https://github.com/someone-else/fork.git"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    model.commit()


@pytest.mark.parametrize("setup", [
    [("remote", "add", "origin", f"https://gitlab-ci-token:{SECRET}@gitlab.example.com/acme/ml.git")],
    [("remote", "add", "origin", f"https://{SECRET}@github.com/acme/ml.git")],
    [("remote", "add", "origin", f"https://gitlab.example.com/acme/ml.git?private_token={SECRET}#{SECRET}")],
    [("remote", "add", "origin", f"oauth2:{SECRET}@gitlab.example.com:acme/ml.git")],
    [("remote", "add", "origin", "https://gitlab.example.com/acme/ml.git"),
     ("config", f"url.https://x-access-token:{SECRET}@gitlab.example.com/.insteadOf", "https://gitlab.example.com/"),
     ("config", "http.https://gitlab.example.com/.extraheader", f"AUTHORIZATION: basic {SECRET}")],
], ids=["user and token", "token as user", "query and fragment", "scp-like with token", "insteadOf"])
def test_rep005_lists_remotes_without_their_credentials(model: Model, cli: Cli, setup: list[tuple[str, ...]]) -> None:
    for args in setup:
        git(model.root, *args)
    _manifest_from_elsewhere(model)
    outcome = check(cli, model.root, "--select", "REP005")
    assert "none of this clone's remotes (" in outcome.messages("REP005")
    assert "gitlab.example.com" in outcome.messages("REP005") or "github.com/acme/ml" in outcome.messages("REP005")
    for fmt in FORMATS:
        code, out, err = cli("check", str(model.root), "--select", "REP005", "--format", fmt)
        assert code in (0, 1), err
        assert SECRET not in out + err, fmt


def test_mlgate_manifest_records_the_remote_without_credentials(model: Model, cli: Cli) -> None:
    git(model.root, "remote", "add", "origin", f"https://gitlab.example.com/acme/ml.git?private_token={SECRET}")
    out = model.root / "m.json"
    code, _, err = cli("manifest", "--spec", str(model.root / "mlgate.yaml"), "--sha256", "a" * 64,
                       "--started", "2026-11-01T00:00:00Z", "--output", str(out))
    assert code == 0, err
    assert json.loads(out.read_text(encoding="utf-8"))["code"]["repository"] == "https://gitlab.example.com/acme/ml.git"


@pytest.mark.parametrize(("url", "public"), [
    (f"https://u:{SECRET}@h.example/a/b.git?t={SECRET}#x", "https://h.example/a/b.git"),
    (f"ssh://git:{SECRET}@h.example:2222/a/b.git", "ssh://h.example:2222/a/b.git"),
    ("git@github.com:acme/churn.git", "git@github.com:acme/churn.git"),
    (f"{SECRET}/x@h.example:a/b", f"{SECRET}/x@h.example:a/b"),  # a local path, not a credential
    (f"{SECRET}:pw@h.example:a/b.git", "h.example:a/b.git"),
    ("/srv/git/ml.git", "/srv/git/ml.git"),
])
def test_public_url(url: str, public: str) -> None:
    assert public_url(url) == public


def test_redact_hides_urls_credentials_and_authorization_in_git_errors() -> None:
    text = redact(f"fatal: unable to access 'https://u:{SECRET}@h.example/x?tok={SECRET}': "
                  f"header Authorization: Bearer {SECRET}")
    assert SECRET not in text
    assert "https://h.example/x" in text
