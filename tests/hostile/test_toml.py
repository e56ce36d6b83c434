"""Hostile TOML: the team config (.mlgate.toml, pyproject.toml [tool.mlgate]), lockfiles and manifests (uv.lock,
poetry.lock, pyproject.toml) and a TOML seed source. Nesting 10,000 deep used to raise RecursionError through
tomllib (an internal error for the config, "the check failed to run" for REP002 and REP003)."""

from __future__ import annotations

import tomllib

import pytest

from mlgate.parsers import load_toml
from tests.hostile.support import COMMON, TOML, Cli, Model, check

PAYLOADS = {**COMMON, **TOML}
USABLE_CONFIG = {"empty", "bom only"}  # an empty config is a valid one


@pytest.mark.parametrize("name", PAYLOADS)
def test_config(model: Model, cli: Cli, name: str) -> None:
    model.write(".mlgate.toml", PAYLOADS[name])
    outcome = check(cli, model.root, "--select", "OPS003")
    if name in USABLE_CONFIG:
        assert outcome.code == 0
    else:
        assert outcome.code == 2
        assert outcome.err.startswith("mlgate: error: .mlgate.toml: "), outcome.err


@pytest.mark.parametrize(("name", "expected"), [
    ("deep arrays", "TOML syntax error: nesting too deep to parse"),
    ("deep inline tables", "TOML syntax error: nesting too deep to parse"),
    ("duplicate key", "TOML syntax error: Cannot overwrite a value (at line 2, column 6)"),
    ("binary", "is a binary file, not text"),
    ("huge", "is larger than 1024 KiB"),
    ("inf and nan", "unknown setting 'a'"),
])
def test_config_errors_name_the_problem(model: Model, cli: Cli, name: str, expected: str) -> None:
    model.write(".mlgate.toml", PAYLOADS[name])
    outcome = check(cli, model.root)
    assert outcome.code == 2
    assert expected in outcome.err


def test_pyproject_config_deep_nesting(model: Model, cli: Cli) -> None:
    """Regression: an internal error (RecursionError) from [tool.mlgate] in pyproject.toml."""
    model.write("pyproject.toml", TOML["deep inline tables"])
    outcome = check(cli, model.root)
    assert outcome.code == 2
    assert "pyproject.toml: TOML syntax error: nesting too deep to parse" in outcome.err


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "1e308", "5e-324"])
@pytest.mark.parametrize(("rule", "param"), [("REP003", "max_files"), ("SRV001", "hours_per_month"),
                                             ("SRV003", "headroom"), ("MON001", "min_captured_per_day")])
def test_config_parameter_out_of_range(model: Model, cli: Cli, rule: str, param: str, value: str) -> None:
    """Regression: TOML's inf/nan (and 1e308) as a parameter overflowed the rules' arithmetic (OverflowError in
    REP003, SRV001's cost estimate, SRV003 and MON001)."""
    model.write(".mlgate.toml", f"[params.{rule}]\n{param} = {value}\n")
    outcome = check(cli, model.root)
    assert outcome.code == 2
    assert f".mlgate.toml: params.{rule}.{param}: a number between 1e-9 and 1e15 in size, found" in outcome.err


def test_empty_rule_selector_is_refused(model: Model, cli: Cli) -> None:
    """`skip = [""]` matched every rule (every ID starts with ""): all rules skipped and the deployment READY."""
    model.write(".mlgate.toml", 'skip = [""]\n')
    outcome = check(cli, model.root)
    assert outcome.code == 2
    assert "skip: no rule matches ''" in outcome.err


LOCK_CASES = {
    "uv.lock": ("uv.lock", {"pyproject.toml": b'[project]\nname = "x"\nversion = "1"\ndependencies = ["numpy"]\n'}),
    "pyproject.toml (uv)": ("pyproject.toml", {"uv.lock": b'version = 1\n[[package]]\nname = "numpy"\n'
                                                          b'version = "1.0"\n'}),
    "poetry.lock": ("poetry.lock", {"pyproject.toml": b'[tool.poetry]\nname = "x"\n[tool.poetry.dependencies]\n'
                                                      b'numpy = "1.0"\n'}),
}


@pytest.mark.parametrize("name", PAYLOADS)
@pytest.mark.parametrize("case", LOCK_CASES)
def test_lockfile(model: Model, cli: Cli, case: str, name: str) -> None:
    target, others = LOCK_CASES[case]
    lock = "poetry.lock" if case == "poetry.lock" else "uv.lock"
    # in a directory of their own: a pyproject.toml at the root would also be read as the config
    model.edit_spec("lockfile: requirements.txt", f"lockfile: env/{lock}")
    for rel, data in others.items():
        model.write(f"env/{rel}", data)
    model.write(f"env/{target}", PAYLOADS[name])
    outcome = check(cli, model.root, "--select", "REP002")
    assert outcome.status("REP002") in ("fail", "error"), outcome.messages("REP002")


@pytest.mark.parametrize("name", PAYLOADS)
def test_seed_source(model: Model, cli: Cli, name: str) -> None:
    model.edit_spec("source: train/config.yaml#training.seed", "source: train/seed.toml#training.seed")
    model.write("train/seed.toml", PAYLOADS[name])
    outcome = check(cli, model.root, "--select", "REP003")
    assert outcome.status("REP003") in ("fail", "error"), outcome.messages("REP003")
    assert outcome.names("REP003", "train/seed.toml"), outcome.messages("REP003")


@pytest.mark.parametrize(("text", "message"), [
    ("a = " + "[" * 10_000 + "]" * 10_000, "nesting too deep to parse"),
    ("a = " + "9" * 5000, "a number has too many digits to read"),
    ("a = 1\na = 2", "Cannot overwrite a value"),
])
def test_load_toml_errors(text: str, message: str) -> None:
    with pytest.raises(tomllib.TOMLDecodeError, match=message):
        load_toml(text)
