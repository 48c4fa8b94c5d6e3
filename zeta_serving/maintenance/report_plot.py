"""The maintenance report's figures: one matplotlib Figure per model, from its ledger history.

Top, the live model's score per run with its bootstrap band, the reference score as a step
line, challenger scores, and a marker per promotion, alert and failure; bottom (shared time
axis), the share of recent tokens the live model never saw, against the same share at its
training. Rendered with `Figure` + `FigureCanvasAgg`: no pyplot, no global backend switch.
Labels stay ASCII so no font is missing. The metric's direction comes from the task's estimator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from zeta_serving import tasks
from zeta_serving.maintenance.ledger import FAILED, NOT_RECOVERED, PROMOTED, PROMOTED_DEGRADED

FIGSIZE, DPI = (10.0, 6.5), 100  # 1000 x 650 px
UNFINISHED = "unfinished"  # a run with no decision: still running, or its process died

# Artist ids, so that tests (and anyone inspecting a Figure) can find each series.
GID_LIVE, GID_BAND, GID_REFERENCE = "live", "live-band", "reference"
GID_CHALLENGER = "challenger"
GID_PROMOTED, GID_PROMOTED_DEGRADED = "promoted", "promoted-degraded"
GID_NOT_RECOVERED, GID_FAILED = "not-recovered", "failed"
GID_UNSEEN, GID_UNSEEN_TRAIN = "unseen", "unseen-train"


def lower_is_better(model: str, metric: str | None) -> bool | None:
    """The metric's direction as the model's estimator declares it; None when the ledger's metric is
    not the registered task's (an unknown model, or a metric it no longer reports): never guessed."""
    if not metric or model not in tasks.names():
        return None
    task = tasks.get(model)
    return None if task.metric != metric else not task.greater_is_better


def _metric_of(history: pd.DataFrame) -> str | None:
    metrics = history["metric"].dropna() if "metric" in history else pd.Series(dtype=object)
    return str(metrics.iloc[-1]) if len(metrics) else None


def _serving_tag(history: pd.DataFrame) -> str | None:
    tags = history["serving_tag"].dropna() if "serving_tag" in history else pd.Series(dtype=object)
    return str(tags.iloc[-1]) if len(tags) else None


def _times(history: pd.DataFrame) -> np.ndarray:
    """Run times as naive UTC datetime64 (what matplotlib's date axis takes without tz surprises)."""
    now = pd.to_datetime(history["now"], utc=True)
    return now.dt.tz_convert(None).to_numpy(dtype="datetime64[ns]")


def _floats(history: pd.DataFrame, column: str) -> np.ndarray:
    if column not in history:
        return np.full(len(history), np.nan)
    return pd.to_numeric(history[column], errors="coerce").to_numpy(dtype=float)


def plot_series(history: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    """What `plot_model` draws, as {series: {"x": times, "y": values, ...}}; rows without data left out."""
    x = _times(history)
    decision = history["decision"].fillna(UNFINISHED).astype(str).to_numpy() if len(history) else np.array([])
    live, low, high = _floats(history, "live_score"), _floats(history, "live_low"), _floats(history, "live_high")
    reference = _floats(history, "reference_score")
    challenger = _floats(history, "challenger_score")
    unseen, unseen_train = _floats(history, "unseen_rate"), _floats(history, "unseen_rate_train")

    def pick(mask, **columns):
        return {"x": x[mask], **{name: values[mask] for name, values in columns.items()}}

    # A run records the reference it was judged against; a (recovered) promotion crowns the challenger
    # with its score as the new reference, a degraded one keeps the old standard. Plot the reference in
    # force *after* each run, so it steps at the promotion.
    reference = np.where((decision == PROMOTED) & ~np.isnan(challenger), challenger, reference)
    has_live = ~np.isnan(live)
    # Where a promotion lands: the new champion's score (the challenger's), else the live score.
    landed = np.where(np.isnan(challenger), live, challenger)
    failed = decision == FAILED  # often without a score: drawn at the bottom edge of the panel
    stage = history["failed_stage"].fillna("").astype(str).to_numpy() if len(history) else np.array([])
    return {
        GID_LIVE: pick(has_live, y=live),
        GID_BAND: pick(~np.isnan(low) & ~np.isnan(high), low=low, high=high),
        GID_REFERENCE: pick(~np.isnan(reference), y=reference),
        GID_CHALLENGER: pick(~np.isnan(challenger), y=challenger),
        GID_PROMOTED: pick(decision == PROMOTED, y=landed),
        GID_PROMOTED_DEGRADED: pick(decision == PROMOTED_DEGRADED, y=landed),
        GID_NOT_RECOVERED: pick(decision == NOT_RECOVERED, y=live),
        GID_FAILED: pick(failed, stage=stage),
        GID_UNSEEN: pick(~np.isnan(unseen), y=unseen),
        GID_UNSEEN_TRAIN: pick(~np.isnan(unseen_train), y=unseen_train),
    }


def _step_to_end(series: dict, x_end) -> tuple[np.ndarray, np.ndarray]:
    """A step line's points, carried on to the last run so the current value is visible."""
    x, y = series["x"], series["y"]
    if len(x) and x[-1] < x_end:
        x, y = np.append(x, x_end), np.append(y, y[-1])
    return x, y


def plot_model(history: pd.DataFrame, model: str, serving_tag: str | None = None):
    """The model's figure (a matplotlib `Figure` on an Agg canvas, not registered with pyplot)."""
    import matplotlib.dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter
    from matplotlib.transforms import blended_transform_factory

    series = plot_series(history)
    metric = _metric_of(history) or "score"
    direction = lower_is_better(model, _metric_of(history))
    serving_tag = serving_tag or _serving_tag(history) or "none"

    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.4, 1]})
    x_all = _times(history)
    x_end = x_all.max() if len(x_all) else None

    band = series[GID_BAND]
    if len(band["x"]):
        top.fill_between(band["x"], band["low"], band["high"], color="tab:blue", alpha=0.18, linewidth=0,
                         label="live 95% CI", gid=GID_BAND)
    live = series[GID_LIVE]
    top.plot(live["x"], live["y"], color="tab:blue", marker=".", markersize=4, linewidth=1.3,
             label="live score", gid=GID_LIVE)
    ref_x, ref_y = _step_to_end(series[GID_REFERENCE], x_end)
    top.step(ref_x, ref_y, where="post", color="0.35", linewidth=1.4, label="reference", gid=GID_REFERENCE)
    chal = series[GID_CHALLENGER]
    if len(chal["x"]):
        top.plot(chal["x"], chal["y"], linestyle="none", marker="o", markersize=7, markerfacecolor="none",
                 markeredgecolor="tab:purple", markeredgewidth=1.3, label="challenger", gid=GID_CHALLENGER)

    for gid, label, style in (
        (GID_PROMOTED, "promoted", dict(marker="^", color="tab:green", markersize=10)),
        (GID_PROMOTED_DEGRADED, "promoted (degraded)", dict(marker="^", color="tab:orange", markersize=10)),
        (GID_NOT_RECOVERED, "alert: not recovered", dict(marker="x", color="tab:red", markersize=10,
                                                         markeredgewidth=2.2)),
    ):
        points = series[gid]
        if len(points["x"]):
            top.plot(points["x"], points["y"], linestyle="none", label=label, gid=gid, zorder=5, **style)

    failed = series[GID_FAILED]
    if len(failed["x"]):
        # Failures sit just above the bottom edge of the panel whatever the scores are.
        edge = blended_transform_factory(top.transData, top.transAxes)
        top.plot(failed["x"], np.full(len(failed["x"]), 0.04), transform=edge, linestyle="none", marker="x",
                 color="black", markersize=9, markeredgewidth=2, label="failed", gid=GID_FAILED, zorder=5,
                 clip_on=False)
        for at, stage in zip(failed["x"], failed["stage"]):
            # Annotations skip unit conversion on a blended transform: give matplotlib's date number.
            top.annotate(stage or "?", (mdates.date2num(at), 0.04), xycoords=edge, xytext=(4, 6), textcoords="offset points",
                         fontsize=7, color="black", rotation=45)

    note = {True: " (lower is better)", False: " (higher is better)", None: ""}[direction]
    top.set_ylabel(f"{metric}{note}")
    top.grid(True, alpha=0.3)
    top.legend(loc="best", fontsize=8, ncols=2, framealpha=0.85)
    top.set_title(f"{model}: serving {serving_tag}", fontsize=11)

    unseen = series[GID_UNSEEN]
    bottom.plot(unseen["x"], unseen["y"], color="tab:brown", marker=".", markersize=4, linewidth=1.2,
                label="unseen tokens (recent)", gid=GID_UNSEEN)
    train_x, train_y = _step_to_end(series[GID_UNSEEN_TRAIN], x_end)
    bottom.step(train_x, train_y, where="post", color="tab:brown", linestyle="--", linewidth=1.2, alpha=0.8,
                label="unseen at training", gid=GID_UNSEEN_TRAIN)
    bottom.yaxis.set_major_formatter(PercentFormatter(1.0))
    bottom.set_ylabel("unseen tokens")
    bottom.set_xlabel("run time (UTC)")
    bottom.grid(True, alpha=0.3)
    if len(unseen["x"]) or len(train_x):
        bottom.legend(loc="best", fontsize=8)
    else:
        bottom.text(0.5, 0.5, "no token data", transform=bottom.transAxes, ha="center", va="center",
                    color="0.4")

    locator = mdates.AutoDateLocator()
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    fig.tight_layout()
    return fig


# -- HTML ---------------------------------------------------------------------
