"""`zeta backtest`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from zeta_serving.maintenance.backtest import SCENARIOS


@click.command("backtest")
@click.option("--scenario", "scenarios", multiple=True, type=click.Choice(SCENARIOS),
              help="Which histories to replay (repeatable; default: all four).")
@click.option("--days", type=click.IntRange(min=4), default=26, show_default=True, help="Days replayed after warm-up.")
@click.option("--drift-after", type=click.IntRange(min=1), default=8, show_default=True,
              help="The replayed day on which drift starts.")
@click.option("--rows-per-day", type=click.IntRange(min=100), default=600, show_default=True)
@click.option("--eval-days", type=click.FloatRange(min=0.5), default=2.0, show_default=True)
@click.option("--train-days", type=click.FloatRange(min=1), default=10.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Where each scenario's ledger (<scenario>.db) and results go (default: $ZETA_HOME/backtest).")
@click.option("--json", "as_json", is_flag=True)
def backtest(scenarios, days, drift_after, rows_per_day, eval_days, train_days, seed, out_dir, as_json) -> None:
    """Replay synthetic histories day by day through the real loop and score how it decided."""
    from zeta_serving.maintenance.backtest import Plan, print_table, run_isolated
    from zeta_serving.paths import zeta_home

    if drift_after >= days:
        raise click.UsageError("--drift-after must be less than --days")
    plan = Plan(days=days, drift_after=drift_after, rows_per_day=rows_per_day, eval_days=eval_days,
                train_days=train_days, seed=seed)
    out = Path(out_dir) if out_dir else zeta_home() / "backtest"
    try:
        summaries = run_isolated(scenarios or SCENARIOS, plan, out, echo=lambda m: click.echo(m, err=True))
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(summaries, ensure_ascii=False, indent=2))
        return
    click.echo(f"\ndrift starts on replayed day {drift_after} ({plan.drift_day}); evaluation window {eval_days} days, "
               f"training window {train_days} days, {rows_per_day} listings a day\n")
    print_table(summaries, echo=click.echo)
    click.echo(f"\nledgers: {out}/<scenario>.db   report: zeta --db sqlite:///{out}/vocab.db report --out {out}/report")
