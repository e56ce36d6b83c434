"""`mlgate check --aws` against moto's server: a ThreadedMotoServer on 127.0.0.1 (a free port) for the session,
reset before each test; every resource is created with real boto3 calls through AWS_ENDPOINT_URL, with fake
credentials, so nothing leaves the machine.

`churn_repo` is the bundled ready example as a repository of its own, moved to moto's account (123456789012) and
pinned to the data version the moto account holds; `Account` builds that account, ready or with one thing wrong.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from mlgate.manifest import write
from tests.conftest import Repo
from tests.example_repos import example_repo

ACCOUNT = "123456789012"  # moto's account
REGION = "eu-west-1"
ENDPOINT = "churn-predictor"
ROLE = "churn-predictor-serving"
ARTIFACT = b"churn-predictor v7: gradient-boosted trees\n"
PACKAGE_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/churn-predictor/1"
ALARMS = {  # name: (metric, extended statistic, threshold as CloudWatch holds it)
    "churn-predictor-p99-latency": ("ModelLatency", "p99", 200_000.0),  # 200 ms in microseconds
    "churn-predictor-5xx-rate": ("Invocation5XXErrors", None, 0.01),
    "churn-predictor-throttles": ("Invocation4XXErrors", None, 20.0),
}


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # moto logs its own 500s
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A clean moto account and an environment whose only AWS is moto: fake keys, no profile files, no IMDS."""
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
                 "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return moto_url


def client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


@dataclass
class Account:
    """The moto account behind the churn-predictor deployment. `build()` creates what a ready deployment has; the
    knobs leave one thing wrong."""

    data_version: str = ""
    artifact_sha256: str = hashlib.sha256(ARTIFACT).hexdigest()
    commit: str = ""
    approval: str = "Approved"
    delete_data_version: bool = False
    broad_role: bool = False
    missing_alarms: set[str] = field(default_factory=set)
    previous_instances: int = 2
    canary_weight: float = 5.0
    role_policy: dict[str, Any] = field(default_factory=dict)
    # EVL002: the production model (v6) registered as a model package with this model quality report as its
    # ModelMetrics, and these CustomerMetadataProperties; None: v6 is a plain model, not from a package
    production_metrics: dict[str, Any] | None = None
    production_properties: dict[str, str] = field(default_factory=dict)

    def data(self) -> str:
        """The versioned training data; returns its VersionId (before the spec is written, which pins it)."""
        s3 = client("s3")
        s3.create_bucket(Bucket="acme-ml-data", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket="acme-ml-data", VersioningConfiguration={"Status": "Enabled"})
        put = s3.put_object(Bucket="acme-ml-data", Key="churn/events/2026-10/events.parquet", Body=b"events v1")
        s3.put_object(Bucket="acme-ml-data", Key="churn/events/2026-10/events.parquet", Body=b"events v2")
        self.data_version = str(put["VersionId"])
        return self.data_version

    def build(self) -> None:
        s3 = client("s3")
        if self.delete_data_version:
            s3.delete_object(Bucket="acme-ml-data", Key="churn/events/2026-10/events.parquet",
                             VersionId=self.data_version)
        s3.create_bucket(Bucket="acme-ml-models", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket="acme-ml-models", Key="churn/v7/model.tar.gz", Body=ARTIFACT, ChecksumAlgorithm="SHA256")
        s3.put_object(Bucket="acme-ml-models", Key="churn/v6/model.tar.gz", Body=b"v6")
        sm = client("sagemaker")
        sm.create_model_package_group(ModelPackageGroupName="churn-predictor")
        sm.create_model_package(
            ModelPackageGroupName="churn-predictor", ModelApprovalStatus=self.approval,
            MetadataProperties={"CommitId": self.commit},
            CustomerMetadataProperties={"sha256": self.artifact_sha256, "seed": "20261101",
                                        "data:account-events": self.data_version},
            InferenceSpecification={"Containers": [{"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/churn",
                                                    "ModelDataUrl": "s3://acme-ml-models/churn/v7/model.tar.gz"}],
                                    "SupportedContentTypes": ["text/csv"],
                                    "SupportedResponseMIMETypes": ["text/csv"]})
        iam = client("iam")
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                          "Principal": {"Service": "sagemaker.amazonaws.com"}}]}
        role = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName=ROLE, PolicyName="serving", PolicyDocument=json.dumps(self.role_policy))
        if self.broad_role:
            broad = iam.create_policy(PolicyName="data-science-convenience", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "iam:PassRole"],
                                                         "Resource": "*"}]}))
            iam.attach_role_policy(RoleName=ROLE, PolicyArn=broad["Policy"]["Arn"])
        for version in ("v6", "v7"):
            container = {"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/churn",
                         "ModelDataUrl": f"s3://acme-ml-models/churn/{version}/model.tar.gz"}
            if version == "v6" and self.production_metrics is not None:
                container = {"ModelPackageName": self._production_package()}
            sm.create_model(ModelName=f"churn-predictor-{version}", ExecutionRoleArn=role,
                            PrimaryContainer=container)
        sm.create_endpoint_config(
            EndpointConfigName="churn-predictor-v7-canary",
            ProductionVariants=[
                {"VariantName": "churn-v6", "ModelName": "churn-predictor-v6", "InstanceType": "ml.c5.large",
                 "InitialInstanceCount": 2, "InitialVariantWeight": 100 - self.canary_weight},
                {"VariantName": "churn-v7", "ModelName": "churn-predictor-v7", "InstanceType": "ml.c5.large",
                 "InitialInstanceCount": 2, "InitialVariantWeight": self.canary_weight}],
            DataCaptureConfig={
                "EnableCapture": True, "InitialSamplingPercentage": 10,
                "DestinationS3Uri": "s3://acme-ml-capture/churn-predictor/",
                "KmsKeyId": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d",
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]})
        sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="churn-predictor-v7-canary")
        if self.previous_instances != 2:  # scaled in after deployment (a config cannot start a variant at 0)
            sm.update_endpoint_weights_and_capacities(EndpointName=ENDPOINT, DesiredWeightsAndCapacities=[
                {"VariantName": "churn-v6", "DesiredWeight": 100 - self.canary_weight,
                 "DesiredInstanceCount": self.previous_instances}])
        cloudwatch = client("cloudwatch")
        for name, (metric, statistic, threshold) in ALARMS.items():
            if name in self.missing_alarms:
                continue
            extra: dict[str, Any] = {"ExtendedStatistic": statistic} if statistic else {"Statistic": "Average"}
            cloudwatch.put_metric_alarm(
                AlarmName=name, Namespace="AWS/SageMaker", MetricName=metric, Period=60, EvaluationPeriods=3,
                Dimensions=[{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "churn-v7"}],
                Threshold=threshold, ComparisonOperator="GreaterThanThreshold",
                AlarmActions=[f"arn:aws:sns:{REGION}:{ACCOUNT}:growth-ml-pager"], **extra)


    def _production_package(self) -> str:
        """v6's model package, its model quality statistics in S3 as the Model Registry's ModelMetrics."""
        body = json.dumps(self.production_metrics).encode()
        client("s3").put_object(Bucket="acme-ml-models", Key="churn/v6/evaluation.json", Body=body)
        sm = client("sagemaker")
        sm.create_model_package_group(ModelPackageGroupName="churn-predictor-v6")
        created = sm.create_model_package(
            ModelPackageGroupName="churn-predictor-v6", ModelApprovalStatus="Approved",
            CustomerMetadataProperties=self.production_properties or {"model_version": "v6"},
            ModelMetrics={"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                                          "S3Uri": "s3://acme-ml-models/churn/v6/evaluation.json"}}},
            InferenceSpecification={"Containers": [{"Image": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/churn",
                                                    "ModelDataUrl": "s3://acme-ml-models/churn/v6/model.tar.gz"}],
                                    "SupportedContentTypes": ["text/csv"],
                                    "SupportedResponseMIMETypes": ["text/csv"]})
        return str(created["ModelPackageArn"])


def _set(text: str, pattern: str, value: str) -> str:
    new, count = re.subn(pattern, lambda m: m.group(1) + value, text, count=1, flags=re.MULTILINE)
    assert count == 1, pattern
    return new


@pytest.fixture
def churn(tmp_path: Path, aws_env: str) -> tuple[Repo, Account]:
    """The ready example as its own repository, in moto's account, pinned to the account's data version, with
    the artifact's manifest written for its training commit (as `tests.example_repos.ready_repo` does)."""
    repo = example_repo(tmp_path / "churn", "ready")
    account = Account()
    version = account.data()
    for rel in ("mlgate.yaml", "deploy/iam/churn-predictor-role.json", "deploy/stack.yaml", "deploy/params/prod.json"):
        path = repo.root / rel
        path.write_text(path.read_text(encoding="utf-8").replace("111122223333", ACCOUNT), encoding="utf-8")
    account.commit = repo.git("rev-parse", "HEAD")
    spec_file = repo.root / "mlgate.yaml"
    spec = spec_file.read_text(encoding="utf-8")
    spec = _set(spec, r"^(      version: )Vx8Fq2KQm1sYdT0b7hN3cR9pL4eWzAuJ$", version)
    spec = _set(spec, r"^(      version: )Vx8Fq2KQm1sYdT0b7hN3cR9pL4eWzAuJ$", version)  # made_from
    spec = _set(spec, r"^(    commit: ).*$", account.commit)
    spec = _set(spec, r"^(    sha256: ).*$", account.artifact_sha256)
    spec = _set(spec, r"^(    manifest: .*)$", f"\n    model_package_arn: {PACKAGE_ARN}")
    spec_file.write_text(spec, encoding="utf-8")
    report = repo.root / "evaluation/churn-predictor-v7.json"  # the evaluation names the artifact moto holds
    report.write_text(re.sub(r"[0-9a-f]{64}", account.artifact_sha256, report.read_text(encoding="utf-8")),
                      encoding="utf-8")
    write(spec=spec_file, sha256=account.artifact_sha256, commit=account.commit,
          frameworks={"numpy": "2.1.3", "pandas": "2.2.3", "scikit-learn": "1.5.2"}, detect=False)
    repo.commit("record the training commit, the data version and the artifact's manifest")
    account.role_policy = json.loads((repo.root / "deploy/iam/churn-predictor-role.json").read_text())
    return repo, account
