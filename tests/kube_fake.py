"""A fake Kubernetes API server speaking the real REST protocol over HTTP, for the real client.

It serves Deployments (GET, strategic-merge PATCH, field-selected list and watch as
newline-delimited JSON events) and coordination.k8s.io Leases (GET, PUT with
resourceVersion conflicts), from objects rendered by `zeta k8s render`. A built-in
controller plays the Deployment controller: a changed pod template gets a new
generation, then observedGeneration, updated, available replicas, or, for an image
listed in `unready_images`, pods that never become ready and a ProgressDeadlineExceeded
condition. Faults on demand: an HTTP status, a stall (for client timeouts), watches that
end after their first event. Every request is recorded.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import yaml


def _status(code: int, reason: str, message: str) -> dict:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}


def strategic_merge(target, patch):
    """Maps merge key by key (null deletes); lists of named objects merge by name; other lists replace."""
    if isinstance(target, dict) and isinstance(patch, dict):
        out = dict(target)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            elif key in out:
                out[key] = strategic_merge(out[key], value)
            else:
                out[key] = copy.deepcopy(value)
        return out
    if isinstance(target, list) and isinstance(patch, list) and all(isinstance(x, dict) and "name" in x
                                                                   for x in target + patch):
        out = [dict(x) for x in target]
        for item in patch:
            for i, have in enumerate(out):
                if have["name"] == item["name"]:
                    out[i] = strategic_merge(have, item)
                    break
            else:
                out.append(copy.deepcopy(item))
        return out
    return copy.deepcopy(patch)


class FakeCluster:
    def __init__(self, objects: list[dict], *, step: float = 0.1, progress_deadline: float = 1.0):
        self.cond = threading.Condition()
        self.rv = 100
        self.objects: dict[tuple[str, str, str], dict] = {}
        self.requests: list[tuple[str, str, str, object]] = []
        self.unready_images: set[str] = set()
        self.on_ready = lambda name, image: None  # the pods of `image` became ready
        self.fault: dict = {}  # {"status": 500} or {"stall": seconds}; "methods": only for these
        self.end_watches_early = False
        self.step, self.progress_deadline = step, progress_deadline
        for obj in objects:
            if obj["kind"] in ("Deployment", "Lease"):
                self._store(copy.deepcopy(obj), created=True)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def kubeconfig(self, path) -> str:
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "fake",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": "fake-token"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}]}))
        return str(path)

    # -- state ------------------------------------------------------------------------------
    def deployment(self, name: str, namespace: str = "zeta") -> dict:
        with self.cond:
            return copy.deepcopy(self.objects[("Deployment", namespace, name)])

    def image(self, name: str, namespace: str = "zeta") -> str:
        return self.deployment(name, namespace)["spec"]["template"]["spec"]["containers"][0]["image"]

    def patches(self) -> list:
        return [r for r in self.requests if r[0] == "PATCH"]

    def _store(self, obj: dict, *, created: bool = False) -> dict:
        with self.cond:
            self.rv += 1
            meta = obj["metadata"]
            meta["resourceVersion"] = str(self.rv)
            if created:
                meta.update(uid=f"uid-{self.rv}", creationTimestamp="2026-01-01T00:00:00Z", generation=1)
                if obj["kind"] == "Deployment":
                    n = obj["spec"]["replicas"]
                    obj["status"] = {"observedGeneration": 1, "replicas": n, "updatedReplicas": n,
                                     "readyReplicas": n, "availableReplicas": n, "conditions": [
                                         _condition("Available", "True", "MinimumReplicasAvailable"),
                                         _condition("Progressing", "True", "NewReplicaSetAvailable")]}
            self.objects[(obj["kind"], meta["namespace"], meta["name"])] = obj
            self.cond.notify_all()
            return obj

    def _controller(self, key, generation: int, image: str) -> None:
        """The Deployment controller's view of a rollout, in a few steps."""
        def still_current(obj):
            return obj["metadata"]["generation"] == generation

        time.sleep(self.step)
        with self.cond:
            obj = self.objects[key]
            if not still_current(obj):
                return
            n = obj["spec"]["replicas"]
            obj["status"].update(observedGeneration=generation, replicas=n + 1, updatedReplicas=1,
                                 availableReplicas=n, unavailableReplicas=1)
            obj["status"]["conditions"] = [_condition("Available", "True", "MinimumReplicasAvailable"),
                                           _condition("Progressing", "True", "ReplicaSetUpdated")]
            self._store(obj)
        if image in self.unready_images:
            time.sleep(self.progress_deadline)
            with self.cond:
                obj = self.objects[key]
                if still_current(obj):
                    obj["status"]["conditions"][1] = _condition(
                        "Progressing", "False", "ProgressDeadlineExceeded",
                        f'ReplicaSet "{key[2]}-{generation}" has timed out progressing.')
                    self._store(obj)
            return
        time.sleep(self.step)
        with self.cond:
            obj = self.objects[key]
            if not still_current(obj):
                return
            n = obj["spec"]["replicas"]
            self.on_ready(key[2], image)
            obj["status"].update(replicas=n, updatedReplicas=n, readyReplicas=n, availableReplicas=n,
                                 unavailableReplicas=None)
            obj["status"] = {k: v for k, v in obj["status"].items() if v is not None}
            obj["status"]["conditions"][1] = _condition("Progressing", "True", "NewReplicaSetAvailable")
            self._store(obj)

    # -- HTTP ---------------------------------------------------------------------------------
    def _handler(self):
        cluster = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args):
                pass

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up waiting (the stall fault): nothing to tell it
                    pass

            def _route(self, method: str) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                cluster.requests.append((method, url.path, self.headers.get("Content-Type", ""), body))
                fault = cluster.fault
                if fault and method in fault.get("methods", (method,)):
                    if "stall" in fault:
                        time.sleep(fault["stall"])
                        return self._send(504, _status(504, "Timeout", "stalled"))
                    return self._send(fault["status"], _status(fault["status"], "InternalError",
                                                               "an error on the server (fake)"))
                parts = url.path.strip("/").split("/")
                # /apis/<group>/<version>/namespaces/<ns>/<plural>[/<name>]
                if len(parts) < 6 or parts[0] != "apis" or parts[3] != "namespaces":
                    return self._send(404, _status(404, "NotFound", f"the server could not find {url.path}"))
                kind = {"deployments": "Deployment", "leases": "Lease"}.get(parts[5])
                namespace = parts[4]
                if kind is None:
                    return self._send(404, _status(404, "NotFound", f"no resource {parts[5]}"))
                if len(parts) == 6 and method == "GET":
                    return self._list(kind, namespace, query)
                key = (kind, namespace, parts[6] if len(parts) > 6 else "")
                with cluster.cond:
                    obj = copy.deepcopy(cluster.objects.get(key))
                if obj is None:
                    return self._send(404, _status(404, "NotFound", f'{parts[5]} "{key[2]}" not found'))
                if method == "GET":
                    return self._send(200, obj)
                if method == "PATCH":
                    return self._patch(key, obj, body)
                if method == "PUT":
                    return self._put(key, obj, body)
                return self._send(405, _status(405, "MethodNotAllowed", method))

            def _patch(self, key, obj, body) -> None:
                content_type = self.headers.get("Content-Type", "")
                if content_type != "application/strategic-merge-patch+json" or not isinstance(body, dict):
                    # What a real API server says to a map sent as a JSON patch.
                    return self._send(415 if "patch" not in content_type else 400,
                                      _status(400, "BadRequest", f"unsupported patch for {content_type}"))
                merged = strategic_merge(obj, body)
                changed = merged["spec"]["template"] != obj["spec"]["template"]
                if changed:
                    merged["metadata"]["generation"] = obj["metadata"]["generation"] + 1
                stored = cluster._store(merged)
                if changed:
                    image = merged["spec"]["template"]["spec"]["containers"][0]["image"]
                    threading.Thread(target=cluster._controller,
                                     args=(key, merged["metadata"]["generation"], image), daemon=True).start()
                self._send(200, copy.deepcopy(stored))

            def _put(self, key, obj, body) -> None:
                if body["metadata"].get("resourceVersion") != obj["metadata"]["resourceVersion"]:
                    return self._send(409, _status(409, "Conflict", "the object has been modified; "
                                                   "please apply your changes to the latest version and try again"))
                self._send(200, copy.deepcopy(cluster._store(body)))

            def _list(self, kind, namespace, query) -> None:
                wanted = query.get("fieldSelector", "").removeprefix("metadata.name=")

                def matching():
                    return [copy.deepcopy(o) for (k, ns, name), o in cluster.objects.items()
                            if k == kind and ns == namespace and (not wanted or name == wanted)]

                if query.get("watch") not in ("true", "True", "1"):
                    with cluster.cond:
                        items = matching()
                    return self._send(200, {"kind": f"{kind}List", "apiVersion": "apps/v1",
                                            "metadata": {"resourceVersion": str(cluster.rv)}, "items": items})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                since = int(query.get("resourceVersion") or 0)
                until = time.monotonic() + float(query.get("timeoutSeconds") or 30)
                sent = 0
                while time.monotonic() < until:
                    with cluster.cond:
                        fresh = [o for o in matching() if int(o["metadata"]["resourceVersion"]) > since]
                        if not fresh:
                            cluster.cond.wait(timeout=max(0.0, min(0.5, until - time.monotonic())))
                            continue
                    for obj in fresh:
                        since = max(since, int(obj["metadata"]["resourceVersion"]))
                        line = json.dumps({"type": "MODIFIED", "object": obj}) + "\n"
                        try:
                            self.wfile.write(line.encode())
                            self.wfile.flush()
                        except OSError:
                            return
                        sent += 1
                    if cluster.end_watches_early and sent:
                        return  # the connection closes before the rollout is done

            def do_GET(self):
                self._route("GET")

            def do_PATCH(self):
                self._route("PATCH")

            def do_PUT(self):
                self._route("PUT")

        return Handler


def _condition(kind: str, status: str, reason: str, message: str = "") -> dict:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"type": kind, "status": status, "reason": reason, "message": message or reason,
            "lastUpdateTime": now, "lastTransitionTime": now}
