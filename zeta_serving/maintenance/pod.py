"""The long-running loop as a well-behaved pod (or service).

    logs     one JSON object per line when stdout is not a terminal (or ZETA_LOG_FORMAT=json)
    port     /healthz (the process and its scheduler run), /readyz (this replica leads and the
             database answers), /metrics (Prometheus text: last cycle time, cycles by decision,
             the last cycle's stage durations, leadership)
    leader   only the leader schedules; another replica waits for the lease (zeta_serving/
             maintenance/leader.py), and a leader that loses its lease stops
    SIGTERM  stop scheduling; a running cycle stops at its next stage; one still running after
             STOP_GRACE seconds (stuck in a long native call) is recorded `failed` at its stage
             ("interrupted (SIGTERM)"), alerted and its model's lease released (inflight.py);
             then the leader lease is given up, children are stopped, and the process exits 0
             without waiting for the stuck thread. STOP_GRACE (20 s, $ZETA_STOP_GRACE_SECONDS)
             stays well inside the loop pod's terminationGracePeriodSeconds (60).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sqlalchemy as sa

log = logging.getLogger("zeta.maintenance.pod")

_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
STOP_GRACE = 20.0  # seconds a stopping loop waits for its running cycles before recording them itself


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        entry.update({k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(fmt: str = "auto", *, debug: bool = False, stream=None) -> bool:
    """Logs of zeta at INFO (DEBUG with --debug) on stdout; JSON lines unless a terminal. True if JSON."""
    stream = stream or sys.stdout
    as_json = fmt == "json" or (fmt == "auto" and not stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if as_json else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    logging.getLogger("zeta").setLevel(logging.DEBUG if debug else logging.INFO)
    return as_json


class LoopMetrics:
    """What /metrics shows; fed by `Observed` after every cycle."""

    def __init__(self):
        self._lock = threading.Lock()
        self.cycles: dict[tuple[str, str], int] = {}
        self.last_cycle: dict[str, float] = {}
        self.stage_seconds: dict[tuple[str, str], float] = {}
        self.leader = False

    def record(self, model: str, decision: str, stages: dict[str, float]) -> None:
        with self._lock:
            self.cycles[(model, decision)] = self.cycles.get((model, decision), 0) + 1
            self.last_cycle[model] = time.time()
            for stage, seconds in stages.items():
                self.stage_seconds[(model, stage)] = seconds

    def render(self) -> str:
        with self._lock:
            lines = ["# HELP zeta_maintain_cycles_total Maintenance cycles finished, by model and decision.",
                     "# TYPE zeta_maintain_cycles_total counter"]
            lines += [f'zeta_maintain_cycles_total{{model="{m}",decision="{d}"}} {n}'
                      for (m, d), n in sorted(self.cycles.items())]
            lines += ["# HELP zeta_maintain_last_cycle_timestamp_seconds When the model's last cycle ended.",
                      "# TYPE zeta_maintain_last_cycle_timestamp_seconds gauge"]
            lines += [f'zeta_maintain_last_cycle_timestamp_seconds{{model="{m}"}} {t:.3f}'
                      for m, t in sorted(self.last_cycle.items())]
            lines += ["# HELP zeta_maintain_stage_seconds Duration of each stage of the model's last cycle.",
                      "# TYPE zeta_maintain_stage_seconds gauge"]
            lines += [f'zeta_maintain_stage_seconds{{model="{m}",stage="{s}"}} {v:.6f}'
                      for (m, s), v in sorted(self.stage_seconds.items())]
            lines += ["# HELP zeta_maintain_lease_held 1 while this replica leads (schedules cycles).",
                      "# TYPE zeta_maintain_lease_held gauge", f"zeta_maintain_lease_held {int(self.leader)}"]
        return "\n".join(lines) + "\n"


class Observed:
    """The maintainer as the scheduler sees it: every cycle's outcome also lands in the metrics."""

    def __init__(self, maintainer, metrics: LoopMetrics):
        self.maintainer, self.metrics = maintainer, metrics

    def _record(self, result):
        if result is None:
            return None
        stages = {}
        if result.run_id is not None:
            try:
                frame = self.maintainer.ledger.stages_of(result.run_id)
                stages = dict(zip(frame["stage"], frame["seconds"].astype(float)))
            except Exception:  # noqa: BLE001 - the database may be what failed; the decision still counts
                log.warning("could not read the stages of run %s", result.run_id)
        self.metrics.record(result.model, result.decision, stages)
        return result

    def run(self, model: str, trigger: str = "schedule"):
        return self._record(self.maintainer.run(model, trigger=trigger))

    def early_warning(self, model: str):
        return self._record(self.maintainer.early_warning(model))

    def watch_golden(self, skip: tuple[str, ...] = ()):
        return self.maintainer.watch_golden(skip=skip)


class HealthServer:
    """/healthz, /readyz, /metrics on a small port of its own, in a daemon thread."""

    def __init__(self, port: int, metrics: LoopMetrics, engine, *, host: str = "0.0.0.0"):
        self.metrics, self.engine = metrics, engine
        self.alive = True
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?", 1)[0]
                if path == "/healthz":
                    code, body = (200, "ok\n") if server.alive else (503, "stopping\n")
                elif path == "/readyz":
                    code, body = server.readiness()
                elif path == "/metrics":
                    code, body = 200, server.metrics.render()
                else:
                    code, body = 404, "not found\n"
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, name="zeta-health", daemon=True).start()

    def readiness(self) -> tuple[int, str]:
        if not self.alive:
            return 503, "stopping\n"
        if not self.metrics.leader:
            return 503, "waiting for leadership (another replica leads)\n"
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001
            return 503, f"database does not answer: {type(exc).__name__}\n"
        return 200, "ok\n"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def run_forever(maintainer, config, models, *, leader, health_port: int | None = None,
                retry_seconds: float = 5.0, missed: dict | None = None) -> int:
    """Wait for leadership, then schedule cycles until SIGTERM/SIGINT or a lost lease; returns the exit code."""
    from zeta_serving.maintenance.schedule import build_scheduler
    from zeta_serving.maintenance.signals import stop_cleanly

    metrics = LoopMetrics()
    health = HealthServer(health_port, metrics, maintainer.store.engine) if health_port is not None else None
    if health:
        log.info("health, readiness and metrics on port %d", health.port)
    stop = threading.Event()
    # `missed`: cycles the schedule owed while the loop was down; each runs once when it starts.
    scheduler = build_scheduler(Observed(maintainer, metrics), config, models=models, missed=missed)

    def on_stop():
        stop.set()
        if scheduler.running:
            scheduler.shutdown(wait=False)

    # SIGTERM/SIGINT (zeta_serving/maintenance/signals.py): no new cycles, a running one stops at its
    # next stage and is recorded; then the lease is given up here and the process exits 0.
    with stop_cleanly(maintainer, on_stop=on_stop):
        code, stuck = _lead_and_schedule(maintainer, config, models, leader, health, metrics, scheduler, stop,
                                         retry_seconds)
    if stuck:
        # A cycle's thread is still inside a native call. Its run is recorded and its lease released;
        # a normal exit would join that thread (the executor's) and outlive the pod's grace period.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _lead_and_schedule(maintainer, config, models, leader, health, metrics, scheduler, stop,
                       retry_seconds) -> int:
    from zeta_serving.maintenance.schedule import next_runs

    lost: list = []
    deployer = maintainer.deployer
    try:
        while not stop.is_set() and not _try(leader.acquire):
            log.info("another replica leads (%s); waiting", _try(leader.holder_of) or "unknown")
            stop.wait(retry_seconds)
        if stop.is_set():
            return 0, False
        metrics.leader = True
        log.info("leading as %s (%s lease)", leader.holder, leader.kind)
        renewer = threading.Thread(target=_keep_leading, args=(leader, stop, scheduler, lost, metrics),
                                   name="zeta-leader", daemon=True)
        renewer.start()
        if hasattr(deployer, "start"):
            deployer.start()
        for model, at in next_runs(config, maintainer.clock.now(), models).items():
            log.info("%s: next cycle %s", model, at.isoformat(), extra={"model": model})
        for model in models:  # put the champions on the air before the first scheduled cycle
            try:
                maintainer.ensure_serving(model)
            except Exception as exc:  # noqa: BLE001 - the cycle retries it and records the failure
                log.error("%s: could not put the champion on the air: %s", model, exc, extra={"model": model})
        if not stop.is_set():
            scheduler.start()  # blocks until shutdown (a signal or a lost lease)
        return 1 if lost else 0, _end_cycles(maintainer)
    finally:
        if health:
            health.alive = False
        stop.set()
        if hasattr(deployer, "stop"):
            deployer.stop()
        if metrics.leader and not lost:
            _try(leader.release)
        metrics.leader = False
        if health:
            health.close()
        log.info("stopped")


def _end_cycles(maintainer) -> bool:
    """Let running cycles stop at their next stage; record and release the ones that do not. True if any."""
    from zeta_serving import procs

    if not maintainer.stopping.is_set():  # a lost leader lease: no cycle of ours may go on either
        maintainer.stop_reason = "the loop lost its leader lease"
        maintainer.stopping.set()
    grace = float(os.environ.get("ZETA_STOP_GRACE_SECONDS") or STOP_GRACE)
    if maintainer.inflight.wait(grace):
        return False
    procs.stop_all(grace=5.0)  # children a stage started after the signal
    for result in maintainer.abandon_running():
        log.error("%s: run %s did not stop within %gs: %s", result.model, result.run_id, grace, result.summary,
                  extra={"model": result.model})
    return True


def _keep_leading(leader, stop: threading.Event, scheduler, lost: list, metrics: LoopMetrics) -> None:
    """Renew at a third of the lease; stop when it is taken, or unconfirmed for a whole lease."""
    interval = max(1.0, leader.seconds / 3)
    confirmed = time.monotonic()
    while not stop.wait(interval):
        renewed = _try(leader.renew)
        if renewed:
            confirmed = time.monotonic()
        if renewed is False or time.monotonic() - confirmed > leader.seconds:
            log.error("lost the leader lease: stopping so that a single replica schedules")
            lost.append(True)
            metrics.leader = False
            stop.set()
            if scheduler.running:
                scheduler.shutdown(wait=False)
            return


def _try(fn):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - an API server or database hiccup: retried by the caller
        log.warning("leader lease: %s: %s", type(exc).__name__, str(exc)[:200])
        return None
