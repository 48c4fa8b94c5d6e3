"""The public endpoints and model services of any registered task, built in one place.

`model_service(task)` is the task's model service: it loads the model (behind the
tokenizer gate) and exposes a batchable `predict`. `api_service(name, doc, [(task,
model service), ...])` is a service with `<route>` and `<route>/batch` for each task,
calling `<task>_model = bentoml.depends(<model service>)`. Single-listing calls go to
`predict` as a batch of one, so concurrent single requests are merged by BentoML's
adaptive batching exactly like batch requests.

No `from __future__ import annotations` here: BentoML reads the API signatures, and the
schema types must be real objects (they come from the task, not from this module).
"""

import asyncio
import logging
from typing import Any, Sequence

import aiohttp
import bentoml
from bentoml.models import BentoModel
from pydantic import BaseModel, create_model

from zeta_serving.serving import runtime
from zeta_serving.serving.schemas import MAX_BATCH, batch_of
from zeta_serving.tasks import Task

log = logging.getLogger("zeta.serving")
RETRY_AFTER = 5.0  # seconds: a batch of 256 listings predicts in well under one
MAX_MODEL_BATCH = 128
TRAFFIC = {"timeout": 30}
_BATCH_MODELS: dict[str, type[BaseModel]] = {}


async def predict(model_service: Any, listings: list[Any]) -> Any:
    """Call a model service's batchable `predict`, retrying once if the internal call broke.

    BentoML's client can reuse a keep-alive connection the model service has just
    closed (bentoml/BentoML#4971), and now and then such a call hangs instead of
    failing. Predict is pure, so one retry is safe: after a dropped connection at
    once, after RETRY_AFTER seconds without an answer otherwise.
    """
    try:
        return await asyncio.wait_for(model_service.to_async.predict(listings), timeout=RETRY_AFTER)
    except (aiohttp.ClientConnectionError, asyncio.TimeoutError) as exc:
        log.warning("model service call failed (%s); retrying once", type(exc).__name__)
        return await model_service.to_async.predict(listings)


def batch_response(task: Task) -> type[BaseModel]:
    """`{"results": [<response>...], "model_tag": ...}` for the task's batch route (e.g. PriceBatch)."""
    if task.name not in _BATCH_MODELS:
        _BATCH_MODELS[task.name] = create_model(
            f"{task.name.title().replace('_', '')}Batch", results=(list[task.response], ...),  # type: ignore[name-defined]
            model_tag=(str, ...), __module__=task.response.__module__)
    return _BATCH_MODELS[task.name]


def _routes(task: Task) -> dict[str, Any]:
    request, response, batch = task.request, task.response, batch_response(task)
    dependency = f"{task.name}_model"

    async def single(self, listing: request, /) -> response:  # type: ignore[valid-type]
        return (await predict(getattr(self, dependency), [listing]))[0]

    async def many(self, listings: batch_of(request)) -> batch:  # type: ignore[valid-type]
        results = await predict(getattr(self, dependency), listings)
        return batch(results=results, model_tag=results[0].model_tag)

    single.__doc__ = task.summary or f"{task.name} suggestion for one listing."
    many.__doc__ = f"{task.summary} For up to {MAX_BATCH} listings at once."
    # BentoML names an API after its function: the method names are the interface (operation ids).
    single.__name__ = single.__qualname__ = task.method
    many.__name__ = many.__qualname__ = f"{task.method}_batch"
    return {single.__name__: bentoml.api(route=task.route)(single),
            many.__name__: bentoml.api(route=f"{task.route}/batch")(many)}


def model_service(task: Task, module: str) -> Any:
    """The task's model service: its model (gated at import) and a batchable `predict`."""
    tag = runtime.gate(task.name)
    request, response = task.request, task.response

    def __init__(self) -> None:
        self.model = runtime.load(self.bento_model)

    def predict(self, listings: list[request]) -> list[response]:  # type: ignore[valid-type]
        return list(task.predict(self.model, tag, listings))

    namespace = {
        "__module__": module, "__doc__": f"The {task.name} model ({tag}).", "TAG": tag,
        "bento_model": BentoModel(tag), "__init__": __init__,
        "predict": bentoml.api(batchable=runtime.adaptive_batching(), max_batch_size=MAX_MODEL_BATCH,
                               max_latency_ms=runtime.LATENCY_BUDGET_MS)(predict),
    }
    cls = type(f"{task.name.title().replace('_', '')}Model", (), namespace)
    return bentoml.service(name=f"zeta-{task.name}-model", workers=1, traffic=TRAFFIC)(cls)


def api_service(name: str, doc: str, served: Sequence[tuple[Task, Any]], module: str) -> Any:
    """A public service with the routes of every (task, model service) pair."""
    namespace: dict[str, Any] = {"__module__": module, "__doc__": doc}
    for task, model in served:
        namespace[f"{task.name}_model"] = bentoml.depends(model)
        namespace.update(_routes(task))
    cls = type("".join(part.title() for part in name.split("-")), (), namespace)
    return bentoml.service(name=name, traffic=TRAFFIC)(cls)
