"""OPS002: someone is paged when the model breaks (a pager target, not a placeholder or a chat room)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlgate.checks import CheckContext
from mlgate.result import Finding
from mlgate.rules.params import NoParams

Params = NoParams  # no parameters

_ON_CALL = ("operations", "on_call")
PLACEHOLDERS = {"tbd", "tba", "todo", "fixme", "none", "n/a", "na", "?", "??", "???", "-", "--", "team", "someone",
                "unknown", "null", "nobody", "xxx", "changeme", "the team", "our team"}
_PAGERS = {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie", "incidentio": "incident.io",
           "incident.io": "incident.io", "victorops": "VictorOps", "splunk-oncall": "Splunk On-Call"}
_PAGER_HOSTS = {"pagerduty.com": "PagerDuty", "opsgenie.com": "Opsgenie", "incident.io": "incident.io",
                "victorops.com": "VictorOps"}
_EMAIL = re.compile(r"(?:mailto:)?[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_URL = re.compile(r"https://([A-Za-z0-9.-]+)(?:/\S*)?")
_PAGER_FIX = "write a pager target: pagerduty:<service>, opsgenie:<team>, incidentio:<schedule>, " \
             "splunk-oncall:<routing key> or a team address that pages"


def _placeholder(text: str) -> bool:
    return text.strip().lower() in PLACEHOLDERS or not re.search(r"[A-Za-z0-9]", text)


def judge_target(target: str) -> tuple[str, str]:
    """("pager" | "slack" | "placeholder" | "unknown", description) for one on-call target."""
    text = target.strip()
    if _placeholder(text):
        return "placeholder", text
    provider, sep, rest = text.partition(":")
    if sep and provider.lower() in _PAGERS:
        if _placeholder(rest) or not rest.strip():
            return "placeholder", text
        return "pager", f"{_PAGERS[provider.lower()]} {rest.strip()}"
    if (sep and provider.lower() == "slack") or text.startswith("#"):
        return "slack", text
    if _EMAIL.fullmatch(text):
        return "pager", f"email {text.removeprefix('mailto:')}"
    url = _URL.fullmatch(text)
    if url:
        host = url.group(1).lower()
        for suffix, name in _PAGER_HOSTS.items():
            if host == suffix or host.endswith("." + suffix):
                return "pager", f"{name} {text}"
    return "unknown", text


def check(ctx: CheckContext) -> Iterator[Finding]:
    """Someone is paged when the model breaks: a pager target, not an empty field, a placeholder or a chat room."""
    value = ctx.spec.operations.on_call if ctx.spec.operations else None
    if value is None or not value.strip():
        yield ctx.fail("operations.on_call is not set: when the model breaks at 3 a.m., nobody is paged",
                       at=_ON_CALL, fix=_PAGER_FIX)
        return
    judged = [judge_target(part) for part in re.split(r"[,;]", value) if part.strip()]
    pagers = [desc for kind, desc in judged if kind == "pager"]
    if pagers:
        yield ctx.ok(f"on-call is paged through {', '.join(pagers)}", at=_ON_CALL)
        return
    kinds = {kind for kind, _ in judged}
    if kinds <= {"placeholder"}:
        yield ctx.fail(f"operations.on_call is '{value.strip()}', a placeholder: nobody is paged", at=_ON_CALL,
                       fix=_PAGER_FIX)
    elif "slack" in kinds:
        yield ctx.warn(f"operations.on_call is '{value.strip()}', a chat channel: a message there does not wake "
                       "anyone up", at=_ON_CALL, fix=_PAGER_FIX)
    else:
        yield ctx.warn(f"operations.on_call is '{value.strip()}': mlgate cannot tell whether it pages anyone",
                       at=_ON_CALL, fix=_PAGER_FIX)
