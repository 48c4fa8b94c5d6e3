"""`zeta load`."""

from __future__ import annotations

import contextlib

import click

from zeta_serving.cli.common import open_store, progress_enabled
from zeta_serving.errors import ZetaError
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
@click.option("--rejects", "rejects_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write every rejected line to this file (line number TAB reason); stderr shows five.")
@click.pass_context
def load(ctx: click.Context, file: str, fmt: str, on_error: str, undated_end: str | None,
         undated_days: float, rejects_path: str | None) -> None:
    """Load listings from FILE into the store (loading the same file twice adds nothing).

    Every non-blank line after the header is a record, and every record is read or rejected
    with its line number. A file with no readable row is an error (exit 1).
    """
    from zeta_serving.ingest import load_file

    with contextlib.ExitStack() as stack:
        on_reject = None
        if rejects_path:
            try:
                out = stack.enter_context(open(rejects_path, "w", encoding="utf-8"))
            except OSError as exc:
                raise ZetaError(f"cannot write {rejects_path}: {exc.strerror or exc}") from None
            on_reject = lambda error: out.write(f"{error.line}\t{error.reason}\n")  # noqa: E731
        result = load_file(open_store(ctx), file, fmt, on_error=on_error, undated_end=undated_end,
                           undated_days=undated_days, progress=progress_enabled(), on_reject=on_reject)
    report = result.report
    click.echo(f"{report.records} records: read {result.read}, rejected {report.error_count}; "
               f"added {result.added}, already present {result.duplicates}")
    for error in result.report.errors:
        click.echo(f"  skipped {error}", err=True)
    if result.report.error_count > len(result.report.errors):
        click.echo(f"  ... and {result.report.error_count - len(result.report.errors)} more", err=True)
