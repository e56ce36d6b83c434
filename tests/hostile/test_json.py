"""Hostile JSON evidence: the provenance manifest, Pipfile.lock, a JSON seed source and a JSON CloudFormation
template. Nesting 10,000 deep used to escape every `except JSONDecodeError` as a RecursionError ("the check failed
to run"); a duplicate key used to be read as its last value without a word."""

from __future__ import annotations

import json

import pytest

from mlgate.parsers import load_json
from tests.hostile.support import COMMON, JSON, Cli, Model, check

PAYLOADS = {**COMMON, **JSON}

# (rule, file, spec swap or None, extra files)
EVIDENCE = {
    "provenance manifest": ("REP005", "models/churn-predictor-v7.manifest.json", None, {}),
    "Pipfile.lock": ("REP002", "Pipfile.lock", ("lockfile: requirements.txt", "lockfile: Pipfile.lock"),
                     {"Pipfile": b'[packages]\nnumpy = "*"\n'}),
    "seed source": ("REP003", "train/seed.json", ("source: train/config.yaml#training.seed",
                                                   "source: train/seed.json#training.seed"), {}),
    "CloudFormation template": ("IAC001", "deploy/stack.json", ("cloudformation: deploy/stack.yaml",
                                                                "cloudformation: deploy/stack.json"), {}),
}


@pytest.mark.parametrize("name", PAYLOADS)
@pytest.mark.parametrize("evidence", EVIDENCE)
def test_evidence(model: Model, cli: Cli, evidence: str, name: str) -> None:
    rule, rel, swap, extra = EVIDENCE[evidence]
    if swap:
        model.edit_spec(*swap)
    for other, data in extra.items():
        model.write(other, data)
    model.write(rel, PAYLOADS[name])
    outcome = check(cli, model.root, "--select", rule)
    assert outcome.status(rule) in ("fail", "error"), outcome.messages(rule)


@pytest.mark.parametrize(("evidence", "expected"), [
    ("provenance manifest", "is not JSON: nesting too deep to parse"),
    ("Pipfile.lock", "is not valid JSON: nesting too deep to parse"),
    ("seed source", "is not valid JSON: nesting too deep to parse"),
    ("CloudFormation template", "is not valid JSON: nesting too deep to parse"),
])
def test_deep_nesting_is_a_syntax_error(model: Model, cli: Cli, evidence: str, expected: str) -> None:
    """Regression: RecursionError escaped the JSON parsers of REP005, REP002, REP003 and the IaC reader."""
    rule, rel, swap, extra = EVIDENCE[evidence]
    if swap:
        model.edit_spec(*swap)
    for other, data in extra.items():
        model.write(other, data)
    model.write(rel, JSON["deep arrays"])
    outcome = check(cli, model.root, "--select", rule)
    assert expected in outcome.messages(rule)


def test_duplicate_key_in_the_manifest_is_refused(model: Model, cli: Cli) -> None:
    """Two sha256 values in one manifest: a reviewer and mlgate could each read a different one."""
    path = model.root / "models/churn-predictor-v7.manifest.json"
    text = path.read_text(encoding="utf-8")
    assert text.count('"sha256":') >= 1
    forged = text.replace('"sha256":', '"sha256": "' + "0" * 64 + '", "sha256":', 1)
    model.write("models/churn-predictor-v7.manifest.json", forged)
    outcome = check(cli, model.root, "--select", "REP005")
    assert outcome.status("REP005") == "fail"
    assert "duplicate key 'sha256' in one object (readers disagree on which counts)" in outcome.messages("REP005")


@pytest.mark.parametrize(("text", "message", "line"), [
    ('{"a": 1,\n "a": 2}', "duplicate key 'a' in one object", 2),
    ('{"x": {"k": 1},\n "y": {"k": 1,\n       "k": 2}}', "duplicate key 'k' in one object", 3),
    ("[" * 10_000, "nesting too deep to parse", 1),
    ('{"a": 1, "b": [1, 2}', "Expecting ',' delimiter", 1),
])
def test_load_json_errors(text: str, message: str, line: int) -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        load_json(text)
    assert message in caught.value.msg
    assert caught.value.lineno == line


def test_load_json_reads_what_json_reads() -> None:
    text = '{"a": [1, 2.5, "x", null, true], "b": {"c": {}}, "d": "\\u00e9"}'
    assert load_json(text) == json.loads(text)
