"""Load shedding in front of the routes: a 503 with Retry-After before a request costs anything.

The micro-batcher sheds on its own queue, but under overload most of the waiting happens
before a request reaches it: in the event loop, where hundreds of requests each need their
body read, validated and their answer written. So every process counts the suggestion
requests inside it and how fast they leave (answers per busy second, recent); a newcomer that
would wait longer than the latency budget (requests inside / rate) is answered 503 at once,
without reading its body. That keeps the wait of admitted requests near the budget and makes
a refusal cheap, so refused clients learn it in milliseconds and come back after Retry-After.
"""

from __future__ import annotations

import json
import math
import time
import weakref
from typing import Any, Callable, Sequence

WINDOW_S = 0.25  # busy seconds per rate sample
SMOOTHING = 0.5  # weight of the newest sample
# Never refuse while fewer are inside: so few wait for one batch at most, and clients that ignore
# Retry-After (load generators, retry loops) cannot starve admitted work by keeping the loop busy
# with refusals, which slows the admitted, which would refuse still more.
MIN_INSIDE = 32


class Admission:
    """Requests inside this process and the rate they are answered at, for one latency budget."""

    def __init__(self, budget_ms: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = budget_ms / 1000
        self.clock = clock
        self.inside = 0
        self.rate = 0.0  # answers per busy second; 0 until measured
        self.shed = 0
        self._last = clock()
        self._busy = 0.0
        self._done = 0

    def _tick(self) -> None:
        now = self.clock()
        if self.inside:
            self._busy += now - self._last
        self._last = now
        if self._busy >= WINDOW_S:
            sample = self._done / self._busy
            self.rate = sample if not self.rate else SMOOTHING * sample + (1 - SMOOTHING) * self.rate
            self._busy, self._done = 0.0, 0

    def expected_wait(self) -> float:
        """Seconds a newcomer would wait: everyone inside, at the measured rate."""
        return (self.inside + 1) / self.rate if self.rate else 0.0

    def admit(self) -> int:
        """0 if the request may enter (it is then counted inside), else the seconds to ask it to wait.

        The expected wait is an average and the budget bounds the slowest answers, which under
        load take about twice the average: so refuse once the average passes half the budget."""
        self._tick()
        wait = self.expected_wait()
        if self.inside >= MIN_INSIDE and wait > self.budget / 2:
            self.shed += 1
            return max(1, math.ceil(wait - self.budget / 2))
        self.inside += 1
        return 0

    def leave(self) -> None:
        self._tick()
        self.inside -= 1
        self._done += 1


_ADMISSIONS: "weakref.WeakSet[Admission]" = weakref.WeakSet()  # every live shedding middleware's here


def requests_inside() -> int | None:
    """Suggestion requests inside this process now (admitted, not yet answered), from the moment
    their headers arrive: also those whose bodies are still being read and validated. None when
    no shedding middleware counts them here."""
    admissions = list(_ADMISSIONS)
    return sum(admission.inside for admission in admissions) if admissions else None


class SheddingMiddleware:
    """ASGI middleware: requests to `routes` go through one `Admission` per process."""

    def __init__(self, app: Any, routes: Sequence[str], budget_ms: float) -> None:
        self.app = app
        self.paths = frozenset(p for route in routes for p in (route, f"{route}/batch"))
        self.admission = Admission(budget_ms)
        _ADMISSIONS.add(self.admission)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["path"] not in self.paths:
            return await self.app(scope, receive, send)
        retry_after = self.admission.admit()
        if retry_after:
            return await refuse(send, retry_after)
        try:
            await self.app(scope, receive, send)
        finally:
            self.admission.leave()


def refusal_body(retry_after: int) -> bytes:
    return json.dumps({"error": "overloaded: suggestions are past their latency budget; "
                                f"retry after {retry_after} s"}).encode()


async def refuse(send: Callable, retry_after: int) -> None:
    body = refusal_body(retry_after)
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(retry_after).encode())]})
    await send({"type": "http.response.body", "body": body})
