"""Maintenance policy per model, from one project config file (TOML).

Looked up in this order: `--config FILE`, `$ZETA_CONFIG`, `./zeta.toml`,
`$ZETA_HOME/zeta.toml`; absent everywhere, the defaults below apply.

    [maintenance]                 # for every model
    schedule = "0 6 * * *"        # cron (UTC): when a cycle runs
    eval_days = 7                 # the newest labelled window the live model is judged on
    train_days = 30               # the window a challenger learns from (ends where evaluation begins)
    tolerance = 0.03              # how much worse than the reference still counts as healthy (score units)
    confidence = 0.95             # of the bootstrap intervals
    bootstrap = 1000              # resamples
    min_rows = 300                # fewer fresh labelled rows: decision `skipped`
    max_eval_rows = 50000         # the newest rows at most
    unseen_jump = 0.10            # unseen-token rate this far above training time triggers a cycle
    early_warning_minutes = 60    # how often that rate is checked (0: never)
    deployer = "local"            # local | inprocess | kubernetes | spinnaker ([kubernetes], [spinnaker] tables)
    port = 3000                   # where the local deployer serves
    alerts = ["log"]              # log, webhook
    webhook_url = ""              # or $ZETA_ALERT_WEBHOOK_URL (a secret: never logged)
    container_backend = ""        # docker | buildah | podman: also build an image per promotion
    container_registry = ""       # REGISTRY/REPO: push that image there, the ledger keeps ref@digest
    lease_seconds = 90            # a crashed cycle frees the model this long after it died
    remind_days = 1               # an unresolved alert condition is repeated at most once per this many days
    keep_models = 3               # per task, besides the champion, the previous one and what serves
                                  # (models and bentos; `zeta gc` and after every cycle)

    [maintenance.models.price]    # per-model overrides of any key above
    tolerance = 0.05

Every key is validated before anything runs (types, ranges, cron syntax, unknown keys and
sections, with a "did you mean" for a misspelling): an error is one line naming the key,
and the CLI exits 2.
"""

from __future__ import annotations

import difflib
import math
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Literal

import pydantic
from pydantic import ConfigDict, Field

from zeta_serving import tasks
from zeta_serving.errors import ConfigError, ZetaError
from zeta_serving.paths import zeta_home

# The top-level tables of zeta.toml this code reads; each cluster deployer reads its own
# table (zeta_serving/maintenance/sections.py).
SECTIONS = ("maintenance", "kubernetes", "spinnaker")


@dataclass(frozen=True)
class Policy:
    schedule: str = "0 6 * * *"
    eval_days: float = 7.0
    train_days: float = 30.0
    tolerance: float = 0.03
    confidence: float = 0.95
    bootstrap: int = 1000
    min_rows: int = 300
    max_eval_rows: int = 50_000
    unseen_jump: float = 0.10
    early_warning_minutes: float = 60.0
    deployer: str = "local"
    port: int = 3000
    alerts: tuple[str, ...] = ("log",)
    webhook_url: str = field(default="", repr=False)
    container_backend: str = ""
    container_registry: str = ""
    lease_seconds: float = 90.0
    remind_days: int = 1
    keep_models: int = 3

    def check(self, model: str) -> "Policy":
        """Cross-key rules (each key alone was checked when read)."""
        if self.max_eval_rows < self.min_rows:
            raise ConfigError(f"maintenance config for {model}: max_eval_rows ({self.max_eval_rows}) "
                              f"must be >= min_rows ({self.min_rows})")
        return self


def _cron(value: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"not a cron expression ({exc})") from None
    return value


_finite = dict(strict=True, allow_inf_nan=False)


class _Keys(pydantic.BaseModel):
    """What a [maintenance] or [maintenance.models.<task>] table may hold: every key optional."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    schedule: str | None = None
    eval_days: float | None = Field(None, gt=0, **_finite)
    train_days: float | None = Field(None, gt=0, **_finite)
    tolerance: float | None = Field(None, ge=0, **_finite)
    confidence: float | None = Field(None, ge=0.5, lt=1, **_finite)
    bootstrap: int | None = Field(None, ge=100, le=1_000_000)
    min_rows: int | None = Field(None, ge=1)
    max_eval_rows: int | None = Field(None, ge=1)
    unseen_jump: float | None = Field(None, gt=0, le=1, **_finite)
    early_warning_minutes: float | None = Field(None, ge=0, **_finite)
    deployer: str | None = None  # a name in zeta_serving/maintenance/deployers.py: REGISTRY
    port: int | None = Field(None, ge=1, le=65535)
    alerts: list[Literal["log", "webhook"]] | None = None
    webhook_url: str | None = None
    container_backend: Literal["", "docker", "buildah", "podman"] | None = None
    container_registry: str | None = None
    lease_seconds: float | None = Field(None, gt=0, le=86_400, **_finite)
    remind_days: int | None = Field(None, ge=1)
    keep_models: int | None = Field(None, ge=0)

    @pydantic.field_validator("schedule")
    @classmethod
    def _check_schedule(cls, value):
        return value if value is None else _cron(value)

    @pydantic.field_validator("deployer")
    @classmethod
    def _check_deployer(cls, value):
        from zeta_serving.maintenance.deployers import REGISTRY

        if value is not None and value not in REGISTRY:
            raise ValueError(f"not a deployer (choose from {', '.join(REGISTRY)})")
        return value

    @pydantic.field_validator("alerts", mode="before")
    @classmethod
    def _one_alert(cls, value):
        return [value] if isinstance(value, str) else value


_KEYS = [f.name for f in fields(Policy)]


def _validated(values, where: str) -> dict:
    """The table's keys, checked; a ConfigError naming the first bad key otherwise."""
    if not isinstance(values, dict):
        raise ConfigError(f"{where} must be a table of keys, got {_shown(values)}")
    try:
        checked = _Keys.model_validate(values)
    except pydantic.ValidationError as exc:
        raise ConfigError(_one_line(exc, values, where)) from None
    out = {k: v for k, v in checked.model_dump().items() if k in values}
    if "alerts" in out:
        out["alerts"] = tuple(out["alerts"])
    return out


def _one_line(exc: pydantic.ValidationError, values: dict, where: str) -> str:
    error = exc.errors(include_url=False)[0]
    key = str(error["loc"][0]) if error["loc"] else "?"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key {key!r}{_did_you_mean(key, _KEYS)}"
    message = error["msg"].removeprefix("Value error, ")
    return f"{where}: {key} = {_shown(values.get(key))}: {message}"


def _shown(value) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    text = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _did_you_mean(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"


@dataclass(frozen=True)
class MaintenanceConfig:
    policies: dict[str, Policy]
    source: str  # where it came from, for `zeta status`

    def policy(self, model: str) -> Policy:
        return self.policies[model]


def config_path(explicit: str | None = None) -> Path | None:
    for candidate in (explicit, os.environ.get("ZETA_CONFIG"), "zeta.toml"):
        if candidate:
            path = Path(candidate)
            if path.is_file():
                return path
            if candidate == explicit or candidate == os.environ.get("ZETA_CONFIG"):
                raise ConfigError(f"config file not found: {candidate}")
    home = zeta_home() / "zeta.toml"
    return home if home.is_file() else None


def read_sections(path: Path | None) -> dict:
    """The file's top-level tables, each known by name (a misspelled section is an error, not ignored)."""
    if path is None:
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    for name in raw:
        if name not in SECTIONS:
            raise ConfigError(f"{path}: unknown section [{name}]{_did_you_mean(name, SECTIONS)}")
    return raw


def load_config(explicit: str | None = None, **overrides) -> MaintenanceConfig:
    """Policies for every model; `overrides` (e.g. deployer="inprocess") win over the file."""
    path = config_path(explicit)
    where = str(path) if path else "config"
    raw = dict(read_sections(path).get("maintenance", {}))
    per_model = raw.pop("models", {})
    base = replace(Policy(), **_validated(raw, f"{where} [maintenance]"))
    if not base.webhook_url and os.environ.get("ZETA_ALERT_WEBHOOK_URL"):
        base = replace(base, webhook_url=os.environ["ZETA_ALERT_WEBHOOK_URL"])
    if not isinstance(per_model, dict):
        raise ConfigError(f"{where}: [maintenance] models must be a table of [maintenance.models.<model>] tables")
    names = tasks.names()  # exactly the registered tasks (zeta_serving/tasks)
    for model in per_model:
        if model not in names:
            raise ConfigError(f"{where}: unknown model [maintenance.models.{model}]{_did_you_mean(model, names)}")
    chosen = _validated({k: v for k, v in overrides.items() if v is not None}, "command-line options")
    policies = {}
    for model in names:
        # The task's own defaults (its registry entry), then the file's [maintenance.models.<task>].
        own = _validated(dict(tasks.get(model).policy), f"task {model} (registry policy)")
        section = _validated(per_model.get(model, {}), f"{where} [maintenance.models.{model}]")
        policies[model] = replace(base, **{**own, **section, **chosen}).check(model)
    return MaintenanceConfig(policies, str(path) if path else "defaults")


__all__ = ["Policy", "MaintenanceConfig", "load_config", "config_path", "ZetaError"]
