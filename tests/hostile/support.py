"""Shared by the hostile-input tests: a ready model repository to break, payload tables, and the run contract.

The contract every hostile input must meet (issue 10): exit code 0, 1 or 2; never a traceback or an "internal
error"; a rule that cannot use its evidence reports status `error` (or `fail`) with the reason, never "the check
failed to run" (an exception escaping a check); and a usable run finishes in bounded time.
"""

from __future__ import annotations

import json
import shutil
import signal
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.conftest import Repo

DEEP = 10_000  # "deep nesting (10,000 levels)"

# Bytes that no parser should choke on, whatever the format.
COMMON: dict[str, bytes] = {
    "empty": b"",
    "binary": bytes(range(256)) * 4,
    "non-utf8": b"key: caf\xe9 \xff\xfe\n",
    "utf-16": "key: value\n".encode("utf-16"),
    "nul byte": b"a\0b\n",
    "bom only": b"\xef\xbb\xbf",
    "huge": b"a" * (17 * 1024 * 1024),  # above the 16 MiB limit of the largest files mlgate reads (lockfiles)
}

YAML: dict[str, bytes] = {
    "syntax error": b"a: [1, 2\nb: }\n",
    "tab indent": b"a:\n\tb: 1\n",
    "duplicate key": b"a: 1\na: 2\n",
    "alias bomb": b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
        b"%s: &%s [%s]\n" % (bytes([c]), bytes([c]), b", ".join([b"*" + bytes([c - 1])] * 9)) for c in range(98, 104)),
    "deep flow": b"[" * DEEP + b"]" * DEEP,
    "deep mapping": b"{a: " * DEEP + b"1" + b"}" * DEEP,
    # the payloads that would run code `touch PWNED`: no_pwned() checks that nothing ran
    "python object tag": b"a: !!python/object/apply:os.system ['touch PWNED']\n",
    "python name tag": b"a: !!python/name:os.system\n",
    "unknown tag": b"a: !Foo bar\n",
    "merge key": b"x: &x {a: 1}\ny:\n  <<: *x\n",
    "complex key": b"? [a, b]\n: 1\n",
    "two documents": b"a: 1\n---\nb: 2\n",
    "integer of 5000 digits": b"a: " + b"9" * 5000 + b"\n",
    "bom then mapping": b"\xef\xbb\xbfa: 1\n",
}

JSON: dict[str, bytes] = {
    "syntax error": b'{"a": [1, 2}',
    "duplicate key": b'{"a": 1, "a": 2}',
    "deep arrays": b"[" * DEEP + b"]" * DEEP,
    "deep objects": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "NaN and Infinity": b'{"a": NaN, "b": Infinity}',
    "integer of 5000 digits": b'{"a": ' + b"9" * 5000 + b"}",
    "tab indent": b'{\n\t"a": 1\n}',
    "bom then object": b'\xef\xbb\xbf{"a": 1}',
    "a list, not an object": b"[1, 2]",
    "a string": b'"text"',
}

TOML: dict[str, bytes] = {
    "syntax error": b"[a\nb = \n",
    "duplicate key": b"a = 1\na = 2\n",
    "table redefined": b"[a]\nb = 1\n[a.b]\nc = 1\n",
    "deep arrays": b"a = " + b"[" * DEEP + b"]" * DEEP + b"\n",
    "deep inline tables": b"a = " + b"{b = " * DEEP + b"1" + b"}" * DEEP + b"\n",
    "bom then table": b"\xef\xbb\xbf[a]\nb = 1\n",
    "inf and nan": b"a = inf\nb = nan\n",
}

INI: dict[str, bytes] = {
    "no section header": b"seed = 1\n",
    "duplicate section": b"[training]\nseed = 1\n[training]\nseed = 2\n",
    "duplicate option": b"[training]\nseed = 1\nseed = 2\n",
    "interpolation loop": b"[training]\nseed = %(x)s\nx = %(seed)s\n",
    "broken header": b"[training\nseed\n",
    "superscript digit": b"[training]\nseed = \xc2\xb2\n",
    "two signs": b"[training]\nseed = +-5\n",
    "5000 digits": b"[training]\nseed = " + b"9" * 5000 + b"\n",
}

HCL: dict[str, bytes] = {
    "syntax error": b'resource "aws_sagemaker_endpoint" "e" {\n',
    "deep lists": b"x = " + b"[" * 3000 + b"]" * 3000 + b"\n",
    "deep objects": b"locals {\n  x = " + b"{a = " * 3000 + b"1" + b"}" * 3000 + b"\n}\n",
    "unterminated heredoc": b"x = <<EOF\nnever closed\n",
    "nested interpolations": b'x = "${' * 500 + b"1" + b'}"' * 500 + b"\n",
    "attribute set twice": (b'resource "aws_sagemaker_endpoint" "e" {\n  name = "churn-predictor"\n'
                            b'  name = "other"\n}\n'),
    "resource defined twice": (b'resource "aws_sagemaker_endpoint" "e" {\n  name = "churn-predictor"\n}\n'
                               b'resource "aws_sagemaker_endpoint" "e" {\n  name = "other"\n}\n'),
}

PYTHON: dict[str, bytes] = {
    "syntax error": b"def (:\n",
    "deep parentheses": b"x = " + b"(" * DEEP + b"1" + b")" * DEEP + b"\n",
    "3,000 chained attributes": b"import random\nrandom.seed(a" + b".b" * 3000 + b")\n",
    "1,500 chained attributes": b"import random\nrandom.seed(a" + b".b" * 1500 + b")\n",
    "100,000 additions": b"x = 1" + b"+1" * 100_000 + b"\n",
    "3,000 nested lambdas": b"x = " + b"lambda: " * 3000 + b"1\n",
    "nul byte": b"x = 1\0\n",
    "code that would run": b"import os\nos.system('touch PWNED')\nSEED = 1\n",
}


@dataclass
class Outcome:
    """One `mlgate check` run: exit code, standard output and error, and the JSON report when there is one."""

    code: int
    out: str
    err: str
    report: dict[str, Any] | None = None
    results: dict[str, dict[str, Any]] = field(default_factory=dict)

    def messages(self, rule: str) -> str:
        return "\n".join(f"{f['status']}: {f['message']}" for f in self.results[rule]["findings"])

    def names(self, rule: str, rel: str) -> bool:
        """Whether the rule's findings name `rel`, in a message or as the location."""
        findings = self.results[rule]["findings"]
        return any(rel in f["message"] or f["location"]["path"] == rel for f in findings)

    def status(self, rule: str) -> str:
        return str(self.results[rule]["status"])


def assert_contract(outcome: Outcome) -> None:
    """Exit 0/1/2, no traceback, no internal error, no exception escaping a check."""
    assert outcome.code in (0, 1, 2), outcome
    for marker in ("Traceback", "internal error", "MLGATE_DEBUG"):
        assert marker not in outcome.err, outcome.err
    for rule, result in outcome.results.items():
        for finding in result["findings"]:
            assert "the check failed to run" not in finding["message"], (rule, finding["message"])
    if outcome.code == 2:
        assert outcome.err.startswith("mlgate: error: "), outcome.err


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the block takes longer: a FIFO read would block forever."""
    def expired(*_: Any) -> None:
        raise TimeoutError(f"still running after {seconds} s: an input made mlgate block")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


Cli = Callable[..., tuple[int, str, str]]


def check(cli: Cli, root: Path, *args: str, seconds: int = 60) -> Outcome:
    """`mlgate check <root> --format json ...` in-process, within a time limit, with the contract asserted."""
    with time_limit(seconds):
        code, out, err = cli("check", str(root), "--format", "json", *args)
    outcome = Outcome(code, out, err)
    if out:
        outcome.report = json.loads(out)
        outcome.results = {r["rule"]: r for d in outcome.report["deployments"] for r in d["results"]}
    assert_contract(outcome)
    return outcome


# the example's CloudFormation lines: a test that swaps them for Terraform drops the parameter file with them
CFN_WITH_PARAMETERS = "  cloudformation: deploy/stack.yaml\n  parameters: deploy/params/prod.json"


class Model:
    """A copy of the ready example repository (every rule passes), to be broken one file at a time."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.root = repo.root

    @property
    def spec(self) -> str:
        return (self.root / "mlgate.yaml").read_text(encoding="utf-8")

    def edit_spec(self, old: str, new: str) -> None:
        text = self.spec
        assert old in text, old
        (self.root / "mlgate.yaml").write_text(text.replace(old, new), encoding="utf-8")

    def write(self, rel: str, data: bytes | str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(textwrap.dedent(data).lstrip("\n"), encoding="utf-8")
        else:
            path.write_bytes(data)
        return path

    def commit(self) -> None:
        self.repo.commit("change")


def copy_repo(source: Path, dest: Path) -> Repo:
    shutil.copytree(source, dest, symlinks=True)
    return adopt(dest)


def adopt(root: Path) -> Repo:
    """A Repo handle on an existing repository (Repo() would run `git init`)."""
    repo = Repo.__new__(Repo)
    repo.root = root
    return repo


def no_pwned(root: Path) -> None:
    """Nothing from the repository ran: the payloads `touch PWNED` in the working directory or the repository."""
    assert not (root / "PWNED").exists()
    assert not (Path.cwd() / "PWNED").exists()
