"""Every bento gates itself: ready only once its golden cases answer inside it as at training time."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests import servers
from zeta_serving import registry, tasks
from zeta_serving.serving import selfcheck


@pytest.mark.parametrize("task", tasks.names())
def test_the_trained_model_passes_its_own_cases(trained_store, task):
    _, results = trained_store
    tag = results[task].saved.tag
    ref = registry.get(tag)
    result = selfcheck.for_stored_model(tasks.get(task), ref, registry.load_ref(ref))
    assert result.passed and result.cases == len(registry.load_golden(ref)) > 0, result.detail


def test_a_model_that_answers_differently_is_not_ready(trained_store):
    _, results = trained_store
    tag = results["category"].saved.tag
    ref = registry.get(tag)
    cases = registry.load_golden(ref)
    # The same inputs recorded with another model's answers: what a changed tokenizer or feature code looks like.
    shifted = [dict(c, output=cases[(i + 1) % len(cases)]["output"]) for i, c in enumerate(cases)]
    result = selfcheck.run(tasks.get("category"), registry.load_ref(ref), tag, shifted)
    assert not result.passed and "golden cases differ" in result.detail


def test_no_cases_is_not_ready(trained_store):
    _, results = trained_store
    tag = results["tag"].saved.tag
    result = selfcheck.run(tasks.get("tag"), registry.load(tag)[0], tag, [])
    assert not result.passed and "no golden cases" in result.detail


@pytest.mark.e2e
def test_a_served_bento_with_failing_cases_stays_alive_and_unready(trained_store, forget_new_models, tmp_path):
    _, results = trained_store
    source = registry.get(results["price"].saved.tag)
    model = registry.load_ref(source)
    metadata = {k: v for k, v in source.info.metadata.items()
                if k not in ("task", "metric", "greater_is_better", "package_version", "trained_at", "params",
                             "tokenizer_fingerprint")}
    copy = registry.save(model, metadata=metadata)
    cases = registry.load_golden(source)
    tampered = [dict(c, output=dict(c["output"], price=c["output"]["price"] * 2 + 1000)) for c in cases]
    with open(registry.get(copy.tag).path_of(registry.GOLDEN_FILE), "w", encoding="utf-8") as fh:
        json.dump(tampered, fh, ensure_ascii=False)
    log = tmp_path / "serve.log"
    port = servers.free_port()
    proc = servers.start("services.price.service:PriceService", port, {"ZETA_PRICE_MODEL": copy.tag}, log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "golden self-check" not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")[-2000:]
            time.sleep(0.5)
        assert "failed its golden self-check" in log.read_text(errors="replace")
        for _ in range(6):  # alive (no restart loop), never ready
            assert httpx.get(f"{url}/livez", timeout=5).status_code == 200
            assert httpx.get(f"{url}/readyz", timeout=5).status_code == 503
            time.sleep(0.5)
    finally:
        servers.stop(proc)
