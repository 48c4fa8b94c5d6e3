"""Vocabulary drift's coined words, and the public look-ups of the synthetic world."""

from __future__ import annotations

import random
from functools import lru_cache

import numpy as np

from zeta_serving import synth_catalog as C
from zeta_serving import synth_vocab as V
from zeta_serving.errors import ZetaError
from zeta_serving.synth_world import NEW_BRANDS_PER_TOP, NEW_SERIES_PER_TOP, _world

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

