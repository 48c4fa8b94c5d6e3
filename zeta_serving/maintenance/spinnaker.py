"""`deployer = "spinnaker"`: hand the rollout to a Spinnaker pipeline, then check what it did.

    deploy   POST Gate's webhook trigger (`/webhooks/webhook/<source>`) with the new image as
             a `docker/image` artifact and the model, model tag and bento tag as pipeline
             parameters; then, until `timeout`, ask the public endpoint which `model_tag`
             answers. Once it is the new one its golden cases are replayed there. A timeout
             or a mismatch triggers the rollback pipeline (`rollback_source`) with the
             previous model as parameters; without one the run fails and the loop alerts.
    current  the model the public endpoint answers with (None when it does not answer).

Spinnaker owns the cluster here: zeta never talks to Kubernetes, and a bento's own
readiness gate (golden cases at start-up) keeps the pipeline's rollout honest.

Settings: the `[spinnaker]` table of zeta.toml; the optional bearer token for Gate comes
from $ZETA_SPINNAKER_TOKEN (a Kubernetes Secret), never from the file.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timezone
from typing import Callable

import httpx
from pydantic import BaseModel, ConfigDict, Field

from zeta_serving import tasks
from zeta_serving.maintenance.deployers import Client, Deployment, DeployError, check_live, tagged_client

log = logging.getLogger("zeta.maintenance.spinnaker")

PROBE = {"name": "zeta probe"}  # a valid body for every task's route: its answer names the model_tag


class SpinnakerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gate_url: str = ""  # Gate's base URL, e.g. http://spin-gate.spinnaker:8084
    source: str = "zeta-{task}"  # the webhook trigger's Source in the deploy pipeline
    rollback_source: str = ""  # the rollback pipeline's Source ("": none, the run fails and alerts)
    public_url: str = "http://zeta-{task}.zeta.svc:3000"  # where the model answers once deployed
    timeout: float = Field(1800.0, gt=0)  # seconds the pipeline has to put the new model on the air
    poll: float = Field(10.0, gt=0)
    request_timeout: float = Field(30.0, gt=0)


def from_config(config, clock=None) -> "SpinnakerDeployer":
    from zeta_serving.maintenance.sections import load_section

    settings = load_section(config.source, "spinnaker", SpinnakerSettings)
    if not settings.gate_url:
        raise DeployError(f"deployer = \"spinnaker\" needs gate_url in the [spinnaker] table of {config.source}")
    return SpinnakerDeployer(settings, token=os.environ.get("ZETA_SPINNAKER_TOKEN", ""), clock=clock)


def docker_artifact(image: str) -> dict:
    """A Spinnaker `docker/image` artifact: name is the repository, version the tag."""
    last = image.rsplit("/", 1)[-1]
    name, version = (image.rsplit(":", 1) if ":" in last else (image, "latest"))
    return {"type": "docker/image", "name": name, "reference": image, "version": version}


class SpinnakerDeployer:
    name = "spinnaker"

    def __init__(self, settings: SpinnakerSettings, *, token: str = "", clock=None):
        self.settings = settings
        self._token = token
        self._clock = clock
        self._previous: dict[str, Deployment | None] = {}
        self._deployed: dict[str, Deployment] = {}

    # -- the Deployer interface -------------------------------------------------------------
    def current(self, task: str) -> Deployment | None:
        url = self._url(task)
        try:
            resp = httpx.post(url + tasks.get(task).route, json=PROBE, timeout=self.settings.request_timeout, trust_env=False)
            tag = resp.json().get("model_tag") if resp.is_success else None
        except (httpx.HTTPError, ValueError):
            return None
        if not tag:
            return None
        known = self._deployed.get(task)
        if known is not None and known.model_tag == tag:
            return known
        return Deployment(task, None, tag, url, self._now(), None)

    def client(self, deployment: Deployment) -> Client:
        return tagged_client(deployment.endpoint, self.settings.request_timeout, deployment.model_tag,
                             "the public endpoint")

    def deploy(self, task: str, bento_tag: str | None, model_tag: str,
               gate: Callable[[Deployment, Client], None], image_tag: str | None = None) -> Deployment:
        if not image_tag:
            raise DeployError("the spinnaker deployer hands Spinnaker an image: set container_backend "
                              "so promotions build (and push) one")
        previous = self.current(task)
        candidate = Deployment(task, bento_tag, model_tag, self._url(task), self._now(), image_tag)
        self._trigger(self.settings.source.format(task=task), image_tag, {
            "model": task, "model_tag": model_tag, "bento_tag": bento_tag or "", "image": image_tag,
            "previous_model_tag": previous.model_tag if previous else ""})
        try:
            self._await_model(task, model_tag)
            gate(candidate, self.client(candidate))
        except Exception as exc:  # noqa: BLE001 - timeout or mismatch: the rollback pipeline, or an alert
            reason = f"{image_tag}: {exc}"
            raise DeployError(f"{reason}; {self._roll_back(task, previous, reason, failed=candidate)}") from exc
        self._previous[task], self._deployed[task] = previous, candidate
        return candidate

    def verify(self, task: str, check: Callable[[Deployment, Client], None]) -> None:
        check_live(task, self.current(task), self.client, check, " on the public endpoint")

    def rollback(self, task: str) -> Deployment | None:
        failed = self._deployed.pop(task, None)
        log.warning("%s: %s", task, self._roll_back(task, self._previous.pop(task, None),
                                                      "verification failed after the rollout", failed=failed))
        return self.current(task)

    # -- pieces -------------------------------------------------------------------------------
    def _trigger(self, source: str, image: str | None, parameters: dict) -> str:
        url = f"{self.settings.gate_url.rstrip('/')}/webhooks/webhook/{source}"
        payload = {"parameters": {k: str(v) for k, v in parameters.items()},
                   "artifacts": [docker_artifact(image)] if image else []}
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            resp = httpx.post(url, json=payload, headers=headers, timeout=self.settings.request_timeout,
                              trust_env=False)
        except httpx.HTTPError as exc:
            raise DeployError(f"Spinnaker Gate did not take the {source} trigger: {type(exc).__name__}") from None
        if not resp.is_success:
            raise DeployError(f"Spinnaker Gate answered {resp.status_code} to the {source} trigger: {resp.text[:200]}")
        try:
            event = resp.json().get("eventId", "")
        except ValueError:
            event = ""
        log.info("triggered Spinnaker pipeline source %s (event %s)", source, event or "?")
        return event

    def _await_model(self, task: str, model_tag: str) -> None:
        deadline = time.monotonic() + self.settings.timeout
        seen = None
        while True:
            live = self.current(task)
            seen = live.model_tag if live else None
            if seen == model_tag:
                return
            if time.monotonic() + self.settings.poll > deadline:
                raise DeployError(f"the public endpoint still answers with {seen or 'nothing'} after "
                                  f"{self.settings.timeout:g}s, not {model_tag}")
            time.sleep(self.settings.poll)

    def _roll_back(self, task: str, previous: Deployment | None, reason: str, *, failed: Deployment | None) -> str:
        if not self.settings.rollback_source:
            return "no rollback pipeline configured (rollback_source): alerting; roll back by hand"
        try:
            self._trigger(self.settings.rollback_source.format(task=task), previous.image_tag if previous else None, {
                "model": task, "model_tag": previous.model_tag if previous else "",
                "failed_model_tag": failed.model_tag if failed else "", "reason": reason[:500]})
        except DeployError as exc:
            return f"the rollback pipeline could not be triggered: {exc}"
        if previous is None:
            return "rollback pipeline triggered (nothing was known to serve before)"
        try:
            self._await_model(task, previous.model_tag)
        except DeployError as exc:
            return f"rollback pipeline triggered, but {exc}"
        return f"rolled back: the public endpoint answers with {previous.model_tag} again"

    def _url(self, task: str) -> str:
        return self.settings.public_url.format(task=task).rstrip("/")

    def _now(self) -> datetime:
        return self._clock.now() if self._clock else datetime.now(timezone.utc)
