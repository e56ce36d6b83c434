"""Shell words and simple commands: what shlex gives for quoting and escapes, in linear time."""

from __future__ import annotations

import shlex
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlgate.evidence.shell import simple_commands, words


@settings(max_examples=500, deadline=None)
@given(st.text(st.sampled_from(list("ab \t'\"\\-=")), max_size=30))
def test_words_agree_with_shlex_without_operators(command: str) -> None:
    try:
        expected = shlex.split(command)
    except ValueError:
        with pytest.raises(ValueError):
            words(command)
        return
    assert words(command) == expected


@pytest.mark.parametrize(("command", "expected"), [
    ("a && b || c; d | e & f", [["a"], ["b"], ["c"], ["d"], ["e"], ["f"]]),
    ("(a) && b", [["a"], ["b"]]),
    ('python -c "x(1); y"', [["python", "-c", "x(1); y"]]),
    ("echo 'a && b'", [["echo", "a && b"]]),
    ("echo a\\;b", [["echo", "a;b"]]),
    ('echo "\\$x \\`"', [["echo", "$x `"]]),  # as the shell reads it (shlex keeps the backslashes)
    ("a b\nc # d; e\nf", [["a", "b"], ["c"], ["f"]]),  # a line break ends a command; `#` starts a comment
    ("a \\\nb", [["a", "b"]]),  # a continued line
    ('a"#"b #c', [["a#b"]]),
])
def test_simple_commands(command: str, expected: list[list[str]]) -> None:
    assert simple_commands(command) == expected


@pytest.mark.parametrize("command", ["(" * 500_000 + ")" * 400_000, "'x' " + "a)" * 400_000])
def test_a_megabyte_takes_linear_time(command: str) -> None:
    # shlex took 54 s on the first; the second is 800,000 tokens (about 1 s on a loaded 2-core machine)
    started = time.perf_counter()
    simple_commands(command)
    assert time.perf_counter() - started < 5
