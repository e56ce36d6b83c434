"""Suggestions for a name that matches nothing: "did you mean ...?", or the list of names that exist."""

from __future__ import annotations

from collections.abc import Iterable


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to `name` (a case-only difference counts), or None."""
    import difflib  # only when a name is wrong: not on every run's import path

    names = sorted(set(known))
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    if close:
        return close[0]
    lowered = {n.lower(): n for n in names}
    return lowered.get(name.lower())


def did_you_mean(name: str, known: Iterable[str], what: str) -> str:
    """"did you mean 'x'?" when a known name is close, else the list of known names (or that there are none)."""
    names = sorted(set(known))
    if not names:
        return f"no {what} is defined"
    match = closest(name, names)
    if match:
        return f"did you mean '{match}'?"
    return f"known {what}s: {', '.join(names)}"
