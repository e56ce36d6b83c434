"""Where a fact of the deployment comes from (see `mlgate.deployment.model.Fact`): a module of its own, so that the
model and the parts it holds (alarms.py) both import it and not each other."""

from __future__ import annotations

from typing import Literal

Origin = Literal["spec", "code", "spec+code"]
