"""A bento checks itself before it says it is ready.

At start-up the model service replays the golden cases recorded at training time
through its own predictor, inside its own process (its own tokenizer, features and
libraries). BentoML's `/readyz` consults the service's `__is_ready__`; a model service
answers it with this check's outcome, so no orchestrator's rolling update (Kubernetes,
Spinnaker, Argo) sends traffic to a pod that answers differently from training. A
failing pod stays up and unready, with the differences in its log, rather than
crash-looping: the rollout stalls and whoever rolls it out rolls it back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from zeta_serving.maintenance import golden
from zeta_serving.tasks import Task

log = logging.getLogger("zeta.serving.selfcheck")


@dataclass(frozen=True)
class SelfCheck:
    passed: bool
    cases: int
    detail: str
    seconds: float


def run(task: Task, model: Any, model_tag: str, cases: list[dict]) -> SelfCheck:
    """Replay `cases` through the task's predictor, requests validated by its schema as the route would."""

    def client(_route: str, body: dict) -> dict:
        return task.predict(model, model_tag, [task.request.model_validate(body)])[0].model_dump()

    started = time.perf_counter()
    try:
        count = golden.check(task.name, cases, client)
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", said in the log
        result = SelfCheck(False, len(cases), str(exc), time.perf_counter() - started)
        log.error("%s: %s failed its golden self-check, staying unready: %s", task.name, model_tag, exc)
        return result
    result = SelfCheck(True, count, f"{count} golden cases match", time.perf_counter() - started)
    log.info("%s: %s passed its golden self-check (%d cases, %.2fs)", task.name, model_tag, count, result.seconds)
    return result


def for_stored_model(task: Task, stored_model: Any, model: Any) -> SelfCheck:
    """The check for a model loaded from the BentoML model store (its golden cases sit beside it)."""
    from zeta_serving import registry

    try:
        cases = registry.load_golden(stored_model)
    except (OSError, ValueError) as exc:
        log.error("%s: %s has no readable golden cases (%s), staying unready", task.name, stored_model.tag, exc)
        return SelfCheck(False, 0, f"no golden cases: {exc}", 0.0)
    return run(task, model, str(stored_model.tag), cases)
