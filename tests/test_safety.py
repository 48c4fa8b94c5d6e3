"""Outages alert, secrets never show, history reads any run, and no process outlives zeta."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from zeta_serving import tasks
from zeta_serving.redaction import scrub_secrets
from zeta_serving.store import make_engine, normalize_url

ROOT = Path(__file__).resolve().parents[1]
AT_PASSWORD_URL = "postgresql+psycopg://zeta:p@ss@w0rd@127.0.0.1:1/gone"
SECRET_PIECES = ("p@ss", "ss@w0rd", "w0rd")


class Hook:
    """A webhook receiver on loopback."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self):
        self.server.shutdown()


def zeta(args, cwd: Path, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from zeta_serving.cli import main; main()", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})


# -- outages (issue point 2) -------------------------------------------------------------------

def test_an_unreachable_database_alerts_and_exits_3_in_one_line(tmp_path):
    hook = Hook()
    try:
        (tmp_path / "zeta.toml").write_text(f'[maintenance]\nalerts = ["log", "webhook"]\nwebhook_url = "{hook.url}"\n')
        done = zeta(["--db", AT_PASSWORD_URL, "maintain", "--once"], tmp_path)
    finally:
        hook.close()
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("zeta: error: cannot reach database"), done.stderr
    assert "alert sent to webhook" in lines[0]
    assert [a["zeta"]["model"] for a in hook.received] == list(tasks.names())
    assert {a["zeta"]["decision"] for a in hook.received} == {"failed"}
    everything = done.stdout + done.stderr + json.dumps(hook.received)
    assert not any(piece in everything for piece in SECRET_PIECES), everything


# -- secrets (issue point 7) -------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    AT_PASSWORD_URL,
    f"could not connect with {AT_PASSWORD_URL} (timeout)",
    "postgresql://zeta:plain-secret@db:5432/zeta",
    "host=db user=zeta password=p@ss@w0rd dbname=zeta",
])
def test_scrub_secrets_hides_the_whole_password(text):
    scrubbed = scrub_secrets(text)
    assert "***" in scrubbed
    assert not any(piece in scrubbed for piece in (*SECRET_PIECES, "plain-secret")), scrubbed


def test_an_unencoded_at_in_the_password_reaches_neither_the_host_nor_any_message():
    assert normalize_url(AT_PASSWORD_URL) == "postgresql+psycopg://zeta:p%40ss%40w0rd@127.0.0.1:1/gone"
    engine = make_engine(AT_PASSWORD_URL)
    assert engine.url.host == "127.0.0.1" and engine.url.password == "p@ss@w0rd"
    assert scrub_secrets(AT_PASSWORD_URL) == "postgresql+psycopg://zeta:***@127.0.0.1:1/gone"
    assert engine.url.render_as_string(hide_password=True) == "postgresql+psycopg://zeta:***@127.0.0.1:1/gone"
    assert normalize_url("sqlite:////tmp/a@b.db") == "sqlite:////tmp/a@b.db"


@pytest.mark.parametrize("args", [["status"], ["history", "price"], ["maintain", "--once"], ["db", "upgrade"]])
def test_no_command_prints_a_password_with_an_at_sign(args, tmp_path):
    done = zeta(["--db", AT_PASSWORD_URL, *args], tmp_path)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert not any(piece in done.stdout + done.stderr for piece in SECRET_PIECES), done.stderr


# -- history on any run ------------------------------------------------------------------------

def test_history_and_status_read_unfinished_skipped_and_interrupted_runs(tmp_path):
    from zeta_serving.maintenance.ledger import Ledger, Run
    from zeta_serving.store import ListingStore

    url = f"sqlite:///{tmp_path / 'z.db'}"
    ledger = Ledger(ListingStore(url).engine)
    now = datetime(2026, 2, 15, tzinfo=timezone.utc)
    crashed = ledger.start(Run("price", now, "r1", "once", holder="r1#dead"))
    ledger.enter_stage(crashed, "retrain")
    skipped = ledger.start(Run("price", now, "r2", "schedule"))
    skipped.set(decision="skipped")
    ledger.finish(skipped)
    ledger.start(Run("price", now, "r3", "early-warning", holder="r3#live"))  # unfinished, in no stage yet
    done = zeta(["--db", url, "history", "price"], tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 3 and "unfinished" in lines[0] and "[in retrain]" in lines[0] and "skipped" in lines[1]
    for args in (["history", "price", "--json"], ["status"], ["status", "--json"]):
        done = zeta(["--db", url, *args], tmp_path)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stderr)
    ledger.close_abandoned("price", "r4#next")
    done = zeta(["--db", url, "history", "price"], tmp_path)
    assert "failed" in done.stdout and "[retrain: interrupted]" in done.stdout


# -- orphans (issue point 8) -------------------------------------------------------------------

def _descendants(pid: int) -> set[int]:
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


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.mark.e2e
def test_serve_backends_die_with_a_deployer_killed_with_sigkill(trained_store):
    _, results = trained_store
    parent = subprocess.Popen([sys.executable, "-m", "tests.orphan_parent", results["category"].saved.tag],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = parent.stdout.readline()
        assert line.startswith("ready "), "the deployer never served"
        children = _descendants(parent.pid)
        serving = [p for p in children if b"bentoml" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(serving) >= 2, children  # the backend and at least one worker
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in children if _alive(p)]
    assert not left, f"{len(left)} of {len(children)} processes outlived their parent"


def test_a_child_started_from_a_thread_that_ends_keeps_running():
    """PR_SET_PDEATHSIG fires when the *starting thread* exits: a deploy made from a short-lived thread
    must not lose its backend when that thread ends (children start on one long-lived thread)."""
    from zeta_serving import procs

    started = []
    thread = threading.Thread(target=lambda: started.append(procs.popen(["sleep", "30"], guarded=True)))
    thread.start()
    thread.join()
    time.sleep(1.5)
    child = started[0]
    try:
        assert child.poll() is None, "the child died with the thread that started it"
    finally:
        procs.kill_group(child)
        child.wait()
