"""The embedded deployer: one machine, one front port, one `bentoml serve` process per task.

The front proxy (local_proxy) listens on one port and routes each task's routes to
that task's live backend, a real `bentoml serve` process on an internal free port
(local_backends): a built bento, or the task's service from source with
`ZETA_<TASK>_MODEL` naming the model.

A swap loses no request: the candidate starts beside the live backend and passes
its gate before the route switches (one assignment under a lock); the previous
backend stays up as a warm standby (instant rollback) until `verify` passes, then
is drained (its in-flight proxy requests reach 0) and stopped.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable


from zeta_serving import bentos, tasks
from zeta_serving.maintenance import local_remote
from zeta_serving.maintenance.deployers import Client, Deployment, DeployError, check_live, http_client
from zeta_serving.maintenance.local_backends import Backend, start_backend, stop_backends, wait_ready
from zeta_serving.maintenance.local_proxy import FrontProxy


@dataclasses.dataclass
class _Slot:
    live: Backend | None = None
    standby: Backend | None = None


class LocalDeployer:
    name = "local"

    def __init__(self, port: int = 3000, host: str = "127.0.0.1", log_dir: str | Path | None = None,
                 ready_timeout: float = 120, drain_timeout: float = 30, request_timeout: float = 10,
                 backend_timeout: float = 60, stop_timeout: float = 10,
                 publish: bool = True) -> None:
        self.host = host
        self.log_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="zeta-local-deployer-"))
        self._own_log_dir = log_dir is None  # a folder we made is ours to remove on stop; a given one is not
        self.ready_timeout, self.drain_timeout = ready_timeout, drain_timeout
        self.request_timeout, self.stop_timeout = request_timeout, stop_timeout
        self._slots: dict[str, _Slot] = {task: _Slot() for task in tasks.names()}
        self._lock = threading.Lock()  # guards _slots and in-flight increments: a switch is atomic to requests
        self._task_locks: dict[str, threading.Lock] = {}  # one deploy/verify/rollback per task at a time
        self._started: list[Backend] = []
        self._proxy = FrontProxy(self, host, port, backend_timeout=backend_timeout)
        self.publish = publish
        self.token = ""  # what the front's /-/deploy, /-/verify and /-/rollback demand ("" : refused)

    # ---- lifecycle -------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._proxy.port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalDeployer:
        """Start the front proxy (port 0: any free port, then `self.port` says which).

        Once it listens, the deployment is published under $ZETA_HOME (local_remote), so other
        zeta commands of this checkout (`zeta maintain --once`, `zeta status`) act on it.
        """
        if not self._proxy.running:
            self._proxy.start()
            if self.publish:
                self.token = local_remote.publish(self.url)
        return self

    def stop(self) -> None:
        """Stop the proxy, then every backend process (whole process groups)."""
        if self.token:
            local_remote.withdraw(self.token)
            self.token = ""
        self._proxy.stop()
        with self._lock:
            backends = [b for slot in self._slots.values() for b in (slot.live, slot.standby) if b]
            self._slots = {task: _Slot() for task in self._slots}
        stop_backends(backends, self.stop_timeout)
        if self._own_log_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def __enter__(self) -> LocalDeployer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the Deployer protocol -------------------------------------------------------------------
    def current(self, task: str) -> Deployment | None:
        with self._lock:
            live = self._slot(task).live
        return live.deployment if live else None

    def deploy(self, task: str, bento_tag: str | None, model_tag: str,
               gate: Callable[[Deployment, Client], None], image_tag: str | None = None) -> Deployment:
        """Start a candidate, gate it, switch the route; the previous backend becomes the standby."""
        self.start()  # a deployment nobody can reach is of no use
        with self._task_lock(task):
            candidate = self._start_backend(task, bento_tag, model_tag, image_tag)
            try:
                gate(candidate.deployment, self.client(candidate.deployment))
            except BaseException as exc:
                stop_backends([candidate], self.stop_timeout)
                if not isinstance(exc, Exception):
                    raise
                raise DeployError(f"{task} candidate {model_tag} failed its gate, nothing switched: "
                                  f"{exc}") from exc
            now = datetime.now(timezone.utc)
            candidate.deployment = dataclasses.replace(candidate.deployment, deployed_at=now)
            with self._lock:
                slot = self._slot(task)
                dropped, slot.standby, slot.live = slot.standby, slot.live, candidate
            if dropped:  # deployed twice without a verify in between: keep one standby, the newer
                self._retire(dropped)
            return candidate.deployment

    def verify(self, task: str, check: Callable[[Deployment, Client], None]) -> None:
        """Check the live deployment again; on success the standby is drained and stopped."""
        with self._task_lock(task):
            check_live(task, self.current(task), self.client, check)
            with self._lock:
                standby, self._slot(task).standby = self._slot(task).standby, None
            if standby:
                self._retire(standby)

    def rollback(self, task: str) -> Deployment | None:
        """Switch back to the standby and retire the failed backend; returns what serves now.

        Without a (running) standby there is nothing to go back to: the live backend keeps
        serving rather than leaving the task with no model at all.
        """
        with self._task_lock(task):
            with self._lock:
                slot = self._slot(task)
                failed = None
                if slot.standby and slot.standby.alive:
                    failed, slot.live, slot.standby = slot.live, slot.standby, None
            if failed:
                self._retire(failed)
            return self.current(task)

    def client(self, deployment: Deployment) -> Client:
        return http_client(deployment.endpoint, self.request_timeout)

    def pids(self) -> dict[str, int]:
        """endpoint -> process (group) id of every backend this deployer started, running or not."""
        return {b.url: b.proc.pid for b in self._started}

    # ---- what the proxy asks (local_proxy.Routing) ---------------------------------------------
    def lives(self) -> list[Backend]:
        with self._lock:
            return [slot.live for slot in self._slots.values() if slot.live]

    def acquire(self, task: str | None, retry_of: Backend | None = None) -> Backend | None:
        """The backend to send to, counted in flight: chosen and counted under the switch lock.

        A retry prefers the task's other running backend (the newer live one, or the standby)
        and falls back to the same one if it still runs.
        """
        with self._lock:
            if task is None:  # / (the API UI page, which then reads our merged /docs.json)
                choices = [s.live for s in self._slots.values()]
            elif retry_of is None:
                choices = [self._slots[task].live] if task in self._slots else []
            else:
                slot = self._slots[task]
                others = [b for b in (slot.live, slot.standby) if b is not retry_of]
                choices = [b for b in (*others, retry_of) if b and b.alive]
            backend = next((b for b in choices if b), None)
            if backend:
                backend.inflight += 1
            return backend

    def admin(self, action: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """Another process's deploy, verify or rollback (local_remote), done here where the backends live.

        A candidate is gated with its model's own golden cases before the route switches, the
        check the loop's gate runs; verify only retires the standby (the caller replays the
        golden cases itself, over HTTP, first).
        """
        from zeta_serving import registry
        from zeta_serving.maintenance import golden

        task = str(body.get("task", ""))
        if action == "deploy":
            model_tag = str(body["model_tag"])
            cases = registry.load_golden(registry.get(model_tag))

            def gate(_: Deployment, client: Client) -> None:
                golden.check(task, cases, client)

            deployment = self.deploy(task, body.get("bento_tag"), model_tag, gate=gate,
                                     image_tag=body.get("image_tag"))
            return _jsonable(deployment)
        if action == "verify":
            self.verify(task, lambda *_: None)
            return {}
        if action == "rollback":
            restored = self.rollback(task)
            return _jsonable(restored) if restored else None
        raise DeployError(f"unknown action {action!r}")

    def describe(self) -> dict[str, Any]:
        def one(backend: Backend | None) -> dict[str, Any] | None:
            if backend is None:
                return None
            return {**_jsonable(backend.deployment), "running": backend.alive}

        with self._lock:
            return {task: {"live": one(s.live), "standby": one(s.standby)} for task, s in self._slots.items()}

    # ---- backends ----------------------------------------------------------------------------
    def _slot(self, task: str) -> _Slot:
        """The task's slot (callers hold self._lock); a task registered after start gets one too."""
        if task not in tasks.names():
            raise DeployError(f"unknown task {task!r} (choose from {', '.join(tasks.names())})")
        return self._slots.setdefault(task, _Slot())

    def _task_lock(self, task: str) -> threading.Lock:
        with self._lock:
            self._slot(task)
            return self._task_locks.setdefault(task, threading.Lock())

    def _start_backend(self, task: str, bento_tag: str | None, model_tag: str, image_tag: str | None) -> Backend:
        backend = start_backend(task, bento_tag, model_tag, image_tag, host=self.host, log_dir=self.log_dir)
        self._started.append(backend)
        try:
            wait_ready(backend, bento_tag or bentos.service(task), self.ready_timeout)
        except BaseException:
            stop_backends([backend], self.stop_timeout)
            raise
        return backend

    def _retire(self, backend: Backend) -> None:
        """Drain a backend no route points at any more (bounded by drain_timeout), then stop it."""
        deadline = time.monotonic() + self.drain_timeout
        while backend.inflight > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        stop_backends([backend], self.stop_timeout)


def _jsonable(deployment: Deployment) -> dict[str, Any]:
    return {**dataclasses.asdict(deployment), "deployed_at": deployment.deployed_at.isoformat()}
