"""One maintenance cycle for one model: decide, act, and record why.

    champion  what serves and its reference score (first run: the newest trained model)
    evaluate  its score on the newest labelled window, with a bootstrap interval;
              too few rows -> skipped; not significantly beyond tolerance -> healthy
    retrain   a challenger on the window before it (no leakage), saved with golden cases
    compare   both on the same rows, paired bootstrap: not better -> not-recovered (alert)
    build     the challenger's bento (and image, when a container backend is set)
    deploy    the candidate passes readiness and its golden cases before taking traffic
    verify    the live deployment is checked again; a failure rolls back

Any stage that raises ends the run `failed` (stage and reason recorded, alert
sent) and the champion keeps serving. Every stage is timed in the ledger.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

import pandas as pd

from zeta_serving import registry
from zeta_serving.maintenance import gc, golden
from zeta_serving.maintenance.served import live_parts
from zeta_serving.maintenance.alerts import Alert, AlertSink, MultiSink
from zeta_serving.maintenance.builder import Builder
from zeta_serving.maintenance.clock import Clock, SystemClock
from zeta_serving.maintenance.config import MaintenanceConfig
from zeta_serving.maintenance.deployers import Deployer
from zeta_serving.maintenance.inflight import InFlight
from zeta_serving.maintenance.ledger import (
    FAILED,
    HEALTHY,
    NOT_RECOVERED,
    PROMOTED,
    PROMOTED_DEGRADED,
    SKIPPED,
    Champion,
    Ledger,
    Run,
)
from zeta_serving.maintenance.recording import Recording
from zeta_serving.maintenance.outcomes import (
    CycleResult,
    Decided,
    Interrupted,
    StageFailed,
    _fmt,
    _nonneg,
    _reason,
    _safe,
)
from zeta_serving.maintenance.stats import bootstrap, paired_gain, shortfall, significantly_worse
from zeta_serving.maintenance.lease import Heartbeat, Lease, cycle_holder, default_holder
from zeta_serving.unseen import unseen_rate
from zeta_serving.storage import Store
from zeta_serving.trainer import train_on
from zeta_serving.windows import Windows

log = logging.getLogger("zeta.maintenance")

ALERTING = (NOT_RECOVERED, PROMOTED_DEGRADED, FAILED)


class Maintainer(Recording):
    """Runs cycles through its seams: store, ledger, deployer, builder, alert sink, clock."""

    def __init__(self, *, store: Store, ledger: Ledger, deployer: Deployer, builder: Builder,
                 alerts: AlertSink | MultiSink,
                 clock: Clock, config: MaintenanceConfig, replica: str | None = None,
                 lease_clock: Clock | None = None, offline: bool = False):
        self.store = store
        self.ledger = ledger
        self.deployer = deployer
        self.builder = builder
        self.alerts = alerts
        self.clock = clock
        self.config = config
        self.replica = replica or default_holder()
        self.lease_clock = lease_clock or SystemClock()
        self.offline = offline  # score the stored champion, not what serves (the backtest; --offline)
        self.stopping = threading.Event()  # set by a signal: the running cycle stops at its next stage
        self._models: dict[str, object] = {}  # loaded estimators by tag: a cycle re-reads no pickle
        self._unrecorded: list[Run] = []  # finished runs the database was down for
        self._cycle_state = threading.local()  # per thread: cycles of several models run at once
        self.inflight = InFlight()  # what a stopping loop must record if their threads cannot (inflight.py)
        self.stop_reason = "stop requested"

    # -- entry point ----------------------------------------------------------
    def run(self, model: str, trigger: str = "schedule", details: dict | None = None) -> CycleResult:
        policy = self.config.policy(model)
        now = pd.Timestamp(self.clock.now()).tz_convert("UTC")
        self._retry_unrecorded()
        # The lease follows the wall clock, whatever time the cycle believes it is (--now, backtests).
        lease = Lease(self.store.engine, model, cycle_holder(self.replica), policy.lease_seconds, self.lease_clock)
        try:
            taken = lease.acquire()
        except Exception as exc:  # noqa: BLE001 - the database is down: say so, touch nothing
            return self._unrecorded_failure(model, now, "lease", exc)
        if not taken:
            return self._skipped_for_lease(model, now, trigger, lease)
        heartbeat = Heartbeat(lease).start()
        try:
            return self._run_holding(model, trigger, policy, now, lease, heartbeat, details)
        finally:
            heartbeat.stop()
            try:
                lease.release()
            except Exception:  # noqa: BLE001 - an unreachable database: the lease simply expires
                log.warning("could not release the %s lease; it expires by itself", model)

    def _run_holding(self, model, trigger, policy, now, lease, heartbeat, details=None) -> CycleResult:
        try:
            for abandoned in self.ledger.close_abandoned(model, lease.holder):
                self._alert_abandoned(model, abandoned)
            run = self.ledger.start(Run(model, now.to_pydatetime(), self.replica, trigger, holder=lease.holder))
        except Exception as exc:  # noqa: BLE001 - the ledger's database is down: say so, touch nothing
            return self._unrecorded_failure(model, now, "ledger", exc)
        run.details.update(details or {})
        self._cycle_state.heartbeat = heartbeat
        self.inflight.add(run, lease, heartbeat)
        try:
            try:
                outcome = dict(zip(("decision", "summary"), self._cycle(run, model, policy, now)))
            except Decided as done:
                outcome = dict(decision=done.decision, summary=done.summary)
            except StageFailed as failed:
                outcome = dict(decision=FAILED, summary=f"{failed.stage} failed: {failed.error}",
                               stage=failed.stage, error=failed.error)
            self._collect(run, model, policy)  # still under the lease: no other replica is mid-cycle
            if not self.inflight.settle(run):  # the stopping loop recorded it already (abandon_running)
                return CycleResult(model, FAILED, f"interrupted ({self.stop_reason})", run.id,
                                   run.values.get("stage"))
            return self._finish(run, **outcome)
        finally:
            self.inflight.done(run)
            self._cycle_state.heartbeat = None

    def abandon_running(self) -> list[CycleResult]:
        """Record every cycle still running as failed at its stage and release its lease (the loop is stopping)."""
        reason = f"interrupted ({self.stop_reason})"
        ended = []

        def record(run: Run) -> None:
            stage = run.values.get("stage") or "start"
            ended.append(self._finish(run, FAILED, f"{stage} failed: {reason}; the loop stopped before it ended",
                                      stage=stage, error=reason))

        self.inflight.abandon(record)
        return ended

    def _skipped_for_lease(self, model, now, trigger, lease) -> CycleResult:
        try:
            holder = lease.holder_of()
            run = self.ledger.start(Run(model, now.to_pydatetime(), self.replica, trigger))
        except Exception as exc:  # noqa: BLE001
            return self._unrecorded_failure(model, now, "ledger", exc)
        who = f"{holder[0]} until {holder[1]:%Y-%m-%d %H:%M:%S}" if holder else "another replica"
        return self._finish(run, SKIPPED, f"another replica is acting on {model}: lease held by {who}")

    def _alert_abandoned(self, model: str, abandoned: dict) -> None:
        log.warning("%s: run %s was abandoned during %s: recorded as failed", model, abandoned["id"],
                    abandoned["stage"])
        alert = Alert(model, FAILED, abandoned["summary"], abandoned["now"], abandoned["id"],
                      {"stage": abandoned["stage"], "error": "interrupted", "trigger": abandoned["trigger"]})
        delivered = self.alerts.send(alert)
        if all(delivered.values()) if isinstance(delivered, dict) else delivered:
            _safe(lambda: self.ledger.mark_alerted(abandoned["id"]))

    def _retry_unrecorded(self) -> None:
        """Record the runs whose end could not be written (the database was down then)."""
        for run in list(self._unrecorded):
            try:
                self.ledger.finish(run)
                self._unrecorded.remove(run)
            except Exception:  # noqa: BLE001 - still down: the next cycle tries again
                return

    # -- the cycle ---------------------------------------------------------------
    def _cycle(self, run: Run, model: str, policy, now: pd.Timestamp) -> tuple[str, str]:
        with self._stage(run, "champion"):
            champion = self._champion(model)
            estimator = self._load(champion.tag)
            saved = registry.describe(registry.get(champion.tag))
            run.set(champion_tag=champion.tag, reference_score=champion.reference_score,
                    metric=estimator.metric, serving_tag=champion.tag,
                    tokenizer_id=saved.tokenizer_fingerprint.get("id"),
                    unseen_rate_train=_nonneg(saved.metadata.get("unseen_rate")))
            self.ensure_serving(model)
        greater = estimator.greater_is_better
        windows = Windows.ending(now, policy.train_days, policy.eval_days)

        with self._stage(run, "evaluate") as info:
            rows = self.store.window(windows.eval_start, windows.eval_end, labelled=estimator.label,
                                     limit=policy.max_eval_rows)
            recent = self.store.window(windows.eval_start, windows.eval_end, limit=policy.max_eval_rows)
            run.set(eval_start=windows.eval_start, eval_end=windows.eval_end, eval_rows=len(rows),
                    unseen_rate=unseen_rate(estimator, recent))
            info["rows"] = len(rows)
            if len(rows) < policy.min_rows:
                raise Decided(SKIPPED, f"{len(rows)} fresh labelled rows, need {policy.min_rows}")
            scored_on, champion_parts = live_parts(self.deployer, model, estimator, rows, offline=self.offline)
            run.details["scored_on"] = scored_on  # served: through the live deployment's batch route
            info["scored_on"] = scored_on
            live = bootstrap(champion_parts, estimator.aggregate, resamples=policy.bootstrap,
                             confidence=policy.confidence)
            run.set(live_score=live.score, live_low=live.low, live_high=live.high)
            info.update(live=live.__dict__)
        if not significantly_worse(live, champion.reference_score, policy.tolerance, greater):
            return HEALTHY, (f"{estimator.metric} {_fmt(live)} vs reference {champion.reference_score:.4f} "
                             f"(tolerance {policy.tolerance})")

        with self._stage(run, "retrain") as info:
            train = self.store.window(windows.train_start, windows.eval_start, labelled=estimator.label)
            run.set(train_start=windows.train_start, train_end=windows.eval_start, train_rows=len(train))
            trained = train_on(model, train, rows, windows, store_id=self.store.id, extra_metadata={
                "trigger": run.trigger, "challenger_of": champion.tag, "trained_by": self.replica})
            challenger_tag = trained.saved.tag
            self._models[challenger_tag] = trained.model
            run.set(challenger_tag=challenger_tag)
            info.update(tag=challenger_tag, rows=len(train), seconds=round(trained.seconds, 2))

        with self._stage(run, "compare") as info:
            challenger_parts = trained.model.score_parts(rows)
            challenger = bootstrap(challenger_parts, estimator.aggregate, resamples=policy.bootstrap,
                                   confidence=policy.confidence)
            gain = paired_gain(champion_parts, challenger_parts, estimator.aggregate, greater,
                               resamples=policy.bootstrap, confidence=policy.confidence)
            run.set(challenger_score=challenger.score, challenger_low=challenger.low,
                    challenger_high=challenger.high, gain_low=gain.low, gain_high=gain.high)
            info.update(challenger=challenger.__dict__, gain=gain.__dict__)
        if gain.low <= 0:
            raise Decided(NOT_RECOVERED, f"live {estimator.metric} {_fmt(live)} dropped below reference "
                                         f"{champion.reference_score:.4f}; the retrained {challenger_tag} "
                                         f"({_fmt(challenger)}) is not significantly better: keeping {champion.tag}")
        recovered = shortfall(challenger.score, champion.reference_score, greater) <= policy.tolerance
        if not recovered and gain.low <= policy.tolerance and self.ledger.promoted_as(model, champion.tag) == \
                PROMOTED_DEGRADED:
            # What serves is itself a degraded promotion: replacing it with another degraded model
            # needs a gain beyond tolerance. Otherwise every small step up was a deploy (and an alert)
            # every other day while the data drifted, each one a risk for a model still degraded.
            raise Decided(NOT_RECOVERED, f"live {estimator.metric} {_fmt(live)} dropped below reference "
                                         f"{champion.reference_score:.4f}; the retrained {challenger_tag} "
                                         f"({_fmt(challenger)}) is better than the degraded {champion.tag} by "
                                         f"{gain.low:.4f}..{gain.high:.4f}, not by more than the tolerance "
                                         f"{policy.tolerance}: keeping it")

        with self._stage(run, "build") as info:
            bento_tag = self.builder.build(model, challenger_tag)
            image_tag = self.builder.containerize(bento_tag)
            run.set(bento_tag=bento_tag, image_tag=image_tag)
            info.update(bento=bento_tag, image=image_tag)

        cases = registry.load_golden(registry.get(challenger_tag))
        with self._stage(run, "deploy") as info:
            self._confirm_lease()  # a replica that lost the lease deploys nothing
            self.deployer.deploy(model, bento_tag, challenger_tag, gate=self._golden_gate(model, cases),
                                 image_tag=image_tag)
            info.update(golden_cases=len(cases))
        with self._stage(run, "verify"):
            try:
                self._confirm_lease()  # lost while deploying: the warm standby goes back on
                self.deployer.verify(model, self._golden_gate(model, cases))
                self._confirm_lease()  # lost while verifying: the champion goes back on, nothing is crowned
            except Exception:
                restored = self.deployer.rollback(model)
                if restored is None or restored.model_tag != champion.tag:  # no standby left after verify
                    restored = _safe(lambda: self._put_back(model, champion)) or restored
                run.set(serving_tag=restored.model_tag if restored else None)
                raise
        # A recovered challenger sets the new standard; a degraded one keeps the old standard, so the
        # next cycles keep retraining (with more fresh data) until the model is back within tolerance.
        reference = challenger.score if recovered else champion.reference_score
        self.ledger.crown(Champion(model, challenger_tag, reference, now.to_pydatetime(), bento_tag, image_tag))
        run.set(serving_tag=challenger_tag)
        # A deploy must not silently degrade another model (shared code under it): replay theirs now.
        _safe(lambda: self.watch_golden(skip=(model,)))
        decision = PROMOTED if recovered else PROMOTED_DEGRADED
        summary = (f"{challenger_tag} promoted: {estimator.metric} {_fmt(challenger)} vs live {_fmt(live)} "
                   f"(reference {champion.reference_score:.4f})")
        if not recovered:
            summary += ": better than what served, still beyond tolerance of the reference"
        return decision, summary

    def watch_golden(self, skip: tuple[str, ...] = ()) -> list:
        """Replay every live model's golden cases against what serves; alert for each that differs."""
        from zeta_serving.maintenance.watch import replay_live

        return replay_live(self.deployer, self.ledger, self.alerts, self.clock.now(), skip=skip)

    # -- pieces ------------------------------------------------------------------
    def _champion(self, model: str) -> Champion:
        champion = self.ledger.champion(model)
        if champion is not None:
            return champion
        # Only this store's models: another checkout's models on the same machine are not ours to serve.
        newest = registry.list_models(model, store_id=self.store.id)
        if not newest:
            raise StageFailed("champion", f"no {model} model trained from this store: "
                                          f"run `zeta train {model}` first")
        first = newest[0]
        champion = Champion(model, first.tag, first.reference_score, datetime.now(timezone.utc))
        self.ledger.crown(champion)
        return champion

    def _put_back(self, model: str, champion: Champion):
        """Deploy the champion again (gated by its own golden cases); what serves afterwards."""
        cases = registry.load_golden(registry.get(champion.tag))
        self.deployer.deploy(model, champion.bento_tag, champion.tag, gate=self._golden_gate(model, cases),
                             image_tag=champion.image_tag)
        return self.deployer.current(model)

    def _load(self, tag: str):
        if tag not in self._models:
            self._models[tag] = registry.load(tag)[0]
        return self._models[tag]

    @staticmethod
    def _golden_gate(model: str, cases: list[dict]):
        def gate(deployment, client) -> None:
            golden.check(model, cases, client)

        return gate

    @property
    def _heartbeat(self) -> Heartbeat | None:
        return getattr(self._cycle_state, "heartbeat", None)

    @property
    def interruptible(self) -> bool:
        """True while this thread's cycle is inside a stage (a signal handler may raise there)."""
        return getattr(self._cycle_state, "interruptible", False)

    def _confirm_lease(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.confirm()

    def _collect(self, run: Run, model: str, policy) -> None:
        """Bound the stores after a cycle; never changes the cycle's outcome."""
        try:
            done = gc.collect(model, ledger=self.ledger, keep=policy.keep_models, deployer=self.deployer,
                              also_ours={run.values.get("challenger_tag"), run.values.get("bento_tag")},
                              also_protected={run.values.get("champion_tag")})
        except Exception as exc:  # noqa: BLE001 - a full disk or a locked file: try again next cycle
            log.warning("%s: store cleanup failed: %s", model, _reason(exc))
            return
        if done.deleted:
            run.details["removed"] = done.deleted
            log.info("%s: removed %d old models/bentos", model, len(done.deleted))

    def ensure_serving(self, model: str) -> None:
        """Deploy the champion if nothing serves the model yet (start-up of a long-running loop)."""
        if self.deployer.current(model) is None:
            champion = self._champion(model)
            cases = registry.load_golden(registry.get(champion.tag))
            self.deployer.deploy(model, champion.bento_tag, champion.tag, gate=self._golden_gate(model, cases),
                                 image_tag=champion.image_tag)

    def early_warning(self, model: str) -> CycleResult | None:
        """Alert and run a cycle now if the unseen-token rate jumped (see early_warning.py)."""
        from zeta_serving.maintenance.early_warning import check

        return check(self, model)


__all__ = ["Maintainer", "CycleResult", "Interrupted"]  # signals.py raises Interrupted
