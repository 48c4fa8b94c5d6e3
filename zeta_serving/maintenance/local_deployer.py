"""The embedded deployer: one machine, one front port, one `bentoml serve` process per task.

A reverse proxy (Starlette under uvicorn, in a background thread) listens on one
port and routes `/price*`, `/category*` and `/tags*` to that task's live backend,
a real `bentoml serve` process on an internal free port: a built bento, or the
task's service from source with `ZETA_<TASK>_MODEL` naming the model.

A swap loses no request: the candidate starts beside the live backend and passes
its gate before the route switches (one assignment under a lock); the previous
backend stays up as a warm standby (instant rollback) until `verify` passes, then
is drained (its in-flight proxy requests reach 0) and stopped. Predictions are
pure, so a request whose backend connection fails, or that is unanswered after
`retry_after` seconds (a `bentoml serve` can lose a request between its API and
model services), is sent once more: to the task's other running backend if there
is one, else to the same one.

Own endpoints: `GET /healthz`, `/readyz` (every deployed task has a ready live
backend), `/metrics` (the live backends' metrics, concatenated), `/-/deployments`,
`/docs.json` (the live backends' documents merged) and `/` (the API UI page).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from zeta_serving import bentos
from zeta_serving.maintenance.deployers import Client, Deployment, DeployError
from zeta_serving.serving.runtime import EXIT_NO_MODEL, EXIT_TOKENIZER_MISMATCH

TASKS = ("price", "category", "tag")
PREFIXES = {"/price": "price", "/category": "category", "/tags": "tag"}
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "trailers", "transfer-encoding", "upgrade", "host", "content-length"}
# Connection failures: the request may be sent once more (with a read timeout, see _route).
RETRYABLE = (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
EXIT_REASONS = {EXIT_NO_MODEL: "the model is not in the model store",
                EXIT_TOKENIZER_MISMATCH: "the model was trained under a different tokenizer"}


class Backend:
    """One `bentoml serve` process (leader of its own process group) and the proxy requests it is answering."""

    def __init__(self, deployment: Deployment, proc: subprocess.Popen, log_path: Path, log_file) -> None:
        self.deployment, self.proc, self.log_path, self._log_file = deployment, proc, log_path, log_file
        self.inflight = 0  # changed only on the proxy's event loop thread

    @property
    def url(self) -> str:
        return self.deployment.endpoint

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 12) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return "\n".join([line for line in text.splitlines() if line.strip()][-lines:]) or "(empty log)"

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def wait_stopped(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.signal_group(signal.SIGKILL)  # workers the leader left behind, if any
        self._log_file.close()


@dataclasses.dataclass
class _Slot:
    live: Backend | None = None
    standby: Backend | None = None


class LocalDeployer:
    name = "local"

    def __init__(self, port: int = 3000, host: str = "127.0.0.1", log_dir: str | Path | None = None,
                 ready_timeout: float = 120, drain_timeout: float = 30, request_timeout: float = 10,
                 retry_after: float = 5, backend_timeout: float = 60, stop_timeout: float = 10) -> None:
        self.host, self.port = host, port
        self.log_dir = Path(log_dir) if log_dir else Path(tempfile.mkdtemp(prefix="zeta-local-deployer-"))
        self.ready_timeout, self.drain_timeout = ready_timeout, drain_timeout
        self.request_timeout, self.stop_timeout = request_timeout, stop_timeout
        self.retry_after, self.backend_timeout = retry_after, backend_timeout
        self._slots: dict[str, _Slot] = {task: _Slot() for task in TASKS}
        self._lock = threading.Lock()  # guards _slots and in-flight increments: a switch is atomic to requests
        self._task_locks = {task: threading.Lock() for task in TASKS}  # one deploy/verify/rollback at a time
        self._started: list[Backend] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._http: httpx.AsyncClient  # made on the proxy's event loop (lifespan)

    # ---- lifecycle -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalDeployer:
        """Start the front proxy (port 0: any free port, then `self.port` says which)."""
        if self._thread and self._thread.is_alive():
            return self
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise DeployError(f"the proxy cannot listen on {self.host}:{self.port}: {exc}") from None
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self._app(), log_level="warning", lifespan="on", access_log=False,
                                server_header=False, date_header=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="zeta-proxy", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise DeployError(f"the proxy on {self.url} did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop the proxy, then every backend process (whole process groups)."""
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
            self._server = self._thread = None
        with self._lock:
            backends = [b for slot in self._slots.values() for b in (slot.live, slot.standby) if b]
            self._slots = {task: _Slot() for task in TASKS}
        self._stop_backends(backends)

    def __enter__(self) -> LocalDeployer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- the Deployer protocol -------------------------------------------------------------------
    def current(self, task: str) -> Deployment | None:
        with self._lock:
            live = self._slots[self._check(task)].live
        return live.deployment if live else None

    def deploy(self, task: str, bento_tag: str | None, model_tag: str,
               gate: Callable[[Deployment, Client], None], image_tag: str | None = None) -> Deployment:
        """Start a candidate, gate it, switch the route; the previous backend becomes the standby."""
        self.start()  # a deployment nobody can reach is of no use
        with self._task_locks[self._check(task)]:
            candidate = self._start_backend(task, bento_tag, model_tag, image_tag)
            try:
                gate(candidate.deployment, self.client(candidate.deployment))
            except BaseException as exc:
                self._stop_backends([candidate])
                if not isinstance(exc, Exception):
                    raise
                raise DeployError(f"{task} candidate {model_tag} failed its gate, nothing switched: "
                                  f"{exc}") from exc
            now = datetime.now(timezone.utc)
            candidate.deployment = dataclasses.replace(candidate.deployment, deployed_at=now)
            with self._lock:
                slot = self._slots[task]
                dropped, slot.standby, slot.live = slot.standby, slot.live, candidate
            if dropped:  # deployed twice without a verify in between: keep one standby, the newer
                self._retire(dropped)
            return candidate.deployment

    def verify(self, task: str, check: Callable[[Deployment, Client], None]) -> None:
        """Check the live deployment again; on success the standby is drained and stopped."""
        with self._task_locks[self._check(task)]:
            live = self.current(task)
            if live is None:
                raise DeployError(f"no {task} deployment to verify")
            try:
                check(live, self.client(live))
            except Exception as exc:
                raise DeployError(f"{task} {live.model_tag} failed verification: {exc}") from exc
            with self._lock:
                standby, self._slots[task].standby = self._slots[task].standby, None
            if standby:
                self._retire(standby)

    def rollback(self, task: str) -> Deployment | None:
        """Switch back to the standby and retire the failed backend; returns what serves now.

        Without a (running) standby there is nothing to go back to: the live backend keeps
        serving rather than leaving the task with no model at all.
        """
        with self._task_locks[self._check(task)]:
            with self._lock:
                slot = self._slots[task]
                failed = None
                if slot.standby and slot.standby.alive:
                    failed, slot.live, slot.standby = slot.live, slot.standby, None
            if failed:
                self._retire(failed)
            return self.current(task)

    def client(self, deployment: Deployment) -> Client:
        base, timeout = deployment.endpoint.rstrip("/"), self.request_timeout

        def call(route: str, body):
            resp = httpx.post(base + route, json=body, timeout=timeout, trust_env=False)
            if not resp.is_success:
                raise DeployError(f"POST {route} answered {resp.status_code}: {resp.text[:500]}")
            return resp.json()

        return call

    def pids(self) -> dict[str, int]:
        """endpoint -> process (group) id of every backend this deployer started, running or not."""
        return {b.url: b.proc.pid for b in self._started}

    # ---- backends ----------------------------------------------------------------------------
    def _check(self, task: str) -> str:
        if task not in TASKS:
            raise DeployError(f"unknown task {task!r} (choose from {', '.join(TASKS)})")
        return task

    def _start_backend(self, task: str, bento_tag: str | None, model_tag: str, image_tag: str | None) -> Backend:
        with socket.socket() as sock:
            sock.bind((self.host, 0))
            port = sock.getsockname()[1]
        target = bento_tag or bentos.SERVICES[task]
        cmd = [bentos.bentoml_executable(), "serve", target, "--host", self.host, "--port", str(port)]
        env = {**os.environ, **bentos.model_env({task: model_tag})}
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{task}-{datetime.now():%Y%m%d-%H%M%S}-{port}.log"
        log_file = open(log_path, "wb")  # noqa: SIM115 - closed when the backend stops
        try:
            proc = subprocess.Popen(cmd, cwd=bentos.project_root() if bento_tag is None else self.log_dir,
                                    env=env, stdin=subprocess.DEVNULL, stdout=log_file,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except Exception as exc:
            log_file.close()
            raise DeployError(f"cannot start bentoml serve {target}: {exc}") from exc
        deployment = Deployment(task, bento_tag, model_tag, f"http://{self.host}:{port}",
                                datetime.now(timezone.utc), image_tag)
        backend = Backend(deployment, proc, log_path, log_file)
        self._started.append(backend)
        try:
            self._wait_ready(backend, target)
        except BaseException:
            self._stop_backends([backend])
            raise
        return backend

    def _wait_ready(self, backend: Backend, target: str) -> None:
        deadline, problem = time.monotonic() + self.ready_timeout, f"was not ready after {self.ready_timeout:g}s"
        while time.monotonic() < deadline:
            code = backend.proc.poll()
            if code is not None:
                problem = f"exited with {code}{f' ({EXIT_REASONS[code]})' if code in EXIT_REASONS else ''}"
                break
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{backend.url}/readyz", timeout=2, trust_env=False).status_code == 200:
                    return
            time.sleep(0.2)
        raise DeployError(f"bentoml serve {target} {problem}; last lines of {backend.log_path}:\n"
                          f"{backend.log_tail()}")

    def _retire(self, backend: Backend) -> None:
        """Drain a backend no route points at any more (bounded by drain_timeout), then stop it."""
        deadline = time.monotonic() + self.drain_timeout
        while backend.inflight > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        self._stop_backends([backend])

    def _stop_backends(self, backends: list[Backend]) -> None:
        for backend in backends:  # all at once: shutting down takes a few seconds each
            if backend.alive:
                backend.signal_group(signal.SIGTERM)
        for backend in backends:
            backend.wait_stopped(self.stop_timeout)

    # ---- the proxy ---------------------------------------------------------------------------
    def _app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(app):
            limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.backend_timeout, connect=5), limits=limits,
                                           trust_env=False)
            try:
                yield
            finally:
                await self._http.aclose()

        return Starlette(lifespan=lifespan, routes=[
            Route("/healthz", self._healthz), Route("/readyz", self._readyz), Route("/metrics", self._metrics),
            Route("/-/deployments", self._deployments), Route("/docs.json", self._docs),
            Route("/{path:path}", self._route, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
        ])

    def _lives(self) -> list[Backend]:
        with self._lock:
            return [slot.live for slot in self._slots.values() if slot.live]

    async def _healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def _readyz(self, request: Request) -> Response:
        async def ready(backend: Backend) -> bool:
            with contextlib.suppress(httpx.HTTPError):
                return backend.alive and (await self._http.get(f"{backend.url}/readyz", timeout=2)).status_code == 200
            return False

        lives = self._lives()
        states = dict(zip((b.deployment.task for b in lives), await asyncio.gather(*map(ready, lives))))
        return JSONResponse({"ready": all(states.values()), "tasks": states}, 200 if all(states.values()) else 503)

    async def _metrics(self, request: Request) -> Response:
        parts = []
        for backend in self._lives():
            with contextlib.suppress(httpx.HTTPError):
                resp = await self._http.get(f"{backend.url}/metrics", timeout=5)
                parts.append(f"# zeta backend task={backend.deployment.task} "
                             f"model_tag={backend.deployment.model_tag}\n{resp.text.rstrip()}\n")
        return PlainTextResponse("".join(parts), media_type="text/plain; version=0.0.4")

    async def _docs(self, request: Request) -> Response:
        """One OpenAPI document for the front port: the live backends' paths and schemas merged."""
        merged: dict = {}
        for backend in self._lives():
            with contextlib.suppress(httpx.HTTPError, ValueError):
                spec = (await self._http.get(f"{backend.url}/docs.json", timeout=5)).json()
                if not merged:
                    merged = {**spec, "paths": {}, "components": {**spec.get("components", {}), "schemas": {}}}
                    merged["info"] = {**spec.get("info", {}), "title": "zeta-serving (local deployer)"}
                merged["paths"].update(spec.get("paths", {}))
                merged["components"]["schemas"].update(spec.get("components", {}).get("schemas", {}))
        if not merged:
            return JSONResponse({"error": "no model is deployed"}, 503)
        return JSONResponse(merged)

    async def _deployments(self, request: Request) -> Response:
        def describe(backend: Backend | None):
            return backend and {**dataclasses.asdict(backend.deployment), "running": backend.alive,
                                "deployed_at": backend.deployment.deployed_at.isoformat()}

        with self._lock:
            body = {task: {"live": describe(s.live), "standby": describe(s.standby)} for task, s in self._slots.items()}
        return JSONResponse(body)

    def _acquire(self, task: str | None, retry_of: Backend | None = None) -> Backend | None:
        """The backend to send to, counted in flight: chosen and counted under the switch lock.

        A retry prefers the task's other running backend (the newer live one, or the standby)
        and falls back to the same one if it still runs.
        """
        with self._lock:
            if task is None:  # / (the API UI page, which then reads our merged /docs.json)
                choices = [s.live for s in self._slots.values()]
            elif retry_of is None:
                choices = [self._slots[task].live]
            else:
                others = [b for b in (self._slots[task].live, self._slots[task].standby) if b is not retry_of]
                choices = [b for b in (*others, retry_of) if b and b.alive]
            backend = next((b for b in choices if b), None)
            if backend:
                backend.inflight += 1
            return backend

    async def _route(self, request: Request) -> Response:
        path = request.url.path
        task = next((t for prefix, t in PREFIXES.items() if path == prefix or path.startswith(prefix + "/")), None)
        if task is None and path != "/":
            return JSONResponse({"error": f"no route {path}"}, 404)
        backend = self._acquire(task)
        if backend is None:
            return JSONResponse({"error": f"no {task or 'model'} model is deployed"}, 503)
        body = await request.body()
        headers = [(k, v) for k, v in request.headers.raw if k.decode("latin-1").lower() not in HOP_BY_HOP]
        target = path + (f"?{request.url.query}" if request.url.query else "")
        for attempt in (1, 2):
            # Predictions are pure, so a task request may be sent twice: once more after a connection
            # failure, or when unanswered after retry_after (a backend can lose a request internally).
            retry = task is not None and attempt == 1
            timeout = httpx.Timeout(self.retry_after if retry else self.backend_timeout, connect=5)
            try:
                resp = await self._http.request(request.method, backend.url + target, headers=headers,
                                                content=body, timeout=timeout)
                break
            except (*RETRYABLE, httpx.ReadTimeout) as exc:
                failure = exc
            except httpx.HTTPError as exc:
                failure, retry = exc, False
            finally:
                backend.inflight -= 1
            failed, backend = backend, (self._acquire(task, retry_of=backend) if retry else None)
            if backend is None:
                status = 504 if isinstance(failure, httpx.TimeoutException) else 502
                return JSONResponse({"error": f"the {task or 'model'} backend at {failed.url} failed: "
                                              f"{type(failure).__name__}: {failure}"}, status)
        out = Response(resp.content, resp.status_code)
        out.raw_headers = [(k, v) for k, v in resp.headers.raw
                           if k.decode("latin-1").lower() not in HOP_BY_HOP | {"content-encoding"}]
        out.raw_headers.append((b"content-length", str(len(resp.content)).encode()))
        return out
