"""`zeta up`: the whole product on the embedded default, from an empty machine to serving."""

from __future__ import annotations

import json
import signal
from datetime import date, datetime, timedelta, timezone

import click

from zeta_serving.cli.common import open_store

BATCH_EXAMPLE = ["ルイヴィトン 長財布 モノグラム", "iPhone13 128GB SIMフリー スマートフォン本体"]


def curl_examples(port: int) -> str:
    """One `curl` per registered task (its own example body), and one batch call."""
    from zeta_serving import tasks

    def curl(route: str, body: dict) -> str:
        return (f"  curl -s -X POST http://127.0.0.1:{port}{route} -H 'Content-Type: application/json' \\\n"
                f"    -d '{json.dumps(body, ensure_ascii=False)}'\n")

    lines = ["Try it (Japanese in, Japanese out):\n"]
    lines += [curl(t.route, dict(t.example)) for t in tasks.all_tasks() if t.example]
    # The batch example goes to the task that asks least of a listing (a name is always enough).
    simplest = min((t for t in tasks.all_tasks() if t.example), key=lambda t: len(t.example))
    lines.append(curl(f"{simplest.route}/batch", {"listings": [{"name": n} for n in BATCH_EXAMPLE]}))
    lines.append(f"API docs: http://127.0.0.1:{port}/ (OpenAPI: /docs.json)   health: /healthz /readyz   "
                 "metrics: /metrics\n")
    return "\n".join(lines)


@click.command("up")
@click.option("--port", type=click.IntRange(1, 65535), default=3000, show_default=True)
@click.option("--days", type=click.IntRange(min=8), default=37, show_default=True,
              help="Days of synthetic listings to seed an empty store with (ending today).")
@click.option("--rows-per-day", type=click.IntRange(min=50), default=1500, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--retrain", is_flag=True, help="Train new models even if some exist.")
@click.option("--no-serve", is_flag=True, help="Stop after training and scoring.")
@click.pass_context
def up(ctx: click.Context, port: int, days: int, rows_per_day: int, seed: int, retrain: bool,
       no_serve: bool) -> None:
    """Seed a synthetic store if empty, train every model, show scores, serve and maintain them."""
    from zeta_serving import registry, synth, tasks
    from zeta_serving.maintenance.config import load_config
    from zeta_serving.maintenance.ledger import Champion, Ledger
    from zeta_serving.redaction import scrub_secrets
    from zeta_serving.trainer import train_task

    load_config(None, deployer="local", port=port)  # a bad zeta.toml stops here, before anything runs
    store = open_store(ctx)
    if store.count() == 0:
        start = date.today() - timedelta(days=days)
        click.echo(f"seeding {days} days x {rows_per_day} synthetic listings from {start} "
                   f"into {scrub_secrets(store.url)}", err=True)
        for frame in synth.generate(start, days, rows_per_day, seed=seed):
            store.insert(frame)
    click.echo(f"listing store: {store.count()} listings", err=True)

    ledger = Ledger(store.engine)
    click.echo(f"\n{'MODEL':9s} {'TAG':34s} {'HELD-OUT SCORE':34s} TRAIN ROWS")
    for task in tasks.names():
        champion = ledger.champion(task)
        if champion is not None and not retrain:
            saved = registry.describe(registry.get(champion.tag))
        else:
            # Only models trained here: another store's models in the shared BentoML home learned
            # from other data, and their scores would not be this store's.
            saved = train_task(store, task, on_stage=lambda m, t=task: click.echo(f"[{t}] {m}", err=True)).saved
            # A model trained by hand is the new champion: its held-out score is the standard to keep.
            ledger.crown(Champion(task, saved.tag, saved.reference_score, datetime.now(timezone.utc)))
        scores = saved.metadata["scores"]
        shown = "  ".join(f"{k} {v:.4f}" for k, v in scores.items() if k != "rows")
        click.echo(f"{task:9s} {saved.tag:34s} {shown:34s} {saved.metadata.get('train_rows', 0)}")
    if no_serve:
        return
    serve_and_maintain(store, port)


def serve_and_maintain(store, port: int) -> None:
    """The local deployer's front port serves the champions; the loop keeps them healthy beside it."""
    import threading

    from zeta_serving import procs, tasks
    from zeta_serving.maintenance.clock import SystemClock
    from zeta_serving.maintenance.config import load_config
    from zeta_serving.maintenance.local_deployer import LocalDeployer
    from zeta_serving.maintenance.runtime import make_maintainer
    from zeta_serving.maintenance.schedule import build_scheduler, next_runs

    config = load_config(None, deployer="local", port=port)
    deployer = LocalDeployer(port=port)
    maintainer = make_maintainer(store, config, SystemClock(), deployer=deployer)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    scheduler = None
    deployer.start()
    try:
        for task in tasks.names():
            click.echo(f"[serve] starting {task} (golden cases checked before it takes traffic)", err=True)
            maintainer.ensure_serving(task)
        from zeta_serving.cli.maintain_cmd import missed_at_start

        scheduler = build_scheduler(maintainer, config, background=True,
                                    missed=missed_at_start(maintainer, config, tasks.names()))
        scheduler.start()
        click.echo("\n" + curl_examples(port))
        for task, at in next_runs(config, SystemClock().now()).items():
            click.echo(f"maintenance: {task} next cycle {at:%Y-%m-%d %H:%M} UTC "
                       f"(schedule {config.policy(task).schedule!r}; `zeta status`, `zeta history {task}`)")
        click.echo("Ctrl-C stops everything.", err=True)
        while not stopping.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        maintainer.stopping.set()  # a running cycle stops at its next stage (recorded, lease released)
        procs.stop_all()  # ... and its build child now
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        deployer.stop()
