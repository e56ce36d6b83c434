"""What the infrastructure rules (IAC001-IAC003) share: the spec's endpoint found in the CloudFormation, CDK or
Terraform that creates it, and the judge that compares each fact both state.

A spec is a claim; the infrastructure code is what gets deployed. Each rule reads the resources behind the spec's
endpoint (see `mlgate.evidence.iac`) and compares every fact both state: a disagreement fails with both sides and
both locations (the spec line as the finding's place, the IaC file:line in the message). A fact the spec leaves out
is taken from the code, and the finding says where it came from. A value the code computes at deploy time (a
parameter without a default, a condition, `!ImportValue`, a Terraform variable without a default, a module) is
reported as unknown with its location, never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mlgate.checks import CheckContext
from mlgate.evidence.iac import Infrastructure, Selection, infrastructure, infrastructure_paths, select_endpoint
from mlgate.evidence.iac.model import Endpoint, EndpointConfig, Value, Variant, show
from mlgate.result import Finding, Location
from mlgate.yamlload import PathT


def spec_pattern(ctx: CheckContext) -> str | None:
    return ctx.spec.serving.pattern if ctx.spec.serving else None


def dotted(path: PathT) -> str:
    return ".".join(str(p) for p in path)


def num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def same(a: Any, b: Any) -> bool:
    na, nb = num(a), num(b)
    if na is not None and nb is not None:
        return math.isclose(na, nb, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, bool) or isinstance(b, bool):
        return _flag(a) is not None and _flag(a) == _flag(b)
    return show(a) == show(b)


def _flag(value: Any) -> bool | None:
    """A boolean as CloudFormation accepts it: true/false, or the strings "true"/"false" (any case)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def source_note(value: Value) -> str:
    return f"; {value.source}" if value.source else ""


def iac_fact(value: Value) -> str:
    """An IaC fact with its place: `ml.m5.large (deploy/stack.yaml:41)`."""
    return f"{value.text} ({value.where()}{source_note(value)})"


def unknown_fix(kind: str) -> str:
    if kind == "script":
        return ("write the value in the deploy script as a literal or a module-level constant (not read from the "
                "environment or the command line), so that what will be deployed can be checked before it is")
    if kind == "terraform":
        return ("write the value in the Terraform code, give the variable a default, or set it in "
                "terraform.tfvars or a file named in infrastructure.tfvars, so that what will be deployed can be "
                "checked before it is")
    return "write the value in the template, give the parameter a Default, or name the parameter file the stack " \
           "is deployed with in infrastructure.parameters, so that what will be deployed can be checked before it is"


@dataclass
class Judge:
    """Collects the comparisons of one rule: findings for disagreements and unknowns, and the agreements for one
    closing `pass` that names the evidence."""

    ctx: CheckContext
    kind: str
    findings: list[Finding] = field(default_factory=list)
    agreed: list[str] = field(default_factory=list)

    def compare(self, what: str, spec: Any, at: PathT, iac: Value | None, *, fix: str,
                equal: Callable[[Any, Any], bool] = same, shown: str | None = None,
                default: Value | None = None, absent: str | None = None) -> None:
        """`spec` (the spec's value at `at`) against the IaC fact `iac` (None: not written; then `default`, the
        value SageMaker or Terraform uses, stands in, or `absent` is the problem when the spec states one)."""
        if iac is None:
            if default is None:
                if spec is not None and absent:
                    self.findings.append(self.ctx.fail(absent, at=at, fix=fix))
                return
            iac = default
        spec_text = shown if shown is not None else (show(spec) if spec is not None else None)
        if spec is None:
            if iac.known and iac is not default:
                self.findings.append(self.ctx.ok(
                    f"{dotted(at)} is not in the spec; the infrastructure code sets {what} to {iac_fact(iac)}",
                    at=iac.at))
            return
        if not iac.known:
            self.findings.append(self.ctx.warn(
                f"{dotted(at)} is {spec_text}, but {what} in the infrastructure code is {iac.text}, known only at "
                f"deploy time ({iac.unknown}; {iac.where()}): mlgate cannot check that they agree", at=at,
                fix=unknown_fix(self.kind)))
            return
        if equal(spec, iac.value):
            self.agreed.append(f"{what} {iac_fact(iac)}")
            return
        via = f" ({iac.source})" if iac.source else ""
        self.findings.append(self.ctx.fail(
            f"{dotted(at)} is {spec_text}, but the infrastructure code sets {what} to {iac.text}{via}; the rules "
            "judge the code's value, which is what will be deployed", at=at, fix=fix,
            related=tuple(loc for loc in (iac.set_at, iac.at) if loc)))

    def fail(self, message: str, at: PathT | Location, fix: str, related: tuple[Location, ...] = ()) -> None:
        self.findings.append(self.ctx.fail(message, at=at, fix=fix, related=related))

    def warn(self, message: str, at: PathT | Location, fix: str) -> None:
        self.findings.append(self.ctx.warn(message, at=at, fix=fix))

    def ok(self, message: str, at: PathT | Location) -> None:
        self.findings.append(self.ctx.ok(message, at=at))

    def agree(self, fact: str) -> None:
        self.agreed.append(fact)

    def close(self, at: PathT, origin: str, how: str) -> Iterator[Finding]:
        yield from self.findings
        problems = any(f.status in ("fail", "error") for f in self.findings)
        if self.agreed and not problems:
            yield self.ctx.ok(f"the spec agrees with the infrastructure code ({origin}; {how}) on: "
                              + "; ".join(self.agreed), at=at)
        elif not self.findings:
            yield self.ctx.na(f"neither the spec nor the infrastructure code ({origin}) states a fact this rule "
                              "compares", at=at)


# -- loading ----------------------------------------------------------------------------------------------------------

@dataclass
class Target:
    """The spec's endpoint found in the infrastructure code, with the config it deploys."""
    infra: Infrastructure
    selection: Selection
    endpoint: Endpoint
    config: EndpointConfig | None
    origin: str
    kind: str


def _load(ctx: CheckContext) -> tuple[Infrastructure | None, list[Finding]]:
    paths = infrastructure_paths(ctx.site)
    if not paths:
        return None, [ctx.na("the spec names no infrastructure code (infrastructure.cloudformation, "
                             "infrastructure.terraform or infrastructure.scripts), so there is nothing to cross-check",
                             at=("infrastructure",))]
    scripts = ctx.spec.infrastructure.scripts if ctx.spec.infrastructure else []
    missing = [ctx.fail(f"infrastructure.scripts names {written}, which does not exist",
                        at=("infrastructure", "scripts", scripts.index(written)),
                        fix="point it at the Python script that deploys the endpoint (boto3 or the SageMaker SDK)")
               if kind == "script" else
               ctx.fail(f"infrastructure.{kind} names {written}, which does not exist", at=("infrastructure", kind),
                        fix="point it at the CloudFormation template (YAML or JSON, or cdk.out/*.template.json) "
                            "or the Terraform directory that creates the endpoint")
               for kind, written, path in paths if not path.exists()]
    if missing:
        return None, missing
    return infrastructure(ctx.site), []


def _origin(infra: Infrastructure) -> str:
    files = infra.files
    return files[0] if len(files) == 1 else f"{infra.origin}, {len(files)} files"


def find_target(ctx: CheckContext, *, strict: bool) -> tuple[Target | None, list[Finding]]:
    """The spec's endpoint in the infrastructure code. `strict` (IAC001) reports a missing endpoint as a failure;
    the other rules only say they cannot apply."""
    infra, early = _load(ctx)
    if infra is None:
        return None, early
    name = ctx.spec.serving.endpoint if ctx.spec.serving else None
    selection = select_endpoint(infra, name)
    origin = _origin(infra)
    kind = infra.kind
    where: PathT = ("infrastructure", kind)
    if selection.endpoint is None:
        if spec_pattern(ctx) == "batch" and not infra.endpoints:
            return None, [ctx.ok(f"serving.pattern is batch and the infrastructure code ({origin}) defines no "
                                 "endpoint, as a batch transform needs none", at=("serving", "pattern"))]
        if not strict:
            return None, [ctx.na(f"the spec's endpoint is not found in the infrastructure code ({origin}; see "
                                 f"IAC001), so there is nothing to compare", at=where)]
        gaps = "; ".join(f"{g.what} ({g.at.path}:{g.at.line})" for g in infra.gaps)
        if gaps:
            return None, [ctx.warn(f"the infrastructure code ({origin}) {selection.problem}; it may be created "
                                   f"where mlgate cannot read: {gaps}", at=where,
                                   fix="define the endpoint in the named code, or name the code that defines it")]
        return None, [ctx.fail(f"the infrastructure code ({origin}) {selection.problem}, so nothing there deploys "
                               "the spec's endpoint", at=("serving", "endpoint") if name else where,
                               fix="name the template or Terraform directory that creates the endpoint in "
                                   "infrastructure:, and set serving.endpoint to the endpoint's name")]
    return Target(infra, selection, selection.endpoint, selection.config, origin, kind), []


def compared_target(ctx: CheckContext, batch: str) -> tuple[Target | None, list[Finding]]:
    """The spec's endpoint in the code for a rule that compares what it deploys (IAC002, IAC003): with
    serving.pattern batch there is none, and `batch` says why that leaves nothing to compare."""
    if spec_pattern(ctx) == "batch":
        return None, [ctx.na(batch, at=("serving", "pattern"))]
    return find_target(ctx, strict=False)


def variants_text(variants: list[Variant]) -> str:
    return ", ".join(f"'{v.name.text}'" if v.name else "(unnamed)" for v in variants) or "none"
