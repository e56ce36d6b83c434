"""Pictures in the Markdown report, as mermaid blocks GitHub and GitLab draw: the rollout plan as a `gantt`
timeline and the serving cost as an `xychart-beta` bar chart.

Nothing from a spec or an evidence file reaches a block as text. Mermaid has injection paths of its own (`click`
callbacks, `%%{init}` directives, HTML labels, `:` and `;` that end a statement, `#35;` entity codes), so every
label is written here from numbers and fixed words, and `_label` keeps only letters, digits, spaces and dots: what
cannot be said in that alphabet is dropped, never escaped.
"""

from __future__ import annotations

import re
from typing import Any

from mlgate.units import format_duration

_UNSAFE = re.compile(r"[^A-Za-z0-9 .]")
_PATTERNS = {"realtime": "realtime", "serverless": "serverless", "async": "async", "batch": "batch"}
_START = 43_200  # noon of the first day (unix seconds): the axis reads "day 1" in every time zone


def _label(text: str) -> str:
    return _UNSAFE.sub("", text).strip() or "step"


def _number(value: float) -> str:
    """A number in digits and at most one dot (no exponent, no sign)."""
    text = f"{abs(value):.2f}".rstrip("0").rstrip(".")
    return text if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text) else "0"


def _duration(seconds: float) -> str:
    """A mermaid duration: whole seconds and a unit (at least a second, so a step is drawn)."""
    text = format_duration(max(1.0, float(round(seconds))))
    return text if re.fullmatch(r"[0-9]+[smhdw]", text) else f"{max(1, round(seconds))}s"


def rollout_gantt(plan: dict[str, Any] | None) -> str | None:
    """The rollout as a timeline: shadow, each canary step with its bake time, full traffic, and the point up to
    which a rollback is a weight change (while the previous variant is kept warm). None without a rollout."""
    if not plan or not (plan.get("shadow") or plan.get("steps")):
        return None
    lines = ["gantt", "    title Rollout plan", "    dateFormat X", "    axisFormat day %e"]
    after = f"{_START}"
    shadow = plan.get("shadow")
    if shadow:
        seconds = shadow.get("seconds")
        what = f"Shadow {_number(shadow['percent'])} percent of traffic" if shadow.get("percent") is not None \
            else "Shadow"
        lines += ["    section Shadow",
                  f"    {_label(what if seconds else what + ' duration unknown')} :s0, {after}, "
                  f"{_duration(seconds or 3600)}"]
        after = "after s0"
    ramp = [s for s in plan.get("steps", []) if isinstance(s, int | float) and s < 100][:50]
    bake = plan.get("bake_seconds")
    if ramp:
        lines.append("    section Canary")
    for i, step in enumerate(ramp, 1):
        what = f"{_number(step)} percent, bake {format_duration(bake)}" if bake else \
            f"{_number(step)} percent, no bake time"
        lines.append(f"    {_label(what)} :c{i}, {after}, {_duration(bake or 60)}")
        after = f"after c{i}"
    full = "100 percent of traffic" if ramp else "100 percent of traffic at once, no canary"
    lines += ["    section Full traffic", f"    {_label(full)} :milestone, full, {after}, 0d"]
    rollback = ("Rollback point, previous variant kept warm" if plan.get("previous_warm") else
                "Rollback point, no warm previous variant")
    lines += ["    section Rollback", f"    {_label(rollback)} :milestone, back, {after}, 0d"]
    return "\n".join(lines)


def cost_chart(cost: dict[str, Any] | None) -> str | None:
    """Declared against the cheapest pattern that fits, in USD per month. None without a declared estimate."""
    declared = (cost or {}).get("declared") or {}
    if declared.get("monthly_usd") is None:
        return None
    bars = [(f"Declared {_PATTERNS.get(declared.get('pattern') or '', '')}", float(declared["monthly_usd"]))]
    cheapest = (cost or {}).get("cheapest") or {}
    if cheapest.get("monthly_usd") is not None and cheapest.get("pattern") != declared.get("pattern"):
        bars.append((f"Cheapest that fits {_PATTERNS.get(cheapest.get('pattern') or '', '')}",
                     float(cheapest["monthly_usd"])))
    top = max(value for _, value in bars) or 1.0
    names = ", ".join(f'"{_label(name)}"' for name, _ in bars)
    values = ", ".join(_number(value) for _, value in bars)
    return "\n".join(["xychart-beta", '    title "Serving cost, USD per month (estimate)"', f"    x-axis [{names}]",
                      f'    y-axis "USD per month" 0 --> {_number(top * 1.1)}', f"    bar [{values}]"])
