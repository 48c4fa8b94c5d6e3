"""The kubernetes deployer, with the official client, against a fake API server speaking the real protocol.

The cluster is seeded with the Deployments `zeta k8s render` writes; a small HTTP
backend stands in for each model's Service and answers with the real predictors
for whatever model the running image carries (switched when its rollout completes).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from tests.fake_backend import Backend
from tests.kube_fake import FakeCluster
from zeta_serving import registry
from zeta_serving.k8s.objects import Settings
from zeta_serving.k8s.render import build_objects
from zeta_serving.maintenance import golden
from zeta_serving.maintenance.deployers import DeployError
from zeta_serving.maintenance.kubernetes import ANNOTATION, KubernetesDeployer, KubernetesSettings, api_client

OLD_IMAGE = "zeta-price:latest"
PREVIOUS_TAG = "zeta-price:previous"


@pytest.fixture
def world(trained_store, tmp_path):
    """(cluster, backend, deployer, new model tag, golden cases); price serves the 'previous' model."""
    _, results = trained_store
    new_tag = results["price"].saved.tag
    model = registry.load(new_tag)[0]
    found = build_objects(Settings(), toml_text="", schedule="0 6 * * *", tasks=["price"])
    with FakeCluster(found, step=0.05, progress_deadline=0.5) as cluster:
        backend = Backend({"price": (model, PREVIOUS_TAG)})
        images = {OLD_IMAGE: PREVIOUS_TAG}

        def ready(name, image):
            backend.serving["price"] = (model, images.get(image, "zeta-price:unknown"))

        cluster.on_ready = ready
        settings = KubernetesSettings(namespace="zeta", kubeconfig=cluster.kubeconfig(tmp_path / "kubeconfig"),
                                      service_url=backend.url, rollout_timeout=10, request_timeout=1,
                                      watch_seconds=2)
        deployer = KubernetesDeployer(api_client(settings), settings, poll=0.05)
        # zeta deployed the previous model once: the annotations say so.
        deployer._annotate("price", {"model-tag": PREVIOUS_TAG, "bento-tag": "zeta-price:b0", "image": OLD_IMAGE,
                                     "deployed-at": "2026-01-01T00:00:00+00:00"})
        cases = registry.load_golden(registry.get(new_tag))[:5]  # enough to tell models apart, quick
        yield cluster, backend, deployer, images, new_tag, cases
        backend.close()


def gate_for(cases):
    return lambda deployment, client: golden.check("price", cases, client)


def test_current_reads_what_the_deployment_runs(world):
    cluster, _, deployer, *_ = world
    live = deployer.current("price")
    assert (live.model_tag, live.bento_tag, live.image_tag) == (PREVIOUS_TAG, "zeta-price:b0", OLD_IMAGE)
    # Changed by hand (not through zeta): the annotations no longer describe it.
    deployer._patch("price", {"spec": {"template": {"spec": {"containers": [{"name": "bento",
                                                                              "image": "zeta-price:hand"}]}}}})
    assert deployer.current("price") is None


def test_deploy_rolls_out_then_verifies_through_the_service(world):
    cluster, backend, deployer, images, new_tag, cases = world
    images["zeta-price:v2"] = new_tag
    done = deployer.deploy("price", "zeta-price:b2", new_tag, gate=gate_for(cases), image_tag="zeta-price:v2")
    assert done.model_tag == new_tag
    assert cluster.image("zeta-price") == "zeta-price:v2"
    live = deployer.current("price")
    assert (live.model_tag, live.image_tag, live.bento_tag) == (new_tag, "zeta-price:v2", "zeta-price:b2")
    notes = cluster.deployment("zeta-price")["metadata"]["annotations"]
    assert notes[ANNOTATION + "previous-image"] == OLD_IMAGE
    # One PATCH set the image, as a strategic merge (what a real API server needs for a map body).
    image_patches = [p for p in cluster.patches() if "spec" in p[3]]
    assert len(image_patches) == 1 and image_patches[0][2] == "application/strategic-merge-patch+json"
    deployer.verify("price", gate_for(cases))
    # The loop's rollback after a failed verify puts the previous image and model back.
    restored = deployer.rollback("price")
    assert cluster.image("zeta-price") == OLD_IMAGE
    assert restored.model_tag == PREVIOUS_TAG and backend.serving["price"][1] == PREVIOUS_TAG


def test_a_rollout_that_never_becomes_available_is_rolled_back(world):
    cluster, backend, deployer, images, new_tag, cases = world
    images["zeta-price:bad"] = new_tag
    cluster.unready_images.add("zeta-price:bad")  # its pods fail their golden self-check: never ready
    with pytest.raises(DeployError, match="progress deadline exceeded.*rolled back to zeta-price:latest"):
        deployer.deploy("price", "zeta-price:b3", new_tag, gate=gate_for(cases), image_tag="zeta-price:bad")
    dep = cluster.deployment("zeta-price")
    assert cluster.image("zeta-price") == OLD_IMAGE
    assert "progress deadline exceeded" in dep["metadata"]["annotations"][ANNOTATION + "rollback-reason"]
    assert deployer.current("price").model_tag == PREVIOUS_TAG
    assert backend.serving["price"][1] == PREVIOUS_TAG


def test_answers_with_the_wrong_model_tag_are_rolled_back(world):
    cluster, backend, deployer, images, new_tag, cases = world
    images["zeta-price:stale"] = PREVIOUS_TAG  # the image packs the old model after all
    with pytest.raises(DeployError, match="model_tag 'zeta-price:previous'.*rolled back"):
        deployer.deploy("price", "zeta-price:b4", new_tag, gate=gate_for(cases), image_tag="zeta-price:stale")
    assert cluster.image("zeta-price") == OLD_IMAGE
    assert deployer.current("price").model_tag == PREVIOUS_TAG


def test_golden_mismatch_through_the_service_is_rolled_back(world):
    cluster, _, deployer, images, new_tag, cases = world
    images["zeta-price:v5"] = new_tag
    tampered = [dict(c, output=dict(c["output"], price=c["output"]["price"] * 3)) for c in cases]
    with pytest.raises(DeployError, match="golden cases differ.*rolled back"):
        deployer.deploy("price", "zeta-price:b5", new_tag, gate=gate_for(tampered), image_tag="zeta-price:v5")
    assert cluster.image("zeta-price") == OLD_IMAGE


@pytest.mark.parametrize("fault", [{"status": 500}, {"stall": 3}], ids=["500", "timeout"])
def test_api_server_errors_fail_the_deploy_and_change_nothing(world, fault):
    cluster, _, deployer, images, new_tag, cases = world
    before = cluster.deployment("zeta-price")
    cluster.fault = fault
    with pytest.raises(DeployError, match="Kubernetes API: reading zeta-price"):
        deployer.deploy("price", "zeta-price:b6", new_tag, gate=gate_for(cases), image_tag="zeta-price:v6")
    cluster.fault = {}
    assert cluster.deployment("zeta-price") == before
    assert not [p for p in cluster.patches() if "spec" in p[3]]


def test_a_watch_that_ends_early_is_resumed(world):
    cluster, _, deployer, images, new_tag, cases = world
    cluster.step = 0.3
    cluster.end_watches_early = True
    images["zeta-price:v7"] = new_tag
    deployer.deploy("price", "zeta-price:b7", new_tag, gate=gate_for(cases), image_tag="zeta-price:v7")
    assert deployer.current("price").model_tag == new_tag
    watches = [r for r in cluster.requests if r[0] == "GET" and r[1].endswith("/deployments")]
    assert len(watches) >= 2  # the first watch closed after one event; the rollout was still followed


def test_a_missing_deployment_says_what_to_apply(world):
    *_, new_tag, cases = world
    cluster, _, deployer = world[0], world[1], world[2]
    with pytest.raises(DeployError, match="no Deployment zeta-tag .*zeta k8s render"):
        deployer.current("tag")


def test_a_champion_without_an_image_is_adopted_only_if_it_is_what_runs(world):
    cluster, backend, deployer, images, new_tag, cases = world
    with pytest.raises(DeployError, match="does not serve"):
        deployer.deploy("price", None, new_tag, gate=gate_for(cases), image_tag=None)
    backend.serving["price"] = (backend.serving["price"][0], new_tag)  # the running image is that model
    deployer.deploy("price", None, new_tag, gate=gate_for(cases), image_tag=None)
    assert deployer.current("price").model_tag == new_tag
    assert cluster.image("zeta-price") == OLD_IMAGE


def run_cli(args, capsys):
    from zeta_serving.cli import main

    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_zeta_maintain_once_with_the_kubernetes_deployer(trained_store, tmp_path, capsys):
    """The whole path from zeta.toml's [kubernetes] table: the champion that runs is adopted and recorded."""
    import shutil

    from zeta_serving.maintenance.ledger import Champion, Ledger
    from zeta_serving.store import ListingStore

    store, results = trained_store
    db = tmp_path / "zeta.db"
    shutil.copy(str(store.url).removeprefix("sqlite:///"), db)
    tag = results["price"].saved.tag
    Ledger(ListingStore(f"sqlite:///{db}").engine).crown(
        Champion("price", tag, results["price"].saved.reference_score, datetime(2026, 1, 13, tzinfo=timezone.utc)))
    found = build_objects(Settings(), toml_text="", schedule="0 6 * * *", tasks=["price"])
    with FakeCluster(found) as cluster:
        backend = Backend({"price": (registry.load(tag)[0], tag)})  # the running image packs the champion
        try:
            config = tmp_path / "zeta.toml"
            config.write_text(
                "[maintenance]\neval_days = 3\ntrain_days = 9\nmin_rows = 100\nbootstrap = 200\n\n"
                f'[kubernetes]\nnamespace = "zeta"\nkubeconfig = "{cluster.kubeconfig(tmp_path / "kubeconfig")}"\n'
                f'service_url = "{backend.url}"\n')
            code, out, err = run_cli(["--db", f"sqlite:///{db}", "maintain", "--once", "--deployer", "kubernetes",
                                      "--model", "price", "--now", "2026-01-13", "--config", str(config), "--json"],
                                     capsys)
            assert code == 0, err
            (result,) = json.loads(out)
            assert result["decision"] in ("healthy", "skipped") and result["serving_tag"] == tag
            notes = cluster.deployment("zeta-price")["metadata"]["annotations"]
            assert notes[ANNOTATION + "model-tag"] == tag and notes[ANNOTATION + "image"] == OLD_IMAGE
            # A misspelt key in the table is one line naming it, before anything runs.
            config.write_text('[kubernetes]\nnamespce = "zeta"\n')
            code, _, err = run_cli(["--db", f"sqlite:///{db}", "maintain", "--once", "--deployer", "kubernetes",
                                    "--config", str(config)], capsys)
            assert code == 2 and "[kubernetes]: unknown key 'namespce' (did you mean 'namespace'?)" in err
            assert len(err.strip().splitlines()) == 1
        finally:
            backend.close()
