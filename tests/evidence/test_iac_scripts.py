"""Python deploy scripts as infrastructure code (`infrastructure.scripts`): boto3 and SageMaker Python SDK calls read
with `ast`, on scripts written as teams write them (a `main()` behind `if __name__ == "__main__":`, a Lambda handler,
argparse, environment variables), in real git repositories; then through `mlgate check`."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path

import pytest

from mlgate.deployment import resolve
from mlgate.errors import EvidenceError
from mlgate.evidence.iac import select_endpoint
from mlgate.evidence.iac.model import Infrastructure, Value
from mlgate.evidence.iac.scripts import read_scripts
from mlgate.evidence.workspace import Workspace
from mlgate.spec.load import load_spec
from tests.conftest import Repo
from tests.hostile.support import PYTHON

# -- scripts a team writes -------------------------------------------------------------------------------------------

SDK_DEPLOY = '''\
"""Deploy the fraud scorer with the SageMaker Python SDK."""
import argparse

import sagemaker
from sagemaker.model import Model
from sagemaker.model_monitor import DataCaptureConfig

ENDPOINT_NAME = "fraud-scorer"
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
IMAGE = f"{REGISTRY}/fraud-scorer@sha256:" + "4f" * 32
ARTIFACTS = "s3://acme-ml-artifacts/fraud-scorer"
ROLE = "arn:aws:iam::123456789012:role/fraud-scorer-endpoint"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--version", default="v4")
    return parser.parse_args()


def main():
    session = sagemaker.Session()
    model = Model(
        image_uri=IMAGE,
        model_data=ARTIFACTS + "/v4/model.tar.gz",
        role=ROLE,
        name=f"{ENDPOINT_NAME}-v4",
        sagemaker_session=session,
    )
    capture = DataCaptureConfig(
        enable_capture=True,
        sampling_percentage=20,
        destination_s3_uri=f"s3://acme-ml-capture/{ENDPOINT_NAME}/",
        kms_key_id="alias/ml-capture",
        capture_options=["REQUEST", "RESPONSE"],
    )
    predictor = model.deploy(
        initial_instance_count=2,
        instance_type="ml.c5.xlarge",
        endpoint_name=ENDPOINT_NAME,
        data_capture_config=capture,
    )
    print(predictor.endpoint_name)


if __name__ == "__main__":
    main()
'''

BOTO3_DEPLOY = '''\
"""Create the churn model, its endpoint config and endpoint with boto3 (CodeBuild step)."""
import boto3

ENDPOINT = "churn"
MODEL_NAME = "churn-v7"
PREVIOUS_MODEL = "churn-v6"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/churn:1.4.2"
ROLLBACK_ALARMS = ["churn-5xx", "churn-p99-latency"]

session = boto3.Session(region_name="eu-west-1")
sm = session.client("sagemaker")
cloudwatch = boto3.client("cloudwatch")
autoscaling = boto3.client("application-autoscaling")

VARIANTS = [
    {"VariantName": "churn-v7", "ModelName": MODEL_NAME, "InstanceType": "ml.m5.large",
     "InitialInstanceCount": 2, "InitialVariantWeight": 10},
    {"VariantName": "churn-v6", "ModelName": PREVIOUS_MODEL, "InstanceType": "ml.m5.large",
     "InitialInstanceCount": 2, "InitialVariantWeight": 90},
]


def create_model():
    sm.create_model(
        ModelName=MODEL_NAME,
        ExecutionRoleArn="arn:aws:iam::123456789012:role/churn-endpoint",
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": "s3://acme-ml-artifacts/churn/v7/model.tar.gz"},
        EnableNetworkIsolation=True,
    )


def create_endpoint():
    config_name = f"{ENDPOINT}-config-v7"
    sm.create_endpoint_config(
        EndpointConfigName=config_name,
        ProductionVariants=VARIANTS,
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 10,
            "DestinationS3Uri": "s3://acme-ml-capture/churn/",
            "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        },
    )
    for name in ROLLBACK_ALARMS:
        print("rollback on", name)
    sm.create_endpoint(
        EndpointName=ENDPOINT,
        EndpointConfigName=config_name,
        DeploymentConfig={
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": "CANARY",
                    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
                    "WaitIntervalInSeconds": 3600,
                },
                "TerminationWaitInSeconds": 600,
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in ROLLBACK_ALARMS]},
        },
    )
    cloudwatch.put_metric_alarm(
        AlarmName="churn-5xx",
        Namespace="AWS/SageMaker",
        MetricName="Invocation5XXErrors",
        Dimensions=[{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "churn-v7"}],
        Statistic="Sum",
        Threshold=5,
        EvaluationPeriods=1,
        ComparisonOperator="GreaterThanThreshold",
    )
    autoscaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{ENDPOINT}/variant/churn-v7",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=2,
        MaxCapacity=6,
    )


if __name__ == "__main__":
    create_model()
    create_endpoint()
'''


def line(text: str, needle: str) -> int:
    """The line of `text` where `needle` first appears."""
    for number, content in enumerate(text.splitlines(), start=1):
        if needle in content:
            return number
    raise AssertionError(f"{needle!r} is not in the script")


def read(repo: Repo, *scripts: tuple[str, str]) -> Infrastructure:
    for rel, text in scripts:
        repo.write(rel, text)
    repo.commit("deploy scripts")
    return read_scripts(Workspace(repo.root), [repo.root / rel for rel, _ in scripts])


def at(value: Value | None) -> tuple[str, int]:
    assert value is not None
    return value.at.path, value.at.line


# -- the SageMaker Python SDK ----------------------------------------------------------------------------------------

def test_sdk_deploy_with_data_capture(repo: Repo) -> None:
    infra = read(repo, ("deploy/deploy.py", SDK_DEPLOY))
    assert infra.kind == "script" and infra.files == ["deploy/deploy.py"]
    (endpoint,) = infra.endpoints
    assert endpoint.name is not None and endpoint.name.value == "fraud-scorer"
    assert at(endpoint.name) == ("deploy/deploy.py", line(SDK_DEPLOY, "endpoint_name=ENDPOINT_NAME"))
    assert endpoint.name.source == f"the value of ENDPOINT_NAME, deploy/deploy.py:{line(SDK_DEPLOY, 'ENDPOINT_NAME =')}"

    selection = select_endpoint(infra, "fraud-scorer")
    assert selection.config is not None and selection.config_note is None  # linked, not guessed
    (variant,) = selection.config.variants
    assert variant.instance_type is not None and variant.instance_type.value == "ml.c5.xlarge"
    assert at(variant.instance_type) == ("deploy/deploy.py", line(SDK_DEPLOY, 'instance_type="ml.c5.xlarge"'))
    assert variant.instance_count is not None and variant.instance_count.value == 2
    assert variant.weight is None  # not written: not invented
    assert variant.name is not None and variant.name.value == "AllTraffic"
    assert variant.name.source is not None and "SageMaker Python SDK names the variant AllTraffic" in \
        variant.name.source

    (model,) = infra.models
    assert variant.model is not None and variant.model.ref == model.id
    assert model.name is not None and model.name.value == "fraud-scorer-v4"
    assert model.image is not None and model.image.value == \
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/fraud-scorer@sha256:" + "4f" * 32
    assert model.model_data is not None and model.model_data.value == \
        "s3://acme-ml-artifacts/fraud-scorer/v4/model.tar.gz"
    assert at(model.model_data) == ("deploy/deploy.py", line(SDK_DEPLOY, "model_data=ARTIFACTS"))
    assert model.execution_role is not None and model.execution_role.value.endswith("role/fraud-scorer-endpoint")
    assert model.at.line == line(SDK_DEPLOY, "model = Model(")

    capture = selection.config.capture
    assert capture is not None and capture.at.line == line(SDK_DEPLOY, "capture = DataCaptureConfig(")
    assert capture.enabled is not None and capture.enabled.value is True
    assert capture.sampling_percent is not None and capture.sampling_percent.value == 20
    assert capture.destination is not None and capture.destination.value == "s3://acme-ml-capture/fraud-scorer/"
    assert capture.kms_key is not None and capture.kms_key.value == "alias/ml-capture"
    # the SDK's REQUEST/RESPONSE are the API's Input/Output
    assert [m.value for m in capture.modes] == ["Input", "Output"]


def test_sdk_imports_as_written(repo: Repo) -> None:
    """`import sagemaker as sm` then `sm.model.Model`, a framework model, `sm.model_monitor.DataCaptureConfig`, and
    a chained `Model(...).deploy(...)` at module level."""
    script = '''\
import sagemaker as sm
from sagemaker.pytorch import PyTorchModel as Torch

sm.model.Model(image_uri="img@sha256:00", model_data="s3://b/a.tar.gz", role="arn:aws:iam::1:role/r").deploy(
    initial_instance_count=1, instance_type="ml.m5.large", endpoint_name="one",
    data_capture_config=sm.model_monitor.DataCaptureConfig(True, 50, "s3://b/capture"))

torch_model = Torch("s3://b/torch.tar.gz", "arn:aws:iam::1:role/r", entry_point="inference.py",
                    framework_version="2.1", enable_network_isolation=True)
torch_model.deploy(1, "ml.g5.xlarge", endpoint_name="two")
'''
    infra = read(repo, ("deploy.py", script))
    assert [e.name.value for e in infra.endpoints if e.name] == ["one", "two"]
    one, two = infra.configs
    assert one.capture is not None and one.capture.enabled is not None and one.capture.enabled.value is True
    assert one.capture.sampling_percent is not None and one.capture.sampling_percent.value == 50  # by position
    assert one.capture.destination is not None and one.capture.destination.value == "s3://b/capture"
    (variant,) = two.variants
    assert variant.instance_type is not None and variant.instance_type.value == "ml.g5.xlarge"  # by position
    assert variant.instance_count is not None and variant.instance_count.value == 1
    torch = next(m for m in infra.models if m.id.startswith("Torch"))
    assert torch.model_data is not None and torch.model_data.value == "s3://b/torch.tar.gz"
    assert torch.network_isolation is not None and torch.network_isolation.value is True
    assert torch.image is not None and not torch.image.known and "framework_version 2.1" in (torch.image.unknown or "")


def test_serverless_and_async_deploys(repo: Repo) -> None:
    script = '''\
from sagemaker.async_inference import AsyncInferenceConfig
from sagemaker.huggingface import HuggingFaceModel
from sagemaker.serverless import ServerlessInferenceConfig

MEMORY_MB = 4096

serverless = ServerlessInferenceConfig(memory_size_in_mb=MEMORY_MB, max_concurrency=20)
router = HuggingFaceModel(role="arn:aws:iam::1:role/r", model_data="s3://b/router.tar.gz",
                          transformers_version="4.37", pytorch_version="2.1", py_version="py310")
router.deploy(serverless_inference_config=serverless, endpoint_name="ticket-router")

ocr = HuggingFaceModel(role="arn:aws:iam::1:role/r", model_data="s3://b/ocr.tar.gz")
ocr.deploy(
    initial_instance_count=1, instance_type="ml.g5.xlarge", endpoint_name="doc-ocr",
    async_inference_config=AsyncInferenceConfig(output_path="s3://b/ocr-out/",
                                                max_concurrent_invocations_per_instance=4),
)
'''
    infra = read(repo, ("deploy/serve.py", script))
    router = select_endpoint(infra, "ticket-router").config
    assert router is not None
    (variant,) = router.variants
    assert variant.serverless is not None and variant.instance_type is None
    assert variant.serverless.memory_mb is not None and variant.serverless.memory_mb.value == 4096
    assert variant.serverless.memory_mb.source == \
        f"the value of MEMORY_MB, deploy/serve.py:{line(script, 'MEMORY_MB =')}"
    assert variant.serverless.max_concurrency is not None and variant.serverless.max_concurrency.value == 20
    assert variant.serverless.provisioned_concurrency is None
    assert variant.serverless.at.line == line(script, "serverless = ServerlessInferenceConfig(")
    ocr = select_endpoint(infra, "doc-ocr").config
    assert ocr is not None and ocr.async_inference is not None
    assert ocr.async_inference.output_path is not None and ocr.async_inference.output_path.value == "s3://b/ocr-out/"
    found = ocr.async_inference.max_concurrent_invocations_per_instance
    assert found is not None and found.value == 4


def test_the_sdk_defaults_are_stated_with_their_source(repo: Repo) -> None:
    """What the SDK sends for an argument the script leaves out: its documented default, said to be one."""
    script = '''\
from sagemaker import Model
from sagemaker.model_monitor import DataCaptureConfig
from sagemaker.serverless import ServerlessInferenceConfig

model = Model(image_uri="img@sha256:00", model_data="s3://b/m.tar.gz", role="arn:aws:iam::1:role/r")
model.deploy(1, "ml.m5.large", endpoint_name="captured", data_capture_config=DataCaptureConfig(enable_capture=True))
model.deploy(endpoint_name="lean", serverless_inference_config=ServerlessInferenceConfig())
'''
    infra = read(repo, ("deploy.py", script))
    captured = select_endpoint(infra, "captured").config
    assert captured is not None and captured.capture is not None
    sampling = captured.capture.sampling_percent
    assert sampling is not None and sampling.value == 20
    assert sampling.source == "sampling_percentage not written: the SageMaker Python SDK's default is 20"
    assert [m.value for m in captured.capture.modes] == ["Input", "Output"]
    destination = captured.capture.destination
    assert destination is not None and not destination.known
    assert destination.text == "s3://${sdk:default_bucket}/model-monitor/data-capture"
    lean = select_endpoint(infra, "lean").config
    assert lean is not None
    serverless = lean.variants[0].serverless
    assert serverless is not None and serverless.memory_mb is not None and serverless.max_concurrency is not None
    assert (serverless.memory_mb.value, serverless.max_concurrency.value) == (2048, 5)
    assert serverless.provisioned_concurrency is None


def test_an_estimator_deploy_has_no_model_data_before_training(repo: Repo) -> None:
    script = '''\
from sagemaker.sklearn.estimator import SKLearn

estimator = SKLearn(entry_point="train.py", role="arn:aws:iam::1:role/r", instance_type="ml.m5.xlarge",
                    framework_version="1.2-1")
estimator.fit({"train": "s3://b/train/"})
estimator.deploy(initial_instance_count=1, instance_type="ml.m5.large", endpoint_name="sk")
'''
    infra = read(repo, ("train_and_deploy.py", script))
    (model,) = infra.models
    assert model.model_data is not None and not model.model_data.known
    assert "the estimator's training output" in (model.model_data.unknown or "")
    assert "known after training" in (model.model_data.unknown or "")
    assert model.execution_role is not None and model.execution_role.value == "arn:aws:iam::1:role/r"
    (variant,) = infra.configs[0].variants
    assert variant.instance_type is not None and variant.instance_type.value == "ml.m5.large"


def test_a_deploy_of_something_else_is_not_read(repo: Repo) -> None:
    script = '''\
from fabric import Connection

conn = Connection("web1")
conn.deploy(branch="main")
'''
    assert read(repo, ("fab.py", script)).endpoints == []


# -- boto3 -----------------------------------------------------------------------------------------------------------

def test_boto3_model_config_endpoint_alarm_and_scaling(repo: Repo) -> None:
    infra = read(repo, ("deploy/deploy_endpoint.py", BOTO3_DEPLOY))
    selection = select_endpoint(infra, "churn")
    endpoint, config = selection.endpoint, selection.config
    assert endpoint is not None and config is not None and selection.config_note is None
    assert config.name is not None and config.name.value == "churn-config-v7"
    assert [v.name.value for v in config.variants if v.name] == ["churn-v7", "churn-v6"]
    new = config.variants[0]
    assert new.weight is not None and new.weight.value == 10
    assert at(new.weight) == ("deploy/deploy_endpoint.py", line(BOTO3_DEPLOY, '"InitialVariantWeight": 10'))
    model = next(m for m in infra.models if m.name is not None and m.name.value == "churn-v7")
    assert new.model is not None and new.model.value == "churn-v7"
    assert model.image is not None and model.image.value.endswith("churn:1.4.2")
    assert model.model_data is not None and model.model_data.value == "s3://acme-ml-artifacts/churn/v7/model.tar.gz"
    assert model.network_isolation is not None and model.network_isolation.value is True
    assert config.capture is not None and [m.value for m in config.capture.modes] == ["Input", "Output"]

    policy = endpoint.policy
    assert policy is not None and policy.type is not None and policy.type.value == "CANARY"
    assert policy.size is not None and policy.size.value is not None and policy.size.value.value == 10
    assert policy.wait_s is not None and policy.wait_s.value == 3600
    assert policy.termination_wait_s is not None and policy.termination_wait_s.value == 600
    # a comprehension over a constant list; `name` is also the for loop's variable in the same function
    assert [a.value for a in endpoint.rollback_alarms] == ["churn-5xx", "churn-p99-latency"]
    assert at(endpoint.rollback_alarms[1]) == ("deploy/deploy_endpoint.py", line(BOTO3_DEPLOY, '{"AlarmName": name}'))

    (alarm,) = infra.alarms
    assert alarm.metric is not None and alarm.metric.value == "Invocation5XXErrors"
    assert alarm.dimensions["EndpointName"].value == "churn"
    (target,) = infra.targets
    assert target.resource_id is not None and target.resource_id.value == "endpoint/churn/variant/churn-v7"
    assert target.max_capacity is not None and target.max_capacity.value == 6


def test_create_or_update_is_one_endpoint_linked_through_a_computed_name(repo: Repo) -> None:
    """The Lambda pattern: a timestamped config name, update the endpoint if it exists, else create it."""
    script = '''\
import time

import boto3

sm_client = boto3.client("sagemaker")
ENDPOINT = "churn"


def lambda_handler(event, context):
    stamp = time.strftime("%Y%m%d%H%M%S")
    config_name = "{}-config-{}".format(ENDPOINT, stamp)
    sm_client.create_endpoint_config(
        EndpointConfigName=config_name,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": event["model_name"],
                             "InstanceType": event.get("instance_type", "ml.m5.large"),
                             "InitialInstanceCount": 1}],
    )
    try:
        sm_client.describe_endpoint(EndpointName=ENDPOINT)
    except sm_client.exceptions.ClientError:
        sm_client.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=config_name)
    else:
        sm_client.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=config_name,
                                  DeploymentConfig={"RollingUpdatePolicy": {
                                      "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50},
                                      "WaitIntervalInSeconds": 300}})
'''
    infra = read(repo, ("lambda/deploy.py", script))
    (endpoint,) = infra.endpoints
    (config,) = infra.configs
    assert endpoint.config is not None and endpoint.config.ref == config.id  # the same expression links them
    assert config.name is not None and config.name.text == \
        "churn-config-${expr:time.strftime('%Y%m%d%H%M%S')}"
    assert endpoint.policy is not None and endpoint.policy.type is not None
    assert endpoint.policy.type.value == "ROLLING"
    (variant,) = config.variants
    assert variant.model is not None and variant.model.placeholder == "${expr:event['model_name']}"
    assert variant.model.unknown == "given as parameter event of lambda_handler(), known only when it is called"
    assert variant.instance_type is not None
    assert variant.instance_type.placeholder == "${expr:event.get('instance_type', 'ml.m5.large')}"
    assert variant.instance_type.unknown == ("given as parameter event of lambda_handler(), known only when it is "
                                             "called; 'ml.m5.large' when it has no instance_type")


def test_a_client_mlgate_cannot_follow_counts_by_the_api_argument_names(repo: Repo) -> None:
    script = '''\
class Deployer:
    def __init__(self, client):
        self.client = client

    def deploy(self):
        self.client.create_endpoint_config(
            EndpointConfigName="scorer-config",
            ProductionVariants=[{"VariantName": "v1", "ModelName": "scorer", "InstanceType": "ml.m5.large",
                                 "InitialInstanceCount": 1}])
        self.client.create_endpoint(EndpointName="scorer", EndpointConfigName="scorer-config")
        self.session.create_model("scorer", "role", {"Image": "x"})  # sagemaker.Session's own create_model
'''
    infra = read(repo, ("deployer.py", script))
    assert [e.name.value for e in infra.endpoints if e.name] == ["scorer"]
    assert len(infra.configs) == 1 and infra.models == []


# -- values ----------------------------------------------------------------------------------------------------------

VALUES = '''\
import os
import sys
from argparse import ArgumentParser

import boto3

ENDPOINT = "scorer"
SETTINGS = {"instance_type": "ml.m5.xlarge", "count": 3}
BUCKET = "acme-" + "capture"
STAGE = os.environ.get("STAGE", "dev")
INSTANCE = os.environ["INSTANCE_TYPE"]
SIZE = "ml.m5.large"
if len(sys.argv) > 2:
    SIZE = "ml.m5.2xlarge"


def variants(weight):
    return [{"VariantName": "a", "ModelName": "m", "InstanceType": "x", "InitialVariantWeight": weight}]


def deploy(count=1):
    parser = ArgumentParser()
    parser.add_argument("--model-name", required=True)
    args = parser.parse_args()
    sm = boto3.client("sagemaker")
    sm.create_endpoint_config(
        EndpointConfigName="-".join([ENDPOINT, "config", str(SETTINGS["count"])]),
        KmsKeyId=sys.argv[1],
        ProductionVariants=[
            {"VariantName": "constants", "ModelName": args.model_name, "InstanceType": SETTINGS["instance_type"],
             "InitialInstanceCount": SETTINGS["count"] * 2},
            {"VariantName": f"{ENDPOINT}-{STAGE}", "ModelName": "m", "InstanceType": INSTANCE,
             "InitialInstanceCount": count},
            {"VariantName": "twice", "ModelName": "m", "InstanceType": SIZE, "InitialInstanceCount": 1},
        ],
        DataCaptureConfig={"DestinationS3Uri": f"s3://{BUCKET}/{ENDPOINT}/", "InitialSamplingPercentage": 100,
                           "CaptureOptions": [{"CaptureMode": "Input"}]},
    )
    sm.create_endpoint_config(EndpointConfigName="computed", ProductionVariants=variants(1))


deploy()
'''


def test_known_values_come_from_literals_and_constants(repo: Repo) -> None:
    infra = read(repo, ("values.py", VALUES))
    config = infra.configs[0]
    assert config.name is not None and config.name.value == "scorer-config-3"
    first = config.variants[0]
    assert first.instance_type is not None and first.instance_type.value == "ml.m5.xlarge"
    assert at(first.instance_type) == ("values.py", line(VALUES, '"InstanceType": SETTINGS["instance_type"]'))
    assert first.instance_type.source == f"SETTINGS['instance_type'], values.py:{line(VALUES, 'SETTINGS =')}"
    assert first.instance_count is not None and first.instance_count.value == 6
    assert config.capture is not None and config.capture.destination is not None
    assert config.capture.destination.value == "s3://acme-capture/scorer/"
    assert config.capture.enabled is None  # not written: the check applies the API's default, not the reader


def test_run_time_values_are_unknown_with_the_reason(repo: Repo) -> None:
    infra = read(repo, ("values.py", VALUES))
    config, computed = infra.configs
    first, second, third = config.variants
    assert first.model is not None and first.model.placeholder == "${arg:model_name}"
    assert first.model.unknown == ("given on the command line as --model-name (args.model_name, values.py:"
                                   f"{line(VALUES, 'args.model_name')}), known only when the script runs")
    name = second.name
    assert name is not None and not name.known and name.text == "scorer-${env:STAGE}"
    assert name.unknown == (f"read from environment variable STAGE (values.py:{line(VALUES, 'STAGE =')}) when the "
                            "script runs; 'dev' when it is unset")
    assert second.instance_type is not None and second.instance_type.placeholder == "${env:INSTANCE_TYPE}"
    assert at(second.instance_type) == ("values.py", line(VALUES, '"InstanceType": INSTANCE'))
    assert second.instance_count is not None and second.instance_count.placeholder == "${param:count}"
    assert second.instance_count.unknown == ("given as parameter count of deploy(), known only when it is called; "
                                             "its default is 1")
    assert third.instance_type is not None and third.instance_type.placeholder == "${var:SIZE}"
    assert "assigned to SIZE in 2 places" in (third.instance_type.unknown or "")
    assert config.kms_key is not None and config.kms_key.placeholder == "${argv:1}"
    assert computed.unknown is not None and computed.variants == []
    assert computed.unknown.startswith("its ProductionVariants are computed by the script when it runs "
                                       "(`variants(1)`, values.py:")


def test_a_dict_changed_after_it_is_written_is_unknown(repo: Repo) -> None:
    script = '''\
import boto3

CAPTURE = {"EnableCapture": True, "InitialSamplingPercentage": 100, "DestinationS3Uri": "s3://b/c/",
           "CaptureOptions": [{"CaptureMode": "Input"}]}


def main(debug):
    if not debug:
        CAPTURE["EnableCapture"] = False
    boto3.client("sagemaker").create_endpoint_config(
        EndpointConfigName="c", DataCaptureConfig=CAPTURE,
        ProductionVariants=[{"VariantName": "a", "ModelName": "m", "InstanceType": "ml.m5.large"}])
'''
    (config,) = read(repo, ("capture.py", script)).configs
    assert config.capture is None
    assert config.capture_unknown == (f"its DataCaptureConfig is changed in place after it is assigned to CAPTURE "
                                      f"(capture.py:{line(script, 'CAPTURE[')}), so its content is known only when "
                                      "the script runs")


def test_a_script_that_is_not_python_is_an_error_with_its_line(repo: Repo) -> None:
    script = SDK_DEPLOY.replace("        endpoint_name=ENDPOINT_NAME,\n", "        endpoint_name=ENDPOINT_NAME\n")
    with pytest.raises(EvidenceError) as caught:
        read(repo, ("deploy/deploy.py", script))
    assert caught.value.path == "deploy/deploy.py"
    assert caught.value.line == line(script, "endpoint_name=ENDPOINT_NAME")
    assert "is not valid Python" in caught.value.message


@pytest.mark.parametrize("name", sorted(PYTHON))
def test_hostile_python_is_an_evidence_error_or_nothing(repo: Repo, name: str) -> None:
    """Source nested deeper than Python parses, a NUL byte, code that would run if imported: read, never run."""
    repo.write("deploy.py", PYTHON[name])
    repo.commit()
    try:
        infra = read_scripts(Workspace(repo.root), [repo.root / "deploy.py"])
    except EvidenceError as exc:
        assert exc.path == "deploy.py"
        assert exc.message.startswith(("is not valid Python", "cannot be read as Python", "is a binary file"))
    else:
        assert infra.endpoints == []
    assert not (repo.root / "PWNED").exists()


def test_names_that_double_each_other_stay_fast(repo: Repo) -> None:
    chain = "\n".join(f"N{i} = N{i - 1} + N{i - 1}" for i in range(1, 200))
    script = f'N0 = "x"\n{chain}\nimport boto3\nboto3.client("sagemaker").create_endpoint(EndpointName=N199)\n'
    started = time.monotonic()
    (endpoint,) = read(repo, ("deploy.py", script)).endpoints
    assert time.monotonic() - started < 5
    assert endpoint.name is not None and not endpoint.name.known
    assert "too deeply to follow" in (endpoint.name.unknown or "")


def test_a_script_outside_the_repository_is_refused(repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.py"
    outside.write_text("x = 1\n", encoding="utf-8")
    repo.commit()
    with pytest.raises(EvidenceError):
        read_scripts(Workspace(repo.root), [outside])


# -- through mlgate check ----------------------------------------------------------------------------------------------

SPEC = '''\
version: 1
model: {name: fraud-scorer, owner: ml-platform@acme.example}
serving:
  pattern: realtime
  endpoint: fraud-scorer
  instance_type: ml.c5.xlarge
  instance_count: 2
monitoring:
  capture:
    enabled: true
    sampling_percent: 20
    inputs: true
    outputs: true
    destination: s3://acme-ml-capture/fraud-scorer/
    kms_key: alias/ml-capture
infrastructure:
  scripts:
    - deploy/deploy.py
'''

IAC = "IAC001,IAC002,IAC003"


def results(cli, repo: Repo, spec: str = SPEC,  # type: ignore[no-untyped-def]
            script: str = SDK_DEPLOY) -> tuple[int, dict[str, dict]]:
    repo.write("mlgate.yaml", spec)
    repo.write("deploy/deploy.py", script)
    repo.commit("deploy with the SDK")
    code, out, _ = cli("check", "--select", IAC, "--format", "json", cwd=repo.root)
    report = json.loads(out)
    return code, {r["rule"]: r for r in report["deployments"][0]["results"]}


def messages(result: dict) -> str:  # type: ignore[type-arg]
    return "\n".join(f"{f['status']}: {f['message']}" for f in result["findings"])


def test_check_a_script_only_spec_that_agrees(cli, repo: Repo) -> None:  # type: ignore[no-untyped-def]
    code, found = results(cli, repo)
    assert code == 0, found
    assert found["IAC001"]["status"] == "pass", messages(found["IAC001"])
    assert found["IAC003"]["status"] == "pass", messages(found["IAC003"])
    assert f"InstanceType ml.c5.xlarge (deploy/deploy.py:{line(SDK_DEPLOY, 'instance_type=')}" in \
        messages(found["IAC001"])
    sampling = line(SDK_DEPLOY, "sampling_percentage=")
    assert f"DataCaptureConfig.InitialSamplingPercentage 20 (deploy/deploy.py:{sampling}" in messages(found["IAC003"])


def test_check_a_script_that_captures_less_than_the_spec_says(cli, repo: Repo) -> None:  # type: ignore[no-untyped-def]
    script = SDK_DEPLOY.replace("sampling_percentage=20", "sampling_percentage=5")
    code, found = results(cli, repo, script=script)
    assert code == 1
    assert found["IAC003"]["status"] == "fail"
    (finding,) = [f for f in found["IAC003"]["findings"] if f["status"] == "fail"]
    assert finding["message"].startswith("monitoring.capture.sampling_percent is 20, but the infrastructure code "
                                         "sets DataCaptureConfig.InitialSamplingPercentage to 5;")
    # the script's line is the disagreement's related location (SARIF relatedLocations)
    assert finding["related"] == [{"path": "deploy/deploy.py", "line": line(script, "sampling_percentage=5")}]
    # and the judged deployment holds the script's 5 %, with its line
    loaded = load_spec(repo.root / "mlgate.yaml", root=repo.root)
    fact = resolve(loaded, Workspace(repo.root)).fact(("monitoring", "capture", "sampling_percent"))
    assert fact is not None and (fact.value, fact.origin, fact.claimed) == (5, "code", 20)
    assert (fact.at.path, fact.at.line) == ("deploy/deploy.py", line(script, "sampling_percentage=5"))


def test_check_the_sdk_default_sampling_against_the_spec(cli, repo: Repo) -> None:  # type: ignore[no-untyped-def]
    script = SDK_DEPLOY.replace("        sampling_percentage=20,\n", "")
    code, found = results(cli, repo, spec=SPEC.replace("sampling_percent: 20", "sampling_percent: 100"),
                          script=script)
    assert code == 1
    assert ("monitoring.capture.sampling_percent is 100, but the infrastructure code sets DataCaptureConfig."
            "InitialSamplingPercentage to 20 (sampling_percentage not written: the SageMaker Python SDK's default is "
            "20)") in messages(found["IAC003"])
    (finding,) = [f for f in found["IAC003"]["findings"] if f["status"] == "fail"]
    assert finding["related"] == [{"path": "deploy/deploy.py", "line": line(script, "capture = DataCaptureConfig(")}]


def test_check_an_environment_value_is_a_warning_with_the_reason(cli, repo: Repo) -> None:  # type: ignore[no-untyped-def]
    script = SDK_DEPLOY.replace('import argparse\n', 'import argparse\nimport os\n').replace(
        'instance_type="ml.c5.xlarge"', 'instance_type=os.environ["INSTANCE_TYPE"]')
    code, found = results(cli, repo, script=script)
    assert code == 0
    iac001 = found["IAC001"]
    assert iac001["status"] == "warn"
    (warned,) = [f for f in iac001["findings"] if f["status"] == "warn"]
    assert "serving.instance_type is ml.c5.xlarge, but variant 'AllTraffic' (the only production variant)'s " \
           "InstanceType in the infrastructure code is ${env:INSTANCE_TYPE}" in warned["message"]
    assert "read from environment variable INSTANCE_TYPE (deploy/deploy.py:" in warned["message"]
    assert "deploy script as a literal or a module-level constant" in warned["remediation"]


def test_check_a_missing_script_fails_at_its_spec_line(cli, repo: Repo) -> None:  # type: ignore[no-untyped-def]
    spec = SPEC.replace("    - deploy/deploy.py\n", "    - deploy/deploy.py\n    - deploy/gone.py\n")
    code, found = results(cli, repo, spec=spec)
    assert code == 1
    (failed,) = [f for f in found["IAC001"]["findings"] if f["status"] == "fail"]
    assert failed["message"] == "infrastructure.scripts names deploy/gone.py, which does not exist"
    assert (failed["location"]["path"], failed["location"]["line"]) == ("mlgate.yaml", line(spec, "deploy/gone.py"))


def test_check_a_syntax_error_is_an_error_at_its_line(cli, repo: Repo) -> None:  # type: ignore[no-untyped-def]
    script = SDK_DEPLOY.replace("def main():", "def main()")
    _, found = results(cli, repo, script=script)
    assert found["IAC001"]["status"] == "error"
    (error,) = found["IAC001"]["findings"]
    assert error["message"] == "could not read the evidence: is not valid Python: expected ':'"
    assert error["location"] == {"path": "deploy/deploy.py", "line": line(script, "def main()")}


def test_check_a_lean_spec_takes_the_facts_from_the_script(cli, repo: Repo) -> None:  # type: ignore[no-untyped-def]
    spec = textwrap.dedent('''\
        version: 1
        serving: {pattern: realtime, endpoint: fraud-scorer}
        infrastructure: {scripts: [deploy/deploy.py]}
        ''')
    code, found = results(cli, repo, spec=spec)
    assert code == 0
    text = messages(found["IAC001"])
    where = line(SDK_DEPLOY, "instance_type=")
    assert "serving.instance_type is not in the spec; the infrastructure code sets variant 'AllTraffic' (the only " \
           f"production variant)'s InstanceType to ml.c5.xlarge (deploy/deploy.py:{where}" in text


def test_check_a_script_path_outside_the_repository_is_a_usage_error(cli, repo: Repo) -> None:  # type: ignore[no-untyped-def]
    spec = SPEC.replace("    - deploy/deploy.py\n", "    - deploy/deploy.py\n    - ../../etc/deploy.py\n")
    repo.write("mlgate.yaml", spec)
    repo.commit()
    code, _, err = cli("check", "--select", IAC, cwd=repo.root)
    assert code == 2
    assert f"mlgate.yaml:{line(spec, '../../etc/deploy.py')}" in err and "infrastructure.scripts.1" in err


def test_check_the_schema_documents_the_field(cli, repo: Repo) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("schema")
    assert code == 0
    scripts = json.loads(out)["$defs"]["Infrastructure"]["properties"]["scripts"]
    assert scripts["type"] == "array" and "never run" in scripts["description"]
