"""A stand-in for a model's Service or public endpoint: real predictors, the model_tag its image carries."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from zeta_serving import tasks


class Backend:
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
                    data = json.dumps({"results": results, "model_tag": tag}).encode()
                else:
                    data = json.dumps(task.predict(model, tag, [task.request.model_validate(body)])[0].model_dump()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
