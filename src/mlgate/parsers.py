"""JSON and TOML parsing that fails the way a parser should, whatever the input.

`json.loads` and `tomllib.loads` raise RecursionError on deeply nested input (10,000 `[`), and `json.loads` keeps
the last of two equal keys without a word. Both are wrong for evidence written by someone who may want the gate to
pass: the nesting escapes every `except JSONDecodeError`, and a duplicate key lets a reader and mlgate disagree on
which value counts. These wrappers raise the library's own error type instead, so every caller's existing
`except json.JSONDecodeError` / `except tomllib.TOMLDecodeError` reports them as the syntax errors they are. So is
an integer of more than 4,300 digits, which `int()` refuses with a bare ValueError.
"""

from __future__ import annotations

import functools
import json
import sys
import tomllib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    import ast

P = ParamSpec("P")
R = TypeVar("R")


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def parse_python(rel: str, text: str) -> ast.Module:
    """A Python module's tree (file `rel`), for every reader of Python code: the seed scan, SEC002's logging scan,
    the readers of deploy scripts and serving code. Raises SyntaxError (for a NUL byte too, which `ast.parse`
    reports as a ValueError) and RecursionError for nesting too deep for Python."""
    import ast

    try:
        return ast.parse(text, filename=rel)
    except ValueError as exc:
        raise SyntaxError(str(exc)) from None


def load_json(text: str) -> Any:
    """`json.loads`, but a duplicate key, nesting too deep for Python or a number of thousands of digits is a
    `json.JSONDecodeError`."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as dup:
        raise json.JSONDecodeError(f"duplicate key {dup.key!r} in one object (readers disagree on which counts)",
                                   text, _duplicate_at(text)) from None
    except RecursionError:
        raise json.JSONDecodeError("nesting too deep to parse", text, 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError:  # int() of more digits than Python converts (sys.get_int_max_str_digits)
        raise json.JSONDecodeError("a number has too many digits to read", text, 0) from None


def _duplicate_at(text: str) -> int:
    """Where the duplicate key is: JSON is YAML, and the YAML loader names the line of a duplicate key."""
    from mlgate.yamlload import YamlError, parse_yaml

    try:
        parse_yaml(text)
    except YamlError as exc:
        if exc.message.startswith("duplicate key") and exc.line:
            return sum(len(line) for line in text.splitlines(keepends=True)[:exc.line - 1])
    except Exception:  # only the position of the message is at stake
        return 0
    return 0


def _toml_error(message: str, text: str) -> tomllib.TOMLDecodeError:
    if sys.version_info >= (3, 14):  # pragma: no cover - the (msg, doc, pos) form is new in 3.14
        return tomllib.TOMLDecodeError(message, text, 0)  # type: ignore[call-arg,unused-ignore]
    return tomllib.TOMLDecodeError(message)


def load_toml(text: str) -> dict[str, Any]:
    """`tomllib.loads`, but nesting too deep for Python or a number of thousands of digits is a
    `tomllib.TOMLDecodeError`."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise _toml_error("nesting too deep to parse", text) from None
    except tomllib.TOMLDecodeError:
        raise
    except ValueError:  # int() of more digits than Python converts (sys.get_int_max_str_digits)
        raise _toml_error("a number has too many digits to read", text) from None


def nesting_limit(error: Callable[[], Exception]) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """For a function that parses Python source with `ast` and walks the tree: source nested deeper than Python can
    parse or recurse through (RecursionError, or the MemoryError of the parser's own stack: 3,000 chained `.a`,
    `+1` or `lambda:`) raises `error()` instead, which the caller already reports as a file it cannot read."""
    def decorate(func: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return func(*args, **kwargs)
            except (RecursionError, MemoryError):
                raise error() from None
        return wrapper
    return decorate


def too_deep() -> SyntaxError:
    return SyntaxError("nesting too deep to read")
