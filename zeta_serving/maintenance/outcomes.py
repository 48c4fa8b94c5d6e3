"""What a cycle can end with, and the small helpers that word it (split from loop.py)."""

from __future__ import annotations

from dataclasses import dataclass

from zeta_serving.redaction import scrub_secrets
from zeta_serving.maintenance.stats import Interval


class StageFailed(Exception):
    def __init__(self, stage: str, error: str):
        super().__init__(f"{stage}: {error}")
        self.stage, self.error = stage, error


class Interrupted(Exception):
    """SIGTERM or SIGINT during a cycle: it ends `failed` at its stage, children stopped, lease released."""


class Decided(Exception):
    """A cycle ended early with a decision (skipped, healthy, not-recovered)."""

    def __init__(self, decision: str, summary: str):
        super().__init__(summary)
        self.decision, self.summary = decision, summary


@dataclass(frozen=True)
class CycleResult:
    model: str
    decision: str
    summary: str
    run_id: int | None
    failed_stage: str | None = None
    serving_tag: str | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _fmt(interval: Interval) -> str:
    return f"{interval.score:.4f} [{interval.low:.4f}, {interval.high:.4f}]"


def _nonneg(value) -> float | None:
    return None if value is None or float(value) < 0 else float(value)


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return scrub_secrets(f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text)[:500]


def _safe(fn):
    try:
        return fn()
    except Exception:  # noqa: BLE001
        return None
