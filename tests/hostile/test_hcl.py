"""Hostile Terraform (HCL): syntax errors, nesting deeper than the parser recurses, unterminated heredocs, and the
duplicates Terraform itself refuses (an attribute set twice in a block, a resource defined twice), which
python-hcl2 used to read as the last value without a word."""

from __future__ import annotations

import pytest

from tests.hostile.support import CFN_WITH_PARAMETERS, COMMON, HCL, Cli, Model, check

PAYLOADS = {**COMMON, **HCL}
MAIN = 'resource "aws_sagemaker_endpoint" "e" {\n  name = "churn-predictor"\n}\n'


@pytest.fixture
def terraform(model: Model) -> Model:
    model.edit_spec(CFN_WITH_PARAMETERS, "  terraform: deploy/tf")
    return model


@pytest.mark.parametrize("name", PAYLOADS)
@pytest.mark.parametrize("file", ["main.tf", "terraform.tfvars"])
def test_terraform_file(terraform: Model, cli: Cli, file: str, name: str) -> None:
    if file != "main.tf":
        terraform.write("deploy/tf/main.tf", MAIN)
    terraform.write(f"deploy/tf/{file}", PAYLOADS[name])
    outcome = check(cli, terraform.root, "--select", "IAC001")
    if name in ("empty", "bom only") and file == "terraform.tfvars":
        assert outcome.status("IAC001") == "fail"  # no variables: the endpoint in main.tf is judged
    else:
        assert outcome.status("IAC001") in ("fail", "error"), outcome.messages("IAC001")


@pytest.mark.parametrize(("name", "expected", "line"), [
    ("attribute set twice", "'name' is set twice in resource aws_sagemaker_endpoint e (first at line 2): "
                            "Terraform refuses this file", 3),
    ("resource defined twice", "aws_sagemaker_endpoint.e is defined twice (deploy/tf/main.tf:1 and here); "
                               "Terraform refuses this configuration", 4),
    ("deep lists", "is not valid HCL", 1),
    ("syntax error", "is not valid HCL", 2),
])
def test_terraform_errors_name_file_and_line(terraform: Model, cli: Cli, name: str, expected: str,
                                             line: int) -> None:
    terraform.write("deploy/tf/main.tf", HCL[name])
    outcome = check(cli, terraform.root, "--select", "IAC001")
    (finding,) = outcome.results["IAC001"]["findings"]
    assert finding["status"] == "error"
    assert expected in finding["message"]
    assert (finding["location"]["path"], finding["location"]["line"]) == ("deploy/tf/main.tf", line)


def test_resource_defined_in_two_files(terraform: Model, cli: Cli) -> None:
    terraform.write("deploy/tf/a.tf", MAIN)
    terraform.write("deploy/tf/b.tf", MAIN.replace("churn-predictor", "other"))
    outcome = check(cli, terraform.root, "--select", "IAC001")
    assert "aws_sagemaker_endpoint.e is defined twice (deploy/tf/a.tf:1 and here)" in outcome.messages("IAC001")


def test_repeated_nested_blocks_are_not_duplicates(terraform: Model, cli: Cli) -> None:
    """Blocks repeat legitimately (production_variant {} twice); only attributes may not."""
    terraform.write("deploy/tf/main.tf", """
        resource "aws_sagemaker_endpoint_configuration" "c" {
          name = "cfg"
          production_variants {
            variant_name = "a"
          }
          production_variants {
            variant_name = "b"
          }
        }
        """)
    outcome = check(cli, terraform.root, "--select", "IAC001")
    assert "set twice" not in outcome.messages("IAC001")
    assert "defined twice" not in outcome.messages("IAC001")
