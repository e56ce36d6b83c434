"""OPS003: the runbook in the repository holds the rollback command, and the command moves traffic back to
the previous variant of this endpoint.

The command is read without running it: the AWS CLI form is split into shell words (`mlgate.evidence.shell`), the
boto3 form is parsed with `ast` (literals only, never evaluated)."""

from __future__ import annotations

import ast
import bisect
import json
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

from mlgate.checks import CheckContext
from mlgate.errors import EvidenceError
from mlgate.evidence import shell
from mlgate.facts import load_facts
from mlgate.parsers import load_json
from mlgate.result import Finding
from mlgate.rules.params import NoParams
from mlgate.rules.rollout._mechanism import mechanism

Params = NoParams  # no parameters

_OPS = ("operations",)
_ROLLBACK = ("operations", "rollback")
_CONTINUATION = re.compile(r"\\(?=[ \t]*\r?\n)")
_CONTINUED_LINE = re.compile(r"\\[ \t]*\r?\n")  # the backslash and the line break: one line for the shell
_AWS_FN = "update_endpoint_weights_and_capacities"
_AWS_SUB = "update-endpoint-weights-and-capacities"
_SEPARATORS = {"&&", "||", ";", "|", "&", ";;", "(", ")"}
_WORD_AFTER = re.compile(r"[A-Za-z0-9_=,.:/-]")
_WORD_BEFORE = re.compile(r"[A-Za-z0-9_-]")


def normalise(text: str) -> tuple[str, list[int], list[int], list[re.Match[str]]]:
    """`text` with shell line continuations dropped and whitespace collapsed, plus what maps it back: the start of
    each word in the normalised text, and the word matches in the original."""
    flat = _CONTINUATION.sub(" ", text)  # same length: offsets still point into `text`
    words = list(re.finditer(r"\S+", flat))
    starts: list[int] = []
    pos = 0
    for word in words:
        starts.append(pos)
        pos += len(word.group()) + 1
    return " ".join(w.group() for w in words), starts, [w.start() for w in words], words


def find_command(runbook: str, command: str) -> int | None:
    """The 1-based line of `runbook` where `command` starts (compared whitespace-normalised), or None."""
    haystack, starts, originals, _ = normalise(runbook)
    needle = normalise(command)[0]
    if not needle:
        return None
    at = haystack.find(needle)
    while at != -1:
        end = at + len(needle)
        before_ok = at == 0 or not _WORD_BEFORE.match(haystack[at - 1])
        after_ok = end == len(haystack) or not _WORD_AFTER.match(haystack[end])
        if before_ok and after_ok:
            word = bisect.bisect_right(starts, at) - 1
            offset = originals[word] + (at - starts[word])
            return runbook.count("\n", 0, offset) + 1
        at = haystack.find(needle, at + 1)
    return None


def without_html_comments(text: str) -> str:
    """`text` with every HTML comment (`<!-- ... -->`, which Markdown does not show) blanked, line breaks kept so
    line numbers hold. An unclosed comment runs to the end, as in CommonMark. One pass."""
    out: list[str] = []
    at = 0
    while (start := text.find("<!--", at)) != -1:
        end = text.find("-->", start + 4)
        end = len(text) if end == -1 else end + 3
        out.append(text[at:start])
        out.append(" " + "\n" * text.count("\n", start, end))  # a blank: `a<!-- -->b` is two words
        at = end
    out.append(text[at:])
    return "".join(out)


def _nearest_line(runbook: str, command: str) -> tuple[int, str] | None:
    """A runbook line that mentions the same operation as `command` (for a "differs from" hint)."""
    words = normalise(command)[0].split(" ")
    key = next((w for w in words if _AWS_SUB in w or _AWS_FN in w), None)
    if key is None:
        key = next((w for w in words if w in ("update-endpoint", "create-endpoint", "deploy", "apply")), None)
    if key is None:
        return None
    key = _AWS_SUB if _AWS_SUB in key else _AWS_FN if _AWS_FN in key else key
    for number, line in enumerate(runbook.splitlines(), 1):
        if key in line:
            return number, line.strip()
    return None


@dataclass
class WeightShift:
    """What a rollback command asks SageMaker to do: the endpoint and each variant's new weight."""

    form: str
    endpoint: Any
    entries: list[Any]
    region: str | None = None  # where the call goes, when the command says
    repeated: list[str] = field(default_factory=list)  # options given more than once (the CLI uses the last)


class Unreadable(Exception):
    """A part of the command mlgate cannot read for certain (a variable, a file://, malformed shorthand)."""


_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
# commands that run the words after them (their own options aside): `env AWS_REGION=x aws ...`
_RUNNERS = frozenset({"env", "command", "exec", "time", "nohup"})


@dataclass
class AwsCall:
    """An `aws sagemaker <subcommand>` command: each option with the values of each time it is given."""

    subcommand: str
    options: dict[str, list[list[str]]]
    region: str | None  # --region, else AWS_REGION or AWS_DEFAULT_REGION assigned before the command

    def last(self, name: str) -> list[str] | None:
        """The values the AWS CLI uses for `name`: those of its last occurrence."""
        given = self.options.get(name)
        return given[-1] if given else None


def _aws_call(words: list[str]) -> AwsCall | None:
    """The `aws sagemaker <subcommand> ...` command `words` runs, or None. `aws` must be the command the shell runs
    (after variable assignments and `env`): in `echo aws sagemaker ...` it is a word that echo prints."""
    start, env = 0, {}
    while start < len(words) and (_ASSIGNMENT.match(words[start]) or words[start] in _RUNNERS
                                  or (start and words[start - 1] == "env" and words[start].startswith("-"))):
        if _ASSIGNMENT.match(words[start]):
            name, _, value = words[start].partition("=")
            env[name] = value
        start += 1
    if start >= len(words) or words[start].rsplit("/", 1)[-1] != "aws":
        return None
    try:
        service = words.index("sagemaker", start)
    except ValueError:
        return None
    if service + 1 >= len(words):
        return None
    options: dict[str, list[list[str]]] = {}
    current: list[str] | None = None
    for word in words[start + 1:service] + words[service + 2:]:
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            current = [value] if eq else []
            options.setdefault(name, []).append(current)
        elif current is not None:
            current.append(word)
    call = AwsCall(words[service + 1], options, None)
    region = call.last("--region")
    call.region = region[0] if region else env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    return call


def _split_top(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside braces and brackets."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
        if char == sep and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _shorthand(value: str) -> dict[str, str]:
    entry = {}
    for part in _split_top(value, ","):
        key, eq, val = part.partition("=")
        if not eq or not key.strip():
            raise Unreadable(f"'{value}' is not AWS CLI shorthand (VariantName=<name>,DesiredWeight=<weight>)")
        entry[key.strip()] = val.strip()
    return entry


# options the AWS CLI takes once: given twice, it sends the last, which a reader of the first does not expect
_SINGLE_OPTIONS = ("--endpoint-name", "--desired-weights-and-capacities", "--region", "--profile")


def _cli_shift(call: AwsCall) -> WeightShift:
    endpoint_values = call.last("--endpoint-name")
    endpoint = endpoint_values[0] if endpoint_values else None
    repeated = [f"{name} ({', '.join(' '.join(v) for v in call.options[name])})" for name in _SINGLE_OPTIONS
                if len(call.options.get(name, [])) > 1]
    values = call.last("--desired-weights-and-capacities")
    if values is None or not values:
        return WeightShift("aws CLI", endpoint, [], call.region, repeated)
    joined = " ".join(values).strip()
    if joined.startswith("file://"):
        raise Unreadable(f"the weights come from {joined}, which mlgate does not read")
    if joined.startswith(("[", "{")):
        try:
            data = load_json(joined)
        except json.JSONDecodeError as exc:
            raise Unreadable(f"--desired-weights-and-capacities is not valid JSON: {exc.msg}") from None
        return WeightShift("aws CLI", endpoint, data if isinstance(data, list) else [data], call.region, repeated)
    return WeightShift("aws CLI", endpoint, [_shorthand(v) for v in values], call.region, repeated)


def _boto3_shift(command: str) -> WeightShift | None:
    """The boto3 call `update_endpoint_weights_and_capacities(...)` found in `command` (or in one of its shell
    words, e.g. the code of `python -c`), read with `ast` as literals only."""
    call = _find_call(command)
    if call is None:  # the code of `python -c '...'`, read without its shell quoting
        try:
            found = [w for w in shell.words(command) if _AWS_FN in w][:_MAX_CALLS]
        except ValueError:
            found = []
        call = next((c for c in map(_find_call, found) if c is not None), None)
    if call is not None:
        kwargs = {kw.arg: kw.value for kw in call.keywords if kw.arg}
        endpoint = _literal(kwargs.get("EndpointName"), "EndpointName")
        weights = _literal(kwargs.get("DesiredWeightsAndCapacities"), "DesiredWeightsAndCapacities")
        entries = weights if isinstance(weights, list) else [] if weights is None else [weights]
        return WeightShift("boto3", endpoint, entries)
    return None


# A rollback holds one call: the first few places that name the function are enough, and bound the work (1 MB of
# `update_endpoint_weights_and_capacities(` repeated took 78 s when every place was tried).
_MAX_CALLS = 8
_OPEN, _CLOSE = "([{", ")]}"
_BRACKET_OR_QUOTE = re.compile(r"[()\[\]{}'\"]")


def _find_call(text: str) -> ast.Call | None:
    """The call of `update_endpoint_weights_and_capacities` in `text`, parsed once from the function's name to its
    matching parenthesis. Used to be: every closing parenthesis tried in turn, each a parse of the text up to it
    (a 1 MB command with unbalanced parentheses took 49 s)."""
    start = text.find(_AWS_FN)
    for _ in range(_MAX_CALLS):
        if start == -1:
            return None
        end = _call_end(text, start + len(_AWS_FN))
        if end is not None:
            try:
                node = ast.parse(text[start:end], mode="eval").body
            except SyntaxError:
                node = None
            if isinstance(node, ast.Call):
                return node
        start = text.find(_AWS_FN, start + 1)
    return None


def _call_end(text: str, at: int) -> int | None:
    """The index after the parenthesis that closes the argument list opening at `at` (blanks allowed before it),
    skipping brackets and Python strings inside; None when it does not open there or never closes. One pass."""
    while at < len(text) and text[at] in " \t":
        at += 1
    if at >= len(text) or text[at] != "(":
        return None
    depth, i, n = 0, at, len(text)
    while True:
        found = _BRACKET_OR_QUOTE.search(text, i)  # jump over plain text in C
        if found is None:
            return None
        i = found.start()
        c = text[i]
        if c in "'\"":
            quote = c * 3 if text.startswith(c * 3, i) else c
            i += len(quote)
            while i < n and not text.startswith(quote, i):
                i += 2 if text[i] == "\\" else 1
            if i >= n:
                return None
            i += len(quote)
            continue
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
            if depth == 0:
                return i + 1 if c == ")" else None
        i += 1


def _literal(node: ast.expr | None, name: str) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError):
        raise Unreadable(f"{name} is {ast.unparse(node)}, not a value written out") from None


_REDEPLOY_CALL = re.compile(r"\b(?:update_endpoint|create_endpoint)\s*\(|\.deploy\s*\(")


def _redeploy(segments: list[list[str]], command: str) -> str | None:
    """How `command` redeploys the endpoint, or None."""
    for words in segments:
        aws = _aws_call(words)
        if aws and aws.subcommand in ("update-endpoint", "create-endpoint"):
            return f"aws sagemaker {aws.subcommand}"
        names = [w.rsplit("/", 1)[-1] for w in words]
        if "terraform" in names and "apply" in names:
            return "terraform apply"
        if "cdk" in names and "deploy" in names:
            return "cdk deploy"
        if "deploy" in names:
            return " ".join(names[:names.index("deploy") + 1])
    match = _REDEPLOY_CALL.search(command)
    return match.group().rstrip("( ") if match else None


def _weight(entry: dict[str, Any], key: str) -> float | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise Unreadable(f"{key} {value!r} is not a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise Unreadable(f"{key} '{value}' is not a number") from None


def _judge_shift(ctx: CheckContext, shift: WeightShift) -> Iterator[Finding]:
    endpoint = ctx.spec.serving.endpoint if ctx.spec.serving else None
    rollout = ctx.spec.rollout
    previous = rollout.previous.variant if rollout and rollout.previous else None
    new = rollout.canary.variant if rollout and rollout.canary else None
    problems = 0
    fix_cmd = (f"aws sagemaker {_AWS_SUB} --endpoint-name {endpoint or '<endpoint>'} --desired-weights-and-capacities "
               f"VariantName={previous or '<previous>'},DesiredWeight=100 VariantName={new or '<new>'},DesiredWeight=0")

    if shift.endpoint is None:
        problems += 1
        yield ctx.fail(f"the rollback command ({shift.form}) names no endpoint", at=_ROLLBACK, fix=f"write {fix_cmd}")
    elif endpoint is None:
        yield ctx.warn(f"serving.endpoint is not declared, so mlgate cannot tell whether the rollback's endpoint "
                       f"'{shift.endpoint}' is this one", at=("serving", "endpoint"),
                       fix="declare serving.endpoint")
    elif shift.endpoint != endpoint:
        problems += 1
        yield ctx.fail(f"the rollback command moves traffic on endpoint '{shift.endpoint}', but this deployment's "
                       f"endpoint is '{endpoint}'", at=_ROLLBACK, fix=f"write {fix_cmd}")
    for repeated in shift.repeated:
        problems += 1
        yield ctx.fail(f"the rollback command gives {repeated}: the AWS CLI sends the last one, which a reader of "
                       "the first does not expect", at=_ROLLBACK, fix=f"give each option once: {fix_cmd}")
    region = ctx.spec.serving.region if ctx.spec.serving else None
    if shift.region is not None and region is not None and shift.region != region:
        problems += 1
        yield ctx.fail(f"the rollback command calls Region {shift.region}, but the endpoint is in {region} "
                       "(serving.region): there it finds no such endpoint, or another one", at=_ROLLBACK,
                       fix=f"drop --region (and AWS_REGION) or give {region}")

    if not shift.entries:
        problems += 1
        yield ctx.fail("the rollback command sets no variant weights (--desired-weights-and-capacities / "
                       "DesiredWeightsAndCapacities)", at=_ROLLBACK, fix=f"write {fix_cmd}")
        return
    if previous is None:
        yield ctx.warn("rollout.previous.variant is not declared, so mlgate cannot tell whether the rollback "
                       "moves traffic to it", at=("rollout", "previous"),
                       fix="declare rollout.previous.variant, the variant that serves today")
        return

    weights: dict[str, float | None] = {}
    counts: dict[str, float | None] = {}
    for entry in shift.entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("VariantName"), str):
            raise Unreadable(f"{entry!r} does not name a VariantName")
        name = entry["VariantName"]
        if name in weights:
            problems += 1
            yield ctx.fail(f"the rollback command sets variant '{name}' twice", at=_ROLLBACK, fix=f"write {fix_cmd}")
        weight = _weight(entry, "DesiredWeight")
        if weight is not None and weight < 0:
            problems += 1
            yield ctx.fail(f"the rollback command sets DesiredWeight {weight:g} for '{name}'; SageMaker takes weights "
                           "of 0 or more", at=_ROLLBACK, fix=f"write {fix_cmd}")
            weight = 0.0
        weights[name] = weight
        counts[name] = _weight(entry, "DesiredInstanceCount")

    found = ", ".join(f"{n}={'unchanged' if w is None else f'{w:g}'}" for n, w in weights.items())
    prev_weight = weights.get(previous)
    if previous not in weights:
        problems += 1
        yield ctx.fail(f"the rollback command does not give the previous variant '{previous}' any weight (it sets "
                       f"{found})", at=_ROLLBACK, fix=f"write {fix_cmd}")
    elif prev_weight is None or prev_weight <= 0:
        problems += 1
        now = "its current weight" if prev_weight is None else "weight 0"
        yield ctx.fail(f"the rollback command leaves the previous variant '{previous}' at {now} ({found}): traffic "
                       "does not move back to it", at=_ROLLBACK, fix=f"write {fix_cmd}")
    elif counts.get(previous) == 0:
        problems += 1
        yield ctx.fail(f"the rollback command sets DesiredInstanceCount 0 for the previous variant '{previous}': it "
                       "would get the traffic with no instance to serve it", at=_ROLLBACK, fix=f"write {fix_cmd}")
    for name, weight in weights.items():
        if name == previous or weight is None or weight == 0:
            continue
        problems += 1
        role = "the new (canary) variant" if name == new else "neither the previous nor the canary variant"
        yield ctx.fail(f"the rollback command gives weight {weight:g} to '{name}', {role}: after the rollback it "
                       f"still serves traffic ({found})", at=_ROLLBACK, fix=f"write {fix_cmd}")
    if new is not None and new != previous and new not in weights:
        problems += 1
        # Variants the call does not list keep their weight (facts §2.1: weights are a ratio of all variants').
        yield ctx.fail(f"the rollback command does not set the new variant '{new}' (it sets {found}): a variant the "
                       "call leaves out keeps its current weight, so the new model goes on serving part of the "
                       "traffic", at=_ROLLBACK, fix=f"write {fix_cmd}")
    elif new is not None and weights.get(new) is None and new in weights:
        problems += 1
        yield ctx.fail(f"the rollback command lists the new variant '{new}' without a DesiredWeight, so it keeps its "
                       "current weight", at=_ROLLBACK, fix=f"write {fix_cmd}")
    if not problems:
        yield ctx.ok(f"the rollback ({shift.form} {_AWS_FN if shift.form == 'boto3' else _AWS_SUB}) moves all "
                     f"traffic on endpoint '{shift.endpoint}' to the previous variant '{previous}' ({found}): a "
                     "weight change, done in seconds", at=_ROLLBACK)


def _kept_variants(ctx: CheckContext, shift: WeightShift) -> Generator[Finding, None, bool]:
    """Whether the variants the command moves traffic to are kept by the rollout mechanism: deployment guardrails
    replace the old fleet under the same variant name, so no other variant is left to shift weight to."""
    mech, how = mechanism(ctx)
    endpoint = ctx.spec.serving.endpoint if ctx.spec.serving else None
    named = [str(e["VariantName"]) for e in shift.entries
             if isinstance(e, dict) and isinstance(e.get("VariantName"), str)]
    shown = ", ".join(f"'{n}'" for n in named) or "no variant"
    if mech == "guardrails":
        facts = load_facts()
        yield ctx.fail(f"the rollback command moves weight between variants ({shown}), but the rollout uses "
                       f"deployment guardrails ({how}): the new fleet replaces the old one under the same variant "
                       f"name ({facts.cite(facts.rollout.same_variant_name)}), so no previous variant is kept to "
                       "shift weight to", at=_ROLLBACK,
                       fix="roll back by pointing the endpoint at the previous endpoint config: `aws sagemaker "
                           f"update-endpoint --endpoint-name {endpoint or '<endpoint>'} --endpoint-config-name "
                           "<previous endpoint config>` (during the update, SageMaker rolls back on its alarms), or "
                           "set rollout.mechanism: weights and keep the previous variant in the endpoint config")
        return False
    deployed = ctx.resolved.variants if ctx.resolved is not None else None
    rollout = ctx.spec.rollout
    previous = rollout.previous.variant if rollout and rollout.previous else None
    if deployed is not None and ctx.resolved is not None and previous in named and previous not in deployed:
        listed = ", ".join(f"'{v}'" for v in deployed) or "none"
        yield ctx.fail(f"the rollback command moves the traffic to variant '{previous}', but the endpoint config the "
                       f"infrastructure code deploys ({ctx.resolved.source}) has production variants {listed}: the "
                       "command would fail, as there is no such variant to shift weight to", at=_ROLLBACK,
                       related=(ctx.resolved.config_at,) if ctx.resolved.config_at else (),
                       fix="keep the previous variant in the endpoint config beside the new one, or name a variant "
                           "it deploys")
        return False
    return True


# commands that always fail (`false && x` never runs x) or end the script (`exit; x` never runs x)
_NEVER_SUCCEED = frozenset({"false", "exit", "return"})


def _why_not_run(cmds: list[shell.Command], at: int) -> str | None:
    """Why the simple command `cmds[at]` would not run when the command line runs, or None when it runs."""
    for i in range(at):
        if cmds[i].words[0] in ("exit", "return") and _operator(cmds[i].after) in (";", ""):
            return f"`{' '.join(cmds[i].words)}` comes before it and ends the script"
    after = _operator(cmds[at].after)
    if at and after == "||":
        return f"it comes after `{' '.join(cmds[at - 1].words)} ||`, so it runs only if that command fails"
    if at and after == "&&" and cmds[at - 1].words[0].rsplit("/", 1)[-1] in _NEVER_SUCCEED:
        return f"it comes after `{' '.join(cmds[at - 1].words)} &&`, which never succeeds"
    return None


def _operator(ops: str) -> str:
    """The operator that decides whether a command runs, from those before it: `&&` in `) &&` and in `&&` then a
    line break (the list goes on), `;` for a line break alone."""
    ops = re.sub(r"(&&|\|\|)\n+", r"\1", ops).replace("(", "").replace(")", "").replace("\n", ";")
    return ops[-2:] if ops.endswith(("&&", "||")) else ops[-1:]


def _printed_not_run(cmds: list[shell.Command]) -> str | None:
    """A simple command that holds the AWS CLI call as words of another command (`echo aws sagemaker ...`)."""
    for c in cmds:
        if _aws_call(c.words) is None and _AWS_SUB in c.words and "aws" in [w.rsplit("/", 1)[-1] for w in c.words]:
            return c.words[0]
    return None


def _judge_command(ctx: CheckContext, command: str) -> Iterator[Finding]:
    kind = ctx.pattern
    # line breaks end commands (the spec keeps them in a `|` block); `\` continuations join lines
    text = _CONTINUED_LINE.sub(" ", command)
    flat = normalise(command)[0]
    cmds: list[shell.Command] | None
    try:
        cmds = shell.commands(text)
    except ValueError as exc:
        cmds, split_error = None, str(exc)
    segments = [c.words for c in cmds] if cmds is not None else None
    shift: WeightShift | None = None
    try:
        for at, cmd in enumerate(cmds or []):
            aws = _aws_call(cmd.words)
            if aws and aws.subcommand == _AWS_SUB:
                not_run = _why_not_run(cmds or [], at)
                if not_run:
                    yield ctx.fail(f"the rollback command would not run aws sagemaker {_AWS_SUB}: {not_run}",
                                   at=_ROLLBACK, fix=f"make aws sagemaker {_AWS_SUB} the command that runs")
                    return
                shift = _cli_shift(aws)
                break
        if cmds is not None and not cmds:
            yield ctx.fail("the rollback command runs nothing: it is only a comment or operators", at=_ROLLBACK,
                           fix=f"write the command, e.g. aws sagemaker {_AWS_SUB} ...")
            return
        if shift is None and cmds:
            printer = _printed_not_run(cmds)
            if printer is not None:
                yield ctx.fail(f"the rollback command does not run aws sagemaker {_AWS_SUB}: it is words given to "
                               f"`{printer}`, which does not run them", at=_ROLLBACK,
                               fix=f"make aws sagemaker {_AWS_SUB} the command that runs")
                return
        if shift is None and _AWS_FN in flat:
            try:
                shift = _boto3_shift(flat)
            except (RecursionError, MemoryError):  # a call nested deeper than Python parses
                raise Unreadable(f"the {_AWS_FN} call nests too deeply to read") from None
        if shift is not None:
            if kind == "serverless":
                # Facts §1.2: serverless endpoints exclude multiple production variants.
                yield ctx.fail("the rollback shifts weight between variants, but a serverless endpoint holds one "
                               "production variant: there is no previous variant to shift to", at=_ROLLBACK,
                               fix="roll back with `aws sagemaker update-endpoint --endpoint-name <endpoint> "
                                   "--endpoint-config-name <previous config>`")
                return
            kept = yield from _kept_variants(ctx, shift)
            if kept:
                yield from _judge_shift(ctx, shift)
            return
    except Unreadable as exc:
        yield ctx.warn(f"mlgate cannot read the rollback command: {exc}; it cannot tell whether it moves traffic to "
                       "the previous variant", at=_ROLLBACK,
                       fix="write the weights out in the command (VariantName=<previous>,DesiredWeight=100 "
                           "VariantName=<new>,DesiredWeight=0)")
        return
    if segments is None:
        yield ctx.fail(f"the rollback command cannot be split into shell words ({split_error}): it would not run "
                       "as written", at=_ROLLBACK, fix="fix the quoting of the command, in the spec and in the runbook")
        return
    redeploy = _redeploy(segments, flat)
    mech, how = mechanism(ctx)
    if redeploy and mech == "guardrails":
        yield ctx.ok(f"the rollback redeploys ({redeploy}): with deployment guardrails ({how}) the new fleet replaces "
                     "the old one under the same variant name, so once the update has ended, pointing the endpoint "
                     "back at the previous endpoint config is the rollback (during the update, SageMaker rolls back "
                     "on its alarms)", at=_ROLLBACK)
    elif redeploy and kind == "serverless":
        yield ctx.ok(f"the rollback redeploys ({redeploy}): a serverless endpoint holds one variant, so pointing it "
                     "back at the previous endpoint config is the rollback", at=_ROLLBACK)
    elif redeploy:
        yield ctx.warn(f"the rollback redeploys the endpoint ({redeploy}): that takes minutes, while moving the weight "
                       "back to the warm previous variant takes seconds", at=_ROLLBACK,
                       fix=f"roll back with aws sagemaker {_AWS_SUB}, giving the previous variant all the weight")
    else:
        yield ctx.warn("mlgate cannot tell whether the rollback command moves traffic to the previous variant (it is "
                       f"not aws sagemaker {_AWS_SUB} nor boto3 {_AWS_FN})", at=_ROLLBACK,
                       fix=f"write the rollback as aws sagemaker {_AWS_SUB}, or waive OPS003 once the script has been "
                           "reviewed")


def rollback_endpoint(command: str) -> str | None:
    """The endpoint a rollback command names, when it names one by a literal (`--endpoint-name fraud-scorer`, or
    `EndpointName="fraud-scorer"` in a boto3 call); None for a variable, a placeholder or anything unreadable."""
    flat = normalise(command)[0]
    try:
        cmds = shell.commands(_CONTINUED_LINE.sub(" ", command))
        shift = next((_cli_shift(aws) for cmd in cmds if (aws := _aws_call(cmd.words))
                      and aws.subcommand == _AWS_SUB), None)
        if shift is None and _AWS_FN in flat:
            shift = _boto3_shift(flat)
    except (Unreadable, ValueError, RecursionError, MemoryError):
        return None
    name = shift.endpoint if shift is not None else None
    # a SageMaker endpoint name: letters, digits and hyphens (not $VAR, <endpoint> or a quoted expression)
    return name if isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9](?:-*[A-Za-z0-9]){0,62}", name) else None


def check(ctx: CheckContext) -> Iterator[Finding]:
    """The runbook in the repo holds the rollback command, and the command moves traffic back to the previous
    variant of this endpoint."""
    ops = ctx.spec.operations
    runbook = ops.runbook if ops else None
    command = ops.rollback if ops else None
    if not runbook or not runbook.strip():
        yield ctx.fail("operations.runbook is not set: the on-call engineer has no page to follow",
                       at=(*_OPS, "runbook"),
                       fix="commit a runbook (e.g. docs/runbook.md) with the rollback command and name it in "
                           "operations.runbook")
        return
    path = ctx.resolve(runbook)
    rel = ctx.workspace.rel(path)
    if not path.exists():
        yield ctx.fail(f"runbook {rel} does not exist", at=(*_OPS, "runbook"),
                       fix="commit the runbook at that path, or correct operations.runbook")
        return
    if path.is_dir():
        yield ctx.fail(f"runbook {rel} is a directory, not a file", at=(*_OPS, "runbook"),
                       fix="name the runbook file itself")
        return
    try:
        text = ctx.workspace.read_text(path)
    except EvidenceError as exc:
        yield ctx.fail(f"runbook {rel} {exc.message}: mlgate reads runbooks as text (Markdown, reStructuredText)",
                       at=(*_OPS, "runbook"), fix="keep the runbook as a text file in the repo")
        return
    try:
        if not ctx.workspace.git.is_tracked(rel):
            yield ctx.warn(f"runbook {rel} is not committed: CI and the on-call engineer will not have it",
                           at=(*_OPS, "runbook"), fix=f"git add {rel}")
    except EvidenceError:
        pass  # not a git work tree: nothing to say about tracking
    if not command or not command.strip():
        yield ctx.fail("operations.rollback is not set: write down the command that rolls back, so nobody composes "
                       "it under pressure", at=_ROLLBACK,
                       fix=f"write the command, e.g. aws sagemaker {_AWS_SUB} --endpoint-name <endpoint> "
                           "--desired-weights-and-capacities VariantName=<previous>,DesiredWeight=100 "
                           "VariantName=<new>,DesiredWeight=0, and put the same command in the runbook")
        return
    text = without_html_comments(text)  # a command in <!-- --> is not shown to the reader of the runbook
    line = find_command(text, command)
    if line is None:
        near = _nearest_line(text, command)
        hint = f"; line {near[0]} has a different command: {near[1][:160]}" if near else ""
        yield ctx.fail(f"runbook {rel} does not contain the rollback command in operations.rollback{hint}",
                       at=ctx.file(rel, near[0]) if near else _ROLLBACK,
                       fix="copy operations.rollback into the runbook exactly (line breaks and `\\` continuations "
                           "may differ), or correct the spec")
    else:
        yield ctx.ok(f"runbook {rel}:{line} contains the rollback command", at=ctx.file(rel, line))
    if ctx.pattern == "batch":
        yield ctx.ok("serving.pattern is batch: a batch job has no endpoint variants, so the command is not judged "
                     "as a traffic shift", at=_ROLLBACK)
        return
    yield from _judge_command(ctx, command)
