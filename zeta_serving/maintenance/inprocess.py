"""A faithful in-process double of a deployer: the same request schemas and predictors the
services run, without processes or ports. For backtests, unit tests and dry runs."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from zeta_serving import registry, tasks
from zeta_serving.maintenance.clock import Clock
from zeta_serving.maintenance.deployers import Client, DeployError, Deployment, check_live


class InProcessDeployer:
    name = "inprocess"

    def __init__(self, clock: Clock | None = None) -> None:
        self._live: dict[str, Deployment] = {}
        self._standby: dict[str, Deployment] = {}
        self._models: dict[str, object] = {}
        self._clock = clock

    def _now(self) -> datetime:
        return self._clock.now() if self._clock else datetime.now(timezone.utc)

    def current(self, task: str) -> Deployment | None:
        return self._live.get(task)

    def client(self, deployment: Deployment) -> Client:
        if deployment.model_tag not in self._models:
            self._models[deployment.model_tag] = registry.load(deployment.model_tag)[0]
        model = self._models[deployment.model_tag]

        def call(route: str, body: Any) -> Any:
            task = next((t for t in tasks.all_tasks() if t.route == route), None)
            if task is None:
                raise DeployError(f"no route {route}")
            request = task.request.model_validate(body)
            return task.predict(model, deployment.model_tag, [request])[0].model_dump()

        return call

    def deploy(self, task: str, bento_tag: str | None, model_tag: str,
               gate: Callable[[Deployment, Client], None], image_tag: str | None = None) -> Deployment:
        candidate = Deployment(task, bento_tag, model_tag, f"in-process://{task}", self._now(), image_tag)
        try:
            gate(candidate, self.client(candidate))
        except Exception as exc:
            self._models.pop(model_tag, None)
            raise DeployError(f"candidate {model_tag} failed its gate: {exc}") from exc
        if task in self._live:
            self._standby[task] = self._live[task]
        self._live[task] = candidate
        return candidate

    def verify(self, task: str, check: Callable[[Deployment, Client], None]) -> None:
        check_live(task, self._live.get(task), self.client, check)
        self._standby.pop(task, None)

    def rollback(self, task: str) -> Deployment | None:
        previous = self._standby.pop(task, None)
        if previous is not None:
            self._live[task] = previous
        return self._live.get(task)
