"""Team-wide settings: `[tool.mlgate]` in pyproject.toml, or the top level of `.mlgate.toml`."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlgate.errors import UsageError
from mlgate.parsers import load_toml
from mlgate.spelling import did_you_mean
from mlgate.yamlload import YamlError, read_text

if TYPE_CHECKING:
    from mlgate.result import RuleInfo


class ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    skip: list[str] = Field(default_factory=list, description="Rule IDs (or prefixes) not to run.")
    fail_on: Literal["error", "warning", "note"] | None = None
    severity: dict[str, Literal["error", "warning", "note"]] = Field(default_factory=dict)
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    unwaivable: list[str] = Field(default_factory=list, description="Rules no waiver may waive.")
    max_waiver_days: int = Field(
        default=180, ge=1, le=3660, description="How far away a waiver's expires may be, in days from the run's date.")
    approvers: list[str] = Field(
        default_factory=list, description="Who may approve a waiver (approved_by); empty: anyone named.")
    link_hosts: list[str] = Field(
        default_factory=list, description="Hosts whose rule docs URLs reports show as links, beside mlgate's own.")
    skip_specs: list[str] = Field(
        default_factory=list, description="Specs (repo-relative paths) not to check; every other tracked spec is.")
    prices: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Price overrides: region -> {ml.<type>: hourly USD, serverless: {...}}.")


def _defaults() -> ConfigModel:
    """The settings of a repository without a config: the defaults, set without validation (they are the model's
    own), so a run without a config does not build the config's validator."""
    return ConfigModel.model_construct()


@dataclass
class Config:
    """The team's mlgate settings (`[tool.mlgate]`), and the file they were read from."""
    settings: ConfigModel = field(default_factory=_defaults)
    source: str | None = None  # repo-relative file the settings came from

    def rule_params(self, rule: RuleInfo) -> dict[str, Any]:
        """A rule's parameters: its defaults, the team's overrides, and for rules that price things
        (a `prices` parameter) the team's `[tool.mlgate.prices]` merged region by region."""
        params = {**rule.params, **self.settings.params.get(rule.id, {})}
        if "prices" in rule.params and self.settings.prices:
            merged = {region: dict(table) for region, table in (params.get("prices") or {}).items()}
            for region, table in self.settings.prices.items():
                merged[region] = {**merged.get(region, {}), **table}
            params["prices"] = merged
        return params


def load_config(root: Path) -> Config:
    """Read `.mlgate.toml` or `[tool.mlgate]` of `pyproject.toml`, at the repository root. Both at once is an
    error: reading one would silently drop the other (an empty `.mlgate.toml` used to discard the team's
    `[tool.mlgate]`, its `unwaivable` list included)."""
    dedicated = root / ".mlgate.toml"
    pyproject = root / "pyproject.toml"
    # anything at .mlgate.toml counts, so a directory, FIFO or dangling symlink there is an error, not "no config"
    has_dedicated = dedicated.exists() or dedicated.is_symlink()
    tool = None
    if pyproject.exists() or pyproject.is_symlink():
        tool = _read_toml(pyproject, "pyproject.toml").get("tool", {})
        tool = tool.get("mlgate") if isinstance(tool, dict) else None
    if has_dedicated and tool is not None:
        raise UsageError("mlgate is configured twice, by .mlgate.toml and by [tool.mlgate] in pyproject.toml",
                         path=".mlgate.toml", hint="keep one of them (mlgate reads one config, never a mix)")
    if has_dedicated:
        data, source, prefix = _read_toml(dedicated, ".mlgate.toml"), ".mlgate.toml", ""
    elif tool is not None:
        data, source, prefix = tool, "pyproject.toml", "tool.mlgate."
    else:
        return Config()
    if not isinstance(data, dict):
        raise UsageError(f"{prefix or 'the file'} must be a table", path=source)
    try:
        model = ConfigModel.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        hint = None
        if err["type"] == "extra_forbidden":
            hint = did_you_mean(str(err["loc"][-1]), ConfigModel.model_fields, "setting")
            raise UsageError(f"unknown setting '{prefix}{loc}'", path=source, hint=hint) from None
        raise UsageError(f"{prefix}{loc}: {err['msg']}", path=source) from None
    for rel in model.skip_specs:
        _check_skipped_spec(root, rel, f"{prefix}skip_specs", source)
    return Config(model, source)


def _check_skipped_spec(root: Path, rel: str, what: str, source: str) -> None:
    """An entry of skip_specs names one spec file by its path from the repository root: no pattern, no
    directory, nothing that is not there (a stale entry would hide the next spec put at that path)."""
    from mlgate.discover import SPEC_NAMES

    parts = PurePosixPath(rel).parts
    if (not rel or PurePosixPath(rel).is_absolute() or ".." in parts or any(c in rel for c in "*?[")
            or parts[-1] not in SPEC_NAMES or not (root / rel).is_file()):
        raise UsageError(f"{what}: '{rel}' is not a spec file of this repository", path=source,
                         hint="list each skipped spec by its path from the repository root, e.g. "
                              "'models/old/mlgate.yaml'")


def _read_toml(path: Path, name: str) -> dict[str, Any]:
    try:
        return load_toml(read_text(path, root=path.parent))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"TOML syntax error: {exc}", path=name) from None
    except YamlError as exc:  # not a regular file inside the repository, too large, not UTF-8 text
        raise UsageError(exc.message, path=name) from None
