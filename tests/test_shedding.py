"""Overload is shed, never broken: a real `bentoml serve` past its latency budget answers 503 with
Retry-After, never another 5xx and never a dropped connection (behaviour only; bench/serve.py times it)."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from tests.servers import serving
from zeta_serving.serving import inprocess, shedding
from zeta_serving.serving.batching import Overloaded
from zeta_serving.serving.shedding import Admission, SheddingMiddleware

pytestmark = pytest.mark.e2e

NAMES = ["ルイヴィトン 長財布 モノグラム", "NIKE エアマックス90 27cm ブラック", "ユニクロ フリース L ネイビー",
         "iPhone 13 128GB SIMフリー", "無印良品 収納ボックス", "ポケモンカード まとめ売り"]


def burst(url: str, n: int) -> list:
    """n requests at once over many connections, spread over the single and batch routes of every task."""
    requests = []
    for i in range(n):
        name = f"{NAMES[i % len(NAMES)]} {i}"
        route, body = [("/price", {"name": name, "condition": 1 + i % 6}), ("/category", {"name": name, "k": 3}),
                       ("/tags", {"name": name}), ("/tags/batch", {"listings": [{"name": name}] * 8})][i % 4]
        requests.append((route, body))

    async def main():
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
            return await asyncio.gather(*(client.post(route, json=body) for route, body in requests),
                                        return_exceptions=True)

    return asyncio.run(main())


def test_an_overload_past_a_low_budget_gets_503_with_retry_after_and_nothing_else(served_models, tmp_path):
    env = {**served_models, "ZETA_LATENCY_BUDGET_MS": "1", "ZETA_SERVE_WORKERS": "1"}
    with serving("services.all.service:Suggest", env=env, log=tmp_path / "suggest.log") as url:
        responses = burst(url, 240)
        after = httpx.post(f"{url}/price", json={"name": "ナイキ スニーカー 27cm"}, timeout=30)

    dropped = [r for r in responses if isinstance(r, Exception)]
    assert not dropped, dropped[:3]
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {200, 503}, statuses
    assert statuses[503] > 0 and statuses[200] > 0, statuses
    for response in responses:
        if response.status_code == 503:
            assert int(response.headers["retry-after"]) >= 1
            assert "overloaded" in response.json()["error"]
        else:
            assert "model_tag" in response.json()
    # Shedding is about the queue, not a broken service: once the burst is over, it answers.
    assert after.status_code == 200 and after.json()["model_tag"].startswith("zeta-price:")


def test_the_503_response_and_the_settings():
    response = inprocess.overloaded(Overloaded(3))
    assert response.status_code == 503 and response.headers["retry-after"] == "3"
    assert "retry after 3 s" in response.body.decode()


@pytest.mark.parametrize("name,value", [("ZETA_LATENCY_BUDGET_MS", "fast"), ("ZETA_LATENCY_BUDGET_MS", "0"),
                                        ("ZETA_SERVE_WORKERS", "two"), ("ZETA_SERVE_WORKERS", "0")])
def test_bad_settings_are_one_clear_line(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit, match=name):
        inprocess.latency_budget_ms() if "BUDGET" in name else inprocess.workers()


def test_access_log_and_tracing_are_off_on_suggestion_routes_unless_asked(monkeypatch):
    monkeypatch.delenv("ZETA_ACCESS_LOG", raising=False)
    monkeypatch.delenv("ZETA_TRACING", raising=False)
    options = inprocess.service_options(["/price"])
    assert options["logging"]["access"]["enabled"] is False
    assert options["tracing"]["excluded_urls"] == ["/price(/batch)?$"]
    monkeypatch.setenv("ZETA_ACCESS_LOG", "1")
    monkeypatch.setenv("ZETA_TRACING", "1")
    options = inprocess.service_options(["/price"])
    assert "logging" not in options and "tracing" not in options


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_admission_refuses_past_the_budget_at_the_measured_rate_and_never_a_few():
    clock = Clock()
    admission = Admission(budget_ms=1000, clock=clock)
    assert all(admission.admit() == 0 for _ in range(shedding.MIN_INSIDE))  # nothing measured: admitted
    for _ in range(10):  # 10 answers in one busy second: 10 a second
        clock.now += 0.1
        admission.leave()
        assert admission.admit() == 0 or admission.inside >= shedding.MIN_INSIDE
    assert admission.rate == pytest.approx(10, rel=0.2)
    # MIN_INSIDE inside at 10/s is a 3 s wait: past the 1 s budget, so the next is refused
    retry_after = admission.admit()
    assert retry_after >= 2 and admission.shed == 1 and admission.inside == shedding.MIN_INSIDE
    while admission.inside > 5:
        admission.leave()
    assert admission.admit() == 0  # a few inside are never refused


def test_a_refusal_reads_no_body_and_never_reaches_the_app():
    reached = []

    async def app(scope, receive, send):
        reached.append(scope["path"])

    middleware = SheddingMiddleware(app, routes=["/price"], budget_ms=1)
    middleware.admission.inside, middleware.admission.rate = shedding.MIN_INSIDE, 1.0
    sent = []

    async def receive():
        raise AssertionError("a refused request's body is never read")

    async def send(message):
        sent.append(message)

    asyncio.run(middleware({"type": "http", "path": "/price/batch"}, receive, send))
    asyncio.run(middleware({"type": "http", "path": "/metrics"}, receive, send))
    assert reached == ["/metrics"]
    assert sent[0]["status"] == 503 and dict(sent[0]["headers"])[b"retry-after"].isdigit()
    assert b"overloaded" in sent[1]["body"]


def test_requests_inside_counts_what_the_middleware_admitted_until_it_is_answered(monkeypatch):
    # What the batcher asks before it runs a lone listing on the event loop (inprocess._alone)
    import weakref

    monkeypatch.setattr(shedding, "_ADMISSIONS", weakref.WeakSet())  # this test's middlewares only
    seen = []

    async def app(scope, receive, send):
        seen.append((scope["path"], shedding.requests_inside(), inprocess._alone()))

    assert shedding.requests_inside() is None and not inprocess._alone()  # no middleware: nobody knows
    middleware = SheddingMiddleware(app, routes=["/price"], budget_ms=2000)
    assert shedding.requests_inside() == 0
    asyncio.run(middleware({"type": "http", "path": "/price"}, None, None))
    asyncio.run(middleware({"type": "http", "path": "/metrics"}, None, None))
    assert seen == [("/price", 1, True), ("/metrics", 0, True)]
    middleware.admission.inside = 3  # three suggestions in flight: none of them is alone
    assert shedding.requests_inside() == 3 and not inprocess._alone()
    middleware.admission.inside = 0
