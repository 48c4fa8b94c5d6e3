"""Train and evaluate a task on store windows; the same code `zeta train` and the loop use."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from zeta_serving import registry, tasks
from zeta_serving.errors import ZetaError
from zeta_serving.relist import drop_relistings
from zeta_serving.unseen import unseen_rate
from zeta_serving.store import ListingStore
from zeta_serving.windows import Windows

DEFAULT_TRAIN_DAYS = 30.0
DEFAULT_EVAL_DAYS = 7.0


def model_class(task: str):
    return tasks.get(task).model_class


def default_until(store: ListingStore) -> pd.Timestamp:
    """Just after the newest listing: the default end of the evaluation window."""
    span = store.time_range()
    if span is None:
        raise ZetaError("the listing store is empty: load data with `zeta load` or `zeta synth` first")
    return span[1] + pd.Timedelta(seconds=1)


@dataclass
class TrainResult:
    saved: registry.SavedModel
    scores: dict[str, float]
    train_rows: int
    eval_rows: int
    seconds: float
    model: object = None


def train_task(store: ListingStore, task: str, *, until=None, train_days: float = DEFAULT_TRAIN_DAYS,
               eval_days: float = DEFAULT_EVAL_DAYS, params: dict | None = None,
               extra_metadata: dict | None = None, on_stage=lambda message: None) -> TrainResult:
    """Train on the window before the newest `eval_days`, score on those, save with metadata."""
    cls = model_class(task)
    windows = Windows.ending(until if until is not None else default_until(store), train_days, eval_days)
    on_stage(f"reading windows {windows.train_start:%Y-%m-%d} .. {windows.eval_start:%Y-%m-%d} .. "
             f"{windows.eval_end:%Y-%m-%d}")
    train = store.window(windows.train_start, windows.eval_start, labelled=cls.label)
    held_out = store.window(windows.eval_start, windows.eval_end, labelled=cls.label)
    if held_out.empty:
        raise ZetaError(f"no labelled {task} rows in the evaluation window "
                        f"{windows.eval_start:%Y-%m-%d %H:%M} .. {windows.eval_end:%Y-%m-%d %H:%M}: "
                        "pass --until or a shorter --eval-days")
    return train_on(task, train, held_out, windows, params=params, extra_metadata=extra_metadata,
                    on_stage=on_stage, refit_on_all=True, store_id=store.id)


def train_on(task: str, train: pd.DataFrame, held_out: pd.DataFrame, windows: Windows, *,
             params: dict | None = None, extra_metadata: dict | None = None,
             on_stage=lambda message: None, refit_on_all: bool = False,
             store_id: str | None = None) -> TrainResult:
    """Fit on `train`, score on `held_out`, save to the model store; the loop's retrain uses this too.

    With `refit_on_all` (what `zeta train` does) the model that is saved is fitted again on
    train and held-out rows together, so the newest week is not wasted; its reference score
    stays the honest one measured before, by the model that never saw the held-out rows.
    The loop's challengers keep `refit_on_all=False`: they are compared on the held-out rows.
    `store_id` labels the model with the listing store it learned from (see registry.STORE_LABEL).
    """
    started = time.perf_counter()
    before = len(held_out)
    held_out = drop_relistings(held_out, train)
    on_stage(f"fitting on {len(train)} rows")
    model = model_class(task)(**(params or {})).fit(train)
    fit_seconds = time.perf_counter() - started
    on_stage(f"scoring on {len(held_out)} held-out rows")
    scores = model.report(held_out)
    # the share of unseen tokens a model meets on rows it never saw: the early warning's baseline
    rate = unseen_rate(model, held_out)
    fitted_on = {"train_rows": int(len(train))}
    if refit_on_all:
        everything = pd.concat([train, held_out], ignore_index=True)
        on_stage(f"fitting the model to save on all {len(everything)} rows (train + held-out)")
        refit_started = time.perf_counter()
        model = model_class(task)(**(params or {})).fit(everything)
        fit_seconds = time.perf_counter() - refit_started
        fitted_on = {"train_rows": int(len(everything)), "scored_model_train_rows": int(len(train))}
    saved = registry.save(model, golden=held_out, store_id=store_id, metadata={
        "unseen_rate": rate if rate is not None else -1.0,
        "windows": windows.as_dict(),
        **fitted_on,
        "eval_rows": int(len(held_out)),
        "eval_rows_relisted": int(before - len(held_out)),  # dropped: they relist a training item
        "scores": scores,
        "fit_seconds": round(fit_seconds, 2),
        "refit_on_all": bool(refit_on_all),
        **(extra_metadata or {}),
    })
    return TrainResult(saved, scores, fitted_on["train_rows"], len(held_out), time.perf_counter() - started, model)


def evaluate(store: ListingStore, tag: str, *, until=None, eval_days: float = DEFAULT_EVAL_DAYS):
    """Score a stored model (an exact tag) on the newest evaluation window: (scores, SavedModel, Windows)."""
    model, saved = registry.load(tag)
    windows = Windows.ending(until if until is not None else default_until(store), 1.0, eval_days)
    frame = store.window(windows.eval_start, windows.eval_end, labelled=model.label)
    if frame.empty:
        raise ZetaError(f"no labelled {model.task} rows between {windows.eval_start:%Y-%m-%d %H:%M} "
                        f"and {windows.eval_end:%Y-%m-%d %H:%M}")
    return model.report(frame), saved, windows
