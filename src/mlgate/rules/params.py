"""Rule parameters: each rule module exports `Params`, a typed model of its parameters with their defaults, bounds
and one line of meaning each. `mlgate explain` and docs/rules.md show them; `[tool.mlgate.params.ID]` overrides them
and is checked here, once, before any rule runs (the one validator: a wrong value is a usage error with the config's
file, never a finding in the middle of a run).

A plugin check without `Params` gets a model made from its rule's default values: an override must be of the same
kind as the default (3 and 2.5 are both numbers).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

from mlgate.errors import UsageError
from mlgate.result import ParamDoc
from mlgate.spec.models import LARGEST_NUMBER, SMALLEST_NUMBER


def _sized(value: Any) -> Any:
    # like a spec number, a parameter is finite and between 1e-9 and 1e15 in size (TOML has inf and nan); checked
    # before the type and the field's bounds, so `nan` is refused as what it is, not as "expected >= 0"
    if isinstance(value, int | float) and not isinstance(value, bool) and (
            math.isnan(value) or (value != 0 and not SMALLEST_NUMBER <= abs(value) <= LARGEST_NUMBER)):
        raise ValueError("a number between 1e-9 and 1e15 in size")
    return value


def _duration(value: str) -> str:
    from mlgate.units import parse_duration

    if parse_duration(value) is None:
        raise ValueError("a duration like 10m, 1h or 2d")
    return value


Number = Annotated[int | float, BeforeValidator(_sized)]
"""A finite number (an integer is a number too)."""

Duration = Annotated[str, AfterValidator(_duration)]
"""A duration as the spec writes one: `30s`, `10m`, `1h`, `2d`."""


_TYPE_TAGS = frozenset({"int", "float", "str", "bool", "list", "dict"})


class RuleParams(BaseModel):
    """The base of every rule's `Params`. Values are validated strictly ("10" is not a number) and frozen.

    A check reads `ctx.params.name`; `ctx.params["name"]` also works, for plugins written against the
    dictionary of earlier versions."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in type(self).model_fields


class OnlineParams(RuleParams):
    """Parameters of a rule with an online (`--aws`) check."""

    aws_missing_endpoint: Literal["error", "n/a"] = Field(
        "error", description="with --aws, when serving.endpoint does not exist in the account: `error` (a wrong "
                             "name, Region or account) or `n/a` (the endpoint awaits its first deployment)")


class NoParams(RuleParams):
    """A rule without parameters."""


def docs(params: type[RuleParams]) -> tuple[ParamDoc, ...]:
    out = []
    # the rule's own parameters first, then the ones every rule of its kind has (aws_missing_endpoint)
    inherited = {name for base in params.__mro__[1:] if isinstance(base, type) and issubclass(base, RuleParams)
                 for name in base.model_fields}
    fields = sorted(params.model_fields.items(), key=lambda item: item[0] in inherited)
    for name, field in fields:
        bounds = []
        for item in field.metadata:
            for attr, word in (("ge", ">= "), ("gt", "> "), ("le", "<= "), ("lt", "< ")):
                value = getattr(item, attr, None)
                if value is not None:
                    bounds.append(f"{word}{value:g}" if isinstance(value, int | float) else f"{word}{value}")
        choices = getattr(field.annotation, "__args__", None)
        if getattr(field.annotation, "__origin__", None) is Literal and choices:
            bounds.append("one of " + ", ".join(str(c) for c in choices))
        default = field.get_default(call_default_factory=True)
        out.append(ParamDoc(name, default, " ".join((field.description or "").split()), ", ".join(bounds)))
    return tuple(out)


def defaults(params: type[RuleParams]) -> dict[str, Any]:
    return {d.name: d.default for d in docs(params)}


def from_defaults(rule_id: str, values: Mapping[str, Any]) -> type[RuleParams]:
    """A model for a rule whose check has no `Params` (a plugin): each parameter keeps the kind of its default."""
    fields: dict[str, Any] = {}
    for name, default in values.items():
        kind: Any = Any
        if isinstance(default, bool):
            kind = bool
        elif isinstance(default, int | float):
            kind = Number
        elif isinstance(default, str):
            kind = str
        elif isinstance(default, list):
            kind = list
        elif isinstance(default, dict):
            kind = dict
        fields[name] = (kind, default)
    return create_model(f"Params_{rule_id}", __base__=RuleParams, **fields)


def validate(rule_id: str, params: type[RuleParams], values: Mapping[str, Any], source: str | None) -> RuleParams:
    """The rule's parameters from its defaults and `values` (the team's overrides); a wrong one is a usage error
    naming `params.ID.name` in `source`."""
    if dict(values) == defaults(params):  # the rule's own defaults: nothing to check, and no validator to build
        return params.model_construct()
    try:
        return params.model_validate(dict(values))
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        # the value's place, without the names pydantic gives a union's members ("int", "function-after[...]")
        where = ".".join(str(p) for p in err["loc"] if str(p) not in _TYPE_TAGS and "[" not in str(p))
        if err["type"] == "extra_forbidden":
            known = ", ".join(sorted(params.model_fields)) or "none"
            message = f"params.{rule_id}: unknown parameter {where} (known: {known})"
        else:
            given = err.get("input")
            field = params.model_fields.get(str(err["loc"][0])) if err["loc"] else None
            default = field.get_default(call_default_factory=True) if field is not None else None
            if field is not None and field.annotation is int and str(err["type"]).startswith("int_"):
                message = f"params.{rule_id}.{where}: expected a whole number like the default {default!r}, " \
                          f"found {given!r}"
            elif str(err["type"]).endswith("_type") and field is not None:
                message = f"params.{rule_id}.{where}: expected {_kind(default)} like the default {default!r}, " \
                          f"found {given!r}"
            else:
                from mlgate.spec.load import expected

                reason = expected(str(err["msg"]).removeprefix("Value error, "))
                message = f"params.{rule_id}.{where}: {reason}, found {given!r}"
        raise UsageError(message, path=source, hint=f"`mlgate explain {rule_id}` lists its parameters") from None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
