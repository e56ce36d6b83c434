"""Generate a monorepo of ML deployments to time `mlgate check` at scale.

The repository holds N copies of the `examples/ready` deployment (models/m000/ ... each with its spec, training
code, DVC file, runbook, IAM policy, CloudFormation stack and provenance manifest), one lockfile shared by all of
them at the root (requirements.in + requirements.txt), and filler files (libraries, docs) up to `--files` tracked
files, over `--commits` commits. History is written with `git fast-import` (seconds, not minutes):

- commit 1 adds every file;
- model i is trained from its own commit (1000 + 10 i, spread through the history): that commit edits its
  train/train.py, and its spec pins it (REP004 walks the ~4,000 commits since; REP005 reads the lockfile there);
- every other commit edits one or two filler files, so no model's code changes after its training commit (with
  --merge-every N, every Nth of them is made on a branch and merged with a merge commit);
- the last commit adds the specs and manifests (`git add` + `git commit`).

Every spec passes every rule, as examples/ready does: the checks do all their work, none stops at a failure.

Usage: python benchmarks/monorepo.py DIR [--specs 200] [--files 20000] [--commits 5000] [--merge-every N]
(the runner, benchmarks/run.py, calls `generate()` itself)
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ready"
GIT_ENV = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "Bench",
           "GIT_COMMITTER_EMAIL": "bench@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}
EPOCH = int(dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp())
STEP = 600  # seconds between commits
# The files of one deployment, copied from examples/ready (the spec and manifest are written at the end).
MODEL_FILES = ("data/.gitignore", "data/labels.csv.dvc", "deploy/iam/churn-predictor-role.json", "deploy/stack.yaml",
               "docs/runbook.md", "features/transform.py", "serve/inference.py", "train/config.yaml",
               "train/train.py")
SHARED_FILES = ("requirements.in", "requirements.txt")
FRAMEWORKS = {"numpy": "2.1.3", "pandas": "2.2.3", "scikit-learn": "1.5.2"}


def model_name(i: int) -> str:
    return f"m{i:03d}"


def training_commit(i: int) -> int:
    """The commit (1-based) model i is trained from."""
    return 1000 + 10 * i


def _rename(text: str, name: str) -> str:
    """examples/ready's text for deployment `name`: its own endpoint, variants, alarms and S3 prefixes."""
    return (text.replace("churn-predictor", f"{name}-predictor").replace("churn-v", f"{name}-v")
            .replace("/churn/", f"/{name}/"))


def _model_path(name: str, rel: str) -> str:
    return f"models/{name}/{_rename(rel, name)}"


def _filler(k: int, revision: int = 0) -> tuple[str, str]:
    """Filler file k: a module of some library, or a page of docs."""
    if k % 4 == 3:
        return f"docs/pages/{k // 400:02d}/page_{k:05d}.md", f"# Page {k}\n\nRevision {revision}.\n"
    return (f"libs/lib_{k // 200:03d}/module_{k:05d}.py",
            f'"""Module {k}."""\n\nREVISION = {revision}\n\n\ndef value() -> int:\n    return {k}\n')


def _blob(path: str, text: str) -> bytes:
    data = text.encode()
    return f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n"


def _commit(n: int, message: str, mark: bool = False, branch: str = "main") -> bytes:
    """Commit n's header; a marked commit's sha is exported (`--export-marks`) as `:n`."""
    msg = message.encode()
    head = f"commit refs/heads/{branch}\n" + (f"mark :{n}\n" if mark else "")
    return (head + f"committer Bench <bench@example.com> {EPOCH + n * STEP} +0000\ndata {len(msg)}\n").encode() \
        + msg + b"\n"


def _stream(specs: int, files: int, commits: int, merge_every: int = 0) -> tuple[bytes, int]:
    """The fast-import stream of commits 1 .. commits-1, and the number of filler files. With `merge_every`, every
    merge_every-th change is made on a branch and merged with a merge commit (as GitHub's merge button does)."""
    example = {rel: (EXAMPLE / rel).read_text(encoding="utf-8") for rel in MODEL_FILES + SHARED_FILES}
    fillers = files - specs * (len(MODEL_FILES) + 2) - len(SHARED_FILES)  # + 2: each spec and its manifest
    if fillers < 0:
        raise SystemExit(f"{files} files cannot hold {specs} deployments")
    trained_at = {training_commit(i): i for i in range(specs)}
    if commits <= max(trained_at, default=0):
        raise SystemExit(f"{commits} commits cannot hold the training commits of {specs} deployments "
                         f"(the last is commit {max(trained_at)})")
    out = bytearray(_commit(1, "initial import", mark=True))
    for rel in SHARED_FILES:
        out += _blob(rel, example[rel])
    for i in range(specs):
        name = model_name(i)
        for rel in MODEL_FILES:
            out += _blob(_model_path(name, rel), _rename(example[rel], name))
    for k in range(fillers):
        out += _blob(*_filler(k))
    out += b"\n"
    n = 2
    while n < commits:
        if n in trained_at:
            name = model_name(trained_at[n])
            out += _commit(n, f"{name}: tune the training code", mark=True)
            text = _rename(example["train/train.py"], name) + f"# tuned at commit {n}\n"
            out += _blob(_model_path(name, "train/train.py"), text) + b"\n"
        elif merge_every and n % merge_every == 0 and n + 1 < commits and n + 1 not in trained_at:
            # a pull request merged with a merge commit: one commit on a branch from main's tip, then the merge
            change = _blob(*_filler((n * 7919) % max(fillers, 1), revision=n)) if fillers else b""
            out += _commit(n, f"change {n} on a branch", branch="pr", mark=True) + f"from :{n - 1}\n".encode()
            out += change + b"\n"
            out += _commit(n + 1, f"Merge pull request {n}", mark=True) + f"from :{n - 1}\nmerge :{n}\n".encode()
            out += change + b"\n"
            n += 1
        else:
            out += _commit(n, f"change {n}", mark=bool(merge_every))
            for k in {(n * 7919) % max(fillers, 1), (n * 104729) % max(fillers, 1)} if fillers else ():
                out += _blob(*_filler(k, revision=n))
            out += b"\n"
        n += 1
    return bytes(out), fillers


def git(root: Path, *args: str, stdin: bytes | None = None) -> str:
    out = subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=root, input=stdin, check=True,
                         capture_output=True, env={**os.environ, **GIT_ENV})
    return out.stdout.decode().strip()


def _spec(name: str, commit: str, artifact_sha256: str) -> str:
    text = _rename((EXAMPLE / "mlgate.yaml").read_text(encoding="utf-8"), name)
    text = text.replace("commit: 1334b680e622f5ac7f79da2d0af6fa6d56af0982", f"commit: {commit}")
    text = text.replace("lockfile: requirements.txt", "lockfile: ../../requirements.txt")
    lines = []
    for line in text.splitlines():
        if line.strip().startswith("sha256:"):
            line = line.split("sha256:")[0] + f"sha256: {artifact_sha256}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _manifest(name: str, commit: str, committed_at: int, artifact_sha256: str, lock_sha256: str) -> str:
    example = json.loads((EXAMPLE / "models" / "churn-predictor-v7.manifest.json").read_text(encoding="utf-8"))
    started = dt.datetime.fromtimestamp(committed_at + 300, dt.UTC)
    example.update({
        "spec": f"models/{name}/mlgate.yaml",
        "model": {"name": f"{name}-predictor", "version": "v7"},
        "artifact": {"uri": f"s3://acme-ml-models/{name}/v7/model.tar.gz", "sha256": artifact_sha256},
        "code": {"commit": commit, "paths": [f"models/{name}/train", f"models/{name}/features"], "uncommitted": []},
        "dependencies": {"lockfile": "requirements.txt", "sha256": lock_sha256},
        "frameworks": FRAMEWORKS,
        "training": {"started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "ended": (started + dt.timedelta(minutes=40)).strftime("%Y-%m-%dT%H:%M:%SZ")},
    })
    for dataset in example["data"]:
        dataset["uri"] = _rename(dataset["uri"], name)
    return json.dumps(example, indent=2) + "\n"


def generate(root: Path, specs: int = 200, files: int = 20_000, commits: int = 5_000,
             merge_every: int = 0) -> dict[str, int]:
    """Write the monorepo into the empty directory `root`; returns what it holds."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    stream, fillers = _stream(specs, files, commits, merge_every)
    marks = root / ".git" / "bench-marks"
    git(root, "fast-import", "--quiet", f"--export-marks={marks}", stdin=stream)
    sha_of = dict(line.split() for line in marks.read_text().splitlines())  # ":n sha": the commits with a mark
    git(root, "checkout", "-q", "main")
    lock_sha256 = hashlib.sha256((EXAMPLE / "requirements.txt").read_bytes()).hexdigest()
    for i in range(specs):
        name, n = model_name(i), training_commit(i)
        commit = sha_of[f":{n}"]
        artifact = hashlib.sha256(f"artifact of {name}".encode()).hexdigest()
        folder = root / "models" / name
        (folder / "mlgate.yaml").write_text(_spec(name, commit, artifact), encoding="utf-8")
        manifest = folder / "models" / f"{name}-predictor-v7.manifest.json"
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(_manifest(name, commit, EPOCH + n * STEP, artifact, lock_sha256), encoding="utf-8")
    git(root, "add", "-A")
    env_date = f"{EPOCH + commits * STEP} +0000"
    subprocess.run(["git", "-c", "commit.gpgsign=false", "commit", "-q", "-m", "deployment specs and manifests"],
                   cwd=root, check=True, env={**os.environ, **GIT_ENV, "GIT_AUTHOR_DATE": env_date,
                                              "GIT_COMMITTER_DATE": env_date})
    return {"specs": specs, "files": len(git(root, "ls-files").splitlines()),
            "commits": int(git(root, "rev-list", "--count", "HEAD")), "fillers": fillers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path, help="where to write it (must not exist, or be empty)")
    parser.add_argument("--specs", type=int, default=200)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--commits", type=int, default=5_000)
    parser.add_argument("--merge-every", type=int, default=0, metavar="N",
                        help="make every Nth change on a branch merged with a merge commit (default: linear)")
    args = parser.parse_args()
    if args.directory.exists() and any(args.directory.iterdir()):
        raise SystemExit(f"{args.directory} is not empty")
    start = time.perf_counter()
    made = generate(args.directory, args.specs, args.files, args.commits, args.merge_every)
    print(f"{args.directory}: {made['specs']} specs, {made['files']} files, {made['commits']} commits "
          f"(generated in {time.perf_counter() - start:.1f}s)")


if __name__ == "__main__":
    main()
