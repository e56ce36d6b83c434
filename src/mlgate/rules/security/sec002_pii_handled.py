"""SEC002: PII in the endpoint's inputs is handled wherever inputs are captured or logged.

The PII among the endpoint's input fields (declared, or by name) needs a handling for each where inputs are
captured, an encrypted capture destination with a retention; the inference code is scanned (by AST, never run)
for logging calls that write the raw request or a PII field, naming the variable that carried it and the line
where it got it. What the endpoint answered (the result of `invoke_endpoint`, and what is parsed from it) is the
model's output, not the request.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field

from mlgate.checks import CheckContext
from mlgate.errors import EvidenceError
from mlgate.parsers import nesting_limit, parse_python, too_deep
from mlgate.result import Finding
from mlgate.rules.params import RuleParams
from mlgate.spelling import did_you_mean
from mlgate.units import DURATION_HELP, parse_duration
from mlgate.yamlload import PathT

if TYPE_CHECKING:
    pass

_PII: PathT = ("security", "pii")
_CAPTURE: PathT = ("monitoring", "capture")
_KMS_KEY = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(?:key/[\w-]+|alias/[\w/+=.@-]+)"
                      r"|alias/[\w/+=.@-]+|(?:mrk-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
                      r"|mrk-[0-9a-f]{32}")
MAX_FILES = 500


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression ({exc})") from None
    return value


Regex = Annotated[str, AfterValidator(_regex)]

PII_PATTERNS: dict[str, str] = {  # the kind of PII: a pattern of field names (as snake_case words)
    "email": r"(^|_)(e_?mail|mail_?address)($|_)",
    "ip_address": r"(^|_)(ip|ipv4|ipv6|ip_?addr(ess)?|client_?ip|remote_?addr|source_?ip)($|_)",
    "device_id": r"(^|_)(device_?id|idfa|gaid|imei|udid|mac_?addr(ess)?|advertising_?id|android_?id)($|_)",
    "card_number": (r"(^|_)(card_?(number|no|num)|pan|cc_?(number|num)|credit_?card(_?number)?|"
                    r"primary_account_number)($|_)"),
    "bank_account": (r"(^|_)(iban|bic|swift(_?code)?|account_?(id|number|no|num|nr)|"
                     r"bank_?account(_?number)?|routing_?number|sort_?code)($|_)"),
    "national_id": (r"(^|_)(ssn|social_security(_?number)?|national_?(id|number)|"
                    r"tax_?(id|number)|nino|personal_?id(entification)?_?number)($|_)"),
    "passport": r"(^|_)passport(_?(number|no|num|id))?($|_)",
    "birth_date": r"(^|_)(birth_?date|date_?of_?birth|dob|birth_?day)($|_)",
    "phone": r"(^|_)(phone|mobile|msisdn|telephone)(_?(number|no|num))?($|_)",
    "name": (r"^((first|last|full|given|family|middle|maiden|customer|person|card_?holder|account_?holder|contact|"
             r"patient|legal)_)?name$|(^|_)(first|last|full|given|family|middle|maiden|sur)_?name($|_)"),
    "address": (r"(^|_)((street|home|postal|mailing|billing|shipping|residential)_)?address(_?line_?[0-9]*)?($|_)|"
                r"(^|_)(post_?code|postal_?code|zip(_?code)?)($|_)"),
}


class Params(RuleParams):
    pii_patterns: dict[str, Regex] = Field(
        PII_PATTERNS, description="a field is PII when its name (as snake_case words) matches one of these patterns; "
                                  "the key names the kind of PII in the findings. Override the whole table, or add to "
                                  "it with extra_pii_patterns")
    extra_pii_patterns: dict[str, Regex] = Field(
        default_factory=dict, description="more kind = pattern entries, added to pii_patterns (the same kind "
                                          "replaces its pattern)")
    raw_request_names: Regex = Field(
        "request|req|payload|body|request_body|raw|raw_body|raw_request|data|input_data|inputs?|event|records?|instances",
        description="parameter names in the inference code that hold the raw request (beyond the request "
                    "argument of input_fn, transform_fn, predict_fn and handle): logging one of them, or what "
                    "is read from it, is logging the request")


def normalise(name: str) -> str:
    """A field name as snake_case words: `customerEmail` and `Customer-Email` are `customer_email`."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def pii_kind(name: str, patterns: dict[str, re.Pattern[str]]) -> str | None:
    """The kind of PII a field's name says it holds (`email`, `card_number` ...), or None."""
    words = normalise(name)
    return next((kind for kind, pattern in patterns.items() if pattern.search(words)), None)


@dataclass(frozen=True)
class LoggedInput:
    """A place in the inference code that logs a request, or a PII field of it."""
    file: str
    line: int
    code: str
    what: str  # "the raw request", "the PII field customer_email"
    pii: bool  # a PII field itself, by name
    via: str | None = None  # "`payload` holds it from line 12": the variable that carried it, and where it got it


# Parameters that hold the raw request in SageMaker inference handlers (position of the request argument).
_HANDLER_ARGS = {"input_fn": 0, "transform_fn": 1, "predict_fn": 0, "handle": 0, "handler": 0, "lambda_handler": 0,
                 "invocations": 0, "predict": 0}
_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"})
_REQUEST_ATTRS = frozenset({"data", "json", "get_json", "get_data", "form", "values", "body", "args", "stream"})
_SAFE_CALLS = frozenset({"len", "type", "id", "bool", "isinstance"})
_SAFE_ATTRS = frozenset({"shape", "dtype", "ndim", "size", "__class__", "__name__", "keys"})
# Calls whose result is the model's answer, not the request: the SageMaker Runtime client's invoke calls. A Lambda
# that parses the endpoint's response and prints the prediction logs the model's output, not what the caller sent.
_RESPONSE_CALLS = frozenset({"invoke_endpoint", "invoke_endpoint_async", "invoke_endpoint_with_response_stream"})
_SANITISER = re.compile(r"hash|sha\d*|md5|blake|mask|redact|anonymi[sz]|pseudonymi[sz]|tokeni[sz]|scrub|saniti[sz]"
                        r"|digest|encrypt", re.IGNORECASE)
WHOLE = ""
# What a name holds of the request (WHOLE, or input fields by name) and the line where it got it.
Taint = dict[str, tuple[frozenset[str], int]]


class _Scanner:
    """Follows the request through one module: which names hold the raw request (or one field of it), from which
    line, and which logging or print calls write them."""

    def __init__(self, rel: str, text: str, raw_names: re.Pattern[str], fields: set[str], pii: set[str]) -> None:
        self.rel, self.text, self.raw_names, self.fields, self.pii = rel, text, raw_names, fields, pii
        self.found: list[LoggedInput] = []
        self.via: list[tuple[str, frozenset[str], int]] = []  # the tainted names an expression read, in order

    def scan(self, tree: ast.Module) -> list[LoggedInput]:
        self.body(tree.body, {})
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.function(node)
        return self.found

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        args = [a.arg for a in (*node.args.posonlyargs, *node.args.args) if a.arg not in ("self", "cls")]
        taint: Taint = {}
        position = _HANDLER_ARGS.get(node.name)
        if position is not None and position < len(args):
            taint[args[position]] = (frozenset({WHOLE}), node.lineno)
        for arg in (*args, *(a.arg for a in node.args.kwonlyargs)):
            if self.raw_names.fullmatch(arg):
                taint[arg] = (frozenset({WHOLE}), node.lineno)
        self.body(node.body, taint)

    def body(self, statements: list[ast.stmt], taint: Taint) -> None:
        for statement in statements:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue  # scanned on their own
            if isinstance(statement, ast.Assign | ast.AnnAssign | ast.AugAssign) and statement.value is not None:
                found = self.taint(statement.value, taint)
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                for target in targets:
                    for name in _names(target):
                        if found and isinstance(statement, ast.AugAssign) and name in taint:
                            taint[name] = (found | taint[name][0], taint[name][1])
                        elif found:
                            taint[name] = (found, statement.lineno)
                        elif not isinstance(statement, ast.AugAssign):
                            taint.pop(name, None)
            if isinstance(statement, ast.For | ast.AsyncFor):
                found = self.taint(statement.iter, taint)
                for name in _names(statement.target):
                    if found:
                        taint[name] = (found, statement.lineno)
            if isinstance(statement, ast.With | ast.AsyncWith):
                for item in statement.items:
                    found = self.taint(item.context_expr, taint)
                    if found and item.optional_vars is not None:
                        for name in _names(item.optional_vars):
                            taint[name] = (found, statement.lineno)
            for node in _shallow_calls(statement):
                self.call(node, taint)
            for block in ("body", "orelse", "finalbody"):
                inner = getattr(statement, block, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    self.body(inner, taint)
            for handler in getattr(statement, "handlers", []) or []:
                self.body(handler.body, taint)
            for case in getattr(statement, "cases", []) or []:
                self.body(case.body, taint)

    def taint(self, node: ast.expr, taint: Taint) -> frozenset[str]:
        """What of the request an expression holds: WHOLE, some input fields by name, or nothing. The tainted
        names it reads go to `self.via`."""
        if isinstance(node, ast.Name):
            held, line = taint.get(node.id, (frozenset(), 0))
            if held:
                self.via.append((node.id, held, line))
            return held
        if isinstance(node, ast.Subscript):
            base = self.taint(node.value, taint)
            key = node.slice
            if base and isinstance(key, ast.Constant) and isinstance(key.value, str) and key.value in self.fields:
                return frozenset({key.value})
            return base
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "request" and node.attr in _REQUEST_ATTRS:
                return frozenset({WHOLE})
            return frozenset() if node.attr in _SAFE_ATTRS else self.taint(node.value, taint)
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in _SAFE_CALLS or _SANITISER.search(name) or name in _RESPONSE_CALLS:
                return frozenset()
            if isinstance(func, ast.Attribute) and func.attr == "get" and node.args \
                    and isinstance(node.args[0], ast.Constant) and node.args[0].value in self.fields \
                    and self.taint(func.value, taint):
                return frozenset({str(node.args[0].value)})
            held = self.taint(func, taint) if isinstance(func, ast.Attribute) else frozenset()
            for arg in (*node.args, *(k.value for k in node.keywords)):
                held |= self.taint(arg, taint)
            return held
        if isinstance(node, ast.Lambda):
            return frozenset()
        out: frozenset[str] = frozenset()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                out |= self.taint(child, taint)
            elif isinstance(child, ast.comprehension):
                out |= self.taint(child.iter, taint)
        return out

    def call(self, node: ast.Call, taint: Taint) -> None:
        if not _is_log_call(node):
            return
        found: frozenset[str] = frozenset()
        self.via = []
        for arg in (*node.args, *(k.value for k in node.keywords if k.arg not in ("exc_info", "stack_info"))):
            found |= self.taint(arg, taint)
        pii = sorted(f for f in found if f in self.pii)
        if WHOLE in found:
            what, is_pii, shown = "the raw request", False, {WHOLE}
        elif pii:
            what, is_pii, shown = f"the PII field{'s' if len(pii) > 1 else ''} {', '.join(pii)}", True, set(pii)
        else:
            return
        code = (ast.get_source_segment(self.text, node) or "").replace("\n", " ")
        code = code if len(code) <= 80 else code[:77] + "..."
        carrier = next(((name, line) for name, held, line in self.via if held & shown), None)
        via = None
        if carrier is not None:
            name, line = carrier
            via = f"`{name}` holds {'the request' if WHOLE in shown else 'it'} from line {line}"
        self.found.append(LoggedInput(self.rel, node.lineno, code, what, is_pii, via))


def _names(target: ast.expr) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Tuple | ast.List):
        return [n for elt in target.elts for n in _names(elt)]
    if isinstance(target, ast.Starred):
        return _names(target.value)
    return []


def _shallow_calls(statement: ast.stmt) -> Iterator[ast.Call]:
    """The calls in a statement itself, not in the blocks it holds (those are walked in order)."""
    stack: list[ast.AST] = [statement]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt | ast.Lambda):  # blocks are walked in order; lambdas run later
                continue
            if isinstance(child, ast.Call):
                yield child
            stack.append(child)


def _is_log_call(node: ast.Call) -> bool:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id == "print"
    if not isinstance(func, ast.Attribute):
        return False
    base = ast.unparse(func.value)
    if func.attr == "write" and base in ("sys.stdout", "sys.stderr"):
        return True
    return func.attr in _LOG_METHODS and "log" in base.lower()


@nesting_limit(too_deep)
def scan_logging(rel: str, text: str, raw_names: re.Pattern[str], fields: set[str],
                 pii: set[str]) -> list[LoggedInput]:
    """The logging and print calls in one Python module that write the raw request or a PII input field.
    Raises SyntaxError when the module does not parse."""
    return _Scanner(rel, text, raw_names, fields, pii).scan(parse_python(rel, text))


def _python_files(ctx: CheckContext, paths: list[str]) -> Iterator[Finding | Path]:
    count = 0
    for i, written in enumerate(paths):
        target = ctx.resolve(written)
        if not target.exists():
            yield ctx.fail(f"serving.code_paths names {ctx.workspace.rel(target)}, which does not exist",
                           at=("serving", "code_paths", i), fix="list the inference code's files or directories")
            continue
        for path in ctx.workspace.python_files(target):
            count += 1
            if count > MAX_FILES:
                yield ctx.warn(f"more than {MAX_FILES} Python files under serving.code_paths; only the first "
                               f"{MAX_FILES} were scanned", at=("serving", "code_paths"),
                               fix="narrow serving.code_paths to the code that handles requests")
                return
            yield path


def _kms_problem(key: str) -> str | None:
    if not _KMS_KEY.fullmatch(key):
        return (f"monitoring.capture.kms_key '{key}' is not a KMS key id, key ARN, alias (alias/NAME) or alias "
                "ARN")
    return None


def _key_not_deployed(ctx: CheckContext) -> Finding | None:
    """The spec names a KMS key for the captured data, and the DataCaptureConfig the code deploys sets none: the
    data is then encrypted with the bucket's default, not that key."""
    fact = ctx.resolved.fact((*_CAPTURE, "kms_key")) if ctx.resolved is not None else None
    if fact is None or fact.origin != "code" or fact.value is not None or not fact.claimed:
        return None
    return ctx.fail(f"monitoring.capture.kms_key is {fact.claimed}, but the DataCaptureConfig the infrastructure "
                    f"code deploys ({fact.at.path}:{fact.at.line}) sets no KmsKeyId: captured data is encrypted with "
                    "the destination bucket's default encryption, not with that key",
                    at=fact.claimed_at or (*_CAPTURE, "kms_key"),
                    fix=f"set KmsKeyId: {fact.claimed} in the DataCaptureConfig", related=(fact.at,))


def check(ctx: CheckContext) -> Iterator[Finding]:
    """Every PII input field is dropped, hashed, masked or tokenized wherever inputs are captured or logged; the
    capture destination is encrypted and kept for a set time; the inference code logs no raw request."""
    params: Params = ctx.params
    patterns = {kind: re.compile(pattern) for table in (params.pii_patterns, params.extra_pii_patterns)
                for kind, pattern in table.items()}
    raw_names = re.compile(params.raw_request_names)
    pii_spec = ctx.spec.security.pii if ctx.spec.security else None
    inputs = list(pii_spec.input_fields) if pii_spec else []
    declared = list(pii_spec.pii_fields) if pii_spec else []
    handling: dict[str, str] = dict(pii_spec.handling) if pii_spec else {}
    kinds = {f: kind for f in inputs if (kind := pii_kind(f, patterns))}
    for f in declared:
        kinds.setdefault(f, "declared")
    pii = {f for f in kinds if f in inputs or f in declared}

    capture = ctx.spec.monitoring.capture if ctx.spec.monitoring else None
    captured = bool(capture and capture.enabled and capture.inputs is not False)
    serving = ctx.spec.serving
    code_paths = list(serving.code_paths) if serving else []
    unset_key = _key_not_deployed(ctx) if capture and capture.enabled else None
    if unset_key is not None:
        yield unset_key

    logged: list[LoggedInput] = []
    scanned: list[str] = []
    for item in _python_files(ctx, code_paths):
        if isinstance(item, Finding):
            yield item
            continue
        rel = ctx.workspace.rel(item)
        try:
            logged += scan_logging(rel, ctx.workspace.read_text(item), raw_names, set(inputs), pii)
        except EvidenceError as exc:
            yield ctx.warn(f"{rel} was not scanned for logged inputs: it {exc.message}", at=ctx.file(rel))
            continue
        except SyntaxError as exc:
            yield ctx.warn(f"{rel} was not scanned for logged inputs: it does not parse ({exc.msg})",
                           at=ctx.file(rel, exc.lineno or 1))
            continue
        scanned.append(rel)

    if not captured and not code_paths:
        yield ctx.na("inputs are not captured (monitoring.capture is off or captures outputs only) and "
                     "serving.code_paths names no inference code to scan for logged inputs", at=_CAPTURE)
        return

    for f in declared:
        if inputs and f not in inputs:
            yield ctx.warn(f"security.pii.pii_fields names {f}, which is not among security.pii.input_fields "
                           f"({did_you_mean(f, inputs, 'input field')})", at=(*_PII, "pii_fields"),
                           fix="list every field of the request in input_fields, and name PII fields as written")
    for f in handling:
        if inputs and f not in inputs:
            yield ctx.warn(f"security.pii.handling names {f}, which is not among security.pii.input_fields "
                           f"({did_you_mean(f, inputs, 'input field')})", at=(*_PII, "handling", f),
                           fix="name the field as the request writes it")

    if captured and capture is not None:
        destination = capture.destination or "the capture destination"
        if not inputs:
            yield ctx.fail("security.pii.input_fields is empty while inputs are captured: nothing shows which "
                           "captured fields are PII", at=(*_PII, "input_fields") if pii_spec else ("security",),
                           fix="list every field of the request in security.pii.input_fields, with a handling "
                               "(drop, hash, mask, tokenize) for each PII field")
        for f in [f for f in dict.fromkeys((*inputs, *declared)) if f in pii]:
            kind = kinds[f]
            label = "a person's name" if kind == "name" else kind.replace("_", " ")
            why = "declared PII" if kind == "declared" else f"PII ({label}, by its name)"
            done = handling.get(f)
            if done is None:
                yield ctx.fail(f"input field {f} is {why} and has no handling: captured requests store it in "
                               f"clear in {destination}", at=(*_PII, "handling"),
                               fix=f"set security.pii.handling.{f} to drop, hash, mask or tokenize, and apply it "
                                   "before requests are captured (in the caller or the inference container)")
            elif done == "keep":
                yield ctx.fail(f"input field {f} is {why} and its handling is keep: captured requests store it in "
                               f"clear in {destination}", at=(*_PII, "handling", f),
                               fix=f"set security.pii.handling.{f} to drop, hash, mask or tokenize")
            else:
                yield ctx.ok(f"input field {f} is {why}; handling: {done}", at=(*_PII, "handling", f))
        if unset_key is not None:
            pass  # said above: the spec's key is not the deployed one
        elif not capture.kms_key:
            yield ctx.fail(f"captured inputs go to {destination} without a KMS key of yours "
                           "(monitoring.capture.kms_key is not set)", at=(*_CAPTURE, "kms_key"),
                           fix="set monitoring.capture.kms_key to a customer managed KMS key (key ARN or alias) "
                               "whose key policy names who may decrypt")
        elif problem := _kms_problem(capture.kms_key):
            yield ctx.fail(problem, at=(*_CAPTURE, "kms_key"),
                           fix="write a key id, a key ARN, alias/NAME or an alias ARN")
        elif capture.kms_key.rsplit(":", 1)[-1] == "alias/aws/s3":
            yield ctx.warn("captured inputs are encrypted with alias/aws/s3, the AWS managed S3 key: anyone in the "
                           "account allowed to read the objects can decrypt them", at=(*_CAPTURE, "kms_key"),
                           fix="use a customer managed key whose key policy names who may decrypt")
        else:
            yield ctx.ok(f"captured inputs in {destination} are encrypted with {capture.kms_key}",
                         at=(*_CAPTURE, "kms_key"))
        if capture.retention is None or not str(capture.retention).strip():
            yield ctx.fail(f"captured inputs in {destination} have no retention (monitoring.capture.retention): "
                           "PII is kept for ever", at=(*_CAPTURE, "retention"),
                           fix="set monitoring.capture.retention (e.g. 90d) and an S3 lifecycle rule that expires "
                               "the captured objects after it")
        elif parse_duration(capture.retention) is None:
            yield ctx.fail(f"monitoring.capture.retention '{capture.retention}' is not {DURATION_HELP}",
                           at=(*_CAPTURE, "retention"), fix=f"write {DURATION_HELP}")
        else:
            yield ctx.ok(f"captured inputs are kept {capture.retention}", at=(*_CAPTURE, "retention"))

    unsure = not inputs or bool(pii)
    for hit in logged:
        at = ctx.file(hit.file, hit.line)
        fields = f"the PII fields {', '.join(sorted(pii))}" if pii else "whatever the request holds"
        # the location already names file:line
        via = f"; {hit.via}" if hit.via else ""
        message = (f"the inference code logs {hit.what} (`{hit.code}`{via}): "
                   + ("it reaches the endpoint's CloudWatch logs in clear" if hit.pii else
                      f"{fields} reach{'es' if not pii else ''} the endpoint's CloudWatch logs, where no handling "
                      "applies"))
        fix = ("log what the request is (its size, a request id, the field names) or the handled values, never "
               "the request itself")
        if hit.pii or unsure:
            yield ctx.fail(message, at=at, fix=fix)
        else:
            yield ctx.warn(message + " (no input field is PII today)", at=at, fix=fix)
    if scanned and not logged:
        files = f"{len(scanned)} Python file{'s' if len(scanned) != 1 else ''}"
        yield ctx.ok(f"the inference code ({files} under {', '.join(code_paths)}) logs no raw request and no PII "
                     "field", at=("serving", "code_paths"))
    elif captured and not code_paths:
        yield ctx.warn("serving.code_paths is not set, so the inference code was not scanned for logging calls that "
                       "write raw requests", at=("serving",) if serving else (),
                       fix="list the inference code (e.g. [serve/]) in serving.code_paths")
