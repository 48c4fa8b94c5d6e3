"""The maintenance loop's decisions and its failure paths, on the real store, ledger, lease and build.

The scenario tests replay synthetic histories through the real loop (the same
code as `zeta backtest`). The failure tests force a drop by crowning the
champion with a reference it cannot meet, then break one stage each.
"""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.cli import run_cli
from zeta_serving import registry, tasks
from zeta_serving.maintenance import backtest
from zeta_serving.maintenance.alerts import Alert, MultiSink, WebhookSink
from zeta_serving.maintenance.builder import BentoBuilder
from zeta_serving.maintenance.clock import FixedClock
from zeta_serving.maintenance.config import load_config
from zeta_serving.maintenance.inprocess import InProcessDeployer
from zeta_serving.maintenance.ledger import Champion, Ledger
from zeta_serving.maintenance.loop import Maintainer
from zeta_serving.maintenance.schedule import build_scheduler, next_runs
from zeta_serving.store import ListingStore, make_engine
from zeta_serving.tokenizer import clear_caches

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("forget_module_models")
PLAN = backtest.Plan(start=date(2026, 2, 1), warmup_days=12, days=9, drift_after=3, rows_per_day=400)
MODELS = tasks.names()


class RecordingSink:
    name = "recording"

    def __init__(self):
        self.alerts: list[Alert] = []

    def send(self, alert: Alert) -> bool:
        self.alerts.append(alert)
        return True


class Hook:
    """A real HTTP server on loopback that records the JSON bodies posted to it."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T0/B0/secret"

    def close(self):
        self.server.shutdown()


def decisions_after_drift(result: dict, model: str) -> list[str]:
    return [d[model] for d in result["days"] if d["drift"]]


def decisions_before_drift(result: dict, model: str) -> list[str]:
    return [d[model] for d in result["days"] if not d["drift"]]


# -- scenarios (the backtest's own code) ---------------------------------------------------------

@pytest.mark.slow
def test_no_drift_keeps_every_model_healthy(tmp_path):
    result = backtest.run_scenario("none", PLAN, f"sqlite:///{tmp_path / 'none.db'}", alerts=RecordingSink())
    for model in MODELS:
        decisions = [d[model] for d in result["days"]]
        assert decisions == ["healthy"] * PLAN.days, (model, decisions)
    summary = {s["model"]: s for s in backtest.summarise(result)}
    assert all(s["false_alarms"] == 0 for s in summary.values())


@pytest.mark.slow
def test_vocabulary_drift_gets_category_tag_and_brand_promoted_and_recovered(tmp_path):
    db = tmp_path / "vocab.db"
    result = backtest.run_scenario("vocab", PLAN, f"sqlite:///{db}", alerts=RecordingSink())
    ledger = Ledger(make_engine(f"sqlite:///{db}"))
    for model in ("category", "tag", "brand"):
        assert all(d == "healthy" for d in decisions_before_drift(result, model))
        after = decisions_after_drift(result, model)
        promoted_at = next(i for i, d in enumerate(after) if d in ("promoted", "promoted-degraded"))
        assert promoted_at <= 3, (model, after)
        runs = ledger.history(model)
        drifted = runs[runs["now"].dt.date > PLAN.drift_day]
        trough = drifted["live_score"].min()
        assert drifted["live_score"].iloc[-1] > trough + 0.05, (model, after)  # the live score recovered
        assert ledger.champion(model).tag != runs.iloc[0]["champion_tag"]


@pytest.mark.slow
def test_price_level_shift_gets_price_promoted(tmp_path):
    result = backtest.run_scenario("price", PLAN, f"sqlite:///{tmp_path / 'price.db'}", alerts=RecordingSink())
    after = decisions_after_drift(result, "price")
    assert any(d in ("promoted", "promoted-degraded") for d in after), after
    assert all(d == "healthy" for d in decisions_before_drift(result, "price"))
    for model in ("category", "brand"):  # prices only
        assert all(d == "healthy" for d in [x[model] for x in result["days"]]), model


@pytest.mark.slow
def test_label_noise_is_not_recovered_and_alerts_the_webhook(tmp_path):
    hook = Hook()
    try:
        sink = MultiSink([WebhookSink(hook.url, timeout=2.0, retries=2)])
        result = backtest.run_scenario("noise", PLAN, f"sqlite:///{tmp_path / 'noise.db'}", alerts=sink)
    finally:
        hook.close()
    for model in ("category", "tag"):
        after = decisions_after_drift(result, model)
        assert "not-recovered" in after and not {"promoted", "promoted-degraded"} & set(after), (model, after)
    delivered = [body["zeta"] for body in hook.received]
    assert any(a["decision"] == "not-recovered" and a["model"] == "category" for a in delivered)
    assert all("secret" not in json.dumps(body) for body in hook.received)


# -- failure paths -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """14 days of listings and three champions trained on the first 12 (shared, copied per test)."""
    from zeta_serving import synth
    from zeta_serving.trainer import train_task

    folder = tmp_path_factory.mktemp("history")
    store = ListingStore(f"sqlite:///{folder / 'base.db'}")
    for offset in range(14):
        store.insert(synth.generate_day(date(2026, 2, 1) + timedelta(days=offset), 300, seed=3))
    until = datetime(2026, 2, 13, tzinfo=timezone.utc)
    tags = {m: train_task(store, m, until=until, train_days=10, eval_days=2).saved.tag for m in MODELS}
    # A champion trained on one day: any challenger trained on ten is significantly better.
    weak = train_task(store, "category", until=until, train_days=1, eval_days=2).saved.tag
    store.engine.dispose()
    return folder / "base.db", tags, weak


def make(history, tmp_path, *, reference: dict | None = None, builder=None, alerts=None, replica="test",
         weak: bool = False):
    db, tags, weak_tag = history
    tags = {**tags, "category": weak_tag} if weak else tags
    copy = tmp_path / "zeta.db"
    if not copy.exists():
        shutil.copy(db, copy)
    store = ListingStore(f"sqlite:///{copy}")
    ledger = Ledger(store.engine)
    clock = FixedClock(datetime(2026, 2, 15, tzinfo=timezone.utc))
    for model, tag in tags.items():
        ref = (reference or {}).get(model, registry.describe(registry.get(tag)).reference_score)
        ledger.crown(Champion(model, tag, ref, clock.now()))
    base = load_config(None)
    config = replace(base, policies={m: replace(p, eval_days=2, train_days=10, min_rows=100, bootstrap=300)
                                     for m, p in base.policies.items()})
    return Maintainer(store=store, ledger=ledger, deployer=InProcessDeployer(clock),
                      builder=builder or BentoBuilder(), alerts=alerts or RecordingSink(), clock=clock,
                      config=config, replica=replica)


IMPOSSIBLE = {"category": 0.99}  # a reference no model meets here: forces the retrain path
PROMOTABLE = dict(reference=IMPOSSIBLE, weak=True)  # ... and a challenger that beats the champion


def assert_failed_and_champion_serves(result, maintainer, stage: str):
    champion = maintainer.ledger.champion("category")
    assert result.decision == "failed" and result.failed_stage == stage, result
    assert maintainer.deployer.current("category").model_tag == champion.tag
    run = maintainer.ledger.history("category").iloc[-1]
    assert run["decision"] == "failed" and run["failed_stage"] == stage and run["error"]
    assert run["serving_tag"] == champion.tag and bool(run["alerted"])
    assert maintainer.alerts.alerts[-1].decision == "failed"


def test_healthy_cycle_records_scores_windows_and_unseen_rate(history, tmp_path):
    maintainer = make(history, tmp_path)
    result = maintainer.run("category")
    assert result.decision == "healthy", result
    run = maintainer.ledger.history("category").iloc[-1]
    assert run["live_low"] <= run["live_score"] <= run["live_high"]
    assert run["eval_rows"] == 600 and run["eval_end"] == datetime(2026, 2, 15, tzinfo=timezone.utc)
    assert 0 <= run["unseen_rate"] < 0.5 and run["unseen_rate_train"] is not None
    stages = maintainer.ledger.stages_of(int(run["id"]))
    assert list(stages["stage"]) == ["champion", "evaluate"] and stages["ok"].all()


def test_too_few_rows_is_skipped(history, tmp_path):
    maintainer = make(history, tmp_path)
    maintainer.clock.set(datetime(2026, 3, 30, tzinfo=timezone.utc))  # no listings that late
    assert maintainer.run("price").decision == "skipped"


def test_training_exception_fails_and_keeps_the_champion(history, tmp_path, monkeypatch):
    maintainer = make(history, tmp_path, reference=IMPOSSIBLE)
    from training.category import CategoryModel

    def broken_fit(self, frame):
        raise MemoryError("simulated: the training node ran out of memory")

    monkeypatch.setattr(CategoryModel, "fit", broken_fit)
    assert_failed_and_champion_serves(maintainer.run("category"), maintainer, "retrain")


def test_database_outage_mid_cycle_fails_and_keeps_the_champion(history, tmp_path, monkeypatch):
    maintainer = make(history, tmp_path, reference=IMPOSSIBLE)
    real_window = maintainer.store.window
    calls = []

    def window_then_outage(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # evaluate read two windows; the retrain's read finds the database gone
            maintainer.store.engine = make_engine("postgresql+psycopg://zeta:hunter2@127.0.0.1:1/gone")
        return real_window(*args, **kwargs)

    monkeypatch.setattr(maintainer.store, "window", window_then_outage)
    result = maintainer.run("category")
    assert_failed_and_champion_serves(result, maintainer, "retrain")
    assert "hunter2" not in (maintainer.ledger.history("category").iloc[-1]["error"] or "")


def test_total_database_outage_changes_nothing_and_still_alerts(history, tmp_path):
    maintainer = make(history, tmp_path)
    maintainer.ledger.engine = make_engine("sqlite:////nonexistent-dir/zeta.db")
    result = maintainer.run("price")
    assert result.decision == "failed" and result.failed_stage == "ledger"
    assert maintainer.alerts.alerts[-1].decision == "failed"


def test_failing_bento_build_fails_and_keeps_the_champion(history, tmp_path):
    broken = tmp_path / "checkout"
    shutil.copytree(ROOT, broken, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", ".zeta", "bench"))
    (broken / "services/category/bentofile.yaml").write_text('service: "services.category.service:NoSuchService"\n')
    maintainer = make(history, tmp_path, **PROMOTABLE, builder=BentoBuilder(root=broken))
    assert_failed_and_champion_serves(maintainer.run("category"), maintainer, "build")


class SkipBuild:
    """Build nothing: for failure tests that are about what happens after the build."""

    def __init__(self, after=lambda: None):
        self.after = after

    def build(self, task, model_tag):
        self.after()
        return f"zeta-{task}:unbuilt"

    def containerize(self, bento_tag):
        return None


def test_bento_that_fails_its_golden_cases_never_takes_traffic(history, tmp_path, monkeypatch, request):
    import zeta_serving.tokenizer as tokenizer

    request.addfinalizer(clear_caches)  # after monkeypatch's undo: no poisoned cache entries

    # The shared code in the new bento changed: the tokenizer now drops Latin letters and digits.
    def changed_shared_code():
        original = tokenizer.normalize
        monkeypatch.setattr(tokenizer, "normalize", lambda text: "".join(c for c in original(text) if not c.isascii()))
        clear_caches()

    maintainer = make(history, tmp_path, **PROMOTABLE, builder=SkipBuild(after=changed_shared_code))
    result = maintainer.run("category")
    assert_failed_and_champion_serves(result, maintainer, "deploy")
    assert "golden cases differ" in maintainer.ledger.history("category").iloc[-1]["error"]


def test_live_check_failure_rolls_back(history, tmp_path, monkeypatch):
    maintainer = make(history, tmp_path, **PROMOTABLE, builder=SkipBuild())
    deployer = maintainer.deployer
    real_verify = deployer.verify

    def verify_fails(task, check):
        def failing(deployment, client):
            raise RuntimeError("smoke test: /category answered 500")

        return real_verify(task, failing)

    monkeypatch.setattr(deployer, "verify", verify_fails)
    result = maintainer.run("category")
    assert_failed_and_champion_serves(result, maintainer, "verify")


def test_two_replicas_never_both_act(history, tmp_path):
    first = make(history, tmp_path, reference=IMPOSSIBLE, builder=SkipBuild(), replica="replica-a")
    second = make(history, tmp_path, reference=IMPOSSIBLE, builder=SkipBuild(), replica="replica-b")
    results = {}
    barrier = threading.Barrier(2)

    def go(name, maintainer):
        barrier.wait()
        results[name] = maintainer.run("category")

    threads = [threading.Thread(target=go, args=(n, m)) for n, m in (("a", first), ("b", second))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    decisions = sorted(r.decision for r in results.values())
    assert decisions.count("skipped") == 1, decisions
    skipped = next(r for r in results.values() if r.decision == "skipped")
    assert "lease held by replica-" in skipped.summary
    retrains = first.ledger.history("category")
    assert (retrains["challenger_tag"].notna()).sum() <= 1


def test_promotion_records_build_and_new_reference(history, tmp_path):
    maintainer = make(history, tmp_path, **PROMOTABLE)
    result = maintainer.run("category")
    # The reference is out of reach, so the better challenger is promoted but degraded.
    assert result.decision == "promoted-degraded", result
    if True:
        run = maintainer.ledger.history("category").iloc[-1]
        champion = maintainer.ledger.champion("category")
        assert champion.tag == run["challenger_tag"] == maintainer.deployer.current("category").model_tag
        assert run["bento_tag"].startswith("zeta-category:")
        assert champion.reference_score == run["reference_score"] == 0.99  # degraded: the standard stays
        stages = list(maintainer.ledger.stages_of(int(run["id"]))["stage"])
        assert stages == ["champion", "evaluate", "retrain", "compare", "build", "deploy", "verify"]
        assert maintainer.alerts.alerts[-1].decision == "promoted-degraded"


# -- schedule and config -------------------------------------------------------------------------

def test_next_runs_follow_the_injected_clock():
    config = load_config(None)
    now = datetime(2026, 5, 1, 5, 59, tzinfo=timezone.utc)
    assert {m: t.isoformat() for m, t in next_runs(config, now).items()} == {
        m: "2026-05-01T06:00:00+00:00" for m in MODELS}
    later = datetime(2026, 5, 1, 6, 0, 1, tzinfo=timezone.utc)
    assert next_runs(config, later)["price"].isoformat() == "2026-05-02T06:00:00+00:00"


def test_scheduler_has_one_cycle_and_one_early_warning_job_per_model():
    scheduler = build_scheduler(object.__new__(Maintainer), load_config(None), background=True)
    assert sorted(j.id for j in scheduler.get_jobs()) == sorted(
        [f"cycle-{m}" for m in MODELS] + [f"early-warning-{m}" for m in MODELS] + ["golden-watch"])


def test_config_file_overrides_and_errors(tmp_path):
    good = tmp_path / "zeta.toml"
    good.write_text('[maintenance]\ntolerance = 0.05\n[maintenance.models.price]\nschedule = "30 2 * * 1"\n')
    config = load_config(str(good))
    assert config.policy("price").schedule == "30 2 * * 1" and config.policy("tag").tolerance == 0.05
    from zeta_serving.errors import ZetaError

    for text, message in [('[maintenance]\nschedule = "every day"\n', "schedule = 'every day': not a cron expression"),
                          ("[maintenance]\nconfidence = 2\n", "confidence = 2: Input should be less than 1"),
                          ("[maintenance]\ncolour = 1\n", "unknown key 'colour'"),
                          ("[maintenance.models.shoes]\ntolerance = 1\n", r"unknown model \[maintenance.models.shoes\]")]:
        good.write_text(text)
        with pytest.raises(ZetaError, match=message):
            load_config(str(good))


# -- the command line ----------------------------------------------------------------------------

def test_cli_once_status_and_history(history, tmp_path, capsys, monkeypatch):
    maintainer = make(history, tmp_path)  # crowns the champions in the copied database
    url = str(maintainer.store.url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "zeta.toml").write_text("[maintenance]\neval_days = 2\ntrain_days = 10\nmin_rows = 100\n"
                                        "bootstrap = 200\n")
    # Nothing serves for this checkout: --once with the (default) local deployer says so, in one line.
    code, out, err = run_cli(["--db", url, "maintain", "--once", "--now", "2026-02-15T00:00:00"], capsys)
    assert code == 1 and "no local deployment answers on port 3000" in err and len(err.strip().splitlines()) == 1
    code, out, err = run_cli(["--db", url, "maintain", "--once", "--deployer", "inprocess",
                              "--now", "2026-02-15T00:00:00", "--json"], capsys)
    assert code == 0, err
    results = json.loads(out)
    assert [r["model"] for r in results] == list(MODELS) and {r["decision"] for r in results} == {"healthy"}
    code, out, _ = run_cli(["--db", url, "status"], capsys)
    assert code == 0 and "healthy" in out and "zeta-category:" in out
    code, out, _ = run_cli(["--db", url, "status", "--json"], capsys)
    rows = {r["model"]: r for r in json.loads(out)}
    assert rows["tag"]["last_decision"] == "healthy" and rows["tag"]["live"] > 0.5
    # The configured (local) deployer runs nothing here: status says so next to the champion.
    assert rows["tag"]["deployer"] == "local" and rows["tag"]["deployed"] is None
    assert rows["tag"]["deployed_note"] == "nothing serves"
    code, out, _ = run_cli(["--db", url, "history", "price", "--json"], capsys)
    runs = json.loads(out)
    assert runs[-1]["decision"] == "healthy" and runs[-1]["trigger"] == "once"
    assert runs[-1]["details"]["deployer"] == "inprocess" and runs[-1]["details"]["scored_on"] == "offline"
    code, out, _ = run_cli(["--db", url, "history", "price"], capsys)
    assert "2026-02-15 00:00" in out and "healthy" in out


def test_cli_once_exits_non_zero_when_a_cycle_fails(history, tmp_path, capsys, monkeypatch):
    maintainer = make(history, tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "zeta.toml").write_text("[maintenance]\neval_days = 2\nmin_rows = 100\nbootstrap = 200\n")
    broken = str(maintainer.store.url)
    from zeta_serving import registry as reg

    monkeypatch.setattr(reg, "load", lambda tag: (_ for _ in ()).throw(OSError("model file is corrupt")))
    code, out, err = run_cli(["--db", broken, "maintain", "--once", "--deployer", "inprocess", "--model", "price",
                              "--now", "2026-02-15"], capsys)
    assert code == 3 and "failed" in out and "model file is corrupt" in out and "Traceback" not in err


def test_cli_bad_now_and_bad_config_are_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(["maintain", "--once", "--now", "yesterday-ish"], capsys)
    assert code == 1 and "not a date or time" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "zeta.toml").write_text("[maintenance\n")
    code, _, err = run_cli(["status"], capsys)
    assert code == 2 and "not valid TOML" in err


@pytest.mark.parametrize("text, named", [
    ('[maintenance]\ntolerance = "high"\n', "[maintenance]: tolerance = 'high': Input should be a valid number"),
    ("[maintenance]\nlease_seconds = -1\n", "[maintenance]: lease_seconds = -1: Input should be greater than 0"),
    ("[maintenance]\nbootstrap = 100.7\n", "[maintenance]: bootstrap = 100.7: Input should be a valid integer"),
    ("[maintenance]\ntolerance = inf\n", "[maintenance]: tolerance = inf: Input should be a finite number"),
    ("[maintenanse]\ntolerance = 0.1\n", "unknown section [maintenanse] (did you mean 'maintenance'?)"),
    ("[maintenance.models.price]\ntolerence = 0.1\n", "[maintenance.models.price]: unknown key 'tolerence' "
                                                       "(did you mean 'tolerance'?)"),
    ('[maintenance]\nschedule = "61 * * * *"\n', "schedule = '61 * * * *': not a cron expression"),
    ("[maintenance]\nmin_rows = 500\nmax_eval_rows = 100\n", "max_eval_rows (100) must be >= min_rows (500)"),
    ("[maintenance]\nmodels = 3\n", "models must be a table"),
])
def test_config_errors_are_one_line_naming_the_key_and_exit_2_before_anything_runs(text, named, tmp_path, capsys,
                                                                                     monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "zeta.toml").write_text(text)
    db = tmp_path / "untouched.db"
    for args in (["status"], ["maintain", "--once"], ["up", "--no-serve"]):
        code, out, err = run_cli(["--db", f"sqlite:///{db}", *args], capsys)
        assert code == 2, (args, err)
        assert err.startswith("zeta: error: ") and named in err and len(err.strip().splitlines()) == 1, err
        assert not db.exists()  # nothing ran: not even the database was opened


def test_unseen_token_jump_triggers_a_cycle_outside_the_schedule(history, tmp_path):
    from zeta_serving import synth

    maintainer = make(history, tmp_path)
    assert maintainer.early_warning("category") is None  # same vocabulary as at training: nothing to do
    day = date(2026, 2, 15)
    maintainer.store.insert(synth.generate_day(day, 300, seed=3, drift=synth.Drift(vocab_from=day)))
    maintainer.clock.set(datetime(2026, 2, 16, tzinfo=timezone.utc))
    result = maintainer.early_warning("category")
    assert result is not None, "a vocabulary jump should start a cycle"
    run = maintainer.ledger.history("category").iloc[-1]
    assert run["trigger"] == "early-warning" and run["unseen_rate"] > run["unseen_rate_train"] + 0.05
    assert maintainer.early_warning("category") is None  # one early cycle a day at most
