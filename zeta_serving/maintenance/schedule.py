"""When cycles run: APScheduler 3 cron triggers per model, plus the early-warning check.

Trigger arithmetic takes `now` as an argument (APScheduler's `get_next_fire_time`),
so `zeta status`, the catch-up at start-up and the tests compute from an injected clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from zeta_serving import tasks
from zeta_serving.maintenance.config import MaintenanceConfig

CATCH_UP = "catch-up"  # the trigger recorded for a missed cycle run at start-up
# Runs that count as "the cycle happened" (an early-warning cycle is a full cycle too).
CYCLE_TRIGGERS = ("schedule", "once", "early-warning", CATCH_UP)


GOLDEN_WATCH_MINUTES = 60


def trigger_for(schedule: str) -> CronTrigger:
    return CronTrigger.from_crontab(schedule, timezone="UTC")


def next_runs(config: MaintenanceConfig, now: datetime, models=None) -> dict[str, datetime]:
    """The next scheduled cycle per model (default: every registered task), strictly after `now`."""
    return {m: trigger_for(config.policy(m).schedule).get_next_fire_time(None, now)
            for m in models or tasks.names()}


def missed_cycles(config: MaintenanceConfig, ledger, now: datetime, models=None) -> dict[str, datetime]:
    """Per model, the first scheduled time after its last recorded cycle that is already past.

    A model with no cycle in the ledger has missed nothing (the loop never ran for it). However
    many fire times were missed, the model is listed once: one catch-up cycle judges today's data.
    """
    missed = {}
    for model in models or tasks.names():
        last = ledger.last_run(model, triggers=CYCLE_TRIGGERS)
        if last is None:
            continue
        # APScheduler's next fire time is >= its `now`: a run at exactly 06:00:00 was the 06:00 cycle.
        after = last["now"].to_pydatetime() + timedelta(seconds=1)
        due = trigger_for(config.policy(model).schedule).get_next_fire_time(None, after)
        if due is not None and due <= now:
            missed[model] = due
    return missed


def build_scheduler(maintainer, config: MaintenanceConfig, *, models=None, background: bool = False,
                    missed: dict[str, datetime] | None = None):
    """A scheduler with one cron job per model, an early-warning interval job where enabled, and a
    one-off catch-up job (run as soon as the scheduler starts) per model in `missed`."""
    scheduler = (BackgroundScheduler if background else BlockingScheduler)(timezone="UTC")
    for model in models or tasks.names():
        policy = config.policy(model)
        # A cycle never overlaps itself; a run missed while this process was suspended runs once.
        scheduler.add_job(maintainer.run, trigger_for(policy.schedule), args=[model], id=f"cycle-{model}",
                          name=f"{model} maintenance cycle", max_instances=1, coalesce=True,
                          misfire_grace_time=6 * 3600)
        if policy.early_warning_minutes > 0:
            scheduler.add_job(maintainer.early_warning, IntervalTrigger(minutes=policy.early_warning_minutes),
                              args=[model], id=f"early-warning-{model}", name=f"{model} unseen-token check",
                              max_instances=1, coalesce=True)
        if model in (missed or {}):
            # No trigger: APScheduler runs a date job once, right away. The process being down
            # is invisible to APScheduler's memory job store, so the ledger is what remembers.
            scheduler.add_job(maintainer.run, args=[model, CATCH_UP], id=f"catch-up-{model}",
                              name=f"{model} cycle missed at {missed[model]:%Y-%m-%d %H:%M} UTC",
                              misfire_grace_time=None)
    # Every live model's golden cases, hourly: shared code can change under a model between deploys.
    scheduler.add_job(maintainer.watch_golden, IntervalTrigger(minutes=GOLDEN_WATCH_MINUTES), id="golden-watch",
                      name="golden cases of every live model", max_instances=1, coalesce=True)
    return scheduler
