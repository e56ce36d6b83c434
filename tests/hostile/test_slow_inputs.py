"""Tiny inputs that made a run take minutes (issue 18, item 6), each now bounded: an IAM action pattern with many
wildcards (a backtracking regular expression took 29 s for `s3:` + `*?` * 8 + `Z`, and never finished for 9), a
rollback command of 1 MB with unbalanced parentheses (OPS003's call search took 49 s). And the property: no string
field of the spec, up to 64 KiB, makes a run take more than 2 s end to end."""

from __future__ import annotations

import copy
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hostile.support import Cli, Model, check

# MLGATE_PROPERTY_EXAMPLES=500 for a longer search, as in tests/test_properties.py
EXAMPLES = int(os.environ.get("MLGATE_PROPERTY_EXAMPLES", "20"))

POLICY = "deploy/iam/churn-predictor-role.json"


def _add_action(model: Model, action: str) -> None:
    """Add `action` to the statement on Resource "*"."""
    policy = json.loads((model.root / POLICY).read_text(encoding="utf-8"))
    policy["Statement"][-1]["Action"].append(action)
    model.write(POLICY, json.dumps(policy, indent=2))
    model.commit()


def test_action_pattern_with_many_wildcards(model: Model, cli: Cli) -> None:
    _add_action(model, "s3:" + "*?" * 9 + "Z")
    outcome = check(cli, model.root, "--select", "SEC001", seconds=10)
    # the pattern matches no S3 action ending in Z: a warning that it names nothing known
    assert outcome.status("SEC001") == "warn"
    assert "names s3:*?*?*?*?*?*?*?*?*?Z, not in the IAM database" in outcome.messages("SEC001")


def test_action_pattern_that_matches_everything_it_can(model: Model, cli: Cli) -> None:
    _add_action(model, "s3:" + "*?" * 2000 + "t")  # matches s3 actions ending in t with 2,000+ letters: none
    _add_action(model, "s3:" + "*?" * 5 + "t")  # matches s3:GetObject, s3:PutObject...: a write to `*`
    outcome = check(cli, model.root, "--select", "SEC001", seconds=10)
    assert outcome.status("SEC001") == "fail"
    assert "grants s3:GetObject on Resource \"*\"" in outcome.messages("SEC001")
    assert "s3:DeleteBucket" in outcome.messages("SEC001")


FN = "update_endpoint_weights_and_capacities"


@pytest.mark.parametrize("rollback", [
    FN + "(" + "a)" * 400_000,  # unbalanced: every closing parenthesis used to be tried, each a parse
    (FN + "(") * 25_000,  # the function named 25,000 times, never called
    "aws sagemaker " + "(" * 500_000 + ")" * 400_000,  # shlex joined runs of parentheses one character at a time
    FN + "('" + ")" * 900_000,  # an unclosed string
], ids=["unbalanced parentheses", "name repeated", "parenthesis runs", "unclosed string"])
def test_rollback_of_one_megabyte(model: Model, cli: Cli, rollback: str) -> None:
    spec, n = re.subn(r"  rollback: >-\n(?:    .*\n)+", lambda _: f"  rollback: {json.dumps(rollback)}\n", model.spec)
    assert n == 1
    model.write("mlgate.yaml", spec)
    started = time.monotonic()
    outcome = check(cli, model.root, "--select", "OPS003", seconds=30)
    assert time.monotonic() - started < 10
    assert outcome.status("OPS003") in ("fail", "warn")


# -- any string field of up to 64 KiB, end to end ---------------------------------------------------------------

LIMIT = 64 * 1024
SECONDS = 2.0
# pieces that made parsers and matchers backtrack or scan again: wildcards, brackets, quotes, Markdown and shell
# punctuation, blanks and line breaks
PIECES = list("*?()[]{}`'\"\\<>|&;:$!#%=,.-_/ \n\taZ0")
# every format, Markdown included (its escaper is linear since issue 19: 2,500 backticks took a minute before)
FORMATS = ["json", "sarif", "text", "junit", "gitlab", "github", "markdown"]


def _string_paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _string_paths(v, (*path, k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in _string_paths(v, (*path, i))]
    return [path] if isinstance(data, str) else []


def _set(data: Any, path: tuple[Any, ...], value: str) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


@st.composite
def long_strings(draw: st.DrawFn) -> str:
    """Up to 64 KiB: a short random chunk repeated (where backtracking hides), sometimes framed by text."""
    chunk = draw(st.text(st.sampled_from(PIECES), min_size=1, max_size=6))
    text = (draw(st.text(st.sampled_from(PIECES), max_size=20)) + chunk * (LIMIT // len(chunk)))[:LIMIT]
    return text[:LIMIT - len(text.encode("utf-8")) + len(text)] if len(text.encode("utf-8")) > LIMIT else text


@pytest.fixture(scope="module")
def spec_data(_built_ready: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((_built_ready / "mlgate.yaml").read_text(encoding="utf-8"))
    return data


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_string_field_of_64_kib_takes_more_than_2_seconds(model: Model, cli: Cli, spec_data: dict[str, Any],
                                                             data: st.DataObject) -> None:
    spec = copy.deepcopy(spec_data)
    path = data.draw(st.sampled_from(_string_paths(spec)), label="field")
    _set(spec, path, data.draw(long_strings(), label="value"))
    model.write("mlgate.yaml", yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    outputs = [a for fmt in FORMATS for a in ("--format", fmt, "--output", str(model.root.parent / f"out.{fmt}"))]
    started = time.monotonic()
    code, _, err = cli("check", str(model.root), *outputs)
    took = time.monotonic() - started
    assert code in (0, 1, 2), err
    assert "Traceback" not in err
    assert took < SECONDS, f"{took:.1f} s with a string at {'.'.join(map(str, path))}"
