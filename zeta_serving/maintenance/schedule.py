"""When cycles run: APScheduler 3 cron triggers per model, plus the early-warning check.

Trigger arithmetic takes `now` as an argument (APScheduler's `get_next_fire_time`),
so `zeta status` and the tests compute the next run from an injected clock.
"""

from __future__ import annotations

from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from zeta_serving import tasks
from zeta_serving.maintenance.config import MaintenanceConfig


def trigger_for(schedule: str) -> CronTrigger:
    return CronTrigger.from_crontab(schedule, timezone="UTC")


def next_runs(config: MaintenanceConfig, now: datetime, models=None) -> dict[str, datetime]:
    """The next scheduled cycle per model (default: every registered task), strictly after `now`."""
    return {m: trigger_for(config.policy(m).schedule).get_next_fire_time(None, now)
            for m in models or tasks.names()}


def build_scheduler(maintainer, config: MaintenanceConfig, *, models=None, background: bool = False):
    """A scheduler with one cron job per model and, where enabled, an early-warning interval job."""
    scheduler = (BackgroundScheduler if background else BlockingScheduler)(timezone="UTC")
    for model in models or tasks.names():
        policy = config.policy(model)
        # A cycle never overlaps itself; a missed run (process was down) runs once when it comes back.
        scheduler.add_job(maintainer.run, trigger_for(policy.schedule), args=[model], id=f"cycle-{model}",
                          name=f"{model} maintenance cycle", max_instances=1, coalesce=True,
                          misfire_grace_time=6 * 3600)
        if policy.early_warning_minutes > 0:
            scheduler.add_job(maintainer.early_warning, IntervalTrigger(minutes=policy.early_warning_minutes),
                              args=[model], id=f"early-warning-{model}", name=f"{model} unseen-token check",
                              max_instances=1, coalesce=True)
    return scheduler
