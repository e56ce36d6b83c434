"""The bundled examples as real git repositories of their own, for the tests that run mlgate as users do (the
GitHub Action, the pre-commit hook).

A copy of an example starts a new history, so the commit the example records as the one training ran from is not
in it. `ready_repo` does what the training job does: it commits the example, records that commit
(provenance.code.commit) and writes the artifact's provenance manifest for it with `mlgate.manifest.write`, then
commits the spec and the manifest.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from mlgate.manifest import FRAMEWORKS, load, write
from mlgate.spec.load import load_spec
from tests.conftest import Repo

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DEFAULT_MANIFEST = "models/manifest.json"


def example_repo(root: Path, example: str) -> Repo:
    shutil.copytree(EXAMPLES / example, root, ignore=shutil.ignore_patterns("__pycache__"))
    repo = Repo(root)
    repo.commit("the model repository")
    return repo


def _set(spec: str, section: str, key: str, value: str) -> str:
    """Set `provenance.<section>.<key>` in the spec's text (the example's layout: two-space indents)."""
    existing = re.compile(rf"^(  {section}:\n(?:    .*\n)*?    {key}:).*$", re.MULTILINE)
    if existing.search(spec):
        return existing.sub(rf"\g<1> {value}", spec, count=1)
    head = re.compile(rf"^  {section}:\n", re.MULTILINE)
    assert head.search(spec), f"the example has no provenance.{section}"
    return head.sub(f"  {section}:\n    {key}: {value}\n", spec, count=1)


def _locked_frameworks(lockfile: Path) -> dict[str, str]:
    """The ML libraries a pip-compiled lockfile pins: what the training environment had installed."""
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", lockfile.read_text(encoding="utf-8"), re.MULTILINE)
    return {name.lower(): version for name, version in pins if name.lower() in FRAMEWORKS}


def ready_repo(root: Path) -> Repo:
    repo = example_repo(root, "ready")
    spec_file = root / "mlgate.yaml"
    head = repo.git("rev-parse", "HEAD")
    spec = _set(spec_file.read_text(encoding="utf-8"), "code", "commit", head)
    artifact = load_spec(spec_file, root=root).spec.provenance
    art = artifact.artifact if artifact else None
    if art is not None and art.sha256:
        manifest = art.manifest or DEFAULT_MANIFEST
        spec = _set(spec, "artifact", "manifest", manifest)
        spec_file.write_text(spec, encoding="utf-8")
        old = root / manifest
        frameworks = load(old).frameworks if old.is_file() else _locked_frameworks(root / "requirements.txt")
        write(spec=spec_file, sha256=art.sha256, commit=head, frameworks=frameworks, detect=False)
    else:
        spec_file.write_text(spec, encoding="utf-8")
    repo.commit("record the training commit and the artifact's manifest")
    return repo
