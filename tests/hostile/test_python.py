"""Hostile Python: training and inference code, and Python seed sources, are read with `ast` and never run. Source
nested deeper than Python parses or recurses through (3,000 chained attributes, 100,000 additions, nested lambdas)
used to raise RecursionError or MemoryError out of REP003 and SEC002 ("the check failed to run")."""

from __future__ import annotations

import json
import re

import pytest

from mlgate.rules.reproducibility.rep003_seed import _split
from tests.hostile.support import COMMON, PYTHON, Cli, Model, check, no_pwned

PAYLOADS = {**COMMON, **PYTHON}
UNREADABLE = {n for n in PAYLOADS if n not in ("empty", "bom only", "code that would run")}
UNREADABLE_BY_SEC002 = UNREADABLE - {"1,500 chained attributes"}  # its walk recurses less deeply than REP003's


@pytest.mark.parametrize("name", PAYLOADS)
def test_training_code(model: Model, cli: Cli, name: str) -> None:
    model.write("train/extra.py", PAYLOADS[name])
    outcome = check(cli, model.root, "--select", "REP003")
    if name in UNREADABLE:
        assert outcome.status("REP003") == "warn"
        assert "train/extra.py" in outcome.messages("REP003") and "was not scanned" in outcome.messages("REP003")
    else:
        assert outcome.status("REP003") == "pass"
    no_pwned(model.root)


@pytest.mark.parametrize("name", PAYLOADS)
def test_inference_code(model: Model, cli: Cli, name: str) -> None:
    model.write("serve/extra.py", PAYLOADS[name])
    outcome = check(cli, model.root, "--select", "SEC002")
    if name in UNREADABLE_BY_SEC002:
        assert "serve/extra.py was not scanned for logged inputs" in outcome.messages("SEC002")
    else:
        assert outcome.status("SEC002") == "pass"
    no_pwned(model.root)


@pytest.mark.parametrize("name", sorted(UNREADABLE - set(COMMON)))
def test_python_seed_source(model: Model, cli: Cli, name: str) -> None:
    model.edit_spec("source: train/config.yaml#training.seed", "source: train/seeds.py#SEED")
    model.write("train/seeds.py", PAYLOADS[name])
    outcome = check(cli, model.root, "--select", "REP003")
    assert outcome.status("REP003") == "fail"
    assert "seed source train/seeds.py" in outcome.messages("REP003")


def test_deep_chain_is_reported_as_too_deep(model: Model, cli: Cli) -> None:
    model.write("train/extra.py", PYTHON["1,500 chained attributes"])
    outcome = check(cli, model.root, "--select", "REP003")
    assert "train/extra.py:1 was not scanned for seeding calls: it does not parse: nesting too deep to read" \
        in outcome.messages("REP003")


def test_rollback_call_nested_too_deep(model: Model, cli: Cli) -> None:
    """A boto3 rollback call whose arguments nest deeper than Python parses: a warning that names it."""
    deep = "-" * 3000 + "1"
    command = ("python -c \"import boto3; boto3.client('sagemaker').update_endpoint_weights_and_capacities("
               f"EndpointName='churn-predictor', DesiredWeightsAndCapacities=[{deep}])\"")
    spec = re.sub(r"  rollback: >-\n(    .*\n)+", f"  rollback: {json.dumps(command)}\n", model.spec)
    model.write("mlgate.yaml", spec)
    outcome = check(cli, model.root, "--select", "OPS003")
    assert "mlgate cannot read the rollback command: the update_endpoint_weights_and_capacities call nests too " \
           "deeply to read" in outcome.messages("OPS003")


@pytest.mark.parametrize(("where", "expected"), [
    ("train/a.py:12", ("train/a.py", 12)),
    ("train/a:²", ("train/a:²", 1)),  # regression: "²".isdigit() is true, int("²") raises
    ("train/a:" + "9" * 5000, ("train/a:" + "9" * 5000, 1)),
    ("train/a.py", ("train/a.py", 1)),
])
def test_split_never_raises(where: str, expected: tuple[str, int]) -> None:
    assert _split(where) == expected
