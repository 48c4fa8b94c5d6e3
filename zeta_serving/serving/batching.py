"""An in-process micro-batcher with load shedding, for serving a model in the API's own process.

Concurrent requests `await batcher.submit(items)`; one worker task gathers what is
queued (no timer by default: whatever arrived while the previous batch ran forms the
next one, so a lone request waits for nothing) and runs `predict_batch` on the whole
batch in a worker thread, keeping the event loop free for HTTP.

Load shedding: every finished batch records its size and duration, which gives the
recent cost per listing. A submit that would have to wait longer than `budget_ms`
for its answer (the running batch's remainder, the queue before it, and itself) is
refused at once with `Overloaded(retry_after)`, which the routes turn into a 503 with
`Retry-After`: past the budget, more queueing only makes everyone late. A request that
was admitted but still waits past the budget (the estimate was wrong) is refused when
its turn comes, instead of being answered late.

A lone listing (`inline_single`, a predicate): a batch of one listing runs on the event
loop itself rather than in the worker thread when `inline_single()` says the request is
alone. Handing it to the thread and back costs two thread wake-ups (the worker's, then the
loop's through its self-pipe), 10-17% of the requests/s at one connection, and
with no other request in flight there is nothing for the loop to overlap with the model.
With others in flight the thread keeps the loop free to read and validate them, so that
they form the next batch: blocking the loop there halved the tags route's rate at 32
connections (bench/serve.py side by side).

Failures stay with their callers: if a batch raises, each request in it is run alone,
so only the request whose input breaks the model gets the exception. A caller that is
cancelled while queued is dropped from its batch; every other future is always
resolved.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

COST_WINDOW = 32  # recent batches kept for the cost estimate


class Overloaded(Exception):
    """The request would wait past the latency budget; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int, waited_ms: float = 0.0) -> None:
        super().__init__(f"overloaded: estimated wait {waited_ms:.0f} ms is past the budget; "
                         f"retry after {retry_after} s")
        self.retry_after = retry_after


class _Entry:
    __slots__ = ("items", "future", "enqueued", "queued_behind")

    def __init__(self, items: list, future: asyncio.Future, enqueued: float, queued_behind: bool) -> None:
        self.items, self.future, self.enqueued = items, future, enqueued
        self.queued_behind = queued_behind  # False: it found the model idle, and is never refused


class MicroBatcher:
    def __init__(self, predict_batch: Callable[[list], Sequence[Any]], *, max_batch: int = 256,
                 max_wait_ms: float = 0.0, budget_ms: float = 2000.0, name: str = "model",
                 inline_single: Callable[[], bool] | None = None) -> None:
        if max_batch < 1 or budget_ms <= 0 or max_wait_ms < 0:
            raise ValueError("max_batch must be >= 1, budget_ms > 0 and max_wait_ms >= 0")
        self.predict_batch = predict_batch
        self.max_batch, self.max_wait, self.budget = max_batch, max_wait_ms / 1000, budget_ms / 1000
        self.name = name
        self.inline_single = inline_single
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"batch-{name}")
        self._queue: collections.deque[_Entry] = collections.deque()
        self._queued_items = 0
        self._running_until = 0.0  # estimated end of the batch in the thread (monotonic), 0 when idle
        self._costs: collections.deque[tuple[int, float]] = collections.deque(maxlen=COST_WINDOW)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self.batches = 0  # counters, for tests and metrics
        self.shed = 0

    # ---- estimates -------------------------------------------------------------------------------
    def batch_cost(self) -> tuple[float, float]:
        """(seconds per batch, seconds per listing), fitted on the recent batches; (0, 0) before the first.

        A least-squares line through (size, duration). Until sizes vary enough to fit one
        (only lone requests so far), the prior is that a full batch costs twice a lone
        request, as it does for these models (vectorised predict): charging every listing
        the cost of a lone one would refuse a burst that one batch answers in time. The
        queue-time check in `_take_batch` catches an estimate that is too low."""
        if not self._costs:
            return 0.0, 0.0
        sizes = [n for n, _ in self._costs]
        durations = [d for _, d in self._costs]
        mean_n, mean_d = sum(sizes) / len(sizes), sum(durations) / len(durations)
        var = sum((n - mean_n) ** 2 for n in sizes)
        if var >= len(sizes):  # sizes spread over more than about one listing
            per_item = max(0.0, sum((n - mean_n) * (d - mean_d) for n, d in zip(sizes, durations)) / var)
            fixed = mean_d - per_item * mean_n
            if fixed >= 0:
                return fixed, per_item
            return 0.0, mean_d / mean_n
        return mean_d, mean_d / self.max_batch

    def record_cost(self, size: int, seconds: float) -> None:
        """One finished batch of `size` listings took `seconds`. Every batch records itself; a
        service may also seed the estimate from a warm-up, and tests give it known costs."""
        if size < 1 or seconds < 0:
            raise ValueError("a batch has at least one listing and a duration >= 0")
        self._costs.append((size, seconds))

    def estimated_wait(self, extra_items: int = 0) -> float:
        """Seconds until a request of `extra_items` listings submitted now would be answered:
        what is left of the running batch, then the queue in batches of up to max_batch."""
        now = time.monotonic()
        running = max(0.0, self._running_until - now) if self._running_until else 0.0
        items = self._queued_items + extra_items
        fixed, per_item = self.batch_cost()
        return running + math.ceil(items / self.max_batch) * fixed + items * per_item

    # ---- submitting ------------------------------------------------------------------------------
    async def submit(self, items: Sequence) -> list:
        """Predict `items` together with whatever else is queued; results in the same order."""
        items = list(items)
        if not items:
            return []
        self._bind_loop()
        wait = self.estimated_wait(len(items))
        idle = not self._queued_items and not self._running_until
        if wait > self.budget and not idle:  # an idle model never refuses: there is no queue to cut
            self.shed += 1
            raise Overloaded(self._retry_after(wait), wait * 1000)
        future = self._loop.create_future()
        self._queue.append(_Entry(items, future, time.monotonic(), not idle))
        self._queued_items += len(items)
        self._wake.set()
        return await future

    def _retry_after(self, wait: float) -> int:
        # Whole seconds (HTTP's form); by then the queue that is too long now has drained.
        return max(1, math.ceil(wait - self.budget))

    def _bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._worker is None or self._worker.done():
            if self._loop is not loop:  # a new event loop (tests): queued work of the old one is gone
                self._queue.clear()
                self._queued_items, self._running_until = 0, 0.0
            self._loop, self._wake = loop, asyncio.Event()
            if self._queue:
                self._wake.set()
            self._worker = loop.create_task(self._run(), name=f"batcher-{self.name}")

    # ---- the worker ------------------------------------------------------------------------------
    def _take_batch(self) -> list[_Entry]:
        """Whole requests from the front of the queue, up to max_batch listings (one larger request
        runs alone); cancelled callers are dropped, callers past the budget refused."""
        batch, size, now = [], 0, time.monotonic()
        while self._queue:
            entry = self._queue[0]
            if batch and size + len(entry.items) > self.max_batch:
                break
            self._queue.popleft()
            self._queued_items -= len(entry.items)
            if entry.future.done():  # the caller was cancelled
                continue
            waited = now - entry.enqueued
            if waited > self.budget and entry.queued_behind:
                self.shed += 1
                entry.future.set_exception(Overloaded(self._retry_after(waited), waited * 1000))
                continue
            batch.append(entry)
            size += len(entry.items)
        return batch

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                if self.max_wait and self._queued_items < self.max_batch:
                    await asyncio.sleep(self.max_wait)
                batch = self._take_batch()
                if batch:
                    await self._predict(batch)

    async def _predict(self, batch: list[_Entry]) -> None:
        items = [item for entry in batch for item in entry.items]
        started = time.monotonic()
        fixed, per_item = self.batch_cost()
        self._running_until = started + fixed + len(items) * per_item
        try:
            if len(items) == 1 and self.inline_single is not None and self.inline_single():
                outputs = self._call(items)
            else:
                outputs = await self._loop.run_in_executor(self._executor, self._call, items)
        except Exception as exc:  # noqa: BLE001 - handed to the callers, never lost
            if len(batch) == 1:
                _fail(batch[0].future, exc)
            else:  # find the request(s) that broke it: each alone
                for entry in batch:
                    await self._predict([entry])
            return
        except BaseException as exc:  # the worker is being cancelled: nobody may wait forever
            for entry in batch:
                _fail(entry.future, Overloaded(1))
            raise exc
        finally:
            self._running_until = 0.0
        self.record_cost(len(items), time.monotonic() - started)
        self.batches += 1
        start = 0
        for entry in batch:
            end = start + len(entry.items)
            if not entry.future.done():
                entry.future.set_result(outputs[start:end])
            start = end

    def _call(self, items: list) -> list:
        outputs = list(self.predict_batch(items))
        if len(outputs) != len(items):
            raise RuntimeError(f"{self.name}: predict returned {len(outputs)} results for {len(items)} inputs")
        return outputs

    def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
        for entry in self._queue:
            _fail(entry.future, Overloaded(1))
        self._queue.clear()
        self._queued_items = 0
        self._executor.shutdown(wait=False)


def _fail(future: asyncio.Future, exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
