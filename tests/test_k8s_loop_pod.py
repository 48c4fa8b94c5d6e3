"""The loop in a pod: JSON logs, a health/metrics port, one leader (a second replica waits), clean SIGTERM."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pandas as pd
import pytest

from tests import servers
from tests.test_crash import base, url  # noqa: F401 - fixtures: the crash tests' history, on SQLite and PostgreSQL
from tests.kube_fake import FakeCluster
from zeta_serving.k8s.objects import LEASE_NAME, LOOP_NAME, Settings
from zeta_serving.k8s.render import build_objects
from zeta_serving.maintenance.leader import KubernetesLeader
from zeta_serving.maintenance.pod import JsonFormatter, LoopMetrics, Observed, configure_logging

ZETA = str(Path(sys.executable).parent / "zeta")
ROOT = Path(__file__).resolve().parents[1]
GRACE = 30  # seconds: Kubernetes' default terminationGracePeriodSeconds


def test_logs_are_one_json_object_per_line_off_a_terminal():
    stream = io.StringIO()  # not a terminal
    try:
        assert configure_logging("auto", stream=stream) is True
        logging.getLogger("zeta.maintenance.test").info("cycle %s done", "price", extra={"model": "price"})
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("zeta.maintenance.test").exception("it failed")
    finally:
        logging.getLogger().handlers.clear()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "cycle price done" and first["model"] == "price" and first["level"] == "info"
    assert second["level"] == "error" and "ValueError: boom" in second["exception"]
    assert isinstance(JsonFormatter().format(logging.makeLogRecord({"msg": "x"})), str)


def test_metrics_after_a_real_cycle(trained_store, tmp_path):
    from zeta_serving.maintenance.clock import FixedClock
    from zeta_serving.maintenance.config import load_config
    from zeta_serving.maintenance.ledger import Champion
    from zeta_serving.maintenance.runtime import make_maintainer
    from zeta_serving.store import ListingStore

    store, results = trained_store
    copy = tmp_path / "zeta.db"
    shutil.copy(str(store.url).removeprefix("sqlite:///"), copy)
    base = load_config(None, deployer="inprocess")
    config = replace(base, policies={m: replace(p, eval_days=3, train_days=9, min_rows=100, bootstrap=200)
                                     for m, p in base.policies.items()})
    clock = FixedClock(datetime(2026, 1, 13, tzinfo=timezone.utc))
    maintainer = make_maintainer(ListingStore(f"sqlite:///{copy}"), config, clock)
    tag = results["price"].saved.tag
    maintainer.ledger.crown(Champion("price", tag, results["price"].saved.reference_score, clock.now()))
    metrics = LoopMetrics()
    result = Observed(maintainer, metrics).run("price", trigger="test")
    text = metrics.render()
    assert f'zeta_maintain_cycles_total{{model="price",decision="{result.decision}"}} 1' in text
    assert 'zeta_maintain_stage_seconds{model="price",stage="evaluate"}' in text
    assert 'zeta_maintain_last_cycle_timestamp_seconds{model="price"}' in text
    assert "zeta_maintain_lease_held 0" in text


def test_kubernetes_lease_one_leader_at_a_time():
    found = build_objects(Settings(), toml_text="", schedule="0 6 * * *", tasks=["price"])
    with FakeCluster(found) as cluster:
        from kubernetes import client

        api = client.ApiClient(client.Configuration(host=cluster.url))
        a = KubernetesLeader(api, "zeta", LEASE_NAME, "pod-a", 2)
        b = KubernetesLeader(api, "zeta", LEASE_NAME, "pod-b", 2)
        assert a.acquire() and not b.acquire()
        assert b.holder_of() == "pod-a" and a.renew() and not b.renew()
        assert a.release() and b.acquire() and not a.acquire()
        time.sleep(2.5)  # b stops renewing: its lease expires and a takes over
        assert a.acquire() and not b.renew()
        lease = cluster.objects[("Lease", "zeta", LEASE_NAME)]
        assert lease["spec"]["holderIdentity"] == "pod-a" and lease["spec"]["leaseTransitions"] >= 1
        # Optimistic concurrency: a write based on a stale read loses (409), as on a real API server.
        stale = a.coordination.read_namespaced_lease(LEASE_NAME, "zeta")
        assert a.renew()
        stale.spec.holder_identity = "pod-b"
        assert b._write(stale) is False


def _start(db_url: str, config: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "ZETA_DB_URL": db_url, "ZETA_CONFIG": str(config), "ZETA_LOG_FORMAT": "json"}
    return subprocess.Popen([ZETA, "maintain", "--deployer", "inprocess", "--health-port", str(port),
                             "--model", "price"], env=env, stdout=subprocess.DEVNULL, stderr=open(log, "wb"),
                            start_new_session=True)


def _wait(url: str, code: int, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"exited with {proc.returncode}"
        try:
            if httpx.get(url, timeout=2).status_code == code:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} never answered {code}")


@pytest.mark.e2e
def test_two_replicas_one_leads_the_other_waits_and_sigterm_is_clean(trained_store, db_url, tmp_path):
    config = tmp_path / "zeta.toml"
    config.write_text('[maintenance]\nschedule = "0 6 1 1 *"\nearly_warning_minutes = 0\ndeployer = "inprocess"\n')
    port_a, port_b = servers.free_port(), servers.free_port()
    a = _start(db_url, config, port_a, tmp_path / "a.log")
    b = None
    try:
        _wait(f"http://127.0.0.1:{port_a}/readyz", 200, a)
        assert "zeta_maintain_lease_held 1" in httpx.get(f"http://127.0.0.1:{port_a}/metrics").text
        b = _start(db_url, config, port_b, tmp_path / "b.log")
        _wait(f"http://127.0.0.1:{port_b}/healthz", 200, b)
        assert httpx.get(f"http://127.0.0.1:{port_b}/readyz").status_code == 503  # waits for leadership
        assert "zeta_maintain_lease_held 0" in httpx.get(f"http://127.0.0.1:{port_b}/metrics").text
        a.send_signal(signal.SIGTERM)
        assert a.wait(timeout=60) == 0
        _wait(f"http://127.0.0.1:{port_b}/readyz", 200, b, timeout=60)  # the lease was given up: b leads
        b.send_signal(signal.SIGTERM)
        assert b.wait(timeout=60) == 0
    finally:
        for proc in (a, b):
            if proc is not None:
                servers.stop(proc)
    records = [json.loads(line) for line in (tmp_path / "a.log").read_text().splitlines() if line.strip()]
    messages = [r["message"] for r in records]
    assert any(m.startswith("leading as") for m in messages)
    assert any(m.startswith("SIGTERM") for m in messages) and messages[-1] == "stopped"
    waiting = [json.loads(line)["message"] for line in (tmp_path / "b.log").read_text().splitlines() if line]
    assert any("another replica leads" in m for m in waiting)


@pytest.mark.e2e
def test_sigterm_mid_cycle_records_the_run_frees_both_leases_and_exits_within_the_grace(url, tmp_path):
    """SIGTERM while a scheduled cycle is stuck in its retrain (a native call no signal interrupts)."""
    from tests.crash_cycle import NOW
    from tests.test_crash import alive, descendants, runs
    from zeta_serving.maintenance.clock import SystemClock
    from zeta_serving.maintenance.leader import DatabaseLeader
    from zeta_serving.maintenance.lease import Lease
    from zeta_serving.maintenance.ledger import Ledger, Run
    from zeta_serving.store import make_engine

    engine = make_engine(url)
    ledger = Ledger(engine)
    done = ledger.start(Run("category", NOW - timedelta(days=2), "yesterday", "schedule", holder="yesterday#1"))
    done.set(decision="healthy")
    ledger.finish(done)  # the 06:00 cycles since were missed: one runs now
    config = tmp_path / "zeta.toml"
    config.write_text('[maintenance]\nschedule = "0 6 * * *"\nearly_warning_minutes = 0\ndeployer = "inprocess"\n'
                      "eval_days = 2\ntrain_days = 10\nmin_rows = 100\nbootstrap = 300\n")
    marker, log, port = tmp_path / "marker", tmp_path / "pod.log", servers.free_port()
    env = {**os.environ, "ZETA_DB_URL": url, "ZETA_CONFIG": str(config), "ZETA_LOG_FORMAT": "json",
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "tests.pod_cycle", str(marker), "maintain", "--deployer",
                             "inprocess", "--health-port", str(port), "--model", "category"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=open(log, "wb"), start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not (marker.exists() and marker.read_text()):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
        child = int(marker.read_text())
        assert child in descendants(proc.pid)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=GRACE)  # Kubernetes' default grace: SIGKILL after this
        took = time.monotonic() - sent
    finally:
        servers.stop(proc)
    print(f"exited {code} {took:.1f}s after SIGTERM")
    rendered = build_objects(Settings(), toml_text="", schedule="0 6 * * *", tasks=["category"])
    loop = next(o for o in rendered if o["kind"] == "Deployment" and o["metadata"]["name"] == LOOP_NAME)
    assert took < min(GRACE, loop["spec"]["template"]["spec"]["terminationGracePeriodSeconds"])
    assert code == 0, log.read_text()[-2000:]
    assert not alive(child) and not any(alive(p) for p in descendants(proc.pid)), "a child outlived the loop"
    run = runs(url).iloc[-1]
    assert (run["trigger"], run["decision"], run["failed_stage"]) == ("catch-up", "failed", "retrain")
    assert run["error"] == "interrupted (SIGTERM)" and not pd.isna(run["finished_at"]) and bool(run["alerted"])
    # Both leases were given up, not left to lapse: another replica takes them at once.
    assert Lease(engine, "category", "next-pod#1", 90, SystemClock()).acquire()
    assert DatabaseLeader(engine, "next-pod", 30).acquire()
    messages = [json.loads(line)["message"] for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(m.startswith("SIGTERM") for m in messages) and messages[-1] == "stopped"
    engine.dispose()
