"""Coverage-guided fuzzing of the IAM wildcard matcher (`mlgate.iam.match`): for any pattern and text, matching
agrees with a regular expression (on inputs small enough for the regular expression to answer, in any case
for ASCII) and never takes
long, whatever the wildcards (libFuzzer's -timeout, 2 s here, makes a slow input a crash).

    python fuzz/fuzz_iam_match.py                       atheris (libFuzzer), 60 seconds
    python fuzz/fuzz_iam_match.py -max_total_time=600   ten minutes (any libFuzzer flag works)
    python fuzz/fuzz_iam_match.py --hypothesis 600      without atheris: hypothesis draws the inputs for 600 s

The input's first byte picks the case folding, the rest is split at its first NUL into a pattern and a text. The
properties: `glob_matches` equals the reference; a text without wildcards overlaps exactly the patterns that match
it (as whole globs; `globs_overlap` compares ARNs segment by segment); `globs_overlap` is symmetric; a pattern
overlaps itself.
"""

from __future__ import annotations

import re
import sys
import time

REFERENCE_LIMIT = 40  # the reference regular expression backtracks: only short inputs with few stars


def reference(pattern: str, text: str, ignore_case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(regex, text, flags) is not None


def target(data: bytes) -> None:
    from mlgate.iam.match import _overlap, glob_matches, globs_overlap

    if not data:
        return
    ignore_case = bool(data[0] & 1)
    pattern, _, text = data[1:].decode("utf-8", "replace").partition("\0")
    matched = glob_matches(pattern, text, ignore_case=ignore_case)
    small = len(pattern) + len(text) <= REFERENCE_LIMIT and pattern.count("*") <= 4
    if small and (not ignore_case or (pattern.isascii() and text.isascii())):  # IAM names are ASCII
        assert matched is reference(pattern, text, ignore_case), (pattern, text)
    if not ignore_case and "*" not in text and "?" not in text:  # (globs_overlap compares ARNs segment by segment)
        assert _overlap(pattern, text) is matched, (pattern, text)
    assert globs_overlap(pattern, text) is globs_overlap(text, pattern), (pattern, text)
    assert globs_overlap(pattern, pattern)


def run_atheris(argv: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["mlgate.iam.match"]):
        import mlgate.iam.match  # noqa: F401
    flags = list(argv[1:])
    if not any(f.startswith("-max_total_time") or f.startswith("-runs") for f in flags):
        flags.append("-max_total_time=60")
    if not any(f.startswith("-timeout") for f in flags):
        flags.append("-timeout=2")
    atheris.Setup([argv[0], *flags], target)
    atheris.Fuzz()


def run_hypothesis(seconds: float) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    alphabet = st.sampled_from("*?ab:/A") | st.characters(exclude_categories=("Cs",))
    runs = 0

    @settings(max_examples=2000, deadline=2000, database=None, suppress_health_check=list(HealthCheck))
    @given(st.booleans(), st.text(alphabet, max_size=200), st.text(alphabet, max_size=200))
    def fuzz(ignore_case: bool, pattern: str, text: str) -> None:
        nonlocal runs
        runs += 1
        target(bytes([ignore_case]) + pattern.replace("\0", "").encode() + b"\0" + text.encode())

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        fuzz()
    print(f"hypothesis: {runs} inputs in {seconds:.0f} s, no crash")


def main(argv: list[str]) -> None:
    if len(argv) > 1 and argv[1] == "--hypothesis":
        run_hypothesis(float(argv[2]) if len(argv) > 2 else 60.0)
        return
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("atheris is not installed: fuzzing with hypothesis instead", file=sys.stderr)
        run_hypothesis(60.0)
        return
    run_atheris(argv)


if __name__ == "__main__":
    main(sys.argv)
