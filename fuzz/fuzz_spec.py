"""Coverage-guided fuzzing of the spec loader and the Markdown escapers: any bytes as mlgate.yaml give a spec or a
UsageError, nothing else; any text through the escapers renders as written and nothing more.

    python fuzz/fuzz_spec.py                          atheris (libFuzzer), 60 seconds, seeded from fuzz/corpus
    python fuzz/fuzz_spec.py -max_total_time=600      ten minutes (any libFuzzer flag works: -jobs, -timeout ...)
    python fuzz/fuzz_spec.py --hypothesis 600         without atheris: hypothesis mutates the corpus for 600 s

The target writes the bytes to `mlgate.yaml` in a scratch repository and calls `load_spec`, the function
`mlgate check` uses: the file read (size limit, UTF-8, BOM, binary), the YAML composer and our node builder
(tags, aliases, duplicate and merge keys, depth), the pydantic models and the confinement of every path the spec
names. The same text also goes through the CloudFormation flavour of the YAML loader, and through the escapers of
the Markdown report (`md_escape`, `md_code`, `md_text`, in prose and in table cells): rendered by markdown-it-py
(CommonMark with GFM tables), each must read exactly as the text written (the text of `md_code`'s span, the text
of an escaped paragraph or cell) and add no element but code spans. An exception other than UsageError (YamlError
for the CloudFormation parse) or a broken escaper is a crash: libFuzzer stops and writes the input to crash-*.
A slow input is a crash too (-timeout, 10 s here): the escapers are linear, so a slow one is a bug.

New inputs that reach new code go to a scratch copy of the corpus; fuzz/corpus itself is only read.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
DICTIONARY = HERE / "spec.dict"


class Target:
    """`load_spec` on a file of a scratch repository (a `.git` directory marks its root)."""

    def __init__(self) -> None:
        from mlgate.errors import UsageError
        from mlgate.spec.load import load_spec
        from mlgate.yamlload import YamlError, parse_yaml

        self.usage_error, self.yaml_error = UsageError, YamlError
        self.load_spec, self.parse_yaml = load_spec, parse_yaml
        self.markdown = Escapers()
        self.root = Path(tempfile.mkdtemp(prefix="mlgate-fuzz-"))
        (self.root / ".git").mkdir()
        (self.root / "models").mkdir()
        self.file = self.root / "models" / "mlgate.yaml"

    def __call__(self, data: bytes) -> None:
        self.file.write_bytes(data)
        try:
            loaded = self.load_spec(self.file, root=self.root)
        except self.usage_error as exc:
            str(exc)  # the message is built (and must not fail) for every error
        else:
            assert loaded.spec.version == 1
        text = data.decode("utf-8", "replace")
        with contextlib.suppress(self.yaml_error):
            self.parse_yaml(text, cfn_tags=True)
        self.markdown.check(text[:ESCAPED_CHARS])

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


ESCAPED_CHARS = 512  # of each input, through the escapers (rendering is the slow part; short inputs find the bugs)


class Escapers:
    """The Markdown report's escapers on any text, checked against a real CommonMark + GFM renderer."""

    def __init__(self) -> None:
        from html.parser import HTMLParser

        from markdown_it import MarkdownIt

        from mlgate.textsafe import md_code, md_escape, md_text, one_line

        self.md_code, self.md_escape, self.md_text, self.one_line = md_code, md_escape, md_text, one_line
        self.renderer = MarkdownIt("commonmark").enable(["table", "strikethrough"])
        self.parser_class = HTMLParser

    def _read(self, markdown: str) -> tuple[list[str], list[str], list[str]]:
        """(the elements, the text of each code span, the text of each paragraph or cell) of the rendered HTML."""
        tags: list[str] = []
        codes: list[str] = []
        blocks: list[str] = []
        current: list[str] = []

        class Reader(self.parser_class):  # type: ignore[name-defined,misc]
            def handle_starttag(self, tag: str, attrs: object) -> None:
                tags.append(tag)
                if tag == "code":
                    codes.append("")
                elif tag in ("p", "td", "th"):
                    current.clear()

            def handle_endtag(self, tag: str) -> None:
                tags.append("/" + tag)
                if tag in ("p", "td", "th"):
                    blocks.append("".join(current))
                    current.clear()

            def handle_data(self, data: str) -> None:
                current.append(data)
                if tags and tags[-1] == "code":
                    codes[-1] += data

        Reader(convert_charrefs=True).feed(self.renderer.render(markdown))
        return tags, codes, blocks

    def check(self, text: str) -> None:
        flat = self.one_line(text)
        escaped = self.md_escape(text)
        assert "\n" not in escaped and "\r" not in escaped, escaped
        tags, _, blocks = self._read("x " + escaped)
        assert [t for t in tags if t not in ("code", "/code")] == ["p", "/p"], (text, escaped, tags)
        assert blocks == [("x " + flat.strip()).rstrip()], (text, escaped, blocks)
        if flat:
            span = self.md_code(text)
            tags, codes, _ = self._read("x " + span)
            assert tags == ["p", "code", "/code", "/p"] and codes == [flat], (text, span, codes)
        cell = self.md_escape(text, table=True)
        _, _, blocks = self._read(f"| a |\n| - |\n| {cell} |\n")
        assert blocks == ["a", flat.strip()], (text, cell, blocks)
        if "`" not in flat:  # md_text reads backtick pairs as code spans; without them it is md_escape
            assert self._read("x " + self.md_text(text))[2] == self._read("x " + escaped)[2], text


def run_atheris(argv: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["mlgate", "yaml", "pydantic"]):
        target = Target()
    flags = [a for a in argv[1:] if a.startswith("-")]
    dirs = [a for a in argv[1:] if not a.startswith("-")]
    if not dirs:  # a writable scratch corpus first (libFuzzer adds to the first directory), then the seeds
        scratch = Path(tempfile.mkdtemp(prefix="mlgate-corpus-"))
        dirs = [str(scratch), str(CORPUS)]
    if not any(f.startswith("-max_total_time") or f.startswith("-runs") for f in flags):
        flags.append("-max_total_time=60")
    if not any(f.startswith("-timeout") for f in flags):
        flags.append("-timeout=10")
    if DICTIONARY.is_file() and not any(f.startswith("-dict") for f in flags):
        flags.append(f"-dict={DICTIONARY}")
    atheris.Setup([argv[0], *flags, *dirs], target)
    atheris.Fuzz()


def run_hypothesis(seconds: float) -> None:
    """Without atheris: hypothesis mutates the seed corpus (byte flips, splices, inserted YAML tokens)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    seeds = [p.read_bytes() for p in sorted(CORPUS.iterdir()) if p.is_file()]
    tokens = [line.split("=", 1)[-1].strip().strip('"').encode().decode("unicode_escape").encode("latin-1")
              for line in DICTIONARY.read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.startswith("#")] if DICTIONARY.is_file() else [b":", b"-", b"&a", b"*a"]

    @st.composite
    def mutated(draw: st.DrawFn) -> bytes:
        data = bytearray(draw(st.sampled_from(seeds)))
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(data)))
            kind = draw(st.sampled_from(["insert", "delete", "flip", "token", "splice"]))
            if kind == "insert":
                data[at:at] = draw(st.binary(min_size=1, max_size=8))
            elif kind == "delete":
                del data[at:at + draw(st.integers(1, 16))]
            elif kind == "flip" and data:
                data[min(at, len(data) - 1)] ^= 1 << draw(st.integers(0, 7))
            elif kind == "token":
                data[at:at] = draw(st.sampled_from(tokens))
            else:
                other = draw(st.sampled_from(seeds))
                start = draw(st.integers(0, len(other)))
                data[at:at] = other[start:start + draw(st.integers(1, 200))]
        return bytes(data)

    target = Target()
    deadline = time.monotonic() + seconds
    runs = 0

    @settings(max_examples=500, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(mutated())
    def fuzz(data: bytes) -> None:
        nonlocal runs
        runs += 1
        target(data)

    try:
        while time.monotonic() < deadline:  # batches of 500 fresh inputs; a crash is shrunk and re-raised
            fuzz()
    finally:
        target.close()
    print(f"hypothesis: {runs} inputs in {seconds:.0f} s, no crash")


def main(argv: list[str]) -> None:
    sys.setrecursionlimit(1000)  # the interpreter default: a crash found here is one a user can hit
    if len(argv) > 1 and argv[1] == "--hypothesis":
        run_hypothesis(float(argv[2]) if len(argv) > 2 else 60.0)
        return
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("atheris is not installed: fuzzing with hypothesis instead (pip install atheris for coverage "
              "guidance)", file=sys.stderr)
        run_hypothesis(60.0)
        return
    run_atheris(argv)


if __name__ == "__main__":
    main(sys.argv)
