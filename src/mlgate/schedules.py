"""Schedule expressions as AWS accepts them: EventBridge `cron(...)` and `rate(...)`, and the Model Monitor
shorthands `hourly` and `daily`."""

from __future__ import annotations

import re

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
SHORTHANDS = {"hourly": 3600, "daily": 86400}
SCHEDULE_HELP = "cron(0 3 ? * MON *), rate(1 day), hourly or daily"


def schedule_problem(expression: str) -> str | None:
    """Why `expression` is not a valid schedule, or None when it is."""
    text = expression.strip()
    if text in SHORTHANDS:
        return None
    if text.startswith("rate("):
        match = _RATE.match(text)
        if not match:
            return f"'{text}' is not a rate expression: write rate(<value> <minute(s)|hour(s)|day(s)>)"
        value, unit = int(match.group(1)), match.group(2)
        if value < 1:
            return f"'{text}': the rate value must be a positive whole number"
        if (value == 1) != (not unit.endswith("s")):
            return f"'{text}': EventBridge wants the singular unit for 1 and the plural otherwise"
        return None
    if text.startswith("cron(") and text.endswith(")"):
        from aws_cron_expression_validator.validator import AWSCronExpressionValidator

        try:
            AWSCronExpressionValidator.validate(text[5:-1].strip())
        except ValueError as exc:
            return f"'{text}' is not a valid EventBridge cron expression: {str(exc).rstrip('.')}"
        return None
    return f"'{text}' is not a schedule: write {SCHEDULE_HELP}"


_HOURLY = {"hourly", "cron(0 * ? * * *)", "cron(0 * * * ? *)", "rate(1 hour)"}
_DAILY_CRON = re.compile(r"^cron\(\d{1,2} \d{1,2} (\?|\*) \* (\?|\*) \*\)$")


def frequency(expression: str) -> str:
    """A schedule as a comparable word: hourly, daily, or the expression itself (so that `hourly`, `rate(1 hour)`
    and `cron(0 * ? * * *)` compare equal)."""
    text = " ".join(expression.split())
    if text in _HOURLY:
        return "hourly"
    if text in ("daily", "rate(1 day)") or _DAILY_CRON.match(text):
        return "daily"
    return text
