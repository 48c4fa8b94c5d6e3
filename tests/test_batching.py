"""The in-process micro-batcher: gathering, order, failures, cancellation and load shedding."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from zeta_serving.serving.batching import MicroBatcher, Overloaded


class Model:
    """A predict_batch that records its batches and can be held, to let a queue build up."""

    def __init__(self, seconds_per_item: float = 0.0) -> None:
        self.batches: list[list] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.seconds_per_item = seconds_per_item

    def __call__(self, items: list) -> list:
        self.batches.append(list(items))
        self.entered.set()
        self.gate.wait(10)
        if self.seconds_per_item:
            time.sleep(self.seconds_per_item * len(items))
        if any(item == "bad" for item in items):
            raise ValueError("bad input")
        return [f"out-{item}" for item in items]

    def hold(self) -> None:
        self.gate.clear()
        self.entered.clear()


async def started(model: Model) -> None:
    """Until the batch in the thread is running (and holding)."""
    while not model.entered.is_set():
        await asyncio.sleep(0.001)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_concurrent_requests_share_a_batch_and_get_their_own_answers():
    model = Model()
    batcher = MicroBatcher(model, max_batch=64)

    async def main():
        model.hold()
        first = asyncio.ensure_future(batcher.submit(["a"]))
        await started(model)
        rest = [asyncio.ensure_future(batcher.submit([f"x{i}", f"y{i}"])) for i in range(10)]
        await asyncio.sleep(0.01)
        model.gate.set()
        return await first, await asyncio.gather(*rest)

    first, rest = run(main())
    assert first == ["out-a"]
    assert rest == [[f"out-x{i}", f"out-y{i}"] for i in range(10)]
    assert [len(b) for b in model.batches] == [1, 20]  # the ten queued requests ran as one batch


def test_batches_stop_at_max_batch_and_a_larger_request_runs_alone():
    model = Model()
    batcher = MicroBatcher(model, max_batch=8)

    async def main():
        model.hold()
        first = asyncio.ensure_future(batcher.submit(["a"]))
        await started(model)
        singles = [asyncio.ensure_future(batcher.submit([i])) for i in range(20)]
        big = asyncio.ensure_future(batcher.submit(list(range(100, 120))))
        model.gate.set()
        await first
        return await asyncio.gather(*singles), await big

    singles, big = run(main())
    assert singles == [[f"out-{i}"] for i in range(20)]
    assert big == [f"out-{i}" for i in range(100, 120)]
    assert [len(b) for b in model.batches] == [1, 8, 8, 4, 20]


def test_a_failing_input_fails_only_its_own_request():
    model = Model()
    batcher = MicroBatcher(model)

    async def main():
        model.hold()
        first = asyncio.ensure_future(batcher.submit(["a"]))
        await started(model)
        calls = [asyncio.ensure_future(batcher.submit(items)) for items in (["b"], ["c", "bad"], ["d"])]
        model.gate.set()
        await first
        return await asyncio.gather(*calls, return_exceptions=True)

    good1, broken, good2 = run(main())
    assert good1 == ["out-b"] and good2 == ["out-d"]
    assert isinstance(broken, ValueError)


def test_a_model_returning_the_wrong_number_of_results_is_an_error_not_a_shifted_answer():
    batcher = MicroBatcher(lambda items: ["only one"], name="short")
    with pytest.raises(RuntimeError, match="1 results for 2 inputs"):
        run(batcher.submit(["a", "b"]))


def test_a_cancelled_caller_is_dropped_and_the_others_are_answered():
    model = Model()
    batcher = MicroBatcher(model)

    async def main():
        model.hold()
        first = asyncio.ensure_future(batcher.submit(["a"]))
        await started(model)
        keep = asyncio.ensure_future(batcher.submit(["keep"]))
        drop = asyncio.ensure_future(batcher.submit(["drop"]))
        await asyncio.sleep(0.01)
        drop.cancel()
        model.gate.set()
        return await first, await keep, drop

    first, keep, drop = run(main())
    assert first == ["out-a"] and keep == ["out-keep"] and drop.cancelled()
    assert ["drop"] not in model.batches and all("drop" not in b for b in model.batches)


def test_past_the_budget_requests_are_refused_at_once_with_a_retry_after():
    # The cost estimate is given (about 200 ms a listing) rather than fitted on sleeps, which a busy
    # machine stretches; the model itself answers at once, so admitted requests are answered far
    # inside the budget and every refusal here is an admission decision.
    model = Model()
    batcher = MicroBatcher(model, budget_ms=100)
    batcher.record_cost(1, 0.2)
    batcher.record_cost(10, 2.0)

    async def main():
        model.hold()
        first = asyncio.ensure_future(batcher.submit(["a"]))
        await started(model)
        batcher.budget = batcher.estimated_wait(4)  # room for about four more behind the running one
        calls = [asyncio.ensure_future(batcher.submit([i])) for i in range(30)]
        await asyncio.sleep(0.01)  # every call has been admitted or refused by now
        refused_before_release = sum(c.done() for c in calls)
        model.gate.set()
        return await first, await asyncio.gather(*calls, return_exceptions=True), refused_before_release

    first, results, refused_early = run(main())
    refused = [r for r in results if isinstance(r, Overloaded)]
    answered = [r for r in results if isinstance(r, list)]
    assert first == ["out-a"]
    assert refused and answered and len(refused) + len(answered) == 30
    assert refused_early == len(refused)  # refused at once, not after waiting
    assert all(r.retry_after >= 1 for r in refused)
    # Refused requests never reached the model: only admitted ones were predicted.
    predicted = {item for batch in model.batches for item in batch}
    assert predicted == {"a"} | {
        int(r[0].removeprefix("out-")) for r in answered}
    assert batcher.shed == len(refused)


def test_an_idle_model_never_refuses_even_with_a_tiny_budget():
    model = Model(seconds_per_item=0.01)
    batcher = MicroBatcher(model, budget_ms=0.001)

    async def main():
        return [await batcher.submit([i]) for i in range(5)]

    assert run(main()) == [[f"out-{i}"] for i in range(5)]


def test_admitted_requests_that_wait_past_the_budget_are_refused_when_their_turn_comes():
    model = Model()
    batcher = MicroBatcher(model, budget_ms=5)  # nothing measured yet: everything is admitted

    async def main():
        model.hold()
        first = asyncio.ensure_future(batcher.submit(["a"]))
        await started(model)
        late = [asyncio.ensure_future(batcher.submit([i])) for i in range(3)]
        await asyncio.sleep(0.05)  # longer than the budget
        model.gate.set()
        return await first, await asyncio.gather(*late, return_exceptions=True)

    first, late = run(main())
    assert first == ["out-a"]
    assert all(isinstance(r, Overloaded) for r in late)
    assert model.batches == [["a"]]


def test_close_fails_queued_requests_instead_of_leaving_them_waiting():
    model = Model()
    batcher = MicroBatcher(model)

    async def main():
        model.hold()
        first = asyncio.ensure_future(batcher.submit(["a"]))
        await started(model)
        queued = asyncio.ensure_future(batcher.submit(["b"]))
        await asyncio.sleep(0.01)
        batcher.close()
        model.gate.set()
        return await asyncio.gather(first, queued, return_exceptions=True)

    first, queued = run(main())
    assert isinstance(queued, Overloaded)


def test_empty_requests_and_bad_settings():
    batcher = MicroBatcher(lambda items: items)
    assert run(batcher.submit([])) == []
    with pytest.raises(ValueError):
        MicroBatcher(lambda items: items, max_batch=0)
    with pytest.raises(ValueError):
        MicroBatcher(lambda items: items, budget_ms=0)


def test_the_wait_estimate_knows_a_queue_runs_as_one_batch():
    # A model whose cost is per batch, not per listing (as the real ones nearly are): forty requests
    # queued behind a running batch will run as one batch, so none is refused at a budget of a few
    # batch durations, although forty times the cost of a lone listing is far past it.
    per_batch = 0.05
    batcher = MicroBatcher(lambda items: items, budget_ms=per_batch * 1000 * 3)
    batcher.record_cost(1, per_batch)  # batches of 1 and of 20 listings took the same time
    batcher.record_cost(20, per_batch)
    fixed, per_item = batcher.batch_cost()
    assert fixed == pytest.approx(per_batch) and per_item == pytest.approx(0.0)

    async def main():
        return await asyncio.gather(*(batcher.submit([i]) for i in range(40)), return_exceptions=True)

    results = run(main())
    assert results == [[i] for i in range(40)]
    assert batcher.shed == 0


def test_the_fitted_cost_is_a_line_through_the_recent_batches():
    batcher = MicroBatcher(lambda items: items)
    assert batcher.batch_cost() == (0.0, 0.0)
    batcher.record_cost(1, 0.012)  # only lone requests: a full batch is taken to cost about twice one
    assert batcher.batch_cost() == pytest.approx((0.012, 0.012 / 256))
    for size, seconds in [(10, 0.030), (50, 0.110), (100, 0.210)]:  # 10 ms a batch + 2 ms a listing
        batcher.record_cost(size, seconds)
    assert batcher.batch_cost() == pytest.approx((0.010, 0.002), rel=1e-6)
    with pytest.raises(ValueError):
        batcher.record_cost(0, 0.1)


def test_with_inline_single_a_lone_request_runs_on_the_loop_and_everything_else_in_the_thread():
    threads: list[tuple[int, int]] = []

    def model(items: list) -> list:
        threads.append((len(items), threading.get_ident()))
        if "bad" in items:
            raise ValueError("bad input")
        return [f"out-{item}" for item in items]

    alone = [True]
    batcher = MicroBatcher(model, inline_single=lambda: alone[0])

    async def main():
        loop_thread = threading.get_ident()
        lone = await batcher.submit(["a"])
        pair = await asyncio.gather(batcher.submit(["b"]), batcher.submit(["c"]))  # queued together: one batch
        many = await batcher.submit(["d", "e"])
        with pytest.raises(ValueError):
            await batcher.submit(["bad"])  # a lone listing's failure is still its caller's
        alone[0] = False  # other requests in flight: even a batch of one goes to the thread
        crowded = await batcher.submit(["f"])
        return loop_thread, lone, pair, many + crowded

    loop_thread, lone, pair, many = run(main())
    assert (lone, pair, many) == (["out-a"], [["out-b"], ["out-c"]], ["out-d", "out-e", "out-f"])
    assert [n for n, _ in threads] == [1, 2, 2, 1, 1]
    on_loop = [n for n, ident in threads if ident == loop_thread]
    assert on_loop == [1, 1]  # the lone listings; both batches of two ran in the worker thread
    assert MicroBatcher(model).inline_single is None  # off unless asked: the other tests hold the thread
