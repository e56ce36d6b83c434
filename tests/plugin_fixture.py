"""A real installed plugin for tests: a module and a dist-info with an `mlgate.checks` entry point, put on
sys.path the way pip would install it. Its checks behave as their names say."""

from __future__ import annotations

import textwrap
from pathlib import Path

PLUGIN_MODULE = '''
from pydantic import Field

from mlgate.checks import CheckContext
from mlgate.rules.params import RuleParams


def always_fail(ctx: CheckContext):
    yield ctx.ok("part of it is fine", at=("model",))
    yield ctx.fail(f"threshold is {ctx.params['threshold']}", at=("model", "name"), fix="raise it")


always_fail.mlgate_rule = {
    "id": "TST001", "title": "Always fails", "section": "operations", "severity": "error",
    "rationale": "a test rule", "remediation": "nothing to do", "params": {"threshold": 3},
}


def crash(ctx: CheckContext):
    raise RuntimeError("boom")
    yield


crash.mlgate_rule = {"id": "TST002", "title": "Crashes", "section": "operations", "rationale": "r",
                     "remediation": "m"}


def only_warn(ctx: CheckContext):
    yield ctx.warn("advisory only", at=("model",))


only_warn.mlgate_rule = {"id": "TST003", "title": "Warns", "section": "monitoring", "severity": "warning",
                         "rationale": "r", "remediation": "m"}


def passes(ctx: CheckContext):
    yield ctx.ok("evidence: all good")


passes.mlgate_rule = {"id": "TST004", "title": "Passes", "section": "rollout", "rationale": "r",
                      "remediation": "m"}


def no_rule(ctx: CheckContext):
    yield ctx.fail("from a check reused by a team rule")


class TypedParams(RuleParams):
    max_replicas: int = Field(4, ge=1, le=64, description="the most replicas a model may ask for")


def typed(ctx: CheckContext):
    params: TypedParams = ctx.params
    yield ctx.ok(f"at most {params.max_replicas} replicas")


typed.Params = TypedParams
typed.mlgate_rule = {"id": "TST005", "title": "Typed", "section": "serving", "rationale": "r", "remediation": "m"}
'''


def install_plugin(site: Path) -> None:
    site.mkdir(parents=True, exist_ok=True)
    (site / "mlgate_testplugin.py").write_text(textwrap.dedent(PLUGIN_MODULE))
    dist = site / "mlgate_testplugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mlgate-testplugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[mlgate.checks]\n"
        "testplugin.always_fail = mlgate_testplugin:always_fail\n"
        "testplugin.crash = mlgate_testplugin:crash\n"
        "testplugin.only_warn = mlgate_testplugin:only_warn\n"
        "testplugin.passes = mlgate_testplugin:passes\n"
        "testplugin.no_rule = mlgate_testplugin:no_rule\n"
        "testplugin.typed = mlgate_testplugin:typed\n"
    )
