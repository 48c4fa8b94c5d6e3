"""The schema comes from the Alembic migrations: concurrent starts, pre-Alembic databases, `zeta db`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime

import sqlalchemy as sa

import zeta_serving.maintenance.lease  # noqa: F401 - every table is declared on `metadata`
import zeta_serving.maintenance.ledger  # noqa: F401
from zeta_serving import db
from zeta_serving.store import ListingStore, make_engine, metadata

ADDED_BY_0002 = {"maintenance_runs": ("holder", "stage")}
TABLES_ADDED_LATER = {"accepts", "store_meta"}  # 0003, 0004


def test_migrations_make_exactly_the_declared_schema(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(db_url)
    assert db.current(engine) is None
    assert db.upgrade(engine) == db.head()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], diff  # a column declared in a module but missing from the migrations shows here
    engine.dispose()


def _pre_alembic_metadata() -> sa.MetaData:
    """The tables as the code before migrations created them (metadata.create_all), without later columns."""
    old = sa.MetaData()
    for table in metadata.sorted_tables:
        if table.name in TABLES_ADDED_LATER:
            continue
        dropped = ADDED_BY_0002.get(table.name, ())
        columns = [c._copy() for c in table.columns if c.name not in dropped]
        indexes = [sa.Index(i.name, *[c.name for c in i.columns]) for i in table.indexes
                   if not any(c.index for c in i.columns)]  # a column's index=True makes its own
        sa.Table(table.name, old, *columns, *indexes)
    return old


def test_a_database_made_before_alembic_is_upgraded_in_place(db_url):
    engine = make_engine(db_url)
    _pre_alembic_metadata().create_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO champions (model, tag, reference_score, promoted_at) "
                             "VALUES ('price', 'zeta-price:old', 0.5, :at)"), {"at": datetime(2026, 1, 1)})
        conn.execute(sa.text("INSERT INTO maintenance_runs (model, replica, \"trigger\", now, started_at, alerted, "
                             "details) VALUES ('price', 'r', 'schedule', :at, :at, false, '{}')"),
                     {"at": datetime(2026, 1, 1)})
    assert "holder" not in {c["name"] for c in sa.inspect(engine).get_columns("maintenance_runs")}

    store = ListingStore(db_url)  # what every command does on start
    assert db.current(store.engine) == db.head()
    assert {"holder", "stage"} <= {c["name"] for c in sa.inspect(store.engine).get_columns("maintenance_runs")}
    from zeta_serving.maintenance.ledger import Ledger

    ledger = Ledger(store.engine)
    assert ledger.champion("price").tag == "zeta-price:old"  # nothing lost
    assert ledger.history("price")["replica"].tolist() == ["r"]
    engine.dispose()


def test_a_database_with_only_the_listings_table_gets_the_rest(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    _pre_alembic_metadata().tables["listings"].create(engine)
    db.ensure_schema(engine)
    assert {"leases", "champions", "maintenance_runs", "maintenance_stages"} <= set(sa.inspect(engine).get_table_names())


RACER = """
import json, sys, time
from zeta_serving.store import ListingStore
go = sys.argv[2]
import os
while not os.path.exists(go):
    time.sleep(0.002)
try:
    ListingStore(sys.argv[1]).count()
    print(json.dumps({"ok": True}))
except Exception as exc:
    print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}))
"""


def test_simultaneous_starts_on_an_empty_database_all_succeed(db_url, tmp_path):
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    racers = [subprocess.Popen([sys.executable, "-c", RACER, db_url, str(go)], stdout=subprocess.PIPE, text=True,
                               env=env) for _ in range(12)]
    time.sleep(2.5)  # every racer has imported zeta and waits on the start file
    go.touch()
    outcomes = [json.loads(r.communicate(timeout=120)[0].strip().splitlines()[-1]) for r in racers]
    assert all(o["ok"] for o in outcomes), [o for o in outcomes if not o["ok"]]
    assert db.current(make_engine(db_url)) == db.head()


def test_zeta_db_upgrade_and_current(tmp_path, capsys):
    from zeta_serving.cli import main

    url = f"sqlite:///{tmp_path / 'z.db'}"

    def run(*args):
        try:
            main(["--db", url, "db", *args])
        except SystemExit as exc:
            assert not exc.code
        return capsys.readouterr().out

    assert "unversioned" in run("current") and "behind" in run("current")
    assert f"database at revision {db.head()} (was unversioned)" in run("upgrade")
    assert run("upgrade").strip() == f"database at revision {db.head()}"
    assert "up to date" in run("current")


def test_migration_scripts_ship_inside_the_package():
    from importlib.resources import files

    versions = files("zeta_serving") / "migrations" / "versions"
    assert sorted(p.name for p in versions.iterdir() if p.name.endswith(".py") and p.name[0].isdigit())[:2] == [
        "0001_baseline.py", "0002_run_holder_and_stage.py"]
    assert (files("zeta_serving") / "migrations" / "script.py.mako").is_file()
    assert (files("zeta_serving") / "migrations" / "env.py").is_file()
