"""Deployers: the seam between the loop and whatever serves traffic.

    current(task)                 what serves the task now (None: nothing yet)
    deploy(task, bento, model,    start the candidate beside the live one, run `gate` on it
           gate)                  (readiness, golden cases) BEFORE it takes traffic, then switch
    verify(task)                  check the live deployment again (raises on failure)
    rollback(task)                put the previous deployment back

`gate` and `verify` reach a deployment through `client(deployment)`, a callable
`(route, body) -> response dict`, so the same golden-case check runs over HTTP
against a real server and in-process against the double.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Protocol

Client = Callable[[str, Any], Any]


@dataclass(frozen=True)
class Deployment:
    task: str
    bento_tag: str | None  # None: served from source (services/<task>) rather than a built bento
    model_tag: str
    endpoint: str  # base URL, or "in-process://<task>" for the double
    deployed_at: datetime
    image_tag: str | None = None


class DeployError(Exception):
    """A deployment step failed; the message says which and why."""


class Deployer(Protocol):
    name: str

    def current(self, task: str) -> Deployment | None: ...

    def deploy(self, task: str, bento_tag: str | None, model_tag: str,
               gate: Callable[[Deployment, Client], None], image_tag: str | None = None) -> Deployment: ...

    def verify(self, task: str, check: Callable[[Deployment, Client], None]) -> None: ...

    def rollback(self, task: str) -> Deployment | None: ...

    def client(self, deployment: Deployment) -> Client: ...


# The deployers `deployer = "<name>"` can pick: name -> "module:factory". A factory takes
# (MaintenanceConfig, clock) and returns a Deployer; its own settings live in its own
# table of zeta.toml. A new deployer is one module plus one line here.
REGISTRY: dict[str, str] = {
    "local": "zeta_serving.maintenance.runtime:local_deployer",
    "inprocess": "zeta_serving.maintenance.runtime:inprocess_deployer",
    "kubernetes": "zeta_serving.maintenance.kubernetes:from_config",
    "spinnaker": "zeta_serving.maintenance.spinnaker:from_config",
}


def make(kind: str, config: Any, clock: Any = None) -> Deployer:
    """The deployer registered as `kind`, built from the MaintenanceConfig (and clock)."""
    import importlib

    if kind not in REGISTRY:
        raise DeployError(f"unknown deployer {kind!r} (choose from {', '.join(REGISTRY)})")
    module, _, name = REGISTRY[kind].partition(":")
    factory: Callable[[Any, Any], Deployer] = getattr(importlib.import_module(module), name)
    return factory(config, clock)


def http_client(endpoint: str, timeout: float) -> Client:
    """`(route, body) -> answer` over HTTP POST to a deployment; a non-2xx answer is a DeployError."""
    import httpx

    base = endpoint.rstrip("/")

    def call(route: str, body: Any) -> Any:
        resp = httpx.post(base + route, json=body, timeout=timeout, trust_env=False)
        if not resp.is_success:
            raise DeployError(f"POST {route} answered {resp.status_code}: {resp.text[:500]}")
        return resp.json()

    return call


def tagged_client(endpoint: str, timeout: float, want: str, where: str) -> Client:
    """`http_client`, and every answer must carry `want` as its model_tag; `where` names the endpoint in errors."""
    post = http_client(endpoint, timeout)

    def call(route: str, body: Any) -> Any:
        try:
            answer = post(route, body)
        except DeployError as exc:
            raise DeployError(f"{where}: {exc}") from None
        if answer.get("model_tag") != want:
            raise DeployError(f"{where} answered with model_tag {answer.get('model_tag')!r}, not {want!r}")
        return answer

    return call


def check_live(task: str, live: Deployment | None, client_of: Callable[[Deployment], Client],
               check: Callable[[Deployment, Client], None], where: str = "") -> None:
    """Every deployer's verify: `check` the live deployment through its client; DeployError naming what failed.

    `where` says through what, for deployers that verify through something else than their own process.
    """
    if live is None:
        raise DeployError(f"no {task} deployment to verify{where}")
    try:
        check(live, client_of(live))
    except Exception as exc:
        raise DeployError(f"{task} {live.model_tag} failed verification{where}: {exc}") from exc
