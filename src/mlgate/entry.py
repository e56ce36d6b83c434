"""The `mlgate` console script. `mlgate --version` (a CI or pre-commit probe) is answered before argparse and the
command line load, so it costs little more than the interpreter's own start-up; everything else goes to
`mlgate.cli.main`."""

from __future__ import annotations

import sys

from mlgate import version_line


def main() -> int:
    if sys.argv[1:] == ["--version"]:
        print(version_line())
        return 0
    from mlgate.cli import main as cli_main

    return cli_main()
