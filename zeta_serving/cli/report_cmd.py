"""`zeta report`: the maintenance report (HTML + one PNG per model) from the ledger."""

from __future__ import annotations

from pathlib import Path

import click

from zeta_serving.cli.common import open_store, task_names

MODEL_CHOICES = task_names()


@click.command("report")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory to write index.html and the PNGs into (created if missing).")
@click.option("--model", "models", multiple=True, type=click.Choice(MODEL_CHOICES),
              help="Only this model (repeatable; default: all).")
@click.pass_context
def report(ctx: click.Context, out_dir: Path, models: tuple[str, ...]) -> None:
    """Write the maintenance report: scores, alerts, promotions and failures per model, from the ledger."""
    from zeta_serving.maintenance.ledger import Ledger
    from zeta_serving.maintenance.report import write_report

    store = open_store(ctx)
    index = write_report(Ledger(store.engine), out_dir, models=models or tuple(MODEL_CHOICES))
    click.echo(str(index))
