"""A fifth task registered by the test suite alone is trained, configured, gated and served end to end."""

from __future__ import annotations

import importlib
import sys

import httpx
import pytest

from tests.servers import serving
from zeta_serving import registry, tasks
from zeta_serving.maintenance import golden
from zeta_serving.maintenance.config import load_config
from zeta_serving.trainer import train_task


@pytest.fixture
def fifth_task(forget_new_models):
    sys.modules.pop("tests.fifth_task", None)
    module = importlib.import_module("tests.fifth_task")
    try:
        yield module.TASK
    finally:
        tasks.unregister("median")


def test_a_registered_task_is_trained_configured_and_served_by_bentoml(fifth_task, trained_store, tmp_path):
    store, _ = trained_store
    assert "median" in tasks.names() and tasks.by_route("/median/batch") is fifth_task
    assert fifth_task.metric == "abs_log_error" and fifth_task.greater_is_better is False  # from the estimator
    assert load_config(None).policy("median").tolerance == 0.2  # the task's default policy
    trained = train_task(store, "median", train_days=9, eval_days=3)
    assert trained.saved.task == "median" and trained.saved.tag.startswith("zeta-median:")
    assert registry.list_models("median")[0].tag == trained.saved.tag
    cases = registry.load_golden(registry.get(trained.saved.tag))

    with serving("tests.fifth_service:MedianService", env={fifth_task.model_env: trained.saved.tag},
                 log=tmp_path / "median.log") as url:
        one = httpx.post(f"{url}/median", json={"name": "ルイヴィトン 長財布"}).json()
        assert one == {"price": trained.model.predict(store.window("2026-01-01", "2027-01-01").head(1))[0]["price"],
                       "model_tag": trained.saved.tag}
        batch = httpx.post(f"{url}/median/batch", json={"listings": [{"name": "a"}, {"name": "b"}]}).json()
        assert batch["model_tag"] == trained.saved.tag and len(batch["results"]) == 2
        bad = httpx.post(f"{url}/median", json={"name": "x", "colour": "red"})
        assert bad.status_code == 400 and "colour" in bad.text

        def client(route, body):
            return httpx.post(url + route, json=body).raise_for_status().json()

        assert golden.check("median", cases, client) == len(cases)  # the deploy gate, over HTTP

    tasks.unregister("median")
    assert "median" not in tasks.names()


def test_the_public_face_is_what_a_team_needs_to_add_a_task_or_a_deployer():
    import zeta_serving
    from training.base import SuggestionModel
    from zeta_serving.maintenance.alerts import AlertSink
    from zeta_serving.maintenance.deployers import Deployer

    assert set(zeta_serving.__all__) == {
        "__version__", "Task", "register", "get_task", "all_tasks", "SuggestionModel", "Deployer", "Deployment",
        "DeployError", "Client", "AlertSink", "Alert", "Clock", "Builder", "Store"}
    assert zeta_serving.Task is tasks.Task and zeta_serving.register is tasks.register
    assert zeta_serving.SuggestionModel is SuggestionModel and zeta_serving.Deployer is Deployer
    assert zeta_serving.AlertSink is AlertSink and zeta_serving.get_task("price").name == "price"
    with pytest.raises(AttributeError):
        zeta_serving.LocalDeployer  # noqa: B018 - internal, not part of the face


def test_a_service_worker_freezes_its_models_and_drops_per_call_overheads(fifth_task, trained_store, monkeypatch):
    """A full GC pass over four loaded models took 100-250 ms, the p99 of the single routes (routes.py);
    BentoML rebuilt each route's wrapper (inspect.signature) on every request (routes._bind_routes_once);
    scikit-learn's per-call input checks were a tenth of a one-listing suggestion (runtime.fast_sklearn), and
    OpenBLAS threads spun in every worker process (runtime.one_blas_thread)."""
    import gc

    import sklearn
    from threadpoolctl import threadpool_info, threadpool_limits

    store, _ = trained_store
    trained = train_task(store, "median", train_days=9, eval_days=3)
    monkeypatch.setenv(fifth_task.model_env, trained.saved.tag)
    sys.modules.pop("tests.fifth_service", None)
    service = importlib.import_module("tests.fifth_service").MedianService
    gc.unfreeze()
    blas_threads = max(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")
    try:
        instance = service.inner()  # what each `bentoml serve` worker does at start-up
        assert instance.models["median"] is not None
        # BentoML's per-request lookup of the route's function is bound once, not rebuilt each time
        route = fifth_task.method
        assert getattr(instance, route) is getattr(instance, route)
        assert getattr(instance, route).local is getattr(instance, route)
        assert gc.get_freeze_count() > 10_000  # the model and everything loaded with it
        assert sklearn.get_config()["skip_parameter_validation"] and sklearn.get_config()["assume_finite"]
        assert {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"} == {1}
    finally:
        gc.unfreeze()
        sklearn.set_config(skip_parameter_validation=False, assume_finite=False)
        threadpool_limits(limits=blas_threads, user_api="blas")
        sys.modules.pop("tests.fifth_service", None)
