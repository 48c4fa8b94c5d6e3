"""How a cycle is recorded and alerted: each stage timed, the end written once, alerts grouped.

The Maintainer (loop.py) decides; this base class keeps its books. A stage that raises
ends the run `failed` there with the reason; the run's end is written once, or kept for
the next cycle of this process when the database is what failed; an alerting decision is
grouped with the open condition's earlier alerts (alert_groups.py) before anything is sent.
"""

from __future__ import annotations

import logging
import time
import traceback
from contextlib import contextmanager
from datetime import datetime, timezone

import pandas as pd

from zeta_serving.maintenance import alert_groups
from zeta_serving.maintenance.alerts import Alert
from zeta_serving.maintenance.ledger import FAILED, PROMOTED, PROMOTED_DEGRADED, Run
from zeta_serving.maintenance.lease import LeaseLost
from zeta_serving.maintenance.outcomes import CycleResult, Decided, Interrupted, StageFailed, _reason, _safe

log = logging.getLogger("zeta.maintenance")


class Recording:
    """The bookkeeping half of a Maintainer: it supplies ledger, alerts, deployer, config,
    stopping, stop_reason, _heartbeat, _cycle_state and _unrecorded."""

    @contextmanager
    def _stage(self, run: Run, name: str):
        info: dict = {}
        started = datetime.now(timezone.utc)
        clock = time.perf_counter()
        log.info("%s run %s: stage %s started", run.model, run.id, name)
        try:
            if self.stopping.is_set():
                raise Interrupted(self.stop_reason)
            if self._heartbeat is not None and self._heartbeat.lost.is_set():
                raise LeaseLost(run.model)
            run.set(stage=name)
            self.ledger.enter_stage(run, name)
            self._cycle_state.interruptible = True  # a signal may now end the stage (maintenance/signals.py)
            try:
                yield info
            finally:
                self._cycle_state.interruptible = False
        except Decided as done:
            log.info("%s run %s: stage %s ended in %.2fs: %s", run.model, run.id, name,
                     time.perf_counter() - clock, done.decision)
            self._record_stage(run, name, started, time.perf_counter() - clock, True, info)
            raise
        except StageFailed:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure ends the run `failed` at this stage
            log.debug("stage %s failed:\n%s", name, traceback.format_exc())
            reason = f"interrupted ({self.stop_reason})" if self.stopping.is_set() else _reason(exc)
            log.info("%s run %s: stage %s ended in %.2fs: failed (%s)", run.model, run.id, name,
                     time.perf_counter() - clock, reason)
            self._record_stage(run, name, started, time.perf_counter() - clock, False, info, reason)
            raise StageFailed(name, reason) from exc
        log.info("%s run %s: stage %s ended in %.2fs: ok", run.model, run.id, name, time.perf_counter() - clock)
        self._record_stage(run, name, started, time.perf_counter() - clock, True, info)

    def _record_stage(self, run, name, started, seconds, ok, info, error=None) -> None:
        try:
            self.ledger.stage(run, name, started, seconds, ok, info, error)
        except Exception:  # noqa: BLE001 - the database may be what failed
            log.warning("could not record stage %s of run %s", name, run.id)

    def _finish(self, run: Run, decision: str, summary: str, *, stage: str | None = None,
                error: str | None = None) -> CycleResult:
        if decision == FAILED:
            current = _safe(lambda: self.deployer.current(run.model))
            if current is not None:
                run.set(serving_tag=current.model_tag)
        deployer = getattr(self.deployer, "name", type(self.deployer).__name__)
        if deployer == "inprocess" and decision in (PROMOTED, PROMOTED_DEGRADED):
            # Said in the ledger and the summary: a dry run must never read as a real deployment.
            summary += " [in-process deployer: nothing outside this process was deployed]"
        run.set(decision=decision, failed_stage=stage, error=error)
        run.details["summary"] = summary
        run.details["deployer"] = deployer
        run.set(alerted=self._alert_grouped(run, decision, summary))
        try:
            self.ledger.finish(run)
        except Exception as exc:  # noqa: BLE001 - kept, and written by the next cycle of this process
            log.error("could not record run %s of %s: %s", run.id, run.model, _reason(exc))
            self._unrecorded.append(run)
        log.info("%s: %s: %s", run.model, decision, summary)
        return CycleResult(run.model, decision, summary, run.id, stage, run.values.get("serving_tag"))

    def _alert_grouped(self, run: Run, decision: str, summary: str) -> bool:
        """Send the alert the run's decision calls for, grouped with the open condition's earlier ones."""
        grouping = alert_groups.for_run(self.ledger, run, decision, self.config.policy(run.model).remind_days)
        if grouping.action is not None:
            run.details.update(_plain_details(grouping.as_details()))
        if grouping.action in (None, alert_groups.GROUPED):
            return False
        shown = alert_groups.RECOVERED if grouping.action == alert_groups.RECOVERED else decision
        return self._alert(run, shown, alert_groups.headline(grouping, run.model, summary), grouping.as_details())

    def _alert(self, run: Run, decision: str, summary: str, extra: dict | None = None) -> bool:
        details = _plain_details({**{k: v for k, v in run.values.items() if v is not None}, **(extra or {})})
        delivered = self.alerts.send(Alert(run.model, decision, summary, run.now, run.id, details))
        return bool(all(delivered.values()) if isinstance(delivered, dict) else delivered)

    def _unrecorded_failure(self, model: str, now, stage: str, exc: Exception) -> CycleResult:
        summary = f"{stage} failed: {_reason(exc)}; nothing was changed"
        try:
            self.alerts.send(Alert(model, FAILED, summary, now.to_pydatetime(), None, {"stage": stage}))
        except Exception:  # noqa: BLE001
            log.error("alert delivery failed for %s", model)
        current = _safe(lambda: self.deployer.current(model))
        return CycleResult(model, FAILED, summary, None, stage, current.model_tag if current else None)


def _plain_details(values: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, (datetime, pd.Timestamp)) else v) for k, v in values.items()}


