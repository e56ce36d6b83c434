"""Command line: argument parsing and exit codes only. Heavy modules load inside the command that needs them,
so `mlgate --version` and `mlgate --help` stay fast enough for a pre-commit hook."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlgate import __version__

EXIT_READY, EXIT_NOT_READY, EXIT_UNUSABLE = 0, 1, 2
FORMAT_CHOICES = ("text", "markdown", "sarif", "json", "junit")

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
    parser.add_argument("--version", action="version", version=f"mlgate {__version__}")
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

    rules = sub.add_parser("rules", help="list the rules (built-in, team and plugin)",
                           description="List every rule mlgate knows, with its section and default severity.")
    rules.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    rules.add_argument("--root", type=Path, default=None,
                       help="repository whose .mlgate/rules/ to include (default: the one holding .)")

    explain = sub.add_parser("explain", help="explain one rule: why it matters and how to fix it",
                             description="Print one rule: what it checks, why, how to fix it, its params.")
    explain.add_argument("rule", help="a rule ID, e.g. RLO002")
    explain.add_argument("--root", type=Path, default=None, help=argparse.SUPPRESS)

    sub.add_parser("schema", help="print the JSON Schema of mlgate.yaml",
                   description="Print the JSON Schema of the spec. Save it and point your editor at it:\n"
                               "  # yaml-language-server: $schema=./mlgate.schema.json",
                   formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_UNUSABLE
    from mlgate.errors import UsageError

    try:
        handler = {"check": _check, "rules": _rules, "explain": _explain, "schema": _schema}[args.command]
        return handler(args)
    except UsageError as exc:
        print(f"mlgate: error: {exc}", file=sys.stderr)
        for more in exc.more[:20]:
            print(f"mlgate: error: {more}", file=sys.stderr)
        return EXIT_UNUSABLE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback for a user; MLGATE_DEBUG=1 shows it to a developer
        if os.environ.get("MLGATE_DEBUG"):
            raise
        print(f"mlgate: internal error: {type(exc).__name__}: {exc} (set MLGATE_DEBUG=1 for the traceback, "
              "and please report it)", file=sys.stderr)
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
    from mlgate.discover import find_specs
    from mlgate.engine import Options, run
    from mlgate.errors import UsageError
    from mlgate.paths import find_repo_root
    from mlgate.registry import load_registry
    from mlgate.report import render
    from mlgate.spec.load import load_spec

    outputs: list[list[str | None]] = getattr(args, "outputs", None) or [["text", None]]
    if sum(1 for _, out in outputs if out is None) > 1:
        raise UsageError("only one --format can go to standard output; give the others an --output FILE")
    target = Path(args.path)
    if not target.exists():
        raise UsageError(f"{args.path}: no such file or directory")
    if target.is_dir():
        specs = find_specs(target)
        if not specs:
            raise UsageError(f"no mlgate.yaml found in {target.resolve()} or below (skipped .git, virtualenvs, "
                             "node_modules)", hint="write one: see the reference spec in the README, or run "
                                                   "`mlgate schema`")
    else:
        specs = [target]
    search_root = target if target.is_dir() else target.parent
    fallback_root = find_repo_root(search_root.resolve()) or search_root.resolve()
    loaded = [load_spec(s, root=find_repo_root(s.resolve().parent) or fallback_root) for s in specs]
    roots = {spec.root for spec in loaded}
    if len(roots) > 1:
        raise UsageError("the specs found belong to more than one git repository; check one repository at a time")
    root = roots.pop()
    config = load_config(root)
    registry = load_registry(root)
    report = run(loaded, registry, config, Options(select=args.select, ignore=args.ignore,
                                                    fail_on=args.fail_on, today=_today()))
    for fmt, out in outputs:
        assert fmt is not None
        if out is None:
            color = fmt == "text" and sys.stdout.isatty() and not args.no_color and not os.environ.get("NO_COLOR")
            sys.stdout.write(render(report, fmt, color=color, verbose=args.verbose))
        else:
            _write(Path(out), render(report, fmt, verbose=args.verbose))
    return EXIT_READY if report.ready else EXIT_NOT_READY


def _write(path: Path, text: str) -> None:
    from mlgate.errors import UsageError

    try:
        if path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


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
        from mlgate.suggest import closest

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
