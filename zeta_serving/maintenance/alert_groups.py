"""Grouping repeated alerts: the first alert, one reminder a day, then a "recovered" message.

A model that stays below its reference (`not-recovered` and `promoted-degraded` are the
same unresolved condition) or keeps failing would otherwise alert on every cycle. The
state is the ledger itself: the runs since the model was last healthy (or promoted back
within tolerance), with `alerted` saying which of them actually delivered a message. A
failed delivery therefore never counts, and the next cycle tries again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from zeta_serving.maintenance.ledger import FAILED, HEALTHY, NOT_RECOVERED, PROMOTED, PROMOTED_DEGRADED

CONDITION = {NOT_RECOVERED: "below reference", PROMOTED_DEGRADED: "below reference", FAILED: "failing"}
RESOLVED = (HEALTHY, PROMOTED)
RECOVERED = "recovered"  # the decision an all-clear alert carries

FIRST, REMINDER, GROUPED = "first", "reminder", "grouped"


@dataclass(frozen=True)
class Grouping:
    action: str | None  # first | reminder | grouped | recovered | None (nothing to say)
    condition: str | None = None
    since: datetime | None = None  # when the open condition started
    cycles: int = 0  # earlier runs in the open condition
    deploys: int = 0  # of which promoted (degraded) a model

    def as_details(self) -> dict:
        return {"alert": self.action, "condition": self.condition, "open_since": self.since,
                "earlier_cycles": self.cycles, "earlier_deploys": self.deploys}


def plan(decision: str, now: datetime, earlier: pd.DataFrame, remind_days: int = 1) -> Grouping:
    """What to say about a run ending with `decision` at `now`, given the model's earlier runs
    (ledger.history rows, any order). A reminder goes out once `remind_days` UTC calendar days
    have passed since the last message, so a daily cycle that starts a few seconds earlier than
    yesterday's still reminds."""
    streak = _open_streak(earlier)
    if decision in RESOLVED:
        if any(bool(r["alerted"]) for r in streak):
            return Grouping(RECOVERED, None, streak[-1]["now"], len(streak), _deploys(streak))
        return Grouping(None)
    condition = CONDITION.get(decision)
    if condition is None:
        return Grouping(None)
    same = [r for r in streak if CONDITION.get(r["decision"]) == condition]
    sent = [r["now"] for r in same if bool(r["alerted"])]
    if not same or not sent:
        return Grouping(FIRST, condition, same[-1]["now"] if same else now, len(same), _deploys(same))
    days = (pd.Timestamp(now).tz_convert("UTC").date() - max(sent).date()).days
    action = REMINDER if days >= remind_days else GROUPED
    return Grouping(action, condition, same[-1]["now"], len(same), _deploys(same))


def for_run(ledger, run, decision: str, remind_days: int = 1, lookback: int = 400) -> Grouping:
    """The grouping for a run about to finish (the ledger holds its earlier runs, not yet its decision)."""
    if decision not in CONDITION and decision not in RESOLVED:
        return Grouping(None)
    try:
        earlier = ledger.history(run.model, limit=lookback)
        return plan(decision, run.now, earlier[earlier["id"] != run.id], remind_days)
    except Exception:  # noqa: BLE001 - the ledger is unreadable: alert rather than stay silent
        return Grouping(FIRST if decision in CONDITION else None, CONDITION.get(decision))


def _open_streak(earlier: pd.DataFrame) -> list[dict]:
    """The runs since the model was last resolved, newest first (skipped and unfinished runs say nothing)."""
    streak = []
    if earlier.empty:
        return streak
    for row in earlier.sort_values(["now", "id"], ascending=False).to_dict("records"):
        decision = row["decision"]
        if decision in RESOLVED:
            break
        if decision in CONDITION:
            streak.append(row)
    return streak


def _deploys(runs: list[dict]) -> int:
    return sum(r["decision"] == PROMOTED_DEGRADED for r in runs)


def headline(grouping: Grouping, model: str, summary: str) -> str:
    """The alert's summary line for a grouped condition."""
    since = f"{pd.Timestamp(grouping.since):%Y-%m-%d %H:%M} UTC" if grouping.since is not None else "?"
    if grouping.action == RECOVERED:
        return (f"{model} recovered: {summary} (after {grouping.cycles} alerting cycle"
                f"{'' if grouping.cycles == 1 else 's'} since {since})")
    if grouping.action == REMINDER:
        return (f"still {grouping.condition} since {since} ({grouping.cycles} earlier cycle"
                f"{'' if grouping.cycles == 1 else 's'}, {grouping.deploys} degraded deploy"
                f"{'' if grouping.deploys == 1 else 's'}; `zeta accept {model}` takes the current level "
                f"as the reference): {summary}")
    return summary
