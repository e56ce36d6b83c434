"""mlgate: is this model deployment ready, and what proves it?"""

__version__ = "0.1.0"


def version_line() -> str:
    """What `mlgate --version` prints (the console script answers it before loading the command line)."""
    return f"mlgate {__version__}"
