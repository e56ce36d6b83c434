"""Seeds as evidence: the value at a seed source (`file#dotted.key`), and the seeding calls in training code.

A seed source is read with the parser of its format: YAML (the safe loader, with positions), JSON, TOML, INI
(configparser, `section.option`), a .env file (`KEY=value` lines), or a module-level constant of a Python file
(ast, never imported: `SEED = 1234`, `CONFIG = {"seed": 1234}` with `CONFIG.seed`, `class Config: seed = 1234`
with `Config.seed`). A file without `#key` holds the seed alone (seed.txt).

Training code is scanned with ast, never imported or run. Imports are followed (`import numpy as np`,
`from torch import manual_seed as ms`, `import lightning as L`), so `np.random.seed(s)` and `ms(s)` are seen for
what they are. A seeding call without a seed (`random.seed()`, `np.random.default_rng()`, `random_state=None`)
is recorded as unseeded: it draws from the operating system's entropy, a different sequence on every run.
"""

from __future__ import annotations

import ast
import configparser
import json
import operator
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mlgate.evidence.lockfiles import toml_error_line
from mlgate.parsers import load_json, load_toml, nesting_limit, parse_python, too_deep
from mlgate.yamlload import Document, YamlFloat


class SeedSourceError(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class SeedValue:
    """The seed read from a seed source, and how and where it is written."""
    value: Any
    line: int
    written: str  # how the value is written, for messages


FORMATS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml", ".ini": "ini", ".cfg": "ini",
           ".env": "env", ".py": "python", ".txt": "text"}


def source_format(filename: str) -> str | None:
    """The format of a seed source file: by suffix, and `.env`, `.env.train`, `train.env` are env files."""
    lower = filename.lower().rsplit("/", 1)[-1]
    if lower == ".env" or lower.startswith(".env."):
        return "env"
    for suffix, fmt in FORMATS.items():
        if lower.endswith(suffix):
            return fmt
    return None


def as_seed(value: Any) -> int | None:
    """The integer a seed source holds: an int, or the decimal text of one (INI and .env values are text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and not isinstance(value, YamlFloat) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("+-").isdigit():
            try:
                return int(text)
            except ValueError:  # "+-5", "²" (isdigit, not decimal), more digits than Python converts
                return None
    return None


# -- reading the value at a seed source ---------------------------------------------------------------------------

def _walk(data: Any, key: str) -> tuple[tuple[str | int, ...], Any]:
    """Follow a dotted key through nested mappings and lists: (the path taken, the value there)."""
    path: tuple[str | int, ...] = ()
    done: list[str] = []
    for part in key.split("."):
        done.append(part)
        if isinstance(data, dict) and part in data:
            path, data = (*path, part), data[part]
        elif isinstance(data, list) and re.fullmatch(r"-?[0-9]{1,9}", part) and -len(data) <= int(part) < len(data):
            index = int(part) % len(data)
            path, data = (*path, index), data[index]
        else:
            where = ".".join(done[:-1])
            if isinstance(data, dict):
                keys = ", ".join(str(k) for k in list(data)[:12]) or "none"
                there = f"at '{where}'" if where else "at the top level"
                raise SeedSourceError(f"has no key '{'.'.join(done)}' (keys {there}: {keys})")
            raise SeedSourceError(f"has no key '{'.'.join(done)}' ('{where or 'the document'}' is not a mapping)")
    return path, data


def _written(value: Any) -> str:
    shown = value.raw if isinstance(value, YamlFloat) else value
    return repr(shown) if isinstance(shown, str) else str(shown)


def seed_from_document(doc: Document, key: str) -> SeedValue:
    """The value at `key` in a YAML document loaded with positions."""
    path, value = _walk(doc.data, key)
    return SeedValue(value, doc.pos(path).line, _written(value))


def seed_from_text(fmt: str, text: str, key: str | None) -> SeedValue:
    """The value at `key` in a JSON, TOML, INI, .env, Python or plain-text seed source."""
    if fmt == "text":
        if key is not None:
            raise SeedSourceError("is a plain text file that holds the seed alone; drop the '#key'")
        return SeedValue(text.strip(), 1, text.strip())
    if key is None:
        raise SeedSourceError("needs a key: write the source as file#dotted.key")
    if fmt == "json":
        try:
            data = load_json(text)
        except json.JSONDecodeError as exc:
            raise SeedSourceError(f"is not valid JSON: {exc.msg}", exc.lineno) from None
        _, value = _walk(data, key)
        return SeedValue(value, _find_line(text, f'"{key.rsplit(".", 1)[-1]}"'), json.dumps(value))
    if fmt == "toml":
        try:
            data = load_toml(text)
        except tomllib.TOMLDecodeError as exc:
            raise SeedSourceError(f"is not valid TOML: {exc}", toml_error_line(exc)) from None
        _, value = _walk(data, key)
        return SeedValue(value, _assignment_line(text, key), _written(value))
    if fmt == "ini":
        return _seed_from_ini(text, key)
    if fmt == "env":
        return _seed_from_env(text, key)
    if fmt == "python":
        return seed_from_python(text, key)
    raise SeedSourceError(f"is a {fmt} file, which mlgate cannot read a seed from")


def _find_line(text: str, needle: str, start: int = 1) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if number >= start and needle in line:
            return number
    return 1


def _assignment_line(text: str, key: str) -> int:
    """Where a (possibly dotted) TOML or INI key is assigned: after its table header, when it has one."""
    *table, last = key.split(".")
    start = 1
    if table:
        header = f"[{'.'.join(table)}]"
        start = next((n for n, line in enumerate(text.splitlines(), 1) if line.strip() == header), 1)
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if number >= start and stripped.startswith(last) and stripped[len(last):].lstrip()[:1] in ("=", ":"):
            return number
    return 1


def _seed_from_ini(text: str, key: str) -> SeedValue:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise SeedSourceError(f"is not a valid INI file: {str(exc).splitlines()[0]}") from None
    if "." not in key:
        section, option = parser.default_section, key
    else:  # the section name may itself contain dots ([tool.train]): the longest existing one wins
        parts = key.split(".")
        section, option = ".".join(parts[:-1]), parts[-1]
        for cut in range(len(parts) - 1, 0, -1):
            if parser.has_section(".".join(parts[:cut])):
                section, option = ".".join(parts[:cut]), ".".join(parts[cut:])
                break
    if section != parser.default_section and not parser.has_section(section):
        raise SeedSourceError(f"has no section [{section}] (sections: {', '.join(parser.sections()) or 'none'})")
    if not parser.has_option(section, option):
        raise SeedSourceError(f"has no option '{option}' in [{section}]")
    value = parser.get(section, option)
    return SeedValue(value, _assignment_line(text, f"{section}.{option}"), value)


def _seed_from_env(text: str, key: str) -> SeedValue:
    found: SeedValue | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        name, value = line.split("=", 1)
        if name.strip() != key:
            continue
        value = value.strip()
        if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) >= 2:
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        found = SeedValue(value, number, value)  # the last assignment wins, as in a shell
    if found is None:
        raise SeedSourceError(f"does not set {key}")
    return found


@nesting_limit(lambda: SeedSourceError("nests too deeply to read"))
def seed_from_python(text: str, key: str) -> SeedValue:
    """A module-level constant (or a literal inside one) of a Python file, read with ast."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise SeedSourceError(f"is not valid Python: {exc.msg}", exc.lineno) from None
    name, *rest = key.split(".")
    node, line = _module_binding(tree.body, name, key)
    for depth, part in enumerate(rest, 1):
        node, line = _member(node, part, ".".join([name, *rest[:depth]]), line)
    node = _follow_names(tree.body, node, set())
    try:
        value = ast.literal_eval(node)
    except ValueError:
        value = _integer_arithmetic(tree.body, node, set())  # SEED = 1234 then SEED += 1
    if value is None:
        raise SeedSourceError(f"sets {key} to `{ast.unparse(node)}`, which is computed when the code runs; "
                              "mlgate reads constants without running the code", line) from None
    if isinstance(value, int) and value.bit_length() > 256:  # 0x and 5,000 digits: no seed, and str() refuses it
        raise SeedSourceError(f"sets {key} to an integer of {value.bit_length()} bits, far beyond any seed", line)
    return SeedValue(value, line, ast.unparse(node))


def _module_binding(body: list[ast.stmt], name: str, key: str) -> tuple[ast.AST, int]:
    """The last binding of `name` at module (or class) level, in the order the statements run: an assignment (in
    a tuple too), an augmented assignment applied to the value before it, a class; bindings inside `if`, `try`,
    `with` and loops count (a rebinding in a `try` runs). A binding whose value only the running code knows (a
    loop variable, an import, `with ... as`) ends the search with an error naming it."""
    found: tuple[ast.AST, int] | None = None
    for stmt in _module_statements(body):
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                value = _bound(target, stmt.value, name)
                if value is not None:
                    found = (value, stmt.lineno)
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == name:
            if stmt.value is not None:
                found = (stmt.value, stmt.lineno)
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name) and stmt.target.id == name:
            if found is None or not isinstance(found[0], ast.expr):
                raise SeedSourceError(f"changes '{key}' with `{ast.unparse(stmt)}` before assigning it a value",
                                      stmt.lineno)
            found = (ast.BinOp(left=found[0], op=stmt.op, right=stmt.value), stmt.lineno)
        elif isinstance(stmt, ast.ClassDef) and stmt.name == name:
            found = (stmt, stmt.lineno)
        elif name in _other_bindings(stmt):
            raise SeedSourceError(f"binds '{key}' with `{ast.unparse(stmt).splitlines()[0]}`, a value known only "
                                  "when the code runs; mlgate reads constants without running the code",
                                  stmt.lineno)
    if found is None:
        raise SeedSourceError(f"does not assign '{key}' at module level")
    return found


def _module_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of a module or class body in source order, with those inside if/try/with/loops (not inside
    functions or classes, which run later or bind a name of their own)."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for part in reachable_parts(stmt):
            yield from _module_statements(part)


def constant_truth(test: ast.expr) -> bool | None:
    """Whether a condition is always true or always false (`if False:`, `while 0:`, `if not True:`), else None."""
    if isinstance(test, ast.Constant):
        return bool(test.value)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = constant_truth(test.operand)
        return None if inner is None else not inner
    return None


def reachable_parts(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists inside a compound statement that can run: `if False:` drops its body, `if True:` its
    else, `while False:` its body; try, with, for, match keep every part."""
    if isinstance(stmt, ast.If | ast.While):
        truth = constant_truth(stmt.test)
        if truth is False:
            return [stmt.orelse]
        if truth is True and isinstance(stmt, ast.If):
            return [stmt.body]
        return [stmt.body, stmt.orelse]
    parts = [getattr(stmt, name, None) or [] for name in ("body", "orelse", "finalbody")]
    parts += [handler.body for handler in getattr(stmt, "handlers", None) or []]
    parts += [case.body for case in getattr(stmt, "cases", None) or []]
    return [p for p in parts if p]


def _bound(target: ast.expr, value: ast.expr, name: str) -> ast.expr | None:
    """What `name` gets from `target = value` (`SEED, X = 1, 2` gives 1), or None when it is not bound there.
    An unpacking mlgate cannot pair up binds it to the unpacked expression itself, which reads as computed."""
    if isinstance(target, ast.Name):
        return value if target.id == name else None
    if isinstance(target, ast.Tuple | ast.List):
        for i, element in enumerate(target.elts):
            paired = (value.elts[i] if isinstance(value, ast.Tuple | ast.List) and len(value.elts) == len(target.elts)
                      and not any(isinstance(e, ast.Starred) for e in target.elts) else value)
            found = _bound(element.value if isinstance(element, ast.Starred) else element, paired, name)
            if found is not None:
                return found
    return None


def _other_bindings(stmt: ast.stmt) -> set[str]:
    """Names a statement binds to values only the running code knows: loop variables, `with ... as`, imports."""
    targets: list[ast.expr] = []
    if isinstance(stmt, ast.For | ast.AsyncFor):
        targets.append(stmt.target)
    elif isinstance(stmt, ast.With | ast.AsyncWith):
        targets += [item.optional_vars for item in stmt.items if item.optional_vars is not None]
    elif isinstance(stmt, ast.Import | ast.ImportFrom):
        return {(alias.asname or alias.name).split(".", 1)[0] for alias in stmt.names}
    elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
        return {stmt.name}
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _member(node: ast.AST, part: str, key: str, line: int) -> tuple[ast.AST, int]:
    if isinstance(node, ast.ClassDef):
        return _module_binding(node.body, part, key)
    if isinstance(node, ast.Dict):
        for k, v in zip(node.keys, node.values, strict=True):
            if isinstance(k, ast.Constant) and k.value == part:
                return v, getattr(v, "lineno", line)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        for kw in node.keywords:
            if kw.arg == part:
                return kw.value, kw.value.lineno
    raise SeedSourceError(f"has no '{key}' (mlgate follows dict literals and class attributes)", line)


_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv,
               ast.Mod: operator.mod, ast.BitXor: operator.xor, ast.BitOr: operator.or_, ast.BitAnd: operator.and_}


def _integer_arithmetic(body: list[ast.stmt], node: ast.AST, seen: set[str]) -> int | None:
    """The integer that `+ - * // % ^ | &` of integer constants (and module constants) gives, or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _integer_arithmetic(body, node.operand, seen)
        return None if inner is None else -inner
    if isinstance(node, ast.Name):
        followed = _follow_names(body, node, set(seen))
        return None if followed is node else _integer_arithmetic(body, followed, seen | {node.id})
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _integer_arithmetic(body, node.left, seen), _integer_arithmetic(body, node.right, seen)
        if left is None or right is None or (isinstance(node.op, ast.FloorDiv | ast.Mod) and right == 0):
            return None
        result: int = _ARITHMETIC[type(node.op)](left, right)
        return result if result.bit_length() <= 256 else None
    return None


def _follow_names(body: list[ast.stmt], node: ast.AST, seen: set[str]) -> ast.AST:
    """`SEED = BASE_SEED`: follow a name to the module-level constant it is bound to."""
    if isinstance(node, ast.Name) and node.id not in seen:
        seen.add(node.id)
        try:
            target, _ = _module_binding(body, node.id, node.id)
        except SeedSourceError:
            return node
        return _follow_names(body, target, seen)
    return node


# -- seeding calls in training code -------------------------------------------------------------------------------

# Functions that seed a random number generator, by their full import path; the value is what they seed.
SEEDERS: dict[str, str] = {
    "random.seed": "Python random",
    "random.Random": "Python random",
    "numpy.random.seed": "NumPy",
    "numpy.random.default_rng": "NumPy",
    "numpy.random.RandomState": "NumPy",
    "numpy.random.SeedSequence": "NumPy",
    "numpy.random.PCG64": "NumPy",
    "numpy.random.MT19937": "NumPy",
    "torch.manual_seed": "PyTorch",
    "torch.random.manual_seed": "PyTorch",
    "torch.cuda.manual_seed": "PyTorch CUDA",
    "torch.cuda.manual_seed_all": "PyTorch CUDA",
    "torch.mps.manual_seed": "PyTorch MPS",
    "tensorflow.random.set_seed": "TensorFlow",
    "tensorflow.set_random_seed": "TensorFlow",
    "tensorflow.compat.v1.set_random_seed": "TensorFlow",
    "keras.utils.set_random_seed": "Keras",
    "transformers.set_seed": "Hugging Face transformers",
    "transformers.trainer_utils.set_seed": "Hugging Face transformers",
    "transformers.enable_full_determinism": "Hugging Face transformers",
    "accelerate.utils.set_seed": "Hugging Face accelerate",
    "lightning.seed_everything": "Lightning",
    "lightning.pytorch.seed_everything": "Lightning",
    "lightning.fabric.seed_everything": "Lightning",
    "lightning.fabric.utilities.seed.seed_everything": "Lightning",
    "lightning.pytorch.utilities.seed.seed_everything": "Lightning",
    "jax.random.PRNGKey": "JAX",
    "jax.random.key": "JAX",
    "cupy.random.seed": "CuPy",
}
# Module paths that name the same thing (`tf.keras` is Keras; pytorch_lightning is lightning.pytorch).
_SAME_AS = (("tensorflow.keras.", "keras."), ("tf_keras.", "keras."), ("pytorch_lightning.", "lightning.pytorch."),
            ("lightning_fabric.", "lightning.fabric."), ("numpy.random.mtrand.", "numpy.random."))
# Calls whose `seed=` keyword seeds the run (Trainer seeds from TrainingArguments.seed).
_SEED_KEYWORD = ("transformers.TrainingArguments", "transformers.Seq2SeqTrainingArguments")
# Method names that seed the generator they are called on (a torch.Generator, whatever it is named).
_SEED_METHODS = ("manual_seed", "manual_seed_all")


@dataclass(frozen=True)
class SeedCall:
    """A call in training code that seeds a random number generator (or should)."""
    file: str
    line: int
    function: str  # the full import path (or `<expr>.manual_seed`)
    library: str
    argument: str | None  # the seed as written, None when no seed is passed
    literal: int | None = None  # the seed when it is an integer literal
    keyword: str | None = None  # random_state= / seed=: the seed is this keyword of the call
    scope: tuple[str, ...] = ()  # the functions the call is inside, outermost first

    @property
    def seeded(self) -> bool:
        return self.argument is not None and self.argument != "None"

    def show(self) -> str:
        if self.keyword:
            return f"{self.function}(..., {self.keyword}={self.argument})"
        return f"{self.function}({self.argument or ''})"


@dataclass
class Scan:
    """The seeding calls found in training code, the files read, and those skipped (with why)."""
    calls: list[SeedCall] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why)


def _canonical(path: str) -> str:
    for prefix, same in _SAME_AS:
        if path.startswith(prefix):
            return same + path[len(prefix):]
    return path


class _Aliases:
    """What each imported name stands for, collected from every import in the module (at any depth)."""

    def __init__(self, tree: ast.AST) -> None:
        self.names: dict[str, str] = {}
        self.star: list[str] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self.names[alias.asname] = alias.name
                    else:
                        top = alias.name.split(".", 1)[0]
                        self.names[top] = top
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name == "*":
                        self.star.append(node.module)
                    else:
                        self.names[alias.asname or alias.name] = f"{node.module}.{alias.name}"

    def dotted(self, node: ast.AST) -> str | None:
        """The full import path an expression names (`np.random.seed` -> numpy.random.seed), or None."""
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            for module in self.star:
                if _canonical(f"{module}.{node.id}") in SEEDERS:
                    return f"{module}.{node.id}"
            return None
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            base = self.dotted(node.func)
            return f"{base}()" if base else None
        return None


def _argument(call: ast.Call, keywords: tuple[str, ...]) -> ast.expr | None:
    if call.args and not isinstance(call.args[0], ast.Starred):
        return call.args[0]
    return next((kw.value for kw in call.keywords if kw.arg in keywords), None)


def _literal(node: ast.expr | None) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    return None


@dataclass
class FileScan:
    """One Python file: its reachable seeding calls, and which names its code refers to, where (for the
    functions that something calls)."""

    calls: list[SeedCall] = field(default_factory=list)
    top_refs: set[str] = field(default_factory=set)  # names referred to by code that runs on import
    def_refs: dict[str, set[str]] = field(default_factory=dict)  # function -> the names its body refers to
    always_live: set[str] = field(default_factory=set)  # decorated functions: a decorator may register them


@nesting_limit(too_deep)
def scan_source(rel: str, text: str) -> list[SeedCall]:
    """Every reachable seeding call in one Python file. Raises SyntaxError for a file that does not parse."""
    return scan_file(rel, text).calls


@nesting_limit(too_deep)
def scan_file(rel: str, text: str) -> FileScan:
    """The seeding calls of one Python file that can run: not under `if False:`, not after a `return` or `raise`
    in their block; each with the functions it is inside (`live_calls` keeps those that something calls)."""
    tree = parse_python(rel, text)
    visitor = _Visitor(rel, _Aliases(tree))
    visitor.block(tree.body, ())
    visitor.scan.calls.sort(key=lambda c: c.line)
    return visitor.scan


# Functions a launcher calls by convention: a console script's `main` (`[project.scripts] train = "pkg:main"`),
# a SageMaker or Lightning CLI entry. Their bodies are entry points.
ENTRY_FUNCTIONS = frozenset({"main"})


def live_calls(scans: list[FileScan]) -> tuple[list[SeedCall], list[SeedCall]]:
    """(calls that run, calls inside functions nothing calls). Code that runs on import in any scanned file is
    an entry point, and so is a function named `main`; a function is called when a live part of the code names
    it (`train()`, `self.train()`, `callback=train`), and a decorated function counts as called (a decorator may
    register it)."""
    live = set().union(*(s.top_refs | s.always_live for s in scans)) if scans else set()
    live |= ENTRY_FUNCTIONS
    bodies: dict[str, set[str]] = {}
    for scan in scans:
        for name, refs in scan.def_refs.items():
            bodies.setdefault(name, set()).update(refs)
    pending = list(live)
    while pending:
        for ref in bodies.get(pending.pop(), ()):
            if ref not in live:
                live.add(ref)
                pending.append(ref)
    calls = [c for s in scans for c in s.calls]
    return [c for c in calls if all(f in live for f in c.scope)], [c for c in calls if any(f not in live
                                                                                            for f in c.scope)]


class _Visitor:
    def __init__(self, rel: str, aliases: _Aliases) -> None:
        self.rel = rel
        self.aliases = aliases
        self.scan = FileScan()

    def block(self, body: list[ast.stmt], scope: tuple[str, ...]) -> None:
        for stmt in body:
            self.statement(stmt, scope)
            if isinstance(stmt, ast.Return | ast.Raise | ast.Break | ast.Continue):
                return  # what follows in this block never runs

    def statement(self, stmt: ast.stmt, scope: tuple[str, ...]) -> None:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            for expr in [*stmt.decorator_list, *stmt.args.defaults, *stmt.args.kw_defaults]:
                if expr is not None:
                    self.expression(expr, scope)
            if stmt.decorator_list:
                self.scan.always_live.add(stmt.name)
            self.scan.def_refs.setdefault(stmt.name, set())
            self.block(stmt.body, (*scope, stmt.name))
            return
        if isinstance(stmt, ast.ClassDef):
            for expr in [*stmt.decorator_list, *stmt.bases, *(k.value for k in stmt.keywords)]:
                self.expression(expr, scope)
            # a class used is a class whose methods its framework may call (Lightning hooks, __init__ ...)
            self.scan.def_refs.setdefault(stmt.name, set()).update(
                s.name for s in stmt.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef))
            self.block(stmt.body, scope)  # a class body runs when the class is defined
            return
        for child in ast.iter_child_nodes(stmt):
            if isinstance(child, ast.expr):
                self.expression(child, scope)
            elif isinstance(child, ast.withitem):
                self.expression(child.context_expr, scope)
        for part in reachable_parts(stmt):
            self.block(part, scope)

    def expression(self, expr: ast.expr, scope: tuple[str, ...]) -> None:
        refs = self.scan.def_refs.setdefault(scope[-1], set()) if scope else self.scan.top_refs
        for node in ast.walk(expr):
            if isinstance(node, ast.Name):
                refs.add(node.id)
            elif isinstance(node, ast.Attribute):
                refs.add(node.attr)
            elif isinstance(node, ast.Call):
                self.scan.calls += self.seeding(node, scope)

    def seeding(self, node: ast.Call, scope: tuple[str, ...]) -> list[SeedCall]:
        rel = self.rel
        calls: list[SeedCall] = []
        path = self.aliases.dotted(node.func)
        function = _canonical(path) if path else None
        if function in SEEDERS:
            arg = _argument(node, ("seed", "x", "a"))
            calls.append(SeedCall(rel, node.lineno, function, SEEDERS[function],
                                  ast.unparse(arg) if arg is not None else None, _literal(arg), scope=scope))
        elif isinstance(node.func, ast.Attribute) and node.func.attr in _SEED_METHODS:
            arg = _argument(node, ("seed",))
            owner = _canonical(path.rsplit(".", 1)[0]) if path else ast.unparse(node.func.value)
            calls.append(SeedCall(rel, node.lineno, f"{owner}.{node.func.attr}", "PyTorch generator",
                                  ast.unparse(arg) if arg is not None else None, _literal(arg), scope=scope))
        for kw in node.keywords:
            if kw.arg == "random_state" or (kw.arg == "seed" and function in _SEED_KEYWORD):
                callee = function or ast.unparse(node.func)
                library = "scikit-learn" if callee.startswith("sklearn.") else callee.split(".", 1)[0]
                calls.append(SeedCall(rel, node.lineno, callee, library, ast.unparse(kw.value),
                                      _literal(kw.value), keyword=kw.arg, scope=scope))
        return calls
