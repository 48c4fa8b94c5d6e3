"""Crashes, signals, lost leases and outages during a cycle: nothing stays stuck, lost or leaked.

Cycles run for real (store, ledger, lease, training, `bentoml build`) in a child process that
the tests kill with SIGKILL or stop with SIGTERM/SIGINT; leases are a few seconds long here
(`lease_seconds` is configurable) so a lapse takes seconds, not the default 90.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.crash_cycle import NOW, maintainer
from zeta_serving.maintenance.clock import SystemClock
from zeta_serving.maintenance.lease import Heartbeat, Lease, LeaseLost, leases
from zeta_serving.maintenance.ledger import Champion, Ledger, Run
from zeta_serving.store import ListingStore, make_engine

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("forget_module_models")
LEASE = 3.0


class Recording:
    name = "recording"

    def __init__(self):
        self.alerts = []

    def send(self, alert) -> bool:
        self.alerts.append(alert)
        return True


class SlowBuild:
    """Build nothing, slowly (and run `during` first): for tests about what happens around a build."""

    def __init__(self, seconds: float = 0.0, during=lambda: None):
        self.seconds, self.during = seconds, during

    def build(self, task, model_tag):
        self.during()
        time.sleep(self.seconds)
        return f"zeta-{task}:unbuilt"

    def containerize(self, bento_tag):
        return None


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """14 days of listings and a category champion trained on one day (any retrained challenger beats it)."""
    from zeta_serving import synth
    from zeta_serving.trainer import train_task

    folder = tmp_path_factory.mktemp("crash")
    store = ListingStore(f"sqlite:///{folder / 'base.db'}")
    for offset in range(14):
        store.insert(synth.generate_day(date(2026, 2, 1) + timedelta(days=offset), 300, seed=3))
    weak = train_task(store, "category", until=datetime(2026, 2, 13, tzinfo=timezone.utc), train_days=1,
                      eval_days=2).saved.tag
    store.engine.dispose()
    return folder / "base.db", weak


def _with_history(base, db_url: str, tmp_path: Path) -> str:
    """The base history in this test's database, with the weak champion held to a reference it cannot meet."""
    db, weak = base
    if db_url.startswith("sqlite"):
        shutil.copy(db, tmp_path / "zeta.db")
        target = f"sqlite:///{tmp_path / 'zeta.db'}"
        store = ListingStore(target)
    else:
        target = db_url
        store = ListingStore(target)
        source = ListingStore(f"sqlite:///{db}")
        store.insert(source.window(datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 3, 1, tzinfo=timezone.utc)))
        source.engine.dispose()
    Ledger(store.engine).crown(Champion("category", weak, 0.99, NOW))
    store.engine.dispose()
    return target


@pytest.fixture
def url(base, db_url, tmp_path):
    """On SQLite, and on PostgreSQL when ZETA_TEST_POSTGRES_URL is set."""
    return _with_history(base, db_url, tmp_path)


@pytest.fixture
def sqlite_url(base, tmp_path):
    """On SQLite only: for the build child, which does not depend on the database."""
    return _with_history(base, "sqlite", tmp_path)


def start_cycle(url: str, mode: str, marker: Path, lease: float = LEASE) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.crash_cycle", url, mode, str(marker), str(lease)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def descendants(pid: int) -> set[int]:
    """Every process whose parent chain leads to `pid` (from /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def build_children(pid: int) -> set[int]:
    return {p for p in descendants(pid) if "bentoml" in cmdline(p) and " build " in cmdline(p)}


def runs(url: str):
    engine = make_engine(url)
    try:
        return Ledger(engine).history("category")
    finally:
        engine.dispose()


def lease_row(url: str):
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(leases).where(leases.c.model == "category")).first()
    finally:
        engine.dispose()


def next_cycle_proceeds(url: str, killed_at: float):
    """Run cycles (another replica) until one is not skipped; returns (result, seconds after the kill)."""
    alerts = Recording()
    second = maintainer(url, LEASE, alerts=alerts, builder=SlowBuild(), replica="second")
    first = second.run("category")
    assert first.decision == "skipped" and "crash-test#" in first.summary, first  # the dead holder's lease
    began = []

    def attempt():
        began.append(time.monotonic())
        result = second.run("category")
        return result.decision != "skipped" and result

    result = wait_for(attempt, LEASE + 15, "the dead cycle's lease to lapse")
    print(f"a cycle took the model {began[-1] - killed_at:.1f}s after the kill (lease {LEASE}s)")
    return result, began[-1] - killed_at, alerts  # when the cycle that got the lease started


# -- kill -9 -----------------------------------------------------------------------------------

def test_kill_9_during_retrain_frees_the_model_within_the_lease_and_records_the_run(url, tmp_path):
    marker = tmp_path / "marker"
    proc = start_cycle(url, "block-retrain", marker)
    try:
        wait_for(marker.exists, 120, "the cycle to reach its retrain stage")
    finally:
        proc.kill()
        proc.wait()
    killed_at = time.monotonic()
    result, seconds, alerts = next_cycle_proceeds(url, killed_at)
    assert result.decision.startswith("promoted"), result
    assert seconds < LEASE + 5, f"the model stayed blocked {seconds:.1f}s after the kill"
    history = runs(url)
    dead = history[history["replica"] == "crash-test"].iloc[-1]
    assert dead["decision"] == "failed" and dead["failed_stage"] == "retrain" and dead["error"] == "interrupted"
    assert not pd.isna(dead["finished_at"]) and bool(dead["alerted"])
    assert [a.run_id for a in alerts.alerts if a.decision == "failed"] == [int(dead["id"])]


def test_kill_9_during_build_kills_the_bentoml_build_child_too(sqlite_url, tmp_path):
    url = sqlite_url
    proc = start_cycle(url, "build", tmp_path / "marker")
    try:
        children = wait_for(lambda: build_children(proc.pid), 180, "`bentoml build` to start")
    finally:
        proc.kill()
        proc.wait()
    killed_at = time.monotonic()
    wait_for(lambda: not any(alive(p) for p in children), 10, "the build child to die with its parent")
    result, seconds, _ = next_cycle_proceeds(url, killed_at)
    assert result.decision.startswith("promoted") and seconds < LEASE + 5
    history = runs(url)
    dead = history[history["replica"] == "crash-test"].iloc[-1]
    assert (dead["decision"], dead["failed_stage"], dead["error"]) == ("failed", "build", "interrupted")


# -- SIGTERM / SIGINT --------------------------------------------------------------------------

def test_sigterm_during_retrain_ends_the_cycle_cleanly(url, tmp_path):
    signal_ends_the_cycle_cleanly(url, tmp_path, signal.SIGTERM, "block-retrain", "retrain")


def test_sigint_during_build_stops_the_build_child_and_ends_the_cycle_cleanly(sqlite_url, tmp_path):
    signal_ends_the_cycle_cleanly(sqlite_url, tmp_path, signal.SIGINT, "build", "build")


def signal_ends_the_cycle_cleanly(url, tmp_path, sig, mode, stage):
    marker = tmp_path / "marker"
    proc = start_cycle(url, mode, marker, lease=60)  # a long lease: only a release frees it quickly
    children = set()
    try:
        if mode == "build":
            children = wait_for(lambda: build_children(proc.pid), 180, "`bentoml build` to start")
        else:
            wait_for(marker.exists, 120, "the retrain stage")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    result = json.loads(out.strip().splitlines()[-1])
    assert result["decision"] == "failed" and result["failed_stage"] == stage, (result, err)
    assert "interrupted" in result["summary"] and signal.Signals(sig).name in result["summary"]
    assert not any(alive(p) for p in children), "the build child outlived the cycle"
    assert lease_row(url) is None  # released, not left to expire
    run = runs(url).iloc[-1]
    assert run["decision"] == "failed" and run["failed_stage"] == stage and not pd.isna(run["finished_at"])
    sent = [json.loads(line) for line in (tmp_path / "marker.alerts").read_text().splitlines()]
    assert [a["decision"] for a in sent] == ["failed"]


# -- one holder per cycle, heartbeats, lost leases ---------------------------------------------

def test_two_cycles_of_one_model_in_one_process_never_run_at_once(url):
    one = maintainer(url, LEASE, alerts=Recording(), builder=SlowBuild(seconds=2))
    results = []
    barrier = threading.Barrier(2)

    def cycle(run):
        barrier.wait()
        results.append(run())

    threads = [threading.Thread(target=cycle, args=(lambda: one.run("category"),)),
               threading.Thread(target=cycle, args=(lambda: one.run("category", trigger="early-warning"),))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.decision for r in results)[-1] == "skipped", results
    assert [r.decision for r in results].count("skipped") == 1, results


def test_a_build_longer_than_the_lease_keeps_it_while_a_second_replica_waits(url):
    lease = 1.5
    second = maintainer(url, lease, alerts=Recording(), replica="second")
    seen = []

    def meanwhile():
        time.sleep(2 * lease)  # the lease would have lapsed twice over without its heartbeat
        seen.append(second.run("category"))

    first = maintainer(url, lease, alerts=Recording(), replica="first", builder=SlowBuild(during=meanwhile))
    result = first.run("category")
    assert seen[0].decision == "skipped" and "first#" in seen[0].summary, seen
    assert result.decision.startswith("promoted"), result
    assert first.ledger.champion("category").tag == result.serving_tag


def test_a_replica_that_lost_the_lease_deploys_and_crowns_nothing(url):
    alerts = Recording()

    def stolen():
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(leases.update().where(leases.c.model == "category").values(
                holder="thief", expires_at=datetime(2099, 1, 1)))
        engine.dispose()

    m = maintainer(url, LEASE, alerts=alerts, builder=SlowBuild(during=stolen))
    champion = m.ledger.champion("category").tag
    result = m.run("category")
    assert result.decision == "failed" and result.failed_stage == "deploy", result
    assert "lease on category was lost" in result.summary
    assert m.deployer.current("category").model_tag == champion == m.ledger.champion("category").tag
    assert lease_row(url).holder == "thief"  # ours was not ours to release


def test_heartbeat_renews_and_a_stopped_one_lets_the_lease_lapse(db_url):
    engine = make_engine(db_url)
    mine = Lease(engine, "price", "mine", 1.0, SystemClock())
    other = Lease(engine, "price", "other", 1.0, SystemClock())
    assert mine.acquire()
    beat = Heartbeat(mine).start()
    time.sleep(2.5)
    assert not other.acquire() and not beat.lost.is_set()
    beat.confirm()
    beat.stop()  # as if the process died: no release
    taken_after = wait_for(lambda: other.acquire(), 5, "the lease to lapse")
    assert taken_after
    with pytest.raises(LeaseLost):
        beat.confirm()
    engine.dispose()


def test_only_runs_whose_holder_lost_the_lease_are_closed_as_interrupted(db_url):
    store = ListingStore(db_url)
    ledger = Ledger(store.engine)
    dead = ledger.start(Run("tag", NOW, "r1", holder="r1#dead"))
    ledger.enter_stage(dead, "compare")
    fresh_unleased = ledger.start(Run("tag", NOW, "r2"))  # being recorded as skipped right now
    other_model = ledger.start(Run("price", NOW, "r1", holder="r1#dead"))
    closed = ledger.close_abandoned("tag", "r3#alive")
    assert [c["id"] for c in closed] == [dead.id] and closed[0]["stage"] == "compare"
    history = ledger.history()
    by_id = history.set_index("id")
    assert by_id.loc[dead.id, "decision"] == "failed" and by_id.loc[dead.id, "failed_stage"] == "compare"
    assert by_id.loc[dead.id, "error"] == "interrupted"
    assert pd.isna(by_id.loc[fresh_unleased.id, "decision"]) and pd.isna(by_id.loc[other_model.id, "decision"])
    assert ledger.close_abandoned("tag", "r3#alive") == []  # once
    store.engine.dispose()


# -- outages -----------------------------------------------------------------------------------

def test_an_outage_mid_cycle_is_recorded_failed_once_the_database_is_back_and_the_lease_lapses(url):
    lease = 2.0
    m = maintainer(url, lease, alerts=Recording())
    real = m.store.engine
    gone = make_engine("postgresql+psycopg://zeta:hunter2@127.0.0.1:1/gone")

    def outage():
        m.store.engine = m.ledger.engine = gone
        m._heartbeat.lease.engine = gone  # the heartbeat's connection too: the whole database is gone

    m.builder = SlowBuild(seconds=lease + 1, during=outage)
    result = m.run("category")
    assert result.decision == "failed", result
    assert "hunter2" not in result.summary
    m.store.engine = m.ledger.engine = real  # the database is back
    unfinished = runs(url).iloc[-1]
    assert pd.isna(unfinished["decision"])  # nothing could be written during the outage...
    assert lease_row(url).holder.startswith("crash-test#")  # ... nor the lease released: it lapsed by itself
    other = maintainer(url, lease, alerts=Recording(), replica="other", builder=SlowBuild())
    assert other.run("category").decision != "skipped"
    m.run("category")  # the next cycle of the process that lost the database writes down its run
    recorded = runs(url).set_index("id").loc[int(unfinished["id"])]
    assert recorded["decision"] == "failed" and not pd.isna(recorded["finished_at"])
    assert recorded["failed_stage"] in ("build", "deploy") and "hunter2" not in (recorded["error"] or "")


def test_a_replica_that_loses_the_lease_after_deploying_rolls_back_and_crowns_nothing(url):
    m = maintainer(url, LEASE, alerts=Recording(), builder=SlowBuild())
    champion = m.ledger.champion("category").tag
    real_verify = m.deployer.verify

    def verify_then_lose_the_lease(model, gate):
        real_verify(model, gate)
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(leases.update().where(leases.c.model == "category").values(
                holder="thief", expires_at=datetime(2099, 1, 1)))
        engine.dispose()

    m.deployer.verify = verify_then_lose_the_lease
    result = m.run("category")
    assert result.decision == "failed" and result.failed_stage == "verify", result
    assert "lease on category was lost" in result.summary
    assert m.ledger.champion("category").tag == champion  # not crowned
    assert m.deployer.current("category").model_tag == champion  # the candidate was rolled back
