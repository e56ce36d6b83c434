"""OPS003 judges what the rollback command would do, not the words it contains (issue 18, item 7): a command that
echoes the AWS CLI call, one that runs it after `false &&`, a runbook that holds it only in an HTML comment, an
`--endpoint-name` given twice (the AWS CLI sends the last one) and a `--region` other than the deployment's all
fail."""

from __future__ import annotations

import json
import re

import pytest

from tests.hostile.support import Cli, Model, check

GOOD = ("aws sagemaker update-endpoint-weights-and-capacities --endpoint-name churn-predictor "
        "--desired-weights-and-capacities VariantName=churn-v6,DesiredWeight=100 VariantName=churn-v7,DesiredWeight=0")


def _rollback(model: Model, command: str, *, runbook: str | None = None) -> None:
    spec, n = re.subn(r"  rollback: >-\n(?:    .*\n)+", lambda _: f"  rollback: {json.dumps(command)}\n", model.spec)
    assert n == 1
    model.write("mlgate.yaml", spec)
    model.write("docs/runbook.md", runbook if runbook is not None else f"# Runbook\n\n```\n{command}\n```\n")
    model.commit()


def test_the_good_command_passes(model: Model, cli: Cli) -> None:
    _rollback(model, GOOD)
    assert check(cli, model.root, "--select", "OPS003").status("OPS003") == "pass"


@pytest.mark.parametrize(("command", "message"), [
    ("echo " + GOOD, "it is words given to `echo`, which does not run them"),
    ("printf '%s' " + GOOD, "it is words given to `printf`"),
    ("false && " + GOOD, "it comes after `false &&`, which never succeeds"),
    ("true || " + GOOD, "it comes after `true ||`, so it runs only if that command fails"),
    ("exit 0; " + GOOD, "`exit 0` comes before it and ends the script"),
    ("# " + GOOD, "the rollback command runs nothing: it is only a comment"),
    ("false &&\n" + GOOD, "it comes after `false &&`, which never succeeds"),  # the list goes on at the line break
    (GOOD.replace("--endpoint-name churn-predictor", "--endpoint-name churn-predictor --endpoint-name other"),
     "gives --endpoint-name (churn-predictor, other): the AWS CLI sends the last one"),
    (GOOD + " --endpoint-name churn-predictor", "gives --endpoint-name (churn-predictor, churn-predictor)"),
    (GOOD + " --region us-east-1", "calls Region us-east-1, but the endpoint is in eu-west-1"),
    ("AWS_REGION=us-east-1 " + GOOD, "calls Region us-east-1, but the endpoint is in eu-west-1"),
    ("env AWS_DEFAULT_REGION=us-east-1 " + GOOD, "calls Region us-east-1, but the endpoint is in eu-west-1"),
])
def test_a_command_that_would_not_roll_back_fails(model: Model, cli: Cli, command: str, message: str) -> None:
    _rollback(model, command)
    outcome = check(cli, model.root, "--select", "OPS003")
    assert outcome.status("OPS003") == "fail", outcome.messages("OPS003")
    assert message in outcome.messages("OPS003")


def test_the_region_of_the_deployment_passes(model: Model, cli: Cli) -> None:
    _rollback(model, "AWS_REGION=eu-west-1 " + GOOD + " --region eu-west-1")
    assert check(cli, model.root, "--select", "OPS003").status("OPS003") == "pass"


def test_a_line_break_ends_the_command(model: Model, cli: Cli) -> None:
    _rollback(model, f"exit 1\n{GOOD}", runbook=f"# Runbook\n\n```\nexit 1\n{GOOD}\n```\n")
    assert "`exit 1` comes before it and ends the script" in check(cli, model.root, "--select", "OPS003").messages(
        "OPS003")


@pytest.mark.parametrize("runbook", [
    f"# Runbook\n\n<!--\n{GOOD}\n-->\nRoll back in the console.\n",
    f"# Runbook\n\n<!-- {GOOD} -->\n",
    f"# Runbook\n\n<!-- never closed\n{GOOD}\n",
])
def test_a_command_hidden_in_an_html_comment_is_not_in_the_runbook(model: Model, cli: Cli, runbook: str) -> None:
    _rollback(model, GOOD, runbook=runbook)
    outcome = check(cli, model.root, "--select", "OPS003")
    assert outcome.status("OPS003") == "fail"
    assert "runbook docs/runbook.md does not contain the rollback command" in outcome.messages("OPS003")


def test_a_command_after_an_html_comment_is_found_on_its_line(model: Model, cli: Cli) -> None:
    _rollback(model, GOOD, runbook=f"# Runbook\n\n<!-- a\nnote -->\n```\n{GOOD}\n```\n")
    outcome = check(cli, model.root, "--select", "OPS003")
    assert outcome.status("OPS003") == "pass"
    assert "runbook docs/runbook.md:6 contains the rollback command" in outcome.messages("OPS003")
