"""A stand-in for a model's Service or public endpoint: real predictors, the model_tag its image carries."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from zeta_serving import tasks


def reply_json(handler: BaseHTTPRequestHandler, status: int, payload) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class LoopbackServer:
    """A threaded HTTP server on 127.0.0.1 (any free port) for one handler class; `url`, `close()`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        handler.log_message = lambda *args: None  # type: ignore[method-assign]
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Backend(LoopbackServer):
    """One model Service: answers each task's route and its /batch route with the model its live image carries."""

    def __init__(self, serving: dict[str, tuple[object, str]]):
        self.serving = serving  # task -> (estimator, model_tag it reports)
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                task = tasks.by_route(self.path)
                model, tag = backend.serving[task.name]
                if self.path.endswith("/batch"):  # the live score sends {"listings": [...]}, as to a real service
                    listings = [task.request.model_validate(item) for item in body["listings"]]
                    results = [r.model_dump() for r in task.predict(model, tag, listings)]
                    reply_json(self, 200, {"results": results, "model_tag": tag})
                else:
                    reply_json(self, 200, task.predict(model, tag, [task.request.model_validate(body)])[0].model_dump())

        super().__init__(Handler)
