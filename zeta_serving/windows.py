"""Training and evaluation windows: half-open time ranges that never overlap.

The evaluation window is the newest `eval_days` before `until`; the training
window is the `train_days` before that. A model is never judged on rows it saw.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pandas as pd

from zeta_serving.errors import ZetaError


def as_utc(value: datetime | str | pd.Timestamp) -> pd.Timestamp:
    """Parse a date/time and return a tz-aware UTC Timestamp (naive input is taken as UTC)."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ZetaError(f"not a date or time: {value!r}") from exc
    if ts is pd.NaT:
        raise ZetaError(f"not a date or time: {value!r}")
    return ts.tz_localize(timezone.utc) if ts.tzinfo is None else ts.tz_convert(timezone.utc)


@dataclass(frozen=True)
class Windows:
    train_start: pd.Timestamp
    eval_start: pd.Timestamp  # also where training ends: no leakage
    eval_end: pd.Timestamp

    @classmethod
    def ending(cls, until: datetime | str | pd.Timestamp, train_days: float, eval_days: float) -> "Windows":
        if train_days <= 0 or eval_days <= 0:
            raise ZetaError("window lengths must be positive (got "
                            f"train {train_days} days, evaluation {eval_days} days)")
        end = as_utc(until)
        eval_start = end - timedelta(days=eval_days)
        return cls(eval_start - timedelta(days=train_days), eval_start, end)

    def as_dict(self) -> dict[str, str]:
        return {
            "train_start": self.train_start.isoformat(),
            "train_end": self.eval_start.isoformat(),
            "eval_start": self.eval_start.isoformat(),
            "eval_end": self.eval_end.isoformat(),
        }
