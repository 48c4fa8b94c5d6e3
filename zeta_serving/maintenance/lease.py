"""Leases: at most one replica acts on a model at a time, across processes and hosts.

A lease is one row per model in the shared database: who holds it and until when. It is
taken atomically (an INSERT that ignores conflicts, then a conditional UPDATE, in one
transaction), so two callers never both get it, on SQLite or PostgreSQL:

  - SQLite: the INSERT is the transaction's first statement and a write, so the whole
    transaction holds the database's write lock (WAL + busy_timeout from `make_engine`).
  - PostgreSQL: the UPDATE takes the row lock and re-checks its WHERE against the row a
    concurrent winner just committed (READ COMMITTED), so the loser updates nothing.

A holder that dies keeps the lease only until it expires. Times come from the injected
clock; holders on different hosts must have clocks that roughly agree (NTP), and a lease
should be several times longer than the skew between them.

A cycle holds a short lease (`lease_seconds`, 90 by default) and a `Heartbeat` thread renews
it every third of that while the cycle runs, so a cycle killed with SIGKILL frees its model
within `lease_seconds`, while a cycle longer than that keeps it. Every cycle has its own
holder identity (`cycle_holder`), so two cycles of one model in one process exclude each
other like two replicas do.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zeta_serving.db import ensure_schema
from zeta_serving.errors import ZetaError
from zeta_serving.maintenance.clock import Clock
from zeta_serving.store import metadata
from zeta_serving.store import naive_utc as _naive

leases = sa.Table(
    "leases",
    metadata,
    sa.Column("model", sa.String(32), primary_key=True),
    sa.Column("holder", sa.String(200), nullable=False),
    sa.Column("acquired_at", sa.DateTime, nullable=False),  # naive UTC
    sa.Column("expires_at", sa.DateTime, nullable=False),  # naive UTC
)

HOLDER_MAX = 200

log = logging.getLogger(__name__)


class LeaseHeld(ZetaError):
    """Someone else holds the lease."""

    def __init__(self, model: str, holder: str | None, expires_at: datetime | None):
        self.model, self.holder, self.expires_at = model, holder, expires_at
        if holder is None:
            super().__init__(f"the lease on {model} is held by another replica")
        else:
            super().__init__(f"the lease on {model} is held by {holder} until {expires_at.isoformat()}")


def default_holder() -> str:
    """This process, as a lease holder: "<hostname>-<pid>"."""
    pid = f"-{os.getpid()}"
    return socket.gethostname()[: HOLDER_MAX - len(pid)] + pid


def cycle_holder(replica: str) -> str:
    """A holder identity for one cycle: the replica's, plus a random suffix of its own."""
    suffix = f"#{uuid.uuid4().hex[:12]}"
    return replica[: HOLDER_MAX - len(suffix)] + suffix


class LeaseLost(ZetaError):
    """The lease expired or was taken over while we acted: stop, change nothing more."""

    def __init__(self, model: str):
        super().__init__(f"the lease on {model} was lost (expired or taken over): stopping before any change")


def ensure_table(engine: Engine) -> None:
    """Bring the schema (leases included) to head: the migrations are safe when processes race."""
    ensure_schema(engine)


def _insert_ignoring_conflict(conn: Connection, values: dict) -> None:
    dialect = conn.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        raise ZetaError(f"unsupported database {dialect!r} for leases: use SQLite or PostgreSQL")
    conn.execute(insert(leases).values(**values).on_conflict_do_nothing(index_elements=["model"]))


class Lease:
    """The right to act on one model until `expires_at`; `with lease:` or acquire/renew/release.

    A lease is valid while now <= expires_at. acquire() takes it when it is free, expired or
    already ours (then it extends it); renew() extends it only while it is still ours and
    unexpired; release() gives it up only if it is ours.
    """

    def __init__(self, engine: Engine, model: str, holder: str, seconds: float, clock: Clock):
        self.engine = engine
        self.model = model
        self.holder = holder
        self.seconds = seconds
        self.clock = clock
        self._table_ready = False

    def __repr__(self) -> str:
        return f"Lease(model={self.model!r}, holder={self.holder!r}, seconds={self.seconds})"

    def _times(self) -> tuple[datetime, datetime]:
        now = _naive(self.clock.now())
        return now, now + timedelta(seconds=self.seconds)

    def _ready(self) -> None:
        if not self._table_ready:
            ensure_table(self.engine)
            self._table_ready = True

    # -- operations ------------------------------------------------------------
    def acquire(self) -> bool:
        """Take the lease if free, expired or already ours (extending it); True if we hold it now."""
        self._ready()
        now, until = self._times()
        c = leases.c
        ours_and_valid = sa.and_(c.holder == self.holder, c.expires_at >= now)
        with self.engine.begin() as conn:
            # First statement is a write: on SQLite the transaction holds the write lock from here on.
            _insert_ignoring_conflict(conn, dict(model=self.model, holder=self.holder, acquired_at=now,
                                                 expires_at=until))
            taken = conn.execute(
                leases.update()
                .where(c.model == self.model, sa.or_(c.holder == self.holder, c.expires_at < now))
                .values(holder=self.holder, expires_at=until,
                        acquired_at=sa.case((ours_and_valid, c.acquired_at), else_=sa.literal(now, sa.DateTime))))
            return taken.rowcount == 1

    def renew(self) -> bool:
        """Extend the lease by `seconds` from now; False if it expired or is no longer ours."""
        self._ready()
        now, until = self._times()
        c = leases.c
        with self.engine.begin() as conn:
            renewed = conn.execute(leases.update()
                                   .where(c.model == self.model, c.holder == self.holder, c.expires_at >= now)
                                   .values(expires_at=until))
            return renewed.rowcount == 1

    def release(self) -> bool:
        """Give the lease up if it is ours; True if a row of ours was removed."""
        self._ready()
        with self.engine.begin() as conn:
            gone = conn.execute(leases.delete().where(leases.c.model == self.model,
                                                      leases.c.holder == self.holder))
            return gone.rowcount == 1

    def holder_of(self) -> tuple[str, datetime] | None:
        """(holder, expires_at as tz-aware UTC) of the valid lease on this model, None if it is free or expired."""
        self._ready()
        now, _ = self._times()
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(leases.c.holder, leases.c.expires_at)
                               .where(leases.c.model == self.model)).first()
        if row is None or row.expires_at < now:
            return None
        return row.holder, row.expires_at.replace(tzinfo=timezone.utc)

    # -- context manager -------------------------------------------------------
    def __enter__(self) -> Lease:
        if not self.acquire():
            current = self.holder_of()
            raise LeaseHeld(self.model, *(current if current else (None, None)))
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.release()
            return
        try:  # the body's exception matters more than a failed release (the lease will expire anyway)
            self.release()
        except Exception as release_error:  # noqa: BLE001
            log.warning("lease on %s: release failed (%s); it expires on its own", self.model,
                        type(release_error).__name__)


class Heartbeat:
    """Renews a held lease from a daemon thread every `seconds / 3` until stopped.

    A renewal that finds the lease gone (expired, taken over) marks it lost for good. A renewal
    that fails (database unreachable) is retried at the next beat; once the last expiry we
    wrote has passed, the lease counts as lost too. `confirm()` renews right now and raises
    LeaseLost unless we still hold the lease: call it before any change others could see.
    """

    def __init__(self, lease: Lease, interval: float | None = None):
        self.lease = lease
        self.interval = interval if interval is not None else max(lease.seconds / 3.0, 0.05)
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._valid_until = lease._times()[1]

    def start(self) -> Heartbeat:
        self._thread = threading.Thread(target=self._beat, name=f"lease-heartbeat-{self.lease.model}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _renew(self) -> None:
        until = self.lease._times()[1]
        if self.lease.renew():
            self._valid_until = until
        else:
            self.lost.set()

    def _beat(self) -> None:
        failures = 0
        while not self._stop.wait(self.interval) and not self.lost.is_set():
            try:
                self._renew()
                failures = 0
            except Exception as exc:  # noqa: BLE001 - an unreachable database: retry, then give up
                failures += 1
                if failures == 1:
                    log.warning("lease on %s: renewal failed (%s); retrying", self.lease.model, type(exc).__name__)
                if self.lease._times()[0] > self._valid_until:
                    self.lost.set()

    def confirm(self) -> None:
        if not self.lost.is_set():
            try:
                self._renew()
            except Exception:  # noqa: BLE001 - cannot prove we hold it: act as if we do not
                self.lost.set()
        if self.lost.is_set():
            raise LeaseLost(self.lease.model)
