"""The rules, one folder per checklist section. Per rule, the folder holds its YAML (`RLO002.yaml`: title, why, how to
fix, and `check:`, the public name a team rule reuses, e.g. `rollout.canary`) and its module (`rlo002_canary.py`),
which exports:

- `Params`: the typed parameters (`mlgate.rules.params.RuleParams`): defaults, bounds, one line of meaning each;
- `check(ctx)`: the offline check, yielding findings;
- `online(ctx, live)`, where it has one: what `--aws` compares in the account, after the offline check.

Helpers shared by a section's rules live beside them in `_*.py` modules. Adding a rule touches one folder
(CONTRIBUTING.md walks through it); the registry finds it by its file names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import import_module, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.rules.params import RuleParams

if TYPE_CHECKING:
    from mlgate.aws.live import Online
    from mlgate.checks import CheckContext
    from mlgate.result import Finding

Check = Callable[["CheckContext"], Iterable["Finding"]]
OnlineCheck = Callable[["CheckContext", "Online"], Iterable["Finding"]]


@dataclass(frozen=True)
class Implementation:
    """What runs for a rule: its check, its online counterpart (if any) and the model of its parameters."""

    check: Check
    online: OnlineCheck | None
    params: type[RuleParams] | None  # None: a plugin without `Params` (the registry makes one from its defaults)


@dataclass(frozen=True)
class BuiltinRule:
    """One shipped rule file and the module beside it."""

    section: str
    name: str  # RLO002.yaml
    text: str
    module: str | None  # mlgate.rules.rollout.rlo002_canary (None: not moved into its folder yet)


def folders() -> Iterator[Traversable]:
    """The section folders, in every directory of this package's path (an installed package has one)."""
    roots = [resources.files(__name__), *(Path(p) for p in __path__[1:])]
    for root in roots:
        for entry in sorted(root.iterdir(), key=lambda e: e.name):
            if entry.is_dir() and not entry.name.startswith(("_", ".")):
                yield entry



def builtin_rules() -> list[BuiltinRule]:
    """Every shipped rule: `<section>/<ID>.yaml`, with its module `<section>/<id>_<name>.py`."""
    out = []
    for folder in folders():
        names = [e.name for e in folder.iterdir()]
        for name in sorted(n for n in names if n.endswith(".yaml") and n[:1].isupper() and ".cases." not in n):
            stem = name.removesuffix(".yaml").lower() + "_"
            modules = sorted(n.removesuffix(".py") for n in names if n.startswith(stem) and n.endswith(".py"))
            module = f"{__name__}.{folder.name}.{modules[0]}" if modules else None
            out.append(BuiltinRule(folder.name, name, folder.joinpath(name).read_text(encoding="utf-8"), module))
    return out


def load(module_name: str) -> Implementation:
    """The implementation a built-in rule module exports."""
    module = import_module(module_name)
    params: Any = getattr(module, "Params", None)
    if not (isinstance(params, type) and issubclass(params, RuleParams)):
        raise LookupError(f"{module_name} has no Params (a RuleParams model)")
    return Implementation(module.check, getattr(module, "online", None), params)
