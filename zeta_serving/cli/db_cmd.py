"""`zeta db upgrade`, `zeta db current`: the schema's migrations (every command also upgrades by itself)."""

from __future__ import annotations

import click


def _engine(ctx: click.Context):
    from zeta_serving.paths import default_db_url
    from zeta_serving.store import make_engine

    return make_engine(ctx.find_root().obj.get("db_url") or default_db_url())


@click.group("db")
def db() -> None:
    """The database schema (Alembic migrations shipped with zeta)."""


@db.command("upgrade")
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Create or update the tables (safe while other processes start on the same database)."""
    from zeta_serving import db as schema

    engine = _engine(ctx)
    before = schema.current(engine)
    after = schema.upgrade(engine)
    click.echo(f"database at revision {after}" + ("" if before == after else f" (was {before or 'unversioned'})"))


@db.command("current")
@click.pass_context
def current(ctx: click.Context) -> None:
    """The database's revision and the newest this zeta knows."""
    from zeta_serving import db as schema

    at = schema.current(_engine(ctx))
    head = schema.head()
    state = "up to date" if at == head else "behind: run `zeta db upgrade`"
    click.echo(f"database at {at or 'unversioned'}, newest {head}: {state}")
