"""`zeta load`."""

from __future__ import annotations

import click

from zeta_serving.cli.common import open_store, progress_enabled
from zeta_serving.ingest import ON_ERROR
from zeta_serving.loaders import FORMATS


@click.command("load")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="Layout of FILE.")
@click.option("--on-error", type=click.Choice(ON_ERROR), default="skip", show_default=True,
              help="skip: load the good rows and report the bad; fail: load nothing if any row is bad.")
@click.option("--undated-end", default=None,
              help="Rows without a timestamp are spread, in file order, over the days before this "
                   "(default: today 00:00 UTC).")
@click.option("--undated-days", type=click.FloatRange(min=0, min_open=True), default=30.0,
              show_default=True, help="How many days undated rows are spread over.")
@click.pass_context
def load(ctx: click.Context, file: str, fmt: str, on_error: str, undated_end: str | None,
         undated_days: float) -> None:
    """Load listings from FILE into the store (loading the same file twice adds nothing)."""
    from zeta_serving.ingest import load_file

    result = load_file(open_store(ctx), file, fmt, on_error=on_error, undated_end=undated_end,
                       undated_days=undated_days, progress=progress_enabled())
    click.echo(f"read {result.read} rows, added {result.added}, already present {result.duplicates}, "
               f"skipped {result.report.error_count} bad")
    for error in result.report.errors:
        click.echo(f"  skipped {error}", err=True)
    if result.report.error_count > len(result.report.errors):
        click.echo(f"  ... and {result.report.error_count - len(result.report.errors)} more", err=True)
