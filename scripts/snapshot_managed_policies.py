"""Regenerate mlgate's snapshot of the AWS managed policies SEC001 knows, from the copy moto ships.

No runtime dependency of mlgate carries AWS managed policy documents; moto (the AWS mock) bundles about 1,600 of
them. This script copies the few that execution roles are commonly given into
`src/mlgate/iam/data/aws_managed_policies.json`, and writes the AmazonSageMakerFullAccess document as a test
fixture (`tests/fixtures/iam/AmazonSageMakerFullAccess.json`). moto is not a dependency of mlgate: install it in a
throwaway virtualenv and run the script with that interpreter, from the repository root:

    python3 -m venv /tmp/moto-venv && /tmp/moto-venv/bin/pip install moto
    /tmp/moto-venv/bin/python scripts/snapshot_managed_policies.py

Then run the tests: a managed policy whose document changed can change SEC001's findings.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT / "src" / "mlgate" / "iam" / "data" / "aws_managed_policies.json"
FIXTURE = ROOT / "tests" / "fixtures" / "iam" / "AmazonSageMakerFullAccess.json"

# The managed policies an execution role is commonly given: the broad ones teams attach "to make it work", and
# the narrower ones SEC001 can then tell apart from them.
POLICIES = (
    "AdministratorAccess",
    "PowerUserAccess",
    "ReadOnlyAccess",
    "IAMFullAccess",
    "IAMReadOnlyAccess",
    "AmazonSageMakerFullAccess",
    "AmazonSageMakerReadOnly",
    "AmazonSageMakerJobFullAccess",
    "AmazonSageMakerModelRegistryFullAccess",
    "AmazonSageMakerCanvasFullAccess",
    "SageMakerStudioFullAccess",
    "SageMakerStudioUserIAMDefaultExecutionPolicy",
    "SageMakerStudioUserIAMPermissiveExecutionPolicy",
    "AmazonS3FullAccess",
    "AmazonS3ReadOnlyAccess",
    "AmazonEC2ContainerRegistryFullAccess",
    "AmazonEC2ContainerRegistryPowerUser",
    "AmazonEC2ContainerRegistryReadOnly",
    "AmazonEC2ContainerRegistryPullOnly",
    "CloudWatchFullAccess",
    "CloudWatchLogsFullAccess",
    "CloudWatchAgentServerPolicy",
    "SecretsManagerReadWrite",
    "AmazonSSMReadOnlyAccess",
    "AWSKeyManagementServicePowerUser",
    "AWSLambda_FullAccess",
    "AmazonDynamoDBFullAccess",
)


def main() -> int:
    try:
        import moto
        from moto.iam.aws_managed_policies import aws_managed_policies_data
    except ImportError:
        print("moto is not installed in this interpreter; see the docstring", file=sys.stderr)
        return 2
    data = json.loads(aws_managed_policies_data)
    missing = [name for name in POLICIES if name not in data]
    if missing:
        print(f"moto {moto.__version__} lacks {', '.join(missing)}", file=sys.stderr)
        return 1
    policies = {}
    for name in POLICIES:
        entry = data[name]
        policies[name] = {
            "arn": f"arn:aws:iam::aws:policy{entry.get('Path', '/')}{name}",
            "version": entry["DefaultVersionId"],
            "updated": entry["UpdateDate"][:10],
            "document": entry["Document"],
        }
    snapshot = {
        "about": "AWS managed policy documents for SEC001, copied from moto's bundled data by "
                 "scripts/snapshot_managed_policies.py; regenerate with that script.",
        "source": f"moto {moto.__version__}, moto/iam/aws_managed_policies.py",
        "policies": policies,
    }
    SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    document = data["AmazonSageMakerFullAccess"]["Document"]
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps({"Version": document.get("Version", "2012-10-17"),
                                   "Statement": document["Statement"]}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(policies)} policies to {SNAPSHOT.relative_to(ROOT)} and {FIXTURE.relative_to(ROOT)} "
          f"(moto {moto.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
