"""Acting on a local deployment that another process runs: `zeta maintain --once` beside `zeta up`.

The process that runs the local deployer (`zeta up`, `zeta maintain`) writes
`$ZETA_HOME/local-deployer.json` (its front URL, pid and a random token) and accepts
`POST /-/deploy`, `/-/verify` and `/-/rollback` on its front port with that token.
Any other zeta command of the same checkout finds it there, so a cycle run from a
CronJob-like `--once`, or `zeta status`, changes and reports what really serves
instead of a deployment that lives and dies with its own process.

The owner gates a candidate with the model's own golden cases before switching (the
same check the loop's gate runs); `verify` replays them here, over HTTP, against
what serves.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import httpx

from zeta_serving.maintenance.deployers import Client, Deployment, DeployError, check_live, http_client

STATE_FILE = "local-deployer.json"
TIMEOUT = 600.0  # a deploy starts a `bentoml serve` and replays golden cases: minutes on a busy machine


def state_path() -> Path:
    from zeta_serving.paths import zeta_home

    return zeta_home() / STATE_FILE


def publish(url: str) -> str:
    """Called by the owner when its front port listens: returns the token it must demand."""
    token = secrets.token_hex(16)
    path = state_path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid(), "token": token}))
    tmp.chmod(0o600)  # the token lets its holder deploy: only this user may read it
    tmp.replace(path)
    return token


def withdraw(token: str) -> None:
    """Called by the owner when it stops (only its own file: a newer owner may have replaced it)."""
    path = state_path()
    try:
        if json.loads(path.read_text()).get("token") == token:
            path.unlink()
    except (OSError, ValueError):
        pass


def find(port: int | None = None) -> "LocalRemote | None":
    """The running local deployment of this checkout (on `port`, if given), or None."""
    try:
        state = json.loads(state_path().read_text())
        os.kill(int(state["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    remote = LocalRemote(state["url"], state["token"])
    if port is not None and httpx.URL(remote.url).port != port:
        return None
    try:
        remote.describe()
    except DeployError:
        return None
    return remote


class LocalRemote:
    """The Deployer protocol, carried out by the process that owns the local deployment."""

    name = "local"

    def __init__(self, url: str, token: str, timeout: float = TIMEOUT) -> None:
        self.url, self._token, self.timeout = url.rstrip("/"), token, timeout

    def describe(self) -> dict[str, Any]:
        try:
            resp = httpx.get(f"{self.url}/-/deployments", timeout=10, trust_env=False)
            resp.raise_for_status()
            return dict(resp.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise DeployError(f"the local deployment at {self.url} does not answer: {exc}") from None

    def current(self, task: str) -> Deployment | None:
        return _deployment((self.describe().get(task) or {}).get("live"))

    def deploy(self, task: str, bento_tag: str | None, model_tag: str,
               gate: Callable[[Deployment, Client], None], image_tag: str | None = None) -> Deployment:
        answer = self._post("/-/deploy", {"task": task, "bento_tag": bento_tag, "model_tag": model_tag,
                                          "image_tag": image_tag})
        deployment = _deployment(answer)
        if deployment is None:
            raise DeployError(f"the local deployment answered no {task} deployment")
        return deployment

    def verify(self, task: str, check: Callable[[Deployment, Client], None]) -> None:
        check_live(task, self.current(task), self.client, check)
        self._post("/-/verify", {"task": task})

    def rollback(self, task: str) -> Deployment | None:
        return _deployment(self._post("/-/rollback", {"task": task}))

    def client(self, deployment: Deployment) -> Client:
        return http_client(deployment.endpoint, 30)

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        try:
            resp = httpx.post(self.url + path, json=body, timeout=self.timeout, trust_env=False,
                              headers={"Authorization": f"Bearer {self._token}"})
        except httpx.HTTPError as exc:
            raise DeployError(f"the local deployment at {self.url} did not answer {path}: {exc}") from None
        if not resp.is_success:
            raise DeployError(f"the local deployment refused {path} ({resp.status_code}): {resp.text[:500]}")
        return resp.json()


def _deployment(raw: dict[str, Any] | None) -> Deployment | None:
    if not raw:
        return None
    return Deployment(task=raw["task"], bento_tag=raw.get("bento_tag"), model_tag=raw["model_tag"],
                      endpoint=raw["endpoint"], deployed_at=datetime.fromisoformat(raw["deployed_at"]),
                      image_tag=raw.get("image_tag"))
