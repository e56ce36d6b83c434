"""What an evidence reader needs from the spec it reads for: the spec, the directory its paths are relative to, the
workspace, and the spec's positions for its errors. Readers take a `Site`, never a rule's check context, so the
evidence layer does not depend on the checks above it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate.evidence.workspace import Workspace
from mlgate.result import Location
from mlgate.spec.models import Spec
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    from mlgate.spec.load import LoadedSpec


@dataclass(frozen=True)
class Site:
    """The spec an evidence reader reads for, where its paths start, and where its fields are written."""
    spec: Spec  # the spec as the caller judges it (as written, or with the infrastructure code's facts in place)
    base: Path  # the directory holding the spec: every path in it is relative to this
    workspace: Workspace
    at: Callable[[PathT], Location]  # where a field of the spec is written

    @classmethod
    def written(cls, loaded: LoadedSpec, workspace: Workspace) -> Site:
        """The spec as the team wrote it, with its own positions."""
        def at(path: PathT) -> Location:
            pos = loaded.pos(path)
            return Location(loaded.rel, pos.line, pos.column)

        return cls(loaded.spec, loaded.base, workspace, at)

    def resolve(self, relative: str) -> Path:
        return self.workspace.resolve(self.base, relative)
