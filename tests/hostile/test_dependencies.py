"""REP002 locks what pip would install (issue 18, item 8): an index, find-links or trusted-host option in the lock
is flagged (a second index lets a package of the same name win: dependency confusion), a requirement under a
marker that never applies pins nothing, and a VCS requirement is pinned only at a full commit (pip ignores a
`#sha256=` fragment on a `git+` URL)."""

from __future__ import annotations

import re

import pytest

from tests.hostile.support import Cli, Model, check

LOCK = "requirements.txt"
SHA = "0123456789abcdef0123456789abcdef01234567"


def _edit_lock(model: Model, edit: str, *, after: str = "#\n\n") -> None:
    text = (model.root / LOCK).read_text(encoding="utf-8")
    assert after in text
    model.write(LOCK, text.replace(after, after + edit, 1))
    model.commit()


@pytest.mark.parametrize(("option", "why"), [
    ("--extra-index-url https://pypi.evil.example/simple", "dependency confusion"),
    ("--extra-index-url=https://pypi.evil.example/simple", "dependency confusion"),
    ("--index-url https://pypi.evil.example/simple", "instead of PyPI"),
    ("-i https://pypi.evil.example/simple", "instead of PyPI"),
    ("--find-links https://evil.example/wheels/", "beside the index"),
    ("-f ./wheels", "beside the index"),
    ("--trusted-host pypi.evil.example", "without checking its TLS certificate"),
])
def test_a_package_source_in_the_lock_is_flagged(model: Model, cli: Cli, option: str, why: str) -> None:
    _edit_lock(model, option + "\n")
    outcome = check(cli, model.root, "--select", "REP002")
    assert outcome.status("REP002") == "fail"
    assert f"`{option}` makes pip" in outcome.messages("REP002")
    assert why in outcome.messages("REP002")


def test_the_teams_own_index_may_be_allowed(model: Model, cli: Cli) -> None:
    _edit_lock(model, "--index-url https://pypi.acme.example/simple\n")
    model.write(".mlgate.toml", '[params.REP002]\nallowed_indexes = ["https://pypi.acme.example/simple"]\n')
    model.commit()
    assert check(cli, model.root, "--select", "REP002").status("REP002") == "pass"


@pytest.mark.parametrize("marker", ['python_version < "3"', 'sys_platform == "beos"', 'extra == "gpu"',
                                    'python_version >= "3.11" and python_version < "3.10"'])
def test_a_pin_under_a_marker_that_never_applies_pins_nothing(model: Model, cli: Cli, marker: str) -> None:
    text = (model.root / LOCK).read_text(encoding="utf-8")
    text, n = re.subn(r"^scikit-learn==1\.5\.2 \\", f"scikit-learn==1.5.2 ; {marker} \\\\", text, flags=re.M)
    assert n == 1
    model.write(LOCK, text)
    model.commit()
    outcome = check(cli, model.root, "--select", "REP002")
    assert outcome.status("REP002") == "fail"
    assert "never applies: its marker is false on Linux, macOS and Windows" in outcome.messages("REP002")
    assert "scikit-learn" in outcome.messages("REP002")


def test_a_marker_that_applies_somewhere_still_pins(model: Model, cli: Cli) -> None:
    text = (model.root / LOCK).read_text(encoding="utf-8")
    model.write(LOCK, re.sub(r"^scikit-learn==1\.5\.2 \\", 'scikit-learn==1.5.2 ; sys_platform == "linux" \\\\', text,
                             flags=re.M))
    model.commit()
    assert "never applies" not in check(cli, model.root, "--select", "REP002").messages("REP002")


@pytest.mark.parametrize(("requirement", "pinned"), [
    (f"tool @ git+https://example.com/tool.git@main#sha256={'a' * 64}", False),  # pip ignores the fragment
    (f"tool @ git+https://example.com/tool.git#sha256={'a' * 64}", False),
    ("tool @ git+https://example.com/tool.git@v1.2.3", False),  # a tag moves
    (f"tool @ git+https://example.com/tool.git@{SHA[:12]}", False),  # a short sha may become ambiguous
    (f"tool @ git+https://example.com/tool.git@{SHA}", True),
    (f"tool @ https://example.com/tool-1.0.tar.gz#sha256={'a' * 64}", True),  # an archive pip hashes
])
def test_a_vcs_requirement_is_pinned_only_at_a_full_commit(model: Model, cli: Cli, requirement: str,
                                                           pinned: bool) -> None:
    _edit_lock(model, requirement + "\n")
    messages = check(cli, model.root, "--select", "REP002").messages("REP002")
    assert ("is a direct reference that can change" in messages) is not pinned, messages
