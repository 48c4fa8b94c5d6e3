"""The ledger: every maintenance run and its stages, in the same database as the listings.

Tables
  maintenance_runs    one row per run per model: decision, scores with confidence intervals,
                      windows, row counts, tags, fingerprint, error
  maintenance_stages  one row per stage of a run: name, timing, ok, info (JSON), error
  champions           per model, the tag that serves and its reference score
  leases              per model, who may act on it and until when (see lease.py)
  accepts             an operator's `zeta accept`: a new reference for the champion, and why

The tables are created and changed by the migrations in zeta_serving/migrations (see
zeta_serving/db.py for how to add one): declaring a column here is not enough.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zeta_serving.db import ensure_schema
from zeta_serving.store import metadata
from zeta_serving.store import naive_utc as _naive

# Decisions a run can end with.
HEALTHY = "healthy"
SKIPPED = "skipped"
PROMOTED = "promoted"
PROMOTED_DEGRADED = "promoted-degraded"
NOT_RECOVERED = "not-recovered"
FAILED = "failed"
DECISIONS = (HEALTHY, SKIPPED, PROMOTED, PROMOTED_DEGRADED, NOT_RECOVERED, FAILED)
# An unfinished run that never held the lease is abandoned once this old (see close_abandoned).
STALE_UNLEASED = timedelta(minutes=10)

runs = sa.Table(
    "maintenance_runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(32), nullable=False),
    sa.Column("replica", sa.String(200), nullable=False, default=""),
    sa.Column("trigger", sa.String(32), nullable=False, default="schedule"),  # schedule | once | early-warning
    sa.Column("now", sa.DateTime, nullable=False),  # the injected clock's time
    sa.Column("started_at", sa.DateTime, nullable=False),  # wall clock, for timings
    sa.Column("finished_at", sa.DateTime, nullable=True),
    sa.Column("decision", sa.String(32), nullable=True),
    sa.Column("failed_stage", sa.String(32), nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("metric", sa.String(32), nullable=True),
    sa.Column("reference_score", sa.Float, nullable=True),
    sa.Column("live_score", sa.Float, nullable=True),
    sa.Column("live_low", sa.Float, nullable=True),
    sa.Column("live_high", sa.Float, nullable=True),
    sa.Column("challenger_score", sa.Float, nullable=True),
    sa.Column("challenger_low", sa.Float, nullable=True),
    sa.Column("challenger_high", sa.Float, nullable=True),
    sa.Column("gain_low", sa.Float, nullable=True),  # paired bootstrap: challenger minus champion,
    sa.Column("gain_high", sa.Float, nullable=True),  # signed so that positive is better
    sa.Column("eval_start", sa.DateTime, nullable=True),
    sa.Column("eval_end", sa.DateTime, nullable=True),
    sa.Column("eval_rows", sa.Integer, nullable=True),
    sa.Column("train_start", sa.DateTime, nullable=True),
    sa.Column("train_end", sa.DateTime, nullable=True),
    sa.Column("train_rows", sa.Integer, nullable=True),
    sa.Column("champion_tag", sa.String(200), nullable=True),
    sa.Column("challenger_tag", sa.String(200), nullable=True),
    sa.Column("bento_tag", sa.String(200), nullable=True),
    sa.Column("image_tag", sa.String(300), nullable=True),
    sa.Column("serving_tag", sa.String(200), nullable=True),  # what serves when the run ends
    sa.Column("tokenizer_id", sa.String(64), nullable=True),
    sa.Column("unseen_rate", sa.Float, nullable=True),  # share of recent tokens the champion never saw
    sa.Column("unseen_rate_train", sa.Float, nullable=True),  # the same share when it was trained
    sa.Column("alerted", sa.Boolean, nullable=False, default=False),
    sa.Column("details", sa.Text, nullable=False, default="{}"),
    sa.Column("holder", sa.String(200), nullable=True),  # the cycle's lease holder (None: it never held it)
    sa.Column("stage", sa.String(32), nullable=True),  # the stage it is in, or was in when it ended
    sa.Index("ix_maintenance_runs_model_now", "model", "now"),
)

stages = sa.Table(
    "maintenance_stages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("maintenance_runs.id"), nullable=False, index=True),
    sa.Column("stage", sa.String(32), nullable=False),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("seconds", sa.Float, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("info", sa.Text, nullable=False, default="{}"),
    sa.Column("error", sa.Text, nullable=True),
)

champions = sa.Table(
    "champions",
    metadata,
    sa.Column("model", sa.String(32), primary_key=True),
    sa.Column("tag", sa.String(200), nullable=False),
    sa.Column("reference_score", sa.Float, nullable=False),
    sa.Column("bento_tag", sa.String(200), nullable=True),
    sa.Column("image_tag", sa.String(300), nullable=True),
    sa.Column("promoted_at", sa.DateTime, nullable=False),
)


# `zeta accept`: a person declares the current level the new normal (migration 0003).
accepts = sa.Table(
    "accepts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(32), nullable=False, index=True),
    sa.Column("tag", sa.String(200), nullable=False),  # the champion whose reference changed
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("previous_reference", sa.Float, nullable=False),
    sa.Column("reference", sa.Float, nullable=False),
    sa.Column("source", sa.String(32), nullable=False),  # live (the last measured score) | explicit (--score)
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("operator", sa.String(200), nullable=False, default=""),
)


def _utc(at) -> datetime | None:
    return None if at is None else pd.Timestamp(at).tz_localize("UTC").to_pydatetime()


@dataclass
class Champion:
    model: str
    tag: str
    reference_score: float
    promoted_at: datetime
    bento_tag: str | None = None
    image_tag: str | None = None


@dataclass
class Run:
    """A run being recorded; fields mirror the maintenance_runs columns."""

    model: str
    now: datetime
    replica: str = ""
    trigger: str = "schedule"
    holder: str | None = None  # the cycle's lease holder; None for a run that never got the lease
    id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def set(self, **values: Any) -> None:
        self.values.update(values)


class Ledger:
    def __init__(self, engine: Engine):
        self.engine = engine
        ensure_schema(engine)

    # -- runs ----------------------------------------------------------------
    def start(self, run: Run) -> Run:
        with self.engine.begin() as conn:
            run.id = conn.execute(runs.insert().values(
                model=run.model, replica=run.replica, trigger=run.trigger, now=_naive(run.now),
                holder=run.holder, started_at=_naive(datetime.now(timezone.utc)),
                details="{}")).inserted_primary_key[0]
        return run

    def enter_stage(self, run: Run, name: str) -> None:
        """Note the stage a run is entering: if its process dies, the next cycle knows where."""
        with self.engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.id == run.id).values(stage=name))

    def close_abandoned(self, model: str, holder: str, *, stale_after: timedelta = STALE_UNLEASED) -> list[dict]:
        """Record as `failed` ("interrupted", at the stage they were in) the runs of `model` nobody finishes.

        Call it holding the model's lease as `holder`: then a run that held the lease under another
        holder and never finished has lost it (its process died, or lost the database and will stop
        at its next lease check). A run that never held the lease (it was being recorded as skipped)
        counts only once `stale_after` has passed since it started: runs from before leases were
        recorded per run, or a process that died between the two writes of a skipped run.
        Returns the runs closed, as {id, stage, trigger, now}.
        """
        wall = _naive(datetime.now(timezone.utc))
        c = runs.c
        nobody = sa.and_(c.model == model, c.finished_at.is_(None),
                         sa.or_(sa.and_(c.holder.is_not(None), c.holder != holder),
                                sa.and_(c.holder.is_(None), c.started_at < wall - stale_after)))
        closed = []
        with self.engine.begin() as conn:
            for row in conn.execute(sa.select(c.id, c.stage, c.trigger, c.now, c.details).where(nobody)).all():
                stage = row.stage or "start"
                details = {**json.loads(row.details or "{}"),
                           "summary": f"interrupted during {stage}: the process running this cycle stopped "
                                      f"(killed, crashed or cut off from the database); recorded by the next cycle"}
                done = conn.execute(runs.update().where(c.id == row.id, c.finished_at.is_(None)).values(
                    decision=FAILED, failed_stage=stage, error="interrupted", finished_at=wall,
                    details=json.dumps(details, ensure_ascii=False)))
                if done.rowcount == 1:
                    closed.append(dict(id=row.id, stage=stage, trigger=row.trigger, now=_utc(row.now),
                                       summary=details["summary"]))
        return closed

    def mark_alerted(self, run_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(alerted=True))

    def stage(self, run: Run, name: str, started: datetime, seconds: float, ok: bool,
              info: dict | None = None, error: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(stages.insert().values(
                run_id=run.id, stage=name, started_at=_naive(started), seconds=seconds, ok=ok,
                info=json.dumps(info or {}, ensure_ascii=False, default=str), error=error))

    def finish(self, run: Run) -> None:
        values = {k: (_naive(v) if isinstance(v, (datetime, pd.Timestamp)) else v) for k, v in run.values.items()}
        with self.engine.begin() as conn:
            conn.execute(runs.update().where(runs.c.id == run.id).values(
                finished_at=_naive(datetime.now(timezone.utc)),
                details=json.dumps(run.details, ensure_ascii=False, default=str), **values))

    # -- champions -----------------------------------------------------------
    def champion(self, model: str) -> Champion | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(champions).where(champions.c.model == model)).first()
        if row is None:
            return None
        return Champion(row.model, row.tag, row.reference_score, _utc(row.promoted_at), row.bento_tag, row.image_tag)

    def crown(self, champion: Champion) -> None:
        values = dict(tag=champion.tag, reference_score=champion.reference_score, bento_tag=champion.bento_tag,
                      image_tag=champion.image_tag, promoted_at=_naive(champion.promoted_at))
        with self.engine.begin() as conn:
            updated = conn.execute(champions.update().where(champions.c.model == champion.model).values(**values))
            if updated.rowcount == 0:
                conn.execute(champions.insert().values(model=champion.model, **values))

    # -- reading -------------------------------------------------------------
    def history(self, model: str | None = None, limit: int | None = None,
                triggers: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Runs, oldest first (the newest `limit` when given); times as UTC Timestamps."""
        query = sa.select(runs)
        if model:
            query = query.where(runs.c.model == model)
        if triggers is not None:
            query = query.where(runs.c.trigger.in_(triggers))
        query = query.order_by(runs.c.now.desc(), runs.c.id.desc())
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(query).mappings().all(), columns=[c.name for c in runs.columns])
        frame = frame.iloc[::-1].reset_index(drop=True)
        for column in ("now", "started_at", "finished_at", "eval_start", "eval_end", "train_start", "train_end"):
            frame[column] = pd.to_datetime(frame[column]).dt.tz_localize("UTC")
        return frame

    def images(self) -> dict[str, str]:
        """Model tag -> the image (pushed `ref@digest` when pushed) its promotion built, newest wins."""
        query = (sa.select(runs.c.challenger_tag, runs.c.image_tag)
                 .where(runs.c.image_tag.is_not(None), runs.c.challenger_tag.is_not(None))
                 .order_by(runs.c.now, runs.c.id))
        with self.engine.connect() as conn:
            found = {tag: image for tag, image in conn.execute(query)}
            for tag, image in conn.execute(sa.select(champions.c.tag, champions.c.image_tag)):
                if image:
                    found[tag] = image
        return found

    def stages_of(self, run_id: int) -> pd.DataFrame:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(stages).where(stages.c.run_id == run_id).order_by(stages.c.id)).mappings().all()
        return pd.DataFrame(rows, columns=[c.name for c in stages.columns])

    def last_run(self, model: str, triggers: tuple[str, ...] | None = None) -> dict | None:
        """The newest run of the model (only those with one of `triggers`, when given)."""
        frame = self.history(model, limit=1, triggers=triggers)
        return None if frame.empty else frame.iloc[0].to_dict()

    def promoted_as(self, model: str, tag: str) -> str | None:
        """The decision of the run that promoted `tag` (promoted, promoted-degraded; None: crowned by hand)."""
        query = (sa.select(runs.c.decision)
                 .where(runs.c.model == model, runs.c.challenger_tag == tag,
                        runs.c.decision.in_((PROMOTED, PROMOTED_DEGRADED)))
                 .order_by(runs.c.now.desc(), runs.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def previous_champion(self, model: str) -> str | None:
        """The tag that served before the champion: the one its promotion replaced (None if unknown)."""
        champion = self.champion(model)
        if champion is None:
            return None
        query = (sa.select(runs.c.champion_tag)
                 .where(runs.c.model == model, runs.c.challenger_tag == champion.tag,
                        runs.c.decision.in_((PROMOTED, PROMOTED_DEGRADED)))
                 .order_by(runs.c.now.desc(), runs.c.id.desc()).limit(1))
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def known_tags(self, model: str) -> set[str]:
        """Every model and bento tag this ledger has named for the model (runs, champion, accepts)."""
        columns = (runs.c.champion_tag, runs.c.challenger_tag, runs.c.serving_tag, runs.c.bento_tag)
        with self.engine.connect() as conn:
            found = {v for column in columns
                     for v in conn.execute(sa.select(column).where(runs.c.model == model).distinct()).scalars()}
            found |= set(conn.execute(sa.select(champions.c.tag, champions.c.bento_tag)
                                      .where(champions.c.model == model)).first() or ())
            found |= set(conn.execute(sa.select(accepts.c.tag).where(accepts.c.model == model)).scalars())
        return {t for t in found if t}

    # -- accepts -------------------------------------------------------------
    def accept(self, model: str, reference: float, reason: str, at: datetime, *, source: str,
               operator: str = "") -> dict:
        """Set the champion's reference to `reference` and record who did it and why, atomically."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(champions).where(champions.c.model == model)).first()
            if row is None:
                raise LookupError(f"no {model} champion in the ledger yet")
            conn.execute(champions.update().where(champions.c.model == model).values(reference_score=reference))
            values = dict(model=model, tag=row.tag, at=_naive(at), previous_reference=row.reference_score,
                          reference=reference, source=source, reason=reason, operator=operator)
            values["id"] = conn.execute(accepts.insert().values(**values)).inserted_primary_key[0]
        return {**values, "at": _utc(values["at"])}

    def accepts_of(self, model: str) -> list[dict]:
        """The model's accepts, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(accepts).where(accepts.c.model == model)
                                .order_by(accepts.c.at, accepts.c.id)).mappings().all()
        return [{**row, "at": _utc(row["at"])} for row in rows]
