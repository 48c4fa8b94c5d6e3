"""`zeta synth`: synthetic listings into the listing store or a JSON Lines file."""

from __future__ import annotations

import json
import math
import re
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

import click
import pandas as pd

from zeta_serving.cli.common import progress_enabled
from zeta_serving.errors import ZetaError


def _flag(param: click.Parameter) -> str:
    return max(param.opts, key=len) if param.opts else param.name or "value"


class _Date(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                raise ValueError
            return date.fromisoformat(text)
        except ValueError:
            # a ZetaError, not self.fail(): the CLI prints it as one line, without the usage block
            raise ZetaError(f"{_flag(param)}: {text!r} is not a date (expected YYYY-MM-DD)") from None


class _Number(click.ParamType):
    def __init__(self, kind: type, low: float | None = None, high: float | None = None,
                 low_open: bool = False) -> None:
        self.kind, self.low, self.high, self.low_open = kind, low, high, low_open
        self.name = "N" if kind is int else "X"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            number = self.kind(value)
            if self.kind is float and not math.isfinite(number):
                raise ValueError
        except (TypeError, ValueError):
            what = "an integer" if self.kind is int else "a number"
            raise ZetaError(f"{_flag(param)}: {value!r} is not {what}") from None
        too_low = self.low is not None and (number <= self.low if self.low_open else number < self.low)
        too_high = self.high is not None and number > self.high
        if too_low or too_high:
            if self.high is not None:
                rng = f"within {self.low:g}..{self.high:g}"
            else:
                rng = f"{'>' if self.low_open else '>='} {self.low:g}"
            raise ZetaError(f"{_flag(param)} must be {rng}, got {value}")
        return number


def _jsonl_line(row: dict) -> str:
    row["listed_at"] = row["listed_at"].isoformat()
    row["tags"] = list(row["tags"])
    row["condition"], row["shipping"] = int(row["condition"]), int(row["shipping"])
    row["price"] = None if pd.isna(row["price"]) else float(row["price"])
    return json.dumps(row, ensure_ascii=False)


def write_jsonl(frame: pd.DataFrame, fh: IO[str]) -> int:
    """Listings as JSON Lines (the `zeta` format): one object per listing, ISO-8601 listed_at."""
    for row in frame.to_dict(orient="records"):
        fh.write(_jsonl_line(row) + "\n")
    return len(frame)


@click.command("synth")
@click.option("--seed", type=_Number(int, 0), default=0, show_default=True, help="Random seed.")
@click.option("--start", type=_Date(), default="2026-01-01", show_default=True, help="First day.")
@click.option("--days", type=_Number(int, 1), default=30, show_default=True, help="Number of days.")
@click.option("--rows-per-day", type=_Number(int, 1), default=1000, show_default=True, help="Listings per day.")
@click.option("--drift-vocab-from", type=_Date(), default=None,
              help="From this day, new brands, product lines and item words (vocabulary drift).")
@click.option("--drift-price-from", type=_Date(), default=None,
              help="From this day, every price is multiplied by --price-factor.")
@click.option("--price-factor", type=_Number(float, 0, low_open=True), default=1.6, show_default=True,
              help="Price multiplier of the price drift.")
@click.option("--drift-noise-from", type=_Date(), default=None,
              help="From this day, label noise: random category, tags and price factor.")
@click.option("--noise-rate", type=_Number(float, 0, 1), default=0.35, show_default=True,
              help="Share of noisy listings under the noise drift.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write JSON Lines here ('-' for stdout) instead of the listing store.")
@click.pass_context
def synth(ctx: click.Context, seed: int, start: date, days: int, rows_per_day: int,
          drift_vocab_from: date | None, drift_price_from: date | None, price_factor: float,
          drift_noise_from: date | None, noise_rate: float, out: Path | None) -> None:
    """Generate synthetic Japanese listings (real category tree and brands), optionally drifting."""
    from tqdm import tqdm

    from zeta_serving.synth import Drift, generate_day

    drift = None
    if drift_vocab_from or drift_price_from or drift_noise_from:
        drift = Drift(vocab_from=drift_vocab_from, price_from=drift_price_from, price_factor=price_factor,
                      noise_from=drift_noise_from, noise_rate=noise_rate)
    store, fh, where = None, None, ""
    if out is None:
        from zeta_serving.paths import default_db_url
        from zeta_serving.redaction import scrub_secrets
        from zeta_serving.store import ListingStore

        url = (ctx.find_root().obj or {}).get("db_url") or default_db_url()
        store, where = ListingStore(url), scrub_secrets(url)
    elif str(out) == "-":
        fh, where = sys.stdout, "stdout"
    else:
        try:
            fh = out.open("w", encoding="utf-8")
        except OSError as exc:
            raise ZetaError(f"--out: cannot write {out}: {exc.strerror}") from None
        where = str(out)

    generated = written = 0
    began = time.perf_counter()
    try:
        for k in tqdm(range(days), desc="synth", unit="day", file=sys.stderr, leave=False,
                      disable=not progress_enabled()):
            frame = generate_day(start + timedelta(days=k), rows_per_day, seed, drift)
            generated += len(frame)
            written += store.insert(frame) if store is not None else write_jsonl(frame, fh)
    finally:
        if fh is not None and fh is not sys.stdout:
            fh.close()
        close = getattr(store, "close", None)
        if callable(close):
            close()
    elapsed = max(time.perf_counter() - began, 1e-9)
    new = f" ({written} new)" if store is not None and written != generated else ""
    click.echo(f"synth: {generated} listings{new}, {days} days from {start.isoformat()}, "
               f"{generated / elapsed:,.0f} rows/s -> {where}", err=fh is sys.stdout)
