"""Time the commands a pre-commit hook and a CI job run: median, min and max wall time, the median CPU time (user +
system, of mlgate and the git processes it starts: the figure a loaded machine moves least) and peak RSS.

Usage: python benchmarks/cli_timing.py [--runs N] [--baseline DIR]   (from the repository root, mlgate installed)

`python -c pass` is timed in the same interpreter as the floor any command pays. With --baseline, DIR is another
mlgate source tree (e.g. `git worktree add --detach /tmp/mlgate-main main`) run through the same interpreter
(PYTHONPATH=DIR/src): each command alternates between the two, so a loaded machine slows both alike.
Not part of the test suite: figures depend on the machine. Record them in the README with the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kb": usage.ru_maxrss,
                  "code": proc.returncode}))
"""


def sample(command: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", PROBE, *command], capture_output=True, text=True, check=True,
                         cwd=ROOT, env=env)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def summary(samples: list[dict[str, float]]) -> dict[str, float]:
    walls = [s["wall"] for s in samples]
    return {"median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls),
            "cpu_s": statistics.median(s["cpu"] for s in samples),
            "peak_rss_mb": max(s["rss_kb"] for s in samples) / 1024, "exit": samples[-1]["code"]}


def row(name: str, m: dict[str, float]) -> str:
    return (f"{name:<58} {m['median_s']:>7.3f}s {m['min_s']:>7.3f}s {m['max_s']:>7.3f}s {m['cpu_s']:>7.3f}s "
            f"{m['peak_rss_mb']:>7.1f}MB  {m['exit']:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--baseline", type=Path, metavar="DIR", help="another mlgate source tree to compare with")
    args = parser.parse_args()
    mlgate = shutil.which("mlgate") or str(Path(sys.executable).parent / "mlgate")
    # Each tree's console-script entry point (mlgate.entry, or mlgate.cli before it), through `-c` so that
    # PYTHONPATH decides which mlgate is imported.
    run_mlgate = [sys.executable, "-c", "import sys\ntry:\n from mlgate.entry import main\nexcept ImportError:\n"
                  " from mlgate.cli import main\nsys.exit(main())"]
    commands = {
        "mlgate --version": ["--version"],
        "mlgate --help": ["--help"],
        "mlgate check examples/ready": ["check", "examples/ready"],
        "mlgate check examples/not-ready": ["check", "examples/not-ready"],
        "mlgate check examples/ready --format markdown": ["check", "examples/ready", "--format", "markdown"],
    }
    variants: dict[str, tuple[list[str], dict[str, str] | None]] = {"": ([mlgate], None)}
    if args.baseline:
        env = {**os.environ, "PYTHONPATH": str(args.baseline.resolve() / "src")}
        variants = {" (this tree)": (run_mlgate, None), " (baseline)": (run_mlgate, env)}
    print(f"{'command':<58} {'median':>8} {'min':>8} {'max':>8} {'CPU':>8} {'peak RSS':>9}  exit")
    floor = [sample([sys.executable, "-c", "pass"]) for _ in range(args.runs)]
    print(row("python -c pass", summary(floor)))
    for name, tail in commands.items():
        samples: dict[str, list[dict[str, float]]] = {label: [] for label in variants}
        for _ in range(args.runs):
            for label, (head, env) in variants.items():
                samples[label].append(sample([*head, *tail], env))
        for label, got in samples.items():
            print(row(name + label, summary(got)))


if __name__ == "__main__":
    main()
