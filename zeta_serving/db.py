"""The database schema: created and changed only by the Alembic migrations in zeta_serving/migrations.

Every command that opens the database calls `ensure_schema`, which runs `upgrade` when the
database is behind. Several processes may start at once on an empty database (replicas,
CronJobs, `zeta status` in a loop), so the upgrade is serialized:

  - PostgreSQL: a session-level advisory lock held on the connection that migrates;
  - SQLite: an exclusive lock on a file beside the database (`<db>.migrate-lock`).

Whoever gets the lock second finds the database at head and does nothing.

Adding a table or a column (to every developer): declare it in the module's `sa.Table` as
usual, then add a revision to zeta_serving/migrations/versions/ (copy the newest one: set
`revision` to the next number and `down_revision` to the newest) whose upgrade() makes the
same change with `op.create_table` / `op.add_column` (inside `op.batch_alter_table` for
SQLite). Never edit a revision that has landed: databases out there are already past it.
`zeta db upgrade` applies it; `zeta db current` shows where a database is.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import weakref
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zeta_serving.errors import ZetaError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
# pg_advisory_lock key: any constant that no other application on the database uses ("zeta" in ASCII).
ADVISORY_KEY = 0x7A657461

log = logging.getLogger(__name__)
_ready: "weakref.WeakSet[Engine]" = weakref.WeakSet()  # engines already checked at head


def _config(connection: Connection | None = None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@functools.lru_cache(maxsize=1)
def head() -> str:
    """The newest revision this code knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated, maybe made before Alembic)."""
    with engine.connect() as conn:
        return _current(conn)


def _current(conn: Connection) -> str | None:
    if not sa.inspect(conn).has_table(VERSION_TABLE):
        return None
    return conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def ensure_schema(engine: Engine) -> None:
    """Bring the database to head if it is behind (a cheap read when it is not)."""
    if engine in _ready:
        return
    try:
        behind = current(engine) != head()
    except sa.exc.OperationalError as exc:
        raise ZetaError(f"cannot reach database {_redacted(engine)}: {_first_line(exc.orig)}") from exc
    if behind:
        upgrade(engine)
    _ready.add(engine)


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Apply the migrations up to `revision`, one process at a time; returns the revision reached."""
    from alembic import command

    try:
        with _migration_lock(engine) as conn:
            command.upgrade(_config(conn), revision)
            conn.commit()
            return _current(conn)
    except sa.exc.OperationalError as exc:
        raise ZetaError(f"cannot reach database {_redacted(engine)}: {_first_line(exc.orig)}") from exc


@contextlib.contextmanager
def _migration_lock(engine: Engine):
    dialect = engine.dialect.name
    if dialect == "postgresql":
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_KEY})
            conn.commit()
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_KEY})
                conn.commit()
    elif dialect == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            with engine.connect() as conn:  # private to this process: nobody to race
                yield conn
            return
        lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
        with open(lock_path, "a+b") as lock_file:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
            try:
                with engine.connect() as conn:
                    yield conn
            finally:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
    else:
        raise ZetaError(f"unsupported database {dialect!r}: use SQLite or PostgreSQL")


def _redacted(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _first_line(error) -> str:
    from zeta_serving.redaction import scrub_secrets

    text = str(error).strip()
    return scrub_secrets(text.splitlines()[0] if text else type(error).__name__)
