"""The registry read's transport and credentials, against a stand-in registry (httpx.MockTransport).

The real protocol against a real registry (Debian's docker-registry on loopback, plain HTTP,
no authentication) is tested in tests/test_k8s_deployer.py. No authenticating registry runs
here, so the choice of scheme and the two challenge flows are checked at the HTTP level.
"""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from zeta_serving.maintenance.registry_labels import OCI_MANIFEST, LabelReader, RegistryError

CONFIG = {"config": {"Labels": {"io.zeta.models": "zeta-price:abc"}}}
MANIFEST = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {"digest": "sha256:c0"}, "layers": []}


def registry(auth=None):
    """A registry answering zeta-price:v1; `auth(request)` returns a 401 response or None to let it through."""
    seen = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/token":
            ok = request.headers.get("authorization") == "Basic " + base64.b64encode(b"ci:s3cret").decode()
            return httpx.Response(200 if ok else 401, json={"token": "t0k3n"})
        denied = auth(request) if auth else None
        if denied is not None:
            return denied
        if request.url.path == "/v2/ml/zeta-price/manifests/v1":
            return httpx.Response(200, json=MANIFEST, headers={"content-type": OCI_MANIFEST})
        if request.url.path == "/v2/ml/zeta-price/blobs/sha256:c0":
            return httpx.Response(200, content=json.dumps(CONFIG).encode())
        return httpx.Response(404)

    return httpx.Client(transport=httpx.MockTransport(handle)), seen


def test_plain_http_only_for_loopback_and_listed_registries():
    client, seen = registry()
    reader = LabelReader(insecure=["registry.lan:5000"], client=client)
    assert reader.labels("registry.lan:5000/ml/zeta-price:v1")["io.zeta.models"] == "zeta-price:abc"
    assert reader.labels("registry.example.com/ml/zeta-price:v1")
    assert [r.url.scheme for r in seen] == ["http", "http", "https", "https"]
    assert "application/vnd.oci.image.index.v1+json" in seen[0].headers["accept"]


def test_basic_credentials_from_a_docker_config(tmp_path, monkeypatch):
    (tmp_path / "config.json").write_text(json.dumps(
        {"auths": {"registry.example.com": {"auth": base64.b64encode(b"ci:s3cret").decode()}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.delenv("ZETA_REGISTRY_USERNAME", raising=False)
    basic = "Basic " + base64.b64encode(b"ci:s3cret").decode()

    def auth(request):
        if request.headers.get("authorization") != basic:
            return httpx.Response(401, headers={"www-authenticate": 'Basic realm="registry"'})

    client, _ = registry(auth)
    assert LabelReader(client=client).labels("registry.example.com/ml/zeta-price:v1")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "none"))
    with pytest.raises(RegistryError, match="wants credentials and none are set"):
        LabelReader(client=registry(auth)[0]).labels("registry.example.com/ml/zeta-price:v1")


def test_a_bearer_challenge_is_answered_with_a_token_from_its_realm(monkeypatch):
    monkeypatch.setenv("ZETA_REGISTRY_USERNAME", "ci")
    monkeypatch.setenv("ZETA_REGISTRY_PASSWORD", "s3cret")

    def auth(request):
        if request.headers.get("authorization") != "Bearer t0k3n":
            return httpx.Response(401, headers={"www-authenticate": 'Bearer realm="https://auth.example.com/token",'
                                                                    'service="registry.example.com",'
                                                                    'scope="repository:ml/zeta-price:pull"'})

    client, seen = registry(auth)
    assert LabelReader(client=client).labels("registry.example.com/ml/zeta-price:v1")
    token = next(r for r in seen if r.url.path == "/token")
    assert token.url.params["scope"] == "repository:ml/zeta-price:pull"
    assert token.url.params["service"] == "registry.example.com"
    # The token is kept: the config blob is fetched with it, no second challenge.
    assert [r.url.path for r in seen].count("/token") == 1
