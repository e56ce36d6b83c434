"""Renderers: one module per format, each a pure function of the Report."""

from __future__ import annotations

import importlib
from typing import Any

from mlgate.result import Report

FORMATS = {"text": "text", "json": "json_report", "markdown": "markdown", "sarif": "sarif", "junit": "junit",
           "gitlab": "gitlab", "github": "annotations"}
EXTENSIONS = {".txt": "text", ".json": "json", ".md": "markdown", ".sarif": "sarif", ".xml": "junit"}


def render(report: Report, fmt: str, **options: Any) -> str:
    module = importlib.import_module(f"mlgate.report.{FORMATS[fmt]}")
    text: str = module.render(report, **options)
    return text
