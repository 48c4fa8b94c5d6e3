"""The suggestion services as users meet them: real `bentoml serve` processes over HTTP."""

from __future__ import annotations

import concurrent.futures
import json
import subprocess
import time

import bentoml
import httpx
import pytest

from tests.servers import BENTOML, ROOT, serving
from zeta_serving import registry, tasks
from zeta_serving.serving import schemas
from zeta_serving.serving.runtime import EXIT_TOKENIZER_MISMATCH

pytestmark = pytest.mark.e2e

LISTINGS = [
    {"name": "ルイヴィトン 長財布 モノグラム", "description": "数回使用しました。箱付きです。", "brand": "ルイ ヴィトン",
     "condition": 2, "shipping": 1, "category": "ファッション/レディース/財布/長財布"},
    {"name": "【新品未使用】NIKE エアマックス90 27cm ブラック", "description": "試着のみ", "brand": "ナイキ",
     "condition": 1, "shipping": 0, "category": "ファッション/メンズ/靴/スニーカー"},
    {"name": "ＵＮＩＱＬＯ フリース Ｌ ネイビー", "description": "", "brand": "ユニクロ", "condition": 3,
     "shipping": 1, "category": ""},
]


def category_body(x: dict, k: int = 3) -> dict:
    return {"name": x["name"], "brand": x["brand"], "k": k}


def tag_body(x: dict) -> dict:
    return {"name": x["name"], "description": x["description"]}


@pytest.fixture(scope="module")
def suggest_served(served_models, tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "suggest.log"
    with serving("services.all.service:Suggest", env=served_models, log=log) as url:
        yield url, log


@pytest.fixture(scope="module")
def suggest_url(suggest_served):
    return suggest_served[0]


def test_bad_requests_are_one_info_line_each_not_an_error_traceback(suggest_served):
    url, log = suggest_served
    before = log.stat().st_size
    bad = [("/price", {"name": "財布", "condition": "new", "shipping": 1}),
           ("/category", {"name": "財布", "k": -1}),
           ("/tags", {"description": "name is missing"})]
    for route, body in bad:
        assert httpx.post(f"{url}{route}", json=body).status_code == 400
    deadline = time.monotonic() + 10  # the workers' log lines reach the file a little later
    while log.read_bytes()[before:].count(b"-> 400") < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    text = log.read_bytes()[before:].decode("utf-8", errors="replace")
    assert "Traceback" not in text and "ERROR" not in text, text
    lines = [line for line in text.splitlines() if "-> 400" in line]
    assert len(lines) == 3, text
    assert all("INFO" in line for line in lines), lines
    assert "condition" in lines[0] and "k" in lines[1] and "name" in lines[2]
    print(f"log per bad request: {len(text.encode()) / 3:.0f} bytes")  # was about 2.3 KB with a traceback
    assert len(text.encode()) < 3 * 700 + 2000


@pytest.fixture(scope="module")
def in_process(trained_store):
    _, results = trained_store
    return {task: registry.load(results[task].saved.tag) for task in tasks.names()}


def test_answers_equal_in_process_predictions(suggest_url, in_process):
    model, saved = in_process["price"]
    expected = tasks.get("price").predict(model, saved.tag, [schemas.PriceListing(**x) for x in LISTINGS])
    for listing, want in zip(LISTINGS, expected):
        got = httpx.post(f"{suggest_url}/price", json=listing).json()
        assert got == want.model_dump()
    model, saved = in_process["category"]
    expected = tasks.get("category").predict(model, saved.tag, [schemas.CategoryListing(**category_body(x)) for x in LISTINGS])
    for listing, want in zip(LISTINGS, expected):
        assert httpx.post(f"{suggest_url}/category", json=category_body(listing)).json() == want.model_dump()
    model, saved = in_process["tag"]
    expected = tasks.get("tag").predict(model, saved.tag, [schemas.TagListing(**tag_body(x)) for x in LISTINGS])
    for listing, want in zip(LISTINGS, expected):
        assert httpx.post(f"{suggest_url}/tags", json=tag_body(listing)).json() == want.model_dump()


def brand_body(listing: dict, k: int = 3) -> dict:
    return {"name": listing["name"], "description": listing.get("description", ""), "k": k}


def test_brand_route_answers_like_the_model_with_no_brand_as_null(suggest_url, in_process, trained_store):
    _, results = trained_store
    model, saved = in_process["brand"]
    brand = tasks.get("brand")
    expected = brand.predict(model, saved.tag, [brand.request(**brand_body(x)) for x in LISTINGS])
    got = [httpx.post(f"{suggest_url}/brand", json=brand_body(x)).json() for x in LISTINGS]
    assert got == [want.model_dump() for want in expected]
    assert all(g["model_tag"] == results["brand"].saved.tag and len(g["brands"]) == 3 for g in got)
    plain = httpx.post(f"{suggest_url}/brand", json={"name": "手作り 木製 スプーン", "k": 5}).json()
    assert len(plain["brands"]) == 5 and None in [b["brand"] for b in plain["brands"]]  # "no brand" answers null
    batch = httpx.post(f"{suggest_url}/brand/batch", json={"listings": [brand_body(x, k=1) for x in LISTINGS]})
    assert [r["brands"] for r in batch.json()["results"]] == [g["brands"][:1] for g in got]


def test_bentoml_client_and_model_tag(suggest_url, trained_store):
    _, results = trained_store
    with bentoml.SyncHTTPClient(suggest_url) as client:
        price = client.price(LISTINGS[0])
        categories = client.category(category_body(LISTINGS[1], k=5))
        batch = client.tags_batch(listings=[tag_body(x) for x in LISTINGS])
    assert price["model_tag"] == results["price"].saved.tag
    assert 0 < price["low"] <= price["price"] <= price["high"]
    assert len(categories["categories"]) == 5 and categories["model_tag"] == results["category"].saved.tag
    probs = [c["probability"] for c in categories["categories"]]
    assert probs == sorted(probs, reverse=True) and all(0 <= p <= 1 for p in probs)
    assert batch["model_tag"] == results["tag"].saved.tag and len(batch["results"]) == 3


@pytest.mark.parametrize("route,body_of", [("price", dict), ("category", category_body), ("tags", tag_body),
                                           ("brand", brand_body)])
def test_batch_equals_singles(suggest_url, route, body_of):
    bodies = [body_of(x) for x in LISTINGS]
    singles = [httpx.post(f"{suggest_url}/{route}", json=b).json() for b in bodies]
    batch = httpx.post(f"{suggest_url}/{route}/batch", json={"listings": bodies}).json()
    assert batch["results"] == singles


def test_concurrent_singles_are_answered_like_sequential_ones(suggest_url):
    bodies = [dict(LISTINGS[i % 3], name=f"{LISTINGS[i % 3]['name']} {i}") for i in range(48)]
    sequential = [httpx.post(f"{suggest_url}/price", json=b).json() for b in bodies]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        concurrent_ = list(pool.map(lambda b: httpx.post(f"{suggest_url}/price", json=b, timeout=30).json(), bodies))
    assert concurrent_ == sequential


def test_japanese_is_readable_utf8(suggest_url):
    response = httpx.post(f"{suggest_url}/category", json=category_body(LISTINGS[0]))
    assert response.headers["content-type"].startswith("application/json")
    assert "\\u" not in response.text
    assert any("ファッション" in c["category"] or "/" in c["category"] for c in response.json()["categories"])


BAD_REQUESTS = {
    "wrong type": ("price", {"name": "x", "condition": "good"}),
    "missing name": ("price", {"description": "説明"}),
    "empty name": ("category", {"name": ""}),
    "blank name": ("tags", {"name": "   "}),
    "huge name": ("category", {"name": "あ" * 10_000}),
    "huge description": ("tags", {"name": "x", "description": "い" * 100_000}),
    "condition out of range": ("price", {"name": "x", "condition": 7}),
    "shipping out of range": ("price", {"name": "x", "shipping": 2}),
    "k too large": ("category", {"name": "x", "k": 1000}),
    "k zero": ("category", {"name": "x", "k": 0}),
    "brand k too large": ("brand", {"name": "x", "k": 21}),
    "brand takes no brand": ("brand", {"name": "x", "brand": "ナイキ"}),
    "unknown field": ("price", {"name": "x", "colour": "red"}),
    "batch over the limit": ("price/batch", {"listings": [{"name": "x"}] * (schemas.MAX_BATCH + 1)}),
    "empty batch": ("tags/batch", {"listings": []}),
    "batch not a list": ("category/batch", {"listings": {"name": "x"}}),
    "array body": ("price", [1, 2]),
    "null body": ("price", None),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_input_gets_a_4xx_that_says_what_is_wrong(suggest_url, case):
    route, body = BAD_REQUESTS[case]
    response = httpx.post(f"{suggest_url}/{route}", content=json.dumps(body).encode(),
                          headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]


@pytest.mark.parametrize("raw", [b"not json", b'{"name": "\xff\xfe"}', b'{"name": "x"', b""])
def test_malformed_bodies_get_a_4xx(suggest_url, raw):
    response = httpx.post(f"{suggest_url}/price", content=raw, headers={"content-type": "application/json"})
    assert 400 <= response.status_code < 500, response.text


def test_server_keeps_serving_after_bad_input(suggest_url):
    for _ in range(3):
        httpx.post(f"{suggest_url}/price", content=b"\xff", headers={"content-type": "application/json"})
    assert httpx.post(f"{suggest_url}/price", json=LISTINGS[0]).status_code == 200


def test_operational_endpoints(suggest_url):
    assert httpx.get(f"{suggest_url}/healthz").status_code == 200
    assert httpx.get(f"{suggest_url}/readyz").status_code == 200
    assert "bentoml_service_request" in httpx.get(f"{suggest_url}/metrics").text
    paths = httpx.get(f"{suggest_url}/docs.json").json()["paths"]
    assert {"/price", "/price/batch", "/category", "/category/batch", "/tags", "/tags/batch"} <= set(paths)


def test_one_model_served_alone(served_models, tmp_path):
    with serving("services.category.service:CategoryService", env=served_models, log=tmp_path / "category.log") as url:
        response = httpx.post(f"{url}/category", json={"name": "ナイキ スニーカー 27cm"})
        assert response.status_code == 200 and response.json()["model_tag"].startswith("zeta-category:")
        assert httpx.post(f"{url}/price", json=LISTINGS[0]).status_code == 404


def test_service_refuses_a_model_trained_under_another_dictionary(served_models):
    proc = subprocess.run([BENTOML, "serve", "services.price.service:PriceService", "--port", "1"],
                          cwd=ROOT, env={**__import__("os").environ, **served_models, "ZETA_MECAB_DICT": "ipadic"},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == EXIT_TOKENIZER_MISMATCH
    assert "refusing to serve zeta-price:" in proc.stderr
    assert "ルイヴィトン 長財布" in proc.stderr and "ipadic" in proc.stderr
    assert "Traceback" not in proc.stderr
