"""The label-free early warning: an unseen-token jump alerts with both rates and starts a cycle.

Checked every `early_warning_minutes`; fires at most once a day per model, counted from the
ledger's last early-warning run (so a scheduled cycle in between does not re-arm it).
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pandas as pd

from zeta_serving import registry
from zeta_serving.maintenance.alerts import Alert
from zeta_serving.unseen import unseen_rate

log = logging.getLogger("zeta.maintenance")

EARLY_WARNING = "early-warning"  # the trigger of a cycle started by an unseen-token jump, and its alert


def check(maintainer, model: str):
    """Alert and run a cycle now if the unseen-token rate jumped since the champion was trained
    (None: no jump, or already warned today); returns the cycle's result."""
    policy = maintainer.config.policy(model)
    champion = maintainer.ledger.champion(model)
    if champion is None:
        return None
    saved = registry.describe(registry.get(champion.tag))
    trained_rate = _nonneg(saved.metadata.get("unseen_rate"))
    now = pd.Timestamp(maintainer.clock.now()).tz_convert("UTC")
    recent = maintainer.store.window(now - timedelta(days=1), now, limit=policy.max_eval_rows)
    rate = unseen_rate(maintainer._load(champion.tag), recent)
    if rate is None or trained_rate is None or rate - trained_rate < policy.unseen_jump:
        return None
    last = maintainer.ledger.last_run(model, triggers=(EARLY_WARNING,))
    if last is not None and now - last["now"] < timedelta(days=1):
        return None  # one early warning a day at most: the schedule does the rest
    summary = (f"unseen-token rate {rate:.3f} in the last day vs {trained_rate:.3f} when {champion.tag} "
               f"was trained (jump {rate - trained_rate:.3f} >= {policy.unseen_jump}): running a cycle now")
    log.warning("%s: %s", model, summary)
    rates = {"unseen_rate": rate, "unseen_rate_train": trained_rate, "unseen_jump": policy.unseen_jump,
             "champion_tag": champion.tag}
    try:
        maintainer.alerts.send(Alert(model, EARLY_WARNING, summary, now.to_pydatetime(), None, rates))
    except Exception:  # noqa: BLE001 - sinks report failures; a raising one must not stop the cycle
        log.error("early-warning alert delivery failed for %s", model)
    return maintainer.run(model, trigger=EARLY_WARNING, details={"early_warning": rates})


def _nonneg(value) -> float | None:
    return None if value is None or float(value) < 0 else float(value)
