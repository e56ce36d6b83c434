"""The deployment model: the spec's intent and the infrastructure code resolved into the facts the rules judge."""

from mlgate.deployment.model import Fact, ResolvedDeployment
from mlgate.deployment.resolve import resolve

__all__ = ["Fact", "ResolvedDeployment", "resolve"]
