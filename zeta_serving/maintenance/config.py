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
    deployer = "local"            # local | inprocess
    port = 3000                   # where the local deployer serves
    alerts = ["log"]              # log, webhook
    webhook_url = ""              # or $ZETA_ALERT_WEBHOOK_URL (a secret: never logged)
    container_backend = ""        # docker | buildah | podman: also build an image per promotion
    lease_seconds = 3600

    [maintenance.models.price]    # per-model overrides of any key above
    tolerance = 0.05
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from zeta_serving import tasks
from zeta_serving.errors import ZetaError
from zeta_serving.paths import zeta_home


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
    lease_seconds: float = 3600.0

    def check(self, model: str) -> "Policy":
        from apscheduler.triggers.cron import CronTrigger

        problems = []
        if not 0.5 <= self.confidence < 1:
            problems.append(f"confidence must be within 0.5..1, got {self.confidence}")
        if self.tolerance < 0:
            problems.append(f"tolerance must be >= 0, got {self.tolerance}")
        if self.eval_days <= 0 or self.train_days <= 0:
            problems.append("eval_days and train_days must be positive")
        if self.min_rows < 1 or self.bootstrap < 100 or self.max_eval_rows < self.min_rows:
            problems.append("need min_rows >= 1, bootstrap >= 100 and max_eval_rows >= min_rows")
        if self.deployer not in ("local", "inprocess"):
            problems.append(f"deployer must be local or inprocess, got {self.deployer!r}")
        if self.container_backend not in ("", "docker", "buildah", "podman"):
            problems.append(f"container_backend must be docker, buildah or podman, got {self.container_backend!r}")
        unknown_sinks = set(self.alerts) - {"log", "webhook"}
        if unknown_sinks:
            problems.append(f"unknown alert sinks: {', '.join(sorted(unknown_sinks))}")
        try:
            CronTrigger.from_crontab(self.schedule, timezone="UTC")
        except ValueError as exc:
            problems.append(f"schedule {self.schedule!r} is not a cron expression ({exc})")
        if problems:
            raise ZetaError(f"maintenance config for {model}: " + "; ".join(problems))
        return self


@dataclass(frozen=True)
class MaintenanceConfig:
    policies: dict[str, Policy]
    source: str  # where it came from, for `zeta status`

    def policy(self, model: str) -> Policy:
        return self.policies[model]


_KEYS = {f.name: f.type for f in fields(Policy)}


def _coerce(values: dict, where: str) -> dict:
    unknown = set(values) - set(_KEYS)
    if unknown:
        raise ZetaError(f"{where}: unknown maintenance keys: {', '.join(sorted(unknown))}")
    out = dict(values)
    if "alerts" in out:
        out["alerts"] = tuple(out["alerts"]) if isinstance(out["alerts"], list) else (out["alerts"],)
    return out


def config_path(explicit: str | None = None) -> Path | None:
    for candidate in (explicit, os.environ.get("ZETA_CONFIG"), "zeta.toml"):
        if candidate:
            path = Path(candidate)
            if path.is_file():
                return path
            if candidate == explicit or candidate == os.environ.get("ZETA_CONFIG"):
                raise ZetaError(f"config file not found: {candidate}")
    home = zeta_home() / "zeta.toml"
    return home if home.is_file() else None


def load_config(explicit: str | None = None, **overrides) -> MaintenanceConfig:
    """Policies for every model; `overrides` (e.g. deployer="inprocess") win over the file."""
    path = config_path(explicit)
    raw: dict = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8")).get("maintenance", {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ZetaError(f"{path}: not valid TOML ({exc})") from None
    per_model = raw.pop("models", {}) if isinstance(raw.get("models"), dict) else {}
    base = replace(Policy(), **_coerce(raw, str(path)))
    if not base.webhook_url and os.environ.get("ZETA_ALERT_WEBHOOK_URL"):
        base = replace(base, webhook_url=os.environ["ZETA_ALERT_WEBHOOK_URL"])
    names = tasks.names()
    unknown_models = set(per_model) - set(names)
    if unknown_models:
        raise ZetaError(f"{path}: unknown models in [maintenance.models]: {', '.join(sorted(unknown_models))}")
    policies = {}
    for model in names:
        # The task's own defaults (its registry entry), then the file's [maintenance.models.<task>].
        policy = replace(base, **_coerce(dict(tasks.get(model).policy), f"task {model}"))
        policy = replace(policy, **_coerce(per_model.get(model, {}), f"{path} [maintenance.models.{model}]"))
        policies[model] = replace(policy, **{k: v for k, v in overrides.items() if v is not None}).check(model)
    return MaintenanceConfig(policies, str(path) if path else "defaults")
