"""What a check works with: `CheckContext`. The checks themselves live with their rules, one module per rule in
`mlgate.rules.<section>` (plugins import `CheckContext` from here). A check is `check(ctx) -> Iterable[Finding]`.

A check never prints, exits or renders. It reports problems against a *spec path* (`ctx.fail(...,
at=("rollout", "canary", "steps", 0))`) or an evidence file and line (`at=ctx.file(path, line)`); the loader
owns positions. It also reports the evidence behind a pass (`ctx.ok(...)`), which the Markdown report shows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.deployment.model import ResolvedDeployment
from mlgate.evidence.site import Site
from mlgate.evidence.workspace import Workspace
from mlgate.result import Finding, Location, RuleInfo, Status
from mlgate.spec.load import LoadedSpec
from mlgate.spec.models import Spec
from mlgate.yamlload import PathT

Where = PathT | Location | None


@dataclass
class CheckContext:
    """What one rule's check is given for one spec: the spec, the repository, the rule and its parameters."""
    loaded: LoadedSpec
    workspace: Workspace
    rule: RuleInfo
    # the rule's parameters: its `Params` model, validated (`ctx.params.name`; plugins may write ctx.params['name'])
    params: Any
    # "today" comes from the run (MLGATE_TODAY can fix it), so reports stay reproducible
    today: dt.date = field(default_factory=dt.date.today)
    # the spec and its infrastructure code resolved into what will be deployed (None: the spec as written)
    resolved: ResolvedDeployment | None = None

    @property
    def judges_claims(self) -> bool:
        """The IAC rules compare the spec as written with the code; every other rule judges the deployment."""
        return self.rule.section == "infrastructure" or self.resolved is None

    @property
    def spec(self) -> Spec:
        """What the rule judges: the deployment (the spec with the code's facts in place), or for the IAC rules
        the spec as written."""
        if self.judges_claims or self.resolved is None:
            return self.loaded.spec
        return self.resolved.spec

    @property
    def claimed(self) -> Spec:
        """The spec as the team wrote it."""
        return self.loaded.spec

    @property
    def pattern(self) -> str:
        """The serving pattern; a spec that does not say is judged as a realtime endpoint."""
        serving = self.spec.serving
        return serving.pattern if serving and serving.pattern else "realtime"

    @property
    def base(self) -> Path:
        """The directory holding the spec: every path in the spec is relative to it."""
        return self.loaded.base

    def at(self, path: PathT) -> Location:
        """The location of a spec field (or of its nearest written ancestor, when the field is missing); for a
        fact the infrastructure code decided, the place in the code."""
        if not self.judges_claims and self.resolved is not None:
            found = self.resolved.location(path)
            if found is not None:
                return found
        pos = self.loaded.pos(path)
        return Location(self.loaded.rel, pos.line, pos.column)

    @property
    def site(self) -> Site:
        """What the evidence readers take: the spec this rule judges, its directory, the workspace, its positions."""
        return Site(self.spec, self.base, self.workspace, self.at)

    def file(self, path: Path | str, line: int = 1) -> Location:
        """A location in an evidence file."""
        rel = path if isinstance(path, str) else self.workspace.rel(path)
        return Location(rel, max(1, line))

    def resolve(self, relative: str) -> Path:
        return self.workspace.resolve(self.base, relative)

    def _finding(self, status: Status, message: str, at: Where, fix: str | None,
                 related: tuple[Location, ...] = ()) -> Finding:
        location = self.at(at) if isinstance(at, tuple) else at
        subject = ".".join(str(key) for key in at) if isinstance(at, tuple) and at else None
        return Finding(status, message, location or self.at(()), fix, related, subject)

    def ok(self, message: str, at: Where = None) -> Finding:
        return self._finding("pass", message, at, None)

    def fail(self, message: str, at: Where = None, fix: str | None = None,
             related: tuple[Location, ...] = ()) -> Finding:
        return self._finding("fail", message, at, fix, related)

    def warn(self, message: str, at: Where = None, fix: str | None = None,
             related: tuple[Location, ...] = ()) -> Finding:
        return self._finding("warn", message, at, fix, related)

    def na(self, message: str, at: Where = None) -> Finding:
        return self._finding("n/a", message, at, None)

    def error(self, message: str, at: Where = None) -> Finding:
        return self._finding("error", message, at, None)


Check = Callable[[CheckContext], Iterable[Finding]]
