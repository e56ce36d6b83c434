"""REP003 seed recorded: the value at seed.source, and the seeding calls in the training code (read by ast)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import Repo, messages

Cli = Callable[..., tuple[int, str, str]]

TRAIN = """\
import random

import numpy as np
import torch


def main(config):
    seed = config["training"]["seed"]
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
"""


def spec(source: str = "train/config.yaml#training.seed", value: int | str = 1234,
         paths: str = "[train/]") -> str:
    return f"version: 1\nprovenance:\n  code:\n    paths: {paths}\n  seed:\n    value: {value}\n    source: {source}\n"


def setup(repo: Repo, *, source_file: str = "train/config.yaml", source_text: str = "training:\n  seed: 1234\n",
          train: str = TRAIN, **spec_args: str | int) -> None:
    repo.write(source_file, source_text)
    repo.write("train/train.py", train)
    repo.write("mlgate.yaml", spec(**spec_args))  # type: ignore[arg-type]
    repo.commit("train")


def test_a_recorded_seed_that_training_reads_and_uses_passes(repo: Repo) -> None:
    setup(repo)
    result = repo.rule("REP003")
    assert result.status == "pass", messages(result)
    value, calls = result.findings
    assert value.message == "seed 1234 matches train/config.yaml:2 (training.seed)"
    assert value.location is not None and (value.location.path, value.location.line) == ("train/config.yaml", 2)
    assert calls.message == (
        "the training code seeds Python random, NumPy, PyTorch (1 Python file under train/): "
        "train/train.py:9 random.seed(seed); train/train.py:10 numpy.random.seed(seed); "
        "train/train.py:11 torch.manual_seed(seed)")


def test_a_seed_mismatch_fails_with_both_values(repo: Repo) -> None:
    setup(repo, value=42)
    result = repo.rule("REP003")
    assert result.status == "fail"
    fail = result.findings[0]
    assert fail.message == "seed.value is 42 but train/config.yaml:2 (training.seed) holds 1234: the recorded seed " \
                           "is not the one training reads"
    assert fail.location is not None and (fail.location.path, fail.location.line) == ("mlgate.yaml", 6)
    assert fail.remediation is not None and "set seed.value to 1234" in fail.remediation


SOURCES = [
    ("params.json", '{\n  "training": {\n    "seed": 1234,\n    "lr": 0.1\n  }\n}\n', "training.seed", 3),
    ("train.toml", '[model]\nseed = 7\n\n[training]\nepochs = 3\nseed = 1234\n', "training.seed", 6),
    ("setup.cfg", "[metadata]\nname = x\n\n[train]\nseed = 1234\n", "train.seed", 5),
    ("train.ini", "[tool.train]\nseed: 1234\n", "tool.train.seed", 2),
    (".env", "# secrets elsewhere\nexport SEED='1234'\nLR=0.1\n", "SEED", 2),
    ("constants.py", '"""Training constants."""\n\nSEED: int = 1234\n', "SEED", 3),
    ("constants.py", "BASE = 1234\nSEED = BASE\n", "SEED", 2),
    ("constants.py", 'CONFIG = {\n    "lr": 0.1,\n    "seed": 1234,\n}\n', "CONFIG.seed", 3),
    ("constants.py", "class Config:\n    lr = 0.1\n    seed = 1234\n", "Config.seed", 3),
    ("constants.py", "CONFIG = dict(\n    seed=1234,\n)\n", "CONFIG.seed", 2),
    ("seeds.yaml", "runs:\n  - seed: 99\n  - seed: 1234\n", "runs.1.seed", 3),
    ("seed.txt", "1234\n", None, 1),
]


@pytest.mark.parametrize(("name", "text", "key", "line"), SOURCES, ids=[f"{s[0]}#{s[2]}" for s in SOURCES])
def test_each_source_format_is_read_with_its_parser(repo: Repo, name: str, text: str, key: str | None,
                                                    line: int) -> None:
    source = f"train/{name}" + (f"#{key}" if key else "")
    setup(repo, source_file=f"train/{name}", source_text=text, source=source)
    result = repo.rule("REP003")
    assert result.status == "pass", messages(result)
    found = result.findings[0]
    assert found.message.startswith(f"seed 1234 matches train/{name}:{line}")
    assert found.location is not None and found.location.line == line


@pytest.mark.parametrize(("name", "text", "key", "fragment"), [
    ("config.yaml", "training:\n  lr: 0.1\n  epochs: 3\n", "training.seed",
     "train/config.yaml has no key 'training.seed' (keys at 'training': lr, epochs)"),
    ("config.yaml", "seed: 1234\n", None, "train/config.yaml needs a key: write the source as file#dotted.key"),
    ("config.yaml", "seed: abc\n", "seed", "train/config.yaml:1 (seed) holds 'abc', which is not an integer seed"),
    ("config.yaml", "seed: true\n", "seed", "holds True, which is not an integer seed"),
    ("params.json", '{"seed": 1234', "seed", "train/params.json is not valid JSON"),
    ("setup.cfg", "[train]\nlr = 1\n", "train.seed", "train/setup.cfg has no option 'seed' in [train]"),
    ("setup.cfg", "[train]\nseed = 1\n", "model.seed", "train/setup.cfg has no section [model] (sections: train)"),
    (".env", "LR=0.1\n", "SEED", "train/.env does not set SEED"),
    ("constants.py", "import os\nSEED = int(os.environ.get('SEED', 1234))\n", "SEED",
     "sets SEED to `int(os.environ.get('SEED', 1234))`, which is computed when the code runs"),
    ("constants.py", "def seed():\n    return 1\n", "SEED",
     "train/constants.py does not assign 'SEED' at module level"),
    ("constants.py", "SEED = (\n", "SEED", "train/constants.py is not valid Python"),
    ("seed.md", "1234\n", None, "train/seed.md is not a format mlgate reads a seed from"),
])
def test_a_source_that_does_not_hold_the_seed_fails(repo: Repo, name: str, text: str, key: str | None,
                                                    fragment: str) -> None:
    source = f"train/{name}" + (f"#{key}" if key else "")
    setup(repo, source_file=f"train/{name}", source_text=text, source=source)
    result = repo.rule("REP003")
    assert result.status == "fail"
    assert fragment in messages(result)


def test_a_source_file_that_does_not_exist(repo: Repo) -> None:
    setup(repo, source="train/params.yaml#seed")
    result = repo.rule("REP003")
    assert result.status == "fail"
    assert "seed source train/params.yaml does not exist" in messages(result)


@pytest.mark.parametrize(("seed", "fragments"), [
    (None, ["no seed is recorded (provenance.seed)"]),
    ("  seed:\n    value: 1234\n", ["provenance.seed has no source"]),
    ("  seed:\n    source: train/config.yaml#training.seed\n",
     ["provenance.seed has no value; train/config.yaml:2 (training.seed) holds 1234"]),
])
def test_an_incomplete_seed_record(repo: Repo, seed: str | None, fragments: list[str]) -> None:
    repo.write("train/config.yaml", "training:\n  seed: 1234\n")
    repo.write("train/train.py", TRAIN)
    repo.write("mlgate.yaml", "version: 1\nprovenance:\n  code:\n    paths: [train/]\n" + (seed or ""))
    repo.commit("spec")
    result = repo.rule("REP003")
    assert result.status == "fail"
    for fragment in fragments:
        assert fragment in messages(result)


def test_the_fix_for_a_missing_seed_reads_on_one_line_in_text_and_markdown(repo: Repo, cli: Cli) -> None:
    """Repro: the fix printed a literal `\\n` in the text and Markdown reports."""
    repo.write("train/train.py", TRAIN)
    repo.write("mlgate.yaml", "version: 1\nprovenance:\n  code:\n    paths: [train/]\n")
    repo.commit("spec")
    fix = ("add under provenance: `seed: {value: 1234, source: train/config.yaml#training.seed}`, the seed training "
           "uses and the file#key it reads it from")
    (fail,) = [f for f in repo.rule("REP003").findings if f.status == "fail"]
    assert fail.remediation == fix
    for fmt in ("text", "markdown"):
        code, out, err = cli("check", str(repo.root), "--select", "REP003", "--format", fmt)
        assert code == 1, err
        assert "\\n" not in out, out
    assert "fix: " + fix in cli("check", str(repo.root), "--select", "REP003")[1]


# -- the training code -------------------------------------------------------------------------------------------

ALIASES = [
    ("import numpy as np\nnp.random.seed(s)\n", "numpy.random.seed(s)"),
    ("from numpy import random as npr\nnpr.seed(s)\n", "numpy.random.seed(s)"),
    ("from numpy.random import default_rng\nrng = default_rng(s)\n", "numpy.random.default_rng(s)"),
    ("import numpy\nrng = numpy.random.Generator(numpy.random.PCG64(s))\n", "numpy.random.PCG64(s)"),
    ("from torch import manual_seed as ms\nms(s)\n", "torch.manual_seed(s)"),
    ("import torch.cuda\ntorch.cuda.manual_seed_all(s)\n", "torch.cuda.manual_seed_all(s)"),
    ("import torch\ng = torch.Generator().manual_seed(s)\n", "torch.Generator().manual_seed(s)"),
    ("import tensorflow as tf\ntf.random.set_seed(s)\n", "tensorflow.random.set_seed(s)"),
    ("import tensorflow as tf\ntf.keras.utils.set_random_seed(s)\n", "keras.utils.set_random_seed(s)"),
    ("from keras.utils import set_random_seed\nset_random_seed(s)\n", "keras.utils.set_random_seed(s)"),
    ("from transformers import set_seed\nset_seed(s)\n", "transformers.set_seed(s)"),
    ("import transformers\nargs = transformers.TrainingArguments(output_dir='o', seed=s)\n",
     "transformers.TrainingArguments(..., seed=s)"),
    ("import pytorch_lightning as pl\npl.seed_everything(s)\n", "lightning.pytorch.seed_everything(s)"),
    ("from lightning.pytorch import seed_everything\nseed_everything(s)\n", "lightning.pytorch.seed_everything(s)"),
    ("import lightning as L\nL.seed_everything(seed=s)\n", "lightning.seed_everything(s)"),
    ("from sklearn.ensemble import RandomForestClassifier as RF\nRF(n_estimators=10, random_state=s)\n",
     "sklearn.ensemble.RandomForestClassifier(..., random_state=s)"),
    ("import random as rnd\nrnd.seed(s)\n", "random.seed(s)"),
    ("from torch import *\nmanual_seed(s)\n", "torch.manual_seed(s)"),
    ("def main(s):\n    import jax\n    key = jax.random.PRNGKey(s)\n", "jax.random.PRNGKey(s)"),
]


@pytest.mark.parametrize(("code", "shown"), ALIASES, ids=[a[1] for a in ALIASES])
def test_seeding_calls_are_found_through_import_aliases(repo: Repo, code: str, shown: str) -> None:
    setup(repo, train=code)
    result = repo.rule("REP003")
    assert result.status == "pass", messages(result)
    assert f"train/train.py:{code.count(chr(10))} {shown}" in result.findings[-1].message


@pytest.mark.parametrize("code", [
    "import numpy as np\nx = np.random.rand(3)\n",
    "def seed(s):\n    pass\nseed(1234)\n",  # a local function named like a seeder: not an RNG
    "import mylib\nmylib.random.seed(1234)\n",
    "import numpy as np\n# np.random.seed(1234) was removed\n",
])
def test_no_seeding_call_warns(repo: Repo, code: str) -> None:
    setup(repo, train=code)
    result = repo.rule("REP003")
    assert result.status == "warn"
    (warn,) = [f for f in result.findings if f.status == "warn"]
    assert warn.message == "no seeding call found in 1 Python file under train/: each run may train a different model"
    assert warn.remediation is not None and "torch.manual_seed(seed)" in warn.remediation


@pytest.mark.parametrize(("code", "fragment"), [
    ("import numpy as np\nrng = np.random.default_rng()\n",
     "numpy.random.default_rng() at train/train.py:2 is not given a seed: NumPy draws from the operating system"),
    ("import random\nrandom.seed()\n", "random.seed() at train/train.py:2 is not given a seed"),
    ("from sklearn.model_selection import train_test_split\ntrain_test_split([1, 2], random_state=None)\n",
     "sklearn.model_selection.train_test_split(..., random_state=None) at train/train.py:2 is not given a seed"),
])
def test_a_seeding_call_without_a_seed_warns(repo: Repo, code: str, fragment: str) -> None:
    setup(repo, train=code)
    result = repo.rule("REP003")
    assert result.status == "warn"
    assert fragment in messages(result)


def test_a_literal_seed_other_than_the_recorded_one_warns(repo: Repo) -> None:
    setup(repo, train="import torch\ntorch.manual_seed(7)\n")
    result = repo.rule("REP003")
    assert result.status == "warn"
    assert "torch.manual_seed(7) at train/train.py:2 seeds PyTorch with 7, not the recorded seed 1234" in \
        messages(result)


def test_the_code_is_parsed_never_run(repo: Repo) -> None:
    setup(repo, train="import random\nopen('ran', 'w').write('imported')\nrandom.seed(1234)\n")
    result = repo.rule("REP003")
    assert result.status == "pass", messages(result)
    assert not (repo.root / "ran").exists()


def test_a_file_that_does_not_parse_is_named_and_the_rest_still_scanned(repo: Repo) -> None:
    repo.write("train/broken.py", "def main(:\n")
    repo.write("train/data/split.py", "from sklearn.model_selection import train_test_split as tts\n"
                                      "tts([1], random_state=1234)\n")
    repo.write("train/.venv/lib/site.py", "import random\nrandom.seed()\n")  # a virtualenv is not training code
    setup(repo, train="import os\n")
    result = repo.rule("REP003")
    assert result.status == "warn"
    text = messages(result)
    assert "train/broken.py:1 was not scanned for seeding calls: it does not parse" in text
    assert "(2 Python files under train/): train/data/split.py:2 " \
           "sklearn.model_selection.train_test_split(..., random_state=1234)" in text
    assert ".venv" not in text


@pytest.mark.parametrize(("paths", "fragment"), [
    ("[]", "provenance.code.paths is empty"),
    ("[training/]", "code path training does not exist, so it cannot be scanned"),
])
def test_code_paths_that_cannot_be_scanned_warn(repo: Repo, paths: str, fragment: str) -> None:
    setup(repo, paths=paths)
    result = repo.rule("REP003")
    assert result.status == "warn"
    assert fragment in messages(result)


def test_a_single_file_code_path_and_a_file_limit(repo: Repo) -> None:
    repo.write("train/more.py", "import random\nrandom.seed(1234)\n")
    setup(repo, paths="[train/train.py]")
    result = repo.rule("REP003")
    assert result.status == "pass", messages(result)
    assert "(1 Python file under train/train.py)" in messages(result)
    repo.write(".mlgate.toml", "[params.REP003]\nmax_files = 1\n")
    repo.write("mlgate.yaml", spec(paths="[train/]"))
    repo.commit("limit")
    result = repo.rule("REP003")
    assert result.status == "warn"
    assert "more than 1 Python files under code.paths; only the first 1 were scanned" in messages(result)


TRAIN_SCRIPT = """\
#!/usr/bin/env python3
# the `train` entry point of a custom SageMaker container: no .py, run as an executable
import pandas as pd
from sklearn.model_selection import train_test_split

if __name__ == "__main__":
    data = pd.read_csv("/opt/ml/input/data/train/data.csv")
    train, test = train_test_split(data, test_size=0.2, random_state=1234)
"""


def test_a_script_without_py_is_python_when_its_shebang_says_so(repo: Repo) -> None:
    """Repro: a container's `train` script seeded with random_state, reported as "0 Python files"."""
    repo.write("container/train", TRAIN_SCRIPT)
    (repo.root / "container/train").chmod(0o755)
    repo.write("container/serve.sh", "#!/bin/sh\nexec gunicorn app\n")
    repo.write("container/nginx", "#!/usr/bin/env bash\nrandom.seed()\n")  # a shell script: not Python
    repo.write("container/README", "random.seed() in a text file\n")
    setup(repo, paths="[container/]", train="import os\n")
    result = repo.rule("REP003")
    assert result.status == "pass", messages(result)
    assert result.findings[-1].message == (
        "the training code seeds scikit-learn (1 Python file under container/): container/train:8 "
        "sklearn.model_selection.train_test_split(..., random_state=1234)")


def test_a_script_named_as_the_code_path_is_read_when_its_shebang_is_python(repo: Repo) -> None:
    repo.write("container/train", TRAIN_SCRIPT.replace("#!/usr/bin/env python3", "#!/opt/conda/bin/python3.11 -u"))
    setup(repo, paths="[container/train]", train="import os\n")
    result = repo.rule("REP003")
    assert result.status == "pass", messages(result)
    assert "(1 Python file under container/train)" in result.findings[-1].message


def test_an_extensionless_fifo_in_the_code_path_is_skipped_without_blocking(repo: Repo) -> None:
    import os

    repo.write("container/train", TRAIN_SCRIPT)
    os.mkfifo(repo.root / "container" / "pipe")
    setup(repo, paths="[container/]", train="import os\n")
    result = repo.rule("REP003")  # would block on the FIFO if it were opened for its first line
    assert result.status == "pass", messages(result)
    assert "(1 Python file under container/)" in result.findings[-1].message
