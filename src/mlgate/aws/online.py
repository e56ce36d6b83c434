"""The online checks: after a rule's offline check, with `--aws`, what the account holds is compared with the
spec. A rule module's `online(ctx, live)` yields findings like its check does; a problem reaching AWS becomes an
`error` finding with its reason (or `n/a`, for an endpoint that does not exist yet, when the rule's
`aws_missing_endpoint` parameter says so), and the offline findings of the rule stand.

What the online checks read is shared through `mlgate.aws.live.Online`, read once per run; this module only runs
one and turns what stops it into a finding (the online checks import `live`, never this module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlgate.aws.live import NoLiveEndpoint
from mlgate.aws.session import AwsProblem
from mlgate.errors import EvidenceError
from mlgate.result import Finding
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    from mlgate.aws.live import Online
    from mlgate.checks import CheckContext
    from mlgate.rules import OnlineCheck

# Where a problem that stops a rule's online check is reported: the spec section the rule reads.
_SECTION: dict[str, PathT] = {"reproducibility": ("provenance",), "security": ("security",),
                              "rollout": ("rollout",), "monitoring": ("monitoring",), "evaluation": ("evaluation",)}


def findings(ctx: CheckContext, online: Online, check: OnlineCheck) -> list[Finding]:
    """The findings of `ctx.rule`'s online check; a problem reaching AWS is an error finding."""
    out: list[Finding] = []
    at = _SECTION.get(ctx.rule.section, ())
    try:
        for finding in check(ctx, online):
            out.append(finding)
    except NoLiveEndpoint as stop:  # nothing live to compare: the reason is the finding
        out.append(stop.finding)
    except AwsProblem as problem:
        out.append(ctx.error(f"in the AWS account: {problem}", at=at))
    except EvidenceError as exc:
        out.append(ctx.error(f"in the AWS account: could not read the evidence: {exc}", at=at))
    except Exception as exc:  # one broken online check must not stop the run
        out.append(ctx.error(f"the online check failed to run: {type(exc).__name__}: {exc}", at=at))
    return out
