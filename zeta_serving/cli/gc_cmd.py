"""`zeta gc`: bound the model and bento stores (the loop does the same after every cycle)."""

from __future__ import annotations

import click

from zeta_serving.cli.common import echo_json, open_store, task_names


@click.command("gc")
@click.option("--model", "models", multiple=True, type=click.Choice(task_names()),
              help="Only this task (repeatable).")
@click.option("--keep", type=click.IntRange(min=0), default=None,
              help="Newest other models and bentos to keep per task (default: keep_models from the config).")
@click.option("--dry-run", is_flag=True, help="Say what would be removed; remove nothing.")
@click.option("--config", "config_file", default=None)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def gc(ctx, models: tuple[str, ...], keep: int | None, dry_run: bool, config_file: str | None, as_json: bool) -> None:
    """Remove old models and bentos; the champion, the previous champion and what serves always stay."""
    from zeta_serving.maintenance import gc as collector
    from zeta_serving.maintenance.clock import SystemClock
    from zeta_serving.maintenance.config import load_config
    from zeta_serving.maintenance.lease import Lease, default_holder
    from zeta_serving.maintenance.ledger import Ledger

    config = load_config(config_file)
    store = open_store(ctx)
    ledger = Ledger(store.engine)
    results, busy = [], []
    for task in models or task_names():
        policy = config.policy(task)
        # The task's lease: a cycle in progress (another process, another replica) owns its new models.
        lease = Lease(store.engine, task, default_holder(), policy.lease_seconds, SystemClock())
        if not lease.acquire():
            busy.append(task)
            continue
        try:
            results.append(collector.collect(task, ledger=ledger, keep=policy.keep_models if keep is None else keep,
                                             dry_run=dry_run))
        finally:
            lease.release()
    if not models and not busy:
        results.append(collector.collect_all_in_one(ledger=ledger, dry_run=dry_run,
                                                    keep=config.policy("price").keep_models if keep is None else keep))
    if as_json:
        echo_json({"dry_run": dry_run, "busy": busy, "tasks": [r.as_dict() for r in results]})
        return
    verb = "would remove" if dry_run else "removed"
    for r in results:
        click.echo(f"{r.task:9s} kept {len(r.kept)}, {verb} {len(r.deleted)}"
                   + (f": {', '.join(r.deleted)}" if r.deleted else ""))
    for task in busy:
        click.echo(f"{task:9s} skipped: a maintenance cycle holds its lease", err=True)
