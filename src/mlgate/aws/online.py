"""The online checks: after a rule's offline check, with `--aws`, what the account holds is compared with the
spec. A rule module's `online(ctx, live)` yields findings like its check does; a problem reaching AWS becomes an
`error` finding with its reason (or `n/a`, for an endpoint that does not exist yet, when the rule's
`aws_missing_endpoint` parameter says so), and the offline findings of the rule stand.

What the extensions read is shared through `mlgate.aws.live.Online`, read once per run; this module only dispatches
(the extensions import `live`, never this module, so the two do not import each other).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from mlgate.aws.session import AwsProblem
from mlgate.errors import EvidenceError
from mlgate.result import Finding
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    from mlgate.aws.live import Online
    from mlgate.checks import CheckContext

Extension = Callable[["CheckContext", "Online"], Iterable[Finding]]

# Where a problem that stops a rule's online check is reported: the spec section the rule reads.
_SECTION: dict[str, PathT] = {"reproducibility": ("provenance",), "security": ("security",),
                              "rollout": ("rollout",), "monitoring": ("monitoring",), "evaluation": ("evaluation",)}


def _extensions() -> dict[str, Extension]:
    from mlgate.aws.artifact import registered
    from mlgate.aws.data import pinned
    from mlgate.aws.evaluation import no_regression
    from mlgate.aws.monitoring import capture, data_drift, operational, prediction_drift
    from mlgate.aws.security import least_privilege

    return {"REP001": pinned, "REP005": registered, "SEC001": least_privilege, "EVL002": no_regression,
            "MON001": capture, "MON002": data_drift, "MON003": prediction_drift, "MON004": operational}


def legacy_extension(rule_id: str) -> Extension | None:
    """The online check of a rule not yet moved into its folder (by rule ID)."""
    return _extensions().get(rule_id)


def findings(ctx: CheckContext, online: Online, extension: Extension) -> list[Finding]:
    """The findings of `ctx.rule`'s online check `extension`; a problem reaching AWS is an error finding."""
    out: list[Finding] = []
    at = _SECTION.get(ctx.rule.section, ())
    try:
        for finding in extension(ctx, online):
            out.append(finding)
    except AwsProblem as problem:
        out.append(ctx.error(f"in the AWS account: {problem}", at=at))
    except EvidenceError as exc:
        out.append(ctx.error(f"in the AWS account: could not read the evidence: {exc}", at=at))
    except Exception as exc:  # one broken online check must not stop the run
        out.append(ctx.error(f"the online check failed to run: {type(exc).__name__}: {exc}", at=at))
    return out
