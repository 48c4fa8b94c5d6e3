"""The listing store: the database the models learn from and are judged on.

SQLAlchemy Core over any URL; SQLite under $ZETA_HOME by default, PostgreSQL in
production. Times are stored as naive UTC so both behave the same. The tables declared
here and in the ledger are created and changed by migrations only (zeta_serving/db.py).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zeta_serving.errors import ZetaError
from zeta_serving.labels import sql_filter
from zeta_serving.redaction import scrub_secrets
from zeta_serving.paths import default_db_url
from zeta_serving.schema import COLUMNS
from zeta_serving.windows import as_utc

metadata = sa.MetaData()

listings = sa.Table(
    "listings",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("brand", sa.String(300), nullable=False, default=""),
    sa.Column("condition", sa.SmallInteger, nullable=False),
    sa.Column("shipping", sa.SmallInteger, nullable=False),
    sa.Column("category", sa.Text, nullable=False, default=""),
    sa.Column("price", sa.Float, nullable=True),
    sa.Column("currency", sa.String(3), nullable=False, default="JPY"),
    sa.Column("tags", sa.Text, nullable=False, default="[]"),
    sa.Column("listed_at", sa.DateTime, nullable=False),
    sa.Index("ix_listings_listed_at", "listed_at"),
)

# One row: the store's identity. Several stores (checkouts, databases) share one BentoML home on
# a machine; models are labelled with the id of the store they learned from, so one store never
# adopts another's models by default.
store_meta = sa.Table(
    "store_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)

INSERT_BATCH = 5000


# scheme://user:password@host...: the password runs to the *last* "@" before the path (as in scrub_secrets).
_URL_WITH_PASSWORD = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^\s/]*)@(?P<rest>[^@]*)$")


def normalize_url(url: str) -> str:
    """The URL with an unencoded "@" in its password encoded: SQLAlchemy would otherwise split the
    password at its first "@", connect to a host made of its tail and print that tail in errors."""
    match = _URL_WITH_PASSWORD.match(url)
    if match is None or "@" not in match["password"]:
        return url
    return f"{match['head']}{match['password'].replace('@', '%40')}@{match['rest']}"


def make_engine(url: str) -> Engine:
    try:
        engine = sa.create_engine(normalize_url(url), future=True, pool_pre_ping=True)
    except (sa.exc.ArgumentError, ImportError, ValueError) as exc:
        raise ZetaError(f"cannot use database URL {scrub_secrets(url)}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        # Concurrent readers (the serving process, the loop) while one writer loads.
        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    return engine


class ListingStore:
    """Listings in a SQL database, read back as pandas DataFrames by time window."""

    def __init__(self, url: str | None = None):
        self.url = url or default_db_url()
        self.engine = make_engine(self.url)
        self._id: str | None = None
        from zeta_serving.db import ensure_schema

        ensure_schema(self.engine)  # the Alembic migrations, once per database (see zeta_serving/db.py)

    @property
    def id(self) -> str:
        """This store's identity, made on first use (a random id: two stores never share one)."""
        if self._id is None:
            self._id = store_id(self.engine)
        return self._id

    # -- writing -----------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One atomic write: everything inside lands, or nothing does."""
        with self.engine.begin() as conn:
            yield conn

    def insert(self, frame: pd.DataFrame, conn: Connection | None = None) -> int:
        """Add listings whose id is new; returns how many were added (loading twice adds nothing)."""
        if conn is None:
            with self.transaction() as own:
                return self.insert(frame, own)
        added = 0
        for batch in _batches(_to_rows(frame), INSERT_BATCH):
            added += _insert_ignoring_duplicates(conn, batch)
        return added

    # -- reading -----------------------------------------------------------
    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(listings)).scalar_one()

    def time_range(self) -> tuple[pd.Timestamp, pd.Timestamp] | None:
        query = sa.select(sa.func.min(listings.c.listed_at), sa.func.max(listings.c.listed_at))
        with self.engine.connect() as conn:
            lo, hi = conn.execute(query).one()
        if lo is None:
            return None
        return as_utc(lo), as_utc(hi)

    def window(self, start, end, *, labelled: str | None = None, limit: int | None = None) -> pd.DataFrame:
        """Listings with start <= listed_at < end, oldest first, as one DataFrame.

        `labelled` names a label column (zeta_serving.labels) that must be present.
        `limit` keeps only the newest `limit` rows (the freshest evidence).
        """
        chunks = list(self.iter_window(start, end, labelled=labelled, limit=limit))
        if not chunks:
            return empty_frame()
        return pd.concat(chunks, ignore_index=True)

    def iter_window(self, start, end, *, labelled: str | None = None, limit: int | None = None,
                    chunk_rows: int = 50_000) -> Iterator[pd.DataFrame]:
        """The same rows streamed in chunks, so a large window never sits in memory twice."""
        query = sa.select(listings).where(listings.c.listed_at >= naive_utc(start),
                                          listings.c.listed_at < naive_utc(end))
        query = query.where(*_label_filter(labelled))
        if limit is not None:
            newest = query.order_by(listings.c.listed_at.desc(), listings.c.id.desc()).limit(limit)
            query = sa.select(newest.subquery())
            order = [query.selected_columns.listed_at, query.selected_columns.id]
        else:
            order = [listings.c.listed_at, listings.c.id]
        query = query.order_by(*order)
        with self.engine.connect().execution_options(stream_results=True) as conn:
            result = conn.execute(query)
            while rows := result.fetchmany(chunk_rows):
                yield _to_frame(rows)

    def count_window(self, start, end, *, labelled: str | None = None) -> int:
        query = (sa.select(sa.func.count()).select_from(listings)
                 .where(listings.c.listed_at >= naive_utc(start), listings.c.listed_at < naive_utc(end))
                 .where(*_label_filter(labelled)))
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()


def store_id(engine: Engine) -> str:
    """The id kept in `store_meta`; the first caller writes it, concurrent first callers agree on one."""
    import uuid

    query = sa.select(store_meta.c.value).where(store_meta.c.key == "store_id")
    with engine.connect() as conn:
        found = conn.execute(query).scalar_one_or_none()
    if found:
        return str(found)
    try:
        with engine.begin() as conn:
            conn.execute(store_meta.insert().values(key="store_id", value=uuid.uuid4().hex[:12]))
    except sa.exc.IntegrityError:
        pass  # another process wrote it first: theirs is the id
    with engine.connect() as conn:
        return str(conn.execute(query).scalar_one())


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})


def _label_filter(labelled: str | None) -> list:
    return sql_filter(listings, labelled)


def naive_utc(value):
    """UTC as a naive datetime, as every zeta table stores it (naive input is taken as UTC; None stays None)."""
    return None if value is None else as_utc(value).tz_convert(None).to_pydatetime()


def _to_rows(frame: pd.DataFrame) -> Iterator[dict]:
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ZetaError(f"listings are missing columns: {', '.join(missing)}")
    stamps = pd.to_datetime(frame["listed_at"], utc=True).dt.tz_convert(None)
    for rec, ts in zip(frame[COLUMNS].itertuples(index=False), stamps):
        price = rec.price
        yield {
            "id": str(rec.id),
            "name": rec.name,
            "description": rec.description or "",
            "brand": rec.brand or "",
            "condition": int(rec.condition),
            "shipping": int(rec.shipping),
            "category": rec.category or "",
            "price": None if price is None or (isinstance(price, float) and math.isnan(price)) else float(price),
            "currency": rec.currency or "JPY",
            "tags": json.dumps(list(rec.tags), ensure_ascii=False),
            "listed_at": ts.to_pydatetime(),
        }


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert_ignoring_duplicates(conn: Connection, batch: list[dict]) -> int:
    dialect = conn.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        raise ZetaError(f"unsupported database {dialect!r}: use SQLite or PostgreSQL")
    # Duplicates inside one batch would make PostgreSQL refuse the whole statement.
    unique = list({row["id"]: row for row in batch}.values())
    # RETURNING counts what was really added on both dialects (rowcount is -1 on psycopg).
    stmt = insert(listings).on_conflict_do_nothing(index_elements=["id"]).returning(listings.c.id)
    return len(conn.execute(stmt, unique).all())


def _to_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame([r._mapping for r in rows], columns=[c.name for c in listings.columns])
    frame["tags"] = [json.loads(t) for t in frame["tags"]]
    frame["listed_at"] = pd.to_datetime(frame["listed_at"]).dt.tz_localize("UTC")
    frame["price"] = frame["price"].astype(float)
    frame["condition"] = frame["condition"].astype(int)
    frame["shipping"] = frame["shipping"].astype(int)
    return frame[COLUMNS]
