"""The spinnaker deployer against a local Gate that records the webhook payloads and plays the pipelines.

The "deploy pipeline" switches a local backend (the public endpoint) to the model the
artifact's image carries; the "rollback pipeline" switches it back to the previous model.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler

import pytest

from tests.fake_backend import Backend, LoopbackServer, reply_json
from zeta_serving import registry
from zeta_serving.maintenance import golden
from zeta_serving.maintenance.deployers import DeployError
from zeta_serving.maintenance.spinnaker import SpinnakerDeployer, SpinnakerSettings, docker_artifact

PREVIOUS_TAG = "zeta-price:previous"
TOKEN = "s3cr3t-gate-token"


class Gate(LoopbackServer):
    """POST /webhooks/webhook/<source>: recorded; the deploy source switches the backend after `delay`."""

    def __init__(self, backend: Backend, model, images: dict[str, str]):
        self.received: list[tuple[str, dict, str]] = []
        self.status = 200
        self.deploys = True  # False: the pipeline runs but never changes what serves
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                source = self.path.removeprefix("/webhooks/webhook/")
                gate.received.append((source, body, self.headers.get("Authorization", "")))
                if gate.status == 200:
                    params = body.get("parameters", {})
                    if source == "zeta-price" and gate.deploys:
                        image = body["artifacts"][0]["reference"]
                        threading.Timer(0.2, lambda: backend.serving.update(
                            price=(model, images.get(image, "zeta-price:unknown")))).start()
                    elif source == "zeta-rollback":
                        threading.Timer(0.2, lambda: backend.serving.update(
                            price=(model, params["model_tag"]))).start()
                reply_json(self, gate.status, {"eventProcessed": gate.status == 200, "eventId": "e-1"})

        super().__init__(Handler)


@pytest.fixture
def world(trained_store):
    _, results = trained_store
    new_tag = results["price"].saved.tag
    model = registry.load(new_tag)[0]
    backend = Backend({"price": (model, PREVIOUS_TAG)})
    images = {"127.0.0.1:5000/zeta-price:v2": new_tag}
    gate = Gate(backend, model, images)
    settings = SpinnakerSettings(gate_url=gate.url, rollback_source="zeta-rollback", public_url=backend.url,
                                 timeout=3, poll=0.1, request_timeout=2)
    deployer = SpinnakerDeployer(settings, token=TOKEN)
    cases = registry.load_golden(registry.get(new_tag))[:5]
    yield gate, backend, deployer, images, new_tag, cases
    gate.close()
    backend.close()


def gate_for(cases):
    return lambda deployment, client: golden.check("price", cases, client)


def test_the_trigger_payload_then_the_new_model_answers(world):
    gate, backend, deployer, _, new_tag, cases = world
    assert deployer.current("price").model_tag == PREVIOUS_TAG
    done = deployer.deploy("price", "zeta-price:b2", new_tag, gate=gate_for(cases),
                           image_tag="127.0.0.1:5000/zeta-price:v2")
    assert done.model_tag == new_tag and deployer.current("price").image_tag == "127.0.0.1:5000/zeta-price:v2"
    ((source, payload, auth),) = gate.received
    assert source == "zeta-price" and auth == f"Bearer {TOKEN}"
    assert payload["artifacts"] == [{"type": "docker/image", "name": "127.0.0.1:5000/zeta-price",
                                     "reference": "127.0.0.1:5000/zeta-price:v2", "version": "v2"}]
    assert payload["parameters"] == {"model": "price", "model_tag": new_tag, "bento_tag": "zeta-price:b2",
                                     "image": "127.0.0.1:5000/zeta-price:v2", "previous_model_tag": PREVIOUS_TAG}
    deployer.verify("price", gate_for(cases))


def test_a_pipeline_that_never_delivers_triggers_the_rollback_pipeline(world):
    gate, backend, deployer, _, new_tag, cases = world
    gate.deploys = False
    with pytest.raises(DeployError, match="still answers with zeta-price:previous.*rolled back"):
        deployer.deploy("price", "zeta-price:b3", new_tag, gate=gate_for(cases),
                        image_tag="127.0.0.1:5000/zeta-price:v2")
    sources = [s for s, _, _ in gate.received]
    assert sources == ["zeta-price", "zeta-rollback"]
    rollback = gate.received[1][1]["parameters"]
    assert rollback["model_tag"] == PREVIOUS_TAG and rollback["failed_model_tag"] == new_tag
    assert "still answers" in rollback["reason"]


def test_a_model_that_answers_differently_is_rolled_back(world):
    gate, backend, deployer, _, new_tag, cases = world
    tampered = [dict(c, output=dict(c["output"], price=c["output"]["price"] * 3)) for c in cases]
    with pytest.raises(DeployError, match="golden cases differ.*rolled back: the public endpoint answers with "
                                          "zeta-price:previous again"):
        deployer.deploy("price", "zeta-price:b4", new_tag, gate=gate_for(tampered),
                        image_tag="127.0.0.1:5000/zeta-price:v2")
    assert backend.serving["price"][1] == PREVIOUS_TAG


def test_without_a_rollback_pipeline_the_failure_says_to_act(world):
    gate, backend, deployer, _, new_tag, cases = world
    gate.deploys = False
    deployer.settings = deployer.settings.model_copy(update={"rollback_source": ""})
    with pytest.raises(DeployError, match="no rollback pipeline configured.*alerting"):
        deployer.deploy("price", "zeta-price:b5", new_tag, gate=gate_for(cases),
                        image_tag="127.0.0.1:5000/zeta-price:v2")
    assert [s for s, _, _ in gate.received] == ["zeta-price"]


def test_gate_refusing_the_trigger_changes_nothing(world):
    gate, backend, deployer, _, new_tag, cases = world
    gate.status = 500
    with pytest.raises(DeployError, match="Gate answered 500 to the zeta-price trigger"):
        deployer.deploy("price", "zeta-price:b6", new_tag, gate=gate_for(cases),
                        image_tag="127.0.0.1:5000/zeta-price:v2")
    assert backend.serving["price"][1] == PREVIOUS_TAG
    assert len(gate.received) == 1


def test_no_image_is_a_clear_error(world):
    *_, new_tag, cases = world
    deployer = world[2]
    with pytest.raises(DeployError, match="set container_backend"):
        deployer.deploy("price", "zeta-price:b7", new_tag, gate=gate_for(cases), image_tag=None)


@pytest.mark.parametrize("image, name, version", [
    ("127.0.0.1:5000/ml/zeta-tag:2026.11", "127.0.0.1:5000/ml/zeta-tag", "2026.11"),
    ("127.0.0.1:5000/zeta-tag", "127.0.0.1:5000/zeta-tag", "latest"),
    ("zeta-tag:v1", "zeta-tag", "v1"),
])
def test_docker_artifact(image, name, version):
    assert docker_artifact(image) == {"type": "docker/image", "name": name, "reference": image, "version": version}
