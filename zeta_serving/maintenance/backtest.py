"""Backtest: replay a synthetic history day by day through the real loop with an injected clock.

Per scenario (no drift, vocabulary drift, price-level shift, label noise) a
fresh store is filled one day at a time; the three models are trained once on
the warm-up days; then every day the clock is set to the end of the day and a
real cycle runs for each model (real store, ledger, lease, training, bootstrap,
`bentoml build`, golden-case gate; the deployer is the in-process double).

Run in a child process with its own BENTOML_HOME so the user's model store is
untouched; the ledger of each scenario is kept in `<out>/<scenario>.db` for
`zeta report --db sqlite:///<out>/<scenario>.db`.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from zeta_serving.maintenance.ledger import HEALTHY, NOT_RECOVERED, PROMOTED, PROMOTED_DEGRADED, SKIPPED

SCENARIOS = ("none", "vocab", "price", "noise")
DETECTED = (NOT_RECOVERED, PROMOTED, PROMOTED_DEGRADED)
LETTER = {HEALTHY: ".", SKIPPED: "s", NOT_RECOVERED: "N", PROMOTED: "P", PROMOTED_DEGRADED: "D", "failed": "F"}


@dataclass(frozen=True)
class Plan:
    start: date = date(2026, 3, 1)
    warmup_days: int = 12
    days: int = 26  # days replayed after the warm-up
    drift_after: int = 8  # drift starts on this replayed day
    rows_per_day: int = 600
    seed: int = 0
    eval_days: float = 2.0
    train_days: float = 10.0

    @property
    def drift_day(self) -> date:
        return self.start + timedelta(days=self.warmup_days + self.drift_after)


def affected(scenario: str) -> tuple[str, ...]:
    """The models a scenario is meant to hurt: each task names its own (`Task.drift`)."""
    from zeta_serving import tasks

    return tuple(t.name for t in tasks.all_tasks() if scenario in t.drift)


def drift_for(scenario: str, plan: Plan):
    from zeta_serving.synth import Drift

    on = plan.drift_day
    return {"none": None, "vocab": Drift(vocab_from=on), "price": Drift(price_from=on),
            "noise": Drift(noise_from=on)}[scenario]


def end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=timezone.utc)


def run_scenario(scenario: str, plan: Plan, db_url: str, *, alerts=None, builder=None,
                 on_day=lambda *a: None) -> dict:
    """Replay one scenario into `db_url`; returns per-model decisions and scores by day."""
    from zeta_serving import synth, tasks
    from zeta_serving.maintenance.alerts import LogSink
    from zeta_serving.maintenance.builder import BentoBuilder
    from zeta_serving.maintenance.clock import FixedClock
    from zeta_serving.maintenance.config import load_config
    from zeta_serving.maintenance.inprocess import InProcessDeployer
    from zeta_serving.maintenance.ledger import Champion, Ledger
    from zeta_serving.maintenance.loop import Maintainer
    from zeta_serving.store import ListingStore
    from zeta_serving.trainer import train_task

    drift = drift_for(scenario, plan)
    store = ListingStore(db_url)
    ledger = Ledger(store.engine)
    clock = FixedClock(end_of(plan.start))
    base = load_config(None)
    config = replace(base, policies={m: replace(p, eval_days=plan.eval_days, train_days=plan.train_days,
                                                min_rows=min(p.min_rows, plan.rows_per_day // 2), bootstrap=500)
                                     for m, p in base.policies.items()})
    maintainer = Maintainer(store=store, ledger=ledger, deployer=InProcessDeployer(clock),
                            builder=builder or BentoBuilder(), alerts=alerts or LogSink(), clock=clock,
                            config=config, replica=f"backtest-{scenario}")
    for offset in range(plan.warmup_days):
        store.insert(synth.generate_day(plan.start + timedelta(days=offset), plan.rows_per_day, plan.seed, drift))
    warm_end = end_of(plan.start + timedelta(days=plan.warmup_days - 1))
    for task in tasks.names():
        trained = train_task(store, task, until=warm_end, train_days=plan.train_days, eval_days=plan.eval_days)
        ledger.crown(Champion(task, trained.saved.tag, trained.saved.reference_score, warm_end))
    days = []
    for offset in range(plan.days):
        day = plan.start + timedelta(days=plan.warmup_days + offset)
        store.insert(synth.generate_day(day, plan.rows_per_day, plan.seed, drift))
        clock.set(end_of(day))
        results = {m: maintainer.run(m).decision for m in tasks.names()}
        days.append({"day": day.isoformat(), "drift": drift is not None and day >= plan.drift_day, **results})
        on_day(scenario, day, results)
    history = ledger.history()
    runs = json.loads(history.to_json(orient="records", date_format="iso"))
    return {"scenario": scenario, "drift_day": plan.drift_day.isoformat() if drift else None,
            "days": days, "runs": runs}


def summarise(result: dict) -> list[dict]:
    """Per model: days to detection, false alarms, scores before / at detection / after promotion."""
    from zeta_serving import tasks

    out = []
    drift_day = result["drift_day"]
    for model in [t.name for t in tasks.all_tasks() if any(r["model"] == t.name for r in result["runs"])]:
        runs = [r for r in result["runs"] if r["model"] == model]
        before = [r for r in runs if drift_day is None or r["now"][:10] <= drift_day]
        after = [r for r in runs if drift_day is not None and r["now"][:10] > drift_day]
        false_alarms = sum(r["decision"] not in (HEALTHY, SKIPPED) for r in before)
        detected = next((r for r in after if r["decision"] in DETECTED), None)
        promoted = next((r for r in after if r["decision"] in (PROMOTED, PROMOTED_DEGRADED)), None)
        last_clean = next((r for r in reversed(before) if r["live_score"] is not None), None)
        days_to = None
        if detected is not None:
            days_to = (date.fromisoformat(detected["now"][:10]) - date.fromisoformat(drift_day)).days - 1
        out.append({
            "model": model,
            "affected": model in affected(result["scenario"]),
            "cycles_before_drift": len(before),
            "false_alarms": false_alarms,
            "days_to_detection": days_to,
            "score_before": last_clean["live_score"] if last_clean else None,
            "score_at_detection": detected["live_score"] if detected else None,
            "score_after_promotion": promoted["challenger_score"] if promoted else None,
            "alerts": sum(bool(r["alerted"]) for r in runs),  # messages delivered, reminders and all-clears too
            "reminders": sum(bool(r["alerted"]) and _alert_kind(r) == "reminder" for r in runs),
            "deploys": sum(r["decision"] in (PROMOTED, PROMOTED_DEGRADED) for r in runs),
            "decisions": "".join(LETTER.get(r["decision"], "?") for r in runs),
        })
    return out


def _alert_kind(run: dict) -> str | None:
    details = run.get("details") or "{}"
    return (json.loads(details) if isinstance(details, str) else details).get("alert")


def print_table(summaries: dict[str, list[dict]], echo=print) -> None:
    echo(f"{'SCENARIO':9s} {'MODEL':9s} {'DAYS TO DETECT':>14s} {'FALSE ALARMS':>12s} {'BEFORE':>8s} "
         f"{'AT DETECT':>9s} {'PROMOTED':>9s} {'ALERTS':>6s} {'REMINDERS':>9s} {'DEPLOYS':>7s}  DECISIONS (. healthy, N not-recovered, P promoted, "
         "D promoted-degraded, F failed)")

    def f(v):
        return "-" if v is None else f"{v:.4f}"

    for scenario, rows in summaries.items():
        for r in rows:
            detect = "-" if r["days_to_detection"] is None else str(r["days_to_detection"])
            echo(f"{scenario:9s} {r['model']:9s} {detect:>14s} {r['false_alarms']:>5d}/{r['cycles_before_drift']:<6d} "
                 f"{f(r['score_before']):>8s} {f(r['score_at_detection']):>9s} {f(r['score_after_promotion']):>9s} "
                 f"{r['alerts']:>6d} {r['reminders']:>9d} {r['deploys']:>7d}  {r['decisions']}")


def run_isolated(scenarios, plan: Plan, out_dir: Path, echo=print) -> dict[str, list[dict]]:
    """Each scenario in a child process with a private BENTOML_HOME; results read back as JSON."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summaries = {}
    for scenario in scenarios:
        db = out_dir / f"{scenario}.db"
        db.unlink(missing_ok=True)
        result_file = out_dir / f"{scenario}.json"
        env = {**os.environ, "BENTOML_HOME": str(out_dir / "bentoml"), "BENTOML_DO_NOT_TRACK": "true"}
        cmd = [sys.executable, "-m", "zeta_serving.maintenance.backtest", scenario, f"sqlite:///{db}",
               str(result_file), json.dumps(plan.__dict__, default=str)]
        echo(f"backtest {scenario}: replaying {plan.days} days after {plan.warmup_days} warm-up days ...")
        done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            tail = "\n".join(done.stdout.strip().splitlines()[-5:])
            raise RuntimeError(f"backtest {scenario} failed (exit {done.returncode}):\n{tail}")
        summaries[scenario] = summarise(json.loads(result_file.read_text()))
    return summaries


def _child(argv: list[str]) -> None:
    scenario, db_url, result_file, plan_json = argv
    raw = json.loads(plan_json)
    raw["start"] = date.fromisoformat(raw["start"])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    result = run_scenario(scenario, Plan(**raw), db_url,
                          on_day=lambda s, d, r: print(f"  {s} {d}: {r}", flush=True))
    Path(result_file).write_text(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    _child(sys.argv[1:])
