"""The golden watch: a change in shared code under live models alerts for each model it changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from zeta_serving.maintenance.alerts import Alert
from zeta_serving.maintenance.inprocess import InProcessDeployer
from zeta_serving.maintenance.ledger import Ledger, Run
from zeta_serving.maintenance.schedule import build_scheduler
from zeta_serving.maintenance.watch import GOLDEN_MISMATCH, replay_live
from zeta_serving.store import ListingStore
from zeta_serving.tokenizer import Tokenizer

NOW = datetime(2026, 2, 1, 6, tzinfo=timezone.utc)


class Recording:
    name = "recording"

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> bool:
        self.alerts.append(alert)
        return True


def test_a_shared_code_change_alerts_for_the_models_it_changes(trained_store, tmp_path, monkeypatch):
    _, results = trained_store
    ledger = Ledger(ListingStore(f"sqlite:///{tmp_path / 'ledger.db'}").engine)
    deployer, sink = InProcessDeployer(), Recording()
    for task, result in results.items():
        deployer.deploy(task, None, result.saved.tag, gate=lambda deployment, client: None)

    assert replay_live(deployer, ledger, sink, NOW) == [] and sink.alerts == []  # all answer as recorded

    # Someone deploys price; the same release changed the shared text normalisation.
    run = ledger.start(Run("price", NOW - timedelta(hours=2), "replica-a", "schedule"))
    run.set(decision="promoted", serving_tag=results["price"].saved.tag)
    ledger.finish(run)
    tokenize, tokenize_many = Tokenizer.tokenize, Tokenizer.tokenize_many
    monkeypatch.setattr(Tokenizer, "tokenize", lambda self, text: tokenize(self, text[::-1]))
    monkeypatch.setattr(Tokenizer, "tokenize_many",
                        lambda self, texts: tokenize_many(self, [t[::-1] for t in texts]))

    found = replay_live(deployer, ledger, sink, NOW, skip=("price",))
    changed = {m.model for m in found}
    assert "category" in changed and "price" not in changed  # the deployed model itself was just verified
    alert = next(a for a in sink.alerts if a.model == "category")
    assert alert.decision == GOLDEN_MISMATCH
    assert results["category"].saved.tag in alert.summary and "golden cases differ" in alert.summary
    assert "case " in alert.summary  # the differing cases, by number and name
    assert f"last deploy before it: price {results['price'].saved.tag}" in alert.summary
    assert alert.details["last_deploy"]["id"] == run.id


def test_the_scheduler_replays_golden_cases_hourly(trained_store):
    class Loop:
        def run(self, model, trigger="schedule"): ...
        def early_warning(self, model): ...
        def watch_golden(self, skip=()): ...

    from zeta_serving.maintenance.config import load_config

    scheduler = build_scheduler(Loop(), load_config(None), background=True)
    job = scheduler.get_job("golden-watch")
    assert job is not None and job.trigger.interval == timedelta(hours=1)
