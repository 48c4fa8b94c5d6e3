"""The maintenance report: one static HTML page plus one PNG per model, read from the ledger.

    write_report(Ledger(engine), Path("report"))  ->  report/index.html, report/price.png, ...

Each model's figure is drawn by report_plot (`plot_model`); this module writes the page.

The page never shows the database URL (only its dialect) and escapes every text it prints.
"""

from __future__ import annotations

import html
import math
import os
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from zeta_serving import tasks
from zeta_serving.errors import ZetaError
from zeta_serving.maintenance.ledger import DECISIONS, Ledger

from zeta_serving.maintenance.report_plot import DPI, UNFINISHED, _metric_of, _serving_tag, lower_is_better, plot_model

TABLE_ROWS = 10
ERROR_CHARS = 160


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Hiragino Sans", "Noto Sans JP", sans-serif;
       margin: 1.5em auto; max-width: 1060px; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ccc; }
.meta { color: #555; font-size: 0.9em; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.82em; margin: 0.6em 0; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.d-promoted { color: #1a7f37; } .d-promoted-degraded { color: #c45a00; }
.d-not-recovered { color: #c62828; font-weight: bold; } .d-failed { color: #000; font-weight: bold; }
.d-unfinished { color: #777; } .error { color: #8a1c1c; font-family: monospace; white-space: pre-wrap; }
.none { color: #777; font-style: italic; }
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _num(value) -> str:
    if _missing(value):
        return ""
    value = float(value)
    return f"{value:.4g}" if math.isfinite(value) else str(value)


def _with_ci(score, low, high) -> str:
    text = _num(score)
    if text and not _missing(low) and not _missing(high):
        text += f" [{_num(low)}, {_num(high)}]"
    return text


def _when(value) -> str:
    return "" if _missing(value) else pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d %H:%M")


def _trim(text, limit: int = ERROR_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _file_stem(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", model).lstrip(".") or "model"


def decision_counts(history: pd.DataFrame) -> dict[str, int]:
    """Runs per decision, in DECISIONS order, then unfinished (runs with no decision); zeros left out."""
    decisions = history["decision"].fillna(UNFINISHED).astype(str) if len(history) else pd.Series(dtype=str)
    counts = decisions.value_counts().to_dict()
    order = [*DECISIONS, UNFINISHED] + sorted(set(counts) - {*DECISIONS, UNFINISHED})
    return {d: int(counts[d]) for d in order if counts.get(d)}


def _runs_table(history: pd.DataFrame) -> str:
    head = ("when (UTC)", "decision", "live score [95% CI]", "reference", "challenger [95% CI]", "serving tag",
            "failure")
    rows = []
    for run in history.tail(TABLE_ROWS).iloc[::-1].itertuples(index=False):
        decision = UNFINISHED if _missing(run.decision) else str(run.decision)
        shown = decision + (" (alerted)" if not _missing(run.alerted) and bool(run.alerted) else "")
        failure = ""
        if not _missing(run.failed_stage) or not _missing(run.error):
            stage = "" if _missing(run.failed_stage) else f"<b>{_e(run.failed_stage)}</b> "
            error = "" if _missing(run.error) else f'<span class="error">{_e(_trim(run.error))}</span>'
            failure = stage + error
        cells = [
            f"<td>{_e(_when(run.now))}</td>",
            f'<td class="d-{_e(_file_stem(decision))}">{_e(shown)}</td>',
            f'<td class="num">{_e(_with_ci(run.live_score, run.live_low, run.live_high))}</td>',
            f'<td class="num">{_e(_num(run.reference_score))}</td>',
            f'<td class="num">{_e(_with_ci(run.challenger_score, run.challenger_low, run.challenger_high))}</td>',
            f"<td>{_e('' if _missing(run.serving_tag) else run.serving_tag)}</td>",
            f"<td>{failure}</td>",
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    header = "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in head) + "</tr>"
    return f'<table class="runs">\n{header}\n' + "\n".join(rows) + "\n</table>"


def _counts_table(counts: dict[str, int]) -> str:
    header = "".join(f'<th class="d-{_e(d)}">{_e(d)}</th>' for d in counts) + "<th>total</th>"
    cells = "".join(f'<td class="num">{n}</td>' for n in counts.values()) + f'<td class="num">{sum(counts.values())}</td>'
    return f'<table class="counts"><tr>{header}</tr><tr>{cells}</tr></table>'


def _model_section(model: str, history: pd.DataFrame, image: str | None, serving_tag: str | None) -> str:
    parts = [f'<section id="model-{_e(_file_stem(model))}">', f"<h2>{_e(model)}</h2>"]
    if history.empty:
        parts.append('<p class="none">no runs yet</p>')
        return "\n".join(parts + ["</section>"])
    metric = _metric_of(history)
    direction = lower_is_better(model, metric)
    last = history.iloc[-1]
    meta = [f"serving: <b>{_e(serving_tag or 'none')}</b>",
            f"metric: {_e(metric or 'unknown')}" + ("" if direction is None else
                                                      f" ({'lower' if direction else 'higher'} is better)"),
            f"runs: {len(history)}", f"last run: {_e(_when(last['now']))}"]
    parts.append(f'<p class="meta">{" &middot; ".join(meta)}</p>')
    parts.append(f'<img src="{_e(quote(image))}" width="1000" height="650" '
                 f'alt="{_e(model)}: score and unseen-token rate over time">')
    parts.append("<h3>Decisions</h3>")
    parts.append(_counts_table(decision_counts(history)))
    parts.append(f"<h3>Last {min(TABLE_ROWS, len(history))} runs (newest first)</h3>")
    parts.append(_runs_table(history))
    parts.append("</section>")
    return "\n".join(parts)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_report(ledger: Ledger, out_dir: Path, models: Iterable[str] | None = None) -> Path:
    """Write `out_dir/index.html` and `out_dir/<model>.png` for each model with runs; return the HTML path."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ZetaError(f"cannot create report directory {out_dir}: {exc.strerror or exc}") from None

    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    dialect = getattr(getattr(ledger.engine, "dialect", None), "name", "unknown")
    sections = []
    for model in dict.fromkeys(models or tasks.names()):  # unique, in order
        history = ledger.history(model)
        image = None
        champion = ledger.champion(model)
        serving_tag = _serving_tag(history) or (champion.tag if champion else None)
        if not history.empty:
            image = f"{_file_stem(model)}.png"
            fig = plot_model(history, model, serving_tag)
            try:
                fig.savefig(out_dir / image, dpi=DPI, format="png")
            except OSError as exc:
                raise ZetaError(f"cannot write {out_dir / image}: {exc.strerror or exc}") from None
        sections.append(_model_section(model, history, image, serving_tag))

    page = "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>zeta maintenance report</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<h1>zeta maintenance report</h1>",
        f'<p class="meta">generated at {_e(generated)} &middot; database: {_e(dialect)} (URL redacted)</p>',
        *sections,
        "</body>",
        "</html>",
        "",
    ])
    index = out_dir / "index.html"
    try:
        _atomic_write(index, page.encode("utf-8"))
    except OSError as exc:
        raise ZetaError(f"cannot write {index}: {exc.strerror or exc}") from None
    return index
