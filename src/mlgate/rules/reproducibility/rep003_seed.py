"""REP003: the seed is recorded where training reads it, and the training code seeds its RNGs.

`provenance.seed.value` must equal the value at `provenance.seed.source` (`file#dotted.key`, read with the
parser of the file's format). The Python files under `provenance.code.paths` are scanned with ast (never
imported or run) for seeding calls, following import aliases; a pass lists where they are.

Decisions worth knowing:
- A source value written as text ("1234", as INI and .env values always are) equals the number 1234.
- No seeding call in the training code warns rather than fails: the seed may be set by a helper outside
  `code.paths`. A seeding call without a seed (`random.seed()`, `np.random.default_rng()`,
  `random_state=None`) warns: it seeds from the operating system, differently on every run.
- A call that seeds with an integer literal other than the recorded seed warns: the recorded seed is not the
  one that generator used.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from pydantic import Field

from mlgate.checks import CheckContext
from mlgate.errors import EvidenceError
from mlgate.evidence.seeds import (
    FileScan,
    Scan,
    SeedCall,
    SeedSourceError,
    SeedValue,
    as_seed,
    live_calls,
    scan_file,
    seed_from_document,
    seed_from_text,
    source_format,
)
from mlgate.result import Finding
from mlgate.rules.params import Number, RuleParams
from mlgate.yamlload import PathT


class Params(RuleParams):
    # the bound after Number's own check (Field(ge=1) would run first and call nan "not >= 1")
    max_files: Annotated[Number, Field(ge=1)] = Field(2000, description="at most this many Python files under "
                                                                  "code.paths are scanned for seeding calls")


_AT_SEED: PathT = ("provenance", "seed")
_AT_PATHS: PathT = ("provenance", "code", "paths")
_LIST = 6  # calls shown in a pass message before "and N more"
# One line: every report shows a fix on one line (a newline would print as a literal \n)
_EXAMPLE = "`seed: {value: 1234, source: train/config.yaml#training.seed}`"


def check(ctx: CheckContext) -> Iterator[Finding]:
    """REP003: the recorded seed equals the value at its source, and the training code seeds its RNGs."""
    prov = ctx.spec.provenance
    seed = prov.seed if prov else None
    if seed is None:
        yield ctx.fail("no seed is recorded (provenance.seed): a retrain cannot reproduce this model", at=_AT_SEED,
                       fix=f"add under provenance: {_EXAMPLE}, the seed training uses and the file#key it reads "
                           "it from")
    else:
        yield from _value(ctx, seed.value, seed.source)
    yield from _scan(ctx, seed.value if seed else None)


def _value(ctx: CheckContext, value: int | None, source: str | None) -> Iterator[Finding]:
    if source is None:
        yield ctx.fail("provenance.seed has no source: nothing shows that training uses the recorded seed",
                       at=(*_AT_SEED, "source"),
                       fix="add `source: <file>#<dotted.key>`, the config value or constant training reads")
        if value is None:
            yield ctx.fail("provenance.seed has no value", at=(*_AT_SEED, "value"), fix="add `value: <the seed>`")
        return
    file_part, _, key = source.partition("#")
    key_or_none = key or None
    at_source = (*_AT_SEED, "source")
    if not file_part:
        yield ctx.fail(f"seed source '{source}' names no file", at=at_source,
                       fix="write it as <file>#<dotted.key>, relative to the spec")
        return
    path = ctx.resolve(file_part)
    rel = ctx.workspace.rel(path)
    fmt = source_format(path.name)
    if fmt is None:
        yield ctx.fail(f"seed source {rel} is not a format mlgate reads a seed from (YAML, JSON, TOML, INI/.cfg, "
                       ".env, a Python module, or a .txt holding the seed alone)", at=at_source)
        return
    if not path.is_file():
        yield ctx.fail(f"seed source {rel} {'is not a regular file' if path.exists() else 'does not exist'}",
                       at=at_source,
                       fix="point seed.source at the file training reads the seed from")
        return
    try:
        if fmt == "yaml":
            if key_or_none is None:
                raise SeedSourceError("needs a key: write the source as file#dotted.key")
            found = seed_from_document(ctx.workspace.read_yaml(path), key_or_none)
        else:
            found = seed_from_text(fmt, ctx.workspace.read_text(path), key_or_none)
    except SeedSourceError as exc:
        yield ctx.fail(f"seed source {rel} {exc.message}", at=at_source if exc.line is None else
                       ctx.file(rel, exc.line), fix="point seed.source at the key that holds the seed")
        return
    yield from _compare(ctx, value, found, rel, key_or_none)


def _compare(ctx: CheckContext, value: int | None, found: SeedValue, rel: str, key: str | None) -> Iterator[Finding]:
    where = f"{rel}:{found.line}" + (f" ({key})" if key else "")
    held = as_seed(found.value)
    if held is None:
        yield ctx.fail(f"{where} holds {found.written}, which is not an integer seed", at=ctx.file(rel, found.line),
                       fix="store the seed as an integer")
        return
    if value is None:
        yield ctx.fail(f"provenance.seed has no value; {where} holds {held}", at=(*_AT_SEED, "value"),
                       fix=f"add `value: {held}` under provenance.seed")
        return
    if held != value:
        yield ctx.fail(f"seed.value is {value} but {where} holds {held}: the recorded seed is not the one training "
                       "reads", at=(*_AT_SEED, "value"),
                       fix=f"set seed.value to {held} if that is the seed the artifact was trained with, or fix "
                           f"{rel}")
        return
    yield ctx.ok(f"seed {value} matches {where}", at=ctx.file(rel, found.line))


# -- the training code --------------------------------------------------------------------------------------------

def _python_files(ctx: CheckContext, roots: list[tuple[int, str]], limit: int) -> Iterator[Finding | Path]:
    """The Python files under code.paths (yields findings for paths that do not exist), at most `limit`."""
    count = 0
    for i, written in roots:
        target = ctx.resolve(written)
        if not target.exists():
            yield ctx.warn(f"code path {ctx.workspace.rel(target)} does not exist, so it cannot be scanned for "
                           "seeding calls", at=(*_AT_PATHS, i), fix="list the directories that hold the training code")
            continue
        for path in ctx.workspace.python_files(target):
            count += 1
            if count > limit:
                yield ctx.warn(f"more than {limit} Python files under code.paths; only the first {limit} were "
                               "scanned for seeding calls", at=_AT_PATHS,
                               fix="narrow code.paths to the training code, or raise the max_files parameter")
                return
            yield path


def _scan(ctx: CheckContext, value: int | None) -> Iterator[Finding]:
    code = ctx.spec.provenance.code if ctx.spec.provenance else None
    if code is None or not code.paths:
        yield ctx.warn("provenance.code.paths is empty, so nothing shows that the training code seeds its random "
                       "number generators", at=_AT_PATHS if code else ("provenance", "code"),
                       fix="list the training code under provenance.code.paths, e.g. [train/]")
        return
    params: Params = ctx.params
    scan = Scan()
    files: list[FileScan] = []
    for item in _python_files(ctx, list(enumerate(code.paths)), int(params.max_files)):
        if isinstance(item, Finding):
            yield item
            continue
        rel = ctx.workspace.rel(item)
        try:
            text = ctx.workspace.read_text(item)
            files.append(scan_file(rel, text))
        except EvidenceError as exc:
            scan.skipped.append((rel, exc.message))
            continue
        except SyntaxError as exc:
            scan.skipped.append((f"{rel}:{exc.lineno or 1}", f"does not parse: {exc.msg}"))
            continue
        scan.files.append(rel)
    scan.calls, uncalled = live_calls(files)
    yield from _judge(ctx, scan, value, ", ".join(code.paths), uncalled)


def _judge(ctx: CheckContext, scan: Scan, value: int | None, paths: str,
           uncalled: list[SeedCall]) -> Iterator[Finding]:
    for where, why in scan.skipped:
        yield ctx.warn(f"{where} was not scanned for seeding calls: it {why}", at=ctx.file(*_split(where)))
    seeded = [c for c in scan.calls if c.seeded]
    for call in scan.calls:
        at = ctx.file(call.file, call.line)
        if not call.seeded:
            yield ctx.warn(f"{call.show()} at {call.file}:{call.line} is not given a seed: {call.library} draws "
                           "from the operating system, a different sequence on every run", at=at,
                           fix="pass the recorded seed")
        elif value is not None and call.literal is not None and call.literal != value:
            yield ctx.warn(f"{call.show()} at {call.file}:{call.line} seeds {call.library} with {call.literal}, "
                           f"not the recorded seed {value}", at=at,
                           fix="seed with the value read from seed.source, or record the seed actually used")
    files = len(scan.files)
    scanned = f"{files} Python file{'s' if files != 1 else ''} under {paths}"
    if uncalled:
        where = ", ".join(f"{c.file}:{c.line} in {'.'.join(c.scope)}()" for c in uncalled[:_LIST])
        scanned += (f"; not counted: {len(uncalled)} seeding call{'s' if len(uncalled) != 1 else ''} in functions "
                    f"nothing calls ({where})")
    if not seeded:
        yield ctx.warn(f"no seeding call found in {scanned}: each run may train a different model",
                       at=_AT_PATHS,
                       fix="seed every generator at the start of training with the recorded seed, e.g. "
                           "`random.seed(seed)`, `np.random.seed(seed)`, `torch.manual_seed(seed)` or "
                           "`lightning.seed_everything(seed)`, and `random_state=seed` for scikit-learn")
        return
    shown = [f"{c.file}:{c.line} {c.show()}" for c in seeded[:_LIST]]
    more = f" and {len(seeded) - _LIST} more" if len(seeded) > _LIST else ""
    libraries = ", ".join(dict.fromkeys(c.library for c in seeded))
    yield ctx.ok(f"the training code seeds {libraries} ({scanned}): {'; '.join(shown)}{more}",
                 at=ctx.file(seeded[0].file, seeded[0].line))


def _split(where: str) -> tuple[str, int]:
    path, _, line = where.rpartition(":")
    return (path, int(line)) if path and line.isascii() and line.isdigit() and len(line) < 10 else (where, 1)
