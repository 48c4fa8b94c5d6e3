"""The local deployer's front port: a reverse proxy (Starlette under uvicorn, in a background thread).

A task's routes (`Task.route` and below) go to that task's live backend. Predictions are
pure, so a request whose backend connection fails (a backend stopped or swapped mid-request)
is sent once more: to the task's other running backend if there is one, else to the same
one. A slow answer is never re-sent: a service runs its model in its own process (no
internal hop that could lose a request), so a second copy would only double the load. Own endpoints: `GET /healthz`, `/readyz` (every deployed task has a ready
live backend), `/metrics`, `/docs.json` (merged, see local_merge), `/-/deployments` and
`/livez`, and any other GET (the API UI page `/` and its static files, from a live
backend; the page then reads our merged /docs.json). `POST /-/deploy|verify|rollback`
act for another zeta process (local_remote), with the bearer token the owner published.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
import threading
import time
from typing import Any, AsyncIterator, Protocol

import aiohttp
import httpx
import uvicorn
import yarl
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from zeta_serving import tasks
from zeta_serving.maintenance.deployers import DeployError
from zeta_serving.maintenance.local_backends import Backend
from zeta_serving.maintenance.local_merge import merge_metrics, merge_openapi

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "trailers", "transfer-encoding", "upgrade", "host", "content-length"}
# Connection failures (refused, reset, disconnected before the answer): the request may be
# sent once more (see _route). A timeout is not one of them: aiohttp's ServerTimeoutError is
# also a ClientConnectionError, so timeouts are caught first.
RETRYABLE = (aiohttp.ClientConnectionError,)


class Routing(Protocol):
    """What the proxy asks of the deployer that owns the backends."""

    def lives(self) -> list[Backend]: ...

    def acquire(self, task: str | None, retry_of: Backend | None = None) -> Backend | None: ...

    def describe(self) -> dict[str, Any]: ...

    token: str  # what /-/deploy, /-/verify and /-/rollback demand as a bearer token ("": refused)

    def admin(self, action: str, body: dict[str, Any]) -> dict[str, Any] | None: ...


class FrontProxy:
    def __init__(self, routing: Routing, host: str, port: int, *,
                 backend_timeout: float) -> None:
        self.routing, self.host, self.port = routing, host, port
        self.backend_timeout = backend_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._http: httpx.AsyncClient  # made on the proxy's event loop (lifespan)
        self._forward: aiohttp.ClientSession  # the suggestion routes' hop, the same way

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Listen (port 0: any free port, then `self.port` says which) and serve in a thread."""
        if self.running:
            return
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise DeployError(f"the proxy cannot listen on {self.host}:{self.port}: {exc}") from None
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app(), log_level="warning", lifespan="on", access_log=False,
                                server_header=False, date_header=False)
        server = self._server = uvicorn.Server(config)
        thread = self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                                 name="zeta-proxy", daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise DeployError(f"the proxy on {self.host}:{self.port} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
        self._server = self._thread = None

    def app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(self.backend_timeout, connect=5), limits=limits,
                                           trust_env=False)
            # Every suggestion crosses this hop, so it uses aiohttp: httpx's async connection pool
            # costs several times more CPU per request under concurrency (encode/httpx#3215), and
            # with it the front port answered 150-230 requests/s where the bento behind it
            # answered 1,100-2,500.
            self._forward = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=256, limit_per_host=0, keepalive_timeout=30),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=self.backend_timeout),
                auto_decompress=False, skip_auto_headers=("User-Agent", "Accept-Encoding"))
            try:
                yield
            finally:
                await self._http.aclose()
                await self._forward.close()

        return Starlette(lifespan=lifespan, routes=[
            Route("/healthz", self._healthz), Route("/readyz", self._readyz), Route("/metrics", self._metrics),
            Route("/livez", self._healthz), Route("/-/deployments", self._deployments),
            Route("/-/{action:str}", self._admin, methods=["POST"]), Route("/docs.json", self._docs),
            Route("/{path:path}", self._route, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
        ])

    async def _healthz(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def _readyz(self, request: Request) -> Response:
        async def ready(backend: Backend) -> bool:
            with contextlib.suppress(httpx.HTTPError):
                return backend.alive and (await self._http.get(f"{backend.url}/readyz", timeout=2)).status_code == 200
            return False

        lives = self.routing.lives()
        states = dict(zip((b.deployment.task for b in lives), await asyncio.gather(*map(ready, lives))))
        ready_all = bool(states) and all(states.values())  # nothing deployed is not ready
        return JSONResponse({"ready": ready_all, "tasks": states}, 200 if ready_all else 503)

    async def _metrics(self, request: Request) -> Response:
        parts = []
        for backend in self.routing.lives():
            with contextlib.suppress(httpx.HTTPError):
                resp = await self._http.get(f"{backend.url}/metrics", timeout=5)
                parts.append((backend.deployment, resp.text))
        return PlainTextResponse(merge_metrics(parts), media_type="text/plain; version=0.0.4")

    async def _docs(self, request: Request) -> Response:
        specs = []
        for backend in self.routing.lives():
            with contextlib.suppress(httpx.HTTPError, ValueError):
                specs.append((await self._http.get(f"{backend.url}/docs.json", timeout=5)).json())
        merged = merge_openapi(specs)
        if not merged:
            return JSONResponse({"error": "no model is deployed"}, 503)
        return JSONResponse(merged)

    async def _deployments(self, request: Request) -> Response:
        return JSONResponse(self.routing.describe())

    async def _admin(self, request: Request) -> Response:
        """Another zeta process's deploy, verify or rollback (see local_remote)."""
        token = self.routing.token
        given = request.headers.get("authorization", "")
        if not token or not secrets.compare_digest(given, f"Bearer {token}"):
            return JSONResponse({"error": "not allowed"}, 403)
        action = request.path_params["action"]
        if action not in ("deploy", "verify", "rollback"):
            return JSONResponse({"error": f"no action {action}"}, 404)
        try:
            body = await request.json()
            return JSONResponse(await asyncio.to_thread(self.routing.admin, action, body))
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"bad request: {exc}"}, 400)
        except Exception as exc:  # noqa: BLE001 - a failed deploy is the caller's answer, not a crash
            return JSONResponse({"error": str(exc)}, 409)

    async def _route(self, request: Request) -> Response:
        path = request.url.path
        owner = tasks.by_route(path)
        task = owner.name if owner else None
        if task is None and request.method not in ("GET", "HEAD"):
            return JSONResponse({"error": f"no route {path}"}, 404)
        backend = self.routing.acquire(task)
        if backend is None:
            return JSONResponse({"error": f"no {task or 'model'} model is deployed"}, 503)
        body = await request.body()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
                   if k.decode("latin-1").lower() not in HOP_BY_HOP]
        target = path + (f"?{request.url.query}" if request.url.query else "")
        for attempt in (1, 2):
            # Predictions are pure, so a task request may be sent twice: once more after a connection failure.
            retry = task is not None and attempt == 1
            try:
                async with self._forward.request(request.method, yarl.URL(backend.url + target, encoded=True),
                                                 headers=headers, data=body) as resp:
                    status, content, raw = resp.status, await resp.read(), resp.raw_headers
                break
            except asyncio.TimeoutError as exc:
                failure: Exception = exc
                retry = False
            except RETRYABLE as exc:
                failure = exc
            except aiohttp.ClientError as exc:
                failure, retry = exc, False
            finally:
                backend.inflight -= 1
            failed = backend
            again = self.routing.acquire(task, retry_of=backend) if retry else None
            if again is None:
                code = 504 if isinstance(failure, asyncio.TimeoutError) else 502
                return JSONResponse({"error": f"the {task or 'model'} backend at {failed.url} failed: "
                                              f"{type(failure).__name__}: {failure}"}, code)
            backend = again
        out = Response(content, status)
        out.raw_headers = [(k, v) for k, v in raw if k.decode("latin-1").lower() not in HOP_BY_HOP]
        out.raw_headers.append((b"content-length", str(len(content)).encode()))
        return out
