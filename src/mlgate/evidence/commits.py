"""One commit as mlgate reports it: shared by `mlgate.evidence.git` (which asks git) and `mlgate.evidence.history`
(which answers from the history in memory), so that neither imports the other for it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class CommitInfo:
    """One git commit, as `git log` lists it."""
    sha: str
    timestamp: int  # committer time, seconds since the epoch
    subject: str = ""

    @classmethod
    def parse(cls, line: str) -> CommitInfo:
        sha, stamp, *rest = line.split("\0")
        return cls(sha, int(stamp), rest[0] if rest else "")

    @property
    def short(self) -> str:
        return self.sha[:7]

    @property
    def date(self) -> str:
        return dt.datetime.fromtimestamp(self.timestamp, dt.UTC).strftime("%Y-%m-%d")

    def describe(self) -> str:
        return f"{self.short} ({self.date})"
