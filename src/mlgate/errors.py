"""Errors that make an input unusable (exit code 2): each names the file, the line and what to do."""

from __future__ import annotations


class UsageError(Exception):
    """The spec, a config file or the command line cannot be used; the run stops with exit code 2."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: int | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.hint = hint
        self.more: list[UsageError] = []  # further problems in the same file, in line order

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = self.path
            if self.line:
                where += f":{self.line}"
                if self.column:
                    where += f":{self.column}"
            where += ": "
        text = f"{where}{self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class EvidenceError(Exception):
    """An evidence file could not be read or parsed; the rule that needed it gets status `error`."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self) -> str:
        if self.path:
            return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"
        return self.message
