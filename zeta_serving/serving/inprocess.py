"""Each suggestion service runs its models in its own process, behind a micro-batcher per model.

Why not an API service calling a model service (`bentoml.depends`), as before: that hop
cost a second HTTP round trip, a second BentoML request pipeline and a JSON schema built
for every list response (BentoML renders a list output's media type from its schema), so
a hand-written FastAPI app was 1.5 to 3 times faster. And it stalled: BentoML 1.4's client
for a dependency closes its aiohttp session every 100 calls (`runner_connection.max_requests`,
`SessionManager.get_session` in `_bentoml_impl/client/proxy2.py`) while other calls are still
in flight on it, so at 32 connections a burst of internal calls failed with
ServerDisconnectedError / ClientOSError about every 100 requests (bentoml/BentoML#4971 is the
same family); the retry that hid it made requests wait. With the model in the API's process
there is no internal call left to break.

The answers are rendered here (pydantic's JSON, as BentoML would) and returned as a
response, which also carries the 503 + `Retry-After` of a shed request: BentoML applies
context headers only to successful returns, never to raised exceptions.

Settings (environment, read when a service module is imported):
  ZETA_LATENCY_BUDGET_MS  past this estimated wait a request gets 503 (default 2000)
  ZETA_SERVE_WORKERS      processes per service (default: the CPUs this process may use)
  ZETA_ADAPTIVE_BATCHING  0 = every request runs alone (for benchmarks and debugging)
  ZETA_INLINE_SINGLE      0 = a lone request's listing runs in the worker thread too (default: on the loop)
  ZETA_ACCESS_LOG=1       BentoML's per-request access log (off: it costs as much as the model)
  ZETA_TRACING=1          keep OpenTelemetry spans on the suggestion routes (off unless asked)
"""

from __future__ import annotations

import os
from typing import Any, Callable, Sequence

from starlette.responses import Response

from zeta_serving.serving.batching import MicroBatcher, Overloaded
from zeta_serving.serving.schemas import MAX_BATCH
from zeta_serving.serving.shedding import SheddingMiddleware, refusal_body, requests_inside

LATENCY_BUDGET_MS = 2000  # what a listing form can wait for a suggestion
TIMEOUT_S = 30


def _flag(name: str, default: str) -> bool:
    return os.environ.get(name, default).strip().lower() not in ("0", "false", "no", "")


def latency_budget_ms() -> float:
    value = os.environ.get("ZETA_LATENCY_BUDGET_MS", "")
    try:
        budget = float(value) if value else LATENCY_BUDGET_MS
    except ValueError:
        raise SystemExit(f"zeta: ZETA_LATENCY_BUDGET_MS must be a number of milliseconds, not {value!r}") from None
    if budget <= 0:
        raise SystemExit("zeta: ZETA_LATENCY_BUDGET_MS must be above 0")
    return budget


def workers() -> int:
    value = os.environ.get("ZETA_SERVE_WORKERS", "")
    if value:
        if not value.isdigit() or int(value) < 1:
            raise SystemExit(f"zeta: ZETA_SERVE_WORKERS must be a whole number >= 1, not {value!r}")
        return int(value)
    # One event loop per core: HTTP parsing and JSON run there, the model in a thread beside it.
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def service_options(routes: Sequence[str]) -> dict[str, Any]:
    """Keyword arguments for `bentoml.service` of a service serving `routes` in process."""
    options: dict[str, Any] = {"workers": workers(), "traffic": {"timeout": TIMEOUT_S}}
    if not _flag("ZETA_ACCESS_LOG", "0"):
        options["logging"] = {"access": {"enabled": False}}
    if not _flag("ZETA_TRACING", "0"):
        # Tracing samples nothing unless configured, yet the middleware builds a span per request.
        options["tracing"] = {"excluded_urls": [f"{route}(/batch)?$" for route in routes]}  # full URLs
    return options


def serve(service: Any, routes: Sequence[str]) -> Any:
    """The finishing touch on a suggestion service: shedding in front of its routes."""
    service.add_asgi_middleware(SheddingMiddleware, routes=list(routes), budget_ms=latency_budget_ms())
    return service


def json_response(model: Any, status: int = 200) -> Response:
    return Response(model.__pydantic_serializer__.to_json(model), status_code=status,
                    media_type="application/json")


def overloaded(exc: Overloaded) -> Response:
    return Response(refusal_body(exc.retry_after), status_code=503, media_type="application/json",
                    headers={"Retry-After": str(exc.retry_after)})


def _alone() -> bool:
    """No other suggestion request is inside this process (the shedding middleware counts them;
    without it nobody knows, and the thread stays the safe way)."""
    inside = requests_inside()
    return inside is not None and inside <= 1


class InProcessModel:
    """One task's model in this process: concurrent requests are batched into one predict call."""

    def __init__(self, name: str, predict_batch: Callable[[list], Sequence[Any]], batching: bool = True) -> None:
        self.batcher = MicroBatcher(predict_batch, max_batch=MAX_BATCH if batching else 1,
                                    budget_ms=latency_budget_ms(), name=name,
                                    inline_single=_alone if batching and _flag("ZETA_INLINE_SINGLE", "1") else None)

    async def one(self, listing: Any) -> Response:
        try:
            (result,) = await self.batcher.submit([listing])
        except Overloaded as exc:
            return overloaded(exc)
        return json_response(result)

    async def many(self, listings: list, wrap: Callable[[list], Any]) -> Response:
        try:
            results = await self.batcher.submit(listings)
        except Overloaded as exc:
            return overloaded(exc)
        return json_response(wrap(results))
