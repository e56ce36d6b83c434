"""`mlgate init`: a starting mlgate.yaml written from what the repository shows.

It looks (reading, never running anything) for the facts a spec records:
- the lockfile (uv.lock, poetry.lock, ... requirements.txt), in the spec's directory or above it in the repo;
- the training code: Python files that seed random number generators (ast), and the seed itself, from a config
  key (`seed`, `random_seed`, `random_state` in YAML, JSON or TOML) or a module constant (`SEED = 1234`);
- datasets pinned by committed DVC files (`*.dvc`);
- the SageMaker endpoint in a CloudFormation template or a Terraform directory, read by mlgate's IaC reader:
  endpoint name, serving pattern, instance type and count, serverless or async settings, a shadow variant, the
  blue/green traffic shift, rollback alarms, data capture and CloudWatch alarms;
- an IAM policy file for the execution role (else the role in the infrastructure code);
- a runbook (`*runbook*.md`), the rollback command in it and a pager target.

Every value found carries a comment saying where it came from. What only the team knows (model version and owner,
the traffic the callers need, the datasets outside DVC, ...) is a commented-out `TODO` line, so the spec loads
as written and `mlgate check` right after lists exactly what is left. The result is validated against the spec
model before it is written; an existing spec is never overwritten without `force`.
"""

from __future__ import annotations

import ast
import json
import os
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.discover import SPEC_NAMES
from mlgate.errors import UsageError
from mlgate.evidence.lockfiles import LOCKFILE_NAMES
from mlgate.evidence.seeds import SeedCall, scan_source
from mlgate.parsers import load_json, load_toml, parse_python
from mlgate.paths import searched_dirs
from mlgate.textsafe import one_line
from mlgate.yamlload import YamlError, parse_yaml, read_text

MAX_FILES = 20_000  # files looked at in the spec's directory tree
MAX_BYTES = 1024 * 1024
_SEED_KEYS = ("seed", "random_seed", "random_state", "rng_seed", "global_seed")
_CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".toml")
_PAGER = re.compile(r"\b((?:pagerduty|opsgenie|incidentio|splunk-oncall):[A-Za-z0-9](?:[\w.@/-]*[\w])?)")
_ROLLBACK = "aws sagemaker update-endpoint-weights-and-capacities"
_LATENCY_METRICS = {"ModelLatency", "OverheadLatency"}
_WATCHES = {"ModelLatency": "latency", "OverheadLatency": "latency", "Invocation5XXErrors": "errors",
            "Invocation4XXErrors": "throttles", "InvocationModelErrors": "errors"}


# -- the draft: facts with where they came from -------------------------------------------------------------------


@dataclass
class Entry:
    """One key of the spec: a value (scalar, list, list of mappings), a mapping of entries, or a TODO."""

    key: str
    value: Any = None
    children: list[Entry] | None = None
    note: str | None = None  # where the value came from (a trailing comment)
    todo: str | None = None  # what to write, when the value cannot be known
    example: tuple[str, ...] = ()  # commented example lines under a TODO

    @property
    def known(self) -> bool:
        if self.todo is not None:
            return False
        if self.children is not None:
            return any(child.known for child in self.children)
        return self.value is not None


def known(key: str, value: Any, note: str | None = None) -> Entry:
    return Entry(key, value=value, note=note)


def todo(key: str, text: str, *example: str) -> Entry:
    return Entry(key, todo=text, example=example)


def section(key: str, *children: Entry | None) -> Entry:
    """A mapping; written out when one of its children is known, else as commented TODO lines."""
    return Entry(key, children=[c for c in children if c is not None])


@dataclass
class Draft:
    """The mlgate.yaml `mlgate init` is writing, and what it found and wants the user to check."""
    directory: Path
    root: Path
    found: list[str] = field(default_factory=list)  # one line per fact, for the command's summary
    notes: list[str] = field(default_factory=list)  # what the user should look at
    entries: list[Entry] = field(default_factory=list)


# -- looking at the repository ------------------------------------------------------------------------------------


def _walk(directory: Path) -> list[Path]:
    """Regular files under `directory` (no VCS data, virtualenvs, dependencies or build output), sorted."""
    found: list[Path] = []
    for current, dirs, files in os.walk(directory, followlinks=False):
        here = Path(current)
        dirs[:] = searched_dirs(here, dirs, hidden=False)
        for name in sorted(files):
            path = here / name
            if not path.is_symlink():
                found.append(path)
            if len(found) >= MAX_FILES:
                return found
    return found


def _read(path: Path) -> str | None:
    try:
        return read_text(path, max_bytes=MAX_BYTES)
    except YamlError:
        return None


class _Repo:
    """The files `init` looks at, with paths as the spec writes them (relative to the spec's directory)."""

    def __init__(self, directory: Path, root: Path) -> None:
        self.directory = directory.resolve()
        self.root = root.resolve()
        self.files = _walk(self.directory)

    def rel(self, path: Path) -> str:
        return Path(os.path.relpath(path.resolve(), self.directory)).as_posix()

    def from_root(self, repo_rel: str) -> str:
        return self.rel(self.root / repo_rel)

    def with_suffix(self, *suffixes: str) -> Iterator[Path]:
        return (p for p in self.files if p.name.lower().endswith(suffixes))


def _lockfile(repo: _Repo) -> str | None:
    """The first lockfile in the spec's directory, then in each directory above it up to the repository root."""
    for folder in (repo.directory, *repo.directory.parents):
        for name in LOCKFILE_NAMES:
            if (folder / name).is_file():
                return repo.rel(folder / name)
        if folder == repo.root:
            break
    return None


@dataclass
class _Seeds:
    """The seeding calls `mlgate init` found in the training code."""
    calls: list[SeedCall]
    files: list[str]  # training files (spec-relative) that seed, or are named train*.py


def _training(repo: _Repo) -> _Seeds:
    calls: list[SeedCall] = []
    files: list[str] = []
    for path in repo.with_suffix(".py"):
        text = _read(path)
        if text is None:
            continue
        rel = repo.rel(path)
        try:
            found = scan_source(rel, text)
        except (SyntaxError, ValueError, RecursionError):
            continue
        seeded = [c for c in found if c.seeded]
        if seeded or path.name.startswith("train"):
            files.append(rel)
        calls += seeded
    return _Seeds(calls, files)


def _code_paths(files: list[str]) -> list[str]:
    """Directories holding the training files (`train/`), or the files themselves at the spec's level."""
    out: list[str] = []
    for rel in files:
        top = rel.split("/", 1)[0]
        entry = f"{top}/" if "/" in rel else rel
        if entry not in out:
            out.append(entry)
    return out


def _find_seed_keys(data: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, int]]:
    if depth > 4 or not isinstance(data, dict):
        return
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if str(key).lower() in _SEED_KEYS and isinstance(value, int) and not isinstance(value, bool):
            yield dotted, value
        elif isinstance(value, dict) and "." not in str(key):
            yield from _find_seed_keys(value, dotted, depth + 1)


def _config_seed(repo: _Repo, path: Path) -> tuple[str, int] | None:
    text = _read(path)
    if text is None or not any(k in text for k in _SEED_KEYS):
        return None
    try:
        if path.suffix == ".toml":
            data: Any = load_toml(text)
        elif path.suffix == ".json":
            data = load_json(text)
        else:
            data = parse_yaml(text).data
    except (YamlError, ValueError, RecursionError):
        return None
    return next(_find_seed_keys(data), None)


def _python_seed(text: str) -> tuple[str, int] | None:
    """A module-level `SEED = 1234` (any name with `seed` in it)."""
    try:
        tree = parse_python("<seed>", text)
    except (SyntaxError, RecursionError):
        return None
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else \
            node.target if isinstance(node, ast.AnnAssign) else None
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if (isinstance(target, ast.Name) and "seed" in target.id.lower() and isinstance(value, ast.Constant)
                and isinstance(value.value, int) and not isinstance(value.value, bool)):
            return target.id, value.value
    return None


def _seed(repo: _Repo, seeds: _Seeds, code_paths: list[str], draft: Draft) -> Entry:
    """provenance.seed: the value and where training reads it, or a TODO that says what was seen."""
    in_code = [p for p in repo.files if any(repo.rel(p).startswith(c) or repo.rel(p) == c for c in code_paths)]
    top_level = [p for p in repo.files if p.parent == repo.directory]
    candidates: list[tuple[str, int]] = []
    for path in in_code + [p for p in top_level if p not in in_code]:
        if path.suffix in _CONFIG_SUFFIXES and path.name not in SPEC_NAMES:
            hit = _config_seed(repo, path)
            if hit:
                candidates.append((f"{repo.rel(path)}#{hit[0]}", hit[1]))
    for path in in_code:
        if path.suffix == ".py" and (text := _read(path)) is not None and (hit := _python_seed(text)):
            candidates.append((f"{repo.rel(path)}#{hit[0]}", hit[1]))
    literals = sorted({c.literal for c in seeds.calls if c.literal is not None})
    if candidates:
        # prefer the source whose value the training code also uses as a literal
        source, value = next((c for c in candidates if c[1] in literals), candidates[0])
        draft.found.append(f"seed {value} at {source}")
        others = [f"{s} ({v})" for s, v in candidates if s != source]
        note = f"also seen: {', '.join(others[:3])}" if others else None
        return section("seed", known("value", value), known("source", source, note))
    if literals:
        where = next(c for c in seeds.calls if c.literal == literals[0])
        draft.notes.append(f"the seed {literals[0]} is written in the code ({where.file}:{where.line}); move it to a "
                           "config file training reads, and point provenance.seed.source at it")
        return section("seed", known("value", literals[0], f"{where.file}:{where.line} {where.show()}"),
                       todo("source", f"the file and key training reads the seed from, e.g. train/config.yaml#seed "
                                      f"(the seed is a literal in {where.file}:{where.line})"))
    return todo("seed", "the seed training uses and where it reads it", "seed:", "  value: 1234",
                "  source: train/config.yaml#seed")


def _dvc_datasets(repo: _Repo, draft: Draft) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in repo.with_suffix(".dvc"):
        text = _read(path)
        if text is None:
            continue
        try:
            data = parse_yaml(text).data
        except YamlError:
            continue
        outs = data.get("outs") if isinstance(data, dict) else None
        first = outs[0] if isinstance(outs, list) and outs and isinstance(outs[0], dict) else None
        target = first.get("path") if first else None
        if not isinstance(target, str) or not target:
            continue
        rel = repo.rel(path.parent / target)
        name = Path(target).name.split(".", 1)[0] or Path(target).name
        out.append({"name": name, "uri": rel, "dvc": repo.rel(path)})
        draft.found.append(f"dataset {rel} pinned by {repo.rel(path)}")
    return out


def _is_policy(text: str) -> bool:
    try:
        data = load_json(text)
    except ValueError:
        return False
    return isinstance(data, dict) and "Statement" in data and "Version" in data


def _policy_file(repo: _Repo) -> str | None:
    candidates = [p for p in repo.with_suffix(".json") if (t := _read(p)) is not None and _is_policy(t)]
    candidates.sort(key=lambda p: (not any(w in p.name.lower() for w in ("role", "sagemaker", "policy")), str(p)))
    return repo.rel(candidates[0]) if candidates else None


@dataclass
class _Runbook:
    """A runbook `mlgate init` found, with its rollback section and on-call contact."""
    path: str
    rollback: str | None
    on_call: str | None


def _command_at(lines: list[str], index: int) -> str:
    """The shell command starting at `lines[index]`, its `\\` continuation lines joined."""
    parts: list[str] = []
    for line in lines[index:index + 20]:
        text = line.strip().removeprefix("$ ").strip()
        if text.endswith("\\"):
            parts.append(text[:-1].strip())
            continue
        parts.append(text)
        break
    return " ".join(p for p in parts if p)


def _runbook(repo: _Repo) -> _Runbook | None:
    found = sorted((p for p in repo.with_suffix(".md", ".rst", ".txt") if "runbook" in p.name.lower()),
                   key=lambda p: (len(p.parts), str(p)))
    if not found:
        return None
    path = found[0]
    text = _read(path) or ""
    lines = text.splitlines()
    rollback = next((_command_at(lines, i) for i, line in enumerate(lines) if _ROLLBACK in line), None)
    if rollback:
        rollback = rollback[rollback.index("aws sagemaker"):]
        end = rollback.find("`")  # written inline: `aws sagemaker ...` and prose after it
        rollback = (rollback[:end] if end > 0 else rollback).strip()
    pager = _PAGER.search(text)
    return _Runbook(repo.rel(path), rollback, pager.group(1) if pager else None)


# -- infrastructure code ------------------------------------------------------------------------------------------


def _templates(repo: _Repo) -> list[Path]:
    out = []
    # the walk skips cdk.out (generated); beside a cdk.json, its synthesized templates are what deploys
    synthesized = [t for p in repo.files if p.name == "cdk.json" and (p.parent / "cdk.out").is_dir()
                   for t in sorted((p.parent / "cdk.out").glob("*.template.json"))]
    for path in [*synthesized, *repo.with_suffix(".yaml", ".yml", ".json", ".template")]:
        if path.name in SPEC_NAMES:
            continue
        text = _read(path)
        if text and "AWS::SageMaker::" in text and "Resources" in text:
            out.append(path)
    return out


def _terraform_dirs(repo: _Repo) -> list[Path]:
    dirs: list[Path] = []
    for path in repo.with_suffix(".tf"):
        text = _read(path)
        if text and re.search(r'resource\s+"aws_sagemaker_', text) and path.parent not in dirs:
            dirs.append(path.parent)
    return dirs


def _infrastructure(repo: _Repo, draft: Draft) -> tuple[Any, str | None, str | None]:
    """(what the IaC reader read, the CloudFormation template, the Terraform directory), spec-relative."""
    from mlgate.errors import EvidenceError
    from mlgate.evidence.workspace import Workspace

    ws = Workspace(repo.root)
    cfn = _templates(repo)
    tf = _terraform_dirs(repo)
    if len(cfn) > 1:
        listed = ", ".join(repo.rel(p) for p in cfn[:4])
        draft.notes.append(f"{len(cfn)} CloudFormation templates mention SageMaker ({listed}); the spec names the "
                           "first: change infrastructure.cloudformation if another deploys this model")
    try:
        if cfn:
            from mlgate.evidence.iac import templates
            from mlgate.evidence.iac.cloudformation import read_template

            (template,) = templates(ws, cfn[0])  # a file names one template
            return read_template(template), repo.rel(cfn[0]), None
        if tf:
            from mlgate.evidence.iac import terraform_module
            from mlgate.evidence.iac.terraform import read_module

            return read_module(terraform_module(ws, tf[0])), None, repo.rel(tf[0])
    except (EvidenceError, YamlError) as exc:
        # never a reference `mlgate check` cannot use: the file is named in the note, not in the spec
        where = cfn[0] if cfn else tf[0]
        draft.notes.append(f"{repo.rel(where)} could not be read ({one_line(str(exc))}): it is not named in "
                           "infrastructure:, and its facts are left as TODO")
        return None, None, None
    if any(p.name == "cdk.json" and not (p.parent / "cdk.out").is_dir() for p in repo.files):
        draft.notes.append("cdk.json is here but no cdk.out: run `cdk synth` and name the synthesized template "
                           "(cdk.out/<Stack>.template.json) in infrastructure.cloudformation")
    return None, None, None


def _v(value: Any) -> Any:
    """A known IaC value, or None."""
    if value is None or not getattr(value, "known", False):
        return None
    return value.value


def _num(value: Any) -> int | float | None:
    v = _v(value)
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return int(v) if float(v).is_integer() else v
    if isinstance(v, str):
        try:
            number = float(v)
        except ValueError:
            return None
        return int(number) if number.is_integer() else number
    return None


def _where(repo: _Repo, value: Any) -> str:
    at = getattr(value, "at", None)
    return f"{repo.from_root(at.path)}:{at.line}" if at is not None else ""


def _duration(seconds: float) -> str:
    from mlgate.units import format_duration

    return format_duration(seconds)


def _runbook_endpoint(runbook: _Runbook | None) -> str | None:
    """The endpoint the runbook's rollback command names, when the infrastructure code does not name it."""
    from mlgate.rules.operations.ops003_rollback import rollback_endpoint

    return rollback_endpoint(runbook.rollback) if runbook and runbook.rollback else None


def _serving(repo: _Repo, infra: Any, draft: Draft,
             runbook: _Runbook | None) -> tuple[Entry, Entry | None, Entry | None, str | None]:
    """serving:, the rollout facts, the monitoring facts and the endpoint name, from the infrastructure code (the
    name from the runbook's rollback command when the code computes it at deploy time or there is no code)."""
    from_runbook = _runbook_endpoint(runbook)
    runbook_note = f"named by the rollback command in {runbook.path}" if runbook else ""
    traffic = todo("traffic", "what the callers need, which no code shows", "traffic:",
                   "  requests_per_day: 100000", "  peak_rps: 20", "  latency_p99_ms: 200", "  payload_kb: 4",
                   "  processing_s: 0.05", "  synchronous: true", "  gpu: false")
    pattern_todo = todo("pattern", "realtime, serverless, async or batch")
    if infra is None or not infra.endpoints:
        endpoint_entry = known("endpoint", from_runbook, runbook_note) if from_runbook else \
            todo("endpoint", "the SageMaker endpoint name")
        return section("serving", pattern_todo, endpoint_entry, traffic), None, None, from_runbook
    from mlgate.evidence.iac import select_endpoint

    chosen = select_endpoint(infra, None)
    endpoint = chosen.endpoint or infra.endpoints[0]
    config = chosen.config
    name = _v(endpoint.name)
    where = _where(repo, endpoint.name or endpoint)
    fields: list[Entry] = []
    variant = config.variants[0] if config and config.variants else None
    if config and config.async_inference:
        pattern = "async"
    elif variant is not None and variant.serverless is not None:
        pattern = "serverless"
    else:
        pattern = "realtime"
    # lean: the pattern, sizes and serverless/async settings stay in the code, which `mlgate check` reads
    if name:
        fields.append(known("endpoint", name, where))
    elif from_runbook:
        name = from_runbook
        fields.append(known("endpoint", name, f"{runbook_note} ({endpoint.id} at {where} computes it at deploy "
                                              "time)"))
    else:
        fields.append(todo("endpoint", f"the endpoint's name ({endpoint.id} at {where} computes it at deploy time)"))
    draft.found.append(f"SageMaker endpoint {name or endpoint.id} ({pattern}) at {where}: its pattern, instance "
                       "type and count, capture and rollback alarms are read from the code, not restated here")
    if variant is not None and pattern != "serverless" and _v(variant.instance_type) is None:
        draft.notes.append(f"the instance type of {endpoint.id} is computed at deploy time "
                           f"({_where(repo, variant.instance_type) or 'not written'}): name the parameter file the "
                           "deployment uses in infrastructure.parameters (or .tfvars in infrastructure.tfvars)")
    fields.append(traffic)
    return section("serving", *fields), _rollout(repo, endpoint, config), _monitoring(repo, infra, config), name


def _rollout(repo: _Repo, endpoint: Any, config: Any) -> Entry | None:
    parts: list[Entry] = []
    shadow = config.shadow_variants[0] if config and config.shadow_variants else None
    if shadow is not None and _v(shadow.name):
        parts.append(todo("shadow", f"shadow variant {_v(shadow.name)} is in the code "
                                    f"({_where(repo, shadow.name)}): add how long it runs and the share it scores",
                          "shadow: {sampling_percent: 100, duration: 3d}"))
    policy = endpoint.policy
    kind = _v(policy.type) if policy else None
    size = policy.size if policy else None
    step = _num(size.value) if size and _v(size.type) == "CAPACITY_PERCENT" else None
    variants = config.variants if config else []
    if step and len(variants) == 1:  # a step activates whole instances: 10 % of 2 instances is 50 %
        from mlgate.rules.rollout._mechanism import step_share

        count = _num(variants[0].instance_count)
        step = step_share(step, int(count) if count else None)
    if kind in ("CANARY", "LINEAR") and step:
        if kind == "CANARY":
            steps = [step, 100]
        else:
            steps = sorted({min(100, step * i) for i in range(1, int(100 // step) + 2)})
        wait = _num(policy.wait_s)
        canary = [known("steps", steps, f"{kind} traffic shift at {_where(repo, policy)}")]
        if wait:
            canary.append(known("bake_time", _duration(float(wait)), _where(repo, policy.wait_s)))
        parts.append(section("canary", todo("variant", "the variant that serves the new model"), *canary))
    if not any(p.key == "shadow" for p in parts):
        parts.insert(0, todo("shadow", "the variant that scores live traffic before serving",
                             "shadow: {variant: model-v2-shadow, sampling_percent: 100, duration: 3d}"))
    if not any(p.key == "canary" for p in parts):
        parts.append(todo("canary", "the steps of the traffic shift",
                          "canary: {variant: model-v2, steps: [10, 50, 100], bake_time: 1h}"))
    parts.append(todo("previous", "the variant being replaced, kept warm for a rollback",
                      "previous: {variant: model-v1, keep_warm: true, min_instances: 1}"))
    return section("rollout", *parts) if any(p.known for p in parts) else None


def _monitoring(repo: _Repo, infra: Any, config: Any) -> Entry | None:
    parts: list[Entry] = []
    capture = config.capture if config else None
    if capture is not None:  # on/off, sampling, modes, destination and key stay in the code
        parts.append(todo("capture", f"capture is configured in the code ({_where(repo, capture)}): add how "
                                     "long captured data is kept", "capture: {retention: 90d}"))
    alarms = []
    for alarm in infra.alarms:
        name, metric = _v(alarm.name), _v(alarm.metric)
        if not name or not metric:
            continue
        item: dict[str, Any] = {"name": str(name)}
        if metric in _WATCHES:
            item["watches"] = _WATCHES[metric]
        item["metric"] = str(metric)
        statistic = _v(alarm.extended_statistic) or _v(alarm.statistic)
        if statistic:
            item["statistic"] = str(statistic)
        threshold = _num(alarm.threshold)
        if threshold is not None and metric in _LATENCY_METRICS:
            from mlgate.facts import load_facts

            ms = threshold / 1000 if metric in load_facts().microsecond_metrics else threshold
            item["threshold_ms"] = int(ms) if float(ms).is_integer() else ms
        elif threshold is not None and "5XX" in str(metric) and threshold < 1:
            item["threshold_rate"] = threshold
        elif threshold is not None:
            item["threshold_count"] = threshold
        alarms.append(item)
    if alarms:
        parts.append(section("operational", known("alarms", alarms, "the CloudWatch alarms in the code")))
    if not parts:
        return None
    return section("monitoring", *parts, *_MONITORING_TODOS)


_MONITORING_TODOS = (
    todo("data_drift", "a baseline made from the training data, and a schedule",
         "data_drift:", "  baseline: s3://bucket/baseline/statistics.json",
         "  made_from: {dataset: <a provenance dataset>, version: <its version>}", "  schedule: hourly"),
    todo("prediction_drift", "a metric of the outputs with its expected band",
         "prediction_drift: {metric: positive_rate, expected: [0.02, 0.08], schedule: daily}"),
    todo("ground_truth", "the real quality metric, how late labels arrive and the minimum",
         "ground_truth: {metric: auc, label_delay: 30d, minimum: 0.8}"),
)


# -- the draft ----------------------------------------------------------------------------------------------------


def draft(directory: Path) -> Draft:
    """Everything `init` can tell about the deployment whose spec goes in `directory`."""
    from mlgate.paths import find_repo_root

    directory = directory.resolve()
    root = find_repo_root(directory) or directory
    repo = _Repo(directory, root)
    d = Draft(directory, root)

    infra, template, tf_dir = _infrastructure(repo, d)
    runbook = _runbook(repo)
    serving, rollout, monitoring, endpoint_name = _serving(repo, infra, d, runbook)

    name, name_note = _model_name(repo, infra, endpoint_name)
    model = section("model", known("name", name, name_note),
                    todo("version", "the version of the model this spec deploys, e.g. v1"),
                    todo("owner", "a team address that answers for the model, e.g. ml-team@example.com"))

    datasets = _dvc_datasets(repo, d)
    seeds = _training(repo)
    paths = _code_paths(seeds.files)
    if paths:
        d.found.append(f"training code in {', '.join(paths)}")
    lockfile = _lockfile(repo)
    if lockfile:
        d.found.append(f"lockfile {lockfile}")
    data_todo = todo("data", "every other dataset the model was trained on, each pinned to a version",
                     "- name: events", "  uri: s3://bucket/key.parquet", "  version: <S3 VersionId>")
    provenance = section(
        "provenance",
        known("data", datasets, "pinned by their committed .dvc files") if datasets else None,
        data_todo,
        section("code", todo("commit", "the full sha of the commit the artifact was trained from (`mlgate "
                                       "manifest` records it)"),
                known("paths", paths, "Python files that train or seed their RNGs") if paths else
                todo("paths", "the directories that hold the training code, e.g. [train/]")),
        section("dependencies", known("lockfile", lockfile)) if lockfile else
        todo("dependencies", "a lockfile that pins every dependency (uv.lock, poetry.lock, a compiled "
                             "requirements.txt)", "dependencies:", "  lockfile: uv.lock"),
        _seed(repo, seeds, paths, d),
        todo("artifact", "where the trained model is, its sha256 and its provenance manifest (`mlgate manifest "
                         "<artifact>` writes it)", "artifact:", "  uri: s3://bucket/model.tar.gz",
             "  sha256: <64 hex digits>", "  manifest: models/manifest.json"),
    )

    rollout_entry = rollout or todo("rollout", "how traffic moves to the new model", "rollout:",
                                    "  shadow: {variant: model-v2-shadow, sampling_percent: 100, duration: 3d}",
                                    "  canary: {variant: model-v2, steps: [10, 50, 100], bake_time: 1h}",
                                    "  previous: {variant: model-v1, keep_warm: true, min_instances: 1}",
                                    "  rollback_alarms: [<alarm names>]")
    monitoring_entry = monitoring or section(
        "monitoring",
        todo("capture", "what the endpoint records of its traffic",
             "capture: {enabled: true, sampling_percent: 10, inputs: true, outputs: true,",
             "          destination: s3://bucket/capture/, kms_key: alias/capture, retention: 90d}"),
        todo("operational", "CloudWatch alarms on p99 latency, errors and throttles", "operational:",
             "  alarms:", "    - {name: model-p99-latency, watches: latency, metric: ModelLatency, statistic: p99, "
             "threshold_ms: 300}"),
        *_MONITORING_TODOS)
    ops: list[Entry] = []
    if runbook:
        d.found.append(f"runbook {runbook.path}")
        ops.append(known("on_call", runbook.on_call, f"from {runbook.path}") if runbook.on_call else
                   todo("on_call", "the pager target, e.g. pagerduty:<service>"))
        ops.append(known("runbook", runbook.path))
        ops.append(known("rollback", runbook.rollback, f"from {runbook.path}") if runbook.rollback else
                   todo("rollback", f"the rollback command, also written in {runbook.path}"))
        if runbook.rollback:
            d.found.append("rollback command in the runbook")
    else:
        ops += [todo("on_call", "the pager target, e.g. pagerduty:<service>"),
                todo("runbook", "the runbook in this repository, e.g. docs/runbook.md"),
                todo("rollback", "the rollback command (also in the runbook)")]
    operations = section("operations", *ops)

    policy = _policy_file(repo)
    role: Entry | None = None
    # the endpoint's own role first: the role the model runs as, defined in the infrastructure code; a policy file
    # found elsewhere in the repository may belong to anything (a Lambda, a pipeline), so it comes after
    if template and infra is not None and _has_role(infra):
        role = section("execution_role", known("cloudformation", template, "the role the model runs as, in the "
                                                                           "template"))
    elif tf_dir and infra is not None and _has_role(infra):
        role = section("execution_role", known("terraform", tf_dir, "the role the model runs as, in the Terraform "
                                                                    "code"))
    elif policy:
        role = section("execution_role", known("policy", policy, "an IAM policy document: check that it is the "
                                                                 "endpoint's role"))
        d.found.append(f"IAM policy {policy}")
    security = section("security", role or todo("execution_role", "the policy of the role the endpoint runs as",
                                                "execution_role:", "  policy: deploy/iam/role.json"),
                       todo("pii", "the input fields and how each PII field is handled", "pii:",
                            "  input_fields: [customer_id, amount]", "  handling: {customer_id: tokenize}"))
    infrastructure = None
    if template or tf_dir:
        infrastructure = section("infrastructure", known("cloudformation", template) if template else None,
                                 known("terraform", tf_dir) if tf_dir else None)
        d.found.append(f"infrastructure code {template or tf_dir}")

    d.entries = [known("version", 1), model, provenance, serving, rollout_entry, monitoring_entry,
                 todo("retraining", "schedule (a cron or rate expression) or drift (a monitor that fires)",
                      "retraining:", "  trigger: schedule", "  schedule: rate(7 days)"),
                 operations, security, *([infrastructure] if infrastructure else [])]
    return d


def _has_role(infra: Any) -> bool:
    """Whether the model's execution role is defined in the template (not an ARN from elsewhere)."""
    return any(m.execution_role is not None and m.execution_role.ref for m in infra.models)


def _model_name(repo: _Repo, infra: Any, endpoint: str | None) -> tuple[str, str]:
    if endpoint:
        return endpoint, "the SageMaker endpoint's name"
    for model in getattr(infra, "models", []) or []:
        if _v(model.name):
            return str(_v(model.name)), f"the SageMaker model at {_where(repo, model.name)}"
    pyproject = repo.directory / "pyproject.toml"
    if pyproject.is_file() and (text := _read(pyproject)):
        try:
            name = load_toml(text).get("project", {}).get("name")
        except tomllib.TOMLDecodeError:
            name = None
        if isinstance(name, str) and name:
            return name, "pyproject.toml"
    return repo.directory.name or "model", "the directory's name"


# -- writing YAML with comments -----------------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    if text and re.fullmatch(r"[A-Za-z0-9_./@+=:<>#-]+", text) and not text.endswith(":") and text[0] not in "-:@#":
        try:
            if parse_yaml(f"k: {text}\n").data == {"k": text}:
                return text
        except YamlError:
            pass
    return json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def _flow(value: list[Any]) -> str:
    return "[" + ", ".join(_scalar(v) for v in value) + "]"


def _comment(text: str) -> str:
    return "  # " + one_line(text) if text else ""


def _emit(entry: Entry, indent: int, out: list[str]) -> None:
    pad = " " * indent
    if not entry.known:
        _emit_todo(entry, indent, out)
        return
    if entry.children is not None:
        out.append(f"{pad}{entry.key}:{_comment(entry.note or '')}")
        for child in entry.children:
            _emit(child, indent + 2, out)
        return
    value = entry.value
    if isinstance(value, list) and value and isinstance(value[0], dict):
        out.append(f"{pad}{entry.key}:{_comment(entry.note or '')}")
        for item in value:
            for i, (key, val) in enumerate(item.items()):
                lead = "- " if i == 0 else "  "
                out.append(f"{pad}  {lead}{key}: {_flow(val) if isinstance(val, list) else _scalar(val)}")
        return
    shown = _flow(value) if isinstance(value, list) else _scalar(value)
    out.append(f"{pad}{entry.key}: {shown}{_comment(entry.note or '')}")


def _emit_todo(entry: Entry, indent: int, out: list[str]) -> None:
    pad = " " * indent
    if entry.todo is not None:
        out.append(f"{pad}# TODO {entry.key}: {one_line(entry.todo)}")
        out.extend(f"{pad}#   {one_line(line)}" for line in entry.example)
        return
    out.append(f"{pad}# TODO {entry.key}:")
    for child in entry.children or []:
        _emit_todo(child, indent + 2, out)


REPO_SCHEMA = "mlgate.schema.json"  # what the README tells a team to write with `mlgate schema`


def _schema_reference(d: Draft) -> tuple[str, str | None]:
    """Where the spec's `$schema` points, and a note when that is not portable: a schema `mlgate schema` wrote
    into the repository (the spec's directory or one above it, up to the root), else the file in the installed
    package (a path on this machine)."""
    from mlgate.spec.models import SCHEMA_FILE, json_schema

    here = d.directory
    while True:
        candidate = here / REPO_SCHEMA
        if candidate.is_file() and json_schema()["$id"] in (_read(candidate) or ""):
            relative = os.path.relpath(candidate, d.directory).replace(os.sep, "/")
            return (relative if relative.startswith("../") else f"./{relative}"), None
        if here == d.root or here.parent == here:
            break
        here = here.parent
    return SCHEMA_FILE.as_posix(), (f"$schema above is the copy in this machine's mlgate; for one every clone has, "
                                    f"run `mlgate schema > {REPO_SCHEMA}` here and point $schema at ./{REPO_SCHEMA}")


def render(d: Draft) -> str:
    schema, schema_note = _schema_reference(d)
    lines = [f"# yaml-language-server: $schema={schema}",
             "# Written by `mlgate init` from what this repository shows: each value found says where it came from,",
             "# and each TODO is something only the team knows. Uncomment and fill the TODOs; `mlgate check` lists",
             "# what is still missing, and `mlgate explain RULE` says why a rule wants it."]
    for note in [*([schema_note] if schema_note else []), *d.notes]:
        lines.append(f"# Note: {one_line(note)}")
    for entry in d.entries:
        if entry.key != "version":
            lines.append("")
        _emit(entry, 0, lines)
    text = "\n".join(lines) + "\n"
    _validate(text)
    return text


def _validate(text: str) -> None:
    """The draft must load as a spec: a failure here is a bug in `init`, never the user's."""
    from mlgate.spec.models import Spec

    Spec.model_validate(parse_yaml(text).data)


# -- the command --------------------------------------------------------------------------------------------------


def existing_spec(directory: Path) -> Path | None:
    return next((directory / n for n in SPEC_NAMES if (directory / n).exists() or (directory / n).is_symlink()),
                None)


def write(directory: Path, *, force: bool = False) -> tuple[Path, Draft, str]:
    """Write `directory`/mlgate.yaml; never over an existing spec unless `force`. Returns (path, draft, text)."""
    if not directory.is_dir():
        raise UsageError(f"{directory}: no such directory")
    existing = existing_spec(directory)
    if existing is not None and not force:
        raise UsageError(f"{existing} already exists; mlgate init does not overwrite a spec",
                         hint="--force replaces it; --stdout prints the draft instead")
    d = draft(directory)
    text = render(d)
    target = existing or directory / "mlgate.yaml"
    try:
        if existing is None:
            with target.open("x", encoding="utf-8", newline="\n") as fh:  # fails if a spec appeared meanwhile
                fh.write(text)
        else:
            tmp = directory / f".{target.name}.{os.getpid()}.tmp"
            try:
                tmp.write_text(text, encoding="utf-8", newline="\n")
                tmp.replace(target)  # replaces a symlink itself, never the file it points to
            finally:
                tmp.unlink(missing_ok=True)
    except FileExistsError:
        raise UsageError(f"{target} already exists; mlgate init does not overwrite a spec",
                         hint="--force replaces it") from None
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target, d, text
