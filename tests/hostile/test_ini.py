"""Hostile INI and .env seed sources (configparser, KEY=value lines): duplicates, no section, interpolation loops,
and values that look like integers to str.isdigit() but not to int() ("²", "+-5", 5,000 digits), which used to
raise ValueError out of REP003."""

from __future__ import annotations

import pytest

from mlgate.evidence.seeds import SeedSourceError, as_seed, seed_from_document, seed_from_python
from mlgate.yamlload import parse_yaml
from tests.hostile.support import COMMON, INI, Cli, Model, check

PAYLOADS = {**COMMON, **INI}


@pytest.mark.parametrize("name", PAYLOADS)
def test_ini_seed_source(model: Model, cli: Cli, name: str) -> None:
    model.edit_spec("source: train/config.yaml#training.seed", "source: train/setup.cfg#training.seed")
    model.write("train/setup.cfg", PAYLOADS[name])
    outcome = check(cli, model.root, "--select", "REP003")
    assert outcome.status("REP003") in ("fail", "error"), outcome.messages("REP003")
    assert outcome.names("REP003", "train/setup.cfg"), outcome.messages("REP003")


@pytest.mark.parametrize(("name", "expected"), [
    ("duplicate option", "is not a valid INI file: While reading from '<string>' [line  3]: option 'seed' in "
                         "section 'training' already exists"),
    ("duplicate section", "section 'training' already exists"),
    ("no section header", "is not a valid INI file: File contains no section headers."),
    ("superscript digit", "holds ², which is not an integer seed"),
    ("two signs", "holds +-5, which is not an integer seed"),
    ("5000 digits", "holds 99999"),
])
def test_ini_problems_are_named(model: Model, cli: Cli, name: str, expected: str) -> None:
    model.edit_spec("source: train/config.yaml#training.seed", "source: train/setup.cfg#training.seed")
    model.write("train/setup.cfg", PAYLOADS[name])
    outcome = check(cli, model.root, "--select", "REP003")
    assert expected in outcome.messages("REP003")


@pytest.mark.parametrize("line", [b"SEED=\xc2\xb2\n", b"SEED=+-5\n", b"export SEED=" + b"9" * 5000 + b"\n",
                                  b"SEED='unterminated\n", b"=1\n", b"SEED\n"])
def test_env_seed_source(model: Model, cli: Cli, line: bytes) -> None:
    model.edit_spec("source: train/config.yaml#training.seed", "source: train/.env#SEED")
    model.write("train/.env", line)
    outcome = check(cli, model.root, "--select", "REP003")
    assert outcome.status("REP003") == "fail"


@pytest.mark.parametrize("text", ["²", "+-5", "-+5", "9" * 5000, "٣"])
def test_as_seed_never_raises(text: str) -> None:
    """Regression: str.isdigit() accepts "²" and the digits after "+-", int() does not."""
    expected = 3 if text == "٣" else None  # an Arabic-Indic three is a decimal digit int() reads
    assert as_seed(text) == expected


@pytest.mark.parametrize("key", ["seeds.²", "seeds.--1", "seeds." + "9" * 5000])
def test_list_index_in_a_seed_key_never_raises(key: str) -> None:
    """Regression: a dotted key's list index went through int() after str.isdigit() (ValueError)."""
    doc = parse_yaml("seeds: [1, 2]\n")
    with pytest.raises(SeedSourceError, match="has no key"):
        seed_from_document(doc, key)


def test_python_seed_of_5000_hex_digits(model: Model, cli: Cli) -> None:
    """A hex literal of 5,000 digits parses, but str() of it fails: it is refused as no seed."""
    with pytest.raises(SeedSourceError, match="an integer of 20000 bits, far beyond any seed"):
        seed_from_python("SEED = 0x" + "f" * 5000 + "\n", "SEED")
