"""The public endpoints and the served models of any registered task, built in one place.

`served_model(task, module)` is the task's model, gated at import (the tokenizer check):
its tag and the BentoModel a bento packs. `api_service(name, doc, [(task, served model),
...])` is a service with `<route>` and `<route>/batch` for each task that runs those models
in its own process, each behind an in-process micro-batcher (see `inprocess.py` for why
there is no separate model service any more): concurrent single requests are merged into
one predict call exactly like batch requests, and past the latency budget requests get 503
with Retry-After.

No `from __future__ import annotations` here: BentoML reads the API signatures, and the
schema types must be real objects (they come from the task, not from this module).
"""

from dataclasses import dataclass, field
from typing import Any, Sequence

import bentoml
from bentoml.models import BentoModel
from pydantic import BaseModel, create_model

from zeta_serving.serving import inprocess, runtime, selfcheck
from zeta_serving.serving.contract import HttpContract
from zeta_serving.serving.schemas import MAX_BATCH, batch_of
from zeta_serving.tasks import Task

_BATCH_MODELS: dict[str, type[BaseModel]] = {}


@dataclass(frozen=True)
class ServedModel:
    """A task's model as a service serves it: the exact tag (gated) and the BentoModel to pack."""

    task: Task
    tag: str
    bento_model: BentoModel = field(repr=False)

    def start(self, stored_model: Any) -> inprocess.InProcessModel:
        return self.start_checked(stored_model)[0]

    def start_checked(self, stored_model: Any) -> tuple[inprocess.InProcessModel, selfcheck.SelfCheck]:
        """The model ready to serve, and its golden self-check (replayed in this process, at start-up)."""
        model = runtime.load(stored_model)
        task, tag = self.task, self.tag
        served = inprocess.InProcessModel(task.name, lambda listings: list(task.predict(model, tag, listings)),
                                          batching=runtime.adaptive_batching())
        return served, selfcheck.for_stored_model(task, stored_model, model)


def batch_response(task: Task) -> type[BaseModel]:
    """`{"results": [<response>...], "model_tag": ...}` for the task's batch route (e.g. PriceBatch)."""
    if task.name not in _BATCH_MODELS:
        _BATCH_MODELS[task.name] = create_model(
            f"{task.name.title().replace('_', '')}Batch", results=(list[task.response], ...),  # type: ignore[name-defined]
            model_tag=(str, ...), __module__=task.response.__module__)
    return _BATCH_MODELS[task.name]


def _routes(task: Task) -> dict[str, Any]:
    request, response, batch = task.request, task.response, batch_response(task)

    # The annotations give BentoML the schemas (validation, OpenAPI); the answers are
    # rendered by InProcessModel, which also answers 503 when the model is past its budget.
    async def single(self, listing: request, /) -> response:  # type: ignore[valid-type]
        return await self.models[task.name].one(listing)

    async def many(self, listings: batch_of(request)) -> batch:  # type: ignore[valid-type]
        return await self.models[task.name].many(
            listings, lambda results: batch(results=results, model_tag=results[0].model_tag))

    single.__doc__ = task.summary or f"{task.name} suggestion for one listing."
    many.__doc__ = f"{task.summary} For up to {MAX_BATCH} listings at once."
    # BentoML names an API after its function: the method names are the interface (operation ids).
    single.__name__ = single.__qualname__ = task.method
    many.__name__ = many.__qualname__ = f"{task.method}_batch"
    return {single.__name__: bentoml.api(route=task.route)(single),
            many.__name__: bentoml.api(route=f"{task.route}/batch")(many)}


def served_model(task: Task, module: str) -> ServedModel:
    """The task's model, gated at import: `bentoml serve` and `bentoml build` refuse a model
    trained under another tokenizer before anything else happens. (`module` is the caller's,
    kept for symmetry with `api_service`.)"""
    tag = runtime.gate(task.name)
    return ServedModel(task, tag, BentoModel(tag))


def _bind_routes_once(instance: Any, names: Sequence[str]) -> None:
    """BentoML's server looks up `getattr(service_instance, route_name).local` on every request,
    and APIMethod.__get__ builds a fresh wrapper around `inspect.signature` each time
    (`_bentoml_sdk/method.py`, `_bentoml_impl/server/app.py` api_endpoint, 1.4.x): about 20 us
    of the event loop's time a request. APIMethod is a non-data descriptor, so a bound wrapper
    in the instance's `__dict__` is found first; it is built once here. (It is the local call:
    these services never call their own routes through BentoML's self-proxy.)"""
    for name in names:
        instance.__dict__[name] = getattr(type(instance), name).__get__(instance, type(instance))


def api_service(name: str, doc: str, served: Sequence[tuple[Task, ServedModel]], module: str) -> Any:
    """A public service with the routes of every (task, served model) pair, the models in its process."""
    namespace: dict[str, Any] = {"__module__": module, "__doc__": doc}
    api_names: list[str] = []
    for task, model in served:
        namespace[f"{task.name}_model"] = model.bento_model  # what `bentoml build` packs
        apis = _routes(task)
        namespace.update(apis)
        api_names += apis

    def __init__(self) -> None:
        started = {task.name: model.start_checked(getattr(self, f"{task.name}_model")) for task, model in served}
        self.models = {name: pair[0] for name, pair in started.items()}
        self.selfchecks = {name: pair[1] for name, pair in started.items()}
        _bind_routes_once(self, api_names)
        runtime.fast_sklearn()
        runtime.one_blas_thread()
        runtime.settle_heap()

    def __is_ready__(self) -> bool:
        # /readyz: only once every model's golden cases answered as at training time (serving/selfcheck.py)
        return all(check.passed for check in self.selfchecks.values())

    namespace["__init__"] = __init__
    namespace["__is_ready__"] = __is_ready__
    routes = [task.route for task, _ in served]
    cls = type("".join(part.title() for part in name.split("-")), (), namespace)
    service = bentoml.service(name=name, **inprocess.service_options(routes))(cls)
    # First added is outermost: the contract also sees (and shapes) the shedding middleware's 503.
    service.add_asgi_middleware(HttpContract)  # errors and /docs.json as documented: contract.py
    return inprocess.serve(service, routes)
