"""Command line: argument parsing and exit codes only. Heavy modules load inside the command that needs them,
so `mlgate --version` and `mlgate --help` stay fast enough for a pre-commit hook."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import version_line

if TYPE_CHECKING:
    from mlgate.evidence.workspace import Workspace

EXIT_READY, EXIT_NOT_READY, EXIT_UNUSABLE = 0, 1, 2
FORMAT_CHOICES = ("text", "markdown", "sarif", "json", "junit", "gitlab", "github")

DESCRIPTION = """\
mlgate: is this model deployment ready, and what proves it?

It reads a deployment spec (mlgate.yaml) and the evidence it points to (git history, .dvc files,
runbooks, alarms, ...) and writes a pass/fail readiness checklist.

exit codes: 0 ready, 1 not ready, 2 the spec or the command is unusable
"""

CHECK_EPILOG = """\
examples:
  mlgate check                               every mlgate.yaml in this repository
  mlgate check models/fraud/mlgate.yaml      one deployment
  mlgate check --format markdown --output report.md --format sarif --output mlgate.sarif
  mlgate check --select RLO,MON001 --fail-on warning

--format and --output come in pairs (each --output belongs to the --format before it); without --output a
format goes to standard output. Config: [tool.mlgate] in pyproject.toml, or .mlgate.toml.
"""


class _FormatAction(argparse.Action):
    """`--format X [--output F]` pairs, in order."""

    def __call__(self, parser: argparse.ArgumentParser, ns: argparse.Namespace, values: Any,
                 option: str | None = None) -> None:
        outputs: list[list[str | None]] = getattr(ns, "outputs", None) or []
        if self.dest == "format":
            outputs.append([values, None])
        else:
            if outputs and outputs[-1][1] is None:
                outputs[-1][1] = values
            else:
                from mlgate.report import EXTENSIONS

                fmt = EXTENSIONS.get(Path(values).suffix.lower())
                if fmt is None:
                    parser.error(f"--output {values}: put --format before it (the extension does not say "
                                 f"which format to write)")
                outputs.append([fmt, values])
        ns.outputs = outputs


def _rule_list(text: str) -> list[str]:
    return [part.strip().upper() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlgate", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=version_line())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="check deployment specs and write the readiness report",
                           description="Check deployment specs and write the readiness report.",
                           epilog=CHECK_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("path", nargs="?", default=".",
                       help="a spec file, or a directory searched for mlgate.yaml (default: .)")
    check.add_argument("--format", "-f", dest="format", choices=FORMAT_CHOICES, action=_FormatAction,
                       help="report format (repeatable; default text)")
    check.add_argument("--output", "-o", dest="output", action=_FormatAction, metavar="FILE",
                       help="write the preceding --format to FILE instead of standard output")
    check.add_argument("--fail-on", choices=("error", "warning", "note"), default=None,
                       help="lowest severity that makes the run not ready (default: error)")
    check.add_argument("--select", type=_rule_list, default=[], metavar="RULES",
                       help="only these rules: IDs or prefixes, comma-separated (e.g. REP,RLO001)")
    check.add_argument("--ignore", type=_rule_list, default=[], metavar="RULES",
                       help="skip these rules: IDs or prefixes, comma-separated")
    check.add_argument("--verbose", "-v", action="store_true",
                       help="text format: show the evidence behind every pass too")
    check.add_argument("--no-color", action="store_true", help="no colour in text output (also: NO_COLOR=1)")
    online = check.add_argument_group("online (needs mlgate[aws]; read-only calls: `mlgate aws-policy` prints the "
                                      "IAM policy they need)")
    online.add_argument("--aws", action="store_true",
                        help="also check the deployment against the live AWS account (standard credential chain)")
    online.add_argument("--profile", default=None, help="with --aws: the named AWS profile to use")
    online.add_argument("--region", default=None,
                        help="with --aws: the Region of specs that do not state serving.region")

    rules = sub.add_parser("rules", help="list the rules (built-in, team and plugin)",
                           description="List every rule mlgate knows, with its section and default severity.")
    rules.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    rules.add_argument("--root", type=Path, default=None,
                       help="repository whose .mlgate/rules/ to include (default: the one holding .)")

    explain = sub.add_parser("explain", help="explain one rule: why it matters and how to fix it",
                             description="Print one rule: what it checks, why, how to fix it, its params.")
    explain.add_argument("rule", help="a rule ID, e.g. RLO002")
    explain.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)

    iam = sub.add_parser("iam-policy", help="print the least-privilege execution-role policy for a spec",
                         description="Print the least-privilege IAM policy for the endpoint's execution role, built "
                                     "from what the spec says it touches (SEC001 suggests the same policy). Notes on "
                                     "what the spec leaves open go to standard error.")
    iam.add_argument("path", nargs="?", default=".", help="a spec file, or a directory holding one (default: .)")

    aws_policy = sub.add_parser("aws-policy", help="print the read-only IAM policy `mlgate check --aws` needs",
                                description="Print the IAM policy the identity running `mlgate check --aws` needs: "
                                            "exactly the read-only actions mlgate calls, on the resources the spec "
                                            "names. Notes on what the spec leaves open go to standard error.")
    aws_policy.add_argument("path", nargs="?", default=".",
                            help="a spec file, or a directory holding one (default: .)")

    sub.add_parser("schema", help="print the JSON Schema of mlgate.yaml",
                   description="Print the JSON Schema of the spec. Save it and point your editor at it:\n"
                               "  # yaml-language-server: $schema=./mlgate.schema.json",
                   formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_provenance_commands(sub)
    _add_adoption_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_UNUSABLE
    from mlgate.errors import UsageError

    try:
        handler = {"check": _check, "rules": _rules, "explain": _explain, "schema": _schema,
                   "manifest": _manifest, "provenance": _provenance, "iam-policy": _iam_policy,
                   "aws-policy": _aws_policy,
                   "init": _init, "validate": _validate}[args.command]
        return handler(args)
    except UsageError as exc:
        from mlgate.textsafe import one_line  # a value quoted from the spec may hold a line break

        print(f"mlgate: error: {one_line(str(exc))}", file=sys.stderr)
        for more in exc.more[:20]:
            print(f"mlgate: error: {one_line(str(more))}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback for a user; MLGATE_DEBUG=1 shows it to a developer
        if os.environ.get("MLGATE_DEBUG"):
            raise
        from mlgate.textsafe import one_line

        print(f"mlgate: internal error: {type(exc).__name__}: {one_line(str(exc))} (set MLGATE_DEBUG=1 for the "
              "traceback, and please report it)", file=sys.stderr)
        return EXIT_UNUSABLE


def _today() -> Any:
    import datetime as dt

    from mlgate.errors import UsageError

    override = os.environ.get("MLGATE_TODAY")  # fixes "today" for waiver expiry: reproducible reports
    if not override:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(override)
    except ValueError:
        raise UsageError(f"MLGATE_TODAY={override!r} is not a date (YYYY-MM-DD)") from None


def _check(args: argparse.Namespace) -> int:
    from mlgate.config import load_config
    from mlgate.discover import load_specs
    from mlgate.engine import Options, run
    from mlgate.errors import UsageError
    from mlgate.registry import load_registry
    from mlgate.report import render

    outputs: list[list[str | None]] = getattr(args, "outputs", None) or [["text", None]]
    if sum(1 for _, out in outputs if out is None) > 1:
        raise UsageError("only one --format can go to standard output; give the others an --output FILE")
    aws = _aws_settings(args)
    searched = _search_root(args.path)
    config = load_config(searched)  # before the specs: its skip_specs says which not to load
    workspaces: dict[Path, Workspace] = {}  # the repositories discovery opens, read again by the rules
    loaded = load_specs(args.path, skip=config.settings.skip_specs, workspaces=workspaces)
    roots = {spec.root for spec in loaded}
    if len(roots) > 1:
        raise UsageError("the specs found belong to more than one git repository; check one repository at a time")
    root = roots.pop()
    if root != searched:  # the specs found are in a repository nested below the one searched
        config = load_config(root)
    registry = load_registry(root)
    report = run(loaded, registry, config, Options(select=args.select, ignore=args.ignore,
                                                    fail_on=args.fail_on, today=_today(), aws=aws), workspaces)
    for fmt, out in outputs:
        assert fmt is not None
        if out is None:
            color = fmt == "text" and sys.stdout.isatty() and not args.no_color and not os.environ.get("NO_COLOR")
            sys.stdout.write(render(report, fmt, color=color, verbose=args.verbose))
        else:
            _write(Path(out), render(report, fmt, verbose=args.verbose))
    return EXIT_READY if report.ready else EXIT_NOT_READY


def _aws_settings(args: argparse.Namespace) -> Any:
    """The AWS settings of `check --aws` (None offline); boto3 must be importable."""
    from mlgate.aws import AwsSettings, require_boto3
    from mlgate.errors import UsageError

    if not args.aws:
        given = [f"--{name}" for name in ("profile", "region") if getattr(args, name)]
        if given:
            raise UsageError(f"{' and '.join(given)} only apply with --aws")
        return None
    require_boto3()
    return AwsSettings(profile=args.profile, region=args.region)


def _write(path: Path, text: str) -> None:
    from mlgate.errors import UsageError

    try:
        if path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _search_root(path: str) -> Path:
    """The repository (else the directory) a `check PATH` searches: where its config lives."""
    from mlgate.paths import find_repo_root

    target = Path(path)
    searched = (target if target.is_dir() else target.parent).resolve()
    return find_repo_root(searched) or searched


def _registry_root(root: Path | None) -> Path | None:
    from mlgate.paths import find_repo_root

    return root if root is not None else find_repo_root(Path.cwd())


def _rules(args: argparse.Namespace) -> int:
    from mlgate.registry import load_registry
    from mlgate.report.catalogue import render_catalogue

    registry = load_registry(_registry_root(args.root))
    sys.stdout.write(render_catalogue(registry.ordered(), args.format))
    return EXIT_READY


def _explain(args: argparse.Namespace) -> int:
    from mlgate.errors import UsageError
    from mlgate.registry import load_registry
    from mlgate.report.catalogue import explain

    registry = load_registry(_registry_root(args.root))
    rule = registry.get(args.rule)
    if rule is None:
        from mlgate.spelling import closest

        close = closest(args.rule.upper(), registry.rules)
        raise UsageError(f"no rule '{args.rule}'", hint=f"did you mean {close}?" if close
                         else "`mlgate rules` lists them")
    sys.stdout.write(explain(rule))
    return EXIT_READY


def _schema(args: argparse.Namespace) -> int:
    import json

    from mlgate.spec.models import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
    return EXIT_READY


# -- provenance: `mlgate manifest` writes it at training time, `mlgate provenance` shows it -----------------------

MANIFEST_EPILOG = """\
examples:
  START=$(date -u +%FT%TZ); python train.py; mlgate manifest model.tar.gz --started "$START"
  mlgate manifest --sha256 <hex> --uri s3://bucket/model.tar.gz --started 2026-11-26T09:40:00Z
  mlgate manifest model.tar.gz --started "$START" --evaluation evaluation/report.json
  mlgate manifest --schema                   the manifest's JSON Schema

The manifest records the artifact's sha256, the datasets of the spec, the commit (HEAD unless --commit) and
repository, the lockfile's sha256 as committed at that commit, the seed, the installed framework versions and
the training times. It goes to --output, else to the spec's provenance.artifact.manifest. From Python:
mlgate.manifest.write("model.tar.gz"). With --evaluation, it also records the evaluation report's sha256 and
metrics, which ties a report that does not name the artifact (a SageMaker model quality JSON) to it (EVL001).
"""


def _add_provenance_commands(sub: Any) -> None:
    manifest = sub.add_parser("manifest", help="write the provenance manifest of a trained artifact",
                              description="Write the provenance manifest of a trained artifact (REP005 reads it).",
                              epilog=MANIFEST_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    manifest.add_argument("artifact", nargs="?", type=Path, default=None,
                          help="the artifact file (hashed); or give --sha256")
    manifest.add_argument("--spec", type=Path, default=Path("mlgate.yaml"),
                          help="the deployment spec (default: mlgate.yaml)")
    manifest.add_argument("--output", "-o", type=Path, default=None,
                          help="where to write it (default: the spec's provenance.artifact.manifest)")
    manifest.add_argument("--started", default=None, metavar="TIME",
                          help="when training started, ISO 8601 with a time zone (required)")
    manifest.add_argument("--ended", default=None, metavar="TIME", help="when training ended (default: now)")
    manifest.add_argument("--sha256", default=None, metavar="HEX",
                          help="the artifact's sha256, when the file is not here")
    manifest.add_argument("--uri", default=None, help="where the artifact is stored (default: the spec's "
                                                      "provenance.artifact.uri)")
    manifest.add_argument("--commit", default=None, metavar="REV",
                          help="the commit training ran from (default: HEAD)")
    manifest.add_argument("--framework", action="append", default=[], metavar="NAME==VERSION",
                          help="a framework version (repeatable); adds to or overrides the installed ones")
    manifest.add_argument("--no-detect", action="store_true",
                          help="do not read framework versions from this Python environment")
    manifest.add_argument("--repository", default=None, metavar="URL",
                          help="the repository URL (default: the spec's, else the origin remote)")
    manifest.add_argument("--model-package-arn", default=None, metavar="ARN",
                          help="the SageMaker model package the artifact was registered as")
    manifest.add_argument("--evaluation", type=Path, default=None, metavar="REPORT",
                          help="the artifact's evaluation report (SageMaker model quality JSON, plain JSON, or an "
                               "MLflow run directory) to record with its sha256 and metrics")
    manifest.add_argument("--schema", action="store_true", help="print the manifest's JSON Schema and exit")

    provenance = sub.add_parser("provenance", help="show what data and code produced each model",
                                description="Show, in one screen per deployment, what data and code produced the "
                                            "model (the spec and its manifest), and whether REP001-REP005 hold.")
    provenance.add_argument("path", nargs="?", default=".",
                            help="a spec file, or a directory searched for mlgate.yaml (default: .)")


def _time_arg(option: str, text: str) -> Any:
    import datetime as dt

    from mlgate.errors import UsageError

    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{option} {text!r} is not an ISO 8601 time such as 2026-11-26T09:40:00Z") from None
    if moment.tzinfo is None:
        raise UsageError(f"{option} {text!r} has no time zone", hint="add Z for UTC, or an offset like +01:00")
    return moment


def _manifest(args: argparse.Namespace) -> int:
    import json
    import os

    from mlgate import manifest as mf
    from mlgate.errors import UsageError
    from mlgate.textsafe import one_line

    if args.schema:
        sys.stdout.write(json.dumps(mf.json_schema(), indent=2) + "\n")
        return EXIT_READY
    if not args.started:
        raise UsageError("--started is required: when training began", hint="e.g. START=$(date -u +%FT%TZ) before "
                                                                            "training, then --started \"$START\"")
    frameworks = {}
    for item in args.framework:
        name, sep, version = item.partition("==")
        if not sep or not name.strip() or not version.strip():
            raise UsageError(f"--framework {item!r} is not NAME==VERSION (e.g. torch==2.3.1)")
        frameworks[name.strip()] = version.strip()
    built = mf.build(args.artifact, spec=args.spec, sha256=args.sha256, uri=args.uri, commit=args.commit,
                     started=_time_arg("--started", args.started),
                     ended=_time_arg("--ended", args.ended) if args.ended else None, frameworks=frameworks,
                     detect=not args.no_detect, repository=args.repository,
                     model_package_arn=args.model_package_arn, evaluation=args.evaluation)
    output = args.output or built.output
    if output is None:
        raise UsageError("no place to write the manifest: pass --output FILE or set provenance.artifact.manifest "
                         f"in {args.spec}")
    _write(output, mf.dump(built.manifest))
    m = built.manifest
    shown = os.path.relpath(output.resolve()) if output.resolve().is_relative_to(Path.cwd()) else output
    print(f"wrote {shown}")
    print(f"  artifact   {one_line(m.artifact.uri)} sha256 {m.artifact.sha256}")
    print(f"  commit     {m.code.commit}{f' ({one_line(m.code.repository)})' if m.code.repository else ''}")
    if m.dependencies:
        print(f"  lockfile   {one_line(m.dependencies.lockfile)} sha256 {m.dependencies.sha256 or '(not committed)'}")
    print(f"  frameworks {', '.join(f'{k} {v}' for k, v in m.frameworks.items()) or '(none found)'}")
    print(f"  training   {m.training.started.isoformat()} to {m.training.ended.isoformat()}")
    if m.evaluation:
        scores = ", ".join(f"{k} {v:.6g}" for k, v in m.evaluation.metrics.items())
        print(f"  evaluation {one_line(m.evaluation.report)} sha256 {m.evaluation.sha256}: {one_line(scores)}")
    for note in built.notes:
        print(f"mlgate: warning: {one_line(note)}", file=sys.stderr)
    updates = dict(built.spec_updates)
    if built.output is None or built.output.resolve() != output.resolve():
        rel = os.path.relpath(output.resolve(), built.spec_file.resolve().parent)
        updates["provenance.artifact.manifest"] = Path(rel).as_posix()
    if updates:
        print(f"to link the artifact to it, set in {built.spec_file}:")
        for key, value in updates.items():
            print(f"  {key}: {one_line(value)}")
    return EXIT_READY


def _provenance(args: argparse.Namespace) -> int:
    from mlgate.config import load_config
    from mlgate.discover import load_specs
    from mlgate.engine import Options, run
    from mlgate.manifest import render_provenance
    from mlgate.registry import load_registry

    loaded = load_specs(args.path, skip=load_config(_search_root(args.path)).settings.skip_specs)
    report = None
    for root in dict.fromkeys(spec.root for spec in loaded):
        group = [spec for spec in loaded if spec.root == root]
        part = run(group, load_registry(root), load_config(root), Options(select=["REP"], today=_today()))
        sys.stdout.write(("\n" if report else "") + render_provenance(part, group))
        report = part
    return EXIT_READY


def _aws_policy(args: argparse.Namespace) -> int:
    from mlgate.aws.policy import policy_for_spec_file

    policy = policy_for_spec_file(Path(args.path))
    return _print_policy(policy.to_json(), policy.notes)


def _iam_policy(args: argparse.Namespace) -> int:
    from mlgate.iam.suggest import suggest_for_spec_file

    suggestion = suggest_for_spec_file(Path(args.path))
    return _print_policy(suggestion.to_json(), suggestion.notes)


def _print_policy(document: str, notes: list[str]) -> int:
    """`aws-policy` and `iam-policy`: the policy document on standard output, the notes on what the spec leaves
    open on standard error (so the output pipes straight into a file or `aws iam`)."""
    sys.stdout.write(document + "\n")
    for note in notes:
        print(f"mlgate: note: {note}", file=sys.stderr)
    return EXIT_READY

# -- adoption: `mlgate init` writes a first spec, `mlgate validate` checks only that specs load --------------------

INIT_EPILOG = """\
examples:
  mlgate init                                write ./mlgate.yaml from what this repository shows
  mlgate init models/fraud                   the spec of the deployment in models/fraud
  mlgate init --stdout                       print the draft; write nothing

Found facts carry a comment saying where they came from; what only the team knows is a commented TODO line.
Run `mlgate check` next: it lists exactly what is left. An existing spec is never replaced without --force.
"""


def _add_adoption_commands(sub: Any) -> None:
    init = sub.add_parser("init", help="write a starting mlgate.yaml from what the repository shows",
                          description="Write a starting mlgate.yaml from what the repository shows: the lockfile, "
                                      "the seed, DVC files, the SageMaker endpoint in CloudFormation or Terraform, "
                                      "an IAM policy file and the runbook.",
                          epilog=INIT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    init.add_argument("directory", nargs="?", default=".", type=Path,
                      help="where the spec goes: the deployment's directory (default: .)")
    init.add_argument("--force", action="store_true", help="replace an existing spec")
    init.add_argument("--stdout", action="store_true", help="print the draft instead of writing it")

    validate = sub.add_parser("validate", help="check only that specs and config load (no rules run)",
                              description="Load every spec (YAML, schema, paths inside the repository), the "
                                          "config and the waivers, as `mlgate check` does, without running rules. "
                                          "Exit 0 when all load, 2 otherwise.")
    validate.add_argument("path", nargs="?", default=".",
                          help="a spec file, or a directory searched for mlgate.yaml (default: .)")


def _init(args: argparse.Namespace) -> int:
    from mlgate import init
    from mlgate.errors import UsageError
    from mlgate.textsafe import one_line

    directory: Path = args.directory
    if not directory.is_dir():
        raise UsageError(f"{directory}: no such directory")
    if args.stdout:
        sys.stdout.write(init.render(init.draft(directory)))
        return EXIT_READY
    path, draft, text = init.write(directory, force=args.force)
    todos = sum(1 for line in text.splitlines() if line.lstrip().startswith("# TODO"))
    print(f"wrote {path}")
    for fact in draft.found:
        print(f"  found {one_line(fact)}")
    for note in draft.notes:
        print(f"  note: {one_line(note)}")
    print(f"{todos} TODO{'s' if todos != 1 else ''} left for the team. Next: mlgate check {directory}")
    return EXIT_READY


def _validate(args: argparse.Namespace) -> int:
    from mlgate.config import load_config
    from mlgate.discover import load_specs
    from mlgate.engine import Options, run
    from mlgate.registry import load_registry
    from mlgate.textsafe import no_workflow_commands, one_line

    loaded = load_specs(args.path, skip=load_config(_search_root(args.path)).settings.skip_specs)
    for root in dict.fromkeys(spec.root for spec in loaded):
        registry = load_registry(root)
        # every rule ignored: the engine still validates the config, the waivers and each spec, as check does
        run([s for s in loaded if s.root == root], registry, load_config(root),
            Options(ignore=list(registry.rules), today=_today()))
    for spec in loaded:
        print(no_workflow_commands(f"{one_line(spec.rel)}: valid"))
    return EXIT_READY
