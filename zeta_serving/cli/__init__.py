"""The `zeta` command. Every failure a user can fix is one line on stderr and a non-zero exit."""

from __future__ import annotations

import logging
import sys

import click

from zeta_serving.errors import ZetaError


@click.group()
@click.option("--debug", is_flag=True, help="Show full tracebacks.")
@click.option("--db", "db_url", envvar="ZETA_DB_URL", default=None,
              help="SQLAlchemy URL of the listing store (default: SQLite under $ZETA_HOME).")
@click.pass_context
def cli(ctx: click.Context, debug: bool, db_url: str | None) -> None:
    """zeta-serving: suggestion models for marketplace listings."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["db_url"] = db_url
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


def _register() -> None:
    # Imported here so that `zeta --help` stays fast and one broken module names itself.
    from zeta_serving.cli import commands

    for command in commands.ALL:
        cli.add_command(command)


def main(argv: list[str] | None = None) -> None:
    _register()
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        code = cli.main(args=argv, prog_name="zeta", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Abort:
        click.echo("zeta: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ZetaError as exc:
        if debug:
            raise
        click.echo(f"zeta: error: {exc}", err=True)
        sys.exit(getattr(exc, "exit_code", 1))
    except KeyboardInterrupt:
        click.echo("zeta: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if debug:
            raise
        click.echo(f"zeta: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
                   err=True)
        sys.exit(2)
