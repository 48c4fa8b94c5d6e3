"""The scheduler keeps its word (catch-up, early warning, --debug stages) and alerts a team can live with
(grouping, reminders, recovered, `zeta accept`, no re-deploy of a degraded model for a small gain)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from tests.test_maintenance import IMPOSSIBLE, SkipBuild, history, make, run_cli  # noqa: F401 - history is a fixture
from zeta_serving.maintenance import backtest
from zeta_serving.maintenance.config import load_config
from zeta_serving.maintenance.ledger import Ledger, Run
from zeta_serving.maintenance.loop import Maintainer
from zeta_serving.maintenance.schedule import build_scheduler, missed_cycles
from zeta_serving.store import ListingStore

pytestmark = pytest.mark.usefixtures("forget_module_models")
UTC = timezone.utc
ZETA = str(Path(sys.executable).parent / "zeta")  # the installed command, in a process of its own


def record(ledger: Ledger, model: str, at: datetime, decision: str = "healthy", trigger: str = "schedule",
           alerted: bool = False) -> int:
    run = ledger.start(Run(model, at, "test", trigger))
    run.set(decision=decision, alerted=alerted)
    ledger.finish(run)
    return run.id


# -- point 6: the scheduler keeps its word --------------------------------------------------------

def test_a_cycle_missed_while_down_is_due_once_from_the_ledger_and_the_cron(tmp_path):
    ledger = Ledger(ListingStore(f"sqlite:///{tmp_path / 'z.db'}").engine)
    config = load_config(None)  # "0 6 * * *"
    now = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)
    assert missed_cycles(config, ledger, now) == {}  # never ran: nothing was missed
    record(ledger, "price", datetime(2026, 5, 1, 6, 0, 2, tzinfo=UTC))  # then down for three mornings
    record(ledger, "category", datetime(2026, 5, 4, 6, 0, 1, tzinfo=UTC))  # ran this morning
    record(ledger, "tag", datetime(2026, 5, 3, 6, 0, tzinfo=UTC))
    record(ledger, "tag", datetime(2026, 5, 4, 6, 30, tzinfo=UTC), trigger="accept-like-noise")  # not a cycle
    missed = missed_cycles(config, ledger, now)
    assert missed == {"price": datetime(2026, 5, 2, 6, 0, tzinfo=UTC), "tag": datetime(2026, 5, 4, 6, 0, tzinfo=UTC)}
    assert missed_cycles(config, ledger, datetime(2026, 5, 4, 5, 59, tzinfo=UTC)) == {
        "price": datetime(2026, 5, 2, 6, 0, tzinfo=UTC)}  # tag's 06:00 is not due yet
    scheduler = build_scheduler(object.__new__(Maintainer), config, background=True, missed=missed)
    catch_up = sorted(j.id for j in scheduler.get_jobs() if j.id.startswith("catch-up-"))
    assert catch_up == ["catch-up-price", "catch-up-tag"]  # one job each, however many mornings were missed


def test_zeta_maintain_runs_the_missed_cycle_at_start_up(history, tmp_path):
    """The real command, the real scheduler: the cycle owed since 2020 runs once as `catch-up`."""
    maintainer = make(history, tmp_path)
    record(maintainer.ledger, "price", datetime(2020, 1, 1, 6, 0, tzinfo=UTC))
    url = str(maintainer.store.url)
    maintainer.store.engine.dispose()
    (tmp_path / "zeta.toml").write_text("[maintenance]\nmin_rows = 100\nbootstrap = 200\nearly_warning_minutes = 0\n")
    proc = subprocess.Popen([ZETA, "--db", url, "maintain", "--model", "price",
                             "--deployer", "inprocess"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ})
    try:
        deadline = time.monotonic() + 120
        runs = None
        while time.monotonic() < deadline:
            runs = maintainer.ledger.history("price")
            if (runs["trigger"] == "catch-up").any() and runs["decision"].notna().all():
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(1)
        time.sleep(2)  # a second catch-up would show up by now
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert (runs["trigger"] == "catch-up").sum() == 1, runs[["now", "trigger", "decision"]]
    assert "price: the cycle due 2020-01-02 06:00 UTC was missed while the loop was down" in err
    assert (maintainer.ledger.history("price")["trigger"] == "catch-up").sum() == 1


def test_debug_shows_each_stage_as_it_starts_and_ends(history, tmp_path):
    maintainer = make(history, tmp_path)
    url = str(maintainer.store.url)
    (tmp_path / "zeta.toml").write_text("[maintenance]\neval_days = 2\nmin_rows = 100\nbootstrap = 200\n")
    done = subprocess.run([ZETA, "--debug", "--db", url, "maintain", "--once", "--deployer", "inprocess",
                           "--model", "price", "--now", "2026-02-15"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if ": stage " in line]
    assert [line.split(": stage ")[1].split(" ")[:2] for line in lines] == [
        ["champion", "started"], ["champion", "ended"], ["evaluate", "started"], ["evaluate", "ended"]], lines
    quiet = subprocess.run([ZETA, "--db", url, "maintain", "--once", "--deployer", "inprocess", "--model",
                            "price", "--now", "2026-02-15"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0 and ": stage " not in quiet.stderr


def test_early_warning_alerts_with_both_rates_at_most_once_a_day(history, tmp_path):
    from zeta_serving import synth

    maintainer = make(history, tmp_path)
    day = date(2026, 2, 15)
    maintainer.store.insert(synth.generate_day(day, 300, seed=3, drift=synth.Drift(vocab_from=day)))
    maintainer.clock.set(datetime(2026, 2, 16, tzinfo=UTC))
    assert maintainer.early_warning("category") is not None
    warnings = [a for a in maintainer.alerts.alerts if a.decision == "early-warning"]
    assert len(warnings) == 1 and warnings[0].model == "category"
    rates = warnings[0].details
    assert rates["unseen_rate"] > rates["unseen_rate_train"] + 0.05
    assert f"{rates['unseen_rate']:.3f}" in warnings[0].summary and f"{rates['unseen_rate_train']:.3f}" in warnings[0].summary
    run = maintainer.ledger.history("category").iloc[-1]
    assert run["trigger"] == "early-warning" and json.loads(run["details"])["early_warning"]["unseen_rate"] == rates["unseen_rate"]
    # A scheduled cycle ran in between (the newest run is not the early one): still one a day.
    record(maintainer.ledger, "category", datetime(2026, 2, 16, 6, 0, tzinfo=UTC))
    maintainer.clock.set(datetime(2026, 2, 16, 7, 0, tzinfo=UTC))
    assert maintainer.early_warning("category") is None
    assert sum(a.decision == "early-warning" for a in maintainer.alerts.alerts) == 1
    day = date(2026, 2, 16)
    maintainer.store.insert(synth.generate_day(day, 300, seed=4, drift=synth.Drift(vocab_from=date(2026, 2, 15))))
    maintainer.clock.set(datetime(2026, 2, 17, 0, 1, tzinfo=UTC))  # a day later the jump is still there
    assert maintainer.early_warning("category") is not None
    assert sum(a.decision == "early-warning" for a in maintainer.alerts.alerts) == 2


# -- point 9: alerts a team can live with ---------------------------------------------------------

def test_repeated_alerts_are_grouped_reminded_daily_and_closed_by_accept(history, tmp_path, capsys):
    maintainer = make(history, tmp_path, reference=IMPOSSIBLE, builder=SkipBuild())
    ledger, sink = maintainer.ledger, maintainer.alerts
    decisions = []
    for at in (datetime(2026, 2, 15, 0, 0, tzinfo=UTC), datetime(2026, 2, 15, 12, 0, tzinfo=UTC),
               datetime(2026, 2, 16, 0, 0, tzinfo=UTC)):
        maintainer.clock.set(at)
        decisions.append(maintainer.run("category").decision)
    assert set(decisions) <= {"not-recovered", "promoted-degraded"}, decisions
    runs = ledger.history("category")
    assert [json.loads(d)["alert"] for d in runs["details"]] == ["first", "grouped", "reminder"]
    assert list(runs["alerted"]) == [True, False, True]
    assert len(sink.alerts) == 2 and "still below reference since 2026-02-15 00:00" in sink.alerts[1].summary

    url = str(maintainer.store.url)
    code, _, err = run_cli(["--db", url, "accept", "category", "--reason", " "], capsys)
    assert code == 2 and "--reason" in err
    code, out, err = run_cli(["--db", url, "accept", "category", "--reason", "new brands are the new normal",
                              "--json"], capsys)
    assert code == 0, err
    accepted = json.loads(out)
    live = float(runs.iloc[-1]["live_score"])
    assert accepted["reference"] == pytest.approx(live) and accepted["previous_reference"] == 0.99
    assert accepted["source"] == "live" and ledger.champion("category").reference_score == pytest.approx(live)

    maintainer.clock.set(datetime(2026, 2, 16, 6, 0, tzinfo=UTC))
    assert maintainer.run("category").decision == "healthy"
    assert [a.decision for a in sink.alerts] == [decisions[0], decisions[2], "recovered"]
    assert "recovered" in sink.alerts[-1].summary and "since 2026-02-15 00:00" in sink.alerts[-1].summary
    maintainer.clock.set(datetime(2026, 2, 17, 6, 0, tzinfo=UTC))
    maintainer.run("category")
    assert len(sink.alerts) == 3  # healthy again: nothing more to say

    code, out, _ = run_cli(["--db", url, "history", "category"], capsys)
    assert "accept" in out and "new brands are the new normal" in out and "(alert grouped)" in out
    code, out, _ = run_cli(["--db", url, "history", "category", "--json"], capsys)
    assert [r for r in json.loads(out) if r.get("kind") == "accept"][0]["reason"] == "new brands are the new normal"


def test_reminders_follow_remind_days_and_failures_are_their_own_condition(tmp_path):
    from zeta_serving.maintenance import alert_groups

    ledger = Ledger(ListingStore(f"sqlite:///{tmp_path / 'z.db'}").engine)
    record(ledger, "tag", datetime(2026, 5, 1, 6, tzinfo=UTC), "healthy")
    record(ledger, "tag", datetime(2026, 5, 2, 6, tzinfo=UTC), "not-recovered", alerted=True)
    record(ledger, "tag", datetime(2026, 5, 3, 6, tzinfo=UTC), "promoted-degraded", alerted=False)
    earlier = ledger.history("tag")
    day4 = datetime(2026, 5, 4, 5, 59, tzinfo=UTC)  # a minute earlier in the day than the first alert
    assert alert_groups.plan("not-recovered", day4, earlier).action == "reminder"
    assert alert_groups.plan("not-recovered", day4, earlier, remind_days=3).action == "grouped"
    assert alert_groups.plan("not-recovered", day4, earlier, remind_days=2).action == "reminder"
    assert alert_groups.plan("failed", day4, earlier).action == "first"  # a broken cycle is news
    recovered = alert_groups.plan("healthy", day4, earlier)
    assert recovered.action == "recovered" and recovered.cycles == 2 and recovered.deploys == 1
    assert alert_groups.plan("healthy", day4, earlier[earlier["decision"] == "healthy"]).action is None
    from zeta_serving.errors import ConfigError

    bad = tmp_path / "zeta.toml"
    bad.write_text("[maintenance]\nremind_days = 0\n")
    with pytest.raises(ConfigError, match="remind_days"):
        load_config(str(bad))


def test_accept_with_an_explicit_score_and_its_errors(history, tmp_path, capsys):
    maintainer = make(history, tmp_path)
    url = str(maintainer.store.url)
    code, out, err = run_cli(["--db", url, "accept", "price", "--reason", "measured by hand", "--score", "0.61"],
                             capsys)
    assert code == 0 and "-> 0.6100 (explicit)" in out, err
    assert maintainer.ledger.champion("price").reference_score == 0.61
    import getpass

    from zeta_serving import registry

    kept = maintainer.ledger.accepts_of("price")[0]
    crowned = registry.describe(registry.get(history[1]["price"])).reference_score
    assert (kept["reason"], kept["operator"], kept["source"]) == ("measured by hand", getpass.getuser(), "explicit")
    assert kept["previous_reference"] == pytest.approx(crowned) and kept["at"] is not None
    code, _, err = run_cli(["--db", url, "accept", "tag", "--reason", "x"], capsys)
    assert code == 1 and "no live score" in err and len(err.strip().splitlines()) == 1
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    code, _, err = run_cli(["--db", empty, "accept", "tag", "--reason", "x", "--score", "0.5"], capsys)
    assert code == 1 and "no tag champion" in err
    code, _, err = run_cli(["--db", url, "accept", "tag", "--reason", "x", "--score", "nan"], capsys)
    assert code == 2 and "finite" in err


def wide_tolerance(maintainer):
    """Reference out of reach (2.0), tolerance 0.9: any real gain is far below the tolerance."""
    maintainer.config = replace(maintainer.config, policies={
        **maintainer.config.policies, "category": replace(maintainer.config.policy("category"), tolerance=0.9)})
    return maintainer


def test_a_degraded_model_is_replaced_only_by_a_gain_beyond_tolerance(history, tmp_path):
    maintainer = wide_tolerance(make(history, tmp_path, reference={"category": 2.0}, weak=True,
                                     builder=SkipBuild()))
    champion = maintainer.ledger.champion("category").tag
    # What serves came in as a degraded promotion (the ledger says so).
    record_promotion = maintainer.ledger.start(Run("category", datetime(2026, 2, 14, tzinfo=UTC), "test"))
    record_promotion.set(decision="promoted-degraded", challenger_tag=champion, champion_tag="zeta-category:older")
    maintainer.ledger.finish(record_promotion)
    result = maintainer.run("category")
    assert result.decision == "not-recovered", result
    assert "not by more than the tolerance" in result.summary
    run = maintainer.ledger.history("category").iloc[-1]
    assert run["gain_low"] > 0  # significantly better, and still kept off the air
    assert maintainer.deployer.current("category").model_tag == champion == maintainer.ledger.champion("category").tag


def test_the_first_degraded_promotion_still_deploys(history, tmp_path):
    """The same challenger against a champion crowned normally: a degraded model beats what serves."""
    maintainer = wide_tolerance(make(history, tmp_path, reference={"category": 2.0}, weak=True,
                                     builder=SkipBuild()))
    result = maintainer.run("category")
    assert result.decision == "promoted-degraded", result
    assert maintainer.deployer.current("category").model_tag == maintainer.ledger.champion("category").tag


def test_backtest_counts_alerts_and_deploys_per_model():
    runs = [{"model": "category", "now": f"2026-03-{d:02d}T00:00:00", "decision": dec, "alerted": alerted,
             "live_score": 0.5, "challenger_score": None, "details": json.dumps({"alert": kind} if kind else {})}
            for d, dec, alerted, kind in [(1, "healthy", False, None), (2, "not-recovered", True, "first"),
                                          (3, "promoted-degraded", False, "grouped"),
                                          (4, "not-recovered", True, "reminder"), (5, "promoted", True, "recovered"),
                                          (6, "healthy", False, None)]]
    result = {"scenario": "vocab", "drift_day": "2026-03-01", "runs": runs}
    row = {r["model"]: r for r in backtest.summarise(result)}["category"]
    assert (row["alerts"], row["reminders"], row["deploys"], row["decisions"]) == (3, 1, 2, ".NDNP.")
    lines = []
    backtest.print_table({"vocab": [row]}, echo=lines.append)
    assert "ALERTS REMINDERS DEPLOYS" in lines[0] and "     3         1       2  .NDNP." in lines[1]
