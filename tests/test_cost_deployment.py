"""SRV001's cost and the reports' cost block judge what the deployment runs: priced in its Region (the spec's, or
the Region of the model's ECR image in the CloudFormation), every variant the endpoint config runs and the green
fleet of a blue/green update, and alternatives the deployment can use, sized like a production endpoint.

Each test is a real repository with a spec and, where it matters, the CloudFormation that deploys the endpoint.
Hand computations use the facts table's prices and 730 hours a month.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from mlgate.cost import Assumptions, green_fleet_hours, monthly_costs
from mlgate.evidence.iac.model import Size, TrafficPolicy, Value
from mlgate.result import Location
from mlgate.spec.models import Spec
from tests.conftest import Repo, messages

TRAFFIC = {"requests_per_day": 500_000, "peak_rps": 30, "latency_p99_ms": 300, "payload_kb": 4,
           "processing_s": 0.05, "synchronous": True, "gpu": False}


def spec(rollout: dict[str, Any] | None = None, **serving: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"version": 1, "model": {"name": "scorer"},
                            "serving": {"pattern": "realtime", "endpoint": "scorer", "traffic": dict(TRAFFIC)}}
    data["serving"].update(serving)
    if rollout:
        data["rollout"] = rollout
    return data


def write(repo: Repo, data: dict[str, Any], files: dict[str, str] | None = None) -> None:
    repo.write("mlgate.yaml", yaml.safe_dump(data, sort_keys=False))
    for name, text in (files or {}).items():
        repo.write(name, text)
    repo.commit()


def cost_block(repo: Repo, cli: Any) -> dict[str, Any]:
    code, out, err = cli("check", str(repo.root), "--select", "SRV001", "--format", "json")
    assert code in (0, 1), err
    cost: dict[str, Any] = json.loads(out)["deployments"][0]["cost"]
    return cost


# -- the Region ------------------------------------------------------------------------------------------------------

def test_the_spec_region_is_priced_from_its_own_table(repo: Repo, cli: Any) -> None:
    # eu-west-1's ml.m5.xlarge, from an AWS bill: 2 x $0.257 x 730 h = $375.22 (us-east-1's $0.23 would give $335.80)
    write(repo, spec(region="eu-west-1", instance_type="ml.m5.xlarge", instance_count=2))
    result = repo.rule("SRV001")
    assert "ml.m5.xlarge \u00d7 2 always on: $375.22/month" in messages(result)
    cost = cost_block(repo, cli)
    assert cost["declared"]["monthly"] == "$375.22/month"
    assert cost["assumptions"][0].startswith("eu-west-1 (serving.region) on-demand prices")
    assert any(line.startswith("ml.m5.xlarge $0.257/h (facts table: source: $0.257 per Hosting ml.m5.xlarge hour in "
                               "EU (Ireland), AWS bill for SageMaker in EU (Ireland), December 2023")
               for line in cost["assumptions"])


def test_a_region_without_sourced_prices_says_so_and_never_prices_us_east_1(repo: Repo, cli: Any) -> None:
    write(repo, spec(region="ap-south-1", instance_type="ml.m5.xlarge", instance_count=2))
    result = repo.rule("SRV001")
    assert result.status == "warn"
    assert "warn: the cost of ml.m5.xlarge \u00d7 2 always on cannot be estimated: no price for ml.m5.xlarge in " \
           "ap-south-1 (the facts table has no sourced SageMaker price for this Region); add it under " \
           "[tool.mlgate.prices.ap-south-1]" in messages(result)
    assert "$335.80" not in messages(result)  # us-east-1's figure
    cost = cost_block(repo, cli)
    assert cost["declared"]["monthly"] is None and "in ap-south-1" in cost["declared"]["unpriced"]
    assert cost["cheapest"] is None  # nothing is priced in ap-south-1, serverless neither
    _, out, _ = cli("check", str(repo.root), "--select", "SRV001")
    assert "cost: ml.m5.xlarge × 2 always on: not priced (no price for ml.m5.xlarge in ap-south-1" in out
    _, out, _ = cli("check", str(repo.root), "--select", "SRV001", "--format", "markdown")
    assert "**not priced**: no price for ml.m5.xlarge in ap-south-1" in out


def test_us_east_2_is_priced_from_its_own_sourced_table(repo: Repo, cli: Any) -> None:
    # us-east-2's ml.g4dn.xlarge, from the Price List API: 2 x $0.736 x 730 h = $1,074.56 (us-east-1's $0.7364
    # would give $1,075.14); SRV001 names the Region and the price's source beside the figure
    traffic = dict(TRAFFIC, gpu=True)
    write(repo, spec(region="us-east-2", instance_type="ml.g4dn.xlarge", instance_count=2, traffic=traffic))
    text = messages(repo.rule("SRV001"))
    assert "ml.g4dn.xlarge \u00d7 2 always on: $1,074.56/month for 500,000 requests/day" in text
    assert "(priced in us-east-2: ml.g4dn.xlarge $0.736/h (facts table: source: SageMaker ml.g4dn.xlarge (1x T4) " \
           "$0.7360/h, US East (Ohio), AWS Price List API for US East (Ohio)" in text
    assert "$1,075.14" not in text
    cost = cost_block(repo, cli)
    assert cost["declared"]["monthly"] == "$1,074.56/month"
    assert cost["assumptions"][0].startswith("us-east-2 (serving.region) on-demand prices (the facts table, read "
                                             "2026-12-05, unless overridden)")
    assert "ml.g4dn.xlarge $0.736/h (facts table: source: SageMaker ml.g4dn.xlarge (1x T4) $0.7360/h, US East " \
           "(Ohio), AWS Price List API for US East (Ohio), as committed by a public repository, read 2026-12-05; " \
           "confidence medium)" in cost["assumptions"]


def test_a_type_a_priced_region_lacks_is_not_borrowed_from_another(repo: Repo, cli: Any) -> None:
    # us-east-2 has sourced prices, but none for ml.m5.xlarge: us-east-1's $0.23 is not used
    write(repo, spec(region="us-east-2", instance_type="ml.m5.xlarge", instance_count=2))
    result = repo.rule("SRV001")
    assert result.status == "warn"
    assert "no price for ml.m5.xlarge in us-east-2 (not in the facts table's sourced prices for this Region); add " \
           "it under [tool.mlgate.prices.us-east-2] (or the SRV001 parameter prices.us-east-2)" in messages(result)
    assert "$335.80" not in messages(result)
    cost = cost_block(repo, cli)
    assert cost["declared"]["monthly"] is None and "in us-east-2" in cost["declared"]["unpriced"]
    serverless = monthly_costs(Spec.model_validate(spec(region="us-east-2", instance_type="ml.m5.xlarge")))
    assert all(e.unpriced and "in us-east-2" in e.unpriced for e in serverless.options if e.pattern == "serverless")


def test_the_team_price_says_it_is_the_teams(repo: Repo) -> None:
    write(repo, spec(region="us-east-2", instance_type="ml.m5.xlarge", instance_count=2),
          {"pyproject.toml": '[tool.mlgate.prices.us-east-2]\n"ml.m5.xlarge" = 0.23\n'})
    assert "(priced in us-east-2: ml.m5.xlarge $0.23/h (team override in params.SRV001.prices))" in \
        messages(repo.rule("SRV001"))


def test_the_team_prices_a_region_the_table_lacks(repo: Repo) -> None:
    write(repo, spec(region="ap-south-1", instance_type="ml.m5.xlarge", instance_count=2),
          {"pyproject.toml": '[tool.mlgate.prices.ap-south-1]\n"ml.m5.xlarge" = 0.25\n'})
    # 2 x $0.25 x 730 = $365.00
    assert "ml.m5.xlarge \u00d7 2 always on: $365.00/month" in messages(repo.rule("SRV001"))


def test_a_region_that_is_not_one_says_so(repo: Repo) -> None:
    write(repo, spec(region="eu-west-9", instance_type="ml.m5.xlarge", instance_count=2))
    assert "no price for ml.m5.xlarge in eu-west-9 (eu-west-9 is not a commercial AWS Region SageMaker serves, " \
           "partitions[aws].services[api.sagemaker].endpoints" in messages(repo.rule("SRV001"))


STACK = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  ModelV3:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: arn:aws:iam::111122223333:role/scorer
      PrimaryContainer:
        Image: 111122223333.dkr.ecr.{region}.amazonaws.com/scorer@sha256:{digest}
        ModelDataUrl: s3://acme-models/scorer/v3/model.tar.gz
  ModelV4:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: arn:aws:iam::111122223333:role/scorer
      PrimaryContainer:
        Image: 111122223333.dkr.ecr.{region}.amazonaws.com/scorer@sha256:{digest}
        ModelDataUrl: s3://acme-models/scorer/v4/model.tar.gz
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - VariantName: scorer-v4
          ModelName: !GetAtt ModelV4.ModelName
          InstanceType: ml.m5.xlarge
          InitialInstanceCount: 2
          InitialVariantWeight: 0.9
        - VariantName: scorer-v3
          ModelName: !GetAtt ModelV3.ModelName
          InstanceType: ml.m5.xlarge
          InitialInstanceCount: 1
          InitialVariantWeight: 0.1
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointName: scorer
      EndpointConfigName: !GetAtt Config.EndpointConfigName
"""
DIGEST = "3c9a0e5f7b1d2c4e6f8a0b2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e"


def test_the_region_of_the_ecr_image_in_the_template_is_priced(repo: Repo, cli: Any) -> None:
    """No serving.region: the model's image lives in eu-west-1's ECR, and SageMaker requires the image in the
    endpoint's Region. The two variants the config runs: 3 x ml.m5.xlarge x $0.257 x 730 = $562.83."""
    data = spec(rollout={"canary": {"variant": "scorer-v4", "steps": [10, 100], "bake_time": "1h"},
                         "previous": {"variant": "scorer-v3", "keep_warm": True}})
    data["infrastructure"] = {"cloudformation": "deploy/stack.yaml"}
    write(repo, data, {"deploy/stack.yaml": STACK.format(region="eu-west-1", digest=DIGEST)})
    cost = cost_block(repo, cli)
    assert cost["declared"]["shape"] == ("ml.m5.xlarge \u00d7 3 always on (scorer-v4 (production) \u00d7 2, "
                                         "scorer-v3 (production) \u00d7 1)")
    assert cost["declared"]["monthly"] == "$562.83/month"
    assert cost["assumptions"][0].startswith(
        "eu-west-1 (the Region of the model's ECR image, which must be the endpoint's (ContainerDefinition.Image), "
        "deploy/stack.yaml:15) on-demand prices")
    assert "scorer-v3 (production) 1 \u00d7 ml.m5.xlarge \u00d7 $0.257/h \u00d7 730 h = $187.61" \
        in cost["declared"]["basis"]


GUARDRAILS = """\
      DeploymentConfig:
        BlueGreenUpdatePolicy:
          TrafficRoutingConfiguration:
            Type: CANARY
            CanarySize: {Type: CAPACITY_PERCENT, Value: 10}
            WaitIntervalInSeconds: 600
          TerminationWaitInSeconds: 600
          MaximumExecutionTimeoutInSeconds: 3600
"""


def test_the_shadow_and_the_green_fleet_of_a_blue_green_update_are_counted(repo: Repo) -> None:
    """One production variant (2 instances) and its shadow (1): 3 x $0.23 x 730 = $503.70 in us-east-1; each
    canary update runs the 3 green instances beside the blue ones for the canary's bake, the final bake and the
    termination wait: 2 x 600 s + 600 s = 0.5 h x 3 x $0.23 = $0.345 -> $504.05 a month."""
    stack = STACK.format(region="us-east-1", digest=DIGEST).replace(
        """        - VariantName: scorer-v3
          ModelName: !GetAtt ModelV3.ModelName
          InstanceType: ml.m5.xlarge
          InitialInstanceCount: 1
          InitialVariantWeight: 0.1
""", """      ShadowProductionVariants:
        - VariantName: scorer-v3-shadow
          ModelName: !GetAtt ModelV3.ModelName
          InstanceType: ml.m5.xlarge
          InitialInstanceCount: 1
""") + GUARDRAILS
    data = spec()
    data["infrastructure"] = {"cloudformation": "deploy/stack.yaml"}
    write(repo, data, {"deploy/stack.yaml": stack})
    text = messages(repo.rule("SRV001"))
    assert "ml.m5.xlarge \u00d7 3 always on (scorer-v4 (production) \u00d7 2, scorer-v3-shadow (shadow) \u00d7 1): " \
           "$504.05/month" in text
    view = _view(repo)
    assert view.declared is not None
    assert "blue/green update: the green fleet of 3 instances for 0.5 h (CANARY: 2 baking periods of 600 s + 600 s " \
           "termination wait) \u00d7 1 update a month = $0.35" in view.declared.basis


def _view(repo: Repo) -> Any:
    from mlgate.deployment import resolve
    from mlgate.evidence.workspace import Workspace
    from mlgate.spec.load import load_spec

    loaded = load_spec(repo.root / "mlgate.yaml", root=repo.root)
    resolved = resolve(loaded, Workspace(repo.root))
    return monthly_costs(resolved.spec, {}, resolved)


def test_without_code_the_previous_and_the_shadow_the_spec_keeps_running_are_counted(repo: Repo) -> None:
    """The serving variant (2), the previous variant kept warm (min_instances 1) and the shadow (the serving
    variant's size assumed, 2): 5 x ml.m5.xlarge x $0.23 x 730 = $839.50."""
    data = spec(instance_type="ml.m5.xlarge", instance_count=2,
                rollout={"shadow": {"variant": "scorer-v4-shadow", "sampling_percent": 50, "duration": "3d"},
                         "canary": {"variant": "scorer-v4", "steps": [10, 100], "bake_time": "1h"},
                         "previous": {"variant": "scorer-v3", "keep_warm": True, "min_instances": 1}})
    write(repo, data)
    text = messages(repo.rule("SRV001"))
    assert "ml.m5.xlarge \u00d7 5 always on (scorer-v4 (production) \u00d7 2, scorer-v3 (previous, kept warm) " \
           "\u00d7 1, scorer-v4-shadow (shadow) \u00d7 2): $839.50/month" in text
    view = _view(repo)
    assert "scorer-v4-shadow (shadow) 2 \u00d7 ml.m5.xlarge \u00d7 $0.23/h \u00d7 730 h = $335.80 (the spec gives no " \
           "size for the shadow: the serving variant's assumed)" in view.declared.basis


# -- the alternatives --------------------------------------------------------------------------------------------------

def test_serverless_is_no_alternative_for_a_deployment_that_captures_data_or_runs_two_variants(repo: Repo) -> None:
    """300 requests a day on an always-on GPU: without capture and a second variant, serverless with 1
    provisioned ($105.19, the seed case) fails the 5x cost limit. This deployment captures its traffic and keeps
    the previous variant warm, which serverless does not support: serverless is no alternative, and the two
    always-on ml.g5.xlarge (2 x $1.408 x 730 = $2,055.68) are the cheapest pattern that serves it (the GPU the
    model does not need still fails)."""
    traffic = {"requests_per_day": 300, "peak_rps": 1, "latency_p99_ms": 500, "payload_kb": 4,
               "processing_s": 0.2, "synchronous": True, "gpu": False}
    plain = spec(instance_type="ml.g5.xlarge", instance_count=1, traffic=traffic)
    write(repo, plain)
    assert "serverless 2 GB with 1 provisioned: $105.19/month meets the same needs, 9.8\u00d7 cheaper" \
        in messages(repo.rule("SRV001"))
    data = spec(instance_type="ml.g5.xlarge", instance_count=1, traffic=traffic,
                rollout={"canary": {"variant": "tagger-v2", "steps": [10, 100], "bake_time": "1h"},
                         "previous": {"variant": "tagger-v1", "keep_warm": True}})
    data["monitoring"] = {"capture": {"enabled": True, "sampling_percent": 10, "destination": "s3://acme-capture/t/"}}
    write(repo, data)
    text = messages(repo.rule("SRV001"))
    assert "pass: ml.g5.xlarge \u00d7 2 always on (tagger-v2 (production) \u00d7 1, tagger-v1 (previous, kept warm) " \
           "\u00d7 1): $2,055.68/month for 300 requests/day, the cheapest pattern that meets the traffic's needs" \
        in text
    assert "fail: ml.g5.xlarge (4 vCPUs, 16 GiB, 1 NVIDIA A10G GPU) is a GPU instance" in text
    view = _view(repo)
    serverless = next(e for e in view.options if e.pattern == "serverless")
    assert serverless.misfit is not None and serverless.misfit.startswith(
        "the deployment uses data capture and multiple production variants, which a serverless endpoint does not "
        "support (source: feature exclusions of serverless inference")


def test_an_alternative_is_sized_for_the_peak_with_headroom_and_never_burstable(repo: Repo) -> None:
    """An async endpoint on one burstable ml.t2.medium, nobody waiting, a 2 s p99: the real-time alternative is
    not the t2 but ml.m5.large (2 vCPUs / 0.05 s = 40 rps), for the peak of 100 rps + 30 % headroom:
    ceil(130 / 40) = 4 instances, 4 x $0.115 x 730 = $335.80. A VPC endpoint has no serverless alternative."""
    data = spec(instance_type="ml.t2.medium", instance_count=1, vpc=True,
                traffic={"requests_per_day": 2_000_000, "peak_rps": 100, "latency_p99_ms": 2000, "payload_kb": 4,
                         "processing_s": 0.05, "synchronous": False, "gpu": False})
    data["serving"]["pattern"] = "async"
    write(repo, data)
    view = _view(repo)
    realtime = next(e for e in view.options if e.pattern == "realtime")
    assert realtime.shape == "ml.m5.large \u00d7 4 always on"
    assert realtime.monthly_usd == pytest.approx(335.80)
    assert "a peak of 100 rps + 30 % headroom at 40 rps each (2 vCPUs \u00f7 0.05 s)" in realtime.basis
    serverless = next(e for e in view.options if e.pattern == "serverless")
    assert serverless.misfit is not None and "VPC configuration" in serverless.misfit
    # a low peak still keeps two instances, for the Availability Zones: 2 x $0.115 x 730 = $167.90
    data["serving"]["traffic"]["peak_rps"] = 1
    write(repo, data)
    realtime = next(e for e in _view(repo).options if e.pattern == "realtime")
    assert realtime.shape == "ml.m5.large \u00d7 2 always on" and realtime.monthly_usd == pytest.approx(167.90)
    assert "at least 2 for availability across Availability Zones" in realtime.basis


# -- the green fleet ---------------------------------------------------------------------------------------------------

AT = Location("deploy/stack.yaml", 1)


def policy(kind: str, wait: Any, termination: Any = 0, timeout: Any = None, size: tuple[str, float] | None = None,
           unknown: bool = False) -> TrafficPolicy:
    def v(x: Any) -> Value | None:
        if x is None:
            return None
        return Value(None, AT, unknown="a parameter with no default", placeholder="${Ref:Wait}") if unknown \
            else Value(x, AT)
    sized = Size(Value(size[0], AT), Value(size[1], AT), AT) if size else None
    return TrafficPolicy(Value(kind, AT), sized, v(wait), Value(termination, AT), v(timeout), AT)


@pytest.mark.parametrize(("p", "hours", "how"), [
    (policy("ALL_AT_ONCE", 600, 300), 0.25, "ALL_AT_ONCE: 1 baking period of 600 s + 300 s termination wait"),
    (policy("CANARY", 3600, 3600), 3.0, "CANARY: 2 baking periods of 3,600 s + 3,600 s termination wait"),
    (policy("CANARY", 3600, 3600, timeout=7200), 2.0, "at most the 7,200 s MaximumExecutionTimeout"),
    # 20 % steps: 5 steps and the final bake
    (policy("LINEAR", 600, 0, size=("CAPACITY_PERCENT", 20)), 1.0, "LINEAR: 6 baking periods of 600 s"),
    # 2 instances a step of 4: 2 steps and the final bake
    (policy("LINEAR", 600, 0, size=("INSTANCE_COUNT", 2)), 0.5, "LINEAR: 3 baking periods of 600 s"),
    (policy("ROLLING", 600, 0), 0.0, "runs no second fleet"),
])
def test_green_fleet_hours(p: TrafficPolicy, hours: float, how: str) -> None:
    got, text = green_fleet_hours(p, 4)
    assert got == pytest.approx(hours) and how in text


def test_green_fleet_hours_known_only_at_deploy_time() -> None:
    hours, text = green_fleet_hours(policy("CANARY", 0, unknown=True), 2)
    assert hours is None and text == "${Ref:Wait} is known only at deploy time (a parameter with no default)"


def test_assumption_parameters_are_checked() -> None:
    assert Assumptions.from_params({"headroom": 0, "updates_per_month": 0}).headroom == 0
    with pytest.raises(ValueError, match=r"parameter min_instances is 1\.5, not a positive whole number"):
        Assumptions.from_params({"min_instances": 1.5})
    with pytest.raises(ValueError, match=r"parameter headroom is -0\.1, not a number of at least 0"):
        Assumptions.from_params({"headroom": -0.1})


def test_no_traffic_means_no_fleet_cost() -> None:
    view = monthly_costs(Spec.model_validate({"version": 1, "serving": {"pattern": "realtime"}}))
    assert view.declared is None
