"""The serving cost estimate travels from the engine into the JSON, text and Markdown reports, priced with the
team's `[tool.mlgate.prices]`."""

from __future__ import annotations

import json

from tests.conftest import Repo

SPEC = """
version: 1
model:
  name: tagger
serving:
  pattern: realtime
  endpoint: tagger
  instance_type: ml.g5.xlarge
  instance_count: 1
  traffic:
    requests_per_day: 300
    peak_rps: 1
    latency_p99_ms: 2000
    payload_kb: 8
    processing_s: 0.4
    synchronous: true
    gpu: false
"""


def test_cost_is_in_every_report_and_uses_the_team_prices(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", SPEC)
    code, out, _ = cli("check", str(repo.root), "--select", "SRV001", "--format", "json")
    cost = json.loads(out)["deployments"][0]["cost"]
    # 1 instance × 730 h × $1.408/h (the facts table's us-east-1 price) = $1,027.84
    assert cost["declared"]["monthly"] == "$1,027.84/month"
    assert cost["cheapest"]["pattern"] == "serverless"

    repo.write("pyproject.toml", '[tool.mlgate.prices.us-east-1]\n"ml.g5.xlarge" = 2.0\n')
    code, out, _ = cli("check", str(repo.root), "--select", "SRV001", "--format", "json")
    data = json.loads(out)
    # 730 h × $2.00/h = $1,460.00, in the report and in SRV001's own message
    assert data["deployments"][0]["cost"]["declared"]["monthly"] == "$1,460.00/month"
    srv001 = data["deployments"][0]["results"][0]
    assert "$1,460.00/month" in json.dumps(srv001["findings"])

    code, out, _ = cli("check", str(repo.root), "--select", "SRV001")
    assert "cost: ml.g5.xlarge × 1 always on: $1,460.00/month; cheapest pattern that fits: serverless" in out
    code, out, _ = cli("check", str(repo.root), "--select", "SRV001", "--format", "markdown")
    assert code == 1  # an always-on GPU for 300 requests a day fails SRV001
    assert "#### Serving cost (estimate)" in out
    assert "**\\$1,460.00/month**" in out


def test_no_traffic_no_cost(repo: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    repo.write("mlgate.yaml", "version: 1\nserving:\n  pattern: realtime\n")
    code, out, _ = cli("check", str(repo.root), "--select", "SRV001", "--format", "json")
    assert code == 1
    assert json.loads(out)["deployments"][0]["cost"] is None
