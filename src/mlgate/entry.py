"""The `mlgate` console script. `mlgate --version` (a CI or pre-commit probe) is answered before argparse and the
command line load, so it costs little more than the interpreter's own start-up; everything else goes to
`mlgate.cli.main`."""

from __future__ import annotations

import os
import sys

from mlgate import version_line


def main() -> int:
    if sys.argv[1:] == ["--version"]:
        print(version_line())
        return 0
    # pydantic hands every validator it builds to the plugins installed in the environment (an observability
    # plugin would see every spec mlgate validates), after scanning every installed distribution's entry points
    # for them. mlgate's validation is its own business: no plugins, unless the user asks for them
    # (PYDANTIC_DISABLE_PLUGINS, https://docs.pydantic.dev/latest/api/plugin/).
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from mlgate.cli import main as cli_main

    return cli_main()
