"""The fixed world of the synthetic listings (`zeta_serving.synth`): leaves, brands, product lines.

Everything here comes from the package data (category tree, brand list) and a stable hash or a
fixed-seed generator; only category and brand popularity (`_popularity`) depend on the seed.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
from functools import lru_cache
from importlib import resources

import numpy as np

from zeta_serving import synth_catalog as C
from zeta_serving import synth_vocab as V

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

