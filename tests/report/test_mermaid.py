"""The pictures of the Markdown report: the rollout plan as a mermaid gantt, the serving cost as a bar chart."""

from __future__ import annotations

from mlgate.report.mermaid import cost_chart, rollout_gantt

READY_PLAN = {"shadow": {"percent": 50.0, "seconds": 259200.0}, "steps": [5.0, 25.0, 50.0, 100.0],
              "bake_seconds": 7200.0, "previous_warm": True}


def test_the_rollout_plan_as_a_timeline() -> None:
    assert rollout_gantt(READY_PLAN) == """\
gantt
    title Rollout plan
    dateFormat X
    axisFormat day %e
    section Shadow
    Shadow 50 percent of traffic :s0, 43200, 3d
    section Canary
    5 percent bake 2h :c1, after s0, 2h
    25 percent bake 2h :c2, after c1, 2h
    50 percent bake 2h :c3, after c2, 2h
    section Full traffic
    100 percent of traffic :milestone, full, after c3, 0d
    section Rollback
    Rollback point previous variant kept warm :milestone, back, after c3, 0d"""


def test_a_rollout_straight_to_full_traffic() -> None:
    gantt = rollout_gantt({"shadow": None, "steps": [100.0], "bake_seconds": None, "previous_warm": False})
    assert gantt is not None
    assert "section Canary" not in gantt
    assert gantt.endswith("    100 percent of traffic at once no canary :milestone, full, 43200, 0d\n"
                          "    section Rollback\n"
                          "    Rollback point no warm previous variant :milestone, back, 43200, 0d")
    assert rollout_gantt(None) is None
    assert rollout_gantt({"shadow": None, "steps": [], "bake_seconds": None, "previous_warm": True}) is None


def test_the_cost_as_bars() -> None:
    cost = {"declared": {"pattern": "realtime", "monthly_usd": 1027.84},
            "cheapest": {"pattern": "serverless", "monthly_usd": 0.146}}
    assert cost_chart(cost) == """\
xychart-beta
    title "Serving cost, USD per month (estimate)"
    x-axis ["Declared realtime", "Cheapest that fits serverless"]
    y-axis "USD per month" 0 --> 1130.62
    bar [1027.84, 0.15]"""
    same = {"declared": {"pattern": "serverless", "monthly_usd": 5.0},
            "cheapest": {"pattern": "serverless", "monthly_usd": 5.0}}
    assert cost_chart(same) == ('xychart-beta\n    title "Serving cost, USD per month (estimate)"\n'
                                '    x-axis ["Declared serverless"]\n    y-axis "USD per month" 0 --> 5.5\n'
                                "    bar [5]")
    assert cost_chart(None) is None and cost_chart({"declared": {"monthly_usd": None}}) is None
