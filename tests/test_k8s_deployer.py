"""The kubernetes deployer, with the official client, against a fake API server speaking the real protocol.

The cluster is seeded with the Deployments `zeta k8s render` writes; a small HTTP
backend stands in for each model's Service and answers with the real predictors
for whatever model the running image carries (switched when its rollout completes).
The images are real: labelled with buildah and pushed to Debian's docker-registry on
loopback, where `current()` reads their labels over the registry's HTTP API.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timezone

import pytest

from tests.cli import run_cli
from tests.fake_backend import Backend
from tests.images_support import LabelledImages, registry as docker_registry
from tests.kube_fake import FakeCluster
from zeta_serving import registry
from zeta_serving.k8s.objects import Settings
from zeta_serving.k8s.render import build_objects
from zeta_serving.maintenance import golden
from zeta_serving.maintenance.deployers import DeployError
from zeta_serving.maintenance.kubernetes import (ANNOTATION, KubernetesDeployer, KubernetesSettings, UnknownImage,
                                                 api_client)

PREVIOUS_TAG = "zeta-price:previous"
MISSING = next((f"{tool} is not installed" for tool in ("buildah", "docker-registry") if not shutil.which(tool)),
               None) or (None if __import__("os").geteuid() == 0 else "buildah with vfs storage runs as root here")
pytestmark = pytest.mark.skipif(MISSING is not None, reason=f"no registry or image builder: {MISSING}")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """A real docker-registry on loopback, and a way to push labelled images to it."""
    folder = tmp_path_factory.mktemp("registry")
    with docker_registry(folder) as address:
        yield LabelledImages(address, folder / "buildah")


class World:
    def __init__(self, cluster, backend, deployer, images, model, new_tag, cases):
        self.cluster, self.backend, self.deployer, self.images = cluster, backend, deployer, images
        self.model, self.new_tag, self.cases = model, new_tag, cases
        self.serves: dict[str, str] = {}  # image -> the model its pods answer with

    def image(self, tag: str, model_tag: str, **labels) -> str:
        """Push `zeta-price:<tag>` labelled as zeta labels a bento image packing `model_tag`."""
        reference = self.images.push(f"zeta-price:{tag}", {"io.zeta.models": model_tag, "io.zeta.task": "price",
                                                           "io.zeta.bento": f"zeta-price:b-{tag}", **labels})
        self.serves[reference] = model_tag
        return reference


@pytest.fixture
def world(trained_store, tmp_path, images):
    """A World where price runs `old`, labelled with the 'previous' model, and zeta deployed it once."""
    _, results = trained_store
    new_tag = results["price"].saved.tag
    model = registry.load(new_tag)[0]
    found = build_objects(Settings(registry=images.registry), toml_text="", schedule="0 6 * * *", tasks=["price"])
    with FakeCluster(found, step=0.05, progress_deadline=0.5) as cluster:
        backend = Backend({"price": (model, PREVIOUS_TAG)})
        settings = KubernetesSettings(namespace="zeta", kubeconfig=cluster.kubeconfig(tmp_path / "kubeconfig"),
                                      service_url=backend.url, rollout_timeout=10, request_timeout=1,
                                      watch_seconds=2)
        deployer = KubernetesDeployer(api_client(settings), settings, poll=0.05)
        cases = registry.load_golden(registry.get(new_tag))[:5]  # enough to tell models apart, quick
        world = World(cluster, backend, deployer, images, model, new_tag, cases)
        world.old = world.image("latest", PREVIOUS_TAG)
        assert cluster.image("zeta-price") == world.old  # what `zeta k8s render --registry` wrote

        def ready(name, image):
            backend.serving["price"] = (model, world.serves.get(image, "zeta-price:unknown"))

        cluster.on_ready = ready
        # zeta deployed the previous model once: the annotations say so.
        deployer._annotate("price", {"model-tag": PREVIOUS_TAG, "bento-tag": "zeta-price:b-latest",
                                     "image": world.old, "deployed-at": "2026-01-01T00:00:00+00:00"})
        yield world
        backend.close()


def gate_for(cases):
    return lambda deployment, client: golden.check("price", cases, client)


def set_image_by_hand(w: World, image: str) -> None:
    """What `kubectl set image deployment/zeta-price bento=IMAGE` sends: zeta's annotations stay as they were."""
    w.deployer.apps.patch_namespaced_deployment(
        "zeta-price", "zeta", {"spec": {"template": {"spec": {"containers": [{"name": "bento", "image": image}]}}}})
    w.cluster.requests.clear()


def test_current_reads_the_model_from_the_running_images_labels(world):
    w = world
    live = w.deployer.current("price")
    assert (live.model_tag, live.bento_tag, live.image_tag) == (PREVIOUS_TAG, "zeta-price:b-latest", w.old)
    # Changed behind zeta's back (a pipeline, kubectl): the annotations still name the previous model...
    hand = w.image("hand", w.new_tag)
    set_image_by_hand(w, hand)
    notes = w.cluster.deployment("zeta-price")["metadata"]["annotations"]
    assert notes[ANNOTATION + "model-tag"] == PREVIOUS_TAG and notes[ANNOTATION + "image"] == w.old
    # ... and current() reports what the new image carries.
    live = w.deployer.current("price")
    assert (live.model_tag, live.bento_tag, live.image_tag) == (w.new_tag, "zeta-price:b-hand", hand)


@pytest.mark.parametrize("fmt", ["docker", "index"])
def test_current_reads_docker_manifests_and_indexes_too(world, fmt):
    w = world
    image = w.images.push(f"zeta-price:{fmt}", {"io.zeta.models": f"{w.new_tag},zeta-tag:other"}, fmt=fmt)
    set_image_by_hand(w, image)
    assert w.deployer.current("price").model_tag == w.new_tag  # this task's model among an all-in-one's


def test_an_unreadable_image_is_reported_by_name_never_guessed(world):
    w = world
    cases = {
        w.images.push("zeta-price:unlabelled", {"org.opencontainers.image.title": "someone-elses"}):
            re.escape("its io.zeta.models label is missing (not an image zeta built)"),
        f"{w.images.registry}/zeta-price:never-pushed": re.escape(f"registry {w.images.registry} has no image zeta-price:never-pushed (404)"),
        "127.0.0.1:1/zeta-price:v1": "registry 127.0.0.1:1 did not answer .*ConnectError",
    }
    for image, why in cases.items():
        set_image_by_hand(w, image)
        told = re.escape(f"zeta-price runs {image}; which model that is cannot be told: ")
        with pytest.raises(UnknownImage, match=told + why):
            w.deployer.current("price")
        with pytest.raises(DeployError, match="which model that is cannot be told"):
            w.deployer.verify("price", gate_for(w.cases))


def test_deploy_rolls_out_then_verifies_through_the_service(world):
    w = world
    v2 = w.image("v2", w.new_tag)
    done = w.deployer.deploy("price", "zeta-price:b2", w.new_tag, gate=gate_for(w.cases), image_tag=v2)
    assert done.model_tag == w.new_tag
    assert w.cluster.image("zeta-price") == v2
    live = w.deployer.current("price")
    assert (live.model_tag, live.image_tag, live.bento_tag) == (w.new_tag, v2, "zeta-price:b-v2")
    notes = w.cluster.deployment("zeta-price")["metadata"]["annotations"]
    assert notes[ANNOTATION + "previous-image"] == w.old
    # One PATCH set the image, as a strategic merge (what a real API server needs for a map body).
    image_patches = [p for p in w.cluster.patches() if "spec" in p[3]]
    assert len(image_patches) == 1 and image_patches[0][2] == "application/strategic-merge-patch+json"
    w.deployer.verify("price", gate_for(w.cases))
    # The loop's rollback after a failed verify puts the previous image and model back.
    restored = w.deployer.rollback("price")
    assert w.cluster.image("zeta-price") == w.old
    assert restored.model_tag == PREVIOUS_TAG and w.backend.serving["price"][1] == PREVIOUS_TAG


def test_a_rollout_that_never_becomes_available_is_rolled_back(world):
    w = world
    bad = w.image("bad", w.new_tag)
    w.cluster.unready_images.add(bad)  # its pods fail their golden self-check: never ready
    with pytest.raises(DeployError, match=f"progress deadline exceeded.*rolled back to {w.old}"):
        w.deployer.deploy("price", "zeta-price:b3", w.new_tag, gate=gate_for(w.cases), image_tag=bad)
    dep = w.cluster.deployment("zeta-price")
    assert w.cluster.image("zeta-price") == w.old
    assert "progress deadline exceeded" in dep["metadata"]["annotations"][ANNOTATION + "rollback-reason"]
    assert w.deployer.current("price").model_tag == PREVIOUS_TAG
    assert w.backend.serving["price"][1] == PREVIOUS_TAG


def test_answers_with_the_wrong_model_tag_are_rolled_back(world):
    w = world
    stale = w.image("stale", PREVIOUS_TAG)  # the image packs the old model after all
    with pytest.raises(DeployError, match="model_tag 'zeta-price:previous'.*rolled back"):
        w.deployer.deploy("price", "zeta-price:b4", w.new_tag, gate=gate_for(w.cases), image_tag=stale)
    assert w.cluster.image("zeta-price") == w.old
    assert w.deployer.current("price").model_tag == PREVIOUS_TAG


def test_golden_mismatch_through_the_service_is_rolled_back(world):
    w = world
    v5 = w.image("v5", w.new_tag)
    tampered = [dict(c, output=dict(c["output"], price=c["output"]["price"] * 3)) for c in w.cases]
    with pytest.raises(DeployError, match="golden cases differ.*rolled back"):
        w.deployer.deploy("price", "zeta-price:b5", w.new_tag, gate=gate_for(tampered), image_tag=v5)
    assert w.cluster.image("zeta-price") == w.old


@pytest.mark.parametrize("fault", [{"status": 500}, {"stall": 3}], ids=["500", "timeout"])
def test_api_server_errors_fail_the_deploy_and_change_nothing(world, fault):
    w = world
    before = w.cluster.deployment("zeta-price")
    w.cluster.fault = fault
    with pytest.raises(DeployError, match="Kubernetes API: reading zeta-price"):
        w.deployer.deploy("price", "zeta-price:b6", w.new_tag, gate=gate_for(w.cases), image_tag="zeta-price:v6")
    w.cluster.fault = {}
    assert w.cluster.deployment("zeta-price") == before
    assert not [p for p in w.cluster.patches() if "spec" in p[3]]


def test_a_watch_that_ends_early_is_resumed(world):
    w = world
    w.cluster.step = 0.3
    w.cluster.end_watches_early = True
    v7 = w.image("v7", w.new_tag)
    w.deployer.deploy("price", "zeta-price:b7", w.new_tag, gate=gate_for(w.cases), image_tag=v7)
    assert w.deployer.current("price").model_tag == w.new_tag
    watches = [r for r in w.cluster.requests if r[0] == "GET" and r[1].endswith("/deployments")]
    assert len(watches) >= 2  # the first watch closed after one event; the rollout was still followed


def test_a_missing_deployment_says_what_to_apply(world):
    with pytest.raises(DeployError, match="no Deployment zeta-tag .*zeta k8s render"):
        world.deployer.current("tag")


def test_a_champion_without_an_image_is_adopted_only_if_it_is_what_runs(world):
    w = world
    with pytest.raises(DeployError, match="does not serve .*its image carries zeta-price:previous"):
        w.deployer.deploy("price", None, w.new_tag, gate=gate_for(w.cases), image_tag=None)
    running = w.image("built-elsewhere", w.new_tag)  # the running image is that model
    set_image_by_hand(w, running)
    w.backend.serving["price"] = (w.model, w.new_tag)
    w.deployer.deploy("price", None, w.new_tag, gate=gate_for(w.cases), image_tag=None)
    assert w.deployer.current("price").model_tag == w.new_tag
    assert w.cluster.image("zeta-price") == running
    assert not [p for p in w.cluster.patches() if "spec" in p[3]]  # adopted: nothing rolled


def test_zeta_maintain_once_and_status_with_the_kubernetes_deployer(trained_store, tmp_path, capsys, images):
    """The whole path from zeta.toml's [kubernetes] table: the running image's labels say what serves."""
    from zeta_serving.maintenance.ledger import Champion, Ledger
    from zeta_serving.store import ListingStore

    store, results = trained_store
    db = tmp_path / "zeta.db"
    shutil.copy(str(store.url).removeprefix("sqlite:///"), db)
    tag = results["price"].saved.tag
    Ledger(ListingStore(f"sqlite:///{db}").engine).crown(
        Champion("price", tag, results["price"].saved.reference_score, datetime(2026, 1, 13, tzinfo=timezone.utc)))
    images.push("zeta-price:latest", {"io.zeta.models": tag})  # the running image packs the champion
    found = build_objects(Settings(registry=images.registry), toml_text="", schedule="0 6 * * *", tasks=["price"])
    with FakeCluster(found) as cluster:
        backend = Backend({"price": (registry.load(tag)[0], tag)})
        try:
            config = tmp_path / "zeta.toml"
            config.write_text(
                "[maintenance]\neval_days = 3\ntrain_days = 9\nmin_rows = 100\nbootstrap = 200\n"
                'deployer = "kubernetes"\n\n'
                f'[kubernetes]\nnamespace = "zeta"\nkubeconfig = "{cluster.kubeconfig(tmp_path / "kubeconfig")}"\n'
                f'service_url = "{backend.url}"\n')
            db_args = ["--db", f"sqlite:///{db}"]
            code, out, err = run_cli([*db_args, "maintain", "--once", "--model", "price", "--now", "2026-01-13",
                                      "--config", str(config), "--json"], capsys)
            assert code == 0, err
            (result,) = json.loads(out)
            assert result["decision"] in ("healthy", "skipped") and result["serving_tag"] == tag
            assert not [p for p in cluster.patches() if "spec" in p[3]]  # it serves the champion: nothing rolled

            def status():
                code, out, err = run_cli([*db_args, "status", "--config", str(config), "--json"], capsys)
                assert code == 0, err
                return next(r for r in json.loads(out) if r["model"] == "price")

            row = status()
            assert (row["deployer"], row["deployed"], row["agrees"]) == ("kubernetes", tag, True)
            # A pipeline rolled another image out behind zeta's back: status says so from its labels.
            other = images.push("zeta-price:elsewhere", {"io.zeta.models": "zeta-price:elsewhere"})
            cluster.objects[("Deployment", "zeta", "zeta-price")]["spec"]["template"]["spec"]["containers"][0][
                "image"] = other
            row = status()
            assert (row["deployed"], row["agrees"]) == ("zeta-price:elsewhere", False)
            code, out, _ = run_cli([*db_args, "status", "--config", str(config)], capsys)
            assert "deployed (kubernetes): zeta-price:elsewhere   <-- DISAGREES" in out
            # The registry cannot be read: status names the image and says the model is unknown.
            cluster.objects[("Deployment", "zeta", "zeta-price")]["spec"]["template"]["spec"]["containers"][0][
                "image"] = "127.0.0.1:1/zeta-price:latest"
            row = status()
            assert (row["deployed"], row["deployed_image"], row["agrees"]) == (None, "127.0.0.1:1/zeta-price:latest",
                                                                               None)
            assert row["deployed_note"].startswith("zeta-price runs 127.0.0.1:1/zeta-price:latest; which model "
                                                   "that is cannot be told: registry 127.0.0.1:1 did not answer")
            code, out, _ = run_cli([*db_args, "status", "--config", str(config)], capsys)
            assert "<-- UNKNOWN: cannot tell which model serves" in out
            # A cycle does not guess either: it fails at its champion stage, naming the image.
            code, out, err = run_cli([*db_args, "maintain", "--once", "--model", "price", "--now", "2026-01-13",
                                      "--config", str(config), "--json"], capsys)
            (result,) = json.loads(out)
            assert code == 3 and (result["decision"], result["failed_stage"]) == ("failed", "champion"), err
            assert "zeta-price runs 127.0.0.1:1/zeta-price:latest; which model that is cannot be told" in \
                result["summary"]
            assert not [p for p in cluster.patches() if "spec" in p[3]]  # and rolled nothing out
            # A misspelt key in the table is one line naming it, before anything runs.
            config.write_text('[kubernetes]\nnamespce = "zeta"\n')
            code, _, err = run_cli([*db_args, "maintain", "--once", "--deployer", "kubernetes",
                                    "--config", str(config)], capsys)
            assert code == 2 and "[kubernetes]: unknown key 'namespce' (did you mean 'namespace'?)" in err
            assert len(err.strip().splitlines()) == 1
        finally:
            backend.close()
