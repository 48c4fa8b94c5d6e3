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
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import Iterator

import numpy as np
import pandas as pd

from zeta_serving import synth_catalog as C
from zeta_serving import synth_vocab as V
from zeta_serving.errors import ZetaError
from zeta_serving.schema import COLUMNS

BRAND_SHARE = {"ファッション": 0.85, "コスメ・美容": 0.8, "ベビー・キッズ": 0.6, "スポーツ": 0.6,
               "アウトドア・釣り・旅行用品": 0.6}  # listings with a brand, by top-level
OTHER_BRAND_SHARE = 0.3  # elsewhere (the brand list is mostly fashion houses)
SHIP_SHARE = 0.65  # seller pays shipping
CONDITION_P = (0.28, 0.17, 0.30, 0.13, 0.09, 0.03)
COND_LOGPRICE = (0.0, -0.1, -0.25, -0.45, -0.65, -1.0)
COND_WEIGHT = {"スマホ・タブレット・パソコン": 1.6, "テレビ・オーディオ・カメラ": 1.5, "生活家電・空調": 1.4,
               "ゲーム・おもちゃ・グッズ": 1.1, "本・雑誌・漫画": 0.5, "CD・DVD・ブルーレイ": 0.5, "チケット": 0.2,
               "食品・飲料・酒": 0.3}  # how much wear costs, by top-level (1.0 elsewhere)
SHIP_COST = {"本・雑誌・漫画": 230, "CD・DVD・ブルーレイ": 230, "チケット": 210, "コスメ・美容": 230,
             "ゲーム・おもちゃ・グッズ": 380, "ファッション": 520, "ベビー・キッズ": 520, "家具・インテリア": 1700,
             "生活家電・空調": 1200, "車・バイク・自転車": 1500, "スマホ・タブレット・パソコン": 750,
             "テレビ・オーディオ・カメラ": 900}  # yen a seller-paid parcel costs, by top-level (600 elsewhere)
NOBRAND_LOGPRICE = math.log(0.85)
PRICE_SIGMA = 0.3
VOCAB_RATE = 0.65  # share of listings using the new vocabulary once drift (a) is on
NEW_BRANDS_PER_TOP, NEW_SERIES_PER_TOP = 40, 12
CATALOG_SHARE = 0.3  # listings drawn from the known product lines of synth_catalog
CATALOG_NO_BRAND_FIELD = 0.3  # of those, listings whose brand field is left empty
FASHION_BRAND_SHARE = 0.6  # the brand list is mostly fashion: most of its brands sell there
RELIST_SHARE = 0.03  # listings that relist an item of one of the RELIST_DAYS before, under a new id
RELIST_DAYS = 10


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


# ---------------------------------------------------------------- stable randomness

def _u(key: str) -> float:
    """A stable uniform in [0, 1) for `key` (not Python's salted hash())."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") / 2.0**64


def _n(key: str) -> float:
    """A stable standard normal for `key` (Box-Muller on two stable uniforms)."""
    return math.sqrt(-2.0 * math.log(1.0 - _u("a" + key))) * math.cos(2.0 * math.pi * _u("b" + key))


# ---------------------------------------------------------------- text helpers

@lru_cache(maxsize=None)
def _model_codes(brand: str) -> tuple[str, ...]:
    """Four model numbers of a brand, fixed by hash ("KX-720", "B1204")."""
    digest = hashlib.blake2b(("model:" + brand).encode(), digest_size=16).digest()
    codes = []
    for k in range(4):
        n = int.from_bytes(digest[4 * k:4 * k + 4], "little")
        letters = ""
        for _ in range(1 + n % 3):
            n //= 26 if letters else 3
            letters += chr(65 + n % 26)
        n //= 26
        ndig = 2 + n % 3
        n //= 3
        codes.append(letters + ("-" if n % 2 else "") + str((n // 2) % 10**ndig).zfill(ndig))
    return tuple(codes)


def _size_set(values: list[float], centre: float, spread: float) -> tuple[tuple[str, ...], list[float]]:
    w = np.exp(-0.5 * ((np.asarray(values) - centre) / spread) ** 2)
    return tuple(V.cm(v) for v in values), list(np.cumsum(w) / w.sum())


_LETTERS = (tuple(t for t, _ in V.LETTER_SIZES), list(np.cumsum([w for _, w in V.LETTER_SIZES])))
_SIZE_KINDS = {
    "letter": _LETTERS,
    "shoe_w": _size_set(list(np.arange(22.0, 25.51, 0.5)), 23.5, 0.9),
    "shoe_m": _size_set(list(np.arange(24.5, 29.01, 0.5)), 26.75, 1.0),
    "shoe": _size_set(list(np.arange(22.5, 28.51, 0.5)), 25.5, 1.5),
    "kids": _size_set([100, 110, 120, 130, 140, 150, 160], 125, 20),
    "baby": _size_set([50, 60, 70, 80, 90, 95], 75, 15),
    "kids_shoe": _size_set([float(v) for v in range(12, 22)], 16, 2.5),
}
_CLOTHES = {"トップス", "ジャケット・アウター", "パンツ", "スカート", "ワンピース", "スーツ・フォーマル・ドレス", "スーツ",
            "セットアップ", "サロペット・オーバーオール・オールインワン", "ルームウェア・パジャマ", "水着・ラッシュガード",
            "マタニティ", "学生服", "下着・アンダーウェア"}


# ---------------------------------------------------------------- the world (package data)

class _Leaf:
    __slots__ = ("path", "top", "levels", "p_parent", "size_tags", "size_cum", "materials", "colour_p",
                 "model_p", "logprice", "apparel")


@lru_cache(maxsize=None)
def _level_words(level: str) -> tuple[tuple[str, ...], str]:
    paren = " ".join(p for p in re.findall(r"\((.*?)\)", level) if "~" not in p and p != "以上")
    main = re.sub(r"\(.*?\)", "", level)
    words = tuple(w.strip() for w in re.split("[・／]", main) if w.strip())
    return words, paren


def _leaf_kind(parts: list[str], leaf: _Leaf) -> None:
    top, path = parts[0], "/".join(parts)
    l1, l2 = (parts + ["", ""])[1], (parts + ["", "", ""])[2]
    size, group = None, None
    if top == "ファッション":
        if l2 == "靴":
            size, group = ("shoe_w" if l1 == "レディース" else "shoe_m"), 1
        elif l2 in _CLOTHES:
            size, group = "letter", 0
        elif l2 in ("バッグ", "小物"):
            group = 1
        elif l2 in ("アクセサリー", "時計"):
            group = 2
    elif top == "ベビー・キッズ":
        if l1.startswith("キッズ服"):
            size, group = "kids", 0
        elif l1.startswith("ベビー服"):
            size, group = "baby", 0
        elif l1 in ("キッズシューズ", "ベビーシューズ"):
            size = "kids_shoe"
    elif top in ("スポーツ", "アウトドア・釣り・旅行用品"):
        if "ウェア" in path:
            size, group = "letter", 0
        elif "シューズ" in path:
            size, group = "shoe", 4
        else:
            group = 4
    elif top == "車・バイク・自転車":
        size, group = ("letter", 0) if "ウェア" in path else (None, 4)
    elif top in ("家具・インテリア", "キッチン・日用品・その他"):
        group = 3
    elif top == "ハンドメイド・手芸" and l1 == "アクセサリー":
        group = 2
    leaf.size_tags, leaf.size_cum = _SIZE_KINDS[size] if size else (None, None)
    leaf.apparel = size is not None and group == 0
    leaf.materials = V.MATERIAL_GROUPS[group] if group is not None else None


class _World:
    def __init__(self) -> None:
        data = resources.files("zeta_serving") / "data"
        lines = data.joinpath("categories.tsv").read_text(encoding="utf-8").splitlines()
        self.paths = [line.split("\t")[2] for line in lines[1:] if line.strip()]
        self.leaf_index = {p: i for i, p in enumerate(self.paths)}
        self.tops = list(dict.fromkeys(p.split("/")[0] for p in self.paths))
        top_ix = {t: i for i, t in enumerate(self.tops)}
        self.leaf_top = np.array([top_ix[p.split("/")[0]] for p in self.paths], dtype=np.int64)
        self.leaves: list[_Leaf] = []
        for path in self.paths:
            parts = path.split("/")
            leaf = _Leaf()
            leaf.path, leaf.top = path, top_ix[parts[0]]
            levels = [_level_words(lv) for lv in reversed(parts[1:]) if lv != "その他"]
            leaf.levels = tuple(lv for lv in levels if lv[0]) or (_level_words(parts[0]),)
            _leaf_kind(parts, leaf)
            leaf.colour_p = V.TOP_COLOUR_P.get(parts[0], 0.0)
            leaf.model_p = V.TOP_MODEL_P.get(parts[0], 0.0)
            tail = "/".join(parts[-2:])
            leaf.logprice = (math.log(V.TOP_BASE_PRICE[parts[0]]) + max(-1.3, min(1.3, 0.45 * _n("leaf:" + path)))
                             + sum(a for k, a in V.KEYWORD_LOGPRICE.items() if k in tail))
            self.leaves.append(leaf)
        primary = {}
        for leaf in self.leaves:
            for w in leaf.levels[0][0]:
                primary[w] = primary.get(w, 0) + 1
        for leaf in self.leaves:  # generic leaf words ("半袖") need the parent's word more often
            leaf.p_parent = 0.85 if max(primary[w] for w in leaf.levels[0][0]) >= 3 else 0.55
        self.leaf_logprice = np.array([lf.logprice for lf in self.leaves])
        self.nouns = {w for lf in self.leaves for lv in lf.levels for w in lv[0]}

        # tags
        self.colour_cum = list(np.cumsum([w for _, _, w in V.COLOURS]) / sum(w for _, _, w in V.COLOURS))
        taken = self.nouns | {t for t, _, _ in V.COLOURS} | set(V.MATERIALS) | {
            f for fs in V.FEATURES.values() for f in fs}
        self.series = [s for s in V.SERIES if s not in taken]
        sqrt_w = np.sqrt([V.TOP_WEIGHT[t] for t in self.tops])
        top_cum = list(np.cumsum(sqrt_w) / sqrt_w.sum())
        last = len(self.tops) - 1
        ordered = sorted(self.series, key=lambda s: _u("series:" + s))
        self.top_series: list[list[str]] = [[] for _ in self.tops]
        for k, s in enumerate(ordered):  # three for every top-level, the rest by weight
            t = k % len(self.tops) if k < 3 * len(self.tops) else bisect.bisect_left(top_cum, _u("st:" + s))
            self.top_series[min(t, last)].append(s)

        # brands
        text = data.joinpath("brands.txt").read_text(encoding="utf-8")
        self.brands = list(dict.fromkeys(b.strip() for b in text.splitlines() if b.strip()))
        self.top_brands: list[list[int]] = [[] for _ in self.tops]
        self.brand_series: list[tuple[str, ...]] = []
        fashion = self.tops.index("ファッション")
        for b, name in enumerate(self.brands):
            t1 = min(bisect.bisect_left(top_cum, _u("top1:" + name)), last)
            if _u("fashion:" + name) < FASHION_BRAND_SHARE:
                t1 = fashion
            if name not in C.BRANDS:  # known brands sell only their own lines (synth_catalog)
                self.top_brands[t1].append(b)
            if _u("two:" + name) < 0.3 and name not in C.BRANDS:
                t2 = min(bisect.bisect_left(top_cum, _u("top2:" + name)), last)
                if t2 != t1:
                    self.top_brands[t2].append(b)
            pool = self.top_series[t1]
            k = 1 + int(_u("nser:" + name) * 3)
            self.brand_series.append(tuple(dict.fromkeys(
                pool[int(_u(f"ser{j}:" + name) * len(pool))] for j in range(k))))
        self.brand_logtier = np.array([brand_logtier(b) for b in self.brands])
        # short brand names are often written in Latin letters (ナイキ -> NAIKI); long ones hardly ever
        self.brand_latin = [lat if lat and len(lat.replace(" ", "")) <= 10 else None
                            for lat in map(V.romanize, self.brands)]
        self.surface_tags = {surf: t for t, surfs, _ in V.COLOURS for surf in surfs}
        self.surface_tags.update({surf: t for t, surfs in V.SIZE_SURFACES.items() for surf in surfs})
        self.cond_weight = np.array([COND_WEIGHT.get(t, 1.0) for t in self.tops])
        self.ship_cost = np.array([SHIP_COST.get(t, 600) for t in self.tops], dtype=float)
        self.brand_share = np.array([BRAND_SHARE.get(t, OTHER_BRAND_SHARE) for t in self.tops])
        self.tag_vocab = sorted(
            {t for t, _, _ in V.COLOURS} | set(V.SIZE_SURFACES) | set(V.MATERIALS) | set(self.series)
            | set(V.CONDITION_TAGS) | {V.BUNDLE_TAG} | {f for fs in V.FEATURES.values() for f in fs}
            | {model for line in C.LINES for model, _ in line.models})


@lru_cache(maxsize=1)
def _world() -> _World:
    return _World()


@lru_cache(maxsize=None)
def brand_logtier(brand: str) -> float:
    """Log price multiplier of a brand: ~15% premium (×1.5–4), the rest ×0.67–1.5; fixed by hash."""
    u = _u("tier:" + brand)
    if u < 0.15:
        return math.log(1.5 + 2.5 * u / 0.15)
    return max(-0.4, min(0.4, 0.2 * _n("tn:" + brand)))


@lru_cache(maxsize=16)
def _popularity(seed: int) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Zipf-like popularity of leaves (within weighted top-levels) and of brands, fixed by seed."""
    w = _world()
    rng = np.random.default_rng([seed, 7919])
    leaf_w = np.zeros(len(w.paths))
    for t, top in enumerate(w.tops):
        idx = np.flatnonzero(w.leaf_top == t)
        z = 1.0 / (rng.permutation(len(idx)) + 1.0)
        leaf_w[idx] = V.TOP_WEIGHT[top] * z / z.sum()
    popular = np.zeros(len(w.paths))
    for key, percent in C.POPULAR_LEAVES.items():
        idx = [i for i, p in enumerate(w.paths) if key in p]
        popular[idx] += percent / len(idx)
    leaf_w = leaf_w / leaf_w.sum() * (100.0 - popular.sum()) + popular  # a fixed head, a seeded tail
    brand_idx, brand_cum = [], []
    for members in w.top_brands:
        z = 1.0 / (rng.permutation(len(members)) + 1.0) ** 1.1
        brand_idx.append(np.asarray(members, dtype=np.int64))
        brand_cum.append(np.cumsum(z) / z.sum())
    return np.cumsum(leaf_w) / leaf_w.sum(), brand_idx, brand_cum


# ---------------------------------------------------------------- coined vocabulary (drift a)

class _Coined:
    def __init__(self) -> None:
        w = _world()
        old: set[str] = set(w.nouns) | set(w.series) | set(w.tag_vocab) | set(V.SHORTENINGS.values())
        old |= {lv[1] for lf in w.leaves for lv in lf.levels if lv[1]}
        for b, lat in zip(w.brands, w.brand_latin):
            old.add(b)
            old.update(b.replace("\u3000", " ").split())
            if lat:
                old.update(lat.split())
        for surfs in list(V.SIZE_SURFACES.values()) + [s for _, s, _ in V.COLOURS] + list(V.MATERIALS.values()):
            old.update(surfs)
        old.update(w.paths)
        self.old_short = {x.lower() for x in old if len(x) >= 2}
        self.rng = random.Random(20240601)
        self.used: set[str] = set()
        self.leaf_word = [self.coin(0.3) for _ in w.paths]
        self.brands = [[self.coin(0.45) for _ in range(NEW_BRANDS_PER_TOP)] for _ in w.tops]
        self.series = [[self.coin(0.3) for _ in range(NEW_SERIES_PER_TOP)] for _ in w.tops]
        z = 1.0 / np.arange(1, NEW_BRANDS_PER_TOP + 1) ** 1.1
        self.brand_cum = np.cumsum(z) / z.sum()

    def coin(self, latin_share: float) -> str:
        r = self.rng.random
        while True:
            if r() < latin_share:
                letters = [V.COIN_VOWELS, V.COIN_CONS]
                word = "".join(letters[k % 2 == 0][int(r() * len(letters[k % 2 == 0]))]
                               for k in range(5 + int(r() * 3))).capitalize()
                min_sub = 3
            else:
                n = 2 + (r() < 0.7) + (r() < 0.25)
                word = "".join(V.COIN_KANA[int(r() * len(V.COIN_KANA))] for _ in range(n))
                word += V.COIN_KANA_END[int(r() * len(V.COIN_KANA_END))]
                min_sub = 2
            low = word.lower()
            if len(word) < 3 or low in self.used:
                continue
            # no old word (brand, noun, product line, tag, Latin spelling) inside the new one
            if any(low[i:j] in self.old_short for i in range(len(low)) for j in range(i + min_sub, len(low) + 1)):
                continue
            self.used.add(low)
            return word


@lru_cache(maxsize=1)
def _coined() -> _Coined:
    return _Coined()


# ---------------------------------------------------------------- public helpers

def leaf_paths() -> list[str]:
    """Every leaf category path of the package data (7,624)."""
    return list(_world().paths)


def brand_names() -> list[str]:
    """The brand list of the package data, and the catalogue's brands it misses (Apple, 任天堂, ...)."""
    brands = _world().brands
    return list(brands) + [b for b in C.BRANDS if b not in set(brands)]


def tag_vocabulary() -> list[str]:
    """Tags used before vocabulary drift (a few hundred)."""
    return list(_world().tag_vocab)


def tag_surfaces(tag: str) -> tuple[str, ...]:
    """How a tag may be written in a name or description (the tag itself when nothing else)."""
    for t, surfs, _ in V.COLOURS:
        if t == tag:
            return surfs
    if tag == V.BUNDLE_TAG:
        return V.BUNDLE_SURFACES
    return V.SIZE_SURFACES.get(tag) or V.MATERIALS.get(tag) or V.CONDITION_TAGS.get(tag) or (tag,)


def drift_word(category: str) -> str:
    """The coined item word that replaces a leaf's nouns under vocabulary drift."""
    w = _world()
    if category not in w.leaf_index:
        raise ZetaError(f"synth: not a leaf category: {category!r}")
    return _coined().leaf_word[w.leaf_index[category]]


def drift_vocabulary() -> set[str]:
    """Every coined word (item words, brands, product lines) used under vocabulary drift."""
    c = _coined()
    return set(c.leaf_word) | {b for bs in c.brands for b in bs} | {s for ss in c.series for s in ss}


# ---------------------------------------------------------------- generation

_BRACKET_CUM = list(np.cumsum([w for _, _, w in V.BRACKETS]) / sum(w for _, _, w in V.BRACKETS))
_COND_CUM = np.cumsum(CONDITION_P) / sum(CONDITION_P)


def _pick_surface(surfs: tuple[str, ...], r) -> str:
    return surfs[0] if len(surfs) == 1 or r() < 0.55 else surfs[1 + int(r() * (len(surfs) - 1))]


def _noun(level: tuple[tuple[str, ...], str], r) -> str:
    words, paren = level
    word = words[int(r() * len(words))]
    if word in V.SHORTENINGS and r() < 0.25:
        word = V.SHORTENINGS[word]
    if paren and r() < 0.5:
        word = f"{word} {paren}" if r() < 0.6 else f"{word}({paren})"
    return word


def _bracket(words: list[str], r) -> list[str]:
    o, c, _ = V.BRACKETS[bisect.bisect_right(_BRACKET_CUM, r())]
    if not o:
        return words
    if len(words) > 1 and r() < 0.5:
        return [o + "・".join(words) + c]
    return ["".join(o + w + c for w in words)]


class _Row:
    """What one listing is about, before it is written down."""

    __slots__ = ("brand", "latin", "series", "tags", "in_name", "in_desc", "cond_tag", "cond_where",
                 "bundle_text", "bundle_log")


def _attributes(w: _World, lf: _Leaf, b: int, new_brand: str, c: int, drifted: bool, coined, r) -> _Row:
    """Brand, product line and tags of a listing, and where each tag is written (name, description, nowhere)."""
    row = _Row()
    tags: list[str] = []
    in_name: dict[str, str] = {}
    in_desc: list[tuple[str, str]] = []

    def place(kind: str, surface: str, p_name: float) -> None:
        x = r()
        if x < p_name:
            in_name[kind] = surface
        elif x < p_name + (1.0 - p_name) * 0.6:
            in_desc.append((kind, surface))

    series = None
    if drifted:
        row.brand, row.latin = new_brand, None
        pool = coined.series[lf.top]
        series = pool[int(r() * r() * len(pool))]
    else:
        row.brand = w.brands[b] if b >= 0 else ""
        row.latin = w.brand_latin[b] if b >= 0 else None
        if b >= 0:
            if r() < 0.5:
                bs = w.brand_series[b]
                series = bs[int(r() * len(bs))]
        elif r() < 0.12:
            pool = w.top_series[lf.top]
            series = pool[int(r() * len(pool))]
    row.series = series
    if series:
        tags.append(series)
        place("series", series, 0.95 if drifted else 0.9)
    if lf.colour_p and r() < lf.colour_p:
        tag, surfs, _ = V.COLOURS[bisect.bisect_right(w.colour_cum, r() * w.colour_cum[-1])]
        tags.append(tag)
        place("colour", _pick_surface(surfs, r), 0.7)
    if lf.size_tags and r() < 0.7:
        tag = lf.size_tags[min(bisect.bisect_right(lf.size_cum, r()), len(lf.size_tags) - 1)]
        tags.append(tag)
        place("size", _pick_surface(V.SIZE_SURFACES[tag], r), 0.7)
    if lf.materials and r() < 0.35:
        tag = lf.materials[int(r() * len(lf.materials))]
        tags.append(tag)
        place("material", _pick_surface(V.MATERIALS[tag], r), 0.6)
    _condition_tag(row, c, tags, r)
    row.bundle_text, row.bundle_log = "", 0.0
    if r() < 0.07:
        k = 2 + int(r() * 4)
        x = r()
        row.bundle_text = f"{k}点セット" if x < 0.5 else f"{k}点まとめ" if x < 0.7 else "まとめ売り"
        row.bundle_log = 0.6 * math.log(k)
        tags.append(V.BUNDLE_TAG)
    if r() < 0.22 or not tags:
        feats = V.FEATURES[w.tops[lf.top]]
        feat = feats[int(r() * len(feats))]
        if feat not in tags:
            tags.append(feat)
            place("feature", feat, 0.55)
    row.tags, row.in_name, row.in_desc = tags[:5], in_name, in_desc
    return row


def _condition_tag(row: _Row, c: int, tags: list[str], r) -> None:
    ct = None
    if c == 1:
        ct = "新品未使用" if r() < 0.8 else None
    elif c == 2 or c == 3:
        ct = "美品" if r() < (0.5 if c == 2 else 0.25) else None
    elif c == 6:
        ct = "ジャンク" if r() < 0.7 else None
    row.cond_tag, row.cond_where = ct, 0  # 1: in the name, 2: in the description
    if ct:
        tags.append(ct)
        x = r()
        row.cond_where = 1 if x < 0.7 else 2 if x < 0.95 else 0


def _catalog_row(item: C.Item, c: int, r) -> _Row:
    """The _Row of a catalogue listing: its title core is already written (item.words)."""
    row = _Row()
    row.brand, row.latin, row.series, row.in_name, row.in_desc = item.brand, None, None, {}, []
    row.tags = list(item.tags)
    _condition_tag(row, c, row.tags, r)
    row.bundle_text, row.bundle_log = "", 0.0
    row.tags = row.tags[:5]
    return row


def _nouns(lf: _Leaf, word: str | None, r) -> list[str]:
    """The item nouns: the leaf's words and often its parent's; under drift, the leaf's coined word."""
    if word is not None:
        return [word, _noun(lf.levels[1], r)] if len(lf.levels) > 1 and r() < 0.1 else [word]
    levels = lf.levels
    nouns = [_noun(levels[0], r)]
    if len(levels) > 1 and r() < lf.p_parent:
        nouns.append(_noun(levels[1], r))
    for lv in levels[2:4]:
        if r() < 0.22:
            nouns.append(_noun(lv, r))
    if len(nouns) > 1:
        nouns = list(dict.fromkeys(nouns))
        if r() < 0.5:
            nouns.reverse()
    return nouns


def _prefix(row: _Row, c: int, s: int, r) -> list[str]:
    """Condition and promotion words that sellers put in brackets before or after the title."""
    pre: list[str] = []
    if row.cond_where == 1:
        pre.append(_pick_surface(V.CONDITION_TAGS[row.cond_tag], r))
    elif r() < 0.3:
        cw = V.COND_NAME_WORDS[c]
        pre.append(cw[int(r() * len(cw))])
    if r() < 0.25:
        pre.append(V.SHIP_PROMO if s and r() < 0.5 else V.PROMO_WORDS[int(r() * len(V.PROMO_WORDS))])
    return pre


def _name(row: _Row, lf: _Leaf, nouns: list[str], c: int, s: int, r) -> str:
    pre = _prefix(row, c, s, r)
    parts: list[str] = []
    brand, latin, in_name = row.brand, row.latin, row.in_name
    if brand and r() < 0.85:
        parts.append((latin if r() < 0.6 else latin.title()) if latin and r() < 0.18 else brand)
    if "series" in in_name:
        parts.append(row.series)
    parts.append("".join(nouns) if len(nouns) == 2 and r() < 0.25 else " ".join(nouns))
    if brand and r() < lf.model_p:
        parts.append(_model_codes(brand)[int(r() * 4)])
    attrs = [in_name[k] for k in (("colour", "size", "material") if r() < 0.5 else ("material", "colour", "size"))
             if k in in_name]
    if row.bundle_text:
        attrs.append(row.bundle_text)
    if "feature" in in_name:
        attrs.append(f"【{in_name['feature']}】" if r() < 0.4 else in_name["feature"])
    parts = attrs + parts if r() < 0.12 else parts + attrs
    return _finish(parts, pre, s, r)


def _finish(parts: list[str], pre: list[str], s: int, r) -> str:
    if pre:
        shown = _bracket(pre, r)
        parts = parts + shown if r() < 0.15 else shown + parts
    if r() < 0.1:
        word = V.SHIP_PROMO if s and r() < 0.4 else V.PROMO_WORDS[int(r() * 3)]
        if word not in pre:
            parts.append(word)
    x = r()
    name = ("　" if x < 0.08 else "/" if x < 0.11 else " ").join(parts)
    x = r()
    if x < 0.04:
        name = name.translate(V.HALF_KANA)
    elif x < 0.08:
        name = name.translate(V.FULL_ASCII)
    if C.title_key(name) in C.HELD_OUT_TITLES:
        name += " " + V.CLOSING_WORD
    return name


def _description(row: _Row, lf: _Leaf, noun: str, c: int, r) -> str:
    """1-4 sentences: greeting, the item, attributes not in the name, condition, home, closing."""
    joiner = "\n" if r() < 0.5 else ""
    core: list[tuple[float, str]] = []
    if row.in_desc:
        labels = V.ATTR_LABELS
        if joiner and r() < 0.6:  # spec lines ("カラー：ブラック") need line breaks
            core.append((2, "\n".join(f"{labels[k][0]}：{v}" for k, v in row.in_desc)))
        else:
            core.append((2, "、".join(f"{labels[k][int(r() * len(labels[k]))]}は{v}" for k, v in row.in_desc)
                         + "です。"))
    neutral, with_tag = V.COND_SENTENCES[c]
    if row.cond_where == 2 and with_tag:
        core.append((2.5, with_tag[int(r() * len(with_tag))]))
    elif r() < 0.85:
        core.append((2.5, neutral[int(r() * len(neutral))]))
    extras: list[tuple[float, str]] = []
    if r() < 0.45:
        extras.append((0, V.GREETINGS[int(r() * len(V.GREETINGS))]))
    if r() < 0.3:
        tmpl = V.ITEM_BRAND if row.brand else V.ITEM_PLAIN
        extras.append((1, tmpl[int(r() * len(tmpl))].format(brand=row.brand, noun=noun)))
    if lf.apparel and r() < 0.25:
        extras.append((3, V.SIZE_FEEL[int(r() * len(V.SIZE_FEEL))]))
    if r() < 0.3:
        extras.append((4, V.HOME[int(r() * len(V.HOME))]))
    if r() < 0.3:
        extras.append((5, V.CLOSING[int(r() * len(V.CLOSING))]))
    sentences = [x for _, x in sorted(core + extras[:max(0, 4 - len(core))])]
    return joiner.join(sentences or [neutral[int(r() * len(neutral))]])


def _rows(w: _World, leaf: list[int], brand: list[int], new_brand: list[str], cond: list[int], ship: list[int],
          drifted: list[bool], catalog: list[int], py: random.Random):
    """Names, descriptions, brand strings, tags, log bundle size; leaf and log price of catalogue rows."""
    r = py.random
    coined = _coined() if any(drifted) else None
    names, descs, brands_out, tags_out, bundle_out = [], [], [], [], []
    items: dict[int, C.Item] = {}
    for i, (li, b, nb, c, s, dr, k) in enumerate(zip(leaf, brand, new_brand, cond, ship, drifted, catalog)):
        if k >= 0 and not dr:
            item = items[i] = C.draw(C.LINES[k], r, w.surface_tags)
            row = _catalog_row(item, c, r)
            names.append(_finish(item.words, _prefix(row, c, s, r), s, r))
            descs.append(_description(row, w.leaves[w.leaf_index[item.leaf]], item.noun, c, r))
            # sellers often skip the brand field when the title already names the brand
            brands_out.append("" if r() < CATALOG_NO_BRAND_FIELD else row.brand)
            tags_out.append(row.tags)
            bundle_out.append(0.0)
            continue
        lf = w.leaves[li]
        row = _attributes(w, lf, b, nb, c, dr, coined, r)
        nouns = _nouns(lf, coined.leaf_word[li] if dr else None, r)
        names.append(_name(row, lf, nouns, c, s, r))
        descs.append(_description(row, lf, nouns[0], c, r))
        brands_out.append(row.brand)
        tags_out.append(row.tags)
        bundle_out.append(row.bundle_log)
    return names, descs, brands_out, tags_out, bundle_out, items


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
