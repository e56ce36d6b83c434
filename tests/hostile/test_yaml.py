"""Hostile YAML: the spec itself, and every YAML evidence file a rule reads (.dvc, seed config, CloudFormation,
conda/pixi lockfiles, team rule files). Each gives exit 2 naming the file (and the line, where there is one) or
status `error`/`fail` on the rule that read it, with the reason; never a traceback, never code that runs."""

from __future__ import annotations

import time

import pytest

from tests.hostile.support import COMMON, YAML, Cli, Model, check, no_pwned

PAYLOADS = {**COMMON, **YAML}
# What the spec loader answers, at least, for each payload (the line where the YAML says where).
SPEC_ERRORS = {
    "empty": "mlgate.yaml:1: the spec must be a YAML mapping",
    "binary": "mlgate.yaml: is a binary file, not text",
    "non-utf8": "mlgate.yaml: is not UTF-8 text",
    "utf-16": "mlgate.yaml: is a binary file, not text",
    "nul byte": "mlgate.yaml: is a binary file, not text",
    "bom only": "mlgate.yaml:1: the spec must be a YAML mapping",
    "huge": "mlgate.yaml: is larger than 1024 KiB",
    "syntax error": "mlgate.yaml:2:2: YAML syntax error",
    "tab indent": "mlgate.yaml:2:1: YAML syntax error: found character that cannot start any token",
    "duplicate key": "mlgate.yaml:2:1: duplicate key 'a' (first defined at line 1)",
    "alias bomb": "expands to more than 100000 nodes",
    "deep flow": "mlgate.yaml:1:1001: YAML syntax error: exceeded maximum nesting depth",
    "deep mapping": "YAML syntax error: exceeded maximum nesting depth",
    "python object tag": "mlgate.yaml:1:4: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
    "python name tag": "mlgate.yaml:1:4: YAML tag 'tag:yaml.org,2002:python/name:os.system' is not allowed",
    "unknown tag": "mlgate.yaml:1:4: YAML tag '!Foo' is not allowed",
    "merge key": "mlgate.yaml:3:3: merge keys (<<) are not supported",
    "complex key": "mlgate.yaml:1:3: a mapping key must be a plain string",
    "two documents": "mlgate.yaml:2:1: YAML syntax error: but found another document",
    # regression: int() of more than 4,300 digits raised ValueError, an internal error
    "integer of 5000 digits": "mlgate.yaml:1:4: an integer of 5000 digits is too long to read",
    "bom then mapping": "mlgate.yaml:1:1: missing required key 'version'",
}


def test_every_payload_has_an_expected_spec_error() -> None:
    assert set(SPEC_ERRORS) == set(PAYLOADS)


@pytest.mark.parametrize("name", PAYLOADS)
def test_spec(model: Model, cli: Cli, name: str) -> None:
    model.write("mlgate.yaml", PAYLOADS[name])
    outcome = check(cli, model.root)
    assert outcome.code == 2
    assert SPEC_ERRORS[name] in outcome.err
    assert outcome.out == ""
    no_pwned(model.root)


# (rule, the file it reads, spec text to swap in first or None, statuses a broken file may give)
EVIDENCE = {
    "dvc file": ("REP001", "data/labels.csv.dvc", None, {"fail"}),
    "seed config": ("REP003", "train/config.yaml", None, {"fail", "error"}),
    "CloudFormation template": ("IAC001", "deploy/stack.yaml", None, {"error"}),
    "IAM policy": ("SEC001", "deploy/iam/churn-predictor-role.json", None, {"error"}),
    "pixi lockfile": ("REP002", "pixi.lock", ("lockfile: requirements.txt", "lockfile: pixi.lock"), {"fail", "error"}),
}


@pytest.mark.parametrize("name", PAYLOADS)
@pytest.mark.parametrize("evidence", EVIDENCE)
def test_evidence(model: Model, cli: Cli, evidence: str, name: str) -> None:
    rule, rel, swap, broken = EVIDENCE[evidence]
    if swap:
        model.edit_spec(*swap)
        model.write("pixi.toml", b'[project]\nname = "x"\n[dependencies]\nnumpy = "*"\n')
    model.write(rel, PAYLOADS[name])
    outcome = check(cli, model.root, "--select", rule)
    assert outcome.status(rule) in broken, outcome.messages(rule)
    assert outcome.names(rule, rel), outcome.messages(rule)
    no_pwned(model.root)


def test_integer_of_5000_digits_in_evidence_is_named(model: Model, cli: Cli) -> None:
    """Regression: a 5000-digit integer in a .dvc file made REP001, REP005 and MON002 "fail to run"."""
    model.write("data/labels.csv.dvc", YAML["integer of 5000 digits"])
    outcome = check(cli, model.root, "--select", "REP001")
    assert "an integer of 5000 digits is too long to read" in outcome.messages("REP001")


@pytest.mark.parametrize("name", ["python object tag", "alias bomb", "integer of 5000 digits", "binary"])
def test_team_rule_file(model: Model, cli: Cli, name: str) -> None:
    model.write(".mlgate/rules/TEAM001.yaml", PAYLOADS[name])
    outcome = check(cli, model.root)
    assert outcome.code == 2
    assert outcome.err.startswith("mlgate: error: .mlgate/rules/TEAM001.yaml")
    no_pwned(model.root)


def test_alias_bomb_in_a_large_file_is_cut_short(model: Model, cli: Cli) -> None:
    """A lockfile may hold 2,000,000 nodes, but aliases may not expand past 100,000: the bomb used to cost 10 s."""
    model.edit_spec("lockfile: requirements.txt", "lockfile: pixi.lock")
    model.write("pixi.toml", b'[project]\nname = "x"\n[dependencies]\nnumpy = "*"\n')
    model.write("pixi.lock", YAML["alias bomb"])
    started = time.monotonic()
    outcome = check(cli, model.root, "--select", "REP002")
    assert time.monotonic() - started < 5
    assert "aliases expand to more than 100000 nodes (a YAML bomb?)" in outcome.messages("REP002")
