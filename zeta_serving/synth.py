"""Synthetic Japanese marketplace listings, built on the real category tree and brand list.

`generate_day(day, rows, seed, drift)` returns one day of listings in the schema of
`zeta_serving.schema`; `generate(start, days, rows_per_day, seed, drift)` yields day after day.
A day's rows depend only on (seed, day, rows, drift): any slice of days can be regenerated alone.

The signal is learnable, as on a real marketplace: the name carries the item noun of the leaf
category (and often its parent's), brands belong to one or two top-levels, prices follow category,
brand tier, condition and shipping with log-normal noise, tags are colours, sizes, materials,
product lines, condition and features that are mostly written in the name or description.
`Drift` switches on, from a given day, (a) a new vocabulary, (b) a new price level, (c) label noise.
Everything fixed (brand→top-level, leaf price level, brand tier, coined words) comes from a stable
hash or a fixed-seed generator; only category and brand popularity depend on the seed.
The world lives in `synth_world`, vocabulary drift's coined words and the public look-ups in
`synth_coined`, how a listing is written in `synth_text`; this module draws the days.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Iterator

import numpy as np
import pandas as pd

from zeta_serving import synth_catalog as C
from zeta_serving.errors import ZetaError
from zeta_serving.schema import COLUMNS
from zeta_serving.synth_coined import (_coined, brand_names, drift_vocabulary, drift_word,  # noqa: F401
                                       leaf_paths, tag_surfaces, tag_vocabulary)
from zeta_serving.synth_text import _COND_CUM, _rows
from zeta_serving.synth_world import (CATALOG_SHARE, COND_LOGPRICE, NEW_BRANDS_PER_TOP,  # noqa: F401
                                      NOBRAND_LOGPRICE, PRICE_SIGMA, RELIST_DAYS, RELIST_SHARE, SHIP_SHARE,
                                      VOCAB_RATE, _popularity, _world, brand_logtier)


@dataclass(frozen=True)
class Drift:
    """Changes switched on from a day on (rows of days >= the date are affected).

    vocab_from: new brands, product lines and item words never seen before, in ~`vocab_rate` of rows.
    price_from: every price multiplied by `price_factor`.
    noise_from: with probability `noise_rate`, random category, random tags, price × log-uniform[0.2, 5].
    """

    vocab_from: date | None = None
    price_from: date | None = None
    price_factor: float = 1.6
    noise_from: date | None = None
    noise_rate: float = 0.35
    vocab_rate: float = VOCAB_RATE

    def __post_init__(self) -> None:  # accept datetimes / Timestamps, compare as dates
        for field in ("vocab_from", "price_from", "noise_from"):
            value = getattr(self, field)
            if value is not None and type(value) is not date:
                object.__setattr__(self, field, date(value.year, value.month, value.day))




def _empty_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "id": pd.Series([], dtype="str"), "name": pd.Series([], dtype="str"),
        "description": pd.Series([], dtype="str"), "brand": pd.Series([], dtype="str"),
        "condition": pd.Series([], dtype="int64"), "shipping": pd.Series([], dtype="int64"),
        "category": pd.Series([], dtype="str"), "price": pd.Series([], dtype="float64"),
        "currency": pd.Series([], dtype="str"), "tags": pd.Series([], dtype="object"),
        "listed_at": pd.Series([], dtype="datetime64[us, UTC]"),
    })[COLUMNS]


def _check(day: date, rows: int, seed: int, drift: Drift | None) -> None:
    if not isinstance(day, date):
        raise ZetaError(f"synth: day must be a date, got {day!r}")
    if seed < 0:
        raise ZetaError(f"synth: seed must be >= 0, got {seed}")
    if rows < 0:
        raise ZetaError(f"synth: rows must be >= 0, got {rows}")
    if drift is not None:
        if not 0.0 <= drift.noise_rate <= 1.0:
            raise ZetaError(f"synth: noise rate must be within 0..1, got {drift.noise_rate}")
        if not 0.0 <= drift.vocab_rate <= 1.0:
            raise ZetaError(f"synth: vocab rate must be within 0..1, got {drift.vocab_rate}")
        if not (drift.price_factor > 0 and math.isfinite(drift.price_factor)):
            raise ZetaError(f"synth: price factor must be > 0, got {drift.price_factor}")


def _round_yen(price: np.ndarray) -> np.ndarray:
    return np.where(price < 10000, np.round(price, -1), np.round(price, -2))


def _on(since: date | None, day: date) -> bool:
    return since is not None and day >= since


def generate_day(day: date, rows: int, seed: int, drift: Drift | None = None) -> pd.DataFrame:
    """One day of `rows` synthetic listings; depends only on (seed, day, rows, drift).

    About RELIST_SHARE of them relist an item first listed on one of the RELIST_DAYS before
    (same title, description, brand, category and tags, a price up to 15% lower, a new id):
    what the relist key of `zeta_serving.relist` keeps out of held-out scores.
    """
    _check(day, rows, seed, drift)
    if isinstance(day, pd.Timestamp) or type(day) is not date:
        day = date(day.year, day.month, day.day)
    if rows == 0:
        return _empty_frame()
    frame = _fresh_day(day, rows, seed, drift).copy()
    rng = np.random.default_rng([seed, day.toordinal(), 104729])
    relist = np.flatnonzero(rng.random(rows) < RELIST_SHARE)
    back = rng.integers(1, RELIST_DAYS + 1, len(relist))
    source_row = rng.integers(0, rows, len(relist))
    cut = rng.uniform(0.85, 1.0, len(relist))
    copied = ["name", "description", "brand", "condition", "shipping", "category", "tags"]
    for k in np.unique(back):
        mine = back == k
        source = _fresh_day(day - timedelta(days=int(k)), rows, seed, drift).iloc[source_row[mine]]
        at = relist[mine]
        for col in copied:
            values = frame[col].tolist()
            for a, value in zip(at, source[col].tolist()):
                values[a] = value
            frame[col] = pd.Series(values, index=frame.index, dtype=frame[col].dtype)
        price = frame["price"].to_numpy().copy()
        was = source["price"].to_numpy()
        price[at] = np.maximum(_round_yen(was * cut[mine]), np.minimum(was, 300))
        frame["price"] = price
    return frame


@lru_cache(maxsize=RELIST_DAYS + 2)
def _fresh_day(day: date, rows: int, seed: int, drift: Drift | None) -> pd.DataFrame:
    """A day's own new listings (no relistings); cached because the days after it relist from it."""
    w = _world()
    leaf_cum, brand_idx, brand_cum = _popularity(seed)
    rng = np.random.default_rng([seed, day.toordinal()])
    # every draw happens whatever the drift, so days before a drift equal the undrifted ones
    leaf = np.minimum(np.searchsorted(leaf_cum, rng.random(rows), side="right"), len(w.paths) - 1)
    top = w.leaf_top[leaf]
    has_brand = rng.random(rows) < w.brand_share[top]
    u_brand = rng.random(rows)
    cond = np.searchsorted(_COND_CUM, rng.random(rows), side="right").clip(0, 5) + 1
    ship = (rng.random(rows) < SHIP_SHARE).astype(np.int64)
    eps = rng.normal(0.0, PRICE_SIGMA, rows)
    u_vocab, u_newbrand = rng.random(rows), rng.random(rows)
    u_noise = rng.random(rows)
    noise_leaf = rng.integers(0, len(w.paths), rows)
    noise_ntags = rng.integers(1, 6, rows)
    noise_tags = rng.integers(0, len(w.tag_vocab), (rows, 5))
    noise_logprice = rng.uniform(math.log(0.2), math.log(5.0), rows)
    seconds = np.sort(rng.integers(0, 86400, rows))
    py = random.Random(int(rng.integers(0, 2**62)))
    catalog = np.where(rng.random(rows) < CATALOG_SHARE,
                       np.searchsorted(C.LINE_CUM, rng.random(rows), side="right").clip(0, len(C.LINES) - 1), -1)

    brand = np.full(rows, -1, dtype=np.int64)
    for t in range(len(w.tops)):
        m = (top == t) & has_brand
        if m.any():
            pick = np.minimum(np.searchsorted(brand_cum[t], u_brand[m], side="right"), len(brand_cum[t]) - 1)
            brand[m] = brand_idx[t][pick]
    drift = drift or Drift()
    drifted = np.zeros(rows, dtype=bool)
    newbrand = [""] * rows
    if _on(drift.vocab_from, day):
        coined = _coined()
        drifted = u_vocab < drift.vocab_rate
        nb = np.minimum(np.searchsorted(coined.brand_cum, u_newbrand, side="right"), NEW_BRANDS_PER_TOP - 1)
        # drifted rows carry a new brand when they had one, and 40% of the brandless ones too
        for i in np.flatnonzero(drifted & (has_brand | (u_vocab < 0.4 * drift.vocab_rate))):
            newbrand[i] = coined.brands[top[i]][nb[i]]
    names, descs, brands_out, tags, bundle, items = _rows(
        w, leaf.tolist(), brand.tolist(), newbrand, cond.tolist(), ship.tolist(), drifted.tolist(),
        catalog.tolist(), py)

    tier = np.where(brand >= 0, w.brand_logtier[np.maximum(brand, 0)], NOBRAND_LOGPRICE)
    if drifted.any():
        tier[drifted] = [brand_logtier(b) if b else NOBRAND_LOGPRICE for b in np.asarray(brands_out)[drifted]]
    if items:  # catalogue rows: their line's leaf
        at = np.fromiter(items, dtype=np.int64)
        leaf[at] = [w.leaf_index[items[i].leaf] for i in at]
    top = w.leaf_top[leaf]
    # condition costs electronics much more than books or tickets (a resale market prices wear)
    cond_log = w.cond_weight[top] * (np.asarray(COND_LOGPRICE)[cond - 1] - COND_LOGPRICE[2])
    logp = w.leaf_logprice[leaf] + tier + COND_LOGPRICE[2] + cond_log + np.asarray(bundle) + eps
    if items:  # catalogue rows: the line's own price (at condition 3) and spread
        base = np.array([items[i].logprice for i in at])
        sigma = np.array([C.LINES[catalog[i]].sigma for i in at]) / PRICE_SIGMA
        logp[at] = base + cond_log[at] + eps[at] * sigma
    category = np.asarray(w.paths, dtype=object)[leaf]
    if _on(drift.noise_from, day):
        noisy = u_noise < drift.noise_rate
        category[noisy] = np.asarray(w.paths, dtype=object)[noise_leaf[noisy]]
        logp[noisy] += noise_logprice[noisy]
        vocab = w.tag_vocab
        for i in np.flatnonzero(noisy):
            tags[i] = list(dict.fromkeys(vocab[j] for j in noise_tags[i, :noise_ntags[i]]))
    # a seller who pays shipping adds its cost, a fixed amount by parcel size: a big share of a cheap item
    price = np.exp(logp) + ship * w.ship_cost[top]
    if _on(drift.price_from, day):
        price = price * drift.price_factor
    floor = np.array([300] + [line.floor for line in C.LINES])[catalog + 1]
    price = _round_yen(price).clip(floor, 9_999_999)

    listed = pd.DatetimeIndex(np.datetime64(day, "s") + seconds.astype("timedelta64[s]"))
    listed = listed.as_unit("us").tz_localize("UTC")
    stamp = day.strftime("%Y%m%d")
    frame = pd.DataFrame({
        "id": pd.array([f"synth-{seed}-{stamp}-{i:06d}" for i in range(rows)], dtype="str"),
        "name": pd.array(names, dtype="str"),
        "description": pd.array(descs, dtype="str"),
        "brand": pd.array(brands_out, dtype="str"),
        "condition": cond.astype(np.int64),
        "shipping": ship,
        "category": pd.array(category.tolist(), dtype="str"),
        "price": price.astype(np.float64),
        "currency": pd.array(["JPY"] * rows, dtype="str"),
        "tags": pd.Series(tags, dtype="object"),
        "listed_at": listed,
    })
    return frame[COLUMNS]


def generate(start: date, days: int, rows_per_day: int, seed: int,
             drift: Drift | None = None) -> Iterator[pd.DataFrame]:
    """`days` frames, one per day from `start`; equal to calling `generate_day` day by day."""
    if days < 0:
        raise ZetaError(f"synth: days must be >= 0, got {days}")
    for k in range(days):
        yield generate_day(start + timedelta(days=k), rows_per_day, seed, drift)
