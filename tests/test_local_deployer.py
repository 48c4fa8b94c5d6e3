"""The local deployer with real `bentoml serve` backends: routing, lossless swaps, gates, rollback, cleanup.

The tests share one deployer and run in order (first deploy, swap, refused candidates, rollback, stop).
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from zeta_serving import registry
from zeta_serving.maintenance import golden
from zeta_serving.maintenance.deployers import DeployError
from zeta_serving.maintenance.local_deployer import LocalDeployer

pytestmark = pytest.mark.e2e

BODY = {"name": "ルイヴィトン 長財布 モノグラム", "brand": "ルイ ヴィトン", "k": 3}


def golden_gate(deployment, client) -> None:
    golden.check(deployment.task, registry.load_golden(registry.get(deployment.model_tag)), client)


def group_alive(pgid: int) -> list[int]:
    """Live (non-zombie) processes in a process group."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


def answer(url: str, route: str = "/category", body: dict = BODY) -> dict:
    resp = httpx.post(url + route, json=body, timeout=10, trust_env=False)
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.fixture(scope="module")
def tags(trained_store):
    """(first category tag, second category tag, tag-model tag); the second is removed afterwards
    so later modules still find the session's model as the newest."""
    import bentoml

    from zeta_serving.trainer import train_task

    store, results = trained_store
    second = train_task(store, "category", train_days=8, eval_days=3).saved.tag
    assert second != results["category"].saved.tag
    yield results["category"].saved.tag, second, results["tag"].saved.tag
    bentoml.models.delete(second)


@pytest.fixture(scope="module")
def deployer(tmp_path_factory):
    with LocalDeployer(port=0, log_dir=tmp_path_factory.mktemp("deployer-logs"), ready_timeout=90,
                       drain_timeout=10) as deployer:
        yield deployer


def test_first_deploy_routes_and_own_endpoints(deployer, tags):
    first, _, tag_model = tags
    assert httpx.get(deployer.url + "/healthz", trust_env=False).status_code == 200
    assert httpx.get(deployer.url + "/livez", trust_env=False).status_code == 200
    assert httpx.get(deployer.url + "/readyz", trust_env=False).status_code == 503  # nothing serves yet
    assert httpx.post(deployer.url + "/category", json=BODY, trust_env=False).json() == {
        "error": "no category model is deployed"}
    with concurrent.futures.ThreadPoolExecutor(2) as pool:  # two tasks deploy side by side
        done = [pool.submit(deployer.deploy, "category", None, first, golden_gate),
                pool.submit(deployer.deploy, "tag", None, tag_model, golden_gate)]
        category, tag = (f.result() for f in done)
    assert deployer.current("category") == category and category.model_tag == first
    assert answer(deployer.url)["model_tag"] == first
    assert answer(deployer.url, "/tags", {"name": BODY["name"], "description": ""})["model_tag"] == tag_model
    batch = answer(deployer.url, "/category/batch", {"listings": [BODY, BODY]})
    assert batch["model_tag"] == first and len(batch["results"]) == 2
    bad = httpx.post(deployer.url + "/category", json={**BODY, "k": 0}, trust_env=False)
    assert bad.status_code == 400  # the backend's validation answer passes through unchanged
    price = httpx.post(deployer.url + "/price", json={"name": "x"}, trust_env=False)
    assert price.status_code == 503 and price.json() == {"error": "no price model is deployed"}
    assert httpx.get(deployer.url + "/nowhere", trust_env=False).status_code == 404

    ready = httpx.get(deployer.url + "/readyz", trust_env=False)
    assert ready.status_code == 200 and ready.json()["tasks"] == {"category": True, "tag": True}
    shown = httpx.get(deployer.url + "/-/deployments", trust_env=False).json()
    assert shown["category"]["live"]["model_tag"] == first and shown["category"]["standby"] is None
    assert shown["category"]["live"]["endpoint"] == category.endpoint and shown["price"]["live"] is None
    assert shown["tag"]["live"]["model_tag"] == tag_model and shown["tag"]["live"]["deployed_at"]
    assert_metrics_count_requests(deployer.url, {first: 2, tag_model: 1})
    paths = httpx.get(deployer.url + "/docs.json", trust_env=False).json()["paths"]
    assert {"/category", "/category/batch", "/tags", "/tags/batch"} <= set(paths)  # both backends, merged
    assert "html" in httpx.get(deployer.url + "/", trust_env=False).headers["content-type"]  # the API UI
    deployer.verify("category", golden_gate)  # a first deployment has no standby to retire


def test_swap_under_steady_traffic_loses_nothing(deployer, tags, capsys):
    first, second, _ = tags
    old_pid = deployer.pids()[deployer.current("category").endpoint]
    stop, deadline = threading.Event(), time.monotonic() + 120
    logs: list[list[tuple]] = [[] for _ in range(4)]

    def traffic(log: list) -> None:
        with httpx.Client(timeout=15, trust_env=False) as client:
            while not stop.is_set() and time.monotonic() < deadline and len(log) < 20_000:
                began = time.monotonic()
                try:
                    resp = client.post(deployer.url + "/category", json=BODY)
                    ok = resp.status_code == 200
                    log.append((began, ok, resp.json().get("model_tag") if ok else f"{resp.status_code} {resp.text}"))
                except Exception as exc:  # noqa: BLE001 - every failure counts
                    log.append((began, False, repr(exc)))

    threads = [threading.Thread(target=traffic, args=(log,)) for log in logs]
    for thread in threads:
        thread.start()
    try:
        while sum(len(log) for log in logs) < 40:
            time.sleep(0.05)
        started = time.monotonic()
        deployed = deployer.deploy("category", None, second, golden_gate)
        switched = time.monotonic()
        deployer.verify("category", golden_gate)
        verified = time.monotonic()
        time.sleep(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    results = [r for log in logs for r in log]
    failures = [r for r in results if not r[1]]
    with capsys.disabled():
        print(f"\nswap: {len(results)} requests, {len(failures)} failed; gate+switch {switched - started:.1f}s, "
              f"verify+drain+stop {verified - switched:.1f}s")
    assert not failures, [(f"{r[0] - started:+.2f}s after deploy began", r[2]) for r in failures[:5]]
    assert len(results) > 100
    assert deployed.model_tag == second and deployer.current("category").model_tag == second
    for log in logs:  # each client sees the old model, then the new one, never the old again
        seen = [tag for _, _, tag in log]
        assert set(seen) <= {first, second}
        assert first not in seen[seen.index(second):] if second in seen else True
    assert {r[2] for r in results if r[0] > switched} == {second}
    assert {r[2] for r in results if r[0] < started} == {first}
    assert not group_alive(old_pid)  # the standby was drained and stopped after verify
    assert httpx.get(deployer.url + "/-/deployments", trust_env=False).json()["category"]["standby"] is None


def test_refused_candidates_leave_the_live_model_serving(deployer, tags):
    first, second, _ = tags
    seen = []

    def failing_gate(candidate, client):
        seen.append(candidate)
        assert client("/category", BODY)["model_tag"] == first  # the gate reaches the candidate itself
        raise RuntimeError("3 of 32 golden cases differ")

    with pytest.raises(DeployError, match="failed its gate.*golden cases differ"):
        deployer.deploy("category", None, first, failing_gate)
    assert not group_alive(deployer.pids()[seen[0].endpoint])
    assert answer(deployer.url)["model_tag"] == second and deployer.current("category").model_tag == second

    with pytest.raises(DeployError, match=r"exited with 3 \(the model is not in the model store\)"
                                          r"(?s:.*)no model zeta-category:missing"):
        deployer.deploy("category", None, "zeta-category:missing", golden_gate)
    assert answer(deployer.url)["model_tag"] == second
    assert all(not group_alive(pid) for endpoint, pid in deployer.pids().items()
               if endpoint != deployer.current("category").endpoint
               and endpoint != deployer.current("tag").endpoint)


def test_failed_verify_rolls_back_to_the_warm_standby(deployer, tags):
    first, second, _ = tags
    candidate = deployer.deploy("category", None, first, golden_gate)
    assert answer(deployer.url)["model_tag"] == first
    assert httpx.get(deployer.url + "/-/deployments", trust_env=False).json()["category"]["standby"][
        "model_tag"] == second

    def failing_check(live, client):
        raise DeployError("error rate 12% after the switch")

    with pytest.raises(DeployError, match="failed verification: error rate"):
        deployer.verify("category", failing_check)
    back = deployer.rollback("category")
    assert back is not None and back.model_tag == second
    assert answer(deployer.url)["model_tag"] == second
    assert not group_alive(deployer.pids()[candidate.endpoint])
    assert deployer.rollback("category") == back  # nothing left to go back to: the live one keeps serving


def assert_metrics_count_requests(url: str, at_least: dict[str, int]) -> None:
    """/metrics parses as one Prometheus exposition whose request counts per model are at least these."""
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(url + "/metrics", trust_env=False).text
    counts: dict[str, float] = {}
    names = set()
    for family in text_string_to_metric_families(text):  # raises on an invalid exposition
        assert family.name not in names  # each family once, whatever the number of backends
        names.add(family.name)
        if family.name.endswith("request") and family.type == "counter":
            for sample in family.samples:
                if sample.name.endswith("_total") and sample.labels.get("endpoint", "").startswith("/"):
                    tag = sample.labels["zeta_model_tag"]
                    counts[tag] = counts.get(tag, 0) + sample.value
    assert all(counts.get(tag, 0) >= n for tag, n in at_least.items()), counts


def test_metrics_survive_a_second_backend_start(deployer, tags):
    """Each backend keeps its own multiprocess metrics folder: a later start wipes nobody's counts."""
    _, second, tag_model = tags
    for _ in range(4):
        answer(deployer.url, "/tags", {"name": BODY["name"], "description": ""})
    deployer.deploy("category", None, second, golden_gate)  # a new backend process starts
    deployer.verify("category", golden_gate)
    answer(deployer.url)
    assert_metrics_count_requests(deployer.url, {tag_model: 5, second: 1})


def test_api_ui_loads_its_static_files_and_the_document_is_named(deployer):
    import re

    from zeta_serving import __version__

    page = httpx.get(deployer.url + "/", trust_env=False)
    assert page.status_code == 200 and "html" in page.headers["content-type"]
    assets = set(re.findall(r'(?:src|href)="(/?[^"#?]+\.(?:js|css))"', page.text))
    assert assets, page.text[:500]
    for asset in assets:
        path = asset if asset.startswith("/") else "/" + asset
        assert httpx.get(deployer.url + path, trust_env=False).status_code == 200, path
    info = httpx.get(deployer.url + "/docs.json", trust_env=False).json()["info"]
    assert info["title"] == "zeta-serving" and info["version"] == __version__


def test_another_process_deploys_through_the_running_front(deployer, tags):
    """What `zeta maintain --once` beside `zeta up` does: the running front switches, not a private copy."""
    import os
    import subprocess
    import sys

    first, second, _ = tags
    live = deployer.current("category").model_tag
    target = first if live == second else second
    script = ("from zeta_serving.maintenance.config import load_config; "
              "from zeta_serving.maintenance.runtime import make_deployer; "
              f"d = make_deployer('local', load_config(None, port={deployer.port}), attach_only=True); "
              f"print(type(d).__name__, d.deploy('category', None, '{target}', None).model_tag); "
              "d.verify('category', lambda live, client: None)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600,
                          env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["LocalRemote", target]
    assert answer(deployer.url)["model_tag"] == target
    assert deployer.current("category").model_tag == target
    refused = httpx.post(deployer.url + "/-/deploy", json={"task": "category", "model_tag": first},
                         trust_env=False)
    assert refused.status_code == 403  # without the published token nobody deploys


def test_the_live_score_is_measured_on_what_serves(deployer, tags, trained_store):
    """Evaluation rows go through the live backend's batch route; a serving-side difference shows."""
    from zeta_serving.maintenance.served import live_parts

    store, _ = trained_store
    first, second, _ = tags
    span = store.time_range()
    rows = store.window(span[1] - pd.Timedelta(days=2), span[1] + pd.Timedelta(seconds=1), labelled="category")
    estimator = registry.load(first)[0]
    deployer.deploy("category", None, first, golden_gate)
    deployer.verify("category", golden_gate)
    how, parts = live_parts(deployer, "category", estimator, rows)
    assert how == "served" and len(parts) == len(estimator.labelled(rows)) > 300
    assert estimator.aggregate(parts) == pytest.approx(estimator.score(rows), abs=1e-9)  # faithful serving
    assert live_parts(deployer, "category", estimator, rows, offline=True)[0] == "offline"
    # What serves is not what the ledger's pickle says (another model, or other code under it):
    deployer.deploy("category", None, second, golden_gate)
    deployer.verify("category", golden_gate)
    how, parts = live_parts(deployer, "category", estimator, rows)
    assert how == "served" and not np.array_equal(parts, estimator.score_parts(rows))
    assert estimator.aggregate(parts) == pytest.approx(registry.load(second)[0].score(rows), abs=1e-9)


def test_stop_leaves_no_process_behind(deployer):
    pids = deployer.pids()
    assert len(pids) >= 5 and any(group_alive(pid) for pid in pids.values())
    deployer.stop()
    assert {pid: group_alive(pid) for pid in pids.values() if group_alive(pid)} == {}
    with pytest.raises(httpx.ConnectError):
        httpx.get(deployer.url + "/healthz", timeout=2, trust_env=False)
