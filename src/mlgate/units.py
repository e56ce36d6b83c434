"""Durations written in a spec: `30m`, `1h`, `3d`, `2w`, `1h30m`, `90s`."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|h|d|w)")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
DURATION_HELP = "a duration such as 30m, 1h, 3d, 2w or 1h30m"


def parse_duration(text: object) -> float | None:
    """Seconds in `text`, or None when it is not a duration mlgate understands."""
    if not isinstance(text, str):
        return None
    compact = text.strip().lower().replace(" ", "")
    if not compact or not re.fullmatch(r"(?:\d+(?:\.\d+)?(?:s|m|h|d|w))+", compact):
        return None
    return sum(float(n) * _SECONDS[unit] for n, unit in _PART.findall(compact))


def format_duration(seconds: float) -> str:
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
