"""Leases on SQLite and PostgreSQL: semantics with a fixed clock, real races between processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

import zeta_serving.maintenance.lease  # noqa: F401 - registers `leases` on metadata before db_url drops tables
from zeta_serving.errors import ZetaError
from zeta_serving.maintenance.clock import FixedClock, SystemClock
from zeta_serving.maintenance.lease import Lease, LeaseHeld, default_holder, ensure_table, leases
from zeta_serving.store import make_engine

ROOT = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 3, 14, 3, 0, tzinfo=timezone.utc)


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock():
    return FixedClock(T0)


def row(engine, model="price"):
    with engine.connect() as conn:
        return conn.execute(sa.select(leases).where(leases.c.model == model)).first()


# -- semantics with a fixed clock ----------------------------------------------------


def test_acquire_refuse_expire_take_over(engine, clock):
    a = Lease(engine, "price", "A", 60, clock)
    b = Lease(engine, "price", "B", 60, clock)
    assert a.holder_of() is None  # the table is created on first use
    assert a.acquire() is True
    assert a.holder_of() == b.holder_of() == ("A", T0 + timedelta(seconds=60))

    assert b.acquire() is False
    clock.advance(seconds=60)  # exactly at expiry: still A's
    assert b.acquire() is False
    clock.advance(seconds=1)
    assert a.holder_of() is None  # expired: nobody holds it
    assert b.acquire() is True
    assert a.holder_of() == ("B", clock.now() + timedelta(seconds=60))
    assert row(engine).acquired_at == (T0 + timedelta(seconds=61)).replace(tzinfo=None)

    # A lost it: it can neither renew nor release B's lease, nor take it back.
    assert a.renew() is False
    assert a.release() is False
    assert a.acquire() is False
    assert b.holder_of()[0] == "B"


def test_reacquire_by_same_holder_extends_and_keeps_acquired_at(engine, clock):
    a = Lease(engine, "price", "A", 60, clock)
    assert a.acquire()
    clock.advance(seconds=45)
    assert a.acquire() is True
    assert a.holder_of() == ("A", T0 + timedelta(seconds=105))
    assert row(engine).acquired_at == T0.replace(tzinfo=None)
    # After expiry, acquiring again is a new tenure.
    clock.advance(seconds=200)
    assert a.acquire() is True
    assert row(engine).acquired_at == clock.now().replace(tzinfo=None)


def test_renew_and_release(engine, clock):
    a = Lease(engine, "price", "A", 60, clock)
    b = Lease(engine, "price", "B", 60, clock)
    assert a.renew() is False  # nothing to renew
    assert a.acquire()
    clock.advance(seconds=50)
    assert a.renew() is True
    assert a.holder_of()[1] == T0 + timedelta(seconds=110)
    clock.advance(seconds=61)  # expired
    assert a.renew() is False
    assert a.acquire() is True  # still free for anyone, including A

    assert b.release() is False  # not B's
    assert a.holder_of()[0] == "A"
    assert a.release() is True
    assert a.holder_of() is None and row(engine) is None
    assert a.release() is False
    assert b.acquire() is True  # free immediately after a release


def test_models_are_independent(engine, clock):
    assert Lease(engine, "price", "A", 60, clock).acquire()
    assert Lease(engine, "category", "B", 60, clock).acquire()
    assert Lease(engine, "tag", "A", 60, clock).acquire()
    assert Lease(engine, "price", "B", 60, clock).acquire() is False


def test_clock_timezone_is_normalised_to_utc(engine):
    jst = timezone(timedelta(hours=9))
    lease = Lease(engine, "price", "A", 60, FixedClock(datetime(2026, 3, 14, 12, 0, tzinfo=jst)))
    assert lease.acquire()
    assert lease.holder_of() == ("A", datetime(2026, 3, 14, 3, 1, tzinfo=timezone.utc))
    assert row(engine).expires_at == datetime(2026, 3, 14, 3, 1)  # stored naive UTC


def test_context_manager(engine, clock):
    a = Lease(engine, "price", "A", 60, clock)
    b = Lease(engine, "price", "B", 60, clock)
    with a as held:
        assert held is a and a.holder_of()[0] == "A"
        with pytest.raises(LeaseHeld) as info:
            with b:
                pytest.fail("B must not get in")
        assert isinstance(info.value, ZetaError)
        assert info.value.holder == "A" and info.value.expires_at == T0 + timedelta(seconds=60)
        assert "price" in str(info.value) and "A" in str(info.value)
        assert (T0 + timedelta(seconds=60)).isoformat() in str(info.value)
    assert a.holder_of() is None  # released on exit

    with pytest.raises(RuntimeError):
        with b:
            raise RuntimeError("the body failed")
    assert a.holder_of() is None  # released on an exception too
    with a:
        pass


def test_threads_racing_for_an_expired_lease_get_it_once(engine, clock):
    assert Lease(engine, "price", "old", 60, clock).acquire()
    clock.advance(seconds=120)
    ensure_table(engine)
    racers = [Lease(engine, "price", f"T{i}", 60, clock) for i in range(8)]
    barrier = threading.Barrier(len(racers))
    results: dict[str, bool] = {}

    def race(lease):
        barrier.wait()
        results[lease.holder] = lease.acquire()

    threads = [threading.Thread(target=race, args=(lease,)) for lease in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winners = [holder for holder, won in results.items() if won]
    assert len(results) == 8 and len(winners) == 1
    assert racers[0].holder_of()[0] == winners[0]


def test_default_holder():
    assert default_holder() == f"{socket.gethostname()}-{os.getpid()}"
    assert len(default_holder()) <= 200


# -- real processes ------------------------------------------------------------------

RACER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from zeta_serving.maintenance.clock import SystemClock
    from zeta_serving.maintenance.lease import Lease
    from zeta_serving.store import make_engine

    url, holder, rounds, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    lease = Lease(make_engine(url), "price", holder, 30, SystemClock())
    lease.holder_of()  # connect before the start line
    (work / f"ready-{holder}").touch()
    while not (work / "go").exists():
        time.sleep(0.002)
    counter = work / "counter"
    intervals = []
    for _ in range(rounds):
        if lease.acquire():
            start = time.monotonic_ns()
            # An unprotected read-modify-write: only mutual exclusion keeps it exact.
            value = int(counter.read_text())
            time.sleep(0.001)
            counter.write_text(str(value + 1))
            end = time.monotonic_ns()
            if not lease.release():
                sys.exit(f"{holder}: release failed")
            intervals.append((start, end))
        time.sleep(0.001)
    print(json.dumps(intervals))
""")

HOLDER = textwrap.dedent("""
    import sys, time
    from zeta_serving.maintenance.clock import SystemClock
    from zeta_serving.maintenance.lease import Lease
    from zeta_serving.store import make_engine

    lease = Lease(make_engine(sys.argv[1]), "price", "doomed", float(sys.argv[2]), SystemClock())
    assert lease.acquire()
    print("acquired", flush=True)
    time.sleep(120)  # killed before it ever releases
""")


def spawn(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def reap(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


def test_two_processes_never_hold_at_once(db_url, engine, tmp_path):
    ensure_table(engine)  # before the race: two first-time CREATE TABLEs would race each other
    (tmp_path / "counter").write_text("0")
    rounds = 200
    procs = {h: spawn(RACER, db_url, h, str(rounds), str(tmp_path)) for h in ("P1", "P2")}
    try:
        deadline = time.monotonic() + 20
        while not all((tmp_path / f"ready-{h}").exists() for h in procs):
            assert time.monotonic() < deadline, "racers did not start"
            assert all(p.poll() is None for p in procs.values()), [p.stderr.read() for p in procs.values()]
            time.sleep(0.01)
        (tmp_path / "go").touch()
        outputs = {h: p.communicate(timeout=60) for h, p in procs.items()}
    finally:
        for proc in procs.values():
            reap(proc)
    for holder, proc in procs.items():
        assert proc.returncode == 0, outputs[holder][1]

    intervals = sorted((start, end, holder) for holder, (out, _) in outputs.items()
                       for start, end in json.loads(out))
    counts = {h: sum(1 for *_, holder in intervals if holder == h) for h in procs}
    assert all(n >= 1 for n in counts.values()), counts  # both got it
    for (_, end, first), (start, _, second) in zip(intervals, intervals[1:]):
        assert end < start, f"{first} and {second} held the lease at the same time"
    assert int((tmp_path / "counter").read_text()) == len(intervals)  # no lost update
    assert Lease(engine, "price", "x", 1, SystemClock()).holder_of() is None  # all released


def test_dead_holder_is_replaced_only_after_expiry(db_url, engine):
    ensure_table(engine)
    seconds = 1.5
    proc = spawn(HOLDER, db_url, str(seconds))
    try:
        line = proc.stdout.readline()
        assert line.strip() == "acquired", proc.stderr.read() if proc.poll() is not None else line
        proc.send_signal(signal.SIGKILL)  # dies holding the lease, no release, no cleanup
        proc.wait(timeout=10)
    finally:
        reap(proc)

    heir = Lease(engine, "price", "heir", 30, SystemClock())
    holder, expires_at = heir.holder_of()
    assert holder == "doomed"
    assert heir.acquire() is False
    with pytest.raises(LeaseHeld, match="doomed"):
        with heir:
            pass

    deadline = time.monotonic() + 10
    while not heir.acquire():
        assert time.monotonic() < deadline, "never took over"
        time.sleep(0.05)
    took_over = datetime.now(timezone.utc)
    assert took_over >= expires_at
    assert took_over - expires_at < timedelta(seconds=1)
    assert heir.holder_of()[0] == "heir"
    assert heir.release()
