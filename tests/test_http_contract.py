"""The HTTP contract of the all-in-one service: what /docs.json says is what a real `bentoml serve` does.

Schemathesis (every check, coverage and fuzzing phases) runs against the live server; the cases it
once found each have a plain test too, so a failure names the broken promise.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import jsonschema_rs
import pytest

from tests.servers import serving
from zeta_serving import tasks
from zeta_serving.serving.contract import ERROR_COMPONENT, document, normalize_error
from zeta_serving.serving.schemas import NOT_BLANK

pytestmark = pytest.mark.e2e

ST = str(Path(sys.executable).parent / "st")
EXAMPLES_PER_OPERATION = 50  # the full run (>= 1,000) is done by hand; see the README
OK = {"price": {"name": "ナイキ スニーカー 27cm", "condition": 2, "shipping": 1},
      "category": {"name": "ナイキ スニーカー 27cm", "k": 3},
      "tags": {"name": "ナイキ スニーカー 27cm"}}


@pytest.fixture(scope="module")
def suggest(served_models, tmp_path_factory):
    log = tmp_path_factory.mktemp("contract") / "suggest.log"
    with serving("services.all.service:Suggest", env=served_models, log=log) as url:
        yield url


@pytest.fixture(scope="module")
def spec(suggest) -> dict:
    return httpx.get(f"{suggest}/docs.json").json()


def _api_routes(spec: dict) -> list[str]:
    return sorted(path for path, item in spec["paths"].items() if "post" in item)


def _documented_error(spec: dict, route: str, status: int) -> dict:
    ref = spec["paths"][route]["post"]["responses"][str(status)]["content"]["application/json"]["schema"]["$ref"]
    return {**spec["components"]["schemas"][ref.rsplit("/", 1)[1]], "components": spec["components"]}


def _assert_documented(spec: dict, route: str, response: httpx.Response) -> None:
    schema = _documented_error(spec, route, response.status_code)
    jsonschema_rs.validate(schema, response.json())


def test_schemathesis_finds_nothing(suggest, tmp_path):
    """Every check, >= 50 generated cases per operation, against the live server."""
    out = tmp_path / "st.txt"
    with out.open("w") as fh:
        done = subprocess.run([ST, "run", f"{suggest}/docs.json", "--checks", "all",
                               "--max-examples", str(EXAMPLES_PER_OPERATION), "--seed", "1", "--no-color",
                               "--continue-on-failure", "--workers", "2"],
                              stdout=fh, stderr=subprocess.STDOUT, timeout=600, cwd=tmp_path)
    text = out.read_text()
    assert done.returncode == 0, text[-6000:]
    assert "No issues found" in text
    routes = 2 * len(tasks.names())  # a single and a batch route per registered task
    assert re.search(rf"Tested: {routes + 4}\b", text), text[-2000:]  # the routes and four probes
    generated, passed = map(int, re.search(r"(\d+) generated, (\d+) passed", text).groups())
    assert generated == passed >= 6 * EXAMPLES_PER_OPERATION


def test_400_body_is_the_documented_one(suggest, spec):
    """It used to break the document: `detail` is a list of field errors, the document said a string."""
    for route in _api_routes(spec):
        response = httpx.post(f"{suggest}{route}", json={"bogus": 1})
        assert response.status_code == 400, (route, response.text)
        _assert_documented(spec, route, response)
        assert response.json()["detail"][0]["loc"]


def test_multipart_without_boundary_is_a_415_not_a_500(suggest, spec):
    for route in _api_routes(spec):
        for content_type in ("multipart/form-data", "multipart/form-data; boundary=zz",
                             "application/x-www-form-urlencoded", "application/vnd.bentoml+pickle"):
            response = httpx.post(f"{suggest}{route}", content=b'{"name": "x"}',
                                  headers={"content-type": content_type})
            assert response.status_code == 415, (route, content_type, response.text)
            _assert_documented(spec, route, response)
            assert response.json()["detail"][0]["loc"] == ["header", "content-type"]


def test_a_body_is_required_and_documented_so(suggest, spec):
    for route in _api_routes(spec):
        assert spec["paths"][route]["post"]["requestBody"]["required"] is True
        response = httpx.post(f"{suggest}{route}")
        assert response.status_code == 400
        _assert_documented(spec, route, response)


@pytest.mark.parametrize("route, field, value", [
    ("price", "shipping", False), ("price", "shipping", True), ("price", "condition", True),
    ("price", "condition", "3"), ("price", "shipping", "1"), ("price", "condition", 3.0),
    ("category", "k", True), ("category", "k", "3"),
])
def test_booleans_and_numeric_strings_are_not_integers(suggest, route, field, value):
    response = httpx.post(f"{suggest}/{route}", json={**OK[route], field: value})
    assert response.status_code == 400, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [[field]]


def test_blank_names_are_refused_by_the_documented_pattern(suggest, spec):
    pattern = spec["components"]["schemas"]["PriceListing"]["properties"]["name"]["pattern"]
    assert pattern == NOT_BLANK
    for name in (" ", "\u3000\t", "\ufeff\u2028"):
        assert not jsonschema_rs.is_valid({"type": "string", "pattern": pattern}, name)
        response = httpx.post(f"{suggest}/tags", json={"name": name})
        assert response.status_code == 400, (name, response.text)
    # Python's `re` would call \x1d and \x85 blank, JSON Schema's does not: the document decides.
    for name in ("\x1d", "\x85"):
        assert jsonschema_rs.is_valid({"type": "string", "pattern": pattern}, name)
        assert httpx.post(f"{suggest}/tags", json={"name": name}).status_code == 200
    padded = httpx.post(f"{suggest}/price", json={**OK["price"], "name": " ナイキ スニーカー 27cm "})
    plain = httpx.post(f"{suggest}/price", json=OK["price"])
    assert padded.status_code == 200 and padded.json() == plain.json()  # stripped after validation


def test_good_requests_still_answer(suggest):
    for route, body in OK.items():
        assert httpx.post(f"{suggest}/{route}", json=body).status_code == 200
        batch = httpx.post(f"{suggest}/{route}/batch", json={"listings": [body, body]})
        assert batch.status_code == 200 and len(batch.json()["results"]) == 2


# --- the pieces, without a server ---------------------------------------------------------------


def test_document_declares_errors_and_required_bodies():
    spec = document({"paths": {"/x": {"post": {"requestBody": {"content": {}}, "responses": {
        "400": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/InvalidArgument"}}}},
        "404": {"description": "Not Found"}}}},
        "/healthz": {"get": {"responses": {"200": {}}}}}})
    post = spec["paths"]["/x"]["post"]
    assert post["requestBody"]["required"] is True
    assert {"400", "415", "500", "503"} <= post["responses"].keys()
    assert all(post["responses"][s]["content"]["application/json"]["schema"]["$ref"].endswith("/ZetaError")
               for s in ("400", "404", "415", "500", "503"))
    assert post["responses"]["404"]["description"] == "Not Found"
    assert spec["components"]["schemas"]["ZetaError"] == ERROR_COMPONENT
    assert spec["paths"]["/healthz"] == {"get": {"responses": {"200": {}}}}


@pytest.mark.parametrize("body, expected", [
    (b'[{"error": "not allowed"}]', {"error": "not allowed", "detail": []}),  # BentoML's 4xx shape
    (b'{"error": "boom"}', {"error": "boom", "detail": []}),
    (b'{"error": "bad", "detail": "why"}', {"error": "bad", "detail": [{"loc": [], "msg": "why", "type": "error"}]}),
    (b"plain text", {"error": "plain text", "detail": []}),
])
def test_error_bodies_are_normalized(body, expected):
    result = json.loads(normalize_error(body))
    assert result == expected
    jsonschema_rs.validate(ERROR_COMPONENT, result)
