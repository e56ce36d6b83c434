"""Every performance figure of docs/performance.md, measured on this machine, printed as Markdown tables.

Usage (from the repository root, with mlgate installed in the running Python's environment):

    python benchmarks/run.py [--runs 5] [--sizes 50,100,200] [--merge-every 10] [--no-monorepo] [--no-peer] [--keep]

1. start-up: `mlgate --version` and `mlgate --help`;
2. the examples: `mlgate check examples/ready` with every offline rule (SEC001's IAM analysis included), the
   Markdown report, examples/not-ready, and the same spec with no IAM policy (in a `git clone --shared` under /tmp,
   its security.execution_role removed);
3. what each of those loads: the heavy modules, and how many of the IAM database's services were parsed;
4. monorepos of 50, 100 and 200 deployment specs (20,000 files and 5,000 commits each, from
   benchmarks/monorepo.py), to show the cost grows linearly, how many git processes the run starts and how many
   times the shared lockfile is opened; then each size again with a merge commit every 10 commits;
5. the peer comparison: mlgate and checkov on one CloudFormation template with a SageMaker endpoint and its IAM
   role (benchmarks/fixtures/sagemaker-endpoint/). checkov is installed with pip into a throwaway virtualenv under
   /tmp (never a dependency of mlgate) the first time.

Every figure is the median wall time of --runs runs (after one warm-up run), with the min and max, the median CPU
time (user + system, of mlgate and the git processes it starts) and the peak RSS of the largest process. Runs use
the Python bytecode cache (PYTHONDONTWRITEBYTECODE is unset for them), as an installed mlgate does. Not part of the
test suite: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "benchmarks" / "fixtures" / "sagemaker-endpoint"
CHECKOV_VENV = Path("/tmp/mlgate-bench-checkov")
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
QUOTE = '"'

# Runs a command and reports its wall time, the CPU time of every process it started (git included: a figure that
# other load on the machine barely moves) and the peak RSS of the largest.
PROBE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kb": usage.ru_maxrss,
                  "code": proc.returncode}))
"""

# Runs `mlgate check ...` in-process and reports what it imported.
LOADED = """
import json, sys
from mlgate.cli import main
code = main(sys.argv[1:])
services = None
if "mlgate.iam.catalog" in sys.modules:
    from mlgate.iam.catalog import load_catalog
    if load_catalog.cache_info().currsize:
        catalog = load_catalog()
        services = [len(catalog._services), len(catalog.prefixes)]
heavy = ["policy_sentry", "policy_sentry.shared.iam_data", "boto3", "hcl2", "jinja2", "git"]
print(json.dumps({"code": code, "loaded": [m for m in heavy if m in sys.modules], "services": services}))
"""


@dataclass
class Sample:
    median: float
    low: float
    high: float
    cpu: float  # median CPU seconds, child processes included
    rss_mb: float
    code: int

    def cells(self) -> str:
        return (f"{self.median:.3f} s | {self.low:.3f} s | {self.high:.3f} s | {self.cpu:.3f} s | "
                f"{self.rss_mb:.0f} MB | {self.code}")


def measure(command: list[str], runs: int, cwd: Path = ROOT, env: dict[str, str] | None = None) -> Sample:
    samples = []
    for i in range(runs + 1):
        out = subprocess.run([sys.executable, "-c", PROBE, *command], capture_output=True, text=True, check=True,
                             cwd=cwd, env=env or ENV)
        if i:  # the first run warms the bytecode and file caches
            samples.append(json.loads(out.stdout))
    walls = [s["wall"] for s in samples]
    return Sample(statistics.median(walls), min(walls), max(walls), statistics.median(s["cpu"] for s in samples),
                  max(s["rss_kb"] for s in samples) / 1024, samples[-1]["code"])


def mlgate_command() -> str:
    return shutil.which("mlgate", path=str(Path(sys.executable).parent)) or shutil.which("mlgate") or "mlgate"


def header(title: str, columns: str = "command | median | min | max | CPU | peak RSS | exit | target") -> None:
    print(f"\n### {title}\n")
    print(f"| {columns} |")
    print("|" + "---|" * (columns.count("|") + 1))


def verdict(sample: Sample, seconds: float | None, megabytes: float | None = None) -> str:
    parts = []
    if seconds is not None:
        parts.append(f"≤ {seconds:g} s")
    if megabytes is not None:
        parts.append(f"≤ {megabytes:g} MB")
    if not parts:
        return ""
    met = (seconds is None or sample.median <= seconds) and (megabytes is None or sample.rss_mb <= megabytes)
    return f"{', '.join(parts)}: {'met' if met else 'NOT MET'}"


def machine() -> None:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    memory_kb = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")), 0)
    memory = f"{memory_kb / 1024 / 1024:.0f} GB"
    git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    version = subprocess.run([mlgate_command(), "--version"], capture_output=True, text=True, env=ENV).stdout.strip()
    print(f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"- machine: {cpu}, {os.cpu_count()} cores, {memory} RAM, {platform.system()} {platform.release()}")
    print(f"- Python {platform.python_version()}, {git}, {version}")
    print(f"- load average at the start (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def without_iam_policy(into: Path) -> Path:
    """A clone of this repository whose examples/ready spec names no IAM policy (the spec as committed at HEAD,
    without security.execution_role): SEC001 then finds no role to analyse and never loads the IAM database."""
    subprocess.run(["git", "clone", "-q", "--shared", str(ROOT), str(into)], check=True)
    spec = into / "examples" / "ready" / "mlgate.yaml"
    text = spec.read_text(encoding="utf-8")
    role = "  execution_role:\n    policy: deploy/iam/churn-predictor-role.json\n"
    if role not in text:
        raise SystemExit(f"{spec}: the execution role is not written as expected; update benchmarks/run.py")
    spec.write_text(text.replace(role, ""), encoding="utf-8")
    return into


# What the libraries mlgate is built on cost a check before any of mlgate's own work: importing pydantic, GitPython,
# PyYAML, packaging, tomllib and importlib.metadata, and building the spec's validator (pydantic builds it at run
# time), with pydantic's plugins off as the console script has them. The 0.30 s target must fit above this.
STACK = """
import os
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
import git, yaml, packaging.requirements, tomllib, importlib.metadata
from mlgate.spec.models import Spec
Spec.model_rebuild(force=True)
"""


def startup_and_examples(runs: int) -> None:
    mlgate = mlgate_command()
    rows = [
        ("`python -c pass` (the floor: `mlgate --version` ≤ 2× this)", [sys.executable, "-c", "pass"], None, None),
        ("the libraries alone: their imports and the spec's validator built (`STACK` in benchmarks/run.py)",
         [sys.executable, "-c", STACK], None, None),
        ("`mlgate --version`", [mlgate, "--version"], 0.10, None),
        ("`mlgate --help`", [mlgate, "--help"], 0.10, None),
        ("`mlgate check examples/ready` (every offline rule, IAM included)", [mlgate, "check", "examples/ready"],
         0.30, 120),
        ("`mlgate check examples/ready --ignore SEC001`", [mlgate, "check", "examples/ready", "--ignore", "SEC001"],
         None, None),
        ("`mlgate check examples/ready --format markdown`",
         [mlgate, "check", "examples/ready", "--format", "markdown"], None, None),
        ("`mlgate check examples/not-ready`", [mlgate, "check", "examples/not-ready"], None, None),
    ]
    header("Start-up and the examples")
    for name, command, seconds, megabytes in rows:
        sample = measure(command, runs)
        print(f"| {name} | {sample.cells()} | {verdict(sample, seconds, megabytes)} |")
    with tempfile.TemporaryDirectory(prefix="mlgate-bench-no-iam-", dir="/tmp") as tmp:
        clone = without_iam_policy(Path(tmp) / "clone")
        sample = measure([mlgate, "check", "examples/ready"], runs, cwd=clone)
        print(f"| `mlgate check examples/ready`, the spec with no IAM policy (in a clone) | {sample.cells()} | "
              f"{verdict(sample, 0.4)} |")


def loaded_modules() -> None:
    header("What each command loads", "command | heavy modules imported | IAM database services parsed")
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            ("mlgate check examples/ready", ["check", "examples/ready", "--output", f"{tmp}/r.txt"]),
            ("mlgate check examples/ready --ignore SEC001",
             ["check", "examples/ready", "--ignore", "SEC001", "--output", f"{tmp}/r.txt"]),
            ("mlgate check examples/ready --format markdown",
             ["check", "examples/ready", "--format", "markdown", "--output", f"{tmp}/r.md"]),
        ]
        for name, args in cases:
            out = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True, text=True, cwd=ROOT,
                                 env=ENV, check=True)
            found = json.loads(out.stdout.splitlines()[-1])
            services = f"{found['services'][0]} of {found['services'][1]}" if found["services"] else "none"
            print(f"| `{name}` | {', '.join(found['loaded']) or 'none'} | {services} |")


def git_processes(root: Path) -> tuple[int, int]:
    """(git processes, `git log` processes) one `mlgate check` starts in `root`."""
    with tempfile.NamedTemporaryFile("r", suffix=".trace") as trace:
        subprocess.run([mlgate_command(), "check", str(root)], cwd=root, stdout=subprocess.DEVNULL,
                       env={**ENV, "GIT_TRACE": trace.name}, check=False)
        lines = [line for line in Path(trace.name).read_text().splitlines() if "trace: built-in: git " in line]
    return len(lines), sum(1 for line in lines if "built-in: git log " in line)


def shared_reads(root: Path, names: tuple[str, ...]) -> str:
    """How many times the mlgate process opened each shared evidence file (strace, when installed)."""
    if shutil.which("strace") is None:
        return "strace not installed"
    with tempfile.NamedTemporaryFile("r", suffix=".strace") as trace:
        subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat", "-o", trace.name, mlgate_command(), "check",
                        str(root)], cwd=root, stdout=subprocess.DEVNULL, env=ENV, check=False)
        lines = Path(trace.name).read_text().splitlines()
    main = lines[0].split()[0] if lines else ""
    mine = [line for line in lines if line.split()[0] == main and "ENOENT" not in line]
    counts = {name: sum(1 for line in mine if f"/{name}{QUOTE}" in line) for name in names}
    return ", ".join(f"{name} opened {n}×" for name, n in counts.items())


def monorepo(runs: int, sizes: list[int], merge_every: int, keep: bool) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from monorepo import generate

    header("Monorepo: N deployment specs, 20,000 files, 5,000 commits",
           "specs | median | min | max | CPU | peak RSS | exit | per spec | git processes (git log) | target")
    medians: dict[int, float] = {}
    # with merges at every size too: the git processes a run starts must not grow with the specs in either history
    cases = [(size, 0) for size in sizes] + ([(size, merge_every) for size in sizes] if merge_every else [])
    for size, merges in cases:
        root = Path(tempfile.mkdtemp(prefix=f"mlgate-bench-mono-{size}-", dir="/tmp"))
        try:
            start = time.perf_counter()
            made = generate(root, specs=size, merge_every=merges)
            built = time.perf_counter() - start
            sample = measure([mlgate_command(), "check", str(root)], runs, cwd=root)
            if not merges:
                medians[size] = sample.median
            processes, logs = git_processes(root)
            reads = shared_reads(root, ("requirements.txt", "requirements.in"))
            target = verdict(sample, 5 if merges else 10, 200) if size == max(sizes) else ""
            label = f"{size}, a merge commit every {merges} commits" if merges else f"{size}"
            print(f"| {label} | {sample.cells()} | {1000 * sample.median / size:.1f} ms | {processes} ({logs}) | "
                  f"{target} |")
            print(f"<!-- {root}: {made['specs']} specs, {made['files']} files, {made['commits']} commits, "
                  f"generated in {built:.1f} s; the shared lockfile: {reads} -->")
        finally:
            if keep:
                print(f"<!-- kept {root} -->")
            else:
                shutil.rmtree(root, ignore_errors=True)
    if len(medians) >= 2:
        ordered = sorted(medians)
        steps = [f"{(medians[b] - medians[a]) / (b - a) * 1000:.1f} ms/spec from {a} to {b}"
                 for a, b in itertools.pairwise(ordered)]
        print(f"\nMarginal cost: {'; '.join(steps)} (linear growth: the marginal cost stays flat).")


def ensure_checkov() -> Path:
    checkov = CHECKOV_VENV / "bin" / "checkov"
    if not checkov.exists():
        print(f"<!-- installing checkov into {CHECKOV_VENV} (once) -->", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(CHECKOV_VENV)], check=True)
        subprocess.run([str(CHECKOV_VENV / "bin" / "pip"), "install", "--quiet", "checkov"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return checkov


def peer(runs: int) -> None:
    checkov = ensure_checkov()
    release = subprocess.run([str(checkov), "--version"], capture_output=True, text=True).stdout.strip()
    template = FIXTURE / "template.yaml"
    spec = FIXTURE / "peer.mlgate.yaml"
    checkov_cmd = [str(checkov), "-f", str(template), "--framework", "cloudformation", "--skip-download",
                   "--compact", "--quiet"]
    rows = [
        (f"`checkov -f template.yaml --framework cloudformation` (checkov {release})", checkov_cmd),
        ("`mlgate check peer.mlgate.yaml` (every rule)", [mlgate_command(), "check", str(spec)]),
        ("`mlgate check peer.mlgate.yaml --select SEC001,IAC` (the role and the template)",
         [mlgate_command(), "check", str(spec), "--select", "SEC001,IAC"]),
    ]
    header("Peer comparison: one CloudFormation template, a SageMaker endpoint and its IAM role",
           "command | median | min | max | CPU | peak RSS | exit | checkov ÷ this")
    samples = [measure(command, runs) for _, command in rows]
    for (name, _), sample in zip(rows, samples, strict=True):
        print(f"| {name} | {sample.cells()} | {samples[0].median / sample.median:.1f}× |")
    summary = subprocess.run([*checkov_cmd[:-2], "-o", "json"], capture_output=True, text=True, env=ENV).stdout
    try:
        counts = json.loads(summary)["summary"]
        print(f"\ncheckov: {counts['passed']} checks passed, {counts['failed']} failed.")
    except (ValueError, KeyError, TypeError):
        pass
    result = subprocess.run([mlgate_command(), "check", str(spec), "--select", "SEC001", "--format", "json"],
                            capture_output=True, text=True, env=ENV).stdout
    try:
        (sec001,) = json.loads(result)["deployments"][0]["results"]
        print(f"mlgate SEC001: {sec001['status']}, "
              f"{sum(1 for f in sec001['findings'] if f['status'] == 'fail')} failing findings.")
    except (ValueError, KeyError, TypeError):
        pass
    print(f"Target: mlgate at least 9× faster than checkov: "
          f"{'met' if samples[0].median / samples[1].median >= 9 else 'NOT MET'} "
          f"({samples[0].median / samples[1].median:.1f}× for every rule).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="50,100,200", help="monorepo sizes, in specs (default: 50,100,200)")
    parser.add_argument("--merge-every", type=int, default=10, metavar="N",
                        help="also time each monorepo with a merge commit every N commits (0: do not)")
    parser.add_argument("--no-monorepo", action="store_true")
    parser.add_argument("--no-peer", action="store_true", help="skip the checkov comparison")
    parser.add_argument("--keep", action="store_true", help="keep the generated monorepos under /tmp")
    args = parser.parse_args()
    if args.runs < 5:
        print("<!-- fewer than 5 runs: these figures do not meet the benchmark's bar -->")
    machine()
    startup_and_examples(args.runs)
    loaded_modules()
    if not args.no_monorepo:
        monorepo(args.runs, [int(s) for s in args.sizes.split(",") if s.strip()], args.merge_every, args.keep)
    if not args.no_peer:
        peer(args.runs)


if __name__ == "__main__":
    main()
