"""The front port's hop to a backend, against plain loopback servers: an answer passes through
unchanged, a backend that refuses connections is tried once more and then named in a 502, and
a backend that stalls past the timeout is a 504, never re-sent."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import httpx
import pytest

from zeta_serving.maintenance.local_proxy import FrontProxy


class Backend(SimpleNamespace):
    """What the proxy reads of a backend: its url, whether it is alive, its in-flight count."""


class Routing:
    def __init__(self, *backends: Backend) -> None:
        self.backends, self.acquired = list(backends), []
        self.token = ""

    def lives(self):
        return []

    def acquire(self, task, retry_of=None):
        choices = [b for b in self.backends if b is not retry_of] or self.backends
        backend = choices[0]
        backend.inflight += 1
        self.acquired.append(backend.url)
        return backend

    def describe(self):
        return {}

    def admin(self, action, body):
        return None


class Handler(BaseHTTPRequestHandler):
    delay = 0.0
    seen: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((self.path, body, self.headers.get("X-Trace")))
        time.sleep(self.delay)
        answer = b'{"price": 1234}'
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Model-Tag", "zeta-price:abc")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture
def backend_server():
    servers = []

    def start(delay: float = 0.0) -> str:
        handler = type("H", (Handler,), {"delay": delay, "seen": []})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}", handler

    yield start
    for server in servers:
        server.shutdown()


def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def front(routing: Routing, timeout: float = 5) -> FrontProxy:
    proxy = FrontProxy(routing, "127.0.0.1", 0, backend_timeout=timeout)
    proxy.start()
    return proxy


def test_an_answer_passes_through_with_its_status_headers_and_body(backend_server):
    url, handler = backend_server()
    backend = Backend(url=url, inflight=0)
    proxy = front(Routing(backend))
    try:
        resp = httpx.post(f"http://127.0.0.1:{proxy.port}/price?x=1", content=b'{"name": "a"}',
                          headers={"X-Trace": "t1", "Content-Type": "application/json"})
    finally:
        proxy.stop()
    assert resp.status_code == 201 and resp.json() == {"price": 1234}
    assert resp.headers["x-model-tag"] == "zeta-price:abc"
    assert handler.seen == [("/price?x=1", b'{"name": "a"}', "t1")]
    assert backend.inflight == 0


def test_a_refused_connection_is_tried_once_more_then_a_502_names_the_backend(backend_server):
    dead, alive_url = Backend(url=closed_port(), inflight=0), backend_server()[0]
    routing = Routing(dead, Backend(url=alive_url, inflight=0))
    proxy = front(routing)
    try:
        assert httpx.post(f"http://127.0.0.1:{proxy.port}/price", json={"name": "a"}).status_code == 201
        routing.backends = [dead]  # nothing else to try
        resp = httpx.post(f"http://127.0.0.1:{proxy.port}/price", json={"name": "a"})
    finally:
        proxy.stop()
    assert routing.acquired[:2] == [dead.url, alive_url]  # the retry went to the other backend
    assert resp.status_code == 502 and dead.url in resp.json()["error"]
    assert dead.inflight == 0


def test_a_stalled_backend_is_a_504_and_is_not_sent_the_request_twice(backend_server):
    url, handler = backend_server(delay=2.0)
    routing = Routing(Backend(url=url, inflight=0))
    proxy = front(routing, timeout=0.5)
    try:
        resp = httpx.post(f"http://127.0.0.1:{proxy.port}/price", json={"name": "a"}, timeout=10)
    finally:
        proxy.stop()
    assert resp.status_code == 504, resp.text
    assert len(handler.seen) == 1 and routing.acquired == [url]
