"""What the infrastructure code deploys is the artifact with provenance (part of REP005).

The model data (`ModelDataUrl` / `model_data`) of the variant that runs the new model must be the artifact whose
data, code and seed the provenance records (`provenance.artifact.uri`); the serving image must be pinned by
digest, since a tag such as `:latest` can point at other code tomorrow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlgate.checks import CheckContext
from mlgate.result import Finding

# an ECR/registry image reference pinned by content: repository@sha256:<64 hex>
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def deployed_artifact(ctx: CheckContext) -> Iterator[Finding]:
    resolved = ctx.resolved
    if resolved is None:
        return
    yield from _model_data(ctx)
    image = resolved.fact(("serving", "image"))
    if image is not None and image.value is not None and not image.unknown:
        text = str(image.value)
        if not _DIGEST.search(text):
            tag = text.rsplit(":", 1)[-1] if ":" in text.rsplit("/", 1)[-1] else "latest (no tag: Docker's default)"
            yield ctx.fail(f"the serving image {text} is pinned by tag ({tag}), not by digest: the tag can be moved "
                           "to other code after this review, so the image deployed is not the one checked",
                           at=image.at, fix="deploy the image by digest (repository@sha256:...), as `docker "
                                            "inspect` or `aws ecr describe-images` print it")
        else:
            yield ctx.ok(f"the serving image is pinned by digest ({text.rsplit('@', 1)[-1][:19]}…)", at=image.at)


def _model_data(ctx: CheckContext) -> Iterator[Finding]:
    assert ctx.resolved is not None
    fact = ctx.resolved.fact(("deployed", "model_data"))
    if fact is None:
        return
    prov = ctx.spec.provenance
    recorded = prov.artifact.uri if prov and prov.artifact else None
    if fact.unknown:
        yield ctx.warn(f"the model data the endpoint serves is known only at deploy time ({fact.unknown}): mlgate "
                       "cannot check that it is the artifact with provenance", at=fact.at,
                       fix="write the artifact's S3 URI in the infrastructure code or its parameter file")
        return
    if not recorded:
        yield ctx.warn(f"the endpoint serves model data {fact.value}, and provenance.artifact.uri does not say which "
                       "artifact was recorded, so nothing ties what is deployed to its provenance", at=fact.at,
                       fix="set provenance.artifact.uri to the artifact the manifest records")
        return
    spec_at = ctx.at(("provenance", "artifact", "uri"))
    if _same_object(str(fact.value), recorded):
        yield ctx.ok(f"the endpoint serves the artifact with provenance, {recorded}", at=fact.at)
        return
    yield ctx.fail(f"the endpoint's new model serves model data {fact.value}, but the artifact with provenance is "
                   f"{recorded}: the model deployed is not the one whose data, code and seed were recorded",
                   at=fact.at, related=(spec_at,),
                   fix="deploy the recorded artifact (ModelDataUrl / model_data), or record the provenance of the "
                       "artifact you deploy (`mlgate manifest`) and point provenance.artifact at it")


def _same_object(deployed: str, recorded: str) -> bool:
    """The same S3 object: a `?versionId=` on the recorded uri pins a version the deployed url may not write."""
    return deployed.split("?", 1)[0].rstrip("/") == recorded.split("?", 1)[0].rstrip("/")



