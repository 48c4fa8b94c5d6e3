"""The golden watch: every live model still answers its golden cases, whoever deployed what.

One person's deploy once degraded another person's model: shared code (the text
normalisation, the features, the tokenizer) changed underneath a model that itself did
not change. So after every deploy, and on a timer, every live model's golden cases are
replayed against what serves; a model that answers differently gets an alert naming it,
the cases that differ, and the last deploy before the mismatch (the likely cause).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from zeta_serving import registry, tasks
from zeta_serving.maintenance import golden
from zeta_serving.maintenance.alerts import Alert

log = logging.getLogger("zeta.maintenance")

GOLDEN_MISMATCH = "golden-mismatch"


@dataclass(frozen=True)
class Mismatch:
    model: str
    model_tag: str
    differences: str
    last_deploy: dict[str, Any] | None


def replay_live(deployer: Any, ledger: Any, alerts: Any, now: datetime, *,
                skip: tuple[str, ...] = ()) -> list[Mismatch]:
    """Replay every live model's golden cases against what serves; alert for each that differs."""
    found = []
    for task in tasks.names():
        if task in skip:
            continue
        try:
            live = deployer.current(task)
        except Exception as exc:  # noqa: BLE001 - a deployer that cannot answer is reported, not fatal
            log.warning("golden watch: cannot ask the deployer about %s: %s", task, exc)
            continue
        if live is None:
            continue
        try:
            cases = registry.load_golden(registry.get(live.model_tag))
            golden.check(task, cases, deployer.client(live))
            continue
        except Exception as exc:  # noqa: BLE001 - any failure to reproduce the recorded answers counts
            differences = str(exc)
        last = last_deploy(ledger, now)
        mismatch = Mismatch(task, live.model_tag, differences, last)
        found.append(mismatch)
        cause = (f"; last deploy before it: {last['model']} {last['serving_tag']} at {last['now']:%Y-%m-%d %H:%M} "
                 f"(run #{last['id']})" if last else "; no deploy is recorded before it")
        summary = f"{task} {live.model_tag} no longer answers its golden cases: {differences}{cause}"
        log.error("%s", summary)
        alerts.send(Alert(task, GOLDEN_MISMATCH, summary, now, None, {
            "model_tag": live.model_tag, "endpoint": live.endpoint, "differences": differences,
            "last_deploy": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in (last or {}).items()}}))
    return found


def last_deploy(ledger: Any, now: datetime) -> dict[str, Any] | None:
    """The newest promotion of any model at or before `now` (a deploy that changed what serves)."""
    frame = ledger.history()
    if frame.empty:
        return None
    promoted = frame[frame["decision"].isin(["promoted", "promoted-degraded"]) & (frame["now"] <= now)]
    if promoted.empty:
        return None
    row = promoted.iloc[-1]
    return {"id": int(row["id"]), "model": row["model"], "serving_tag": row["serving_tag"],
            "now": row["now"].to_pydatetime()}
