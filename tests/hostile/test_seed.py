"""REP003 follows what the code would do (issue 18, item 9): the seed source's value is its last assignment
(tuple unpacking, augmented assignment, a rebinding in a `try`), and a seeding call counts only where it can run:
not under `if False:`, not after a `return`, not in a function nothing calls."""

from __future__ import annotations

import pytest

from tests.hostile.support import Cli, Model, check

SEED = 20261101


def _python_source(model: Model, text: str) -> None:
    model.write("train/seed.py", text)
    model.edit_spec("source: train/config.yaml#training.seed", "source: train/seed.py#SEED")
    model.commit()


@pytest.mark.parametrize(("text", "held"), [
    (f"SEED = {SEED}\nSEED += 1\n", SEED + 1),
    (f"SEED = {SEED}\nSEED, OTHER = 7, 8\n", 7),
    (f"SEED = {SEED}\n(OTHER, (SEED, LAST)) = (1, (9, 2))\n", 9),
    (f"SEED = {SEED}\ntry:\n    SEED = 7\nexcept ImportError:\n    pass\n", 7),
    (f"SEED = {SEED}\nif True:\n    pass\nelse:\n    SEED = 3\nwith open(__file__):\n    SEED = 5\n", 5),
])
def test_the_seed_source_is_its_last_assignment(model: Model, cli: Cli, text: str, held: int) -> None:
    _python_source(model, text)
    outcome = check(cli, model.root, "--select", "REP003")
    assert outcome.status("REP003") == "fail"
    assert f"seed.value is {SEED} but train/seed.py" in outcome.messages("REP003")
    assert f"(SEED) holds {held}: the recorded seed is not the one training reads" in outcome.messages("REP003")


@pytest.mark.parametrize("text", [
    f"SEED = {SEED}\nif False:\n    SEED = 7\n",
    f"SEED = {SEED}\nwhile 0:\n    SEED = 7\n",
    f"BASE = {SEED - 1}\nSEED = BASE\nSEED += 1\n",
])
def test_what_does_not_run_does_not_count(model: Model, cli: Cli, text: str) -> None:
    _python_source(model, text)
    assert check(cli, model.root, "--select", "REP003").status("REP003") == "pass"


def test_a_seed_only_the_running_code_knows_fails(model: Model, cli: Cli) -> None:
    _python_source(model, f"SEED = {SEED}\nfor SEED in range(3):\n    pass\n")
    outcome = check(cli, model.root, "--select", "REP003")
    assert outcome.status("REP003") == "fail"
    assert "binds 'SEED' with `for SEED in range(3):`, a value known only when the code runs" in \
        outcome.messages("REP003")


# -- seeding calls that cannot run ----------------------------------------------------------------------------------

def _training(model: Model, code: str) -> None:
    """Replace the example's training script (which seeds in main()) by `code`."""
    model.write("train/train.py", code)
    model.commit()


@pytest.mark.parametrize("code", [
    "import random\nif False:\n    random.seed(20261101)\n",
    "import random\nwhile False:\n    random.seed(20261101)\n",
    "import random\ndef train():\n    random.seed(20261101)\n",  # defined, never called
    "import random\ndef train():\n    random.seed(20261101)\ndef unused():\n    train()\n",  # called by the uncalled
    "import random\ndef go():\n    return 1\n    random.seed(20261101)\ngo()\n",  # after a return
    "import random\nclass Trainer:\n    def fit(self):\n        random.seed(20261101)\n",  # a class nothing uses
])
def test_a_seeding_call_that_cannot_run_does_not_count(model: Model, cli: Cli, code: str) -> None:
    _training(model, code)
    outcome = check(cli, model.root, "--select", "REP003")
    assert "no seeding call found in" in outcome.messages("REP003")
    assert "the training code seeds" not in outcome.messages("REP003")


@pytest.mark.parametrize("code", [
    "import random\ndef train():\n    random.seed(20261101)\nif __name__ == '__main__':\n    train()\n",
    "import random\ndef seed_all():\n    random.seed(20261101)\ndef train():\n    seed_all()\ntrain()\n",
    "import random\ndef main():\n    random.seed(20261101)\n",  # a console script's entry
    "import random, click\n@click.command()\ndef cli():\n    random.seed(20261101)\n",  # registered by a decorator
    "import random\nclass Trainer:\n    def fit(self):\n        random.seed(20261101)\nTrainer().fit()\n",
    "import random\nif True:\n    random.seed(20261101)\n",
])
def test_a_seeding_call_that_runs_counts(model: Model, cli: Cli, code: str) -> None:
    _training(model, code)
    outcome = check(cli, model.root, "--select", "REP003")
    assert "the training code seeds Python random" in outcome.messages("REP003")


def test_the_pass_names_the_calls_it_did_not_count(model: Model, cli: Cli) -> None:
    _training(model, "import random\nrandom.seed(20261101)\ndef old():\n    random.seed(7)\n")
    outcome = check(cli, model.root, "--select", "REP003")
    assert outcome.status("REP003") == "pass"
    assert "not counted: 1 seeding call in functions nothing calls (train/train.py:4 in old())" in \
        outcome.messages("REP003")
