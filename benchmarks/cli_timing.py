"""Time the commands a pre-commit hook and a CI job run: median, min and max wall time and peak RSS.

Usage: python benchmarks/cli_timing.py [--runs N]   (run from the repository root, with mlgate installed)
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
PROBE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - start
print(json.dumps({"wall": wall, "rss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "code": proc.returncode}))
"""


def measure(command: list[str], runs: int) -> dict[str, float]:
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PROBE, *command], capture_output=True, text=True,
                             check=True, cwd=ROOT)
        samples.append(json.loads(out.stdout))
    walls = [s["wall"] for s in samples]
    return {"median_s": statistics.median(walls), "min_s": min(walls), "max_s": max(walls),
            "peak_rss_mb": max(s["rss_kb"] for s in samples) / 1024, "exit": samples[-1]["code"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    mlgate = shutil.which("mlgate") or str(Path(sys.executable).parent / "mlgate")
    commands = {
        "mlgate --version": [mlgate, "--version"],
        "mlgate --help": [mlgate, "--help"],
        "mlgate check examples/ready": [mlgate, "check", "examples/ready"],
        "mlgate check examples/not-ready": [mlgate, "check", "examples/not-ready"],
        "mlgate check examples/ready --format markdown": [mlgate, "check", "examples/ready", "--format", "markdown"],
    }
    print(f"{'command':<48} {'median':>8} {'min':>8} {'max':>8} {'peak RSS':>9}  exit")
    for name, command in commands.items():
        m = measure(command, args.runs)
        print(f"{name:<48} {m['median_s']:>7.3f}s {m['min_s']:>7.3f}s {m['max_s']:>7.3f}s "
              f"{m['peak_rss_mb']:>7.1f}MB  {m['exit']:.0f}")


if __name__ == "__main__":
    main()
